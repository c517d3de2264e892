//! The run engine on its own: a store, the sandbox and the engine's workers, without the HTTP
//! server — runs carried out, resumed after a dead process, fenced when their claim is taken,
//! and deferred when the day's quota is short.

#![allow(unreachable_pub)]

mod follow;
mod helpers;
mod logs;
mod runs;
