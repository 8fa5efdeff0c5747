//! Dominator tree and retained sizes: DevTools' Lengauer–Tarjan (`calculateDominatorsAndRetainedSizes`)
//! ported step for step, so that even the odd cases (nodes held only by weak edges, unreachable
//! cliques) get DevTools' dominators. Iterative throughout; arrays are `u32`, indexed by
//! ordinal + 1 with 0 meaning "none", as in the original.
use super::essential::BitSet;
use super::retainers::Retainers;
use crate::snapshot::{HeapSnapshot, SelfSizes};

pub struct Dominators {
  /// immediate dominator of each node (the root's is itself)
  pub idom: Vec<u32>,
  /// node ordinals in DFS order (the root first): children come after their dominators
  pub order: Vec<u32>,
  /// nodes not reachable from the root over essential edges (DevTools attaches them to the root)
  pub unreachable: BitSet,
}

impl Dominators {
  /// Self size plus everything each node dominates, summed up the tree in reverse DFS order.
  pub fn retained_sizes(&self, self_sizes: &SelfSizes) -> Vec<u64> {
    let mut retained: Vec<u64> = self_sizes.to_vec();
    for &o in self.order.iter().skip(1).rev() {
      let d = self.idom[o as usize] as usize;
      retained[d] += retained[o as usize];
    }
    retained
  }
}

/// Per vertex (node ordinal + 1), the Lengauer–Tarjan fields side by side: the pass reads a
/// vertex's ancestor, label and semi together, and with one array they share a cache line
/// (four separate arrays cost up to four misses per visit on a big heap).
#[derive(Clone, Copy, Default)]
#[repr(C, align(16))]
struct Vx {
  parent: u32,
  ancestor: u32,
  label: u32,
  semi: u32,
}

