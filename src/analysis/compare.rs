//! Snapshot comparison (DESIGN §4 `leakprobe-compare/1`): DevTools' Comparison view per class,
//! and leak suspects: objects allocated after the baseline that are still alive in the last
//! snapshot (and, with three snapshots, were already alive in the target), grouped by what
//! they are and who holds them, ranked by what they retain.
use super::census::{leak_label, Census};
use super::locations::{self, SourceLocation};
use super::names::display_name;
use super::report::{cut_name, PathStep};
use super::Analysis;
use crate::graph::dom_tree::DomChildren;
use crate::graph::kinds::edge_name;
use crate::graph::{Kinds, NO_DISTANCE};
use crate::snapshot::HeapSnapshot;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy)]
pub struct CompareOptions {
  /// a suspect is a leak from this many retained bytes...
  pub threshold_bytes: u64,
  /// ...and this many objects
  pub threshold_count: u64,
  /// how many suspects to report
  pub suspects: usize,
  /// keep the first N class rows
  pub classes: Option<usize>,
}

impl Default for CompareOptions {
  fn default() -> Self {
    CompareOptions {
      threshold_bytes: 16 * 1024,
      threshold_count: 10,
      suspects: 10,
      classes: None,
    }
  }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
  pub format: &'static str,
  pub leak: bool,
  pub growth: Growth,
  pub snapshots: Vec<SnapshotFigures>,
  pub threshold: Threshold,
  pub timings: super::report::Timings,
  pub suspects: Vec<Suspect>,
  pub classes: Vec<ClassDiff>,
}

