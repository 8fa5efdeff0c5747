//! Distances from the GC roots, as DevTools' `calculateDistances` (JS snapshot flavour):
//! BFS over non-weak edges, first from the user roots (the root's non-synthetic children, e.g.
//! `global`) at distance 1, then from the root itself at `BASE_SYSTEM_DISTANCE`, so objects held
//! only by V8 internals come out at 100000000 and more.
use super::bitset::BitSet;
use super::kinds::Kinds;
use super::weakmap;
use crate::snapshot::HeapSnapshot;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::VecDeque;

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
  let d: String = digits
    .chars()
    .take_while(|c| c.is_ascii_digit())
    .take(18)
    .collect();
  let v: i64 = d.parse().ok()?;
  Some(if neg { -v } else { v })
}

/// What DevTools' distance filter (`isEdgeAllowed` and friends) decides from names, worked out
/// per edge up front, so that the BFS itself reads no name, id or string (it runs while those
/// are on the spill file, beside the dominator pass).
pub struct EdgeFilter {
  /// the user roots: the root's non-synthetic children and `(Document DOM trees)`, in edge order
  roots: Vec<u32>,
  /// never followed: the native context's `sloppy_function_map`, the map descriptors' index rule
  skip: BitSet,
  /// edges named like a WeakMap entry (and not decided above): DevTools follows only the second
  /// of an entry's two edges the BFS meets (a bit, so most edges need no search in `entry`)
  paired: BitSet,
  /// `(edge, entry)` for the `paired` edges, by edge: the entry is the name's shared part
  entry: Vec<(u32, u32)>,
}

/// The strings DevTools' filter looks for, found once.
#[derive(Clone, Copy)]
pub struct FilterNames {
  native_context: Option<u32>,
  sloppy_function_map: Option<u32>,
  map_descriptors: Option<u32>,
}

impl FilterNames {
  pub fn of(s: &HeapSnapshot) -> FilterNames {
    let mut f = FilterNames {
      native_context: None,
      sloppy_function_map: None,
      map_descriptors: None,
    };
    for i in 0..s.strings.len() as u32 {
      let slot = match s.strings.get(i) {
        "system / NativeContext" => &mut f.native_context,
        "sloppy_function_map" => &mut f.sloppy_function_map,
        "(map descriptors)" => &mut f.map_descriptors,
        _ => continue,
      };
      slot.get_or_insert(i); // the first, as a search from the start finds
    }
    f
  }
}

/// The filter for a range of nodes (their edges), so two threads can each work out half;
/// `EdgeFilter::join` puts the parts together.
pub struct FilterPart<'s> {
  skip: BitSet,
  paired: BitSet,
  /// `(edge, entry)`, entries numbered in this part
  entry: Vec<(u32, u32)>,
  /// the entries' shared name parts, by number
  entries: Vec<&'s str>,
}

impl EdgeFilter {
  pub fn of(s: &HeapSnapshot, k: &Kinds) -> EdgeFilter {
    EdgeFilter::join(
      s,
      k,
      vec![EdgeFilter::part(
        s,
        k,
        FilterNames::of(s),
        0..s.node_count() as u32,
      )],
    )
  }

