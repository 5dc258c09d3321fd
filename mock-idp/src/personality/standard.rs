//! The standard answers: what the hooks of [`Hooks`](super::hooks::Hooks) default to, in
//! plain RFC 6749 / RFC 6750 / OpenID Connect shape. A personality that differs only a
//! little calls these and adjusts the result (`standard::token_body`, then a field more).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::context::{DeviceContext, DiscoveryContext, TokenInfoContext};
use super::profile::Profile;
use super::wire::{AuthorizeFailure, BearerFailure, TokenFailure, TokenSuccess, json_no_store};
use crate::types::Endpoint;

/// A token-info description of a live access token: the client as `azp` and `aud`, the
/// scopes (space-separated), `exp` and `expires_in`, and `sub` (the person's id at the provider,
/// `None` for the client's own token).
pub fn token_info(ctx: &TokenInfoContext<'_>, sub: Option<String>) -> Map<String, Value> {
    let client = ctx.grant.client.to_string();
    let mut info = Map::new();
    info.insert("azp".into(), json!(client));
    info.insert("aud".into(), json!(client));
    info.insert("scope".into(), json!(ctx.scopes.join(" ")));
    info.insert("exp".into(), json!(ctx.exp));
    info.insert("expires_in".into(), json!(ctx.expires_in));
    if let Some(sub) = sub {
        info.insert("sub".into(), json!(sub));
    }
    info
}

/// The standard discovery document for `profile`.
pub fn discovery(p: &Profile, ctx: &DiscoveryContext<'_>) -> Option<Value> {
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
    if let Some(v) = url(&p.paths.introspection) {
        doc.insert("introspection_endpoint".into(), v);
        doc.insert(
            "introspection_endpoint_auth_methods_supported".into(),
            json!(["client_secret_basic", "client_secret_post"]),
        );
    }
    doc.insert("scopes_supported".into(), json!(p.scopes_supported));
    doc.insert("response_types_supported".into(), json!(["code"]));
    doc.insert(
        "response_modes_supported".into(),
        json!(["query", "fragment", "form_post"]),
    );
    let grants = p.grant_types();
    if let Some(v) = url(&p.paths.device_authorization) {
        doc.insert("device_authorization_endpoint".into(), v);
    }
    doc.insert("grant_types_supported".into(), json!(grants));
    doc.insert("subject_types_supported".into(), json!(["public"]));
    doc.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(ctx.signing_algs),
    );
    doc.insert(
        "token_endpoint_auth_methods_supported".into(),
        json!(
            p.client_auth_methods
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
        ),
    );
    if p.client_auth_methods.iter().any(|m| {
        matches!(
            m,
            crate::clients::TokenAuthMethod::ClientSecretJwt | crate::clients::TokenAuthMethod::PrivateKeyJwt
        )
    }) {
        doc.insert(
            "token_endpoint_auth_signing_alg_values_supported".into(),
            json!(["RS256", "PS256", "ES256", "HS256"]),
        );
    }
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
pub fn authorize_error(failure: &AuthorizeFailure) -> Vec<(String, String)> {
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
pub fn token_error(failure: &TokenFailure) -> Response {
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

/// RFC 8628 §3.2: the device authorization response.
pub fn device_authorization_response(ctx: &DeviceContext<'_>) -> Response {
    json_no_store(
        StatusCode::OK,
        &json!({
            "device_code": ctx.device_code,
            "user_code": ctx.user_code,
            "verification_uri": ctx.verification_uri,
            "verification_uri_complete": format!("{}?user_code={}", ctx.verification_uri, ctx.user_code),
            "expires_in": ctx.expires_in,
            "interval": ctx.interval,
        }),
    )
}

/// RFC 6749 §5.1 success response, fields in the RFC's order.
pub fn token_body(success: &TokenSuccess) -> Map<String, Value> {
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
pub fn token_success(success: &TokenSuccess) -> Response {
    json_no_store(StatusCode::OK, &Value::Object(token_body(success)))
}

/// RFC 6750 §3 error with its `WWW-Authenticate` challenge.
pub fn bearer_error(failure: &BearerFailure) -> Response {
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
pub fn server_error(endpoint: Endpoint) -> Response {
    if endpoint == Endpoint::Authorize || endpoint == Endpoint::EndSession {
        return html_server_error();
    }
    json_no_store(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"error": "server_error", "error_description": "The identity provider encountered an internal error."}),
    )
}

/// A path the IdP does not serve: 404 with an OAuth-style JSON error (the generic and OIDC
/// personalities; each real provider answers in its own shape, see their `not_found`).
pub fn not_found(path: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "not_found", "error_description": format!("No endpoint at {path}.")})),
    )
        .into_response()
}

/// A web host's HTML 404 page (no captured body to copy: Entra's login host, GitLab's web
/// paths): an HTML page, never JSON, as browsers get.
pub fn html_not_found(title: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>404</h1><p>{title}</p></body></html>"),
    )
        .into_response()
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
