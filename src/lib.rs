//! leakprobe: heap snapshot capture and DevTools-exact analysis for Node.js.
//! The core (`capture`, `snapshot`, `graph`, `analysis`) is plain Rust; only `napi` knows N-API.
pub mod analysis;
mod big_alloc;
pub mod capture;
pub mod error;
pub mod graph;
pub mod pipeline;
pub mod progress;
pub mod snapshot;
pub mod spill;

// Registered with Node at load time; unit tests never call it.
#[cfg_attr(test, allow(dead_code))]
mod napi;
#[cfg(test)]
mod profile_tests;
