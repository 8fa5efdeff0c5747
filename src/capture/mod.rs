//! Streaming capture: chunks → bounded channel → gzip writer thread → temp file → fsync → rename.
//! Plain Rust; the binding feeds it either through a FIFO (`attach_fifo`) or chunk by chunk (`push`).
pub mod compress_file;
pub mod encoder;
pub mod fanout;
#[cfg(unix)]
pub mod fifo;
pub mod output_file;

use crate::error::{Error, ErrorKind};
use crossbeam_channel::bounded;
use fanout::{ChunkReader, Fanout};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One capture per process: V8 can only build one snapshot at a time anyway, and two would
/// double the memory spike this tool exists to keep small.
static BUSY: AtomicBool = AtomicBool::new(false);

/// Chunks in flight between V8 and the gzip thread: `CHANNEL_CHUNKS` × 256 KiB = 16 MiB at most.
pub const CHANNEL_CHUNKS: usize = 64;

fn dir_err(m: impl Into<String>) -> Error {
  Error::new(ErrorKind::Dir, m)
}

/// The writer stopped: say so, and that `PendingFile` removed what it had written.
fn write_err(m: impl std::fmt::Display) -> Error {
  Error::new(
    ErrorKind::Write,
    format!("writing the snapshot failed: {m}; no file was left behind"),
  )
}

fn busy_err() -> Error {
  Error::new(
    ErrorKind::Busy,
    "a heap snapshot capture is already running in this process; wait for it to finish",
  )
}

#[derive(Debug, Clone)]
pub struct CaptureOptions {
  pub dir: PathBuf,
  /// file-name-safe id; the file becomes `<id>.heapsnapshot[.gz]`
  pub id: String,
  /// gzip level 0-9, or None for a plain `.heapsnapshot`
  pub gzip_level: Option<u32>,
  /// Replace string contents before the file gets its name (`snapshot::redact`): the capture is
  /// written to its hidden, locked temp file, a redacted copy of it is written and renamed to the
  /// final name, and the unredacted temp file is removed. No listable name ever holds it.
  pub redact: bool,
}

/// Work on the snapshot in the same pass (e.g. parse + analyze), on a thread of its own, reading
/// the same chunks as the writer. Its result (or error text) comes back in the outcome.
pub type TeeFn = Box<dyn FnOnce(ChunkReader) -> Result<String, Error> + Send + 'static>;

#[derive(Debug, Clone)]
pub struct CaptureOutcome {
  pub file: PathBuf,
  /// uncompressed snapshot bytes
  pub bytes: u64,
  /// bytes on disk
  pub compressed_bytes: u64,
  /// from the last chunk's arrival to the renamed file
  pub tail_ms: f64,
  /// node count from the snapshot header
  pub nodes: Option<u64>,
  /// with `redact`: how many strings were replaced
  pub redacted_strings: Option<u64>,
  /// what the tee returned, when there was one
  pub tee: Option<Result<String, Error>>,
}

pub type DoneCallback = Box<dyn FnOnce(Result<CaptureOutcome, Error>) + Send + 'static>;

/// Ids become file names: keep them to a safe alphabet, never a path.
pub fn validate_id(id: &str) -> Result<(), Error> {
  let ok = !id.is_empty()
    && id.len() <= 128
    && !id.starts_with('.')
    && id
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
  if ok {
    Ok(())
  } else {
    Err(Error::new(
      ErrorKind::InvalidArg,
      format!("invalid capture id {id:?}: use 1-128 characters of A-Z a-z 0-9 - _ . not starting with '.'"),
    ))
  }
}

/// A running capture. Feed it, then `finish` (or `abort`); `on_done` is called on our thread.
pub struct Capture {
  pool: crossbeam_channel::Receiver<Vec<u8>>,
  tx: Option<Fanout>,
  aborted: Arc<AtomicBool>,
  abort_reason: Arc<std::sync::Mutex<Option<String>>>,
  dir: PathBuf,
  id: String,
  #[cfg(unix)]
  fifo: Option<fifo::FifoSource>,
}

struct BusyGuard;
impl Drop for BusyGuard {
  fn drop(&mut self) {
    BUSY.store(false, Ordering::Release);
  }
}

impl Capture {
  pub fn start(opts: CaptureOptions, on_done: DoneCallback) -> Result<Capture, Error> {
    Self::start_with(opts, None, on_done)
  }

