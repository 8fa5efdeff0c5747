//! The big integer arrays (`nodes`, `edges`, `locations`: nearly all of a snapshot's bytes)
//! parsed on two worker threads while this thread reads (and gunzips) the input: the text is cut
//! into chunks after a ',', parsed side by side, and handed to the caller in order, in whole
//! records.
//! Only text crosses threads; the input stays here.
//!
//! Every error names its byte offset: a value that does not parse or that a converter refuses,
//! where it is; what the reading thread finds wrong with records in order (`append`), by the
//! offsets it is given; and a record found wrong only once a later section is read (a name past
//! the strings, which come last), by the chunk with the largest `Columns::key`, which is kept
//! (`Kept`).
use super::error::SnapshotError;
use super::int_blocks;
use super::scanner::{describe, swar_digits, ChunkEnd, Res, Scanner};
use crossbeam_channel::{bounded, unbounded};
use std::collections::BTreeMap;
use std::io::Read;

const CHUNK: usize = 512 << 10;
const IN_FLIGHT: u64 = 4;
const WORKERS: usize = 2;

/// Per-chunk output of the workers: the records' fields, already split into columns.
pub trait Columns: Default + Send {
  fn clear(&mut self);
  /// What makes these records worth keeping (`Kept`): the largest string index they name, say,
  /// plus one. 0: nothing (the default).
  fn key(&self) -> u64 {
    0
  }
}

/// The records with the largest `Columns::key` (the first of them): a chunk's values and text,
/// or a record across two chunks, so that one of them can be named with its offset once what
/// it is checked against is read. Holds a chunk (~2 MB) at most; swapped, not copied, as the
/// key grows.
#[derive(Debug, Default)]
pub struct Kept {
  /// the largest key (0: nothing kept)
  pub key: u64,
  /// index in the array of the first record
  first: u64,
  /// the records' values are `vals[head..head + len]`
  vals: Vec<u64>,
  head: usize,
  len: usize,
  /// where they are: the text they were parsed from, starting at stream offset `base` (value
  /// `i` of `vals` is the `i`-th of the text); for a record across chunks (no text), `offs`
  text: Vec<u8>,
  base: u64,
  offs: Vec<u64>,
}

impl Kept {
  /// The first kept record (of `width` values) that `pred` holds for: its index in the array,
  /// and the stream offset of its value `field`.
  pub fn find(&self, width: usize, field: usize, pred: impl Fn(&[u64]) -> bool) -> Option<(u64, u64)> {
    let mut recs = self.vals[self.head..self.head + self.len].chunks_exact(width.max(1));
    let r = recs.position(pred)?;
    let i = r * width + field;
    let at = if self.text.is_empty() {
      self.offs[i]
    } else {
      self.base + value_start(&self.text, self.head + i) as u64
    };
    Some((self.first + r as u64, at))
  }
}

/// Converts whole records (`vals` holds a multiple of the width) into columns: `at(i)` is the
/// stream offset of value `i` (for messages), `first` the index of the first record in the array
/// (so a converter may write in place, at the records' own slots).
pub type Convert<'a, C> = dyn Fn(&[u64], &dyn Fn(usize) -> u64, u64, &mut C) -> Res<()> + Sync + 'a;

#[derive(Default)]
struct Buffers<C> {
  bytes: Vec<u8>,
  vals: Vec<u64>,
  /// stream offsets of the head values, then of the tail values (records that straddle chunks)
  edge_offs: Vec<u64>,
  cols: C,
}

struct Chunk<C> {
  seq: u64,
  /// stream offset of `bytes[0]`
  base: u64,
  /// values before this chunk's first whole record (the end of a record begun earlier)
  head: usize,
  /// the index in the array of that record
  first: u64,
  buf: Buffers<C>,
  /// index in `bytes` of the value that did not parse
  bad: Option<usize>,
  /// a record the converter refused
  refused: Option<SnapshotError>,
}

