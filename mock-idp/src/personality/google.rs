//! The [`Google`] personality: Google's OpenID Connect provider (Sign in with Google, web
//! server flow).
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::context::{
    AuthorizeContext, ClaimsContext, DeviceContext, DiscoveryContext, ResourceContext, TokenContext,
    TokenInfoContext, request_param,
};
use super::hooks::Hooks;
use super::profile::{Paths, Profile, ProviderId, Resource};
use super::standard;
use super::wire::{
    AuthorizeFailure, BearerFailure, ClientProblem, DeviceProblem, TokenFailure, TokenSuccess, json_no_store,
    stable_digits,
};
use crate::assertion::{AssertionFault, AssertionProblem};
use crate::clients::{Client, Lifetimes, RefreshRotation};
use crate::store::{Grant, GrantProblem};
use crate::types::{Endpoint, ScopeSet};
use crate::users::User;

const EMAIL_URL: &str = "https://www.googleapis.com/auth/userinfo.email";
const PROFILE_URL: &str = "https://www.googleapis.com/auth/userinfo.profile";
/// Google's token endpoint, the `aud` its service-account assertions name.
const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// How Google refuses a service account's assertion (RFC 7523 §2.1), by the check it failed
/// (the mock's own description stays in the request log): Google's status, error and words,
/// from the error table of Google's service-account guide ("Invalid JWT Signature.", "Invalid
/// email or User ID", …); an account Google does not know is an `invalid_client`.
fn assertion_refusal(problem: &AssertionProblem) -> (u16, &'static str, &'static str) {
    match problem.fault {
        // Signed with a key the account does not have (rotated, deleted, another account's).
        AssertionFault::Signature => (400, "invalid_grant", "Invalid JWT Signature."),
        // An account Google does not know: the client is not found.
        AssertionFault::UnknownIssuer => (401, "invalid_client", "The OAuth client was not found."),
        AssertionFault::Audience => (
            400,
            "invalid_grant",
            "Invalid JWT: Failed audience check. The right audience is https://oauth2.googleapis.com/token",
        ),
        AssertionFault::Lifetime => (
            400,
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. \
             Check your 'iat' and 'exp' values and use a clock with skew to account for clock \
             differences between systems.",
        ),
        // Domain-wide delegation to a person the domain does not have.
        AssertionFault::UnknownSubject => (400, "invalid_grant", "Invalid email or User ID"),
        AssertionFault::Malformed | AssertionFault::Replay => (400, "invalid_grant", "Bad Request"),
    }
}

/// Google's OpenID Connect provider (Sign in with Google, web server flow).
///
/// Emulated: discovery as Google publishes it (PKCE `plain` and `S256` advertised, no RFC 9207
/// flag although `iss` is sent on the callback); the callback's extra parameters (`scope`
/// expanded to URL form, `authuser`, `prompt`, `hd`); `ya29.` access tokens with
/// `expires_in: 3599`; refresh tokens (`1//`) only for `access_type=offline` on a login that
/// showed the consent screen, never rotated; ID tokens with `azp`, `hd`, no `auth_time`
/// unless `max_age` was sent; numeric-string `sub`; errors as Google words them.
///
/// Simplifications: one origin serves what Google splits over accounts.google.com,
/// oauth2.googleapis.com, openidconnect.googleapis.com and www.googleapis.com, so paths keep
/// Google's but the host is the mock's. Descriptions marked † in providers.md are unverified.
///
/// User attributes read (`User::provider["google"]`): `sub` (string) overrides the numeric id.
/// Option: [`Google::issuer_without_scheme`] puts `iss` without `https://` in ID tokens, as
/// Google still does for some tokens.
#[derive(Debug)]
pub struct Google {
    profile: Profile,
    schemeless_iss: bool,
}

