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

  unsafe fn map(size: usize) -> *mut u8 {
    let p = libc::mmap(
      ptr::null_mut(),
      size,
      libc::PROT_READ | libc::PROT_WRITE,
      libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
      -1,
      0,
    );
    if p == libc::MAP_FAILED {
      ptr::null_mut()
    } else {
      p as *mut u8
    }
  }

  // SAFETY (all methods): big blocks are whole private mappings (page-aligned, zero-filled);
  // `dealloc`/`realloc` get the layout the block was allocated with (GlobalAlloc's contract), so
  // `big` decides the same way for a block's whole life.
  unsafe impl GlobalAlloc for BigAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
      if big(&l) {
        map(l.size())
      } else {
        System.alloc(l)
      }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
      if big(&l) {
        map(l.size())
      } else {
        System.alloc_zeroed(l)
      }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
      if big(&l) {
        libc::munmap(p as *mut libc::c_void, l.size());
      } else {
        System.dealloc(p, l)
      }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
      let new = Layout::from_size_align_unchecked(new_size, l.align());
      match (big(&l), big(&new)) {
        (false, false) => System.realloc(p, l, new_size),
        (true, true) => {
          let q = libc::mremap(p as *mut libc::c_void, l.size(), new_size, libc::MREMAP_MAYMOVE);
          if q == libc::MAP_FAILED {
            ptr::null_mut()
          } else {
            q as *mut u8
          }
        }
        _ => {
          let q = self.alloc(new);
          if !q.is_null() {
            ptr::copy_nonoverlapping(p, q, l.size().min(new_size));
            self.dealloc(p, l);
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
      unsafe {
        let p = std::alloc::alloc(aligned);
        assert!(!p.is_null() && p as usize % (1 << 16) == 0);
        std::alloc::dealloc(p, aligned);
      }
    }
  }
}

#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: imp::BigAlloc = imp::BigAlloc;
