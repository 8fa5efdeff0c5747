//! Comparison on hand-built snapshot series: a growing ack map is a leak held by `Socket` /
//! `acks`; a bounded cache that evicts is not.
use super::census::Census;
use super::compare::{compare, CompareOptions, Comparison};
use super::graph_tests::with_global;
use super::Analysis;
use crate::snapshot::HeapSnapshot;

/// global.sock: Socket —acks→ Map —table→ (array) —[i]→ ack closures, with the given ids.
fn acks_heap(ack_ids: &[u32]) -> HeapSnapshot {
  let (mut b, g) = with_global();
  let sock = b.node("object", "Socket", 40);
  let map = b.node("object", "Map", 24);
  let table = b.node("array", "", 16 + 8 * ack_ids.len() as u64);
  b.edge(g, "property", "sock", sock);
  b.edge(sock, "property", "acks", map);
  b.edge(map, "internal", "table", table);
  let mut ids = vec![1, 3, 5, 7, 9];
  for (i, &id) in ack_ids.iter().enumerate() {
    let f = b.node("closure", "onAck", 32);
    let ctx = b.node("object", "system / Context", 64);
    b.edge(table, "element", &i.to_string(), f);
    b.edge(f, "context", "context", ctx);
    ids.push(id);
    ids.push(id + 1);
  }
  let mut s = b.build();
  s.node_id = ids;
  s
}

/// global.cache: Lru —entries→ Map —table→ (array) —[i]→ Entry objects, with the given ids.
fn lru_heap(entry_ids: &[u32]) -> HeapSnapshot {
  let (mut b, g) = with_global();
  let lru = b.node("object", "Lru", 40);
  let map = b.node("object", "Map", 24);
  let table = b.node("array", "", 16 + 8 * entry_ids.len() as u64);
  b.edge(g, "property", "cache", lru);
  b.edge(lru, "property", "entries", map);
  b.edge(map, "internal", "table", table);
  let mut ids = vec![1, 3, 5, 7, 9];
  for (i, &id) in entry_ids.iter().enumerate() {
    let e = b.node("object", "Entry", 4000);
    b.edge(table, "element", &i.to_string(), e);
    ids.push(id);
  }
  let mut s = b.build();
  s.node_id = ids;
  s
}

fn run(
  mut base: HeapSnapshot,
  target: Option<HeapSnapshot>,
  mut last: HeapSnapshot,
  opts: CompareOptions,
) -> Comparison {
  let base = Census::of_snapshot(&mut base);
  let target = target.map(|mut t| Census::of_snapshot(&mut t));
  let a = Analysis::compute(&mut last);
  compare(&base, target.as_ref(), &last, &a, &opts)
}

fn loose() -> CompareOptions {
  CompareOptions {
    threshold_bytes: 1,
    threshold_count: 1,
    ..Default::default()
  }
}

fn ids(from: u32, n: u32) -> Vec<u32> {
  (0..n).map(|i| from + 2 * i).collect()
}

#[test]
fn growing_acks_are_a_leak_held_by_socket_acks() {
  let base = acks_heap(&ids(100, 2));
  let target = acks_heap(&[ids(100, 2), ids(200, 3)].concat());
  let last = acks_heap(&[ids(100, 2), ids(200, 3), ids(300, 4)].concat());
  let c = run(base, Some(target), last, loose());
  assert!(c.leak, "{c:#?}");
  let top = &c.suspects[0];
  assert_eq!(top.name, "onAck()");
  // only the acks from between baseline and target: allocated after baseline, alive since
  assert_eq!(top.count, 3);
  assert_eq!(top.sample_ids.len(), 3);
  assert!(
    top.sample_ids.iter().all(|&i| (200..206).contains(&i)),
    "{:?}",
    top.sample_ids
  );
  // each ack retains its context
  assert_eq!(top.retained_size, 3 * (32 + 64));
  assert_eq!(
    (top.holder.name.as_str(), top.holder.edge.as_str()),
    ("Socket", "acks")
  );
  assert_eq!(top.counts, vec![2, 5, 9]);
  let names: Vec<&str> = top.path.iter().map(|p| p.name.as_str()).collect();
  assert_eq!(names, vec!["global", "Socket", "Map", "", "onAck"]);
  assert_eq!(top.path[1].edge, "acks");
  // contexts are part of each ack, never a suspect of their own
  assert!(c.suspects.iter().all(|s| s.name != "system / Context"));
  assert_eq!(c.growth.objects, 14);
  let fns = c.classes.iter().find(|r| r.name == "Function").unwrap();
  assert_eq!((fns.new, fns.deleted, fns.count_delta), (7, 0, 7));
}

