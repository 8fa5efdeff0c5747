//! Source locations for reports: where a function, or the class of an instance, is defined.
//!
//! V8 writes a location (script id, 0-based line and column of the function's start, i.e. its
//! parameter list) for each JSFunction, and for a JSObject the location of its constructor.
//! The snapshot has no script id → URL table, so the URL comes from the graph: a closure with a
//! location of that script leads to the script by closure —shared→ SharedFunctionInfo
//! —script_or_debug_info (V8 ≤ 12.x; `script` in newer V8)→ Script —name→ string. Only the few
//! scripts a report names are looked up: one pass over the locations at most, nothing per heap.
use super::names::display_name;
use crate::graph::Kinds;
use crate::snapshot::HeapSnapshot;
use serde::Serialize;

/// Where a function (or an instance's constructor) is defined, as a stack trace and DevTools
/// show it: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceLocation {
  /// the script's name as V8 has it (`/app/server.js`, `file:///app/server.mjs`,
  /// `node:internal/…`); "" when no closure of that script leads to a name (eval'd code)
  pub url: String,
  pub line: u32,
  pub column: u32,
}

/// URLs longer than this are cut (a `data:` URL can be any size).
const URL_LIMIT: usize = 1024;

/// The location site (index into `location_sites`) V8 wrote for `node`, if any. Binary search:
/// the locations are sorted by node.
pub fn site_of(s: &HeapSnapshot, node: u32) -> Option<u32> {
  let i = s.locations.partition_point(|&(n, _)| n < node);
  match s.locations.get(i) {
    Some(&(n, site)) if n == node && (site as usize) < s.location_sites.len() => Some(site),
    _ => None,
  }
}

/// The most common site among `nodes` (ties: the one that comes first in `nodes`), or None
/// when none of them has one.
pub fn common_site(s: &HeapSnapshot, nodes: impl IntoIterator<Item = u32>) -> Option<u32> {
  let sites: Vec<u32> = nodes.into_iter().filter_map(|v| site_of(s, v)).collect();
  let count = |x: u32| sites.iter().filter(|&&y| y == x).count();
  // max_by_key keeps the last of equal maxima: scan in reverse so the first wins
  sites.iter().rev().copied().max_by_key(|&x| count(x))
}

/// The locations of `sites` (as `site_of` gives them), with their scripts' URLs.
/// `s` must hold its names, strings and locations (not on the spill file).
pub fn resolve(s: &HeapSnapshot, k: &Kinds, sites: &[Option<u32>]) -> Vec<Option<SourceLocation>> {
  let mut scripts: Vec<u32> = sites
    .iter()
    .flatten()
    .map(|&site| s.location_sites[site as usize].script_id)
    .collect();
  scripts.sort_unstable();
  scripts.dedup();
  let urls = script_urls(s, k, &scripts);
  sites
    .iter()
    .map(|site| {
      site.map(|site| {
        let l = s.location_sites[site as usize];
        let url = scripts
          .binary_search(&l.script_id)
          .ok()
          .and_then(|i| urls[i].clone())
          .unwrap_or_default();
        SourceLocation {
          url,
          line: l.line.saturating_add(1),
          column: l.column.saturating_add(1),
        }
      })
    })
    .collect()
}

/// Per node: V8 located it (a function, an instance's constructor) in Node's own code
/// (`node:internal/…`): a timer list, a stream's state. One pass over the locations.
pub fn in_node_internals(s: &HeapSnapshot, k: &Kinds) -> Vec<bool> {
  let mut scripts: Vec<u32> = s.location_sites.iter().map(|l| l.script_id).collect();
  scripts.sort_unstable();
  scripts.dedup();
  let urls = script_urls(s, k, &scripts);
  let internal: Vec<bool> = urls
    .iter()
    .map(|u| u.as_deref().is_some_and(|u| u.starts_with("node:internal/")))
    .collect();
  let mut out = vec![false; s.node_count()];
  if !internal.contains(&true) {
    return out;
  }
  for &(node, site) in &s.locations {
    let Some(l) = s.location_sites.get(site as usize) else {
      continue;
    };
    if let Ok(i) = scripts.binary_search(&l.script_id) {
      if let Some(o) = out.get_mut(node as usize) {
        *o = internal[i];
      }
    }
  }
  out
}

