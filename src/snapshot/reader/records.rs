//! What the node and edge arrays share: columns the parser threads write in place, and the bound
//! on how many records an array may hold.
use super::super::error::SnapshotError;
use super::super::scanner::Res;

/// A header's count is a hint, not a promise: never pre-allocate more than this many records.
pub(super) const MAX_PREALLOC: u64 = 1 << 24;

/// A column the parser threads fill in place: each chunk's records go straight to their own
/// slots (no per-chunk copy for the reading thread to append, which was most of its work), and
/// the column's length is set once every slot is written.
pub(super) struct Slots<T> {
  ptr: *mut T,
  cap: usize,
}

// SAFETY: the threads write disjoint slots (each record's own), and nothing reads the column or
// moves its buffer until they are done (`fill`)
unsafe impl<T: Send> Send for Slots<T> {}
// SAFETY: as for Send
unsafe impl<T: Send> Sync for Slots<T> {}

impl<T> Slots<T> {
  /// Room for `n` records in `v` (emptied first).
  pub(super) fn of(v: &mut Vec<T>, n: usize) -> Slots<T> {
    v.clear();
    v.reserve_exact(n);
    Slots {
      ptr: v.as_mut_ptr(),
      cap: n,
    }
  }
  /// Writes slot `i` (< `cap`: the caller checks).
  #[inline]
  pub(super) fn put(&self, i: usize, x: T) {
    debug_assert!(i < self.cap);
    // SAFETY: in bounds (checked by the caller against `cap`, which `of` reserved), and written
    // by one thread only (see the Sync impl)
    unsafe { self.ptr.add(i).write(x) }
  }
}

/// Sets `v`'s length to the `n` records the parser threads wrote through `Slots::of(v, cap)`.
///
/// # Safety
/// Slots `0..n` (n <= cap) must all have been written, and `v` untouched since `Slots::of`.
pub(super) unsafe fn fill<T>(v: &mut Vec<T>, n: usize) {
  // SAFETY: the caller's contract
  unsafe { v.set_len(n) };
}

/// Whether a header's count lets the parser threads write in place: a count is only a hint, so
/// never more than `MAX_PREALLOC` (times `per_node` records per node) up front; past that, or
/// without one, the reading thread appends as the chunks come in.
pub(super) fn in_place(count: Option<u64>, per_node: u64) -> Option<usize> {
  count
    .filter(|&n| n <= MAX_PREALLOC * per_node && n <= u32::MAX as u64)
    .map(|n| n as usize)
}

/// How many records an array may hold, and what says so (for the message when it holds more):
/// its count in the header, or what the reader can hold, or the nodes' edge counts. Records past
/// it are refused as they come, before their columns grow.
pub(super) struct Bound {
  max: usize,
  /// "snapshot.node_count says 5 nodes", …
  says: String,
}

impl Bound {
  /// The header's `count` of `what`s ("node", "edge"), or else `max`, whichever is smaller.
  pub(super) fn of(what: &str, count: Option<u64>, max: usize, says_max: &str) -> Bound {
    match count {
      Some(n) if n <= max as u64 => Bound {
        max: n as usize,
        says: format!("snapshot.{what}_count says {n} {what}s"),
      },
      _ => Bound {
        max,
        says: says_max.into(),
      },
    }
  }

  /// Converts the records of a chunk under the bound (`what`: "node", "edge"), then refuses the
  /// first one past it: those before it are checked first.
  #[allow(clippy::too_many_arguments)]
  pub(super) fn within<C>(
    &self,
    what: &str,
    width: usize,
    vals: &[u64],
    first: u64,
    at: &dyn Fn(usize) -> u64,
    c: &mut C,
    convert: impl FnOnce(&[u64], &mut C) -> Res<()>,
  ) -> Res<()> {
    let fit = self
      .max
      .saturating_sub(first as usize)
      .saturating_mul(width)
      .min(vals.len());
    convert(&vals[..fit], c)?;
    if fit < vals.len() {
      return Err(SnapshotError::at(
        at(fit),
        format!("{} but the \"{what}s\" array holds more", self.says),
      ));
    }
    Ok(())
  }
}