#[inline]
fn is_ws(b: u8) -> bool {
  matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// Parses `n,n,…,` or `n,…,n]` into values; on anything else, the index of the value where it
/// went wrong (the careful path then says what is wrong). Offsets are found again only when a
/// message needs one (`value_start`).
fn parse_chunk(bytes: &[u8], vals: &mut Vec<u64>) -> Option<usize> {
  vals.clear();
  // the usual text in bulk; `parse_rest` does the rest, and everything unusual
  let p = int_blocks::plain_prefix(bytes, vals);
  parse_rest(bytes, p, vals)
}

/// `parse_chunk` byte by byte from `p` (the start of a value, or blanks before one).
fn parse_rest(bytes: &[u8], mut p: usize, vals: &mut Vec<u64>) -> Option<usize> {
  let len = bytes.len();
  loop {
    while p < len && is_ws(bytes[p]) {
      p += 1;
    }
    if p == len {
      return None; // the chunk ended after a ','
    }
    let start = p;
    let mut v: u64 = 0;
    if p + 8 <= len {
      let (x, n) = swar_digits(&bytes[p..p + 8]);
      v = x;
      p += n;
    }
    if p - start == 8 || p + 8 > len {
      // long numbers, and the last few bytes of the chunk, digit by digit
      while p < len && bytes[p].is_ascii_digit() {
        v = match v
          .checked_mul(10)
          .and_then(|v| v.checked_add((bytes[p] - b'0') as u64))
        {
          Some(v) => v,
          None => return Some(start), // too large: the careful path says so
        };
        p += 1;
      }
    }
    if p == start || p == len || matches!(bytes[p], b'0'..=b'9' | b'.' | b'e' | b'E') {
      return Some(start);
    }
    while p < len && is_ws(bytes[p]) {
      p += 1;
    }
    match bytes.get(p) {
      Some(b',') => {}
      Some(b']') if p + 1 == len => {
        vals.push(v);
        return None;
      }
      _ => return Some(start),
    }
    vals.push(v);
    p += 1;
  }
}

/// Where value `i` of a chunk that parsed starts (for error messages: a scan from the start).
fn value_start(bytes: &[u8], i: usize) -> usize {
  let mut p = 0;
  let mut seen = 0;
  loop {
    while p < bytes.len() && is_ws(bytes[p]) {
      p += 1;
    }
    if seen == i || p >= bytes.len() {
      return p;
    }
    while p < bytes.len() && bytes[p] != b',' {
      p += 1;
    }
    p += 1;
    seen += 1;
  }
}

/// Where the last `k` values of a chunk that parsed start, in order (a scan from the end).
fn last_value_starts(bytes: &[u8], k: usize, out: &mut Vec<u64>, base: u64) {
  let mark = out.len();
  let mut p = bytes.len();
  if p > 0 && bytes[p - 1] == b']' {
    p -= 1;
  }
  for _ in 0..k {
    while p > 0 && (is_ws(bytes[p - 1]) || bytes[p - 1] == b',') {
      p -= 1;
    }
    while p > 0 && bytes[p - 1].is_ascii_digit() {
      p -= 1;
    }
    out.push(base + p as u64);
  }
  out[mark..].reverse();
}

/// What the sequential reader says about the text at `bytes` (a bad value, or what follows it).
fn careful_error(bytes: &[u8], base: u64, context: &str) -> SnapshotError {
  let mut sc = Scanner::at_offset(bytes, base);
  loop {
    if let Err(e) = sc.uint(context) {
      return e;
    }
    match sc.peek_ws() {
      Ok(Some(b',')) => sc.bump(),
      Ok(other) => {
        return SnapshotError::at(
          sc.offset(),
          format!("expected ',' or ']' {context}, found {}", describe(other)),
        )
      }
      Err(e) => return e,
    }
  }
}

/// A worker's part for one chunk: parse, then convert the whole records.
fn work<C: Columns>(c: &mut Chunk<C>, width: usize, convert: &Convert<'_, C>) {
  let b = &mut c.buf;
  c.bad = parse_chunk(&b.bytes, &mut b.vals);
  b.cols.clear();
  b.edge_offs.clear();
  let head = c.head.min(b.vals.len());
  let whole = (b.vals.len() - head) / width * width;
  if c.bad.is_none() {
    let (bytes, base) = (&b.bytes, c.base);
    b.edge_offs
      .extend((0..head).map(|i| base + value_start(bytes, i) as u64));
    last_value_starts(bytes, b.vals.len() - head - whole, &mut b.edge_offs, base);
    if whole > 0 {
      let at = |i: usize| base + value_start(bytes, head + i) as u64;
      c.refused = convert(&b.vals[head..head + whole], &at, c.first, &mut b.cols).err();
    }
  }
}

/// Reads an integer array (`[` … `]`) of records of `width` values. The workers parse the text
/// and `convert` whole records into columns (`C`); this thread hands each chunk's columns to
/// `append`, in order, converting records that straddle two chunks itself: with the records'
/// values and where each value is (its index among them → its stream offset; a scan of the
/// chunk's text: for messages only). Returns how many whole records there were, how many values
/// are left over past the last one (non-zero: the array ends mid-record), and the records with
/// the largest `Columns::key`.
pub fn read_uint_columns<R: Read, C: Columns>(
  sc: &mut Scanner<R>,
  context: &str,
  width: usize,
  convert: &Convert<'_, C>,
  mut append: impl FnMut(&C, &[u64], &dyn Fn(usize) -> u64) -> Res<()>,
) -> Res<(u64, usize, Kept)> {
  sc.expect(b'[', context)?;
  if sc.peek_ws()? == Some(b']') {
    sc.bump();
    return Ok((0, 0, Kept::default()));
  }
  let width = width.max(1);
  std::thread::scope(|scope| {
    let (job_tx, job_rx) = bounded::<Chunk<C>>(IN_FLIGHT as usize);
    let (done_tx, done_rx) = unbounded::<Chunk<C>>();
    for _ in 0..WORKERS {
      let (rx, tx) = (job_rx.clone(), done_tx.clone());
      let spawned = std::thread::Builder::new()
        .name("leakprobe-parse".into())
        .spawn_scoped(scope, move || worker(rx, tx, width, convert));
      if let Err(e) = spawned {
        return Err(SnapshotError::at(
          sc.offset(),
          format!("cannot start a parser thread: {e}"),
        ));
      }
    }
    drop((job_rx, done_tx));
    let mut order = InOrder::new(width);
    let out = order.run(sc, context, &job_tx, &done_rx, convert, &mut append);
    drop(job_tx); // the workers finish their last chunk and stop
    let values = out?;
    Ok((values / width as u64, order.carry_v.len(), order.kept))
  })
}

/// A parser thread: works on the chunks it is sent until there are no more.
fn worker<C: Columns>(
  rx: crossbeam_channel::Receiver<Chunk<C>>,
  tx: crossbeam_channel::Sender<Chunk<C>>,
  width: usize,
  convert: &Convert<'_, C>,
) {
  for mut c in rx {
    // a panic here must come back as an error: the reader waits for every chunk in order
    let worked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut c, width, convert)));
    if let Err(p) = worked {
      c.bad = None;
      c.buf.vals.clear(); // nothing of this chunk is used
      let why = format!("a parser thread panicked: {}", crate::error::panic_message(&p));
      c.refused = Some(SnapshotError::internal(c.base, why));
    }
    if tx.send(c).is_err() {
      break;
    }
  }
}

