//! Snapshot comparison (`leakprobe-compare/1`, ARCHITECTURE.md §4): DevTools' Comparison view per class,
//! and leak suspects: objects allocated after the baseline that are still alive in the last
//! snapshot (and, with three snapshots, were already alive in the target), grouped by what
//! they are and who holds them, ranked by what they retain.
use super::census::{leak_label, Census, KindKeys};
use super::locations::{self, SourceLocation};
use super::names::display_name;
use super::paths::{self, edge_source, NO_EDGE};
use super::report::{cut_name, PathStep};
use super::Analysis;
use crate::graph::dominator_tree::DomChildren;
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
  /// `retained_size` plus what the members of other groups held through this one retain:
  /// the order of the suspects
  #[serde(skip)]
  rank_size: u64,
  pub holder: Holder,
  pub path: Vec<PathStep>,
  pub sample_ids: Vec<u64>,
  /// the group's own objects in each snapshot (baseline, target[, final]): its kind held by
  /// its holder in the last snapshot, counted in each snapshot they were already alive in
  pub counts: Vec<u64>,
  /// live objects of the group's class (functions: of its name) in each snapshot
  pub class_counts: Vec<u64>,
  /// the class count rose from each snapshot to the next
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
  /// the group's kind, its largest object, and its holder's name before cutting
  #[serde(skip)]
  kind: KindOf,
  #[serde(skip)]
  largest: u32,
  #[serde(skip)]
  holder_key: String,
}

