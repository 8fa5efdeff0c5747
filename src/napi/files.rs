//! `compressFile` (a snapshot Node wrote by itself), on a thread of ours; `cleanStale`.
use crate::capture::compress_file::compress_file as compress;
use crate::napi::errors::guard;
use crate::napi::thread_task::spawn_promise;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Resolves with `{"file":…,"bytes":…,"compressedBytes":…}` (JSON).
#[napi(ts_return_type = "Promise<string>")]
pub fn compress_file<'e>(
  env: &'e Env,
  src: String,
  dir: String,
  name: String,
  level: u32,
  remove_source: bool,
) -> Result<Object<'e>> {
  guard(env, "compressFile", || {
    spawn_promise(env, "leakprobe-compress", (), move |_| {
      let c = compress(
        std::path::Path::new(&src),
        std::path::Path::new(&dir),
        &name,
        level,
        remove_source,
      )?;
      Ok(serde_json::json!({ "file": c.file.to_string_lossy(), "bytes": c.bytes, "compressedBytes": c.compressed_bytes }).to_string())
    })
  })
}

/// Removes what captures that died part-way left in `dir` (unlocked temp files, FIFOs without a
/// reader); returns their names. The files of a capture in flight, here or in another process, stay.
#[napi]
pub fn clean_stale(env: &Env, dir: String) -> Result<Vec<String>> {
  guard(env, "cleanStale", || {
    Ok(crate::capture::output_file::clean_stale(std::path::Path::new(
      &dir,
    )))
  })
}
