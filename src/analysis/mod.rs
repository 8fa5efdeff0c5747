//! Everything DevTools' Memory panel computes for a snapshot, plus leakprobe's reports.
//! Plain Rust: `Analysis::compute` then `report::build`.
pub mod census;
pub mod classes;
pub mod compare;
pub mod detachedness;
pub mod interfaces;
pub mod locations;
mod name_columns;
pub mod names;
pub mod paths;
pub mod report;
pub mod shallow;

pub use report::{AnalyzeOptions, Report};

use crate::graph::bitset::BitSet;
use crate::graph::dominator_tree::DomChildren;
use crate::graph::dominators::EssentialGraph;
use crate::graph::essential::{page_owned, EssentialRule, TableIds};
use crate::graph::retainers::Retainers;
use crate::graph::{distances, dominators, Kinds};
use crate::shelf::{Shelf, ShelfPolicy};
use crate::snapshot::{HeapSnapshot, Sizes};
use name_columns::{lost, NameColumns, TakenNames};
use std::io;
use std::thread::ScopedJoinHandle;

/// Per-node figures (shallow, retained, distance, dominator, class) and the class aggregates,
/// kept together so reports and snapshot comparison reuse them.
pub struct Analysis {
  pub kinds: Kinds,
  pub retainers: Retainers,
  pub idom: Vec<u32>,
  pub retained: Sizes,
  pub distances: Vec<i32>,
  pub unreachable: BitSet,
  pub classes: classes::ClassNames,
  pub aggregates: classes::Aggregates,
  pub total_size: u64,
  pub unreachable_size: u64,
}

impl Analysis {
  /// Everything in memory (see `compute_shelving`).
  pub fn compute(s: &mut HeapSnapshot) -> Analysis {
    match Analysis::compute_shelving(s, &ShelfPolicy::memory()) {
      Ok(a) => a,
      Err(e) => unreachable!("arrays shelved in memory always come back: {e}"),
    }
  }

  /// Renames detached native nodes first (as DevTools does on load) and moves owned backing
  /// stores' self sizes onto their owners (as the Memory panel shows them), hence `&mut`.
  /// During the dominator pass the columns it never reads are on a shelf per `policy` (a
  /// temporary file for big snapshots); an error means that file failed us, and leaves the
  /// snapshot incomplete (drop it).
  pub fn compute_shelving(s: &mut HeapSnapshot, policy: &ShelfPolicy) -> io::Result<Analysis> {
    let (a, names) = Analysis::compute_leaving_names(s, policy)?;
    if let Some(cols) = names {
      cols.restore(s)?;
    }
    Ok(a)
  }