  pub fn part<'s>(
    s: &'s HeapSnapshot,
    k: &Kinds,
    names: FilterNames,
    nodes: std::ops::Range<u32>,
  ) -> FilterPart<'s> {
    let FilterNames {
      native_context,
      sloppy_function_map,
      map_descriptors,
    } = names;
    let mut skip = BitSet::new(s.edge_count());
    let mut paired = BitSet::new(s.edge_count());
    let mut entry = Vec::new();
    // per string: 0 = not parsed yet, 1 = not an entry name, else the entry's number + 2
    let mut entry_of_string: Vec<u32> = vec![0; s.strings.len()];
    let mut numbers: HashMap<&str, u32> = HashMap::new();
    let mut entries: Vec<&str> = Vec::new();
    for v in nodes {
      let nt = s.node_type[v as usize];
      let name = Some(s.node_name[v as usize]);
      let native_context_node = nt == k.hidden && name == native_context;
      if nt == k.array && name == map_descriptors {
        for e in s.edges_of(v) {
          let (et, en) = (s.edge_type(e), s.edge_name_or_index(e));
          let index = if k.edge_has_string_name(et) {
            parse_int(s.strings.get(en))
          } else {
            Some(en as i64)
          };
          let allowed = match index {
            Some(i) => i < 2 || i % 3 != 1,
            None => true, // NaN < 2 is false, NaN % 3 !== 1 is true
          };
          if !allowed {
            skip.set(e);
          }
        }
        continue;
      }
      for e in s.edges_of(v) {
        let et = s.edge_type(e);
        if native_context_node
          && k.edge_has_string_name(et)
          && Some(s.edge_name_or_index(e)) == sloppy_function_map
        {
          skip.set(e);
          continue;
        }
        if et != k.e_internal {
          continue;
        }
        let en = s.edge_name_or_index(e) as usize;
        let Some(slot) = entry_of_string.get_mut(en) else {
          continue;
        };
        if *slot == 0 {
          *slot = match weakmap::parse(s.strings.get(en as u32)) {
            Some(m) => {
              let next = numbers.len() as u32;
              let number = *numbers.entry(m.duplicated_part).or_insert(next);
              if number == next {
                entries.push(m.duplicated_part);
              }
              number + 2
            }
            None => 1,
          };
        }
        if *slot > 1 {
          paired.set(e);
          entry.push((e as u32, *slot - 2));
        }
      }
    }
    FilterPart {
      skip,
      paired,
      entry,
      entries,
    }
  }

  /// The parts of consecutive node ranges, in node order, as one filter: an entry is one entry
  /// whichever part met its edges.
  pub fn join(s: &HeapSnapshot, k: &Kinds, parts: Vec<FilterPart>) -> EdgeFilter {
    let roots = s
      .edges_of(0)
      .map(|e| s.edge_to(e))
      .filter(|&to| k.is_user_root(s, to))
      .collect();
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
      return EdgeFilter {
        roots,
        skip: BitSet::new(s.edge_count()),
        paired: BitSet::new(s.edge_count()),
        entry: Vec::new(),
      };
    };
    let FilterPart {
      mut skip,
      mut paired,
      mut entry,
      entries,
    } = first;
    let mut numbers: HashMap<&str, u32> = entries.iter().enumerate().map(|(i, &p)| (p, i as u32)).collect();
    for part in parts {
      skip.or_with(&part.skip);
      paired.or_with(&part.paired);
      let global: Vec<u32> = part
        .entries
        .iter()
        .map(|&p| {
          let next = numbers.len() as u32;
          *numbers.entry(p).or_insert(next)
        })
        .collect();
      // later nodes, later edges: the list stays sorted by edge
      entry.extend(part.entry.iter().map(|&(e, n)| (e, global[n as usize])));
    }
    EdgeFilter {
      roots,
      skip,
      paired,
      entry,
    }
  }
}

/// The BFS's side of the filter: the pairing state.
struct Pairs<'a> {
  f: &'a EdgeFilter,
  /// entries whose first edge was met (and skipped)
  pending: HashSet<u32>,
}

impl Pairs<'_> {
  #[inline]
  fn allows(&mut self, e: usize) -> bool {
    if self.f.skip.get(e) {
      return false;
    }
    if self.f.paired.get(e) {
      let at = match self.f.entry.binary_search_by_key(&(e as u32), |x| x.0) {
        Ok(at) => at,
        Err(_) => return true, // listed with every bit it sets
      };
      // the first of an entry's two edges is skipped; the second one sets the distance
      let entry = self.f.entry[at].1;
      if !self.pending.remove(&entry) {
        self.pending.insert(entry);
        return false;
      }
    }
    true
  }
}

/// Distances with the filter worked out on the spot (see `compute_filtered`).
pub fn compute(s: &HeapSnapshot, k: &Kinds) -> Vec<i32> {
  compute_filtered(s, k, &EdgeFilter::of(s, k))
}

/// Reads the graph's edges and types only, no name: `filter` has what names decide.
pub fn compute_filtered(s: &HeapSnapshot, k: &Kinds, filter: &EdgeFilter) -> Vec<i32> {
  let n = s.node_count();
  let mut dist = vec![NO_DISTANCE; n];
  // a ring: it holds one or two BFS levels at a time (a third of the nodes at most on a
  // generated 242 MB heap), not every node as a list would
  let mut queue: VecDeque<u32> = VecDeque::new();
  let mut pairs = Pairs {
    f: filter,
    pending: HashSet::new(),
  };
  for &to in &filter.roots {
    dist[to as usize] = 1;
    queue.push_back(to);
  }
  let had_user_roots = !queue.is_empty();
  bfs(s, k, &mut queue, &mut dist, &mut pairs);
  dist[0] = if had_user_roots { BASE_SYSTEM_DISTANCE } else { 0 };
  queue.push_back(0);
  bfs(s, k, &mut queue, &mut dist, &mut pairs);
  dist
}

fn bfs(s: &HeapSnapshot, k: &Kinds, queue: &mut VecDeque<u32>, dist: &mut [i32], pairs: &mut Pairs) {
  while let Some(v) = queue.pop_front() {
    let d = dist[v as usize] + 1;
    for e in s.edges_of(v) {
      if s.edge_type(e) == k.e_weak {
        continue;
      }
      let to = s.edge_to(e);
      if dist[to as usize] != NO_DISTANCE {
        continue;
      }
      if !pairs.allows(e) {
        continue;
      }
      dist[to as usize] = d;
      queue.push_back(to);
    }
  }
}
