//! The authorization endpoint: validates the request, gets the user's decision (headless,
//! from the IdP session, or through the login/consent page), and redirects back.
//!
//! Order of checks, and why: `client_id` and `redirect_uri` come first and failures there
//! end on an error page *at the IdP* — redirecting to an unverified URI would make the IdP
//! an open redirector (RFC 6749 §4.1.2.1). Every later failure is reported to the client by
//! redirect, with `state`.
//!
//! The decision, in order: scripted outcome; `prompt=none`; headless mode (scripted user,
//! `login_hint`, IdP session user, first user); login-page mode (skip the page when the IdP
//! session is fresh and consent was given before).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

use super::pages::{self, LoginPage};
use super::{Params, infrastructure_response, recorder, take_infrastructure_fault, take_outcome};
use crate::authorization::{AuthorizationRequest, PendingAuthorization, Pkce, ResponseMode};
use crate::lint::Finding;
use crate::log::Recorder;
use crate::outcome::{AuthorizeResponseChange, Outcome};
use crate::personality::{AuthorizeContext, AuthorizeFailure, PkceSupport};
use crate::settings::Interaction;
use crate::shared::Shared;
use crate::store::{Grant, IdpSession, Store};
use crate::types::{ClientId, Endpoint, ScopeSet, UserId, random_token};
use crate::users::User;

/// Where the login page posts the user's decision.
pub(crate) const DECISION_PATH: &str = "/__mock/decision";

/// `GET /authorize`.
pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    ext: Extensions,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    authorize(shared, recorder(&ext), headers, Params::from_query(uri.query())).await
}

/// `POST /authorize` (form-encoded, OIDC Core §3.1.2.1).
pub(crate) async fn post(
    State(shared): State<Arc<Shared>>,
    ext: Extensions,
    headers: HeaderMap,
    method: Method,
    body: Bytes,
) -> Response {
    let rec = recorder(&ext);
    rec.endpoint(Endpoint::Authorize);
    if let Err(e) = super::require_form(&headers) {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &e,
            "post the form-encoded parameters",
        );
    }
    debug_assert_eq!(method, Method::POST);
    authorize(shared, rec, headers, Params::parse(&body)).await
}

