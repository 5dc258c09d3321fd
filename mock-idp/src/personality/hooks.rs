//! The hooks of a personality: the [`Hooks`] trait the core calls wherever a provider may
//! differ (issuer, subject, discovery, the authorization redirect, token and error shapes,
//! refresh policy, ID-token claims, profile APIs). Each has a default that speaks the
//! standard, so a personality overrides only where its provider really differs.
//!
//! Crate-internal: outside the crate a personality is only something a `MockIdp` can play
//! (the sealed [`Personality`](super::Personality)).

use std::fmt;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::context::{
    AuthorizeContext, ClaimsContext, DeviceContext, DiscoveryContext, ResourceContext, TokenContext,
    TokenInfoContext, TokenSource,
};
use super::profile::Profile;
use super::standard;
use super::wire::{AuthorizeFailure, BearerFailure, TokenFailure, TokenSuccess};
use crate::clients::{Client, Lifetimes, RefreshRotation};
use crate::store::Grant;
use crate::types::{ClientId, Endpoint, ScopeSet};
use crate::users::User;

/// What a personality implements: every way its provider differs on the wire. Every hook
/// defaults to the standard (RFC/OIDC) behaviour.
pub trait Hooks: Send + Sync + fmt::Debug + 'static {
    /// The data part.
    fn profile(&self) -> &Profile;

    /// Lifetimes a fresh instance starts with (the provider's real ones).
    fn default_lifetimes(&self) -> Lifetimes {
        Lifetimes::default()
    }

    /// The issuer identifier for an instance served at `base`.
    fn issuer(&self, base: &str) -> String {
        base.to_owned()
    }

    /// The user's id at this provider (`sub`, GitHub's numeric `id`, …).
    fn subject(&self, user: &User) -> String {
        user.id.to_string()
    }

    /// The user's id as seen by one client (providers with app-scoped ids override it).
    fn subject_for_client(&self, user: &User, _client: &ClientId) -> String {
        self.subject(user)
    }

    /// The discovery document, or `None` when the provider publishes none.
    fn discovery(&self, ctx: &DiscoveryContext<'_>) -> Option<Value> {
        standard::discovery(self.profile(), ctx)
    }

    /// Extra parameters on a successful authorization redirect (Google's `scope`,
    /// `authuser`, `prompt`).
    fn authorize_success_params(&self, _ctx: &AuthorizeContext<'_>) -> Vec<(String, String)> {
        Vec::new()
    }

    /// A fragment appended to every redirect back to the client (Facebook's `_=_`).
    fn redirect_fragment(&self) -> Option<&'static str> {
        None
    }

    /// The parameters of an error redirect (`state` and `iss` are added by the core).
    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        standard::authorize_error(failure)
    }

    /// A last look at a code exchange that passed the core's checks (LinkedIn refuses PKCE).
    fn check_code_exchange(
        &self,
        _form: &[(String, String)],
        _grant: &Grant,
        _user: &User,
    ) -> Result<(), TokenFailure> {
        Ok(())
    }

    /// Whether a code exchange issues a refresh token.
    fn issues_refresh_token(&self, _grant: &Grant, client: &Client) -> bool {
        client.refresh_tokens
    }

    /// What a refresh does with the refresh token.
    fn refresh_rotation(&self, client: &Client) -> RefreshRotation {
        client.refresh_rotation
    }

    /// Adjusts the ID token's claims (provider-specific claims such as `tid`, `oid`, `hd`).
    fn id_token_claims(&self, _claims: &mut Map<String, Value>, _ctx: &ClaimsContext<'_>) {}

    /// A successful token response.
    fn token_success(&self, success: &TokenSuccess, _ctx: &TokenContext<'_>) -> Response {
        standard::token_success(success)
    }

    /// A token-endpoint (or revocation) error response.
    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        standard::token_error(failure)
    }

    /// Extracts the access token of a resource request. Default: `Authorization: Bearer`,
    /// a form body, or the query (RFC 6750 §2).
    fn resource_token_sources(&self) -> &'static [TokenSource] {
        &[TokenSource::Bearer, TokenSource::Form, TokenSource::Query]
    }

    /// Checks a resource request beyond the token (Twitch's `Client-Id`, GitHub's
    /// `User-Agent`). An `Err` is sent as is.
    fn check_resource_request(&self, _name: &str, _ctx: &ResourceContext<'_>) -> Result<(), Box<Response>> {
        Ok(())
    }

    /// Whether resource `name` needs the token to carry `scope`; `Some(scope)` when missing.
    fn resource_missing_scope(&self, name: &str, scopes: &ScopeSet) -> Option<&'static str> {
        (name == "userinfo" && self.profile().userinfo_requires_openid && !scopes.contains("openid"))
            .then_some("openid")
    }

    /// The token-info answer for a live access token (`Profile::token_info`: Google, which
    /// overrides it with its own spelling): the client as `azp` and `aud`, the scopes, `exp`
    /// and `expires_in`, and `sub` when the token is a person's.
    fn token_info(&self, ctx: &TokenInfoContext<'_>) -> Response {
        let info = standard::token_info(ctx, ctx.user.map(|u| self.subject(u)));
        (StatusCode::OK, axum::Json(Value::Object(info))).into_response()
    }

    /// The token-info answer for a token that is not live (unknown, expired, revoked).
    fn token_info_refused(&self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_token", "error_description": "Invalid Value"})),
        )
            .into_response()
    }

    /// The answer of a profile API.
    fn resource(&self, name: &str, ctx: &ResourceContext<'_>) -> Response {
        let _ = name;
        let mut claims = ctx.user.claims_for(ctx.scopes);
        claims.insert("sub".into(), json!(self.subject(ctx.user)));
        (StatusCode::OK, axum::Json(Value::Object(claims))).into_response()
    }

    /// A refused resource request (RFC 6750 §3).
    fn bearer_error(&self, failure: &BearerFailure, _resource: &str) -> Response {
        standard::bearer_error(failure)
    }

    /// The provider's answer when it is broken (scripted `ServerError`).
    fn server_error(&self, endpoint: Endpoint) -> Response {
        standard::server_error(endpoint)
    }

    /// How long device and user codes live, and the polling interval (RFC 8628 §3.2).
    fn device_code_lifetimes(&self) -> (std::time::Duration, std::time::Duration) {
        (
            std::time::Duration::from_secs(600),
            std::time::Duration::from_secs(5),
        )
    }

    /// The device authorization response (RFC 8628 §3.2), in the provider's shape.
    fn device_authorization_response(&self, ctx: &DeviceContext<'_>) -> Response {
        standard::device_authorization_response(ctx)
    }

    /// The scopes a `client_credentials` request gets: no user means no `openid`.
    fn client_credentials_scopes(&self, requested: &ScopeSet) -> Result<ScopeSet, TokenFailure> {
        if requested.contains("openid") {
            return Err(TokenFailure::InvalidScope(
                "openid needs a user, and client_credentials has none".into(),
            ));
        }
        Ok(requested.clone())
    }

    /// The provider's answer for a path it does not serve (an unknown or retired API), in its
    /// own shape, so a client that calls the wrong URL fails as it would in production.
    fn not_found(&self, path: &str) -> Response {
        standard::not_found(path)
    }
}