impl Google {
    /// Google as it behaves today.
    pub fn new() -> Google {
        let profile = Profile {
            resources: vec![Resource::get("/oauth2/v3/userinfo", "userinfo")],
            scopes_supported: ["openid", "email", "profile"].map(String::from).to_vec(),
            access_token_prefix: "ya29.a0".into(),
            refresh_token_prefix: "1//0g".into(),
            access_token_bytes: 120,
            iss_in_authorization_response: true,
            advertise_iss_parameter: false,
            pkce_methods_advertised: vec!["plain".into(), "S256".into()],
            pkce_plain_accepted: true,
            revocation_client_auth: false,
            // Google's token endpoint before `oauth2.googleapis.com/token`: deprecated by Google
            // (googleapis/node-gtoken#466) yet the default of passport-google-oauth20 2.0, which
            // 3.5 million installs a month still log in with.
            token_path_aliases: vec!["/oauth2/v4/token".into()],
            // `https://oauth2.googleapis.com/tokeninfo`: how an API checks a Google access
            // token (google-auth-library's `getTokenInfo`).
            token_info: Some("/tokeninfo".into()),
            // What Google's libraries sign as a service account assertion's `aud`: Google's own
            // token URLs, for `/token` and its alias, whatever host the request goes to.
            grant_assertion_audiences: vec![
                TOKEN_URL.into(),
                "https://www.googleapis.com/oauth2/v4/token".into(),
            ],
            // Service accounts: a JWT signed with the account's key, no client authentication.
            jwt_bearer: true,
            ..Profile::standard(
                ProviderId::Google,
                "Google",
                true,
                Paths {
                    discovery: Some("/.well-known/openid-configuration".into()),
                    jwks: Some("/oauth2/v3/certs".into()),
                    authorize: "/o/oauth2/v2/auth".into(),
                    token: "/token".into(),
                    userinfo: "/v1/userinfo".into(),
                    revocation: Some("/revoke".into()),
                    end_session: None,
                    introspection: None,
                    device_authorization: Some("/device/code".into()),
                    device_verification: Some("/device".into()),
                },
            )
        };
        Google {
            profile,
            schemeless_iss: false,
        }
    }

    /// ID tokens carry `iss` without the scheme (`accounts.google.com`), which Google's own
    /// guidance tells relying parties to accept.
    pub fn issuer_without_scheme(mut self) -> Google {
        self.schemeless_iss = true;
        self
    }
}

impl Default for Google {
    fn default() -> Self {
        Google::new()
    }
}

/// `openid email profile` as Google echoes it on the callback.
fn callback_scope(granted: &ScopeSet) -> String {
    let mut out: Vec<&str> = Vec::new();
    for short in ["email", "profile"] {
        if granted.contains(short) {
            out.push(short);
        }
    }
    if granted.contains("profile") {
        out.push(PROFILE_URL);
    }
    if granted.contains("openid") {
        out.push("openid");
    }
    if granted.contains("email") {
        out.push(EMAIL_URL);
    }
    out.extend(
        granted
            .iter()
            .map(|s| s.as_str())
            .filter(|s| !["openid", "email", "profile"].contains(s)),
    );
    out.join(" ")
}

/// The token response's `scope`: URL forms and `openid`.
fn token_scope(granted: &ScopeSet) -> String {
    let mut out: Vec<&str> = Vec::new();
    if granted.contains("profile") {
        out.push(PROFILE_URL);
    }
    if granted.contains("email") {
        out.push(EMAIL_URL);
    }
    if granted.contains("openid") {
        out.push("openid");
    }
    out.extend(
        granted
            .iter()
            .map(|s| s.as_str())
            .filter(|s| !["openid", "email", "profile"].contains(s)),
    );
    out.join(" ")
}

/// Whether the scopes release the email: `email` or its URL form, which Google grants alike.
fn releases_email(scopes: &ScopeSet) -> bool {
    scopes.contains("email") || scopes.contains(EMAIL_URL)
}

/// The user's claims the scopes release; `profile` and `email` in either form (Google grants
/// `https://www.googleapis.com/auth/userinfo.email` as it grants `email`: a service account
/// acting for a person asks for the URL form).
fn google_claims(user: &User, scopes: &ScopeSet) -> Map<String, Value> {
    let mut c = Map::new();
    if scopes.contains("profile") || scopes.contains(PROFILE_URL) {
        for (k, v) in [
            ("name", &user.name),
            ("given_name", &user.given_name),
            ("family_name", &user.family_name),
            ("picture", &user.picture),
        ] {
            if let Some(v) = v {
                c.insert(k.into(), json!(v));
            }
        }
    }
    if releases_email(scopes)
        && let Some(e) = &user.email
    {
        c.insert("email".into(), json!(e));
        c.insert("email_verified".into(), json!(user.email_verified));
    }
    for k in ["hd", "locale"] {
        if let Some(v) = user.claims.get(k) {
            c.insert(k.into(), v.clone());
        }
    }
    c
}

impl Hooks for Google {
    /// Google's device flow (`/device/code`): codes for 30 minutes, `verification_url` (not
    /// `_uri`), no `verification_uri_complete`.
    fn device_code_lifetimes(&self) -> (std::time::Duration, std::time::Duration) {
        (
            std::time::Duration::from_secs(1800),
            std::time::Duration::from_secs(5),
        )
    }