async fn authorize(shared: Arc<Shared>, rec: Recorder, headers: HeaderMap, params: Params) -> Response {
    rec.endpoint(Endpoint::Authorize);
    rec.params(params.pairs());
    let client_hint = params.get("client_id").map(ClientId::new);
    if let Some(c) = &client_hint {
        rec.client(c);
    }
    if let Some(fault) = take_infrastructure_fault(&shared, Endpoint::Authorize, client_hint.as_ref()) {
        return infrastructure_response(&shared, Endpoint::Authorize, fault, &rec).await;
    }
    let req = match validate(&shared, &params, &rec) {
        Ok(req) => req,
        Err(Rejection::Page(resp)) => return *resp,
        Err(Rejection::Redirect(target, failure)) => return error_redirect(&shared, &target, &failure, &rec),
    };
    let now = shared.clock.now();
    let cookie_value = session_cookie(&shared, &headers);
    let session = cookie_value
        .as_deref()
        .and_then(|id| shared.store.lock().unwrap().session(id, now).cloned());

    let mut narrow = None;
    let mut change = None;
    if let Some(taken) = take_outcome(&shared, Endpoint::Authorize, Some(&req.client_id)) {
        rec.outcome(taken.outcome.describe());
        super::delay(&shared, &taken).await;
        match taken.outcome {
            Outcome::Deny => return error_redirect(&shared, &req, &AuthorizeFailure::Denied, &rec),
            Outcome::AuthorizeError { error, description } => {
                return error_redirect(
                    &shared,
                    &req,
                    &AuthorizeFailure::Scripted { error, description },
                    &rec,
                );
            }
            Outcome::Approve { user } => {
                let exists = shared.store.lock().unwrap().active_user(&user).is_some();
                if !exists {
                    return pages::error_page(
                        StatusCode::BAD_REQUEST,
                        "unknown_user",
                        &format!(
                            "the scripted approval names user {user}, who does not exist or is disabled"
                        ),
                        "add the user before scripting Outcome::Approve",
                    );
                }
                return approve(
                    &shared,
                    &req,
                    &user,
                    true,
                    session.as_ref(),
                    None,
                    None,
                    true,
                    &rec,
                );
            }
            Outcome::NarrowScope { granted } => narrow = Some(granted),
            Outcome::AuthorizeResponse { change: c } => change = Some(c),
            _ => {}
        }
    }

    let max_age_exceeded = |s: &IdpSession| {
        req.max_age
            .is_some_and(|max| shared.clock.unix().saturating_sub(s.auth_time) > max)
    };
    let fresh_session = session.as_ref().filter(|s| !max_age_exceeded(s));
    let wants = |p: &str| req.prompt.iter().any(|v| v == p);
    let interaction = shared.settings().interaction;

    if wants("none") {
        let Some(s) = fresh_session else {
            return error_redirect(&shared, &req, &AuthorizeFailure::LoginRequired, &rec);
        };
        let consented = shared
            .store
            .lock()
            .unwrap()
            .has_consent(&s.user, &req.client_id, &req.scopes);
        if interaction == Interaction::LoginPage && !consented {
            return error_redirect(&shared, &req, &AuthorizeFailure::ConsentRequired, &rec);
        }
        let user = s.user.clone();
        return approve(
            &shared,
            &req,
            &user,
            false,
            session.as_ref(),
            narrow,
            change,
            false,
            &rec,
        );
    }

    let must_login = wants("login") || wants("select_account") || fresh_session.is_none();
    match interaction {
        Interaction::Headless => {
            let user = {
                let store = shared.store.lock().unwrap();
                if let Some(hint) = &req.login_hint {
                    match store.find_user(hint) {
                        Some(u) => Ok(u.id.clone()),
                        None => Err(format!("login_hint {hint:?} matches no user of this IdP")),
                    }
                } else if let Some(s) = &session {
                    Ok(s.user.clone())
                } else {
                    store
                        .users
                        .values()
                        .find(|u| !u.disabled)
                        .map(|u| u.id.clone())
                        .ok_or_else(|| "the IdP has no enabled user to log in headlessly".to_owned())
                }
            };
            match user {
                Ok(user) => {
                    let switched = fresh_session.is_some_and(|s| s.user != user);
                    approve(
                        &shared,
                        &req,
                        &user,
                        must_login || switched,
                        session.as_ref(),
                        narrow,
                        change,
                        wants("consent"),
                        &rec,
                    )
                }
                Err(why) => pages::error_page(
                    StatusCode::BAD_REQUEST,
                    "unknown_user",
                    &why,
                    "add the user (MockIdp::add_user or POST /__admin/users) or send a login_hint that names one",
                ),
            }
        }
        Interaction::LoginPage => {
            let consented = fresh_session.is_some_and(|s| {
                shared
                    .store
                    .lock()
                    .unwrap()
                    .has_consent(&s.user, &req.client_id, &req.scopes)
            });
            if !must_login && !wants("consent") && consented {
                let user = fresh_session.map(|s| s.user.clone()).expect("checked above");
                return approve(
                    &shared,
                    &req,
                    &user,
                    false,
                    session.as_ref(),
                    narrow,
                    change,
                    false,
                    &rec,
                );
            }
            let consent_only_for = (!must_login)
                .then(|| fresh_session.map(|s| s.user.clone()))
                .flatten();
            let txn = random_token(16);
            let pending = PendingAuthorization {
                request: req,
                created: now,
                narrow,
                change,
                consent_only_for,
            };
            let resp = render_login(&shared, &txn, &pending);
            shared.store.lock().unwrap().pending.insert(txn, pending);
            resp
        }
    }
}

