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

fn is_upgrade(h: &HeaderMap) -> bool {
    h.get(header::UPGRADE).is_some()
        && h.get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
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
pub async fn forward(
    shared: &Arc<Shared>,
    ep: &Arc<EndpointRt>,
    mut req: Request<Incoming>,
    path: &str,
    peer: IpAddr,
    identity: HeaderMap,
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
        tokio::spawn(async move {
            if let (Ok(a), Ok(b)) = tokio::join!(client_upgrade, upstream_upgrade) {
                let (mut a, mut b) = (TokioIo::new(a), TokioIo::new(b));
                let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
            }
        });
    }
    let (mut parts, body) = resp.into_parts();
    headers::clean_response(&mut parts.headers, switching);
    Response::from_parts(parts, Body::new(body))
}
