//! Retainer paths: from a node back to the GC roots along retainers one step closer each time
//! (DevTools' retainers view: no weak edges, nothing from the synthetic root), first match in
//! DevTools' retainer order. Bounded by the distance, so it always ends.
use super::Analysis;
use crate::graph::NO_DISTANCE;
use crate::snapshot::HeapSnapshot;

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
