//! Dominator tree and retained sizes as DevTools' `calculateDominatorsAndRetainedSizes` computes
//! them, including the odd cases (nodes held only by weak edges, unreachable cliques).
//! Iterative throughout; arrays are `u32`, indexed by ordinal + 1 with 0 meaning "none", as in
//! the original.
use super::bitset::BitSet;
use super::retainers::Retainers;
use crate::snapshot::model::EDGE_TO_MASK;
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

/// What the dominator pass reads of a snapshot, and nothing more: the edges' targets in node
/// order, which edges are essential, and who retains each node. Names, ids, types and sizes are
/// out of its reach (in the lean schedule the names are on the spill file meanwhile).
pub struct EssentialGraph<'a> {
  /// `first_edge[v]..first_edge[v + 1]` are node v's edges (n + 1 entries)
  first_edge: &'a [u32],
  /// packed as in `HeapSnapshot::edges`: the target in the low bits
  edges: &'a [u32],
  essential: &'a BitSet,
  retainers: &'a Retainers,
}

impl<'a> EssentialGraph<'a> {
  pub fn of(s: &'a HeapSnapshot, retainers: &'a Retainers, essential: &'a BitSet) -> Self {
    EssentialGraph {
      first_edge: &s.first_edge,
      edges: &s.edges,
      essential,
      retainers,
    }
  }
  fn node_count(&self) -> usize {
    self.first_edge.len().saturating_sub(1)
  }
  /// Node `v`'s first edge; `edges_start(v + 1)` is one past its last.
  #[inline]
  fn edges_start(&self, v: u32) -> u32 {
    self.first_edge[v as usize]
  }
  /// The target of edge `e` if it counts for dominators.
  #[inline]
  fn essential_target(&self, e: usize) -> Option<u32> {
    self.essential.get(e).then(|| self.edges[e] & EDGE_TO_MASK)
  }
  /// The nodes that hold `v` over an essential edge, in DevTools' retainer order.
  #[inline]
  fn essential_retainers(&self, v: u32) -> impl Iterator<Item = u32> + '_ {
    let r = self.retainers;
    r.of(v)
      .filter(|&slot| r.essential_at(slot))
      .map(|slot| r.node_at(slot))
  }
}

/// Per vertex (node ordinal + 1), the fields the pass reads together, side by side: a visit
/// touches one 16-byte record instead of up to four arrays (a cache miss each on a big heap).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Vx {
  /// DFS preorder number of the DFS parent
  parent: u32,
  /// one word, three roles in turn (each phase names it by its accessor): the DFS's next edge
  /// to scan (`next_edge`), the link-eval forest's parent vertex (`forest_parent`), the
  /// immediate dominator's preorder number (`idom_pre`)
  slot: u32,
  label: u32,
  /// preorder number, then the semidominator's
  semi: u32,
}

impl Vx {
  #[inline]
  fn next_edge(&mut self) -> &mut u32 {
    &mut self.slot
  }
  #[inline]
  fn forest_parent(&self) -> u32 {
    self.slot
  }
  #[inline]
  fn set_forest_parent(&mut self, v: u32) {
    self.slot = v
  }
  #[inline]
  fn idom_pre(&self) -> u32 {
    self.slot
  }
  #[inline]
  fn set_idom_pre(&mut self, pre: u32) {
    self.slot = pre
  }
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
pub fn compute(g: &EssentialGraph) -> Dominators {
  let mut walk = Walk::preorder(g);
  walk.semidominators(g);
  walk.immediate_dominators();
  walk.into_dominators()
}

/// The pass's state: a record per vertex and the vertices in preorder (`vertex[i]` is numbered
/// i; vertex 0 and number 0 mean "none").
struct Walk {
  x: Vec<Vx>,
  vertex: Vec<u32>,
  /// vertices numbered so far (all of them once `preorder` returns)
  count: u32,
  unreachable: BitSet,
}

/// The root, ordinal 0.
const ROOT: u32 = 1;

impl Walk {
  /// Numbers every vertex in DFS preorder over essential edges: from the root; then from each
  /// node held only by non-essential edges (hung off the root, with what it reaches); then the
  /// rest, cliques held only by each other, as direct children of the root. All but the first
  /// group are `unreachable`.
  fn preorder(g: &EssentialGraph) -> Walk {
    let n = g.node_count();
    let mut w = Walk {
      x: vec![Vx::default(); n + 1],
      vertex: vec![0u32; n + 1],
      count: 0,
      unreachable: BitSet::new(n),
    };
    w.dfs(g, ROOT);
    let reached = w.count;
    if (w.count as usize) < n {
      for v in 1..=n as u32 {
        if w.x[v as usize].semi == 0 && only_weak_retainers(g.retainers, v - 1) {
          w.x[v as usize].parent = 1;
          w.dfs(g, v);
        }
      }
    }
    if (w.count as usize) < n {
      for v in 1..=n as u32 {
        if w.x[v as usize].semi == 0 {
          w.count += 1;
          w.x[v as usize] = Vx {
            parent: 1,
            slot: 0,
            label: v,
            semi: w.count,
          };
          w.vertex[w.count as usize] = v;
        }
      }
    }
    for i in (reached + 1)..=w.count {
      w.unreachable.set((w.vertex[i as usize] - 1) as usize);
    }
    // the forest starts empty
    for v in w.x.iter_mut() {
      v.set_forest_parent(0);
    }
    w
  }

