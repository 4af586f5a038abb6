//! The defender's side of the matrix: the D3FEND ontology and MITRE ENGAGE.
