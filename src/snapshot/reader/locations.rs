//! The "locations" array: each function's source location, its sites kept once.
use super::super::error::SnapshotError;
use super::super::model::{HeapSnapshot, Location};
use super::super::parallel_array::{read_uint_columns, Columns};
use super::super::scanner::{Res, Scanner};
use super::header::Layout;
use super::skip;
use foldhash::{HashMap, HashMapExt};
use std::io::Read;

#[derive(Default)]
struct LocationCols {
  rows: Vec<(u32, Location)>,
}

impl Columns for LocationCols {
  fn clear(&mut self) {
    self.rows.clear();
  }
}

/// Where each location field is in a record (from the meta), and the nodes they point to.
#[derive(Clone, Copy)]
struct LocationFields {
  width: usize,
  object: usize,
  script: usize,
  line: usize,
  column: usize,
  node_width: u64,
  nodes: u64,
}

impl LocationFields {
  /// None: a layout leakprobe does not know.
  fn of(l: &Layout, s: &HeapSnapshot) -> Option<LocationFields> {
    let f = &l.location_fields;
    let pos = |name: &str| f.iter().position(|x| x == name);
    Some(LocationFields {
      width: f.len(),
      object: pos("object_index")?,
      script: pos("script_id")?,
      line: pos("line")?,
      column: pos("column")?,
      node_width: l.node_roles.len() as u64,
      nodes: s.node_count() as u64,
    })
  }

  /// Checks whole records (`first`: the index of the first) and converts them into `c`.
  fn convert(self, vals: &[u64], at: &dyn Fn(usize) -> u64, first: u64, c: &mut LocationCols) -> Res<()> {
    let LocationFields {
      width,
      object: oi,
      script: si,
      line: li,
      column: ci,
      node_width,
      nodes,
    } = self;
    // V8 writes a location for a node (a function) at most once
    if first + (vals.len() / width) as u64 > nodes {
      let r = nodes.saturating_sub(first) as usize;
      return Err(SnapshotError::at(
        at(r * width),
        format!("more locations than the {nodes} nodes: V8 writes at most one per node"),
      ));
    }
    for (r, rec) in vals.chunks_exact(width).enumerate() {
      if rec[oi] % node_width != 0 {
        return Err(SnapshotError::at(
          at(r * width + oi),
          format!("location object_index {} is not a node offset", rec[oi]),
        ));
      }
      if rec[oi] / node_width >= nodes {
        return Err(SnapshotError::at(
          at(r * width + oi),
          format!(
            "location object_index {} points to node {}, past the {nodes} nodes",
            rec[oi],
            rec[oi] / node_width
          ),
        ));
      }
      let c32 = |x: u64| x.min(u32::MAX as u64) as u32;
      c.rows.push((
        (rec[oi] / node_width) as u32,
        Location {
          script_id: c32(rec[si]),
          line: c32(rec[li]),
          column: c32(rec[ci]),
        },
      ));
    }
    Ok(())
  }
}

pub(super) fn read_locations<R: Read>(sc: &mut Scanner<R>, l: &Layout, s: &mut HeapSnapshot) -> Res<()> {
  let Some(f) = LocationFields::of(l, s) else {
    // Unknown layout: locations only refine class grouping, so skip rather than fail.
    return skip(sc, "in \"locations\"");
  };
  // parsed on the parser threads like nodes and edges (a generated 242 MB snapshot has 19 MB of
  // them); sites are numbered here, in order
  let convert = |vals: &[u64], at: &dyn Fn(usize) -> u64, first: u64, c: &mut LocationCols| -> Res<()> {
    f.convert(vals, at, first, c)
  };
  let mut sites = Sites {
    out: &mut s.locations,
    sites: &mut s.location_sites,
    site_of: HashMap::new(),
    last: None,
  };
  let append = |c: &LocationCols, _: &[u64], _: &dyn Fn(usize) -> u64| {
    sites.add(&c.rows);
    Ok(())
  };
  let (_, tail, _) = read_uint_columns(sc, "in \"locations\"", f.width, &convert, append)?;
  if tail != 0 {
    return sc.err(format!(
      "the \"locations\" array ends mid-record: its length is not a multiple of {}",
      f.width
    ));
  }
  s.locations.shrink_to_fit();
  // sorted by node: V8 writes them in runs of descending nodes
  if !s.locations.is_sorted_by_key(|(n, _)| *n) {
    sort_by_node(&mut s.locations);
  }
  Ok(())
}

