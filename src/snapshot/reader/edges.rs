//! The "edges" array: each edge's target and type packed in a word, and its raw name, checked
//! against the nodes as it comes.
use super::super::edge_names::NameUses;
use super::super::error::SnapshotError;
use super::super::model::{pack_edge, HeapSnapshot, IndexEdgeTypes, MAX_NODES};
use super::super::parallel_array::{read_uint_columns, Columns, Kept};
use super::super::scanner::{Res, Scanner};
use super::header::{Layout, Role};
use super::records::{fill, in_place, Bound, Slots, MAX_PREALLOC};
use std::io::Read;

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
    self.to_type.clear();
    self.name.clear();
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

/// Where each edge field is in a record (from the meta), and what an edge may point to.
#[derive(Clone, Copy)]
struct EdgeFields {
  width: usize,
  types: u64,
  t: usize,
  name: usize,
  to: usize,
  /// the edge types that carry an index (an element or hidden one), not a string
  index_types: IndexEdgeTypes,
  nodes: u64,
  node_width: u64,
  by_width: DivBy,
  /// the first `to_node` past the nodes
  past_nodes: u64,
}

impl EdgeFields {
  fn of(l: &Layout, s: &HeapSnapshot) -> EdgeFields {
    let roles = &l.edge_roles;
    let at_of = |role: Role| roles.iter().position(|r| *r == role).unwrap_or(0);
    let node_width = l.node_roles.len() as u64;
    let nodes = s.node_count() as u64;
    EdgeFields {
      width: roles.len(),
      types: s.edge_type_names.len() as u64,
      t: at_of(Role::Type),
      name: at_of(Role::Name),
      to: at_of(Role::ToNode),
      index_types: IndexEdgeTypes::of(&s.edge_type_names),
      nodes,
      node_width,
      by_width: DivBy::new(node_width),
      // (at most 2^28 nodes: the targets below are below 2^28 nodes, as DivBy needs)
      past_nodes: nodes * node_width,
    }
  }

  /// Checks whole records and writes them: to their slots (in place, `first` the index of the
  /// first), or to `c` for the reading thread to append; counts the names into `uses`.
  fn convert(
    self,
    vals: &[u64],
    at: &dyn Fn(usize) -> u64,
    first: u64,
    slots: Option<&(Slots<u32>, Slots<u32>)>,
    c: &mut EdgeCols,
    uses: &mut NameUses,
  ) -> Res<()> {
    // locals, as the loop reads them on every record
    let EdgeFields {
      width,
      types,
      t: ti,
      name: ni,
      to: oi,
      index_types,
      nodes,
      node_width,
      by_width,
      past_nodes,
    } = self;
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
      if index_types.names_string(t as usize) {
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
  }
}

/// Returns the edges with the largest string index they name (`validate` checks it once the
/// strings are in) and, when the header gave the edge count, how often each name is used (for
/// `compact_counted_edge_names`). The nodes are read: each edge's target is checked as it comes.
pub(super) fn read_edges<R: Read>(
  sc: &mut Scanner<R>,
  l: &Layout,
  s: &mut HeapSnapshot,
) -> Res<(Kept, Option<NameUses>)> {
  let f = EdgeFields::of(l, s);
  // the nodes' edge counts say how many edges there are (the header's count, if any, too)
  let counted = s.first_edge.last().map_or(0, |&n| n as usize);
  let declared = in_place(l.edge_count, 4).map(|n| n.min(counted));
  let says = format!("the nodes' edge_count fields add up to {counted} edges");
  let bound = Bound::of("edge", l.edge_count, counted, &says);
  let slots = reserve(l, s, declared, counted);
  let slots = slots.as_ref();
  let pool = UsesPool(std::sync::Mutex::new(Vec::new()));
  let convert = |vals: &[u64], at: &dyn Fn(usize) -> u64, first: u64, c: &mut EdgeCols| -> Res<()> {
    bound.within("edge", f.width, vals, first, at, c, |vals, c| {
      let mut uses = pool.take(declared);
      let r = f.convert(vals, at, first, slots, c, &mut uses);
      pool.give(uses);
      r
    })
  };
  let append = |c: &EdgeCols, _: &[u64], _: &dyn Fn(usize) -> u64| {
    s.edges.extend_from_slice(&c.to_type);
    s.raw_edge_names.extend_from_slice(&c.name);
    Ok(())
  };
  let (records, tail, names) = read_uint_columns(sc, "in \"edges\"", f.width, &convert, append)?;
  if slots.is_some() {
    // SAFETY: records 0..records were converted, each writing both of its slots (the converter
    // refuses records past the reserved count), and the columns were left alone (the appends
    // above add nothing in place mode)
    unsafe {
      fill(&mut s.edges, records as usize);
      fill(&mut s.raw_edge_names, records as usize);
    }
  }
  check_records(sc, l, records, tail, f.width, counted)?;
  Ok((names, declared.map(|n| pool.total(n))))
}

/// Room for the edge columns: slots for the parser threads to write `declared` records in place,
/// else room reserved for the reading thread to append to (at most the `counted` edges).
fn reserve(
  l: &Layout,
  s: &mut HeapSnapshot,
  declared: Option<usize>,
  counted: usize,
) -> Option<(Slots<u32>, Slots<u32>)> {
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
  slots
}

/// What is known at the array's end: whole records, as many as the header and the nodes' edge
/// counts say (more were refused as they came).
fn check_records<R: Read>(
  sc: &mut Scanner<R>,
  l: &Layout,
  records: u64,
  tail: usize,
  width: usize,
  counted: usize,
) -> Res<()> {
  if tail != 0 {
    return sc.err(format!(
      "the \"edges\" array ends mid-record: its length is not a multiple of {width} edge fields"
    ));
  }
  // fewer than said, at the array's closing ']'
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
  Ok(())
}

/// Division by a number fixed for a whole array (the node width): a multiply and a shift instead
/// of a `div` per edge, which cost more than the rest of converting an edge. Exact for dividends
/// below 2^64 / d (Granlund–Montgomery): edge targets are checked against 2^28 nodes first, and
/// d is at most 2^16 (else, and for d = 1, plain division).
#[derive(Clone, Copy)]
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

#[cfg(test)]
mod tests {
  use super::super::tests::*;
  use super::*;

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
}
