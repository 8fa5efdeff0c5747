//! The snapshot's columns the dominator pass never reads — edge names, node ids, node names,
//! strings, locations — set aside on a `Spill` for that pass and put back after it.
use crate::snapshot::HeapSnapshot;
use crate::spill::{Spill, Spilled};
use std::io;

pub struct NameColumns {
  edge_names: Spilled<u16>,
  edge_escaped: Spilled<(u32, u32)>,
  /// None once `restore_ids` brought them back
  node_id: Option<Spilled<u32>>,
  node_name: Spilled<u32>,
  string_data: Spilled<u8>,
  string_offsets: Spilled<u64>,
  locations: Spilled<(u32, u32)>,
  /// the self sizes' 4-byte column (`Sizes::take_small`), when it went too (`park_sizes`); None
  /// once `restore_ids` brought it back
  self_sizes: Option<Spilled<u32>>,
}

/// The same columns but the node ids (which go first, on their own), out of the snapshot and
/// not yet spilled.
pub struct TakenNames {
  edge_names: Vec<u16>,
  edge_escaped: Vec<(u32, u32)>,
  node_name: Vec<u32>,
  string_data: Vec<u8>,
  string_offsets: Vec<u64>,
  locations: Vec<(u32, u32)>,
}

impl TakenNames {
  /// Takes the columns out of `s` (the ids must be out already): nothing may read names, ids,
  /// strings or locations until `restore`.
  pub fn take_from(s: &mut HeapSnapshot) -> TakenNames {
    TakenNames {
      edge_names: s.edge_names.take_column(),
      edge_escaped: s.edge_names.take_escaped(),
      node_name: std::mem::take(&mut s.node_name),
      string_data: std::mem::take(&mut s.strings.data).into_bytes(),
      string_offsets: std::mem::take(&mut s.strings.offsets),
      locations: std::mem::take(&mut s.locations),
    }
  }

  /// What `take_from(s)` would take with the ids, in bytes.
  pub fn bytes_in(s: &HeapSnapshot) -> usize {
    s.edge_names.len() * 2
      + s.edge_names.escaped_len() * 8
      + (s.node_id.len() + s.node_name.len()) * 4
      + s.strings.data.len()
      + s.strings.offsets.len() * 8
      + s.locations.len() * 8
  }

  /// Puts them on the two spills (edge names on `a`, the rest on `b`), on this thread and
  /// another at once: the caller waits on the writes, as its next step needs the memory.
  /// `node_id`: the ids, spilled before (`Spill::put`).
  pub fn spill(self, node_id: Spilled<u32>, mut a: Spill, mut b: Spill) -> NameColumns {
    let TakenNames {
      edge_names,
      edge_escaped,
      node_name,
      string_data,
      string_offsets,
      locations,
    } = self;
    let rest = move || {
      (
        b.put(node_name),
        b.put(string_data),
        b.put(string_offsets),
        b.put(locations),
      )
    };
    let ((edge_names, edge_escaped), (node_name, string_data, string_offsets, locations)) =
      both(move || (a.put(edge_names), a.put(edge_escaped)), rest);
    NameColumns {
      edge_names,
      edge_escaped,
      node_id: Some(node_id),
      node_name,
      string_data,
      string_offsets,
      locations,
      self_sizes: None,
    }
  }
}

pub(super) fn lost(e: io::Error) -> io::Error {
  io::Error::new(
    e.kind(),
    format!("cannot read back the analysis's temporary file: {e}"),
  )
}

impl NameColumns {
  /// Keeps the self sizes' column (taken from the snapshot's sizes) until `restore_ids`.
  pub fn park_sizes(&mut self, small: Spilled<u32>) {
    self.self_sizes = Some(small);
  }

  /// The parked self sizes' column, for a copy.
  pub fn parked_sizes(&self) -> Option<&Spilled<u32>> {
    self.self_sizes.as_ref()
  }

  /// Puts the node ids and self sizes alone back into `s` (what a report's selection reads),
  /// before the rest (`restore`).
  pub fn restore_ids(&mut self, s: &mut HeapSnapshot) -> io::Result<()> {
    if let Some(ids) = self.node_id.take() {
      s.node_id = ids.take().map_err(lost)?;
    }
    if let Some(small) = self.self_sizes.take() {
      s.node_self_size.put_small(small.take().map_err(lost)?);
    }
    Ok(())
  }