#[test]
fn two_snapshots_take_everything_new() {
  let c = run(
    acks_heap(&ids(100, 2)),
    None,
    acks_heap(&[ids(100, 2), ids(300, 4)].concat()),
    loose(),
  );
  assert!(c.leak);
  assert_eq!(c.suspects[0].count, 4);
  assert_eq!(c.suspects[0].counts, vec![2, 6]);
}

#[test]
fn thresholds_hold_back_the_verdict() {
  let opts = CompareOptions {
    threshold_bytes: 1 << 20,
    threshold_count: 1,
    ..Default::default()
  };
  let c = run(
    acks_heap(&ids(100, 2)),
    Some(acks_heap(&ids(100, 5))),
    acks_heap(&ids(100, 8)),
    opts,
  );
  assert!(!c.leak);
  assert!(!c.suspects[0].leak && c.suspects[0].growing);
}

#[test]
fn a_bounded_cache_that_evicts_is_not_a_leak() {
  // capacity 5: every round replaces the entries
  let c = run(
    lru_heap(&ids(100, 5)),
    Some(lru_heap(&ids(200, 5))),
    lru_heap(&ids(300, 5)),
    loose(),
  );
  assert!(!c.leak, "{c:#?}");
  assert!(c.suspects.is_empty());
  // capacity larger than a round: some target entries survive, but the count does not grow
  let c = run(
    lru_heap(&ids(100, 5)),
    Some(lru_heap(&[ids(102, 4), ids(200, 1)].concat())),
    lru_heap(&[ids(104, 3), ids(200, 1), ids(300, 1)].concat()),
    loose(),
  );
  assert!(!c.leak, "{c:#?}");
  assert_eq!(c.suspects.len(), 1);
  assert_eq!(c.suspects[0].name, "Entry");
  assert!(!c.suspects[0].growing);
  assert_eq!(
    (
      c.suspects[0].holder.name.as_str(),
      c.suspects[0].holder.edge.as_str()
    ),
    ("Lru", "entries")
  );
}

#[test]
fn nothing_new_means_no_suspects() {
  let c = run(
    acks_heap(&ids(100, 3)),
    Some(acks_heap(&ids(100, 3))),
    acks_heap(&ids(100, 3)),
    loose(),
  );
  assert!(!c.leak);
  assert!(c.suspects.is_empty());
  assert!(c.classes.is_empty());
  assert_eq!(c.growth.bytes, 0);
}

#[test]
fn a_leaked_linked_list_is_held_by_its_list_head() {
  // global.timers: List —next→ T1 —next→ T2 … (each T new): one group, held by List.next
  let make = |n: u32, from: u32| {
    let (mut b, g) = with_global();
    let list = b.node("object", "TimersList", 40);
    b.edge(g, "property", "timers", list);
    let mut ids = vec![1, 3, 5];
    let mut prev = list;
    for i in 0..n {
      let t = b.node("object", "Timeout", 80);
      b.edge(prev, "property", "next", t);
      // doubly linked: no Timeout dominates the next one
      b.edge(t, "property", "list", list);
      b.edge(list, "element", &i.to_string(), t);
      ids.push(from + 2 * i);
      prev = t;
    }
    let mut s = b.build();
    s.node_id = ids;
    s
  };
  let c = run(make(2, 100), Some(make(200, 100)), make(400, 100), loose());
  assert!(c.leak);
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("Timeout", 198));
  // held directly (by index) and through the chain: the direct, shortest path names the holder
  assert_eq!(
    (top.holder.name.as_str(), top.holder.edge.as_str()),
    ("TimersList", "[]")
  );
}

#[test]
fn a_leaked_singly_linked_chain_is_named_by_the_edge_into_its_head() {
  // global.head: Holder —first→ N1 —next→ N2 … a chain with no other way in
  let make = |n: u32, from: u32| {
    let (mut b, g) = with_global();
    let h = b.node("object", "Queue", 40);
    b.edge(g, "property", "queue", h);
    let mut ids = vec![1, 3, 5];
    let mut prev = h;
    for i in 0..n {
      let t = b.node("object", "Job", 80);
      b.edge(prev, "property", if i == 0 { "first" } else { "next" }, t);
      ids.push(from + 2 * i);
      prev = t;
    }
    let mut s = b.build();
    s.node_id = ids;
    s
  };
  // the old head stays; the chain grows at its end
  let c = run(make(2, 100), Some(make(100, 100)), make(300, 100), loose());
  assert!(c.leak, "{c:#?}");
  let top = &c.suspects[0];
  // N3 dominates every later node: one object retaining the rest of the chain
  assert_eq!(
    (top.name.as_str(), top.count, top.retained_size),
    ("Job", 1, 80 * 298)
  );
  // the older Jobs are the same kind: the chain as a whole hangs from Queue.first
  assert_eq!(
    (top.holder.name.as_str(), top.holder.edge.as_str()),
    ("Queue", "first")
  );
}
