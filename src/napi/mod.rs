//! The N-API binding: the only code that knows N-API. It converts arguments and results and
//! settles Promises from our own threads (never the libuv pool, never the event loop).
mod analyze;
mod capture;
mod compare;
mod files;
mod progress;
pub(crate) mod errors;
mod thread_task;
