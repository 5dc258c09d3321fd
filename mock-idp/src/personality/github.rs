//! The [`GitHub`] personality: GitHub's OAuth 2.0 login (OAuth Apps by default, GitHub Apps as
//! an option).
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::context::{DeviceContext, ResourceContext, TokenContext, TokenSource};
use super::hooks::Hooks;
use super::profile::{Paths, PkceSupport, Profile, ProviderId, Resource};
use super::standard;
use super::wire::{
    AuthorizeFailure, BearerFailure, DeviceProblem, TokenFailure, TokenSuccess, form_no_store, json_no_store,
    stable_digits,
};
use crate::clients::{Client, Lifetimes, RefreshRotation};
use crate::store::{Grant, GrantProblem};
use crate::types::Endpoint;
use crate::users::User;

const DOCS: &str = "https://docs.github.com";

/// GitHub's OAuth 2.0 login (OAuth Apps by default, GitHub Apps as an option).
///
/// Not OpenID Connect: no discovery, no ID token, no nonce. Emulated: `/login/oauth/authorize`
/// and `/login/oauth/access_token`, whose answer is form-encoded unless the client sends
/// `Accept: application/json`, with errors carried **with HTTP 200** (`bad_verification_code`,
/// `incorrect_client_credentials`, `redirect_uri_mismatch`, `bad_refresh_token`) and an
/// `error_uri`; lowercase `bearer`; granted scopes reported comma-separated, also in the
/// `X-OAuth-Scopes` header of API responses; the REST API's `/user` (integer `id`, `email`
/// null unless public) and `/user/emails` (needs `user:email`); a `User-Agent` required by
/// the API (403 without); `{"message": "Bad credentials"}` for dead tokens.
///
/// Options: [`GitHub::app`] plays a GitHub App with expiring user tokens — `ghu_` access tokens
/// (8 h), `ghr_` refresh tokens (≈ 6 months) rotated on every refresh, which also kills the
/// old access token; and `unverified_user_email` when the user's primary email is not verified.
/// [`GitHub::legacy_pkce`] plays GitHub before July 2025, which ignored PKCE parameters.
///
/// Simplifications: github.com and api.github.com are one origin; the grant/token deletion
/// API (`DELETE /applications/{client_id}/…`) is not emulated. User attributes read
/// (`User::provider["github"]`): `id` (number), `email_private` (bool), `node_id`.
#[derive(Debug)]
pub struct GitHub {
    profile: Profile,
    app: bool,
}

impl GitHub {
    /// An OAuth App (the default): `gho_` tokens that never expire, no refresh tokens.
    pub fn oauth_app() -> GitHub {
        let profile = Profile {
            // github.com/login/oauth/authorize takes no response_type at all.
            response_type_required: false,
            resources: vec![Resource::get("/user/emails", "emails")],
            scopes_supported: [
                "repo",
                "read:user",
                "user:email",
                "user",
                "read:org",
                "gist",
                "notifications",
            ]
            .map(String::from)
            .to_vec(),
            default_scopes: "read:user user:email".into(),
            token_type: "bearer".into(),
            access_token_prefix: "gho_".into(),
            refresh_token_prefix: "ghr_".into(),
            access_token_bytes: 27,
            pkce_methods_advertised: vec![],
            client_auth_in_query: true,
            grant_type_optional: true,
            json_bodies: true,
            device_flow_by_client_id: true,
            redirect_uri_required_at_token: false,
            ..Profile::standard(
                ProviderId::Github,
                "GitHub",
                false,
                Paths {
                    discovery: None,
                    jwks: None,
                    authorize: "/login/oauth/authorize".into(),
                    token: "/login/oauth/access_token".into(),
                    userinfo: "/user".into(),
                    revocation: None,
                    end_session: None,
                    introspection: None,
                    device_authorization: Some("/login/device/code".into()),
                    device_verification: Some("/login/device".into()),
                },
            )
        };
        GitHub { profile, app: false }
    }

    /// A GitHub App with expiring user tokens.
    pub fn app() -> GitHub {
        let mut g = GitHub::oauth_app();
        g.app = true;
        g.profile.access_token_prefix = "ghu_".into();
        g.profile.refresh_revokes_access_tokens = true;
        g
    }

