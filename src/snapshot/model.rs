//! The in-memory heap snapshot: columnar, compact arrays straight from the file.
//! Node and edge ordinals are `u32` (V8 snapshots stay far below 4 G nodes/edges).
use super::edge_names::{EdgeNames, NameUses};
use super::sizes::Sizes;

/// An interned-strings table: one buffer plus offsets, instead of millions of `String`s.
#[derive(Debug, Default, Clone)]
pub struct StringTable {
  pub data: String,
  /// `offsets[i]..offsets[i + 1]` is string `i` in `data`; `len() == count + 1`.
  pub offsets: Vec<u64>,
}

impl StringTable {
  pub fn len(&self) -> usize {
    self.offsets.len().saturating_sub(1)
  }
  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }
  /// String `i`, or "" when out of range (the reader validates indices it knows are strings).
  pub fn get(&self, i: u32) -> &str {
    let i = i as usize;
    if i + 1 >= self.offsets.len() {
      return "";
    }
    &self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize]
  }
  pub fn push(&mut self, s: &str) {
    if self.offsets.is_empty() {
      self.offsets.push(0);
    }
    self.data.push_str(s);
    self.offsets.push(self.data.len() as u64);
  }
}

/// A source location of a node (from the snapshot's `locations` array).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
  pub script_id: u32,
  pub line: u32,
  pub column: u32,
}

/// The top bits of `HeapSnapshot::edges` hold the edge type: up to 16 edge types (V8 has 7) and
/// up to 2^28 nodes (a heap of 268 M objects, a snapshot of some 30 GB).
pub const EDGE_TYPE_SHIFT: u32 = 28;
pub const MAX_EDGE_TYPES: usize = 1 << (32 - EDGE_TYPE_SHIFT);
pub const MAX_NODES: usize = 1 << EDGE_TYPE_SHIFT;
pub const EDGE_TO_MASK: u32 = (1 << EDGE_TYPE_SHIFT) - 1;

#[inline]
pub fn pack_edge(to: u32, edge_type: u8) -> u32 {
  to | (edge_type as u32) << EDGE_TYPE_SHIFT
}

/// Whether the edges of the type named `name` carry an index (`element`, `hidden`: an array
/// element, a hidden slot) in their `name_or_index`, not a string. The one answer: everything
/// that reads a `name_or_index` asks it, through `IndexEdgeTypes`.
pub fn edge_type_carries_index(name: &str) -> bool {
  name == "element" || name == "hidden"
}

/// The edge types whose edges carry an index (`edge_type_carries_index`), by type code: bit t
/// for type t (up to `MAX_EDGE_TYPES`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IndexEdgeTypes(u16);

impl IndexEdgeTypes {
  pub fn of(edge_type_names: &[String]) -> IndexEdgeTypes {
    let mut bits = 0;
    for (t, name) in edge_type_names.iter().enumerate() {
      if edge_type_carries_index(name) {
        bits |= 1 << t;
      }
    }
    IndexEdgeTypes(bits)
  }

  /// Whether the edges of type `t` (below `MAX_EDGE_TYPES`) name a string, else an index.
  #[inline]
  pub fn names_string(self, t: usize) -> bool {
    self.0 & (1 << t) == 0
  }
}

/// Packs a raw name column for `edges` (packed as in `HeapSnapshot::edges`); plain data in and
/// out, so the reader can run it on another thread while it reads on.
pub fn compact_edge_names(edge_type_names: &[String], edges: &[u32], raw: &[u32]) -> EdgeNames {
  let index_types = IndexEdgeTypes::of(edge_type_names);
  EdgeNames::compact(raw, |e| {
    index_types.names_string((edges[e] >> EDGE_TYPE_SHIFT) as usize)
  })
}

/// As `compact_edge_names`, with the names' uses counted while the edges were read.
pub fn compact_counted_edge_names(
  edge_type_names: &[String],
  edges: &[u32],
  raw: &[u32],
  uses: NameUses,
) -> EdgeNames {
  let index_types = IndexEdgeTypes::of(edge_type_names);
  EdgeNames::compact_counted(
    raw,
    |e| index_types.names_string((edges[e] >> EDGE_TYPE_SHIFT) as usize),
    uses,
  )
}

/// A parsed `.heapsnapshot`. Node 0 is the synthetic root.
#[derive(Debug, Default, Clone)]
pub struct HeapSnapshot {
  /// `meta.node_types[0]`: the names of node type codes.
  pub node_type_names: Vec<String>,
  /// `meta.edge_types[0]`: the names of edge type codes.
  pub edge_type_names: Vec<String>,

  // --- per node (index = node ordinal) ---
  pub node_type: Vec<u8>,
  /// index into `strings`
  pub node_name: Vec<u32>,
  pub node_id: Vec<u32>,
  /// as in the file until the analysis moves owned backing stores onto their owners
  /// (`analysis::shallow`, once: `self_sizes_moved`)
  pub node_self_size: Sizes,
  /// CSR: the edges of node `i` are `first_edge[i]..first_edge[i + 1]`; `len() == nodes + 1`.
  pub first_edge: Vec<u32>,
  /// `detachedness` field when present (0 = unknown), else empty; emptied once detached nodes
  /// are renamed (`analysis::detachedness`).
  pub node_detachedness: Vec<u8>,

