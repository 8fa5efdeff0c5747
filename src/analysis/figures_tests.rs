//! Hand-built snapshots whose dominators, retained sizes and distances can be worked out by hand.
use super::Analysis;
use crate::graph::NO_DISTANCE;
use crate::snapshot::builder::with_global;
use crate::snapshot::HeapSnapshot;

#[test]
fn diamond_is_dominated_by_the_fork() {
  let (mut b, g) = with_global();
  let a = b.node("object", "A", 100);
  let bb = b.node("object", "B", 200);
  let c = b.node("object", "C", 1000);
  b.edge(g, "property", "a", a);
  b.edge(g, "property", "b", bb);
  b.edge(a, "property", "c", c);
  b.edge(bb, "property", "c", c);
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  assert_eq!(x.idom[c as usize], g);
  assert_eq!(x.retained.get(a as usize), 100);
  assert_eq!(x.retained.get(bb as usize), 200);
  assert_eq!(x.retained.get(g as usize), 1310);
  assert_eq!(x.total_size, 1310);
  assert_eq!(
    (
      x.distances[g as usize],
      x.distances[a as usize],
      x.distances[c as usize]
    ),
    (1, 2, 3)
  );
}

#[test]
fn weak_edges_do_not_retain() {
  let (mut b, g) = with_global();
  let a = b.node("object", "A", 100);
  let w = b.node("object", "W", 5000);
  b.edge(g, "property", "a", a);
  b.edge(a, "weak", "w", w);
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  assert_eq!(x.retained.get(a as usize), 100);
  assert_eq!(x.idom[w as usize], 0, "held only weakly: hangs off the root");
  assert_eq!(x.distances[w as usize], NO_DISTANCE);
  assert!(x.unreachable.get(w as usize));
  assert_eq!(x.unreachable_size, 5000);
}

#[test]
fn an_unreachable_island_hangs_off_the_root() {
  let (mut b, g) = with_global();
  let a = b.node("object", "A", 100);
  let x1 = b.node("object", "X", 7);
  let y1 = b.node("object", "Y", 11);
  b.edge(g, "property", "a", a);
  b.edge(x1, "property", "y", y1);
  b.edge(y1, "property", "x", x1);
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  assert_eq!((x.idom[x1 as usize], x.idom[y1 as usize]), (0, 0));
  assert_eq!(x.unreachable_size, 18);
  assert_eq!(x.retained.get(0), 10 + 100 + 18);
  assert_eq!(x.distances[x1 as usize], NO_DISTANCE);
}

#[test]
fn a_clique_retained_only_by_itself_hangs_off_the_root() {
  // X <-> Y, X <-> Z, W -> Y, W -> Z, X -> W: no path from the root, and every member has an
  // essential retainer, so DevTools attaches each member straight to the root (retained = self)
  let (mut b, _) = with_global();
  let x = b.node("object", "X", 100);
  let y = b.node("object", "Y", 200);
  let z = b.node("object", "Z", 300);
  let w = b.node("object", "W", 50);
  for (from, to) in [(x, y), (x, z), (x, w), (y, x), (y, w), (z, x), (w, y), (w, z)] {
    b.edge(from, "property", "p", to);
  }
  let mut s = b.build();
  let a = Analysis::compute(&mut s);
  for (v, size) in [(x, 100), (y, 200), (z, 300), (w, 50)] {
    assert_eq!(a.idom[v as usize], 0, "node {v}");
    assert_eq!(a.retained.get(v as usize), size, "node {v}");
    assert!(a.unreachable.get(v as usize));
  }
}

#[test]
fn a_shortcut_edge_from_a_non_root_node_does_not_dominate() {
  let (mut b, g) = with_global();
  let s1 = b.node("object", "S", 300);
  b.edge(g, "shortcut", "s", s1);
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  assert_eq!(x.idom[s1 as usize], 0, "shortcut edges only count from the root");
  assert_eq!(x.retained.get(g as usize), 10);
  assert_eq!(x.distances[s1 as usize], 2, "but distances do follow it");
}

