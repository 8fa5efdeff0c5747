//! What a snapshot needs to contribute to a comparison when it is not the one analyzed in full:
//! its object ids (sorted) with each object's kind (a hash of its type and name, to tell a
//! survivor from an object that took over a freed id), each sized object's class, and object
//! counts per leak label. About 20 bytes per node, so the baseline and target can stay in
//! memory beside the analysis of the last snapshot.
use super::classes::{self, ClassNames};
use super::{detachedness, shallow};
use crate::graph::Kinds;
use crate::snapshot::HeapSnapshot;
use std::collections::HashMap;

pub struct Census {
  /// every node id, sorted (zero-sized nodes too: they still tell "existed before")
  pub ids: Vec<u32>,
  /// `kinds[i]`: the kind (`KindKeys::of`) of the node with id `ids[i]`
  pub kinds: Vec<u32>,
  /// sized nodes `(id, class)`, sorted by id (DevTools' comparison counts sized nodes only)
  pub sized: Vec<(u32, u32)>,
  /// self size of `sized[i]`
  pub sizes: Vec<u64>,
  /// class names, indexed by `sized[i].1`
  pub class_names: Vec<String>,
  /// live objects per leak label (see `leak_label`)
  pub label_counts: HashMap<String, u64>,
  pub nodes: u64,
  /// sum of all self sizes plus `extra_native_bytes`
  pub total_bytes: u64,
}

/// The name a suspect group is shown and counted under: the Summary class, except for
/// functions, which are told apart by their own name (`onAck()` rather than `Function`).
pub fn leak_label(s: &HeapSnapshot, k: &Kinds, classes: &ClassNames, v: u32) -> String {
  if s.node_type[v as usize] == k.closure {
    let name = s.node_name_str(v);
    return if name.is_empty() {
      "(anonymous)()".to_string()
    } else {
      format!("{name}()")
    };
  }
  classes.names[classes.of(v as usize) as usize].clone()
}

/// An object's kind as comparison sees it: its node type and name (constructor, function or
/// string), hashed so that snapshots can be matched without their string tables. V8 reuses the
/// ids of freed objects: the same id with another kind is another object.
pub struct KindKeys {
  names: Vec<u32>,
  types: Vec<u32>,
}

fn fnv(bytes: &[u8], mut h: u32) -> u32 {
  for &b in bytes {
    h ^= b as u32;
    h = h.wrapping_mul(0x0100_0193);
  }
  h
}

const FNV_SEED: u32 = 0x811c_9dc5;

impl KindKeys {
  pub fn new(s: &HeapSnapshot) -> KindKeys {
    KindKeys {
      names: (0..s.strings.len() as u32)
        .map(|i| fnv(s.strings.get(i).as_bytes(), FNV_SEED))
        .collect(),
      types: s
        .node_type_names
        .iter()
        .map(|t| fnv(t.as_bytes(), FNV_SEED))
        .collect(),
    }
  }

  #[inline]
  pub fn of(&self, s: &HeapSnapshot, v: u32) -> u32 {
    let name = self
      .names
      .get(s.node_name[v as usize] as usize)
      .copied()
      .unwrap_or(0);
    let t = self
      .types
      .get(s.node_type[v as usize] as usize)
      .copied()
      .unwrap_or(0);
    fnv(&t.to_le_bytes(), name)
  }
}

impl Census {
  /// Reads the figures of a snapshot that is not analyzed in full (no dominators needed).
  pub fn of_snapshot(s: &mut HeapSnapshot) -> Census {
    detachedness::propagate(s);
    let k = Kinds::of(s);
    let classes = classes::class_names(s, &k);
    shallow::move_owned_sizes(s, &k);
    Census::build(s, &k, &classes)
  }

  /// From an analysis already at hand (class names and moved self sizes computed once).
  /// `s` with its self sizes moved (`shallow::move_owned_sizes`, or after `Analysis::compute`).
  pub fn build(s: &HeapSnapshot, k: &Kinds, classes: &ClassNames) -> Census {
    let self_sizes = &s.node_self_size;
    let n = s.node_count();
    let keys = KindKeys::new(s);
    let mut all: Vec<u32> = (0..n as u32).collect();
    all.sort_unstable_by_key(|&v| s.node_id[v as usize]);
    let ids = all.iter().map(|&v| s.node_id[v as usize]).collect();
    let kinds = all.iter().map(|&v| keys.of(s, v)).collect();
    drop(all);
    let mut order: Vec<u32> = (0..n as u32)
      .filter(|&v| self_sizes.get(v as usize) > 0)
      .collect();
    order.sort_unstable_by_key(|&v| s.node_id[v as usize]);
    let sized = order
      .iter()
      .map(|&v| (s.node_id[v as usize], classes.of(v as usize)))
      .collect();
    let sizes = order.iter().map(|&v| self_sizes.get(v as usize)).collect();
    let mut label_counts: HashMap<String, u64> = HashMap::new();
    // labels repeat across millions of nodes: count per (class, closure name) pair first
    let mut by_key: HashMap<(u32, u32), u64> = HashMap::new();
    for v in 0..n as u32 {
      let name = if s.node_type[v as usize] == k.closure {
        s.node_name[v as usize]
      } else {
        u32::MAX
      };
      *by_key.entry((classes.of(v as usize), name)).or_default() += 1;
    }
    for ((class, name), c) in by_key {
      let label = if name == u32::MAX {
        classes.names[class as usize].clone()
      } else {
        let f = s.strings.get(name);
        if f.is_empty() {
          "(anonymous)()".to_string()
        } else {
          format!("{f}()")
        }
      };
      *label_counts.entry(label).or_default() += c;
    }
    let total_bytes = self_sizes.iter().sum::<u64>() + s.extra_native_bytes;
    Census {
      ids,
      kinds,
      sized,
      sizes,
      class_names: classes.names.clone(),
      label_counts,
      nodes: n as u64,
      total_bytes,
    }
  }

  pub fn has_id(&self, id: u32) -> bool {
    self.ids.binary_search(&id).is_ok()
  }

  /// The object with this id and kind was alive here: the same object, not one that reused
  /// its id.
  pub fn has_object(&self, id: u32, kind: u32) -> bool {
    let from = self.ids.partition_point(|&x| x < id);
    self.ids[from..]
      .iter()
      .zip(&self.kinds[from..])
      .take_while(|(&x, _)| x == id)
      .any(|(_, &k)| k == kind)
  }

  pub fn label_count(&self, label: &str) -> u64 {
    self.label_counts.get(label).copied().unwrap_or(0)
  }
}
