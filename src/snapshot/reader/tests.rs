use super::super::model::{compact_edge_names, Location};
use super::*;
use std::io::Write;

/// A tiny valid snapshot: root → a (object "A") → b (string), with a weak edge b → a.
pub(super) const TINY: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","detachedness"],
"node_types":[["hidden","array","string","object"],"string","number","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],
"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],
"location_fields":["object_index","script_id","line","column"]},"node_count":3,"edge_count":3},
"nodes":[0,0,1,0,1,0,
3,1,3,16,1,0,
2,2,5,24,1,0],
"edges":[2,3,6,
2,4,12,
6,5,6],
"locations":[6,7,8,9],
"strings":["","A","s\u00e9\ud83d\ude00","x","child","back"]}"#;

#[test]
fn reads_a_tiny_snapshot() {
  let s = read_snapshot(TINY.as_bytes()).unwrap();
  assert_eq!(s.node_count(), 3);
  assert_eq!(s.edge_count(), 3);
  assert_eq!(s.node_type_name(1), "object");
  assert_eq!(s.node_name_str(1), "A");
  assert_eq!(s.node_name_str(2), "sé😀");
  assert_eq!(s.node_self_size.to_vec(), vec![0, 16, 24]);
  assert_eq!(s.node_id, vec![1, 3, 5]);
  assert_eq!(s.first_edge, vec![0, 1, 2, 3]);
  assert_eq!(s.edge_targets().collect::<Vec<_>>(), vec![1, 2, 1]);
  assert_eq!(s.edge_type_name(2), "weak");
  assert_eq!(s.strings.get(s.edge_name_or_index(1)), "child");
  assert_eq!(s.locations, vec![(1, 0)]);
  assert_eq!(
    s.location_sites,
    vec![Location {
      script_id: 7,
      line: 8,
      column: 9
    }]
  );
  assert_eq!(s.node_detachedness, vec![0, 0, 0]);
}

#[test]
fn gzip_is_detected_and_a_cut_gzip_is_an_error() {
  let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
  e.write_all(TINY.as_bytes()).unwrap();
  let gz = e.finish().unwrap();
  assert_eq!(read_snapshot_bytes(&gz).unwrap().node_count(), 3);
  let err = read_snapshot_bytes(&gz[..gz.len() - 12]).unwrap_err();
  assert!(err.message.contains("gzip"), "{err}");
}

pub(super) fn err_of(json: &str) -> SnapshotError {
  read_snapshot(json.as_bytes()).expect_err(json)
}

