//! A fixed-length set of small integers (node or edge ordinals): one bit each.
pub struct BitSet {
  words: Vec<u64>,
}

impl BitSet {
  pub fn new(len: usize) -> Self {
    BitSet {
      words: vec![0; len.div_ceil(64)],
    }
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
