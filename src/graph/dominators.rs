//! Dominator tree and retained sizes: DevTools' Lengauer–Tarjan (`calculateDominatorsAndRetainedSizes`)
//! ported step for step, so that even the odd cases (nodes held only by weak edges, unreachable
//! cliques) get DevTools' dominators. Iterative throughout; arrays are `u32`, indexed by
//! ordinal + 1 with 0 meaning "none", as in the original.
use super::essential::BitSet;
use super::retainers::Retainers;
use crate::snapshot::HeapSnapshot;

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
  pub fn retained_sizes(&self, self_sizes: &[u64]) -> Vec<u64> {
    let mut retained: Vec<u64> = self_sizes.to_vec();
    for &o in self.order.iter().skip(1).rev() {
      let d = self.idom[o as usize] as usize;
      retained[d] += retained[o as usize];
    }
    retained
  }
}

/// The dominator tree; retained sizes follow from it with `Dominators::retained_sizes` (the
/// self sizes are computed meanwhile on another thread).
pub fn compute(s: &HeapSnapshot, ret: &Retainers, essential: &BitSet) -> Dominators {
  let n = s.node_count();
  let len = n + 1;
  let mut parent = vec![0u32; len];
  let mut ancestor = vec![0u32; len];
  let mut vertex = vec![0u32; len];
  let mut label = vec![0u32; len];
  let mut semi = vec![0u32; len];
  let mut next_edge = vec![0u32; len];
  let mut count: u32 = 0;

  // DFS over essential edges, resuming each node's edge scan where it stopped.
  let dfs = |root: u32, parent: &mut Vec<u32>, semi: &mut Vec<u32>, vertex: &mut Vec<u32>, label: &mut Vec<u32>, next_edge: &mut Vec<u32>, count: &mut u32| {
    next_edge[(root - 1) as usize] = s.first_edge[(root - 1) as usize];
    let mut v = root;
    while v != 0 {
      if semi[v as usize] == 0 {
        *count += 1;
        semi[v as usize] = *count;
        vertex[*count as usize] = v;
        label[v as usize] = v;
      }
      let mut v_next = parent[v as usize];
      let vo = (v - 1) as usize;
      let end = s.first_edge[vo + 1];
      while next_edge[vo] < end {
        let e = next_edge[vo] as usize;
        if essential.get(e) {
          let wo = s.edge_to[e];
          let w = wo + 1;
          if semi[w as usize] == 0 {
            parent[w as usize] = v;
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
  dfs(r, &mut parent, &mut semi, &mut vertex, &mut label, &mut next_edge, &mut count);
  let reached = count;
  if (count as usize) < n {
    // nodes whose retainers are all non-essential hang off the root, with what they reach
    for v in 1..=n as u32 {
      if semi[v as usize] == 0 && only_weak_retainers(ret, v - 1) {
        parent[v as usize] = r;
        dfs(v, &mut parent, &mut semi, &mut vertex, &mut label, &mut next_edge, &mut count);
      }
    }
  }
  if (count as usize) < n {
    // what is left (cliques retained only by each other) becomes direct children of the root
    for v in 1..=n as u32 {
      if semi[v as usize] == 0 {
        parent[v as usize] = r;
        count += 1;
        semi[v as usize] = count;
        vertex[count as usize] = v;
        label[v as usize] = v;
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
  let evaluate = |v: u32, ancestor: &mut Vec<u32>, label: &mut Vec<u32>, semi: &Vec<u32>, stack: &mut Vec<u32>| -> u32 {
    if ancestor[v as usize] == 0 {
      return v;
    }
    // compress
    let mut x = v;
    stack.clear();
    while ancestor[ancestor[x as usize] as usize] != 0 {
      stack.push(x);
      x = ancestor[x as usize];
    }
    while let Some(w) = stack.pop() {
      let a = ancestor[w as usize];
      if semi[label[a as usize] as usize] < semi[label[w as usize] as usize] {
        label[w as usize] = label[a as usize];
      }
      ancestor[w as usize] = ancestor[a as usize];
    }
    label[v as usize]
  };

  for i in (2..=count).rev() {
    let w = vertex[i as usize];
    let wo = w - 1;
    let mut orphan = true;
    for slot in ret.of(wo) {
      if !ret.essential_at(slot) {
        continue;
      }
      orphan = false;
      let v = ret.node_at(slot) + 1;
      let u = evaluate(v, &mut ancestor, &mut label, &semi, &mut stack);
      if semi[u as usize] < semi[w as usize] {
        semi[w as usize] = semi[u as usize];
      }
    }
    if orphan {
      semi[w as usize] = semi[r as usize];
    }
    let b = vertex[semi[w as usize] as usize] as usize;
    // a Set in DevTools: membership is what matters, and w is added once
    next_or_dom[w as usize] = bucket_head[b];
    bucket_head[b] = w;
    let p = parent[w as usize];
    ancestor[w as usize] = p; // link
    let mut v = bucket_head[p as usize];
    while v != 0 {
      let u = evaluate(v, &mut ancestor, &mut label, &semi, &mut stack);
      let next = next_or_dom[v as usize];
      next_or_dom[v as usize] = if semi[u as usize] < semi[v as usize] { u } else { p };
      v = next;
    }
    bucket_head[p as usize] = 0;
  }
  let mut dom = next_or_dom;
  dom[0] = r;
  dom[r as usize] = r;
  for i in 2..=count {
    let w = vertex[i as usize];
    if dom[w as usize] != vertex[semi[w as usize] as usize] {
      dom[w as usize] = dom[dom[w as usize] as usize];
    }
  }

  drop((parent, ancestor, label, semi, bucket_head));
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
