//! The `leakprobe-report/1` JSON (ARCHITECTURE.md §7; its fields in index.d.ts).
use super::locations::{self, SourceLocation};
use super::names::display_name;
use super::paths::retainer_path;
use super::Analysis;
use crate::graph::kinds::edge_name;
use crate::graph::Kinds;
use crate::snapshot::HeapSnapshot;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

#[derive(Debug, Clone, Copy)]
pub struct AnalyzeOptions {
  /// how many nodes in `top`
  pub top: usize,
  /// how many of the `top` entries get a retainer path
  pub paths: usize,
  /// keep only the first N classes
  pub classes: Option<usize>,
}

impl Default for AnalyzeOptions {
  fn default() -> Self {
    AnalyzeOptions {
      top: 20,
      paths: 5,
      classes: None,
    }
  }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
  pub format: &'static str,
  pub snapshot: SnapshotSummary,
  pub timings: Timings,
  pub top: Vec<TopNode>,
  pub classes: Vec<ClassRow>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotSummary {
  pub nodes: u64,
  pub edges: u64,
  /// the root's retained size plus `extra_native_bytes`: DevTools' total
  pub total_size: u64,
  /// self sizes of nodes not reachable from the root over essential edges
  pub unreachable_size: u64,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
  pub parse_ms: f64,
  pub analyze_ms: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopNode {
  pub id: u64,
  pub name: String,
  #[serde(rename = "type")]
  pub node_type: String,
  pub self_size: u64,
  pub retained_size: u64,
  pub distance: i64,
  pub path: Vec<PathStep>,
  /// where the function, or an instance's class (its constructor), is defined; no key at all
  /// for nodes V8 gave no location
  #[serde(skip_serializing_if = "Option::is_none")]
  pub location: Option<SourceLocation>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathStep {
  pub id: u64,
  pub name: String,
  #[serde(rename = "type")]
  pub node_type: String,
  pub edge: String,
  pub edge_type: String,
  /// this step repeats this many times in a row (a linked list's `next`); absent when once
  #[serde(skip_serializing_if = "Option::is_none")]
  pub repeat: Option<u64>,
  /// with `repeat`: the run of steps that repeats is this one and the next `repeatSteps - 1`
  /// (a closure and its scope: `f.context → Context.prev`); absent when one step repeats
  #[serde(skip_serializing_if = "Option::is_none")]
  pub repeat_steps: Option<u32>,
  /// the edge from this step is Node's own machinery (a timer list, a bound function)
  #[serde(skip_serializing_if = "std::ops::Not::not")]
  pub internal: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassRow {
  pub name: String,
  pub count: u64,
  pub self_size: u64,
  pub retained_size: u64,
}

/// Names in reports are cut here (a string node can hold megabytes).
const NAME_LIMIT: usize = 200;

pub fn cut_name(s: String) -> String {
  cut_to(s, NAME_LIMIT)
}

/// `s` cut to at most `limit` bytes (at a character boundary) plus '…'.
pub fn cut_to(mut s: String, limit: usize) -> String {
  if s.len() > limit {
    let mut end = limit;
    while !s.is_char_boundary(end) {
      end -= 1;
    }
    s.truncate(end);
    s.push('…');
  }
  s
}

/// The N non-synthetic nodes with the largest retained size (ties: lower id first), as DevTools
/// orders its top list. A bounded heap: no sort of every node.
pub fn top_nodes(s: &HeapSnapshot, a: &Analysis, n: usize) -> Vec<u32> {
  if n == 0 {
    return Vec::new();
  }
  let mut heap: BinaryHeap<Reverse<(u64, Reverse<u32>, u32)>> = BinaryHeap::with_capacity(n + 1);
  for v in 0..s.node_count() {
    if s.node_type[v] == a.kinds.synthetic {
      continue;
    }
    let item = Reverse((a.retained.get(v), Reverse(s.node_id[v]), v as u32));
    if heap.len() < n {
      heap.push(item);
    } else if let Some(min) = heap.peek() {
      if item < *min {
        heap.pop();
        heap.push(item);
      }
    }
  }
  let mut out: Vec<(u64, Reverse<u32>, u32)> = heap.into_iter().map(|r| r.0).collect();
  out.sort_by(|x, y| y.cmp(x));
  out.into_iter().map(|t| t.2).collect()
}

/// A path as `retainer_path` gives it, named.
fn name_steps(s: &HeapSnapshot, k: &Kinds, steps: &[(u32, Option<u32>)]) -> Vec<PathStep> {
  steps
    .iter()
    .map(|&(v, e)| PathStep {
      id: s.node_id[v as usize] as u64,
      name: cut_name(display_name(s, k, v)),
      node_type: s.node_type_name(v).to_string(),
      edge: e.map(|e| edge_name(s, k, e as usize)).unwrap_or_default(),
      edge_type: e.map(|e| s.edge_type_name(e).to_string()).unwrap_or_default(),
      repeat: None,
      repeat_steps: None,
      internal: false,
    })
    .collect()
}

/// Summary rows merged per class name (DevTools splits a name by allocation site), largest
/// retained size first.
pub fn class_rows(a: &Analysis) -> Vec<ClassRow> {
  let mut by_name: HashMap<u32, ClassRow> = HashMap::new();
  for (key, row) in a.aggregates.keys.iter().zip(&a.aggregates.rows) {
    let class = match key {
      super::classes::ClassKey::Class(c) | super::classes::ClassKey::Located(c, _) => *c,
    };
    let e = by_name.entry(class).or_insert_with(|| ClassRow {
      name: a.classes.names[class as usize].clone(),
      count: 0,
      self_size: 0,
      retained_size: 0,
    });
    e.count += row.count;
    e.self_size += row.self_size;
    e.retained_size += row.retained_size;
  }
  let mut rows: Vec<ClassRow> = by_name.into_values().collect();
  rows.sort_by(|x, y| {
    y.retained_size
      .cmp(&x.retained_size)
      .then_with(|| x.name.cmp(&y.name))
  });
  rows
}

pub fn build(s: &HeapSnapshot, a: &Analysis, opts: &AnalyzeOptions) -> Report {
  select(s, a, opts).render(s)
}

/// What a report shows, picked from the analysis, before anything is named: the figures and
/// retainer paths (as node and edge ordinals) of the top nodes, and the Summary rows. Reads
/// node ids, types and edges but no node or edge name, so the analysis can be dropped and the
/// names brought back (`render`) without both in memory at once.
pub struct Selection {
  kinds: Kinds,
  snapshot: SnapshotSummary,
  top: Vec<Picked>,
  classes: Vec<ClassRow>,
}

struct Picked {
  node: u32,
  self_size: u64,
  retained_size: u64,
  distance: i64,
  path: Vec<(u32, Option<u32>)>,
}

pub fn select(s: &HeapSnapshot, a: &Analysis, opts: &AnalyzeOptions) -> Selection {
  let top = top_nodes(s, a, opts.top)
    .into_iter()
    .enumerate()
    .map(|(i, v)| Picked {
      node: v,
      self_size: s.node_self_size.get(v as usize),
      retained_size: a.retained.get(v as usize),
      distance: a.distances[v as usize] as i64,
      path: if i < opts.paths {
        retainer_path(s, a, v)
      } else {
        Vec::new()
      },
    })
    .collect();
  let mut classes = class_rows(a);
  if let Some(n) = opts.classes {
    classes.truncate(n);
  }
  let snapshot = SnapshotSummary {
    nodes: s.node_count() as u64,
    edges: s.edge_count() as u64,
    total_size: a.total_size,
    unreachable_size: a.unreachable_size,
  };
  Selection {
    kinds: a.kinds,
    snapshot,
    top,
    classes,
  }
}

impl Selection {
  /// The report, with names: `s` must hold its names again (and its locations: they are looked
  /// up here, not in `select`, as they go to the spill file with the names).
  pub fn render(self, s: &HeapSnapshot) -> Report {
    let k = &self.kinds;
    let sites: Vec<Option<u32>> = self.top.iter().map(|p| locations::site_of(s, p.node)).collect();
    let top = self
      .top
      .into_iter()
      .zip(locations::resolve(s, k, &sites))
      .map(|(p, location)| TopNode {
        id: s.node_id[p.node as usize] as u64,
        name: cut_name(display_name(s, k, p.node)),
        node_type: s.node_type_name(p.node).to_string(),
        self_size: p.self_size,
        retained_size: p.retained_size,
        distance: p.distance,
        path: name_steps(s, k, &p.path),
        location,
      })
      .collect();
    Report {
      format: "leakprobe-report/1",
      snapshot: self.snapshot,
      timings: Timings::default(),
      top,
      classes: self.classes,
    }
  }
}