#[test]
fn malformed_inputs_are_errors_with_offsets() {
  let e = err_of("");
  assert!(e.message.contains("empty"), "{e}");
  let e = read_snapshot_bytes(b"").unwrap_err();
  assert!(e.message.contains("empty"), "{e}");
  // truncated in the middle of the nodes
  let cut = &TINY[..TINY.find("3,1,3,16").unwrap() + 3];
  let e = err_of(cut);
  assert_eq!(e.offset, Some(cut.len() as u64), "{e}");
  // garbled number
  let e = err_of(&TINY.replace("3,1,3,16", "3,1,x,16"));
  assert!(
    e.message.contains("expected a non-negative integer in \"nodes\""),
    "{e}"
  );
  assert_eq!(e.offset, Some(TINY.find("3,1,3,16").unwrap() as u64 + 4));
  // negative, fraction
  assert!(err_of(&TINY.replace("3,1,3,16", "3,1,-3,16"))
    .message
    .contains("non-negative"));
  assert!(err_of(&TINY.replace("3,1,3,16", "3,1,3.5,16"))
    .message
    .contains("fraction"));
  // wrong meta
  assert!(err_of(&TINY.replace("\"self_size\",", ""))
    .message
    .contains("self_size"));
  assert!(err_of(&TINY.replace("\"meta\"", "\"mota\""))
    .message
    .contains("header"));
  // edge past the node array / not a multiple of the node width
  assert!(err_of(&TINY.replace("2,4,12", "2,4,18"))
    .message
    .contains("past the 3 nodes"));
  assert!(err_of(&TINY.replace("2,4,12", "2,4,13"))
    .message
    .contains("not a multiple"));
  // more nodes or edge types than the packed edge word holds
  assert!(err_of(&TINY.replace("2,4,12", "2,4,1610612736"))
    .message
    .contains("past node 2^28"));
  let many = (0..17).map(|i| format!("\"t{i}\"")).collect::<Vec<_>>().join(",");
  let e = err_of(&TINY.replace(
    r#""context","element","property","internal","hidden","shortcut","weak""#,
    &many,
  ));
  assert!(e.message.contains("17 edge types"), "{e}");
  // edge counts that do not add up
  assert!(err_of(&TINY.replace("2,2,5,24,1,0]", "2,2,5,24,2,0]"))
    .message
    .contains("add up"));
  // node array cut mid-record
  assert!(err_of(&TINY.replace("2,2,5,24,1,0]", "2,2,5,24,1]"))
    .message
    .contains("mid-record"));
  // name index past the strings, type out of range
  assert!(err_of(&TINY.replace("2,2,5,24", "2,99,5,24"))
    .message
    .contains("past the 6 strings"));
  // an edge naming a string past the table; an element edge's index is no string
  assert!(err_of(&TINY.replace("2,4,12", "2,99,12"))
    .message
    .contains("edge 1 has name string 99, past the 6 strings"));
  assert!(read_snapshot(TINY.replace("2,4,12", "1,99,12").as_bytes()).is_ok());
  assert!(err_of(&TINY.replace("2,2,5,24", "9,2,5,24"))
    .message
    .contains("node type 9"));
  // non-UTF-8 bytes inside a string
  let mut bad = TINY.as_bytes().to_vec();
  let at = TINY.find("child").unwrap();
  bad[at] = 0xff;
  let e = read_snapshot(&bad[..]).unwrap_err();
  assert!(e.message.contains("UTF-8") && e.offset == Some(at as u64), "{e}");
  // trailing garbage, nodes before snapshot
  assert!(err_of(&format!("{TINY}x")).message.contains("after the end"));
  assert!(err_of(r#"{"nodes":[],"snapshot":{}}"#)
    .message
    .contains("comes before"));
  // a second header would change the type codes of arrays already read
  let header = &TINY[TINY.find("\"snapshot\"").unwrap()..TINY.find(",\n\"nodes\"").unwrap()];
  let e = err_of(&TINY.replace(",\n\"strings\"", &format!(",{header},\n\"strings\"")));
  assert!(e.message.contains("second \"snapshot\""), "{e}");
  assert!(err_of("{}").message.contains("empty"));
  assert!(err_of("[1,2]").message.contains("expected '{'"));
}

/// `before`, then `pattern` over and over: a gzip bomb's text as a stream, never in memory
/// (it ends after 8 GiB, should a reader take it all); `read` counts the bytes taken.
pub(super) struct Bomb {
  before: Vec<u8>,
  pattern: Vec<u8>,
  pos: u64,
  read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Bomb {
  pub(super) fn endless(before: &str, pattern: &str) -> Bomb {
    Bomb {
      before: before.into(),
      // repeated to 64 KiB or more: copied in big slices
      pattern: pattern.repeat((1 << 16) / pattern.len() + 1).into(),
      pos: 0,
      read: Default::default(),
    }
  }
}

impl Read for Bomb {
  fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
    let (b, p) = (self.before.len() as u64, self.pattern.len() as u64);
    let n = if self.pos < b {
      let from = &self.before[self.pos as usize..];
      let n = from.len().min(buf.len());
      buf[..n].copy_from_slice(&from[..n]);
      n
    } else if self.pos < 8 << 30 {
      let k = ((self.pos - b) % p) as usize;
      let n = (self.pattern.len() - k).min(buf.len());
      buf[..n].copy_from_slice(&self.pattern[k..k + n]);
      n
    } else {
      0
    };
    self.pos += n as u64;
    self
      .read
      .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    Ok(n)
  }
}

/// The error a bomb gives, and how many MiB the reader took before it.
pub(super) fn bomb_err(b: Bomb) -> (SnapshotError, u64) {
  let read = b.read.clone();
  let e = read_snapshot(b).expect_err("a bomb must be refused");
  (e, read.load(std::sync::atomic::Ordering::Relaxed) >> 20)
}

/// TINY's `snapshot.meta`.
pub(super) fn tiny_meta() -> &'static str {
  &TINY[TINY.find("{\"node_fields\"").unwrap()..TINY.find(",\"node_count\"").unwrap()]
}

