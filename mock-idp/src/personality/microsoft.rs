//! The [`Microsoft`] personality: Microsoft Entra ID (Azure AD v2.0 endpoints) and Microsoft
//! Graph.
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

use super::context::{ClaimsContext, DeviceContext, DiscoveryContext, ResourceContext, TokenContext};
use super::hooks::Hooks;
use super::profile::{Paths, Profile, ProviderId, Resource};
use super::standard;
use super::wire::{
    AuthorizeFailure, BearerFailure, ClientProblem, DeviceProblem, TokenFailure, TokenSuccess, json_no_store,
    random_guid, stable_guid,
};
use crate::clients::{Client, Lifetimes, RefreshRotation};
use crate::store::{Grant, GrantProblem, TokenProblem};
use crate::types::{Endpoint, ScopeSet};
use crate::users::User;

/// The Microsoft-account ("consumers") tenant.
pub const CONSUMERS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Microsoft Entra ID (Azure AD v2.0 endpoints) and Microsoft Graph.
///
/// Emulated: tenant paths (`/{tenant}/oauth2/v2.0/authorize`, `…/token`, `…/logout`,
/// `/{tenant}/discovery/v2.0/keys`, `/{tenant}/v2.0/.well-known/openid-configuration`) for
/// `common`, `organizations`, `consumers` or a tenant GUID; the multi-tenant discovery issuer
/// with the literal `{tenantid}` (quirk 4) while ID tokens carry the user's own tenant; ID
/// tokens with `tid`, `oid`, pairwise `sub` (differs per app), mutable unverified
/// `preferred_username`/`email` and no `email_verified` (quirk 5); no
/// `code_challenge_methods_supported` although PKCE works (quirk 15); refresh tokens only with
/// `offline_access`, a new one on every refresh while the old keeps working; `scope` reordered
/// with the resource scope first; `ext_expires_in`; AADSTS errors with `error_codes`,
/// `trace_id`, `correlation_id`, `timestamp` packed into `error_description` (quirk 19);
/// Graph's `/oidc/userinfo` and `/v1.0/me` with Graph's error shape; what MSAL relies on:
/// `client_info` (the user's home account, base64url `{"uid": oid, "utid": tid}`) when a user
/// grant asks with `client_info=1`, and device-code polls with `grant_type=device_code`.
///
/// Simplifications: login.microsoftonline.com and graph.microsoft.com are one origin; access
/// tokens are opaque strings shaped like JWTs (apps must not parse Graph tokens anyway);
/// `expires_in` is a fixed 4797 s, inside Entra's randomised 60–90 minutes. AADSTS codes are
/// Microsoft's; wording marked † in providers.md is unverified.
///
/// User attributes read (`User::provider["microsoft"]`): `tid` (tenant GUID), `oid` (object
/// GUID), `upn` (`preferred_username`).
#[derive(Debug)]
pub struct Microsoft {
    profile: Profile,
    tenant: String,
}

impl Microsoft {
    /// Entra with one mock organisation tenant (its GUID is [`Microsoft::tenant_id`]).
    pub fn new() -> Microsoft {
        let t = "/{tenant}";
        let profile = Profile {
            // `scope=<resource>/.default` at `/{tenant}/oauth2/v2.0/token`.
            client_credentials: true,
            // ROPC, for work and school accounts without MFA (Microsoft discourages it).
            password_grant: true,
            on_behalf_of: true,
            // MSAL polls with `grant_type=device_code`; the docs' URN works as well.
            device_code_grant_alias: Some("device_code"),
            resources: vec![Resource::get("/v1.0/me", "me")],
            resources_with_trailing_slash: true,
            scopes_supported: ["openid", "profile", "email", "offline_access", "User.Read"]
                .map(String::from)
                .to_vec(),
            default_scopes: "openid profile email offline_access User.Read".into(),
            access_token_prefix: "eyJ0eXAiOiJKV1QiLCJub25jZSI6Im1vY2sifQ.eyJhdWQiOiIwMDAwMDAwMy0w".into(),
            access_token_bytes: 600,
            pkce_methods_advertised: vec![],
            default_path_params: vec![("tenant", "common")],
            refresh_token_prefix: "1.AXwA".into(),
            ..Profile::standard(
                ProviderId::Microsoft,
                "Microsoft",
                true,
                Paths {
                    discovery: Some(format!("{t}/v2.0/.well-known/openid-configuration")),
                    jwks: Some(format!("{t}/discovery/v2.0/keys")),
                    authorize: format!("{t}/oauth2/v2.0/authorize"),
                    token: format!("{t}/oauth2/v2.0/token"),
                    userinfo: "/oidc/userinfo".into(),
                    revocation: None,
                    end_session: Some(format!("{t}/oauth2/v2.0/logout")),
                    introspection: None,
                    device_authorization: Some(format!("{t}/oauth2/v2.0/devicecode")),
                    device_verification: Some("/devicelogin".into()),
                },
            )
        };
        Microsoft {
            profile,
            tenant: stable_guid("gatecheck-mock-tenant"),
        }
    }

