//! Validation of an authorization request: is it one the IdP may answer, and where may the
//! answer go?
//!
//! `client_id` and `redirect_uri` come first, and failures there end on an error page *at
//! the IdP*: redirecting to an unverified URI would make the IdP an open redirector (RFC 6749
//! §4.1.2.1). Every later failure is a [`Rejection::Redirect`], reported to the client with
//! its `state`. What a real provider tolerates but a careful client avoids (no `state`, no
//! PKCE, an http redirect URI…) passes, as a lint finding on the request's record. Nothing
//! here changes the store.

use axum::http::StatusCode;
use axum::response::Response;

use crate::authorization::{AuthorizationRequest, Pkce, ResponseMode};
use crate::clients::{PkcePolicy, list_or_none};
use crate::http::pages;
use crate::http::params::Params;
use crate::lint::Finding;
use crate::log::Recorder;
use crate::personality::{AuthorizeFailure, PkceSupport};
use crate::shared::Shared;
use crate::types::{ClientId, ScopeSet};

/// Why a request was refused, and so where the answer goes.
pub(super) enum Rejection {
    /// The client or its redirect URI cannot be trusted: an error page at the IdP.
    Page(Box<Response>),
    /// Anything after: an error redirect back to the client (with `state`).
    Redirect(Box<AuthorizationRequest>, AuthorizeFailure),
}

