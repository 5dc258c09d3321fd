//! Provider personalities: how one IdP looks and talks on the wire.
//!
//! The core (codes, tokens, sessions, strictness, scripting) is the same for every
//! provider. What differs — paths, discovery, scope separators, token formats, and above
//! all the *shape* of every answer and error — is a personality: a [`Profile`] of data plus
//! the hooks of the [`Personality`] trait. Every hook has a default that speaks plain
//! RFC 6749 / OpenID Connect, so a personality overrides only where its provider really
//! differs (oauth2-proxy's one-file-per-provider layout, inverted).
//!
//! The core reports failures semantically ([`AuthorizeFailure`], [`TokenFailure`],
//! [`BearerFailure`]); the personality decides the bytes.
//!
//! Adding a provider = one file in this folder implementing [`Personality`], plus one line
//! in [`ProviderId`] and [`personality_for`].

mod amazon;
mod facebook;
mod generic;
mod github;
mod gitlab;
mod google;
mod linkedin;
mod microsoft;
mod oidc;
mod twitch;
pub mod wire;

use std::collections::HashMap;
use std::fmt;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clients::{Client, Lifetimes, RefreshRotation, TokenAuthMethod};
use crate::store::Grant;
use crate::types::{Endpoint, ScopeSet};
use crate::users::User;

pub use amazon::Amazon;
pub use facebook::Facebook;
pub use generic::{Generic, ProfileShape};
pub use github::GitHub;
pub use gitlab::GitLab;
pub use google::Google;
pub use linkedin::LinkedIn;
pub use microsoft::{CONSUMERS_TENANT, Microsoft};
pub use oidc::Oidc;
pub use twitch::Twitch;
pub use wire::{
    AuthorizeFailure, BearerFailure, ClientProblem, TokenFailure, TokenSuccess, form_no_store, json_no_store,
    random_alnum, random_guid, stable_digits, stable_guid,
};

/// The provider a personality plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderId {
    /// A spec-exact OpenID Provider (the default): strict, complete discovery, RFC errors.
    #[default]
    Oidc,
    /// Google.
    Google,
    /// GitHub (OAuth App; `GitHub::app()` for a GitHub App).
    Github,
    /// Microsoft Entra ID.
    Microsoft,
    /// GitLab.
    Gitlab,
    /// LinkedIn (OpenID Connect).
    Linkedin,
    /// Twitch.
    Twitch,
    /// Login with Amazon.
    Amazon,
    /// Facebook Login.
    Facebook,
    /// A generic OAuth 2.0 IdP with authorize/token/profile URLs.
    Generic,
}

impl ProviderId {
    /// Every provider id.
    pub const ALL: [ProviderId; 10] = [
        ProviderId::Oidc,
        ProviderId::Google,
        ProviderId::Github,
        ProviderId::Microsoft,
        ProviderId::Gitlab,
        ProviderId::Linkedin,
        ProviderId::Twitch,
        ProviderId::Amazon,
        ProviderId::Facebook,
        ProviderId::Generic,
    ];

