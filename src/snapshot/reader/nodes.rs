//! The "nodes" array: the node columns, and where each node's edges start.
use super::super::error::SnapshotError;
use super::super::model::{HeapSnapshot, MAX_NODES};
use super::super::parallel_array::{read_uint_columns, Columns, Kept};
use super::super::scanner::{Res, Scanner};
use super::super::sizes::Sizes;
use super::header::{Layout, Role};
use super::records::{fill, in_place, Bound, Slots, MAX_PREALLOC};
use std::io::Read;

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
    self.t.clear();
    self.name.clear();
    self.id.clear();
    self.size.clear();
    self.edges.clear();
    self.det.clear();
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

/// Where each node field is in a record (from the meta), and how many node types there are.
#[derive(Clone, Copy)]
struct NodeFields {
  width: usize,
  types: u64,
  t: usize,
  name: usize,
  id: usize,
  size: usize,
  edges: usize,
  det: Option<usize>,
}

impl NodeFields {
  fn of(l: &Layout, s: &HeapSnapshot) -> NodeFields {
    let roles = &l.node_roles;
    let at_of = |role: Role| roles.iter().position(|r| *r == role);
    NodeFields {
      width: roles.len(),
      types: s.node_type_names.len() as u64,
      t: at_of(Role::Type).unwrap_or(0),
      name: at_of(Role::Name).unwrap_or(0),
      id: at_of(Role::Id).unwrap_or(0),
      size: at_of(Role::SelfSize).unwrap_or(0),
      edges: at_of(Role::EdgeCount).unwrap_or(0),
      det: at_of(Role::Detachedness),
    }
  }

  /// Checks whole records and writes them: to their slots (in place, `first` the index of the
  /// first), or to `c` for the reading thread to append.
  fn convert(
    self,
    vals: &[u64],
    at: &dyn Fn(usize) -> u64,
    first: u64,
    slots: Option<&NodeSlots>,
    c: &mut NodeCols,
  ) -> Res<()> {
    // locals, as the loop reads them on every record
    let NodeFields {
      width,
      types,
      t: ti,
      name: ni_,
      id: ii,
      size: si,
      edges: ei,
      det: di,
    } = self;
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
        return bad(ei, "edge count does not fit in 32 bits".into());
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
  }
}

/// Returns the nodes with the largest string index they name (`validate` checks it once the
/// strings are in).
pub(super) fn read_nodes<R: Read>(sc: &mut Scanner<R>, l: &Layout, s: &mut HeapSnapshot) -> Res<Kept> {
  let f = NodeFields::of(l, s);
  let bound = Bound::of(
    "node",
    l.node_count,
    MAX_NODES,
    "leakprobe reads up to 2^28 nodes (268 M objects)",
  );
  let mut sizes_small: Vec<u32> = Vec::new();
  let slots = reserve(l, s, f.det.is_some(), &mut sizes_small);
  let slots = slots.as_ref();
  let convert = |vals: &[u64], at: &dyn Fn(usize) -> u64, first: u64, c: &mut NodeCols| -> Res<()> {
    bound.within("node", f.width, vals, first, at, c, |vals, c| {
      f.convert(vals, at, first, slots, c)
    })
  };
  let mut edges_so_far: u64 = 0;
  let mut big_sizes: Vec<(u32, u64)> = Vec::new();
  sc.peek_ws()?;
  let array_at = sc.offset();
  let append = |c: &NodeCols, vals: &[u64], at: &dyn Fn(usize) -> u64| {
    check_edge_sum(edges_so_far, c, vals, at, f)?;
    edges_so_far += c.edge_sum;
    match slots {
      Some(_) => big_sizes.extend_from_slice(&c.big_sizes),
      None => append_columns(s, c),
    }
    Ok(())
  };
  let (records, tail, names) = read_uint_columns(sc, "in \"nodes\"", f.width, &convert, append)?;
  if slots.is_some() {
    // SAFETY: read_uint_columns converted records 0..records, each writing all of its slots (the
    // converter refuses records past the reserved count), and the columns were left alone
    unsafe { finish_in_place(s, records as usize, sizes_small, big_sizes, f.det.is_some()) };
  }
  check_records(sc, l, records, tail, array_at, f.width)?;
  if f.det.is_none() {
    s.node_detachedness.clear();
  }
  Ok(names)
}