    /// GitHub before July 2025: PKCE parameters accepted and ignored.
    pub fn legacy_pkce(mut self) -> GitHub {
        self.profile.pkce = PkceSupport::Ignored;
        self
    }

    fn id(&self, user: &User) -> u64 {
        user.attr("github", "id")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| {
                stable_digits(&format!("github:{}", user.id), 8)
                    .parse()
                    .unwrap_or(1)
            })
    }
}

impl Default for GitHub {
    fn default() -> Self {
        GitHub::oauth_app()
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("application/json"))
}

/// Token-endpoint answers: JSON only when asked for, form-encoded otherwise.
fn negotiated(headers: &HeaderMap, status: StatusCode, pairs: Vec<(String, Value)>) -> Response {
    if wants_json(headers) {
        let mut resp = json_no_store(status, &Value::Object(pairs.into_iter().collect()));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        resp
    } else {
        let flat: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
            .collect();
        form_no_store(status, &flat)
    }
}

fn api_json(status: StatusCode, body: Value, scopes: Option<&str>) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response();
    let h = resp.headers_mut();
    if let Some(s) = scopes
        && let Ok(v) = HeaderValue::from_str(s)
    {
        h.insert("x-oauth-scopes", v);
        h.insert("x-accepted-oauth-scopes", HeaderValue::from_static(""));
    }
    h.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
    h.insert("x-ratelimit-remaining", HeaderValue::from_static("4999"));
    h.insert("x-ratelimit-used", HeaderValue::from_static("1"));
    h.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    resp
}

impl Hooks for GitHub {
    /// GitHub's device flow: codes for 15 minutes (`expires_in: 899`), a 5-second interval.
    fn device_code_lifetimes(&self) -> (std::time::Duration, std::time::Duration) {
        (
            std::time::Duration::from_secs(899),
            std::time::Duration::from_secs(5),
        )
    }

    /// `POST /login/device/code` answers form-encoded unless the client asks for JSON, like
    /// GitHub's token endpoint.
    fn device_authorization_response(&self, ctx: &DeviceContext<'_>) -> Response {
        negotiated(
            ctx.headers,
            StatusCode::OK,
            vec![
                ("device_code".into(), json!(ctx.device_code)),
                ("user_code".into(), json!(ctx.user_code)),
                ("verification_uri".into(), json!(ctx.verification_uri)),
                ("expires_in".into(), json!(ctx.expires_in)),
                ("interval".into(), json!(ctx.interval)),
            ],
        )
    }

    /// GitHub's REST API: `{"message":"Not Found","documentation_url":…,"status":"404"}`
    /// (`status` a string, present since 2024).
    fn not_found(&self, _path: &str) -> Response {
        api_json(
            StatusCode::NOT_FOUND,
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
            None,
        )
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn default_lifetimes(&self) -> Lifetimes {
        let mut l = Lifetimes {
            code: std::time::Duration::from_secs(600),
            ..Lifetimes::default()
        };
        if self.app {
            l.access_token = std::time::Duration::from_secs(28_800);
            l.refresh_token = std::time::Duration::from_secs(15_897_600);
        } else {
            // OAuth App tokens do not expire; a year stands in for "never".
            l.access_token = std::time::Duration::from_secs(365 * 24 * 3600);
        }
        l
    }

    fn subject(&self, user: &User) -> String {
        self.id(user).to_string()
    }

    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        let (error, description, anchor) = match failure {
            AuthorizeFailure::Denied => (
                "access_denied",
                "The user has denied your application access.",
                "access-denied",
            ),
            AuthorizeFailure::Scripted { error, description } => {
                let mut p = vec![("error".to_owned(), error.clone())];
                if let Some(d) = description {
                    p.push(("error_description".into(), d.clone()));
                }
                return p;
            }
            other => return standard::authorize_error(other),
        };
        vec![
            ("error".into(), error.into()),
            ("error_description".into(), description.into()),
            (
                "error_uri".into(),
                format!(
                    "{DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#{anchor}"
                ),
            ),
        ]
    }

