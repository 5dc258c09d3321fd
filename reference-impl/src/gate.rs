//! The per-request pipeline of an endpoint: canonical path → no body on GET/HEAD/OPTIONS →
//! reserved routes → OPTIONS passthrough → session (inactivity, maximum duration, continuous authorization) → login
//! redirect or forward with identity headers → event.
//!
//! Reads top to bottom in `gate()`; every branch that does not forward ends in a gateway page
//! or redirect, so nothing reaches the upstream without a checked session (or a real CORS
//! preflight when Options Passthrough is on).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;

use crate::continuous::{self, Check};
use crate::cookies;
use crate::events::{Decision, Event, KnownUser};
use crate::headers;
use crate::login;
use crate::pages::{self, ErrorPage};
use crate::paths::{self, Reserved};
use crate::runtime::{EndpointRt, Runtime, Shared};
use crate::session::Session;
use crate::tunnels::{RECHECK, Tunnel};

/// What the event of a request says.
#[derive(Default)]
pub struct Outcome {
    /// Forwarded as a user?
    pub allowed: bool,
    /// User id.
    pub user_id: Option<String>,
    /// User name.
    pub user_name: Option<String>,
}

/// Handles a request to an endpoint host and emits its event.
pub async fn handle(
    shared: Arc<Shared>,
    rt: Arc<Runtime>,
    ep: Arc<EndpointRt>,
    req: Request<Incoming>,
    peer: IpAddr,
) -> Response<Body> {
    let method = req.method().to_string();
    let raw_path = req.uri().path().to_owned();
    let mut outcome = Outcome::default();
    let mut resp = gate(&shared, &rt, &ep, req, peer, &mut outcome).await;
    if let Some(known) = resp.extensions_mut().remove::<KnownUser>()
        && outcome.user_id.is_none()
    {
        outcome.user_id = Some(known.id);
        outcome.user_name = known.name;
    }
    shared.events.emit(Event {
        event_type: "http_request_complete.v0",
        timestamp_ms: u64::try_from(
            shared
                .clock
                .now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or(0),
        endpoint: ep.endpoint.authority.clone(),
        method,
        path: paths::canonicalize(&raw_path).unwrap_or(raw_path),
        status: resp.status().as_u16(),
        client_ip: peer.to_string(),
        app_client_id: ep.provider.client_id().to_owned(),
        decision: if outcome.allowed {
            Decision::Allow
        } else {
            Decision::Block
        },
        user_id: outcome.user_id,
        user_name: outcome.user_name,
    });
    resp
}

/// Whether an unauthenticated request should be sent to the IdP (a browser navigation) or
/// refused with 401 (an API call, or a method whose body could not be replayed after login).
fn wants_login_redirect(method: &Method, headers: &HeaderMap) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    // A WebSocket (or other) upgrade cannot follow a login redirect.
    if headers.contains_key(header::UPGRADE) {
        return false;
    }
    match headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(a) => a.contains("text/html") || a.contains("*/*"),
    }
}

/// A GET, HEAD, OPTIONS or TRACE request that carries a body (a `Content-Length` above zero, or any
/// `Transfer-Encoding`). Many applications never read a body on these methods and keep the
/// connection open, so a body forwarded to them is parsed as the next request — one nobody
/// authenticated, answered on a pooled connection another user's request reuses (request
/// desync). Browsers never send one (a CORS preflight has none), so such requests are refused
/// before anything else.
fn carries_unexpected_body(req: &Request<Incoming>) -> bool {
    use hyper::body::Body as _;
    matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) && !req.body().is_end_stream()
}