#[test]
fn a_top_level_key_is_capped() {
  let (e, mib) = bomb_err(Bomb::endless("{\"", "a"));
  assert!(
    e.message
      .contains("a string (a top-level key) is longer than 1024 bytes"),
    "{e}"
  );
  assert_eq!(e.offset, Some(1));
  assert!(mib <= 2, "read {mib} MiB");
}

#[test]
fn skipped_values_are_capped_in_depth_and_size() {
  let before = TINY.replace(",\n\"locations\"", ",\"trace_tree\":[[[[],[]]]],\n\"locations\"");
  if let Err(e) = read_snapshot(before.as_bytes()) {
    panic!("{e}");
  }
  let before = format!(
    "{},\"trace_tree\":",
    &TINY[..TINY.find(",\n\"locations\"").unwrap()]
  );
  let at = before.len() as u64;
  let (e, mib) = bomb_err(Bomb::endless(&before, "["));
  assert!(
    e.message
      .contains("arrays and objects in \"trace_tree\" (from byte")
      && e.message.contains("nest more than 1024 deep"),
    "{e}"
  );
  assert_eq!(e.offset, Some(at + 1024));
  assert!(mib <= 1, "read {mib} MiB");
  // a scalar, an array: 1 GiB at most (or as much as came before)
  let t = std::time::Instant::now();
  let (e, _) = bomb_err(Bomb::endless(&before, "0"));
  assert!(
    e.message
      .contains("the value in \"trace_tree\" is longer than 1073741824 bytes"),
    "{e}"
  );
  assert_eq!(e.offset, Some(at));
  let (e, mib) = bomb_err(Bomb::endless(&format!("{before}[\"x\","), "1,"));
  assert!(e.message.contains("longer than 1073741824 bytes"), "{e}");
  assert_eq!(e.offset, Some(at));
  assert!(mib <= 1025, "read {mib} MiB");
  eprintln!("two 1 GiB skips: {:?}", t.elapsed());
}

#[test]
fn sections_come_in_v8s_order() {
  let at = |t: &str, k: &str| Some(t.find(k).unwrap() as u64);
  // edges or locations before the nodes, strings before the edges
  let nodes = &TINY[TINY.find("\"nodes\"").unwrap()..TINY.find(",\n\"edges\"").unwrap()];
  let edges = &TINY[TINY.find("\"edges\"").unwrap()..TINY.find(",\n\"locations\"").unwrap()];
  let t = TINY
    .replace(nodes, "\"n\":0")
    .replace(edges, nodes)
    .replace("\"n\":0", edges);
  let e = err_of(&t);
  assert!(
    e.message
      .contains("\"edges\" comes before \"nodes\"; V8 writes the nodes first"),
    "{e}"
  );
  assert_eq!(e.offset, at(&t, "\"edges\""));
  let t = TINY
    .replace("\"locations\":[6,7,8,9],\n", "")
    .replace("\"nodes\":", "\"locations\":[6,7,8,9],\"nodes\":");
  let e = err_of(&t);
  assert!(e.message.contains("\"locations\" comes before \"nodes\""), "{e}");
  assert_eq!(e.offset, at(&t, "\"locations\""));
  let strings = &TINY[TINY.find("\"strings\"").unwrap()..TINY.len() - 1];
  let t = TINY
    .replace(&format!(",\n{strings}"), "")
    .replace("\"edges\":", &format!("{strings},\"edges\":"));
  let e = err_of(&t);
  assert!(
    e.message
      .contains("\"strings\" comes before \"nodes\" and \"edges\"; V8 writes the strings last"),
    "{e}"
  );
  assert_eq!(e.offset, at(&t, "\"strings\""));
}

/// The offset in `t` of the `n`-th (0-based) match of `pat`, plus `plus`.
pub(super) fn nth(t: &str, pat: &str, n: usize, plus: usize) -> Option<u64> {
  t.match_indices(pat).nth(n).map(|(i, _)| (i + plus) as u64)
}

/// An error's offset and message.
pub(super) fn where_what(t: &str) -> (Option<u64>, String) {
  let e = err_of(t);
  (e.offset, e.message)
}

