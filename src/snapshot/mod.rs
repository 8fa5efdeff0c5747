//! Reading `.heapsnapshot` files (plain or gzip) into compact arrays. Knows nothing of N-API.
pub mod model;
pub use model::{HeapSnapshot, Location, StringTable};
