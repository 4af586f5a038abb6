//! The ATT&CK, D3FEND and ENGAGE knowledge graph, and its lookups.