#[derive(Debug, Serialize)]
pub struct Growth {
  /// change of the total self size (all objects plus extra native bytes), first to last snapshot
  pub bytes: i64,
  pub objects: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotFigures {
  pub role: &'static str,
  pub nodes: u64,
  pub total_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Threshold {
  pub bytes: u64,
  pub count: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suspect {
  pub name: String,
  pub count: u64,
  pub self_size: u64,
  pub retained_size: u64,
  pub holder: Holder,
  pub path: Vec<PathStep>,
  pub sample_ids: Vec<u64>,
  /// live objects under this name in each snapshot (baseline, target[, final])
  pub counts: Vec<u64>,
  /// the count rose from each snapshot to the next
  pub growing: bool,
  /// held straight from V8's machinery (a stack slot, a handle scope, compiled code): transient
  /// or VM-owned, listed but never the verdict
  pub vm_held: bool,
  /// growing, at or above both thresholds, and not `vm_held`
  pub leak: bool,
  /// where the group's function, or its objects' class (constructor), is defined; no key for
  /// groups V8 gave no location (plain objects, arrays, strings)
  #[serde(skip_serializing_if = "Option::is_none")]
  pub location: Option<SourceLocation>,
  /// the location site, resolved to `location` (with its URL) once the suspects are cut to
  /// the ones reported
  #[serde(skip)]
  site: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct Holder {
  pub id: u64,
  pub name: String,
  /// the named edges from the holder down to the leaking objects (`acks`, `_events.request`)
  pub edge: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassDiff {
  pub name: String,
  pub count_delta: i64,
  pub size_delta: i64,
  pub new: u64,
  pub deleted: u64,
  pub new_size: u64,
  pub deleted_size: u64,
}

/// Compares `base` (and `target`, with three snapshots) with `last`, which is analyzed in full.
pub fn compare(
  base: &Census,
  target: Option<&Census>,
  last: &HeapSnapshot,
  a: &Analysis,
  opts: &CompareOptions,
) -> Comparison {
  let cur = Census::build(last, &a.kinds, &a.classes);
  let classes = class_diff(base, &cur, opts.classes);
  let mut suspects = find_suspects(base, target, last, a);
  for sp in &mut suspects {
    let mut counts = vec![base.label_count(&sp.name)];
    if let Some(t) = target {
      counts.push(t.label_count(&sp.name));
    }
    counts.push(cur.label_count(&sp.name));
    sp.growing = counts.windows(2).all(|w| w[1] > w[0]);
    sp.leak = sp.growing
      && !sp.vm_held
      && sp.retained_size >= opts.threshold_bytes
      && sp.count >= opts.threshold_count;
    sp.counts = counts;
  }
  // leaks first, then by retained size: the top suspect decides the verdict
  suspects.sort_by(|x, y| {
    y.leak
      .cmp(&x.leak)
      .then(y.retained_size.cmp(&x.retained_size))
      .then(x.name.cmp(&y.name))
  });
  suspects.truncate(opts.suspects);
  let sites: Vec<Option<u32>> = suspects.iter().map(|sp| sp.site).collect();
  for (sp, l) in suspects
    .iter_mut()
    .zip(locations::resolve(last, &a.kinds, &sites))
  {
    sp.location = l;
  }
  let mut snapshots = vec![SnapshotFigures {
    role: "baseline",
    nodes: base.nodes,
    total_bytes: base.total_bytes,
  }];
  if let Some(t) = target {
    snapshots.push(SnapshotFigures {
      role: "target",
      nodes: t.nodes,
      total_bytes: t.total_bytes,
    });
  }
  snapshots.push(SnapshotFigures {
    role: if target.is_some() { "final" } else { "target" },
    nodes: cur.nodes,
    total_bytes: cur.total_bytes,
  });
  Comparison {
    format: "leakprobe-compare/1",
    leak: suspects.first().is_some_and(|s| s.leak),
    growth: Growth {
      bytes: cur.total_bytes as i64 - base.total_bytes as i64,
      objects: cur.nodes as i64 - base.nodes as i64,
    },
    snapshots,
    threshold: Threshold {
      bytes: opts.threshold_bytes,
      count: opts.threshold_count,
    },
    timings: Default::default(),
    suspects,
    classes,
  }
}

/// DevTools' Comparison view, merged per class name: ids only in `cur` are new, ids only in
/// `base` deleted; an object whose class changed counts on both sides, as DevTools counts it.
pub fn class_diff(base: &Census, cur: &Census, limit: Option<usize>) -> Vec<ClassDiff> {
  let mut rows: Vec<ClassDiff> = Vec::new();
  let mut index: HashMap<String, usize> = HashMap::new();
  let mut row = |name: &str, rows: &mut Vec<ClassDiff>| -> usize {
    if let Some(&i) = index.get(name) {
      return i;
    }
    rows.push(ClassDiff {
      name: name.to_string(),
      count_delta: 0,
      size_delta: 0,
      new: 0,
      deleted: 0,
      new_size: 0,
      deleted_size: 0,
    });
    index.insert(name.to_string(), rows.len() - 1);
    rows.len() - 1
  };
  let (mut i, mut j) = (0usize, 0usize);
  let (b, c) = (&base.sized, &cur.sized);
  let mut add = |rows: &mut Vec<ClassDiff>, name: &str, size: u64, added: bool| {
    let r = row(name, rows);
    let d = &mut rows[r];
    if added {
      d.new += 1;
      d.new_size += size;
    } else {
      d.deleted += 1;
      d.deleted_size += size;
    }
  };
  while i < b.len() || j < c.len() {
    let bid = b.get(i).map(|x| x.0).unwrap_or(u32::MAX);
    let cid = c.get(j).map(|x| x.0).unwrap_or(u32::MAX);
    if i < b.len() && (j >= c.len() || bid < cid) {
      add(
        &mut rows,
        &base.class_names[b[i].1 as usize],
        base.sizes[i],
        false,
      );
      i += 1;
    } else if j < c.len() && (i >= b.len() || cid < bid) {
      add(&mut rows, &cur.class_names[c[j].1 as usize], cur.sizes[j], true);
      j += 1;
    } else {
      let (bn, cn) = (
        &base.class_names[b[i].1 as usize],
        &cur.class_names[c[j].1 as usize],
      );
      if bn != cn {
        add(&mut rows, bn, base.sizes[i], false);
        add(&mut rows, cn, cur.sizes[j], true);
      }
      i += 1;
      j += 1;
    }
  }
  for d in &mut rows {
    d.count_delta = d.new as i64 - d.deleted as i64;
    d.size_delta = d.new_size as i64 - d.deleted_size as i64;
  }
  rows.sort_by(|x, y| {
    y.size_delta
      .cmp(&x.size_delta)
      .then(y.count_delta.cmp(&x.count_delta))
      .then(x.name.cmp(&y.name))
  });
  if let Some(n) = limit {
    rows.truncate(n);
  }
  rows
}

/// Objects that are bookkeeping rather than things a program leaks: V8 internals, backing
/// stores, and the collections the leaking objects sit in.
fn is_internal(s: &HeapSnapshot, k: &Kinds, v: u32) -> bool {
  let t = s.node_type[v as usize];
  t == k.synthetic
    || t == k.hidden
    || t == k.array
    || t == k.code
    || s.node_type_name(v) == "object shape"
    || (t == k.object && s.node_name_str(v).starts_with("system / "))
}

/// Ancestors skipped when naming the holder: backing stores and plain collections, so the
/// holder is the object that owns the collection (`Socket` for `socket.acks`, a Map's table).
fn is_container(s: &HeapSnapshot, k: &Kinds, v: u32) -> bool {
  let t = s.node_type[v as usize];
  if t == k.array || t == k.hidden {
    return true;
  }
  if t != k.object {
    return false;
  }
  let name = s.node_name_str(v);
  if let Some(rest) = name.strip_prefix("system / ") {
    return rest != "Context";
  }
  matches!(name, "Object" | "Array" | "Map" | "Set" | "WeakMap" | "WeakSet")
}

const NO_EDGE: u32 = u32::MAX;

/// For every node, the edge into it on a shortest path from the GC roots, chosen as the
/// retainer paths of the report choose (highest retainer first, its last non-weak edge), in one
/// pass over the edges instead of a retainer scan per node.
fn shortest_parent_edges(s: &HeapSnapshot, a: &Analysis) -> Vec<u32> {
  let n = s.node_count();
  let mut parent = vec![NO_EDGE; n];
  for src in (1..n as u32).rev() {
    let ds = a.distances[src as usize];
    if ds == NO_DISTANCE {
      continue;
    }
    for e in s.edges_of(src).rev() {
      if s.edge_type(e) == a.kinds.e_weak {
        continue;
      }
      let to = s.edge_to(e) as usize;
      let dt = a.distances[to];
      if parent[to] == NO_EDGE && dt > 1 && dt == ds + 1 {
        parent[to] = e as u32;
      }
    }
  }
  parent
}

fn edge_source(s: &HeapSnapshot, e: u32) -> u32 {
  // first_edge is non-decreasing: the source is the last node whose first edge is <= e
  (s.first_edge.partition_point(|&f| f <= e) - 1) as u32
}

/// `covered[v]`: a strict dominator of v is itself a candidate, so v is part of a bigger leaked
/// object and not a suspect of its own. Preorder over the dominator tree, without recursion.
fn covered_by_candidates(n: usize, idom: &[u32], candidate: &[bool]) -> Vec<bool> {
  let tree = DomChildren::of(&idom[..n]);
  let mut covered = vec![false; n];
  let mut stack: Vec<u32> = vec![0];
  while let Some(v) = stack.pop() {
    let v = v as usize;
    let mark = covered[v] || candidate[v];
    for &c in tree.of_node(v) {
      covered[c as usize] = mark;
      stack.push(c);
    }
  }
  covered
}

struct Group {
  name: String,
  holder: Holder,
  /// edge label → members hanging from it
  edges: HashMap<String, u64>,
  vm_held: bool,
  count: u64,
  self_size: u64,
  retained: u64,
  /// largest members first (for sample ids and the path)
  best: Vec<(u64, u32)>,
}

const SAMPLES: usize = 5;
/// Paths are bounded by the distance; this is a guard against a malformed parent chain.
const MAX_WALK: usize = 100_000;

fn find_suspects(base: &Census, target: Option<&Census>, s: &HeapSnapshot, a: &Analysis) -> Vec<Suspect> {
  let n = s.node_count();
  let k = &a.kinds;
  let candidate: Vec<bool> = (0..n as u32)
    .map(|v| {
      let d = a.distances[v as usize];
      let id = s.node_id[v as usize];
      // objects held only from V8's own roots (stack, global handles: how a server's handlers
      // are held) count: a Node program's state is often reachable only that way
      d != NO_DISTANCE
        && !a.unreachable.get(v as usize)
        && !is_internal(s, k, v)
        && !base.has_id(id)
        && target.is_none_or(|t| t.has_id(id))
    })
    .collect();
  let covered = covered_by_candidates(n, &a.idom, &candidate);
  let parent = shortest_parent_edges(s, a);
  let mut holders = Holders {
    s,
    a,
    parent: &parent,
    candidate: &candidate,
    memo: HashMap::new(),
  };
  let mut groups: Vec<Group> = Vec::new();
  let mut by_key: HashMap<(String, String), usize> = HashMap::new();
  for v in 0..n as u32 {
    if !candidate[v as usize] || covered[v as usize] {
      continue;
    }
    let (holder, edge) = holders.of(v);
    let label = leak_label(s, k, &a.classes, v);
    let holder_name = match holder {
      Some(h) if s.node_type[h as usize] == k.synthetic => s.node_name_str(h).to_string(),
      Some(h) => a.classes.names[a.classes.of(h as usize) as usize].clone(),
      None => "(GC roots)".to_string(),
    };
    // one group per kind of object and holder class; the edge shown is the one most of the
    // group hangs from (a doubly linked list is reached from both of its ends)
    let key = (label, holder_name);
    let gi = match by_key.get(&key) {
      Some(&g) => g,
      None => {
        groups.push(Group {
          name: key.0.clone(),
          holder: Holder {
            id: holder.map(|h| s.node_id[h as usize] as u64).unwrap_or(0),
            name: key.1.clone(),
            edge: String::new(),
          },
          edges: HashMap::new(),
          vm_held: holder.is_none_or(|h| {
            let t = s.node_type[h as usize];
            t == k.synthetic || t == k.code || t == k.hidden
          }),
          count: 0,
          self_size: 0,
          retained: 0,
          best: Vec::new(),
        });
        by_key.insert(key, groups.len() - 1);
        groups.len() - 1
      }
    };
    let g = &mut groups[gi];
    *g.edges.entry(edge).or_default() += 1;
    let r = a.retained.get(v as usize);
    g.count += 1;
    g.self_size += s.node_self_size.get(v as usize);
    g.retained += r;
    if g.best.len() < SAMPLES || r > g.best[SAMPLES - 1].0 {
      let at = g.best.partition_point(|b| b.0 >= r);
      g.best.insert(at, (r, v));
      g.best.truncate(SAMPLES);
    }
  }
  groups
    .into_iter()
    .map(|g| {
      let path = g
        .best
        .first()
        .map(|&(_, v)| path_steps(s, a, &parent, v))
        .unwrap_or_default();
      let edge = g
        .edges
        .iter()
        .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0)))
        .map(|(e, _)| e.clone())
        .unwrap_or_default();
      Suspect {
        name: cut_name(g.name),
        count: g.count,
        self_size: g.self_size,
        retained_size: g.retained,
        holder: Holder {
          name: cut_name(g.holder.name),
          edge: cut_name(edge),
          ..g.holder
        },
        path,
        sample_ids: g
          .best
          .iter()
          .map(|&(_, v)| s.node_id[v as usize] as u64)
          .collect(),
        counts: Vec::new(),
        growing: false,
        vm_held: g.vm_held,
        leak: false,
        location: None,
        // the site most of the samples (the group's largest objects) share, ties to the
        // largest's: a group is one name and holder, so its members nearly always share one;
        // two classes of one name from two files are the exception
        site: locations::common_site(s, g.best.iter().map(|&(_, v)| v)),
      }
    })
    .collect()
}

fn same_kind(s: &HeapSnapshot, a: &Analysis, x: u32, y: u32) -> bool {
  let (x, y) = (x as usize, y as usize);
  a.classes.of(x) == a.classes.of(y)
    && (s.node_type[x] != a.kinds.closure || s.node_name[x] == s.node_name[y])
}

/// Who holds each leaked object, remembered per candidate: in a leaked linked list (a timer
/// list, say) every node's walk would otherwise climb through all the nodes before it.
struct Holders<'a> {
  s: &'a HeapSnapshot,
  a: &'a Analysis,
  parent: &'a [u32],
  candidate: &'a [bool],
  memo: HashMap<u32, (Option<u32>, String)>,
}

impl Holders<'_> {
  /// Walks up the shortest path from a leaked object to the nearest ancestor that is neither a
  /// container nor itself leaked; returns it with the named edges from it down to the topmost
  /// leaked object (edges inside the leaked group say nothing about who holds it).
  fn of(&mut self, v: u32) -> (Option<u32>, String) {
    let (s, k) = (self.s, &self.a.kinds);
    let mut edges: Vec<u32> = Vec::new();
    let mut leaked_on_the_way: Vec<u32> = vec![v];
    let mut cur = v;
    let mut found: Option<(Option<u32>, String)> = None;
    for _ in 0..MAX_WALK {
      let e = self.parent[cur as usize];
      if e == NO_EDGE {
        break;
      }
      let up = edge_source(s, e);
      edges.push(e);
      cur = up;
      if s.node_type[up as usize] == k.synthetic {
        // a GC root such as `(Stack roots)`: its slot numbers mean nothing to a reader
        found = Some((Some(up), edge_label(s, k, &edges, false)));
        break;
      }
      // the leaked group itself: new objects, and older ones of the same kind (the rest of
      // a leaked list) — the holder is what keeps the whole group alive
      if self.candidate[up as usize] || same_kind(s, self.a, up, v) {
        if let Some(known) = self.memo.get(&up) {
          found = Some(known.clone());
          break;
        }
        leaked_on_the_way.push(up);
        edges.clear();
        continue;
      }
      if !is_container(s, k, up) {
        found = Some((Some(up), edge_label(s, k, &edges, true)));
        break;
      }
    }
    let found = found.unwrap_or_else(|| {
      if cur != v {
        (Some(cur), edge_label(s, k, &edges, true))
      } else {
        (None, String::new())
      }
    });
    for c in leaked_on_the_way {
      self.memo.insert(c, found.clone());
    }
    found
  }
}

