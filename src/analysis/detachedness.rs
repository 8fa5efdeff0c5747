//! DevTools' `propagateDOMState`: native nodes marked attached or detached pass that state on to
//! the native nodes they reach, and every detached one is renamed `Detached <name>`. Node.js
//! marks some of its binding objects this way, so class names depend on it.
use crate::graph::Kinds;
use crate::snapshot::HeapSnapshot;
use std::collections::HashMap;

const ATTACHED: u8 = 1;
const DETACHED: u8 = 2;

/// Renames detached native nodes in place (once: the snapshot remembers it was done).
pub fn propagate(s: &mut HeapSnapshot) {
  if s.detachedness_applied || s.node_detachedness.len() != s.node_count() {
    return;
  }
  s.detachedness_applied = true;
  let k = Kinds::of(s);
  let n = s.node_count();
  let mut visited = vec![false; n];
  let mut state: Vec<u8> = s.node_detachedness.iter().map(|d| d & 3).collect();
  let mut attached: Vec<u32> = Vec::new();
  let mut detached: Vec<u32> = Vec::new();
  let mut renamed: HashMap<u32, u32> = HashMap::new();

  let mut process = |s: &mut HeapSnapshot,
                     v: u32,
                     new_state: u8,
                     state: &mut Vec<u8>,
                     attached: &mut Vec<u32>,
                     detached: &mut Vec<u32>| {
    let vi = v as usize;
    if visited[vi] {
      return;
    }
    visited[vi] = true;
    if s.node_type[vi] != k.native {
      return;
    }
    state[vi] = new_state;
    if new_state == ATTACHED {
      attached.push(v);
    } else if new_state == DETACHED {
      let old = s.node_name[vi];
      let new = *renamed.entry(old).or_insert_with(|| {
        let text = format!("Detached {}", s.strings.get(old));
        s.strings.push(&text);
        (s.strings.len() - 1) as u32
      });
      s.node_name[vi] = new;
      detached.push(v);
    }
  };
  let passes = |t: u8| t != k.e_hidden && t != k.e_weak;

  for v in 0..n as u32 {
    let st = state[v as usize];
    if st != 0 {
      process(s, v, st, &mut state, &mut attached, &mut detached);
    }
  }
  while let Some(v) = attached.pop() {
    for e in s.edges_of(v) {
      if passes(s.edge_type(e)) {
        process(
          s,
          s.edge_to(e),
          ATTACHED,
          &mut state,
          &mut attached,
          &mut detached,
        );
      }
    }
  }
  while let Some(v) = detached.pop() {
    if state[v as usize] == ATTACHED {
      continue;
    }
    for e in s.edges_of(v) {
      if passes(s.edge_type(e)) {
        process(
          s,
          s.edge_to(e),
          DETACHED,
          &mut state,
          &mut attached,
          &mut detached,
        );
      }
    }
  }
  // nothing reads the states after the renaming: free the column (a byte per node)
  drop(state);
  s.node_detachedness = Vec::new();
}