  pub fn start_with(
    opts: CaptureOptions,
    tee: Option<TeeFn>,
    on_done: DoneCallback,
  ) -> Result<Capture, Error> {
    validate_id(&opts.id)?;
    if BUSY
      .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
      .is_err()
    {
      return Err(busy_err());
    }
    let busy = BusyGuard;
    output_file::ensure_dir(&opts.dir).map_err(dir_err)?;
    // what killed captures left (their temp files and FIFOs); never those of a live one
    output_file::clean_stale(&opts.dir);
    let name = match opts.gzip_level {
      Some(_) => format!("{}.heapsnapshot.gz", opts.id),
      None => format!("{}.heapsnapshot", opts.id),
    };
    let (pending, file) = output_file::PendingFile::create(&opts.dir, &name).map_err(dir_err)?;
    let (tx, rx) = bounded::<Vec<u8>>(CHANNEL_CHUNKS);
    // written chunks come back for reuse: a fixed set of buffers, no allocation per chunk
    let (pool_tx, pool_rx) = bounded::<Vec<u8>>(CHANNEL_CHUNKS + 2);
    let mut parser_tx = None;
    let mut tee_thread = None;
    if let Some(tee) = tee {
      let (ptx, prx) = bounded::<Vec<u8>>(CHANNEL_CHUNKS);
      let t = std::thread::Builder::new()
        .name("leakprobe-analyze".into())
        .spawn(move || {
          std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tee(ChunkReader::new(prx))))
            .unwrap_or_else(|p| Err(Error::from_panic(&p)))
        })
        .map_err(|e| Error::internal(format!("cannot start the analysis thread: {e}")))?;
      parser_tx = Some(ptx);
      tee_thread = Some(t);
    }
    let aborted = Arc::new(AtomicBool::new(false));
    let abort_reason = Arc::new(std::sync::Mutex::new(None::<String>));
    let (ab, reason) = (aborted.clone(), abort_reason.clone());
    let level = opts.gzip_level;
    let redact = opts.redact;
    let dir = opts.dir.clone();
    let spawned = std::thread::Builder::new()
      .name("leakprobe-gzip".into())
      .spawn(move || {
        let _busy = busy;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
          let writer = std::io::BufWriter::with_capacity(1 << 20, file);
          let encoded = encoder::encode_stream(&rx, writer, level, Some(&pool_tx));
          drop(rx); // senders now fail fast instead of blocking
          let (writer, stats, last) = encoded.map_err(write_err)?;
          if ab.load(Ordering::Acquire) {
            let why = reason.lock().ok().and_then(|g| g.clone()).unwrap_or_default();
            return Err(Error::new(ErrorKind::Capture, why)); // `pending` drops: temp file removed
          }
          if stats.bytes == 0 {
            // an empty file reported as a capture would be a silent loss of the evidence
            return Err(Error::new(
              ErrorKind::Capture,
              "V8 wrote no heap snapshot (0 bytes); nothing was saved",
            ));
          }
          let file = writer.into_inner().map_err(|e| write_err(e.error()))?;
          let tail_ms = |last: Option<std::time::Instant>| {
            last.map(|t| t.elapsed().as_secs_f64() * 1000.0).unwrap_or(0.0)
          };
          if redact {
            // `file` stays open (locked) while it is read back; `pending` removes it after
            let (path, r) =
              crate::snapshot::redact::redact_into(&pending.temp_path, &dir, &name, level.unwrap_or(3))
                .map_err(|m| write_err(format!("cannot redact the snapshot: {m}")))?;
            drop(pending);
            drop(file);
            return Ok(CaptureOutcome {
              file: path,
              bytes: r.bytes,
              compressed_bytes: r.compressed_bytes,
              tail_ms: tail_ms(last),
              nodes: stats.node_count,
              redacted_strings: Some(r.strings),
              tee: None,
            });
          }
          let path = pending.commit(file).map_err(write_err)?;
          Ok(CaptureOutcome {
            file: path,
            bytes: stats.bytes,
            compressed_bytes: stats.written,
            tail_ms: tail_ms(last),
            nodes: stats.node_count,
            redacted_strings: None,
            tee: None,
          })
        }));
        let mut result = match run {
          Ok(r) => r,
          Err(p) => Err(Error::from_panic(&p)),
        };
        // The tee saw EOF when the senders went away, so this join cannot hang.
        let tee_result = tee_thread.map(|t| {
          t.join()
            .unwrap_or_else(|_| Err(Error::internal("the analysis thread failed")))
        });
        if let Ok(o) = &mut result {
          o.tee = tee_result;
        }
        drop(_busy); // free the slot before the caller hears of the result
        on_done(result);
      });
    if let Err(e) = spawned {
      return Err(Error::internal(format!("cannot start the writer thread: {e}")));
    }
    Ok(Capture {
      pool: pool_rx,
      tx: Some(Fanout {
        writer: tx,
        parser: parser_tx,
      }),
      aborted,
      abort_reason,
      dir: opts.dir,
      id: opts.id,
      #[cfg(unix)]
      fifo: None,
    })
  }

  /// Opens a FIFO in the capture dir for `v8.writeHeapSnapshot` to write into; returns its path.
  #[cfg(unix)]
  pub fn attach_fifo(&mut self) -> Result<PathBuf, Error> {
    let tx = self
      .tx
      .clone()
      .ok_or_else(|| Error::new(ErrorKind::InvalidArg, "capture already finished"))?;
    let path = self.dir.join(format!(".{}.fifo", self.id));
    let src = fifo::FifoSource::start(path.clone(), tx, self.pool.clone())
      .map_err(|e| dir_err(format!("cannot create a FIFO in {}: {e}", self.dir.display())))?;
    self.fifo = Some(src);
    Ok(path)
  }

  /// Feeds one chunk (the inspector fallback). Returns false once the writer has stopped
  /// (after an error), so the caller can stop producing.
  pub fn push(&mut self, chunk: Vec<u8>) -> bool {
    match &mut self.tx {
      Some(tx) => tx.send(chunk),
      None => false,
    }
  }

  /// No more chunks: the writer finishes, syncs, renames, and calls `on_done`.
  pub fn finish(&mut self) {
    #[cfg(unix)]
    if let Some(mut f) = self.fifo.take() {
      f.close();
    }
    self.tx.take();
  }

  /// Stops the capture; the temp file is removed and `on_done` gets `Aborted(reason)`.
  pub fn abort(&mut self, reason: &str) {
    if let Ok(mut g) = self.abort_reason.lock() {
      *g = Some(reason.to_string());
    }
    self.aborted.store(true, Ordering::Release);
    self.finish();
  }

  pub fn dir(&self) -> &Path {
    &self.dir
  }
}

