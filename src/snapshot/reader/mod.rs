//! The streaming `.heapsnapshot` reader: `snapshot.meta` first, then `nodes`, `edges`, `strings`
//! (and `locations`) laid straight into the columnar arrays of `HeapSnapshot`.
//!
//! In V8's order, as DevTools reads it (nodes before edges and locations, strings last): each
//! array is checked against those before it as it comes, and bounded by them. Nothing grows
//! past what a snapshot of the header's counts holds (gzip bombs: see the caps in each part), and
//! every error names the byte offset of the value concerned (or of the end of the input, for a
//! missing section).
//!
//! This file holds the entry points and the top-level object; each section has a file of its own
//! (`header`, `nodes`, `edges`, `locations`, `strings`), as have the checks that wait for the
//! strings (`validate`) and what the nodes and edges share (`records`).
mod edges;
mod header;
mod locations;
mod nodes;
mod records;
mod strings;
mod validate;

use super::edge_names::{EdgeNames, NameUses};
use super::error::SnapshotError;
use super::model::{compact_counted_edge_names, compact_edge_names, HeapSnapshot};
use super::parallel_array::Kept;
use super::scanner::{Cap, Res, Scanner};
use crate::progress::{CountingReader, Phase, Progress};
use edges::read_edges;
use header::{read_header, Layout};
use locations::read_locations;
use nodes::read_nodes;
use std::io::{Cursor, Read};
use std::path::Path;
use strings::read_strings;
use validate::validate;

// What a snapshot can hold, by what V8 writes. A gzip file of 20 MB can inflate to 20 GB: what
// is past these is refused where it starts, before it is held in memory.
/// A top-level key: V8's are "snapshot", "nodes", …, "trace_function_infos".
const KEY_CAP: Cap = Cap {
  max: 1 << 10,
  why: "V8's top-level keys are short (\"snapshot\", \"nodes\", \"strings\", …); \
        the file is damaged or not a heap snapshot",
};

/// A value leakprobe skips (allocation traces, samples, keys it does not know) may be this long,
/// or as long as everything before it: V8's are smaller than the nodes and edges it writes first.
const SKIP_MIN: u64 = 1 << 30;

pub fn read_snapshot<R: Read>(input: R) -> Result<HeapSnapshot, SnapshotError> {
  read_from(Scanner::new(input, false))
}

/// The most a deflate stream inflates: 258 bytes for each 2-bit match (length 258, distance 1,
/// both codes 1 bit long), 1032 to 1.
const MAX_GZIP_RATIO: u64 = 1032;

/// Plain JSON or gzip (by the magic bytes 1f 8b).
pub fn read_snapshot_auto<R: Read>(input: R) -> Result<HeapSnapshot, SnapshotError> {
  read_snapshot_sized(input, None)
}

/// As `read_snapshot_auto`, for an input of `size` bytes when known: a header's counts are then
/// checked against what that many bytes can hold (plain, or inflated) before anything is
/// reserved for them.
fn read_snapshot_sized<R: Read>(mut input: R, size: Option<u64>) -> Result<HeapSnapshot, SnapshotError> {
  let mut head = [0u8; 2];
  let mut got = 0;
  while got < 2 {
    match input.read(&mut head[got..]) {
      Ok(0) => break,
      Ok(n) => got += n,
      Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
      Err(e) => {
        return Err(SnapshotError::at(
          got as u64,
          format!("cannot read the input: {e}"),
        ))
      }
    }
  }
  if got == 0 {
    return Err(SnapshotError::at(
      0,
      "the input is empty; expected a heap snapshot (JSON or gzip)",
    ));
  }
  let whole = Cursor::new(head[..got].to_vec()).chain(input);
  if got == 2 && head == [0x1f, 0x8b] {
    let bound = size.map(|n| n.saturating_mul(MAX_GZIP_RATIO));
    read_from(Scanner::new(flate2::read::MultiGzDecoder::new(whole), true).with_bound(bound))
  } else {
    read_from(Scanner::new(whole, false).with_bound(size))
  }
}

pub fn read_snapshot_path(path: &Path) -> Result<HeapSnapshot, SnapshotError> {
  read_snapshot_path_with(path, &Progress::default(), 0)
}