#[test]
fn singly_owned_backing_store_moves_its_size_to_the_owner() {
  let (mut b, g) = with_global();
  let o = b.node("object", "Owner", 32);
  let store = b.node("array", "(object elements)", 800);
  let o1 = b.node("object", "P", 16);
  let o2 = b.node("object", "Q", 16);
  let shared = b.node("array", "(object elements)", 400);
  b.edge(g, "property", "o", o);
  b.edge(o, "internal", "elements", store);
  b.edge(g, "property", "p", o1);
  b.edge(g, "property", "q", o2);
  b.edge(o1, "internal", "elements", shared);
  b.edge(o2, "internal", "elements", shared);
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  let size = |v: u32| s.node_self_size.get(v as usize);
  assert_eq!((size(o), size(store)), (832, 0));
  assert_eq!(size(shared), 400, "two owners: keeps its size");
  assert_eq!(x.retained.get(o as usize), 832);
  assert_eq!(x.retained.get(o1 as usize), 16);
}

#[test]
fn a_weakmap_entry_is_retained_by_its_key_not_the_table() {
  let (mut b, g) = with_global();
  let table = b.node("array", "(WeakMap table)", 64);
  let key = b.node("object", "Key", 16);
  let value = b.node("object", "Value", 1000);
  b.edge(g, "property", "map", table);
  b.edge(g, "property", "key", key);
  let part = format!(
    "3 / part of key (Key @{}) -> value (Value @{}) pair in WeakMap (table @{})",
    key * 2 + 1,
    value * 2 + 1,
    table * 2 + 1
  );
  b.edge(table, "internal", &part, value);
  b.edge(key, "internal", &part, value);
  let mut s = b.build();
  let mut on_disk = s.clone();
  let x = Analysis::compute(&mut s);
  assert_eq!(x.idom[value as usize], key);
  assert_eq!(x.retained.get(key as usize), 1016);
  // the names-first schedule sends the node ids to the file before the rule runs: it finds the
  // table's id first
  let disk = crate::spill::SpillPolicy {
    dir: Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target")),
    min_bytes: 0,
  };
  let y = Analysis::compute_spilling(&mut on_disk, &disk).unwrap();
  assert_eq!(y.idom[value as usize], key);
  assert!(on_disk.node_id == s.node_id);
}

#[test]
fn a_million_long_linked_list_needs_no_recursion() {
  let (mut b, g) = with_global();
  let n = 1_000_000u32;
  let first = b.node("object", "ListNode", 32);
  b.edge(g, "property", "list", first);
  let mut prev = first;
  for _ in 1..n {
    let v = b.node("object", "ListNode", 32);
    b.edge(prev, "property", "next", v);
    prev = v;
  }
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  assert_eq!(x.retained.get(first as usize), 32 * n as u64);
  assert_eq!(x.idom[prev as usize], prev - 1);
  assert_eq!(x.distances[prev as usize], n as i32 + 1);
  let path = super::paths::retainer_path(&s, &x, prev);
  assert_eq!(path.len(), n as usize + 1);
}

#[test]
fn self_sizes_of_4_gib_and_more_are_kept_whole() {
  // sizes are stored in 4 bytes with a side table above that: a 5 GiB owner plus a 3 GiB backing
  // store moved onto it, and a size of exactly u32::MAX
  let (mut b, g) = with_global();
  let o = b.node("object", "Big", 5 << 30);
  let store = b.node("array", "(object elements)", 3 << 30);
  let edge = b.node("object", "Edge", u32::MAX as u64);
  b.edge(g, "property", "o", o);
  b.edge(o, "internal", "elements", store);
  b.edge(g, "property", "e", edge);
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  assert_eq!(s.node_self_size.get(o as usize), 8 << 30);
  assert_eq!(s.node_self_size.get(store as usize), 0);
  assert_eq!(s.node_self_size.get(edge as usize), u32::MAX as u64);
  assert_eq!(x.retained.get(g as usize), 10 + (8 << 30) + u32::MAX as u64);
  assert_eq!(x.total_size, 10 + (8 << 30) + u32::MAX as u64);
  // a second analysis does not move the sizes again
  let y = Analysis::compute(&mut s);
  assert_eq!(y.retained.get(o as usize), 8 << 30);
}