#[derive(Debug, Serialize)]
pub struct Holder {
  pub id: u64,
  pub name: String,
  /// the named edges from the holder down to the leaking objects (`acks`, `_events.request`;
  /// `sessions[*]` where the keys are data)
  pub edge: String,
  /// with a summarised edge (`sessions[*]`): how many keys that dictionary has
  #[serde(skip_serializing_if = "Option::is_none")]
  pub keys: Option<u64>,
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
  let suspects = find_suspects(base, target, &cur, last, a, opts);
  let mut suspects = suspects;
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

/// `covered[v]`: a strict dominator of v is itself a candidate, so v is part of a bigger leaked
/// object and not a suspect of its own. Preorder over the dominator tree, without recursion.
/// What a group's members are: their Summary class and, for functions, their own name (the
/// leak label as numbers: one label may be several classes of one name).
type KindOf = (u32, u32);

fn kind_of(s: &HeapSnapshot, a: &Analysis, v: u32) -> KindOf {
  let v = v as usize;
  let name = if s.node_type[v] == a.kinds.closure {
    s.node_name[v]
  } else {
    u32::MAX
  };
  (a.classes.of(v), name)
}

struct Group {
  name: String,
  kind: KindOf,
  holder: Holder,
  /// summarised edge label → members hanging from it, the first one's own label, and
  /// whether some member hangs from another key
  edges: HashMap<String, (u64, String, bool, u64)>,
  vm_held: bool,
  count: u64,
  self_size: u64,
  retained: u64,
  /// retained by the members of other groups held through this one (a listener's scope keeps
  /// the request: the request is held through the listener)
  through: u64,
  /// largest members first (for sample ids and the path)
  best: Vec<(u64, u32)>,
}

const SAMPLES: usize = 5;
const NO_GROUP: u32 = u32::MAX;

/// Which objects are new: allocated after the baseline (no object of the same id and kind
/// there) and, with three snapshots, alive in the target (the same object there).
fn new_objects(
  base: &Census,
  target: Option<&Census>,
  s: &HeapSnapshot,
  keys: &KindKeys,
) -> (Vec<bool>, Vec<bool>) {
  let n = s.node_count();
  let mut existed = vec![false; n];
  let mut alive_in_target = vec![false; n];
  for v in 0..n as u32 {
    let (id, kind) = (s.node_id[v as usize], keys.of(s, v));
    existed[v as usize] = base.has_object(id, kind);
    alive_in_target[v as usize] = target.is_none_or(|t| t.has_object(id, kind));
  }
  (existed, alive_in_target)
}

fn find_suspects(
  base: &Census,
  target: Option<&Census>,
  cur: &Census,
  s: &HeapSnapshot,
  a: &Analysis,
  opts: &CompareOptions,
) -> Vec<Suspect> {
  let (existed, in_target) = new_objects(base, target, s, &KindKeys::new(s));
  let candidate = candidates(s, a, &existed, &in_target);
  let internal = locations::in_node_internals(s, &a.kinds);
  let parent = paths::preferred_parent_edges(s, a, &internal);
  let mut holders = Holders::new(s, a, &parent, &candidate, &existed);
  let mut grouping = group_candidates(s, a, &candidate, &mut holders);
  credit_upstream(&mut grouping);
  let mut suspects: Vec<Suspect> = grouping.groups.into_iter().map(|g| g.into_suspect(s)).collect();
  for sp in &mut suspects {
    first_verdict(sp, base, target, cur, opts);
  }
  rank(&mut suspects);
  let new = NewObjects {
    existed: &existed,
    in_target: &in_target,
    three: target.is_some(),
  };
  settle_own_counts(&mut suspects, s, a, &mut holders, &new, opts);
  suspects.truncate(opts.suspects);
  for sp in &mut suspects {
    sp.path = path_steps(s, a, &parent, &internal, sp.largest);
  }
  suspects
}

/// The objects a leak can be made of: new, alive in the target, reachable, not bookkeeping.
fn candidates(s: &HeapSnapshot, a: &Analysis, existed: &[bool], in_target: &[bool]) -> Vec<bool> {
  (0..s.node_count())
    .map(|v| {
      // objects held only from V8's own roots (stack, global handles: how a server's handlers
      // are held) count: a Node program's state is often reachable only that way
      a.distances[v] != NO_DISTANCE
        && !a.unreachable.get(v)
        && !is_internal(s, &a.kinds, v as u32)
        && !existed[v]
        && in_target[v]
    })
    .collect()
}

/// The groups, the group each counted candidate is in, and each group root with the top
/// candidate of its path.
struct Grouping {
  groups: Vec<Group>,
  group_of: Vec<u32>,
  roots: Vec<(u32, u32)>,
  /// (kind label, holder class) → its group
  by_key: HashMap<(String, String), usize>,
}

/// Preorder over the dominator tree, without recursion: a candidate no other candidate
/// dominates starts (or joins) a group by its kind and holder; a candidate inside another one
/// counts in that group when it is of the group's kind (the rest of a linked list, of a chain of
/// closure scopes), and is part of its dominator's retained size otherwise.
fn group_candidates(s: &HeapSnapshot, a: &Analysis, candidate: &[bool], holders: &mut Holders) -> Grouping {
  let n = s.node_count();
  let mut g = Grouping {
    groups: Vec::new(),
    group_of: vec![NO_GROUP; n],
    roots: Vec::new(),
    by_key: HashMap::new(),
  };
  let tree = DomChildren::of(&a.idom[..n]);
  let mut stack: Vec<(u32, u32)> = vec![(0, NO_GROUP)];
  while let Some((v, inherited)) = stack.pop() {
    let vu = v as usize;
    let mut pass = inherited;
    if candidate[vu] {
      if inherited == NO_GROUP {
        let held = holders.of(v);
        let gi = g.group_for(s, a, v, &held);
        g.groups[gi].add_root(s, a, v, &held);
        g.group_of[vu] = gi as u32;
        g.roots.push((v, held.top));
        pass = gi as u32;
      } else if kind_of(s, a, v) == g.groups[inherited as usize].kind {
        let group = &mut g.groups[inherited as usize];
        group.count += 1;
        group.self_size += s.node_self_size.get(vu);
        g.group_of[vu] = inherited;
      }
    }
    for &c in tree.of_node(vu) {
      stack.push((c, pass));
    }
  }
  g
}

impl Grouping {
  /// The group of `v`'s kind and holder class, new if none yet: one group per kind of object
  /// and holder class.
  fn group_for(&mut self, s: &HeapSnapshot, a: &Analysis, v: u32, held: &Held) -> usize {
    let k = &a.kinds;
    let label = leak_label(s, k, &a.classes, v);
    let holder_name = match held.holder {
      Some(h) if s.node_type[h as usize] == k.synthetic => s.node_name_str(h).to_string(),
      Some(h) => a.classes.names[a.classes.of(h as usize) as usize].clone(),
      None => "(GC roots)".to_string(),
    };
    let key = (label, holder_name);
    if let Some(&g) = self.by_key.get(&key) {
      return g;
    }
    self.groups.push(Group {
      name: key.0.clone(),
      kind: kind_of(s, a, v),
      holder: Holder {
        id: held.holder.map(|h| s.node_id[h as usize] as u64).unwrap_or(0),
        name: key.1.clone(),
        edge: String::new(),
        keys: None,
      },
      edges: HashMap::new(),
      vm_held: held.holder.is_none_or(|h| {
        let t = s.node_type[h as usize];
        t == k.synthetic || t == k.code || t == k.hidden
      }),
      count: 0,
      self_size: 0,
      retained: 0,
      through: 0,
      best: Vec::new(),
    });
    self.by_key.insert(key, self.groups.len() - 1);
    self.groups.len() - 1
  }
}

/// A group reached through another group's members is a consequence of that one (a listener's
/// scope keeps the request): what it retains counts for the group most of its members hang
/// from when the two are ranked.
fn credit_upstream(g: &mut Grouping) {
  let mut votes: HashMap<(u32, u32), u64> = HashMap::new();
  for &(v, top) in &g.roots {
    if top == NO_NODE {
      continue;
    }
    let (from, to) = (g.group_of[top as usize], g.group_of[v as usize]);
    if from != NO_GROUP && from != to {
      *votes.entry((to, from)).or_default() += 1;
    }
  }
  let mut upstream: HashMap<u32, (u64, u32)> = HashMap::new();
  for (&(to, from), &n) in &votes {
    let best = upstream.entry(to).or_insert((n, from));
    if (n, std::cmp::Reverse(from)) > (best.0, std::cmp::Reverse(best.1)) {
      *best = (n, from);
    }
  }
  for (to, (_, from)) in upstream {
    g.groups[from as usize].through += g.groups[to as usize].retained;
  }
}

/// The class's count in each snapshot: the verdict's first cut.
fn first_verdict(
  sp: &mut Suspect,
  base: &Census,
  target: Option<&Census>,
  cur: &Census,
  opts: &CompareOptions,
) {
  let mut counts = vec![base.label_count(&sp.name)];
  if let Some(t) = target {
    counts.push(t.label_count(&sp.name));
  }
  counts.push(cur.label_count(&sp.name));
  sp.growing = counts.windows(2).all(|w| w[1] > w[0]);
  sp.class_counts = counts;
  sp.leak =
    sp.growing && !sp.vm_held && sp.rank_size >= opts.threshold_bytes && sp.count >= opts.threshold_count;
}

/// Which objects are new, as `new_objects` found them; `three`: three snapshots were compared.
struct NewObjects<'a> {
  existed: &'a [bool],
  in_target: &'a [bool],
  three: bool,
}

