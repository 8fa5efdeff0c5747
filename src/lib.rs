//! leakprobe: heap snapshot capture and DevTools-exact analysis for Node.js.
//! The core (`capture`, `snapshot`, `graph`, `analysis`) is plain Rust; only `napi` knows N-API.
pub mod analysis;
pub mod capture;
pub mod graph;
pub mod pipeline;
pub mod snapshot;

mod napi;
