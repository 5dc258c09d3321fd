//! What the gateway remembers, and the [`SessionStore`] trait it is kept behind.
//!
//! * [`Session`] — one logged-in browser on one endpoint: who (the provider's identity), the
//!   tokens, and the timestamps that drive inactivity, maximum duration and the auth check.
//!   The cookie holds only a random id; the store holds the record under a hash of that id, so
//!   a store dump yields no usable cookie.
//! * [`LoginTx`] — a login in flight, keyed by `state`: PKCE verifier, OIDC nonce, where to go
//!   afterwards, and the browser binding (the `nonce` cookie). Single use, ten minutes.
//! * [`FinishedLogin`] — where a finished login went, for a replay of its callback; kept
//!   apart from logins in flight so it can never be taken as one.
//! * [`Ticket`] — the one-time, short-lived hand-off from the central callback origin to the
//!   endpoint's host, bound to the same browser binding.
//! * [`AppUser`] — the App Users list and the monthly-active-user sets.
//!
//! Two implementations: [`crate::store::memory`] (default, zero setup) and
//! [`crate::store::redis`] (shared by several replicas).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::ProviderKind;
use crate::types::{Secret, stored};

/// Who the provider says the user is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The provider-defined user id (`ngrok-auth-user-id`).
    pub user_id: String,
    /// Full name.
    pub name: Option<String>,
    /// Primary email.
    pub email: Option<String>,
    /// Whether the provider verified the email.
    pub email_verified: bool,
    /// OIDC `sub` (for consistency checks on refresh and userinfo).
    pub subject: Option<String>,
    /// OIDC issuer of the ID token.
    pub issuer: Option<String>,
}

/// Tokens from a token response.
#[derive(Clone, Debug)]
pub struct TokenSet {
    /// Access token.
    pub access_token: Secret,
    /// Refresh token.
    pub refresh_token: Option<Secret>,
    /// Lifetime in seconds.
    pub expires_in: Option<u64>,
    /// ID token (compact JWS).
    pub id_token: Option<String>,
}

/// One authenticated browser session on one endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    /// The endpoint (authority) it belongs to.
    pub endpoint: String,
    /// The provider.
    pub provider: ProviderKind,
    /// App-user key (`provider:user id`).
    pub user_key: String,
    /// The identity, as last checked.
    pub identity: Identity,
    /// Access token.
    #[serde(with = "stored")]
    pub access_token: Secret,
    /// Refresh token.
    #[serde(with = "stored::option", default)]
    pub refresh_token: Option<Secret>,
    /// Access token expiry (Unix seconds).
    pub token_expires_at: Option<u64>,
    /// Created (Unix seconds, gateway clock).
    pub created_at: u64,
    /// Last request (gateway clock).
    pub last_seen: u64,
    /// Last authorization check (gateway clock).
    pub last_check: u64,
    /// Policy hash at the last check.
    pub policy_hash: String,
}

impl Session {
    /// Takes the tokens a refresh granted: the new access token and its expiry, and the new
    /// refresh token when the provider rotated it (the old one is kept otherwise).
    pub fn apply(&mut self, tokens: TokenSet, now: u64) {
        self.access_token = tokens.access_token;
        if let Some(rotated) = tokens.refresh_token {
            self.refresh_token = Some(rotated);
        }
        self.token_expires_at = tokens.expires_in.map(|e| now + e);
    }
}

/// Logins a single browser (one `nonce` binding) may have pending: starting one more drops
/// its oldest (security checklist 60). Tabs opened at once stay well below it.
pub const MAX_PENDING_LOGINS_PER_BROWSER: usize = 16;

/// A login in flight.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginTx {
    /// Browser binding: the value of the `nonce` cookie.
    pub binding: String,
    /// Endpoint authority.
    pub endpoint: String,
    /// Where to send the browser afterwards (origin-relative).
    pub original_path: String,
    /// PKCE verifier.
    #[serde(with = "stored")]
    pub verifier: Secret,
    /// OIDC nonce.
    pub nonce: Option<String>,
    /// Created (gateway clock).
    pub created_at: u64,
}

/// A finished login, remembered for ten minutes so that a replay of its callback (the back
/// button) goes where the login went. Its own type in its own key space: it carries no PKCE
/// verifier or nonce and can never be taken as a login in flight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedLogin {
    /// Endpoint authority.
    pub endpoint: String,
    /// Where the login went (origin-relative).
    pub original_path: String,
}