/// The dominator tree; retained sizes follow from it with `Dominators::retained_sizes` (the
/// self sizes are computed meanwhile on another thread).
pub fn compute(s: &HeapSnapshot, ret: &Retainers, essential: &BitSet) -> Dominators {
  let n = s.node_count();
  let len = n + 1;
  let mut x = vec![Vx::default(); len];
  let mut vertex = vec![0u32; len];
  let mut next_edge = vec![0u32; len];
  let mut count: u32 = 0;

  // DFS over essential edges, resuming each node's edge scan where it stopped.
  let dfs = |root: u32, x: &mut [Vx], vertex: &mut [u32], next_edge: &mut [u32], count: &mut u32| {
    next_edge[(root - 1) as usize] = s.first_edge[(root - 1) as usize];
    let mut v = root;
    while v != 0 {
      let xv = &mut x[v as usize];
      if xv.semi == 0 {
        *count += 1;
        xv.semi = *count;
        xv.label = v;
        vertex[*count as usize] = v;
      }
      let mut v_next = xv.parent;
      let vo = (v - 1) as usize;
      let end = s.first_edge[vo + 1];
      while next_edge[vo] < end {
        let e = next_edge[vo] as usize;
        if essential.get(e) {
          let wo = s.edge_to(e);
          let w = wo + 1;
          if x[w as usize].semi == 0 {
            x[w as usize].parent = v;
            next_edge[wo as usize] = s.first_edge[wo as usize];
            v_next = w;
            break;
          }
        }
        next_edge[vo] += 1;
      }
      v = v_next;
    }
  };

  let r: u32 = 1; // the root, ordinal 0
  dfs(r, &mut x, &mut vertex, &mut next_edge, &mut count);
  let reached = count;
  if (count as usize) < n {
    // nodes whose retainers are all non-essential hang off the root, with what they reach
    for v in 1..=n as u32 {
      if x[v as usize].semi == 0 && only_weak_retainers(ret, v - 1) {
        x[v as usize].parent = r;
        dfs(v, &mut x, &mut vertex, &mut next_edge, &mut count);
      }
    }
  }
  if (count as usize) < n {
    // what is left (cliques retained only by each other) becomes direct children of the root
    for v in 1..=n as u32 {
      if x[v as usize].semi == 0 {
        count += 1;
        x[v as usize] = Vx { parent: r, ancestor: 0, label: v, semi: count };
        vertex[count as usize] = v;
      }
    }
  }
  let mut unreachable = BitSet::new(n);
  for i in (reached + 1)..=count {
    unreachable.set((vertex[i as usize] - 1) as usize);
  }
  drop(next_edge);

  // buckets as singly linked lists (head per node, next per member): no per-node allocations
  let mut bucket_head = vec![0u32; len];
  // `next` links a bucket's members until the bucket is emptied; from then on the same slot
  // holds the member's dominator (every vertex sits in exactly one bucket, emptied once): one
  // array instead of two at the pass's peak
  let mut next_or_dom = vec![0u32; len];
  let mut stack: Vec<u32> = Vec::new();
  let evaluate = |v: u32, x: &mut [Vx], stack: &mut Vec<u32>| -> u32 {
    if x[v as usize].ancestor == 0 {
      return v;
    }
    // compress
    let mut a = v;
    stack.clear();
    while x[x[a as usize].ancestor as usize].ancestor != 0 {
      stack.push(a);
      a = x[a as usize].ancestor;
    }
    while let Some(w) = stack.pop() {
      let anc = x[w as usize].ancestor;
      let (la, lw) = (x[anc as usize].label, x[w as usize].label);
      if x[la as usize].semi < x[lw as usize].semi {
        x[w as usize].label = la;
      }
      x[w as usize].ancestor = x[anc as usize].ancestor;
    }
    x[v as usize].label
  };

  for i in (2..=count).rev() {
    let w = vertex[i as usize];
    let wo = w - 1;
    // w is not linked yet, so no evaluation below reads its semi: keep it in a register
    let mut sw = x[w as usize].semi;
    let mut orphan = true;
    for slot in ret.of(wo) {
      if !ret.essential_at(slot) {
        continue;
      }
      orphan = false;
      let v = ret.node_at(slot) + 1;
      let u = evaluate(v, &mut x, &mut stack);
      sw = sw.min(x[u as usize].semi);
    }
    if orphan {
      sw = x[r as usize].semi;
    }
    x[w as usize].semi = sw;
    let b = vertex[sw as usize] as usize;
    // a Set in DevTools: membership is what matters, and w is added once
    next_or_dom[w as usize] = bucket_head[b];
    bucket_head[b] = w;
    let p = x[w as usize].parent;
    x[w as usize].ancestor = p; // link
    let mut v = bucket_head[p as usize];
    while v != 0 {
      let u = evaluate(v, &mut x, &mut stack);
      let next = next_or_dom[v as usize];
      next_or_dom[v as usize] = if x[u as usize].semi < x[v as usize].semi { u } else { p };
      v = next;
    }
    bucket_head[p as usize] = 0;
  }
  // A bucket whose vertex has no DFS children is never emptied (a clique retained only by
  // itself: its members' semidominator is another member). DevTools leaves such a member's
  // dominator at its initial 0, which resolves to the root below; here the slot still holds the
  // bucket link, so reset it — else the member would get a sibling as its dominator.
  for b in 0..len {
    let mut v = bucket_head[b];
    while v != 0 {
      let next = next_or_dom[v as usize];
      next_or_dom[v as usize] = 0;
      v = next;
    }
  }
  let mut dom = next_or_dom;
  dom[0] = r;
  dom[r as usize] = r;
  for i in 2..=count {
    let w = vertex[i as usize];
    if dom[w as usize] != vertex[x[w as usize].semi as usize] {
      dom[w as usize] = dom[dom[w as usize] as usize];
    }
  }

  drop((x, bucket_head));
  // in place: dom[o + 1] (ordinal + 1) becomes idom[o] (ordinal)
  for o in 0..n {
    dom[o] = dom[o + 1].saturating_sub(1);
  }
  dom.truncate(n);
  // vertex[1..=count] are ordinal + 1 in DFS order: shifted down in place
  let mut order = vertex;
  for i in 0..count as usize {
    order[i] = order[i + 1] - 1;
  }
  order.truncate(count as usize);
  Dominators { idom: dom, order, unreachable }
}

fn only_weak_retainers(ret: &Retainers, node: u32) -> bool {
  ret.of(node).all(|slot| !ret.essential_at(slot))
}
