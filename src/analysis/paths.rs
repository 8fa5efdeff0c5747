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
    let step = a.retainers.of(cur).find(|&slot| {
      let r = a.retainers.node[slot];
      let e = a.retainers.edge[slot] as usize;
      r != 0 && s.edge_type[e] != a.kinds.e_weak && a.distances[r as usize] == d - 1
    });
    match step {
      Some(slot) => {
        cur = a.retainers.node[slot];
        rev.push((cur, Some(a.retainers.edge[slot])));
      }
      None => break,
    }
  }
  rev.reverse();
  rev
}
