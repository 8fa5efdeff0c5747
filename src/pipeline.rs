//! Read → analyze → report JSON, timed. Plain Rust: the binding and the capture tee call this.
use crate::analysis::{self, AnalyzeOptions};
use crate::snapshot::{self, HeapSnapshot, SnapshotError};
use std::io::Read;
use std::path::Path;
use std::time::Instant;

pub const ERR_SNAPSHOT: &str = "ERR_LEAKPROBE_SNAPSHOT";

fn snapshot_err(e: SnapshotError) -> (&'static str, String) {
  (ERR_SNAPSHOT, e.to_string())
}

/// Analyzes a parsed snapshot and serializes the `leakprobe-report/1` JSON.
pub fn report_json(snap: &mut HeapSnapshot, parse_ms: f64, opts: &AnalyzeOptions) -> Result<String, (&'static str, String)> {
  let t = Instant::now();
  let mut report = analysis::analyze(snap, opts);
  report.timings.parse_ms = parse_ms;
  report.timings.analyze_ms = t.elapsed().as_secs_f64() * 1000.0;
  serde_json::to_string(&report).map_err(|e| ("ERR_LEAKPROBE_INTERNAL", format!("cannot serialize the report: {e}")))
}

pub fn analyze_reader<R: Read>(input: R, opts: &AnalyzeOptions) -> Result<String, (&'static str, String)> {
  let t = Instant::now();
  let mut snap = snapshot::read_snapshot_auto(input).map_err(snapshot_err)?;
  report_json(&mut snap, t.elapsed().as_secs_f64() * 1000.0, opts)
}

pub fn analyze_path(path: &Path, opts: &AnalyzeOptions) -> Result<String, (&'static str, String)> {
  let t = Instant::now();
  let mut snap = snapshot::read_snapshot_path(path).map_err(snapshot_err)?;
  report_json(&mut snap, t.elapsed().as_secs_f64() * 1000.0, opts)
}

pub fn analyze_bytes(buf: &[u8], opts: &AnalyzeOptions) -> Result<String, (&'static str, String)> {
  let t = Instant::now();
  let mut snap = snapshot::read_snapshot_bytes(buf).map_err(snapshot_err)?;
  report_json(&mut snap, t.elapsed().as_secs_f64() * 1000.0, opts)
}