    /// The id as used on the command line and in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderId::Oidc => "oidc",
            ProviderId::Google => "google",
            ProviderId::Github => "github",
            ProviderId::Microsoft => "microsoft",
            ProviderId::Gitlab => "gitlab",
            ProviderId::Linkedin => "linkedin",
            ProviderId::Twitch => "twitch",
            ProviderId::Amazon => "amazon",
            ProviderId::Facebook => "facebook",
            ProviderId::Generic => "generic",
        }
    }
    /// Parses an id.
    pub fn parse(value: &str) -> Option<ProviderId> {
        ProviderId::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The personality implementing a provider id, with its default options.
pub fn personality_for(id: ProviderId) -> Box<dyn Personality> {
    match id {
        ProviderId::Oidc => Box::new(Oidc::new()),
        ProviderId::Google => Box::new(Google::new()),
        ProviderId::Github => Box::new(GitHub::oauth_app()),
        ProviderId::Microsoft => Box::new(Microsoft::new()),
        ProviderId::Gitlab => Box::new(GitLab::new()),
        ProviderId::Linkedin => Box::new(LinkedIn::new()),
        ProviderId::Twitch => Box::new(Twitch::new()),
        ProviderId::Amazon => Box::new(Amazon::new()),
        ProviderId::Facebook => Box::new(Facebook::new()),
        ProviderId::Generic => Box::new(Generic::new()),
    }
}

/// Where each endpoint lives, relative to the IdP's origin. `None`: the provider has no such
/// endpoint. Paths may contain axum parameters (`/{tenant}/oauth2/v2.0/token`).
#[derive(Clone, Debug, Serialize)]
pub struct Paths {
    /// Discovery document.
    pub discovery: Option<String>,
    /// JWKS.
    pub jwks: Option<String>,
    /// Authorization endpoint.
    pub authorize: String,
    /// Token endpoint.
    pub token: String,
    /// Userinfo / profile endpoint (the resource named `userinfo`).
    pub userinfo: String,
    /// Revocation endpoint.
    pub revocation: Option<String>,
    /// End-session endpoint.
    pub end_session: Option<String>,
}

/// A protected resource (profile API) besides userinfo: `GET /user/emails` at GitHub.
/// Requests to it count as the [`Endpoint::Userinfo`] endpoint for scripting.
#[derive(Clone, Debug, Serialize)]
pub struct Resource {
    /// Route path (axum syntax).
    pub path: String,
    /// Name passed to [`Personality::resource`].
    pub name: &'static str,
    /// Whether POST is accepted besides GET.
    pub post: bool,
    /// A query a well-behaved client sends (Facebook's `fields=`), for docs and tests.
    pub example_query: Option<&'static str>,
}

impl Resource {
    /// A GET resource.
    pub fn get(path: &str, name: &'static str) -> Resource {
        Resource {
            path: path.to_owned(),
            name,
            post: false,
            example_query: None,
        }
    }
}

/// How a provider treats PKCE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum PkceSupport {
    /// RFC 7636, enforced when used (and per client policy).
    #[default]
    Standard,
    /// The parameters are accepted and ignored (GitHub before July 2025).
    Ignored,
}

/// The data part of a personality.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    /// Which provider.
    pub id: ProviderId,
    /// Human name for pages ("Google").
    pub display_name: String,
    /// Whether the provider speaks OpenID Connect (ID tokens, discovery, nonce).
    pub oidc: bool,
    /// Endpoint paths.
    pub paths: Paths,
    /// Profile APIs besides userinfo.
    pub resources: Vec<Resource>,
    /// Characters besides space that separate scopes in requests.
    pub scope_separators: Vec<char>,
    /// Scopes the provider advertises (lint: anything else is flagged).
    pub scopes_supported: Vec<String>,
    /// Scopes a client asks for to log a user in.
    pub default_scopes: String,
    /// `token_type` in token responses.
    pub token_type: String,
    /// Prefix of access tokens (`gho_`, `ya29.`, `Atza|`).
    pub access_token_prefix: String,
    /// Prefix of refresh tokens.
    pub refresh_token_prefix: String,
    /// Random bytes in an access token (Amazon's are ≥ 350 characters).
    pub access_token_bytes: usize,
    /// Whether the authorization response carries RFC 9207 `iss`.
    pub iss_in_authorization_response: bool,
    /// Whether discovery advertises RFC 9207 support.
    pub advertise_iss_parameter: bool,
    /// Whether an authorization request without `response_type` is refused (RFC 6749);
    /// GitHub and Facebook assume `code`.
    pub response_type_required: bool,
    /// PKCE methods advertised (`S256`, `plain`), empty for "not advertised".
    pub pkce_methods_advertised: Vec<String>,
    /// PKCE behaviour.
    pub pkce: PkceSupport,
    /// Whether `code_challenge_method=plain` is accepted whatever the client registration
    /// says (Google, Amazon accept it; the standard personality needs the client to allow it).
    pub pkce_plain_accepted: bool,
    /// Client authentication methods the provider accepts at all (LinkedIn: post only).
    pub client_auth_methods: Vec<TokenAuthMethod>,
    /// Whether revocation needs client authentication (Google revokes by token alone).
    pub revocation_client_auth: bool,
    /// Values for path parameters when building URLs (`tenant` = `common`).
    pub default_path_params: Vec<(&'static str, &'static str)>,
    /// Whether the token endpoint also answers GET (Facebook).
    pub token_endpoint_get: bool,
    /// Whether client credentials may come as URL query parameters (Twitch, Amazon, GitHub,
    /// Facebook accept it; the standard personality refuses it).
    pub client_auth_in_query: bool,
    /// Whether the code exchange must repeat the authorization request's `redirect_uri`
    /// (RFC 6749 §4.1.3; GitHub only checks it when sent).
    pub redirect_uri_required_at_token: bool,
    /// Whether a token request without `grant_type` is a code exchange (GitHub, Facebook).
    pub grant_type_optional: bool,
    /// Whether a refresh kills the access tokens issued before it (GitHub Apps).
    pub refresh_revokes_access_tokens: bool,
    /// Whether `userinfo` needs the `openid` scope.
    pub userinfo_requires_openid: bool,
}

