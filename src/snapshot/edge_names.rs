//! The edges' `name_or_index` column in 2 bytes per edge instead of 4. A string-named edge keeps
//! the rank of its name among the 65 535 most used names (a few hundred names cover nearly all
//! edges: `map`, `properties`, `context`, …), an element or hidden edge its index when it is small;
//! the rest (a few percent) sit in a side list sorted by edge ordinal.

/// Marks an edge whose value is in `escaped`.
const ESCAPE: u16 = u16::MAX;
const RANKS: usize = ESCAPE as usize;
/// Names with a string index at or above this (or above the edge count plus the ranks: a snapshot
/// has fewer strings than that) are never ranked, they go to the side list: the counts are an
/// array indexed by string, and the reader packs before it has validated the indices, so a
/// garbled one must not size that array.
const COUNTED: usize = 1 << 24;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct EdgeNames {
  small: Vec<u16>,
  /// `(edge ordinal, value)`, sorted by edge ordinal
  escaped: Vec<(u32, u32)>,
  /// string index of each rank
  string_of_rank: Vec<u32>,
}

/// How many string-named edges use each string: what `EdgeNames::compact_counted` ranks by.
/// Counted as the edges are read, so the packing needs no pass of its own over them.
pub struct NameUses {
  counts: Vec<u32>,
  /// indices from here on are never ranked (nor counted): a garbled index must not size `counts`
  limit: usize,
}

/// The string indices worth counting among `edges` edges: a snapshot has fewer strings than
/// edges plus the ranks, so a larger index is garbled (and must not size the counts).
fn counted_below(edges: usize) -> usize {
  COUNTED.min(edges.saturating_add(RANKS))
}

impl NameUses {
  /// For `edges` string-named edges or fewer.
  pub fn for_edges(edges: usize) -> NameUses {
    NameUses {
      counts: Vec::new(),
      limit: counted_below(edges),
    }
  }

  /// A tally that counts nothing (its counts are not to be used).
  pub fn off() -> NameUses {
    NameUses {
      counts: Vec::new(),
      limit: 0,
    }
  }

  #[inline]
  pub fn add(&mut self, name: u32) {
    let v = name as usize;
    if v < self.limit {
      if v >= self.counts.len() {
        self.counts.resize(v + 1, 0);
      }
      self.counts[v] = self.counts[v].saturating_add(1);
    }
  }

  pub fn merge(&mut self, other: &NameUses) {
    if other.counts.len() > self.counts.len() {
      self.counts.resize(other.counts.len(), 0);
    }
    for (u, &o) in self.counts.iter_mut().zip(&other.counts) {
      *u = u.saturating_add(o);
    }
  }
}

impl EdgeNames {
  /// `string_named(e)` says whether edge `e` carries a string index (else a plain index).
  /// Needs no string table: the reader runs this while it still reads the strings.
  pub fn compact(raw: &[u32], string_named: impl Fn(usize) -> bool + Sync) -> EdgeNames {
    // both passes run on two threads, each over half of the edges (this sits between parsing and
    // the analysis, on the critical path)
    let half = raw.len() / 2;
    let count = |from: usize, to: usize| {
      let mut uses = NameUses::for_edges(raw.len());
      for (e, &v) in raw[from..to].iter().enumerate() {
        if string_named(from + e) {
          uses.add(v);
        }
      }
      uses
    };
    let (mut uses, other) = std::thread::scope(|sc| {
      let h = sc.spawn(|| count(half, raw.len()));
      (
        count(0, half),
        h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
      )
    });
    uses.merge(&other);
    EdgeNames::compact_counted(raw, string_named, uses)
  }