impl Drop for Capture {
  fn drop(&mut self) {
    if self.tx.is_some() {
      self.abort("the capture was dropped before it finished");
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::mpsc;

  fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("leakprobe-cap-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
  }

  // BUSY is process-wide: run the session tests one after another in one test.
  #[test]
  fn session_lifecycle() {
    let d = dir("session");
    // push path, gzip
    let (tx, rx) = mpsc::channel();
    let opts = CaptureOptions {
      dir: d.clone(),
      id: "t1".into(),
      gzip_level: Some(1),
      redact: false,
    };
    let mut c = Capture::start(opts.clone(), Box::new(move |r| tx.send(r).unwrap())).unwrap();
    assert_eq!(
      Capture::start(
        CaptureOptions {
          id: "t2".into(),
          ..opts.clone()
        },
        Box::new(|_| {})
      )
      .err(),
      Some(busy_err())
    );
    assert!(c.push(b"{\"snapshot\":{}}".to_vec()));
    c.finish();
    let out = rx.recv().unwrap().unwrap();
    assert_eq!(out.bytes, 15);
    assert_eq!(out.file, d.join("t1.heapsnapshot.gz"));
    assert_eq!(std::fs::metadata(&out.file).unwrap().len(), out.compressed_bytes);

    // abort leaves nothing
    let (tx, rx) = mpsc::channel();
    let mut c = Capture::start(
      CaptureOptions {
        id: "t3".into(),
        ..opts.clone()
      },
      Box::new(move |r| tx.send(r).unwrap()),
    )
    .unwrap();
    c.push(vec![1; 1000]);
    c.abort("V8 failed");
    assert_eq!(
      rx.recv().unwrap().err(),
      Some(Error::new(ErrorKind::Capture, "V8 failed"))
    );
    let names: Vec<_> = std::fs::read_dir(&d)
      .unwrap()
      .map(|e| e.unwrap().file_name())
      .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // V8 wrote nothing: an error, and no file
    let (tx, rx) = mpsc::channel();
    let mut c = Capture::start(
      CaptureOptions {
        id: "t-empty".into(),
        ..opts.clone()
      },
      Box::new(move |r| tx.send(r).unwrap()),
    )
    .unwrap();
    c.finish();
    let err = rx.recv().unwrap().expect_err("an empty capture fails");
    assert_eq!(err.code(), "ERR_LEAKPROBE_CAPTURE");
    assert!(err.to_string().contains("0 bytes"), "{err}");
    let names: Vec<_> = std::fs::read_dir(&d)
      .unwrap()
      .map(|e| e.unwrap().file_name())
      .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // fifo path
    #[cfg(unix)]
    {
      let (tx, rx) = mpsc::channel();
      let mut c = Capture::start(
        CaptureOptions {
          id: "t4".into(),
          gzip_level: None,
          ..opts.clone()
        },
        Box::new(move |r| tx.send(r).unwrap()),
      )
      .unwrap();
      let p = c.attach_fifo().unwrap();
      std::fs::write(&p, b"0123456789").unwrap();
      c.finish();
      let out = rx.recv().unwrap().unwrap();
      assert_eq!(std::fs::read(out.file).unwrap(), b"0123456789");
      assert!(out.tee.is_none());
    }

    // a tee reads the same bytes in the same pass
    let (tx, rx) = mpsc::channel();
    let tee: TeeFn = Box::new(|mut r| {
      let mut s = String::new();
      std::io::Read::read_to_string(&mut r, &mut s)
        .map_err(|e| Error::new(ErrorKind::Capture, e.to_string()))?;
      Ok(s.to_uppercase())
    });
    let mut c = Capture::start_with(
      CaptureOptions {
        id: "t6".into(),
        ..opts.clone()
      },
      Some(tee),
      Box::new(move |r| tx.send(r).unwrap()),
    )
    .unwrap();
    c.push(b"abc".to_vec());
    c.push(b"def".to_vec());
    c.finish();
    assert_eq!(rx.recv().unwrap().unwrap().tee, Some(Ok("ABCDEF".into())));

    // redact: the final name only ever holds the redacted copy; no temp file stays
    let (tx, rx) = mpsc::channel();
    let mut c = Capture::start(
      CaptureOptions {
        id: "t7".into(),
        redact: true,
        ..opts.clone()
      },
      Box::new(move |r| tx.send(r).unwrap()),
    )
    .unwrap();
    c.push(crate::snapshot::redact::TEST_SNAPSHOT.as_bytes().to_vec());
    c.finish();
    let out = rx.recv().unwrap().unwrap();
    assert_eq!(out.redacted_strings, Some(1));
    let mut text = String::new();
    std::io::Read::read_to_string(
      &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&out.file).unwrap()),
      &mut text,
    )
    .unwrap();
    assert!(!text.contains("hunter2") && text.contains("<redacted>"), "{text}");
    assert_eq!(out.bytes, text.len() as u64);
    assert!(!std::fs::read_dir(&d).unwrap().any(|e| e
      .unwrap()
      .file_name()
      .to_string_lossy()
      .starts_with(".t7")));
    // a redaction that fails (not a snapshot) leaves nothing, under any name
    let (tx, rx) = mpsc::channel();
    let mut c = Capture::start(
      CaptureOptions {
        id: "t8".into(),
        redact: true,
        ..opts.clone()
      },
      Box::new(move |r| tx.send(r).unwrap()),
    )
    .unwrap();
    c.push(b"{\"snapshot\":".to_vec());
    c.finish();
    assert!(matches!(rx.recv().unwrap(), Err(e) if e.kind() == ErrorKind::Write));
    assert!(!std::fs::read_dir(&d)
      .unwrap()
      .any(|e| e.unwrap().file_name().to_string_lossy().contains("t8")));

    // bad id and bad dir
    assert!(matches!(
      Capture::start(
        CaptureOptions {
          id: "../x".into(),
          ..opts.clone()
        },
        Box::new(|_| {})
      ),
      Err(e) if e.kind() == ErrorKind::InvalidArg
    ));
    assert!(matches!(
      Capture::start(
        CaptureOptions {
          dir: d.join("a/b"),
          id: "t5".into(),
          ..opts
        },
        Box::new(|_| {})
      ),
      Err(e) if e.kind() == ErrorKind::Dir
    ));
    std::fs::remove_dir_all(&d).unwrap();
  }
}
