//! The vocabulary between the core and the personalities: what went wrong (semantically),
//! what a success contains, and small helpers for building provider-shaped responses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub use crate::device::DeviceProblem;
use crate::store::{GrantProblem, TokenProblem};
use crate::types::ScopeSet;

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

/// How client authentication failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientProblem {
    /// No credentials at all.
    Missing,
    /// An unparsable Authorization header.
    Malformed,
    /// No such client.
    Unknown,
    /// A method the provider or the client registration does not allow.
    MethodRefused,
    /// Wrong, missing or superfluous secret.
    WrongSecret,
}

/// Why the token (or revocation) endpoint refused a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenFailure {
    /// Missing/duplicated/malformed parameter.
    InvalidRequest(String),
    /// Client authentication failed. `basic` = the client used an Authorization header.
    InvalidClient {
        /// Which way it failed.
        problem: ClientProblem,
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
    /// A device-code poll that gets no tokens (yet): RFC 8628 §3.5.
    Device(DeviceProblem),
    /// An authorization grant assertion that does not hold (RFC 7523 §3.1: `invalid_grant`).
    BadAssertion(crate::assertion::AssertionProblem),
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
            TokenFailure::Device(p) => p.code(),
            TokenFailure::BadAssertion(_) => "invalid_grant",
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
            TokenFailure::Device(p) => Some(p.describe().to_owned()),
            TokenFailure::BadAssertion(p) => Some(p.description.clone()),
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
    InvalidToken(TokenProblem),
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

/// An `application/x-www-form-urlencoded` body (GitHub's default token response).
pub fn form_no_store(status: StatusCode, pairs: &[(String, String)]) -> Response {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// A deterministic decimal number of `digits` digits derived from `seed` (FNV-1a), for the
/// numeric user ids real providers use (GitHub, Google, Twitch…): the same user always gets
/// the same id, different users different ids.
pub fn stable_digits(seed: &str, digits: usize) -> String {
    let mut out = String::with_capacity(digits);
    let mut round = 0u64;
    while out.len() < digits {
        let mut h: u64 = 0xcbf29ce484222325 ^ round;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        out.push_str(&h.to_string());
        round += 1;
    }
    out.truncate(digits);
    if out.starts_with('0') {
        out.replace_range(0..1, "1");
    }
    out
}

/// A deterministic GUID (8-4-4-4-12 hex) derived from `seed` (Entra object and tenant ids).
pub fn stable_guid(seed: &str) -> String {
    let hex: String = stable_digits(&format!("guid:{seed}"), 40)
        .bytes()
        .zip(stable_digits(&format!("hex:{seed}"), 40).bytes())
        .map(|(a, b)| char::from_digit(u32::from((a - b'0') * 10 + (b - b'0')) % 16, 16).unwrap())
        .take(32)
        .collect();
    hyphenated(&hex)
}

/// A random GUID (trace and correlation ids in Microsoft errors).
pub fn random_guid() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("system random number generator failed");
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    hyphenated(&hex)
}

/// 32 hex digits as a GUID: 8-4-4-4-12.
fn hyphenated(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Random alphanumeric characters (Facebook's `fbtrace_id`).
pub fn random_alnum(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut b = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut b).expect("system random number generator failed");
    b.iter()
        .map(|x| CHARS[usize::from(*x) % CHARS.len()] as char)
        .collect()
}

/// `2026-11-23 09:51:07Z`, the timestamp format of Microsoft's error bodies.
pub fn timestamp(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_stable_and_distinct() {
        assert_eq!(stable_digits("alice", 21), stable_digits("alice", 21));
        assert_ne!(stable_digits("alice", 9), stable_digits("bob", 9));
        assert_eq!(stable_digits("alice", 21).len(), 21);
        let g = stable_guid("alice");
        assert_eq!(g.len(), 36);
        assert!(g.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_ne!(g, stable_guid("bob"));
    }
}
