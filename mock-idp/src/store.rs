//! The store of one IdP instance: users, clients, grants, codes, tokens, IdP browser
//! sessions, remembered consents and login pages waiting for a decision.
//!
//! The grant is the unit of revocation: a code, and every token issued from it, point to one
//! grant. Reusing a code or a rotated-out refresh token revokes the grant, which kills
//! everything issued for it (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
//!
//! What is wrong with a presented code or token is said here, semantically
//! ([`GrantProblem`], [`TokenProblem`]); the personalities above decide how it looks on the
//! wire. The store knows nothing of HTTP, personalities or the instance that holds it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use indexmap::IndexMap;

use crate::authorization::{PendingAuthorization, Pkce};
use crate::clients::{Client, ClientError};
use crate::types::{ClientId, ScopeSet, UserId, random_token};
use crate::users::User;

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

impl Grant {
    /// The owner of a grant that stands for the client itself, not a user (client credentials,
    /// a service account): an id no registered user has.
    pub fn owner_for_client(client: &ClientId) -> UserId {
        UserId::new(format!("client:{client}"))
    }

    /// Whether the grant stands for its client itself rather than a user.
    pub fn is_for_the_client(&self) -> bool {
        self.user == Grant::owner_for_client(&self.client)
    }

    /// The authorization request's parameters a grant keeps for the provider hooks that read
    /// them later (`access_type`, `max_age`, `claims`, `prompt`…): everything but what the
    /// grant holds elsewhere (client, scopes, nonce) or what only the authorization step needs
    /// (redirect, state, PKCE challenge). A grant lives as long as its tokens: this is most of
    /// the memory a login leaves behind.
    pub fn kept_request_params(params: &[(String, String)]) -> Vec<(String, String)> {
        const DROPPED: [&str; 9] = [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
            "response_mode",
        ];
        params
            .iter()
            .filter(|(k, _)| !DROPPED.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

/// What is wrong with an authorization code or refresh token (`invalid_grant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantProblem {
    /// Never issued, or already purged.
    CodeUnknown,
    /// Past its lifetime.
    CodeExpired,
    /// Redeemed before (the grant has now been revoked).
    CodeReused,
    /// Issued to another client.
    CodeClientMismatch,
    /// `redirect_uri` differs from (or lacks) the one sent at authorize.
    RedirectUriMismatch,
    /// `code_verifier` does not match the challenge.
    PkceMismatch,
    /// A challenge was sent at authorize but no verifier now.
    PkceVerifierMissing,
    /// A verifier without a challenge at authorize (PKCE downgrade).
    PkceVerifierUnexpected,
    /// Refresh token never issued.
    RefreshUnknown,
    /// Refresh token expired.
    RefreshExpired,
    /// Refresh token (or its grant) revoked.
    RefreshRevoked,
    /// Refresh token already rotated out (reuse: the grant is revoked).
    RefreshReused,
    /// Refresh token issued to another client.
    RefreshClientMismatch,
    /// The user is disabled or deleted.
    UserGone,
    /// Scripted `invalid_grant` on the code exchange.
    ScriptedCode,
    /// Scripted `invalid_grant` on refresh.
    ScriptedRefresh,
    /// Password grant: no such user, a wrong password, or a user without one.
    BadCredentials,
    /// Token exchange: the subject token is unknown, expired or revoked.
    SubjectTokenInactive,
}

impl GrantProblem {
    /// Whether this is about a refresh token (else an authorization code).
    pub fn is_refresh(self) -> bool {
        matches!(
            self,
            GrantProblem::RefreshUnknown
                | GrantProblem::RefreshExpired
                | GrantProblem::RefreshRevoked
                | GrantProblem::RefreshReused
                | GrantProblem::RefreshClientMismatch
                | GrantProblem::ScriptedRefresh
        )
    }

    /// A precise description for the standard personality.
    pub fn describe(self) -> &'static str {
        match self {
            GrantProblem::CodeUnknown => {
                "the authorization code is not valid: it was never issued by this IdP"
            }
            GrantProblem::CodeExpired => "the authorization code has expired",
            GrantProblem::CodeReused => {
                "the authorization code was already redeemed; the tokens issued for it have been revoked (RFC 6749 §4.1.2)"
            }
            GrantProblem::CodeClientMismatch => "the authorization code was issued to another client",
            GrantProblem::RedirectUriMismatch => {
                "redirect_uri does not match the one sent in the authorization request (RFC 6749 §4.1.3)"
            }
            GrantProblem::PkceMismatch => {
                "PKCE verification failed: code_verifier does not match code_challenge"
            }
            GrantProblem::PkceVerifierMissing => {
                "code_verifier is required: the authorization request carried a code_challenge"
            }
            GrantProblem::PkceVerifierUnexpected => {
                "code_verifier sent but the authorization request carried no code_challenge"
            }
            GrantProblem::RefreshUnknown => "the refresh token is not valid: it was never issued by this IdP",
            GrantProblem::RefreshExpired => "the refresh token has expired",
            GrantProblem::RefreshRevoked => "the refresh token has been revoked",
            GrantProblem::RefreshReused => {
                "the refresh token was already used and rotated out; the grant has been revoked"
            }
            GrantProblem::RefreshClientMismatch => "the refresh token was issued to another client",
            GrantProblem::UserGone => "the user of this grant is disabled or no longer exists",
            GrantProblem::ScriptedCode => "the authorization code is invalid or expired",
            GrantProblem::ScriptedRefresh => "the refresh token is invalid, expired or revoked",
            GrantProblem::BadCredentials => "the username or password is wrong (or the user has no password)",
            GrantProblem::SubjectTokenInactive => {
                "subject_token is not an active access token of this IdP (unknown, expired or revoked)"
            }
        }
    }
}

/// What is wrong with a presented access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not issued here.
    Unknown,
    /// Past its lifetime.
    Expired,
    /// Revoked (directly, or with its grant).
    Revoked,
    /// Its user is disabled or deleted.
    UserGone,
}