/// The group's own counts, for the groups reported and every one that may be a leak: the group
/// must have gained objects from each snapshot to the next as well. Until every group that may
/// be reported has them: a group that loses its `leak` flag moves down and lets others up (each
/// round only clears flags, so this ends).
fn settle_own_counts(
  suspects: &mut [Suspect],
  s: &HeapSnapshot,
  a: &Analysis,
  holders: &mut Holders,
  new: &NewObjects,
  opts: &CompareOptions,
) {
  let mut own: Vec<usize> = (0..suspects.len())
    .filter(|&i| i < opts.suspects || suspects[i].leak)
    .collect();
  while !own.is_empty() {
    let counts = own_counts(
      suspects,
      &own,
      s,
      a,
      holders,
      new.existed,
      new.in_target,
      new.three,
    );
    for (&i, c) in own.iter().zip(counts) {
      let sp = &mut suspects[i];
      sp.growing = sp.growing && c.windows(2).all(|w| w[1] > w[0]);
      sp.leak = sp.leak && sp.growing;
      sp.counts = c;
    }
    rank(suspects);
    own = (0..suspects.len().min(opts.suspects))
      .filter(|&i| suspects[i].counts.is_empty())
      .collect();
  }
}

impl Group {
  /// A group root joins: its edge label, its sizes, a sample. The edge shown is the one most of
  /// the group hangs from (a doubly linked list is reached from both of its ends).
  fn add_root(&mut self, s: &HeapSnapshot, a: &Analysis, v: u32, held: &Held) {
    let e = self
      .edges
      .entry(held.summary.clone())
      .or_insert_with(|| (0, held.edge.clone(), false, held.keys));
    e.0 += 1;
    e.2 |= e.1 != held.edge;
    let r = a.retained.get(v as usize);
    self.count += 1;
    self.self_size += s.node_self_size.get(v as usize);
    self.retained += r;
    add_sample(&mut self.best, r, v);
  }

