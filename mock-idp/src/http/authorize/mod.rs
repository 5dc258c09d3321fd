//! The authorization endpoint (`GET|POST /authorize`) and the login page's form
//! (`POST /__mock/decision`).
//!
//! Each request reads top to bottom: infrastructure faults first (the IdP itself broken),
//! then [`validate`] (may the IdP answer, and where to?), then [`decide`] (the scripted
//! outcome, `prompt`, headless choice or the login page: who approves, or why not), then
//! [`respond`] (session, grant, code and redirect, or the error, or the page). The three
//! steps are one file each and meet only through their data: a validated
//! [`AuthorizationRequest`](crate::authorization::AuthorizationRequest) and a
//! [`Decision`](decide::Decision).

mod decide;
mod respond;
mod validate;

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

pub(super) use respond::DECISION_PATH;

use super::params::{Params, require_form};
use super::scripted::{infrastructure_response, outcome, take_infrastructure_fault};
use super::{idp_session, pages};
use crate::log::Recorder;
use crate::script::Request;
use crate::shared::Shared;
use crate::types::{ClientId, Endpoint};

/// `GET /authorize`.
pub(super) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    authorize(shared, rec, headers, Params::from_query(uri.query())).await
}

/// `POST /authorize` (form-encoded, OIDC Core §3.1.2.1).
pub(super) async fn post(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rec.endpoint(Endpoint::Authorize);
    if let Err(e) = require_form(&headers) {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &e,
            "post the form-encoded parameters",
        );
    }
    authorize(shared, rec, headers, Params::parse(&body)).await
}

async fn authorize(shared: Arc<Shared>, rec: Recorder, headers: HeaderMap, params: Params) -> Response {
    rec.endpoint(Endpoint::Authorize);
    rec.params(params.pairs());
    let client_hint = params.get("client_id").map(ClientId::new);
    if let Some(c) = &client_hint {
        rec.client(c);
    }
    if let Some(fault) =
        take_infrastructure_fault(&shared, Request::to(Endpoint::Authorize, client_hint.as_ref()))
    {
        return infrastructure_response(&shared, Endpoint::Authorize, fault, &rec).await;
    }
    let req = match validate::validate(&shared, &params, &rec) {
        Ok(req) => req,
        Err(rejection) => return respond::rejected(&shared, &rec, rejection),
    };
    let session = idp_session::current(&shared, &headers);
    let scripted = outcome(
        &shared,
        &rec,
        Request::to(Endpoint::Authorize, Some(&req.client_id)),
    )
    .await;
    let decision = decide::decide(&shared, &req, session.as_ref(), scripted);
    respond::respond(&shared, &rec, &req, session.as_ref(), decision)
}

/// `POST /__mock/decision`: the login page's Allow / Deny / switch account.
pub(super) async fn decision(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Params::parse(&body);
    rec.params(form.pairs());
    let Some(txn) = form.get("txn") else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the form lacks its txn",
            "start the login again from your app",
        );
    };
    let pending = shared.store.lock().unwrap().pending.remove(txn);
    let Some(pending) = pending else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "login_expired",
            "this login page was already used or has expired",
            "start the login again from your app",
        );
    };
    rec.client(&pending.request.client_id);
    let req = pending.request.clone();
    let session = idp_session::current(&shared, &headers);
    let decision = decide::on_page(&shared, &form, pending);
    respond::respond(&shared, &rec, &req, session.as_ref(), decision)
}