  /// One DFS from `root`, resuming each vertex's edge scan where it stopped (`next_edge`).
  fn dfs(&mut self, g: &EssentialGraph, root: u32) {
    let (x, vertex) = (&mut self.x, &mut self.vertex);
    *x[root as usize].next_edge() = g.edges_start(root - 1);
    let mut v = root;
    while v != 0 {
      if x[v as usize].semi == 0 {
        self.count += 1;
        x[v as usize].semi = self.count;
        x[v as usize].label = v;
        vertex[self.count as usize] = v;
      }
      let (pv, pre_v) = (x[v as usize].parent, x[v as usize].semi);
      // back to the parent unless an unvisited child turns up (the root's parent is "none")
      let mut v_next = if v == root { 0 } else { vertex[pv as usize] };
      let end = g.edges_start(v);
      while *x[v as usize].next_edge() < end {
        let e = *x[v as usize].next_edge() as usize;
        if let Some(wo) = g.essential_target(e) {
          let w = wo + 1;
          if x[w as usize].semi == 0 {
            x[w as usize].parent = pre_v;
            *x[w as usize].next_edge() = g.edges_start(wo);
            v_next = w;
            break;
          }
        }
        *x[v as usize].next_edge() += 1;
      }
      v = v_next;
    }
  }

  /// Semidominators, in reverse preorder, with path compression in the link-eval forest.
  fn semidominators(&mut self, g: &EssentialGraph) {
    let (x, vertex) = (&mut self.x, &self.vertex);
    let mut stack: Vec<u32> = Vec::new();
    for i in (2..=self.count).rev() {
      let w = vertex[i as usize];
      // w is not linked yet, so no evaluation below reads its semi: keep it in a register
      let mut sw = i;
      let mut orphan = true;
      for r in g.essential_retainers(w - 1) {
        orphan = false;
        let u = evaluate(x, r + 1, &mut stack);
        sw = sw.min(x[u as usize].semi);
      }
      if orphan {
        sw = 1;
      }
      x[w as usize].semi = sw;
      let dfs_parent = vertex[x[w as usize].parent as usize];
      x[w as usize].set_forest_parent(dfs_parent); // link
    }
  }

  /// Immediate dominators in preorder (SEMI-NCA): the nearest dominator-tree ancestor of the
  /// DFS parent numbered at most the semidominator.
  fn immediate_dominators(&mut self) {
    let (x, vertex) = (&mut self.x, &self.vertex);
    x[ROOT as usize].set_idom_pre(1);
    for i in 2..=self.count {
      let w = vertex[i as usize] as usize;
      let mut d = x[w].parent;
      while d > x[w].semi {
        d = x[vertex[d as usize] as usize].idom_pre();
      }
      x[w].set_idom_pre(d);
    }
  }

  /// `idom[o]` for ordinal o, written in place over the records, and the DFS order shifted to
  /// ordinals in place over `vertex`: no second copy of either.
  fn into_dominators(self) -> Dominators {
    let Walk {
      x,
      vertex,
      count,
      unreachable,
    } = self;
    let n = x.len() - 1;
    // entry o is read from word 4(o + 1) + 1 (the record's `slot`), never before it is
    // overwritten
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
}

/// The link-eval forest's `eval`: the vertex of least semidominator on `v`'s forest path,
/// compressing the path on the way (iteratively: the forest can be as deep as the heap).
#[inline]
fn evaluate(x: &mut [Vx], v: u32, stack: &mut Vec<u32>) -> u32 {
  if x[v as usize].forest_parent() == 0 {
    return v;
  }
  let mut a = v;
  stack.clear();
  while x[x[a as usize].forest_parent() as usize].forest_parent() != 0 {
    stack.push(a);
    a = x[a as usize].forest_parent();
  }
  while let Some(w) = stack.pop() {
    let anc = x[w as usize].forest_parent();
    let (la, lw) = (x[anc as usize].label, x[w as usize].label);
    if x[la as usize].semi < x[lw as usize].semi {
      x[w as usize].label = la;
    }
    x[w as usize].set_forest_parent(x[anc as usize].forest_parent());
  }
  x[v as usize].label
}

pub(super) fn only_weak_retainers(ret: &Retainers, node: u32) -> bool {
  ret.of(node).all(|slot| !ret.essential_at(slot))
}
