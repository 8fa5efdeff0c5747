//! Chunk stream → (gzip) → any `Write`. Generic over the sink so it is tested without files.
use crossbeam_channel::{Receiver, Sender};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{self, Write};
use std::time::Instant;

/// What went through the encoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodeStats {
  /// uncompressed bytes received
  pub bytes: u64,
  /// bytes written to the sink
  pub written: u64,
  /// `snapshot.node_count` read from the header, when V8 wrote it there (it does)
  pub node_count: Option<u64>,
}

/// The snapshot's meta comes first and is small; look no further than this for `node_count`.
const HEADER_SCAN: usize = 64 * 1024;

/// Finds `"node_count":N` in the first bytes of the JSON, so a capture reports its size in
/// nodes without parsing the snapshot.
pub fn header_node_count(head: &[u8]) -> Option<u64> {
  let key = b"\"node_count\":";
  let at = head.windows(key.len()).position(|w| w == key)? + key.len();
  let digits: Vec<u8> = head[at..]
    .iter()
    .copied()
    .skip_while(|b| *b == b' ')
    .take_while(u8::is_ascii_digit)
    .collect();
  std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// Counts what reaches the sink, so the compressed size needs no `stat` afterwards.
pub struct CountingWriter<W: Write> {
  pub inner: W,
  pub count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
  fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
    let n = self.inner.write(buf)?;
    self.count += n as u64;
    Ok(n)
  }
  fn flush(&mut self) -> io::Result<()> {
    self.inner.flush()
  }
}

/// Drains `rx` into `sink` until every sender is gone. On error the receiver is dropped by the
/// caller, so senders see a closed channel and stop feeding us (no unbounded blocking).
/// Returns the sink (to be synced and renamed) and the stats, plus when the last chunk arrived.
/// Written chunks go back through `recycle` (when given) for the producer to reuse.
pub fn encode_stream<W: Write>(
  rx: &Receiver<Vec<u8>>,
  sink: W,
  gzip: Option<u32>,
  recycle: Option<&Sender<Vec<u8>>>,
) -> io::Result<(W, EncodeStats, Option<Instant>)> {
  let mut stats = EncodeStats::default();
  let mut last_chunk = None;
  let mut head: Vec<u8> = Vec::new();
  // every chunk goes to `w`; the header is kept for `node_count`, the buffer handed back
  let mut pump = |w: &mut dyn Write| -> io::Result<()> {
    for chunk in rx.iter() {
      stats.bytes += chunk.len() as u64;
      if head.len() < HEADER_SCAN {
        head.extend_from_slice(&chunk[..chunk.len().min(HEADER_SCAN - head.len())]);
      }
      w.write_all(&chunk)?;
      if let Some(r) = recycle {
        let _ = r.try_send(chunk);
      }
      last_chunk = Some(Instant::now());
    }
    Ok(())
  };
  let mut counting = CountingWriter {
    inner: sink,
    count: 0,
  };
  match gzip {
    Some(level) => {
      let mut enc = GzEncoder::new(counting, Compression::new(level.min(9)));
      pump(&mut enc)?;
      counting = enc.finish()?;
    }
    None => pump(&mut counting)?,
  }
  counting.flush()?;
  stats.written = counting.count;
  stats.node_count = header_node_count(&head);
  Ok((counting.inner, stats, last_chunk))
}

#[cfg(test)]
mod tests {
  use super::*;
  use crossbeam_channel::bounded;
  use std::io::Read;

  fn feed(chunks: Vec<Vec<u8>>) -> Receiver<Vec<u8>> {
    let (tx, rx) = bounded(chunks.len().max(1));
    for c in chunks {
      tx.send(c).unwrap();
    }
    rx
  }

  #[test]
  fn gzip_roundtrip_counts_bytes() {
    let data: Vec<u8> = (0..200_000u32)
      .flat_map(|i| format!("{},", i % 977).into_bytes())
      .collect();
    let chunks: Vec<Vec<u8>> = data.chunks(65_536).map(|c| c.to_vec()).collect();
    let rx = feed(chunks);
    let (out, stats, last) = encode_stream(&rx, Vec::new(), Some(1), None).unwrap();
    assert_eq!(stats.bytes, data.len() as u64);
    assert_eq!(stats.written, out.len() as u64);
    assert!(
      out.len() < data.len() / 5,
      "compressed {} of {}",
      out.len(),
      data.len()
    );
    assert!(last.is_some());
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(&out[..])
      .read_to_end(&mut back)
      .unwrap();
    assert_eq!(back, data);
  }

  #[test]
  fn plain_passthrough() {
    let rx = feed(vec![b"abc".to_vec(), b"def".to_vec()]);
    let (out, stats, _) = encode_stream(&rx, Vec::new(), None, None).unwrap();
    assert_eq!(out, b"abcdef");
    assert_eq!(
      stats,
      EncodeStats {
        bytes: 6,
        written: 6,
        node_count: None
      }
    );
  }

  #[test]
  fn node_count_from_header_split_across_chunks() {
    let rx = feed(vec![
      b"{\"snapshot\":{\"meta\":{},\"node_co".to_vec(),
      b"unt\":67339,\"edge_count\":5}}".to_vec(),
    ]);
    let (_, stats, _) = encode_stream(&rx, Vec::new(), Some(6), None).unwrap();
    assert_eq!(stats.node_count, Some(67339));
    assert_eq!(header_node_count(b"{\"nodes\":[]}"), None);
  }

  /// A sink that fails after `room` bytes, like a full disk.
  #[derive(Debug)]
  struct Full {
    room: usize,
  }
  impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
      if self.room == 0 {
        return Err(io::Error::from_raw_os_error(28)); // ENOSPC
      }
      let n = buf.len().min(self.room);
      self.room -= n;
      Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
      Ok(())
    }
  }

  #[test]
  fn write_error_surfaces() {
    let chunks: Vec<Vec<u8>> = (0..50).map(|i| vec![i as u8; 10_000]).collect();
    let rx = feed(chunks);
    let err = encode_stream(&rx, Full { room: 1000 }, None, None).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(28));
  }
}