/// The reading thread's side: sends the text out in chunks, and takes the workers' chunks back
/// in order.
struct InOrder<C> {
  width: usize,
  /// the values (and their offsets) of a record begun in one chunk and ended in another
  carry_v: Vec<u64>,
  carry_o: Vec<u64>,
  /// the index of the record in `carry_v`
  carry_first: u64,
  stitched: C,
  kept: Kept,
  pool: Vec<Buffers<C>>,
  pending: BTreeMap<u64, Chunk<C>>,
  /// chunks sent, and the next one to take back
  sent: u64,
  next: u64,
  closed: bool,
  /// the input failed or ended: reported once the text before it is checked
  input_error: Option<SnapshotError>,
  /// values dispatched so far: where each chunk starts within its records
  values: u64,
}

impl<C: Columns> InOrder<C> {
  fn new(width: usize) -> InOrder<C> {
    InOrder {
      width,
      carry_v: Vec::with_capacity(width),
      carry_o: Vec::with_capacity(width),
      carry_first: 0,
      stitched: C::default(),
      kept: Kept::default(),
      pool: Vec::new(),
      pending: BTreeMap::new(),
      sent: 0,
      next: 0,
      closed: false,
      input_error: None,
      values: 0,
    }
  }

  /// Until the array is read (or fails): keeps `IN_FLIGHT` chunks with the workers, and takes
  /// back those done in order. Returns how many values the array holds.
  fn run<R: Read>(
    &mut self,
    sc: &mut Scanner<R>,
    context: &str,
    job_tx: &crossbeam_channel::Sender<Chunk<C>>,
    done_rx: &crossbeam_channel::Receiver<Chunk<C>>,
    convert: &Convert<'_, C>,
    append: &mut impl FnMut(&C, &[u64], &dyn Fn(usize) -> u64) -> Res<()>,
  ) -> Res<u64> {
    while !self.closed || self.next < self.sent {
      self.send_chunks(sc, context, job_tx)?;
      if self.next == self.sent {
        break; // nothing in flight: the input failed before any more text
      }
      let c = done_rx.recv().map_err(|_| lost(sc.offset()))?;
      self.pending.insert(c.seq, c);
      while let Some(c) = self.pending.remove(&self.next) {
        self.take(c, context, convert, append)?;
        self.next += 1;
      }
    }
    self.input_error.take().map_or(Ok(self.values), Err)
  }

