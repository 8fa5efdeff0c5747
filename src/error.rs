//! The core's one error type: what failed (`code()`, an `ERR_LEAKPROBE_*` string), the message
//! users read, and for a snapshot's bytes the offset in the decompressed JSON. Plain Rust: the
//! binding (`src/napi/errors.rs`) turns it into a JS Error in one place.
use crate::snapshot::SnapshotError;
use std::any::Any;
use std::fmt;

/// The kinds of failure a caller can tell apart; each is one `ERR_LEAKPROBE_*` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
  /// bad argument or option value
  InvalidArg,
  /// the capture dir is missing, not a directory, not writable
  Dir,
  /// another capture is running in this process
  Busy,
  /// writing a snapshot file failed (disk full, …); nothing is left behind
  Write,
  /// the capture failed or was aborted (e.g. V8 wrote nothing)
  Capture,
  /// a snapshot cannot be read: malformed, cut short, or the file cannot be opened
  Snapshot,
  /// the spill file for the analysis could not be written or read back
  Spill,
  /// what this platform lacks
  Unsupported,
  /// a bug of ours (a panic on our thread), reported instead of crashing the host
  Internal,
}

impl ErrorKind {
  pub fn code(self) -> &'static str {
    match self {
      ErrorKind::InvalidArg => "ERR_LEAKPROBE_INVALID_ARG",
      ErrorKind::Dir => "ERR_LEAKPROBE_DIR",
      ErrorKind::Busy => "ERR_LEAKPROBE_BUSY",
      ErrorKind::Write => "ERR_LEAKPROBE_WRITE",
      ErrorKind::Capture => "ERR_LEAKPROBE_CAPTURE",
      ErrorKind::Snapshot => "ERR_LEAKPROBE_SNAPSHOT",
      ErrorKind::Spill => "ERR_LEAKPROBE_SPILL",
      ErrorKind::Unsupported => "ERR_LEAKPROBE_UNSUPPORTED",
      ErrorKind::Internal => "ERR_LEAKPROBE_INTERNAL",
    }
  }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
  kind: ErrorKind,
  /// the whole text users read (`Display` writes it as is)
  message: String,
  /// byte offset in the decompressed snapshot JSON, when the error is about its bytes
  offset: Option<u64>,
}

impl Error {
  pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
    Error {
      kind,
      message: message.into(),
      offset: None,
    }
  }

  /// A bug of ours: the one wording every internal error has, so users know to report it.
  pub fn internal(what: impl fmt::Display) -> Self {
    Error::new(
      ErrorKind::Internal,
      format!("internal error in leakprobe (please report it): {what}"),
    )
  }

  /// What a caught panic becomes: an internal error naming the panic's message.
  #[allow(clippy::borrowed_box)]
  pub fn from_panic(p: &Box<dyn Any + Send>) -> Self {
    Error::internal(panic_message(p))
  }

  pub fn with_offset(mut self, offset: u64) -> Self {
    self.offset = Some(offset);
    self
  }

  pub fn kind(&self) -> ErrorKind {
    self.kind
  }

  /// The `ERR_LEAKPROBE_*` code JavaScript sees as `err.code`.
  pub fn code(&self) -> &'static str {
    self.kind.code()
  }

  /// The byte offset in the decompressed JSON, for errors about a snapshot's bytes.
  pub fn offset(&self) -> Option<u64> {
    self.offset
  }

  pub fn message(&self) -> &str {
    &self.message
  }
}

impl fmt::Display for Error {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&self.message)
  }
}

impl std::error::Error for Error {}

/// The one conversion of the reader's error: its text stays as it was, its offset travels apart.
/// A bug met while reading is an internal error; where it happened goes in its message only
/// (`offset` says where a snapshot is malformed, and this one may not be).
impl From<SnapshotError> for Error {
  fn from(e: SnapshotError) -> Self {
    if e.internal {
      return Error::internal(match e.offset {
        Some(o) => format!("{} (reading the snapshot at byte {o})", e.message),
        None => e.message,
      });
    }
    match e.offset {
      Some(o) => Error::new(ErrorKind::Snapshot, e.to_string()).with_offset(o),
      None => Error::new(ErrorKind::Snapshot, e.to_string()),
    }
  }
}

