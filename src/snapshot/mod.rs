//! Reading `.heapsnapshot` files (plain or gzip) into compact arrays. Knows nothing of N-API.
pub mod edge_names;
pub mod error;
mod int_blocks;
pub mod model;
mod parallel_array;
pub mod reader;
pub mod redact;
mod scanner;
pub mod sizes;

pub use error::SnapshotError;
pub use model::{HeapSnapshot, Location, StringTable};
pub use reader::{
  read_snapshot, read_snapshot_auto, read_snapshot_bytes, read_snapshot_path, read_snapshot_path_with,
};
pub use sizes::Sizes;

#[cfg(test)]
pub mod builder;
