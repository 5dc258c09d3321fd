//! The data part of a personality: which provider, its paths, scopes, token formats and the
//! switches where it departs from the RFCs. Every personality starts from
//! [`Profile::standard`] and changes only what its provider does differently; the core reads
//! the switches, so a difference in data never becomes an `if provider == …` elsewhere.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clients::TokenAuthMethod;

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
    /// RFC 7662 introspection endpoint (the OIDC and generic personalities; the real providers
    /// have none, or their own token-info APIs).
    pub introspection: Option<String>,
    /// RFC 8628 device authorization endpoint (where the provider has the device flow).
    pub device_authorization: Option<String>,
    /// The page a person opens to enter the user code (`verification_uri`).
    pub device_verification: Option<String>,
}

/// RFC 8628 §3.4's grant type.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 7523 §2.1's grant type.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// RFC 8693 §2.1's grant type.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// A protected resource (profile API) besides userinfo: `GET /user/emails` at GitHub.
/// Requests to it count as the [`Endpoint::Userinfo`](crate::Endpoint::Userinfo) endpoint
/// for scripting and expectations.
#[derive(Clone, Debug, Serialize)]
pub struct Resource {
    /// Route path (axum syntax).
    pub path: String,
    /// The resource's name (`userinfo`, `emails`, …), as the personality knows it.
    pub name: &'static str,
    /// Whether POST is accepted besides GET.
    pub post: bool,
    /// A query a well-behaved client sends (Facebook's `fields=`), for docs and tests.
    pub example_query: Option<&'static str>,
}

impl Resource {
    /// A GET resource.
    pub(crate) fn get(path: &str, name: &'static str) -> Resource {
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
    /// Whether the token endpoint has the `client_credentials` grant (Entra, the OIDC and
    /// generic personalities); the others answer `unsupported_grant_type`, as GitHub's and
    /// Google's do.
    pub client_credentials: bool,
    /// Whether the token endpoint has the resource-owner password grant (Entra's ROPC, the
    /// generic personality); the OIDC personality refuses it, as OAuth 2.1 and RFC 9700 do.
    pub password_grant: bool,
    /// Whether the token endpoint has RFC 8693 token exchange (the OIDC and generic
    /// personalities).
    pub token_exchange: bool,
    /// Whether the token endpoint takes RFC 7523 §2.1 JWT bearer assertions signed by a
    /// registered client (the OIDC and generic personalities; Google's service accounts).
    pub jwt_bearer: bool,
    /// Whether a JWT bearer request with `requested_token_use=on_behalf_of` trades a user's
    /// access token for one to another API (Entra's on-behalf-of flow).
    pub on_behalf_of: bool,
    /// Other paths the token endpoint answers on, as the real provider does (Google's
    /// `/oauth2/v4/token`, which long-lived client libraries still call).
    pub token_path_aliases: Vec<String>,
    /// Google's token-info endpoint (`/tokeninfo`): an API checks an opaque access token
    /// without client authentication. `None` elsewhere.
    pub token_info: Option<String>,
    /// The real provider's token endpoint URLs an RFC 7523 §2.1 grant assertion may name as
    /// `aud` besides the mock's own: its libraries sign their own URL, whatever host the
    /// request goes to (Google's sign `https://oauth2.googleapis.com/token`).
    pub grant_assertion_audiences: Vec<String>,
    /// Whether the profile APIs also answer with a trailing slash (Microsoft Graph's
    /// `/v1.0/me/`, which passport-microsoft calls).
    pub resources_with_trailing_slash: bool,
    /// Whether client credentials may come as URL query parameters (Twitch, Amazon, GitHub,
    /// Facebook accept it; the standard personality refuses it).
    pub client_auth_in_query: bool,
    /// Whether the code exchange must repeat the authorization request's `redirect_uri`
    /// (RFC 6749 §4.1.3; GitHub only checks it when sent).
    pub redirect_uri_required_at_token: bool,
    /// Whether a token request without `grant_type` is a code exchange (GitHub, Facebook).
    pub grant_type_optional: bool,
    /// Whether the token and device endpoints also take a JSON object body (GitHub: its own
    /// libraries, `@octokit/oauth-methods` and `@octokit/auth-oauth-device`, post JSON).
    pub json_bodies: bool,
    /// Whether the device flow names the client by `client_id` alone, with no secret (GitHub:
    /// "client_id" is the only credential its `/login/device/code` and device polls take).
    pub device_flow_by_client_id: bool,
    /// A second `grant_type` the device code grant is polled with besides RFC 8628's URN
    /// (Entra: `device_code`, which MSAL sends).
    pub device_code_grant_alias: Option<&'static str>,
    /// Whether a refresh kills the access tokens issued before it (GitHub Apps).
    pub refresh_revokes_access_tokens: bool,
    /// Whether `userinfo` needs the `openid` scope.
    pub userinfo_requires_openid: bool,
}

impl Profile {
    /// The grant types the token endpoint takes, for discovery and for the error that names them.
    pub fn grant_types(&self) -> Vec<&'static str> {
        let mut grants = vec!["authorization_code", "refresh_token"];
        if self.client_credentials {
            grants.push("client_credentials");
        }
        if self.password_grant {
            grants.push("password");
        }
        if self.paths.device_authorization.is_some() {
            grants.push(DEVICE_CODE_GRANT);
        }
        if self.token_exchange {
            grants.push(TOKEN_EXCHANGE_GRANT);
        }
        if self.jwt_bearer || self.on_behalf_of {
            grants.push(JWT_BEARER_GRANT);
        }
        grants
    }

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
    pub(crate) fn standard(id: ProviderId, display_name: &str, oidc: bool, paths: Paths) -> Profile {
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
            client_credentials: false,
            password_grant: false,
            token_exchange: false,
            jwt_bearer: false,
            on_behalf_of: false,
            token_path_aliases: Vec::new(),
            token_info: None,
            grant_assertion_audiences: Vec::new(),
            resources_with_trailing_slash: false,
            client_auth_in_query: false,
            refresh_revokes_access_tokens: false,
            grant_type_optional: false,
            json_bodies: false,
            device_flow_by_client_id: false,
            device_code_grant_alias: None,
            redirect_uri_required_at_token: true,
            userinfo_requires_openid: oidc,
        }
    }
}
