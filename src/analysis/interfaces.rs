//! DevTools regroups plain `Object`s by their property names (`inferInterfaceDefinitions` +
//! `applyInterfaceDefinitions`): shapes shared by enough objects become classes like `{a, b}`.
use super::names::{format_property_name, is_plain_object, js_cmp, js_len};
use crate::graph::Kinds;
use crate::snapshot::HeapSnapshot;
use foldhash::{HashMap, HashMapExt};
use std::cmp::Ordering;

const MIN_INTERFACE_PROPERTY_COUNT: usize = 1;
const MAX_INTERFACE_NAME_LENGTH: usize = 120;
const MIN_OBJECT_COUNT_PER_INTERFACE: f64 = 2.0;
const MIN_OBJECT_PROPORTION_PER_INTERFACE: f64 = 1000.0;

pub struct Definition {
  pub name: String,
  /// property string indices, in edge order
  pub properties: Vec<u32>,
  pub count: usize,
}

pub fn infer(s: &HeapSnapshot, k: &Kinds) -> Vec<Definition> {
  let mut candidates: Vec<Definition> = Vec::new();
  let mut by_name: HashMap<String, usize> = HashMap::new();
  // Objects of one hidden class list the same properties: the name (and candidate) of each
  // distinct property list is worked out once, then only counted
  let mut memo: HashMap<Vec<u32>, Option<usize>> = HashMap::new();
  let mut all: Vec<u32> = Vec::new();
  let mut total = 0usize;
  for v in 0..s.node_count() as u32 {
    if !is_plain_object(s, k, v) {
      continue;
    }
    total += 1;
    all.clear();
    all.extend(
      s.edges_of(v)
        .filter(|&e| s.edge_type(e) == k.e_property)
        .map(|e| s.edge_name_or_index(e)),
    );
    let cand = match memo.get(all.as_slice()) {
      Some(&c) => c,
      None => {
        let c = candidate_of(s, &all, &mut candidates, &mut by_name);
        memo.insert(all.clone(), c);
        c
      }
    };
    if let Some(c) = cand {
      candidates[c].count += 1;
    }
  }
  // stable, like Array.prototype.sort: ties keep first-seen order
  candidates.sort_by_key(|c| std::cmp::Reverse(c.count));
  let min_count = MIN_OBJECT_COUNT_PER_INTERFACE.max(total as f64 / MIN_OBJECT_PROPORTION_PER_INTERFACE);
  let keep = candidates
    .iter()
    .take_while(|c| c.count as f64 >= min_count)
    .count();
  candidates.truncate(keep);
  candidates
}

/// The candidate named by one property list (in edge order), added with no count yet; None
/// when the list names no property.
fn candidate_of(
  s: &HeapSnapshot,
  all: &[u32],
  candidates: &mut Vec<Definition>,
  by_name: &mut HashMap<String, usize>,
) -> Option<usize> {
  let mut name = String::from("{");
  let mut name_len = 1usize;
  let mut props: Vec<u32> = Vec::new();
  for &idx in all {
    let p = s.strings.get(idx);
    if p == "__proto__" {
      continue;
    }
    let f = format_property_name(p);
    let flen = js_len(&f);
    if name_len > MIN_INTERFACE_PROPERTY_COUNT && name_len + flen > MAX_INTERFACE_NAME_LENGTH {
      break;
    }
    if name_len != 1 {
      name.push_str(", ");
      name_len += 2;
    }
    name.push_str(&f);
    name_len += flen;
    props.push(idx);
  }
  if props.is_empty() {
    return None;
  }
  name.push('}');
  Some(*by_name.entry(name).or_insert_with_key(|name| {
    candidates.push(Definition {
      name: name.clone(),
      properties: props,
      count: 0,
    });
    candidates.len() - 1
  }))
}

#[derive(Clone, Copy)]
struct MatchInfo {
  /// index into the definitions
  def: usize,
  property_count: usize,
}

