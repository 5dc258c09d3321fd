//! The state of one IdP instance and the operations on it.
//!
//! [`Shared`] is what every handler and every API handle holds: identity (issuer, instance
//! id), the personality, settings, clock, keys, script, expectations, log, and the
//! [`Store`] — users, clients, grants, codes, tokens, IdP browser sessions, pending login
//! pages and remembered consents. Locks are `std::sync` and never held across an `.await`.
//!
//! The grant is the unit of revocation: a code, and every token issued from it, point to one
//! grant. Reusing a code or a rotated-out refresh token revokes the grant, which kills
//! everything issued for it (RFC 6749 §4.1.2, RFC 9700 §4.14.2).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::clients::{Client, ClientError, Lifetimes};
use crate::clock::Clock;
use crate::expect::Expectation;
use crate::keys::{KeySet, SigningAlg};
use crate::log::RequestLog;
use crate::personality::{GrantProblem, Personality};
use crate::script::Script;
use crate::types::{ClientId, ScopeSet, UserId, random_token};
use crate::users::User;

/// How the authorization endpoint gets a user's decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interaction {
    /// No page: approve at once as the scripted user, the `login_hint` user, the user of the
    /// IdP session, or the first user. For HTTP-only tests.
    #[default]
    Headless,
    /// Show the HTML login and consent page (browsers, local debugging).
    LoginPage,
}

/// Instance-wide settings that may change while the IdP runs (admin API).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Lifetimes of codes, tokens and the IdP session.
    pub lifetimes: Lifetimes,
    /// Headless or login page.
    pub interaction: Interaction,
    /// Overrides whether discovery advertises `authorization_response_iss_parameter_supported`
    /// (RFC 9207); `None` keeps the personality's choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertise_iss: Option<bool>,
    /// Other IdPs started alongside (`mock-idp serve --provider all`): name → inspector URL,
    /// linked from this one's inspector.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sibling_inspectors: Vec<(String, String)>,
}

/// A granted authorization: one user, one client, the scopes consented.
#[derive(Clone, Debug)]
pub struct Grant {
    /// Client it was granted to.
    pub client: ClientId,
    /// User who granted it.
    pub user: UserId,
    /// Scopes granted.
    pub scopes: ScopeSet,
    /// Scopes requested (a narrowed grant has fewer).
    pub requested: ScopeSet,
    /// The authorization request's parameters (provider hooks read `access_type`, `claims`…).
    pub request: Vec<(String, String)>,
    /// When the user authenticated (Unix seconds).
    pub auth_time: u64,
    /// `nonce` of the authorization request.
    pub nonce: Option<String>,
    /// Whether the consent screen was shown for it (Google issues refresh tokens then).
    pub consent_shown: bool,
    /// Revoked grants invalidate every token issued for them.
    pub revoked: bool,
}

/// PKCE parameters of an authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkce {
    /// `code_challenge`.
    pub challenge: String,
    /// `S256` or `plain`.
    pub method: String,
}

impl Pkce {
    /// Whether `verifier` matches the challenge.
    pub fn verify(&self, verifier: &str) -> bool {
        let computed = if self.method == "S256" {
            use base64::Engine;
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
        } else {
            verifier.to_owned()
        };
        aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), self.challenge.as_bytes())
            .is_ok()
    }
}

#[derive(Clone, Debug)]
struct CodeRecord {
    grant: u64,
    client: ClientId,
    /// The redirect_uri the authorization request *sent* (None if it relied on the single
    /// registered one).
    redirect_uri: Option<String>,
    pkce: Option<Pkce>,
    expires_at: SystemTime,
    redeemed: bool,
}

#[derive(Clone, Debug)]
struct AccessRecord {
    grant: u64,
    expires_at: SystemTime,
    scopes: ScopeSet,
    revoked: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefreshState {
    Active,
    RotatedOut,
    Revoked,
}

#[derive(Clone, Debug)]
struct RefreshRecord {
    grant: u64,
    expires_at: SystemTime,
    state: RefreshState,
}

/// The IdP's own login session (its browser cookie).
#[derive(Clone, Debug)]
pub struct IdpSession {
    /// Logged-in user.
    pub user: UserId,
    /// When they authenticated (Unix seconds).
    pub auth_time: u64,
    /// When the session ends.
    pub expires_at: SystemTime,
}

/// What an access token grants, as userinfo needs it.
#[derive(Clone, Debug)]
pub struct AccessInfo {
    /// The grant.
    pub grant: Grant,
    /// Scopes of this token.
    pub scopes: ScopeSet,
    /// When it expires.
    pub expires_at: SystemTime,
}

/// Why a presented access token is not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessProblem {
    /// Not issued here.
    Unknown,
    /// Expired.
    Expired,
    /// Revoked (directly or through its grant).
    Revoked,
}

