//! Comparison on hand-built snapshot series: a growing ack map is a leak held by `Socket` /
//! `acks`; a bounded cache that evicts is not.
use super::census::Census;
use super::compare::{compare, CompareOptions, Comparison};
use super::Analysis;
use crate::snapshot::builder::{with_global, Builder};
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

/// A builder that gives each node the id it is told (ids are what ties snapshots together).
struct Ids {
  b: Builder,
  ids: Vec<u32>,
}

impl Ids {
  /// root (id 1) —shortcut→ global (id 3)
  fn new() -> (Ids, u32) {
    let (b, g) = with_global();
    (Ids { b, ids: vec![1, 3] }, g)
  }
  fn node(&mut self, t: &'static str, name: &str, size: u64, id: u32) -> u32 {
    self.ids.push(id);
    self.b.node(t, name, size)
  }
  fn edge(&mut self, from: u32, t: &'static str, name: &str, to: u32) {
    self.b.edge(from, t, name, to);
  }
  fn build(self) -> HeapSnapshot {
    let mut s = self.b.build();
    s.node_id = self.ids;
    s
  }
}

/// global.queue: Queue —first→ Job —next→ Job … with ids 1000, 1002, … (the first `n` of them)
fn job_chain(n: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let h = b.node("object", "Queue", 40, 5);
  b.edge(g, "property", "queue", h);
  let mut prev = h;
  for i in 0..n {
    let t = b.node("object", "Job", 80, 1000 + 2 * i);
    b.edge(prev, "property", if i == 0 { "first" } else { "next" }, t);
    prev = t;
  }
  b.build()
}

#[test]
fn a_leaked_chain_counts_every_node_added() {
  // the old head stays; the chain grows at its end: each new node dominates the next, and
  // all of them are the leak (98 added between the baseline and the target)
  let c = run(job_chain(2), Some(job_chain(100)), job_chain(300), loose());
  assert!(c.leak, "{c:#?}");
  let top = &c.suspects[0];
  assert_eq!(
    (top.name.as_str(), top.count, top.retained_size),
    ("Job", 98, 80 * 298)
  );
  // the older Jobs are the same kind: the chain as a whole hangs from Queue.first
  assert_eq!(
    (top.holder.name.as_str(), top.holder.edge.as_str()),
    ("Queue", "first")
  );
  // the group's own objects per snapshot: the chain's nodes alive then
  assert_eq!(top.counts, vec![2, 100, 300]);
  assert_eq!(top.class_counts, vec![2, 100, 300]);
  // a threshold of 10 objects: a chain is never "1 object"
  let c = run(
    job_chain(2),
    Some(job_chain(100)),
    job_chain(300),
    CompareOptions {
      threshold_bytes: 1,
      ..Default::default()
    },
  );
  assert!(c.leak);
}

#[test]
fn a_chain_path_collapses_its_repeated_steps() {
  let c = run(job_chain(50), Some(job_chain(100)), job_chain(150), loose());
  let top = &c.suspects[0];
  let steps: Vec<(&str, &str, Option<u64>)> = top
    .path
    .iter()
    .map(|p| (p.name.as_str(), p.edge.as_str(), p.repeat))
    .collect();
  // global.queue → Queue.first → Job.next ×50 → Job (the first node added after the baseline)
  assert_eq!(
    steps,
    vec![
      ("global", "queue", None),
      ("Queue", "first", None),
      ("Job", "next", Some(50)),
      ("Job", "", None)
    ]
  );
  assert_eq!(top.path[2].id, 1000);
  assert_eq!(top.path[3].id, 1100);
  let json = serde_json::to_string(&top.path).unwrap();
  assert_eq!(json.matches("\"repeat\":").count(), 1, "{json}");
}

#[test]
fn a_long_chain_needs_no_stack() {
  // walks up and down the chain are loops: a chain this long (and ten million) would overflow
  // any recursion
  let n = 2_000_000;
  let c = run(job_chain(10), Some(job_chain(n / 2)), job_chain(n), loose());
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("Job", (n / 2 - 10) as u64));
  assert_eq!(top.path.len(), 4);
  assert_eq!(top.path[2].repeat, Some(10));
}

