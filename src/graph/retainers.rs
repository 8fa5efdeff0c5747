//! The reverse index: for each node, the (node, edge) pairs that point at it, in CSR form.
//! Laid out exactly as DevTools' `buildRetainers` (each node's retainers in reverse edge order),
//! so walks over retainers visit them in the same order DevTools does.
use crate::snapshot::HeapSnapshot;

pub struct Retainers {
  /// `first[n]..first[n + 1]` index `node` and `edge` for the retainers of node `n`
  pub first: Vec<u32>,
  pub node: Vec<u32>,
  pub edge: Vec<u32>,
}

impl Retainers {
  pub fn build(s: &HeapSnapshot) -> Retainers {
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
    let mut edge = vec![0u32; m];
    for src in 0..n {
      for e in s.edges_of(src as u32) {
        let to = s.edge_to[e] as usize;
        fill[to] -= 1;
        let slot = (first[to] + fill[to]) as usize;
        node[slot] = src as u32;
        edge[slot] = e as u32;
      }
    }
    Retainers { first, node, edge }
  }

  pub fn of(&self, n: u32) -> std::ops::Range<usize> {
    self.first[n as usize] as usize..self.first[n as usize + 1] as usize
  }
}
