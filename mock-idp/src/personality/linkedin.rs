//! The [`LinkedIn`] personality: Sign In with LinkedIn using OpenID Connect.
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::context::{ClaimsContext, DiscoveryContext, ResourceContext, TokenContext, request_param};
use super::hooks::Hooks;
use super::profile::{Paths, Profile, ProviderId};
use super::standard;
use super::wire::{
    AuthorizeFailure, BearerFailure, TokenFailure, TokenSuccess, json_no_store, stable_digits,
};
use crate::clients::{Client, Lifetimes, RefreshRotation, TokenAuthMethod};
use crate::store::Grant;
use crate::types::{Endpoint, ScopeSet};
use crate::users::User;

const CATCH_ALL: &str = "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists";

/// Sign In with LinkedIn using OpenID Connect.
///
/// Emulated: the issuer `…/oauth` (changed from the bare origin in April 2024, breaking
/// clients that hard-code it — quirk 6), discovery under `/oauth/.well-known/…` without PKCE
/// or refresh advertised; `/oauth/v2/authorization`, `/oauth/v2/accessToken` accepting
/// **only `client_secret_post`** (quirk 13); PKCE sent by a confidential web client refused at
/// the token endpoint with LinkedIn's catch-all message (reported breakage, quirk 13); 60-day
/// access tokens, comma-separated `scope`, no refresh token unless the app is an approved
/// partner ([`LinkedIn::partner`]); userinfo at `/v2/userinfo` with `locale` as an object
/// (`{"country","language"}`, or a string with [`LinkedIn::locale_as_string`]); denial as
/// `user_cancelled_authorize`; API errors as `{"serviceErrorCode", "message", "status"}`.
///
/// Simplifications: www.linkedin.com and api.linkedin.com are one origin. Wording marked †
/// in providers.md is unverified.
#[derive(Debug)]
pub struct LinkedIn {
    profile: Profile,
    partner: bool,
    locale_string: bool,
}

impl LinkedIn {
    /// Sign In with LinkedIn using OpenID Connect, as a regular (non-partner) app.
    pub fn new() -> LinkedIn {
        let profile = Profile {
            scopes_supported: ["openid", "profile", "email"].map(String::from).to_vec(),
            default_scopes: "openid profile email".into(),
            access_token_prefix: "AQ".into(),
            refresh_token_prefix: "AQ".into(),
            access_token_bytes: 260,
            pkce_methods_advertised: vec![],
            client_auth_methods: vec![TokenAuthMethod::ClientSecretPost],
            ..Profile::standard(
                ProviderId::Linkedin,
                "LinkedIn",
                true,
                Paths {
                    discovery: Some("/oauth/.well-known/openid-configuration".into()),
                    jwks: Some("/oauth/openid/jwks".into()),
                    authorize: "/oauth/v2/authorization".into(),
                    token: "/oauth/v2/accessToken".into(),
                    userinfo: "/v2/userinfo".into(),
                    revocation: Some("/oauth/v2/revoke".into()),
                    end_session: None,
                    introspection: None,
                    device_authorization: None,
                    device_verification: None,
                },
            )
        };
        LinkedIn {
            profile,
            partner: false,
            locale_string: false,
        }
    }

    /// An approved partner app: refresh tokens (one year, not rotated).
    pub fn partner(mut self) -> LinkedIn {
        self.partner = true;
        self
    }

    /// `locale` as a plain string (`"en_US"`), as some documentation shows it.
    pub fn locale_as_string(mut self) -> LinkedIn {
        self.locale_string = true;
        self
    }

