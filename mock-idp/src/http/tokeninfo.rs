//! Google's token-info endpoint (`Profile::token_info`, `/tokeninfo`): an API that received an
//! opaque Google access token asks whom it is for, for which client and scopes, and until when
//! — the token as `Authorization: Bearer` (google-auth-library's `getTokenInfo` posts it so) or
//! `access_token` in the query or a form body, with no client authentication. A token that is
//! not live gets the personality's refusal. Recorded and scripted as
//! [`Endpoint::Introspection`]: it is the provider's introspection.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;

use super::params::{Params, require_form};
use super::resource::presented_tokens;
use super::scripted::{infrastructure_response, scripted_error, take_infrastructure_fault};
use crate::lint::Finding;
use crate::log::Recorder;
use crate::personality::{TokenInfoContext, TokenSource};
use crate::script::Request;
use crate::shared::Shared;
use crate::store::TokenProblem;
use crate::types::Endpoint;

/// `GET` or `POST /tokeninfo`.
pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    rec.endpoint(Endpoint::Introspection);
    let query = Params::from_query(uri.query());
    let form = if method == Method::POST && require_form(&headers).is_ok() {
        Params::parse(&body)
    } else {
        Params::default()
    };
    rec.params(query.pairs());
    rec.params(form.pairs());
    // Read as a resource reads its bearer token (RFC 6750), exactly one way.
    const SOURCES: &[TokenSource] = &[TokenSource::Bearer, TokenSource::Form, TokenSource::Query];
    let presented = presented_tokens(SOURCES, &headers, &form, &query).unwrap_or_default();
    if presented.iter().any(|(_, s)| *s == TokenSource::Query) {
        rec.finding(Finding::token_in_query());
    }
    let token = match presented.as_slice() {
        [(one, _)] => Some(one.as_str()),
        _ => None,
    };
    let now = shared.clock.now();
    let checked = token.map(|t| shared.store.lock().unwrap().check_access_token(t, now));
    let client = checked
        .as_ref()
        .and_then(|c| c.as_ref().ok())
        .map(|info| info.grant.client.clone());
    if let Some(fault) =
        take_infrastructure_fault(&shared, Request::to(Endpoint::Introspection, client.as_ref()))
    {
        return infrastructure_response(&shared, Endpoint::Introspection, fault, &rec).await;
    }
    let info = match checked {
        Some(Ok(info)) => info,
        Some(Err(problem)) => {
            rec.error(format!("invalid_token: {}", problem.describe()));
            return shared.personality.token_info_refused();
        }
        None => {
            rec.error(
                "invalid_token: no access token, or more than one (send one: Authorization: Bearer, or access_token)",
            );
            return shared.personality.token_info_refused();
        }
    };
    rec.client(&info.grant.client);
    if let Err(failure) = scripted_error(&shared, &rec, Endpoint::Introspection, client.as_ref()).await {
        rec.error(failure.code().to_owned());
        return shared.personality.token_error(&failure, &headers);
    }
    // A person's token is described only while the person can still log in (a disabled or
    // deleted user's token is dead, as at userinfo); the client's own token has no person.
    let user = if info.grant.is_for_the_client() {
        None
    } else {
        let user = shared
            .store
            .lock()
            .unwrap()
            .active_user(&info.grant.user)
            .cloned();
        if user.is_none() {
            rec.error(format!("invalid_token: {}", TokenProblem::UserGone.describe()));
            return shared.personality.token_info_refused();
        }
        user
    };
    let exp = info
        .expires_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ctx = TokenInfoContext {
        grant: &info.grant,
        user: user.as_ref(),
        scopes: &info.scopes,
        exp,
        expires_in: info
            .expires_at
            .duration_since(now)
            .map_or(0, |d| d.as_millis().div_ceil(1000) as u64),
    };
    shared.personality.token_info(&ctx)
}
