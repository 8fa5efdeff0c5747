//! Sends each chunk to the gzip writer and, when the capture is analyzed in the same pass, to the
//! parser too; and lets the parser read the chunks as an ordinary `Read`.
use crossbeam_channel::{Receiver, Sender};
use std::io::{self, Read};

#[derive(Clone)]
pub struct Fanout {
  pub writer: Sender<Vec<u8>>,
  pub parser: Option<Sender<Vec<u8>>>,
}

impl Fanout {
  /// False once the writer is gone (it failed): the capture is lost, stop producing.
  /// A parser that stopped early (its own error) just stops receiving.
  pub fn send(&mut self, chunk: Vec<u8>) -> bool {
    if let Some(p) = &self.parser {
      if p.send(chunk.clone()).is_err() {
        self.parser = None;
      }
    }
    self.writer.send(chunk).is_ok()
  }
}

/// `Read` over a channel of chunks; EOF when every sender is gone.
pub struct ChunkReader {
  rx: Receiver<Vec<u8>>,
  chunk: Vec<u8>,
  pos: usize,
}

impl ChunkReader {
  pub fn new(rx: Receiver<Vec<u8>>) -> Self {
    ChunkReader {
      rx,
      chunk: Vec::new(),
      pos: 0,
    }
  }
}

impl Read for ChunkReader {
  fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
    while self.pos >= self.chunk.len() {
      match self.rx.recv() {
        Ok(c) => {
          self.chunk = c;
          self.pos = 0;
        }
        Err(_) => return Ok(0),
      }
    }
    let n = buf.len().min(self.chunk.len() - self.pos);
    buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
    self.pos += n;
    Ok(n)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crossbeam_channel::bounded;

  #[test]
  fn both_sides_get_every_byte_and_a_dead_parser_is_dropped() {
    let (wt, wr) = bounded(8);
    let (pt, pr) = bounded(8);
    let mut f = Fanout {
      writer: wt,
      parser: Some(pt),
    };
    assert!(f.send(b"ab".to_vec()));
    assert!(f.send(b"cde".to_vec()));
    drop(f);
    let mut s = String::new();
    ChunkReader::new(pr).read_to_string(&mut s).unwrap();
    assert_eq!(s, "abcde");
    assert_eq!(wr.iter().flatten().collect::<Vec<u8>>(), b"abcde");

    let (wt, _wr) = bounded(8);
    let (pt, pr) = bounded(8);
    drop(pr);
    let mut f = Fanout {
      writer: wt,
      parser: Some(pt),
    };
    assert!(f.send(vec![1]));
    assert!(f.parser.is_none());
  }
}