/// A refresh token that may be used, and what to do with it.
#[derive(Clone, Debug)]
pub struct RefreshUse {
    /// Grant id.
    pub grant_id: u64,
    /// The grant.
    pub grant: Grant,
}

/// Users, clients, grants, codes, tokens, sessions.
#[derive(Debug, Default)]
pub struct Store {
    /// Users in registration order (the first is the headless default).
    pub users: IndexMap<UserId, User>,
    /// Registered clients.
    pub clients: IndexMap<ClientId, Client>,
    grants: HashMap<u64, Grant>,
    next_grant: u64,
    codes: HashMap<String, CodeRecord>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    /// IdP browser sessions by cookie value.
    pub sessions: HashMap<String, IdpSession>,
    /// Consents given: (user, client) → scopes.
    consents: HashMap<(UserId, ClientId), ScopeSet>,
    /// Login pages waiting for a decision, by transaction id.
    pub pending: HashMap<String, crate::http::authorize::PendingAuthorization>,
    /// When [`Store::purge`] may next walk the maps.
    next_purge: Option<SystemTime>,
}

impl Store {
    /// Registers (or replaces) a client after validating it.
    pub fn add_client(&mut self, client: Client) -> Result<(), ClientError> {
        client.validate()?;
        self.clients.insert(client.id.clone(), client);
        Ok(())
    }

    /// Registers (or replaces) a user.
    pub fn add_user(&mut self, user: User) {
        self.users.insert(user.id.clone(), user);
    }

    /// Finds a user by id, login name or email.
    pub fn find_user(&self, hint: &str) -> Option<&User> {
        self.users
            .get(&UserId::new(hint))
            .or_else(|| self.users.values().find(|u| u.is_named_by(hint)))
    }

    /// A usable (existing, enabled) user.
    pub fn active_user(&self, id: &UserId) -> Option<&User> {
        self.users.get(id).filter(|u| !u.disabled)
    }

    /// Creates a grant and returns its id.
    pub fn create_grant(&mut self, grant: Grant) -> u64 {
        self.next_grant += 1;
        self.grants.insert(self.next_grant, grant);
        self.next_grant
    }

    /// A grant by id.
    pub fn grant(&self, id: u64) -> Option<&Grant> {
        self.grants.get(&id)
    }

    /// Revokes a grant and so everything issued for it.
    pub fn revoke_grant(&mut self, id: u64) {
        if let Some(g) = self.grants.get_mut(&id) {
            g.revoked = true;
        }
    }

    /// Revokes every grant of a user (password change, "sign out everywhere").
    pub fn revoke_user_grants(&mut self, user: &UserId) -> usize {
        let mut n = 0;
        for g in self.grants.values_mut().filter(|g| &g.user == user && !g.revoked) {
            g.revoked = true;
            n += 1;
        }
        n
    }

    /// Issues an authorization code for a grant.
    pub fn issue_code(
        &mut self,
        grant: u64,
        redirect_uri: Option<String>,
        pkce: Option<Pkce>,
        expires_at: SystemTime,
    ) -> String {
        let code = random_token(32);
        let client = self.grants[&grant].client.clone();
        self.codes.insert(
            code.clone(),
            CodeRecord {
                grant,
                client,
                redirect_uri,
                pkce,
                expires_at,
                redeemed: false,
            },
        );
        code
    }

    /// Redeems a code: every binding checked in the order RFC 6749 §4.1.3 lists them. A
    /// second redemption revokes the grant. `redirect_uri_required`: whether a code whose
    /// authorization request carried a redirect URI needs it repeated (RFC 6749; GitHub does not).
    pub fn redeem_code(
        &mut self,
        code: &str,
        client: &ClientId,
        redirect_uri: Option<&str>,
        redirect_uri_required: bool,
        verifier: Option<&str>,
        now: SystemTime,
    ) -> Result<u64, GrantProblem> {
        let Some(rec) = self.codes.get_mut(code) else {
            return Err(GrantProblem::CodeUnknown);
        };
        if rec.redeemed {
            let grant = rec.grant;
            self.revoke_grant(grant);
            return Err(GrantProblem::CodeReused);
        }
        if &rec.client != client {
            return Err(GrantProblem::CodeClientMismatch);
        }
        if now >= rec.expires_at {
            return Err(GrantProblem::CodeExpired);
        }
        if let Some(sent) = &rec.redirect_uri
            && redirect_uri != Some(sent.as_str())
            && (redirect_uri.is_some() || redirect_uri_required)
        {
            return Err(GrantProblem::RedirectUriMismatch);
        }
        if rec.redirect_uri.is_none()
            && let Some(presented) = redirect_uri
        {
            let registered = self
                .clients
                .get(client)
                .map(|c| c.redirect_uris.clone())
                .unwrap_or_default();
            if !registered.iter().any(|r| r == presented) {
                return Err(GrantProblem::RedirectUriMismatch);
            }
        }
        match (&rec.pkce, verifier) {
            (Some(_), None) => return Err(GrantProblem::PkceVerifierMissing),
            (None, Some(_)) => return Err(GrantProblem::PkceVerifierUnexpected),
            (Some(p), Some(v)) if !p.verify(v) => return Err(GrantProblem::PkceMismatch),
            _ => {}
        }
        rec.redeemed = true;
        let grant_id = rec.grant;
        let grant = &self.grants[&grant_id];
        if self.active_user(&grant.user).is_none() {
            return Err(GrantProblem::UserGone);
        }
        Ok(grant_id)
    }