async fn gate(
    shared: &Arc<Shared>,
    rt: &Arc<Runtime>,
    ep: &Arc<EndpointRt>,
    req: Request<Incoming>,
    peer: IpAddr,
    outcome: &mut Outcome,
) -> Response<Body> {
    let path = match paths::canonicalize(req.uri().path()) {
        Ok(p) => p,
        Err(e) => {
            return ErrorPage::new(StatusCode::BAD_REQUEST, "bad_path", "Bad request", &e.to_string())
                .render();
        }
    };
    let cookies = match cookies::read(req.headers()) {
        Ok(c) => c,
        Err(e) => {
            return ErrorPage::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "cookie_too_large",
                "Request too large",
                &e.to_string(),
            )
            .render();
        }
    };
    if carries_unexpected_body(&req)
        && !rt
            .config
            .test_faults
            .has(crate::faults::Fault::ForwardBodiesOnSafeMethods)
    {
        return ErrorPage::new(
            StatusCode::BAD_REQUEST,
            "body_not_allowed",
            "Bad request",
            "a GET, HEAD, OPTIONS or TRACE request with a body is refused: the application behind this gateway could read the body as another request",
        ).render();
    }
    let query = req.uri().query().map(str::to_owned);
    if let Some(reserved) = paths::reserved(&path) {
        return match reserved {
            Reserved::Authn => login::start(shared, ep, &cookies, "/", true).await,
            Reserved::Logout => login::logout(shared, ep, &cookies).await,
            Reserved::Handoff => login::handoff(shared, ep, &cookies, query.as_deref()).await,
            Reserved::Callback if rt.callback_authority.is_none() => {
                login::callback(shared, rt, Some(ep), &cookies, query.as_deref()).await
            }
            Reserved::Callback | Reserved::Unknown => ErrorPage::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
                "this path is reserved by the gateway",
            )
            .render(),
        };
    }
    let oauth = &ep.endpoint.oauth;
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if oauth.options_passthrough && preflight {
        // Identity headers are scrubbed by the proxy; none are added. Forwarded: `allow`,
        // with no user.
        outcome.allowed = true;
        return crate::proxy::forward(shared, ep, req, &path, peer, HeaderMap::new(), None).await;
    }

    let now = shared.clock.unix();
    let session = match &cookies.session {
        Some(id) => match shared.store.get_session(id).await {
            Ok(s) => s
                .filter(|s| s.endpoint == ep.endpoint.authority)
                .map(|s| (id.clone(), s)),
            Err(e) => {
                return pages::store_unavailable(&e.to_string(), None);
            }
        },
        None => None,
    };
    if let Some((_, s)) = &session {
        // Named in the event even when the session cannot be used.
        outcome.user_id = Some(s.identity.user_id.clone());
        outcome.user_name = s.identity.name.clone();
    }
    let mut ended = false;
    let session = match session {
        Some((id, s)) => match live(shared, ep, &id, s, now).await {
            Ok(s) => match touch(shared, ep, &id, s, now).await {
                Some(s) => Some((id, s)),
                None => {
                    ended = true;
                    None
                }
            },
            Err(Ended::Page(resp)) => return *resp,
            Err(Ended::Relogin) => {
                ended = true;
                None
            }
        },
        None => None,
    };
    let Some((id, session)) = session else {
        let mut resp = if wants_login_redirect(req.method(), req.headers()) {
            let original = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            login::start(shared, ep, &cookies, &original, false).await
        } else {
            let mut r = ErrorPage::new(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "Login required",
                "log in with a browser first",
            )
            .render();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Cookie realm=\"gateway\""),
            );
            r
        };
        if ended {
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookies::clear(cookies::SESSION, shared.runtime().config.cookie_secure),
            );
        }
        return resp;
    };
    outcome.allowed = true;
    if oauth.options_passthrough && req.method() == Method::OPTIONS {
        // The seed: with options passthrough, identity headers are never set on OPTIONS.
        return crate::proxy::forward(shared, ep, req, &path, peer, HeaderMap::new(), None).await;
    }
    outcome.user_id = Some(session.identity.user_id.clone());
    outcome.user_name = session.identity.name.clone();
    let mut identity = HeaderMap::new();
    headers::set_identity(&mut identity, headers::USER_ID, Some(&session.identity.user_id));
    headers::set_identity(
        &mut identity,
        headers::USER_NAME,
        session.identity.name.as_deref(),
    );
    headers::set_identity(&mut identity, headers::USER_EMAIL, forwarded_email(rt, &session));
    if !oauth.managed {
        headers::set_identity(
            &mut identity,
            headers::ACCESS_TOKEN,
            Some(session.access_token.expose()),
        );
        headers::set_identity(
            &mut identity,
            headers::REFRESH_TOKEN,
            session.refresh_token.as_ref().map(|t| t.expose()),
        );
    }
    let tunnel =
        headers::is_websocket_upgrade(req.method(), req.headers()).then(|| tunnel(shared, ep, &id, &session));
    crate::proxy::forward(shared, ep, req, &path, peer, identity, tunnel).await
}

