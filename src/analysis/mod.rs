//! Class aggregates, top retainers, retainer paths, reports. Plain Rust.
