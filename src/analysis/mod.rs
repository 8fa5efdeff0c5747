//! Everything DevTools' Memory panel computes for a snapshot, plus leakprobe's reports.
//! Plain Rust: `Analysis::compute` then `report::build`.
pub mod census;
pub mod classes;
pub mod compare;
pub mod dom_state;
pub mod interfaces;
pub mod names;
pub mod paths;
pub mod report;
pub mod shallow;

pub use report::{AnalyzeOptions, Report};

use crate::graph::essential::{page_owned, BitSet, EssentialRule};
use crate::graph::retainers::Retainers;
use crate::graph::dom_tree::DomChildren;
use crate::graph::{distances, dominators, Kinds};
use crate::snapshot::{HeapSnapshot, Sizes};

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
  /// Renames detached native nodes first (as DevTools does on load) and moves owned backing
  /// stores' self sizes onto their owners (as the Memory panel shows them), hence `&mut`.
  pub fn compute(s: &mut HeapSnapshot) -> Analysis {
    dom_state::propagate(s);
    let kinds = Kinds::of(s);
    // the size column is moved in place on the side thread, out of the snapshot meanwhile
    // (put back even if the analysis panics: the caller turns that into an error and the
    // snapshot stays whole)
    let mut self_sizes = std::mem::take(&mut s.node_self_size);
    let analysis = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Analysis::compute_with(s, kinds, &mut self_sizes)));
    s.node_self_size = self_sizes;
    match analysis {
      Ok(a) => {
        s.self_sizes_moved = true;
        a
      }
      Err(p) => std::panic::resume_unwind(p),
    }
  }

  fn compute_with(s: &HeapSnapshot, kinds: Kinds, self_sizes: &mut Sizes) -> Analysis {
    // Two halves on two threads. The dominator tree needs only the graph; everything per node
    // (self sizes, distances, classes, the Summary rows) needs no dominators, and meets it after.
    let ((retainers, doms), (distances, classes, mut aggregates)) = std::thread::scope(|scope| {
      // the essential-edge rule needs the page-owned nodes: the other thread finds them first
      // while this one counts the retainer slots
      let (owned_tx, owned_rx) = std::sync::mpsc::channel();
      let side = scope.spawn(|| {
        let owned_tx = owned_tx; // moved in: dropped if this thread panics, so recv never hangs
        let _ = owned_tx.send(page_owned(s, &kinds));
        shallow::move_owned_sizes_in(s, &kinds, self_sizes);
        let distances = distances::compute(s, &kinds);
        let mut classes = classes::class_names(s, &kinds);
        let rows = classes::aggregate_rows(s, &kinds, &mut classes, self_sizes, &distances);
        (distances, classes, rows)
      });
      let ends = Retainers::slot_ends(s);
      let (retainers, essential) = match owned_rx.recv() {
        Ok(owned) => Retainers::build_with_essential(s, ends, &mut EssentialRule::new(s, &kinds, &owned)),
        // the other thread panicked before sending: its join below says why
        Err(_) => match side.join() {
          Err(p) => std::panic::resume_unwind(p),
          Ok(_) => unreachable!("the side thread sends before it returns"),
        },
      };
      let doms = dominators::compute(s, &retainers, &essential);
      let side = match side.join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
      };
      ((retainers, doms), side)
    });
    let dominators::Dominators { idom, order, unreachable } = doms;
    // retained sizes and the dominator tree's children index side by side (both read idom)
    let (retained, tree) = std::thread::scope(|scope| {
      let tree = scope.spawn(|| DomChildren::of(&idom));
      let retained = dominators::retained_sizes(&order, &idom, self_sizes);
      (retained, tree.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    drop(order);
    aggregates.add_retained(&classes, &retained, &tree);
    drop(tree);
    let unreachable_size = (0..s.node_count()).filter(|&v| unreachable.get(v)).map(|v| self_sizes.get(v)).sum();
    let total_size = if retained.is_empty() { 0 } else { retained.get(0) } + s.extra_native_bytes;
    Analysis {
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
    }
  }
}

/// Analyzes a snapshot and builds the report (timings are the caller's to fill).
pub fn analyze(s: &mut HeapSnapshot, opts: &AnalyzeOptions) -> Report {
  let a = Analysis::compute(s);
  report::build(s, &a, opts)
}

#[cfg(test)]
mod exactness_tests;
#[cfg(test)]
mod compare_tests;
#[cfg(test)]
mod graph_tests;
