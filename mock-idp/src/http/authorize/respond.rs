//! The answer to an authorization request: a [`Decision`] turned into HTTP.
//!
//! An approval becomes an IdP session (unless the current one is reused), a grant, a code
//! bound to client, redirect URI and PKCE, and the redirect back — with `state`, RFC 9207
//! `iss` where the personality sends it, the personality's extra parameters, and whatever
//! the script spoils. A refusal becomes an error redirect in the personality's shape; a
//! question becomes the login page, its request waiting in the store under a fresh
//! transaction id; a stop, an error page at the IdP. The only file that writes grants and
//! codes for this endpoint.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::decide::{Approval, Decision};
use super::validate::Rejection;
use crate::authorization::{AuthorizationRequest, PendingAuthorization, ResponseMode};
use crate::http::idp_session;
use crate::http::pages::{self, LoginPage};
use crate::log::Recorder;
use crate::outcome::AuthorizeResponseChange;
use crate::personality::{AuthorizeContext, AuthorizeFailure};
use crate::shared::Shared;
use crate::store::{Grant, IdpSession};
use crate::types::random_token;
use crate::users::User;

/// Where the login page posts the person's decision.
pub(in crate::http) const DECISION_PATH: &str = "/__mock/decision";

/// Answers a decided request.
pub(super) fn respond(
    shared: &Shared,
    rec: &Recorder,
    req: &AuthorizationRequest,
    session: Option<&IdpSession>,
    decision: Decision,
) -> Response {
    match decision {
        Decision::Approve(approval) => approve(shared, rec, req, session, approval),
        Decision::Refuse(failure) => error_redirect(shared, req, &failure, rec),
        Decision::Stop(stop) => {
            pages::error_page(StatusCode::BAD_REQUEST, stop.code, &stop.message, stop.fix)
        }
        Decision::Ask(pending) => ask(shared, *pending),
    }
}

/// Answers a request that failed validation: an error page, or an error redirect.
pub(super) fn rejected(shared: &Shared, rec: &Recorder, rejection: Rejection) -> Response {
    match rejection {
        Rejection::Page(resp) => *resp,
        Rejection::Redirect(target, failure) => error_redirect(shared, &target, &failure, rec),
    }
}

/// Shows the login page and keeps the request until its form comes back.
fn ask(shared: &Shared, pending: PendingAuthorization) -> Response {
    let txn = random_token(16);
    let resp = login_page(shared, &txn, &pending);
    shared.store.lock().unwrap().pending.insert(txn, pending);
    resp
}

fn login_page(shared: &Shared, txn: &str, pending: &PendingAuthorization) -> Response {
    let store = shared.store.lock().unwrap();
    let users: Vec<User> = store.users.values().cloned().collect();
    let signed_in = pending
        .consent_only_for
        .as_ref()
        .and_then(|u| store.users.get(u))
        .cloned();
    let preselect = pending
        .request
        .login_hint
        .as_deref()
        .and_then(|h| store.find_user(h))
        .map(|u| u.id.to_string());
    drop(store);
    let scopes = pending.request.scopes.join(" ");
    pages::login_page(&LoginPage {
        provider: &shared.personality.profile().display_name,
        action: DECISION_PATH,
        txn,
        client_id: pending.request.client_id.as_str(),
        scopes: &scopes,
        users: &users,
        signed_in_as: signed_in.as_ref(),
        preselect: preselect.as_deref(),
    })
}