  fn into_suspect(self, s: &HeapSnapshot) -> Suspect {
    let g = self;
    // a key shared by the whole group is a name (`_events.end`); keys that differ from
    // member to member are data (`sessions[*]`)
    let (edge, keys) = g
      .edges
      .iter()
      .max_by(|x, y| x.1 .0.cmp(&y.1 .0).then(y.0.cmp(x.0)))
      .map(|(summary, (_, first, differs, keys))| {
        if *differs {
          (summary.clone(), (*keys > 0).then_some(*keys))
        } else {
          (first.clone(), None)
        }
      })
      .unwrap_or_default();
    Suspect {
      name: cut_name(g.name),
      count: g.count,
      self_size: g.self_size,
      retained_size: g.retained,
      rank_size: g.retained + g.through,
      holder: Holder {
        name: cut_name(g.holder.name.clone()),
        edge: cut_name(edge),
        keys,
        ..g.holder
      },
      path: Vec::new(),
      sample_ids: g
        .best
        .iter()
        .map(|&(_, v)| s.node_id[v as usize] as u64)
        .collect(),
      counts: Vec::new(),
      class_counts: Vec::new(),
      growing: false,
      vm_held: g.vm_held,
      leak: false,
      location: None,
      // the site most of the samples (the group's largest objects) share, ties to the
      // largest's: a group is one name and holder, so its members nearly always share one;
      // two classes of one name from two files are the exception
      site: locations::common_site(s, g.best.iter().map(|&(_, v)| v)),
      kind: g.kind,
      largest: g.best.first().map(|b| b.1).unwrap_or(0),
      holder_key: g.holder.name,
    }
  }
}

/// Leaks first, then by what they retain (with what is held through them): the top suspect
/// decides the verdict.
fn rank(suspects: &mut [Suspect]) {
  suspects.sort_by(|x, y| {
    y.leak
      .cmp(&x.leak)
      .then(y.rank_size.cmp(&x.rank_size))
      .then(x.name.cmp(&y.name))
  });
}

/// The group's own objects per snapshot: the objects of its kind in the last snapshot held by
/// its holder (by class, as the groups are keyed), counted in each snapshot they were alive
/// in (baseline, target, last).
#[allow(clippy::too_many_arguments)]
fn own_counts(
  suspects: &[Suspect],
  which: &[usize],
  s: &HeapSnapshot,
  a: &Analysis,
  holders: &mut Holders,
  existed: &[bool],
  in_target: &[bool],
  three: bool,
) -> Vec<Vec<u64>> {
  let k = &a.kinds;
  let mut out: Vec<Vec<u64>> = which.iter().map(|_| vec![0; if three { 3 } else { 2 }]).collect();
  let mut by_kind: HashMap<KindOf, Vec<usize>> = HashMap::new();
  for (o, &i) in which.iter().enumerate() {
    by_kind.entry(suspects[i].kind).or_default().push(o);
  }
  for v in 0..s.node_count() as u32 {
    let vu = v as usize;
    if a.distances[vu] == NO_DISTANCE || a.unreachable.get(vu) || is_internal(s, k, v) {
      continue;
    }
    let Some(list) = by_kind.get(&kind_of(s, a, v)) else {
      continue;
    };
    let name = match holders.holder_of(v) {
      Some(h) if s.node_type[h as usize] == k.synthetic => s.node_name_str(h),
      Some(h) => a.classes.names[a.classes.of(h as usize) as usize].as_str(),
      None => "(GC roots)",
    };
    for &o in list {
      if suspects[which[o]].holder_key != name {
        continue;
      }
      let c = &mut out[o];
      c[0] += existed[vu] as u64;
      if three {
        c[1] += (existed[vu] || in_target[vu]) as u64;
      }
      *c.last_mut().unwrap() += 1;
    }
  }
  out
}

