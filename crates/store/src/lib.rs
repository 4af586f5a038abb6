//! The alert and incident store: SQLite embedded by default.
