//! `analyzeFile` / `analyzeBuffer`: the report JSON, computed on a thread of ours.
use crate::analysis::AnalyzeOptions;
use crate::napi::errors::guard;
use crate::napi::progress::{self, TaskProgress};
use crate::napi::thread_task::spawn_promise;
use crate::pipeline;
use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi(object)]
#[derive(Clone, Copy)]
pub struct NativeAnalyzeOptions {
  pub top: u32,
  pub paths: u32,
  pub classes: Option<u32>,
}

impl From<NativeAnalyzeOptions> for AnalyzeOptions {
  fn from(o: NativeAnalyzeOptions) -> Self {
    AnalyzeOptions {
      top: o.top as usize,
      paths: o.paths as usize,
      classes: o.classes.map(|c| c as usize),
    }
  }
}

#[napi(ts_return_type = "Promise<string>")]
pub fn analyze_file<'e>(
  env: &'e Env,
  path: String,
  opts: NativeAnalyzeOptions,
  progress: Option<&TaskProgress>,
) -> Result<Object<'e>> {
  guard(env, "analyzeFile", || {
    let opts: AnalyzeOptions = opts.into();
    let cell = progress::cell(progress);
    let spill = crate::napi::spill_policy();
    spawn_promise(env, "leakprobe-analyze", (), move |_| {
      pipeline::analyze_path(std::path::Path::new(&path), &opts, &cell, &spill)
    })
  })
}

/// Reads the Buffer in place (no copy); it stays referenced until the Promise settles.
#[napi(ts_return_type = "Promise<string>")]
pub fn analyze_buffer<'e>(env: &'e Env, buf: Buffer, opts: NativeAnalyzeOptions) -> Result<Object<'e>> {
  guard(env, "analyzeBuffer", || {
    let opts: AnalyzeOptions = opts.into();
    let spill = crate::napi::spill_policy();
    spawn_promise(env, "leakprobe-analyze", buf, move |b| {
      pipeline::analyze_bytes(b, &opts, &spill)
    })
  })
}
