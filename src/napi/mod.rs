//! The N-API binding: the only code that knows N-API. It converts arguments and results and
//! settles Promises from our own threads (never the libuv pool, never the event loop).
mod analyze;
mod capture;
mod compare;
pub(crate) mod errors;
mod files;
mod memory;
mod progress;
mod test_panic;
mod thread_task;

/// The spill policy (`LEAKPROBE_SPILL`, `LEAKPROBE_SPILL_MIN_MB`), read here for every export that
/// analyzes: exports run on the JS thread, and the environment is not for our threads to read
/// while the host may change it (ARCHITECTURE.md §6).
fn spill_policy() -> crate::spill::SpillPolicy {
  crate::spill::SpillPolicy::from_env()
}
