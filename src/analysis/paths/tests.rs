//! The two path rules against each other: they agree where Node's internals are not in the way,
//! and differ, as meant, where they are.
use super::{preferred_parent_edges, preferred_path, retainer_path};
use crate::analysis::{locations, Analysis};
use crate::snapshot::builder::with_global;
use crate::snapshot::{read_snapshot_path, HeapSnapshot};
use std::path::Path;

/// Each step is a real non-weak edge from one node to the next.
fn assert_walkable(s: &HeapSnapshot, a: &Analysis, path: &[(u32, u32)]) {
  for w in path.windows(2) {
    let ((from, e), (to, _)) = (w[0], w[1]);
    assert!(
      s.edges_of(from).contains(&(e as usize)),
      "edge {e} leaves node {from}"
    );
    assert_eq!(s.edge_to(e as usize), to);
    assert_ne!(s.edge_type(e as usize), a.kinds.e_weak);
  }
}

#[test]
fn on_the_fixture_the_preferred_path_is_never_longer_where_no_internal_is_in_the_way() {
  let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures/small.heapsnapshot.gz");
  let mut s = read_snapshot_path(&file).unwrap();
  let a = Analysis::compute(&mut s);
  let internal = locations::in_node_internals(&s, &a.kinds);
  let parent = preferred_parent_edges(&s, &a, &internal);
  let (mut compared, mut same_length) = (0, 0);
  // every 7th node: a path is a walk over retainers' edges, slow in a debug build
  for v in (1..s.node_count() as u32).step_by(7) {
    let devtools = retainer_path(&s, &a, v);
    if a.distances[devtools[0].0 as usize] != 1 || devtools.iter().any(|&(n, _)| internal[n as usize]) {
      continue;
    }
    let preferred = preferred_path(&s, &parent, v);
    assert_eq!(preferred.last().unwrap().0, v);
    assert_eq!(
      a.distances[preferred[0].0 as usize], 1,
      "node {v}'s path starts at a user root"
    );
    assert!(
      preferred.len() <= devtools.len(),
      "node {v}: {} steps against DevTools' {}",
      preferred.len(),
      devtools.len()
    );
    assert_walkable(&s, &a, &preferred);
    compared += 1;
    same_length += (preferred.len() == devtools.len()) as usize;
  }
  assert!(
    compared > 1000,
    "the fixture exercises the rule ({compared} nodes)"
  );
  // shorter only where DevTools' distance filter skips an edge the walk may take
  assert!(
    same_length * 10 > compared * 9,
    "{same_length} of {compared} the same length"
  );
}

#[test]
fn the_preferred_path_goes_around_an_internal_object_devtools_goes_through() {
  let (mut b, g) = with_global();
  let list = b.node("object", "TimersList", 10);
  let own = b.node("object", "Registry", 10);
  let entries = b.node("object", "Entries", 10);
  let leak = b.node("object", "Leak", 10);
  b.edge(g, "property", "list", list);
  b.edge(g, "property", "registry", own);
  b.edge(list, "property", "next", leak);
  b.edge(own, "property", "entries", entries);
  b.edge(entries, "property", "leak", leak);
  let mut s = b.build();
  let a = Analysis::compute(&mut s);
  let nodes = |p: &[(u32, u32)]| p.iter().map(|&(n, _)| n).collect::<Vec<_>>();
  let devtools: Vec<u32> = retainer_path(&s, &a, leak).iter().map(|&(n, _)| n).collect();
  assert_eq!(devtools, vec![g, list, leak]);
  // nothing internal: the same path
  let none = vec![false; s.node_count()];
  assert_eq!(
    nodes(&preferred_path(&s, &preferred_parent_edges(&s, &a, &none), leak)),
    devtools
  );
  // the timer list is Node's: the program's own chain is named instead
  let mut internal = none;
  internal[list as usize] = true;
  let preferred = preferred_path(&s, &preferred_parent_edges(&s, &a, &internal), leak);
  assert_eq!(nodes(&preferred), vec![g, own, entries, leak]);
  assert_walkable(&s, &a, &preferred);
}
