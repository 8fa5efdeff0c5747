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
  /// The index and the essential-edge bits (DevTools' `computeIsEssentialEdge`) in one pass.
  pub fn build_with_essential(s: &HeapSnapshot, rule: &mut EssentialRule) -> (Retainers, BitSet) {
    let mut bits = BitSet::new(s.edge_count());
    let owned = rule.owned_set();
    let r = Self::fill(s, |v, e, v_owned| {
      let yes = rule.check(v, e, v_owned);
      if yes {
        bits.set(e);
      }
      yes
    }, |v| owned.get(v as usize));
    (r, bits)
  }

  /// Node ordinals must stay below 2^31 (the top bit is the flag).
  pub fn build(s: &HeapSnapshot, essential: &BitSet) -> Retainers {
    Self::fill(s, |_, e, _| essential.get(e), |_| false)
  }

  fn fill(s: &HeapSnapshot, mut essential: impl FnMut(u32, usize, bool) -> bool, owned: impl Fn(u32) -> bool) -> Retainers {
    let n = s.node_count();
    let m = s.edge_count();
    let mut first = vec![0u32; n + 1];
    for &to in &s.edge_to {
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
      let src_owned = owned(src);
      for e in s.edges_of(src) {
        let to = s.edge_to[e] as usize;
        fill[to] -= 1;
        let slot = (first[to] + fill[to]) as usize;
        node[slot] = src | if essential(src, e, src_owned) { ESSENTIAL } else { 0 };
      }
    }
    Retainers { first, node }
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
