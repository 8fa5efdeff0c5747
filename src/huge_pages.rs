//! Big arrays on transparent huge pages where the kernel offers them (`madvise` mode, the usual
//! default): a 100 MB array is then 50 page faults instead of 25,000, and random access over
//! it (dominators, BFS) misses the TLB far less. Only advice: without THP nothing changes.

/// Advises huge pages for the spare capacity and contents of `v` (call right after allocating,
/// before the memory is touched).
pub fn advise<T>(v: &Vec<T>) {
  let bytes = v.capacity() * std::mem::size_of::<T>();
  if bytes < (4 << 20) {
    return;
  }
  #[cfg(target_os = "linux")]
  {
    const HUGE: usize = 2 << 20;
    let start = v.as_ptr() as usize;
    let from = start.div_ceil(HUGE) * HUGE;
    let to = (start + bytes) / HUGE * HUGE;
    if to > from {
      // SAFETY: the range lies inside the Vec's own allocation; MADV_HUGEPAGE changes no contents.
      unsafe {
        libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
      }
    }
  }
}

/// `vec![value; len]`, on huge pages where possible.
pub fn filled<T: Clone>(len: usize, value: T) -> Vec<T> {
  let mut v: Vec<T> = Vec::with_capacity(len);
  advise(&v);
  v.resize(len, value);
  v
}

