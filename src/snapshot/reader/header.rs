//! The "snapshot" header: its meta (which field of a record holds what, the type names) and its
//! counts, checked before anything is reserved for them.
use super::super::error::SnapshotError;
use super::super::model::{HeapSnapshot, MAX_EDGE_TYPES, MAX_NODES};
use super::super::scanner::{Res, Scanner};
use serde::Deserialize;
use std::io::Read;

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
pub(super) enum Role {
  Type,
  Name,
  Id,
  SelfSize,
  EdgeCount,
  Detachedness,
  ToNode,
  Skip,
}

/// The "snapshot" header: V8's (meta and counts) is about 1 KB.
const HEADER_MAX: u64 = 1 << 20;

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

pub(super) struct Layout {
  pub(super) node_roles: Vec<Role>,
  pub(super) edge_roles: Vec<Role>,
  pub(super) location_fields: Vec<String>,
  pub(super) node_count: Option<u64>,
  pub(super) edge_count: Option<u64>,
}

pub(super) fn read_header<R: Read>(sc: &mut Scanner<R>, snap: &mut HeapSnapshot) -> Res<Layout> {
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

#[cfg(test)]
mod tests {
  use super::super::tests::*;
  use super::super::{read_snapshot, read_snapshot_bytes, read_snapshot_path};
  use std::io::Write;
  use std::path::Path;

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
}
