//! The [`Amazon`] personality: Login with Amazon (OAuth 2.0, not OpenID Connect).
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::context::{ResourceContext, TokenContext, TokenSource};
use super::hooks::Hooks;
use super::profile::{Paths, Profile, ProviderId, Resource};
use super::standard;
use super::wire::{
    AuthorizeFailure, BearerFailure, ClientProblem, TokenFailure, TokenSuccess, json_no_store, stable_digits,
};
use crate::clients::{Client, Lifetimes, RefreshRotation};
use crate::store::{GrantProblem, TokenProblem};
use crate::types::{Endpoint, ScopeSet};
use crate::users::User;

/// Login with Amazon (OAuth 2.0, not OpenID Connect).
///
/// Emulated: `/ap/oa`, `/auth/o2/token` accepting credentials in the body, Basic, or — as
/// Auth.js sends them — every parameter in the URL query with an empty body; PKCE with
/// `S256` or `plain` (plain is Amazon's default); `Atza|` access tokens of 350+ characters and
/// `Atzr|` refresh tokens, whose `|` must be URL-encoded (quirk 20); lowercase `bearer`; no
/// `scope` in the token response; `/user/profile` with `user_id` = `amzn1.account.…` (quirk
/// 17), accepting the token as Bearer, `access_token` query or `x-amz-access-token` header,
/// and **no email-verification flag at all**; `/auth/o2/tokeninfo` whose `aud` a client must
/// check. Refresh tokens are not rotated unless [`Amazon::rotating_refresh`] (sources
/// disagree, so it is a knob).
///
/// Simplifications: www.amazon.com and api.amazon.com are one origin; regional hosts are not
/// emulated. Error descriptions marked † in providers.md are unverified. User attributes
/// read (`User::provider["amazon"]`): `user_id`, `postal_code`.
#[derive(Debug)]
pub struct Amazon {
    profile: Profile,
    rotating: bool,
}

impl Amazon {
    /// Login with Amazon.
    pub fn new() -> Amazon {
        let profile = Profile {
            resources: vec![Resource::get("/auth/o2/tokeninfo", "tokeninfo")],
            scopes_supported: ["profile", "profile:user_id", "postal_code"]
                .map(String::from)
                .to_vec(),
            default_scopes: "profile".into(),
            token_type: "bearer".into(),
            access_token_prefix: "Atza|IwEBI".into(),
            refresh_token_prefix: "Atzr|IwEBI".into(),
            access_token_bytes: 270,
            pkce_methods_advertised: vec![],
            pkce_plain_accepted: true,
            client_auth_in_query: true,
            ..Profile::standard(
                ProviderId::Amazon,
                "Amazon",
                false,
                Paths {
                    discovery: None,
                    jwks: None,
                    authorize: "/ap/oa".into(),
                    token: "/auth/o2/token".into(),
                    userinfo: "/user/profile".into(),
                    revocation: None,
                    end_session: None,
                    introspection: None,
                    device_authorization: None,
                    device_verification: None,
                },
            )
        };
        Amazon {
            profile,
            rotating: false,
        }
    }

    /// Every refresh returns a new refresh token (as Amazon's docs say; clients report it
    /// rarely happens).
    pub fn rotating_refresh(mut self) -> Amazon {
        self.rotating = true;
        self
    }

    fn user_id(user: &User) -> String {
        user.attr("amazon", "user_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let digits = stable_digits(&format!("amazon:{}", user.id), 56);
                let chars: String = digits
                    .as_bytes()
                    .chunks(2)
                    .map(|c| {
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
                            [usize::from((c[0] - b'0') * 10 + (c[1] - b'0')) % 32]
                            as char
                    })
                    .collect();
                format!("amzn1.account.{chars}")
            })
    }
}

impl Default for Amazon {
    fn default() -> Self {
        Amazon::new()
    }
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_no_store(status, &json!({"error": error, "error_description": description}))
}