/// As `read_snapshot_path`, counting the file's bytes into `progress` (as snapshot `item`).
pub fn read_snapshot_path_with(
  path: &Path,
  progress: &Progress,
  item: u8,
) -> Result<HeapSnapshot, SnapshotError> {
  let f = std::fs::File::open(path)
    .map_err(|e| SnapshotError::general(format!("cannot open {}: {e}", path.display())))?;
  let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
  progress.start(Phase::Reading, item, size.unwrap_or(0));
  read_snapshot_sized(CountingReader::new(f, progress), size).map_err(|mut e| {
    e.message = format!("{} ({})", e.message, path.display());
    e
  })
}

pub fn read_snapshot_bytes(buf: &[u8]) -> Result<HeapSnapshot, SnapshotError> {
  read_snapshot_sized(buf, Some(buf.len() as u64))
}

fn read_from<R: Read>(mut sc: Scanner<R>) -> Result<HeapSnapshot, SnapshotError> {
  let mut snap = HeapSnapshot::default();
  let mut layout: Option<Layout> = None;
  let (mut seen_nodes, mut seen_edges, mut seen_strings, mut seen_locations) = (false, false, false, false);
  // the nodes and edges with the largest string index, named once the strings are in
  let (mut node_names, mut edge_names) = (Kept::default(), Kept::default());
  let mut packing: Option<std::thread::JoinHandle<Option<(Vec<u32>, Vec<u32>, EdgeNames)>>> = None;
  match sc.peek_ws()? {
    None => return sc.err("the input is empty; expected a heap snapshot (JSON)"),
    Some(b'{') => sc.bump(),
    Some(_) => {
      let f = sc.found()?;
      return sc.err(format!(
        "expected '{{' at the start of a heap snapshot, found {f}"
      ));
    }
  }
  if sc.peek_ws()? == Some(b'}') {
    return sc.err("the JSON object is empty; expected \"snapshot\", \"nodes\", \"edges\" and \"strings\"");
  }
  let mut key = String::new();
  // edges read (the column is with the packer while the strings are read)
  let mut edge_total = 0usize;
  loop {
    key.clear();
    let key_at = sc.string_into(&mut key, "(a top-level key)", &KEY_CAP)?;
    sc.expect(b':', &format!("after the key \"{key}\""))?;
    match key.as_str() {
      "snapshot" => {
        // a second one would change the type codes of arrays already read (and being packed)
        if layout.is_some() {
          return sc.err("a second \"snapshot\" header; a snapshot has one");
        }
        layout = Some(read_header(&mut sc, &mut snap)?)
      }
      "nodes" | "edges" | "locations" => {
        let Some(l) = layout.as_ref() else {
          return sc.err(format!(
            "\"{key}\" comes before \"snapshot\"; the snapshot's meta must come first (as V8 writes it)"
          ));
        };
        // V8's order, as DevTools reads it: what follows is checked against the nodes as it is
        // read (and bounded by them)
        if key != "nodes" && !seen_nodes {
          return Err(SnapshotError::at(
            key_at,
            format!(
              "\"{key}\" comes before \"nodes\"; V8 writes the nodes first (and DevTools reads them first)"
            ),
          ));
        }
        let seen = match key.as_str() {
          "nodes" => &mut seen_nodes,
          "edges" => &mut seen_edges,
          _ => &mut seen_locations,
        };
        if std::mem::replace(seen, true) {
          return Err(SnapshotError::at(
            key_at,
            format!("a second \"{key}\" array; a snapshot has one"),
          ));
        }
        match key.as_str() {
          "nodes" => node_names = read_nodes(&mut sc, l, &mut snap)?,
          "edges" => {
            let uses;
            (edge_names, uses) = read_edges(&mut sc, l, &mut snap)?;
            edge_total = snap.edges.len();
            // pack the edge names on another thread while this one reads the strings; the
            // columns go with it and come back (the raw names stay for validation)
            // (the columns are sent once the thread exists: if none can be started they stay
            // here, and are packed at the end instead)
            let (tx, rx) = std::sync::mpsc::channel::<(Vec<String>, Vec<u32>, Vec<u32>, Option<NameUses>)>();
            let packer = move || {
              let (types, edges, raw, uses) = rx.recv().ok()?;
              let names = match uses {
                Some(uses) => compact_counted_edge_names(&types, &edges, &raw, uses),
                None => compact_edge_names(&types, &edges, &raw),
              };
              Some((edges, raw, names))
            };
            if let Ok(h) = std::thread::Builder::new()
              .name("leakprobe-names".into())
              .spawn(packer)
            {
              let _ = tx.send((
                snap.edge_type_names.clone(),
                std::mem::take(&mut snap.edges),
                std::mem::take(&mut snap.raw_edge_names),
                uses,
              ));
              packing = Some(h);
            }
          }
          _ => read_locations(&mut sc, l, &mut snap)?,
        }
      }
      "strings" => {
        if seen_strings {
          return Err(SnapshotError::at(
            key_at,
            "a second \"strings\" array; a snapshot has one",
          ));
        }
        if !(seen_nodes && seen_edges) {
          return Err(SnapshotError::at(
            key_at,
            "\"strings\" comes before \"nodes\" and \"edges\"; V8 writes the strings last \
             (and DevTools reads them last)",
          ));
        }
        let names = (snap.node_count() + edge_total) as u64;
        read_strings(&mut sc, &mut snap.strings, names)?;
        seen_strings = true;
      }
      _ => skip(&mut sc, &format!("in \"{key}\""))?,
    }
    match sc.peek_ws()? {
      Some(b',') => sc.bump(),
      Some(b'}') => {
        sc.bump();
        break;
      }
      _ => {
        let f = sc.found()?;
        return sc.err(format!("expected ',' or '}}' after \"{key}\", found {f}"));
      }
    }
  }
  if let Some(c) = sc.peek_ws()? {
    return sc.err(format!(
      "unexpected data after the end of the snapshot: '{}'",
      c as char
    ));
  }
  for (seen, name) in [
    (layout.is_some(), "snapshot"),
    (seen_nodes, "nodes"),
    (seen_edges, "edges"),
    (seen_strings, "strings"),
  ] {
    if !seen {
      return sc.err(format!(
        "the snapshot has no \"{name}\" (the input ends here); is this a V8 heap snapshot?"
      ));
    }
  }
  let packed = match packing.map(|h| h.join()) {
    None => None,
    Some(Ok(Some((edges, raw, names)))) => {
      (snap.edges, snap.raw_edge_names) = (edges, raw);
      Some(names)
    }
    Some(_) => return sc.err("internal error while packing the edge names (a bug: please report it)"),
  };
  validate(
    &snap,
    layout.as_ref().expect("checked above"),
    &node_names,
    &edge_names,
  )?;
  match packed {
    Some(names) => {
      snap.raw_edge_names = Vec::new();
      snap.set_edge_names(names);
    }
    None => snap.finish_edge_names(),
  }
  Ok(snap)
}

/// Skips a value leakprobe does not read: at most `SKIP_MIN` bytes, or as many as came before it.
fn skip<R: Read>(sc: &mut Scanner<R>, context: &str) -> Res<()> {
  let max = SKIP_MIN.max(sc.offset());
  sc.skip_value(
    context,
    max,
    "V8's sections that leakprobe skips (allocation traces, samples) are smaller than the nodes \
     and edges before them; the file is damaged or not a heap snapshot",
  )
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod throughput {
  /// `LEAKPROBE_SNAPSHOT=path cargo test --release --lib read_throughput -- --ignored --nocapture`
  #[test]
  #[ignore]
  fn read_throughput() {
    let path = std::env::var("LEAKPROBE_SNAPSHOT").expect("set LEAKPROBE_SNAPSHOT");
    let data = std::fs::read(&path).unwrap();
    let t = std::time::Instant::now();
    let s = super::read_snapshot_bytes(&data).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
      "{} nodes, {} edges, {:.0} MB in {:.3}s = {:.0} MB/s",
      s.node_count(),
      s.edge_count(),
      data.len() as f64 / 1e6,
      secs,
      data.len() as f64 / 1e6 / secs
    );
  }
}