  /// As `compact`, with the names' uses already counted (`NameUses::add` for every string-named
  /// edge of `raw`).
  pub fn compact_counted(
    raw: &[u32],
    string_named: impl Fn(usize) -> bool + Sync,
    uses: NameUses,
  ) -> EdgeNames {
    let half = raw.len() / 2;
    // (the reader counts before it knows the edge count: cut to what `compact` counts)
    let mut uses = uses.counts;
    uses.truncate(counted_below(raw.len()));
    // the most used names get a rank: every name used more than the 65 535th most used one,
    // then names used exactly as often until the ranks run out
    let mut counts: Vec<u32> = uses.iter().copied().filter(|&c| c > 0).collect();
    let cut = if counts.len() > RANKS {
      let (_, &mut c, _) = counts.select_nth_unstable_by(RANKS - 1, |a, b| b.cmp(a));
      c
    } else {
      1
    };
    drop(counts);
    let mut rank_of = vec![ESCAPE; uses.len()];
    let mut string_of_rank: Vec<u32> = Vec::new();
    for above in [true, false] {
      for (i, &c) in uses.iter().enumerate() {
        let take = if above { c > cut } else { c == cut && c > 0 };
        if take && string_of_rank.len() < RANKS {
          rank_of[i] = string_of_rank.len() as u16;
          string_of_rank.push(i as u32);
        }
      }
    }
    drop(uses);
    let mut small = vec![0u16; raw.len()];
    let (lo, hi) = small.split_at_mut(half);
    let convert = |from: usize, out: &mut [u16]| {
      let mut escaped = Vec::new();
      for (i, (&v, slot)) in raw[from..from + out.len()].iter().zip(out.iter_mut()).enumerate() {
        let e = from + i;
        let code = if string_named(e) {
          rank_of.get(v as usize).map_or(ESCAPE, |&r| r) as u32
        } else {
          v
        };
        if code < ESCAPE as u32 {
          *slot = code as u16;
        } else {
          *slot = ESCAPE;
          escaped.push((e as u32, v));
        }
      }
      escaped
    };
    let (mut escaped, more) = std::thread::scope(|sc| {
      let h = sc.spawn(|| convert(half, hi));
      (
        convert(0, lo),
        h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
      )
    });
    escaped.extend(more);
    EdgeNames {
      small,
      escaped,
      string_of_rank,
    }
  }

  /// The string index or element index of edge `e`; `string_named` as for `compact`.
  #[inline]
  pub fn get(&self, e: usize, string_named: bool) -> u32 {
    match self.small[e] {
      ESCAPE => {
        let at = self
          .escaped
          .binary_search_by_key(&(e as u32), |x| x.0)
          .expect("escaped edge is listed");
        self.escaped[at].1
      }
      code if string_named => self.string_of_rank[code as usize],
      code => code as u32,
    }
  }

  /// The per-edge column, taken out while nothing reads names (`put_column` puts it back).
  pub fn take_column(&mut self) -> Vec<u16> {
    std::mem::take(&mut self.small)
  }
  pub fn put_column(&mut self, small: Vec<u16>) {
    self.small = small;
  }
  /// The side list, taken out as `take_column` (`put_escaped` puts it back).
  pub fn take_escaped(&mut self) -> Vec<(u32, u32)> {
    std::mem::take(&mut self.escaped)
  }
  pub fn put_escaped(&mut self, escaped: Vec<(u32, u32)>) {
    self.escaped = escaped;
  }

  pub fn len(&self) -> usize {
    self.small.len()
  }
  pub fn is_empty(&self) -> bool {
    self.small.is_empty()
  }
  /// Edges whose value is in the side list.
  pub fn escaped_len(&self) -> usize {
    self.escaped.len()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn round_trips_ranked_escaped_and_index_values() {
    // 70 000 distinct names (more than the ranks), used once each except name 5 used often;
    // indices small and large
    let mut raw = Vec::new();
    let mut named = Vec::new();
    for i in 0..70_000u32 {
      raw.push(i);
      named.push(true);
    }
    for _ in 0..100 {
      raw.push(5);
      named.push(true);
    }
    for v in [0u32, 7, 65_534, 65_535, 1 << 20, u32::MAX] {
      raw.push(v);
      named.push(false);
    }
    // a string index far beyond any string table (the reader packs before it validates)
    raw.push(u32::MAX - 1);
    named.push(true);
    let n = EdgeNames::compact(&raw, |e| named[e]);
    for (e, &v) in raw.iter().enumerate() {
      assert_eq!(n.get(e, named[e]), v, "edge {e}");
    }
    assert_eq!(n.string_of_rank.len(), RANKS);
    assert_eq!(n.string_of_rank[0], 5, "the most used name is ranked first");
    // 70 000 - 65 535 names escape, plus the three indices of 65 535 and more, plus the huge one
    assert_eq!(n.escaped.len(), 70_000 - RANKS + 3 + 1);
  }

  #[test]
  fn few_names_need_no_escape() {
    let raw = vec![3u32, 1, 3, 2, 9];
    let named = [true, true, true, true, false];
    let n = EdgeNames::compact(&raw, |e| named[e]);
    assert!(n.escaped.is_empty());
    for (e, &v) in raw.iter().enumerate() {
      assert_eq!(n.get(e, named[e]), v);
    }
  }
}