  /// Puts the columns back into `s`. An error means the temporary file failed us (its disk,
  /// mostly): the snapshot is then incomplete and must be dropped.
  pub fn restore(mut self, s: &mut HeapSnapshot) -> io::Result<()> {
    if self.self_sizes.is_some() {
      self.restore_ids(s)?;
    }
    let NameColumns {
      edge_names,
      edge_escaped,
      node_id,
      node_name,
      string_data,
      string_offsets,
      locations,
      self_sizes: _,
    } = self;
    // two threads read at once, as two wrote
    let rest = move || {
      Ok::<_, io::Error>((
        node_id.map(Spilled::take).transpose()?,
        node_name.take()?,
        string_data.take()?,
        string_offsets.take()?,
      ))
    };
    let (first, rest) = both(
      move || Ok::<_, io::Error>((edge_names.take()?, edge_escaped.take()?, locations.take()?)),
      rest,
    );
    let (node_id, node_name, string_data, string_offsets) = rest.map_err(lost)?;
    let (edge_names, edge_escaped, locations) = first.map_err(lost)?;
    s.edge_names.put_column(edge_names);
    s.edge_names.put_escaped(edge_escaped);
    s.locations = locations;
    if let Some(ids) = node_id {
      s.node_id = ids;
    }
    s.node_name = node_name;
    s.strings.data = String::from_utf8(string_data).map_err(|_| {
      io::Error::new(
        io::ErrorKind::InvalidData,
        "the analysis's temporary file gave back garbled strings",
      )
    })?;
    s.strings.offsets = string_offsets;
    Ok(())
  }
}

/// `a()` here and `b()` on another thread at once; both here, one after the other, when no
/// thread can be had (the closures own the columns: they must run, not be dropped).
fn both<A, B: Send>(a: impl FnOnce() -> A, b: impl FnOnce() -> B + Send) -> (A, B) {
  let mut b = Some(b);
  let slot = &mut b;
  let (x, y) = std::thread::scope(|scope| {
    let other = std::thread::Builder::new().spawn_scoped(scope, move || slot.take().map(|b| b()));
    let x = a();
    let y = other
      .ok()
      .and_then(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
    (x, y)
  });
  match (y, b.take()) {
    (Some(y), _) => (x, y),
    (None, Some(b)) => (x, b()), // the thread did not start: `b` is still here
    (None, None) => unreachable!("b ran on the other thread, which returned its result"),
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::spill::Spilled;

  #[test]
  fn names_go_to_disk_and_come_back_whole() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut s =
      crate::snapshot::read_snapshot_path(&root.join("__test__/fixtures/small.heapsnapshot.gz")).unwrap();
    // some values in the side list too (indices past the 2-byte codes)
    let raw: Vec<u32> = (0..s.edge_count() as u32)
      .map(|e| if e % 3 == 0 { 70_000 + e } else { e % 500 })
      .collect();
    s.edge_names = crate::snapshot::edge_names::EdgeNames::compact(&raw, |_| false);
    let before = s.clone();
    assert!(!before.locations.is_empty() && before.edge_names.escaped_len() > 0);
    let dir = root.join("target");
    let mut a = Spill::in_dir(&dir);
    let ids = a.put(std::mem::take(&mut s.node_id));
    let taken = TakenNames::take_from(&mut s);
    assert!(
      s.node_id.is_empty()
        && s.node_name.is_empty()
        && s.strings.data.is_empty()
        && s.edge_names.is_empty()
        && s.edge_names.escaped_len() == 0
        && s.locations.is_empty()
    );
    let cols = taken.spill(ids, a, Spill::in_dir(&dir));
    assert!(
      matches!(cols.edge_names, Spilled::File { .. })
        && matches!(cols.string_data, Spilled::File { .. })
        && matches!(cols.locations, Spilled::File { .. })
    );
    cols.restore(&mut s).unwrap();
    assert!(
      s.node_id == before.node_id
        && s.node_name == before.node_name
        && s.edge_names == before.edge_names
        && s.locations == before.locations
    );
    // the ids first, then the rest
    let mut a = Spill::in_dir(&dir);
    let ids = a.put(std::mem::take(&mut s.node_id));
    let mut cols = TakenNames::take_from(&mut s).spill(ids, a, Spill::in_dir(&dir));
    let mut b = Spill::in_dir(&dir);
    cols.park_sizes(b.put(s.node_self_size.take_small()));
    assert!(s.node_self_size.is_empty());
    assert_eq!(
      cols.parked_sizes().unwrap().copy().unwrap().len(),
      before.node_count()
    );
    cols.restore_ids(&mut s).unwrap();
    assert!(
      s.node_id == before.node_id
        && s.node_self_size == before.node_self_size
        && s.node_name.is_empty()
        && s.edge_names.is_empty()
    );
    cols.restore(&mut s).unwrap();
    assert!(
      s.node_id == before.node_id && s.node_name == before.node_name && s.edge_names == before.edge_names
    );
    assert!(
      s.strings.data == before.strings.data
        && s.strings.offsets == before.strings.offsets
        && s.locations == before.locations
    );
  }
}
