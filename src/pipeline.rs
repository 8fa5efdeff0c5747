//! Read → analyze → report JSON, timed. Plain Rust: the binding and the capture tee call this.
use crate::analysis::census::Census;
use crate::analysis::compare::{self, CompareOptions};
use crate::analysis::{self, Analysis, AnalyzeOptions};
use crate::error::{Error, ErrorKind};
use crate::progress::{Phase, Progress};
use crate::snapshot::{self, HeapSnapshot};
use crate::spill::SpillPolicy;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// Drops a big value (a snapshot: hundreds of MB to hand back to the kernel) on a thread of its
/// own, so the result reaches JavaScript without waiting on it (the memory is back a few tens of
/// ms later). If no thread can be had, the failed spawn drops the closure, and the value with it,
/// here.
fn drop_later<T: Send + 'static>(v: T) {
  let _ = std::thread::Builder::new()
    .name("leakprobe-free".into())
    .spawn(move || drop(v));
}

fn spill_err(e: std::io::Error) -> Error {
  Error::new(
    ErrorKind::Spill,
    format!("{e} (LEAKPROBE_SPILL=off keeps the whole analysis in memory)"),
  )
}

/// Analyzes a parsed snapshot and serializes the `leakprobe-report/1` JSON. `spill`: read on the
/// JS thread (the binding's `spill_policy`): the environment is not for other threads to read
/// while the host may change it.
pub fn report_json(
  snap: &mut HeapSnapshot,
  parse_ms: f64,
  opts: &AnalyzeOptions,
  spill: &SpillPolicy,
) -> Result<String, Error> {
  let t = Instant::now();
  let mut report = analysis::analyze(snap, opts, spill).map_err(spill_err)?;
  report.timings.parse_ms = parse_ms;
  report.timings.analyze_ms = t.elapsed().as_secs_f64() * 1000.0;
  serde_json::to_string(&report).map_err(|e| Error::internal(format!("cannot serialize the report: {e}")))
}

pub fn analyze_reader<R: Read>(
  input: R,
  opts: &AnalyzeOptions,
  spill: &SpillPolicy,
) -> Result<String, Error> {
  let t = Instant::now();
  let mut snap = snapshot::read_snapshot_auto(input)?;
  let out = report_json(&mut snap, t.elapsed().as_secs_f64() * 1000.0, opts, spill);
  drop_later(snap);
  out
}

/// `progress` gets the bytes read and the phase (`Progress::default()` when nobody watches).
pub fn analyze_path(
  path: &Path,
  opts: &AnalyzeOptions,
  progress: &Progress,
  spill: &SpillPolicy,
) -> Result<String, Error> {
  let t = Instant::now();
  let mut snap = snapshot::read_snapshot_path_with(path, progress, 0)?;
  progress.start(Phase::Analyzing, 0, 0);
  let out = report_json(&mut snap, t.elapsed().as_secs_f64() * 1000.0, opts, spill);
  drop_later(snap);
  progress.start(Phase::Done, 0, 0);
  out
}

pub fn analyze_bytes(buf: &[u8], opts: &AnalyzeOptions, spill: &SpillPolicy) -> Result<String, Error> {
  let t = Instant::now();
  let mut snap = snapshot::read_snapshot_bytes(buf)?;
  let out = report_json(&mut snap, t.elapsed().as_secs_f64() * 1000.0, opts, spill);
  drop_later(snap);
  out
}

/// Compares two or three snapshot files (baseline, target[, final]) into the
/// `leakprobe-compare/1` JSON. The earlier snapshots are reduced to a census as soon as they are
/// read, so only the last one is held in full.
pub fn compare_paths(
  paths: &[&Path],
  opts: &CompareOptions,
  progress: &Progress,
  spill: &SpillPolicy,
) -> Result<String, Error> {
  if !(2..=3).contains(&paths.len()) {
    return Err(Error::new(
      ErrorKind::InvalidArg,
      format!("compare needs 2 or 3 snapshots, got {}", paths.len()),
    ));
  }
  let mut parse_ms = 0.0;
  let mut analyze_ms = 0.0;
  let mut census_of = |p: &Path, item: u8| -> Result<Census, Error> {
    let t = Instant::now();
    let mut snap = snapshot::read_snapshot_path_with(p, progress, item)?;
    progress.start(Phase::Comparing, item, 0);
    let t2 = Instant::now();
    parse_ms += (t2 - t).as_secs_f64() * 1000.0;
    let c = Census::of_snapshot(&mut snap);
    analyze_ms += t2.elapsed().as_secs_f64() * 1000.0;
    Ok(c)
  };
  let base = census_of(paths[0], 0)?;
  let target = if paths.len() == 3 {
    Some(census_of(paths[1], 1)?)
  } else {
    None
  };
  let t = Instant::now();
  let last_item = (paths.len() - 1) as u8;
  let mut last = snapshot::read_snapshot_path_with(paths[paths.len() - 1], progress, last_item)?;
  progress.start(Phase::Analyzing, last_item, 0);
  let t2 = Instant::now();
  parse_ms += (t2 - t).as_secs_f64() * 1000.0;
  let a = Analysis::compute_spilling(&mut last, spill).map_err(spill_err)?;
  progress.start(Phase::Comparing, last_item, 0);
  let mut cmp = compare::compare(&base, target.as_ref(), &last, &a, opts);
  analyze_ms += t2.elapsed().as_secs_f64() * 1000.0;
  cmp.timings.parse_ms = parse_ms;
  cmp.timings.analyze_ms = analyze_ms;
  drop_later((last, a));
  progress.start(Phase::Done, last_item, 0);
  serde_json::to_string(&cmp).map_err(|e| Error::internal(format!("cannot serialize the comparison: {e}")))
}
