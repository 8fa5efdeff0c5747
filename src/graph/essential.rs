//! Which edges count for dominators (DevTools' `computeIsEssentialEdge`): not weak, not a
//! self-edge, no `shortcut` except from the root, not a WeakMap table → value edge, and not from
//! a node outside the page-owned set into it (`markPageOwnedNodes`).
use super::bitset::BitSet;
use super::kinds::Kinds;
use super::weakmap;
use crate::snapshot::HeapSnapshot;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

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

/// All the essential-edge rule needs of the node ids: the nodes whose id is a table id some
/// ephemeron edge name gives (a WeakMap's backing table), with that id. Found first, so the id
/// column can leave memory before the rule runs (the names-first schedule).
pub struct TableIds(HashMap<u32, u32>);

impl TableIds {
  /// `ids`: the snapshot's node ids (taken out of it, perhaps).
  pub fn of(s: &HeapSnapshot, ids: &[u32]) -> TableIds {
    // every `(table @N)` at the end of a string: a superset of the ephemeron names' table ids
    // (the rule parses a name fully before it asks for an id), found without parsing whole names
    let mut tables: HashSet<u32> = HashSet::new();
    for i in 0..s.strings.len() as u32 {
      if let Some(id) = table_suffix(s.strings.get(i)) {
        tables.insert(id);
      }
    }
    let mut nodes = HashMap::new();
    if tables.is_empty() {
      return TableIds(nodes);
    }
    // a bit per hashed id first: most nodes are no table, and a bit test is cheaper than a lookup
    let bit = |id: u32| (id.wrapping_mul(0x9E37_79B1) >> 16) as usize;
    let mut maybe = vec![0u64; 1 << 10];
    for &id in &tables {
      maybe[bit(id) >> 6] |= 1 << (bit(id) & 63);
    }
    for (v, &id) in ids.iter().enumerate() {
      if maybe[bit(id) >> 6] & (1 << (bit(id) & 63)) != 0 && tables.contains(&id) {
        nodes.insert(v as u32, id);
      }
    }
    TableIds(nodes)
  }

  #[inline]
  fn id_of(&self, v: u32) -> Option<u32> {
    self.0.get(&v).copied()
  }
}

/// `N` of a string ending in `(table @N)` (ids are 32-bit: a larger one is no node's).
fn table_suffix(name: &str) -> Option<u32> {
  let body = name.strip_suffix(')')?;
  let digits = body.bytes().rev().take_while(u8::is_ascii_digit).count();
  if digits == 0 || !body[..body.len() - digits].ends_with("(table @") {
    return None;
  }
  body[body.len() - digits..].parse().ok()
}

/// DevTools' rule for one edge at a time, for passes that visit every edge anyway
/// (`Retainers::build_with_essential` sets the bits as it fills the index: one pass over the edges, not two).
pub struct EssentialRule<'a> {
  s: &'a HeapSnapshot,
  k: &'a Kinds,
  owned: &'a BitSet,
  tables: &'a TableIds,
  /// per string: 0 = unknown, 1 = not an ephemeron name, else table id + 2
  name_cache: Vec<u64>,
}

impl<'a> EssentialRule<'a> {
  pub fn new(s: &'a HeapSnapshot, k: &'a Kinds, owned: &'a BitSet, tables: &'a TableIds) -> Self {
    EssentialRule {
      s,
      k,
      owned,
      tables,
      name_cache: vec![0; s.strings.len()],
    }
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
          *slot = weakmap::parse(s.strings.get(idx as u32))
            .map(|m| m.table_id.saturating_add(2))
            .unwrap_or(1);
        }
        // a table's own edge to the value
        if *slot > 1 && self.tables.id_of(v).map(u64::from) == Some(*slot - 2) {
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

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn table_suffixes_cover_every_ephemeron_name() {
    let names = [
      "7 / part of key (Object @1234) -> value (Leaky @5678) pair in WeakMap (table @91011)",
      "1 / part of key (a) -> value (b @1) @2) -> value (c @3) pair in WeakMap (table @007)",
      "3 / part of key (k @1) -> value (v @2) pair in WeakMap (table @4294967295)",
    ];
    for n in names {
      let id = weakmap::parse(n).unwrap().table_id;
      assert_eq!(table_suffix(n).map(u64::from), Some(id), "{n}");
    }
    // larger than any node id; not at the end; no digits
    for n in [
      "x (table @4294967296)",
      "(table @12) ",
      "(table @)",
      "elements",
      "",
    ] {
      assert_eq!(table_suffix(n), None, "{n}");
    }
  }
}