/// A module scope `lastUndo` holding the newest of a chain of closures, each keeping the
/// previous one in its scope: undo —context→ Context —prev→ undo … (ids from 1000, 4 apart).
fn undo_chain(n: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let native = b.node("object", "system / NativeContext", 100, 5);
  let module = b.node("object", "system / Context", 50, 7);
  let main = b.node("closure", "main", 32, 9);
  b.edge(g, "property", "main", main);
  b.edge(main, "context", "context", module);
  b.edge(module, "internal", "previous", native);
  let mut prev = None;
  for i in 0..n {
    let f = b.node("closure", "undo", 32, 1000 + 4 * i);
    let ctx = b.node("object", "system / Context", 48, 1002 + 4 * i);
    b.edge(f, "context", "context", ctx);
    if let Some(p) = prev {
      b.edge(ctx, "context", "prev", p);
    }
    prev = Some(f);
  }
  if let Some(p) = prev {
    b.edge(module, "context", "lastUndo", p);
  }
  b.build()
}

#[test]
fn a_chain_of_closure_scopes_is_one_group_held_by_the_module() {
  let c = run(undo_chain(5), Some(undo_chain(45)), undo_chain(85), loose());
  assert!(c.leak, "{c:#?}");
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("undo()", 40));
  assert_eq!(
    (top.holder.name.as_str(), top.holder.edge.as_str()),
    ("system / Context", "lastUndo")
  );
  assert_eq!(top.counts, vec![5, 45, 85]);
  // the path repeats a closure and its scope: one run of two steps
  let run = top.path.iter().find(|p| p.repeat.is_some()).unwrap();
  assert_eq!((run.name.as_str(), run.repeat_steps), ("undo", Some(2)));
}

/// global.cache: Lru —entries→ Map —table→ (array) —[i]→ Entry, with the given ids, and one
/// `(compiled code)` node with id `code` (V8 hands freed ids to new objects).
fn cache_with_code(entry_ids: &[u32], code: Option<u32>) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let lru = b.node("object", "Lru", 40, 5);
  let map = b.node("object", "Map", 24, 7);
  let table = b.node("array", "", 16, 9);
  b.edge(g, "property", "cache", lru);
  b.edge(lru, "property", "entries", map);
  b.edge(map, "internal", "table", table);
  for (i, &id) in entry_ids.iter().enumerate() {
    let e = b.node("object", "Entry", 400, id);
    b.edge(table, "element", &i.to_string(), e);
  }
  if let Some(id) = code {
    let f = b.node("closure", "f", 32, 11);
    let k = b.node("code", "", 64, id);
    b.edge(g, "property", "f", f);
    b.edge(f, "internal", "code", k);
  }
  b.build()
}

#[test]
fn a_reused_id_is_another_object() {
  // id 250 is compiled code in the target and an Entry in the final snapshot: not a survivor
  let c = run(
    cache_with_code(&ids(100, 2), None),
    Some(cache_with_code(&[ids(100, 2), ids(200, 10)].concat(), Some(250))),
    cache_with_code(
      &[ids(100, 2), ids(200, 10), vec![250], ids(300, 5)].concat(),
      None,
    ),
    loose(),
  );
  assert!(c.leak, "{c:#?}");
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("Entry", 10));
  // id 99 was compiled code in the baseline: the Entry with that id is new, and a survivor
  let c = run(
    cache_with_code(&ids(100, 2), Some(99)),
    Some(cache_with_code(
      &[ids(100, 2), vec![99], ids(200, 10)].concat(),
      None,
    )),
    cache_with_code(&[ids(100, 2), vec![99], ids(200, 10), ids(300, 5)].concat(), None),
    loose(),
  );
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("Entry", 11));
  assert_eq!(top.counts, vec![2, 13, 18]);
}

