//! The streaming `.heapsnapshot` reader: `snapshot.meta` first, then `nodes`, `edges`, `strings`
//! (and `locations`) laid straight into the columnar arrays of `HeapSnapshot`.
//!
//! In V8's order, as DevTools reads it (nodes before edges and locations, strings last): each
//! array is checked against those before it as it comes, and bounded by them. Nothing grows
//! past what a snapshot of the header's counts holds (gzip bombs: see the caps below), and every
//! error names the byte offset of the value concerned (or of the end of the input, for a
//! missing section).
use super::edge_names::EdgeNames;
use super::edge_names::NameUses;
use super::error::SnapshotError;
use super::model::{
  compact_counted_edge_names, compact_edge_names, index_edge_types, pack_edge, HeapSnapshot, Location,
  StringTable, MAX_EDGE_TYPES, MAX_NODES,
};
use super::parallel_array::{read_uint_columns, Columns, Kept};
use super::scanner::{Cap, Res, Scanner};
use super::sizes::Sizes;
use crate::progress::{CountingReader, Phase, Progress};
use foldhash::{HashMap, HashMapExt};
use serde::Deserialize;
use std::io::{Cursor, Read};
use std::path::Path;

#[derive(Deserialize)]
struct Header {
  meta: Meta,
  node_count: Option<u64>,
  edge_count: Option<u64>,
  extra_native_bytes: Option<f64>,
}

#[derive(Deserialize)]
struct Meta {
  node_fields: Vec<String>,
  node_types: Vec<serde_json::Value>,
  edge_fields: Vec<String>,
  edge_types: Vec<serde_json::Value>,
  #[serde(default)]
  location_fields: Vec<String>,
}

/// What a position in a node or edge record holds.
#[derive(Clone, Copy, PartialEq)]
enum Role {
  Type,
  Name,
  Id,
  SelfSize,
  EdgeCount,
  Detachedness,
  ToNode,
  Skip,
}

/// A header's count is a hint, not a promise: never pre-allocate more than this many records.
const MAX_PREALLOC: u64 = 1 << 24;

// What a snapshot can hold, by what V8 writes. A gzip file of 20 MB can inflate to 20 GB: what
// is past these is refused where it starts, before it is held in memory.

/// A string in "strings": V8 cuts the names it stores at `--heap-snapshot-string-limit` UTF-16
/// units, 1024 by default (`StringsStorage::GetName`, `GetSymbol`): at most 3 KiB of UTF-8.
/// 1 MiB leaves room for the flag raised some 300-fold.
const STRING_CAP: Cap = Cap {
  max: 1 << 20,
  why: "V8 cuts the names in a snapshot at 1024 characters (--heap-snapshot-string-limit); \
        the file is damaged or not a heap snapshot",
};
/// A top-level key: V8's are "snapshot", "nodes", …, "trace_function_infos".
const KEY_CAP: Cap = Cap {
  max: 1 << 10,
  why: "V8's top-level keys are short (\"snapshot\", \"nodes\", \"strings\", …); \
        the file is damaged or not a heap snapshot",
};
/// The "snapshot" header: V8's (meta and counts) is about 1 KB.
const HEADER_MAX: u64 = 1 << 20;
/// A value leakprobe skips (allocation traces, samples, keys it does not know) may be this long,
/// or as long as everything before it: V8's are smaller than the nodes and edges it writes first.
const SKIP_MIN: u64 = 1 << 30;
/// The strings: V8 writes the names its nodes, edges and traced functions use, each once. At
/// most one per node and edge, and this many more (2 per traced function); of at most
/// `STRING_BYTES_PER_NAME` bytes each on average, and `STRING_BYTES_FLOOR` in all whatever the
/// counts (the default cut: at most 3 KiB each, and a little more with a prefix: "<symbol …>").
const STRINGS_SLACK: u64 = 1 << 20;
const STRING_BYTES_PER_NAME: u64 = 4 << 10;
const STRING_BYTES_FLOOR: u64 = 64 << 20;

/// `meta.{what}` (at offset `at`): its first element, the list of type names.
fn type_names(v: &[serde_json::Value], what: &str, at: u64) -> Res<Vec<String>> {
  let list = v.first().and_then(|t| t.as_array()).ok_or_else(|| {
    SnapshotError::at(
      at,
      format!("snapshot.meta.{what}[0] must be the list of type names"),
    )
  })?;
  let names: Vec<String> = list
    .iter()
    .filter_map(|s| s.as_str().map(str::to_owned))
    .collect();
  if names.len() != list.len() || names.len() > 256 {
    return Err(SnapshotError::at(
      at,
      format!("snapshot.meta.{what}[0] must hold at most 256 type names, all strings"),
    ));
  }
  Ok(names)
}

/// What each of `meta.{what}` (at offset `at`) holds; all of `wanted` must be there.
fn roles(fields: &[String], wanted: &[(&str, Role)], what: &str, at: u64) -> Res<Vec<Role>> {
  for (name, _) in wanted.iter().filter(|(n, _)| *n != "detachedness") {
    if !fields.iter().any(|f| f == name) {
      return Err(SnapshotError::at(
        at,
        format!("snapshot.meta.{what} has no \"{name}\" field"),
      ));
    }
  }
  Ok(
    fields
      .iter()
      .map(|f| {
        wanted
          .iter()
          .find(|(n, _)| n == f)
          .map(|(_, r)| *r)
          .unwrap_or(Role::Skip)
      })
      .collect(),
  )
}

/// The header's counts, before anything is reserved for them: within what leakprobe reads, and
/// within what the rest of the input can hold when its size is known (`bound`: at most this
/// many bytes in all, inflated from `gzip`; `end`: the header's end): a record takes at least two
/// bytes a field (a digit and a comma). A file cut short is refused here, before its records.
fn check_counts(
  h: &Header,
  end: u64,
  (bound, gzip): (Option<u64>, bool),
  value_at: &dyn Fn(&[&str]) -> u64,
) -> Res<()> {
  let count_err = |key: &str, m: String| Err(SnapshotError::at(value_at(&[key]), m));
  let nodes = h.node_count.unwrap_or(0);
  let edges = h.edge_count.unwrap_or(0);
  if nodes > MAX_NODES as u64 {
    return count_err(
      "node_count",
      format!("snapshot.node_count is {nodes}: leakprobe reads up to 2^28 nodes (268 M objects)"),
    );
  }
  if edges > u32::MAX as u64 {
    return count_err(
      "edge_count",
      format!("snapshot.edge_count is {edges}: leakprobe reads up to 2^32 edges"),
    );
  }
  let Some(bound) = bound else {
    return Ok(());
  };
  let left = bound.saturating_sub(end);
  let node_bytes = nodes * 2 * h.meta.node_fields.len() as u64;
  let edge_bytes = edges * 2 * h.meta.edge_fields.len() as u64;
  let most = if gzip {
    "a gzip file inflates 1032-fold at most"
  } else {
    "the input's size"
  };
  let too_many = |says: String, need: u64| {
    format!(
      "{says}, which take at least {need} bytes, but at most {left} follow the header ({most}): \
       the input is cut short, or the header does not belong to it"
    )
  };
  if node_bytes > left {
    return count_err(
      "node_count",
      too_many(format!("snapshot.node_count says {nodes} nodes"), node_bytes),
    );
  }
  if node_bytes + edge_bytes > left {
    return count_err(
      "edge_count",
      too_many(
        format!("snapshot.edge_count says {edges} edges (and node_count {nodes} nodes)"),
        node_bytes + edge_bytes,
      ),
    );
  }
  Ok(())
}

/// Where the value at `path` (keys of nested objects) starts in `json`, valid JSON (the header,
/// as serde read it); None if it is not there.
fn value_offset(json: &[u8], path: &[&str]) -> Option<usize> {
  let is_ws = |b: u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
  // open containers; whether the next string is a key; how many keys of `path` were found
  let (mut open, mut key_next, mut found) = (Vec::new(), false, 0);
  let mut i = 0;
  while i < json.len() {
    match json[i] {
      c @ (b'{' | b'[') => {
        open.push(c);
        key_next = c == b'{';
      }
      b'}' | b']' => {
        open.pop();
        if open.len() <= found && found > 0 {
          return None; // the object that should hold the next key ended
        }
        key_next = false;
      }
      b',' => key_next = open.last() == Some(&b'{'),
      b'"' => {
        let start = i + 1;
        i = start;
        while i < json.len() && json[i] != b'"' {
          i += 1 + (json[i] == b'\\') as usize;
        }
        if key_next && open.len() == found + 1 && json.get(start..i) == Some(path[found].as_bytes()) {
          found += 1;
          i += 1;
          while i < json.len() && (is_ws(json[i]) || json[i] == b':') {
            i += 1;
          }
          if found == path.len() {
            return Some(i);
          }
          key_next = false;
          continue;
        }
        key_next = false;
      }
      _ => {}
    }
    i += 1;
  }
  None
}

struct Layout {
  node_roles: Vec<Role>,
  edge_roles: Vec<Role>,
  location_fields: Vec<String>,
  node_count: Option<u64>,
  edge_count: Option<u64>,
}

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
    Some(_) => return Err(SnapshotError::internal(sc.offset(), "edge names not packed")),
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

