//! SEMI-NCA against DevTools' own Lengauer–Tarjan (with buckets) on many random graphs with
//! non-essential edges, nodes held only by them, and cliques held only by each other.
use super::bitset::BitSet;
use super::dominators::{compute, only_weak_retainers, EssentialGraph};
use super::retainers::{Retainers, ESSENTIAL};
use crate::snapshot::model::pack_edge;
use crate::snapshot::HeapSnapshot;

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

/// DevTools' Lengauer–Tarjan with buckets, ported step for step (leakprobe's previous
/// implementation): the reference the SEMI-NCA version must agree with.
fn reference(s: &HeapSnapshot, ret: &Retainers, essential: &BitSet) -> Vec<u32> {
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
        x[v as usize] = Vx {
          parent: r,
          ancestor: 0,
          label: v,
          semi: count,
        };
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
      next_or_dom[v as usize] = if x[u as usize].semi < x[v as usize].semi {
        u
      } else {
        p
      };
      v = next;
    }
    bucket_head[p as usize] = 0;
  }
  for &head in bucket_head.iter().take(len) {
    let mut v = head;
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

  (0..n).map(|o| dom[o + 1].saturating_sub(1)).collect()
}

/// A random graph: node 0 the root, edges in node order, each essential with probability 4/5.
fn random_graph(seed: &mut u64, n: usize, edges_per_node: u64) -> (HeapSnapshot, Retainers, BitSet) {
  let mut next = || {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
  };
  let mut s = HeapSnapshot::default();
  let mut list: Vec<(u32, u32, bool)> = Vec::new();
  s.first_edge.push(0);
  for v in 0..n as u32 {
    s.node_type.push(0);
    // a few nodes have no edges at all; the root reaches only some of the graph
    let k = if v == 0 {
      1 + next() % 3
    } else {
      next() % (edges_per_node + 1)
    };
    for _ in 0..k {
      let to = (next() % n as u64) as u32;
      let essential = next() % 5 != 0;
      list.push((v, to, essential));
      s.edges.push(pack_edge(to, 0));
    }
    s.first_edge.push(s.edges.len() as u32);
  }
  let mut essential = BitSet::new(list.len());
  let mut first = vec![0u32; n + 1];
  for &(_, to, _) in &list {
    first[to as usize + 1] += 1;
  }
  for i in 0..n {
    first[i + 1] += first[i];
  }
  // retainers in reverse edge order per node, as the real index lays them out
  let mut fill: Vec<u32> = (0..n).map(|t| first[t + 1]).collect();
  let mut node = vec![0u32; list.len()];
  for (e, &(src, to, ess)) in list.iter().enumerate() {
    if ess {
      essential.set(e);
    }
    fill[to as usize] -= 1;
    node[fill[to as usize] as usize] = src | if ess { ESSENTIAL } else { 0 };
  }
  (s, Retainers { first, node }, essential)
}

#[test]
fn semi_nca_matches_devtools_lengauer_tarjan_on_random_graphs() {
  let mut seed = 0x9E37_79B9_7F4A_7C15u64;
  let (mut odd, mut cliques) = (0, 0);
  for round in 0..3000 {
    let n = 2 + round % 40;
    let (s, ret, essential) = random_graph(&mut seed, n, 1 + (round % 4) as u64);
    let want = reference(&s, &ret, &essential);
    let got = compute(&EssentialGraph::of(&s, &ret, &essential));
    assert_eq!(got.idom, want, "round {round}: {n} nodes");
    odd += (0..n as u32)
      .filter(|&v| v != 0 && only_weak_retainers(&ret, v))
      .count()
      .min(1);
    // unreachable nodes that some essential edge still points at: cliques held by each other
    cliques += (1..n as u32)
      .filter(|&v| got.unreachable.get(v as usize) && !only_weak_retainers(&ret, v))
      .count()
      .min(1);
  }
  assert!(
    odd > 100,
    "the graphs exercise nodes held only by non-essential edges ({odd})"
  );
  assert!(
    cliques > 100,
    "the graphs exercise cliques held only by each other ({cliques})"
  );
}
