//! Forwarding to the upstream: the canonical path, cleaned headers plus the gateway's own,
//! streaming bodies both ways, WebSocket (and other) upgrades, and a 502 page when the
//! upstream cannot be reached. Connections to the upstream are pooled.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode, Uri, Version, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::cookies;
use crate::headers;
use crate::pages::{self, ErrorPage};
use crate::server::{EndpointRt, Shared};
use crate::session::Session;

fn is_upgrade(h: &HeaderMap) -> bool {
    h.get(header::UPGRADE).is_some()
        && h.get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
}

/// Resolves when the session that opened a tunnel has ended: at once when it ends on this
/// replica, within [`crate::tunnels::RECHECK`] when another replica ended it or its
/// maximum duration passed. While the store cannot be reached the tunnel stays open.
async fn session_ended(
    shared: &Arc<Shared>,
    id: &str,
    created_at: u64,
    max_duration: std::time::Duration,
    registration: &crate::tunnels::Registration,
) {
    let recheck = async {
        loop {
            tokio::time::sleep(crate::tunnels::RECHECK).await;
            let over = !max_duration.is_zero()
                && shared.clock.unix().saturating_sub(created_at) >= max_duration.as_secs();
            if over || matches!(shared.store.get_session(id).await, Ok(None)) {
                return;
            }
        }
    };
    tokio::select! {
        _ = registration.closed() => {}
        _ = recheck => {}
    }
}

fn bad_gateway(why: &str) -> Response<Body> {
    pages::error(&ErrorPage {
        status: StatusCode::BAD_GATEWAY,
        title: "Upstream unavailable",
        message: why,
        idp_error: None,
        retry: None,
        code: "upstream_unavailable",
    })
}

/// Forwards `req` to the endpoint's upstream at the canonical `path`, adding `identity`.
/// `session` is the session that authorized it (`None` for a passthrough preflight): an
/// upgraded connection lives only as long as that session.
pub async fn forward(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    mut req: Request<Incoming>,
    path: &str,
    peer: IpAddr,
    identity: HeaderMap,
    session: Option<(&str, &Session)>,
) -> Response<Body> {
    let upgrade = is_upgrade(req.headers());
    let base = &ep.endpoint.upstream;
    let prefix = base.path().trim_end_matches('/');
    let target = match req.uri().query() {
        Some(q) => format!("{prefix}{path}?{q}"),
        None => format!("{prefix}{path}"),
    };
    let uri: Uri = match format!(
        "{}://{}{}",
        base.scheme(),
        &base[url::Position::BeforeHost..url::Position::AfterPort],
        target
    )
    .parse()
    {
        Ok(u) => u,
        Err(_) => return bad_gateway("the request could not be mapped to the upstream"),
    };
    let keep_forged = shared
        .runtime()
        .config
        .test_faults
        .has(crate::faults::Fault::KeepForgedIdentityHeaders);
    let mut headers = headers::clean_request(req.headers(), upgrade, keep_forged);
    if let Some(c) = cookies::forwardable(req.headers()) {
        headers.insert(header::COOKIE, c);
    }
    headers::add_forwarded(
        &mut headers,
        peer,
        ep.endpoint.origin.scheme(),
        &ep.endpoint.authority,
    );
    for (k, v) in identity.iter() {
        headers.insert(k.clone(), v.clone());
    }
    if let Ok(host) = base[url::Position::BeforeHost..url::Position::AfterPort].parse() {
        headers.insert(header::HOST, host);
    }
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let method = req.method().clone();
    let mut out = Request::builder()
        .method(method)
        .uri(uri)
        .version(Version::HTTP_11);
    if let Some(h) = out.headers_mut() {
        *h = headers;
    }
    let out = match out.body(Body::new(req.into_body())) {
        Ok(r) => r,
        Err(_) => return bad_gateway("the request could not be forwarded"),
    };
    let mut resp = match shared.upstream.request(out).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(endpoint = %ep.endpoint.authority, "upstream request failed: {e}");
            return bad_gateway("the application behind this gateway did not answer");
        }
    };
    let switching = resp.status() == StatusCode::SWITCHING_PROTOCOLS;
    if let (true, Some(client_upgrade)) = (switching, client_upgrade) {
        let upstream_upgrade = hyper::upgrade::on(&mut resp);
        let keep_open = shared
            .runtime()
            .config
            .test_faults
            .has(crate::faults::Fault::KeepTunnelsAfterLogout);
        // Registered before the 101 goes out, so a logout that follows at once closes it.
        let watch = session.filter(|_| !keep_open).map(|(id, s)| {
            let registration = shared.tunnels.register(id, &s.user_key);
            (
                shared.clone(),
                id.to_owned(),
                s.created_at,
                ep.endpoint.oauth.max_duration,
                registration,
            )
        });
        tokio::spawn(async move {
            if let (Ok(a), Ok(b)) = tokio::join!(client_upgrade, upstream_upgrade) {
                let (mut a, mut b) = (TokioIo::new(a), TokioIo::new(b));
                match watch {
                    Some((shared, id, created_at, max, registration)) => {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
                            _ = session_ended(&shared, &id, created_at, max, &registration) => {
                                tracing::debug!("closing a tunnel: its session ended");
                            }
                        }
                    }
                    None => {
                        let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                    }
                }
            }
        });
    }
    let (mut parts, body) = resp.into_parts();
    headers::clean_response(&mut parts.headers, switching);
    Response::from_parts(parts, Body::new(body))
}
