//! Protected resources: userinfo and the provider's profile APIs (GitHub `/user`,
//! `/user/emails`, Twitch Helix `/helix/users`, Facebook `/me`…), under RFC 6750.
//!
//! One handler for all of them: find the access token where the personality says it may be
//! (`Authorization: Bearer` in any case, a form body, the query — linted — or a provider
//! header), refuse a token sent two ways, check it, apply the script (every resource counts
//! as [`Endpoint::Userinfo`]), then let the personality render the resource from the user's
//! *current* data — a user changed at the IdP shows up on the next call.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::json;

use super::params::{Params, require_form};
use super::scripted::{infrastructure_response, outcome, take_infrastructure_fault};
use crate::lint::Finding;
use crate::log::Recorder;
use crate::outcome::Outcome;
use crate::personality::{BearerFailure, ResourceContext, TokenSource};
use crate::script::Request;
use crate::shared::Shared;
use crate::store::TokenProblem;
use crate::types::Endpoint;

/// The route for resource `name`.
pub(super) fn route(name: &'static str, post: bool) -> MethodRouter<Arc<Shared>> {
    let handler = move |state: State<Arc<Shared>>,
                        rec: Extension<Recorder>,
                        method: Method,
                        headers: HeaderMap,
                        uri: Uri,
                        path: Option<Path<HashMap<String, String>>>,
                        body: Bytes| async move {
        let params = path.map(|Path(p)| p).unwrap_or_default();
        handle(name, state, rec, method, headers, uri, params, body).await
    };
    if post {
        get(handler).post(handler)
    } else {
        get(handler)
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    name: &'static str,
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    path_params: HashMap<String, String>,
    body: Bytes,
) -> Response {
    rec.endpoint(Endpoint::Userinfo);
    let query = Params::from_query(uri.query());
    rec.params(query.pairs());
    let form = if method == Method::POST && require_form(&headers).is_ok() {
        Params::parse(&body)
    } else {
        Params::default()
    };
    rec.params(form.pairs());
    let sources = shared.personality.resource_token_sources();

    // Infrastructure faults come before any check; the client, if the token names one, is
    // only used to match client-specific script entries.
    let client_hint = presented_tokens(sources, &headers, &form, &query)
        .ok()
        .and_then(|t| t.into_iter().next())
        .and_then(|(t, _)| {
            shared
                .store
                .lock()
                .unwrap()
                .check_access_token(&t, shared.clock.now())
                .ok()
        })
        .map(|info| info.grant.client);
    if let Some(fault) =
        take_infrastructure_fault(&shared, Request::to(Endpoint::Userinfo, client_hint.as_ref()))
    {
        return infrastructure_response(&shared, Endpoint::Userinfo, fault, &rec).await;
    }

    let presented = match presented_tokens(sources, &headers, &form, &query) {
        Ok(p) => p,
        Err(failure) => return bearer_error(&shared, &rec, name, failure),
    };
    if presented.iter().any(|(_, s)| *s == TokenSource::Query) {
        rec.finding(Finding::token_in_query());
    }
    let token = match presented.as_slice() {
        [] => return bearer_error(&shared, &rec, name, BearerFailure::Missing),
        [(one, _)] => one.clone(),
        _ => {
            return bearer_error(
                &shared,
                &rec,
                name,
                BearerFailure::InvalidRequest(
                    "the access token was sent in more than one way (RFC 6750 §2)".into(),
                ),
            );
        }
    };
    let now = shared.clock.now();
    let checked = shared.store.lock().unwrap().check_access_token(&token, now);
    let info = match checked {
        Ok(info) => info,
        Err(problem) => return bearer_error(&shared, &rec, name, BearerFailure::InvalidToken(problem)),
    };
    rec.client(&info.grant.client);
    if let Some(scope) = shared.personality.resource_missing_scope(name, &info.scopes) {
        return bearer_error(
            &shared,
            &rec,
            name,
            BearerFailure::InsufficientScope(format!("{name} needs a token granted the {scope} scope")),
        );
    }
    let mut spoil_sub = false;
    if let Some(scripted) = outcome(
        &shared,
        &rec,
        Request::to(Endpoint::Userinfo, Some(&info.grant.client)),
    )
    .await
    {
        match scripted {
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
    let (user, client) = {
        let store = shared.store.lock().unwrap();
        (
            store.active_user(&info.grant.user).cloned(),
            store.clients.get(&info.grant.client).cloned(),
        )
    };
    let (Some(mut user), Some(client)) = (user, client) else {
        return bearer_error(
            &shared,
            &rec,
            name,
            BearerFailure::InvalidToken(TokenProblem::UserGone),
        );
    };
    if spoil_sub {
        // The subject a personality derives from the id changes when the id does.
        user.id = format!("{}invalid", user.id).into();
    }
    let ctx = ResourceContext {
        issuer: &shared.issuer,
        user: &user,
        grant: &info.grant,
        scopes: &info.scopes,
        client: &client,
        method: &method,
        headers: &headers,
        query: query.pairs(),
        path_params: &path_params,
        // Rounded up, so a token minted a moment ago still shows its full lifetime.
        expires_in: info
            .expires_at
            .duration_since(shared.clock.now())
            .map_or(0, |d| d.as_millis().div_ceil(1000) as u64),
    };
    if let Err(resp) = shared.personality.check_resource_request(name, &ctx) {
        rec.error(format!("{name} request refused ({})", resp.status()));
        return *resp;
    }
    shared.personality.resource(name, &ctx)
}

/// Every token the request carries, with where it was found.
pub(super) fn presented_tokens(
    sources: &[TokenSource],
    headers: &HeaderMap,
    form: &Params,
    query: &Params,
) -> Result<Vec<(String, TokenSource)>, BearerFailure> {
    let mut out = Vec::new();
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = v.split_once(' ').unwrap_or((v, ""));
        let token = token.trim();
        let source = [
            TokenSource::Bearer,
            TokenSource::TokenScheme,
            TokenSource::OAuthScheme,
        ]
        .into_iter()
        .filter(|s| sources.contains(s))
        .find(|s| scheme.eq_ignore_ascii_case(scheme_name(*s)));
        match source {
            Some(s) if !token.is_empty() => out.push((token.to_owned(), s)),
            _ => {
                return Err(BearerFailure::InvalidRequest(
                    "the Authorization header is not `Bearer <token>`".into(),
                ));
            }
        }
    }
    for source in sources {
        let found = match source {
            TokenSource::Form => form.get("access_token"),
            TokenSource::Query => query.get("access_token"),
            TokenSource::Header(name) => headers.get(*name).and_then(|v| v.to_str().ok()),
            _ => None,
        };
        if let Some(t) = found {
            out.push((t.to_owned(), *source));
        }
    }
    Ok(out)
}

fn scheme_name(source: TokenSource) -> &'static str {
    match source {
        TokenSource::TokenScheme => "token",
        TokenSource::OAuthScheme => "oauth",
        _ => "bearer",
    }
}

fn bearer_error(shared: &Shared, rec: &Recorder, name: &str, failure: BearerFailure) -> Response {
    rec.error(format!("{failure:?}"));
    shared.personality.bearer_error(&failure, name)
}
