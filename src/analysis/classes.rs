//! The Summary view: a class per node (DevTools' class names, plain objects regrouped by shape),
//! aggregates per class key, and class retained sizes (`calculateClassesRetainedSize`).
use super::interfaces;
use super::names::base_class_name;
use crate::graph::dominator_tree::DomChildren;
use crate::graph::Kinds;
use crate::snapshot::{HeapSnapshot, Sizes};
use foldhash::{HashMap, HashMapExt};

/// Interned class names and the class of each node (`of`). Once `aggregate_rows` has run, a
/// sized node's entry holds its Summary row instead (top bit set), the row knowing its class:
/// one per-node array for both.
pub struct ClassNames {
  pub names: Vec<String>,
  of_node: Vec<u32>,
  /// the class of each Summary row
  row_class: Vec<u32>,
}

const ROW: u32 = 1 << 31;

impl ClassNames {
  /// Node `v`'s class (an index into `names`).
  #[inline]
  pub fn of(&self, v: usize) -> u32 {
    match self.of_node[v] {
      c if c & ROW != 0 => self.row_class[(c & !ROW) as usize],
      c => c,
    }
  }
  /// Node `v`'s Summary row: sized nodes, after `aggregate_rows`.
  #[inline]
  pub fn row(&self, v: usize) -> Option<u32> {
    let c = self.of_node[v];
    (c & ROW != 0).then_some(c & !ROW)
  }
  pub fn node_count(&self) -> usize {
    self.of_node.len()
  }
}

pub fn class_names(s: &HeapSnapshot, k: &Kinds) -> ClassNames {
  let mut names: Vec<String> = Vec::new();
  let mut by_text: HashMap<String, u32> = HashMap::new();
  let mut intern = |text: &str, names: &mut Vec<String>| -> u32 {
    if let Some(&i) = by_text.get(text) {
      return i;
    }
    let i = names.len() as u32;
    names.push(text.to_string());
    by_text.insert(text.to_string(), i);
    i
  };
  // most nodes share a (type, name) pair with many others: resolve each pair once, looked up
  // by index (a hash lookup per node cost more than the rest of this pass)
  // (objects and natives of one name share a class: `base_class_name` reads only the name)
  const NONE: u32 = u32::MAX;
  let mut by_type = [NONE; 256];
  let mut by_name = vec![NONE; s.strings.len()];
  let mut of_node = Vec::with_capacity(s.node_count());
  for v in 0..s.node_count() as u32 {
    let t = s.node_type[v as usize];
    let name = s.node_name[v as usize] as usize;
    let slot = if t != k.object && t != k.native {
      &mut by_type[t as usize]
    } else if let Some(slot) = by_name.get_mut(name) {
      slot
    } else {
      // a name past the string table (the reader rejects those): resolved every time
      of_node.push(intern(&base_class_name(s, k, v), &mut names));
      continue;
    };
    if *slot == NONE {
      *slot = intern(&base_class_name(s, k, v), &mut names);
    }
    of_node.push(*slot);
  }
  drop(by_name);
  let defs = interfaces::infer(s, k);
  let def_class: Vec<u32> = defs.iter().map(|d| intern(&d.name, &mut names)).collect();
  interfaces::apply(s, k, &defs, |node, def| of_node[node as usize] = def_class[def]);
  ClassNames {
    names,
    of_node,
    row_class: Vec::new(),
  }
}

/// DevTools keys an object's class by its allocation site too, so one name can be several rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassKey {
  Class(u32),
  /// class, index into `HeapSnapshot::location_sites`
  Located(u32, u32),
}

#[derive(Debug, Clone, Default)]
pub struct Aggregate {
  pub count: u64,
  pub self_size: u64,
  pub retained_size: u64,
  pub distance: i32,
}

pub struct Aggregates {
  pub keys: Vec<ClassKey>,
  pub rows: Vec<Aggregate>,
}

