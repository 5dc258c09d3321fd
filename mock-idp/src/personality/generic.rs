//! The [`Generic`] personality: a plain OAuth 2.0 IdP with authorize, token and profile URLs.
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::context::{ResourceContext, TokenContext};
use super::hooks::Hooks;
use super::profile::{Paths, Profile, ProviderId};
use super::standard;
use super::wire::{TokenFailure, TokenSuccess, form_no_store, json_no_store, stable_digits};
use crate::types::ScopeSet;

/// Where the profile JSON puts the user object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileShape {
    /// The user object is the body.
    Flat,
    /// `{"<key>": {…}}`.
    Object(String),
    /// `{"<key>": [{…}]}` (Twitch-like).
    Array(String),
}

/// A plain OAuth 2.0 IdP with authorize, token and profile URLs — the kind
/// Authmonger's generic provider (and oauth2-proxy's `LoginURL`/`RedeemURL`/`ProfileURL`)
/// configures. No discovery, no JWKS, no ID token, no nonce.
///
/// Everything that differs between such IdPs is a knob: scope separator, JSON or
/// form-encoded token responses, `token_type` casing, where the profile puts the user id
/// (`id`, `sub`, `user_id`, `data[0].id`), whether that id is a number, and the names of the
/// email, verification and login fields. It also has an end-session URL
/// (`/oauth/logout?post_logout_redirect_uri=…`) for single logout.
///
/// Defaults: `/oauth/authorize`, `/oauth/token`, `/api/me` answering
/// `{"id", "username", "name", "email", "email_verified"}` with a string id, RFC 6749 JSON
/// token responses with `Bearer`, space-separated scopes, refresh tokens (rotation per client).
///
/// ```
/// use mock_idp::MockIdp;
/// use mock_idp::personality::{Generic, ProfileShape};
///
/// // A Twitch-like profile API: `{"data": [{"id": 1234567, …}]}`, no verification flag.
/// let idp = MockIdp::builder().personality(
///     Generic::new()
///         .numeric_id()
///         .profile_shape(ProfileShape::Array("data".into()))
///         .verified_field(None),
/// );
/// # drop(idp);
/// ```
#[derive(Debug)]
pub struct Generic {
    profile: Profile,
    form_tokens: bool,
    id_field: String,
    numeric_id: bool,
    email_field: String,
    verified_field: Option<String>,
    login_field: String,
    shape: ProfileShape,
}

impl Generic {
    /// The defaults described on [`Generic`].
    pub fn new() -> Generic {
        let profile = Profile {
            client_credentials: true,
            password_grant: true,
            token_exchange: true,
            jwt_bearer: true,
            scopes_supported: ["openid", "email", "profile", "read"].map(String::from).to_vec(),
            default_scopes: "openid email profile".into(),
            access_token_prefix: "gat_".into(),
            refresh_token_prefix: "grt_".into(),
            userinfo_requires_openid: false,
            ..Profile::standard(
                ProviderId::Generic,
                "Generic OAuth2",
                false,
                Paths {
                    discovery: None,
                    jwks: None,
                    authorize: "/oauth/authorize".into(),
                    token: "/oauth/token".into(),
                    userinfo: "/api/me".into(),
                    revocation: Some("/oauth/revoke".into()),
                    end_session: Some("/oauth/logout".into()),
                    introspection: Some("/oauth/introspect".into()),
                    device_authorization: Some("/oauth/device/code".into()),
                    device_verification: Some("/oauth/device".into()),
                },
            )
        };
        Generic {
            profile,
            form_tokens: false,
            id_field: "id".into(),
            numeric_id: false,
            email_field: "email".into(),
            verified_field: Some("email_verified".into()),
            login_field: "username".into(),
            shape: ProfileShape::Flat,
        }
    }

    /// Scopes separated by `sep` besides space (`,` for comma-separated IdPs).
    pub fn scope_separator(mut self, sep: char) -> Generic {
        self.profile.scope_separators = vec![sep];
        self
    }
    /// Token responses form-encoded instead of JSON.
    pub fn form_encoded_tokens(mut self) -> Generic {
        self.form_tokens = true;
        self
    }
    /// `token_type` as sent (e.g. lowercase `bearer`).
    pub fn token_type(mut self, token_type: &str) -> Generic {
        self.profile.token_type = token_type.to_owned();
        self
    }
    /// The profile field holding the user id (default `id`).
    pub fn id_field(mut self, field: &str) -> Generic {
        self.id_field = field.to_owned();
        self
    }
    /// The user id as a JSON number (derived from the user's id when it is not numeric).
    pub fn numeric_id(mut self) -> Generic {
        self.numeric_id = true;
        self
    }
    /// The profile field holding the email (default `email`).
    pub fn email_field(mut self, field: &str) -> Generic {
        self.email_field = field.to_owned();
        self
    }
    /// The field holding the verification flag; `None` sends no flag.
    pub fn verified_field(mut self, field: Option<&str>) -> Generic {
        self.verified_field = field.map(str::to_owned);
        self
    }
    /// The field holding the login name (default `username`).
    pub fn login_field(mut self, field: &str) -> Generic {
        self.login_field = field.to_owned();
        self
    }
    /// Where the user object sits in the profile response.
    pub fn profile_shape(mut self, shape: ProfileShape) -> Generic {
        self.shape = shape;
        self
    }
    /// Paths of the three URLs.
    pub fn paths(mut self, authorize: &str, token: &str, profile: &str) -> Generic {
        self.profile.paths.authorize = authorize.to_owned();
        self.profile.paths.token = token.to_owned();
        self.profile.paths.userinfo = profile.to_owned();
        self
    }

    fn user_object(&self, user: &crate::users::User, scopes: &ScopeSet) -> Value {
        let mut o = Map::new();
        let id = if self.numeric_id {
            let n = user.id.as_str().parse::<u64>().unwrap_or_else(|_| {
                stable_digits(&format!("generic:{}", user.id), 9)
                    .parse()
                    .unwrap_or(1)
            });
            json!(n)
        } else {
            json!(user.id.as_str())
        };
        o.insert(self.id_field.clone(), id);
        o.insert(
            self.login_field.clone(),
            json!(user.username.clone().unwrap_or_else(|| user.id.to_string())),
        );
        o.insert("name".into(), json!(user.name));
        // The email only when granted (or when the client asked for no scope at all).
        if scopes.is_empty() || scopes.contains("email") {
            o.insert(self.email_field.clone(), json!(user.email));
            if let Some(f) = &self.verified_field {
                o.insert(f.clone(), json!(user.email_verified));
            }
        }
        for (k, v) in &user.claims {
            o.entry(k.clone()).or_insert(v.clone());
        }
        Value::Object(o)
    }
}

impl Default for Generic {
    fn default() -> Self {
        Generic::new()
    }
}

impl Hooks for Generic {
    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn token_success(&self, success: &TokenSuccess, _ctx: &TokenContext<'_>) -> Response {
        let body = standard::token_body(success);
        if self.form_tokens {
            let pairs: Vec<(String, String)> = body
                .into_iter()
                .map(|(k, v)| (k, v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
                .collect();
            return form_no_store(StatusCode::OK, &pairs);
        }
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        standard::token_error(failure)
    }

    fn resource(&self, _name: &str, ctx: &ResourceContext<'_>) -> Response {
        let user = self.user_object(ctx.user, ctx.scopes);
        let body = match &self.shape {
            ProfileShape::Flat => user,
            ProfileShape::Object(k) => json!({ k: user }),
            ProfileShape::Array(k) => json!({ k: [user] }),
        };
        (StatusCode::OK, axum::Json(body)).into_response()
    }
}
