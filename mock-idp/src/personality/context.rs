//! What the hooks see: the request and grant data each hook is handed, and where a
//! resource request may carry its token. Built by the core (the HTTP layer, the minting of
//! tokens), read by the personalities; data only.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method};

use crate::clients::Client;
use crate::store::Grant;
use crate::types::ScopeSet;
use crate::users::User;

/// What the discovery hook needs.
#[derive(Clone, Debug)]
pub struct DiscoveryContext<'a> {
    /// The issuer identifier.
    pub issuer: &'a str,
    /// The IdP's origin (`http://127.0.0.1:PORT`).
    pub base: &'a str,
    /// ID-token algorithms on offer.
    pub signing_algs: Vec<&'static str>,
    /// Path parameters of the discovery request (`tenant` at Microsoft).
    pub path_params: &'a HashMap<String, String>,
}

/// What the hooks around a successful authorization see.
#[derive(Debug)]
pub struct AuthorizeContext<'a> {
    /// The IdP's issuer.
    pub issuer: &'a str,
    /// The user who approved.
    pub user: &'a User,
    /// Scopes requested.
    pub requested: &'a ScopeSet,
    /// Scopes granted.
    pub granted: &'a ScopeSet,
    /// All authorization request parameters.
    pub request: &'a [(String, String)],
}

/// What the device-authorization response hook sees.
#[derive(Debug)]
pub struct DeviceContext<'a> {
    /// Request headers (GitHub negotiates the format with `Accept`).
    pub headers: &'a HeaderMap,
    /// The device code the client polls with.
    pub device_code: &'a str,
    /// The code the person types.
    pub user_code: &'a str,
    /// The page the person opens (absolute).
    pub verification_uri: String,
    /// Seconds until both codes expire.
    pub expires_in: u64,
    /// Seconds between polls.
    pub interval: u64,
}

/// What the token hooks see.
#[derive(Debug)]
pub struct TokenContext<'a> {
    /// Request headers (GitHub negotiates the format with `Accept`).
    pub headers: &'a HeaderMap,
    /// The grant the tokens are for.
    pub grant: &'a Grant,
    /// The user the grant is for, as they are now (`None` when it stands for the client itself:
    /// client credentials, a service account).
    pub user: Option<&'a User>,
    /// The token request's form parameters (Entra answers `client_info=1` with `client_info`).
    pub params: &'a [(String, String)],
    /// Whether this is a refresh.
    pub refresh: bool,
}

/// What the ID-token claims hook sees.
#[derive(Debug)]
pub struct ClaimsContext<'a> {
    /// The IdP's issuer.
    pub issuer: &'a str,
    /// The user, as they are now.
    pub user: &'a User,
    /// The grant.
    pub grant: &'a Grant,
    /// Whether the token is minted on refresh.
    pub refresh: bool,
}

/// What a token-info answer (Google's `/tokeninfo`) is made from: a live access token.
#[derive(Debug)]
pub struct TokenInfoContext<'a> {
    /// The grant of the token.
    pub grant: &'a Grant,
    /// The user it is for; `None` for a token that stands for the client itself (client
    /// credentials, a service account).
    pub user: Option<&'a User>,
    /// Scopes of the token.
    pub scopes: &'a ScopeSet,
    /// When it expires, Unix seconds.
    pub exp: u64,
    /// Seconds until then (IdP clock).
    pub expires_in: u64,
}

/// What a resource (profile API) handler sees, after the bearer token checked out.
#[derive(Debug)]
pub struct ResourceContext<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// The user, as they are now.
    pub user: &'a User,
    /// The grant of the token.
    pub grant: &'a Grant,
    /// Scopes of the token.
    pub scopes: &'a ScopeSet,
    /// The client the token was issued to.
    pub client: &'a Client,
    /// Method.
    pub method: &'a Method,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Query parameters.
    pub query: &'a [(String, String)],
    /// Path parameters.
    pub path_params: &'a HashMap<String, String>,
    /// Seconds until the token expires (IdP clock).
    pub expires_in: u64,
}

impl ResourceContext<'_> {
    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Value of an authorization request parameter stored with the grant.
pub fn request_param<'a>(request: &'a [(String, String)], name: &str) -> Option<&'a str> {
    request
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// Where a resource request may carry its access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (scheme case-insensitive).
    Bearer,
    /// `Authorization: token <token>` (GitHub's older scheme).
    TokenScheme,
    /// `Authorization: OAuth <token>` (Twitch's /validate).
    OAuthScheme,
    /// `access_token` in a form-encoded POST body.
    Form,
    /// `access_token` in the query (linted).
    Query,
    /// A named header carrying the bare token (`x-amz-access-token`).
    Header(&'static str),
}
