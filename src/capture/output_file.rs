//! The capture's file on disk: a 0600 temp file in a 0700 dir, fsync, atomic rename, fsync of
//! the dir. Nothing partial is ever left under the final name; the temp file is removed on error.
//!
//! A temp file is held under an exclusive `flock` for as long as it is being written, so a process
//! that was killed part-way (SIGTERM, SIGKILL, OOM) leaves a temp file nobody holds: `clean_stale`
//! removes exactly those, and never the temp file of a capture in flight in another process.
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Makes sure `dir` exists (creating it, not its parents, with mode 0700) and is a directory.
pub fn ensure_dir(dir: &Path) -> Result<(), String> {
  match fs::metadata(dir) {
    Ok(m) if m.is_dir() => Ok(()),
    Ok(_) => Err(format!(
      "{} exists and is not a directory; pass a directory as `dir`",
      dir.display()
    )),
    Err(e) if e.kind() == io::ErrorKind::NotFound => {
      let mut b = fs::DirBuilder::new();
      #[cfg(unix)]
      b.mode(0o700);
      b.create(dir).map_err(|e| {
        format!(
          "cannot create directory {}: {e}; create its parent first or pass another `dir`",
          dir.display()
        )
      })?;
      // umask may have narrowed it; never widen past 0700
      #[cfg(unix)]
      let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
      Ok(())
    }
    Err(e) => Err(format!("cannot use directory {}: {e}", dir.display())),
  }
}

/// A temp file that becomes `final_path` on `commit`, and disappears if dropped uncommitted.
pub struct PendingFile {
  pub temp_path: PathBuf,
  pub final_path: PathBuf,
  committed: bool,
}

/// Suffix of every temp file we write (`.<name>.tmp`, `.<name>.redacting.tmp`).
pub const TEMP_SUFFIX: &str = ".tmp";

impl PendingFile {
  /// Creates `<dir>/.<name>.tmp` exclusively with mode 0600, locked (see the module doc).
  pub fn create(dir: &Path, name: &str) -> Result<(Self, File), String> {
    Self::create_as(dir, name, TEMP_SUFFIX)
  }

  /// As `create`, with the temp file named `.<name><suffix>` (`suffix` ends with `.tmp`).
  pub fn create_as(dir: &Path, name: &str, suffix: &str) -> Result<(Self, File), String> {
    Self::open_temp(dir, name, suffix, true)
  }

  /// As `create_as`, for a file that replaces `<dir>/<name>` (which may exist) on `commit`.
  pub fn create_replacing(dir: &Path, name: &str, suffix: &str) -> Result<(Self, File), String> {
    Self::open_temp(dir, name, suffix, false)
  }

  fn open_temp(dir: &Path, name: &str, suffix: &str, new: bool) -> Result<(Self, File), String> {
    debug_assert!(suffix.ends_with(TEMP_SUFFIX));
    let temp_path = dir.join(format!(".{name}{suffix}"));
    let final_path = dir.join(name);
    if new && fs::symlink_metadata(&final_path).is_ok() {
      return Err(format!(
        "{} already exists; pick another id",
        final_path.display()
      ));
    }
    // A stale cleaner in another process may take the lock between our create and our lock,
    // and unlink the file: then ours is a nameless inode, and we make it again.
    for _ in 0..3 {
      let mut o = OpenOptions::new();
      o.write(true).create_new(true);
      #[cfg(unix)]
      o.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
      let file = o.open(&temp_path).map_err(|e| {
        format!(
          "cannot write in {}: {e}; make it writable or pass another `dir`",
          dir.display()
        )
      })?;
      #[cfg(unix)]
      {
        lock(&file, true).map_err(|e| format!("cannot lock {}: {e}", temp_path.display()))?;
        if !still_named(&file, &temp_path) {
          continue;
        }
      }
      return Ok((
        PendingFile {
          temp_path,
          final_path,
          committed: false,
        },
        file,
      ));
    }
    Err(format!(
      "cannot create {}: it was removed as soon as it was made, three times",
      temp_path.display()
    ))
  }

  /// fsync the data, rename over the final name, fsync the directory entry. The file stays open
  /// (locked) until it has its final name.
  pub fn commit(mut self, file: File) -> io::Result<PathBuf> {
    file.sync_all()?;
    fs::rename(&self.temp_path, &self.final_path)?;
    drop(file);
    self.committed = true;
    if let Some(dir) = self.final_path.parent() {
      // Directory fsync makes the rename durable; not supported everywhere, so best effort.
      if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
      }
    }
    Ok(self.final_path.clone())
  }
}

impl Drop for PendingFile {
  fn drop(&mut self) {
    if !self.committed {
      let _ = fs::remove_file(&self.temp_path);
    }
  }
}

