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
mod schedule;
pub mod shallow;

pub use report::{AnalyzeOptions, Report};

use crate::graph::bitset::BitSet;
use crate::graph::dominator_tree::DomChildren;
use crate::graph::retainers::Retainers;
use crate::graph::{dominators, Kinds};
use crate::snapshot::{HeapSnapshot, Sizes};
use crate::spill::{Spill, SpillPolicy};
use name_columns::{lost, NameColumns, TakenNames};
use schedule::Halves;
use std::io;

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
  /// Everything in memory (see `compute_spilling`).
  pub fn compute(s: &mut HeapSnapshot) -> Analysis {
    match Analysis::compute_spilling(s, &SpillPolicy::memory()) {
      Ok(a) => a,
      Err(e) => unreachable!("arrays kept in memory always come back: {e}"),
    }
  }

  /// Renames detached native nodes first (as DevTools does on load) and moves owned backing
  /// stores' self sizes onto their owners (as the Memory panel shows them), hence `&mut`.
  /// During the dominator pass the columns it never reads are on a spill file per `policy` (a
  /// temporary file for big snapshots); an error means that file failed us, and leaves the
  /// snapshot incomplete (drop it).
  pub fn compute_spilling(s: &mut HeapSnapshot, policy: &SpillPolicy) -> io::Result<Analysis> {
    let (a, names) = Analysis::compute_leaving_names(s, policy)?;
    if let Some(cols) = names {
      cols.restore(s)?;
    }
    Ok(a)
  }

  /// As `compute_spilling`, but names that went to a spill file stay there: the caller brings them
  /// back (`NameColumns::restore`) once it has dropped what it no longer needs.
  ///
  /// The phases, in order (DevTools' `initialize()` runs the same, one after another):
  /// 1. detachedness: detached native nodes renamed `Detached …`;
  /// 2. kinds: the type codes every rule below tests;
  /// 3. on two threads, one of the two `schedule`s: page-owned nodes, owned backing stores'
  ///    sizes moved to their owners, the WeakMap tables, the retainer index with the essential
  ///    edges, the dominator tree ‖ distances, class names, the Summary rows;
  /// 4. retained sizes ‖ the dominator tree's children index;
  /// 5. the classes' retained sizes (from the dominator tree: each object counted once).
  fn compute_leaving_names(
    s: &mut HeapSnapshot,
    policy: &SpillPolicy,
  ) -> io::Result<(Analysis, Option<NameColumns>)> {
    detachedness::propagate(s);
    let kinds = Kinds::of(s);
    // the size column is moved in place on the side thread, out of the snapshot meanwhile; it and
    // the spilled columns go back even if the analysis panics (the caller turns that into an
    // error; columns a panic catches between the snapshot and the spill file are lost)
    let mut self_sizes = std::mem::take(&mut s.node_self_size);
    let mut spilled = None;
    let analysis = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
      Analysis::figures(s, kinds, &mut self_sizes, policy, &mut spilled)
    }));
    s.node_self_size = self_sizes;
    match analysis {
      Ok(a) => {
        s.self_sizes_moved = true;
        a.map(|a| (a, spilled))
      }
      Err(p) => {
        if let Some(cols) = spilled {
          let _ = cols.restore(s); // best effort
        }
        std::panic::resume_unwind(p)
      }
    }
  }

  /// Phases 3 to 5 of `compute_leaving_names`.
  fn figures(
    s: &mut HeapSnapshot,
    kinds: Kinds,
    self_sizes: &mut Sizes,
    policy: &SpillPolicy,
    spilled: &mut Option<NameColumns>,
  ) -> io::Result<Analysis> {
    // 3. two files (two threads write them), or none: without them the other schedule is faster
    let files = policy
      .dir_for(TakenNames::bytes_in(s))
      .map(|dir| (Spill::in_dir(dir), Spill::in_dir(dir)))
      .filter(|(a, b)| a.on_disk() && b.on_disk());
    let Halves {
      retainers,
      doms,
      distances,
      classes,
      mut aggregates,
    } = match files {
      None => schedule::side_by_side(s, &kinds, self_sizes),
      Some(files) => schedule::names_first(s, &kinds, self_sizes, files, spilled),
    };
    let dominators::Dominators {
      idom,
      order,
      unreachable,
    } = doms;
    // 4. retained sizes (with the unreachable size on the way) ‖ the dominator tree's children
    let (retained, unreachable_size, tree) = std::thread::scope(|scope| -> io::Result<_> {
      let tree = scope.spawn(|| DomChildren::of(&idom));
      // the retained sizes start from a copy of the self sizes: a second read of the spill file when
      // they are parked there (names-first: they stay there until the report's selection)
      let start = match spilled.as_ref().and_then(|c| c.parked_sizes()) {
        Some(parked) => self_sizes.with_small(parked.copy().map_err(lost)?),
        None => self_sizes.clone(),
      };
      let unreachable_size: u64 = (0..s.node_count())
        .filter(|&v| unreachable.get(v))
        .map(|v| start.get(v))
        .sum();
      let retained = dominators::retained_sizes(&order, &idom, start);
      Ok((retained, unreachable_size, schedule::join(tree)))
    })?;
    drop(order);
    // 5.
    aggregates.add_retained(&classes, &retained, &tree);
    drop(tree);
    // spilled names stay out: the caller brings them back once the dominator pass's arrays
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

/// Analyzes a snapshot and builds the report (timings are the caller's to fill), spilling per
/// `policy` during the dominator pass (`Analysis::compute_spilling`). Names on the spill file come
/// back only once the report's figures and paths are picked and the analysis is dropped (only
/// the node ids before: ties in the top list go by id), so names and the per-node analysis are
/// never in memory together.
pub fn analyze(s: &mut HeapSnapshot, opts: &AnalyzeOptions, policy: &SpillPolicy) -> io::Result<Report> {
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
