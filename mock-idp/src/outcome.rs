//! Scripted outcomes: what an endpoint does instead of (or on top of) its normal answer.
//!
//! An [`Outcome`] is queued for an [`Endpoint`] with the script API
//! (`idp.on_token().once().respond(Outcome::invalid_grant())`) or `POST /__admin/outcomes`.
//! Two families behave differently, and the difference is deliberate:
//!
//! * **Infrastructure faults** — [`Outcome::ServerError`], [`Outcome::Status`],
//!   [`Outcome::Malformed`], [`Outcome::Stall`] — happen before the request is even looked
//!   at, as when the IdP itself is broken.
//! * **Everything else** applies to a request that passed every strictness check and would
//!   otherwise have succeeded: a client that sends a bad request still gets the error it
//!   deserves, and the queued outcome waits for the next valid request.
//!
//! Outcomes that name provider-specific failures (deny, invalid grant, revoked refresh
//! token…) are rendered in the wire shape of the IdP's personality.

use serde::{Deserialize, Serialize};

use crate::types::{Endpoint, ScopeSet, UserId};
use crate::users::UserPatch;

/// Faults planted in an ID token, after the OpenID Foundation RP test modules (names in
/// brackets). Strings are spoiled the way the OIDF suite does it: by appending `1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenFault {
    /// `iss` = issuer + `1` [oidcc-client-test-invalid-iss].
    InvalidIss,
    /// No `iss`.
    MissingIss,
    /// `aud` = client_id + `1` [oidcc-client-test-invalid-aud].
    InvalidAud,
    /// No `aud` [oidcc-client-test-missing-aud].
    MissingAud,
    /// `aud` = `[client, client + "1"]` without `azp` [invalid-secondary-aud]. Must be rejected.
    SecondaryAud,
    /// `aud` = `[client]` [valid-aud-as-array]. Valid: must be accepted.
    AudAsArray,
    /// No `sub` [oidcc-client-test-missing-sub].
    MissingSub,
    /// `sub` = real sub + `1` (refresh: [refresh-token-invalid-sub]).
    InvalidSub,
    /// No `iat` [oidcc-client-test-missing-iat].
    MissingIat,
    /// `iat` one week in the past [iat-is-week-in-past].
    IatWeekAgo,
    /// `iat` one hour in the future.
    IatInFuture,
    /// `nbf` one hour in the future.
    NbfInFuture,
    /// `exp` = now − 6 minutes [invalid-expired-exp].
    Expired,
    /// No `exp` [invalid-missing-exp].
    MissingExp,
    /// `nonce` = sent value + `1` [oidcc-client-test-nonce-invalid].
    InvalidNonce,
    /// No `nonce` although one was sent [invalid-missing-nonce].
    MissingNonce,
    /// `at_hash` does not match the access token [oidcc-client-test-invalid-athash].
    InvalidAtHash,
    /// No `at_hash`.
    MissingAtHash,
    /// Every signature byte XOR-ed with `0x5A` [oidcc-client-test-invalid-sig-rs256/es256].
    InvalidSignature,
    /// `alg: none`, empty signature [oidcc-client-test-idtoken-sig-none, invalid-null-alg].
    AlgNone,
    /// Signed by a key that is not in the JWKS, with a `kid` that is not there either (a
    /// different random one each time).
    UnknownKid,
    /// No `kid` in the header, signed with the active key [kid-absent-single-jwks]. Valid.
    NoKid,
    /// `alg: HS256` keyed with the IdP's public key bytes (algorithm confusion).
    Hs256WithPublicKey,
    /// Signed by an attacker key that is embedded in the header as `jwk`.
    EmbeddedJwk,
    /// `typ` header says `at+jwt` (an access token passed off as an ID token).
    WrongTyp,
    /// `alg: "None"`, empty signature (the capitalised spelling some libraries miss).
    AlgNoneCapitalized,
    /// `alg: "NONE"`, empty signature.
    AlgNoneUpper,
    /// No `alg` in the header at all, signed with the active key.
    MissingAlg,
    /// A genuine signature of another token (another subject) spliced onto this payload.
    SplicedSignature,
    /// `alg: HS256` keyed with the IdP's public key as PEM text.
    Hs256WithPublicPem,
    /// `alg: HS256` keyed with the JWK `n` (or `x`) text of the IdP's public key.
    Hs256WithJwkN,
    /// `alg: HS256` keyed with the client secret, MAC corrupted [oidcc-client-test-invalid-sig-hs256].
    Hs256CorruptedMac,
    /// Signed by an attacker key published at a `jku` URL the token names (on the mock, at
    /// [`crate::keys::ATTACKER_JWKS_PATH`]); a gateway must never fetch it.
    ForeignJku,
    /// `iss` with a trailing slash added (or removed, when it ends in one).
    IssTrailingSlash,
    /// `iss` in upper case.
    IssUppercase,
    /// `azp` names another client.
    ForeignAzp,
    /// `exp` 10 seconds in the past: inside any sensible clock-skew allowance (oauth4webapi's
    /// default is 30 s, openid-client's 60 s, mod_auth_openidc's 10 min). Valid.
    ExpiredWithinSkew,
    /// Issued 125 s ago, expired 120 s ago (a five-second token): past any sensible clock-skew
    /// allowance, with an `iat` too fresh for any rule on token age (so only the `exp` check
    /// can catch it).
    ExpiredTwoMinutesAgo,
    /// 100,000 extra claims (a multi-megabyte token): must be refused, quickly.
    OversizedClaims,
}

