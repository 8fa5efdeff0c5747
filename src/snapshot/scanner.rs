//! A pull scanner over a byte stream: just enough JSON for heap snapshots, with byte offsets,
//! pieces of the big integer arrays for the parser threads (`array_chunk`), and iterative skipping
//! (no recursion).
//!
//! Nothing here grows with the input unchecked: a string is read up to a `Cap` its caller gives,
//! and a value copied or skipped (`copy_value`) up to a size and a nesting depth. A gzip file of
//! 20 MB can inflate to 20 GB; what V8 never writes (a name of megabytes, a header of gigabytes,
//! thousands of nested brackets) is refused where it starts instead of being held in memory.
use super::error::SnapshotError;
use std::io::{self, Read};

const BUF: usize = 1 << 20;

/// How deep `copy_value` follows nested arrays and objects. V8 nests its sections a few levels
/// deep; the deepest, `trace_tree` (allocation tracking), two levels per stack frame of at most
/// 64 (`AllocationTracker::kMaxAllocationTraceLength`): ~130.
pub const MAX_DEPTH: usize = 1024;

/// The longest a string may be (in bytes, unescaped), and why (for the message).
pub struct Cap<'a> {
  pub max: usize,
  pub why: &'a str,
}

pub struct Scanner<R: Read> {
  r: R,
  buf: Box<[u8]>,
  pos: usize,
  len: usize,
  /// stream offset of `buf[0]`
  base: u64,
  eof: bool,
  gzip: bool,
  /// a string's bytes while `string_into` unescapes and checks them (kept: one allocation for
  /// all of a snapshot's strings)
  scratch: Vec<u8>,
  /// the most bytes the input can hold, when known (`input_bound`)
  bound: Option<u64>,
}

pub type Res<T> = Result<T, SnapshotError>;

/// How a piece of an array's text ends (`Scanner::array_chunk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEnd {
  /// after a ',': more follows
  More,
  /// at the array's closing ']'
  Closed,
  /// at the end of the input, with the array still open
  CutShort,
}

pub(crate) fn describe(b: Option<u8>) -> String {
  match b {
    None => "the end of the input".into(),
    Some(c) if c.is_ascii_graphic() => format!("'{}'", c as char),
    Some(c) => format!("byte 0x{c:02x}"),
  }
}

impl<R: Read> Scanner<R> {
  pub fn new(r: R, gzip: bool) -> Self {
    Scanner {
      r,
      buf: vec![0u8; BUF].into_boxed_slice(),
      pos: 0,
      len: 0,
      base: 0,
      eof: false,
      gzip,
      scratch: Vec::new(),
      bound: None,
    }
  }

  /// Says how many bytes the input can hold at most (a file's size; for gzip, the most it can
  /// inflate to): what a header's counts are checked against.
  pub fn with_bound(mut self, bound: Option<u64>) -> Self {
    self.bound = bound;
    self
  }

  /// The most bytes the input can hold, when known, and whether it is inflated from gzip.
  pub fn input_bound(&self) -> (Option<u64>, bool) {
    (self.bound, self.gzip)
  }

  /// A scanner over text that starts at stream offset `base` (errors name stream offsets).
  pub fn at_offset(r: R, base: u64) -> Self {
    let mut sc = Scanner::new(r, false);
    sc.base = base;
    sc
  }

  /// The input ended inside an array.
  pub fn cut_short(&self, context: &str) -> SnapshotError {
    SnapshotError::at(
      self.offset(),
      format!("the input is cut short {context}: expected more values or the array's closing ']'"),
    )
  }

