//! # gatecheck — the conformance harness
//!
//! Drives a login gateway (the reference gateway, or any other through a profile) against
//! mock IdPs and a recording upstream, with a browser-like user agent that follows redirects
//! one hop at a time.
//!
//! In a gateway's own `cargo test`: [`Suite`] (a profile, a tag filter, a report folder →
//! an [`Outcome`] to assert on); the scenarios are embedded ([`bundle`]).
//!
//! [`upstream`] — the recording application behind the gateway. [`agent`] — the user agent.
//! [`raw`] — a raw HTTP/1.1 client for what no HTTP library sends (attacks).
//! [`system`] — real components from system packages; [`redis`] — a throwaway redis-server;
//! [`balancer`] — a TCP round-robin balancer in front of gateway replicas.

pub mod agent;
pub mod balancer;
pub mod browser;
pub mod bundle;
pub mod collect;
pub mod conformance;
mod entry;
pub mod launch;
pub mod ports;
pub mod profile;
pub mod provider;
pub mod raw;
pub mod redis;
pub mod report;
pub mod shard;
pub mod spec;
pub mod steps;
pub mod suite;
pub mod system;
pub mod templates;
pub mod upstream;
pub mod workspace;
pub mod world;

pub use agent::{Hop, UserAgent};
pub use entry::Suite;
pub use profile::Profile;
pub use suite::Outcome;
pub use upstream::{RecordingUpstream, Seen};
