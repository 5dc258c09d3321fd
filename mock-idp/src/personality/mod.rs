//! Provider personalities: how one IdP looks and talks on the wire.
//!
//! The core (codes, tokens, sessions, strictness, scripting) is the same for every
//! provider. What differs — paths, discovery, scope separators, token formats, and above
//! all the *shape* of every answer and error — is a personality: a [`Profile`] of data plus
//! the hooks of the [`Personality`] trait. Every hook has a default that speaks plain
//! RFC 6749 / OpenID Connect, so a personality overrides only where its provider really
//! differs (oauth2-proxy's one-file-per-provider layout, inverted).
//!
//! The core reports failures semantically ([`AuthorizeFailure`], [`TokenFailure`],
//! [`BearerFailure`]); the personality decides the bytes.
//!
//! Adding a provider = one file in this folder implementing [`Personality`], plus one line
//! in [`ProviderId`] and [`personality_for`].

mod oidc;

use std::fmt;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::types::{Endpoint, ScopeSet};

pub use oidc::Oidc;

/// The provider a personality plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderId {
    /// A spec-exact OpenID Provider (the default): strict, complete discovery, RFC errors.
    #[default]
    Oidc,
}

impl ProviderId {
    /// Every provider id.
    pub const ALL: [ProviderId; 1] = [ProviderId::Oidc];

    /// The id as used on the command line and in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderId::Oidc => "oidc",
        }
    }
    /// Parses an id.
    pub fn parse(value: &str) -> Option<ProviderId> {
        ProviderId::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The personality implementing a provider id.
pub fn personality_for(id: ProviderId) -> Box<dyn Personality> {
    match id {
        ProviderId::Oidc => Box::new(Oidc::new()),
    }
}

/// Where each endpoint lives, relative to the IdP's origin. `None`: the provider has no such
/// endpoint (the route answers 404).
#[derive(Clone, Debug, Serialize)]
pub struct Paths {
    /// Discovery document.
    pub discovery: Option<String>,
    /// JWKS.
    pub jwks: Option<String>,
    /// Authorization endpoint.
    pub authorize: String,
    /// Token endpoint.
    pub token: String,
    /// Userinfo / profile endpoint.
    pub userinfo: String,
    /// Revocation endpoint.
    pub revocation: Option<String>,
    /// End-session endpoint.
    pub end_session: Option<String>,
}

/// The data part of a personality.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    /// Which provider.
    pub id: ProviderId,
    /// Human name for pages ("Google").
    pub display_name: String,
    /// Whether the provider speaks OpenID Connect (ID tokens, discovery, nonce).
    pub oidc: bool,
    /// Endpoint paths.
    pub paths: Paths,
    /// Characters besides space that separate scopes in requests.
    pub scope_separators: Vec<char>,
    /// Scopes the provider advertises (lint: anything else is flagged).
    pub scopes_supported: Vec<String>,
    /// Scopes a fresh client asks for in examples.
    pub default_scopes: String,
    /// `token_type` in token responses.
    pub token_type: String,
    /// Prefix of access tokens (`gho_`, `ya29.`, `Atza|`).
    pub access_token_prefix: String,
    /// Prefix of refresh tokens.
    pub refresh_token_prefix: String,
    /// Whether the authorization response carries RFC 9207 `iss`.
    pub iss_in_authorization_response: bool,
    /// Whether discovery advertises RFC 9207 support.
    pub advertise_iss_parameter: bool,
    /// PKCE methods advertised (`S256`, `plain`), empty for "not advertised".
    pub pkce_methods_advertised: Vec<String>,
}

/// Why an authorization request failed after the redirect URI was validated (the answer
/// is a redirect back to the client carrying an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeFailure {
    /// The user pressed Deny / Cancel.
    Denied,
    /// `prompt=none` and no IdP session.
    LoginRequired,
    /// `prompt=none` and consent has not been given.
    ConsentRequired,
    /// A parameter is missing, repeated or invalid.
    InvalidRequest(String),
    /// A requested scope is not allowed.
    InvalidScope(String),
    /// `response_type` not supported.
    UnsupportedResponseType(String),
    /// Scripted error.
    Scripted {
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
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
        }
    }
}

/// Why the token (or revocation) endpoint refused a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenFailure {
    /// Missing/duplicated/malformed parameter.
    InvalidRequest(String),
    /// Client authentication failed. `basic` = the client used an Authorization header.
    InvalidClient {
        /// What failed.
        description: String,
        /// Whether `Authorization: Basic` was used (then `WWW-Authenticate` is required).
        basic: bool,
    },
    /// Bad code or refresh token.
    InvalidGrant(GrantProblem),
    /// The client may not use this grant.
    UnauthorizedClient(String),
    /// Unknown `grant_type`.
    UnsupportedGrantType(String),
    /// Scope not a subset of the grant.
    InvalidScope(String),
    /// Scripted error body.
    Scripted {
        /// Status.
        status: u16,
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
}