impl IdTokenFault {
    /// Every fault, for tests that iterate over them.
    pub const ALL: [IdTokenFault; 39] = [
        IdTokenFault::InvalidIss,
        IdTokenFault::MissingIss,
        IdTokenFault::InvalidAud,
        IdTokenFault::MissingAud,
        IdTokenFault::SecondaryAud,
        IdTokenFault::AudAsArray,
        IdTokenFault::MissingSub,
        IdTokenFault::InvalidSub,
        IdTokenFault::MissingIat,
        IdTokenFault::IatWeekAgo,
        IdTokenFault::IatInFuture,
        IdTokenFault::NbfInFuture,
        IdTokenFault::Expired,
        IdTokenFault::MissingExp,
        IdTokenFault::InvalidNonce,
        IdTokenFault::MissingNonce,
        IdTokenFault::InvalidAtHash,
        IdTokenFault::MissingAtHash,
        IdTokenFault::InvalidSignature,
        IdTokenFault::AlgNone,
        IdTokenFault::UnknownKid,
        IdTokenFault::NoKid,
        IdTokenFault::Hs256WithPublicKey,
        IdTokenFault::EmbeddedJwk,
        IdTokenFault::WrongTyp,
        IdTokenFault::AlgNoneCapitalized,
        IdTokenFault::AlgNoneUpper,
        IdTokenFault::MissingAlg,
        IdTokenFault::SplicedSignature,
        IdTokenFault::Hs256WithPublicPem,
        IdTokenFault::Hs256WithJwkN,
        IdTokenFault::Hs256CorruptedMac,
        IdTokenFault::ForeignJku,
        IdTokenFault::IssTrailingSlash,
        IdTokenFault::IssUppercase,
        IdTokenFault::ForeignAzp,
        IdTokenFault::ExpiredWithinSkew,
        IdTokenFault::ExpiredTwoMinutesAgo,
        IdTokenFault::OversizedClaims,
    ];

    /// Whether a correct relying party must still accept the token (the OIDF "must accept"
    /// cases). Everything else must be rejected.
    pub fn must_be_accepted(self) -> bool {
        matches!(
            self,
            IdTokenFault::AudAsArray
                | IdTokenFault::NoKid
                | IdTokenFault::MissingAtHash
                | IdTokenFault::ExpiredWithinSkew
        )
    }
}