    /// Stores a new access token.
    pub fn add_access_token(&mut self, token: &str, grant: u64, scopes: ScopeSet, expires_at: SystemTime) {
        self.access.insert(
            token.to_owned(),
            AccessRecord {
                grant,
                expires_at,
                scopes,
                revoked: false,
            },
        );
    }

    /// Stores a new refresh token.
    pub fn add_refresh_token(&mut self, token: &str, grant: u64, expires_at: SystemTime) {
        self.refresh.insert(
            token.to_owned(),
            RefreshRecord {
                grant,
                expires_at,
                state: RefreshState::Active,
            },
        );
    }

    /// Looks an access token up for a protected-resource request.
    pub fn check_access_token(&self, token: &str, now: SystemTime) -> Result<AccessInfo, AccessProblem> {
        let rec = self.access.get(token).ok_or(AccessProblem::Unknown)?;
        let grant = self.grants.get(&rec.grant).ok_or(AccessProblem::Unknown)?;
        if rec.revoked || grant.revoked {
            return Err(AccessProblem::Revoked);
        }
        if now >= rec.expires_at {
            return Err(AccessProblem::Expired);
        }
        Ok(AccessInfo {
            grant: grant.clone(),
            scopes: rec.scopes.clone(),
            expires_at: rec.expires_at,
        })
    }

    /// Checks a refresh token for `client` without using it up.
    pub fn check_refresh_token(
        &mut self,
        token: &str,
        client: &ClientId,
        now: SystemTime,
    ) -> Result<RefreshUse, GrantProblem> {
        let rec = self
            .refresh
            .get(token)
            .cloned()
            .ok_or(GrantProblem::RefreshUnknown)?;
        let grant = self
            .grants
            .get(&rec.grant)
            .cloned()
            .ok_or(GrantProblem::RefreshUnknown)?;
        if &grant.client != client {
            return Err(GrantProblem::RefreshClientMismatch);
        }
        match rec.state {
            RefreshState::RotatedOut => {
                self.revoke_grant(rec.grant);
                return Err(GrantProblem::RefreshReused);
            }
            RefreshState::Revoked => return Err(GrantProblem::RefreshRevoked),
            RefreshState::Active => {}
        }
        if grant.revoked {
            return Err(GrantProblem::RefreshRevoked);
        }
        if now >= rec.expires_at {
            return Err(GrantProblem::RefreshExpired);
        }
        if self.active_user(&grant.user).is_none() {
            return Err(GrantProblem::UserGone);
        }
        Ok(RefreshUse {
            grant_id: rec.grant,
            grant,
        })
    }

    /// Revokes the access tokens issued for a grant so far (GitHub Apps' refresh does).
    pub fn revoke_access_tokens_of(&mut self, grant: u64) {
        for a in self.access.values_mut().filter(|a| a.grant == grant) {
            a.revoked = true;
        }
    }

    /// Marks a refresh token rotated out (its successor has been issued).
    pub fn rotate_out_refresh_token(&mut self, token: &str) {
        if let Some(r) = self.refresh.get_mut(token) {
            r.state = RefreshState::RotatedOut;
        }
    }

    /// Expires a refresh token now (scripted `RefreshExpired`).
    pub fn expire_refresh_token(&mut self, token: &str, now: SystemTime) {
        if let Some(r) = self.refresh.get_mut(token) {
            r.expires_at = now;
        }
    }