impl TokenFailure {
    /// The RFC 6749 error code.
    pub fn code(&self) -> &str {
        match self {
            TokenFailure::InvalidRequest(_) => "invalid_request",
            TokenFailure::InvalidClient { .. } => "invalid_client",
            TokenFailure::InvalidGrant(_) => "invalid_grant",
            TokenFailure::UnauthorizedClient(_) => "unauthorized_client",
            TokenFailure::UnsupportedGrantType(_) => "unsupported_grant_type",
            TokenFailure::InvalidScope(_) => "invalid_scope",
            TokenFailure::Scripted { error, .. } => error,
        }
    }
    /// The description the standard personality sends.
    pub fn description(&self) -> Option<String> {
        match self {
            TokenFailure::InvalidRequest(d)
            | TokenFailure::UnauthorizedClient(d)
            | TokenFailure::UnsupportedGrantType(d)
            | TokenFailure::InvalidScope(d) => Some(d.clone()),
            TokenFailure::InvalidClient { description, .. } => Some(description.clone()),
            TokenFailure::InvalidGrant(p) => Some(p.describe().to_owned()),
            TokenFailure::Scripted { description, .. } => description.clone(),
        }
    }
}

/// Why a bearer-token request (userinfo) was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BearerFailure {
    /// No token at all (RFC 6750 §3.1: no error code).
    Missing,
    /// Token sent in more than one way, or malformed header.
    InvalidRequest(String),
    /// Unknown, expired or revoked token, or its user is gone.
    InvalidToken(String),
    /// The token lacks a scope this endpoint needs.
    InsufficientScope(String),
}

/// A successful token response, before the personality shapes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSuccess {
    /// Access token.
    pub access_token: Option<String>,
    /// `token_type`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: Option<u64>,
    /// Refresh token.
    pub refresh_token: Option<String>,
    /// Granted scopes.
    pub scope: Option<ScopeSet>,
    /// ID token.
    pub id_token: Option<String>,
}

/// What the discovery hook needs.
#[derive(Clone, Debug)]
pub struct DiscoveryContext<'a> {
    /// The issuer identifier.
    pub issuer: &'a str,
    /// The IdP's origin (`http://127.0.0.1:PORT`).
    pub base: &'a str,
    /// ID-token algorithms on offer.
    pub signing_algs: Vec<&'static str>,
}

