//! The dominator tree's children lists (CSR), for walks from the root down: class retained sizes,
//! and which leaked objects sit inside another one.
pub struct DomChildren {
  /// children of `v` are `children[first[v]..first[v + 1]]`, in node order
  pub first: Vec<u32>,
  pub children: Vec<u32>,
}

impl DomChildren {
  /// `idom[v]` for every node; node 0 is the root (its own dominator, not its own child).
  pub fn of(idom: &[u32]) -> DomChildren {
    let n = idom.len();
    let mut first = vec![0u32; n + 1];
    for &d in &idom[1.min(n)..] {
      first[d as usize + 1] += 1;
    }
    for i in 0..n {
      first[i + 1] += first[i];
    }
    // `first[d]` serves as d's fill cursor (ending at d's end, i.e. d + 1's start), then the
    // array is shifted back by one: no second array
    let mut children = vec![0u32; n.saturating_sub(1)];
    for (v, &d) in idom.iter().enumerate().skip(1) {
      children[first[d as usize] as usize] = v as u32;
      first[d as usize] += 1;
    }
    for i in (1..=n).rev() {
      first[i] = first[i - 1];
    }
    if n > 0 {
      first[0] = 0;
    }
    DomChildren { first, children }
  }

  pub fn of_node(&self, v: usize) -> &[u32] {
    &self.children[self.first[v] as usize..self.first[v + 1] as usize]
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn children_in_node_order() {
    // 0 → {1, 3}, 1 → {2, 4}
    let t = DomChildren::of(&[0, 0, 1, 0, 1]);
    assert_eq!(t.of_node(0), &[1, 3]);
    assert_eq!(t.of_node(1), &[2, 4]);
    assert!(t.of_node(2).is_empty() && t.of_node(4).is_empty());
  }
}
