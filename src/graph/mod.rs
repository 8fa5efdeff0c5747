//! The snapshot as a graph: retainers, dominators, retained sizes, distances. Plain Rust.