fn add_sample(best: &mut Vec<(u64, u32)>, r: u64, v: u32) {
  if best.len() < SAMPLES || r > best[SAMPLES - 1].0 {
    let at = best.partition_point(|b| b.0 >= r);
    best.insert(at, (r, v));
    best.truncate(SAMPLES);
  }
}

const NO_NODE: u32 = u32::MAX;

/// Who holds a group root: the holder, the edge from it, and the candidate nearest the holder
/// on the way (`NO_NODE` when none).
struct Held {
  holder: Option<u32>,
  edge: String,
  /// `edge` with dictionary keys summarised
  summary: String,
  /// how many keys the summarised dictionary has (0: none summarised)
  keys: u64,
  top: u32,
}

/// Who holds each leaked object, remembered per node of the leaking group met on the way up:
/// in a leaked linked list (a timer list, a chain of scopes) every node's walk would otherwise
/// climb through all the nodes before it.
struct Holders<'a> {
  s: &'a HeapSnapshot,
  a: &'a Analysis,
  parent: &'a [u32],
  candidate: &'a [bool],
  existed: &'a [bool],
  /// per node: index into `found`, or NO_NODE
  memo: Vec<u32>,
  /// per node: the candidate nearest the holder strictly above it, or NO_NODE
  memo_top: Vec<u32>,
  found: Vec<(Option<u32>, Label)>,
  /// per node: the holder `holder_of` found (ROOTS: none), NO_NODE: not walked yet
  light: Vec<u32>,
}

/// `holder_of`'s mark for "held by no object" (the walk reached a root without a holder).
const ROOTS: u32 = u32::MAX - 1;

impl<'a> Holders<'a> {
  fn new(
    s: &'a HeapSnapshot,
    a: &'a Analysis,
    parent: &'a [u32],
    candidate: &'a [bool],
    existed: &'a [bool],
  ) -> Self {
    let n = s.node_count();
    Holders {
      s,
      a,
      parent,
      candidate,
      existed,
      memo: vec![NO_NODE; n],
      memo_top: vec![NO_NODE; n],
      found: Vec::new(),
      light: Vec::new(),
    }
  }

  /// Part of the leaking group rather than its holder: a new object, an older one of the kind
  /// of the group object `below` it on the path (the rest of a leaked list), or anything
  /// allocated after the baseline that is not a mere collection (a closure scope made in the
  /// leaking rounds, shared by its listeners). It depends on the path above a node only, never
  /// on where the walk started: what is remembered per node holds for every walk through it.
  fn in_group(&self, up: u32, below: u32) -> bool {
    let (s, k) = (self.s, &self.a.kinds);
    self.candidate[up as usize]
      || kind_of(s, self.a, up) == kind_of(s, self.a, below)
      || (!self.existed[up as usize] && !is_container(s, k, up) && !is_module_scope(s, k, up))
  }

  /// `of` without the edge labels (remembered apart, one u32 per node): who holds each object
  /// of a group's kind, for the group's own counts over every such object of the heap.
  fn holder_of(&mut self, v: u32) -> Option<u32> {
    let (s, k) = (self.s, &self.a.kinds);
    if self.light.is_empty() {
      self.light = vec![NO_NODE; s.node_count()];
    }
    let mut on_the_way: Vec<u32> = vec![v];
    let mut cur = v;
    let mut found: Option<u32> = None;
    for _ in 0..s.node_count() {
      let e = self.parent[cur as usize];
      if e == NO_EDGE {
        break;
      }
      let up = edge_source(s, e);
      cur = up;
      if s.node_type[up as usize] == k.synthetic {
        found = Some(up);
        break;
      }
      if self.in_group(up, *on_the_way.last().unwrap_or(&v)) {
        let known = self.light[up as usize];
        if known != NO_NODE {
          found = (known != ROOTS).then_some(known);
          cur = v; // the answer is known: no fallback below
          break;
        }
        on_the_way.push(up);
        continue;
      }
      if !is_container(s, k, up) {
        found = Some(up);
        break;
      }
    }
    if found.is_none() && cur != v {
      found = Some(cur);
    }
    let mark = found.unwrap_or(ROOTS);
    for w in on_the_way {
      self.light[w as usize] = mark;
    }
    found
  }

