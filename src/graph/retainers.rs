//! The reverse index: for each node, the nodes that point at it, in CSR form — 4 bytes per edge:
//! the retaining node, with the top bit set when that edge counts for dominators.
//! Laid out exactly as DevTools' `buildRetainers` (each node's retainers in reverse edge order),
//! so walks over retainers visit them in the same order DevTools does.
use super::bitset::BitSet;
use super::essential::EssentialRule;
use crate::snapshot::model::EDGE_TO_MASK;
use crate::snapshot::HeapSnapshot;

/// A hint that `v[i]` is wanted soon (no effect where no prefetch instruction is available).
#[inline(always)]
fn prefetch<T>(v: &[T], i: usize) {
  #[cfg(target_arch = "x86_64")]
  if i < v.len() {
    // SAFETY: an in-bounds address; a prefetch never faults and changes no state
    unsafe {
      std::arch::x86_64::_mm_prefetch(v.as_ptr().add(i) as *const i8, std::arch::x86_64::_MM_HINT_T0)
    };
  }
  #[cfg(not(target_arch = "x86_64"))]
  let _ = (v, i);
}

pub const ESSENTIAL: u32 = 1 << 31;

pub struct Retainers {
  /// `first[n]..first[n + 1]` index `node` for the retainers of node `n`
  pub first: Vec<u32>,
  /// retaining node ordinal | `ESSENTIAL`
  pub node: Vec<u32>,
}

impl Retainers {
  /// The first half of the build, which needs no essential-edge rule (so it can run while the
  /// rule's inputs are computed elsewhere): per node, the end of its retainer slots.
  pub fn slot_ends(s: &HeapSnapshot) -> Vec<u32> {
    let n = s.node_count();
    let mut cursor = vec![0u32; n + 1];
    for to in s.edge_targets() {
      cursor[to as usize] += 1;
    }
    let mut acc = 0u32;
    for c in cursor.iter_mut().take(n) {
      acc += *c;
      *c = acc;
    }
    cursor[n] = acc;
    cursor
  }

  /// The index and the essential-edge bits (DevTools' `computeIsEssentialEdge`) in one pass
  /// over the edges. Node ordinals must stay below 2^31 (the top bit is the flag).
  /// `cursor` from `slot_ends`. `cursor[t]` counts down as t's slots fill (each node's retainers
  /// in reverse edge order, like DevTools); once all are placed it is t's start, so one array
  /// serves as both the fill cursor and the index.
  pub fn build_with_essential(
    s: &HeapSnapshot,
    mut cursor: Vec<u32>,
    rule: &mut EssentialRule,
  ) -> (Retainers, BitSet) {
    let mut bits = BitSet::new(s.edge_count());
    let n = s.node_count();
    let m = s.edge_count();
    let mut node = vec![0u32; m];
    // the targets are known ahead (edges are read in order), the cursors and slots are random:
    // touch them a few edges early so the misses overlap
    const AHEAD: usize = 16;
    for src in 0..n as u32 {
      for e in s.edges_of(src) {
        if let Some(&ahead) = s.edges.get(e + AHEAD) {
          prefetch(&cursor, (ahead & EDGE_TO_MASK) as usize);
        }
        let to = s.edge_to(e) as usize;
        cursor[to] -= 1;
        let slot = cursor[to] as usize;
        let essential = rule.check(src, e);
        if essential {
          bits.set(e);
        }
        node[slot] = src | if essential { ESSENTIAL } else { 0 };
      }
    }
    (Retainers { first: cursor, node }, bits)
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