fn read_header<R: Read>(sc: &mut Scanner<R>, snap: &mut HeapSnapshot) -> Res<Layout> {
  sc.peek_ws()?;
  let at = sc.offset();
  let mut bytes = Vec::new();
  sc.copy_value(
    Some(&mut bytes),
    "in \"snapshot\"",
    HEADER_MAX,
    "V8's header (meta and counts) is about 1 KB; the file is damaged or not a heap snapshot",
  )?;
  let h: Header = serde_json::from_slice(&bytes)
    .map_err(|e| SnapshotError::at(at, format!("\"snapshot\" is not a valid header: {e}")))?;
  // where a value of the header is, for messages
  let value_at = |path: &[&str]| at + value_offset(&bytes, path).unwrap_or(0) as u64;
  check_counts(&h, sc.offset(), sc.input_bound(), &value_at)?;
  let meta_at = |key: &str| value_at(&["meta", key]);
  snap.node_type_names = type_names(&h.meta.node_types, "node_types", meta_at("node_types"))?;
  snap.edge_type_names = type_names(&h.meta.edge_types, "edge_types", meta_at("edge_types"))?;
  let types = snap.edge_type_names.len();
  if types > MAX_EDGE_TYPES {
    return Err(SnapshotError::at(
      meta_at("edge_types"),
      format!("meta.edge_types lists {types} edge types; leakprobe reads up to {MAX_EDGE_TYPES}"),
    ));
  }
  snap.extra_native_bytes = h
    .extra_native_bytes
    .filter(|v| v.is_finite() && *v > 0.0)
    .map(|v| v as u64)
    .unwrap_or(0);
  let node_roles = roles(
    &h.meta.node_fields,
    &[
      ("type", Role::Type),
      ("name", Role::Name),
      ("id", Role::Id),
      ("self_size", Role::SelfSize),
      ("edge_count", Role::EdgeCount),
      ("detachedness", Role::Detachedness),
    ],
    "node_fields",
    meta_at("node_fields"),
  )?;
  let edge_roles = roles(
    &h.meta.edge_fields,
    &[
      ("type", Role::Type),
      ("name_or_index", Role::Name),
      ("to_node", Role::ToNode),
    ],
    "edge_fields",
    meta_at("edge_fields"),
  )?;
  Ok(Layout {
    node_roles,
    edge_roles,
    location_fields: h.meta.location_fields,
    node_count: h.node_count,
    edge_count: h.edge_count,
  })
}

/// A column the parser threads fill in place: each chunk's records go straight to their own
/// slots (no per-chunk copy for the reading thread to append, which was most of its work), and
/// the column's length is set once every slot is written.
struct Slots<T> {
  ptr: *mut T,
  cap: usize,
}

// SAFETY: the threads write disjoint slots (each record's own), and nothing reads the column or
// moves its buffer until they are done (`fill`)
unsafe impl<T: Send> Send for Slots<T> {}
unsafe impl<T: Send> Sync for Slots<T> {}

impl<T> Slots<T> {
  /// Room for `n` records in `v` (emptied first).
  fn of(v: &mut Vec<T>, n: usize) -> Slots<T> {
    v.clear();
    v.reserve_exact(n);
    Slots {
      ptr: v.as_mut_ptr(),
      cap: n,
    }
  }
  /// Writes slot `i` (< `cap`: the caller checks).
  #[inline]
  fn put(&self, i: usize, x: T) {
    debug_assert!(i < self.cap);
    // SAFETY: in bounds (checked by the caller against `cap`, which `of` reserved), and written
    // by one thread only (see the Sync impl)
    unsafe { self.ptr.add(i).write(x) }
  }
}

/// Sets `v`'s length to the `n` records the parser threads wrote through `Slots::of(v, cap)`.
///
/// # Safety
/// Slots `0..n` (n <= cap) must all have been written, and `v` untouched since `Slots::of`.
unsafe fn fill<T>(v: &mut Vec<T>, n: usize) {
  v.set_len(n);
}

/// Whether a header's count lets the parser threads write in place: a count is only a hint, so
/// never more than `MAX_PREALLOC` (times `per_node` records per node) up front; past that, or
/// without one, the reading thread appends as the chunks come in.
fn in_place(count: Option<u64>, per_node: u64) -> Option<usize> {
  count
    .filter(|&n| n <= MAX_PREALLOC * per_node && n <= u32::MAX as u64)
    .map(|n| n as usize)
}

/// How many records an array may hold, and what says so (for the message when it holds more):
/// its count in the header, or what the reader can hold, or the nodes' edge counts. Records past
/// it are refused as they come, before their columns grow.
struct Bound {
  max: usize,
  /// "snapshot.node_count says 5 nodes", …
  says: String,
}

impl Bound {
  /// The header's `count` of `what`s ("node", "edge"), or else `max`, whichever is smaller.
  fn of(what: &str, count: Option<u64>, max: usize, says_max: &str) -> Bound {
    match count {
      Some(n) if n <= max as u64 => Bound {
        max: n as usize,
        says: format!("snapshot.{what}_count says {n} {what}s"),
      },
      _ => Bound {
        max,
        says: says_max.into(),
      },
    }
  }

  /// Converts the records of a chunk under the bound (`what`: "node", "edge"), then refuses the
  /// first one past it: those before it are checked first.
  #[allow(clippy::too_many_arguments)]
  fn within<C>(
    &self,
    what: &str,
    width: usize,
    vals: &[u64],
    first: u64,
    at: &dyn Fn(usize) -> u64,
    c: &mut C,
    convert: impl FnOnce(&[u64], &mut C) -> Res<()>,
  ) -> Res<()> {
    let fit = self
      .max
      .saturating_sub(first as usize)
      .saturating_mul(width)
      .min(vals.len());
    convert(&vals[..fit], c)?;
    if fit < vals.len() {
      return Err(SnapshotError::at(
        at(fit),
        format!("{} but the \"{what}s\" array holds more", self.says),
      ));
    }
    Ok(())
  }
}

/// The node fields of whole records, as the workers convert them.
#[derive(Default)]
struct NodeCols {
  /// the largest name among these nodes (checked against the string table once it is read)
  largest_name: u32,
  /// their edge counts, summed
  edge_sum: u64,
  /// sizes of 4 GiB and more: `(node, size)`, their slot holding the marker
  big_sizes: Vec<(u32, u64)>,
  // the columns, when the reading thread appends them (no count in the header)
  t: Vec<u8>,
  name: Vec<u32>,
  id: Vec<u32>,
  size: Vec<u64>,
  edges: Vec<u32>,
  det: Vec<u8>,
}

impl Columns for NodeCols {
  fn clear(&mut self) {
    (
      self.t.clear(),
      self.name.clear(),
      self.id.clear(),
      self.size.clear(),
      self.edges.clear(),
      self.det.clear(),
    );
    self.largest_name = 0;
    self.edge_sum = 0;
    self.big_sizes.clear();
  }
  fn key(&self) -> u64 {
    self.largest_name as u64 + 1
  }
}

/// The node columns' slots (`edges` holds each node's edge count at its node + 1, summed into
/// `first_edge` at the end).
struct NodeSlots {
  t: Slots<u8>,
  name: Slots<u32>,
  id: Slots<u32>,
  size: Slots<u32>,
  edges: Slots<u32>,
  det: Option<Slots<u8>>,
}