    /// GitHub Apps refuse users whose primary email is not verified.
    fn check_code_exchange(
        &self,
        _form: &[(String, String)],
        _grant: &Grant,
        user: &User,
    ) -> Result<(), TokenFailure> {
        if self.app && !user.email_verified {
            return Err(TokenFailure::Scripted {
                status: 200,
                error: "unverified_user_email".into(),
                description: Some("The user must have a verified primary email.".into()),
            });
        }
        Ok(())
    }

    fn issues_refresh_token(&self, _grant: &Grant, client: &Client) -> bool {
        self.app && client.refresh_tokens
    }

    fn refresh_rotation(&self, _client: &Client) -> RefreshRotation {
        RefreshRotation::Rotate
    }

    fn token_success(&self, success: &TokenSuccess, ctx: &TokenContext<'_>) -> Response {
        let mut pairs: Vec<(String, Value)> = Vec::new();
        if let Some(t) = &success.access_token {
            pairs.push(("access_token".into(), json!(t)));
        }
        if self.app {
            if let Some(e) = success.expires_in {
                pairs.push(("expires_in".into(), json!(e)));
            }
            if let Some(r) = &success.refresh_token {
                pairs.push(("refresh_token".into(), json!(r)));
                pairs.push(("refresh_token_expires_in".into(), json!(15_897_600)));
            }
        }
        if let Some(s) = &success.scope {
            pairs.push(("scope".into(), json!(s.join(","))));
        }
        pairs.push(("token_type".into(), json!(success.token_type)));
        negotiated(ctx.headers, StatusCode::OK, pairs)
    }

    fn token_error(&self, failure: &TokenFailure, headers: &HeaderMap) -> Response {
        use GrantProblem as G;
        let (error, description, anchor) = match failure {
            TokenFailure::InvalidClient { .. } => (
                "incorrect_client_credentials",
                "The client_id and/or client_secret passed are incorrect.".to_owned(),
                "incorrect-client-credentials",
            ),
            TokenFailure::InvalidGrant(G::RedirectUriMismatch) => (
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.".to_owned(),
                "redirect-uri-mismatch2",
            ),
            TokenFailure::InvalidGrant(p) if p.is_refresh() => (
                "bad_refresh_token",
                "The refresh token passed is incorrect or expired.".to_owned(),
                "bad-refresh-token",
            ),
            TokenFailure::InvalidGrant(_) => (
                "bad_verification_code",
                "The code passed is incorrect or expired.".to_owned(),
                "bad-verification-code",
            ),
            TokenFailure::Device(p) => {
                // HTTP 200, like every GitHub token error; `slow_down` says the new interval.
                let description = match p {
                    DeviceProblem::AuthorizationPending => "The authorization request is still pending.",
                    DeviceProblem::SlowDown { .. } => {
                        "Too many requests have been made in the same timeframe."
                    }
                    DeviceProblem::ExpiredToken => "The device_code has expired.",
                    DeviceProblem::AccessDenied => "The authorization request was denied.",
                };
                let mut pairs = vec![
                    ("error".to_owned(), json!(p.code())),
                    ("error_description".into(), json!(description)),
                    (
                        "error_uri".into(),
                        json!(format!(
                            "https://docs.github.com/developers/apps/authorizing-oauth-apps#{}",
                            p.code().replace('_', "-")
                        )),
                    ),
                ];
                if let DeviceProblem::SlowDown { interval_secs } = p {
                    pairs.push(("interval".into(), json!(interval_secs)));
                }
                return negotiated(headers, StatusCode::OK, pairs);
            }
            TokenFailure::UnsupportedGrantType(_) => (
                "unsupported_grant_type",
                "The grant type is not supported.".to_owned(),
                "unsupported-grant-type",
            ),
            TokenFailure::Scripted {
                status,
                error,
                description,
            } => {
                let mut pairs = vec![("error".to_owned(), json!(error))];
                if let Some(d) = description {
                    pairs.push(("error_description".into(), json!(d)));
                }
                return negotiated(
                    headers,
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
                    pairs,
                );
            }
            other => (
                other.code(),
                other.description().unwrap_or_default(),
                "troubleshooting",
            ),
        };
        negotiated(
            headers,
            StatusCode::OK,
            vec![
                ("error".into(), json!(error)),
                ("error_description".into(), json!(description)),
                (
                    "error_uri".into(),
                    json!(format!(
                        "{DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#{anchor}"
                    )),
                ),
            ],
        )
    }

