//! The workspace's tidiness, checked by this crate's tests (`tests/tidy.rs`); nothing to link.
