//! The App Users list and the monthly active users: every access a session makes is recorded
//! (at login, then at most once a minute per session). Read by the admin API.
//!
//! Only what the provider vouches for is kept: an email it did not verify is left out.

use crate::runtime::Shared;
use crate::session::{AppUser, Session};

/// Adds an access to the App Users list and the month's active users.
pub async fn record_access(shared: &Shared, endpoint: &str, session: &Session, now: u64) {
    let user = AppUser {
        key: session.user_key.clone(),
        provider: session.provider,
        user_id: session.identity.user_id.clone(),
        name: session.identity.name.clone(),
        email: session
            .identity
            .email
            .clone()
            .filter(|_| session.identity.email_verified),
        first_seen: now,
        last_seen: now,
        endpoints: [endpoint.to_owned()].into_iter().collect(),
    };
    let month = month_of(now);
    if let Err(e) = shared.store.record_access(&user, &month).await {
        tracing::warn!("could not record app user access: {e}");
    }
}

/// `YYYY-MM` of a Unix time.
pub fn month_of(secs: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0)
        .unwrap_or_default()
        .format("%Y-%m")
        .to_string()
}
