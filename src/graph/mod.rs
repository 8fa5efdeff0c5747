//! The snapshot as a graph: retainers, essential edges, dominators, retained sizes, distances.
//! Plain Rust, iterative throughout (a 10-million-long linked list must work).
pub mod bitset;
pub mod distances;
pub mod dominator_tree;
pub mod dominators;
pub mod essential;
pub mod kinds;
pub mod retainers;
pub mod weakmap;

pub use distances::{BASE_SYSTEM_DISTANCE, NO_DISTANCE};
pub use kinds::Kinds;

#[cfg(test)]
mod dominators_tests;
