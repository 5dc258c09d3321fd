//! The login flow: start (`/auth/authn` or an unauthenticated request), the IdP's callback,
//! the hand-off from the central callback origin, and logout.
//!
//! Start: a fresh `state` (256 bits), PKCE verifier and OIDC nonce are stored server-side as a
//! [`LoginTx`] bound to this browser by the `nonce` cookie (one per browser, shared by every
//! tab, so two tabs logging in at once both succeed); the original path is stored with it.
//! The cookie is not cleared when one login completes, for the same reason; it only carries
//! a random binding id and expires after ten minutes.
//!
//! Callback: parameters are parsed strictly (a repeated one is an error); the transaction is
//! *taken* (single use) before anything else; an IdP error ends the flow on an error page
//! carrying the IdP's words; RFC 9207 `iss` is checked; only then is the code redeemed. The
//! destination comes from the transaction, never from the callback request.
//!
//! Central callback: the callback origin cannot read the endpoint host's `nonce` cookie, so it
//! hands the login over with a one-time ticket (two minutes) that the endpoint host accepts
//! only with the same `nonce` cookie the login started with.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;

use crate::cookies::{self, GatewayCookies};
use crate::events::KnownUser;
use crate::pages::{self, ErrorPage};
use crate::paths;
use crate::providers::ProviderError;
use crate::runtime::{EndpointRt, Runtime, Shared};
use crate::session::{FinishedLogin, LoginTx, Session, Ticket};
use crate::types::{Secret, random_id};

const LOGIN_TTL: Duration = Duration::from_secs(600);
const TICKET_TTL: Duration = Duration::from_secs(120);

fn secure(shared: &Shared) -> bool {
    shared.runtime().config.cookie_secure
}

fn retry_url(ep: &EndpointRt) -> String {
    format!("{}auth/authn", ep.endpoint.origin)
}

/// Starts a login for `ep`, returning to `original` afterwards.
pub async fn start(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    cookies: &GatewayCookies,
    original: &str,
    force: bool,
) -> Response<Body> {
    // The browser's binding, if the gateway minted it (a value the client made up, or one
    // planted by someone else that the gateway never issued, is replaced by a fresh one).
    let binding = match &cookies.nonce {
        Some(b) => match shared.store.known_binding(b).await {
            Ok(true) => b.clone(),
            Ok(false) => random_id(32),
            Err(e) => return pages::store_unavailable(&e.to_string(), None),
        },
        None => random_id(32),
    };
    let state = random_id(32);
    let verifier = Secret::new(random_id(32));
    let nonce = ep.provider.is_oidc().then(|| random_id(32));
    let tx = LoginTx {
        binding: binding.clone(),
        endpoint: ep.endpoint.authority.clone(),
        original_path: if shared
            .runtime()
            .config
            .test_faults
            .has(crate::faults::Fault::DropOriginalPath)
        {
            "/".to_owned()
        } else {
            paths::safe_return_path(original)
        },
        verifier: verifier.clone(),
        nonce: nonce.clone(),
        created_at: shared.clock.unix(),
    };
    let url = match ep
        .provider
        .authorize_url(
            &state,
            nonce.as_deref(),
            ep.provider.uses_pkce().then_some(&verifier),
            force,
        )
        .await
    {
        Ok(u) => u,
        Err(e) => return provider_error_page(ep, &e),
    };
    if let Err(e) = shared.store.start_login(&state, &tx, LOGIN_TTL).await {
        return pages::store_unavailable(&e.to_string(), None);
    }
    let mut resp = pages::redirect(url.as_str());
    // Sent every time (same value, fresh Max-Age) so a login started late in the cookie's
    // life does not lose its binding half-way.
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            cookies::NONCE,
            &binding,
            secure(shared),
            Some(LOGIN_TTL.as_secs()),
        ),
    );
    resp
}

/// Strict query parsing: `None` when a parameter is repeated.
pub(crate) fn strict_params(query: Option<&str>) -> Option<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    (names.len() == before).then_some(pairs)
}

fn bad(code: &str, message: &str, retry: Option<&str>) -> Response<Body> {
    ErrorPage::new(StatusCode::BAD_REQUEST, code, "Login failed", message)
        .retry_if(retry)
        .render()
}