/// A WebSocket tunnel for this session: registered now (before the upgrade goes upstream, so
/// a logout that follows at once closes it), and watched every [`RECHECK`] with the same
/// rules a request meets — the session still exists, its time limits, a due auth check.
fn tunnel(shared: &Arc<Shared>, ep: &Arc<EndpointRt>, id: &str, session: &Session) -> Tunnel {
    let registration = shared.tunnels.register(id, &session.user_key);
    let (shared, ep, id) = (shared.clone(), ep.clone(), id.to_owned());
    let ended = async move {
        loop {
            tokio::time::sleep(RECHECK).await;
            let now = shared.clock.unix();
            match shared.store.get_session(&id).await {
                Ok(Some(s)) => {
                    if live(&shared, &ep, &id, s, now).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                // The store is down: requests get a 503; the tunnel is left as it is.
                Err(_) => {}
            }
        }
    };
    Tunnel {
        registration,
        ended: Box::pin(ended),
    }
}

/// The email the application is told, only when the provider verified it: an unverified
/// address is whatever the user typed at the IdP, and forwarding it would let anyone be
/// `alice@example.com` to an application that trusts the header (the nOAuth pattern). The
/// user still gets in, named by the id header.
fn forwarded_email<'a>(rt: &Runtime, session: &'a Session) -> Option<&'a str> {
    let verified = session.identity.email_verified
        || rt
            .config
            .test_faults
            .has(crate::faults::Fault::ForwardUnverifiedEmails);
    session.identity.email.as_deref().filter(|_| verified)
}

/// Why a session cannot be used for this request.
enum Ended {
    /// It is over (time limits, dead grant): log in again.
    Relogin,
    /// Answer with this page.
    Page(Box<Response<Body>>),
}

/// Applies the session's time limits and the auth check.
async fn live(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    id: &str,
    session: Session,
    now: u64,
) -> Result<Session, Ended> {
    let oauth = &ep.endpoint.oauth;
    let expired =
        |limit: Duration, since: u64| !limit.is_zero() && now.saturating_sub(since) >= limit.as_secs();
    if expired(oauth.inactivity_timeout, session.last_seen) || expired(oauth.max_duration, session.created_at)
    {
        let _ = shared.end_session(id).await;
        return Err(Ended::Relogin);
    }
    let due = (!oauth.auth_check_interval.is_zero()
        && now.saturating_sub(session.last_check) >= oauth.auth_check_interval.as_secs())
        || session.policy_hash != oauth.policy_hash;
    if !due {
        return Ok(session);
    }
    match continuous::check(shared, ep, id, session, now).await {
        Check::Ok(s) => Ok(*s),
        Check::Denied(reason) => {
            let _ = shared.end_session(id).await;
            let retry = format!("{}auth/authn", ep.endpoint.origin);
            let mut resp = ErrorPage::new(StatusCode::FORBIDDEN, "unauthorized", "Access denied", &reason).retry(&retry).render();
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookies::clear(cookies::SESSION, shared.runtime().config.cookie_secure),
            );
            Err(Ended::Page(Box::new(resp)))
        }
        Check::Relogin(reason) => {
            tracing::info!(endpoint = %ep.endpoint.authority, "session ended: {reason}");
            let _ = shared.end_session(id).await;
            Err(Ended::Relogin)
        }
        Check::Unavailable(reason) => Err(Ended::Page(Box::new(ErrorPage::new(StatusCode::SERVICE_UNAVAILABLE, "idp_unavailable", "Identity provider unavailable", &format!(
                "your access could not be re-checked with the identity provider ({reason}); try again shortly"
            )).render()))),
    }
}

/// Records activity: the session's `last_seen` (at most once a second) and the App User's
/// last access and monthly activity (at most once a minute per session). `None` when the
/// session was deleted meanwhile.
async fn touch(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    id: &str,
    mut session: Session,
    now: u64,
) -> Option<Session> {
    if now == session.last_seen {
        return Some(session);
    }
    let minute_changed = now / 60 != session.last_seen / 60;
    session.last_seen = now;
    // Only if it still exists: a logout or revocation that happened while this request was
    // in flight wins.
    match shared
        .store
        .update_session(id, &session, ep.endpoint.oauth.session_ttl())
        .await
    {
        Ok(false) => return None,
        Ok(true) => {}
        Err(e) => tracing::warn!("could not record session activity: {e}"),
    }
    if minute_changed {
        crate::app_users::record_access(shared, &ep.endpoint.authority, &session, now).await;
    }
    Some(session)
}