  /// As `compute_shelving`, but names that went to a shelf stay there: the caller brings them
  /// back (`NameColumns::restore`) once it has dropped what it no longer needs.
  fn compute_leaving_names(
    s: &mut HeapSnapshot,
    policy: &ShelfPolicy,
  ) -> io::Result<(Analysis, Option<NameColumns>)> {
    detachedness::propagate(s);
    let kinds = Kinds::of(s);
    // the size column is moved in place on the side thread, out of the snapshot meanwhile; it and
    // the shelved columns go back even if the analysis panics (the caller turns that into an
    // error; columns a panic catches between the snapshot and the shelf are lost)
    let mut self_sizes = std::mem::take(&mut s.node_self_size);
    let mut shelved = None;
    let analysis = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
      Analysis::compute_with(s, kinds, &mut self_sizes, policy, &mut shelved)
    }));
    s.node_self_size = self_sizes;
    match analysis {
      Ok(a) => {
        s.self_sizes_moved = true;
        a.map(|a| (a, shelved))
      }
      Err(p) => {
        if let Some(cols) = shelved {
          let _ = cols.restore(s); // best effort
        }
        std::panic::resume_unwind(p)
      }
    }
  }

  fn compute_with(
    s: &mut HeapSnapshot,
    kinds: Kinds,
    self_sizes: &mut Sizes,
    policy: &ShelfPolicy,
    shelved: &mut Option<NameColumns>,
  ) -> io::Result<Analysis> {
    // two files (two threads write them), or none: without them the other schedule is faster
    let files = policy
      .dir_for(TakenNames::bytes_in(s))
      .map(|dir| (Shelf::in_dir(dir), Shelf::in_dir(dir)))
      .filter(|(a, b)| a.on_disk() && b.on_disk());
    let Halves {
      retainers,
      doms,
      distances,
      classes,
      mut aggregates,
    } = match files {
      None => Halves::side_by_side(s, &kinds, self_sizes),
      Some(files) => Halves::names_first(s, &kinds, self_sizes, files, shelved),
    };
    let dominators::Dominators {
      idom,
      order,
      unreachable,
    } = doms;
    // retained sizes (with the unreachable size on the way) and the dominator tree's children
    // index side by side (both read idom)
    let (retained, unreachable_size, tree) = std::thread::scope(|scope| -> io::Result<_> {
      let tree = scope.spawn(|| DomChildren::of(&idom));
      // the retained sizes start from a copy of the self sizes: a second read of the shelf when
      // they are parked there (names-first: they stay there until the report's selection)
      let start = match shelved.as_ref().and_then(|c| c.parked_sizes()) {
        Some(parked) => self_sizes.with_small(parked.copy().map_err(lost)?),
        None => self_sizes.clone(),
      };
      let unreachable_size: u64 = (0..s.node_count())
        .filter(|&v| unreachable.get(v))
        .map(|v| start.get(v))
        .sum();
      let retained = dominators::retained_sizes(&order, &idom, start);
      Ok((retained, unreachable_size, join(tree)))
    })?;
    drop(order);
    aggregates.add_retained(&classes, &retained, &tree);
    drop(tree);
    // shelved names stay out: the caller brings them back once the dominator pass's arrays
    // are gone
    let total_size = if retained.is_empty() { 0 } else { retained.get(0) } + s.extra_native_bytes;
    Ok(Analysis {
      kinds,
      retainers,
      idom,
      retained,
      distances,
      unreachable,
      classes,
      aggregates,
      total_size,
      unreachable_size,
    })
  }
}

/// Everything but retained sizes: the dominator tree on one thread, the per-node figures
/// (self sizes, distances, classes, the Summary rows) on another; two schedules.
struct Halves {
  retainers: Retainers,
  doms: dominators::Dominators,
  distances: Vec<i32>,
  classes: classes::ClassNames,
  aggregates: classes::Aggregates,
}

impl Halves {
  /// The fastest: the dominator tree on this thread from the start, everything per node on the
  /// other meanwhile; all of the snapshot stays in memory.
  fn side_by_side(s: &HeapSnapshot, kinds: &Kinds, self_sizes: &mut Sizes) -> Halves {
    let ((retainers, doms), (distances, classes, aggregates)) = Halves::retainers_beside(
      s,
      kinds,
      self_sizes,
      || TableIds::of(s, &s.node_id),
      |sizes| {
        let distances = distances::compute(s, kinds);
        let mut classes = classes::class_names(s, kinds);
        let mut aggregates = classes::aggregate_rows(s, kinds, &mut classes, sizes, &s.locations);
        aggregates.add_distances(&classes, &distances);
        (distances, classes, aggregates)
      },
      |retainers, essential| {
        let doms = dominators::compute(&EssentialGraph::of(s, &retainers, &essential));
        (retainers, doms)
      },
    );
    Halves {
      retainers,
      doms,
      distances,
      classes,
      aggregates,
    }
  }

