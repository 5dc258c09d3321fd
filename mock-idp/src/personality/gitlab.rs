//! The [`GitLab`] personality: GitLab (gitlab.com) as an OpenID Provider, built on Doorkeeper.
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::context::{ClaimsContext, DiscoveryContext, ResourceContext, TokenContext};
use super::hooks::Hooks;
use super::profile::{Paths, Profile, ProviderId, Resource};
use super::standard;
use super::wire::{
    AuthorizeFailure, BearerFailure, TokenFailure, TokenSuccess, json_no_store, stable_digits,
};
use crate::clients::{Client, Lifetimes, RefreshRotation};
use crate::types::{Endpoint, ScopeSet};
use crate::users::User;

const DENIED: &str = "The resource owner or authorization server denied the request.";
const INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";

/// GitLab (gitlab.com) as an OpenID Provider, built on Doorkeeper.
///
/// Emulated: `/oauth/authorize`, `/oauth/token`, `/oauth/userinfo`, `/oauth/discovery/keys`,
/// `/oauth/revoke`; the REST `/api/v4/user` (integer `id`, needs `read_user` or `api`);
/// token responses with `created_at` and `expires_in: 7200` — access tokens die after two
/// hours (quirk 16); refresh tokens rotated on every use (Doorkeeper revokes the old one);
/// userinfo and ID tokens with `sub` as the string form of the numeric id, `nickname`,
/// `groups`; Doorkeeper's error texts.
///
/// Simplifications: self-managed instances differ only in host. Doorkeeper wording marked †
/// in providers.md is unverified. User attributes read (`User::provider["gitlab"]`): `id`
/// (number), `groups` (array of group paths).
#[derive(Debug)]
pub struct GitLab {
    profile: Profile,
}

impl GitLab {
    /// gitlab.com.
    pub fn new() -> GitLab {
        let profile = Profile {
            resources: vec![Resource::get("/api/v4/user", "user")],
            scopes_supported: [
                "api",
                "read_api",
                "read_user",
                "create_runner",
                "k8s_proxy",
                "read_repository",
                "write_repository",
                "sudo",
                "admin_mode",
                "openid",
                "profile",
                "email",
            ]
            .map(String::from)
            .to_vec(),
            default_scopes: "openid profile email read_user".into(),
            access_token_bytes: 48,
            pkce_methods_advertised: vec!["plain".into(), "S256".into()],
            pkce_plain_accepted: true,
            ..Profile::standard(
                ProviderId::Gitlab,
                "GitLab",
                true,
                Paths {
                    discovery: Some("/.well-known/openid-configuration".into()),
                    jwks: Some("/oauth/discovery/keys".into()),
                    authorize: "/oauth/authorize".into(),
                    token: "/oauth/token".into(),
                    userinfo: "/oauth/userinfo".into(),
                    revocation: Some("/oauth/revoke".into()),
                    end_session: None,
                    introspection: None,
                    device_authorization: None,
                    device_verification: None,
                },
            )
        };
        GitLab { profile }
    }

    fn id(user: &User) -> u64 {
        user.attr("gitlab", "id")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| {
                stable_digits(&format!("gitlab:{}", user.id), 8)
                    .parse()
                    .unwrap_or(1)
            })
    }

    fn groups(user: &User) -> Value {
        user.attr("gitlab", "groups")
            .cloned()
            .unwrap_or_else(|| json!([]))
    }

    fn username(user: &User) -> String {
        user.username.clone().unwrap_or_else(|| user.id.to_string())
    }

    fn oidc_claims(user: &User, scopes: &ScopeSet) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("sub".into(), json!(GitLab::id(user).to_string()));
        c.insert(
            "sub_legacy".into(),
            json!(stable_digits(&format!("gitlab-legacy:{}", user.id), 64)),
        );
        if scopes.contains("profile") {
            c.insert("name".into(), json!(user.name));
            c.insert("nickname".into(), json!(GitLab::username(user)));
            c.insert("preferred_username".into(), json!(GitLab::username(user)));
            c.insert("website".into(), json!(""));
            c.insert(
                "profile".into(),
                json!(format!("https://gitlab.com/{}", GitLab::username(user))),
            );
            c.insert(
                "picture".into(),
                json!(user.picture.clone().unwrap_or_else(|| format!(
                    "https://gitlab.com/uploads/-/system/user/avatar/{}/avatar.png",
                    GitLab::id(user)
                ))),
            );
            c.insert("groups".into(), GitLab::groups(user));
        }
        if scopes.contains("email")
            && let Some(e) = &user.email
        {
            c.insert("email".into(), json!(e));
            c.insert("email_verified".into(), json!(user.email_verified));
        }
        c
    }
}