/// The locations as they come, each site numbered once (`HeapSnapshot::location_sites`).
struct Sites<'a> {
  out: &'a mut Vec<(u32, u32)>,
  sites: &'a mut Vec<Location>,
  site_of: HashMap<Location, u32>,
  /// the last site and its number
  last: Option<(Location, u32)>,
}

impl Sites<'_> {
  fn add(&mut self, rows: &[(u32, Location)]) {
    for &(node, at) in rows {
      // neighbours often share a site: no hash for those
      let site = match self.last {
        Some((l, site)) if l == at => site,
        _ => *self.site_of.entry(at).or_insert_with(|| {
          self.sites.push(at);
          (self.sites.len() - 1) as u32
        }),
      };
      self.last = Some((at, site));
      self.out.push((node, site));
    }
  }
}

/// A stable sort on the node, in two passes of 16 bits (a radix sort; the comparison sort it
/// replaced took 22–36 ms of the parse's reading thread at 242 MB, this one 18–21).
fn sort_by_node(v: &mut Vec<(u32, u32)>) {
  let mut tmp = vec![(0u32, 0u32); v.len()];
  for shift in [0, 16] {
    let mut start = vec![0usize; (1 << 16) + 1];
    for &(n, _) in v.iter() {
      start[((n >> shift) & 0xffff) as usize + 1] += 1;
    }
    for i in 1..start.len() {
      start[i] += start[i - 1];
    }
    for &x in v.iter() {
      let slot = &mut start[((x.0 >> shift) & 0xffff) as usize];
      tmp[*slot] = x;
      *slot += 1;
    }
    std::mem::swap(v, &mut tmp);
  }
}

#[cfg(test)]
mod tests {
  use super::super::read_snapshot;
  use super::super::tests::*;
  use super::*;

  #[test]
  fn locations_share_sites_come_sorted_and_are_checked() {
    let s = read_snapshot(
      TINY
        .replace("[6,7,8,9]", "[6,7,8,9, 12,7,8,9, 0,1,2,3]")
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(s.locations, vec![(0, 1), (1, 0), (2, 0)]);
    assert_eq!(
      s.location_sites,
      vec![
        Location {
          script_id: 7,
          line: 8,
          column: 9
        },
        Location {
          script_id: 1,
          line: 2,
          column: 3
        }
      ]
    );
    let text = TINY.replace("[6,7,8,9]", "[6,7,8,9,7,7,8,9]");
    let e = read_snapshot(text.as_bytes()).unwrap_err();
    assert!(
      e.message.contains("location object_index 7 is not a node offset"),
      "{}",
      e.message
    );
    assert_eq!(e.offset, Some(text.find("9,7,7,8,9]").unwrap() as u64 + 2));
    let e = read_snapshot(TINY.replace("[6,7,8,9]", "[6,7,8,9,6,7]").as_bytes()).unwrap_err();
    assert!(
      e.message.contains("\"locations\" array ends mid-record"),
      "{}",
      e.message
    );
  }

  #[test]
  fn locations_sort_by_node_stably() {
    // keys across both radix digits, repeats in file order, descending runs as V8 writes them
    let mut v: Vec<(u32, u32)> = (0..50_000u32)
      .map(|i| ((i.wrapping_mul(2_654_435_761) % 300_000) / 3 * 3, i))
      .collect();
    v.extend((0..1000u32).rev().map(|i| (i * 70_001, 7)));
    let mut want = v.clone();
    want.sort_by_key(|x| x.0);
    sort_by_node(&mut v);
    assert_eq!(v, want);
  }

  #[test]
  fn locations_are_at_most_one_per_node() {
    // a 4th location for 3 nodes (the same node twice is allowed: only the count is V8's rule)
    let t = TINY.replace("[6,7,8,9]", "[6,7,8,9, 0,1,1,1, 12,1,1,1, 6,1,1,1]");
    let e = err_of(&t);
    assert!(
      e.message
        .contains("more locations than the 3 nodes: V8 writes at most one per node"),
      "{e}"
    );
    assert_eq!(e.offset, Some(t.find("6,1,1,1]").unwrap() as u64));
    let (e, mib) = bomb_err(Bomb::endless(&TINY[..TINY.find("[6,7,8,9]").unwrap() + 1], "0,"));
    assert!(e.message.contains("more locations than the 3 nodes"), "{e}");
    assert!(mib <= 8, "read {mib} MiB");
  }
}