#[test]
fn every_error_says_where() {
  let end = |t: &str| Some(t.len() as u64);
  // the header's meta: at the value concerned
  let t = TINY.replace("\"id\",", "");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "[\"type\",\"name\"", 0, 0), "{m}");
  assert!(m.contains("snapshot.meta.node_fields has no \"id\" field"), "{m}");
  let t = TINY.replace("\"name_or_index\",", "");
  assert_eq!(where_what(&t).0, nth(&t, "[\"type\",\"to_node\"]", 0, 0));
  let t = TINY.replace("[[\"hidden\",", "[[1,");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "[[1,", 0, 0), "{m}");
  assert!(
    m.contains("node_types[0] must hold at most 256 type names"),
    "{m}"
  );
  let t = TINY.replace("\"edge_types\":[[", "\"edge_types\":[1,[");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "[1,[", 0, 0), "{m}");
  assert!(m.contains("edge_types[0] must be the list of type names"), "{m}");
  let many = (0..17).map(|i| format!("\"t{i}\"")).collect::<Vec<_>>().join(",");
  let t = TINY.replace(
    r#""context","element","property","internal","hidden","shortcut","weak""#,
    &many,
  );
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "[[\"t0\"", 0, 0), "{m}");
  assert!(m.contains("meta.edge_types lists 17 edge types"), "{m}");
  // a missing section: at the end of the input
  let strings = &TINY[TINY.find(",\n\"strings\"").unwrap()..TINY.len() - 1];
  for (t, what) in [
    (TINY.replace(strings, ""), "strings"),
    // (edges without strings: with strings, those come before the edges)
    (
      TINY
        .replace(",\n\"edges\":[2,3,6,\n2,4,12,\n6,5,6]", "")
        .replace(strings, ""),
      "edges",
    ),
    (r#"{"x":1}"#.to_string(), "snapshot"),
  ] {
    let (at, m) = where_what(&t);
    assert_eq!(at, end(&t), "{m}");
    assert!(
      m.contains(&format!("the snapshot has no \"{what}\" (the input ends here)")),
      "{m}"
    );
  }
  // a second array: at its key
  for key in ["nodes", "edges", "locations", "strings"] {
    let part = &TINY[TINY.find(&format!("\"{key}\"")).unwrap()..];
    let part = &part[..part.find(']').unwrap() + 1];
    let t = TINY.replace(strings, &format!(",{part}{strings}"));
    let (at, m) = where_what(&t);
    assert_eq!(at, nth(&t, &format!("\"{key}\""), 1, 0), "{m}");
    assert!(
      m.contains(&format!("a second \"{key}\" array; a snapshot has one")),
      "{m}"
    );
  }
  // no nodes: at the array; fewer nodes or edges than said: at the array's ']'
  let t = TINY
    .replace("0,0,1,0,1,0,\n3,1,3,16,1,0,\n2,2,5,24,1,0", "")
    .replace("\"node_count\":3,", "");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "\"nodes\":[", 0, 8), "{m}");
  assert!(m.contains("the \"nodes\" array is empty"), "{m}");
  let t = TINY.replace("\"node_count\":3", "\"node_count\":4");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "24,1,0]", 0, 6), "{m}");
  assert!(
    m.contains("snapshot.node_count says 4 nodes but the \"nodes\" array holds 3"),
    "{m}"
  );
  let t = TINY.replace("\"edge_count\":3", "\"edge_count\":4");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "6,5,6]", 0, 5), "{m}");
  assert!(
    m.contains("snapshot.edge_count says 4 edges but the \"edges\" array holds 3"),
    "{m}"
  );
  let t = TINY
    .replace("2,2,5,24,1,0]", "2,2,5,24,2,0]")
    .replace("\"edge_count\":3", "\"edge_count\":4");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "6,5,6]", 0, 5), "{m}");
  let t = TINY.replace("2,2,5,24,1,0]", "2,2,5,24,2,0]");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "6,5,6]", 0, 5), "{m}");
  assert!(
    m.contains("the nodes' edge_count fields add up to 4 edges but the \"edges\" array holds 3"),
    "{m}"
  );
  // edge counts past 2^32: at the node's edge_count where the sum passes it
  let t = TINY
    .replace("0,0,1,0,1,0", "0,0,1,0,4294967295,0")
    .replace("3,1,3,16,1,0", "3,1,3,16,2,0");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "16,2,0", 0, 3), "{m}");
  assert!(
    m.contains("the nodes' edge counts add up to more than 2^32 edges"),
    "{m}"
  );
  // an edge past the nodes, a location past them: at the value
  let t = TINY.replace("2,4,12", "2,4,18");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "18", 0, 0), "{m}");
  assert!(
    m.contains("edge 1 (to_node 18) points to node 3, past the 3 nodes"),
    "{m}"
  );
  let t = TINY.replace("[6,7,8,9]", "[18,7,8,9]");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "18,7,8,9", 0, 0), "{m}");
  assert!(
    m.contains("location object_index 18 points to node 3, past the 3 nodes"),
    "{m}"
  );
  // a name past the strings, known once they are read: at the name
  let t = TINY.replace("2,2,5,24", "2,99,5,24");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "99", 0, 0), "{m}");
  assert!(m.contains("node 2 has name string 99, past the 6 strings"), "{m}");
  let t = TINY.replace("2,4,12", "2,99,12");
  let (at, m) = where_what(&t);
  assert_eq!(at, nth(&t, "99", 0, 0), "{m}");
  assert!(m.contains("edge 1 has name string 99, past the 6 strings"), "{m}");
  // no strings at all: the first named edge
  let t = TINY.replace(
    r#""strings":["","A","s\u00e9\ud83d\ude00","x","child","back"]"#,
    "\"strings\":[]",
  );
  let (at, m) = where_what(&t);
  assert!(m.contains("past the 0 strings"), "{m}");
  assert!(at.is_some(), "{m}");
  // the input fails: where it stood
  struct Failing;
  impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
      Err(std::io::Error::other("disk on fire"))
    }
  }
  let e = read_snapshot_auto(Failing).unwrap_err();
  assert_eq!(e.offset, Some(0), "{e}");
  assert!(e.message.contains("disk on fire"), "{e}");
}

