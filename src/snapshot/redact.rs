//! Redaction: a snapshot holds every string the program had in memory (tokens, passwords,
//! request bodies). `redact_file` rewrites a stored snapshot so that the contents of string
//! objects are gone while everything the analysis reads stays: node and edge arrays are copied
//! byte for byte (self sizes, ids, the graph), and only entries of the `strings` table that are
//! nothing but string values are replaced. Property names, class and function names are kept,
//! also when a string value happens to share them (V8 interns strings in one table).
use super::model::IndexEdgeTypes;
use super::reader::read_snapshot_path;
use super::HeapSnapshot;
use crate::capture::encoder::CountingWriter;
use crate::capture::output_file::PendingFile;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const REDACTED: &str = "<redacted>";

/// `true` for string-table entries that are only ever the contents of string objects.
pub fn data_strings(s: &HeapSnapshot) -> Vec<bool> {
  let n = s.strings.len();
  let mut value = vec![false; n];
  let mut keep = vec![false; n];
  let string_types: Vec<u8> = ["string", "concatenated string", "sliced string"]
    .iter()
    .filter_map(|t| s.node_type_code(t))
    .collect();
  for v in 0..s.node_count() {
    let name = s.node_name[v] as usize;
    if name < n {
      if string_types.contains(&s.node_type[v]) {
        value[name] = true;
      } else {
        keep[name] = true;
      }
    }
  }
  let index_types = IndexEdgeTypes::of(&s.edge_type_names);
  for e in 0..s.edge_count() {
    let name = s.edge_name_or_index(e) as usize;
    if index_types.names_string(s.edge_type(e) as usize) && name < n {
      keep[name] = true;
    }
  }
  value.iter().zip(&keep).map(|(&v, &k)| v && !k).collect()
}

/// Copies the snapshot JSON from `input` to `out`, replacing `strings[i]` where `redact[i]`.
/// Returns how many strings were replaced. Works on the raw bytes: one pass, no parse tree.
pub fn redact_json<R: Read, W: Write>(input: R, out: &mut W, redact: &[bool]) -> io::Result<u64> {
  let mut input = BufReader::with_capacity(1 << 20, input);
  let mut depth = 0usize;
  let mut in_string = false;
  let mut escaped = false;
  // the last string closed at depth 1 (a key candidate) and the key the next value belongs to
  let mut text: Vec<u8> = Vec::new();
  let mut key: Vec<u8> = Vec::new();
  let mut in_strings = false;
  let mut index = 0usize;
  let mut element: Vec<u8> = Vec::new();
  let mut replaced = 0u64;
  let mut buf = [0u8; 1 << 16];
  let mut pending: Vec<u8> = Vec::with_capacity(1 << 16);
  loop {
    let got = input.read(&mut buf)?;
    if got == 0 {
      break;
    }
    pending.clear();
    for &b in &buf[..got] {
      let collecting = in_strings && depth == 2;
      if in_string {
        if collecting {
          element.push(b);
        } else {
          pending.push(b);
          if depth == 1 {
            text.push(b);
          }
        }
        if escaped {
          escaped = false;
        } else if b == b'\\' {
          escaped = true;
        } else if b == b'"' {
          in_string = false;
          if collecting {
            if redact.get(index).copied().unwrap_or(false) {
              pending.push(b'"');
              pending.extend_from_slice(REDACTED.as_bytes());
              pending.push(b'"');
              replaced += 1;
            } else {
              pending.extend_from_slice(&element);
            }
            element.clear();
            index += 1;
          } else if depth == 1 {
            text.pop(); // the closing quote
          }
        }
        continue;
      }
      match b {
        b'"' => {
          in_string = true;
          if collecting {
            element.clear();
            element.push(b);
            continue;
          }
          if depth == 1 {
            text.clear();
          }
        }
        b':' if depth == 1 => key = std::mem::take(&mut text),
        b'{' | b'[' => {
          depth += 1;
          if depth == 2 && b == b'[' && key == b"strings" {
            in_strings = true;
            index = 0;
          }
        }
        b'}' | b']' => {
          if depth == 2 {
            in_strings = false;
          }
          depth = depth.saturating_sub(1);
        }
        _ => {}
      }
      pending.push(b);
    }
    out.write_all(&pending)?;
  }
  Ok(replaced)
}