    fn device_authorization_response(&self, ctx: &DeviceContext<'_>) -> Response {
        json_no_store(
            StatusCode::OK,
            &json!({
                "device_code": ctx.device_code,
                "user_code": ctx.user_code,
                "expires_in": ctx.expires_in,
                "interval": ctx.interval,
                "verification_url": ctx.verification_uri,
            }),
        )
    }

    /// Google's userinfo answers a token granted any of `openid`, `email`, `profile` (or their
    /// `userinfo.*` URL forms): passport-google-oauth20's documented `scope: ['profile']` works.
    fn resource_missing_scope(&self, name: &str, scopes: &ScopeSet) -> Option<&'static str> {
        const ANY: [&str; 5] = [
            "openid",
            "email",
            "profile",
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/userinfo.profile",
        ];
        (name == "userinfo" && !ANY.iter().any(|s| scopes.contains(s))).then_some("openid")
    }

    /// Google's front ends answer an unknown path with their HTML page, never JSON (a
    /// captured `oauth2.googleapis.com` 404: `Error 404 (Not Found)!!1`).
    fn not_found(&self, path: &str) -> Response {
        let path = path
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
            format!(
                "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title>\
                 <p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL <code>{path}</code> was not found on this server.  <ins>That’s all we know.</ins>"
            ),
        )
            .into_response()
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn default_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: std::time::Duration::from_secs(3599),
            ..Lifetimes::default()
        }
    }

    fn subject(&self, user: &User) -> String {
        user.attr("google", "sub")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| stable_digits(&format!("google:{}", user.id), 21))
    }

    fn discovery(&self, ctx: &DiscoveryContext<'_>) -> Option<Value> {
        let p = &self.profile.paths;
        let url = |path: &str| format!("{}{path}", ctx.base);
        Some(json!({
            "issuer": ctx.issuer,
            "authorization_endpoint": url(&p.authorize),
            "device_authorization_endpoint": url("/device/code"),
            "token_endpoint": url(&p.token),
            "userinfo_endpoint": url(&p.userinfo),
            "revocation_endpoint": url("/revoke"),
            "jwks_uri": url("/oauth2/v3/certs"),
            "response_types_supported": ["code", "token", "id_token", "code token", "code id_token",
                                         "token id_token", "code token id_token", "none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat",
                                 "iss", "name", "picture", "sub"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token",
                                      "urn:ietf:params:oauth:grant-type:device_code",
                                      "urn:ietf:params:oauth:grant-type:jwt-bearer"]
        }))
    }

    fn authorize_success_params(&self, ctx: &AuthorizeContext<'_>) -> Vec<(String, String)> {
        let mut p = vec![
            ("scope".to_owned(), callback_scope(ctx.granted)),
            ("authuser".to_owned(), "0".to_owned()),
        ];
        if let Some(hd) = ctx.user.claims.get("hd").and_then(Value::as_str) {
            p.push(("hd".into(), hd.to_owned()));
        }
        let prompt = if request_param(ctx.request, "prompt").is_some_and(|v| v.contains("consent")) {
            "consent"
        } else {
            "none"
        };
        p.push(("prompt".into(), prompt.into()));
        p
    }

    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        match failure {
            // Google sends no description on denial.
            AuthorizeFailure::Denied => vec![("error".into(), "access_denied".into())],
            other => standard::authorize_error(other),
        }
    }

    /// Refresh tokens only for `access_type=offline` on a login that showed the consent
    /// screen; silent re-logins get none (quirk 1).
    fn issues_refresh_token(&self, grant: &Grant, client: &Client) -> bool {
        client.refresh_tokens
            && request_param(&grant.request, "access_type") == Some("offline")
            && grant.consent_shown
    }

    fn refresh_rotation(&self, _client: &Client) -> RefreshRotation {
        RefreshRotation::Never
    }

    fn id_token_claims(&self, claims: &mut Map<String, Value>, ctx: &ClaimsContext<'_>) {
        let keep: Map<String, Value> = google_claims(ctx.user, &ctx.grant.scopes);
        for k in [
            "name",
            "given_name",
            "family_name",
            "picture",
            "email",
            "email_verified",
            "preferred_username",
        ] {
            claims.remove(k);
        }
        claims.extend(keep);
        claims.insert("azp".into(), json!(ctx.grant.client.as_str()));
        if request_param(&ctx.grant.request, "max_age").is_none() {
            claims.remove("auth_time");
        }
        if self.schemeless_iss
            && let Some(iss) = claims.get("iss").and_then(Value::as_str)
        {
            let bare = iss.split_once("://").map_or(iss, |(_, rest)| rest).to_owned();
            claims.insert("iss".into(), json!(bare));
        }
    }

    fn token_success(&self, success: &TokenSuccess, _ctx: &TokenContext<'_>) -> Response {
        let mut body = standard::token_body(success);
        if let Some(scope) = &success.scope {
            body.insert("scope".into(), json!(token_scope(scope)));
        }
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        use GrantProblem as G;
        if let TokenFailure::Device(p) = failure {
            // Google's statuses for the device flow: 428 while pending, 403 for slow_down and
            // access_denied, 400 for an expired code.
            let (status, description) = match p {
                DeviceProblem::AuthorizationPending => (428, "Precondition Required"),
                DeviceProblem::SlowDown { .. } => (403, "Forbidden"),
                DeviceProblem::AccessDenied => (403, "Forbidden"),
                DeviceProblem::ExpiredToken => (400, "Bad Request"),
            };
            return json_no_store(
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                &json!({"error": p.code(), "error_description": description}),
            );
        }
        let (status, error, description) = match failure {
            TokenFailure::InvalidClient {
                problem: ClientProblem::Unknown,
                ..
            } => (401, "invalid_client", "The OAuth client was not found."),
            TokenFailure::InvalidClient { .. } => (401, "invalid_client", "Unauthorized"),
            TokenFailure::InvalidGrant(G::RedirectUriMismatch) => {
                (400, "redirect_uri_mismatch", "Bad Request")
            }
            TokenFailure::InvalidGrant(G::PkceVerifierMissing) => {
                (400, "invalid_grant", "Missing code verifier.")
            }
            TokenFailure::InvalidGrant(G::PkceMismatch) => (400, "invalid_grant", "Invalid code verifier."),
            TokenFailure::InvalidGrant(p) if p.is_refresh() => {
                (400, "invalid_grant", "Token has been expired or revoked.")
            }
            TokenFailure::InvalidGrant(G::UserGone) => (400, "invalid_grant", "Account has been deleted"),
            TokenFailure::InvalidGrant(_) => (400, "invalid_grant", "Bad Request"),
            TokenFailure::BadAssertion(reason) => assertion_refusal(reason),
            other => return standard::token_error(other),
        };
        json_no_store(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            &json!({"error": error, "error_description": description}),
        )
    }

    /// Google's `/tokeninfo` for an access token: the client as `azp` and `aud`, the scopes in
    /// Google's spelling, `exp` and `expires_in` as strings; `sub`, and with the email scope
    /// `email` and `email_verified` (a string), when the token is a person's. Google also sends
    /// `access_type`; the mock does not know whether the app asked for offline access, so it
    /// leaves it out rather than guess.
    fn token_info(&self, ctx: &TokenInfoContext<'_>) -> Response {
        let mut info = standard::token_info(ctx, ctx.user.map(|u| self.subject(u)));
        info.insert("scope".into(), json!(token_scope(ctx.scopes)));
        info.insert("exp".into(), json!(ctx.exp.to_string()));
        info.insert("expires_in".into(), json!(ctx.expires_in.to_string()));
        if let Some(user) = ctx.user
            && releases_email(ctx.scopes)
            && let Some(email) = &user.email
        {
            info.insert("email".into(), json!(email));
            info.insert("email_verified".into(), json!(user.email_verified.to_string()));
        }
        (StatusCode::OK, axum::Json(Value::Object(info))).into_response()
    }

    fn resource(&self, _name: &str, ctx: &ResourceContext<'_>) -> Response {
        let mut c = Map::new();
        c.insert("sub".into(), json!(self.subject(ctx.user)));
        c.extend(google_claims(ctx.user, ctx.scopes));
        (StatusCode::OK, axum::Json(Value::Object(c))).into_response()
    }

    fn bearer_error(&self, failure: &BearerFailure, _resource: &str) -> Response {
        let (status, body) = match failure {
            BearerFailure::InsufficientScope(_) => (
                StatusCode::FORBIDDEN,
                json!({"error": "insufficient_scope", "error_description": "Insufficient Permission"}),
            ),
            _ => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_request", "error_description": "Invalid Credentials"}),
            ),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
            ),
        );
        resp
    }

    fn server_error(&self, endpoint: Endpoint) -> Response {
        match endpoint {
            Endpoint::Authorize | Endpoint::EndSession => standard::html_server_error(),
            _ => json_no_store(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": "internal_failure", "error_description": "Backend Error"}),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_echoed_expanded_like_google() {
        let s = ScopeSet::parse("openid email profile", &[]);
        assert_eq!(
            callback_scope(&s),
            "email profile https://www.googleapis.com/auth/userinfo.profile openid https://www.googleapis.com/auth/userinfo.email"
        );
        assert_eq!(
            token_scope(&s),
            "https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email openid"
        );
    }
}
