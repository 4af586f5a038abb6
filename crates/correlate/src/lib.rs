//! Correlation: Sigma correlation rules, and alerts grouped into incidents.