/// A keep-alive Socket (old) whose `_events.end` and `_events.close` get one listener each per
/// request; the two share the request handler's scope, which keeps the request.
fn keepalive(n: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let sock = b.node("object", "Socket", 40, 5);
  let events = b.node("object", "Object", 24, 7);
  let ends = b.node("object", "Array", 16, 9);
  let end_store = b.node("array", "", 16 + 8 * n as u64, 11);
  let closes = b.node("object", "Array", 16, 13);
  let close_store = b.node("array", "", 16 + 8 * n as u64, 15);
  b.edge(g, "property", "server", sock);
  b.edge(sock, "property", "_events", events);
  b.edge(events, "property", "end", ends);
  b.edge(ends, "internal", "elements", end_store);
  b.edge(events, "property", "close", closes);
  b.edge(closes, "internal", "elements", close_store);
  for i in 0..n {
    let id = 1000 + 8 * i;
    let f = b.node("closure", "onClientEnd", 32, id);
    let h = b.node("closure", "onSocketClose", 32, id + 2);
    let ctx = b.node("object", "system / Context", 64, id + 4);
    let req = b.node("object", "IncomingMessage", 800, id + 6);
    b.edge(end_store, "element", &i.to_string(), f);
    b.edge(close_store, "element", &i.to_string(), h);
    b.edge(f, "context", "context", ctx);
    b.edge(h, "context", "context", ctx);
    b.edge(ctx, "context", "req", req);
  }
  b.build()
}

#[test]
fn a_scope_made_in_the_leaking_rounds_is_part_of_the_leak_not_its_holder() {
  let c = run(keepalive(4), Some(keepalive(24)), keepalive(44), loose());
  assert!(c.leak, "{c:#?}");
  // the listeners rank first: the requests are held through them
  let top = &c.suspects[0];
  assert!(
    top.name == "onClientEnd()" || top.name == "onSocketClose()",
    "{c:#?}"
  );
  assert_eq!(top.count, 20);
  assert_eq!(top.holder.name, "Socket");
  assert!(top.holder.edge == "_events.end" || top.holder.edge == "_events.close");
  // the requests are held by the socket too, never by the new scope
  let req = c
    .suspects
    .iter()
    .position(|s| s.name == "IncomingMessage")
    .unwrap();
  assert!(req > 0);
  assert_eq!(c.suspects[req].holder.name, "Socket");
  assert!(c.suspects.iter().all(|s| s.holder.name != "system / Context"));
}

/// A store keeping one Session per session id in a plain object (dictionary keys are data).
fn session_store(n: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let store = b.node("object", "SessionStore", 40, 5);
  let dict = b.node("object", "Object", 24, 7);
  // a dictionary-mode object's map has no `descriptors` (a fast one's has)
  let map = b.node("object shape", "system / Map", 40, 9);
  let fast_map = b.node("object shape", "system / Map", 40, 11);
  let descriptors = b.node("object shape", "system / DescriptorArray", 40, 13);
  b.edge(g, "property", "store", store);
  b.edge(store, "property", "sessions", dict);
  b.edge(dict, "internal", "map", map);
  b.edge(store, "internal", "map", fast_map);
  b.edge(fast_map, "internal", "descriptors", descriptors);
  for i in 0..n {
    let s = b.node("object", "Session", 120, 1000 + 2 * i);
    // a key that differs for every session, as random ids do
    b.edge(
      dict,
      "property",
      &format!("{:08x}-sid", i.wrapping_mul(2_654_435_761)),
      s,
    );
  }
  b.build()
}

#[test]
fn data_keys_are_summarised_in_the_holder_edge() {
  let c = run(
    session_store(100),
    Some(session_store(200)),
    session_store(300),
    loose(),
  );
  assert!(c.leak, "{c:#?}");
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("Session", 100));
  assert_eq!(
    (top.holder.name.as_str(), top.holder.edge.as_str()),
    ("SessionStore", "sessions[*]")
  );
  // every key of the store, old sessions too
  assert_eq!(top.holder.keys, Some(300));
}