fn render_login(shared: &Shared, txn: &str, pending: &PendingAuthorization) -> Response {
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

/// `POST /__mock/decision`: the login page's Allow / Deny / switch account.
pub(crate) async fn decision(
    State(shared): State<Arc<Shared>>,
    ext: Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = recorder(&ext);
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
    let Some(mut pending) = pending else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "login_expired",
            "this login page was already used or has expired",
            "start the login again from your app",
        );
    };
    rec.client(&pending.request.client_id);
    let req = pending.request.clone();
    match form.get("action") {
        Some("deny") => error_redirect(&shared, &req, &AuthorizeFailure::Denied, &rec),
        Some("switch") => {
            pending.consent_only_for = None;
            let txn = random_token(16);
            let resp = render_login(&shared, &txn, &pending);
            shared.store.lock().unwrap().pending.insert(txn, pending);
            resp
        }
        Some("allow") => {
            let now = shared.clock.now();
            let session = session_cookie(&shared, &headers)
                .and_then(|id| shared.store.lock().unwrap().session(&id, now).cloned());
            let user = {
                let mut store = shared.store.lock().unwrap();
                if let Some(login) = form.get("login").map(str::trim).filter(|l| !l.is_empty()) {
                    match store.find_user(login) {
                        Some(u) => u.id.clone(),
                        None => {
                            let user = User::new(login);
                            let id = user.id.clone();
                            store.add_user(user);
                            id
                        }
                    }
                } else if let Some(id) = form.get("user") {
                    UserId::new(id)
                } else if let Some(id) = &pending.consent_only_for {
                    id.clone()
                } else {
                    return pages::error_page(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "no account was chosen",
                        "pick an account or type a login",
                    );
                }
            };
            if shared.store.lock().unwrap().active_user(&user).is_none() {
                return pages::error_page(
                    StatusCode::BAD_REQUEST,
                    "unknown_user",
                    &format!("user {user} does not exist or is disabled"),
                    "choose another account",
                );
            }
            let reauth = pending.consent_only_for.as_ref() != Some(&user);
            approve(
                &shared,
                &req,
                &user,
                reauth,
                session.as_ref(),
                pending.narrow,
                pending.change,
                true,
                &rec,
            )
        }
        _ => pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "unknown action",
            "press Allow or Deny",
        ),
    }
}

enum Rejection {
    Page(Box<Response>),
    Redirect(Box<AuthorizationRequest>, AuthorizeFailure),
}

fn validate(shared: &Shared, params: &Params, rec: &Recorder) -> Result<AuthorizationRequest, Rejection> {
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
                    if client.redirect_uris.is_empty() {
                        "none".to_owned()
                    } else {
                        client.redirect_uris.join(", ")
                    }
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
            if client.pkce == crate::clients::PkcePolicy::Required && profile.pkce == PkceSupport::Standard {
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
    match &req.state {
        None => rec.finding(Finding::missing_state()),
        Some(s) if s.len() < 8 => rec.finding(Finding::weak_state(s.len())),
        Some(_) => {}
    }
    if is_oidc && req.nonce.is_none() {
        rec.finding(Finding::missing_nonce());
    }
    Ok(req)
}

/// Logs the user in (or reuses the IdP session), creates the grant and code, and redirects.
#[allow(clippy::too_many_arguments)]
fn approve(
    shared: &Shared,
    req: &AuthorizationRequest,
    user: &UserId,
    reauthenticate: bool,
    session: Option<&IdpSession>,
    narrow: Option<ScopeSet>,
    change: Option<AuthorizeResponseChange>,
    consent_shown: bool,
    rec: &Recorder,
) -> Response {
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
        request: req.params.clone(),
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
        set_session_cookie(shared, &mut resp, &id);
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

fn session_cookie(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let name = shared.session_cookie_name();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn set_session_cookie(shared: &Shared, resp: &mut Response, value: &str) {
    let cookie = Cookie::build((shared.session_cookie_name(), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(shared.tls)
        .same_site(SameSite::Lax)
        .build();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Ends the IdP session behind the request's cookie (end-session endpoint) and returns the
/// `Set-Cookie` that clears it.
pub(crate) fn end_idp_session(
    shared: &Shared,
    headers: &HeaderMap,
    store: &mut Store,
) -> Option<HeaderValue> {
    let id = session_cookie(shared, headers)?;
    store.sessions.remove(&id);
    let cookie = Cookie::build((shared.session_cookie_name(), ""))
        .path("/")
        .http_only(true)
        .secure(shared.tls)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}
