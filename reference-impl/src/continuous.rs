//! Continuous authorization: the auth check that runs on the first request after the Auth
//! Check Interval, or after the endpoint's configuration changed.
//!
//! A backchannel refresh (where the session has a refresh token; otherwise the current
//! access token) and a profile fetch, then the email rules again. One check per session at a
//! time (single-flight): concurrent requests wait and reuse its result. A dead grant (refused
//! refresh, a profile that now names another user, a refused token) ends the session; an
//! unreachable IdP keeps it but forwards nothing until the IdP answers again (fail closed).

use std::sync::Arc;

use crate::providers::{ProviderError, RefreshError};
use crate::runtime::{EndpointRt, Shared};
use crate::session::Session;

/// The verdict of an auth check.
pub enum Check {
    /// Still authorized; the updated session.
    Ok(Box<Session>),
    /// No longer authorized (the reason is shown to the user).
    Denied(String),
    /// The grant is dead: log in again.
    Relogin(String),
    /// The IdP could not be asked.
    Unavailable(String),
}

/// Runs the auth check for a session.
pub async fn check(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    id: &str,
    session: Session,
    now: u64,
) -> Check {
    let lock = shared.lock_for(&crate::session::session_key(id));
    let _guard = lock.lock().await;
    // Another request may have checked while this one waited.
    let mut session = match shared.store.get_session(id).await {
        Ok(Some(s))
            if s.last_check > session.last_check && s.policy_hash == ep.endpoint.oauth.policy_hash =>
        {
            return Check::Ok(Box::new(s));
        }
        Ok(Some(s)) => s,
        Ok(None) => return Check::Relogin("the session was revoked".into()),
        Err(e) => return Check::Unavailable(e.to_string()),
    };
    let result = match &session.refresh_token {
        Some(rt) => match ep.provider.refresh(rt, &session.identity).await {
            Ok(g) => Ok((Some(g.tokens), g.identity)),
            Err(RefreshError {
                error: ProviderError::Unavailable(why),
                tokens: Some(t),
            }) => {
                // The IdP rotated the refresh token before the profile fetch failed: keep the
                // new tokens (not the check's time) so the session continues once it is back.
                session.apply(t, now);
                let _ = shared
                    .store
                    .update_session(id, &session, ep.endpoint.oauth.session_ttl())
                    .await;
                return Check::Unavailable(why);
            }
            Err(e) => Err(e.error),
        },
        None => ep
            .provider
            .recheck(&session.access_token, &session.identity)
            .await
            .map(|i| (None, i)),
    };
    let (tokens, identity) = match result {
        Ok(x) => x,
        Err(ProviderError::Unavailable(why)) => return Check::Unavailable(why),
        Err(e) => {
            // Another replica (the lock above is per process) may have refreshed with the
            // same rotating refresh token a moment ago: its result is in the store.
            if let Ok(Some(s)) = shared.store.get_session(id).await
                && s.last_check > session.last_check
                && s.policy_hash == ep.endpoint.oauth.policy_hash
            {
                return Check::Ok(Box::new(s));
            }
            return Check::Relogin(e.to_string());
        }
    };
    if let Err(refusal) = crate::admission::admit(shared, ep, &identity).await {
        return Check::Denied(refusal.message().to_owned());
    }
    if let Some(t) = tokens {
        session.apply(t, now);
    }
    session.identity = identity;
    session.last_check = now;
    session.policy_hash = ep.endpoint.oauth.policy_hash.clone();
    match shared
        .store
        .update_session(id, &session, ep.endpoint.oauth.session_ttl())
        .await
    {
        Ok(true) => Check::Ok(Box::new(session)),
        Ok(false) => Check::Relogin("the session ended while it was being re-checked".into()),
        Err(e) => Check::Unavailable(e.to_string()),
    }
}
