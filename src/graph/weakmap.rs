//! V8 names the two edges of a WeakMap entry (table → value, key → value) like
//! `12 / part of key (Object @1) -> value (Object @3) pair in WeakMap (table @5)`.
//! DevTools parses them with a regex; this is that regex by hand:
//! `^\d+( / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(\d+)\))$`
//! where `.` does not match line terminators.

pub struct EphemeronName<'a> {
  /// everything after the leading digits: equal for the two edges of one entry
  pub duplicated_part: &'a str,
  pub table_id: u64,
}

fn is_line_terminator(c: char) -> bool {
  matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// `… @digits` at the end of `s` (a `.*?` then ` @\d+`)
fn ends_with_at_digits(s: &str) -> bool {
  let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
  digits > 0 && s[..s.len() - digits].ends_with(" @")
}

pub fn parse(name: &str) -> Option<EphemeronName<'_>> {
  let lead = name.bytes().take_while(u8::is_ascii_digit).count();
  if lead == 0 {
    return None;
  }
  let rest = &name[lead..];
  if rest.chars().any(is_line_terminator) {
    return None;
  }
  let middle = rest.strip_prefix(" / part of key (")?.strip_suffix(')')?;
  let tail_digits = middle.bytes().rev().take_while(u8::is_ascii_digit).count();
  if tail_digits == 0 {
    return None;
  }
  let table_id = middle[middle.len() - tail_digits..].parse().ok()?;
  let kv = middle[..middle.len() - tail_digits].strip_suffix(") pair in WeakMap (table @")?;
  // kv = `KEY @n) -> value (VALUE @m`: some split at ") -> value (" must fit both sides
  let sep = ") -> value (";
  let fits = kv
    .match_indices(sep)
    .any(|(i, _)| ends_with_at_digits(&kv[..i]) && ends_with_at_digits(&kv[i + sep.len()..]));
  if !fits {
    return None;
  }
  Some(EphemeronName {
    duplicated_part: rest,
    table_id,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn parses_v8_ephemeron_names() {
    let n =
      parse("7 / part of key (Object @1234) -> value (Leaky @5678) pair in WeakMap (table @91011)").unwrap();
    assert_eq!(n.table_id, 91011);
    assert_eq!(
      n.duplicated_part,
      " / part of key (Object @1234) -> value (Leaky @5678) pair in WeakMap (table @91011)"
    );
    // names with parentheses and " @" inside still parse (the lazy `.*?`)
    assert!(
      parse("1 / part of key (a) -> value (b @1) @2) -> value (c @3) pair in WeakMap (table @4)").is_some()
    );
    for bad in [
      "part of key (a @1) -> value (b @2) pair in WeakMap (table @3)",
      "1 / part of key (a @1) -> value (b @2) pair in WeakMap (table @x)",
      "1 / part of key (a @) -> value (b @2) pair in WeakMap (table @3)",
      "1 / part of key (a\n @1) -> value (b @2) pair in WeakMap (table @3)",
      "elements",
    ] {
      assert!(parse(bad).is_none(), "{bad}");
    }
  }
}