/// `flock` on the whole file: exclusive, waiting for it (`wait`) or not. Released when every fd
/// of this open file is closed, which the kernel does when the process dies.
#[cfg(unix)]
fn lock(file: &File, wait: bool) -> io::Result<()> {
  use std::os::unix::io::AsRawFd;
  let op = if wait {
    libc::LOCK_EX
  } else {
    libc::LOCK_EX | libc::LOCK_NB
  };
  loop {
    // SAFETY: flock on an fd this File owns.
    if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
      return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.kind() != io::ErrorKind::Interrupted {
      return Err(e);
    }
  }
}

/// Whether `path` still names the file open as `file` (same device and inode, not a symlink).
#[cfg(unix)]
fn still_named(file: &File, path: &Path) -> bool {
  use std::os::unix::fs::MetadataExt;
  match (file.metadata(), fs::symlink_metadata(path)) {
    (Ok(a), Ok(b)) => a.nlink() > 0 && a.dev() == b.dev() && a.ino() == b.ino(),
    _ => false,
  }
}

/// What a name in a capture dir is to `clean_stale`.
#[derive(Debug, PartialEq, Eq)]
enum Leftover {
  /// `.<id>.heapsnapshot[.gz][.redacting].tmp`, `.<id>.report.json.tmp`
  Temp,
  /// `.<id>.fifo`
  Fifo,
}

/// Only names this crate (and the admin route's report cache) make: a capture dir may be a
/// directory of the user's with temp files of their own.
fn leftover_kind(name: &str) -> Option<Leftover> {
  let rest = name.strip_prefix('.')?;
  let (stem, kind) = if let Some(s) = rest.strip_suffix(".fifo") {
    (s, Leftover::Fifo)
  } else if let Some(s) = rest.strip_suffix(TEMP_SUFFIX) {
    let s = s.strip_suffix(".redacting").unwrap_or(s);
    let s = s
      .strip_suffix(".heapsnapshot.gz")
      .or_else(|| s.strip_suffix(".heapsnapshot"))
      .or_else(|| s.strip_suffix(".report.json"))?;
    (s, Leftover::Temp)
  } else {
    return None;
  };
  let id_ok = !stem.is_empty()
    && !stem.starts_with('.')
    && stem.len() <= 128
    && stem
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
  id_ok.then_some(kind)
}

/// Removes what captures that are no longer running left in `dir`: temp files nobody holds the
/// lock of, FIFOs nobody reads, and symlinks under those names (we never make one). The files of
/// a capture in flight, in this process or another, stay. Returns the names removed. Best effort:
/// what cannot be checked stays.
#[cfg(unix)]
pub fn clean_stale(dir: &Path) -> Vec<String> {
  use std::os::unix::fs::FileTypeExt;
  let mut removed = Vec::new();
  let Ok(entries) = fs::read_dir(dir) else {
    return removed;
  };
  for entry in entries.flatten() {
    let name = entry.file_name();
    let Some(name) = name.to_str() else { continue };
    let Some(kind) = leftover_kind(name) else { continue };
    let path = dir.join(name);
    let Ok(meta) = fs::symlink_metadata(&path) else {
      continue;
    };
    let ft = meta.file_type();
    let stale = if ft.is_symlink() {
      true
    } else {
      match kind {
        Leftover::Temp if ft.is_file() => temp_is_stale(&path),
        Leftover::Fifo if ft.is_fifo() => fifo_is_stale(&path),
        _ => false,
      }
    };
    if stale && fs::remove_file(&path).is_ok() {
      removed.push(name.to_string());
    }
  }
  removed.sort();
  removed
}

#[cfg(not(unix))]
pub fn clean_stale(_dir: &Path) -> Vec<String> {
  Vec::new()
}

/// A temp file is stale when its lock can be taken: its writer is gone.
#[cfg(unix)]
fn temp_is_stale(path: &Path) -> bool {
  let mut o = OpenOptions::new();
  o.read(true)
    .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
  match o.open(path) {
    // the lock is dropped with `f`, after the caller's unlink: a writer that was about to lock
    // it finds it unnamed and makes a new one (PendingFile::create_as)
    Ok(f) => lock(&f, false).is_ok() && still_named(&f, path),
    Err(_) => false,
  }
}

