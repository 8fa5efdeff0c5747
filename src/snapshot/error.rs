//! Errors for malformed snapshots: what was expected, what was found, and where.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotError {
  /// byte offset in the (decompressed) JSON where the problem is: every error about a snapshot's
  /// bytes has one (a file that cannot be opened has none)
  pub offset: Option<u64>,
  pub message: String,
}

impl SnapshotError {
  pub fn at(offset: u64, message: impl Into<String>) -> Self {
    SnapshotError {
      offset: Some(offset),
      message: message.into(),
    }
  }
  pub fn general(message: impl Into<String>) -> Self {
    SnapshotError {
      offset: None,
      message: message.into(),
    }
  }
}

impl fmt::Display for SnapshotError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self.offset {
      Some(o) => write!(f, "invalid heap snapshot at byte {o}: {}", self.message),
      None => write!(f, "invalid heap snapshot: {}", self.message),
    }
  }
}

impl std::error::Error for SnapshotError {}
