//! Per-layer analysis. (being written)