/// Validates an authorization request, noting the client's weaknesses as lint findings.
pub(super) fn validate(
    shared: &Shared,
    params: &Params,
    rec: &Recorder,
) -> Result<AuthorizationRequest, Rejection> {
    let page = |code: &str, msg: String, fix: &str| {
        Rejection::Page(Box::new(pages::error_page(
            StatusCode::BAD_REQUEST,
            code,
            &msg,
            fix,
        )))
    };
    let repeated = params.repeated();
    for name in ["client_id", "redirect_uri"] {
        if repeated.iter().any(|r| r == name) {
            return Err(page(
                "invalid_request",
                format!("parameter {name} is repeated"),
                "send each parameter once (RFC 6749 §3.1)",
            ));
        }
    }
    let Some(client_id) = params.get("client_id").map(ClientId::new) else {
        return Err(page(
            "invalid_request",
            "client_id is missing".into(),
            "send the client_id your app is registered with",
        ));
    };
    let client = shared.store.lock().unwrap().clients.get(&client_id).cloned();
    let Some(client) = client else {
        return Err(page(
            "invalid_client",
            format!("unknown client_id {client_id}"),
            "register the client (MockIdp::add_client, POST /__admin/clients or the config file) or fix the client_id",
        ));
    };
    // The registered id from here on: every grant and session of this client shares its text.
    let client_id = client.id.clone();
    let profile = shared.personality.profile();
    let scopes = ScopeSet::parse(params.get("scope").unwrap_or(""), &profile.scope_separators);
    let is_oidc = profile.oidc && scopes.contains("openid");
    let (redirect_uri, sent) = match params.get("redirect_uri") {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => (uri.to_owned(), true),
        Some(uri) => {
            return Err(page(
                "invalid_redirect_uri",
                format!(
                    "redirect_uri {uri} is not registered for client {client_id} (registered: {})",
                    list_or_none(&client.redirect_uris)
                ),
                "register the exact URI (scheme, host, port, path and query must match character for character)",
            ));
        }
        None if is_oidc => {
            return Err(page(
                "invalid_request",
                "redirect_uri is missing".into(),
                "OpenID Connect requires redirect_uri in every authorization request",
            ));
        }
        None if client.redirect_uris.len() == 1 => (client.redirect_uris[0].clone(), false),
        None => {
            return Err(page(
                "invalid_request",
                "redirect_uri is missing and the client has not exactly one registered".into(),
                "send redirect_uri",
            ));
        }
    };
    if let Ok(u) = url::Url::parse(&redirect_uri)
        && u.scheme() == "http"
    {
        let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
            || u.host_str().is_some_and(|h| h.ends_with(".localhost"));
        rec.finding(Finding::insecure_redirect_uri(&redirect_uri, loopback));
    }
    let response_mode = match params.get("response_mode") {
        None | Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        Some(other) => {
            return Err(page(
                "invalid_request",
                format!("response_mode {other:?} is not supported"),
                "use query, fragment or form_post",
            ));
        }
    };
    let mut req = AuthorizationRequest {
        client_id,
        redirect_uri,
        redirect_uri_sent: sent,
        response_mode,
        scopes,
        state: params.get("state").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        pkce: None,
        prompt: Vec::new(),
        max_age: None,
        login_hint: params.get("login_hint").map(str::to_owned),
        params: params.pairs().to_vec(),
    };
    let redirect =
        |req: &AuthorizationRequest, f: AuthorizeFailure| Err(Rejection::Redirect(Box::new(req.clone()), f));
    if let Some(name) = repeated.first() {
        return redirect(
            &req,
            AuthorizeFailure::InvalidRequest(format!("parameter {name} is repeated (RFC 6749 §3.1)")),
        );
    }
    match params.get("response_type") {
        None if !profile.response_type_required => {
            rec.finding(Finding::missing_response_type(&profile.display_name));
        }
        None => {
            return redirect(
                &req,
                AuthorizeFailure::InvalidRequest("response_type is missing".into()),
            );
        }
        Some("code") => {}
        Some(other) => {
            return redirect(
                &req,
                AuthorizeFailure::UnsupportedResponseType(format!(
                    "response_type {other:?} is not supported; this IdP implements the authorization code flow (response_type=code)"
                )),
            );
        }
    }
    for unknown in req
        .scopes
        .iter()
        .filter(|s| !profile.scopes_supported.iter().any(|k| k == s.as_str()))
    {
        rec.finding(Finding::unknown_scope(unknown.as_str()));
    }
    let pkce_params = match profile.pkce {
        PkceSupport::Standard => (params.get("code_challenge"), params.get("code_challenge_method")),
        PkceSupport::Ignored => (None, None),
    };
    match pkce_params {
        (None, Some(_)) => {
            return redirect(
                &req,
                AuthorizeFailure::InvalidRequest("code_challenge_method without code_challenge".into()),
            );
        }
        (None, None) => {
            if client.pkce == PkcePolicy::Required && profile.pkce == PkceSupport::Standard {
                return redirect(
                    &req,
                    AuthorizeFailure::InvalidRequest(
                        "code_challenge is required for this client (PKCE)".into(),
                    ),
                );
            }
            rec.finding(Finding::missing_pkce());
        }
        (Some(challenge), method) => {
            let method = method.unwrap_or("plain");
            match method {
                "S256" => {}
                "plain" if client.allow_plain_pkce || profile.pkce_plain_accepted => {
                    rec.finding(Finding::pkce_plain())
                }
                "plain" => {
                    return redirect(
                        &req,
                        AuthorizeFailure::InvalidRequest(
                            "code_challenge_method plain is not accepted (it is also the default when the method is omitted); use S256"
                                .into(),
                        ),
                    );
                }
                other => {
                    return redirect(
                        &req,
                        AuthorizeFailure::InvalidRequest(format!(
                            "code_challenge_method {other:?} is not supported; use S256"
                        )),
                    );
                }
            }
            let well_formed = (43..=128).contains(&challenge.len())
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
                && (method != "S256" || challenge.len() == 43);
            if !well_formed {
                return redirect(
                    &req,
                    AuthorizeFailure::InvalidRequest(
                        "code_challenge is malformed: S256 challenges are 43 base64url characters (RFC 7636 §4.2)".into(),
                    ),
                );
            }
            req.pkce = Some(Pkce {
                challenge: challenge.to_owned(),
                method: method.to_owned(),
            });
        }
    }
    if let Some(prompt) = params.get("prompt") {
        let values: Vec<String> = prompt
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(bad) = values
            .iter()
            .find(|v| !["none", "login", "consent", "select_account"].contains(&v.as_str()))
        {
            return redirect(
                &req,
                AuthorizeFailure::InvalidRequest(format!("prompt value {bad:?} is not supported")),
            );
        }
        if values.iter().any(|v| v == "none") && values.len() > 1 {
            return redirect(
                &req,
                AuthorizeFailure::InvalidRequest("prompt=none cannot be combined with other values".into()),
            );
        }
        req.prompt = values;
    }
    if let Some(max_age) = params.get("max_age") {
        match max_age.parse::<u64>() {
            Ok(v) => req.max_age = Some(v),
            Err(_) => {
                return redirect(
                    &req,
                    AuthorizeFailure::InvalidRequest(format!(
                        "max_age {max_age:?} is not a non-negative integer"
                    )),
                );
            }
        }
    }
    let pkce_s256 = req.pkce.as_ref().is_some_and(|p| p.method == "S256");
    match &req.state {
        None if pkce_s256 => rec.finding(Finding::missing_state_with_pkce()),
        None => rec.finding(Finding::missing_state()),
        Some(s) if s.len() < 8 => rec.finding(Finding::weak_state(s.len())),
        Some(_) => {}
    }
    if is_oidc && req.nonce.is_none() {
        rec.finding(if pkce_s256 {
            Finding::missing_nonce_with_pkce()
        } else {
            Finding::missing_nonce()
        });
    }
    Ok(req)
}