    /// RFC 7009 revocation of a token of `client` (any client's when `None`: providers such
    /// as Google revoke by token alone). Revoking a refresh token revokes the grant (and so its
    /// access tokens); revoking an access token revokes only it. Unknown tokens, and other
    /// clients' tokens, are ignored, as the RFC requires.
    pub fn revoke_token(&mut self, token: &str, client: Option<&ClientId>) -> bool {
        let owned_by = |grants: &HashMap<u64, Grant>, grant: u64| {
            grants
                .get(&grant)
                .is_some_and(|g| client.is_none_or(|c| &g.client == c))
        };
        if let Some(r) = self.refresh.get(token).cloned() {
            if !owned_by(&self.grants, r.grant) {
                return false;
            }
            if let Some(r) = self.refresh.get_mut(token) {
                r.state = RefreshState::Revoked;
            }
            self.revoke_grant(r.grant);
            return true;
        }
        if let Some(a) = self.access.get(token).cloned()
            && owned_by(&self.grants, a.grant)
        {
            if let Some(a) = self.access.get_mut(token) {
                a.revoked = true;
            }
            return true;
        }
        false
    }

    /// The IdP session behind a cookie value, if still valid.
    pub fn session(&self, id: &str, now: SystemTime) -> Option<&IdpSession> {
        self.sessions
            .get(id)
            .filter(|s| now < s.expires_at && self.active_user(&s.user).is_some())
    }

    /// Records consent of `user` to `client` for `scopes`.
    pub fn remember_consent(&mut self, user: &UserId, client: &ClientId, scopes: &ScopeSet) {
        let entry = self.consents.entry((user.clone(), client.clone())).or_default();
        for s in scopes.iter() {
            entry.insert(s.clone());
        }
    }

    /// Whether `user` already consented to `client` for all of `scopes`.
    pub fn has_consent(&self, user: &UserId, client: &ClientId, scopes: &ScopeSet) -> bool {
        self.consents
            .get(&(user.clone(), client.clone()))
            .is_some_and(|given| scopes.is_subset(given))
    }

    /// Forgets consents of a user (all clients).
    pub fn forget_consents(&mut self, user: &UserId) {
        self.consents.retain(|(u, _), _| u != user);
    }

    /// Drops long-expired codes, pending pages and IdP sessions to bound memory. Called on
    /// every authorization request, it walks the maps at most once a minute (of the IdP's
    /// clock): a walk per request made every login cost O(logins so far).
    pub fn purge(&mut self, now: SystemTime) {
        if self.next_purge.is_some_and(|next| now < next) {
            return;
        }
        self.next_purge = Some(now + Duration::from_secs(60));
        let day = Duration::from_secs(24 * 3600);
        self.codes.retain(|_, c| now < c.expires_at + day);
        self.pending.retain(|_, p| now < p.created + day);
        self.sessions.retain(|_, s| now < s.expires_at + day);
    }

    /// Number of live (non-revoked) grants, for the admin API.
    pub fn live_grants(&self) -> usize {
        self.grants.values().filter(|g| !g.revoked).count()
    }

    /// Revokes everything and logs everyone out (admin reset keeps users and clients).
    pub fn reset_sessions(&mut self) {
        for g in self.grants.values_mut() {
            g.revoked = true;
        }
        self.sessions.clear();
        self.pending.clear();
        self.consents.clear();
        self.codes.clear();
    }
}

/// Everything one IdP instance shares between handlers and API handles.
pub struct Shared {
    /// Random id of this instance (cookie names: instances on one host must not collide).
    pub instance: String,
    /// Issuer identifier (`http://127.0.0.1:PORT`).
    pub issuer: String,
    /// Origin the endpoints are served at.
    pub base: String,
    /// Whether the IdP serves https.
    pub tls: bool,
    /// The provider it plays.
    pub personality: Box<dyn Personality>,
    /// Changeable settings.
    pub settings: RwLock<Settings>,
    /// The IdP's clock.
    pub clock: Clock,
    /// Signing keys.
    pub keys: RwLock<KeySet>,
    /// Users, clients, grants, tokens, sessions.
    pub store: Mutex<Store>,
    /// Scripted outcomes.
    pub script: Mutex<Script>,
    /// Expectations, verified on drop.
    pub expectations: Mutex<Vec<Expectation>>,
    /// Request log.
    pub log: Arc<Mutex<RequestLog>>,
    /// Cancelled when the IdP shuts down (releases stalled requests).
    pub shutdown: CancellationToken,
    /// The client created when none was configured.
    pub default_client: ClientId,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("issuer", &self.issuer)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Snapshot of the settings.
    pub fn settings(&self) -> Settings {
        self.settings.read().unwrap().clone()
    }
    /// Lifetimes now in force.
    pub fn lifetimes(&self) -> Lifetimes {
        self.settings.read().unwrap().lifetimes.clone()
    }
    /// The IdP session cookie name.
    pub fn session_cookie_name(&self) -> String {
        format!("mockidp_{}", self.instance)
    }
    /// Full URL of a path on this IdP.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    /// The ID-token algorithm of the active key.
    pub fn active_alg(&self) -> SigningAlg {
        self.keys.read().unwrap().active().alg()
    }
}