/// Count and self size per class key; the distances (`add_distances`) and class retained sizes
/// (`add_retained`) come later, so this part needs neither the BFS nor the dominator tree.
/// Records each sized node's row in `classes` (nodes with no self size are in no row).
/// `locations` are the snapshot's (passed apart so the snapshot may lend its other columns).
pub fn aggregate_rows(
  s: &HeapSnapshot,
  k: &Kinds,
  classes: &mut ClassNames,
  self_sizes: &Sizes,
  locations: &[(u32, u32)],
) -> Aggregates {
  let n = s.node_count();
  let mut loc_iter = locations.iter().peekable();
  // most keys are a bare class: a direct index; only located ones go through the map
  let mut by_class: Vec<u32> = vec![u32::MAX; classes.names.len()];
  let mut index: HashMap<ClassKey, u32> = HashMap::new();
  let mut keys = Vec::new();
  let mut rows: Vec<Aggregate> = Vec::new();
  for v in 0..n {
    // locations are sorted by node: advance alongside
    let mut loc = None;
    while let Some((ln, l)) = loc_iter.peek() {
      if (*ln as usize) < v {
        loc_iter.next();
      } else {
        if *ln as usize == v {
          loc = Some(*l);
        }
        break;
      }
    }
    let size = self_sizes.get(v);
    let class = classes.of(v);
    let key = match loc {
      Some(l) if s.node_type[v] == k.object => ClassKey::Located(class, l),
      _ => ClassKey::Class(class),
    };
    if size == 0 {
      continue; // not in the Summary, and never counted by the retained-size walk
    }
    let mut new_row = || {
      keys.push(key);
      rows.push(Aggregate {
        count: 0,
        self_size: 0,
        retained_size: 0,
        distance: i32::MAX,
      });
      (rows.len() - 1) as u32
    };
    let r = match key {
      ClassKey::Class(c) => {
        let slot = &mut by_class[c as usize];
        if *slot == u32::MAX {
          *slot = new_row();
        }
        *slot
      }
      ClassKey::Located(..) => *index.entry(key).or_insert_with(new_row),
    };
    let a = &mut rows[r as usize];
    a.count += 1;
    a.self_size += size;
    classes.of_node[v] = r | ROW;
  }
  classes.row_class = keys
    .iter()
    .map(|key| match *key {
      ClassKey::Class(c) | ClassKey::Located(c, _) => c,
    })
    .collect();
  Aggregates { keys, rows }
}

impl Aggregates {
  /// Each row's distance: the least of its nodes'.
  pub fn add_distances(&mut self, classes: &ClassNames, distances: &[i32]) {
    for (v, &d) in distances.iter().enumerate() {
      if let Some(r) = classes.row(v) {
        let a = &mut self.rows[r as usize];
        a.distance = a.distance.min(d);
      }
    }
  }

  /// DevTools' class retained sizes, from the dominator tree.
  pub fn add_retained(&mut self, classes: &ClassNames, retained: &Sizes, tree: &DomChildren) {
    class_retained_sizes(&mut self.rows, classes, retained, tree);
  }
}

/// Walks the dominator tree from the root; a node adds its retained size to its class unless a
/// dominator of it has the same class key (DevTools' `calculateClassesRetainedSize`, including
/// its quirk: only sized nodes with dominated children hide their class from descendants).
fn class_retained_sizes(rows: &mut [Aggregate], classes: &ClassNames, retained: &Sizes, tree: &DomChildren) {
  // seen[row]: a dominator on the current path already counted this row
  let mut seen = vec![false; rows.len()];
  let mut list: Vec<u32> = vec![0];
  let mut sizes: Vec<usize> = vec![usize::MAX];
  let mut seen_rows: Vec<u32> = Vec::new();
  while let Some(v) = list.pop() {
    let v = v as usize;
    let kids = tree.of_node(v);
    if let Some(r) = classes.row(v).filter(|&r| !seen[r as usize]) {
      rows[r as usize].retained_size += retained.get(v);
      if !kids.is_empty() {
        seen[r as usize] = true;
        sizes.push(list.len());
        seen_rows.push(r);
      }
    }
    list.extend_from_slice(kids);
    let l = list.len();
    while sizes.last() == Some(&l) {
      sizes.pop();
      if let Some(r) = seen_rows.pop() {
        seen[r as usize] = false;
      }
    }
  }
}
