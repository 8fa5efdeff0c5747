//! How far a long task is, shared between the thread doing it and whoever shows it (the CLI's
//! progress line polls it). Atomics only: the worker never waits for the reader.
use std::io::Read;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// The steps of a task, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
  Starting = 0,
  /// reading and parsing a snapshot file; `done`/`total` are bytes of the file
  Reading = 1,
  /// dominators, retained sizes, distances, classes, paths
  Analyzing = 2,
  /// snapshot comparison (census of earlier snapshots, suspects)
  Comparing = 3,
  Done = 4,
}

impl Phase {
  pub fn name(self) -> &'static str {
    match self {
      Phase::Starting => "starting",
      Phase::Reading => "reading",
      Phase::Analyzing => "analyzing",
      Phase::Comparing => "comparing",
      Phase::Done => "done",
    }
  }

  fn from_u8(v: u8) -> Phase {
    match v {
      1 => Phase::Reading,
      2 => Phase::Analyzing,
      3 => Phase::Comparing,
      4 => Phase::Done,
      _ => Phase::Starting,
    }
  }
}

#[derive(Default, Debug)]
pub struct Progress {
  phase: AtomicU8,
  /// which snapshot of a comparison (0-based)
  item: AtomicU8,
  done: AtomicU64,
  total: AtomicU64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgressState {
  pub phase: Phase,
  pub item: u8,
  pub done: u64,
  pub total: u64,
}

impl Progress {
  pub fn start(&self, phase: Phase, item: u8, total: u64) {
    self.done.store(0, Ordering::Relaxed);
    self.total.store(total, Ordering::Relaxed);
    self.item.store(item, Ordering::Relaxed);
    self.phase.store(phase as u8, Ordering::Release);
  }

  pub fn advance(&self, n: u64) {
    self.done.fetch_add(n, Ordering::Relaxed);
  }

  pub fn state(&self) -> ProgressState {
    ProgressState {
      phase: Phase::from_u8(self.phase.load(Ordering::Acquire)),
      item: self.item.load(Ordering::Relaxed),
      done: self.done.load(Ordering::Relaxed),
      total: self.total.load(Ordering::Relaxed),
    }
  }
}

/// A reader that counts the bytes it hands out into a `Progress`.
pub struct CountingReader<'p, R> {
  inner: R,
  progress: &'p Progress,
}

impl<'p, R: Read> CountingReader<'p, R> {
  pub fn new(inner: R, progress: &'p Progress) -> Self {
    CountingReader { inner, progress }
  }
}

impl<R: Read> Read for CountingReader<'_, R> {
  fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
    let n = self.inner.read(buf)?;
    self.progress.advance(n as u64);
    Ok(n)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn counts_bytes_read_and_reports_phases() {
    let p = Progress::default();
    assert_eq!(p.state().phase, Phase::Starting);
    p.start(Phase::Reading, 1, 10);
    let mut r = CountingReader::new(&b"0123456789"[..], &p);
    let mut buf = [0u8; 4];
    r.read_exact(&mut buf).unwrap();
    assert_eq!(
      p.state(),
      ProgressState {
        phase: Phase::Reading,
        item: 1,
        done: 4,
        total: 10
      }
    );
    std::io::copy(&mut r, &mut std::io::sink()).unwrap();
    assert_eq!(p.state().done, 10);
    p.start(Phase::Analyzing, 1, 0);
    assert_eq!(
      p.state(),
      ProgressState {
        phase: Phase::Analyzing,
        item: 1,
        done: 0,
        total: 0
      }
    );
  }
}