    fn resource_token_sources(&self) -> &'static [TokenSource] {
        &[TokenSource::Bearer, TokenSource::TokenScheme]
    }

    /// The REST API refuses requests without a `User-Agent`.
    fn check_resource_request(&self, _name: &str, ctx: &ResourceContext<'_>) -> Result<(), Box<Response>> {
        if ctx.headers.contains_key(header::USER_AGENT) {
            return Ok(());
        }
        Err(Box::new((
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n",
        )
            .into_response()))
    }

    fn resource_missing_scope(&self, name: &str, scopes: &crate::types::ScopeSet) -> Option<&'static str> {
        (name == "emails" && !scopes.contains("user:email") && !scopes.contains("user"))
            .then_some("user:email")
    }

    fn resource(&self, name: &str, ctx: &ResourceContext<'_>) -> Response {
        let user = ctx.user;
        let scopes = ctx.scopes.join(", ");
        let login = user.username.clone().unwrap_or_else(|| user.id.to_string());
        let private = user
            .attr("github", "email_private")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if name == "emails" {
            let emails: Vec<Value> = user
                .email
                .iter()
                .map(|e| {
                    json!({"email": e, "primary": true, "verified": user.email_verified,
                           "visibility": if private { "private" } else { "public" }})
                })
                .chain(std::iter::once(json!({
                    "email": format!("{}+{login}@users.noreply.github.com", self.id(user)),
                    "primary": user.email.is_none(), "verified": true, "visibility": Value::Null
                })))
                .collect();
            return api_json(StatusCode::OK, Value::Array(emails), Some(&scopes));
        }
        let id = self.id(user);
        // GitHub only lets a user show a verified address on their public profile.
        let public_email = if private || !user.email_verified {
            None
        } else {
            user.email.clone()
        };
        let node_id = user
            .attr("github", "node_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("MDQ6VXNlcj{id}"));
        api_json(
            StatusCode::OK,
            json!({
                "login": login,
                "id": id,
                "node_id": node_id,
                "avatar_url": user.picture.clone().unwrap_or_else(|| format!("https://avatars.githubusercontent.com/u/{id}?v=4")),
                "gravatar_id": "",
                "url": format!("https://api.github.com/users/{login}"),
                "html_url": format!("https://github.com/{login}"),
                "type": "User",
                "site_admin": false,
                "name": user.name,
                "company": null,
                "blog": "",
                "location": null,
                "email": public_email,
                "hireable": null,
                "bio": null,
                "twitter_username": null,
                "public_repos": 0,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": "2011-01-25T18:44:36Z",
                "updated_at": "2024-06-01T12:00:00Z"
            }),
            Some(&scopes),
        )
    }

    fn bearer_error(&self, failure: &BearerFailure, _resource: &str) -> Response {
        match failure {
            BearerFailure::InsufficientScope(_) => api_json(
                StatusCode::NOT_FOUND,
                json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user", "status": "404"}),
                None,
            ),
            BearerFailure::Missing => api_json(
                StatusCode::UNAUTHORIZED,
                json!({"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user", "status": "401"}),
                None,
            ),
            _ => api_json(
                StatusCode::UNAUTHORIZED,
                json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
                None,
            ),
        }
    }

    fn server_error(&self, endpoint: Endpoint) -> Response {
        match endpoint {
            Endpoint::Userinfo => api_json(StatusCode::INTERNAL_SERVER_ERROR, json!({"message": "Server Error"}), None),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!DOCTYPE html><html><head><title>Server Error · GitHub</title></head><body><h1>Whoa there!</h1><p>We had a problem serving this request.</p></body></html>",
            )
                .into_response(),
        }
    }
}
