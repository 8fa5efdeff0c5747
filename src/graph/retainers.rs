//! The reverse index: for each node, the nodes that point at it, in CSR form — 4 bytes per edge:
//! the retaining node, with the top bit set when that edge counts for dominators.
//! Laid out exactly as DevTools' `buildRetainers` (each node's retainers in reverse edge order),
//! so walks over retainers visit them in the same order DevTools does.
use super::essential::{BitSet, EssentialRule};
use crate::snapshot::HeapSnapshot;

pub const ESSENTIAL: u32 = 1 << 31;

pub struct Retainers {
  /// `first[n]..first[n + 1]` index `node` for the retainers of node `n`
  pub first: Vec<u32>,
  /// retaining node ordinal | `ESSENTIAL`
  pub node: Vec<u32>,
}

impl Retainers {
  /// The index and the essential-edge bits (DevTools' `computeIsEssentialEdge`) in one pass
  /// over the edges. Node ordinals must stay below 2^31 (the top bit is the flag).
  pub fn build_with_essential(s: &HeapSnapshot, rule: &mut EssentialRule) -> (Retainers, BitSet) {
    let mut bits = BitSet::new(s.edge_count());
    let n = s.node_count();
    let m = s.edge_count();
    let mut first = vec![0u32; n + 1];
    for to in s.edge_targets() {
      first[to as usize] += 1;
    }
    // exclusive prefix sums; `fill` counts down from each node's end, like DevTools
    let mut fill = vec![0u32; n];
    let mut acc = 0u32;
    for i in 0..n {
      let c = first[i];
      first[i] = acc;
      acc += c;
      fill[i] = c;
    }
    first[n] = acc;
    let mut node = vec![0u32; m];
    for src in 0..n as u32 {
      for e in s.edges_of(src) {
        let to = s.edge_to(e) as usize;
        fill[to] -= 1;
        let slot = (first[to] + fill[to]) as usize;
        let essential = rule.check(src, e);
        if essential {
          bits.set(e);
        }
        node[slot] = src | if essential { ESSENTIAL } else { 0 };
      }
    }
    (Retainers { first, node }, bits)
  }

  #[inline]
  pub fn node_at(&self, slot: usize) -> u32 {
    self.node[slot] & !ESSENTIAL
  }
  #[inline]
  pub fn essential_at(&self, slot: usize) -> bool {
    self.node[slot] & ESSENTIAL != 0
  }

  pub fn of(&self, n: u32) -> std::ops::Range<usize> {
    self.first[n as usize] as usize..self.first[n as usize + 1] as usize
  }
}
