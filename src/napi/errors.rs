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