/// The URL of each script in `scripts` (sorted, distinct), found from the first closure located
/// in it that leads to a name; None where none does. Stops once all are found.
fn script_urls(s: &HeapSnapshot, k: &Kinds, scripts: &[u32]) -> Vec<Option<String>> {
  let mut urls = vec![None; scripts.len()];
  let mut missing = scripts.len();
  for &(node, site) in &s.locations {
    if missing == 0 {
      break;
    }
    if s.node_type[node as usize] != k.closure {
      continue;
    }
    let Some(l) = s.location_sites.get(site as usize) else {
      continue;
    };
    let Ok(i) = scripts.binary_search(&l.script_id) else {
      continue;
    };
    if urls[i].is_none() {
      if let Some(url) = closure_script_url(s, k, node) {
        urls[i] = Some(url);
        missing -= 1;
      }
    }
  }
  urls
}

/// The first edge of `node` named `name` (an internal one: V8 links these structures so).
fn internal_edge(s: &HeapSnapshot, k: &Kinds, node: u32, names: &[&str]) -> Option<u32> {
  s.edges_of(node)
    .find(|&e| s.edge_type(e) == k.e_internal && names.contains(&s.strings.get(s.edge_name_or_index(e))))
    .map(|e| s.edge_to(e))
}

/// closure —shared→ SharedFunctionInfo —script_or_debug_info | script→ Script —name→ string.
/// A DebugInfo (older V8, while a debugger is attached) sits between the function info and the
/// script: one more `script` step. Bounded: no walk over the graph.
fn closure_script_url(s: &HeapSnapshot, k: &Kinds, closure: u32) -> Option<String> {
  let shared = internal_edge(s, k, closure, &["shared"])?;
  let mut script = internal_edge(s, k, shared, &["script_or_debug_info", "script"])?;
  for _ in 0..2 {
    if let Some(name) = internal_edge(s, k, script, &["name"]) {
      let t = s.node_type[name as usize];
      if t != k.string && t != k.cons_string && t != k.sliced_string {
        return None; // `undefined`: a script without a name (eval)
      }
      let url = display_name(s, k, name);
      return (!url.is_empty()).then(|| super::report::cut_to(url, URL_LIMIT));
    }
    script = internal_edge(s, k, script, &["script"])?;
  }
  None
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::analysis::census::Census;
  use crate::analysis::compare::{compare, CompareOptions};
  use crate::analysis::{analyze, Analysis, AnalyzeOptions};
  use crate::snapshot::builder::{with_global, Builder};
  use crate::snapshot::Location;
  use crate::spill::SpillPolicy;

  const JOBS_JS: u32 = 7;
  const ESM: u32 = 9;
  const EVAL: u32 = 11;

  /// A function's way to its script as V8 writes it: closure —shared→ SharedFunctionInfo
  /// —`script_edge`→ Script —name→ `url` (a string; None: `undefined`, an eval'd script).
  fn function_of(b: &mut Builder, name: &str, script_edge: &str, url: Option<&str>) -> (u32, u32) {
    let f = b.node("closure", name, 64);
    let sfi = b.node("code", name, 40);
    let script = b.node("code", url.unwrap_or(""), 80);
    let source = b.node("string", "function onJob() {}", 48);
    let name_node = match url {
      Some(u) => b.node("string", u, 32),
      None => b.node("hidden", "undefined", 0),
    };
    b.edge(f, "internal", "shared", sfi);
    b.edge(sfi, "internal", "name_or_scope_info", source); // a decoy: not the script
    b.edge(sfi, "internal", script_edge, script);
    b.edge(script, "internal", "source", source);
    b.edge(script, "internal", "name", name_node);
    (f, sfi)
  }

  fn locate(s: &mut HeapSnapshot, at: &[(u32, Location)]) {
    for (node, l) in at {
      let site = match s.location_sites.iter().position(|x| x == l) {
        Some(i) => i,
        None => {
          s.location_sites.push(*l);
          s.location_sites.len() - 1
        }
      };
      s.locations.push((*node, site as u32));
    }
    s.locations.sort_by_key(|x| x.0);
  }

  fn loc(script_id: u32, line: u32, column: u32) -> Location {
    Location {
      script_id,
      line,
      column,
    }
  }

  fn src(url: &str, line: u32, column: u32) -> Option<SourceLocation> {
    Some(SourceLocation {
      url: url.into(),
      line,
      column,
    })
  }

  /// global.onJob (closure of /app/jobs.js, Node 20's `script_or_debug_info`), global.job (an
  /// instance of a class of that file), global.plain (no location), global.handler (an ES
  /// module's function, newer V8's `script`), global.evaluated (eval'd: the script has no name).
  struct Heap {
    s: HeapSnapshot,
    on_job: u32,
    job: u32,
    plain: u32,
    handler: u32,
    evaluated: u32,
  }

  fn heap() -> Heap {
    let (mut b, g) = with_global();
    let (on_job, _) = function_of(&mut b, "onJob", "script_or_debug_info", Some("/app/jobs.js"));
    let job = b.node("object", "Job", 4000);
    let plain = b.node("object", "Object", 3000);
    let (handler, _) = function_of(&mut b, "handler", "script", Some("file:///app/esm.mjs"));
    let (evaluated, _) = function_of(&mut b, "evaluated", "script_or_debug_info", None);
    for (name, v) in [
      ("onJob", on_job),
      ("job", job),
      ("plain", plain),
      ("handler", handler),
      ("evaluated", evaluated),
    ] {
      b.edge(g, "property", name, v);
    }
    let mut s = b.build();
    // 0-based, as in the file; the object's is its constructor's
    locate(
      &mut s,
      &[
        (on_job, loc(JOBS_JS, 11, 19)),
        (job, loc(JOBS_JS, 1, 13)),
        (handler, loc(ESM, 0, 0)),
        (evaluated, loc(EVAL, 3, 4)),
      ],
    );
    Heap {
      s,
      on_job,
      job,
      plain,
      handler,
      evaluated,
    }
  }

  #[test]
  fn a_closure_leads_to_its_script_url_and_lines_become_1_based() {
    let h = heap();
    let s = &h.s;
    let k = Kinds::of(s);
    assert_eq!(site_of(s, h.plain), None);
    let nodes = [h.on_job, h.job, h.plain, h.handler, h.evaluated];
    let sites: Vec<Option<u32>> = nodes.iter().map(|&v| site_of(s, v)).collect();
    assert_eq!(
      resolve(s, &k, &sites),
      vec![
        src("/app/jobs.js", 12, 20),
        // an instance: its constructor's place; the URL from a closure of the same script
        src("/app/jobs.js", 2, 14),
        None,
        src("file:///app/esm.mjs", 1, 1),
        // no name to be had: the place without a URL
        src("", 4, 5),
      ]
    );
    // an object whose script no closure leads to: no URL either
    let mut lone = h.s.clone();
    locate(&mut lone, &[(h.plain, loc(99, 0, 2))]);
    let l = resolve(&lone, &k, &[site_of(&lone, h.plain)]);
    assert_eq!(l, vec![src("", 1, 3)]);
  }

  #[test]
  fn the_common_site_of_samples_is_the_most_frequent_then_the_first() {
    let mut s = heap().s;
    s.locations = vec![(1, 0), (2, 1), (3, 1), (4, 0), (5, 2)];
    s.location_sites = vec![loc(1, 0, 0), loc(1, 5, 0), loc(2, 0, 0)];
    assert_eq!(common_site(&s, [1, 2, 3]), Some(1));
    assert_eq!(common_site(&s, [5, 1, 2]), Some(2)); // all once: the first's
    assert_eq!(common_site(&s, [6, 4, 2]), Some(0)); // 6 has none
    assert_eq!(common_site(&s, [6, 7]), None);
  }

  fn top_locations(policy: &SpillPolicy) -> Vec<(String, Option<SourceLocation>, serde_json::Value)> {
    let mut s = heap().s;
    let opts = AnalyzeOptions {
      top: 50,
      paths: 1,
      classes: None,
    };
    let r = analyze(&mut s, &opts, policy).unwrap();
    r.top
      .into_iter()
      .map(|t| {
        let json = serde_json::to_value(&t).unwrap();
        (t.name, t.location, json)
      })
      .collect()
  }

  /// Both schedules: the names-first one has the locations on the spill file while the report's
  /// entries are picked, so they must be looked up once the names are back.
  #[test]
  fn report_top_entries_carry_their_location_in_both_schedules() {
    let disk = SpillPolicy {
      dir: Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target")),
      min_bytes: 0,
    };
    for policy in [SpillPolicy::memory(), disk] {
      let top = top_locations(&policy);
      let of = |name: &str| {
        top
          .iter()
          .find(|t| t.0 == name)
          .unwrap_or_else(|| panic!("{name} in the top list"))
      };
      assert_eq!(of("onJob").1, src("/app/jobs.js", 12, 20), "{policy:?}");
      assert_eq!(of("Job").1, src("/app/jobs.js", 2, 14), "{policy:?}");
      assert_eq!(of("handler").1, src("file:///app/esm.mjs", 1, 1), "{policy:?}");
      assert_eq!(
        of("onJob").2["location"],
        serde_json::json!({ "url": "/app/jobs.js", "line": 12, "column": 20 })
      );
      // no location: no key at all
      let plain = of("{}");
      assert!(
        plain.1.is_none() && plain.2.get("location").is_none(),
        "{plain:?}"
      );
    }
  }

  /// global.handlers: Map —table→ (array) —[i]→ onJob closures; global.jobs: (array) —[i]→ Job
  /// instances: the first `n` of each (ids stable across the series: same build order).
  fn jobs_heap(n: usize) -> HeapSnapshot {
    let (mut b, g) = with_global();
    let (first, sfi) = function_of(&mut b, "onJob", "script_or_debug_info", Some("/app/jobs.js"));
    let map = b.node("object", "Map", 24);
    let table = b.node("array", "", 16 + 8 * n as u64);
    let jobs = b.node("array", "", 16 + 8 * n as u64);
    b.edge(g, "property", "handlers", map);
    b.edge(map, "internal", "table", table);
    b.edge(g, "property", "jobs", jobs);
    b.edge(g, "property", "first", first);
    let mut located = vec![(first, loc(JOBS_JS, 11, 19))];
    for i in 0..n {
      let f = b.node("closure", "onJob", 64);
      let ctx = b.node("object", "system / Context", 48);
      let job = b.node("object", "Job", 400);
      b.edge(f, "internal", "shared", sfi);
      b.edge(f, "context", "context", ctx);
      b.edge(table, "element", &i.to_string(), f);
      b.edge(jobs, "element", &i.to_string(), job);
      located.push((f, loc(JOBS_JS, 11, 19)));
      located.push((job, loc(JOBS_JS, 1, 13)));
    }
    let mut s = b.build();
    locate(&mut s, &located);
    s
  }

  #[test]
  fn closure_and_class_suspects_carry_their_location() {
    let base = Census::of_snapshot(&mut jobs_heap(2));
    let target = Census::of_snapshot(&mut jobs_heap(5));
    let mut last = jobs_heap(9);
    let a = Analysis::compute(&mut last);
    let opts = CompareOptions {
      threshold_bytes: 1,
      threshold_count: 1,
      ..Default::default()
    };
    let c = compare(&base, Some(&target), &last, &a, &opts);
    let of = |name: &str| c.suspects.iter().find(|s| s.name == name).unwrap();
    assert_eq!(of("onJob()").count, 3);
    assert_eq!(of("onJob()").location, src("/app/jobs.js", 12, 20));
    assert_eq!(of("Job").location, src("/app/jobs.js", 2, 14));
    let json = serde_json::to_value(&c).unwrap();
    let job = json["suspects"]
      .as_array()
      .unwrap()
      .iter()
      .find(|s| s["name"] == "Job")
      .unwrap();
    assert_eq!(
      job["location"],
      serde_json::json!({ "url": "/app/jobs.js", "line": 2, "column": 14 })
    );
    assert!(job.get("site").is_none());
  }
}