/// A FIFO is stale when nobody has its read end open: opening it for writing without blocking
/// then fails with ENXIO. A live capture holds the read end from just after `mkfifo` to the end.
#[cfg(unix)]
fn fifo_is_stale(path: &Path) -> bool {
  let mut o = OpenOptions::new();
  o.write(true)
    .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
  match o.open(path) {
    Ok(_) => false,
    Err(e) => e.raw_os_error() == Some(libc::ENXIO),
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::io::Write;

  fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("leakprobe-test-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
  }

  #[test]
  fn commit_renames_with_0600_in_0700_dir() {
    let d = tmpdir("commit");
    ensure_dir(&d).unwrap();
    let (p, mut f) = PendingFile::create(&d, "a.heapsnapshot.gz").unwrap();
    f.write_all(b"hello").unwrap();
    let out = p.commit(f).unwrap();
    assert_eq!(fs::read(&out).unwrap(), b"hello");
    #[cfg(unix)]
    {
      assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
      assert_eq!(fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
    }
    assert_eq!(fs::read_dir(&d).unwrap().count(), 1, "no temp file left");
    fs::remove_dir_all(&d).unwrap();
  }

  #[test]
  fn dropped_pending_file_leaves_nothing() {
    let d = tmpdir("drop");
    ensure_dir(&d).unwrap();
    {
      let (_p, mut f) = PendingFile::create(&d, "b.heapsnapshot.gz").unwrap();
      f.write_all(b"partial").unwrap();
    }
    assert_eq!(fs::read_dir(&d).unwrap().count(), 0);
    fs::remove_dir_all(&d).unwrap();
  }

  #[test]
  fn missing_parent_is_an_error() {
    let d = tmpdir("noparent").join("child");
    let e = ensure_dir(&d).unwrap_err();
    assert!(e.contains("create its parent"), "{e}");
  }

  #[test]
  fn existing_final_name_is_refused() {
    let d = tmpdir("exists");
    ensure_dir(&d).unwrap();
    fs::write(d.join("c.gz"), b"x").unwrap();
    assert!(PendingFile::create(&d, "c.gz").is_err());
    fs::remove_dir_all(&d).unwrap();
  }

  #[test]
  fn leftover_names() {
    assert_eq!(
      leftover_kind(".2026-a1.heapsnapshot.gz.tmp"),
      Some(Leftover::Temp)
    );
    assert_eq!(leftover_kind(".x.heapsnapshot.tmp"), Some(Leftover::Temp));
    assert_eq!(
      leftover_kind(".x.heapsnapshot.gz.redacting.tmp"),
      Some(Leftover::Temp)
    );
    assert_eq!(leftover_kind(".x.report.json.tmp"), Some(Leftover::Temp));
    assert_eq!(leftover_kind(".x.fifo"), Some(Leftover::Fifo));
    for other in [
      "x.heapsnapshot.gz",
      ".notes.tmp",
      "x.heapsnapshot.gz.tmp",
      "..heapsnapshot.tmp",
      ".a b.heapsnapshot.tmp",
      ".fifo",
      ".x.heapsnapshot.gz",
    ] {
      assert_eq!(leftover_kind(other), None, "{other}");
    }
  }

  #[cfg(unix)]
  #[test]
  fn clean_stale_removes_only_what_nobody_holds() {
    let d = tmpdir("stale");
    ensure_dir(&d).unwrap();
    // a capture in flight: its temp file is open and locked
    let (live, _live_file) = PendingFile::create(&d, "live.heapsnapshot.gz").unwrap();
    // a dead one: the file stays, nobody holds it
    fs::write(d.join(".dead.heapsnapshot.gz.tmp"), b"partial").unwrap();
    fs::write(d.join(".dead.heapsnapshot.gz.redacting.tmp"), b"partial").unwrap();
    // a FIFO nobody reads, and one with a reader
    let mk = |n: &str| {
      let c = std::ffi::CString::new(d.join(n).to_str().unwrap()).unwrap();
      // SAFETY: a valid C string
      assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    mk(".dead.fifo");
    mk(".live.fifo");
    let _reader = OpenOptions::new()
      .read(true)
      .custom_flags(libc::O_NONBLOCK)
      .open(d.join(".live.fifo"))
      .unwrap();
    // a planted symlink under one of our names; a file of the user's
    std::os::unix::fs::symlink("/etc/passwd", d.join(".planted.report.json.tmp")).unwrap();
    fs::write(d.join(".notes.tmp"), b"mine").unwrap();
    fs::write(d.join("done.heapsnapshot.gz"), b"done").unwrap();
    let removed = clean_stale(&d);
    assert_eq!(
      removed,
      vec![
        ".dead.fifo",
        ".dead.heapsnapshot.gz.redacting.tmp",
        ".dead.heapsnapshot.gz.tmp",
        ".planted.report.json.tmp"
      ]
    );
    assert!(live.temp_path.exists());
    assert!(d.join(".live.fifo").exists() && d.join(".notes.tmp").exists());
    assert!(fs::metadata("/etc/passwd").is_ok());
    drop(live);
    fs::remove_dir_all(&d).unwrap();
  }

  #[cfg(unix)]
  #[test]
  fn still_named_sees_an_unlinked_temp_file() {
    let d = tmpdir("relock");
    ensure_dir(&d).unwrap();
    let (p, f) = PendingFile::create(&d, "r.heapsnapshot.gz").unwrap();
    assert!(still_named(&f, &p.temp_path));
    fs::remove_file(&p.temp_path).unwrap();
    assert!(!still_named(&f, &p.temp_path));
    drop((p, f));
    fs::remove_dir_all(&d).unwrap();
  }
}
