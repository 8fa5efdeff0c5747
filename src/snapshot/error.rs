//! Errors for malformed snapshots: what was expected, what was found, and where.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotError {
  /// byte offset in the (decompressed) JSON where the problem is: every error about a snapshot's
  /// bytes has one (a file that cannot be opened has none)
  pub offset: Option<u64>,
  pub message: String,
  /// a bug of ours met while reading (a parser thread's panic), not the snapshot's fault: it
  /// converts into an internal error (`crate::error::Error::internal`), not ERR_LEAKPROBE_SNAPSHOT
  pub internal: bool,
}

impl SnapshotError {
  pub fn at(offset: u64, message: impl Into<String>) -> Self {
    SnapshotError {
      offset: Some(offset),
      message: message.into(),
      internal: false,
    }
  }
  pub fn general(message: impl Into<String>) -> Self {
    SnapshotError {
      offset: None,
      message: message.into(),
      internal: false,
    }
  }
  /// A bug of ours, met at `offset` while reading: `what` went wrong.
  pub fn internal(offset: u64, what: impl Into<String>) -> Self {
    SnapshotError {
      internal: true,
      ..SnapshotError::at(offset, what)
    }
  }
}

impl fmt::Display for SnapshotError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if self.internal {
      // the internal wording lives in one place
      return crate::error::Error::from(self.clone()).fmt(f);
    }
    match self.offset {
      Some(o) => write!(f, "invalid heap snapshot at byte {o}: {}", self.message),
      None => write!(f, "invalid heap snapshot: {}", self.message),
    }
  }
}

impl std::error::Error for SnapshotError {}
