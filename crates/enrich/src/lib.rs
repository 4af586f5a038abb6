//! Alert enrichment: ATT&CK, D3FEND and ENGAGE context for every alert.