  /// Reads chunks of the text and sends them to the workers, up to `IN_FLIGHT` at a time.
  fn send_chunks<R: Read>(
    &mut self,
    sc: &mut Scanner<R>,
    context: &str,
    job_tx: &crossbeam_channel::Sender<Chunk<C>>,
  ) -> Res<()> {
    let width = self.width as u64;
    while !self.closed && self.sent - self.next < IN_FLIGHT {
      let mut buf = self.pool.pop().unwrap_or_default();
      let (base, end) = match sc.array_chunk(CHUNK, &mut buf.bytes, context) {
        Ok(r) => r,
        Err(e) => {
          self.input_error = Some(e);
          self.closed = true;
          break;
        }
      };
      self.closed = end != ChunkEnd::More;
      if end == ChunkEnd::CutShort {
        self.input_error = Some(sc.cut_short(context));
      }
      let head = ((width - self.values % width) % width) as usize;
      let first = (self.values + head as u64) / width;
      self.values += count_commas(&buf.bytes) + (end == ChunkEnd::Closed) as u64;
      let chunk = Chunk {
        seq: self.sent,
        base,
        head,
        first,
        buf,
        bad: None,
        refused: None,
      };
      job_tx.send(chunk).map_err(|_| lost(base))?;
      self.sent += 1;
    }
    Ok(())
  }

  /// Takes back the next chunk in order: ends the record carried from earlier chunks, then hands
  /// on its whole records, or its error.
  fn take(
    &mut self,
    mut c: Chunk<C>,
    context: &str,
    convert: &Convert<'_, C>,
    append: &mut impl FnMut(&C, &[u64], &dyn Fn(usize) -> u64) -> Res<()>,
  ) -> Res<()> {
    let width = self.width;
    let b = &c.buf;
    let parsed = c.bad.map_or(b.vals.len(), |_| 0);
    // the record begun in earlier chunks
    let head = c.head.min(parsed);
    self.carry_v.extend_from_slice(&b.vals[..head]);
    self.carry_o.extend_from_slice(&b.edge_offs[..head]);
    if self.carry_v.len() == width {
      self.stitch(convert, append)?;
    }
    if let Some(i) = c.bad {
      return Err(careful_error(&b.bytes[i..], c.base + i as u64, context));
    }
    if let Some(e) = c.refused {
      return Err(e);
    }
    if head == c.head {
      // whole records, then the start of the next one
      let whole = (b.vals.len() - head) / width * width;
      if whole > 0 {
        let (bytes, base) = (&b.bytes, c.base);
        let at = |i: usize| base + value_start(bytes, head + i) as u64;
        append(&b.cols, &b.vals[head..head + whole], &at)?;
      }
      self.carry_v.extend_from_slice(&b.vals[head + whole..]);
      self.carry_o.extend_from_slice(&b.edge_offs[head..]);
      self.carry_first = c.first + (whole / width) as u64;
      if whole > 0 && b.cols.key() > self.kept.key {
        // kept: this chunk's text and values, swapped with those kept before (which go back to
        // the pool with its buffers)
        let kept = &mut self.kept;
        kept.key = b.cols.key();
        (kept.first, kept.head, kept.len, kept.base) = (c.first, head, whole, c.base);
        std::mem::swap(&mut kept.text, &mut c.buf.bytes);
        std::mem::swap(&mut kept.vals, &mut c.buf.vals);
      }
    }
    self.pool.push(c.buf);
    Ok(())
  }

