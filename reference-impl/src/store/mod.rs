//! Session store implementations behind [`crate::session::SessionStore`].

pub mod memory;
pub mod redis;
