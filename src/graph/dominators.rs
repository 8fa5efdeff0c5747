//! Dominator tree and retained sizes as DevTools' `calculateDominatorsAndRetainedSizes` computes
//! them, including the odd cases (nodes held only by weak edges, unreachable cliques).
//! Iterative throughout; arrays are `u32`, indexed by ordinal + 1 with 0 meaning "none", as in
//! the original.
use super::bitset::BitSet;
use super::retainers::Retainers;
use crate::snapshot::{HeapSnapshot, Sizes};

pub struct Dominators {
  /// immediate dominator of each node (the root's is itself)
  pub idom: Vec<u32>,
  /// node ordinals in DFS order (the root first): children come after their dominators
  pub order: Vec<u32>,
  /// nodes not reachable from the root over essential edges (DevTools attaches them to the root)
  pub unreachable: BitSet,
}

/// Self size plus everything each node dominates, summed up the tree in reverse DFS order;
/// `self_sizes` is a copy, summed in place.
pub fn retained_sizes(order: &[u32], idom: &[u32], self_sizes: Sizes) -> Sizes {
  let mut retained = self_sizes;
  for &o in order.iter().skip(1).rev() {
    let d = idom[o as usize] as usize;
    retained.set(d, retained.get(d).saturating_add(retained.get(o as usize)));
  }
  retained
}

/// Per vertex (node ordinal + 1), the fields the pass reads together, side by side: a visit
/// touches one 16-byte record instead of up to four arrays (a cache miss each on a big heap).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Vx {
  /// DFS preorder number of the DFS parent
  parent: u32,
  /// during the DFS: the next edge to scan; then the link-eval forest (a vertex); then the
  /// preorder number of the immediate dominator
  ancestor: u32,
  label: u32,
  /// preorder number, then the semidominator's
  semi: u32,
}

// the records are turned into u32 words in place at the end: same size, same alignment
const _: () = assert!(std::mem::size_of::<Vx>() == 16 && std::mem::align_of::<Vx>() == 4);

/// The dominator tree; retained sizes follow from it with `retained_sizes` (the
/// self sizes are computed meanwhile on another thread).
///
/// DevTools runs Lengauer–Tarjan with buckets. This is the same DFS and the same semidominator
/// pass, then SEMI-NCA (Georgiadis & Tarjan) for the immediate dominators: the dominator tree of a
/// graph is unique, so it matches wherever DevTools' semidominators are those of a real DFS of
/// the graph — every node reached from the root or from a node held only by non-essential edges
/// (DevTools' second DFS, i.e. a virtual edge from the root). The rest, cliques held only by
/// each other, are DevTools' direct children of the root, which the walk below also yields: their
/// DFS parent is the root. SEMI-NCA needs no buckets: 20 bytes per node instead of 28.
pub fn compute(s: &HeapSnapshot, ret: &Retainers, essential: &BitSet) -> Dominators {
  let n = s.node_count();
  let len = n + 1;
  let mut x = vec![Vx::default(); len];
  let mut vertex = vec![0u32; len];
  let mut count: u32 = 0;

  // DFS over essential edges, resuming each node's edge scan where it stopped (the cursor lives
  // in `ancestor`, unused until the DFS is over).
  let dfs = |root: u32, x: &mut [Vx], vertex: &mut [u32], count: &mut u32| {
    x[root as usize].ancestor = s.first_edge[(root - 1) as usize];
    let mut v = root;
    while v != 0 {
      if x[v as usize].semi == 0 {
        *count += 1;
        x[v as usize].semi = *count;
        x[v as usize].label = v;
        vertex[*count as usize] = v;
      }
      let (pv, pre_v) = (x[v as usize].parent, x[v as usize].semi);
      // back to the parent unless an unvisited child turns up (the root's parent is "none")
      let mut v_next = if v == root { 0 } else { vertex[pv as usize] };
      let end = s.first_edge[v as usize];
      while x[v as usize].ancestor < end {
        let e = x[v as usize].ancestor as usize;
        if essential.get(e) {
          let wo = s.edge_to(e);
          let w = wo + 1;
          if x[w as usize].semi == 0 {
            x[w as usize].parent = pre_v;
            x[w as usize].ancestor = s.first_edge[wo as usize];
            v_next = w;
            break;
          }
        }
        x[v as usize].ancestor += 1;
      }
      v = v_next;
    }
  };

  let r: u32 = 1; // the root, ordinal 0
  dfs(r, &mut x, &mut vertex, &mut count);
  let reached = count;
  if (count as usize) < n {
    // nodes whose retainers are all non-essential hang off the root, with what they reach
    for v in 1..=n as u32 {
      if x[v as usize].semi == 0 && only_weak_retainers(ret, v - 1) {
        x[v as usize].parent = 1;
        dfs(v, &mut x, &mut vertex, &mut count);
      }
    }
  }
  if (count as usize) < n {
    // what is left (cliques retained only by each other) becomes direct children of the root
    for v in 1..=n as u32 {
      if x[v as usize].semi == 0 {
        count += 1;
        x[v as usize] = Vx {
          parent: 1,
          ancestor: 0,
          label: v,
          semi: count,
        };
        vertex[count as usize] = v;
      }
    }
  }
  for v in x.iter_mut() {
    v.ancestor = 0;
  }
  let mut unreachable = BitSet::new(n);
  for i in (reached + 1)..=count {
    unreachable.set((vertex[i as usize] - 1) as usize);
  }

  // semidominators, in reverse preorder, with path compression in the link-eval forest
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
    let mut sw = i;
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
      sw = 1;
    }
    x[w as usize].semi = sw;
    x[w as usize].ancestor = vertex[x[w as usize].parent as usize]; // link
  }
  drop(stack);

  // immediate dominators in preorder: the nearest dominator-tree ancestor of the DFS parent
  // numbered at most the semidominator (`ancestor` now holds that preorder number)
  x[r as usize].ancestor = 1;
  for i in 2..=count {
    let w = vertex[i as usize] as usize;
    let mut d = x[w].parent;
    while d > x[w].semi {
      d = x[vertex[d as usize] as usize].ancestor;
    }
    x[w].ancestor = d;
  }

  // idom[o] for ordinal o, written in place over the records: entry o is read from word
  // 4(o + 1) + 1, never before it is overwritten
  let mut words: Vec<u32> = {
    let mut x = std::mem::ManuallyDrop::new(x);
    // SAFETY: Vx is four u32s (repr(C), align 4): the same allocation viewed as 4x as many u32s
    unsafe { Vec::from_raw_parts(x.as_mut_ptr() as *mut u32, x.len() * 4, x.capacity() * 4) }
  };
  for o in 0..n {
    let idom_pre = words[4 * (o + 1) + 1];
    words[o] = vertex[idom_pre as usize] - 1;
  }
  words.truncate(n);
  words.shrink_to_fit();
  // vertex[1..=count] are ordinal + 1 in DFS order: shifted down in place
  let mut order = vertex;
  for i in 0..count as usize {
    order[i] = order[i + 1] - 1;
  }
  order.truncate(count as usize);
  Dominators {
    idom: words,
    order,
    unreachable,
  }
}

pub(super) fn only_weak_retainers(ret: &Retainers, node: u32) -> bool {
  ret.of(node).all(|slot| !ret.essential_at(slot))
}