  // --- per edge (index = edge ordinal) ---
  /// target node ordinal (already divided by the node field count) | type code << `EDGE_TYPE_SHIFT`:
  /// one 4-byte word per edge instead of five bytes in two columns
  pub edges: Vec<u32>,
  /// string index for named edge types, element/hidden index for `element` and `hidden`
  /// (read with `edge_name_or_index`)
  pub edge_names: EdgeNames,
  /// the same, 4 bytes per edge, while the reader fills it; `finish_edge_names` packs it into
  /// `edge_names` and empties it
  pub raw_edge_names: Vec<u32>,
  /// the edge types that carry an index (`element`, `hidden`), not a string
  pub index_edge_types: IndexEdgeTypes,

  pub strings: StringTable,
  /// `(node ordinal, index into location_sites)`, sorted by node ordinal
  pub locations: Vec<(u32, u32)>,
  /// the distinct source locations: a site repeats across many nodes, so each is kept once
  pub location_sites: Vec<Location>,
  /// `snapshot.extra_native_bytes` when present
  pub extra_native_bytes: u64,
  /// set once detached native nodes were renamed `Detached …` (analysis::detachedness)
  pub detachedness_applied: bool,
  /// set once owned backing stores gave their self sizes to their owners (analysis::shallow)
  pub self_sizes_moved: bool,
}

impl HeapSnapshot {
  pub fn node_count(&self) -> usize {
    self.node_type.len()
  }
  pub fn edge_count(&self) -> usize {
    self.edges.len()
  }
  /// Packs `raw_edge_names` into `edge_names` (2 bytes per edge instead of 4).
  pub fn finish_edge_names(&mut self) {
    let raw = std::mem::take(&mut self.raw_edge_names);
    let names = compact_edge_names(&self.edge_type_names, &self.edges, &raw);
    self.set_edge_names(names);
  }
  /// Installs names packed by `compact_edge_names` (from this snapshot's edges).
  pub fn set_edge_names(&mut self, names: EdgeNames) {
    self.index_edge_types = IndexEdgeTypes::of(&self.edge_type_names);
    self.edge_names = names;
  }
  #[inline]
  fn edge_has_string_name(&self, e: usize) -> bool {
    self.index_edge_types.names_string(self.edge_type(e) as usize)
  }
  /// string index (named edge types) or element/hidden index of edge `e`
  #[inline]
  pub fn edge_name_or_index(&self, e: usize) -> u32 {
    self.edge_names.get(e, self.edge_has_string_name(e))
  }
  /// target node ordinal of edge `e`
  #[inline]
  pub fn edge_to(&self, e: usize) -> u32 {
    self.edges[e] & EDGE_TO_MASK
  }
  /// type code of edge `e`
  #[inline]
  pub fn edge_type(&self, e: usize) -> u8 {
    (self.edges[e] >> EDGE_TYPE_SHIFT) as u8
  }
  pub fn edge_targets(&self) -> impl Iterator<Item = u32> + '_ {
    self.edges.iter().map(|&p| p & EDGE_TO_MASK)
  }
  pub fn edge_types(&self) -> impl Iterator<Item = u8> + '_ {
    self.edges.iter().map(|&p| (p >> EDGE_TYPE_SHIFT) as u8)
  }
  pub fn node_type_name(&self, node: u32) -> &str {
    self
      .node_type_names
      .get(self.node_type[node as usize] as usize)
      .map(|s| s.as_str())
      .unwrap_or("")
  }
  pub fn edge_type_name(&self, edge: u32) -> &str {
    self
      .edge_type_names
      .get(self.edge_type(edge as usize) as usize)
      .map(|s| s.as_str())
      .unwrap_or("")
  }
  pub fn node_name_str(&self, node: u32) -> &str {
    self.strings.get(self.node_name[node as usize])
  }
  /// Type code for a type name, if the snapshot knows it (type codes come from `meta`, never fixed).
  pub fn node_type_code(&self, name: &str) -> Option<u8> {
    self
      .node_type_names
      .iter()
      .position(|t| t == name)
      .map(|p| p as u8)
  }
  pub fn edge_type_code(&self, name: &str) -> Option<u8> {
    self
      .edge_type_names
      .iter()
      .position(|t| t == name)
      .map(|p| p as u8)
  }
  pub fn edges_of(&self, node: u32) -> std::ops::Range<usize> {
    self.first_edge[node as usize] as usize..self.first_edge[node as usize + 1] as usize
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn element_and_hidden_edges_carry_an_index() {
    let names = [
      "context", "element", "property", "internal", "hidden", "shortcut", "weak",
    ]
    .map(String::from);
    let t = IndexEdgeTypes::of(&names);
    let index: Vec<usize> = (0..names.len()).filter(|&i| !t.names_string(i)).collect();
    assert_eq!(index, vec![1, 4]);
    assert!(edge_type_carries_index("element") && !edge_type_carries_index("property"));
  }
}
