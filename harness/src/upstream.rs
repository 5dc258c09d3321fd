//! The recording upstream: the application behind the gateway under test. It records every
//! request (method, path, query, headers, body) and answers `200` with a JSON echo — and, on
//! `/ws`, accepts an HTTP upgrade and echoes raw bytes, to check that upgrades pass through;
//! `/set-cookie?name=value…` answers with those cookies set.
//! Scenarios assert on what it saw: "the upstream received no request", "it saw
//! `ngrok-auth-user-email: alice@example.com` once and no forged copy".

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// One request the upstream received.
#[derive(Clone, Debug, Serialize)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path (as received).
    pub path: String,
    /// Query, if any.
    pub query: Option<String>,
    /// Headers, in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body bytes (UTF-8, lossy).
    pub body: String,
}

impl Seen {
    /// Every value of a header (case-insensitive name).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The single value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_all(name).first().copied()
    }
}

/// A running recording upstream.
pub struct RecordingUpstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    cancel: CancellationToken,
}

impl RecordingUpstream {
    /// Starts one on a free loopback port.
    pub async fn start() -> RecordingUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the recording upstream");
        let addr = listener.local_addr().expect("local addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let cancel = CancellationToken::new();
        let (s, c) = (seen.clone(), cancel.clone());
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
                    _ = c.cancelled() => break,
                };
                let s = s.clone();
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let s = s.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(s, req).await) }
                });
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RecordingUpstream { addr, seen, cancel }
    }

    /// Its base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Everything received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
    /// The last request.
    pub fn last(&self) -> Option<Seen> {
        self.seen.lock().unwrap().last().cloned()
    }
    /// Forgets what was received.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for RecordingUpstream {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn headers_of(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

async fn handle(seen: Arc<Mutex<Vec<Seen>>>, mut req: Request<Incoming>) -> Response<Body> {
    let upgrade = req.uri().path() == "/ws" && req.headers().contains_key("upgrade");
    let on_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let (parts, body) = req.into_parts();
    let body: Bytes = if upgrade {
        Bytes::new()
    } else {
        tokio::time::timeout(Duration::from_secs(10), body.collect())
            .await
            .ok()
            .and_then(Result::ok)
            .map(|c| c.to_bytes())
            .unwrap_or_default()
    };
    let record = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: headers_of(&parts.headers),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    seen.lock().unwrap().push(record.clone());
    if let Some(on) = on_upgrade {
        tokio::spawn(async move {
            if let Ok(up) = on.await {
                let mut io = TokioIo::new(up);
                let (mut r, mut w) = tokio::io::split(&mut io);
                let _ = tokio::io::copy(&mut r, &mut w).await;
            }
        });
        return Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("connection", "upgrade")
            .header("upgrade", "echo")
            .body(Body::empty())
            .expect("valid response");
    }
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("x-upstream", "recording");
    // `/set-cookie?a=1&b=2` answers with `Set-Cookie: a=1; Path=/` for each pair.
    if record.path == "/set-cookie" {
        for (k, v) in form_urlencoded::parse(record.query.as_deref().unwrap_or("").as_bytes()) {
            resp = resp.header("set-cookie", format!("{k}={v}; Path=/"));
        }
    }
    resp.body(Body::from(serde_json::to_string(&record).unwrap_or_default()))
        .expect("valid response")
}