/// The hand-off from the callback origin to the endpoint host.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ticket {
    /// Must equal the endpoint host's `nonce` cookie.
    pub binding: String,
    /// The session to install.
    pub session: Session,
    /// Where to go.
    pub original_path: String,
}

/// An App User.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppUser {
    /// Key (`provider:user id`).
    pub key: String,
    /// Provider.
    pub provider: ProviderKind,
    /// Provider user id.
    pub user_id: String,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// First login (Unix seconds).
    pub first_seen: u64,
    /// Last access (Unix seconds).
    pub last_seen: u64,
    /// Endpoints accessed.
    pub endpoints: BTreeSet<String>,
}

/// A store failure (Redis down…): requests get a clear 503, never a pass-through.
#[derive(Debug, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub struct StoreError(pub String);

/// Boxed future returned by store methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where sessions, logins in flight, tickets and App Users live.
pub trait SessionStore: Send + Sync + 'static {
    /// Saves a session under its cookie id for `ttl`.
    fn put_session<'a>(&'a self, id: &'a str, session: &'a Session, ttl: Duration) -> StoreFuture<'a, ()>;
    /// Replaces a session only if it still exists (a request in flight must not bring back a
    /// session that was logged out or revoked meanwhile); `false` when it was gone.
    fn update_session<'a>(
        &'a self,
        id: &'a str,
        session: &'a Session,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;
    /// Reads a session.
    fn get_session<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Session>>;
    /// Deletes a session.
    fn delete_session<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()>;
    /// Deletes every session of a user; returns how many.
    fn delete_user_sessions<'a>(&'a self, user_key: &'a str) -> StoreFuture<'a, usize>;
    /// The sessions of a user (for the App Users API).
    fn user_sessions<'a>(&'a self, user_key: &'a str) -> StoreFuture<'a, Vec<Session>>;
    /// Remembers a finished login under its `state` (apart from logins in flight).
    fn put_finished<'a>(
        &'a self,
        state: &'a str,
        finished: &'a FinishedLogin,
        ttl: Duration,
    ) -> StoreFuture<'a, ()>;
    /// The finished login of a `state`, if remembered (read, not taken: the back button may
    /// replay a callback more than once).
    fn finished<'a>(&'a self, state: &'a str) -> StoreFuture<'a, Option<FinishedLogin>>;
    /// Whether `binding` is a browser binding this gateway minted (and still remembers): a
    /// `nonce` cookie value the client made up is never adopted.
    fn known_binding<'a>(&'a self, binding: &'a str) -> StoreFuture<'a, bool>;
    /// Saves a login that starts now, counted against its browser's
    /// [`MAX_PENDING_LOGINS_PER_BROWSER`]: beyond it, the browser's oldest login is dropped.
    fn start_login<'a>(&'a self, state: &'a str, tx: &'a LoginTx, ttl: Duration) -> StoreFuture<'a, ()>;
    /// Takes (reads and deletes) a login in flight: single use.
    fn take_tx<'a>(&'a self, state: &'a str) -> StoreFuture<'a, Option<LoginTx>>;
    /// Saves a hand-off ticket.
    fn put_ticket<'a>(&'a self, id: &'a str, ticket: &'a Ticket, ttl: Duration) -> StoreFuture<'a, ()>;
    /// Takes a hand-off ticket: single use.
    fn take_ticket<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Ticket>>;
    /// Records an access by a user (App Users, MAU of `month` = `YYYY-MM`).
    fn record_access<'a>(&'a self, user: &'a AppUser, month: &'a str) -> StoreFuture<'a, ()>;
    /// Every App User.
    fn users<'a>(&'a self) -> StoreFuture<'a, Vec<AppUser>>;
    /// One App User.
    fn user<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<AppUser>>;
    /// Monthly active users of a month.
    fn mau<'a>(&'a self, month: &'a str) -> StoreFuture<'a, u64>;
}

/// Merges a new access into an existing App User record.
pub fn merge_user(existing: Option<AppUser>, update: &AppUser) -> AppUser {
    match existing {
        None => update.clone(),
        Some(mut u) => {
            u.name = update.name.clone().or(u.name);
            u.email = update.email.clone().or(u.email);
            u.first_seen = u.first_seen.min(update.first_seen);
            u.last_seen = u.last_seen.max(update.last_seen);
            u.endpoints.extend(update.endpoints.iter().cloned());
            u
        }
    }
}

/// The store key of a session id (a hash: the store never holds usable cookie values).
pub fn session_key(id: &str) -> String {
    crate::types::fingerprint(&format!("session:{id}"))
}