/// Returns the nodes with the largest string index they name (`validate` checks it once the
/// strings are in).
fn read_nodes<R: Read>(sc: &mut Scanner<R>, l: &Layout, s: &mut HeapSnapshot) -> Res<Kept> {
  let types = s.node_type_names.len() as u64;
  let roles = &l.node_roles;
  let width = roles.len();
  let at_of = |role: Role| roles.iter().position(|r| *r == role);
  let (ti, ni_, ii, si, ei) = (
    at_of(Role::Type).unwrap_or(0),
    at_of(Role::Name).unwrap_or(0),
    at_of(Role::Id).unwrap_or(0),
    at_of(Role::SelfSize).unwrap_or(0),
    at_of(Role::EdgeCount).unwrap_or(0),
  );
  let di = at_of(Role::Detachedness);
  let too_many_edges = "edge count does not fit in 32 bits";
  let declared = in_place(l.node_count, 1).filter(|&n| n <= MAX_NODES);
  let bound = Bound::of(
    "node",
    l.node_count,
    MAX_NODES,
    "leakprobe reads up to 2^28 nodes (268 M objects)",
  );
  let bound = &bound;
  let mut sizes_small: Vec<u32> = Vec::new();
  let slots = declared.map(|n| NodeSlots {
    t: Slots::of(&mut s.node_type, n),
    name: Slots::of(&mut s.node_name, n),
    id: Slots::of(&mut s.node_id, n),
    size: Slots::of(&mut sizes_small, n),
    edges: Slots::of(&mut s.first_edge, n + 1),
    det: di.map(|_| Slots::of(&mut s.node_detachedness, n)),
  });
  match &slots {
    Some(sl) => sl.edges.put(0, 0), // the first node's edges start at 0
    None => {
      let n = l.node_count.unwrap_or(0).min(MAX_PREALLOC) as usize;
      s.node_type.reserve(n);
      s.node_name.reserve(n);
      s.node_id.reserve(n);
      s.node_self_size.reserve(n);
      s.first_edge.reserve(n + 1);
      s.first_edge.clear();
      s.first_edge.push(0);
    }
  }
  let slots = &slots;
  let convert_nodes =
    move |vals: &[u64], at: &dyn Fn(usize) -> u64, first: u64, c: &mut NodeCols| -> Res<()> {
      for (r, rec) in vals.chunks_exact(width).enumerate() {
        let bad = |i: usize, what: String| Err(SnapshotError::at(at(r * width + i), what));
        let (t, name, id) = (rec[ti], rec[ni_], rec[ii]);
        if t >= types {
          return bad(
            ti,
            format!("node type {t} is not in meta.node_types ({types} types)"),
          );
        }
        if name > u32::MAX as u64 || id > u32::MAX as u64 {
          return bad(
            if name > u32::MAX as u64 { ni_ } else { ii },
            "node field value does not fit in 32 bits".into(),
          );
        }
        if rec[ei] > u32::MAX as u64 {
          return bad(ei, too_many_edges.into());
        }
        c.largest_name = c.largest_name.max(name as u32);
        c.edge_sum += rec[ei];
        let Some(sl) = slots else {
          c.t.push(t as u8);
          c.name.push(name as u32);
          c.id.push(id as u32);
          c.size.push(rec[si]);
          c.edges.push(rec[ei] as u32);
          if let Some(di) = di {
            c.det.push(rec[di].min(255) as u8);
          }
          continue;
        };
        let v = first as usize + r;
        sl.t.put(v, t as u8);
        sl.name.put(v, name as u32);
        sl.id.put(v, id as u32);
        if rec[si] >= Sizes::BIG as u64 {
          sl.size.put(v, Sizes::BIG);
          c.big_sizes.push((v as u32, rec[si]));
        } else {
          sl.size.put(v, rec[si] as u32);
        }
        sl.edges.put(v + 1, rec[ei] as u32);
        if let (Some(d), Some(di)) = (&sl.det, di) {
          d.put(v, rec[di].min(255) as u8);
        }
      }
      Ok(())
    };
  let convert = move |vals: &[u64], at: &dyn Fn(usize) -> u64, first: u64, c: &mut NodeCols| -> Res<()> {
    bound.within("node", width, vals, first, at, c, |vals, c| {
      convert_nodes(vals, at, first, c)
    })
  };
  let mut edges_so_far: u64 = 0;
  let mut big_sizes: Vec<(u32, u64)> = Vec::new();
  sc.peek_ws()?;
  let array_at = sc.offset();
  let append = |c: &NodeCols, vals: &[u64], at: &dyn Fn(usize) -> u64| {
    // the edges start at a 32-bit index: the edge counts must add up to 2^32 at most
    if edges_so_far + c.edge_sum > u32::MAX as u64 {
      let mut sum = edges_so_far;
      for (r, rec) in vals.chunks_exact(width).enumerate() {
        sum += rec[ei];
        if sum > u32::MAX as u64 {
          return Err(SnapshotError::at(
            at(r * width + ei),
            "the nodes' edge counts add up to more than 2^32 edges: more than leakprobe reads",
          ));
        }
      }
    }
    edges_so_far += c.edge_sum;
    if slots.is_some() {
      big_sizes.extend_from_slice(&c.big_sizes);
      return Ok(());
    }
    let mut sum = *s.first_edge.last().unwrap_or(&0);
    s.first_edge.extend(c.edges.iter().map(|&k| {
      sum += k; // within 2^32: checked above
      sum
    }));
    s.node_type.extend_from_slice(&c.t);
    s.node_name.extend_from_slice(&c.name);
    s.node_id.extend_from_slice(&c.id);
    s.node_self_size.extend_from_slice(&c.size);
    s.node_detachedness.extend_from_slice(&c.det);
    Ok(())
  };
  let (records, tail, names) = read_uint_columns(sc, "in \"nodes\"", width, &convert, append)?;
  if slots.is_some() {
    let n = records as usize;
    // SAFETY: read_uint_columns converted records 0..n, each writing all of its slots (the
    // converter refuses records past the reserved count), and the columns were left alone
    unsafe {
      fill(&mut s.node_type, n);
      fill(&mut s.node_name, n);
      fill(&mut s.node_id, n);
      fill(&mut sizes_small, n);
      fill(&mut s.first_edge, n + 1); // slot 0 too: written above
      if di.is_some() {
        fill(&mut s.node_detachedness, n);
      }
    }
    s.node_self_size = Sizes::from_parts(sizes_small, big_sizes);
    // the edge counts, summed in place into where each node's edges start (within 2^32:
    // checked as the records came)
    let mut sum = 0u32;
    for slot in s.first_edge.iter_mut().skip(1) {
      sum += *slot;
      *slot = sum;
    }
  }
  if tail != 0 {
    return sc.err(format!(
      "the \"nodes\" array ends mid-record: its length is not a multiple of {width} node fields"
    ));
  }
  // at the array's closing ']'
  let end = sc.offset() - 1;
  if records == 0 {
    return Err(SnapshotError::at(
      array_at,
      "the \"nodes\" array is empty; a snapshot has at least the root",
    ));
  }
  if let Some(n) = l.node_count.filter(|&n| n != records) {
    return Err(SnapshotError::at(
      end,
      format!("snapshot.node_count says {n} nodes but the \"nodes\" array holds {records}"),
    ));
  }
  if di.is_none() {
    s.node_detachedness.clear();
  }
  Ok(names)
}

/// The edge fields of whole records, as the workers convert them.
#[derive(Default)]
struct EdgeCols {
  /// target | type (`model::pack_edge`), when the reading thread appends them
  to_type: Vec<u32>,
  name: Vec<u32>,
  /// the largest string index among these edges' names (checked against the string table
  /// once it is read), if any of them names a string
  largest_string: u32,
  named: bool,
}

impl Columns for EdgeCols {
  fn clear(&mut self) {
    (self.to_type.clear(), self.name.clear());
    self.largest_string = 0;
    self.named = false;
  }
  fn key(&self) -> u64 {
    if self.named {
      self.largest_string as u64 + 1
    } else {
      0
    }
  }
}

/// The edges' names counted as the parser threads read them, a tally per thread at a time (a
/// chunk takes one from the pool and gives it back).
struct UsesPool(std::sync::Mutex<Vec<NameUses>>);

impl UsesPool {
  /// A tally; without the header's edge count one that counts nothing (the packer then counts:
  /// a garbled name must not size a tally by itself)
  fn take(&self, edges: Option<usize>) -> NameUses {
    self
      .0
      .lock()
      .unwrap_or_else(|e| e.into_inner())
      .pop()
      .unwrap_or_else(|| edges.map_or_else(NameUses::off, NameUses::for_edges))
  }
  fn give(&self, uses: NameUses) {
    self.0.lock().unwrap_or_else(|e| e.into_inner()).push(uses);
  }
  fn total(self, edges: usize) -> NameUses {
    let mut all = NameUses::for_edges(edges);
    for u in self.0.into_inner().unwrap_or_else(|e| e.into_inner()) {
      all.merge(&u);
    }
    all
  }
}

/// Returns the edges with the largest string index they name (`validate` checks it once the
/// strings are in) and, when the header gave the edge count, how often each name is used (for
/// `compact_counted_edge_names`). The nodes are read: each edge's target is checked as it comes.
fn read_edges<R: Read>(
  sc: &mut Scanner<R>,
  l: &Layout,
  s: &mut HeapSnapshot,
) -> Res<(Kept, Option<NameUses>)> {
  let node_width = l.node_roles.len() as u64;
  let by_width = DivBy::new(node_width);
  let nodes = s.node_count() as u64;
  // (at most 2^28 nodes: the targets below are below 2^28 nodes, as DivBy needs)
  let past_nodes = nodes * node_width;
  let types = s.edge_type_names.len() as u64;
  let roles = &l.edge_roles;
  let width = roles.len();
  let at_of = |role: Role| roles.iter().position(|r| *r == role).unwrap_or(0);
  let (ti, ni, oi) = (at_of(Role::Type), at_of(Role::Name), at_of(Role::ToNode));
  // bit t set: edges of type t name a string (the others carry an element or hidden index)
  let named: u32 = !(index_edge_types(&s.edge_type_names) as u32);
  // the nodes' edge counts say how many edges there are (the header's count, if any, too)
  let counted = s.first_edge.last().map_or(0, |&n| n as usize);
  let declared = in_place(l.edge_count, 4).map(|n| n.min(counted));
  let says = format!("the nodes' edge_count fields add up to {counted} edges");
  let bound = Bound::of("edge", l.edge_count, counted, &says);
  let bound = &bound;
  let slots = declared.map(|n| (Slots::of(&mut s.edges, n), Slots::of(&mut s.raw_edge_names, n)));
  if slots.is_none() {
    let n = l
      .edge_count
      .unwrap_or(0)
      .min(MAX_PREALLOC * 4)
      .min(counted as u64) as usize;
    s.edges.reserve(n);
    s.raw_edge_names.reserve(n);
  }
  let slots = &slots;
  let uses_pool = UsesPool(std::sync::Mutex::new(Vec::new()));
  let pool = &uses_pool;
  let convert_edges = move |vals: &[u64],
                            at: &dyn Fn(usize) -> u64,
                            first: u64,
                            c: &mut EdgeCols,
                            uses: &mut NameUses|
        -> Res<()> {
    for (r, rec) in vals.chunks_exact(width).enumerate() {
      let bad = |i: usize, what: String| Err(SnapshotError::at(at(r * width + i), what));
      let (t, name, to) = (rec[ti], rec[ni], rec[oi]);
      if t >= types {
        return bad(
          ti,
          format!("edge type {t} is not in meta.edge_types ({types} types)"),
        );
      }
      if name > u32::MAX as u64 {
        return bad(ni, format!("edge name_or_index {name} does not fit in 32 bits"));
      }
      if to >= past_nodes {
        return bad(
          oi,
          if to >= MAX_NODES as u64 * node_width {
            format!("edge to_node {to} points past node 2^28, more nodes than leakprobe reads")
          } else {
            let (e, n) = (first + r as u64, to / node_width);
            format!("edge {e} (to_node {to}) points to node {n}, past the {nodes} nodes")
          },
        );
      }
      let (node, rest) = by_width.div_rem(to);
      if rest != 0 {
        return bad(
          oi,
          format!("edge to_node {to} is not a multiple of the {node_width} node fields"),
        );
      }
      let packed = pack_edge(node as u32, t as u8);
      if named & (1 << t) != 0 {
        c.largest_string = c.largest_string.max(name as u32);
        c.named = true;
        uses.add(name as u32);
      }
      match slots {
        Some((to_type, names)) => {
          let e = first as usize + r;
          to_type.put(e, packed);
          names.put(e, name as u32);
        }
        None => {
          c.to_type.push(packed);
          c.name.push(name as u32);
        }
      }
    }
    Ok(())
  };
  let convert = move |vals: &[u64], at: &dyn Fn(usize) -> u64, first: u64, c: &mut EdgeCols| -> Res<()> {
    bound.within("edge", width, vals, first, at, c, |vals, c| {
      let mut uses = pool.take(declared);
      let r = convert_edges(vals, at, first, c, &mut uses);
      pool.give(uses);
      r
    })
  };
  let append = |c: &EdgeCols, _: &[u64], _: &dyn Fn(usize) -> u64| {
    s.edges.extend_from_slice(&c.to_type);
    s.raw_edge_names.extend_from_slice(&c.name);
    Ok(())
  };
  let (records, tail, names) = read_uint_columns(sc, "in \"edges\"", width, &convert, append)?;
  if slots.is_some() {
    // SAFETY: records 0..records were converted, each writing both of its slots (the converter
    // refuses records past the reserved count), and the columns were left alone (the appends
    // above add nothing in place mode)
    unsafe {
      fill(&mut s.edges, records as usize);
      fill(&mut s.raw_edge_names, records as usize);
    }
  }
  if tail != 0 {
    return sc.err(format!(
      "the \"edges\" array ends mid-record: its length is not a multiple of {width} edge fields"
    ));
  }
  // fewer than said (more were refused as they came), at the array's closing ']'
  let end = sc.offset() - 1;
  if let Some(e) = l.edge_count.filter(|&e| e != records) {
    return Err(SnapshotError::at(
      end,
      format!("snapshot.edge_count says {e} edges but the \"edges\" array holds {records}"),
    ));
  }
  if records != counted as u64 {
    return Err(SnapshotError::at(
      end,
      format!(
        "the nodes' edge_count fields add up to {counted} edges but the \"edges\" array holds {records}"
      ),
    ));
  }
  Ok((names, declared.map(|n| uses_pool.total(n))))
}