impl Profile {
    /// `path` with its `{param}`s replaced by the defaults (`/{tenant}/x` → `/common/x`).
    pub fn fill_path(&self, path: &str) -> String {
        let mut out = path.to_owned();
        for (k, v) in &self.default_path_params {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }

    /// A profile with the standard defaults for everything but identity and paths; each
    /// personality starts from it and changes what its provider does differently.
    pub fn standard(id: ProviderId, display_name: &str, oidc: bool, paths: Paths) -> Profile {
        Profile {
            id,
            display_name: display_name.to_owned(),
            oidc,
            paths,
            resources: Vec::new(),
            scope_separators: vec![],
            scopes_supported: ["openid", "profile", "email", "offline_access"]
                .map(String::from)
                .to_vec(),
            default_scopes: "openid email profile".into(),
            token_type: "Bearer".into(),
            access_token_prefix: String::new(),
            refresh_token_prefix: String::new(),
            access_token_bytes: 32,
            iss_in_authorization_response: false,
            advertise_iss_parameter: false,
            response_type_required: true,
            pkce_methods_advertised: vec!["S256".into()],
            pkce: PkceSupport::Standard,
            pkce_plain_accepted: false,
            client_auth_methods: vec![
                TokenAuthMethod::ClientSecretBasic,
                TokenAuthMethod::ClientSecretPost,
                TokenAuthMethod::None,
            ],
            revocation_client_auth: true,
            default_path_params: Vec::new(),
            token_endpoint_get: false,
            client_auth_in_query: false,
            refresh_revokes_access_tokens: false,
            grant_type_optional: false,
            redirect_uri_required_at_token: true,
            userinfo_requires_openid: oidc,
        }
    }
}

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

/// What the token hooks see.
#[derive(Debug)]
pub struct TokenContext<'a> {
    /// Request headers (GitHub negotiates the format with `Accept`).
    pub headers: &'a HeaderMap,
    /// The grant the tokens are for.
    pub grant: &'a Grant,
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

/// A provider personality. Every hook defaults to the standard (RFC/OIDC) behaviour.
pub trait Personality: Send + Sync + fmt::Debug + 'static {
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
    fn subject_for_client(&self, user: &User, _client: &crate::types::ClientId) -> String {
        self.subject(user)
    }

    /// The discovery document, or `None` when the provider publishes none.
    fn discovery(&self, ctx: &DiscoveryContext<'_>) -> Option<Value> {
        standard_discovery(self.profile(), ctx)
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
        standard_authorize_error(failure)
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
        standard_token_success(success)
    }

    /// A token-endpoint (or revocation) error response.
    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        standard_token_error(failure)
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

