//! The [`Twitch`] personality: Twitch's OpenID Connect provider (id.twitch.tv) and the Helix
//! API.
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::context::{
    ClaimsContext, DiscoveryContext, ResourceContext, TokenContext, TokenSource, request_param,
};
use super::hooks::Hooks;
use super::profile::{Paths, Profile, ProviderId, Resource};
use super::standard;
use super::wire::{
    AuthorizeFailure, BearerFailure, ClientProblem, TokenFailure, TokenSuccess, json_no_store, stable_digits,
};
use crate::clients::{Client, Lifetimes, RefreshRotation, TokenAuthMethod};
use crate::store::{Grant, GrantProblem};
use crate::types::Endpoint;
use crate::users::User;

/// Twitch's OpenID Connect provider (id.twitch.tv) and the Helix API.
///
/// Emulated: issuer `…/oauth2`; `/oauth2/authorize`, `/oauth2/token` (credentials in the body
/// or the query, no Basic), `/oauth2/userinfo`, `/oauth2/keys`, `/oauth2/revoke` (by
/// `client_id` and token), `/oauth2/validate` (`Authorization: OAuth <token>`), and Helix
/// `/helix/users`, which needs a `Client-Id` header matching the token's client and wraps the
/// user, whose `id` is a **string**, in `data[]` (quirk 8); token responses whose `scope` is a
/// **JSON array** and `token_type` lowercase `bearer`, and errors as `{"status", "message"}`
/// with no `error` member (quirk 7); email, picture and username claims only when asked for
/// with the `claims` request parameter; a fresh refresh token on each refresh.
///
/// Simplifications: id.twitch.tv and api.twitch.tv are one origin; rate-limit headers are
/// static. Wording marked † in providers.md is unverified.
#[derive(Debug)]
pub struct Twitch {
    profile: Profile,
}

impl Twitch {
    /// Twitch for a confidential client.
    pub fn new() -> Twitch {
        let profile = Profile {
            resources: vec![
                Resource::get("/oauth2/validate", "validate"),
                Resource::get("/helix/users", "helix_users"),
            ],
            scopes_supported: [
                "openid",
                "user:read:email",
                "user:read:follows",
                "chat:read",
                "analytics:read:games",
            ]
            .map(String::from)
            .to_vec(),
            default_scopes: "openid user:read:email".into(),
            token_type: "bearer".into(),
            access_token_bytes: 22,
            refresh_token_prefix: String::new(),
            pkce_methods_advertised: vec![],
            client_auth_methods: vec![TokenAuthMethod::ClientSecretPost, TokenAuthMethod::None],
            client_auth_in_query: true,
            revocation_client_auth: false,
            ..Profile::standard(
                ProviderId::Twitch,
                "Twitch",
                true,
                Paths {
                    discovery: Some("/oauth2/.well-known/openid-configuration".into()),
                    jwks: Some("/oauth2/keys".into()),
                    authorize: "/oauth2/authorize".into(),
                    token: "/oauth2/token".into(),
                    userinfo: "/oauth2/userinfo".into(),
                    revocation: Some("/oauth2/revoke".into()),
                    end_session: None,
                    introspection: None,
                    device_authorization: None,
                    device_verification: None,
                },
            )
        };
        Twitch { profile }
    }

    fn id(user: &User) -> String {
        user.attr("twitch", "id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| stable_digits(&format!("twitch:{}", user.id), 9))
    }

    fn login(user: &User) -> String {
        user.username
            .clone()
            .unwrap_or_else(|| user.id.to_string())
            .to_lowercase()
    }

    /// The claims asked for in the `claims` request parameter for `target` (`id_token` or
    /// `userinfo`).
    fn requested(grant: &Grant, target: &str) -> Vec<String> {
        request_param(&grant.request, "claims")
            .and_then(|c| serde_json::from_str::<Value>(c).ok())
            .and_then(|v| {
                v.get(target)
                    .and_then(Value::as_object)
                    .map(|o| o.keys().cloned().collect())
            })
            .unwrap_or_default()
    }

    fn claim(user: &User, name: &str, scopes: &crate::types::ScopeSet) -> Option<Value> {
        match name {
            "email" if scopes.contains("user:read:email") => user.email.as_ref().map(|e| json!(e)),
            "email_verified" if scopes.contains("user:read:email") => Some(json!(user.email_verified)),
            "picture" => Some(json!(user.picture.clone().unwrap_or_else(|| format!(
                "https://static-cdn.jtvnw.net/jtv_user_pictures/{}-profile_image-300x300.png",
                Twitch::id(user)
            )))),
            "preferred_username" => Some(json!(user.name.clone().unwrap_or_else(|| Twitch::login(user)))),
            "updated_at" => Some(json!("2024-06-01T12:00:00Z")),
            _ => None,
        }
    }
}

impl Default for Twitch {
    fn default() -> Self {
        Twitch::new()
    }
}

fn twitch_error(status: u16, message: &str) -> Response {
    json_no_store(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &json!({"status": status, "message": message}),
    )
}

fn helix_error(status: StatusCode, message: &str) -> Response {
    let mut resp = (status, axum::Json(json!({"error": status.canonical_reason().unwrap_or("Error"), "status": status.as_u16(), "message": message}))).into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("OAuth realm=\"TwitchTV\", error=\"invalid_token\""),
    );
    resp
}

