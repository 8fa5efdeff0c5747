//! Which edges count for dominators (DevTools' `computeIsEssentialEdge`): not weak, not a
//! self-edge, no `shortcut` except from the root, not a WeakMap table → value edge, and not from
//! a node outside the page-owned set into it (`markPageOwnedNodes`).
use super::kinds::Kinds;
use super::weakmap;
use crate::snapshot::HeapSnapshot;

pub struct BitSet {
  words: Vec<u64>,
}

impl BitSet {
  pub fn new(len: usize) -> Self {
    BitSet { words: vec![0; len.div_ceil(64)] }
  }
  #[inline]
  pub fn set(&mut self, i: usize) {
    self.words[i >> 6] |= 1 << (i & 63);
  }
  #[inline]
  pub fn get(&self, i: usize) -> bool {
    self.words[i >> 6] & (1 << (i & 63)) != 0
  }
  /// Adds the bits of `other` (of the same length).
  pub fn or_with(&mut self, other: &BitSet) {
    for (w, o) in self.words.iter_mut().zip(&other.words) {
      *w |= o;
    }
  }
}

/// Nodes reachable from the root's `shortcut` edges (and `(Document DOM trees)`) over non-weak
/// edges: what DevTools calls page-owned.
pub fn page_owned(s: &HeapSnapshot, k: &Kinds) -> BitSet {
  let n = s.node_count();
  let mut flags = BitSet::new(n);
  let mut stack: Vec<u32> = Vec::new();
  for e in s.edges_of(0) {
    let t = s.edge_type(e);
    let to = s.edge_to(e);
    if t == k.e_element {
      if !(s.node_type[to as usize] == k.synthetic && s.node_name_str(to) == "(Document DOM trees)") {
        continue;
      }
    } else if t != k.e_shortcut {
      continue;
    }
    stack.push(to);
    flags.set(to as usize);
  }
  while let Some(v) = stack.pop() {
    for e in s.edges_of(v) {
      let to = s.edge_to(e) as usize;
      if flags.get(to) || s.edge_type(e) == k.e_weak {
        continue;
      }
      flags.set(to);
      stack.push(to as u32);
    }
  }
  flags
}

/// DevTools' rule for one edge at a time, for passes that visit every edge anyway
/// (`Retainers::build_with_essential` sets the bits as it fills the index: one pass over the edges, not two).
pub struct EssentialRule<'a> {
  s: &'a HeapSnapshot,
  k: &'a Kinds,
  owned: &'a BitSet,
  /// per string: 0 = unknown, 1 = not an ephemeron name, else table id + 2
  name_cache: Vec<u64>,
}

impl<'a> EssentialRule<'a> {
  pub fn new(s: &'a HeapSnapshot, k: &'a Kinds, owned: &'a BitSet) -> Self {
    EssentialRule { s, k, owned, name_cache: vec![0; s.strings.len()] }
  }

  /// Does edge `e` of node `v` count for dominators?
  #[inline]
  pub fn check(&mut self, v: u32, e: usize) -> bool {
    let (s, k) = (self.s, self.k);
    let t = s.edge_type(e);
    if t == k.e_weak {
      return false;
    }
    if t == k.e_internal {
      let idx = s.edge_name_or_index(e) as usize;
      if let Some(slot) = self.name_cache.get_mut(idx) {
        if *slot == 0 {
          *slot = weakmap::parse(s.strings.get(idx as u32)).map(|m| m.table_id.saturating_add(2)).unwrap_or(1);
        }
        if *slot > 1 && *slot - 2 == s.node_id[v as usize] as u64 {
          return false;
        }
      }
    }
    let to = s.edge_to(e);
    if to == v {
      return false;
    }
    if v != 0 {
      if t == k.e_shortcut {
        return false;
      }
      if self.owned.get(to as usize) && !self.owned.get(v as usize) {
        return false;
      }
    }
    true
  }
}
