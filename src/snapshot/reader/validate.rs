//! The checks that can only be made once the strings are in.
use super::super::error::SnapshotError;
use super::super::model::{HeapSnapshot, IndexEdgeTypes};
use super::super::parallel_array::Kept;
use super::super::scanner::Res;
use super::header::{Layout, Role};

/// The checks that wait for the strings (which come last): the names of nodes and edges. What
/// they are checked against is in the records kept with the largest name (`Kept`): the culprit
/// is named with its offset, with no pass over the columns (and only when there is one).
pub(super) fn validate(s: &HeapSnapshot, l: &Layout, node_names: &Kept, edge_names: &Kept) -> Res<()> {
  let strings = s.strings.len() as u64;
  let field = |roles: &[Role], role: Role| roles.iter().position(|r| *r == role).unwrap_or(0);
  // the key is the largest name + 1
  let past = |key: u64| key > strings;
  if past(node_names.key) {
    let (ni, n) = (field(&l.node_roles, Role::Name), node_names.key - 1);
    if let Some((i, at)) = node_names.find(l.node_roles.len(), ni, |rec| rec[ni] == n) {
      return Err(SnapshotError::at(
        at,
        format!("node {i} has name string {n}, past the {strings} strings"),
      ));
    }
  }
  if past(edge_names.key) {
    let index_types = IndexEdgeTypes::of(&s.edge_type_names);
    let (ti, ni) = (field(&l.edge_roles, Role::Type), field(&l.edge_roles, Role::Name));
    let n = edge_names.key - 1;
    let named = |rec: &[u64]| index_types.names_string(rec[ti] as usize);
    if let Some((i, at)) = edge_names.find(l.edge_roles.len(), ni, |rec| named(rec) && rec[ni] == n) {
      return Err(SnapshotError::at(
        at,
        format!("edge {i} has name string {n}, past the {strings} strings"),
      ));
    }
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::super::tests::*;

  #[test]
  fn names_past_the_strings_are_found_wherever_the_chunks_cut() {
    // 200 000 nodes (~5 chunks), one named past the strings: its value's offset, exactly, for
    // each place (in a chunk, at its start or end, or across two)
    let n = 200_000;
    let rec = "3,1,3,16,0,0,\n";
    for k in [3, 4, 5, 40_000, 43_690, 43_691, 87_381, 131_071, 174_762, 199_999] {
      let mut nodes = String::from("0,0,1,0,0,0,\n");
      for i in 1..n {
        nodes.push_str(if i == k { "3,77,3,16,0,0,\n" } else { rec });
      }
      let t = TINY
        .replace("\"node_count\":3", &format!("\"node_count\":{n}"))
        .replace(",\"edge_count\":3", "")
        .replace(
          "0,0,1,0,1,0,\n3,1,3,16,1,0,\n2,2,5,24,1,0",
          nodes.trim_end_matches(",\n"),
        )
        .replace("[2,3,6,\n2,4,12,\n6,5,6]", "[]")
        .replace("[6,7,8,9]", "[]");
      let (at, m) = where_what(&t);
      assert_eq!(at, nth(&t, ",77,", 0, 1), "node {k}: {m}");
      assert!(
        m.contains(&format!("node {k} has name string 77, past the 6 strings")),
        "{m}"
      );
    }
  }
}
