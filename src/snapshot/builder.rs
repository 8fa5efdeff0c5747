//! Hand-built snapshots for tests: a few named nodes and edges, laid out as the reader lays out
//! a real snapshot's.
use super::{HeapSnapshot, StringTable};

const NODE_TYPES: [&str; 15] = [
  "hidden",
  "array",
  "string",
  "object",
  "code",
  "closure",
  "regexp",
  "number",
  "native",
  "synthetic",
  "concatenated string",
  "sliced string",
  "symbol",
  "bigint",
  "object shape",
];
const EDGE_TYPES: [&str; 7] = [
  "context", "element", "property", "internal", "hidden", "shortcut", "weak",
];

/// A tiny snapshot builder: node 0 is the synthetic root.
pub struct Builder {
  nodes: Vec<(&'static str, String, u64)>,
  edges: Vec<(u32, &'static str, String, u32)>,
}

impl Default for Builder {
  fn default() -> Self {
    Builder::new()
  }
}

impl Builder {
  pub fn new() -> Self {
    Builder {
      nodes: vec![("synthetic", String::new(), 0)],
      edges: vec![],
    }
  }
  pub fn node(&mut self, t: &'static str, name: &str, size: u64) -> u32 {
    self.nodes.push((t, name.to_string(), size));
    (self.nodes.len() - 1) as u32
  }
  pub fn edge(&mut self, from: u32, t: &'static str, name: &str, to: u32) {
    self.edges.push((from, t, name.to_string(), to));
  }
  pub fn build(mut self) -> HeapSnapshot {
    let mut strings = StringTable::default();
    let intern = |s: &str, strings: &mut StringTable| -> u32 {
      (0..strings.len() as u32)
        .find(|&i| strings.get(i) == s)
        .unwrap_or_else(|| {
          strings.push(s);
          (strings.len() - 1) as u32
        })
    };
    intern("", &mut strings);
    self.edges.sort_by_key(|e| e.0); // edges are stored per node, in node order
    let mut s = HeapSnapshot {
      node_type_names: NODE_TYPES.iter().map(|t| t.to_string()).collect(),
      edge_type_names: EDGE_TYPES.iter().map(|t| t.to_string()).collect(),
      ..Default::default()
    };
    for (i, (t, name, size)) in self.nodes.iter().enumerate() {
      s.node_type
        .push(NODE_TYPES.iter().position(|x| x == t).unwrap() as u8);
      s.node_name.push(intern(name, &mut strings));
      s.node_id.push(i as u32 * 2 + 1);
      s.node_self_size.push(*size);
    }
    let mut counts = vec![0u32; self.nodes.len()];
    for e in &self.edges {
      counts[e.0 as usize] += 1;
    }
    s.first_edge.push(0);
    for c in counts {
      s.first_edge.push(s.first_edge.last().unwrap() + c);
    }
    for (_, t, name, to) in &self.edges {
      let code = EDGE_TYPES.iter().position(|x| x == t).unwrap() as u8;
      s.raw_edge_names
        .push(if crate::snapshot::model::edge_type_carries_index(t) {
          name.parse().unwrap()
        } else {
          intern(name, &mut strings)
        });
      s.edges.push(crate::snapshot::model::pack_edge(*to, code));
    }
    s.strings = strings;
    s.finish_edge_names();
    s
  }
}

/// root —shortcut→ global (a user root, as V8 links `global`)
pub fn with_global() -> (Builder, u32) {
  let mut b = Builder::new();
  let g = b.node("object", "global", 10);
  b.edge(0, "shortcut", "global", g);
  (b, g)
}