/// The IdP's redirect back, on the central callback origin.
pub async fn central_callback(
    shared: Arc<Shared>,
    rt: Arc<Runtime>,
    req: Request<Incoming>,
) -> Response<Body> {
    let path = paths::canonicalize(req.uri().path()).unwrap_or_default();
    if paths::reserved(&path) != Some(paths::Reserved::Callback) {
        return ErrorPage::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
            "this origin only serves /oauth2/callback",
        )
        .render();
    }
    callback(&shared, &rt, None, &GatewayCookies::default(), req.uri().query()).await
}

/// The IdP's redirect back. `here` is the endpoint whose host received it (single-host mode)
/// or `None` on the central callback origin.
pub async fn callback(
    shared: &Arc<Shared>,
    rt: &Arc<Runtime>,
    here: Option<&Arc<EndpointRt>>,
    cookies: &GatewayCookies,
    query: Option<&str>,
) -> Response<Body> {
    let Some(params) = strict_params(query) else {
        return bad(
            "duplicate_parameter",
            "the callback repeats a parameter; start the login again",
            None,
        );
    };
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let Some(state) = get("state") else {
        return bad(
            "state_missing",
            "the callback has no state; start the login again from the site",
            None,
        );
    };
    // Only a value the gateway could have minted is looked up (43 characters of base64url):
    // nothing else in the store — a record of another kind, or one an older version kept —
    // can be taken for a login.
    if !cookies::well_formed(state)
        && !rt
            .config
            .test_faults
            .has(crate::faults::Fault::FinishedLoginsAsTransactions)
    {
        return bad(
            "login_expired",
            "this login has expired or was already used; start again from the site",
            None,
        );
    }
    let tx = match shared.store.take_tx(state).await {
        // The store's TTL runs on wall time; the gateway's clock (which tests move) decides too.
        Ok(Some(tx)) if shared.clock.unix().saturating_sub(tx.created_at) <= LOGIN_TTL.as_secs() => tx,
        Ok(_) => {
            // A callback replayed by the back button, in a browser that is logged in here
            // already: back to the page that login was for, not an error. Nothing is redeemed.
            if let Some(here) = here
                && let Some(dest) = replayed_destination(shared, here, cookies, state).await
            {
                return pages::redirect(&dest);
            }
            return bad(
                "login_expired",
                "this login has expired or was already used; start again from the site",
                None,
            );
        }
        Err(e) => return pages::store_unavailable(&e.to_string(), None),
    };
    let finished = FinishedLogin {
        endpoint: tx.endpoint.clone(),
        original_path: tx.original_path.clone(),
    };
    let Some(ep) = rt.endpoints.get(&tx.endpoint).cloned() else {
        return bad(
            "endpoint_gone",
            "the site this login started on is no longer configured",
            None,
        );
    };
    let retry = retry_url(&ep);
    if let Some(here) = here {
        // Single-host mode: the browser that finishes must be the one that started.
        let ignore_binding = rt
            .config
            .test_faults
            .has(crate::faults::Fault::IgnoreBrowserBinding);
        if here.endpoint.authority != ep.endpoint.authority
            || (cookies.nonce.as_deref() != Some(tx.binding.as_str()) && !ignore_binding)
        {
            return bad(
                "browser_mismatch",
                "this login was started in another browser; start again here",
                Some(&retry),
            );
        }
    }
    if let Some(error) = get("error") {
        return idp_error_page(&ep, error, get("error_description"));
    }
    if let Err(e) = ep.provider.check_callback_iss(get("iss")).await {
        return provider_error_page(&ep, &e);
    }
    let Some(code) = get("code") else {
        return bad(
            "code_missing",
            "the identity provider sent no authorization code",
            Some(&retry),
        );
    };
    let grant = match ep.provider.redeem(code, &tx.verifier, tx.nonce.as_deref()).await {
        Ok(g) => g,
        Err(e) => return provider_error_page(&ep, &e),
    };
    let oauth = &ep.endpoint.oauth;
    let identity = grant.identity;
    let user_key = match crate::admission::admit(shared, &ep, &identity).await {
        Ok(key) => key,
        Err(refusal) => {
            // A refused user is still named in the request's event.
            let mut resp = ErrorPage::new(
                StatusCode::FORBIDDEN,
                refusal.code(),
                "Access denied",
                refusal.message(),
            )
            .retry(&retry)
            .render();
            resp.extensions_mut().insert(KnownUser {
                id: identity.user_id.clone(),
                name: identity.name.clone(),
            });
            return resp;
        }
    };
    let now = shared.clock.unix();
    let session = Session {
        endpoint: ep.endpoint.authority.clone(),
        provider: oauth.provider,
        user_key,
        identity,
        access_token: grant.tokens.access_token,
        refresh_token: grant.tokens.refresh_token,
        token_expires_at: grant.tokens.expires_in.map(|e| now + e),
        created_at: now,
        last_seen: now,
        last_check: now,
        policy_hash: oauth.policy_hash.clone(),
    };
    // Remember where this login went, for a replay of its callback (the back button).
    let _ = if rt
        .config
        .test_faults
        .has(crate::faults::Fault::FinishedLoginsAsTransactions)
    {
        // The hole this fault restores: the marker kept among logins in flight, without a
        // verifier or nonce, so `state=done:<state>` is taken as a login.
        let marker = LoginTx {
            verifier: Secret::new(String::new()),
            nonce: None,
            ..tx.clone()
        };
        shared
            .store
            .start_login(&format!("done:{state}"), &marker, LOGIN_TTL)
            .await
    } else {
        shared.store.put_finished(state, &finished, LOGIN_TTL).await
    };
    match here {
        Some(_) => {
            install(
                shared,
                &ep,
                session,
                &tx.original_path,
                cookies.session.as_deref(),
            )
            .await
        }
        None => {
            let id = random_id(32);
            let ticket = Ticket {
                binding: tx.binding,
                session,
                original_path: tx.original_path,
            };
            if let Err(e) = shared.store.put_ticket(&id, &ticket, TICKET_TTL).await {
                return pages::store_unavailable(&e.to_string(), Some(&retry));
            }
            pages::redirect(&format!("{}auth/handoff?ticket={id}", ep.endpoint.origin))
        }
    }
}