impl Default for GitLab {
    fn default() -> Self {
        GitLab::new()
    }
}

fn doorkeeper(status: StatusCode, error: &str, description: &str) -> Response {
    json_no_store(status, &json!({"error": error, "error_description": description}))
}

impl Hooks for GitLab {
    /// GitLab's API catch-all (`lib/api/api.rb`): `{"error":"404 Not Found"}`; API v3 is gone
    /// (410); other paths are web pages.
    fn not_found(&self, path: &str) -> Response {
        if path.starts_with("/api/v3/") {
            return json_no_store(
                StatusCode::GONE,
                &json!({"error": "API V3 is no longer supported. Use API V4 instead."}),
            );
        }
        if path.starts_with("/api/") {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": "404 Not Found"})),
            )
                .into_response();
        }
        standard::html_not_found("The page could not be found or you don't have permission to view it.")
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn default_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: std::time::Duration::from_secs(7200),
            ..Lifetimes::default()
        }
    }

    fn subject(&self, user: &User) -> String {
        GitLab::id(user).to_string()
    }

    fn discovery(&self, ctx: &DiscoveryContext<'_>) -> Option<Value> {
        let mut doc = standard::discovery(&self.profile, ctx)?;
        doc["claims_supported"] = json!([
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "sub_legacy",
            "name",
            "nickname",
            "preferred_username",
            "email",
            "email_verified",
            "website",
            "profile",
            "picture",
            "groups",
            "groups_direct",
            "https://gitlab.org/claims/groups/owner",
            "https://gitlab.org/claims/groups/maintainer",
            "https://gitlab.org/claims/groups/developer"
        ]);
        doc["response_modes_supported"] = json!(["query", "fragment", "form_post"]);
        doc["token_endpoint_auth_methods_supported"] = json!(["client_secret_basic", "client_secret_post"]);
        doc["subject_types_supported"] = json!(["public"]);
        doc["id_token_signing_alg_values_supported"] = json!(["RS256"]);
        if let Some(o) = doc.as_object_mut() {
            for k in [
                "end_session_endpoint",
                "prompt_values_supported",
                "claims_parameter_supported",
                "request_parameter_supported",
                "request_uri_parameter_supported",
                "revocation_endpoint_auth_methods_supported",
            ] {
                o.remove(k);
            }
            o.insert(
                "introspection_endpoint".into(),
                json!(format!("{}/oauth/introspect", ctx.base)),
            );
        }
        Some(doc)
    }

    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        match failure {
            AuthorizeFailure::Denied => vec![
                ("error".into(), "access_denied".into()),
                ("error_description".into(), DENIED.into()),
            ],
            other => standard::authorize_error(other),
        }
    }

    fn refresh_rotation(&self, _client: &Client) -> RefreshRotation {
        RefreshRotation::Rotate
    }

    fn id_token_claims(&self, claims: &mut Map<String, Value>, ctx: &ClaimsContext<'_>) {
        for k in ["given_name", "family_name", "at_hash"] {
            claims.remove(k);
        }
        let mut own = GitLab::oidc_claims(ctx.user, &ctx.grant.scopes);
        if let Some(g) = own.remove("groups") {
            claims.insert("groups_direct".into(), g);
        }
        claims.extend(own);
    }

    fn token_success(&self, success: &TokenSuccess, _ctx: &TokenContext<'_>) -> Response {
        let mut body = standard::token_body(success);
        body.insert(
            "created_at".into(),
            json!(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            ),
        );
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        match failure {
            TokenFailure::InvalidGrant(_) => {
                doorkeeper(StatusCode::BAD_REQUEST, "invalid_grant", INVALID_GRANT)
            }
            TokenFailure::InvalidClient { .. } => {
                doorkeeper(StatusCode::UNAUTHORIZED, "invalid_client", INVALID_CLIENT)
            }
            TokenFailure::UnsupportedGrantType(_) => doorkeeper(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            ),
            TokenFailure::InvalidScope(_) => doorkeeper(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "The requested scope is invalid, unknown, or malformed.",
            ),
            TokenFailure::InvalidRequest(_) => doorkeeper(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
            ),
            other => standard::token_error(other),
        }
    }

    fn resource_missing_scope(&self, name: &str, scopes: &ScopeSet) -> Option<&'static str> {
        match name {
            "user"
                if !scopes.contains("read_user")
                    && !scopes.contains("api")
                    && !scopes.contains("read_api") =>
            {
                Some("read_user")
            }
            "userinfo" if !scopes.contains("openid") => Some("openid"),
            _ => None,
        }
    }

    fn resource(&self, name: &str, ctx: &ResourceContext<'_>) -> Response {
        let user = ctx.user;
        if name == "user" {
            let id = GitLab::id(user);
            let username = GitLab::username(user);
            return (
                StatusCode::OK,
                axum::Json(json!({
                    "id": id,
                    "username": username,
                    "name": user.name,
                    "state": "active",
                    "locked": false,
                    "avatar_url": format!("https://gitlab.com/uploads/-/system/user/avatar/{id}/avatar.png"),
                    "web_url": format!("https://gitlab.com/{username}"),
                    "created_at": "2019-05-01T10:00:00.000Z",
                    "bio": "",
                    "public_email": if user.email_verified { user.email.clone() } else { None },
                    "email": user.email,
                    "commit_email": user.email,
                    "confirmed_at": if user.email_verified { Some("2019-05-01T10:05:00.000Z") } else { None },
                    "two_factor_enabled": false,
                    "external": false,
                    "private_profile": false
                })),
            )
                .into_response();
        }
        (
            StatusCode::OK,
            axum::Json(Value::Object(GitLab::oidc_claims(user, ctx.scopes))),
        )
            .into_response()
    }

    fn bearer_error(&self, failure: &BearerFailure, resource: &str) -> Response {
        if resource == "user" {
            let (status, body) = match failure {
                BearerFailure::InsufficientScope(_) => (
                    StatusCode::FORBIDDEN,
                    json!({"error": "insufficient_scope", "error_description": "The request requires higher privileges than provided by the access token.", "scope": "api read_api read_user"}),
                ),
                _ => (StatusCode::UNAUTHORIZED, json!({"message": "401 Unauthorized"})),
            };
            return (status, axum::Json(body)).into_response();
        }
        let mut resp = standard::bearer_error(failure);
        if let Some(v) = resp.headers().get(header::WWW_AUTHENTICATE).cloned()
            && let Ok(s) = v.to_str()
            && let Ok(fixed) = s.replace("realm=\"mock-idp\"", "realm=\"Doorkeeper\"").parse()
        {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, fixed);
        }
        resp
    }

    fn server_error(&self, endpoint: Endpoint) -> Response {
        let _ = endpoint;
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>We're sorry, but something went wrong (500)</title></head><body><h1>500</h1><h2>Whoops, something went wrong on our end.</h2></body></html>",
        )
            .into_response()
    }
}
