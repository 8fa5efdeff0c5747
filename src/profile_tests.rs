//! Where the time and memory of an analysis go, phase by phase (not a test; a profiling tool):
//!   LEAKPROBE_PROFILE=bench-out/gen-300mb.heapsnapshot cargo test --release --lib profile_phases -- --ignored --nocapture
//! (LEAKPROBE_PROFILE_PARSE_ONLY=1: stop after parsing, e.g. under `perf record`)
use std::time::Instant;

fn cpu_ms() -> f64 {
  // SAFETY: rusage is plain C data (all zeroes is valid), filled by getrusage
  let mut u: libc::rusage = unsafe { std::mem::zeroed() };
  // SAFETY: as above
  unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
  let t = |v: libc::timeval| v.tv_sec as f64 * 1e3 + v.tv_usec as f64 / 1e3;
  t(u.ru_utime) + t(u.ru_stime)
}

fn mem() -> String {
  let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
  let get = |k: &str| {
    s.lines()
      .find(|l| l.starts_with(k))
      .and_then(|l| l.split_whitespace().nth(1))
      .and_then(|v| v.parse::<u64>().ok())
      .unwrap_or(0)
      / 1024
  };
  format!("RSS {} MB, peak {} MB", get("VmRSS:"), get("VmHWM:"))
}

/// The file named by `LEAKPROBE_PROFILE`, if set.
fn profile_path() -> Option<String> {
  let path = std::env::var("LEAKPROBE_PROFILE").ok();
  if path.is_none() {
    eprintln!("set LEAKPROBE_PROFILE to a snapshot file");
  }
  path
}

#[test]
#[ignore]
fn profile_phases() {
  let Some(path) = profile_path() else { return };
  let t = Instant::now();
  let c0 = cpu_ms();
  let mut snap = crate::snapshot::read_snapshot_path(std::path::Path::new(&path)).unwrap();
  println!("parse: {:.0} ms of CPU on all threads", cpu_ms() - c0);
  println!(
    "parse    {:>8.0} ms  {}  ({} nodes, {} edges, {} string bytes)",
    t.elapsed().as_secs_f64() * 1e3,
    mem(),
    snap.node_count(),
    snap.edge_count(),
    snap.strings.data.len()
  );
  if std::env::var("LEAKPROBE_PROFILE_PARSE_ONLY").is_ok() {
    return;
  }
  {
    // the parts of Analysis::compute one after another (it runs two halves side by side)
    use crate::analysis::{classes, shallow};
    use crate::graph::{distances, dominators, essential, retainers::Retainers, Kinds};
    let lap = |what: &str, t: &mut Instant| {
      println!(
        "  {what:<22} {:>6.0} ms  {}",
        t.elapsed().as_secs_f64() * 1e3,
        mem()
      );
      *t = Instant::now();
    };
    let mut s2 = snap.clone();
    let mut t = Instant::now();
    crate::analysis::detachedness::propagate(&mut s2);
    let k = Kinds::of(&s2);
    lap("dom state, kinds", &mut t);
    let f = distances::EdgeFilter::of(&s2, &k);
    lap("distance filter", &mut t);
    let d = distances::compute_filtered(&s2, &k, &f);
    lap("distances", &mut t);
    let mut c = classes::class_names(&s2, &k);
    lap("class names", &mut t);
    shallow::move_owned_sizes(&mut s2, &k);
    let ss = &s2.node_self_size;
    lap("moved self sizes", &mut t);
    let owned = essential::page_owned(&s2, &k);
    lap("page-owned nodes", &mut t);
    let (r, ess) = Retainers::build_with_essential(
      &s2,
      Retainers::slot_ends(&s2),
      &mut essential::EssentialRule::new(&s2, &k, &owned, &essential::TableIds::of(&s2, &s2.node_id)),
    );
    lap("retainers + essential", &mut t);
    let doms = dominators::compute(&crate::graph::dominators::EssentialGraph::of(&s2, &r, &ess));
    lap("dominators", &mut t);
    let retained = dominators::retained_sizes(&doms.order, &doms.idom, ss.clone());
    lap("retained sizes", &mut t);
    let mut rows = classes::aggregate_rows(&s2, &k, &mut c, ss, &s2.locations);
    rows.add_distances(&c, &d);
    lap("summary rows", &mut t);
    rows.add_retained(
      &c,
      &retained,
      &crate::graph::dominator_tree::DomChildren::of(&doms.idom),
    );
    lap("class retained sizes", &mut t);
  }
  let t = Instant::now();
  let a =
    crate::analysis::Analysis::compute_spilling(&mut snap, &crate::spill::SpillPolicy::from_env()).unwrap();
  println!("analysis {:>8.0} ms  {}", t.elapsed().as_secs_f64() * 1e3, mem());
  let t = Instant::now();
  let r = crate::analysis::report::build(
    &snap,
    &a,
    &crate::analysis::AnalyzeOptions {
      top: 20,
      paths: 5,
      classes: None,
    },
  );
  let json = serde_json::to_string(&r).unwrap();
  println!(
    "report   {:>8.0} ms  {}  ({} bytes of JSON)",
    t.elapsed().as_secs_f64() * 1e3,
    mem(),
    json.len()
  );
}

/// The memory over time of the real (two-thread) analysis and its report, sampled every 5 ms:
///   LEAKPROBE_PROFILE=FILE cargo test --release --lib rss_timeline -- --ignored --nocapture
#[test]
#[ignore]
fn rss_timeline() {
  let Some(path) = profile_path() else { return };
  let mut snap = crate::snapshot::read_snapshot_path(std::path::Path::new(&path)).unwrap();
  let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
  let st = stop.clone();
  let t0 = Instant::now();
  let h = std::thread::spawn(move || {
    let mut out = vec![];
    while !st.load(std::sync::atomic::Ordering::Relaxed) {
      let s = std::fs::read_to_string("/proc/self/statm").unwrap();
      let rss: u64 = s.split_whitespace().nth(1).unwrap().parse().unwrap();
      out.push((t0.elapsed().as_millis(), (rss * 4096) >> 20));
      std::thread::sleep(std::time::Duration::from_millis(5));
    }
    out
  });
  let r = crate::analysis::analyze(
    &mut snap,
    &crate::analysis::AnalyzeOptions {
      top: 20,
      paths: 5,
      classes: None,
    },
    &crate::spill::SpillPolicy::from_env(),
  )
  .unwrap();
  let t2 = t0.elapsed().as_millis();
  drop(r);
  stop.store(true, std::sync::atomic::Ordering::Relaxed);
  let out = h.join().unwrap();
  for (t, m) in out.iter().step_by(3) {
    println!("{t:>5} ms {m:>5} MiB");
  }
  println!("report at {t2} ms; max {:?}", out.iter().map(|x| x.1).max());
}