/// `acks`, `_events.request`: property and variable names from the holder down; indices and
/// internal links (a Map's `table`) are left out. `edges` runs from the object up.
fn edge_label(s: &HeapSnapshot, k: &Kinds, edges: &[u32], fallback: bool) -> String {
  let named: Vec<String> = edges
    .iter()
    .rev()
    .filter(|&&e| {
      let t = s.edge_type(e as usize);
      t != k.e_internal && t != k.e_element && t != k.e_hidden && t != k.e_weak
    })
    .map(|&e| edge_name(s, k, e as usize))
    .collect();
  if named.is_empty() && fallback {
    // nothing but internal links: show the first one rather than nothing
    // (indices differ from object to object and would split the group: `[]` for all of them)
    return edges
      .last()
      .map(|&e| {
        let name = edge_name(s, k, e as usize);
        if name.bytes().all(|b| b.is_ascii_digit()) {
          "[]".to_string()
        } else {
          name
        }
      })
      .unwrap_or_default();
  }
  named.join(".")
}

fn path_steps(s: &HeapSnapshot, a: &Analysis, parent: &[u32], v: u32) -> Vec<PathStep> {
  let k = &a.kinds;
  let step = |node: u32, edge: Option<u32>| PathStep {
    id: s.node_id[node as usize] as u64,
    name: cut_name(display_name(s, k, node)),
    node_type: s.node_type_name(node).to_string(),
    edge: edge.map(|e| edge_name(s, k, e as usize)).unwrap_or_default(),
    edge_type: edge.map(|e| s.edge_type_name(e).to_string()).unwrap_or_default(),
  };
  let mut rev = vec![step(v, None)];
  let mut cur = v;
  for _ in 0..MAX_WALK {
    let e = parent[cur as usize];
    if e == NO_EDGE {
      break;
    }
    cur = edge_source(s, e);
    rev.push(step(cur, Some(e)));
  }
  rev.reverse();
  rev
}
