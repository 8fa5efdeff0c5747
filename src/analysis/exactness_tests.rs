//! The fixture's figures, computed by Chrome DevTools' own code, must come out exactly.
use super::report::{class_rows, top_nodes};
use super::Analysis;
use crate::snapshot::read_snapshot_path;
use crate::spill::SpillPolicy;
use std::collections::HashMap;
use std::path::Path;

fn fixture(name: &str) -> std::path::PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR"))
    .join("__test__/fixtures")
    .join(name)
}

#[test]
fn fixture_matches_devtools_exactly() {
  fixture_matches_devtools_with(&SpillPolicy::memory());
}

/// The other schedule: names, ids and strings go to a temporary file for the dominator pass.
#[test]
fn fixture_matches_devtools_exactly_with_names_on_disk() {
  let disk = SpillPolicy {
    dir: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("target")),
    min_bytes: 0,
  };
  fixture_matches_devtools_with(&disk);
}

fn fixture_matches_devtools_with(policy: &SpillPolicy) {
  let mut s = read_snapshot_path(&fixture("small.heapsnapshot.gz")).unwrap();
  let oracle: serde_json::Value =
    serde_json::from_slice(&std::fs::read(fixture("small.devtools.json")).unwrap()).unwrap();
  let mut in_memory = s.clone();
  let a = Analysis::compute_spilling(&mut s, policy).unwrap();
  // whatever went on the spill file came back: the snapshot is as the in-memory schedule leaves it
  let b = Analysis::compute(&mut in_memory);
  let same = |x: &crate::snapshot::HeapSnapshot, y: &crate::snapshot::HeapSnapshot| {
    x.node_id == y.node_id
      && x.node_name == y.node_name
      && x.strings.data == y.strings.data
      && x.strings.offsets == y.strings.offsets
      && x.edge_names == y.edge_names
      && x.locations == y.locations
      && x.node_self_size == y.node_self_size
  };
  assert!(same(&s, &in_memory), "the snapshot differs after the analysis");
  assert!(
    a.retained == b.retained && a.distances == b.distances && a.idom == b.idom,
    "the two schedules disagree"
  );
  assert_eq!(
    s.node_count() as u64,
    oracle["snapshot"]["nodes"].as_u64().unwrap()
  );
  assert_eq!(a.total_size, oracle["snapshot"]["totalSize"].as_u64().unwrap());

  let by_id: HashMap<u32, usize> = (0..s.node_count()).map(|v| (s.node_id[v], v)).collect();
  let mut checked = 0;
  let mut misses = Vec::new();
  for list in ["top", "sample"] {
    for o in oracle[list].as_array().unwrap() {
      let id = o["id"].as_u64().unwrap() as u32;
      let v = by_id[&id];
      let dom_id = o["dominatorId"].as_u64().map(|d| d as u32);
      let mine = (
        s.node_self_size.get(v),
        a.retained.get(v),
        a.distances[v] as i64,
        Some(s.node_id[a.idom[v] as usize]),
        a.classes.names[a.classes.of(v) as usize].as_str(),
      );
      let theirs = (
        o["selfSize"].as_u64().unwrap(),
        o["retainedSize"].as_u64().unwrap(),
        o["distance"].as_i64().unwrap(),
        dom_id,
        o["className"].as_str().unwrap(),
      );
      checked += 1;
      if mine != theirs {
        misses.push(format!(
          "{list} @{id} {}: mine {mine:?} != devtools {theirs:?}",
          o["name"]
        ));
      }
    }
  }
  assert!(
    misses.is_empty(),
    "{} of {checked} nodes differ:\n{}",
    misses.len(),
    misses.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
  );

  // top list order: the same retained sizes in the same order
  let top: Vec<u64> = top_nodes(&s, &a, 500)
    .iter()
    .map(|&v| a.retained.get(v as usize))
    .collect();
  let theirs: Vec<u64> = oracle["top"]
    .as_array()
    .unwrap()
    .iter()
    .map(|o| o["retainedSize"].as_u64().unwrap())
    .collect();
  assert_eq!(top, theirs);

  // every Summary row, summed per name
  let mut want: HashMap<String, (u64, u64, u64)> = HashMap::new();
  for c in oracle["classes"].as_array().unwrap() {
    let e = want.entry(c["name"].as_str().unwrap().to_string()).or_default();
    e.0 += c["count"].as_u64().unwrap();
    e.1 += c["selfSize"].as_u64().unwrap();
    e.2 += c["retainedSize"].as_u64().unwrap();
  }
  let got: HashMap<String, (u64, u64, u64)> = class_rows(&a)
    .into_iter()
    .map(|r| (r.name, (r.count, r.self_size, r.retained_size)))
    .collect();
  let mut class_misses: Vec<String> = want
    .iter()
    .filter(|(n, w)| got.get(*n) != Some(w))
    .map(|(n, w)| format!("{n}: mine {:?} != devtools {w:?}", got.get(n)))
    .collect();
  class_misses.extend(
    got
      .keys()
      .filter(|n| !want.contains_key(*n))
      .map(|n| format!("{n}: not a DevTools class")),
  );
  assert!(
    class_misses.is_empty(),
    "{} classes differ:\n{}",
    class_misses.len(),
    class_misses.join("\n")
  );
}
