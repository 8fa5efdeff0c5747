//! The one place a core error becomes a JS Error: its message as is, `code` (ERR_LEAKPROBE_*)
//! and, when the error is about a snapshot's bytes, `offset` (in the decompressed JSON).
//! lib/errors.js reads those two properties.
use crate::error::Error as CoreError;
use napi::bindgen_prelude::*;

/// Builds the JS Error now, on the JS thread (`env`'s): the returned `napi::Error` holds it by
/// reference, and throwing it or rejecting a Promise with it hands JavaScript this very object.
pub(crate) fn to_js(env: &Env, e: &CoreError) -> napi::Error {
  let built = || -> Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::from_reason(e.message()))?;
    obj.set_named_property("code", e.code())?;
    if let Some(offset) = e.offset() {
      obj.set_named_property("offset", offset as f64)?;
    }
    Ok(napi::Error::from(obj.to_unknown()))
  };
  // fails only while the environment goes away; lib/errors.js reads that as ERR_LEAKPROBE_INTERNAL
  built().unwrap_or_else(|_| napi::Error::from_reason(e.to_string()))
}

/// Runs the body of a synchronous export (`export`: its JS name). Unwinding out of an N-API
/// callback (`extern "C"`) aborts the host process, so a panic here becomes a thrown
/// ERR_LEAKPROBE_INTERNAL, as on our own threads (`thread_task`).
pub(crate) fn guard<T>(env: &Env, export: &'static str, body: impl FnOnce() -> Result<T>) -> Result<T> {
  std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    crate::napi::test_panic::trip(export);
    body()
  }))
  .unwrap_or_else(|p| Err(to_js(env, &CoreError::from_panic(&p))))
}
