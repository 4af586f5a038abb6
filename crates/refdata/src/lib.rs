//! The reference data directory: finding, checking, updating and importing MITRE and Sigma files.