pub(super) fn fixture_json() -> Vec<u8> {
  let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures/small.heapsnapshot.gz");
  let mut out = Vec::new();
  flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
    .read_to_end(&mut out)
    .unwrap();
  out
}

#[test]
fn reads_the_fixture() {
  let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures/small.heapsnapshot.gz");
  let s = read_snapshot_path(&path).unwrap();
  assert_eq!(s.node_count(), 67339);
  let json = fixture_json();
  let head = String::from_utf8_lossy(&json[..4096]);
  let count = |k: &str| -> usize {
    let at = head.find(k).unwrap() + k.len();
    head[at..]
      .chars()
      .take_while(|c| c.is_ascii_digit())
      .collect::<String>()
      .parse()
      .unwrap()
  };
  assert_eq!(s.edge_count(), count("\"edge_count\":"));
  assert!(s.strings.len() > 1000);
  assert_eq!(s.node_type_name(0), "synthetic");
  // the names were packed by the uses the parser threads counted: as a count of its own would
  let raw: Vec<u32> = (0..s.edge_count()).map(|e| s.edge_name_or_index(e)).collect();
  assert!(compact_edge_names(&s.edge_type_names, &s.edges, &raw) == s.edge_names);
}

/// Random cuts and byte flips of the real fixture: always Ok or Err, never a panic or a hang.
#[test]
fn random_truncations_and_flips_never_panic() {
  let json = fixture_json();
  // A small prefix keeps the test quick; it still holds the meta, nodes and the format's structure.
  let mut seed: u64 = 0x9E3779B97F4A7C15;
  let mut rnd = move || {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    seed
  };
  let (mut ok, mut errs) = (0, 0);
  for i in 0..400 {
    let mut data = json.clone();
    if i % 2 == 0 {
      data.truncate((rnd() % json.len() as u64) as usize);
    } else {
      for _ in 0..1 + rnd() % 4 {
        let at = (rnd() % data.len() as u64) as usize;
        data[at] = (rnd() % 256) as u8;
      }
    }
    match read_snapshot(&data[..]) {
      Ok(_) => ok += 1,
      Err(e) => {
        assert!(!e.message.is_empty());
        errs += 1
      }
    }
  }
  assert!(errs > 200, "ok {ok} errs {errs}");
  // and through gzip: cut compressed streams
  let gz =
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures/small.heapsnapshot.gz"))
      .unwrap();
  for _ in 0..20 {
    let cut = (rnd() % gz.len() as u64) as usize;
    assert!(read_snapshot_bytes(&gz[..cut]).is_err());
  }
}