  /// Converts and hands on the record carried across chunks, now whole; kept if its key is the
  /// largest yet.
  fn stitch(
    &mut self,
    convert: &Convert<'_, C>,
    append: &mut impl FnMut(&C, &[u64], &dyn Fn(usize) -> u64) -> Res<()>,
  ) -> Res<()> {
    self.stitched.clear();
    let carry_o = &self.carry_o;
    let at = |i: usize| carry_o[i];
    convert(&self.carry_v, &at, self.carry_first, &mut self.stitched)?;
    append(&self.stitched, &self.carry_v, &at)?;
    if self.stitched.key() > self.kept.key {
      let kept = &mut self.kept;
      kept.key = self.stitched.key();
      (kept.first, kept.head, kept.len, kept.base) = (self.carry_first, 0, self.width, 0);
      kept.text.clear();
      kept.vals.clone_from(&self.carry_v);
      kept.offs.clone_from(&self.carry_o);
    }
    self.carry_v.clear();
    self.carry_o.clear();
    Ok(())
  }
}

/// A worker that stopped (it cannot: they catch their panics).
fn lost(at: u64) -> SnapshotError {
  SnapshotError::internal(at, "a parser thread stopped")
}

/// Values in a chunk: one per ',' (plus the last one before ']'). Byte-wide counters over
/// blocks of 255 keep the vector loop on 32 bytes at a time.
fn count_commas(bytes: &[u8]) -> u64 {
  bytes
    .chunks(255)
    .map(|block| block.iter().fold(0u8, |n, &b| n + (b == b',') as u8) as u64)
    .sum()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[derive(Default)]
  struct Recs(Vec<Vec<u64>>);
  impl Columns for Recs {
    fn clear(&mut self) {
      self.0.clear();
    }
  }

  fn records(text: &str, width: usize) -> Result<Vec<Vec<u64>>, String> {
    let mut sc = Scanner::new(text.as_bytes(), false);
    let mut out = Vec::new();
    // each record keeps the index it was given, checked against its place at the end
    let convert = move |v: &[u64], _: &dyn Fn(usize) -> u64, first: u64, c: &mut Recs| {
      c.0.extend(
        v.chunks(width)
          .enumerate()
          .map(|(i, r)| [&[first + i as u64][..], r].concat()),
      );
      Ok(())
    };
    let (records, tail, _) = read_uint_columns(
      &mut sc,
      "in \"test\"",
      width,
      &convert,
      |c: &Recs, _: &[u64], _: &dyn Fn(usize) -> u64| {
        out.extend(c.0.iter().cloned());
        Ok(())
      },
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(records, out.len() as u64);
    for (i, r) in out.iter_mut().enumerate() {
      assert_eq!(r.remove(0), i as u64, "record {i} was converted as another");
    }
    if tail > 0 {
      out.push(vec![u64::MAX; tail]);
    }
    Ok(out)
  }

  #[test]
  fn parses_across_chunks_in_order_and_in_whole_records() {
    // far more than one chunk, with whitespace and long numbers
    let n = 600_000u64;
    let text = format!(
      "[{}]",
      (0..n)
        .map(|i| format!("{}", i * 1_000_003 % 99_999_999_999))
        .collect::<Vec<_>>()
        .join(",\n")
    );
    let got = records(&text, 3).unwrap();
    assert_eq!(got.len(), (n / 3) as usize);
    let flat: Vec<u64> = got.into_iter().flatten().collect();
    assert!(flat
      .iter()
      .enumerate()
      .all(|(i, &v)| v == i as u64 * 1_000_003 % 99_999_999_999));
    assert_eq!(records("[]", 3).unwrap().len(), 0);
    assert_eq!(records("[ 1 , 2 ,3 ]", 3).unwrap(), vec![vec![1, 2, 3]]);
    // a tail that is not a whole record is counted for the caller
    assert_eq!(
      records("[1,2,3,4]", 3).unwrap(),
      vec![vec![1, 2, 3], vec![u64::MAX]]
    );
    // records straddling chunks, with every phase
    for w in [2, 5, 7] {
      let n = 300_000u64 / w as u64 * w as u64;
      let text = format!(
        "[{}]",
        (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
      );
      let got = records(&text, w).unwrap();
      assert_eq!(got.len() as u64, n / w as u64);
      assert!(
        got.iter().flatten().enumerate().all(|(i, &v)| v == i as u64),
        "width {w}"
      );
    }
  }

  #[test]
  fn the_block_fast_path_agrees_with_the_byte_parser() {
    // random arrays in V8's layout and others, with blanks, long numbers and damage anywhere:
    // values and the error position must be those of the byte-by-byte parser alone
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = |n: u64| {
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      seed % n
    };
    let seps: [&[u8]; 6] = [b",", b",", b"\n,", b", ", b" ,\t", b",\r\n"];
    let junk: [&[u8]; 9] = [b"x", b"-", b".5", b"e", b",", b",,", b" ", b"]", b"1"];
    for case in 0..3000 {
      let mut text = Vec::new();
      let count = 1 + rnd(400);
      for i in 0..count {
        let digits = match rnd(20) {
          0 => 16 + rnd(5),
          1..=3 => 8 + rnd(8),
          _ => 1 + rnd(7),
        };
        text.push(b'1' + rnd(9) as u8);
        text.extend((1..digits).map(|_| b'0' + rnd(10) as u8));
        text.extend_from_slice(if i + 1 == count && rnd(2) == 0 {
          b"]"
        } else {
          seps[rnd(6) as usize]
        });
      }
      if case % 3 != 0 {
        let at = rnd(text.len() as u64) as usize;
        let j = junk[rnd(9) as usize];
        text.splice(at..at, j.iter().copied());
      }
      let (mut fast, mut slow) = (Vec::new(), Vec::new());
      let got = parse_chunk(&text, &mut fast);
      let want = parse_rest(&text, 0, &mut slow);
      assert_eq!(got, want, "case {case}: {}", String::from_utf8_lossy(&text));
      if want.is_none() {
        assert_eq!(fast, slow, "case {case}");
      }
    }
  }

  /// Records of 3 values whose key is their largest second value + 1.
  #[derive(Default)]
  struct Max(u64);
  impl Columns for Max {
    fn clear(&mut self) {
      self.0 = 0;
    }
    fn key(&self) -> u64 {
      self.0 + 1
    }
  }

  #[test]
  fn the_largest_key_is_kept_and_found_wherever_the_chunks_cut() {
    let n = 600_000; // records of 3 values, ~6 MB: several chunks
    let text_with = |big: Option<usize>| {
      let vals: Vec<String> = (0..n)
        .map(|r| {
          let name = if Some(r) == big { 999_999 } else { r % 1000 };
          format!("{},{name},{}", r % 7, r % 13)
        })
        .collect();
      format!("[{}]", vals.join(",\n"))
    };
    let convert = |v: &[u64], _: &dyn Fn(usize) -> u64, _: u64, c: &mut Max| -> Res<()> {
      c.0 = v.chunks(3).map(|r| r[1]).max().unwrap_or(0);
      Ok(())
    };
    // where the chunks' records start, and the offsets `append` is given for each value
    let text = text_with(None);
    let mut firsts = Vec::new();
    let mut sc = Scanner::new(text.as_bytes(), false);
    let mut seen = 0u64;
    let starts: Vec<u64> = std::iter::once(1)
      .chain(text.match_indices(",\n").map(|(i, _)| i as u64 + 2))
      .collect();
    let (_, _, kept) = read_uint_columns(
      &mut sc,
      "in \"t\"",
      3,
      &convert,
      |_: &Max, v: &[u64], at: &dyn Fn(usize) -> u64| {
        firsts.push(seen);
        // (each `at` scans the chunk: a few of them)
        let k = v.len() / 3;
        for r in [0, k / 2, k - 1] {
          let want = starts[seen as usize + r];
          assert_eq!(at(r * 3), want, "record {}", seen as usize + r);
          assert_eq!(at(r * 3 + 1), want + 2, "record {}", seen as usize + r);
        }
        seen += (v.len() / 3) as u64;
        Ok(())
      },
    )
    .unwrap();
    assert!(firsts.len() > 5, "{firsts:?}");
    assert_eq!(kept.key, 1000);
    // the largest anywhere around the cuts (records across two chunks among them)
    for &f in &firsts {
      for r in (f.max(1) - 1)..(f + 2).min(n as u64) {
        let text = text_with(Some(r as usize));
        let mut sc = Scanner::new(text.as_bytes(), false);
        let (_, _, kept) = read_uint_columns(
          &mut sc,
          "in \"t\"",
          3,
          &convert,
          |_: &Max, _: &[u64], _: &dyn Fn(usize) -> u64| Ok(()),
        )
        .unwrap();
        assert_eq!(kept.key, 1_000_000, "record {r}");
        let want = text.find("999999").unwrap() as u64;
        assert_eq!(
          kept.find(3, 1, |rec| rec[1] == 999_999),
          Some((r, want)),
          "record {r}"
        );
      }
    }
  }

  #[test]
  fn a_refused_record_names_the_offset_of_its_value_wherever_the_chunks_cut() {
    // width 3; the value 999 is refused. Each position lands in the middle of a chunk, at its
    // head or its tail for some cut: try many, and check the offset is where "999" is.
    let filler: Vec<String> = (0..400_002).map(|i| (i % 97).to_string()).collect();
    for at in [
      0usize, 1, 2, 3, 131_071, 131_072, 131_073, 262_145, 399_998, 399_999, 400_001,
    ] {
      let mut vals = filler.clone();
      vals[at] = "999".into();
      let text = format!("[{}]", vals.join(", "));
      let want = text.find("999").unwrap() as u64;
      let mut sc = Scanner::new(text.as_bytes(), false);
      let convert = |v: &[u64], pos: &dyn Fn(usize) -> u64, _: u64, _: &mut Recs| -> Res<()> {
        match v.iter().position(|&x| x == 999) {
          Some(i) => Err(SnapshotError::at(pos(i), "refused")),
          None => Ok(()),
        }
      };
      let r = read_uint_columns(
        &mut sc,
        "in \"test\"",
        3,
        &convert,
        |_: &Recs, _: &[u64], _: &dyn Fn(usize) -> u64| Ok(()),
      );
      let Err(e) = r else { panic!("value {at}: no error") };
      assert_eq!(
        e.to_string(),
        SnapshotError::at(want, "refused").to_string(),
        "value {at}"
      );
    }
  }

  #[test]
  fn a_panic_on_a_parser_thread_is_an_error_not_a_hang() {
    let text = format!(
      "[{}]",
      (0..300_000)
        .map(|i| (i % 50).to_string())
        .collect::<Vec<_>>()
        .join(",")
    );
    let mut sc = Scanner::new(text.as_bytes(), false);
    let convert = |v: &[u64], _: &dyn Fn(usize) -> u64, _: u64, _: &mut Recs| -> Res<()> {
      if v.len() > 1000 {
        panic!("boom");
      }
      Ok(())
    };
    let e = read_uint_columns(
      &mut sc,
      "in \"test\"",
      1,
      &convert,
      |_: &Recs, _: &[u64], _: &dyn Fn(usize) -> u64| Ok(()),
    )
    .unwrap_err();
    assert!(
      e.internal && e.to_string().contains("internal error in leakprobe") && e.to_string().contains("boom"),
      "{e}"
    );
  }

  #[test]
  fn errors_name_the_offset_as_the_sequential_reader_does() {
    let big = format!("[{}", "12345,".repeat(200_000));
    for (text, want) in [
      (format!("{big}7x,1]"), "found 'x'"),
      (format!("{big}1.5,1]"), "fraction or exponent"),
      (format!("{big}-1]"), "expected a non-negative integer"),
      (format!("{big}99999999999999999999999]"), "integer too large"),
      (format!("{big}18446744073709551615,x]"), "found 'x'"),
      (format!("{big}1,2"), "found the end of the input"),
      (format!("{big}1,2,"), "cut short"),
      (format!("{big}x,{big}1,2,"), "found 'x'"),
      (format!("{big},]"), "expected a non-negative integer"),
    ] {
      let e = records(&text, 1).unwrap_err();
      assert!(e.contains(want), "{want}: {e}");
      let at: u64 = e
        .split("byte ")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
      assert!(at >= big.len() as u64 - 1 && at <= text.len() as u64, "{e}");
    }
  }
}
