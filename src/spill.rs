//! A spill for arrays the analysis needs again, but not for a while: an anonymous temporary file
//! (it has no name, so nothing is left behind whatever happens to the process) or, when there is
//! none to be had, plain memory.
//!
//! Why: the dominator pass is the analysis's peak — forward edges, the retainer index and its
//! per-node records all at once — and it reads no name, id or string. Writing those columns out
//! for the pass keeps the process's peak resident memory well under the snapshot's size; the
//! kernel keeps them in its page cache meanwhile, and can write them out and reuse that memory
//! for something else under pressure, which it cannot do with ours.
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Element types whose bytes are the value: no padding, every bit pattern valid.
///
/// # Safety
/// Implement only for such types (they are written and read back as raw bytes).
pub unsafe trait Plain: Copy + Default + 'static {}
// SAFETY: integers have no padding and no invalid bit patterns
unsafe impl Plain for u8 {}
// SAFETY: as u8
unsafe impl Plain for u16 {}
// SAFETY: as u8
unsafe impl Plain for u32 {}
// SAFETY: as u8
unsafe impl Plain for u64 {}
// SAFETY: two u32s in 8 bytes leave no room for padding, whatever order the compiler picks
unsafe impl Plain for (u32, u32) {}
const _: () = assert!(std::mem::size_of::<(u32, u32)>() == 8);

fn bytes_of<T: Plain>(v: &[T]) -> &[u8] {
  // SAFETY: `T: Plain` has no padding, so all of its bytes are initialized
  unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

fn bytes_of_mut<T: Plain>(v: &mut [T]) -> &mut [u8] {
  // SAFETY: as above, and any bytes written make a valid `T`
  unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, std::mem::size_of_val(v)) }
}

/// Where spilled arrays go: `dir: None` keeps them in memory. Spilling pays only for big
/// analyses, so below `min_bytes` of spilled arrays nothing is written.
#[derive(Debug, Clone)]
pub struct SpillPolicy {
  pub dir: Option<PathBuf>,
  pub min_bytes: usize,
}

impl SpillPolicy {
  pub fn memory() -> SpillPolicy {
    SpillPolicy {
      dir: None,
      min_bytes: usize::MAX,
    }
  }

  /// `LEAKPROBE_SPILL`: unset means the system's temporary directory (`TMPDIR`), `off` keeps
  /// everything in memory, anything else is the directory to use. `LEAKPROBE_SPILL_MIN_MB`:
  /// below this many MiB of spilled arrays (default 32, i.e. snapshots from some 130 MB) the
  /// time the writes and reads take is not worth the memory.
  pub fn from_env() -> SpillPolicy {
    let dir = match std::env::var_os("LEAKPROBE_SPILL") {
      None => Some(std::env::temp_dir()),
      Some(v) if v.is_empty() || v == "off" || v == "0" => None,
      Some(v) => Some(PathBuf::from(v)),
    };
    let min_mb = std::env::var("LEAKPROBE_SPILL_MIN_MB")
      .ok()
      .and_then(|v| v.trim().parse::<usize>().ok())
      .unwrap_or(32);
    SpillPolicy {
      dir,
      min_bytes: min_mb.saturating_mul(1 << 20),
    }
  }

  /// Where `bytes` of arrays go: a directory when the policy names one and they are big
  /// enough, else memory (`None`). Make one `Spill::in_dir` per writing thread.
  pub fn dir_for(&self, bytes: usize) -> Option<&Path> {
    self.dir.as_deref().filter(|_| bytes >= self.min_bytes)
  }
}

/// An array on the spill file; `take` gives it back.
pub enum Spilled<T> {
  Memory(Vec<T>),
  File {
    file: Arc<File>,
    offset: u64,
    len: usize,
    _t: PhantomData<T>,
  },
}

impl<T: Plain> Spilled<T> {
  /// The array, back in memory.
  pub fn take(self) -> io::Result<Vec<T>> {
    match self {
      Spilled::Memory(v) => Ok(v),
      file => file.copy(),
    }
  }