    /// The answer of a profile API.
    fn resource(&self, name: &str, ctx: &ResourceContext<'_>) -> Response {
        let _ = name;
        let mut claims = ctx.user.claims_for(ctx.scopes);
        claims.insert("sub".into(), json!(self.subject(ctx.user)));
        (StatusCode::OK, axum::Json(Value::Object(claims))).into_response()
    }

    /// A refused resource request (RFC 6750 §3).
    fn bearer_error(&self, failure: &BearerFailure, _resource: &str) -> Response {
        standard_bearer_error(failure)
    }

    /// The provider's answer when it is broken (scripted `ServerError`).
    fn server_error(&self, endpoint: Endpoint) -> Response {
        standard_server_error(endpoint)
    }
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

/// The standard discovery document for `profile`.
pub fn standard_discovery(p: &Profile, ctx: &DiscoveryContext<'_>) -> Option<Value> {
    if !p.oidc {
        return None;
    }
    let url = |path: &Option<String>| path.as_ref().map(|p| Value::String(format!("{}{p}", ctx.base)));
    let mut doc = Map::new();
    doc.insert("issuer".into(), json!(ctx.issuer));
    doc.insert(
        "authorization_endpoint".into(),
        json!(format!("{}{}", ctx.base, p.paths.authorize)),
    );
    doc.insert(
        "token_endpoint".into(),
        json!(format!("{}{}", ctx.base, p.paths.token)),
    );
    doc.insert(
        "userinfo_endpoint".into(),
        json!(format!("{}{}", ctx.base, p.paths.userinfo)),
    );
    if let Some(v) = url(&p.paths.jwks) {
        doc.insert("jwks_uri".into(), v);
    }
    if let Some(v) = url(&p.paths.revocation) {
        doc.insert("revocation_endpoint".into(), v);
        doc.insert(
            "revocation_endpoint_auth_methods_supported".into(),
            json!(["client_secret_basic", "client_secret_post", "none"]),
        );
    }
    if let Some(v) = url(&p.paths.end_session) {
        doc.insert("end_session_endpoint".into(), v);
    }
    doc.insert("scopes_supported".into(), json!(p.scopes_supported));
    doc.insert("response_types_supported".into(), json!(["code"]));
    doc.insert(
        "response_modes_supported".into(),
        json!(["query", "fragment", "form_post"]),
    );
    doc.insert(
        "grant_types_supported".into(),
        json!(["authorization_code", "refresh_token"]),
    );
    doc.insert("subject_types_supported".into(), json!(["public"]));
    doc.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(ctx.signing_algs),
    );
    doc.insert(
        "token_endpoint_auth_methods_supported".into(),
        json!(["client_secret_basic", "client_secret_post", "none"]),
    );
    doc.insert(
        "claims_supported".into(),
        json!([
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "picture",
            "email",
            "email_verified"
        ]),
    );
    if !p.pkce_methods_advertised.is_empty() {
        doc.insert(
            "code_challenge_methods_supported".into(),
            json!(p.pkce_methods_advertised),
        );
    }
    doc.insert(
        "prompt_values_supported".into(),
        json!(["none", "login", "consent", "select_account"]),
    );
    doc.insert("claims_parameter_supported".into(), json!(false));
    doc.insert("request_parameter_supported".into(), json!(false));
    doc.insert("request_uri_parameter_supported".into(), json!(false));
    if p.advertise_iss_parameter {
        doc.insert(
            "authorization_response_iss_parameter_supported".into(),
            json!(true),
        );
    }
    Some(Value::Object(doc))
}