/// Timers under a TimersList made in the leaking rounds (one list per duration): the module
/// scope (old) —timerListMap→ Object —[ms]→ TimersList —_idleNext→ Timeout —_idleNext→ list.
fn timers(n: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let native = b.node("object", "system / NativeContext", 100, 5);
  let module = b.node("object", "system / Context", 50, 7);
  let main = b.node("closure", "main", 32, 9);
  let map = b.node("object", "Object", 24, 11);
  b.edge(g, "property", "main", main);
  b.edge(main, "context", "context", module);
  b.edge(module, "internal", "previous", native);
  b.edge(module, "context", "timerListMap", map);
  for i in 0..n {
    let list = b.node("object", "TimersList", 40, 1000 + 4 * i);
    let t = b.node("object", "Timeout", 120, 1002 + 4 * i);
    b.edge(map, "element", &(3_600_000 + i).to_string(), list);
    b.edge(list, "property", "_idleNext", t);
    b.edge(list, "property", "_idlePrev", t);
    b.edge(t, "property", "_idleNext", list);
    b.edge(t, "property", "_idlePrev", list);
  }
  b.build()
}

#[test]
fn a_leak_under_lists_made_in_the_leaking_rounds_is_a_leak() {
  let c = run(timers(3), Some(timers(13)), timers(23), loose());
  assert!(c.leak, "{c:#?}");
  let top = &c.suspects[0];
  assert_eq!(top.count, 10);
  assert!(top.name == "TimersList" || top.name == "Timeout", "{c:#?}");
  assert_eq!(top.holder.name, "system / Context");
  assert!(top.holder.edge.starts_with("timerListMap"), "{c:#?}");
}

/// Jobs in a queue (the leak) beside Jobs of a pool that churns: the pool's are the class's.
fn jobs_and_pool(n: u32, pool_from: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let q = b.node("object", "Queue", 40, 5);
  let arr = b.node("array", "", 16, 7);
  let pool = b.node("object", "Pool", 40, 9);
  let parr = b.node("array", "", 16, 11);
  b.edge(g, "property", "queue", q);
  b.edge(q, "internal", "elements", arr);
  b.edge(g, "property", "pool", pool);
  b.edge(pool, "internal", "elements", parr);
  for i in 0..n {
    let j = b.node("object", "Job", 80, 1000 + 2 * i);
    b.edge(arr, "element", &i.to_string(), j);
  }
  for i in 0..50 {
    let j = b.node("object", "Job", 80, pool_from + 2 * i);
    b.edge(parr, "element", &i.to_string(), j);
  }
  b.build()
}

#[test]
fn counts_are_the_groups_own_and_the_class_is_labelled_apart() {
  let c = run(
    jobs_and_pool(10, 100_000),
    Some(jobs_and_pool(30, 200_000)),
    jobs_and_pool(50, 300_000),
    loose(),
  );
  assert!(c.leak, "{c:#?}");
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("Job", 20));
  assert_eq!(top.holder.name, "Queue");
  assert_eq!(top.counts, vec![10, 30, 50]);
  assert_eq!(top.class_counts, vec![60, 80, 100]);
}

/// A Socket whose dictionary-mode `_events` (as `{ __proto__: null }` is) holds `n` listeners
/// under `end`.
fn listeners_on_end(n: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let sock = b.node("object", "Socket", 40, 5);
  let events = b.node("object", "Object", 24, 7);
  let map = b.node("object shape", "system / Map", 40, 9);
  let list = b.node("object", "Array", 16, 11);
  let store = b.node("array", "", 16, 13);
  b.edge(g, "property", "sock", sock);
  b.edge(sock, "property", "_events", events);
  b.edge(events, "internal", "map", map);
  b.edge(events, "property", "end", list);
  b.edge(list, "internal", "elements", store);
  for i in 0..n {
    let f = b.node("closure", "onEnd", 32, 1000 + 2 * i);
    b.edge(store, "element", &i.to_string(), f);
  }
  b.build()
}

#[test]
fn a_key_the_whole_group_shares_is_a_name() {
  let c = run(
    listeners_on_end(3),
    Some(listeners_on_end(13)),
    listeners_on_end(23),
    loose(),
  );
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("onEnd()", 10));
  assert_eq!(
    (top.holder.name.as_str(), top.holder.edge.as_str()),
    ("Socket", "_events.end")
  );
  assert_eq!(top.holder.keys, None);
}