impl Hooks for Amazon {
    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn default_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: std::time::Duration::from_secs(3600),
            code: std::time::Duration::from_secs(300),
            ..Lifetimes::default()
        }
    }

    fn subject(&self, user: &User) -> String {
        Amazon::user_id(user)
    }

    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        match failure {
            AuthorizeFailure::Denied => vec![
                ("error".into(), "access_denied".into()),
                ("error_description".into(), "The user denied the request".into()),
            ],
            other => standard::authorize_error(other),
        }
    }

    fn refresh_rotation(&self, _client: &Client) -> RefreshRotation {
        if self.rotating {
            RefreshRotation::Rotate
        } else {
            RefreshRotation::Never
        }
    }

    fn token_success(&self, success: &TokenSuccess, _ctx: &TokenContext<'_>) -> Response {
        let mut body = standard::token_body(success);
        body.remove("scope");
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        match failure {
            TokenFailure::InvalidGrant(GrantProblem::RedirectUriMismatch) => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Redirect URI mismatch. The redirect_uri must match the one used in the authorization request.",
            ),
            TokenFailure::InvalidGrant(p) if p.is_refresh() => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The request has an invalid grant parameter : refresh_token",
            ),
            TokenFailure::InvalidGrant(_) => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The request has an invalid grant parameter : code",
            ),
            TokenFailure::InvalidClient {
                problem: ClientProblem::Unknown,
                ..
            } => lwa_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The authorization server could not find the client.",
            ),
            TokenFailure::InvalidClient { .. } => lwa_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            ),
            other => standard::token_error(other),
        }
    }

    fn resource_token_sources(&self) -> &'static [TokenSource] {
        &[
            TokenSource::Bearer,
            TokenSource::Query,
            TokenSource::Header("x-amz-access-token"),
        ]
    }

    fn resource_missing_scope(&self, name: &str, scopes: &ScopeSet) -> Option<&'static str> {
        (name == "userinfo" && !scopes.contains("profile") && !scopes.contains("profile:user_id"))
            .then_some("profile")
    }

    fn resource(&self, name: &str, ctx: &ResourceContext<'_>) -> Response {
        let user = ctx.user;
        if name == "tokeninfo" {
            return (
                StatusCode::OK,
                axum::Json(json!({
                    "iss": "https://www.amazon.com",
                    "user_id": Amazon::user_id(user),
                    "aud": ctx.client.id.as_str(),
                    "app_id": format!("amzn1.application.{}", stable_digits(ctx.client.id.as_str(), 32)),
                    "exp": ctx.expires_in,
                    "iat": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
                })),
            )
                .into_response();
        }
        let mut p = json!({"user_id": Amazon::user_id(user)});
        if ctx.scopes.contains("profile") {
            p["name"] = json!(user.name);
            if let Some(e) = &user.email {
                p["email"] = json!(e);
            }
        }
        if ctx.scopes.contains("postal_code")
            && let Some(pc) = user.attr("amazon", "postal_code")
        {
            p["postal_code"] = pc.clone();
        }
        (StatusCode::OK, axum::Json(p)).into_response()
    }

    fn bearer_error(&self, failure: &BearerFailure, _resource: &str) -> Response {
        match failure {
            BearerFailure::Missing => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request is missing a required parameter : access_token",
            ),
            BearerFailure::InsufficientScope(_) => lwa_error(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "The access token provided does not have the scope required",
            ),
            BearerFailure::InvalidToken(TokenProblem::Expired) => lwa_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The request has an expired access_token",
            ),
            _ => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_token",
                "The request has an invalid parameter : access_token",
            ),
        }
    }

    fn server_error(&self, endpoint: Endpoint) -> Response {
        match endpoint {
            Endpoint::Authorize | Endpoint::EndSession => standard::html_server_error(),
            _ => lwa_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The authorization server encountered an unexpected error",
            ),
        }
    }
}
