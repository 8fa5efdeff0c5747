//! Type codes resolved once from the snapshot's meta (never hard-coded). `NONE` never matches.
use crate::snapshot::model::IndexEdgeTypes;
use crate::snapshot::HeapSnapshot;

pub const NONE: u8 = u8::MAX;

#[derive(Debug, Clone, Copy)]
pub struct Kinds {
  pub hidden: u8,
  pub array: u8,
  pub string: u8,
  pub object: u8,
  pub code: u8,
  pub closure: u8,
  pub regexp: u8,
  pub native: u8,
  pub synthetic: u8,
  pub cons_string: u8,
  pub sliced_string: u8,
  pub e_element: u8,
  pub e_property: u8,
  pub e_internal: u8,
  pub e_hidden: u8,
  pub e_shortcut: u8,
  pub e_weak: u8,
  index_edge_types: IndexEdgeTypes,
}

impl Kinds {
  pub fn of(s: &HeapSnapshot) -> Kinds {
    let n = |name: &str| s.node_type_code(name).unwrap_or(NONE);
    let e = |name: &str| s.edge_type_code(name).unwrap_or(NONE);
    Kinds {
      hidden: n("hidden"),
      array: n("array"),
      string: n("string"),
      object: n("object"),
      code: n("code"),
      closure: n("closure"),
      regexp: n("regexp"),
      native: n("native"),
      synthetic: n("synthetic"),
      cons_string: n("concatenated string"),
      sliced_string: n("sliced string"),
      e_element: e("element"),
      e_property: e("property"),
      e_internal: e("internal"),
      e_hidden: e("hidden"),
      e_shortcut: e("shortcut"),
      e_weak: e("weak"),
      index_edge_types: IndexEdgeTypes::of(&s.edge_type_names),
    }
  }

  /// Whether the root's child `node` is a user root in DevTools' sense: not synthetic, or the
  /// `(Document DOM trees)` group.
  pub fn is_user_root(&self, s: &HeapSnapshot, node: u32) -> bool {
    s.node_type[node as usize] != self.synthetic || s.node_name_str(node) == "(Document DOM trees)"
  }

  /// Whether edges of type `t` are named by a string (the others carry an index).
  pub fn edge_has_string_name(&self, t: u8) -> bool {
    self.index_edge_types.names_string(t as usize)
  }
}

/// The name of edge `e` as DevTools shows it: the string, or the index as a number.
pub fn edge_name(s: &HeapSnapshot, k: &Kinds, e: usize) -> String {
  let t = s.edge_type(e);
  let v = s.edge_name_or_index(e);
  if k.edge_has_string_name(t) {
    s.strings.get(v).to_string()
  } else {
    v.to_string()
  }
}
