//! The userinfo (profile) endpoint, a protected resource under RFC 6750.
//!
//! The token may come in the `Authorization: Bearer` header (any case of the scheme), in a
//! form-encoded POST body, or — flagged by the linter — in the query; using more than one
//! method is refused. Claims are the user's *current* data for the token's scopes, so a
//! user changed at the IdP shows up here on the next call.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Extensions, HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Params, infrastructure_response, recorder, take_infrastructure_fault, take_outcome};
use crate::lint::Finding;
use crate::outcome::Outcome;
use crate::personality::BearerFailure;
use crate::state::{AccessProblem, Shared};
use crate::types::Endpoint;

/// `GET|POST /userinfo`.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    ext: Extensions,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let rec = recorder(&ext);
    rec.endpoint(Endpoint::Userinfo);
    let query = Params::from_query(uri.query());
    rec.params(query.pairs());
    let form = if method == Method::POST && super::require_form(&headers).is_ok() {
        Params::parse(&body)
    } else {
        Params::default()
    };
    rec.params(form.pairs());

    // Infrastructure faults come before any check; the client, if the token names one, is
    // only used to match client-specific script entries.
    let client_hint = bearer_hint(&headers)
        .and_then(|t| {
            shared
                .store
                .lock()
                .unwrap()
                .check_access_token(&t, shared.clock.now())
                .ok()
        })
        .map(|info| info.grant.client);
    if let Some(fault) = take_infrastructure_fault(&shared, Endpoint::Userinfo, client_hint.as_ref()) {
        return infrastructure_response(&shared, Endpoint::Userinfo, fault, &rec).await;
    }
    let mut presented = Vec::new();
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        match v.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                presented.push(token.trim().to_owned())
            }
            _ => {
                return bearer_error(
                    &shared,
                    &rec,
                    BearerFailure::InvalidRequest("the Authorization header is not `Bearer <token>`".into()),
                );
            }
        }
    }
    if let Some(t) = form.get("access_token") {
        presented.push(t.to_owned());
    }
    if let Some(t) = query.get("access_token") {
        rec.finding(Finding::token_in_query());
        presented.push(t.to_owned());
    }
    let token = match presented.as_slice() {
        [] => return bearer_error(&shared, &rec, BearerFailure::Missing),
        [one] => one.clone(),
        _ => {
            return bearer_error(
                &shared,
                &rec,
                BearerFailure::InvalidRequest(
                    "the access token was sent in more than one way (RFC 6750 §2)".into(),
                ),
            );
        }
    };
    let now = shared.clock.now();
    let info = shared.store.lock().unwrap().check_access_token(&token, now);
    let info = match info {
        Ok(info) => info,
        Err(problem) => {
            let why = match problem {
                AccessProblem::Unknown => "the access token is not valid",
                AccessProblem::Expired => "the access token has expired",
                AccessProblem::Revoked => "the access token has been revoked",
            };
            return bearer_error(&shared, &rec, BearerFailure::InvalidToken(why.into()));
        }
    };
    rec.client(&info.grant.client);
    if shared.personality.profile().oidc && !info.scopes.contains("openid") {
        return bearer_error(
            &shared,
            &rec,
            BearerFailure::InsufficientScope("userinfo needs a token granted the openid scope".into()),
        );
    }
    let mut spoil_sub = false;
    if let Some(taken) = take_outcome(&shared, Endpoint::Userinfo, Some(&info.grant.client)) {
        rec.outcome(taken.outcome.describe());
        super::delay(&shared, &taken).await;
        match taken.outcome {
            Outcome::OAuthError {
                status,
                error,
                description,
            } => {
                rec.error(error.clone());
                return (
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                    axum::Json(json!({"error": error, "error_description": description})),
                )
                    .into_response();
            }
            Outcome::UserChanged { patch } => {
                if let Some(u) = shared.store.lock().unwrap().users.get_mut(&info.grant.user) {
                    patch.apply(u);
                }
            }
            Outcome::UserinfoInvalidSub => spoil_sub = true,
            _ => {}
        }
    }
    let user = shared
        .store
        .lock()
        .unwrap()
        .active_user(&info.grant.user)
        .cloned();
    let Some(user) = user else {
        return bearer_error(
            &shared,
            &rec,
            BearerFailure::InvalidToken("the user of this token is disabled or no longer exists".into()),
        );
    };
    let mut claims = user.claims_for(&info.scopes);
    if spoil_sub {
        claims.insert("sub".into(), json!(format!("{}invalid", user.id)));
    }
    shared.personality.userinfo(claims)
}

fn bearer_hint(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn bearer_error(shared: &Shared, rec: &crate::log::Recorder, failure: BearerFailure) -> Response {
    rec.error(format!("{failure:?}"));
    shared.personality.bearer_error(&failure)
}
