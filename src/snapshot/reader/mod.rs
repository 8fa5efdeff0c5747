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

/// The edge columns and names as the packer thread gives them back: `edges`, `raw_edge_names`,
/// and the names packed.
type Packed = (Vec<u32>, Vec<u32>, EdgeNames);

/// The top-level object as far as it is read: the snapshot, its layout once the header is in,
/// which sections came, and what waits for the strings.
#[derive(Default)]
struct Sections {
  snap: HeapSnapshot,
  layout: Option<Layout>,
  seen_nodes: bool,
  seen_edges: bool,
  seen_strings: bool,
  seen_locations: bool,
  // the nodes and edges with the largest string index, named once the strings are in
  node_names: Kept,
  edge_names: Kept,
  /// edges read (the column is with the packer while the strings are read)
  edge_total: usize,
  packing: Option<std::thread::JoinHandle<Option<Packed>>>,
}

fn read_from<R: Read>(mut sc: Scanner<R>) -> Result<HeapSnapshot, SnapshotError> {
  open_object(&mut sc)?;
  let mut sections = Sections::default();
  let mut key = String::new();
  loop {
    key.clear();
    let key_at = sc.string_into(&mut key, "(a top-level key)", &KEY_CAP)?;
    sc.expect(b':', &format!("after the key \"{key}\""))?;
    sections.read(&mut sc, &key, key_at)?;
    if !another_key(&mut sc, &key)? {
      break;
    }
  }
  sections.finish(&mut sc)
}

/// The top-level object's '{', with something in it.
fn open_object<R: Read>(sc: &mut Scanner<R>) -> Res<()> {
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
  Ok(())
}

/// After the value of `key`: whether another key follows (',') or the object ends ('}').
fn another_key<R: Read>(sc: &mut Scanner<R>, key: &str) -> Res<bool> {
  match sc.peek_ws()? {
    Some(b',') => {
      sc.bump();
      Ok(true)
    }
    Some(b'}') => {
      sc.bump();
      Ok(false)
    }
    _ => {
      let f = sc.found()?;
      sc.err(format!("expected ',' or '}}' after \"{key}\", found {f}"))
    }
  }
}

impl Sections {
  /// The value of `key` (at offset `key_at`).
  fn read<R: Read>(&mut self, sc: &mut Scanner<R>, key: &str, key_at: u64) -> Res<()> {
    match key {
      "snapshot" => {
        // a second one would change the type codes of arrays already read (and being packed)
        if self.layout.is_some() {
          return sc.err("a second \"snapshot\" header; a snapshot has one");
        }
        self.layout = Some(read_header(sc, &mut self.snap)?)
      }
      "nodes" | "edges" | "locations" => self.read_array(sc, key, key_at)?,
      "strings" => self.read_strings(sc, key_at)?,
      _ => skip(sc, &format!("in \"{key}\""))?,
    }
    Ok(())
  }

  /// "nodes", "edges" or "locations": after the header, and in V8's order.
  fn read_array<R: Read>(&mut self, sc: &mut Scanner<R>, key: &str, key_at: u64) -> Res<()> {
    if self.layout.is_none() {
      return sc.err(format!(
        "\"{key}\" comes before \"snapshot\"; the snapshot's meta must come first (as V8 writes it)"
      ));
    }
    self.mark_array(key, key_at)?;
    let l = self.layout.as_ref().expect("checked above");
    match key {
      "nodes" => self.node_names = read_nodes(sc, l, &mut self.snap)?,
      "edges" => {
        let uses;
        (self.edge_names, uses) = read_edges(sc, l, &mut self.snap)?;
        self.edge_total = self.snap.edges.len();
        self.packing = start_packing(&mut self.snap, uses);
      }
      _ => read_locations(sc, l, &mut self.snap)?,
    }
    Ok(())
  }

