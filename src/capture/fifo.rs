//! A FIFO that `v8.writeHeapSnapshot(path)` writes into while a thread of ours reads it, so the
//! snapshot never lands uncompressed on disk. Unix only.
use super::fanout::Fanout;
use crossbeam_channel::Receiver;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::FromRawFd;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// How much one read takes from the pipe (and so the size of one chunk on the channel).
pub const CHUNK: usize = 256 * 1024;

pub struct FifoSource {
  pub path: PathBuf,
  /// Our own write end: keeps the reader from seeing EOF before V8 has opened the FIFO.
  keepalive: Option<File>,
  reader: Option<JoinHandle<()>>,
}

fn cstr(p: &Path) -> io::Result<CString> {
  CString::new(p.as_os_str().as_bytes())
    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

fn open_raw(path: &Path, flags: libc::c_int) -> io::Result<File> {
  let c = cstr(path)?;
  // SAFETY: a valid C string and plain flags; the fd is owned by the File from here on.
  let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
  if fd < 0 {
    return Err(io::Error::last_os_error());
  }
  // SAFETY: a new fd, owned by nothing else
  Ok(unsafe { File::from_raw_fd(fd) })
}

/// `path` still names the FIFO open as `f`.
fn same_file(f: &File, path: &Path) -> io::Result<()> {
  use std::os::unix::fs::MetadataExt;
  let (a, b) = (f.metadata()?, std::fs::symlink_metadata(path)?);
  if a.dev() == b.dev() && a.ino() == b.ino() {
    Ok(())
  } else {
    Err(io::Error::other(
      "the FIFO was replaced while it was being opened",
    ))
  }
}

impl FifoSource {
  /// Creates the FIFO (mode 0600), opens both ends, and starts the reader thread feeding `tx`.
  /// `pool` hands back buffers the writer is done with, so the reader reuses a fixed set of
  /// chunk buffers instead of allocating one per read.
  pub fn start(path: PathBuf, tx: Fanout, pool: Receiver<Vec<u8>>) -> io::Result<Self> {
    let c = cstr(&path)?;
    // SAFETY: valid C string.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
      return Err(io::Error::last_os_error());
    }
    let opened = (|| {
      // Non-blocking open of the read end succeeds with no writer; then our keepalive writer.
      let read_end = open_raw(&path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW)?;
      // Between mkfifo and that open, another process's stale-file cleaner sees no reader and
      // may remove the FIFO (clean_stale): then the name is not ours any more.
      same_file(&read_end, &path)?;
      let keepalive = open_raw(&path, libc::O_WRONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW)?;
      use std::os::unix::io::AsRawFd;
      let fd = read_end.as_raw_fd();
      // SAFETY: fcntl on an fd we own. Back to blocking reads for the reader thread.
      unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl & !libc::O_NONBLOCK);
        // A bigger pipe means fewer wake-ups of V8's writer; the kernel may refuse, which is fine.
        #[cfg(target_os = "linux")]
        libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
      }
      Ok::<_, io::Error>((read_end, keepalive))
    })();
    let (read_end, keepalive) = match opened {
      Ok(v) => v,
      Err(e) => {
        let _ = std::fs::remove_file(&path);
        return Err(e);
      }
    };
    let reader = std::thread::Builder::new()
      .name("leakprobe-fifo".into())
      .spawn(move || drain(read_end, tx, pool))?;
    Ok(FifoSource {
      path,
      keepalive: Some(keepalive),
      reader: Some(reader),
    })
  }

  /// Call once V8 has finished writing: the reader then sees EOF after the last byte.
  pub fn close(&mut self) {
    self.keepalive.take();
    let _ = std::fs::remove_file(&self.path);
    if let Some(r) = self.reader.take() {
      let _ = r.join();
    }
  }
}

impl Drop for FifoSource {
  fn drop(&mut self) {
    self.close();
  }
}

/// Reads until EOF. If the writer side of the channel is gone (write error), keep draining so
/// V8 never blocks on a full pipe, but send nothing more.
fn drain(mut read_end: File, mut tx: Fanout, pool: Receiver<Vec<u8>>) {
  let mut forwarding = true;
  let mut buf = Vec::new();
  loop {
    if buf.is_empty() {
      buf = pool.try_recv().unwrap_or_default();
      buf.resize(CHUNK, 0);
    }
    match read_end.read(&mut buf) {
      Ok(0) => break,
      Ok(n) => {
        if forwarding {
          buf.truncate(n);
          if !tx.send(std::mem::take(&mut buf)) {
            forwarding = false;
          }
        }
      }
      Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
      Err(_) => break,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::io::Write;

  /// A FIFO at a fresh temp path named by `tag`, read into `writer` alone (no parser).
  fn start_plain(tag: &str, writer: crossbeam_channel::Sender<Vec<u8>>) -> (FifoSource, PathBuf) {
    let path = std::env::temp_dir().join(format!("leakprobe-fifo-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    // no buffers come back in these tests: the pool's sender is gone from the start
    let (_, pool) = crossbeam_channel::bounded(1);
    let src = FifoSource::start(path.clone(), Fanout { writer, parser: None }, pool).unwrap();
    (src, path)
  }

  #[test]
  fn bytes_written_to_the_fifo_arrive_in_order() {
    let (tx, rx) = crossbeam_channel::bounded(4);
    let (mut src, path) = start_plain("order", tx);
    let collector = std::thread::spawn(move || rx.iter().flatten().collect::<Vec<u8>>());
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    {
      let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
      w.write_all(&data).unwrap();
    }
    src.close();
    drop(src);
    assert_eq!(collector.join().unwrap(), data);
    assert!(!path.exists());
  }

  #[test]
  fn keeps_draining_when_the_consumer_is_gone() {
    let (tx, rx) = crossbeam_channel::bounded(1);
    drop(rx);
    let (mut src, path) = start_plain("drain", tx);
    // Far more than the pipe holds: would block forever if nobody drained.
    let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    w.write_all(&vec![7u8; 8 << 20]).unwrap();
    drop(w);
    src.close();
  }
}