  /// The next piece of an integer array's text, to be parsed elsewhere: into `out`, up to and
  /// including the last ',' buffered once at least `want` bytes are in, or up to and including
  /// the closing ']'. Returns the stream offset of its first byte and how the piece ends. Text
  /// with no separator at all is handed over as it is, at most 4 × `want` at a time, for the
  /// parser to reject. At the end of the input, what was read is handed over (`CutShort`): the
  /// parser reports an error in it first, as a sequential reader would.
  pub fn array_chunk(&mut self, want: usize, out: &mut Vec<u8>, context: &str) -> Res<(u64, ChunkEnd)> {
    out.clear();
    let start = self.offset();
    loop {
      if self.pos == self.len && !self.fill()? {
        if out.is_empty() {
          return Err(self.cut_short(context));
        }
        return Ok((start, ChunkEnd::CutShort));
      }
      let avail = &self.buf[self.pos..self.len];
      if let Some(i) = memchr::memchr(b']', avail) {
        out.extend_from_slice(&avail[..=i]);
        self.pos += i + 1;
        return Ok((start, ChunkEnd::Closed));
      }
      match memchr::memrchr(b',', avail) {
        Some(j) => {
          out.extend_from_slice(&avail[..=j]);
          self.pos += j + 1;
          if out.len() >= want {
            return Ok((start, ChunkEnd::More));
          }
        }
        None => {
          out.extend_from_slice(avail);
          self.pos = self.len;
          if out.len() >= 4 * want {
            return Ok((start, ChunkEnd::More));
          }
        }
      }
    }
  }

  pub fn offset(&self) -> u64 {
    self.base + self.pos as u64
  }

  pub fn err<T>(&self, msg: impl Into<String>) -> Res<T> {
    Err(SnapshotError::at(self.offset(), msg))
  }

  fn io_err(&self, e: io::Error) -> SnapshotError {
    let what = if self.gzip {
      match e.kind() {
        io::ErrorKind::UnexpectedEof => "the gzip stream ends early (truncated file?)".to_string(),
        _ => format!("cannot decompress the gzip stream: {e}"),
      }
    } else {
      format!("cannot read the input: {e}")
    };
    SnapshotError::at(self.offset(), what)
  }

  /// Refills the buffer; false at EOF.
  #[cold]
  fn fill(&mut self) -> Res<bool> {
    if self.eof {
      return Ok(false);
    }
    self.base += self.pos as u64;
    let keep = self.len - self.pos;
    self.buf.copy_within(self.pos..self.len, 0);
    self.pos = 0;
    self.len = keep;
    loop {
      match self.r.read(&mut self.buf[self.len..]) {
        Ok(0) => {
          self.eof = true;
          return Ok(self.len > 0);
        }
        Ok(n) => {
          self.len += n;
          return Ok(true);
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
        Err(e) => return Err(self.io_err(e)),
      }
    }
  }

  #[inline]
  pub fn peek(&mut self) -> Res<Option<u8>> {
    if self.pos < self.len {
      return Ok(Some(self.buf[self.pos]));
    }
    if self.fill()? && self.pos < self.len {
      Ok(Some(self.buf[self.pos]))
    } else {
      Ok(None)
    }
  }

  #[inline]
  pub fn bump(&mut self) {
    self.pos += 1;
  }

  /// Next non-whitespace byte, not consumed.
  #[inline]
  pub fn peek_ws(&mut self) -> Res<Option<u8>> {
    loop {
      while self.pos < self.len {
        let c = self.buf[self.pos];
        if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
          return Ok(Some(c));
        }
        self.pos += 1;
      }
      if !self.fill()? {
        return Ok(None);
      }
    }
  }

  pub fn expect(&mut self, want: u8, context: &str) -> Res<()> {
    match self.peek_ws()? {
      Some(c) if c == want => {
        self.bump();
        Ok(())
      }
      other => self.err(format!(
        "expected '{}' {context}, found {}",
        want as char,
        describe(other)
      )),
    }
  }

  pub fn found(&mut self) -> Res<String> {
    Ok(describe(self.peek_ws()?))
  }

  /// A non-negative integer (snapshot arrays hold nothing else).
  #[inline]
  pub fn uint(&mut self, context: &str) -> Res<u64> {
    let mut c = match self.peek_ws()? {
      Some(c) if c.is_ascii_digit() => c,
      other => {
        return self.err(format!(
          "expected a non-negative integer {context}, found {}",
          describe(other)
        ))
      }
    };
    let start = self.offset();
    let mut v: u64 = 0;
    loop {
      v = match v.checked_mul(10).and_then(|v| v.checked_add((c - b'0') as u64)) {
        Some(v) => v,
        None => return Err(SnapshotError::at(start, format!("integer too large {context}"))),
      };
      self.pos += 1;
      c = if self.pos < self.len {
        self.buf[self.pos]
      } else {
        match self.peek()? {
          Some(c) => c,
          None => break,
        }
      };
      if !c.is_ascii_digit() {
        if matches!(c, b'.' | b'e' | b'E') {
          return Err(SnapshotError::at(
            start,
            format!("expected an integer {context}, found a fraction or exponent"),
          ));
        }
        break;
      }
    }
    Ok(v)
  }