/// The text of a caught panic (`catch_unwind`'s payload): a `&str` or a `String`, else "panic".
/// Takes the `Box` itself: a `&dyn Any` would accept `&Box<…>` as the `Any` and never downcast.
#[allow(clippy::borrowed_box)]
pub fn panic_message(p: &Box<dyn Any + Send>) -> String {
  if let Some(s) = p.downcast_ref::<&str>() {
    s.to_string()
  } else if let Some(s) = p.downcast_ref::<String>() {
    s.clone()
  } else {
    "panic".to_string()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn code_offset_and_text() {
    let e = Error::new(ErrorKind::Busy, "a capture is running");
    assert_eq!((e.code(), e.offset()), ("ERR_LEAKPROBE_BUSY", None));
    assert_eq!(e.to_string(), "a capture is running");
    assert_eq!(e.kind(), ErrorKind::Busy);

    let e = Error::internal("boom");
    assert_eq!(e.code(), "ERR_LEAKPROBE_INTERNAL");
    assert_eq!(
      e.to_string(),
      "internal error in leakprobe (please report it): boom"
    );

    let e = Error::new(ErrorKind::Spill, "disk full").with_offset(7);
    assert_eq!(
      (e.code(), e.offset(), e.message()),
      ("ERR_LEAKPROBE_SPILL", Some(7), "disk full")
    );
  }

  #[test]
  fn a_panic_is_an_internal_error_with_its_message() {
    for (payload, want) in [
      (std::panic::catch_unwind(|| panic!("boom")).unwrap_err(), "boom"),
      (
        std::panic::catch_unwind(|| panic!("at {}", 3)).unwrap_err(),
        "at 3",
      ),
      (
        std::panic::catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err(),
        "panic",
      ),
    ] {
      let e = Error::from_panic(&payload);
      assert_eq!(e.code(), "ERR_LEAKPROBE_INTERNAL");
      assert_eq!(
        e.to_string(),
        format!("internal error in leakprobe (please report it): {want}")
      );
    }
  }

  #[test]
  fn every_kind_has_its_own_code() {
    use ErrorKind::*;
    let kinds = [
      InvalidArg,
      Dir,
      Busy,
      Write,
      Capture,
      Snapshot,
      Spill,
      Unsupported,
      Internal,
    ];
    let codes: std::collections::HashSet<_> = kinds.iter().map(|k| k.code()).collect();
    assert_eq!(codes.len(), kinds.len());
    assert!(codes.iter().all(|c| c.starts_with("ERR_LEAKPROBE_")));
  }

  #[test]
  fn a_snapshot_error_keeps_its_text_and_gives_its_offset() {
    let e = Error::from(SnapshotError::at(1234, "expected ','"));
    assert_eq!(e.code(), "ERR_LEAKPROBE_SNAPSHOT");
    assert_eq!(e.offset(), Some(1234));
    assert_eq!(e.to_string(), "invalid heap snapshot at byte 1234: expected ','");

    let e = Error::from(SnapshotError::internal(99, "a parser thread panicked: boom"));
    assert_eq!((e.code(), e.offset()), ("ERR_LEAKPROBE_INTERNAL", None));
    let text = "internal error in leakprobe (please report it): a parser thread panicked: boom (reading the snapshot at byte 99)";
    assert_eq!(e.to_string(), text);
    assert_eq!(
      SnapshotError::internal(99, "a parser thread panicked: boom").to_string(),
      text
    );

    let e = Error::from(SnapshotError::general("cannot open x: no such file"));
    assert_eq!((e.code(), e.offset()), ("ERR_LEAKPROBE_SNAPSHOT", None));
    assert_eq!(
      e.to_string(),
      "invalid heap snapshot: cannot open x: no such file"
    );
  }
}
