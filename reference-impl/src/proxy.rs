//! Forwarding to the upstream: the canonical path, cleaned headers plus the gateway's own,
//! streaming bodies both ways, WebSocket (and other) upgrades, and a 502 page when the
//! upstream cannot be reached. Connections to the upstream are pooled.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, Version, header};
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::connection::Slot;
use crate::cookies;
use crate::headers;
use crate::pages::ErrorPage;
use crate::runtime::{EndpointRt, Shared};
use crate::tunnels::Tunnel;

fn bad_gateway(why: &str) -> Response<Body> {
    ErrorPage::new(
        StatusCode::BAD_GATEWAY,
        "upstream_unavailable",
        "Upstream unavailable",
        why,
    )
    .render()
}

/// Forwards `req` to the endpoint's upstream at the canonical `path`, adding `identity`.
/// With `tunnel` (a WebSocket upgrade of a logged-in user) the upgrade is forwarded and the
/// tunnel lives until its session ends; without, any upgrade the request asks for is dropped
/// and it is forwarded as a plain request.
pub async fn forward(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    mut req: Request<Incoming>,
    path: &str,
    peer: IpAddr,
    identity: HeaderMap,
    tunnel: Option<Tunnel>,
) -> Response<Body> {
    let upgrade = tunnel.is_some();
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
    // The tunnel keeps the client connection's place under `max_connections`.
    let slot = req.extensions().get::<Slot>().cloned();
    let method = req.method().clone();
    // GET, HEAD, OPTIONS and TRACE with a body never get here (the gate refuses them).
    let body_is_unusual = !matches!(
        method,
        Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::GET
            | Method::HEAD
            | Method::OPTIONS
            | Method::TRACE
    );
    if !upgrade && body_is_unusual && req.body().size_hint().upper() != Some(0) {
        // A body on a method where applications seldom read one (DELETE, unknown methods):
        // the upstream connection is not reused after it, so a body the application leaves
        // unread cannot become the next user's request.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
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
    if switching && !upgrade {
        return bad_gateway("the application switched protocols on a request that asked for no upgrade");
    }
    if let (true, Some(client_upgrade), Some(tunnel)) = (switching, client_upgrade, tunnel) {
        let upstream_upgrade = hyper::upgrade::on(&mut resp);
        let keep_open = shared
            .runtime()
            .config
            .test_faults
            .has(crate::faults::Fault::KeepTunnelsAfterLogout);
        let shutdown = shared.shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            if let (Ok(a), Ok(b)) = tokio::join!(client_upgrade, upstream_upgrade) {
                let (mut a, mut b) = (TokioIo::new(a), TokioIo::new(b));
                let closed = async move {
                    if keep_open {
                        std::future::pending::<()>().await;
                    }
                    tunnel.closed().await;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
                    _ = closed => tracing::debug!("closing a tunnel: its session ended"),
                    _ = shutdown.cancelled() => {}
                }
            }
        });
    }
    let (mut parts, body) = resp.into_parts();
    headers::clean_response(&mut parts.headers, switching);
    Response::from_parts(parts, Body::new(body))
}
