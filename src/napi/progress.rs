//! `TaskProgress`: a handle JS creates, passes to a long task and polls on its own timer.
use crate::napi::errors::guard;
use crate::progress::Progress;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

#[napi(object)]
pub struct ProgressState {
  /// "starting" | "reading" | "analyzing" | "comparing" | "done"
  pub phase: String,
  /// which snapshot of a comparison (0-based)
  pub item: u32,
  /// bytes of the file read so far (phase "reading")
  pub done: f64,
  /// the file's size (phase "reading"), else 0
  pub total: f64,
}

#[napi]
#[derive(Default)]
pub struct TaskProgress {
  pub(crate) inner: Arc<Progress>,
}

#[napi]
impl TaskProgress {
  #[napi(constructor)]
  pub fn new(env: &Env) -> Result<Self> {
    guard(env, "TaskProgress", || Ok(TaskProgress::default()))
  }

  #[napi]
  pub fn state(&self, env: &Env) -> Result<ProgressState> {
    guard(env, "TaskProgress.state", || {
      let s = self.inner.state();
      Ok(ProgressState {
        phase: s.phase.name().to_string(),
        item: s.item as u32,
        done: s.done as f64,
        total: s.total as f64,
      })
    })
  }
}

/// The worker's side: the given handle's cell, or a private one when JS passed none.
pub(crate) fn cell(p: Option<&TaskProgress>) -> Arc<Progress> {
  p.map(|p| p.inner.clone()).unwrap_or_default()
}