/// Jobs a queue took once (between the baseline and the target, none since: `queued`) beside
/// a pool that keeps gaining Jobs (`pooled`, all kept).
fn queue_and_pool(queued: u32, pooled: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let q = b.node("object", "Queue", 40, 5);
  let arr = b.node("array", "", 16, 7);
  let pool = b.node("object", "Pool", 40, 9);
  let parr = b.node("array", "", 16, 11);
  b.edge(g, "property", "queue", q);
  b.edge(q, "internal", "elements", arr);
  b.edge(g, "property", "pool", pool);
  b.edge(pool, "internal", "elements", parr);
  for i in 0..queued {
    let j = b.node("object", "Job", 4000, 1000 + 2 * i);
    b.edge(arr, "element", &i.to_string(), j);
  }
  for i in 0..pooled {
    let j = b.node("object", "Job", 80, 5000 + 2 * i);
    b.edge(parr, "element", &i.to_string(), j);
  }
  b.build()
}

#[test]
fn a_group_that_stopped_gaining_objects_is_not_the_leak() {
  // the class grows (the pool's Jobs), but the queue's own Jobs stopped after the target: the
  // queue is listed, not the verdict; the pool's group, beyond the first cut, is
  let c = run(
    queue_and_pool(0, 5),
    Some(queue_and_pool(10, 10)),
    queue_and_pool(10, 20),
    CompareOptions {
      suspects: 1,
      ..loose()
    },
  );
  assert!(c.leak, "{c:#?}");
  assert_eq!(c.suspects.len(), 1);
  let top = &c.suspects[0];
  assert_eq!((top.holder.name.as_str(), top.count), ("Pool", 5));
  assert_eq!(top.counts, vec![5, 10, 20]);
  assert_eq!(top.class_counts, vec![5, 20, 30]);
  let both = run(
    queue_and_pool(0, 5),
    Some(queue_and_pool(10, 10)),
    queue_and_pool(10, 20),
    loose(),
  );
  let queue = both.suspects.iter().find(|s| s.holder.name == "Queue").unwrap();
  assert_eq!(queue.counts, vec![0, 10, 10]);
  assert!(!queue.growing && !queue.leak);
}

/// `job_chain` where each Job keeps its own string, and `global.last` a
/// string of its own (a `(string)` group beside the Jobs: id 900 in the baseline, 902 from the target on).
fn job_chain_with_urls(n: u32) -> HeapSnapshot {
  let (mut b, g) = Ids::new();
  let h = b.node("object", "Queue", 40, 5);
  b.edge(g, "property", "queue", h);
  // the strings first in the node order, then the Jobs newest first: the walks for the
  // strings come first, and each Job's comes before the older Job above it has its own
  let urls: Vec<u32> = (0..n)
    .map(|i| b.node("string", "/job", 24, 100_000 + 2 * i))
    .collect();
  let mut jobs: Vec<u32> = (0..n)
    .rev()
    .map(|i| b.node("object", "Job", 80, 1000 + 2 * i))
    .collect();
  jobs.reverse();
  let mut prev = h;
  for (i, (&t, &url)) in jobs.iter().zip(&urls).enumerate() {
    b.edge(prev, "property", if i == 0 { "first" } else { "next" }, t);
    b.edge(t, "property", "url", url);
    prev = t;
  }
  let last = b.node("string", "last", 24, if n >= 100 { 902 } else { 900 });
  b.edge(g, "property", "last", last);
  b.build()
}

#[test]
fn who_holds_a_chain_does_not_depend_on_the_walk_that_met_it_first() {
  // the walk for a string meets the chain from below before the Jobs' own walks: what it
  // remembers on the Jobs must hold for them too
  let c = run(
    job_chain_with_urls(2),
    Some(job_chain_with_urls(100)),
    job_chain_with_urls(300),
    loose(),
  );
  let top = &c.suspects[0];
  assert_eq!((top.name.as_str(), top.count), ("Job", 98));
  assert_eq!(top.holder.name, "Queue");
  assert_eq!(top.counts, vec![2, 100, 300]);
  assert!(c.suspects.iter().any(|s| s.name == "(string)"), "{c:#?}");
}