/// Changes to an otherwise valid token response (the OIDF "must accept" token-response
/// variations, and a few that trip lax parsers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenResponseChange {
    /// `token_type` with every letter's case inverted (`bEARER`) [token-type-case-insensitivity].
    InvertTokenTypeCase,
    /// Neither `scope` nor `expires_in` [fapi1 no-scope-in-token-endpoint-response]. Valid.
    OmitScopeAndExpiresIn,
    /// No `expires_in` [token-endpoint-response-without-expires_in].
    OmitExpiresIn,
    /// No `scope` [no-scope-in-token-endpoint-response].
    OmitScope,
    /// No `id_token` although `openid` was granted.
    OmitIdToken,
    /// No `refresh_token`.
    OmitRefreshToken,
    /// No `access_token` (invalid response).
    OmitAccessToken,
    /// `token_type` = `mac` (unsupported type; must be rejected).
    UnsupportedTokenType,
}

/// Changes to the authorization response (the redirect back to the client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizeResponseChange {
    /// `state` = sent value + `1` (or `1` if none was sent).
    InvalidState,
    /// No `state`.
    MissingState,
    /// RFC 9207 `iss` = issuer + `1`.
    InvalidIss,
    /// No `iss` parameter.
    MissingIss,
    /// No `code` (an empty success response).
    MissingCode,
}

/// What an endpoint does for one request, instead of (or on top of) its normal answer.
///
/// Queued for an [`Endpoint`] with [`MockIdp::on`](crate::MockIdp::on) and friends, or
/// `POST /__admin/outcomes`. Two families behave differently, and the difference is
/// deliberate:
///
/// * **Infrastructure faults** — [`Outcome::ServerError`], [`Outcome::Status`],
///   [`Outcome::Malformed`], [`Outcome::Stall`] — happen before the request is even looked
///   at, as when the IdP itself is broken.
/// * **Everything else** applies to a request that passed every strictness check and would
///   otherwise have succeeded: a client that sends a bad request still gets the error it
///   deserves, and the queued outcome waits for the next valid request.
///
/// Outcomes that name provider-specific failures (deny, invalid grant, revoked refresh
/// token…) are rendered in the wire shape of the IdP's personality.
///
/// ```
/// use mock_idp::{Endpoint, IdTokenFault, Outcome};
///
/// let deny = Outcome::deny();
/// assert!(deny.applies_to(Endpoint::Authorize) && !deny.applies_to(Endpoint::Token));
/// let bad_iss = Outcome::id_token(IdTokenFault::InvalidIss);
/// assert_eq!(bad_iss.describe(), "id_token fault invalid_iss");
/// // The same outcome as the admin API writes it:
/// let json = r#"{"kind":"id_token","fault":"invalid_iss"}"#;
/// assert_eq!(serde_json::from_str::<Outcome>(json).unwrap(), bad_iss);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// The normal answer (what happens when nothing is scripted). Useful to let one
    /// request through ahead of queued failures, or with a delay.
    Success,
    /// authorize: log this user in and approve, without showing a page.
    Approve {
        /// The user to log in.
        user: UserId,
    },
    /// authorize: the user presses Deny/Cancel, rendered in the personality's shape.
    Deny,
    /// authorize: redirect back with this error (e.g. `invalid_scope`, `server_error`,
    /// `temporarily_unavailable`, `login_required`).
    AuthorizeError {
        /// The `error` parameter.
        error: String,
        /// The `error_description` parameter.
        #[serde(default)]
        description: Option<String>,
    },
    /// authorize: the user grants only these scopes (the rest is unticked on the consent
    /// page); the token response's `scope` shows the narrower grant.
    NarrowScope {
        /// The scopes granted (intersected with those requested).
        granted: ScopeSet,
    },
    /// authorize: approve, then spoil the redirect back.
    AuthorizeResponse {
        /// What to spoil.
        change: AuthorizeResponseChange,
    },
    /// token / refresh / userinfo / revocation: an OAuth error response with this status.
    /// `"kind": "oauth_error"` in the admin API (`"o_auth_error"`, serde's spelling before
    /// 0.3, is still read).
    #[serde(rename = "oauth_error", alias = "o_auth_error")]
    OAuthError {
        /// HTTP status.
        status: u16,
        /// The `error` code.
        error: String,
        /// The `error_description`.
        #[serde(default)]
        description: Option<String>,
    },
    /// token / refresh: the personality's "invalid grant" (bad or expired code, dead
    /// refresh token), e.g. GitHub's HTTP 200 `bad_verification_code`.
    InvalidGrant,
    /// token / refresh: succeed, with a fault planted in the ID token.
    IdToken {
        /// The fault.
        fault: IdTokenFault,
    },
    /// token / refresh: succeed, with the token response changed.
    TokenResponse {
        /// The change.
        change: TokenResponseChange,
    },
    /// refresh: succeed and rotate the refresh token this once, whatever the client's policy.
    RefreshRotated,
    /// refresh: the refresh token was revoked (user removed the app, password change);
    /// the grant is revoked for real, so later refreshes fail too.
    RefreshRevoked,
    /// refresh: the refresh token expired; it is expired for real from now on.
    RefreshExpired,
    /// userinfo: the user's data changes (for good) before the answer is made.
    UserChanged {
        /// The change.
        patch: UserPatch,
    },
    /// userinfo: `sub` = real sub + `invalid` [oidcc-client-test-userinfo-invalid-sub].
    UserinfoInvalidSub,
    /// discovery: `issuer` = real issuer + `INVALID` [discovery-issuer-mismatch].
    DiscoveryIssuerMismatch,
    /// Any endpoint: the IdP fails with a 5xx in the personality's shape.
    ServerError,
    /// Any endpoint: this raw response.
    Status {
        /// HTTP status.
        status: u16,
        /// Body.
        #[serde(default)]
        body: String,
        /// `Content-Type` (default `application/json`).
        #[serde(default)]
        content_type: Option<String>,
    },
    /// JSON endpoints: HTTP 200 with a truncated, unparsable JSON body.
    Malformed,
    /// Any endpoint: accept the request and never answer (until the IdP shuts down), to
    /// test client timeouts.
    Stall,
}