impl TokenProblem {
    /// The standard description.
    pub fn describe(self) -> &'static str {
        match self {
            TokenProblem::Unknown => "the access token is not valid",
            TokenProblem::Expired => "the access token has expired",
            TokenProblem::Revoked => "the access token has been revoked",
            TokenProblem::UserGone => "the user of this token is disabled or no longer exists",
        }
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
    /// `None`: the grant's scopes (almost always; a refresh may narrow them).
    scopes: Option<ScopeSet>,
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
    pub pending: HashMap<String, PendingAuthorization>,
    /// `jti`s of client assertions already used (replay protection).
    pub assertions: crate::assertion::SeenAssertions,
    /// RFC 8628 device authorizations in flight.
    pub devices: crate::device::DeviceCodes,
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
        // Only reuse detection needs the record now: drop what the redemption checked.
        rec.redirect_uri = None;
        rec.pkce = None;
        let grant_id = rec.grant;
        let grant = &self.grants[&grant_id];
        if self.active_user(&grant.user).is_none() {
            return Err(GrantProblem::UserGone);
        }
        Ok(grant_id)
    }

    /// Stores a new access token.
    pub fn add_access_token(&mut self, token: &str, grant: u64, scopes: ScopeSet, expires_at: SystemTime) {
        let narrowed = self.grants.get(&grant).is_none_or(|g| g.scopes != scopes);
        self.access.insert(
            token.to_owned(),
            AccessRecord {
                grant,
                expires_at,
                scopes: narrowed.then_some(scopes),
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
    pub fn check_access_token(&self, token: &str, now: SystemTime) -> Result<AccessInfo, TokenProblem> {
        let rec = self.access.get(token).ok_or(TokenProblem::Unknown)?;
        let grant = self.grants.get(&rec.grant).ok_or(TokenProblem::Unknown)?;
        if rec.revoked || grant.revoked {
            return Err(TokenProblem::Revoked);
        }
        if now >= rec.expires_at {
            return Err(TokenProblem::Expired);
        }
        Ok(AccessInfo {
            grant: grant.clone(),
            scopes: rec.scopes.clone().unwrap_or_else(|| grant.scopes.clone()),
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
        self.devices.purge(now);
        self.assertions.purge(now);
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