/// `/auth/handoff` on the endpoint host: the end of a login through the central callback.
pub async fn handoff(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    cookies: &GatewayCookies,
    query: Option<&str>,
) -> Response<Body> {
    let retry = retry_url(ep);
    let Some(params) = strict_params(query) else {
        return bad(
            "duplicate_parameter",
            "the hand-off repeats a parameter",
            Some(&retry),
        );
    };
    let Some(id) = params.iter().find(|(k, _)| k == "ticket").map(|(_, v)| v.clone()) else {
        return bad("ticket_missing", "the hand-off has no ticket", Some(&retry));
    };
    let ticket = match shared.store.take_ticket(&id).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            return bad(
                "login_expired",
                "this login has expired or was already used",
                Some(&retry),
            );
        }
        Err(e) => return pages::store_unavailable(&e.to_string(), Some(&retry)),
    };
    if ticket.session.endpoint != ep.endpoint.authority
        || cookies.nonce.as_deref() != Some(ticket.binding.as_str())
    {
        return bad(
            "browser_mismatch",
            "this login was started in another browser; start again here",
            Some(&retry),
        );
    }
    install(
        shared,
        ep,
        ticket.session,
        &ticket.original_path,
        cookies.session.as_deref(),
    )
    .await
}

/// Stores a new session under a fresh id (never one the browser already had), sets the
/// cookie, clears the login cookie, and sends the browser where it was going.
async fn install(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    session: Session,
    original: &str,
    previous: Option<&str>,
) -> Response<Body> {
    // A browser that logs in again (e.g. /auth/authn) leaves no orphan session behind.
    if let Some(old) = previous {
        let _ = shared.end_session(old).await;
    }
    let id = random_id(32);
    if let Err(e) = shared
        .store
        .put_session(&id, &session, ep.endpoint.oauth.session_ttl())
        .await
    {
        return pages::store_unavailable(&e.to_string(), Some(&retry_url(ep)));
    }
    crate::app_users::record_access(shared, &ep.endpoint.authority, &session, session.created_at).await;
    let mut resp = pages::redirect(&paths::safe_return_path(original));
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::set(cookies::SESSION, &id, secure(shared), None),
    );
    // The `nonce` cookie stays (it expires on its own after ten minutes): another tab of the
    // same browser may have a login in flight that is bound to it.
    resp
}