  /// Marks array `key` read: the nodes first (what follows is checked against them as it is
  /// read, and bounded by them: V8's order, as DevTools reads it), and each once.
  fn mark_array(&mut self, key: &str, key_at: u64) -> Res<()> {
    if key != "nodes" && !self.seen_nodes {
      return Err(SnapshotError::at(
        key_at,
        format!(
          "\"{key}\" comes before \"nodes\"; V8 writes the nodes first (and DevTools reads them first)"
        ),
      ));
    }
    let seen = match key {
      "nodes" => &mut self.seen_nodes,
      "edges" => &mut self.seen_edges,
      _ => &mut self.seen_locations,
    };
    if std::mem::replace(seen, true) {
      return Err(SnapshotError::at(
        key_at,
        format!("a second \"{key}\" array; a snapshot has one"),
      ));
    }
    Ok(())
  }

  /// "strings": last, and once.
  fn read_strings<R: Read>(&mut self, sc: &mut Scanner<R>, key_at: u64) -> Res<()> {
    if self.seen_strings {
      return Err(SnapshotError::at(
        key_at,
        "a second \"strings\" array; a snapshot has one",
      ));
    }
    if !(self.seen_nodes && self.seen_edges) {
      return Err(SnapshotError::at(
        key_at,
        "\"strings\" comes before \"nodes\" and \"edges\"; V8 writes the strings last \
         (and DevTools reads them last)",
      ));
    }
    let names = (self.snap.node_count() + self.edge_total) as u64;
    read_strings(sc, &mut self.snap.strings, names)?;
    self.seen_strings = true;
    Ok(())
  }

  /// Once the object is closed: nothing after it, every section there, the names checked
  /// against the strings and packed.
  fn finish<R: Read>(self, sc: &mut Scanner<R>) -> Result<HeapSnapshot, SnapshotError> {
    if let Some(c) = sc.peek_ws()? {
      return sc.err(format!(
        "unexpected data after the end of the snapshot: '{}'",
        c as char
      ));
    }
    for (seen, name) in [
      (self.layout.is_some(), "snapshot"),
      (self.seen_nodes, "nodes"),
      (self.seen_edges, "edges"),
      (self.seen_strings, "strings"),
    ] {
      if !seen {
        return sc.err(format!(
          "the snapshot has no \"{name}\" (the input ends here); is this a V8 heap snapshot?"
        ));
      }
    }
    let mut snap = self.snap;
    let packed = match self.packing.map(|h| h.join()) {
      None => None,
      Some(Ok(Some((edges, raw, names)))) => {
        (snap.edges, snap.raw_edge_names) = (edges, raw);
        Some(names)
      }
      Some(_) => return Err(SnapshotError::internal(sc.offset(), "edge names not packed")),
    };
    let layout = self.layout.as_ref().expect("checked above");
    validate(&snap, layout, &self.node_names, &self.edge_names)?;
    match packed {
      Some(names) => {
        snap.raw_edge_names = Vec::new();
        snap.set_edge_names(names);
      }
      None => snap.finish_edge_names(),
    }
    Ok(snap)
  }
}

/// Packs the edge names on another thread while this one reads the strings; the columns go with
/// it and come back (the raw names stay for validation). They are sent once the thread exists:
/// if none can be started they stay here, and are packed at the end instead (None).
fn start_packing(
  snap: &mut HeapSnapshot,
  uses: Option<NameUses>,
) -> Option<std::thread::JoinHandle<Option<Packed>>> {
  let (tx, rx) = std::sync::mpsc::channel::<(Vec<String>, Vec<u32>, Vec<u32>, Option<NameUses>)>();
  let packer = move || {
    let (types, edges, raw, uses) = rx.recv().ok()?;
    let names = match uses {
      Some(uses) => compact_counted_edge_names(&types, &edges, &raw, uses),
      None => compact_edge_names(&types, &edges, &raw),
    };
    Some((edges, raw, names))
  };
  let h = std::thread::Builder::new()
    .name("leakprobe-names".into())
    .spawn(packer)
    .ok()?;
  let _ = tx.send((
    snap.edge_type_names.clone(),
    std::mem::take(&mut snap.edges),
    std::mem::take(&mut snap.raw_edge_names),
    uses,
  ));
  Some(h)
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