    /// The GUID of the mock's default tenant (users without a `tid` attribute live there).
    pub fn tenant_id(&self) -> &str {
        &self.tenant
    }

    fn tid(&self, user: &User) -> String {
        user.attr("microsoft", "tid")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| self.tenant.clone())
    }

    fn oid(user: &User) -> String {
        user.attr("microsoft", "oid")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| stable_guid(&format!("oid:{}", user.id)))
    }

    fn upn(user: &User) -> String {
        user.attr("microsoft", "upn")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| user.email.clone())
            .unwrap_or_else(|| format!("{}@mock.onmicrosoft.com", user.id))
    }

    /// Entra's `client_info`: `{"uid": oid, "utid": tid}` in base64url.
    fn client_info(&self, user: &User) -> String {
        let info = json!({"uid": Microsoft::oid(user), "utid": self.tid(user)});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(info.to_string())
    }

    /// Pairwise `sub`: the same user has a different `sub` in every app.
    fn pairwise_sub(user: &User, client: &str) -> String {
        let d = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            format!("{}|{client}", user.id).as_bytes(),
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..32])
    }

    /// The origin, from an issuer of the form `{base}/{tid}/v2.0`.
    fn base(issuer: &str) -> &str {
        issuer
            .trim_end_matches("/v2.0")
            .rsplit_once('/')
            .map_or(issuer, |(b, _)| b)
    }
}

impl Default for Microsoft {
    fn default() -> Self {
        Microsoft::new()
    }
}

/// `User.Read profile openid email`: resource scopes first, `offline_access` not echoed.
fn echo_scope(granted: &ScopeSet) -> String {
    let mut out: Vec<&str> = granted
        .iter()
        .map(|s| s.as_str())
        .filter(|s| !["openid", "profile", "email", "offline_access"].contains(s))
        .collect();
    for s in ["profile", "openid", "email"] {
        if granted.contains(s) {
            out.push(s);
        }
    }
    out.join(" ")
}

fn aadsts(status: u16, error: &str, code: u32, message: &str) -> Response {
    let trace = random_guid();
    let correlation = random_guid();
    let ts = super::wire::timestamp(std::time::SystemTime::now());
    json_no_store(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}"),
            "error_codes": [code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}")
        }),
    )
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut resp = (
        status,
        axum::Json(json!({"error": {"code": code, "message": message, "innerError": {
            "date": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            "request-id": random_guid(), "client-request-id": random_guid()}}})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        );
    }
    resp
}

impl Hooks for Microsoft {
    /// Entra's device flow (`/{tenant}/oauth2/v2.0/devicecode`): 15 minutes, and a `message`
    /// to show the person.
    fn device_code_lifetimes(&self) -> (std::time::Duration, std::time::Duration) {
        (
            std::time::Duration::from_secs(900),
            std::time::Duration::from_secs(5),
        )
    }

    fn device_authorization_response(&self, ctx: &DeviceContext<'_>) -> Response {
        json_no_store(
            StatusCode::OK,
            &json!({
                "user_code": ctx.user_code,
                "device_code": ctx.device_code,
                "verification_uri": ctx.verification_uri,
                "expires_in": ctx.expires_in,
                "interval": ctx.interval,
                "message": format!(
                    "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
                    ctx.verification_uri, ctx.user_code
                ),
            }),
        )
    }

