//! Distances from the GC roots, as DevTools' `calculateDistances` (JS snapshot flavour):
//! BFS over non-weak edges, first from the user roots (the root's non-synthetic children, e.g.
//! `global`) at distance 1, then from the root itself at `BASE_SYSTEM_DISTANCE`, so objects held
//! only by V8 internals come out at 100000000 and more.
use super::kinds::Kinds;
use super::weakmap;
use crate::snapshot::HeapSnapshot;
use std::collections::HashSet;

pub const NO_DISTANCE: i32 = -5;
pub const BASE_SYSTEM_DISTANCE: i32 = 100_000_000;

/// JS `parseInt(s, 10)` for the `(map descriptors)` rule: leading digits (with an optional sign
/// and leading white space), or None for NaN.
fn parse_int(s: &str) -> Option<i64> {
  let t = s.trim_start();
  let (neg, digits) = match t.as_bytes().first() {
    Some(b'-') => (true, &t[1..]),
    Some(b'+') => (false, &t[1..]),
    _ => (false, t),
  };
  let d: String = digits.chars().take_while(|c| c.is_ascii_digit()).take(18).collect();
  let v: i64 = d.parse().ok()?;
  Some(if neg { -v } else { v })
}

struct Filter<'a> {
  s: &'a HeapSnapshot,
  k: &'a Kinds,
  native_context: Option<u32>,
  sloppy_function_map: Option<u32>,
  map_descriptors: Option<u32>,
  /// ephemeron edges whose twin has not been seen yet (DevTools keys them by the shared name part)
  pending: HashSet<&'a str>,
}

impl<'a> Filter<'a> {
  fn new(s: &'a HeapSnapshot, k: &'a Kinds) -> Self {
    let find = |name: &str| (0..s.strings.len() as u32).find(|&i| s.strings.get(i) == name);
    Filter {
      s,
      k,
      native_context: find("system / NativeContext"),
      sloppy_function_map: find("sloppy_function_map"),
      map_descriptors: find("(map descriptors)"),
      pending: HashSet::new(),
    }
  }

  fn allows(&mut self, node: u32, e: usize) -> bool {
    let (s, k) = (self.s, self.k);
    let nt = s.node_type[node as usize];
    let name = Some(s.node_name[node as usize]);
    let et = s.edge_type(e);
    let en = s.edge_name_or_index(e);
    if nt == k.hidden && name == self.native_context && k.edge_has_string_name(et) && Some(en) == self.sloppy_function_map {
      return false;
    }
    if nt == k.array && name == self.map_descriptors {
      let index = if k.edge_has_string_name(et) { parse_int(s.strings.get(en)) } else { Some(en as i64) };
      return match index {
        Some(i) => i < 2 || i % 3 != 1,
        None => true, // NaN < 2 is false, NaN % 3 !== 1 is true
      };
    }
    if et == k.e_internal {
      if let Some(m) = weakmap::parse(s.strings.get(en)) {
        // the first of an entry's two edges is skipped; the second one sets the distance
        if !self.pending.remove(m.duplicated_part) {
          self.pending.insert(m.duplicated_part);
          return false;
        }
      }
    }
    true
  }
}

pub fn compute(s: &HeapSnapshot, k: &Kinds) -> Vec<i32> {
  let n = s.node_count();
  let mut dist = vec![NO_DISTANCE; n];
  let mut queue: Vec<u32> = Vec::with_capacity(n);
  let mut filter = Filter::new(s, k);
  for e in s.edges_of(0) {
    let to = s.edge_to(e);
    // user roots: non-synthetic children of the root, and `(Document DOM trees)`
    let t = s.node_type[to as usize];
    if t != k.synthetic || s.node_name_str(to) == "(Document DOM trees)" {
      dist[to as usize] = 1;
      queue.push(to);
    }
  }
  let had_user_roots = !queue.is_empty();
  bfs(s, k, &mut queue, 0, &mut dist, &mut filter);
  dist[0] = if had_user_roots { BASE_SYSTEM_DISTANCE } else { 0 };
  let start = queue.len();
  queue.push(0);
  bfs(s, k, &mut queue, start, &mut dist, &mut filter);
  dist
}

fn bfs(s: &HeapSnapshot, k: &Kinds, queue: &mut Vec<u32>, mut head: usize, dist: &mut [i32], filter: &mut Filter) {
  while head < queue.len() {
    let v = queue[head];
    head += 1;
    let d = dist[v as usize] + 1;
    for e in s.edges_of(v) {
      if s.edge_type(e) == k.e_weak {
        continue;
      }
      let to = s.edge_to(e);
      if dist[to as usize] != NO_DISTANCE {
        continue;
      }
      if !filter.allows(v, e) {
        continue;
      }
      dist[to as usize] = d;
      queue.push(to);
    }
  }
}
