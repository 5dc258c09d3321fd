//! Lint findings: client mistakes the IdP notices, said in plain words with the fix.
//!
//! A finding does not change what the IdP answers (strictness rules do that); it explains
//! a weakness that a real provider would silently tolerate. All wording lives here so the
//! request log, the admin API and the inspector say the same thing.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// What kind of mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LintCode {
    /// Authorization request without `state`.
    MissingState,
    /// `state` too short to be unguessable.
    WeakState,
    /// OIDC authorization request without `nonce`.
    MissingNonce,
    /// Authorization request without PKCE.
    MissingPkce,
    /// PKCE with `plain`.
    PkcePlain,
    /// `client_secret` in the URL query.
    SecretInQuery,
    /// `http` redirect URI.
    InsecureRedirectUri,
    /// A scope the IdP does not advertise.
    UnknownScope,
    /// Access token sent in the URL query.
    TokenInQuery,
    /// An authorization code presented a second time.
    CodeReused,
    /// `redirect_uri` missing at the token endpoint although sent at authorize.
    RedirectUriNotRepeated,
    /// A client sent credentials two ways at once.
    MultipleClientAuth,
    /// A refresh token that had been rotated out was presented again.
    RefreshTokenReused,
    /// Authorization request without `response_type`, at a provider that tolerates it.
    MissingResponseType,
    /// Token-style request with a JSON body, at a provider that takes it (GitHub).
    JsonBody,
}

/// How bad it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// A weakness.
    Warning,
    /// A security hole or a certain failure with real providers.
    Error,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Machine-readable kind.
    pub code: LintCode,
    /// Severity.
    pub severity: Severity,
    /// What was seen, in plain words (static text unless it quotes the request: the request
    /// log keeps thousands of findings).
    pub message: Cow<'static, str>,
    /// What to do about it.
    pub fix: Cow<'static, str>,
}