  /// A copy of the array, which stays on the spill file.
  pub fn copy(&self) -> io::Result<Vec<T>> {
    match self {
      Spilled::Memory(v) => Ok(v.clone()),
      Spilled::File {
        file, offset, len, ..
      } => {
        let mut v = vec![T::default(); *len];
        read_at(file, bytes_of_mut(&mut v), *offset)?;
        Ok(v)
      }
    }
  }
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
  std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(not(unix))]
fn read_at(_f: &File, _buf: &mut [u8], _offset: u64) -> io::Result<()> {
  unreachable!("no spill file is made on this platform (see anonymous_file)")
}

/// Puts arrays on the spill file; spills from the same policy can be filled on several threads.
pub struct Spill {
  file: Option<Arc<File>>,
  end: u64,
}

impl Spill {
  pub fn memory() -> Spill {
    Spill { file: None, end: 0 }
  }

  /// A spill backed by an anonymous file in `dir`; memory if none can be made there, or if `dir`
  /// is itself memory (tmpfs: writing there would only move the arrays, not free them).
  pub fn in_dir(dir: &Path) -> Spill {
    if is_memory_fs(dir) {
      return Spill::memory();
    }
    Spill {
      file: anonymous_file(dir).ok().map(Arc::new),
      end: 0,
    }
  }

  /// Whether arrays put here go to a file.
  pub fn on_disk(&self) -> bool {
    self.file.is_some()
  }

  /// Moves `v` onto the spill file, freeing its memory when it goes to the file. A failed write
  /// (a full disk) keeps it in memory and stops using the file.
  pub fn put<T: Plain>(&mut self, v: Vec<T>) -> Spilled<T> {
    let Some(file) = &self.file else {
      return Spilled::Memory(v);
    };
    let offset = self.end;
    let written = (|| -> io::Result<()> {
      let mut f: &File = file;
      f.seek(SeekFrom::Start(offset))?;
      f.write_all(bytes_of(&v))
    })();
    match written {
      Ok(()) => {
        self.end += std::mem::size_of_val(&v[..]) as u64;
        Spilled::File {
          file: file.clone(),
          offset,
          len: v.len(),
          _t: PhantomData,
        }
      }
      Err(_) => {
        // give back the disk space of the part written (a full temp dir hurts everyone)
        let _ = file.set_len(offset);
        self.file = None;
        Spilled::Memory(v)
      }
    }
  }
}

/// A file with no name in `dir` (Linux: `O_TMPFILE`; elsewhere: created, then unlinked at once —
/// a process killed between the two, or a failed unlink, leaves a `.leakprobe-spill-*` file).
#[cfg(unix)]
fn anonymous_file(dir: &Path) -> io::Result<File> {
  use std::os::unix::fs::OpenOptionsExt;
  #[cfg(target_os = "linux")]
  if let Ok(f) = std::fs::OpenOptions::new()
    .read(true)
    .write(true)
    .mode(0o600)
    .custom_flags(libc::O_TMPFILE)
    .open(dir)
  {
    return Ok(f);
  }
  // no O_TMPFILE (another OS, an old kernel, a file system without it): a fresh name, gone as
  // soon as it is open
  static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
  let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
  let nanos = std::time::SystemTime::now()
    .duration_since(std::time::UNIX_EPOCH)
    .map(|d| d.subsec_nanos())
    .unwrap_or(0);
  let path = dir.join(format!(".leakprobe-spill-{}-{seq}-{nanos}", std::process::id()));
  let f = std::fs::OpenOptions::new()
    .read(true)
    .write(true)
    .create_new(true)
    .mode(0o600)
    .open(&path)?;
  std::fs::remove_file(&path)?;
  Ok(f)
}

/// Elsewhere an open file cannot lose its name: keep the arrays in memory.
#[cfg(not(unix))]
fn anonymous_file(_dir: &Path) -> io::Result<File> {
  Err(io::Error::new(
    io::ErrorKind::Unsupported,
    "no anonymous temporary files on this platform",
  ))
}

#[cfg(target_os = "linux")]
fn is_memory_fs(dir: &Path) -> bool {
  use std::os::unix::ffi::OsStrExt;
  // f_type is a signed long of either width: compare its low 32 bits
  const TMPFS_MAGIC: u32 = 0x0102_1994;
  const RAMFS_MAGIC: u32 = 0x8584_58f6;
  let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
    return true;
  };
  // SAFETY: statfs is plain C data: all zeroes is a valid value
  let mut st: libc::statfs = unsafe { std::mem::zeroed() };
  // SAFETY: a NUL-terminated path and a statfs to fill
  if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
    return true; // no such directory: no file there either
  }
  let t = st.f_type as u32;
  t == TMPFS_MAGIC || t == RAMFS_MAGIC
}

