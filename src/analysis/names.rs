//! Names as DevTools shows them: class names (`calculateObjectNames`), node names (joined cons
//! strings, `{a, b, …}` for plain objects), and the JS string rules they depend on.
use crate::graph::Kinds;
use crate::snapshot::HeapSnapshot;
use std::cmp::Ordering;

/// JS string length: UTF-16 code units.
pub fn js_len(s: &str) -> usize {
  s.chars().map(char::len_utf16).sum()
}

/// JS string comparison (`<`, `sort()`): by UTF-16 code units.
pub fn js_cmp(a: &str, b: &str) -> Ordering {
  if a.is_ascii() && b.is_ascii() {
    return a.cmp(b);
  }
  a.encode_utf16().cmp(b.encode_utf16())
}

/// `JSON.stringify(s)`, as DevTools uses it to quote awkward property names.
fn json_quote(s: &str) -> String {
  let mut out = String::with_capacity(s.len() + 2);
  out.push('"');
  for c in s.chars() {
    match c {
      '"' => out.push_str("\\\""),
      '\\' => out.push_str("\\\\"),
      '\u{8}' => out.push_str("\\b"),
      '\u{c}' => out.push_str("\\f"),
      '\n' => out.push_str("\\n"),
      '\r' => out.push_str("\\r"),
      '\t' => out.push_str("\\t"),
      c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
      c => out.push(c),
    }
  }
  out.push('"');
  out
}

/// `JSHeapSnapshotNode.formatPropertyName`
pub fn format_property_name(name: &str) -> String {
  if name.contains([',', '\'', '"', '{', '}']) {
    json_quote(name)
  } else {
    name.to_string()
  }
}

/// The class name of a node before plain objects are regrouped by shape.
pub fn base_class_name<'a>(s: &'a HeapSnapshot, k: &Kinds, node: u32) -> std::borrow::Cow<'a, str> {
  use std::borrow::Cow;
  let t = s.node_type[node as usize];
  if t == k.hidden {
    Cow::Borrowed("(system)")
  } else if t == k.object || t == k.native {
    let name = s.node_name_str(node);
    if name.starts_with('<') {
      match name.find(' ') {
        Some(sp) => Cow::Owned(format!("{}>", &name[..sp])),
        None => Cow::Borrowed(name),
      }
    } else if let Some(rest) = name.strip_prefix("Detached <") {
      match rest.find(' ') {
        Some(sp) => Cow::Owned(format!("Detached <{}>", &rest[..sp])),
        None => Cow::Borrowed(name),
      }
    } else {
      Cow::Borrowed(name)
    }
  } else if t == k.code {
    Cow::Borrowed("(compiled code)")
  } else if t == k.closure {
    Cow::Borrowed("Function")
  } else if t == k.regexp {
    Cow::Borrowed("RegExp")
  } else {
    Cow::Owned(format!("({})", s.node_type_name(node)))
  }
}

pub fn is_plain_object(s: &HeapSnapshot, k: &Kinds, node: u32) -> bool {
  s.node_type[node as usize] == k.object && s.node_name_str(node) == "Object"
}

/// The node's name as DevTools shows it (`JSHeapSnapshotNode.name()`).
pub fn display_name(s: &HeapSnapshot, k: &Kinds, node: u32) -> String {
  let t = s.node_type[node as usize];
  if t == k.cons_string {
    return cons_string_name(s, k, node);
  }
  if is_plain_object(s, k, node) {
    return plain_object_name(s, k, node);
  }
  s.node_name_str(node).to_string()
}

/// A cons string's text: its `first`/`second` parts joined, up to about 1024 characters.
fn cons_string_name(s: &HeapSnapshot, k: &Kinds, node: u32) -> String {
  let mut stack = vec![node];
  let mut name = String::new();
  let mut len = 0usize;
  while let Some(v) = stack.pop() {
    if len >= 1024 {
      break;
    }
    if s.node_type[v as usize] != k.cons_string {
      let part = s.node_name_str(v);
      len += js_len(part);
      name.push_str(part);
      continue;
    }
    let (mut first, mut second) = (0u32, 0u32);
    for e in s.edges_of(v) {
      if first != 0 && second != 0 {
        break;
      }
      if s.edge_type(e) == k.e_internal {
        match s.strings.get(s.edge_name_or_index(e)) {
          "first" => first = s.edge_to(e),
          "second" => second = s.edge_to(e),
          _ => {}
        }
      }
    }
    stack.push(second);
    stack.push(first);
  }
  name
}

/// `{a, b, …, y, z}`: property names from both ends, up to about 100 characters.
fn plain_object_name(s: &HeapSnapshot, k: &Kinds, node: u32) -> String {
  let range = s.edges_of(node);
  if range.is_empty() {
    return "{}".into();
  }
  let (mut start, mut end) = (range.start as i64, range.end as i64 - 1);
  let mut head = String::from("{");
  let mut tail = String::from("}");
  let (mut head_len, mut tail_len) = (1usize, 1usize);
  let mut from_end = false;
  while start <= end {
    let e = if from_end { end } else { start } as usize;
    let is_prop = s.edge_type(e) == k.e_property;
    let name = if is_prop {
      s.strings.get(s.edge_name_or_index(e))
    } else {
      ""
    };
    if !is_prop || name == "__proto__" {
      if from_end {
        end -= 1;
      } else {
        start += 1;
      }
      continue;
    }
    let formatted = format_property_name(name);
    let flen = js_len(&formatted);
    if head_len > 1 && head_len + tail_len + flen > 100 {
      break;
    }
    if from_end {
      end -= 1;
      if tail_len > 1 {
        tail = format!(", {tail}");
        tail_len += 2;
      }
      tail = format!("{formatted}{tail}");
      tail_len += flen;
    } else {
      start += 1;
      if head_len > 1 {
        head.push_str(", ");
        head_len += 2;
      }
      head.push_str(&formatted);
      head_len += flen;
    }
    from_end = !from_end;
  }
  if start <= end {
    head.push_str(", …");
  }
  if tail_len > 1 {
    head.push_str(", ");
  }
  head + &tail
}