impl Finding {
    fn new(
        code: LintCode,
        severity: Severity,
        message: impl Into<Cow<'static, str>>,
        fix: impl Into<Cow<'static, str>>,
    ) -> Finding {
        Finding {
            code,
            severity,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// No `state`.
    pub(crate) fn missing_state() -> Finding {
        Finding::new(
            LintCode::MissingState,
            Severity::Error,
            "your app sent no `state`: it is open to login CSRF (an attacker can log a victim into the attacker's account)",
            "send a random, single-use `state` bound to the user's browser (e.g. in a cookie) and check it on return",
        )
    }
    /// No `state`, but a PKCE S256 challenge: RFC 9700 §2.1 lets PKCE carry the CSRF
    /// protection when the authorization server supports it.
    pub(crate) fn missing_state_with_pkce() -> Finding {
        Finding::new(
            LintCode::MissingState,
            Severity::Info,
            "your app sent no `state`; its PKCE S256 challenge protects the callback from login CSRF instead (RFC 9700 §2.1), as long as the verifier is kept for this browser only",
            "nothing is required; a random `state` still costs nothing and also protects providers that ignore PKCE",
        )
    }
    /// Short `state`.
    pub(crate) fn weak_state(len: usize) -> Finding {
        Finding::new(
            LintCode::WeakState,
            Severity::Warning,
            format!("your app's `state` is only {len} characters long: it may be guessable"),
            "use at least 128 bits of randomness (22+ base64url characters)",
        )
    }
    /// No `nonce`.
    pub(crate) fn missing_nonce() -> Finding {
        Finding::new(
            LintCode::MissingNonce,
            Severity::Warning,
            "your app asked for `openid` without a `nonce`: a stolen ID token can be replayed into its session",
            "send a random `nonce`, keep it with the login attempt and compare it with the ID token's `nonce` claim",
        )
    }
    /// No `nonce` in the code flow, with PKCE S256 (OIDC Core §3.1.2.1: optional there).
    pub(crate) fn missing_nonce_with_pkce() -> Finding {
        Finding::new(
            LintCode::MissingNonce,
            Severity::Info,
            "your app asked for `openid` in the code flow without a `nonce`; that is allowed (OIDC Core §3.1.2.1), and its PKCE S256 challenge already stops injected codes (RFC 9700 §2.1.1)",
            "nothing is required; a `nonce` also binds the ID token to this login",
        )
    }
    /// No PKCE.
    pub(crate) fn missing_pkce() -> Finding {
        Finding::new(
            LintCode::MissingPkce,
            Severity::Warning,
            "your app sent no `code_challenge`: an intercepted authorization code can be redeemed by someone else",
            "use PKCE with S256: send `code_challenge=BASE64URL(SHA256(verifier))` and `code_challenge_method=S256`, then `code_verifier` at the token endpoint",
        )
    }
    /// PKCE plain.
    pub(crate) fn pkce_plain() -> Finding {
        Finding::new(
            LintCode::PkcePlain,
            Severity::Warning,
            "your app used `code_challenge_method=plain`: the challenge is the verifier itself",
            "use `S256`",
        )
    }
    /// Secret in the query.
    pub(crate) fn secret_in_query() -> Finding {
        Finding::new(
            LintCode::SecretInQuery,
            Severity::Error,
            "your app put `client_secret` in the URL query: URLs end up in logs and proxies",
            "send the secret in the form body (client_secret_post) or an Authorization: Basic header",
        )
    }
    /// http redirect.
    pub(crate) fn insecure_redirect_uri(uri: &str, loopback: bool) -> Finding {
        let (severity, tail) = if loopback {
            (
                Severity::Info,
                " (fine on loopback for local development; real providers need https)",
            )
        } else {
            (Severity::Error, ": codes travel in clear text")
        };
        Finding::new(
            LintCode::InsecureRedirectUri,
            severity,
            format!("redirect_uri {uri} uses http{tail}"),
            "use an https redirect URI outside local development",
        )
    }
    /// Unknown scope.
    pub(crate) fn unknown_scope(scope: &str) -> Finding {
        Finding::new(
            LintCode::UnknownScope,
            Severity::Warning,
            format!(
                "scope `{scope}` is not in the IdP's scopes_supported; a real provider may reject the request"
            ),
            "request only scopes the provider documents (see the discovery document)",
        )
    }
    /// Token in query.
    pub(crate) fn token_in_query() -> Finding {
        Finding::new(
            LintCode::TokenInQuery,
            Severity::Warning,
            "your app sent the access token in the URL query: it ends up in logs",
            "send it as `Authorization: Bearer <token>`",
        )
    }
    /// Code reuse.
    pub(crate) fn code_reused() -> Finding {
        Finding::new(
            LintCode::CodeReused,
            Severity::Error,
            "your app redeemed the same authorization code twice; the IdP revoked the tokens issued for it",
            "redeem each code exactly once; do not retry the token request after a success (watch out for browser back/refresh on the callback)",
        )
    }
    /// redirect_uri not repeated.
    pub(crate) fn redirect_uri_not_repeated() -> Finding {
        Finding::new(
            LintCode::RedirectUriNotRepeated,
            Severity::Error,
            "your app sent `redirect_uri` at authorize but not at the token endpoint",
            "send the identical `redirect_uri` in the token request (RFC 6749 §4.1.3)",
        )
    }
    /// Two auth methods.
    pub(crate) fn multiple_client_auth() -> Finding {
        Finding::new(
            LintCode::MultipleClientAuth,
            Severity::Error,
            "your app authenticated with both an Authorization header and a client_secret in the body",
            "use exactly one client authentication method (RFC 6749 §2.3)",
        )
    }
    /// No `response_type` where the provider assumes `code`.
    pub(crate) fn missing_response_type(provider: &str) -> Finding {
        Finding::new(
            LintCode::MissingResponseType,
            Severity::Info,
            format!(
                "your app sent no `response_type`; {provider} assumes `code`, but OAuth 2.0 requires it and other providers refuse the request"
            ),
            "send response_type=code",
        )
    }
    /// Parameters posted as JSON, which only some providers take.
    pub(crate) fn json_body(provider: &str) -> Finding {
        Finding::new(
            LintCode::JsonBody,
            Severity::Info,
            format!(
                "your app posted its parameters as JSON; {provider} takes that, but OAuth 2.0 (RFC 6749 §4.1.3) and other providers require application/x-www-form-urlencoded"
            ),
            "post the parameters form-encoded if the code must work with another provider",
        )
    }
    /// Rotated refresh token reused.
    pub(crate) fn refresh_token_reused() -> Finding {
        Finding::new(
            LintCode::RefreshTokenReused,
            Severity::Error,
            "your app presented a refresh token that had already been rotated out; the IdP revoked the whole grant",
            "store the new refresh_token from every refresh response and use only the newest",
        )
    }
}
