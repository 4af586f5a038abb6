//! Detection coverage: claimed and validated, prioritised gaps, Navigator layers, heatmap.
