//! Telemetry readers: EVTX and JSON-lines files, directories and stdin into events.