  /// Walks up the shortest path from a leaked object to the nearest ancestor that existed in
  /// the baseline (or is a module scope), is not a container and is not part of the leaking
  /// group; returns it with the named edges from it down to the topmost object of the group
  /// (edges inside the group say nothing about who holds it).
  fn of(&mut self, v: u32) -> Held {
    let (s, k) = (self.s, &self.a.kinds);
    let mut edges: Vec<u32> = Vec::new();
    let mut on_the_way: Vec<u32> = vec![v];
    let mut cur = v;
    let mut found: Option<(Option<u32>, Label)> = None;
    let mut known: Option<u32> = None;
    // parent edges lead to a strictly smaller distance: at most n steps
    for _ in 0..s.node_count() {
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
      if self.in_group(up, *on_the_way.last().unwrap_or(&v)) {
        if self.memo[up as usize] != NO_NODE {
          known = Some(up);
          break;
        }
        on_the_way.push(up);
        edges.clear();
        continue;
      }
      if !is_container(s, k, up) {
        found = Some((Some(up), edge_label(s, k, &edges, true)));
        break;
      }
    }
    // the candidate nearest the holder, above each node of the way
    let (slot, mut top) = match known {
      Some(m) => {
        let above = self.memo_top[m as usize];
        let top = if above == NO_NODE && self.candidate[m as usize] {
          m
        } else {
          above
        };
        (self.memo[m as usize], top)
      }
      None => {
        let found = found.unwrap_or_else(|| {
          if cur != v {
            (Some(cur), edge_label(s, k, &edges, true))
          } else {
            (None, Label::default())
          }
        });
        self.found.push(found);
        ((self.found.len() - 1) as u32, NO_NODE)
      }
    };
    for &w in on_the_way.iter().rev() {
      self.memo[w as usize] = slot;
      self.memo_top[w as usize] = top;
      if top == NO_NODE && self.candidate[w as usize] && w != v {
        top = w;
      }
    }
    let (holder, label) = self.found[slot as usize].clone();
    Held {
      holder,
      edge: label.actual,
      summary: label.summary,
      keys: label.keys,
      top: self.memo_top[v as usize],
    }
  }
}

/// A module's (or the script's) own scope: a `system / Context` whose previous context is the
/// native context. It holds what a module keeps for ever, whenever it was loaded.
fn is_module_scope(s: &HeapSnapshot, k: &Kinds, v: u32) -> bool {
  if s.node_type[v as usize] != k.object || s.node_name_str(v) != "system / Context" {
    return false;
  }
  s.edges_of(v).any(|e| {
    s.edge_type(e) == k.e_internal
      && edge_name(s, k, e) == "previous"
      && s.node_name_str(s.edge_to(e)) == "system / NativeContext"
  })
}

/// An object in dictionary mode: its map has no descriptors (V8 writes `descriptors` for the
/// maps of fast objects only). Its property names are keys (`Object.create(null)`, a store
/// indexed by id): data, not the program's names.
fn is_dictionary(s: &HeapSnapshot, k: &Kinds, v: u32) -> bool {
  if s.node_type[v as usize] != k.object {
    return false;
  }
  let Some(map) = s
    .edges_of(v)
    .find(|&e| s.edge_type(e) == k.e_internal && edge_name(s, k, e) == "map")
    .map(|e| s.edge_to(e))
  else {
    return false;
  };
  !s.edges_of(map)
    .any(|e| s.edge_type(e) == k.e_internal && edge_name(s, k, e) == "descriptors")
}

/// `acks`, `_events.request`: property and variable names from the holder down; indices and
/// internal links (a Map's `table`) are left out. `edges` runs from the object up. Also the
/// same label with the keys of dictionary-mode objects summarised (`sessions[*]`): the group
/// shows that one when its members hang from more than one key.
/// A holder's edge: as it is, with dictionary keys summarised, and how many keys the first
/// summarised dictionary has (0: none).
#[derive(Debug, Clone, Default)]
struct Label {
  actual: String,
  summary: String,
  keys: u64,
}

