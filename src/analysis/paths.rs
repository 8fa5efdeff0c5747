//! Retainer paths: from a node back to the GC roots, one step closer each time, over non-weak
//! edges. Two rules, for two questions:
//! - `retainer_path`, DevTools' (the analyze report, which must match the Memory panel): along
//!   retainers one distance step closer, first match in DevTools' retainer order, never from
//!   the synthetic root.
//! - `preferred_parent_edges` + `preferred_path`, compare's (who holds a leak): breadth-first
//!   from the same distance-1 roots, through the program's own objects before Node's internals,
//!   so the holder named is the program's. Where no internal object is in the way it is never
//!   longer than DevTools' path (`tests` checks this on the fixture).
use super::Analysis;
use crate::graph::NO_DISTANCE;
use crate::snapshot::HeapSnapshot;
use std::collections::VecDeque;

/// `(node, edge from it to the next step)` from the root side down to `node` (whose edge is None).
pub fn retainer_path(s: &HeapSnapshot, a: &Analysis, node: u32) -> Vec<(u32, Option<u32>)> {
  let mut rev: Vec<(u32, Option<u32>)> = vec![(node, None)];
  let mut cur = node;
  loop {
    let d = a.distances[cur as usize];
    if d == NO_DISTANCE || d <= 1 {
      break;
    }
    // DevTools lists a retainer's edges to one node last-first: take its last non-weak one
    let step = a.retainers.of(cur).find_map(|slot| {
      let r = a.retainers.node_at(slot);
      if r == 0 || a.distances[r as usize] != d - 1 {
        return None;
      }
      s.edges_of(r)
        .rev()
        .find(|&e| s.edge_to(e) == cur && s.edge_type(e) != a.kinds.e_weak)
        .map(|e| (r, e as u32))
    });
    match step {
      Some((r, e)) => {
        cur = r;
        rev.push((cur, Some(e)));
      }
      None => break,
    }
  }
  rev.reverse();
  rev
}

/// No edge: the node starts its path.
pub const NO_EDGE: u32 = u32::MAX;

/// For every node, the edge into it on the path a developer would recognise: breadth-first
/// from the user roots (the globals, hence the module scopes) through the program's own
/// objects first; then through Node's internals (`internal`: a timer list, a socket's stream
/// state) for what only they reach; then from V8's own roots (stack, handles) for the rest.
/// Each parent is one BFS level up: walks over it always end. The root's edges are never
/// parents: a path starts at a user root or at a GC root such as `(Stack roots)`.
pub fn preferred_parent_edges(s: &HeapSnapshot, a: &Analysis, internal: &[bool]) -> Vec<u32> {
  let n = s.node_count();
  let mut parent = vec![NO_EDGE; n];
  let mut seen = vec![false; n];
  let mut queue: VecDeque<u32> = VecDeque::new();
  let mut deferred: Vec<u32> = Vec::new();
  if n == 0 {
    return parent;
  }
  seen[0] = true;
  let expand = |u: u32, queue: &mut VecDeque<u32>, seen: &mut [bool], parent: &mut [u32]| {
    for e in s.edges_of(u) {
      if s.edge_type(e) == a.kinds.e_weak {
        continue;
      }
      let to = s.edge_to(e) as usize;
      if !seen[to] {
        seen[to] = true;
        parent[to] = e as u32;
        queue.push_back(to as u32);
      }
    }
  };
  for (v, &d) in a.distances.iter().enumerate().take(n).skip(1) {
    if d == 1 {
      seen[v] = true;
      queue.push_back(v as u32);
    }
  }
  for phase in 0..3 {
    if phase == 1 {
      queue.extend(deferred.drain(..));
    } else if phase == 2 {
      // V8's own roots, for what the program's roots do not reach
      for e in s.edges_of(0) {
        let to = s.edge_to(e) as usize;
        if !seen[to] && s.edge_type(e) != a.kinds.e_weak {
          seen[to] = true;
          queue.push_back(to as u32);
        }
      }
    }
    while let Some(u) = queue.pop_front() {
      if phase == 0 && internal[u as usize] {
        deferred.push(u);
        continue;
      }
      expand(u, &mut queue, &mut seen, &mut parent);
    }
  }
  parent
}

/// The node edge `e` leaves.
pub fn edge_source(s: &HeapSnapshot, e: u32) -> u32 {
  // first_edge is non-decreasing: the source is the last node whose first edge is <= e
  (s.first_edge.partition_point(|&f| f <= e) - 1) as u32
}

/// `(node, edge from it to the next step)` from the root side down to `v` (whose edge is
/// `NO_EDGE`), along `parent` from `preferred_parent_edges`. Bounded: each parent is one BFS
/// level up.
pub fn preferred_path(s: &HeapSnapshot, parent: &[u32], v: u32) -> Vec<(u32, u32)> {
  let mut raw: Vec<(u32, u32)> = vec![(v, NO_EDGE)];
  let mut cur = v;
  for _ in 0..s.node_count() {
    let e = parent[cur as usize];
    if e == NO_EDGE {
      break;
    }
    cur = edge_source(s, e);
    raw.push((cur, e));
  }
  raw.reverse();
  raw
}

#[cfg(test)]
mod tests;