#[cfg(not(target_os = "linux"))]
fn is_memory_fs(_dir: &Path) -> bool {
  false
}

#[cfg(test)]
mod tests {
  use super::*;

  fn disk_dir() -> PathBuf {
    // the crate's target directory is on the build's disk, unlike a tmpfs /tmp
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target")
  }

  #[test]
  fn arrays_come_back_as_they_went_from_a_file() {
    let dir = disk_dir();
    let before = std::fs::read_dir(&dir).unwrap().count();
    let mut spill = Spill::in_dir(&dir);
    assert!(spill.on_disk(), "{} should take a temporary file", dir.display());
    let a: Vec<u32> = (0..100_000).map(|i| i * 7 + 1).collect();
    let b: Vec<u16> = (0..33_333).map(|i| (i * 3) as u16).collect();
    let c: Vec<u64> = vec![1, 2, 3, u64::MAX];
    let d: Vec<u8> = "snapshot strings ✓".as_bytes().to_vec();
    let e: Vec<u64> = Vec::new();
    let f: Vec<(u32, u32)> = (0..1000).map(|i| (i, u32::MAX - i)).collect();
    let (sa, sb, sc, sd, se, sf) = (
      spill.put(a.clone()),
      spill.put(b.clone()),
      spill.put(c.clone()),
      spill.put(d.clone()),
      spill.put(e.clone()),
      spill.put(f.clone()),
    );
    assert!(matches!(sa, Spilled::File { .. }));
    // a copy leaves the array on the spill file
    assert_eq!(sf.copy().unwrap(), f);
    assert_eq!(sf.take().unwrap(), f);
    // any order back, even after the spill file itself is gone
    drop(spill);
    assert_eq!(sd.take().unwrap(), d);
    assert_eq!(sb.take().unwrap(), b);
    assert_eq!(se.take().unwrap(), e);
    assert_eq!(sa.take().unwrap(), a);
    assert_eq!(sc.take().unwrap(), c);
    // the file never had a name in the directory
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), before);
  }

  #[test]
  fn a_missing_directory_or_the_memory_policy_keeps_arrays_in_memory() {
    let mut spill = Spill::in_dir(Path::new("/nonexistent/leakprobe"));
    assert!(!spill.on_disk());
    let s = spill.put(vec![1u32, 2, 3]);
    assert!(matches!(s, Spilled::Memory(_)));
    assert_eq!(s.take().unwrap(), vec![1, 2, 3]);
    assert!(SpillPolicy::memory().dir_for(usize::MAX - 1).is_none());
    let small = SpillPolicy {
      dir: Some(disk_dir()),
      min_bytes: 1000,
    };
    assert!(small.dir_for(999).is_none());
    assert!(Spill::in_dir(small.dir_for(1000).unwrap()).on_disk());
  }

  #[test]
  fn a_failed_write_keeps_the_array_in_memory() {
    let path = disk_dir().join(format!("spill-read-only-{}", std::process::id()));
    std::fs::write(&path, b"kept").unwrap();
    // a file open for reading only: every write fails
    let mut spill = Spill {
      file: Some(Arc::new(File::open(&path).unwrap())),
      end: 0,
    };
    let v: Vec<u32> = (0..1000).collect();
    let s = spill.put(v.clone());
    assert!(
      matches!(s, Spilled::Memory(_)) && !spill.on_disk(),
      "kept in memory, and the file is given up"
    );
    assert_eq!(s.take().unwrap(), v);
    assert_eq!(std::fs::read(&path).unwrap(), b"kept");
    std::fs::remove_file(&path).unwrap();
  }

  #[cfg(target_os = "linux")]
  #[test]
  fn tmpfs_is_not_a_spill_file() {
    if is_memory_fs(Path::new("/dev/shm")) {
      assert!(!Spill::in_dir(Path::new("/dev/shm")).on_disk());
    }
    assert!(!is_memory_fs(&disk_dir()));
  }
}