fn better(a: Option<MatchInfo>, b: Option<MatchInfo>) -> Option<MatchInfo> {
  match (a, b) {
    (a, None) => a,
    (None, b) => b,
    (Some(x), Some(y)) => {
      if x.property_count > y.property_count {
        Some(x)
      } else if y.property_count > x.property_count {
        Some(y)
      } else if x.def <= y.def {
        Some(x)
      } else {
        Some(y)
      }
    }
  }
}

struct TrieNode {
  next: HashMap<u32, usize>,
  match_info: Option<MatchInfo>,
  /// string index of the greatest property leading out of here (JS string order)
  greatest_next: Option<u32>,
}

/// For each plain object, the definition it matches best (most properties, then first defined):
/// `assign(node, definition index)`, called as they are found (no list of millions of pairs).
pub fn apply(s: &HeapSnapshot, k: &Kinds, defs: &[Definition], mut assign: impl FnMut(u32, usize)) {
  let cmp = |a: u32, b: u32| -> Ordering {
    if a == b {
      Ordering::Equal
    } else {
      js_cmp(s.strings.get(a), s.strings.get(b))
    }
  };
  let mut trie = vec![TrieNode {
    next: HashMap::new(),
    match_info: None,
    greatest_next: None,
  }];
  for (di, d) in defs.iter().enumerate() {
    let mut props = d.properties.clone();
    props.sort_by(|a, b| cmp(*a, *b));
    let mut cur = 0usize;
    for p in &props {
      let next = match trie[cur].next.get(p) {
        Some(&n) => n,
        None => {
          let n = trie.len();
          trie.push(TrieNode {
            next: HashMap::new(),
            match_info: None,
            greatest_next: None,
          });
          trie[cur].next.insert(*p, n);
          let g = trie[cur].greatest_next;
          if g.is_none() || cmp(g.unwrap(), *p) == Ordering::Less {
            trie[cur].greatest_next = Some(*p);
          }
          n
        }
      };
      cur = next;
    }
    if trie[cur].match_info.is_none() {
      trie[cur].match_info = Some(MatchInfo {
        def: di,
        property_count: props.len(),
      });
    }
  }
  if defs.is_empty() {
    return;
  }
  let mut props: Vec<u32> = Vec::new();
  let mut states: Vec<usize> = Vec::new();
  let mut scratch: Vec<usize> = Vec::new();
  // Objects of one hidden class list the same properties in the same order: match each
  // distinct property list once.
  let mut memo: HashMap<u64, (Vec<u32>, Option<usize>)> = HashMap::new();
  for v in 0..s.node_count() as u32 {
    if !is_plain_object(s, k, v) {
      continue;
    }
    props.clear();
    props.extend(
      s.edges_of(v)
        .filter(|&e| s.edge_type(e) == k.e_property)
        .map(|e| s.edge_name_or_index(e)),
    );
    let key = props.iter().fold(0xcbf29ce484222325u64, |h, &p| {
      (h ^ p as u64).wrapping_mul(0x100000001b3)
    });
    if let Some((seen, def)) = memo.get(&key) {
      if *seen == props {
        if let Some(d) = def {
          assign(v, *d);
        }
        continue;
      }
    }
    let unsorted = props.clone();
    props.sort_by(|a, b| cmp(*a, *b));
    states.clear();
    states.push(0);
    let mut best = better(None, trie[0].match_info);
    for &p in &props {
      // a Set in DevTools: iterate a snapshot, drop states that can no longer advance, add successors
      scratch.clear();
      scratch.extend_from_slice(&states);
      for &st in &scratch {
        let g = trie[st].greatest_next;
        if g.is_none() || cmp(p, g.unwrap()) != Ordering::Less {
          if let Some(pos) = states.iter().position(|&x| x == st) {
            states.remove(pos);
          }
        }
        if let Some(&nx) = trie[st].next.get(&p) {
          if !states.contains(&nx) {
            states.push(nx);
          }
          best = better(best, trie[nx].match_info);
        }
      }
    }
    let def = best.map(|m| m.def);
    if let Some(d) = def {
      assign(v, d);
    }
    memo.entry(key).or_insert((unsorted, def));
  }
}
