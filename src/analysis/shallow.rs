//! DevTools' `calculateShallowSizes`: when the snapshot has user roots, a backing store (a
//! `hidden` or `array` node, or `system / ExternalStringData`) reachable from exactly one owner
//! gives its size to that owner, as the Memory panel shows it.
use crate::graph::Kinds;
use crate::snapshot::{HeapSnapshot, Sizes};

const UNVISITED: u32 = u32::MAX;
const MULTIPLE: u32 = u32::MAX - 1;

pub fn has_user_roots(s: &HeapSnapshot, k: &Kinds) -> bool {
  s.edges_of(0).any(|e| k.is_user_root(s, s.edge_to(e)))
}

/// Moves the size of each owned backing store onto its owner, in place (once per snapshot).
pub fn move_owned_sizes(s: &mut HeapSnapshot, k: &Kinds) {
  let mut sizes = std::mem::take(&mut s.node_self_size);
  move_owned_sizes_in(s, k, &mut sizes);
  s.node_self_size = sizes;
  s.self_sizes_moved = true;
}

/// The same on a column taken out of `s` (so another thread may read the rest of `s` meanwhile).
pub fn move_owned_sizes_in(s: &HeapSnapshot, k: &Kinds, sizes: &mut Sizes) {
  if s.self_sizes_moved || !has_user_roots(s, k) {
    return;
  }
  let n = s.node_count();
  let ext = (0..s.strings.len() as u32).find(|&i| s.strings.get(i) == "system / ExternalStringData");
  let mut owners = vec![0u32; n];
  let mut work: Vec<u32> = Vec::new();
  for (i, owner) in owners.iter_mut().enumerate() {
    let t = s.node_type[i];
    if t == k.hidden || t == k.array || (t == k.native && Some(s.node_name[i]) == ext) {
      *owner = UNVISITED;
    } else {
      *owner = i as u32;
      work.push(i as u32);
    }
  }
  while let Some(id) = work.pop() {
    let owner = owners[id as usize];
    for e in s.edges_of(id) {
      if s.edge_type(e) == k.e_weak {
        continue;
      }
      let target = s.edge_to(e);
      let cur = owners[target as usize];
      if cur == UNVISITED {
        owners[target as usize] = owner;
        work.push(target);
      } else if cur == target || cur == owner || cur == MULTIPLE {
      } else {
        owners[target as usize] = MULTIPLE;
        work.push(target);
      }
    }
  }
  for (i, &o) in owners.iter().enumerate() {
    if o == UNVISITED || o == MULTIPLE || o == i as u32 {
      continue;
    }
    if o == 0 || s.node_type[o as usize] == k.synthetic {
      continue;
    }
    let moved = sizes.get(i);
    sizes.set(i, 0);
    sizes.set(o as usize, sizes.get(o as usize).saturating_add(moved));
  }
}
