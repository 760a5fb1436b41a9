//! Merging layers. (being written)