  /// A JSON string appended to `out`, of at most `cap.max` bytes; returns the offset of its
  /// opening quote. Lone surrogates (V8 writes them) become U+FFFD; raw bytes that are not UTF-8
  /// are an error.
  pub fn string_into(&mut self, out: &mut String, context: &str, cap: &Cap) -> Res<u64> {
    self.expect(b'"', context)?;
    let quote = self.offset() - 1;
    let mut raw = std::mem::take(&mut self.scratch);
    raw.clear();
    let r = self.string_bytes(&mut raw, context, cap);
    let r = r.and_then(|start| match std::str::from_utf8(&raw) {
      Ok(s) => {
        out.push_str(s);
        Ok(quote)
      }
      Err(e) => Err(SnapshotError::at(
        start + e.valid_up_to() as u64,
        format!("string {context} is not valid UTF-8"),
      )),
    });
    // a string cut off at the cap leaves a buffer of that size: not kept for the next one
    if raw.capacity() > BUF {
      raw = Vec::new();
    }
    self.scratch = raw;
    r
  }

  /// The bytes of a string whose opening quote was read, unescaped into `raw`, up to and past
  /// its closing quote; returns where they started. More than `cap.max` bytes: an error at the
  /// opening quote, as soon as they are read (a run is at most a buffer: 1 MiB past the cap).
  fn string_bytes(&mut self, raw: &mut Vec<u8>, context: &str, cap: &Cap) -> Res<u64> {
    let start = self.offset();
    loop {
      // copy the run up to the next quote, backslash or control character (a vectorized search
      // for the first two; control characters are rare: found exactly only when present)
      let avail = &self.buf[self.pos..self.len];
      let mut run = &avail[..memchr::memchr2(b'"', b'\\', avail).unwrap_or(avail.len())];
      if run.iter().fold(false, |any, &b| any | (b < 0x20)) {
        run = &run[..run.iter().position(|&b| b < 0x20).unwrap_or(run.len())];
      }
      raw.extend_from_slice(run);
      self.pos += run.len();
      if raw.len() > cap.max {
        return Err(SnapshotError::at(
          start - 1,
          format!("a string {context} is longer than {} bytes: {}", cap.max, cap.why),
        ));
      }
      let c = match self.peek()? {
        Some(c) => c,
        None => {
          return self.err(format!(
            "unterminated string {context} (started at byte {})",
            start - 1
          ))
        }
      };
      match c {
        b'"' => {
          self.bump();
          break;
        }
        b'\\' => {
          self.bump();
          self.escape(raw, context)?;
        }
        b if b < 0x20 => return self.err(format!("control character in a string {context}")),
        _ => {}
      }
    }
    Ok(start)
  }

  fn hex4(&mut self, context: &str) -> Res<u32> {
    let mut v = 0u32;
    for _ in 0..4 {
      let c = self.peek()?;
      let d = match c.and_then(|c| (c as char).to_digit(16)) {
        Some(d) => d,
        None => {
          return self.err(format!(
            "expected 4 hex digits after \\u {context}, found {}",
            describe(c)
          ))
        }
      };
      self.bump();
      v = v * 16 + d;
    }
    Ok(v)
  }

  fn escape(&mut self, raw: &mut Vec<u8>, context: &str) -> Res<()> {
    let c = self.peek()?;
    let ch = match c {
      Some(b'"') => '"',
      Some(b'\\') => '\\',
      Some(b'/') => '/',
      Some(b'b') => '\u{8}',
      Some(b'f') => '\u{c}',
      Some(b'n') => '\n',
      Some(b'r') => '\r',
      Some(b't') => '\t',
      Some(b'u') => {
        self.bump();
        let hi = self.hex4(context)?;
        let ch = if (0xD800..0xDC00).contains(&hi) {
          // a pair only if a low surrogate escape follows
          if self.peek()? == Some(b'\\') {
            self.bump();
            if self.peek()? == Some(b'u') {
              self.bump();
              let lo = self.hex4(context)?;
              if (0xDC00..0xE000).contains(&lo) {
                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('\u{FFFD}')
              } else {
                push_char(raw, '\u{FFFD}');
                char::from_u32(lo).unwrap_or('\u{FFFD}')
              }
            } else {
              push_char(raw, '\u{FFFD}');
              return self.escape(raw, context);
            }
          } else {
            '\u{FFFD}'
          }
        } else {
          char::from_u32(hi).unwrap_or('\u{FFFD}')
        };
        push_char(raw, ch);
        return Ok(());
      }
      other => {
        return self.err(format!(
          "invalid escape '\\{}' in a string {context}",
          describe(other)
        ))
      }
    };
    self.bump();
    push_char(raw, ch);
    Ok(())
  }

