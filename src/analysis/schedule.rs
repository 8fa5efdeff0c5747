//! Phase 3 of the analysis on two threads, in one of two schedules. Both start alike: the other
//! thread finds the page-owned nodes (the essential-edge rule needs them) and sends them, then
//! moves owned backing stores' sizes to their owners; this one finds the WeakMap tables and
//! counts the retainer slots meanwhile, then builds the retainer index with the essential-edge
//! bits. What follows differs by what must be in memory together (ARCHITECTURE.md, "Memory").
use super::classes;
use super::name_columns::{NameColumns, TakenNames};
use super::shallow;
use crate::graph::bitset::BitSet;
use crate::graph::dominators::{self, EssentialGraph};
use crate::graph::essential::{page_owned, EssentialRule, TableIds};
use crate::graph::retainers::Retainers;
use crate::graph::{distances, Kinds};
use crate::snapshot::{HeapSnapshot, Sizes};
use crate::spill::Spill;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::ScopedJoinHandle;

/// Everything but retained sizes.
pub(super) struct Halves {
  pub retainers: Retainers,
  pub doms: dominators::Dominators,
  pub distances: Vec<i32>,
  pub classes: classes::ClassNames,
  pub aggregates: classes::Aggregates,
}

/// The fastest: the dominator tree on this thread from the start, everything per node on the
/// other meanwhile; all of the snapshot stays in memory.
pub(super) fn side_by_side(s: &HeapSnapshot, kinds: &Kinds, self_sizes: &mut Sizes) -> Halves {
  std::thread::scope(|scope| {
    let (owned_tx, owned_rx) = channel();
    // the other thread: page-owned nodes (sent), owned sizes, distances, classes, Summary rows
    let side = scope.spawn(move || {
      owned_first(s, kinds, self_sizes, owned_tx);
      let distances = distances::compute(s, kinds);
      let mut classes = classes::class_names(s, kinds);
      let mut aggregates = classes::aggregate_rows(s, kinds, &mut classes, self_sizes, &s.locations);
      aggregates.add_distances(&classes, &distances);
      (distances, classes, aggregates)
    });
    // this thread: WeakMap tables, retainers with the essential edges, dominators
    let tables = TableIds::of(s, &s.node_id);
    let Some((retainers, essential)) = essential_retainers(s, kinds, &tables, owned_rx) else {
      join(side); // it panicked before sending: its join says why
      unreachable!("the side thread sends before it returns")
    };
    let doms = dominators::compute(&EssentialGraph::of(s, &retainers, &essential));
    let (distances, classes, aggregates) = join(side);
    Halves {
      retainers,
      doms,
      distances,
      classes,
      aggregates,
    }
  })
}

/// The leanest, in two stages. First, on both threads, all that reads names, ids, strings or
/// locations, and the Summary rows (the last to read the self sizes before the retained sizes:
/// those go to file `b` meanwhile). Then the names go to the files for the dominator pass (the
/// peak of the analysis), while the other thread computes the distances, which read none
/// either. Slower by the writes and by the order it imposes.
pub(super) fn names_first(
  s: &mut HeapSnapshot,
  kinds: &Kinds,
  self_sizes: &mut Sizes,
  files: (Spill, Spill),
  spilled: &mut Option<NameColumns>,
) -> Halves {
  let (mut a, b) = files;
  // the node ids go first: the essential-edge rule needs only the few that are WeakMap tables'
  let ids = std::mem::take(&mut s.node_id);
  let (retainers, essential, filter, classes, aggregates, b, spilled_ids, parked_sizes) = {
    let s: &HeapSnapshot = s;
    // each thread works out the distance filter for part of the nodes once its own work is done
    // (this one has the ids to write first: it takes fewer)
    let names = distances::FilterNames::of(s);
    let mid = (s.node_count() as u64 * 3 / 5) as u32;
    std::thread::scope(|scope| {
      let (owned_tx, owned_rx) = channel();
      // the other thread: page-owned nodes (sent), owned sizes, classes, Summary rows, the small
      // self sizes parked on file b, the distance filter below `mid`
      let side = scope.spawn(move || {
        let mut b = b;
        owned_first(s, kinds, self_sizes, owned_tx);
        let mut classes = classes::class_names(s, kinds);
        let aggregates = classes::aggregate_rows(s, kinds, &mut classes, self_sizes, &s.locations);
        let parked = b.put(self_sizes.take_small());
        let low = distances::EdgeFilter::part(s, kinds, names, 0..mid);
        (classes, aggregates, b, parked, low)
      });
      // this thread: WeakMap tables (the ids then go to file a), retainers with the essential
      // edges, the distance filter from `mid`
      let tables = TableIds::of(s, &ids);
      let spilled_ids = a.put(ids);
      let Some((retainers, essential)) = essential_retainers(s, kinds, &tables, owned_rx) else {
        join(side); // it panicked before sending: its join says why
        unreachable!("the side thread sends before it returns")
      };
      let high = distances::EdgeFilter::part(s, kinds, names, mid..s.node_count() as u32);
      let (classes, aggregates, b, parked, low) = join(side);
      let filter = distances::EdgeFilter::join(s, kinds, vec![low, high]);
      (
        retainers,
        essential,
        filter,
        classes,
        aggregates,
        b,
        spilled_ids,
        parked,
      )
    })
  };
  let mut cols = TakenNames::take_from(s).spill(spilled_ids, a, b);
  cols.park_sizes(parked_sizes);
  *spilled = Some(cols);
  let s: &HeapSnapshot = s;
  std::thread::scope(|scope| {
    let side = scope.spawn(move || {
      let distances = distances::compute_filtered(s, kinds, &filter);
      let mut aggregates = aggregates;
      aggregates.add_distances(&classes, &distances);
      (distances, classes, aggregates)
    });
    let doms = dominators::compute(&EssentialGraph::of(s, &retainers, &essential));
    let (distances, classes, aggregates) = join(side);
    Halves {
      retainers,
      doms,
      distances,
      classes,
      aggregates,
    }
  })
}

/// The other thread's start in both schedules: the page-owned nodes, sent as soon as found (the
/// sender is dropped if this panics, so the receiver never hangs), then the owned sizes moved.
fn owned_first(s: &HeapSnapshot, kinds: &Kinds, self_sizes: &mut Sizes, owned: Sender<BitSet>) {
  let _ = owned.send(page_owned(s, kinds));
  drop(owned);
  shallow::move_owned_sizes_in(s, kinds, self_sizes);
}

/// The retainer index with the essential-edge bits; the slot count runs while the other thread
/// finds the page-owned nodes. None: that thread panicked before sending them.
fn essential_retainers(
  s: &HeapSnapshot,
  kinds: &Kinds,
  tables: &TableIds,
  owned: Receiver<BitSet>,
) -> Option<(Retainers, BitSet)> {
  let ends = Retainers::slot_ends(s);
  let owned = owned.recv().ok()?;
  Some(Retainers::build_with_essential(
    s,
    ends,
    &mut EssentialRule::new(s, kinds, &owned, tables),
  ))
}

pub(super) fn join<T>(h: ScopedJoinHandle<'_, T>) -> T {
  h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}