impl Outcome {
    /// The user presses Deny.
    pub fn deny() -> Outcome {
        Outcome::Deny
    }
    /// Approve as `user`.
    pub fn approve(user: impl Into<String>) -> Outcome {
        Outcome::Approve {
            user: UserId::new(user),
        }
    }
    /// Redirect back with `error` and an optional description.
    pub fn authorize_error(error: impl Into<String>, description: Option<&str>) -> Outcome {
        Outcome::AuthorizeError {
            error: error.into(),
            description: description.map(str::to_owned),
        }
    }
    /// The user grants only `granted` (space-separated).
    pub fn narrow_scope(granted: &str) -> Outcome {
        Outcome::NarrowScope {
            granted: ScopeSet::parse(granted, &[]),
        }
    }
    /// An OAuth JSON error with `status`.
    pub fn oauth_error(status: u16, error: impl Into<String>, description: Option<&str>) -> Outcome {
        Outcome::OAuthError {
            status,
            error: error.into(),
            description: description.map(str::to_owned),
        }
    }
    /// The personality's invalid-grant answer.
    pub fn invalid_grant() -> Outcome {
        Outcome::InvalidGrant
    }
    /// An ID token with `fault`.
    pub fn id_token(fault: IdTokenFault) -> Outcome {
        Outcome::IdToken { fault }
    }
    /// A token response with `change`.
    pub fn token_response(change: TokenResponseChange) -> Outcome {
        Outcome::TokenResponse { change }
    }
    /// The user's data changes before userinfo answers.
    pub fn user_changed(patch: UserPatch) -> Outcome {
        Outcome::UserChanged { patch }
    }
    /// A raw response.
    pub fn status(status: u16, body: impl Into<String>) -> Outcome {
        Outcome::Status {
            status,
            body: body.into(),
            content_type: None,
        }
    }