fn edge_label(s: &HeapSnapshot, k: &Kinds, edges: &[u32], fallback: bool) -> Label {
  let mut actual: Vec<String> = Vec::new();
  let mut summary = String::new();
  let mut keys = 0u64;
  for &e in edges.iter().rev() {
    let t = s.edge_type(e as usize);
    if t == k.e_internal || t == k.e_element || t == k.e_hidden || t == k.e_weak {
      continue;
    }
    let name = edge_name(s, k, e as usize);
    let from = edge_source(s, e);
    if t == k.e_property && is_dictionary(s, k, from) {
      summary.push_str("[*]");
      if keys == 0 {
        // its own keys: V8 also writes the prototype as a property edge
        keys = s
          .edges_of(from)
          .filter(|&x| s.edge_type(x) == k.e_property && edge_name(s, k, x) != "__proto__")
          .count() as u64;
      }
    } else {
      if !summary.is_empty() {
        summary.push('.');
      }
      summary.push_str(&name);
    }
    actual.push(name);
  }
  if actual.is_empty() && fallback {
    // nothing but internal links: show the first one rather than nothing
    // (indices differ from object to object and would split the group: `[]` for all of them)
    let first = edges
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
    return Label {
      actual: first.clone(),
      summary: first,
      keys: 0,
    };
  }
  Label {
    actual: actual.join("."),
    summary,
    keys,
  }
}

/// Longest run of steps collapsed into one (`(undoRequest.context → system / Context.prev) ×180`).
const MAX_SPAN: usize = 4;

fn path_steps(s: &HeapSnapshot, a: &Analysis, parent: &[u32], internal: &[bool], v: u32) -> Vec<PathStep> {
  let k = &a.kinds;
  let raw = paths::preferred_path(s, parent, v);
  // what a reader sees of a step: the node's type and name, the edge's type and name (element
  // indices are all alike: `[i]` of a chain of arrays repeats)
  let key = |&(node, e): &(u32, u32)| {
    let edge = if e == NO_EDGE {
      (u8::MAX, u32::MAX)
    } else {
      let t = s.edge_type(e as usize);
      (
        t,
        if k.edge_has_string_name(t) {
          s.edge_name_or_index(e as usize)
        } else {
          u32::MAX
        },
      )
    };
    (s.node_type[node as usize], s.node_name[node as usize], edge)
  };
  let keys: Vec<_> = raw.iter().map(key).collect();
  let step = |(node, e): (u32, u32), repeat: u64, span: usize| PathStep {
    id: s.node_id[node as usize] as u64,
    name: cut_name(display_name(s, k, node)),
    node_type: s.node_type_name(node).to_string(),
    edge: if e == NO_EDGE {
      String::new()
    } else {
      edge_name(s, k, e as usize)
    },
    edge_type: if e == NO_EDGE {
      String::new()
    } else {
      s.edge_type_name(e).to_string()
    },
    repeat: (repeat > 1).then_some(repeat),
    repeat_steps: (repeat > 1 && span > 1).then_some(span as u32),
    internal: e != NO_EDGE && internal[node as usize],
  };
  let mut out = Vec::new();
  let mut i = 0;
  while i < raw.len() {
    // the shortest run of 1..=MAX_SPAN steps that repeats most often from here
    let mut best = (1u64, 1usize);
    for span in 1..=MAX_SPAN {
      let mut reps = 1u64;
      let mut j = i + span;
      while j + span <= raw.len() && keys[j..j + span] == keys[i..i + span] {
        reps += 1;
        j += span;
      }
      if reps > 1 && reps * span as u64 > best.0 * best.1 as u64 {
        best = (reps, span);
      }
    }
    let (reps, span) = best;
    for (o, &r) in raw[i..i + span].iter().enumerate() {
      let first = o == 0;
      out.push(step(r, if first { reps } else { 1 }, span));
    }
    i += reps as usize * span;
  }
  out
}