impl Hooks for Twitch {
    /// Helix: `{"error":"Not Found","status":404,"message":""}`; the id.twitch.tv host answers
    /// like Go's default mux, `404 page not found` in plain text.
    fn not_found(&self, path: &str) -> Response {
        if path.starts_with("/helix/") {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": "Not Found", "status": 404, "message": ""})),
            )
                .into_response();
        }
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "404 page not found\n",
        )
            .into_response()
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn default_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: std::time::Duration::from_secs(14_124),
            ..Lifetimes::default()
        }
    }

    fn issuer(&self, base: &str) -> String {
        format!("{base}/oauth2")
    }

    fn subject(&self, user: &User) -> String {
        Twitch::id(user)
    }

    fn discovery(&self, ctx: &DiscoveryContext<'_>) -> Option<Value> {
        let url = |p: &str| format!("{}{p}", ctx.base);
        Some(json!({
            "authorization_endpoint": url("/oauth2/authorize"),
            "claims_parameter_supported": true,
            "claims_supported": ["aud", "exp", "iat", "iss", "sub", "email", "email_verified", "picture",
                                 "preferred_username", "updated_at"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "issuer": ctx.issuer,
            "jwks_uri": url("/oauth2/keys"),
            "response_types_supported": ["id_token", "code", "token", "code id_token", "token id_token"],
            "scopes_supported": ["openid"],
            "subject_types_supported": ["public"],
            "token_endpoint": url("/oauth2/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "userinfo_endpoint": url("/oauth2/userinfo")
        }))
    }

    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        match failure {
            AuthorizeFailure::Denied => vec![
                ("error".into(), "access_denied".into()),
                ("error_description".into(), "The user denied you access".into()),
            ],
            other => standard::authorize_error(other),
        }
    }

    fn refresh_rotation(&self, _client: &Client) -> RefreshRotation {
        RefreshRotation::Reissue
    }

    fn id_token_claims(&self, claims: &mut Map<String, Value>, ctx: &ClaimsContext<'_>) {
        for k in [
            "auth_time",
            "at_hash",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "picture",
            "email",
            "email_verified",
        ] {
            claims.remove(k);
        }
        claims.insert("azp".into(), json!(ctx.grant.client.as_str()));
        for name in Twitch::requested(ctx.grant, "id_token") {
            if let Some(v) = Twitch::claim(ctx.user, &name, &ctx.grant.scopes) {
                claims.insert(name, v);
            }
        }
    }

    fn token_success(&self, success: &TokenSuccess, _ctx: &TokenContext<'_>) -> Response {
        let mut body = standard::token_body(success);
        if let Some(s) = &success.scope {
            body.insert(
                "scope".into(),
                json!(s.iter().map(|x| x.as_str()).collect::<Vec<_>>()),
            );
        }
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        use GrantProblem as G;
        match failure {
            TokenFailure::InvalidGrant(G::RedirectUriMismatch) => {
                twitch_error(400, "Parameter redirect_uri does not match registered URI")
            }
            TokenFailure::InvalidGrant(p) if p.is_refresh() => twitch_error(400, "Invalid refresh token"),
            TokenFailure::InvalidGrant(_) => twitch_error(400, "Invalid authorization code"),
            TokenFailure::InvalidClient {
                problem: ClientProblem::Unknown,
                ..
            } => twitch_error(400, "invalid client"),
            TokenFailure::InvalidClient {
                problem: ClientProblem::Missing,
                ..
            } => twitch_error(400, "missing client id"),
            TokenFailure::InvalidClient { .. } => twitch_error(403, "invalid client secret"),
            TokenFailure::UnsupportedGrantType(_) => twitch_error(400, "Invalid grant type"),
            TokenFailure::Scripted {
                status,
                error,
                description,
            } => twitch_error(*status, description.as_deref().unwrap_or(error)),
            other => twitch_error(
                400,
                &other.description().unwrap_or_else(|| other.code().to_owned()),
            ),
        }
    }

    fn resource_token_sources(&self) -> &'static [TokenSource] {
        &[TokenSource::Bearer, TokenSource::OAuthScheme]
    }

    /// Helix needs `Client-Id`, matching the token's client.
    fn check_resource_request(&self, name: &str, ctx: &ResourceContext<'_>) -> Result<(), Box<Response>> {
        if name != "helix_users" {
            return Ok(());
        }
        match ctx.headers.get("client-id").and_then(|v| v.to_str().ok()) {
            None => Err(Box::new(helix_error(
                StatusCode::UNAUTHORIZED,
                "Client ID is missing",
            ))),
            Some(id) if id != ctx.client.id.as_str() => Err(Box::new(helix_error(
                StatusCode::UNAUTHORIZED,
                "Client ID and OAuth token do not match",
            ))),
            Some(_) => Ok(()),
        }
    }

    fn resource(&self, name: &str, ctx: &ResourceContext<'_>) -> Response {
        let user = ctx.user;
        match name {
            "validate" => (
                StatusCode::OK,
                axum::Json(json!({
                    "client_id": ctx.client.id.as_str(),
                    "login": Twitch::login(user),
                    "scopes": ctx.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                    "user_id": Twitch::id(user),
                    "expires_in": ctx.expires_in
                })),
            )
                .into_response(),
            "helix_users" => {
                let mut u = json!({
                    "id": Twitch::id(user),
                    "login": Twitch::login(user),
                    "display_name": user.name.clone().unwrap_or_else(|| Twitch::login(user)),
                    "type": "",
                    "broadcaster_type": "",
                    "description": "",
                    "profile_image_url": Twitch::claim(user, "picture", ctx.scopes),
                    "offline_image_url": "",
                    "view_count": 0,
                    "created_at": "2016-12-14T20:32:28Z"
                });
                if ctx.scopes.contains("user:read:email") {
                    u["email"] = json!(user.email);
                }
                let mut resp = (StatusCode::OK, axum::Json(json!({"data": [u]}))).into_response();
                let h = resp.headers_mut();
                h.insert("ratelimit-limit", HeaderValue::from_static("800"));
                h.insert("ratelimit-remaining", HeaderValue::from_static("799"));
                resp
            }
            _ => {
                let mut c = Map::new();
                c.insert("aud".into(), json!(ctx.client.id.as_str()));
                c.insert("iss".into(), json!(ctx.issuer));
                c.insert("sub".into(), json!(Twitch::id(user)));
                for name in Twitch::requested(ctx.grant, "userinfo") {
                    if let Some(v) = Twitch::claim(user, &name, ctx.scopes) {
                        c.insert(name, v);
                    }
                }
                (StatusCode::OK, axum::Json(Value::Object(c))).into_response()
            }
        }
    }

    fn bearer_error(&self, failure: &BearerFailure, resource: &str) -> Response {
        match (resource, failure) {
            ("helix_users", BearerFailure::Missing) => {
                helix_error(StatusCode::UNAUTHORIZED, "OAuth token is missing")
            }
            ("helix_users", BearerFailure::InsufficientScope(_)) => {
                helix_error(StatusCode::UNAUTHORIZED, "Missing scope: user:read:email")
            }
            ("helix_users", _) => helix_error(StatusCode::UNAUTHORIZED, "Invalid OAuth token"),
            (_, BearerFailure::Missing) => twitch_error(401, "missing authorization token"),
            (_, BearerFailure::InsufficientScope(_)) => twitch_error(403, "missing scope openid"),
            _ => twitch_error(401, "invalid access token"),
        }
    }

    fn server_error(&self, endpoint: Endpoint) -> Response {
        match endpoint {
            Endpoint::Authorize | Endpoint::EndSession => standard::html_server_error(),
            _ => twitch_error(500, "Internal Server Error"),
        }
    }
}
