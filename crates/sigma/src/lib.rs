//! Sigma rules: YAML into a checked rule model, with diagnostics for what cannot be loaded.