  /// Skips one JSON value of any kind, iteratively: at most `max` bytes of it (see `copy_value`).
  pub fn skip_value(&mut self, context: &str, max: u64, why: &str) -> Res<()> {
    self.copy_value(None, context, max, why)
  }

  /// Skips one JSON value, copying its bytes into `out` when given (for the small `snapshot` meta).
  /// A value longer than `max` bytes (`why` says why that is too long), or nested deeper than
  /// `MAX_DEPTH`, is an error at its first byte (or the bracket too deep), once the limit is
  /// passed. Goes from one byte that matters to the next (quotes, backslashes in strings,
  /// brackets outside them): hundreds of MB/s, not one byte at a time.
  pub fn copy_value(&mut self, mut out: Option<&mut Vec<u8>>, context: &str, max: u64, why: &str) -> Res<()> {
    let first = match self.peek_ws()? {
      None => return self.err(format!("expected a value {context}, found the end of the input")),
      Some(c @ (b',' | b':' | b']' | b'}')) => {
        return self.err(format!("expected a value {context}, found '{}'", c as char))
      }
      Some(c) => c,
    };
    let start = self.offset();
    let end = start.saturating_add(max);
    let too_long = || {
      SnapshotError::at(
        start,
        format!("the value {context} is longer than {max} bytes: {why}"),
      )
    };
    if !matches!(first, b'"' | b'[' | b'{') {
      // a scalar (a number, true, …): up to the next delimiter, or the end of the input
      loop {
        if self.pos == self.len && !self.fill()? {
          return Ok(());
        }
        let avail = &self.buf[self.pos..self.len];
        let stop = first_of(avail, |b| {
          matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
        });
        let n = stop.unwrap_or(avail.len());
        if let Some(o) = out.as_deref_mut() {
          o.extend_from_slice(&avail[..n]);
        }
        self.pos += n;
        if self.offset() > end {
          return Err(too_long());
        }
        if stop.is_some() {
          return Ok(());
        }
      }
    }
    let mut depth: Vec<u8> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    loop {
      if self.pos == self.len && !self.fill()? {
        return Err(SnapshotError::at(
          self.offset(),
          format!("value {context} (from byte {start}) is cut short"),
        ));
      }
      let avail = &self.buf[self.pos..self.len];
      let next = if escaped {
        Some(0)
      } else if in_string {
        memchr::memchr2(b'"', b'\\', avail)
      } else {
        first_of(avail, |b| matches!(b, b'"' | b'[' | b']' | b'{' | b'}'))
      };
      let n = next.map_or(avail.len(), |i| i + 1);
      if let Some(o) = out.as_deref_mut() {
        o.extend_from_slice(&avail[..n]);
      }
      self.pos += n;
      if self.offset() > end {
        return Err(too_long());
      }
      let Some(i) = next else { continue };
      let c = avail[i];
      if escaped {
        escaped = false;
        continue;
      }
      if in_string {
        if c == b'\\' {
          escaped = true;
        } else {
          in_string = false;
          if depth.is_empty() {
            return Ok(());
          }
        }
        continue;
      }
      match c {
        b'"' => in_string = true,
        b'[' | b'{' => {
          if depth.len() == MAX_DEPTH {
            return Err(SnapshotError::at(
              self.offset() - 1,
              format!(
                "arrays and objects {context} (from byte {start}) nest more than {MAX_DEPTH} deep; \
                 V8 nests its sections a few levels deep: the file is damaged or not a heap snapshot"
              ),
            ));
          }
          depth.push(c)
        }
        _ => {
          let open = if c == b']' { b'[' } else { b'{' };
          if depth.pop() != Some(open) {
            return Err(SnapshotError::at(
              self.offset() - 1,
              format!("unbalanced '{}' {context}", c as char),
            ));
          }
          if depth.is_empty() {
            return Ok(());
          }
        }
      }
    }
  }
}

