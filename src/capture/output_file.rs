//! The capture's file on disk: a 0600 temp file in a 0700 dir, fsync, atomic rename, fsync of
//! the dir. Nothing partial is ever left under the final name; the temp file is removed on error.
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

impl PendingFile {
  /// Creates `<dir>/.<name>.tmp` exclusively with mode 0600.
  pub fn create(dir: &Path, name: &str) -> Result<(Self, File), String> {
    let temp_path = dir.join(format!(".{name}.tmp"));
    let final_path = dir.join(name);
    if final_path.exists() {
      return Err(format!(
        "{} already exists; pick another id",
        final_path.display()
      ));
    }
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    let file = o.open(&temp_path).map_err(|e| {
      format!(
        "cannot write in {}: {e}; make it writable or pass another `dir`",
        dir.display()
      )
    })?;
    Ok((
      PendingFile {
        temp_path,
        final_path,
        committed: false,
      },
      file,
    ))
  }

  /// fsync the data, rename over the final name, fsync the directory entry.
  pub fn commit(mut self, file: File) -> io::Result<PathBuf> {
    file.sync_all()?;
    drop(file);
    fs::rename(&self.temp_path, &self.final_path)?;
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
}
