//! `compareFiles`: the `leakprobe-compare/1` JSON for 2 or 3 snapshot files, on a thread of ours.
use crate::analysis::compare::CompareOptions;
use crate::napi::errors::guard;
use crate::napi::progress::{self, TaskProgress};
use crate::napi::thread_task::spawn_promise;
use crate::pipeline;
use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi(object)]
#[derive(Clone, Copy)]
pub struct NativeCompareOptions {
  pub threshold_bytes: f64,
  pub threshold_count: u32,
  pub suspects: u32,
  pub classes: Option<u32>,
}

#[napi(ts_return_type = "Promise<string>")]
pub fn compare_files<'e>(
  env: &'e Env,
  paths: Vec<String>,
  opts: NativeCompareOptions,
  progress: Option<&TaskProgress>,
) -> Result<Object<'e>> {
  guard(env, "compareFiles", || {
    let cell = progress::cell(progress);
    let opts = CompareOptions {
      threshold_bytes: opts.threshold_bytes.max(0.0) as u64,
      threshold_count: opts.threshold_count as u64,
      suspects: opts.suspects as usize,
      classes: opts.classes.map(|c| c as usize),
    };
    let spill = crate::napi::spill_policy();
    spawn_promise(env, "leakprobe-compare", (), move |_| {
      let p: Vec<&std::path::Path> = paths.iter().map(std::path::Path::new).collect();
      pipeline::compare_paths(&p, &opts, &cell, &spill)
    })
  })
}
