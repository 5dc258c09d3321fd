//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Ends the IdP's browser session and, when asked, sends the browser to a
//! `post_logout_redirect_uri` — but only one registered for the client, identified by
//! `client_id` or the audience of a signature-checked `id_token_hint` (an expired hint is
//! fine, as the spec allows). Anything else ends on an error page at the IdP, never in a
//! redirect: an unchecked post-logout redirect is an open redirector. The mock does not ask
//! the user to confirm the logout.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use super::params::Params;
use super::scripted::{infrastructure_response, outcome, take_infrastructure_fault};
use super::{idp_session, pages};
use crate::clients::list_or_none;
use crate::log::Recorder;
use crate::script::Request;
use crate::shared::Shared;
use crate::types::{ClientId, Endpoint};

/// `GET|POST /logout`.
pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    rec.endpoint(Endpoint::EndSession);
    let params = if method == Method::POST {
        Params::parse(&body)
    } else {
        Params::from_query(uri.query())
    };
    rec.params(params.pairs());
    let page =
        |code: &str, msg: String, fix: &str| pages::error_page(StatusCode::BAD_REQUEST, code, &msg, fix);

    let mut client_id = params.get("client_id").map(ClientId::new);
    if let Some(fault) =
        take_infrastructure_fault(&shared, Request::to(Endpoint::EndSession, client_id.as_ref()))
    {
        return infrastructure_response(&shared, Endpoint::EndSession, fault, &rec).await;
    }
    if let Some(name) = params.repeated().first() {
        return page(
            "invalid_request",
            format!("parameter {name} is repeated"),
            "send each parameter once",
        );
    }
    if let Some(hint) = params.get("id_token_hint") {
        let claims = shared.keys.read().unwrap().verify(hint);
        let claims = match claims {
            Ok(c) => c,
            Err(e) => {
                return page(
                    "invalid_request",
                    format!("id_token_hint is not an ID token of this IdP: {e}"),
                    "send the ID token this IdP issued to your app",
                );
            }
        };
        if claims.get("iss").and_then(Value::as_str) != Some(shared.issuer.as_str()) {
            return page(
                "invalid_request",
                "id_token_hint has another issuer".into(),
                "send an ID token of this IdP",
            );
        }
        let aud = match claims.get("aud") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        match (&client_id, aud) {
            (Some(c), Some(a)) if c.as_str() != a => {
                return page(
                    "invalid_request",
                    format!("client_id {c} differs from the audience {a} of id_token_hint"),
                    "send the client_id the ID token was issued to",
                );
            }
            (None, Some(a)) => client_id = Some(ClientId::new(a)),
            _ => {}
        }
    }
    if let Some(c) = &client_id {
        rec.client(c);
    }
    let target = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let Some(c) = &client_id else {
                return page(
                    "invalid_request",
                    "post_logout_redirect_uri needs the client to be identified".into(),
                    "send client_id or id_token_hint along with post_logout_redirect_uri",
                );
            };
            let client = shared.store.lock().unwrap().clients.get(c).cloned();
            let Some(client) = client else {
                return page(
                    "invalid_client",
                    format!("unknown client_id {c}"),
                    "fix the client_id",
                );
            };
            if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return page(
                    "invalid_request",
                    format!(
                        "post_logout_redirect_uri {uri} is not registered for client {c} (registered: {})",
                        list_or_none(&client.post_logout_redirect_uris)
                    ),
                    "register the exact URI as a post-logout redirect URI of the client",
                );
            }
            Some(uri.to_owned())
        }
    };
    // Any outcome that is not a fault only delays the logout.
    let _ = outcome(
        &shared,
        &rec,
        Request::to(Endpoint::EndSession, client_id.as_ref()),
    )
    .await;
    let clear = idp_session::end(&shared, &headers);
    let mut resp = match target {
        Some(uri) => {
            let mut url = uri;
            if let Some(state) = params.get("state") {
                let enc: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("state", state)
                    .finish();
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&enc);
            }
            let mut r = Redirect::to(&url).into_response();
            *r.status_mut() = StatusCode::FOUND;
            r
        }
        None => pages::signed_out_page(),
    };
    if let Some(c) = clear {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