    /// Whether this is an infrastructure fault, which preempts every request check (see
    /// [`Outcome`]).
    pub fn is_infrastructure_fault(&self) -> bool {
        matches!(
            self,
            Outcome::ServerError | Outcome::Status { .. } | Outcome::Malformed | Outcome::Stall
        )
    }

    /// The endpoints this outcome makes sense for.
    pub fn applies_to(&self, endpoint: Endpoint) -> bool {
        use Endpoint as E;
        match self {
            Outcome::Success | Outcome::ServerError | Outcome::Status { .. } | Outcome::Stall => true,
            Outcome::Malformed => endpoint != E::Authorize && endpoint != E::EndSession,
            Outcome::Approve { .. }
            | Outcome::Deny
            | Outcome::AuthorizeError { .. }
            | Outcome::NarrowScope { .. }
            | Outcome::AuthorizeResponse { .. } => endpoint == E::Authorize,
            Outcome::OAuthError { .. } => {
                matches!(
                    endpoint,
                    E::Token
                        | E::Refresh
                        | E::Userinfo
                        | E::Revocation
                        | E::Introspection
                        | E::DeviceAuthorization
                )
            }
            Outcome::InvalidGrant | Outcome::IdToken { .. } | Outcome::TokenResponse { .. } => {
                matches!(endpoint, E::Token | E::Refresh)
            }
            Outcome::RefreshRotated | Outcome::RefreshRevoked | Outcome::RefreshExpired => {
                endpoint == E::Refresh
            }
            Outcome::UserChanged { .. } | Outcome::UserinfoInvalidSub => endpoint == E::Userinfo,
            Outcome::DiscoveryIssuerMismatch => endpoint == E::Discovery,
        }
    }

    /// The snake_case kind, as in the admin API.
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
            .unwrap_or_default()
    }

    /// A short human description for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            Outcome::IdToken { fault } => format!("id_token fault {}", snake(fault)),
            Outcome::TokenResponse { change } => format!("token response change {}", snake(change)),
            Outcome::AuthorizeResponse { change } => {
                format!("authorization response change {}", snake(change))
            }
            Outcome::Approve { user } => format!("approve as {user}"),
            Outcome::AuthorizeError { error, .. } => format!("authorize error {error}"),
            Outcome::OAuthError { status, error, .. } => format!("oauth error {status} {error}"),
            Outcome::Status { status, .. } => format!("raw status {status}"),
            Outcome::NarrowScope { granted } => {
                format!("narrow scope to {granted:?}", granted = granted.join(" "))
            }
            other => other.kind().replace('_', " "),
        }
    }
}

fn snake<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_json() {
        let o: Outcome = serde_json::from_str(r#"{"kind":"id_token","fault":"invalid_iss"}"#).unwrap();
        assert_eq!(o, Outcome::id_token(IdTokenFault::InvalidIss));
        assert_eq!(o.kind(), "id_token");
        assert_eq!(o.describe(), "id_token fault invalid_iss");
        let err = serde_json::from_str::<Outcome>(r#"{"kind":"approve","user":"x","usr":"y"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn applicability() {
        assert!(Outcome::deny().applies_to(Endpoint::Authorize));
        assert!(!Outcome::deny().applies_to(Endpoint::Token));
        assert!(Outcome::RefreshRevoked.applies_to(Endpoint::Refresh));
        assert!(!Outcome::RefreshRevoked.applies_to(Endpoint::Token));
        assert!(Outcome::ServerError.applies_to(Endpoint::Jwks));
        assert_eq!(IdTokenFault::ALL.len(), 39);
    }
}
