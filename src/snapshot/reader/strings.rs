//! The "strings" array, which comes last: the string table, bounded by the nodes and edges.
use super::super::error::SnapshotError;
use super::super::model::StringTable;
use super::super::scanner::{Cap, Res, Scanner};
use std::io::Read;

/// A string in "strings": V8 cuts the names it stores at `--heap-snapshot-string-limit` UTF-16
/// units, 1024 by default (`StringsStorage::GetName`, `GetSymbol`): at most 3 KiB of UTF-8.
/// 1 MiB leaves room for the flag raised some 300-fold.
const STRING_CAP: Cap = Cap {
  max: 1 << 20,
  why: "V8 cuts the names in a snapshot at 1024 characters (--heap-snapshot-string-limit); \
        the file is damaged or not a heap snapshot",
};

/// The strings: V8 writes the names its nodes, edges and traced functions use, each once. At
/// most one per node and edge, and this many more (2 per traced function); of at most
/// `STRING_BYTES_PER_NAME` bytes each on average, and `STRING_BYTES_FLOOR` in all whatever the
/// counts (the default cut: at most 3 KiB each, and a little more with a prefix: "<symbol …>").
const STRINGS_SLACK: u64 = 1 << 20;
const STRING_BYTES_PER_NAME: u64 = 4 << 10;
const STRING_BYTES_FLOOR: u64 = 64 << 20;

/// The string table, for `names` nodes and edges (what bounds it: `STRINGS_SLACK`, …).
pub(super) fn read_strings<R: Read>(sc: &mut Scanner<R>, t: &mut StringTable, names: u64) -> Res<()> {
  *t = StringTable::default();
  t.offsets.push(0);
  sc.expect(b'[', "to open \"strings\"")?;
  if sc.peek_ws()? == Some(b']') {
    sc.bump();
    return Ok(());
  }
  let max_count = names + STRINGS_SLACK;
  let max_bytes = STRING_BYTES_FLOOR + names * STRING_BYTES_PER_NAME;
  loop {
    let at = sc.string_into(&mut t.data, "in \"strings\"", &STRING_CAP)?;
    t.offsets.push(t.data.len() as u64);
    if t.offsets.len() as u64 > max_count + 1 {
      return Err(SnapshotError::at(
        at,
        format!(
          "more strings than {names} nodes and edges can name ({max_count}): V8 writes each name \
           once; the file is damaged or not a heap snapshot"
        ),
      ));
    }
    if t.data.len() as u64 > max_bytes {
      return Err(SnapshotError::at(
        at,
        format!(
          "the strings hold more than {max_bytes} bytes, more than names of {names} nodes and \
           edges can (V8 cuts each at 1024 characters); the file is damaged or not a heap snapshot"
        ),
      ));
    }
    match sc.peek_ws()? {
      Some(b',') => sc.bump(),
      Some(b']') => {
        sc.bump();
        // grown by doubling: give back the slack (up to half of what they hold)
        t.data.shrink_to_fit();
        t.offsets.shrink_to_fit();
        return Ok(());
      }
      _ => {
        let f = sc.found()?;
        return sc.err(format!("expected ',' or ']' in \"strings\", found {f}"));
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::super::read_snapshot;
  use super::super::tests::*;

  #[test]
  fn lone_surrogates_become_replacement_chars() {
    let s = read_snapshot(TINY.replace(r"s\u00e9\ud83d\ude00", r"\ud800x\udc00").as_bytes()).unwrap();
    assert_eq!(s.node_name_str(2), "\u{FFFD}x\u{FFFD}");
  }

  #[test]
  fn a_string_in_strings_is_capped_at_its_quote() {
    let before = TINY.replace(r#""back"]}"#, r#""back",""#);
    let (e, mib) = bomb_err(Bomb::endless(&before, "a"));
    assert!(
      e.message
        .contains("a string in \"strings\" is longer than 1048576 bytes")
        && e.message.contains("--heap-snapshot-string-limit"),
      "{e}"
    );
    assert_eq!(e.offset, Some(before.len() as u64 - 1));
    assert!(mib <= 3, "read {mib} MiB");
    // escapes count as what they stand for, and are capped all the same
    let (e, mib) = bomb_err(Bomb::endless(&before, r"\n\u00e9"));
    assert!(e.message.contains("longer than"), "{e}");
    assert_eq!(e.offset, Some(before.len() as u64 - 1));
    assert!(mib <= 6, "read {mib} MiB");
    // as long as V8 writes (1024 characters of 3 bytes, escaped: 6 KB of text) and more: read
    let long = TINY.replace(r#""back""#, &format!(r#""{}""#, r"\u4e2d".repeat(100_000)));
    assert_eq!(
      read_snapshot(long.as_bytes()).unwrap().strings.get(5).len(),
      300_000
    );
  }

  #[test]
  fn the_strings_are_bounded_by_the_nodes_and_edges() {
    // 3 nodes and 3 edges: up to 6 + 2^20 strings of up to 64 MiB + 6 × 4 KiB in all
    let before = TINY.replace(r#""back"]}"#, r#""back","#);
    let (e, mib) = bomb_err(Bomb::endless(&before, "\"\","));
    assert!(
      e.message
        .contains("more strings than 6 nodes and edges can name (1048582)"),
      "{e}"
    );
    assert_eq!(e.offset, Some(before.len() as u64 + 3 * (1048582 - 6)));
    assert!(mib <= 4, "read {mib} MiB");
    let one = format!("\"{}\",", "a".repeat(1 << 20));
    let (e, mib) = bomb_err(Bomb::endless(&before, &one));
    assert!(
      e.message
        .contains("the strings hold more than 67133440 bytes, more than names of 6 nodes and edges"),
      "{e}"
    );
    assert_eq!(e.offset, Some(before.len() as u64 + 64 * one.len() as u64));
    assert!(mib <= 66, "read {mib} MiB");
    // many strings, as a big snapshot has: read
    let ok = TINY.replace(r#""back"]"#, &format!(r#""back"{}]"#, ",\"\"".repeat(1 << 19)));
    assert_eq!(read_snapshot(ok.as_bytes()).unwrap().strings.len(), 6 + (1 << 19));
  }
}