pub struct Redacted {
  pub strings: u64,
  pub bytes: u64,
  pub compressed_bytes: u64,
}

/// Suffix of the redacted copy's temp file while it is written: `.<name>.redacting.tmp`.
pub const REDACTING: &str = ".redacting.tmp";

/// Writes a redacted copy of the snapshot at `src` (plain or gzip, kept as it was) to
/// `<dir>/<name>`, which must not exist yet: a locked 0600 temp file (`.<name>.redacting.tmp`),
/// fsync, rename. `<dir>/<name>` only ever appears complete and redacted; on error nothing is
/// left of the copy, and `src` is untouched.
pub fn redact_into(src: &Path, dir: &Path, name: &str, level: u32) -> Result<(PathBuf, Redacted), String> {
  let (pending, out) = PendingFile::create_as(dir, name, REDACTING)?;
  let (out, r) = write_redacted(src, out, level)?;
  let written = pending
    .commit(out)
    .map_err(|e| format!("cannot write the redacted copy of {}: {e}", src.display()))?;
  Ok((written, r))
}

/// Rewrites the snapshot at `path` in place (the same steps, renamed over the original). On any
/// error the original stays.
pub fn redact_file(path: &Path, level: u32) -> Result<Redacted, String> {
  let dir = path
    .parent()
    .ok_or_else(|| format!("{} has no directory", path.display()))?;
  let name = path
    .file_name()
    .and_then(|n| n.to_str())
    .ok_or_else(|| format!("{} has no usable file name", path.display()))?;
  let (pending, out) = PendingFile::create_replacing(dir, name, REDACTING)?;
  let (out, r) = write_redacted(path, out, level)?;
  pending
    .commit(out)
    .map_err(|e| format!("cannot replace {} with its redacted copy: {e}", path.display()))?;
  Ok(r)
}

/// Reads `src` twice: once to find the string-table entries that are only string contents, then
/// as a stream into `out` with those replaced. Returns `out` (written, not synced) and the counts.
fn write_redacted(src: &Path, out: File, level: u32) -> Result<(File, Redacted), String> {
  let snap = read_snapshot_path(src).map_err(|e| e.to_string())?;
  let redact = data_strings(&snap);
  drop(snap);
  let gzip = {
    let mut head = [0u8; 2];
    let mut f = File::open(src).map_err(|e| format!("cannot open {}: {e}", src.display()))?;
    f.read_exact(&mut head).is_ok() && head == [0x1f, 0x8b]
  };
  let input = File::open(src).map_err(|e| format!("cannot open {}: {e}", src.display()))?;
  let werr = |e: io::Error| format!("cannot write the redacted copy of {}: {e}", src.display());
  let (strings, bytes, out) = if gzip {
    let mut enc = GzEncoder::new(
      BufWriter::with_capacity(1 << 20, out),
      Compression::new(level.min(9)),
    );
    let mut counter = CountingWriter {
      inner: &mut enc,
      count: 0,
    };
    let strings = redact_json(MultiGzDecoder::new(input), &mut counter, &redact).map_err(werr)?;
    let bytes = counter.count;
    let out = enc
      .finish()
      .map_err(werr)?
      .into_inner()
      .map_err(|e| werr(e.into_error()))?;
    (strings, bytes, out)
  } else {
    let mut w = BufWriter::with_capacity(1 << 20, out);
    let mut counter = CountingWriter {
      inner: &mut w,
      count: 0,
    };
    let strings = redact_json(input, &mut counter, &redact).map_err(werr)?;
    let bytes = counter.count;
    (strings, bytes, w.into_inner().map_err(|e| werr(e.into_error()))?)
  };
  let compressed_bytes = out.metadata().map(|m| m.len()).unwrap_or(0);
  Ok((
    out,
    Redacted {
      strings,
      bytes,
      compressed_bytes,
    },
  ))
}

