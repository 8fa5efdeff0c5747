//! The N-API binding: the only code that knows N-API. It converts arguments and results and
//! settles Promises from our own threads (never the libuv pool, never the event loop).
mod analyze;
mod capture;
mod compare;
pub(crate) mod errors;
mod files;
mod memory;
mod progress;
mod thread_task;
