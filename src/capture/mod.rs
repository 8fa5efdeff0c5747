//! Streaming capture: chunks → bounded channel → gzip writer thread → temp file → fsync → rename.