    /// Entra's client credentials take exactly one `<resource>/.default` scope (the app
    /// permissions granted to the client for that resource).
    fn client_credentials_scopes(&self, requested: &ScopeSet) -> Result<ScopeSet, TokenFailure> {
        let scopes: Vec<&str> = requested.iter().map(|s| s.as_str()).collect();
        match scopes.as_slice() {
            [one] if one.ends_with("/.default") => Ok(requested.clone()),
            _ => Err(TokenFailure::InvalidScope(
                "Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).".into(),
            )),
        }
    }

    /// Microsoft Graph answers an unknown segment with 400 `BadRequest` "Resource not found for
    /// the segment '…'." (learn.microsoft.com/graph/errors); the login host an HTML 404.
    fn not_found(&self, path: &str) -> Response {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.first() {
            Some(&("v1.0" | "beta")) => {
                let segment = segments.last().copied().unwrap_or("");
                graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!("Resource not found for the segment '{segment}'."),
                )
            }
            _ => standard::html_not_found("Not Found"),
        }
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn default_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: std::time::Duration::from_secs(4797),
            refresh_token: std::time::Duration::from_secs(90 * 24 * 3600),
            ..Lifetimes::default()
        }
    }

    fn issuer(&self, base: &str) -> String {
        format!("{base}/{}/v2.0", self.tenant)
    }

    fn subject(&self, user: &User) -> String {
        Microsoft::oid(user)
    }

    /// The ID token's `sub` is pairwise: one value per user and app (the `oid` is the same
    /// everywhere).
    fn subject_for_client(&self, user: &User, client: &crate::types::ClientId) -> String {
        Microsoft::pairwise_sub(user, client.as_str())
    }

    fn discovery(&self, ctx: &DiscoveryContext<'_>) -> Option<Value> {
        let tenant = ctx
            .path_params
            .get("tenant")
            .map(String::as_str)
            .unwrap_or("common");
        let base = ctx.base;
        let issuer = match tenant {
            "common" | "organizations" => format!("{base}/{{tenantid}}/v2.0"),
            "consumers" => format!("{base}/{CONSUMERS_TENANT}/v2.0"),
            guid => format!("{base}/{guid}/v2.0"),
        };
        let t = format!("{base}/{tenant}");
        Some(json!({
            "token_endpoint": format!("{t}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{t}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": issuer,
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": format!("{base}/oidc/userinfo"),
            "authorization_endpoint": format!("{t}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{t}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{t}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                                 "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                 "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": format!("{t}/kerberos"),
            "tenant_region_scope": null,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net"
        }))
    }

    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        match failure {
            AuthorizeFailure::Denied => vec![
                ("error".into(), "access_denied".into()),
                (
                    "error_description".into(),
                    "AADSTS65004: User declined to consent to access the app.".into(),
                ),
            ],
            AuthorizeFailure::InvalidScope(d) => vec![
                ("error".into(), "invalid_client".into()),
                (
                    "error_description".into(),
                    format!("AADSTS70011: The provided request must include a 'scope' input parameter. {d}"),
                ),
            ],
            other => standard::authorize_error(other),
        }
    }

    fn issues_refresh_token(&self, grant: &Grant, client: &Client) -> bool {
        client.refresh_tokens && grant.scopes.contains("offline_access")
    }

    fn refresh_rotation(&self, _client: &Client) -> RefreshRotation {
        RefreshRotation::Reissue
    }

    fn id_token_claims(&self, claims: &mut Map<String, Value>, ctx: &ClaimsContext<'_>) {
        let user = ctx.user;
        let tid = self.tid(user);
        for k in [
            "auth_time",
            "at_hash",
            "given_name",
            "family_name",
            "picture",
            "email_verified",
            "email",
        ] {
            claims.remove(k);
        }
        if claims.get("iss").and_then(Value::as_str) == Some(ctx.issuer) {
            claims.insert(
                "iss".into(),
                json!(format!("{}/{tid}/v2.0", Microsoft::base(ctx.issuer))),
            );
        }
        if claims.get("sub").is_some() {
            claims.insert(
                "sub".into(),
                json!(Microsoft::pairwise_sub(user, ctx.grant.client.as_str())),
            );
        }
        if ctx.grant.scopes.contains("email")
            && let Some(e) = &user.email
        {
            claims.insert("email".into(), json!(e));
            // Optional claim: the email's domain owner verified it (the only verification
            // signal Entra gives; clients must not trust `email` without it).
            claims.insert("xms_edov".into(), json!(user.email_verified));
        }
        if ctx.grant.scopes.contains("profile") {
            claims.insert("preferred_username".into(), json!(Microsoft::upn(user)));
            if let Some(n) = &user.name {
                claims.insert("name".into(), json!(n));
            }
        }
        if let Some(iat) = claims.get("iat").cloned() {
            claims.insert("nbf".into(), iat);
        }
        claims.insert("oid".into(), json!(Microsoft::oid(user)));
        claims.insert("tid".into(), json!(tid));
        claims.insert("ver".into(), json!("2.0"));
        claims.insert("rh".into(), json!("0.AXwA-mock."));
        claims.insert(
            "uti".into(),
            json!(random_guid().replace('-', "")[..22].to_owned()),
        );
        claims.insert("aio".into(), json!("Df2UVXL1ix!lMCWMSOJBcFat"));
    }

    fn token_success(&self, success: &TokenSuccess, ctx: &TokenContext<'_>) -> Response {
        let mut body = Map::new();
        body.insert("token_type".into(), json!(success.token_type));
        if let Some(s) = &success.scope {
            body.insert("scope".into(), json!(echo_scope(s)));
        }
        if let Some(e) = success.expires_in {
            body.insert("expires_in".into(), json!(e));
            body.insert("ext_expires_in".into(), json!(e));
        }
        if let Some(t) = &success.access_token {
            body.insert("access_token".into(), json!(t));
        }
        if let Some(r) = &success.refresh_token {
            body.insert("refresh_token".into(), json!(r));
        }
        if let Some(i) = &success.id_token {
            body.insert("id_token".into(), json!(i));
        }
        // `client_info=1` (MSAL sends it on every token request) asks for the user's home
        // account: base64url JSON of `uid` (object id) and `utid` (home tenant), which MSAL
        // makes the account's `homeAccountId` (`uid.utid`). None for an app-only token.
        if let Some(user) = ctx.user
            && ctx.params.iter().any(|(k, v)| k == "client_info" && v == "1")
        {
            body.insert("client_info".into(), json!(self.client_info(user)));
        }
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        use GrantProblem as G;
        match failure {
            TokenFailure::InvalidClient {
                problem: ClientProblem::Unknown,
                description,
                ..
            } => aadsts(
                400,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                    description.trim_start_matches("unknown client "),
                    self.tenant
                ),
            ),
            TokenFailure::InvalidClient {
                problem: ClientProblem::Missing,
                ..
            } => aadsts(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ),
            TokenFailure::InvalidClient { .. } => aadsts(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
            ),
            TokenFailure::InvalidGrant(p) => {
                let (code, message) = match p {
                    G::CodeReused => (
                        54005,
                        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                    ),
                    G::CodeExpired | G::ScriptedCode => (
                        70008,
                        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                    ),
                    G::RedirectUriMismatch => (
                        500112,
                        "The reply address does not match the reply address provided when requesting Authorization code.",
                    ),
                    G::PkceMismatch | G::PkceVerifierMissing | G::PkceVerifierUnexpected => (
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    ),
                    G::RefreshExpired | G::ScriptedRefresh => (
                        700082,
                        "The refresh token has expired due to inactivity. The token was issued on 2026-08-01T00:00:00.0000000Z and was inactive for 90.00:00:00.",
                    ),
                    G::RefreshRevoked | G::RefreshReused => (
                        50173,
                        "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
                    ),
                    G::UserGone => (50057, "The user account is disabled."),
                    G::BadCredentials => (
                        50126,
                        "Error validating credentials due to invalid username or password.",
                    ),
                    G::SubjectTokenInactive => (50013, "Assertion failed signature validation."),
                    G::CodeUnknown | G::CodeClientMismatch => {
                        (70000, "The provided value for the 'code' parameter is not valid.")
                    }
                    G::RefreshUnknown | G::RefreshClientMismatch => {
                        (9002313, "Invalid request. Request is malformed or invalid.")
                    }
                };
                aadsts(400, "invalid_grant", code, message)
            }
            // Entra's device-flow errors: `authorization_declined` where RFC 8628 says
            // access_denied. The AADSTS numbers of pending (70016) and expired (70019) are the
            // documented ones; declined's is taken as 70000.
            TokenFailure::Device(DeviceProblem::AuthorizationPending) => aadsts(
                400,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ),
            TokenFailure::Device(DeviceProblem::SlowDown { .. }) => aadsts(
                400,
                "slow_down",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ),
            TokenFailure::Device(DeviceProblem::ExpiredToken) => {
                aadsts(400, "expired_token", 70019, "Verification code expired.")
            }
            TokenFailure::Device(DeviceProblem::AccessDenied) => aadsts(
                400,
                "authorization_declined",
                70000,
                "The user declined the device sign-in.",
            ),
            TokenFailure::UnsupportedGrantType(_) => aadsts(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type ''.",
            ),
            TokenFailure::InvalidScope(d) => aadsts(
                400,
                "invalid_scope",
                70011,
                &format!("The provided value for the input parameter 'scope' is not valid. {d}"),
            ),
            TokenFailure::InvalidRequest(d) => aadsts(400, "invalid_request", 900144, d),
            other => standard::token_error(other),
        }
    }

    fn resource_missing_scope(&self, name: &str, scopes: &ScopeSet) -> Option<&'static str> {
        match name {
            "me" if !scopes.iter().any(|s| s.as_str().contains('.')) => Some("User.Read"),
            "userinfo" if !scopes.contains("openid") => Some("openid"),
            _ => None,
        }
    }

    fn resource(&self, name: &str, ctx: &ResourceContext<'_>) -> Response {
        let user = ctx.user;
        if name == "me" {
            return (
                StatusCode::OK,
                axum::Json(json!({
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
                    "businessPhones": [],
                    "displayName": user.name,
                    "givenName": user.given_name,
                    "jobTitle": null,
                    "mail": user.email,
                    "mobilePhone": null,
                    "officeLocation": null,
                    "preferredLanguage": null,
                    "surname": user.family_name,
                    "userPrincipalName": Microsoft::upn(user),
                    "id": Microsoft::oid(user)
                })),
            )
                .into_response();
        }
        let mut c = Map::new();
        c.insert(
            "sub".into(),
            json!(Microsoft::pairwise_sub(user, ctx.client.id.as_str())),
        );
        if ctx.scopes.contains("profile") {
            for (k, v) in [
                ("name", &user.name),
                ("family_name", &user.family_name),
                ("given_name", &user.given_name),
            ] {
                if let Some(v) = v {
                    c.insert(k.into(), json!(v));
                }
            }
            c.insert(
                "picture".into(),
                json!("https://graph.microsoft.com/v1.0/me/photo/$value"),
            );
        }
        if ctx.scopes.contains("email")
            && let Some(e) = &user.email
        {
            c.insert("email".into(), json!(e));
        }
        (StatusCode::OK, axum::Json(Value::Object(c))).into_response()
    }

    fn bearer_error(&self, failure: &BearerFailure, _resource: &str) -> Response {
        match failure {
            BearerFailure::Missing => graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token is empty.",
            ),
            BearerFailure::InsufficientScope(_) => graph_error(
                StatusCode::FORBIDDEN,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
            BearerFailure::InvalidRequest(_) => graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "IDX14100: JWT is not well formed, there are no dots (.).",
            ),
            BearerFailure::InvalidToken(TokenProblem::Expired) => graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            ),
            BearerFailure::InvalidToken(_) => graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            ),
        }
    }

    fn server_error(&self, endpoint: Endpoint) -> Response {
        match endpoint {
            Endpoint::Authorize | Endpoint::EndSession => standard::html_server_error(),
            Endpoint::Userinfo => graph_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable.",
            ),
            _ => aadsts(
                500,
                "temporarily_unavailable",
                50001,
                "The service is temporarily unavailable. Please try again later.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_echo_puts_the_resource_first() {
        assert_eq!(
            echo_scope(&ScopeSet::parse(
                "openid profile email offline_access User.Read",
                &[]
            )),
            "User.Read profile openid email"
        );
    }

    #[test]
    fn base_is_recovered_from_the_issuer() {
        assert_eq!(
            Microsoft::base("http://127.0.0.1:5/abc-def/v2.0"),
            "http://127.0.0.1:5"
        );
    }
}