    fn sub(user: &User) -> String {
        user.attr("linkedin", "sub")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                // LinkedIn member ids are opaque 10-character strings.
                let digits = stable_digits(&format!("linkedin:{}", user.id), 20);
                digits
                    .as_bytes()
                    .chunks(2)
                    .map(|c| {
                        let n = usize::from((c[0] - b'0') * 10 + (c[1] - b'0')) % 62;
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[n] as char
                    })
                    .collect()
            })
    }

    fn claims(&self, user: &User, scopes: &ScopeSet) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("sub".into(), json!(LinkedIn::sub(user)));
        if scopes.contains("profile") {
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
            let locale = if self.locale_string {
                json!("en_US")
            } else {
                json!({"country": "US", "language": "en"})
            };
            c.insert("locale".into(), locale);
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

impl Default for LinkedIn {
    fn default() -> Self {
        LinkedIn::new()
    }
}

impl Hooks for LinkedIn {
    /// LinkedIn's API: the retired "Sign In with LinkedIn" profile (`/v2/me`,
    /// `/v2/emailAddress`) refuses an OpenID Connect token with 403 ACCESS_DENIED; v1 is gone
    /// (410); anything else a 404 in the same error shape.
    fn not_found(&self, path: &str) -> Response {
        let resource = path
            .trim_start_matches("/v2/")
            .split(['/', '?'])
            .next()
            .unwrap_or("");
        if path.starts_with("/v2/me") || path.starts_with("/v2/emailAddress") {
            return (
                StatusCode::FORBIDDEN,
                axum::Json(json!({"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                                  "message": format!("Not enough permissions to access: {resource}.GET.NO_VERSION")})),
            )
                .into_response();
        }
        if path.starts_with("/v1/") {
            return (
                StatusCode::GONE,
                axum::Json(
                    json!({"errorCode": 0, "message": "This resource is no longer available under v1 APIs",
                                  "status": 410}),
                ),
            )
                .into_response();
        }
        (
            StatusCode::NOT_FOUND,
            axum::Json(
                json!({"status": 404, "serviceErrorCode": 0, "code": "RESOURCE_NOT_FOUND",
                              "message": format!("Resource {resource} does not exist")}),
            ),
        )
            .into_response()
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn default_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: std::time::Duration::from_secs(5_183_999),
            refresh_token: std::time::Duration::from_secs(31_536_000),
            ..Lifetimes::default()
        }
    }

    fn issuer(&self, base: &str) -> String {
        format!("{base}/oauth")
    }

    fn subject(&self, user: &User) -> String {
        LinkedIn::sub(user)
    }

    fn discovery(&self, ctx: &DiscoveryContext<'_>) -> Option<Value> {
        let p = &self.profile.paths;
        Some(json!({
            "issuer": ctx.issuer,
            "authorization_endpoint": format!("{}{}", ctx.base, p.authorize),
            "token_endpoint": format!("{}{}", ctx.base, p.token),
            "userinfo_endpoint": format!("{}{}", ctx.base, p.userinfo),
            "jwks_uri": format!("{}/oauth/openid/jwks", ctx.base),
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": ["iss", "aud", "iat", "exp", "sub", "name", "given_name", "family_name", "picture",
                                 "email", "email_verified", "locale"]
        }))
    }

    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        match failure {
            AuthorizeFailure::Denied => vec![
                ("error".into(), "user_cancelled_authorize".into()),
                (
                    "error_description".into(),
                    "The user cancelled the authorization".into(),
                ),
            ],
            other => standard::authorize_error(other),
        }
    }

    /// A confidential web client that sends PKCE gets LinkedIn's catch-all refusal.
    fn check_code_exchange(
        &self,
        form: &[(String, String)],
        _grant: &Grant,
        _user: &User,
    ) -> Result<(), TokenFailure> {
        if request_param(form, "code_verifier").is_some() {
            return Err(TokenFailure::Scripted {
                status: 400,
                error: "invalid_request".into(),
                description: Some(CATCH_ALL.into()),
            });
        }
        Ok(())
    }

    fn issues_refresh_token(&self, _grant: &Grant, client: &Client) -> bool {
        self.partner && client.refresh_tokens
    }

    fn refresh_rotation(&self, _client: &Client) -> RefreshRotation {
        RefreshRotation::Never
    }

    fn id_token_claims(&self, claims: &mut Map<String, Value>, ctx: &ClaimsContext<'_>) {
        for k in ["auth_time", "at_hash", "preferred_username", "locale"] {
            claims.remove(k);
        }
        let mut own = self.claims(ctx.user, &ctx.grant.scopes);
        // `locale` is documented for userinfo; keeping it out of the ID token keeps the token
        // parseable by clients that type it as a string.
        own.remove("locale");
        claims.extend(own);
    }

    fn token_success(&self, success: &TokenSuccess, _ctx: &TokenContext<'_>) -> Response {
        let mut body = standard::token_body(success);
        if let Some(s) = &success.scope {
            let mut sorted: Vec<&str> = s.iter().map(|x| x.as_str()).collect();
            sorted.sort_unstable();
            body.insert("scope".into(), json!(sorted.join(",")));
        }
        if success.refresh_token.is_some() {
            body.insert("refresh_token_expires_in".into(), json!(31_536_000));
        }
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        let (status, error, description) = match failure {
            TokenFailure::InvalidGrant(p) if p.is_refresh() => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The provided refresh token is invalid".to_owned(),
            ),
            TokenFailure::InvalidGrant(_) => {
                (StatusCode::BAD_REQUEST, "invalid_request", CATCH_ALL.to_owned())
            }
            TokenFailure::InvalidClient { .. } => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed".to_owned(),
            ),
            other => return standard::token_error(other),
        };
        json_no_store(status, &json!({"error": error, "error_description": description}))
    }

    fn resource(&self, _name: &str, ctx: &ResourceContext<'_>) -> Response {
        (
            StatusCode::OK,
            axum::Json(Value::Object(self.claims(ctx.user, ctx.scopes))),
        )
            .into_response()
    }

    fn bearer_error(&self, failure: &BearerFailure, _resource: &str) -> Response {
        let (status, code, message) = match failure {
            BearerFailure::InsufficientScope(_) => (
                StatusCode::FORBIDDEN,
                100,
                "Not enough permissions to access: userinfo.GET.NO_VERSION",
            ),
            BearerFailure::Missing => (StatusCode::UNAUTHORIZED, 65604, "Empty oauth2 access token"),
            _ => (StatusCode::UNAUTHORIZED, 65600, "Invalid access token"),
        };
        (
            status,
            axum::Json(json!({"serviceErrorCode": code, "message": message, "status": status.as_u16()})),
        )
            .into_response()
    }

    fn server_error(&self, endpoint: Endpoint) -> Response {
        match endpoint {
            Endpoint::Authorize | Endpoint::EndSession => standard::html_server_error(),
            _ => json_no_store(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"status": 500, "message": "Internal Server Error"}),
            ),
        }
    }
}