  /// The leanest: first, on both threads, all that reads names, ids, strings or locations, and
  /// the Summary rows (the last to read the self sizes before the retained sizes: those go to
  /// the other file meanwhile); then the names go to `files` for the dominator pass (the peak of
  /// the analysis), while the other thread computes the distances, which read none either.
  /// Slower by the writes and by the order it imposes.
  fn names_first(
    s: &mut HeapSnapshot,
    kinds: &Kinds,
    self_sizes: &mut Sizes,
    files: (Shelf, Shelf),
    shelved: &mut Option<NameColumns>,
  ) -> Halves {
    let (mut a, b) = files;
    // the node ids go first: the essential-edge rule needs only the few that are WeakMap tables'
    let ids = std::mem::take(&mut s.node_id);
    let mut shelved_ids = None;
    let ((retainers, essential, filter), (classes, aggregates, b, parked_sizes)) = {
      let s: &HeapSnapshot = s;
      // each thread works out the distance filter for part of the nodes once its own work is
      // done (this one has the ids to write first: it takes fewer)
      let names = distances::FilterNames::of(s);
      let mid = (s.node_count() as u64 * 3 / 5) as u32;
      let ((retainers, essential, high), (classes, aggregates, b, parked, low)) = Halves::retainers_beside(
        s,
        kinds,
        self_sizes,
        || {
          let tables = TableIds::of(s, &ids);
          shelved_ids = Some(a.put(ids));
          tables
        },
        move |sizes| {
          let mut b = b;
          let mut classes = classes::class_names(s, kinds);
          let aggregates = classes::aggregate_rows(s, kinds, &mut classes, sizes, &s.locations);
          let parked = b.put(sizes.take_small());
          (
            classes,
            aggregates,
            b,
            parked,
            distances::EdgeFilter::part(s, kinds, names, 0..mid),
          )
        },
        |retainers, essential| {
          (
            retainers,
            essential,
            distances::EdgeFilter::part(s, kinds, names, mid..s.node_count() as u32),
          )
        },
      );
      (
        (
          retainers,
          essential,
          distances::EdgeFilter::join(s, kinds, vec![low, high]),
        ),
        (classes, aggregates, b, parked),
      )
    };
    let ids = shelved_ids.expect("the ids went to the shelf before the retainers were built");
    let mut cols = TakenNames::take_from(s).shelve(ids, a, b);
    cols.park_sizes(parked_sizes);
    *shelved = Some(cols);
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

  /// The start both schedules share. The essential-edge rule needs the page-owned nodes: the
  /// other thread finds them first (and sends them), moves the owned self sizes, then runs
  /// `side`; this one finds the WeakMap tables' ids (`tables`) and counts the retainer slots
  /// meanwhile, builds the retainer index with the essential-edge bits, then runs `main`.
  fn retainers_beside<S: Send, M>(
    s: &HeapSnapshot,
    kinds: &Kinds,
    self_sizes: &mut Sizes,
    tables: impl FnOnce() -> TableIds,
    side: impl FnOnce(&mut Sizes) -> S + Send,
    main: impl FnOnce(Retainers, BitSet) -> M,
  ) -> (M, S) {
    std::thread::scope(|scope| {
      let (owned_tx, owned_rx) = std::sync::mpsc::channel();
      let other = scope.spawn(move || {
        let owned_tx = owned_tx; // moved in: dropped if this thread panics, so recv never hangs
        let _ = owned_tx.send(page_owned(s, kinds));
        shallow::move_owned_sizes_in(s, kinds, self_sizes);
        side(self_sizes)
      });
      let tables = tables();
      let ends = Retainers::slot_ends(s);
      let Ok(owned) = owned_rx.recv() else {
        // the other thread panicked before sending: its join says why
        join(other);
        unreachable!("the side thread sends before it returns")
      };
      let (retainers, essential) =
        Retainers::build_with_essential(s, ends, &mut EssentialRule::new(s, kinds, &owned, &tables));
      drop(owned);
      let m = main(retainers, essential);
      (m, join(other))
    })
  }
}

fn join<T>(h: ScopedJoinHandle<'_, T>) -> T {
  h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Analyzes a snapshot and builds the report (timings are the caller's to fill), shelving per
/// `policy` during the dominator pass (`Analysis::compute_shelving`). Names on the shelf come
/// back only once the report's figures and paths are picked and the analysis is dropped (only
/// the node ids before: ties in the top list go by id), so names and the per-node analysis are
/// never in memory together.
pub fn analyze(s: &mut HeapSnapshot, opts: &AnalyzeOptions, policy: &ShelfPolicy) -> io::Result<Report> {
  let (a, names) = Analysis::compute_leaving_names(s, policy)?;
  let Some(mut cols) = names else {
    return Ok(report::build(s, &a, opts));
  };
  cols.restore_ids(s)?;
  // (a panic from here on leaves the names on the file: every caller owns the snapshot and drops
  // it while the panic unwinds)
  let picked = report::select(s, &a, opts);
  // the analysis goes back to the kernel while the names are read: freeing takes a few ms, and
  // it is done long before the names are all in (they are ~half of what it held)
  std::thread::scope(|scope| {
    // (no thread to be had: the closure, and the analysis with it, is dropped right here)
    let _ = std::thread::Builder::new().spawn_scoped(scope, move || drop(a));
    cols.restore(s)
  })?;
  Ok(picked.render(s))
}

#[cfg(test)]
mod compare_tests;
#[cfg(test)]
mod exactness_tests;
#[cfg(test)]
mod figures_tests;
