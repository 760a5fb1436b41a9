//! Rendering. (being written)