#[test]
fn distances_apply_devtools_name_rules() {
  let (mut b, g) = with_global(); // distance 1
                                  // a WeakMap entry: the BFS meets table → value first, which DevTools skips, then key → value
  let table = b.node("array", "(WeakMap table)", 64);
  let holder = b.node("object", "Holder", 8);
  let key = b.node("object", "Key", 16);
  let value = b.node("object", "Value", 100);
  b.edge(g, "property", "map", table);
  b.edge(g, "property", "holder", holder);
  b.edge(holder, "property", "key", key);
  let part = format!(
    "3 / part of key (Key @{}) -> value (Value @{}) pair in WeakMap (table @{})",
    key * 2 + 1,
    value * 2 + 1,
    table * 2 + 1
  );
  b.edge(table, "internal", &part, value);
  b.edge(key, "internal", &format!("7{}", &part[1..]), value);
  // map descriptors: elements 0, 1 and those not 1 mod 3 are followed
  let descriptors = b.node("array", "(map descriptors)", 32);
  b.edge(g, "property", "descriptors", descriptors);
  let kept = b.node("object", "Kept", 8);
  let dropped = b.node("object", "Dropped", 8);
  let dropped_by_name = b.node("object", "DroppedByName", 8);
  b.edge(descriptors, "element", "3", kept);
  b.edge(descriptors, "element", "4", dropped);
  b.edge(descriptors, "property", "7", dropped_by_name);
  // the native context's sloppy_function_map is not followed, its other edges are
  let context = b.node("hidden", "system / NativeContext", 16);
  b.edge(g, "internal", "native_context", context);
  let sloppy = b.node("object", "SloppyMap", 8);
  let other = b.node("object", "OtherMap", 8);
  b.edge(context, "property", "sloppy_function_map", sloppy);
  b.edge(context, "property", "strict_function_map", other);
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  let d = |v: u32| x.distances[v as usize];
  assert_eq!((d(table), d(holder), d(key)), (2, 2, 3));
  assert_eq!(d(value), 4, "reached through the key, not the table");
  assert_eq!(d(kept), 3);
  assert_eq!((d(dropped), d(dropped_by_name)), (NO_DISTANCE, NO_DISTANCE));
  assert_eq!((d(sloppy), d(other)), (NO_DISTANCE, 3));
  // worked out in two parts (as two threads do), split anywhere, e.g. between the entry's edges
  assert_filter_parts_agree(&s, &x);
}

/// The distance filter worked out in two parts split at every node gives `x`'s distances.
fn assert_filter_parts_agree(s: &HeapSnapshot, x: &Analysis) {
  use crate::graph::distances::{compute_filtered, EdgeFilter, FilterNames};
  let (k, n) = (x.kinds, s.node_count() as u32);
  for mid in 0..=n {
    let parts = vec![
      EdgeFilter::part(s, &k, FilterNames::of(s), 0..mid),
      EdgeFilter::part(s, &k, FilterNames::of(s), mid..n),
    ];
    assert_eq!(
      compute_filtered(s, &k, &EdgeFilter::join(s, &k, parts)),
      x.distances,
      "split at {mid}"
    );
  }
}

#[test]
fn distance_filter_parts_number_entries_as_one() {
  // entry A's first edge is met and never its second: A stays pending. Entry B's table is not
  // reachable, so its key's edge is the first of B the BFS meets and is skipped. A part that
  // numbered B as the other part numbered A would let that edge through.
  let (mut b, g) = with_global();
  let table_a = b.node("array", "(WeakMap table)", 8);
  let table_b = b.node("array", "(WeakMap table)", 8);
  let key_b = b.node("object", "KeyB", 8);
  let (v_a, v_b, key_a) = (
    b.node("object", "VA", 8),
    b.node("object", "VB", 8),
    b.node("object", "KeyA", 8),
  );
  b.edge(g, "property", "a", table_a);
  b.edge(g, "property", "kb", key_b);
  let entry = |key: u32, value: u32, table: u32| {
    format!(
      "3 / part of key (K @{}) -> value (V @{}) pair in WeakMap (table @{})",
      key * 2 + 1,
      value * 2 + 1,
      table * 2 + 1
    )
  };
  let (part_a, part_b) = (entry(key_a, v_a, table_a), entry(key_b, v_b, table_b));
  b.edge(table_a, "internal", &part_a, v_a);
  b.edge(table_b, "internal", &part_b, v_b);
  b.edge(key_b, "internal", &format!("7{}", &part_b[1..]), v_b);
  let mut s = b.build();
  let x = Analysis::compute(&mut s);
  assert_eq!(
    (x.distances[v_a as usize], x.distances[v_b as usize]),
    (NO_DISTANCE, NO_DISTANCE)
  );
  assert_filter_parts_agree(&s, &x);
}