/// Where the first byte of `bytes` that `hit` is, 64 bytes at a time (a test over a whole block
/// without an early exit is a few vector compares; the exact place is looked for in its block).
#[inline]
fn first_of(bytes: &[u8], hit: impl Fn(u8) -> bool + Copy) -> Option<usize> {
  let mut base = 0;
  for block in bytes.chunks(64) {
    if block.iter().fold(false, |any, &b| any | hit(b)) {
      return block.iter().position(|&b| hit(b)).map(|i| base + i);
    }
    base += block.len();
  }
  None
}

/// The leading ASCII digits of `b` (8 bytes) as a number, and how many there were (0-8),
/// without a branch per byte: the snapshot's arrays are mostly short numbers.
#[inline]
pub fn swar_digits(b: &[u8]) -> (u64, usize) {
  let chunk = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
  let sub = chunk.wrapping_sub(0x3030_3030_3030_3030);
  // a byte's top bit ends up set if it was below '0' (borrow) or above '9' (+0x76 overflows 0x7f)
  let non_digit = (sub | sub.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
  let n = (non_digit.trailing_zeros() / 8) as usize;
  if n == 0 {
    return (0, 0);
  }
  // keep the n digit bytes, moved to the top: leading zero digits do not change the value
  let mut v = if n == 8 { sub } else { sub << (8 * (8 - n)) };
  v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
  v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
  v = (v.wrapping_mul(10000) + (v >> 32)) & 0x0000_0000_FFFF_FFFF;
  (v, n)
}

fn push_char(raw: &mut Vec<u8>, ch: char) {
  let mut b = [0u8; 4];
  raw.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
}

#[cfg(test)]
mod tests {
  use super::{swar_digits, Scanner};

  #[test]
  fn copy_value_copies_whole_values_across_buffers() {
    let long = format!("[{}]", r#"{"a":"]}[{\"\\",  "b":[1,2,[]]},"#.repeat(60_000) + "7");
    for v in [
      "12",
      "true",
      r#""a]\"}""#,
      r#"{"x":["]",{"y":"\\"}],"z":-1.5e3}"#,
      "[[],[[]],{}]",
      long.as_str(),
    ] {
      let text = format!(" {v} ,\"next\"");
      let mut sc = Scanner::new(text.as_bytes(), false);
      let mut out = Vec::new();
      sc.copy_value(Some(&mut out), "in \"t\"", 1 << 30, "").unwrap();
      assert_eq!(String::from_utf8(out).unwrap(), v);
      assert_eq!(sc.peek_ws().unwrap(), Some(b','));
    }
    for (v, want) in [
      ("[1,2", "cut short"),
      ("[1}", "unbalanced '}'"),
      (",", "expected a value in \"t\", found ','"),
      ("", "found the end of the input"),
    ] {
      let e = Scanner::new(v.as_bytes(), false)
        .copy_value(None, "in \"t\"", 1 << 30, "")
        .unwrap_err();
      assert!(e.message.contains(want), "{v}: {e}");
    }
    let e = Scanner::new(long.as_bytes(), false)
      .copy_value(None, "in \"t\"", 1 << 20, "too long")
      .unwrap_err();
    assert_eq!(
      (e.offset, e.message.as_str()),
      (
        Some(0),
        "the value in \"t\" is longer than 1048576 bytes: too long"
      )
    );
  }

  #[test]
  fn swar_digits_matches_the_obvious_loop() {
    for s in [
      "0,",
      "7]",
      "12,3",
      "1234567,",
      "12345678",
      "99999999",
      "00012,xx",
      "x1234567",
      ",",
      "4294967295",
    ] {
      let mut b = s.as_bytes().to_vec();
      b.resize(8, b' ');
      let n = b.iter().take(8).take_while(|c| c.is_ascii_digit()).count();
      let v: u64 = if n == 0 {
        0
      } else {
        std::str::from_utf8(&b[..n]).unwrap().parse().unwrap()
      };
      assert_eq!(swar_digits(&b), (v, n), "{s}");
    }
  }
}
