//! The IdP's controllable clock.
//!
//! Every instant the mock IdP reasons about (code and token expiry, `iat`/`exp`/`auth_time`,
//! IdP session age for `max_age`) comes from this clock, never from `SystemTime::now()`
//! directly. It runs with real time plus an offset, so timestamps look real to the client,
//! and a test can [`Clock::advance`] it to make codes, tokens and sessions expire without
//! sleeping. Clones share the same offset.
//!
//! Delays scripted on responses (`Script::after`) are real sleeps: they exist to test the
//! client's timeouts, which run on the client's clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock that is real time plus an adjustable forward offset; clones share the offset.
///
/// ```
/// use std::time::Duration;
/// use mock_idp::Clock;
///
/// let clock = Clock::new();
/// let before = clock.unix();
/// clock.clone().advance(Duration::from_secs(3600));
/// assert!(clock.unix() >= before + 3600);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicU64>,
}

impl Clock {
    /// A clock showing real time.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current instant as the IdP sees it.
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + self.offset()
    }

    /// Seconds since the Unix epoch, as used in JWT claims.
    pub fn unix(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// Moves the clock forward by `by`. Codes, tokens and sessions whose lifetime ends
    /// within that span are expired from now on.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// How far ahead of real time the clock runs.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }

    /// Goes back to real time (offset zero).
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_and_clones_share_it() {
        let clock = Clock::new();
        let other = clock.clone();
        let before = clock.unix();
        other.advance(Duration::from_secs(3600));
        assert!(clock.unix() >= before + 3600);
        assert_eq!(clock.offset(), Duration::from_secs(3600));
        clock.reset();
        assert_eq!(other.offset(), Duration::ZERO);
    }
}
