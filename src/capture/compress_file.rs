//! Gzips an existing snapshot file (e.g. one Node wrote near the heap limit) into the capture
//! dir with the same guarantees as a capture: 0600 temp file, fsync, rename, nothing partial.
use super::output_file::{ensure_dir, PendingFile};
use crate::error::{Error, ErrorKind};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};

pub struct Compressed {
  pub file: PathBuf,
  pub bytes: u64,
  pub compressed_bytes: u64,
}

/// `src` → `<dir>/<name>`; `src` is removed afterwards when `remove_source` is set. Every failure
/// is `ERR_LEAKPROBE_WRITE`: the message says which step.
pub fn compress_file(
  src: &Path,
  dir: &Path,
  name: &str,
  level: u32,
  remove_source: bool,
) -> Result<Compressed, Error> {
  compress(src, dir, name, level, remove_source).map_err(|m| Error::new(ErrorKind::Write, m))
}

fn compress(
  src: &Path,
  dir: &Path,
  name: &str,
  level: u32,
  remove_source: bool,
) -> Result<Compressed, String> {
  let input = File::open(src).map_err(|e| format!("cannot open {}: {e}", src.display()))?;
  ensure_dir(dir)?;
  let (pending, out) = PendingFile::create(dir, name)?;
  let mut gz = GzEncoder::new(
    io::BufWriter::with_capacity(1 << 20, out),
    Compression::new(level.min(9)),
  );
  let bytes = io::copy(&mut BufReader::with_capacity(1 << 20, input), &mut gz)
    .map_err(|e| format!("cannot compress {} into {}: {e}", src.display(), dir.display()))?;
  let out = gz
    .finish()
    .and_then(|mut w| w.flush().map(|_| w))
    .map_err(|e| format!("cannot write {}: {e}", pending.temp_path.display()))?
    .into_inner()
    .map_err(|e| format!("cannot write {}: {e}", pending.temp_path.display()))?;
  let compressed_bytes = out.metadata().map(|m| m.len()).unwrap_or(0);
  let file = pending
    .commit(out)
    .map_err(|e| format!("cannot finish {}: {e}", dir.join(name).display()))?;
  if remove_source {
    std::fs::remove_file(src).map_err(|e| {
      format!(
        "compressed to {} but cannot remove {}: {e}",
        file.display(),
        src.display()
      )
    })?;
  }
  Ok(Compressed {
    file,
    bytes,
    compressed_bytes,
  })
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::io::Read;

  #[test]
  fn compresses_renames_and_removes_the_source() {
    let dir = std::env::temp_dir().join(format!("leakprobe-cf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("Heap.1.heapsnapshot");
    std::fs::write(&src, b"{\"snapshot\":{}}".repeat(1000)).unwrap();
    let out = dir.join("out");
    let c = compress_file(&src, &out, "x.heapsnapshot.gz", 3, true).unwrap();
    assert_eq!(c.bytes, 15_000);
    assert!(!src.exists());
    let mut text = String::new();
    flate2::read::GzDecoder::new(File::open(&c.file).unwrap())
      .read_to_string(&mut text)
      .unwrap();
    assert_eq!(text.len(), 15_000);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "no temp file left");
    // a missing source is an error and writes nothing
    let e = compress_file(&src, &out, "y.heapsnapshot.gz", 3, false)
      .err()
      .unwrap();
    assert_eq!(e.code(), "ERR_LEAKPROBE_WRITE");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
  }
}
