//! `releaseFreedMemory()`: hands the C heap's freed pages back to the kernel, on a thread of ours.
use crate::napi::errors::guard;
use crate::napi::thread_task::spawn_promise;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// After V8 has written a heap snapshot and freed its structures (~400 B per heap object, made of
/// many small allocations), glibc keeps the freed memory in its arenas, so the process's RSS
/// stays at the capture's peak (2.08 GB after a 130 MB heap's capture, 343 MB once trimmed).
/// `malloc_trim` returns those pages. Resolves with `{"releasedBytes":N}` (the RSS it gave back;
/// 0 where the C library has no such call).
#[napi(ts_return_type = "Promise<string>")]
pub fn release_freed_memory<'e>(env: &'e Env) -> Result<Object<'e>> {
  guard(env, "releaseFreedMemory", || {
    spawn_promise(env, "leakprobe-trim", (), move |_| {
      let before = resident_bytes();
      trim();
      let released = before.saturating_sub(resident_bytes());
      Ok(format!("{{\"releasedBytes\":{released}}}"))
    })
  })
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
  // SAFETY: malloc_trim walks glibc's own arenas, each under its lock; 0 keeps no padding.
  unsafe {
    libc::malloc_trim(0);
  }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// RSS from /proc/self/statm (pages), 0 where there is none.
fn resident_bytes() -> u64 {
  let pages = std::fs::read_to_string("/proc/self/statm")
    .ok()
    .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
    .unwrap_or(0);
  // SAFETY: sysconf only reads a configuration value.
  let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
  pages * u64::try_from(page).unwrap_or(4096)
}