/// A provider personality. Every hook defaults to the standard (RFC/OIDC) behaviour.
pub trait Personality: Send + Sync + fmt::Debug + 'static {
    /// The data part.
    fn profile(&self) -> &Profile;

    /// The discovery document, or `None` when the provider publishes none.
    fn discovery(&self, ctx: &DiscoveryContext<'_>) -> Option<Value> {
        let p = self.profile();
        if !p.oidc {
            return None;
        }
        let url = |path: &Option<String>| path.as_ref().map(|p| Value::String(format!("{}{p}", ctx.base)));
        let mut doc = Map::new();
        doc.insert("issuer".into(), json!(ctx.issuer));
        doc.insert(
            "authorization_endpoint".into(),
            json!(format!("{}{}", ctx.base, p.paths.authorize)),
        );
        doc.insert(
            "token_endpoint".into(),
            json!(format!("{}{}", ctx.base, p.paths.token)),
        );
        doc.insert(
            "userinfo_endpoint".into(),
            json!(format!("{}{}", ctx.base, p.paths.userinfo)),
        );
        if let Some(v) = url(&p.paths.jwks) {
            doc.insert("jwks_uri".into(), v);
        }
        if let Some(v) = url(&p.paths.revocation) {
            doc.insert("revocation_endpoint".into(), v);
            doc.insert(
                "revocation_endpoint_auth_methods_supported".into(),
                json!(["client_secret_basic", "client_secret_post", "none"]),
            );
        }
        if let Some(v) = url(&p.paths.end_session) {
            doc.insert("end_session_endpoint".into(), v);
        }
        doc.insert("scopes_supported".into(), json!(p.scopes_supported));
        doc.insert("response_types_supported".into(), json!(["code"]));
        doc.insert(
            "response_modes_supported".into(),
            json!(["query", "fragment", "form_post"]),
        );
        doc.insert(
            "grant_types_supported".into(),
            json!(["authorization_code", "refresh_token"]),
        );
        doc.insert("subject_types_supported".into(), json!(["public"]));
        doc.insert(
            "id_token_signing_alg_values_supported".into(),
            json!(ctx.signing_algs),
        );
        doc.insert(
            "token_endpoint_auth_methods_supported".into(),
            json!(["client_secret_basic", "client_secret_post", "none"]),
        );
        doc.insert(
            "claims_supported".into(),
            json!([
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "name",
                "given_name",
                "family_name",
                "preferred_username",
                "picture",
                "email",
                "email_verified"
            ]),
        );
        if !p.pkce_methods_advertised.is_empty() {
            doc.insert(
                "code_challenge_methods_supported".into(),
                json!(p.pkce_methods_advertised),
            );
        }
        doc.insert(
            "prompt_values_supported".into(),
            json!(["none", "login", "consent", "select_account"]),
        );
        doc.insert("claims_parameter_supported".into(), json!(false));
        doc.insert("request_parameter_supported".into(), json!(false));
        doc.insert("request_uri_parameter_supported".into(), json!(false));
        if p.advertise_iss_parameter {
            doc.insert(
                "authorization_response_iss_parameter_supported".into(),
                json!(true),
            );
        }
        Some(Value::Object(doc))
    }

    /// The parameters of an error redirect (`state` and `iss` are added by the core).
    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        let (error, description): (&str, Option<String>) = match failure {
            AuthorizeFailure::Denied => ("access_denied", Some("The user denied the request.".into())),
            AuthorizeFailure::LoginRequired => (
                "login_required",
                Some("prompt=none was requested but the user is not logged in.".into()),
            ),
            AuthorizeFailure::ConsentRequired => (
                "consent_required",
                Some("prompt=none was requested but the user has not consented to this client.".into()),
            ),
            AuthorizeFailure::InvalidRequest(d) => ("invalid_request", Some(d.clone())),
            AuthorizeFailure::InvalidScope(d) => ("invalid_scope", Some(d.clone())),
            AuthorizeFailure::UnsupportedResponseType(d) => ("unsupported_response_type", Some(d.clone())),
            AuthorizeFailure::Scripted { error, description } => (error.as_str(), description.clone()),
        };
        let mut params = vec![("error".to_owned(), error.to_owned())];
        if let Some(d) = description {
            params.push(("error_description".to_owned(), d));
        }
        params
    }

    /// A token-endpoint (or revocation) error response.
    fn token_error(&self, failure: &TokenFailure) -> Response {
        let status = match failure {
            TokenFailure::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            TokenFailure::Scripted { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
            }
            _ => StatusCode::BAD_REQUEST,
        };
        let mut body = Map::new();
        body.insert("error".into(), json!(failure.code()));
        if let Some(d) = failure.description() {
            body.insert("error_description".into(), json!(d));
        }
        let mut resp = json_no_store(status, &Value::Object(body));
        if let TokenFailure::InvalidClient { basic: true, .. } = failure {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"mock-idp\""),
            );
        }
        resp
    }

    /// A successful token response. `request_headers` lets a provider vary the format
    /// (GitHub answers form-encoded unless `Accept: application/json`).
    fn token_success(&self, success: &TokenSuccess, _request_headers: &HeaderMap) -> Response {
        let mut body = Map::new();
        if let Some(t) = &success.access_token {
            body.insert("access_token".into(), json!(t));
        }
        body.insert("token_type".into(), json!(success.token_type));
        if let Some(e) = success.expires_in {
            body.insert("expires_in".into(), json!(e));
        }
        if let Some(r) = &success.refresh_token {
            body.insert("refresh_token".into(), json!(r));
        }
        if let Some(s) = &success.scope {
            body.insert("scope".into(), json!(s.join(" ")));
        }
        if let Some(i) = &success.id_token {
            body.insert("id_token".into(), json!(i));
        }
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    /// The userinfo response for these claims.
    fn userinfo(&self, claims: Map<String, Value>) -> Response {
        (StatusCode::OK, axum::Json(Value::Object(claims))).into_response()
    }

    /// A refused bearer request (RFC 6750 §3).
    fn bearer_error(&self, failure: &BearerFailure) -> Response {
        let (status, challenge) = match failure {
            BearerFailure::Missing => (StatusCode::UNAUTHORIZED, "Bearer realm=\"mock-idp\"".to_owned()),
            BearerFailure::InvalidRequest(d) => (
                StatusCode::BAD_REQUEST,
                format!("Bearer realm=\"mock-idp\", error=\"invalid_request\", error_description=\"{d}\""),
            ),
            BearerFailure::InvalidToken(d) => (
                StatusCode::UNAUTHORIZED,
                format!("Bearer realm=\"mock-idp\", error=\"invalid_token\", error_description=\"{d}\""),
            ),
            BearerFailure::InsufficientScope(d) => (
                StatusCode::FORBIDDEN,
                format!("Bearer realm=\"mock-idp\", error=\"insufficient_scope\", error_description=\"{d}\""),
            ),
        };
        let body = match failure {
            // RFC 6750 §3.1: no authentication attempted, no error code.
            BearerFailure::Missing => {
                let mut resp = StatusCode::UNAUTHORIZED.into_response();
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                return resp;
            }
            BearerFailure::InvalidRequest(d) => json!({"error": "invalid_request", "error_description": d}),
            BearerFailure::InvalidToken(d) => json!({"error": "invalid_token", "error_description": d}),
            BearerFailure::InsufficientScope(d) => {
                json!({"error": "insufficient_scope", "error_description": d})
            }
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }

    /// The provider's answer when it is broken (scripted `ServerError`).
    fn server_error(&self, endpoint: Endpoint) -> Response {
        if endpoint == Endpoint::Authorize || endpoint == Endpoint::EndSession {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!doctype html><title>Server error</title><h1>500 — the identity provider failed</h1>",
            )
                .into_response();
        }
        json_no_store(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": "server_error", "error_description": "The identity provider encountered an internal error."}),
        )
    }
}

/// JSON with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn json_no_store(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}