/// Division by a number fixed for a whole array (the node width): a multiply and a shift instead
/// of a `div` per edge, which cost more than the rest of converting an edge. Exact for dividends
/// below 2^64 / d (Granlund–Montgomery): edge targets are checked against 2^28 nodes first, and
/// d is at most 2^16 (else, and for d = 1, plain division).
struct DivBy {
  d: u64,
  /// ceil(2^64 / d), or 0: divide
  m: u64,
}

impl DivBy {
  fn new(d: u64) -> DivBy {
    let d = d.max(1);
    DivBy {
      d,
      m: if (2..=1 << 16).contains(&d) {
        u64::MAX / d + 1
      } else {
        0
      },
    }
  }
  #[inline]
  fn div_rem(&self, n: u64) -> (u64, u64) {
    if self.m == 0 {
      return (n / self.d, n % self.d);
    }
    let q = ((n as u128 * self.m as u128) >> 64) as u64;
    (q, n - q * self.d)
  }
}

#[derive(Default)]
struct LocationCols {
  rows: Vec<(u32, Location)>,
}

impl Columns for LocationCols {
  fn clear(&mut self) {
    self.rows.clear();
  }
}

fn read_locations<R: Read>(sc: &mut Scanner<R>, l: &Layout, s: &mut HeapSnapshot) -> Res<()> {
  let f = &l.location_fields;
  let pos = |name: &str| f.iter().position(|x| x == name);
  let (Some(oi), Some(si), Some(li), Some(ci)) =
    (pos("object_index"), pos("script_id"), pos("line"), pos("column"))
  else {
    // Unknown layout: locations only refine class grouping, so skip rather than fail.
    return skip(sc, "in \"locations\"");
  };
  let width = f.len();
  let node_width = l.node_roles.len() as u64;
  let nodes = s.node_count() as u64;
  // parsed on the parser threads like nodes and edges (a generated 242 MB snapshot has 19 MB of
  // them); sites are numbered here, in order
  let convert = move |vals: &[u64], at: &dyn Fn(usize) -> u64, first: u64, c: &mut LocationCols| -> Res<()> {
    // V8 writes a location for a node (a function) at most once
    if first + (vals.len() / width) as u64 > nodes {
      let r = nodes.saturating_sub(first) as usize;
      return Err(SnapshotError::at(
        at(r * width),
        format!("more locations than the {nodes} nodes: V8 writes at most one per node"),
      ));
    }
    for (r, rec) in vals.chunks_exact(width).enumerate() {
      if rec[oi] % node_width != 0 {
        return Err(SnapshotError::at(
          at(r * width + oi),
          format!("location object_index {} is not a node offset", rec[oi]),
        ));
      }
      if rec[oi] / node_width >= nodes {
        return Err(SnapshotError::at(
          at(r * width + oi),
          format!(
            "location object_index {} points to node {}, past the {nodes} nodes",
            rec[oi],
            rec[oi] / node_width
          ),
        ));
      }
      let c32 = |x: u64| x.min(u32::MAX as u64) as u32;
      c.rows.push((
        (rec[oi] / node_width) as u32,
        Location {
          script_id: c32(rec[si]),
          line: c32(rec[li]),
          column: c32(rec[ci]),
        },
      ));
    }
    Ok(())
  };
  let (out, sites) = (&mut s.locations, &mut s.location_sites);
  let mut site_of: HashMap<Location, u32> = HashMap::new();
  let mut last: Option<(Location, u32)> = None;
  let append = |c: &LocationCols, _: &[u64], _: &dyn Fn(usize) -> u64| {
    for &(node, at) in &c.rows {
      // neighbours often share a site: no hash for those
      let site = match last {
        Some((l, site)) if l == at => site,
        _ => *site_of.entry(at).or_insert_with(|| {
          sites.push(at);
          (sites.len() - 1) as u32
        }),
      };
      last = Some((at, site));
      out.push((node, site));
    }
    Ok(())
  };
  let (_, tail, _) = read_uint_columns(sc, "in \"locations\"", width, &convert, append)?;
  if tail != 0 {
    return sc.err(format!(
      "the \"locations\" array ends mid-record: its length is not a multiple of {width}"
    ));
  }
  s.locations.shrink_to_fit();
  // sorted by node: V8 writes them in runs of descending nodes
  if !s.locations.is_sorted_by_key(|(n, _)| *n) {
    sort_by_node(&mut s.locations);
  }
  Ok(())
}

/// A stable sort on the node, in two passes of 16 bits (a radix sort; the comparison sort it
/// replaced took 22–36 ms of the parse's reading thread at 242 MB, this one 18–21).
fn sort_by_node(v: &mut Vec<(u32, u32)>) {
  let mut tmp = vec![(0u32, 0u32); v.len()];
  for shift in [0, 16] {
    let mut start = vec![0usize; (1 << 16) + 1];
    for &(n, _) in v.iter() {
      start[((n >> shift) & 0xffff) as usize + 1] += 1;
    }
    for i in 1..start.len() {
      start[i] += start[i - 1];
    }
    for &x in v.iter() {
      let slot = &mut start[((x.0 >> shift) & 0xffff) as usize];
      tmp[*slot] = x;
      *slot += 1;
    }
    std::mem::swap(v, &mut tmp);
  }
}

/// The string table, for `names` nodes and edges (what bounds it: `STRINGS_SLACK`, …).
fn read_strings<R: Read>(sc: &mut Scanner<R>, t: &mut StringTable, names: u64) -> Res<()> {
  *t = StringTable::default();
  t.offsets.push(0);
  sc.expect(b'[', "to open \"strings\"")?;
  if sc.peek_ws()? == Some(b']') {
    sc.bump();
    return Ok(());
  }
  let max_count = names + STRINGS_SLACK;
  let max_bytes = STRING_BYTES_FLOOR + names * STRING_BYTES_PER_NAME;
  loop {
    let at = sc.string_into(&mut t.data, "in \"strings\"", &STRING_CAP)?;
    t.offsets.push(t.data.len() as u64);
    if t.offsets.len() as u64 > max_count + 1 {
      return Err(SnapshotError::at(
        at,
        format!(
          "more strings than {names} nodes and edges can name ({max_count}): V8 writes each name \
           once; the file is damaged or not a heap snapshot"
        ),
      ));
    }
    if t.data.len() as u64 > max_bytes {
      return Err(SnapshotError::at(
        at,
        format!(
          "the strings hold more than {max_bytes} bytes, more than names of {names} nodes and \
           edges can (V8 cuts each at 1024 characters); the file is damaged or not a heap snapshot"
        ),
      ));
    }
    match sc.peek_ws()? {
      Some(b',') => sc.bump(),
      Some(b']') => {
        sc.bump();
        // grown by doubling: give back the slack (up to half of what they hold)
        t.data.shrink_to_fit();
        t.offsets.shrink_to_fit();
        return Ok(());
      }
      _ => {
        let f = sc.found()?;
        return sc.err(format!("expected ',' or ']' in \"strings\", found {f}"));
      }
    }
  }
}

