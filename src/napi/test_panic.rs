//! A way for __test__/panic.test.js to make one export panic, to check that its guard turns the
//! panic into ERR_LEAKPROBE_INTERNAL and the process lives on. Not API, and not for production:
//! the export is hidden (`__testPanic`: not in the typings, not re-exported by index.js), and it
//! arms nothing unless the process runs with LEAKPROBE_TEST_PANIC=1. Unarmed, `trip` costs one
//! relaxed atomic load per call.
use crate::error::{Error as CoreError, ErrorKind};
use crate::napi::errors::{guard, to_js};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What can be made to panic: every export (classes' methods as `Class.method`), plus `task` (a
/// promise's work on its thread, `thread_task`) and `NativeCapture.analyze` (a capture's
/// same-pass analysis, on its thread).
pub(crate) const POINTS: &[&str] = &[
  "analyzeFile",
  "analyzeBuffer",
  "compareFiles",
  "compressFile",
  "cleanStale",
  "releaseFreedMemory",
  "NativeCapture",
  "NativeCapture.attachFifo",
  "NativeCapture.push",
  "NativeCapture.finish",
  "NativeCapture.abort",
  "TaskProgress",
  "TaskProgress.state",
  "task",
  "NativeCapture.analyze",
];

/// 0: nothing armed; else 1 + the index in `POINTS` of the one point that panics, once.
static ARMED: AtomicUsize = AtomicUsize::new(0);

/// Panics if `point` is armed (and disarms it first, so it panics once).
pub(crate) fn trip(point: &str) {
  let armed = ARMED.load(Ordering::Relaxed);
  if armed != 0
    && POINTS[armed - 1] == point
    && ARMED
      .compare_exchange(armed, 0, Ordering::Relaxed, Ordering::Relaxed)
      .is_ok()
  {
    panic!("test panic in {point} (LEAKPROBE_TEST_PANIC)");
  }
}

/// Arms `point` (one of `POINTS`), or disarms with none. False, and nothing armed, unless
/// LEAKPROBE_TEST_PANIC=1 (read here, on the JS thread).
#[napi(js_name = "__testPanic", skip_typescript)]
pub fn test_panic(env: &Env, point: Option<String>) -> Result<bool> {
  guard(env, "__testPanic", || {
    if std::env::var_os("LEAKPROBE_TEST_PANIC").is_none_or(|v| v != "1") {
      return Ok(false);
    }
    let armed = match point {
      None => 0,
      Some(p) => match POINTS.iter().position(|&q| q == p) {
        Some(i) => i + 1,
        None => {
          let e = CoreError::new(ErrorKind::InvalidArg, format!("no panic point {p:?}"));
          return Err(to_js(env, &e));
        }
      },
    };
    ARMED.store(armed, Ordering::Relaxed);
    Ok(true)
  })
}
