//! `compressFile` (a snapshot Node wrote by itself) and `redactFile`, on threads of ours.
use crate::capture::compress_file::compress_file as compress;
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
  spawn_promise(env, "leakprobe-compress", (), move |_| {
    let c = compress(
      std::path::Path::new(&src),
      std::path::Path::new(&dir),
      &name,
      level,
      remove_source,
    )
    .map_err(|m| ("ERR_LEAKPROBE_WRITE", m))?;
    Ok(serde_json::json!({ "file": c.file.to_string_lossy(), "bytes": c.bytes, "compressedBytes": c.compressed_bytes }).to_string())
  })
}

/// Removes what captures that died part-way left in `dir` (unlocked temp files, FIFOs without a
/// reader); returns their names. The files of a capture in flight, here or in another process, stay.
#[napi]
pub fn clean_stale(dir: String) -> Vec<String> {
  crate::capture::output_file::clean_stale(std::path::Path::new(&dir))
}

/// Resolves with `{"strings":…,"bytes":…,"compressedBytes":…}` once the file is rewritten.
#[napi(ts_return_type = "Promise<string>")]
pub fn redact_file<'e>(env: &'e Env, path: String, level: u32) -> Result<Object<'e>> {
  spawn_promise(env, "leakprobe-redact", (), move |_| {
    let r = crate::snapshot::redact::redact_file(std::path::Path::new(&path), level)
      .map_err(|m| ("ERR_LEAKPROBE_WRITE", m))?;
    Ok(
      serde_json::json!({ "strings": r.strings, "bytes": r.bytes, "compressedBytes": r.compressed_bytes })
        .to_string(),
    )
  })
}
