//! RFC 8628 device authorization: a device asks for codes (`POST` to the provider's device
//! endpoint), shows the user code, and polls the token endpoint
//! (`grant_type=urn:ietf:params:oauth:grant-type:device_code`, in `token.rs`) while a person
//! enters the code on the verification page (`GET`/`POST` here) or a test decides through the
//! Rust or admin API.

use std::sync::Arc;

use axum::Extension;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::client_auth::device_flow_client;
use super::params::{Params, check_form_request};
use super::scripted::{infrastructure_response, scripted_error, take_infrastructure_fault};
use crate::lint::Finding;
use crate::log::Recorder;
use crate::personality::{DeviceContext, TokenFailure};
use crate::script::Request;
use crate::shared::Shared;
use crate::types::{ClientId, Endpoint, ScopeSet, UserId};

/// `POST` to the device authorization endpoint.
pub(super) async fn start(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    rec.endpoint(Endpoint::DeviceAuthorization);
    let query = Params::from_query(uri.query());
    let form = Params::from_body(&headers, &body, shared.personality.profile().json_bodies);
    rec.params(form.pairs());
    if form.is_json() {
        rec.finding(Finding::json_body(&shared.personality.profile().display_name));
    }
    let hint = form.get("client_id").map(ClientId::new);
    if let Some(fault) =
        take_infrastructure_fault(&shared, Request::to(Endpoint::DeviceAuthorization, hint.as_ref()))
    {
        return infrastructure_response(&shared, Endpoint::DeviceAuthorization, fault, &rec).await;
    }
    let result = async {
        check_form_request(&headers, &form)?;
        let client = device_flow_client(&shared, &headers, &form, &query, &rec)?.client;
        scripted_error(&shared, &rec, Endpoint::DeviceAuthorization, Some(&client.id)).await?;
        let profile = shared.personality.profile();
        let scopes = ScopeSet::parse(form.get("scope").unwrap_or(""), &profile.scope_separators);
        let (lifetime, interval) = shared.personality.device_code_lifetimes();
        let now = shared.clock.now();
        let da = shared
            .store
            .lock()
            .unwrap()
            .devices
            .start(&client.id, scopes, now, lifetime, interval);
        let page = profile.paths.device_verification.clone().unwrap_or_default();
        let ctx = DeviceContext {
            headers: &headers,
            device_code: &da.device_code,
            user_code: &da.user_code,
            verification_uri: format!("{}{page}", shared.base),
            expires_in: lifetime.as_secs(),
            interval: interval.as_secs(),
        };
        Ok(shared.personality.device_authorization_response(&ctx))
    }
    .await;
    result.unwrap_or_else(|failure: TokenFailure| {
        rec.error(failure.code().to_owned());
        shared.personality.token_error(&failure, &headers)
    })
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    user_code: Option<String>,
}

/// `GET` the verification page: a form for the user code and who approves.
pub(super) async fn page(State(shared): State<Arc<Shared>>, Query(q): Query<PageQuery>) -> Response {
    let users: Vec<UserId> = shared.store.lock().unwrap().users.keys().cloned().collect();
    form_page(&users, q.user_code.as_deref().unwrap_or(""), None)
}

#[derive(Deserialize)]
pub(super) struct Decision {
    user_code: String,
    user: Option<String>,
    decision: String,
}

/// `POST` the verification page: approve as a user, or deny.
pub(super) async fn decide(State(shared): State<Arc<Shared>>, Form(d): Form<Decision>) -> Response {
    let user = (d.decision == "approve").then(|| UserId::new(d.user.unwrap_or_default()));
    let result = shared.decide_device(&d.user_code, user);
    let users: Vec<UserId> = shared.store.lock().unwrap().users.keys().cloned().collect();
    match result {
        Ok(()) => (
            [(header::CACHE_CONTROL, "no-store")],
            Html(format!(
                "<!doctype html><title>Device</title><h1>{}</h1><p>You can return to your device.</p>",
                if d.decision == "approve" {
                    "Device approved"
                } else {
                    "Device denied"
                }
            )),
        )
            .into_response(),
        Err(e) => {
            let mut resp = form_page(&users, &d.user_code, Some(&e));
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            resp
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn form_page(users: &[UserId], user_code: &str, error: Option<&str>) -> Response {
    let options: String = users
        .iter()
        .map(|u| format!("<option>{}</option>", escape(u.as_str())))
        .collect();
    let error = error
        .map(|e| format!("<p role=alert>{}</p>", escape(e)))
        .unwrap_or_default();
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(format!(
            "<!doctype html><title>Connect a device</title><h1>Connect a device</h1>{error}\
             <form method=post><label>Code <input name=user_code value=\"{}\" autofocus></label> \
             <label>As <select name=user>{options}</select></label> \
             <button name=decision value=approve>Approve</button> \
             <button name=decision value=deny>Deny</button></form>",
            escape(user_code)
        )),
    )
        .into_response()
}
