//! The addon's allocator: blocks of 1 MiB and more come straight from the kernel (`mmap`) and go
//! back to it when freed; smaller ones from the system allocator as usual.
//!
//! Why: glibc raises its mmap threshold after each freed large block (up to 32 MiB), so the
//! analysis's many transient arrays of a few MiB to tens of MiB end up in the heap arena, where
//! freed memory stays part of the process. On a 242 MB snapshot that held ~10–15 MB more at the
//! peak. Only this addon's Rust allocations use it; the host process's malloc is untouched.
#[cfg(target_os = "linux")]
mod imp {
  use std::alloc::{GlobalAlloc, Layout, System};
  use std::ptr;

  const THRESHOLD: usize = 1 << 20;
  const PAGE: usize = 4096;

  pub struct BigAlloc;

  #[inline]
  fn big(l: &Layout) -> bool {
    l.size() >= THRESHOLD && l.align() <= PAGE
  }

  fn map(size: usize) -> *mut u8 {
    // SAFETY: a new private anonymous mapping: no existing memory is touched
    let p = unsafe {
      libc::mmap(
        ptr::null_mut(),
        size,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        -1,
        0,
      )
    };
    if p == libc::MAP_FAILED {
      ptr::null_mut()
    } else {
      p as *mut u8
    }
  }

  // SAFETY: big blocks are whole private mappings (page-aligned, zero-filled); `dealloc` and
  // `realloc` get the layout the block was allocated with (GlobalAlloc's contract), so `big`
  // decides the same way for a block's whole life.
  unsafe impl GlobalAlloc for BigAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
      if big(&l) {
        map(l.size())
      } else {
        // SAFETY: GlobalAlloc's contract, passed on
        unsafe { System.alloc(l) }
      }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
      if big(&l) {
        map(l.size())
      } else {
        // SAFETY: GlobalAlloc's contract, passed on
        unsafe { System.alloc_zeroed(l) }
      }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
      if big(&l) {
        // SAFETY: `p` is a whole mapping of `l.size()` bytes (`map`), no longer used
        unsafe { libc::munmap(p as *mut libc::c_void, l.size()) };
      } else {
        // SAFETY: GlobalAlloc's contract, passed on
        unsafe { System.dealloc(p, l) }
      }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
      // SAFETY: realloc's contract: `new_size`, rounded to `l.align()`, does not overflow
      let new = unsafe { Layout::from_size_align_unchecked(new_size, l.align()) };
      match (big(&l), big(&new)) {
        // SAFETY: GlobalAlloc's contract, passed on
        (false, false) => unsafe { System.realloc(p, l, new_size) },
        (true, true) => {
          // SAFETY: `p` is a whole mapping of `l.size()` bytes (`map`); it may move
          let q = unsafe { libc::mremap(p as *mut libc::c_void, l.size(), new_size, libc::MREMAP_MAYMOVE) };
          if q == libc::MAP_FAILED {
            ptr::null_mut()
          } else {
            q as *mut u8
          }
        }
        _ => {
          // SAFETY: a new block of `new`'s size; `p` holds `l.size()` bytes, and the two blocks
          // are distinct; `p` is freed with the layout it was allocated with
          let q = unsafe { self.alloc(new) };
          if !q.is_null() {
            // SAFETY: as above
            unsafe {
              ptr::copy_nonoverlapping(p, q, l.size().min(new_size));
              self.dealloc(p, l);
            }
          }
          q
        }
      }
    }
  }

  #[cfg(test)]
  mod tests {
    #[test]
    fn big_blocks_grow_shrink_and_keep_their_bytes() {
      let mut v: Vec<u32> = (0..1000).collect(); // small, then big once it grows
      for i in 1000..3_000_000u32 {
        v.push(i);
      }
      assert!(v.iter().enumerate().all(|(i, &x)| x == i as u32));
      v.truncate(10);
      v.shrink_to_fit(); // big -> small
      assert_eq!(v, (0..10).collect::<Vec<_>>());
      let z = vec![0u64; 1 << 20]; // zeroed big block
      assert!(z.iter().all(|&x| x == 0));
      let aligned = std::alloc::Layout::from_size_align(2 << 20, 1 << 16).unwrap(); // align > page: system
                                                                                    // SAFETY: a non-zero size; freed with the layout it was allocated with
      unsafe {
        let p = std::alloc::alloc(aligned);
        assert!(!p.is_null() && (p as usize).is_multiple_of(1 << 16));
        std::alloc::dealloc(p, aligned);
      }
    }
  }
}

#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: imp::BigAlloc = imp::BigAlloc;