/// Where a replayed callback goes: the original path of the finished login, if this browser
/// holds a live session for the endpoint; `None` otherwise (then it is an error).
async fn replayed_destination(
    shared: &Arc<Shared>,
    here: &EndpointRt,
    cookies: &GatewayCookies,
    state: &str,
) -> Option<String> {
    let id = cookies.session.as_deref()?;
    let session = shared.store.get_session(id).await.ok()??;
    if session.endpoint != here.endpoint.authority {
        return None;
    }
    let path = match shared.store.finished(state).await {
        Ok(Some(f)) if f.endpoint == here.endpoint.authority => f.original_path,
        _ => "/".to_owned(),
    };
    Some(paths::safe_return_path(&path))
}

/// `/auth/logout`: ends the session server-side and clears the cookie; with the generic
/// provider and an end-session URL, continues to the IdP for single logout.
pub async fn logout(shared: &Arc<Shared>, ep: &Arc<EndpointRt>, cookies: &GatewayCookies) -> Response<Body> {
    if let Some(id) = &cookies.session {
        let _ = shared.end_session(id).await;
    }
    let generic = ep.endpoint.oauth.generic.as_ref();
    let mut resp = match generic.and_then(|g| g.end_session_url.clone()) {
        Some(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("client_id", &ep.endpoint.oauth.client_id);
                if let Some(back) = generic.and_then(|g| g.post_logout_redirect_url.as_ref()) {
                    q.append_pair("post_logout_redirect_uri", back.as_str());
                }
            }
            pages::redirect(url.as_str())
        }
        None => pages::logged_out(&retry_url(ep)),
    };
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(cookies::SESSION, secure(shared)),
    );
    resp
}

/// The page for an error the IdP put on the callback. Scope and request errors are Authmonger's
/// "invalid request"; a denial is "access denied"; all carry the IdP's own words.
fn idp_error_page(ep: &EndpointRt, error: &str, description: Option<&str>) -> Response<Body> {
    let retry = retry_url(ep);
    let (status, title, message, code) = match error {
        "invalid_scope" | "invalid_request" => (
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "the identity provider refused the login request; check that the requested scopes match what it expects",
            "idp_invalid_request",
        ),
        "access_denied" | "user_cancelled_login" | "user_cancelled_authorize" | "consent_required" => (
            StatusCode::FORBIDDEN,
            "Access denied",
            "the login was cancelled or refused at the identity provider",
            "idp_denied",
        ),
        "temporarily_unavailable" | "server_error" => (
            StatusCode::BAD_GATEWAY,
            "Identity provider unavailable",
            "the identity provider could not complete the login right now; try again shortly",
            "idp_unavailable",
        ),
        _ => (
            StatusCode::UNAUTHORIZED,
            "Login failed",
            "the identity provider reported an error",
            "idp_error",
        ),
    };
    ErrorPage::new(status, code, title, message)
        .retry(&retry)
        .idp_error((error, description))
        .render()
}

/// The page for a failure talking to the IdP (token exchange, verification, discovery).
fn provider_error_page(ep: &EndpointRt, e: &ProviderError) -> Response<Body> {
    let retry = retry_url(ep);
    match e {
        ProviderError::Unavailable(why) => ErrorPage::new(
            StatusCode::BAD_GATEWAY,
            "idp_unavailable",
            "Identity provider unavailable",
            &format!("the identity provider could not be reached ({why}); try again shortly"),
        )
        .retry(&retry)
        .render(),
        ProviderError::Rejected { error, description } => {
            let invalid = matches!(error.as_str(), "invalid_scope" | "invalid_request");
            ErrorPage::new(
                if invalid {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::UNAUTHORIZED
                },
                if invalid {
                    "idp_invalid_request"
                } else {
                    "idp_rejected"
                },
                if invalid {
                    "Invalid request"
                } else {
                    "Login failed"
                },
                "the identity provider refused to complete the login",
            )
            .retry(&retry)
            .idp_error((error, description.as_deref()))
            .render()
        }
        ProviderError::Invalid(why) => ErrorPage::new(
            StatusCode::UNAUTHORIZED,
            "idp_invalid",
            "Login failed",
            &format!("the identity provider's answer could not be verified: {why}"),
        )
        .retry(&retry)
        .render(),
    }
}