/// Logs the user in (or reuses the IdP session), creates the grant and code, and redirects.
fn approve(
    shared: &Shared,
    rec: &Recorder,
    req: &AuthorizationRequest,
    session: Option<&IdpSession>,
    approval: Approval,
) -> Response {
    let Approval {
        user,
        reauthenticate,
        consent_shown,
        narrow,
        change,
    } = approval;
    let user = &user;
    let now = shared.clock.now();
    let lifetimes = shared.lifetimes();
    let reuse = session.filter(|s| &s.user == user && !reauthenticate);
    let auth_time = reuse.map_or_else(|| shared.clock.unix(), |s| s.auth_time);
    let scopes = match &narrow {
        Some(granted) => req.scopes.intersect(granted),
        None => req.scopes.clone(),
    };
    let mut store = shared.store.lock().unwrap();
    let new_session = reuse.is_none().then(|| {
        let id = random_token(24);
        store.sessions.insert(
            id.clone(),
            IdpSession {
                user: user.clone(),
                auth_time,
                expires_at: now + lifetimes.idp_session,
            },
        );
        id
    });
    let consent_shown = consent_shown || !store.has_consent(user, &req.client_id, &scopes);
    store.remember_consent(user, &req.client_id, &scopes);
    let extras = store.users.get(user).map(|u| {
        shared.personality.authorize_success_params(&AuthorizeContext {
            issuer: &shared.issuer,
            user: u,
            requested: &req.scopes,
            granted: &scopes,
            request: &req.params,
        })
    });
    let grant = store.create_grant(Grant {
        client: req.client_id.clone(),
        user: user.clone(),
        scopes,
        requested: req.scopes.clone(),
        request: Grant::kept_request_params(&req.params),
        auth_time,
        nonce: req.nonce.clone(),
        consent_shown,
        revoked: false,
    });
    let code = store.issue_code(
        grant,
        req.redirect_uri_sent.then(|| req.redirect_uri.clone()),
        req.pkce.clone(),
        now + lifetimes.code,
    );
    store.purge(now);
    drop(store);
    let mut params = vec![("code".to_owned(), code)];
    params.extend(extras.unwrap_or_default());
    match change {
        Some(AuthorizeResponseChange::MissingCode) => params.clear(),
        Some(c) => rec.outcome(format!("authorization response change {c:?}")),
        None => {}
    }
    let mut resp = redirect_to_client(shared, req, params, change);
    if let Some(id) = new_session {
        idp_session::set(shared, &mut resp, &id);
    }
    resp
}

/// Redirects back with an error (RFC 6749 §4.1.2.1), in the personality's shape.
fn error_redirect(
    shared: &Shared,
    req: &AuthorizationRequest,
    failure: &AuthorizeFailure,
    rec: &Recorder,
) -> Response {
    let params = shared.personality.authorize_error_params(failure);
    if let Some((_, e)) = params.iter().find(|(k, _)| k == "error") {
        rec.error(e.clone());
    }
    redirect_to_client(shared, req, params, None)
}

fn redirect_to_client(
    shared: &Shared,
    req: &AuthorizationRequest,
    mut params: Vec<(String, String)>,
    change: Option<AuthorizeResponseChange>,
) -> Response {
    let state = match (change, &req.state) {
        (Some(AuthorizeResponseChange::MissingState), _) => None,
        (Some(AuthorizeResponseChange::InvalidState), s) => Some(format!("{}1", s.as_deref().unwrap_or(""))),
        (_, s) => s.clone(),
    };
    if let Some(s) = state {
        params.push(("state".into(), s));
    }
    if shared.personality.profile().iss_in_authorization_response {
        match change {
            Some(AuthorizeResponseChange::MissingIss) => {}
            Some(AuthorizeResponseChange::InvalidIss) => {
                params.push(("iss".into(), format!("{}1", shared.issuer)))
            }
            _ => params.push(("iss".into(), shared.issuer.clone())),
        }
    }
    match req.response_mode {
        ResponseMode::FormPost => pages::form_post(&req.redirect_uri, &params),
        ResponseMode::Query | ResponseMode::Fragment => {
            let encoded: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            let mut target = if req.response_mode == ResponseMode::Fragment {
                format!("{}#{encoded}", req.redirect_uri)
            } else if req.redirect_uri.contains('?') {
                format!("{}&{encoded}", req.redirect_uri)
            } else {
                format!("{}?{encoded}", req.redirect_uri)
            };
            if let (ResponseMode::Query, Some(fragment)) =
                (req.response_mode, shared.personality.redirect_fragment())
            {
                target.push('#');
                target.push_str(fragment);
            }
            let mut resp = Redirect::to(&target).into_response();
            *resp.status_mut() = StatusCode::FOUND;
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
    }
}
