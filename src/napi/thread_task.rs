//! Runs work on a thread of ours (not the libuv pool, which the host app needs) and settles a
//! Promise with its result. A panic becomes a rejected Promise, never a crash of the host.
use crate::error::Error as CoreError;
use crate::napi::errors::to_js;
use napi::bindgen_prelude::*;
use napi::JsDeferred;

type Resolver = Box<dyn FnOnce(Env) -> Result<String> + Send>;

/// Spawns `work` on a named thread; the returned Promise resolves with its `String` (report
/// JSON, parsed by index.js) or rejects with the JS Error of `errors::to_js`. `keep` (e.g. a JS Buffer the work
/// reads without copying) lives until the Promise settles and is dropped on the JS thread.
pub fn spawn_promise<'e, K, F>(env: &'e Env, name: &str, keep: K, work: F) -> Result<Object<'e>>
where
  K: Send + 'static,
  F: FnOnce(&K) -> std::result::Result<String, CoreError> + Send + 'static,
{
  let (deferred, promise) = env.create_deferred::<String, Resolver>()?;
  let slot = std::sync::Arc::new(std::sync::Mutex::new(Some((deferred, keep))));
  let s = slot.clone();
  let spawned = std::thread::Builder::new().name(name.to_string()).spawn(move || {
    let taken = s.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some((d, keep)) = taken {
      let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::napi::test_panic::trip("task");
        work(&keep)
      }))
      .unwrap_or_else(|p| Err(CoreError::from_panic(&p)));
      settle(d, keep, out);
    }
  });
  if let Err(e) = spawned {
    if let Some((d, keep)) = slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
      settle(
        d,
        keep,
        Err(CoreError::internal(format!("cannot start a thread: {e}"))),
      );
    }
  }
  Ok(promise)
}

fn settle<K: Send + 'static>(
  d: JsDeferred<String, Resolver>,
  keep: K,
  out: std::result::Result<String, CoreError>,
) {
  // Resolve through the JS thread in both cases so `keep` is dropped there.
  d.resolve(Box::new(move |env| {
    drop(keep);
    out.map_err(|e| to_js(&env, &e))
  }));
}