/// A tiny snapshot with one secret string value ("hunter2 …"), for tests here and in capture.
#[cfg(test)]
pub const TEST_SNAPSHOT: &str = tests::SNAP;

#[cfg(test)]
mod tests {
  use super::*;
  use crate::snapshot::read_snapshot_bytes;

  pub const SNAP: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["hidden","object","string"]],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property","element"]],"strings":"x"},"node_count":4,"edge_count":3},
"nodes":[0,0,1,0,1, 1,1,3,32,2, 2,2,5,40,0, 2,3,7,24,0],
"edges":[0,1,5, 0,3,10, 1,0,15],
"strings":["","Session","hunter2 \"quoted\" \u00e9","token"]}"#;

  #[test]
  fn string_values_go_names_stay_graph_unchanged() {
    let s = read_snapshot_bytes(SNAP.as_bytes()).unwrap();
    // "token" is both a property name and a string value: kept
    assert_eq!(data_strings(&s), vec![false, false, true, false]);
    let mut out = Vec::new();
    let n = redact_json(SNAP.as_bytes(), &mut out, &data_strings(&s)).unwrap();
    assert_eq!(n, 1);
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("hunter2"));
    assert!(
      text.contains(r#""strings":["","Session","<redacted>","token"]"#),
      "{text}"
    );
    let r = read_snapshot_bytes(text.as_bytes()).unwrap();
    assert_eq!(
      (r.node_self_size.clone(), r.edges.clone(), r.node_id.clone()),
      (s.node_self_size.clone(), s.edges.clone(), s.node_id.clone())
    );
    assert_eq!(r.strings.get(1), "Session");
  }

  #[test]
  fn redact_file_rewrites_gzip_in_place() {
    let dir = std::env::temp_dir().join(format!("leakprobe-redact-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.heapsnapshot.gz");
    let mut enc = GzEncoder::new(File::create(&file).unwrap(), Compression::fast());
    enc.write_all(SNAP.as_bytes()).unwrap();
    enc.finish().unwrap();
    let r = redact_file(&file, 3).unwrap();
    assert_eq!(r.strings, 1);
    let mut text = String::new();
    MultiGzDecoder::new(File::open(&file).unwrap())
      .read_to_string(&mut text)
      .unwrap();
    assert!(!text.contains("hunter2") && text.contains("<redacted>"));
    assert_eq!(r.bytes, text.len() as u64);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
    // a broken snapshot is an error and the file stays as it was
    std::fs::write(&file, b"{\"snapshot\":").unwrap();
    assert!(redact_file(&file, 3).is_err());
    assert_eq!(std::fs::read(&file).unwrap(), b"{\"snapshot\":");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn redact_into_writes_a_new_name_and_leaves_the_source() {
    let dir = std::env::temp_dir().join(format!("leakprobe-redact-into-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(".a.heapsnapshot.tmp");
    std::fs::write(&src, SNAP).unwrap();
    let (out, r) = redact_into(&src, &dir, "a.heapsnapshot", 3).unwrap();
    assert_eq!((out.clone(), r.strings), (dir.join("a.heapsnapshot"), 1));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("hunter2") && text.contains("<redacted>"));
    assert_eq!(std::fs::read_to_string(&src).unwrap(), SNAP, "the source stays");
    // the name exists now: refused, nothing written
    assert!(redact_into(&src, &dir, "a.heapsnapshot", 3).is_err());
    // a source that is not a snapshot: an error, and no copy under any name
    std::fs::write(&src, b"{\"snapshot\":").unwrap();
    assert!(redact_into(&src, &dir, "b.heapsnapshot", 3).is_err());
    let mut names: Vec<_> = std::fs::read_dir(&dir)
      .unwrap()
      .map(|e| e.unwrap().file_name().into_string().unwrap())
      .collect();
    names.sort();
    assert_eq!(names, vec![".a.heapsnapshot.tmp", "a.heapsnapshot"]);
    std::fs::remove_dir_all(&dir).unwrap();
  }
}