/// Room for the node columns: slots for the parser threads to write in place when the header's
/// count allows it (`sizes_small`: the 4-byte sizes, `Sizes` once read), else room reserved for
/// the reading thread to append to.
fn reserve(
  l: &Layout,
  s: &mut HeapSnapshot,
  detached: bool,
  sizes_small: &mut Vec<u32>,
) -> Option<NodeSlots> {
  let declared = in_place(l.node_count, 1).filter(|&n| n <= MAX_NODES);
  let slots = declared.map(|n| NodeSlots {
    t: Slots::of(&mut s.node_type, n),
    name: Slots::of(&mut s.node_name, n),
    id: Slots::of(&mut s.node_id, n),
    size: Slots::of(sizes_small, n),
    edges: Slots::of(&mut s.first_edge, n + 1),
    det: detached.then(|| Slots::of(&mut s.node_detachedness, n)),
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
  slots
}

/// The edges start at a 32-bit index: the edge counts must add up to 2^32 at most. Past it, the
/// node where the sum passes it is named (`so_far`: the sum before these records).
fn check_edge_sum(
  so_far: u64,
  c: &NodeCols,
  vals: &[u64],
  at: &dyn Fn(usize) -> u64,
  f: NodeFields,
) -> Res<()> {
  if so_far + c.edge_sum <= u32::MAX as u64 {
    return Ok(());
  }
  let mut sum = so_far;
  for (r, rec) in vals.chunks_exact(f.width).enumerate() {
    sum += rec[f.edges];
    if sum > u32::MAX as u64 {
      return Err(SnapshotError::at(
        at(r * f.width + f.edges),
        "the nodes' edge counts add up to more than 2^32 edges: more than leakprobe reads",
      ));
    }
  }
  Ok(())
}

/// Appends a chunk's columns (no count in the header), summing the edge counts into where each
/// node's edges start (within 2^32: `check_edge_sum`).
fn append_columns(s: &mut HeapSnapshot, c: &NodeCols) {
  let mut sum = *s.first_edge.last().unwrap_or(&0);
  s.first_edge.extend(c.edges.iter().map(|&k| {
    sum += k;
    sum
  }));
  s.node_type.extend_from_slice(&c.t);
  s.node_name.extend_from_slice(&c.name);
  s.node_id.extend_from_slice(&c.id);
  s.node_self_size.extend_from_slice(&c.size);
  s.node_detachedness.extend_from_slice(&c.det);
}

/// Sets the lengths of the columns the parser threads wrote `n` records of in place, and sums
/// the edge counts into where each node's edges start (within 2^32: checked as the records came).
///
/// # Safety
/// As for `fill`: records `0..n` were all written through the slots `reserve` made (and slot 0
/// of `first_edge`), and the columns left alone since.
unsafe fn finish_in_place(
  s: &mut HeapSnapshot,
  n: usize,
  mut sizes_small: Vec<u32>,
  big_sizes: Vec<(u32, u64)>,
  detached: bool,
) {
  // SAFETY: this function's contract
  unsafe {
    fill(&mut s.node_type, n);
    fill(&mut s.node_name, n);
    fill(&mut s.node_id, n);
    fill(&mut sizes_small, n);
    fill(&mut s.first_edge, n + 1);
    if detached {
      fill(&mut s.node_detachedness, n);
    }
  }
  s.node_self_size = Sizes::from_parts(sizes_small, big_sizes);
  let mut sum = 0u32;
  for slot in s.first_edge.iter_mut().skip(1) {
    sum += *slot;
    *slot = sum;
  }
}

/// What is known at the array's end: whole records, the root at least, and as many as the
/// header says (more were refused as they came; `array_at`: where the array starts).
fn check_records<R: Read>(
  sc: &mut Scanner<R>,
  l: &Layout,
  records: u64,
  tail: usize,
  array_at: u64,
  width: usize,
) -> Res<()> {
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
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::super::read_snapshot;
  use super::super::tests::*;

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
}
