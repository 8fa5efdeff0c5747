//! Per-node byte sizes in 4 bytes each, with a side table for the rare large one.
use std::collections::HashMap;

/// Byte sizes per node (self or retained) in 4 bytes each. Sizes of 4 GiB or more are rare (a
/// self size practically never, a retained size only on the few nodes above a huge subtree):
/// they are kept in a side table, so the column costs half of a `u64` one.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sizes {
  small: Vec<u32>,
  /// node ordinal → size, for the nodes whose `small` entry is `BIG`
  big: HashMap<u32, u64>,
}

impl Sizes {
  /// The column's marker for a size kept in the side table.
  pub const BIG: u32 = u32::MAX;

  /// A column written elsewhere (`BIG` where the size is in `big`) and its large sizes.
  pub fn from_parts(small: Vec<u32>, big: Vec<(u32, u64)>) -> Sizes {
    Sizes {
      small,
      big: big.into_iter().collect(),
    }
  }

  pub fn len(&self) -> usize {
    self.small.len()
  }
  pub fn is_empty(&self) -> bool {
    self.small.is_empty()
  }
  pub fn reserve(&mut self, n: usize) {
    self.small.reserve(n);
  }
  #[inline]
  pub fn get(&self, v: usize) -> u64 {
    match self.small[v] {
      Sizes::BIG => self.big[&(v as u32)],
      x => x as u64,
    }
  }
  #[inline]
  pub fn set(&mut self, v: usize, size: u64) {
    if size < Sizes::BIG as u64 {
      if self.small[v] == Sizes::BIG {
        self.big.remove(&(v as u32));
      }
      self.small[v] = size as u32;
    } else {
      self.small[v] = Sizes::BIG;
      self.big.insert(v as u32, size);
    }
  }
  pub fn push(&mut self, size: u64) {
    self.small.push(0);
    self.set(self.small.len() - 1, size);
  }
  pub fn extend_from_slice(&mut self, sizes: &[u64]) {
    if sizes.iter().all(|&x| x < Sizes::BIG as u64) {
      self.small.extend(sizes.iter().map(|&x| x as u32));
    } else {
      sizes.iter().for_each(|&x| self.push(x));
    }
  }
  pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
    (0..self.small.len()).map(|v| self.get(v))
  }
  pub fn to_vec(&self) -> Vec<u64> {
    self.iter().collect()
  }
  /// The 4-byte column, out (to a spill file) until `put_small`; the side table stays.
  pub fn take_small(&mut self) -> Vec<u32> {
    std::mem::take(&mut self.small)
  }
  pub fn put_small(&mut self, small: Vec<u32>) {
    self.small = small;
  }
  /// These sizes, with `small` (a copy of the column `take_small` took) as their column.
  pub fn with_small(&self, small: Vec<u32>) -> Sizes {
    Sizes {
      small,
      big: self.big.clone(),
    }
  }
}