/// The checks that wait for the strings (which come last): the names of nodes and edges. What
/// they are checked against is in the records kept with the largest name (`Kept`): the culprit
/// is named with its offset, with no pass over the columns (and only when there is one).
fn validate(s: &HeapSnapshot, l: &Layout, node_names: &Kept, edge_names: &Kept) -> Res<()> {
  let strings = s.strings.len() as u64;
  let field = |roles: &[Role], role: Role| roles.iter().position(|r| *r == role).unwrap_or(0);
  // the key is the largest name + 1
  let past = |key: u64| key > strings;
  if past(node_names.key) {
    let (ni, n) = (field(&l.node_roles, Role::Name), node_names.key - 1);
    if let Some((i, at)) = node_names.find(l.node_roles.len(), ni, |rec| rec[ni] == n) {
      return Err(SnapshotError::at(
        at,
        format!("node {i} has name string {n}, past the {strings} strings"),
      ));
    }
  }
  if past(edge_names.key) {
    // element and hidden edges carry an index, the others a string
    let index_types = index_edge_types(&s.edge_type_names);
    let (ti, ni) = (field(&l.edge_roles, Role::Type), field(&l.edge_roles, Role::Name));
    let n = edge_names.key - 1;
    let named = |rec: &[u64]| index_types & (1 << rec[ti]) == 0;
    if let Some((i, at)) = edge_names.find(l.edge_roles.len(), ni, |rec| named(rec) && rec[ni] == n) {
      return Err(SnapshotError::at(
        at,
        format!("edge {i} has name string {n}, past the {strings} strings"),
      ));
    }
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::io::Write;

  /// A tiny valid snapshot: root → a (object "A") → b (string), with a weak edge b → a.
  pub(crate) const TINY: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","detachedness"],
"node_types":[["hidden","array","string","object"],"string","number","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],
"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],
"location_fields":["object_index","script_id","line","column"]},"node_count":3,"edge_count":3},
"nodes":[0,0,1,0,1,0,
3,1,3,16,1,0,
2,2,5,24,1,0],
"edges":[2,3,6,
2,4,12,
6,5,6],
"locations":[6,7,8,9],
"strings":["","A","s\u00e9\ud83d\ude00","x","child","back"]}"#;

  #[test]
  fn reads_a_tiny_snapshot() {
    let s = read_snapshot(TINY.as_bytes()).unwrap();
    assert_eq!(s.node_count(), 3);
    assert_eq!(s.edge_count(), 3);
    assert_eq!(s.node_type_name(1), "object");
    assert_eq!(s.node_name_str(1), "A");
    assert_eq!(s.node_name_str(2), "sé😀");
    assert_eq!(s.node_self_size.to_vec(), vec![0, 16, 24]);
    assert_eq!(s.node_id, vec![1, 3, 5]);
    assert_eq!(s.first_edge, vec![0, 1, 2, 3]);
    assert_eq!(s.edge_targets().collect::<Vec<_>>(), vec![1, 2, 1]);
    assert_eq!(s.edge_type_name(2), "weak");
    assert_eq!(s.strings.get(s.edge_name_or_index(1)), "child");
    assert_eq!(s.locations, vec![(1, 0)]);
    assert_eq!(
      s.location_sites,
      vec![Location {
        script_id: 7,
        line: 8,
        column: 9
      }]
    );
    assert_eq!(s.node_detachedness, vec![0, 0, 0]);
  }

  #[test]
  fn locations_share_sites_come_sorted_and_are_checked() {
    let s = read_snapshot(
      TINY
        .replace("[6,7,8,9]", "[6,7,8,9, 12,7,8,9, 0,1,2,3]")
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(s.locations, vec![(0, 1), (1, 0), (2, 0)]);
    assert_eq!(
      s.location_sites,
      vec![
        Location {
          script_id: 7,
          line: 8,
          column: 9
        },
        Location {
          script_id: 1,
          line: 2,
          column: 3
        }
      ]
    );
    let text = TINY.replace("[6,7,8,9]", "[6,7,8,9,7,7,8,9]");
    let e = read_snapshot(text.as_bytes()).unwrap_err();
    assert!(
      e.message.contains("location object_index 7 is not a node offset"),
      "{}",
      e.message
    );
    assert_eq!(e.offset, Some(text.find("9,7,7,8,9]").unwrap() as u64 + 2));
    let e = read_snapshot(TINY.replace("[6,7,8,9]", "[6,7,8,9,6,7]").as_bytes()).unwrap_err();
    assert!(
      e.message.contains("\"locations\" array ends mid-record"),
      "{}",
      e.message
    );
  }

  #[test]
  fn division_by_the_node_width_is_exact() {
    for d in [1u64, 2, 3, 6, 7, 8, 13, 255, 256, 65_535, 65_536, 65_537] {
      let by = DivBy::new(d);
      let top = MAX_NODES as u64 * d;
      for n in (0..5000)
        .chain(top - 5000..top)
        .chain((0..1000).map(|i| i * 104_729 % top))
      {
        assert_eq!(by.div_rem(n), (n / d, n % d), "{n} / {d}");
      }
    }
  }

  #[test]
  fn locations_sort_by_node_stably() {
    // keys across both radix digits, repeats in file order, descending runs as V8 writes them
    let mut v: Vec<(u32, u32)> = (0..50_000u32)
      .map(|i| ((i.wrapping_mul(2_654_435_761) % 300_000) / 3 * 3, i))
      .collect();
    v.extend((0..1000u32).rev().map(|i| (i * 70_001, 7)));
    let mut want = v.clone();
    want.sort_by_key(|x| x.0);
    sort_by_node(&mut v);
    assert_eq!(v, want);
  }

  #[test]
  fn field_order_comes_from_meta() {
    // the same graph with node fields reversed and edge fields rotated
    let t = TINY
      .replace(
        r#"["type","name","id","self_size","edge_count","detachedness"]"#,
        r#"["detachedness","edge_count","self_size","id","name","type"]"#,
      )
      .replace(
        "[0,0,1,0,1,0,\n3,1,3,16,1,0,\n2,2,5,24,1,0]",
        "[0,1,0,1,0,0,\n0,1,16,3,1,3,\n0,1,24,5,2,2]",
      )
      .replace(
        r#"["type","name_or_index","to_node"]"#,
        r#"["to_node","type","name_or_index"]"#,
      )
      .replace("[2,3,6,\n2,4,12,\n6,5,6]", "[6,2,3,\n12,2,4,\n6,6,5]");
    let a = read_snapshot(TINY.as_bytes()).unwrap();
    let b = read_snapshot(t.as_bytes()).unwrap();
    assert_eq!(
      (a.node_type, a.node_name, a.node_id, a.node_self_size),
      (b.node_type, b.node_name, b.node_id, b.node_self_size)
    );
    assert_eq!((a.edges, a.edge_names), (b.edges, b.edge_names));
  }

  #[test]
  fn gzip_is_detected_and_a_cut_gzip_is_an_error() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(TINY.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    assert_eq!(read_snapshot_bytes(&gz).unwrap().node_count(), 3);
    let err = read_snapshot_bytes(&gz[..gz.len() - 12]).unwrap_err();
    assert!(err.message.contains("gzip"), "{err}");
  }

  fn err_of(json: &str) -> SnapshotError {
    read_snapshot(json.as_bytes()).expect_err(json)
  }

  #[test]
  fn malformed_inputs_are_errors_with_offsets() {
    let e = err_of("");
    assert!(e.message.contains("empty"), "{e}");
    let e = read_snapshot_bytes(b"").unwrap_err();
    assert!(e.message.contains("empty"), "{e}");
    // truncated in the middle of the nodes
    let cut = &TINY[..TINY.find("3,1,3,16").unwrap() + 3];
    let e = err_of(cut);
    assert_eq!(e.offset, Some(cut.len() as u64), "{e}");
    // garbled number
    let e = err_of(&TINY.replace("3,1,3,16", "3,1,x,16"));
    assert!(
      e.message.contains("expected a non-negative integer in \"nodes\""),
      "{e}"
    );
    assert_eq!(e.offset, Some(TINY.find("3,1,3,16").unwrap() as u64 + 4));
    // negative, fraction
    assert!(err_of(&TINY.replace("3,1,3,16", "3,1,-3,16"))
      .message
      .contains("non-negative"));
    assert!(err_of(&TINY.replace("3,1,3,16", "3,1,3.5,16"))
      .message
      .contains("fraction"));
    // wrong meta
    assert!(err_of(&TINY.replace("\"self_size\",", ""))
      .message
      .contains("self_size"));
    assert!(err_of(&TINY.replace("\"meta\"", "\"mota\""))
      .message
      .contains("header"));
    // edge past the node array / not a multiple of the node width
    assert!(err_of(&TINY.replace("2,4,12", "2,4,18"))
      .message
      .contains("past the 3 nodes"));
    assert!(err_of(&TINY.replace("2,4,12", "2,4,13"))
      .message
      .contains("not a multiple"));
    // more nodes or edge types than the packed edge word holds
    assert!(err_of(&TINY.replace("2,4,12", "2,4,1610612736"))
      .message
      .contains("past node 2^28"));
    let many = (0..17).map(|i| format!("\"t{i}\"")).collect::<Vec<_>>().join(",");
    let e = err_of(&TINY.replace(
      r#""context","element","property","internal","hidden","shortcut","weak""#,
      &many,
    ));
    assert!(e.message.contains("17 edge types"), "{e}");
    // edge counts that do not add up
    assert!(err_of(&TINY.replace("2,2,5,24,1,0]", "2,2,5,24,2,0]"))
      .message
      .contains("add up"));
    // node array cut mid-record
    assert!(err_of(&TINY.replace("2,2,5,24,1,0]", "2,2,5,24,1]"))
      .message
      .contains("mid-record"));
    // name index past the strings, type out of range
    assert!(err_of(&TINY.replace("2,2,5,24", "2,99,5,24"))
      .message
      .contains("past the 6 strings"));
    // an edge naming a string past the table; an element edge's index is no string
    assert!(err_of(&TINY.replace("2,4,12", "2,99,12"))
      .message
      .contains("edge 1 has name string 99, past the 6 strings"));
    assert!(read_snapshot(TINY.replace("2,4,12", "1,99,12").as_bytes()).is_ok());
    assert!(err_of(&TINY.replace("2,2,5,24", "9,2,5,24"))
      .message
      .contains("node type 9"));
    // non-UTF-8 bytes inside a string
    let mut bad = TINY.as_bytes().to_vec();
    let at = TINY.find("child").unwrap();
    bad[at] = 0xff;
    let e = read_snapshot(&bad[..]).unwrap_err();
    assert!(e.message.contains("UTF-8") && e.offset == Some(at as u64), "{e}");
    // trailing garbage, nodes before snapshot
    assert!(err_of(&format!("{TINY}x")).message.contains("after the end"));
    assert!(err_of(r#"{"nodes":[],"snapshot":{}}"#)
      .message
      .contains("comes before"));
    // a second header would change the type codes of arrays already read
    let header = &TINY[TINY.find("\"snapshot\"").unwrap()..TINY.find(",\n\"nodes\"").unwrap()];
    let e = err_of(&TINY.replace(",\n\"strings\"", &format!(",{header},\n\"strings\"")));
    assert!(e.message.contains("second \"snapshot\""), "{e}");
    assert!(err_of("{}").message.contains("empty"));
    assert!(err_of("[1,2]").message.contains("expected '{'"));
  }

  #[test]
  fn header_counts_place_records_and_must_match() {
    // with the counts the parser threads write each record in place; without, the columns are
    // appended: the same snapshot either way, including a self size of 4 GiB or more
    let big = TINY.replace("3,1,3,16,1,0", "3,1,3,5000000000,1,0");
    let placed = read_snapshot(big.as_bytes()).unwrap();
    let appended = read_snapshot(big.replace(r#","node_count":3,"edge_count":3"#, "").as_bytes()).unwrap();
    assert_eq!(placed.node_self_size.get(1), 5_000_000_000);
    assert!(
      placed.node_self_size == appended.node_self_size
        && placed.first_edge == appended.first_edge
        && placed.edges == appended.edges
    );
    assert!(
      placed.node_type == appended.node_type
        && placed.node_name == appended.node_name
        && placed.node_id == appended.node_id
    );
    assert!(
      placed.node_detachedness == appended.node_detachedness && placed.edge_names == appended.edge_names
    );
    assert_eq!(placed.first_edge, vec![0, 1, 2, 3]);
    // a record past the declared count, named where it starts; fewer than declared
    let e = err_of(&TINY.replace(r#""node_count":3"#, r#""node_count":2"#));
    assert!(
      e.message
        .contains("node_count says 2 nodes but the \"nodes\" array holds more"),
      "{e}"
    );
    assert_eq!(e.offset, Some(TINY.find("2,2,5,24").unwrap() as u64));
    let e = err_of(&TINY.replace(r#""edge_count":3"#, r#""edge_count":1"#));
    assert!(
      e.message
        .contains("edge_count says 1 edges but the \"edges\" array holds more"),
      "{e}"
    );
    assert_eq!(e.offset, Some(TINY.find("2,4,12").unwrap() as u64));
    assert!(err_of(&TINY.replace(r#""node_count":3"#, r#""node_count":4"#))
      .message
      .contains("says 4 nodes but the \"nodes\" array holds 3"));
    // a bad record before the extra ones is the error reported
    let e = err_of(
      &TINY
        .replace(r#""node_count":3"#, r#""node_count":2"#)
        .replace("3,1,3,16", "9,1,3,16"),
    );
    assert!(e.message.contains("node type 9"), "{e}");
    // many chunks past a small count (the parser threads see records far past it)
    let many = format!("{},", "3,1,3,16,0,0\n".replace('\n', ",").trim_end_matches(',')).repeat(200_000);
    let big = TINY
      .replace("3,1,3,16,1,0,\n", &format!("{many}3,1,3,16,1,0,\n"))
      .replace(r#""node_count":3"#, r#""node_count":5"#);
    let e = err_of(&big);
    assert!(
      e.message
        .contains("node_count says 5 nodes but the \"nodes\" array holds more"),
      "{e}"
    );
    assert_eq!(e.offset, Some(big.find("3,1,3,16").unwrap() as u64 + 4 * 13));
    assert!(err_of(&TINY.replace(r#""edge_count":3"#, r#""edge_count":9"#))
      .message
      .contains("says 9 edges but the \"edges\" array holds 3"));
  }

  #[test]
  fn lone_surrogates_become_replacement_chars() {
    let s = read_snapshot(TINY.replace(r"s\u00e9\ud83d\ude00", r"\ud800x\udc00").as_bytes()).unwrap();
    assert_eq!(s.node_name_str(2), "\u{FFFD}x\u{FFFD}");
  }

  /// `before`, then `pattern` over and over: a gzip bomb's text as a stream, never in memory
  /// (it ends after 8 GiB, should a reader take it all); `read` counts the bytes taken.
  struct Bomb {
    before: Vec<u8>,
    pattern: Vec<u8>,
    pos: u64,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
  }

  impl Bomb {
    fn endless(before: &str, pattern: &str) -> Bomb {
      Bomb {
        before: before.into(),
        // repeated to 64 KiB or more: copied in big slices
        pattern: pattern.repeat((1 << 16) / pattern.len() + 1).into(),
        pos: 0,
        read: Default::default(),
      }
    }
  }

  impl Read for Bomb {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
      let (b, p) = (self.before.len() as u64, self.pattern.len() as u64);
      let n = if self.pos < b {
        let from = &self.before[self.pos as usize..];
        let n = from.len().min(buf.len());
        buf[..n].copy_from_slice(&from[..n]);
        n
      } else if self.pos < 8 << 30 {
        let k = ((self.pos - b) % p) as usize;
        let n = (self.pattern.len() - k).min(buf.len());
        buf[..n].copy_from_slice(&self.pattern[k..k + n]);
        n
      } else {
        0
      };
      self.pos += n as u64;
      self
        .read
        .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
      Ok(n)
    }
  }

  /// The error a bomb gives, and how many MiB the reader took before it.
  fn bomb_err(b: Bomb) -> (SnapshotError, u64) {
    let read = b.read.clone();
    let e = read_snapshot(b).expect_err("a bomb must be refused");
    (e, read.load(std::sync::atomic::Ordering::Relaxed) >> 20)
  }

  /// TINY's `snapshot.meta`.
  fn tiny_meta() -> &'static str {
    &TINY[TINY.find("{\"node_fields\"").unwrap()..TINY.find(",\"node_count\"").unwrap()]
  }

  #[test]
  fn a_string_in_strings_is_capped_at_its_quote() {
    let before = TINY.replace(r#""back"]}"#, r#""back",""#);
    let (e, mib) = bomb_err(Bomb::endless(&before, "a"));
    assert!(
      e.message
        .contains("a string in \"strings\" is longer than 1048576 bytes")
        && e.message.contains("--heap-snapshot-string-limit"),
      "{e}"
    );
    assert_eq!(e.offset, Some(before.len() as u64 - 1));
    assert!(mib <= 3, "read {mib} MiB");
    // escapes count as what they stand for, and are capped all the same
    let (e, mib) = bomb_err(Bomb::endless(&before, r"\n\u00e9"));
    assert!(e.message.contains("longer than"), "{e}");
    assert_eq!(e.offset, Some(before.len() as u64 - 1));
    assert!(mib <= 6, "read {mib} MiB");
    // as long as V8 writes (1024 characters of 3 bytes, escaped: 6 KB of text) and more: read
    let long = TINY.replace(r#""back""#, &format!(r#""{}""#, r"\u4e2d".repeat(100_000)));
    assert_eq!(
      read_snapshot(long.as_bytes()).unwrap().strings.get(5).len(),
      300_000
    );
  }

  #[test]
  fn a_top_level_key_is_capped() {
    let (e, mib) = bomb_err(Bomb::endless("{\"", "a"));
    assert!(
      e.message
        .contains("a string (a top-level key) is longer than 1024 bytes"),
      "{e}"
    );
    assert_eq!(e.offset, Some(1));
    assert!(mib <= 2, "read {mib} MiB");
  }

  #[test]
  fn the_header_is_capped_in_size_and_depth() {
    let before = format!(r#"{{"snapshot":{{"meta":{},"title":""#, tiny_meta());
    let (e, mib) = bomb_err(Bomb::endless(&before, "a"));
    assert!(
      e.message
        .contains("the value in \"snapshot\" is longer than 1048576 bytes: V8's header"),
      "{e}"
    );
    assert_eq!(e.offset, Some(12));
    assert!(mib <= 3, "read {mib} MiB");
    let (e, mib) = bomb_err(Bomb::endless(r#"{"snapshot": {"x":"#, "["));
    assert!(e.message.contains("nest more than 1024 deep"), "{e}");
    assert_eq!(e.offset, Some(18 + 1023));
    assert!(mib <= 1, "read {mib} MiB");
  }

  #[test]
  fn skipped_values_are_capped_in_depth_and_size() {
    let before = TINY.replace(",\n\"locations\"", ",\"trace_tree\":[[[[],[]]]],\n\"locations\"");
    if let Err(e) = read_snapshot(before.as_bytes()) {
      panic!("{e}");
    }
    let before = format!(
      "{},\"trace_tree\":",
      &TINY[..TINY.find(",\n\"locations\"").unwrap()]
    );
    let at = before.len() as u64;
    let (e, mib) = bomb_err(Bomb::endless(&before, "["));
    assert!(
      e.message
        .contains("arrays and objects in \"trace_tree\" (from byte")
        && e.message.contains("nest more than 1024 deep"),
      "{e}"
    );
    assert_eq!(e.offset, Some(at + 1024));
    assert!(mib <= 1, "read {mib} MiB");
    // a scalar, an array: 1 GiB at most (or as much as came before)
    let t = std::time::Instant::now();
    let (e, _) = bomb_err(Bomb::endless(&before, "0"));
    assert!(
      e.message
        .contains("the value in \"trace_tree\" is longer than 1073741824 bytes"),
      "{e}"
    );
    assert_eq!(e.offset, Some(at));
    let (e, mib) = bomb_err(Bomb::endless(&format!("{before}[\"x\","), "1,"));
    assert!(e.message.contains("longer than 1073741824 bytes"), "{e}");
    assert_eq!(e.offset, Some(at));
    assert!(mib <= 1025, "read {mib} MiB");
    eprintln!("two 1 GiB skips: {:?}", t.elapsed());
  }

  #[test]
  fn the_strings_are_bounded_by_the_nodes_and_edges() {
    // 3 nodes and 3 edges: up to 6 + 2^20 strings of up to 64 MiB + 6 × 4 KiB in all
    let before = TINY.replace(r#""back"]}"#, r#""back","#);
    let (e, mib) = bomb_err(Bomb::endless(&before, "\"\","));
    assert!(
      e.message
        .contains("more strings than 6 nodes and edges can name (1048582)"),
      "{e}"
    );
    assert_eq!(e.offset, Some(before.len() as u64 + 3 * (1048582 - 6)));
    assert!(mib <= 4, "read {mib} MiB");
    let one = format!("\"{}\",", "a".repeat(1 << 20));
    let (e, mib) = bomb_err(Bomb::endless(&before, &one));
    assert!(
      e.message
        .contains("the strings hold more than 67133440 bytes, more than names of 6 nodes and edges"),
      "{e}"
    );
    assert_eq!(e.offset, Some(before.len() as u64 + 64 * one.len() as u64));
    assert!(mib <= 66, "read {mib} MiB");
    // many strings, as a big snapshot has: read
    let ok = TINY.replace(r#""back"]"#, &format!(r#""back"{}]"#, ",\"\"".repeat(1 << 19)));
    assert_eq!(read_snapshot(ok.as_bytes()).unwrap().strings.len(), 6 + (1 << 19));
  }

  #[test]
  fn sections_come_in_v8s_order() {
    let at = |t: &str, k: &str| Some(t.find(k).unwrap() as u64);
    // edges or locations before the nodes, strings before the edges
    let nodes = &TINY[TINY.find("\"nodes\"").unwrap()..TINY.find(",\n\"edges\"").unwrap()];
    let edges = &TINY[TINY.find("\"edges\"").unwrap()..TINY.find(",\n\"locations\"").unwrap()];
    let t = TINY
      .replace(nodes, "\"n\":0")
      .replace(edges, nodes)
      .replace("\"n\":0", edges);
    let e = err_of(&t);
    assert!(
      e.message
        .contains("\"edges\" comes before \"nodes\"; V8 writes the nodes first"),
      "{e}"
    );
    assert_eq!(e.offset, at(&t, "\"edges\""));
    let t = TINY
      .replace("\"locations\":[6,7,8,9],\n", "")
      .replace("\"nodes\":", "\"locations\":[6,7,8,9],\"nodes\":");
    let e = err_of(&t);
    assert!(e.message.contains("\"locations\" comes before \"nodes\""), "{e}");
    assert_eq!(e.offset, at(&t, "\"locations\""));
    let strings = &TINY[TINY.find("\"strings\"").unwrap()..TINY.len() - 1];
    let t = TINY
      .replace(&format!(",\n{strings}"), "")
      .replace("\"edges\":", &format!("{strings},\"edges\":"));
    let e = err_of(&t);
    assert!(
      e.message
        .contains("\"strings\" comes before \"nodes\" and \"edges\"; V8 writes the strings last"),
      "{e}"
    );
    assert_eq!(e.offset, at(&t, "\"strings\""));
  }

  #[test]
  fn locations_are_at_most_one_per_node() {
    // a 4th location for 3 nodes (the same node twice is allowed: only the count is V8's rule)
    let t = TINY.replace("[6,7,8,9]", "[6,7,8,9, 0,1,1,1, 12,1,1,1, 6,1,1,1]");
    let e = err_of(&t);
    assert!(
      e.message
        .contains("more locations than the 3 nodes: V8 writes at most one per node"),
      "{e}"
    );
    assert_eq!(e.offset, Some(t.find("6,1,1,1]").unwrap() as u64));
    let (e, mib) = bomb_err(Bomb::endless(&TINY[..TINY.find("[6,7,8,9]").unwrap() + 1], "0,"));
    assert!(e.message.contains("more locations than the 3 nodes"), "{e}");
    assert!(mib <= 8, "read {mib} MiB");
  }

  #[test]
  fn header_counts_are_checked_before_anything_is_reserved() {
    let nodes_at = |t: &str| Some(t.find("\"node_count\":").unwrap() as u64 + 13);
    let edges_at = |t: &str| Some(t.find("\"edge_count\":").unwrap() as u64 + 13);
    // more than leakprobe reads: refused at the header, whatever follows
    let before =
      TINY[..TINY.find("0,0,1,0,1,0").unwrap()].replace("\"node_count\":3", "\"node_count\":4000000000");
    let (e, mib) = bomb_err(Bomb::endless(&before, "0,"));
    assert_eq!(
      (e.offset, e.message.as_str()),
      (
        nodes_at(&before),
        "snapshot.node_count is 4000000000: leakprobe reads up to 2^28 nodes (268 M objects)"
      )
    );
    assert!(mib <= 1, "read {mib} MiB");
    let t = TINY.replace("\"edge_count\":3", "\"edge_count\":4294967296");
    let e = err_of(&t);
    assert_eq!(e.offset, edges_at(&t), "{e}");
    assert!(e
      .message
      .contains("snapshot.edge_count is 4294967296: leakprobe reads up to 2^32 edges"));
    // more than the input can hold, when its size is known: 2 bytes a field at least
    let t = TINY.replace("\"node_count\":3", "\"node_count\":268435455");
    let e = read_snapshot_bytes(t.as_bytes()).unwrap_err();
    assert_eq!(e.offset, nodes_at(&t), "{e}");
    assert!(
      e.message
        .contains("snapshot.node_count says 268435455 nodes, which take at least 3221225460 bytes")
        && e
          .message
          .contains("the input is cut short, or the header does not belong to it"),
      "{e}"
    );
    let t = TINY.replace("\"edge_count\":3", "\"edge_count\":30");
    let e = read_snapshot_bytes(t.as_bytes()).unwrap_err();
    assert_eq!(e.offset, edges_at(&t), "{e}");
    assert!(e.message.contains("snapshot.edge_count says 30 edges"), "{e}");
    // gzip: up to 1032 times the file; a snapshot's own counts always fit
    let gz = |t: &str| {
      let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
      e.write_all(t.as_bytes()).unwrap();
      e.finish().unwrap()
    };
    let t = TINY.replace("\"node_count\":3", "\"node_count\":1000000");
    let e = read_snapshot_bytes(&gz(&t)).unwrap_err();
    assert_eq!(e.offset, nodes_at(&t), "{e}");
    assert!(read_snapshot_bytes(&gz(TINY)).is_ok());
    let zeros = TINY.replace("\"node_count\":3", "\"node_count\":300000").replace(
      "2,2,5,24,1,0]",
      &format!("2,2,5,24,1,0{}]", ",0,0,0,0,0,0".repeat(299_997)),
    );
    assert_eq!(read_snapshot_bytes(&gz(&zeros)).unwrap().node_count(), 300_000);
    assert_eq!(
      read_snapshot_bytes(zeros.as_bytes()).unwrap().node_count(),
      300_000
    );
    // the fixture, by path (its size from the file)
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures/small.heapsnapshot.gz");
    assert_eq!(read_snapshot_path(&path).unwrap().node_count(), 67339);
  }

  #[test]
  fn edges_are_bounded_by_the_nodes_edge_counts() {
    // without the header's count: the nodes' edge counts (3) bound the edges as they come
    let t = TINY
      .replace(",\"edge_count\":3", "")
      .replace("6,5,6]", "6,5,6,2,3,6]");
    let e = err_of(&t);
    assert_eq!(
      (e.offset, e.message.as_str()),
      (
        Some(t.find("2,3,6]").unwrap() as u64),
        "the nodes' edge_count fields add up to 3 edges but the \"edges\" array holds more"
      )
    );
    // a header count above them: the nodes' counts still bound the edges
    let e = err_of(&t.replace("\"node_count\":3", "\"node_count\":3,\"edge_count\":9"));
    assert!(
      e.message
        .contains("the nodes' edge_count fields add up to 3 edges"),
      "{e}"
    );
    // below them: the header's
    let e = err_of(&TINY.replace("\"edge_count\":3", "\"edge_count\":2"));
    assert!(e.message.contains("snapshot.edge_count says 2 edges but"), "{e}");
    let before = TINY[..TINY.find("2,3,6,").unwrap()].replace(",\"edge_count\":3", "");
    let (e, mib) = bomb_err(Bomb::endless(&before, "0,"));
    assert!(
      e.message
        .contains("add up to 3 edges but the \"edges\" array holds more"),
      "{e}"
    );
    assert_eq!(e.offset, Some(before.len() as u64 + 18));
    assert!(mib <= 8, "read {mib} MiB");
  }

  /// The offset in `t` of the `n`-th (0-based) match of `pat`, plus `plus`.
  fn nth(t: &str, pat: &str, n: usize, plus: usize) -> Option<u64> {
    t.match_indices(pat).nth(n).map(|(i, _)| (i + plus) as u64)
  }

  /// An error's offset and message.
  fn where_what(t: &str) -> (Option<u64>, String) {
    let e = err_of(t);
    (e.offset, e.message)
  }

  #[test]
  fn every_error_says_where() {
    let end = |t: &str| Some(t.len() as u64);
    // the header's meta: at the value concerned
    let t = TINY.replace("\"id\",", "");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "[\"type\",\"name\"", 0, 0), "{m}");
    assert!(m.contains("snapshot.meta.node_fields has no \"id\" field"), "{m}");
    let t = TINY.replace("\"name_or_index\",", "");
    assert_eq!(where_what(&t).0, nth(&t, "[\"type\",\"to_node\"]", 0, 0));
    let t = TINY.replace("[[\"hidden\",", "[[1,");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "[[1,", 0, 0), "{m}");
    assert!(
      m.contains("node_types[0] must hold at most 256 type names"),
      "{m}"
    );
    let t = TINY.replace("\"edge_types\":[[", "\"edge_types\":[1,[");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "[1,[", 0, 0), "{m}");
    assert!(m.contains("edge_types[0] must be the list of type names"), "{m}");
    let many = (0..17).map(|i| format!("\"t{i}\"")).collect::<Vec<_>>().join(",");
    let t = TINY.replace(
      r#""context","element","property","internal","hidden","shortcut","weak""#,
      &many,
    );
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "[[\"t0\"", 0, 0), "{m}");
    assert!(m.contains("meta.edge_types lists 17 edge types"), "{m}");
    // a missing section: at the end of the input
    let strings = &TINY[TINY.find(",\n\"strings\"").unwrap()..TINY.len() - 1];
    for (t, what) in [
      (TINY.replace(strings, ""), "strings"),
      // (edges without strings: with strings, those come before the edges)
      (
        TINY
          .replace(",\n\"edges\":[2,3,6,\n2,4,12,\n6,5,6]", "")
          .replace(strings, ""),
        "edges",
      ),
      (r#"{"x":1}"#.to_string(), "snapshot"),
    ] {
      let (at, m) = where_what(&t);
      assert_eq!(at, end(&t), "{m}");
      assert!(
        m.contains(&format!("the snapshot has no \"{what}\" (the input ends here)")),
        "{m}"
      );
    }
    // a second array: at its key
    for key in ["nodes", "edges", "locations", "strings"] {
      let part = &TINY[TINY.find(&format!("\"{key}\"")).unwrap()..];
      let part = &part[..part.find(']').unwrap() + 1];
      let t = TINY.replace(strings, &format!(",{part}{strings}"));
      let (at, m) = where_what(&t);
      assert_eq!(at, nth(&t, &format!("\"{key}\""), 1, 0), "{m}");
      assert!(
        m.contains(&format!("a second \"{key}\" array; a snapshot has one")),
        "{m}"
      );
    }
    // no nodes: at the array; fewer nodes or edges than said: at the array's ']'
    let t = TINY
      .replace("0,0,1,0,1,0,\n3,1,3,16,1,0,\n2,2,5,24,1,0", "")
      .replace("\"node_count\":3,", "");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "\"nodes\":[", 0, 8), "{m}");
    assert!(m.contains("the \"nodes\" array is empty"), "{m}");
    let t = TINY.replace("\"node_count\":3", "\"node_count\":4");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "24,1,0]", 0, 6), "{m}");
    assert!(
      m.contains("snapshot.node_count says 4 nodes but the \"nodes\" array holds 3"),
      "{m}"
    );
    let t = TINY.replace("\"edge_count\":3", "\"edge_count\":4");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "6,5,6]", 0, 5), "{m}");
    assert!(
      m.contains("snapshot.edge_count says 4 edges but the \"edges\" array holds 3"),
      "{m}"
    );
    let t = TINY
      .replace("2,2,5,24,1,0]", "2,2,5,24,2,0]")
      .replace("\"edge_count\":3", "\"edge_count\":4");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "6,5,6]", 0, 5), "{m}");
    let t = TINY.replace("2,2,5,24,1,0]", "2,2,5,24,2,0]");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "6,5,6]", 0, 5), "{m}");
    assert!(
      m.contains("the nodes' edge_count fields add up to 4 edges but the \"edges\" array holds 3"),
      "{m}"
    );
    // edge counts past 2^32: at the node's edge_count where the sum passes it
    let t = TINY
      .replace("0,0,1,0,1,0", "0,0,1,0,4294967295,0")
      .replace("3,1,3,16,1,0", "3,1,3,16,2,0");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "16,2,0", 0, 3), "{m}");
    assert!(
      m.contains("the nodes' edge counts add up to more than 2^32 edges"),
      "{m}"
    );
    // an edge past the nodes, a location past them: at the value
    let t = TINY.replace("2,4,12", "2,4,18");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "18", 0, 0), "{m}");
    assert!(
      m.contains("edge 1 (to_node 18) points to node 3, past the 3 nodes"),
      "{m}"
    );
    let t = TINY.replace("[6,7,8,9]", "[18,7,8,9]");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "18,7,8,9", 0, 0), "{m}");
    assert!(
      m.contains("location object_index 18 points to node 3, past the 3 nodes"),
      "{m}"
    );
    // a name past the strings, known once they are read: at the name
    let t = TINY.replace("2,2,5,24", "2,99,5,24");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "99", 0, 0), "{m}");
    assert!(m.contains("node 2 has name string 99, past the 6 strings"), "{m}");
    let t = TINY.replace("2,4,12", "2,99,12");
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, "99", 0, 0), "{m}");
    assert!(m.contains("edge 1 has name string 99, past the 6 strings"), "{m}");
    // no strings at all: the first named edge
    let t = TINY.replace(
      r#""strings":["","A","s\u00e9\ud83d\ude00","x","child","back"]"#,
      "\"strings\":[]",
    );
    let (at, m) = where_what(&t);
    assert!(m.contains("past the 0 strings"), "{m}");
    assert!(at.is_some(), "{m}");
    // the input fails: where it stood
    struct Failing;
    impl Read for Failing {
      fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
      }
    }
    let e = read_snapshot_auto(Failing).unwrap_err();
    assert_eq!(e.offset, Some(0), "{e}");
    assert!(e.message.contains("disk on fire"), "{e}");
  }

  #[test]
  fn names_past_the_strings_are_found_wherever_the_chunks_cut() {
    // 200 000 nodes (~5 chunks), one named past the strings: its value's offset, exactly, for
    // each place (in a chunk, at its start or end, or across two)
    let n = 200_000;
    let rec = "3,1,3,16,0,0,\n";
    for k in [3, 4, 5, 40_000, 43_690, 43_691, 87_381, 131_071, 174_762, 199_999] {
      let mut nodes = String::from("0,0,1,0,0,0,\n");
      for i in 1..n {
        nodes.push_str(if i == k { "3,77,3,16,0,0,\n" } else { rec });
      }
      let t = TINY
        .replace("\"node_count\":3", &format!("\"node_count\":{n}"))
        .replace(",\"edge_count\":3", "")
        .replace(
          "0,0,1,0,1,0,\n3,1,3,16,1,0,\n2,2,5,24,1,0",
          nodes.trim_end_matches(",\n"),
        )
        .replace("[2,3,6,\n2,4,12,\n6,5,6]", "[]")
        .replace("[6,7,8,9]", "[]");
      let (at, m) = where_what(&t);
      assert_eq!(at, nth(&t, ",77,", 0, 1), "node {k}: {m}");
      assert!(
        m.contains(&format!("node {k} has name string 77, past the 6 strings")),
        "{m}"
      );
    }
  }

  pub(crate) fn fixture_json() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures/small.heapsnapshot.gz");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
      .read_to_end(&mut out)
      .unwrap();
    out
  }

  #[test]
  fn reads_the_fixture() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures/small.heapsnapshot.gz");
    let s = read_snapshot_path(&path).unwrap();
    assert_eq!(s.node_count(), 67339);
    let json = fixture_json();
    let head = String::from_utf8_lossy(&json[..4096]);
    let count = |k: &str| -> usize {
      let at = head.find(k).unwrap() + k.len();
      head[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
    };
    assert_eq!(s.edge_count(), count("\"edge_count\":"));
    assert!(s.strings.len() > 1000);
    assert_eq!(s.node_type_name(0), "synthetic");
    // the names were packed by the uses the parser threads counted: as a count of its own would
    let raw: Vec<u32> = (0..s.edge_count()).map(|e| s.edge_name_or_index(e)).collect();
    assert!(compact_edge_names(&s.edge_type_names, &s.edges, &raw) == s.edge_names);
  }

  /// Random cuts and byte flips of the real fixture: always Ok or Err, never a panic or a hang.
  #[test]
  fn random_truncations_and_flips_never_panic() {
    let json = fixture_json();
    // A small prefix keeps the test quick; it still holds the meta, nodes and the format's structure.
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    let mut rnd = move || {
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      seed
    };
    let (mut ok, mut errs) = (0, 0);
    for i in 0..400 {
      let mut data = json.clone();
      if i % 2 == 0 {
        data.truncate((rnd() % json.len() as u64) as usize);
      } else {
        for _ in 0..1 + rnd() % 4 {
          let at = (rnd() % data.len() as u64) as usize;
          data[at] = (rnd() % 256) as u8;
        }
      }
      match read_snapshot(&data[..]) {
        Ok(_) => ok += 1,
        Err(e) => {
          assert!(!e.message.is_empty());
          errs += 1
        }
      }
    }
    assert!(errs > 200, "ok {ok} errs {errs}");
    // and through gzip: cut compressed streams
    let gz =
      std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures/small.heapsnapshot.gz"))
        .unwrap();
    for _ in 0..20 {
      let cut = (rnd() % gz.len() as u64) as usize;
      assert!(read_snapshot_bytes(&gz[..cut]).is_err());
    }
  }
}

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