/// RFC 6749 §4.1.2.1 error parameters with this crate's descriptions.
pub fn standard_authorize_error(failure: &AuthorizeFailure) -> Vec<(String, String)> {
    let (error, description): (&str, Option<String>) = match failure {
        AuthorizeFailure::Denied => ("access_denied", Some("The user denied the request.".into())),
        AuthorizeFailure::LoginRequired => (
            "login_required",
            Some("prompt=none was requested but the user is not logged in.".into()),
        ),
        AuthorizeFailure::ConsentRequired => (
            "consent_required",
            Some("prompt=none was requested but the user has not consented to this client.".into()),
        ),
        AuthorizeFailure::InvalidRequest(d) => ("invalid_request", Some(d.clone())),
        AuthorizeFailure::InvalidScope(d) => ("invalid_scope", Some(d.clone())),
        AuthorizeFailure::UnsupportedResponseType(d) => ("unsupported_response_type", Some(d.clone())),
        AuthorizeFailure::Scripted { error, description } => (error.as_str(), description.clone()),
    };
    let mut params = vec![("error".to_owned(), error.to_owned())];
    if let Some(d) = description {
        params.push(("error_description".to_owned(), d));
    }
    params
}

/// RFC 6749 §5.2 error response.
pub fn standard_token_error(failure: &TokenFailure) -> Response {
    let status = match failure {
        TokenFailure::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
        TokenFailure::Scripted { status, .. } => {
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let mut body = Map::new();
    body.insert("error".into(), json!(failure.code()));
    if let Some(d) = failure.description() {
        body.insert("error_description".into(), json!(d));
    }
    let mut resp = json_no_store(status, &Value::Object(body));
    if let TokenFailure::InvalidClient { basic: true, .. } = failure {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"mock-idp\""),
        );
    }
    resp
}

/// RFC 6749 §5.1 success response, fields in the RFC's order.
pub fn standard_token_body(success: &TokenSuccess) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(t) = &success.access_token {
        body.insert("access_token".into(), json!(t));
    }
    body.insert("token_type".into(), json!(success.token_type));
    if let Some(e) = success.expires_in {
        body.insert("expires_in".into(), json!(e));
    }
    if let Some(r) = &success.refresh_token {
        body.insert("refresh_token".into(), json!(r));
    }
    if let Some(s) = &success.scope {
        body.insert("scope".into(), json!(s.join(" ")));
    }
    if let Some(i) = &success.id_token {
        body.insert("id_token".into(), json!(i));
    }
    body
}

/// RFC 6749 §5.1 success response.
pub fn standard_token_success(success: &TokenSuccess) -> Response {
    json_no_store(StatusCode::OK, &Value::Object(standard_token_body(success)))
}

/// RFC 6750 §3 error with its `WWW-Authenticate` challenge.
pub fn standard_bearer_error(failure: &BearerFailure) -> Response {
    let challenge = |error: &str, d: &str| {
        format!(
            "Bearer realm=\"mock-idp\", error=\"{error}\", error_description=\"{}\"",
            d.replace('"', "'")
        )
    };
    let (status, www, body) = match failure {
        // RFC 6750 §3.1: no authentication attempted, no error code.
        BearerFailure::Missing => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"mock-idp\"".to_owned(),
            None,
        ),
        BearerFailure::InvalidRequest(d) => (
            StatusCode::BAD_REQUEST,
            challenge("invalid_request", d),
            Some(("invalid_request", d.as_str())),
        ),
        BearerFailure::InvalidToken(p) => (
            StatusCode::UNAUTHORIZED,
            challenge("invalid_token", p.describe()),
            Some(("invalid_token", p.describe())),
        ),
        BearerFailure::InsufficientScope(d) => (
            StatusCode::FORBIDDEN,
            challenge("insufficient_scope", d),
            Some(("insufficient_scope", d.as_str())),
        ),
    };
    let mut resp = match body {
        Some((error, d)) => (
            status,
            axum::Json(json!({"error": error, "error_description": d})),
        )
            .into_response(),
        None => status.into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&www) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// A 500: an HTML page for browser endpoints, RFC-shaped JSON elsewhere.
pub fn standard_server_error(endpoint: Endpoint) -> Response {
    if endpoint == Endpoint::Authorize || endpoint == Endpoint::EndSession {
        return html_server_error();
    }
    json_no_store(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"error": "server_error", "error_description": "The identity provider encountered an internal error."}),
    )
}

/// A generic HTML 500 page.
pub fn html_server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><title>Server error</title><h1>500 — the identity provider failed</h1>",
    )
        .into_response()
}
