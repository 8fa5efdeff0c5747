//! `NativeCapture`: a capture session driven from index.js (FIFO or pushed chunks).
use crate::analysis::AnalyzeOptions;
use crate::capture::{Capture, CaptureOptions, CaptureOutcome, TeeFn};
use crate::error::{Error as CoreError, ErrorKind};
use crate::napi::analyze::NativeAnalyzeOptions;
use crate::napi::errors::{guard, to_js};
use napi::bindgen_prelude::*;
use napi::JsDeferred;
use napi_derive::napi;
use std::sync::{Arc, Mutex};

#[napi(object)]
pub struct NativeCaptureOptions {
  pub dir: String,
  pub id: String,
  /// gzip level 0-9; absent means no compression
  pub gzip_level: Option<u32>,
  /// analyze the snapshot in the same pass (parse the chunks as they stream)
  pub analyze: Option<NativeAnalyzeOptions>,
  /// replace string contents before the file gets its final name
  pub redact: Option<bool>,
}

#[napi(object)]
pub struct NativeCaptureResult {
  pub file: String,
  pub bytes: f64,
  pub compressed_bytes: f64,
  pub tail_ms: f64,
  pub nodes: Option<f64>,
  /// the report JSON, with `analyze`
  pub report: Option<String>,
  /// why the same-pass analysis failed (the capture itself succeeded)
  pub report_error: Option<String>,
  /// where in the snapshot's JSON, when `report_error` is about its bytes
  pub report_error_offset: Option<f64>,
  /// with `redact`: how many strings were replaced
  pub redacted_strings: Option<f64>,
}

type Resolver = Box<dyn FnOnce(Env) -> Result<NativeCaptureResult> + Send>;

/// Either the outcome arrived first (kept until `finish` asks), or the Promise did.
enum Slot {
  Empty,
  Outcome(std::result::Result<CaptureOutcome, CoreError>),
  Waiting(JsDeferred<NativeCaptureResult, Resolver>),
  Settled,
}

fn settle(d: JsDeferred<NativeCaptureResult, Resolver>, r: std::result::Result<CaptureOutcome, CoreError>) {
  match r {
    Ok(o) => d.resolve(Box::new(move |_| {
      Ok(NativeCaptureResult {
        file: o.file.to_string_lossy().into_owned(),
        bytes: o.bytes as f64,
        compressed_bytes: o.compressed_bytes as f64,
        tail_ms: o.tail_ms,
        nodes: o.nodes.map(|n| n as f64),
        redacted_strings: o.redacted_strings.map(|n| n as f64),
        report: o.tee.as_ref().and_then(|t| t.as_ref().ok().cloned()),
        report_error_offset: o
          .tee
          .as_ref()
          .and_then(|t| t.as_ref().err()?.offset())
          .map(|n| n as f64),
        report_error: o.tee.and_then(|t| t.err()).map(|e| e.to_string()),
      })
    })),
    Err(e) => reject(d, e),
  }
}

/// Rejects through the JS thread, where the JS Error can be made (`to_js`).
fn reject(d: JsDeferred<NativeCaptureResult, Resolver>, e: CoreError) {
  d.resolve(Box::new(move |env| Err(to_js(&env, &e))))
}

#[napi]
pub struct NativeCapture {
  inner: Capture,
  slot: Arc<Mutex<Slot>>,
}

#[napi]
impl NativeCapture {
  #[napi(constructor)]
  pub fn new(env: &Env, opts: NativeCaptureOptions) -> Result<Self> {
    guard(env, "NativeCapture", || {
      let slot = Arc::new(Mutex::new(Slot::Empty));
      let s = slot.clone();
      let on_done = Box::new(move |r| {
        let mut g = s.lock().unwrap_or_else(|p| p.into_inner());
        match std::mem::replace(&mut *g, Slot::Settled) {
          Slot::Waiting(d) => settle(d, r),
          _ => *g = Slot::Outcome(r),
        }
      });
      let tee = opts.analyze.map(|a| {
        let a: AnalyzeOptions = a.into();
        let spill = crate::napi::spill_policy();
        Box::new(move |reader| {
          crate::napi::test_panic::trip("NativeCapture.analyze");
          crate::pipeline::analyze_reader(reader, &a, &spill)
        }) as TeeFn
      });
      let inner = Capture::start_with(
        CaptureOptions {
          dir: opts.dir.into(),
          id: opts.id,
          gzip_level: opts.gzip_level,
          redact: opts.redact.unwrap_or(false),
        },
        tee,
        on_done,
      )
      .map_err(|e| to_js(env, &e))?;
      Ok(NativeCapture { inner, slot })
    })
  }

  /// Creates the FIFO that `v8.writeHeapSnapshot` should write to; returns its path.
  #[napi]
  pub fn attach_fifo(&mut self, env: &Env) -> Result<String> {
    guard(env, "NativeCapture.attachFifo", || {
      #[cfg(unix)]
      let r = self.inner.attach_fifo().map(|p| p.to_string_lossy().into_owned());
      #[cfg(not(unix))]
      let r = Err(CoreError::new(ErrorKind::Unsupported, "FIFOs need a Unix system"));
      r.map_err(|e| to_js(env, &e))
    })
  }

  /// Feeds one chunk; false once the writer stopped after an error (stop producing then).
  #[napi]
  pub fn push(&mut self, env: &Env, chunk: Either<String, Buffer>) -> Result<bool> {
    guard(env, "NativeCapture.push", || {
      let bytes = match chunk {
        Either::A(s) => s.into_bytes(),
        Either::B(b) => b.to_vec(),
      };
      Ok(self.inner.push(bytes))
    })
  }

  /// Ends the input and returns a Promise settled by the writer thread once the file is renamed.
  #[napi(ts_return_type = "Promise<NativeCaptureResult>")]
  pub fn finish<'e>(&mut self, env: &'e Env) -> Result<Object<'e>> {
    guard(env, "NativeCapture.finish", || {
      let (deferred, promise) = env.create_deferred::<NativeCaptureResult, Resolver>()?;
      self.inner.finish();
      let mut g = self.slot.lock().unwrap_or_else(|p| p.into_inner());
      match std::mem::replace(&mut *g, Slot::Settled) {
        Slot::Outcome(r) => settle(deferred, r),
        Slot::Empty => *g = Slot::Waiting(deferred),
        Slot::Waiting(_) | Slot::Settled => reject(
          deferred,
          CoreError::new(ErrorKind::Capture, "finish() was already called"),
        ),
      }
      Ok(promise)
    })
  }

  /// Aborts: the temp file is removed; the Promise from `finish` (call it next) rejects.
  #[napi]
  pub fn abort(&mut self, env: &Env, reason: String) -> Result<()> {
    guard(env, "NativeCapture.abort", || {
      self.inner.abort(&reason);
      Ok(())
    })
  }
}
