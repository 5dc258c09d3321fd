//! The recording upstream: the application behind the gateway under test. It records every
//! request (method, path, query, headers, body) and answers `200` with a JSON echo — and, on
//! `/ws`, accepts an HTTP upgrade and echoes raw bytes, to check that upgrades pass through;
//! `/set-cookie?name=value…` answers with those cookies set; `/bytes/N` answers N bytes and
//! `/drip?n=N&ms=M` N lines, one every M milliseconds.
//! Scenarios assert on what it saw: "the upstream received no request", "it saw
//! `ngrok-auth-user-email: alice@example.com` once and no forged copy".
//!
//! It reads requests in one of two ways ([`Reading`]): strictly (hyper), or like Python's
//! `http.server` and many frameworks, which never read a body on GET, HEAD or OPTIONS and keep
//! the connection open — so a body a gateway forwards there is parsed as the next request
//! (request desync). The second is a deliberately naive HTTP/1.1 server written here.

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

/// How the recording upstream reads requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reading {
    /// As HTTP says (hyper): every body by its framing; upgrades on `/ws`.
    #[default]
    Strict,
    /// Like Python's `BaseHTTPRequestHandler` with keep-alive: the body of a GET, HEAD or
    /// OPTIONS request is never read, so its bytes become the next request on the connection.
    /// Other bodies are read by `Content-Length` (or chunked); no upgrades.
    IgnoresBodiesOnSafeMethods,
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
        RecordingUpstream::start_reading(Reading::Strict).await
    }

    /// Starts one that reads requests the given way.
    pub async fn start_reading(reading: Reading) -> RecordingUpstream {
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
                if reading == Reading::IgnoresBodiesOnSafeMethods {
                    tokio::spawn(naive::serve(stream, s));
                    continue;
                }
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

/// The generated answers: `/bytes/N` is N bytes (`x`), sent at once; `/drip?n=N&ms=M` is N
/// lines, one every M milliseconds (a slow stream, like server-sent events).
fn generated(record: &Seen) -> Option<Body> {
    if let Some(n) = record.path.strip_prefix("/bytes/") {
        let n: usize = n.parse().ok()?;
        return Some(Body::from(vec![b'x'; n]));
    }
    if record.path != "/drip" {
        return None;
    }
    let q: std::collections::HashMap<String, String> =
        form_urlencoded::parse(record.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let n: u32 = q.get("n").and_then(|v| v.parse().ok()).unwrap_or(3);
    let every = Duration::from_millis(q.get("ms").and_then(|v| v.parse().ok()).unwrap_or(500));
    let lines = futures::stream::unfold(0u32, move |i| async move {
        if i == n {
            return None;
        }
        tokio::time::sleep(every).await;
        Some((
            Ok::<_, std::convert::Infallible>(Bytes::from(format!("line {i}\n"))),
            i + 1,
        ))
    });
    Some(Body::from_stream(lines))
}

/// The answer body: the request as recorded, in JSON.
fn echo(record: &Seen) -> String {
    serde_json::to_string(record).unwrap_or_default()
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
    if let Some(body) = generated(&record) {
        return Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/octet-stream")
            .header("x-upstream", "recording")
            .body(body)
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
    resp.body(Body::from(echo(&record))).expect("valid response")
}

/// The naive HTTP/1.1 server of [`Reading::IgnoresBodiesOnSafeMethods`].
mod naive {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::Seen;

    const MAX_HEAD: usize = 64 * 1024;

    /// Serves requests on one connection until the client closes it, asks to close it, or
    /// sends something that is not a request.
    pub async fn serve(mut stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let Some((record, close)) = next_request(&mut stream, &mut buf).await else {
                return;
            };
            seen.lock().unwrap().push(record.clone());
            let body = super::echo(&record);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-upstream: recording\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let mut out = head.into_bytes();
            if record.method != "HEAD" {
                out.extend_from_slice(body.as_bytes());
            }
            if stream.write_all(&out).await.is_err() || close {
                return;
            }
        }
    }

    async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(Duration::from_secs(30), stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                buf.extend_from_slice(&chunk[..n]);
                true
            }
            _ => false,
        }
    }

    /// Reads one request off `buf` (reading more from the stream as needed). The body of a
    /// GET, HEAD or OPTIONS request is left where it is: the next call parses it.
    async fn next_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(Seen, bool)> {
        let (head_len, method, target, headers) = loop {
            let mut slots = [httparse::EMPTY_HEADER; 100];
            let mut req = httparse::Request::new(&mut slots);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let headers: Vec<(String, String)> = req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    break (
                        n,
                        req.method.unwrap_or_default().to_owned(),
                        req.path.unwrap_or_default().to_owned(),
                        headers,
                    );
                }
                Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {
                    if !fill(stream, buf).await {
                        return None;
                    }
                }
                _ => return None,
            }
        };
        buf.drain(..head_len);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_ascii_lowercase())
        };
        let reads_body = !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS");
        let mut body = Vec::new();
        if reads_body {
            if header("transfer-encoding").is_some_and(|te| te.ends_with("chunked")) {
                loop {
                    let line_end = loop {
                        if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                            break i;
                        }
                        if !fill(stream, buf).await {
                            return None;
                        }
                    };
                    let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
                    let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
                    while buf.len() < line_end + 2 + size + 2 {
                        if !fill(stream, buf).await {
                            return None;
                        }
                    }
                    body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
                    buf.drain(..line_end + 2 + size + 2);
                    if size == 0 {
                        break;
                    }
                }
            } else if let Some(n) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
                while buf.len() < n {
                    if !fill(stream, buf).await {
                        return None;
                    }
                }
                body = buf.drain(..n).collect();
            }
        }
        let close = header("connection").is_some_and(|c| c.contains("close"));
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (target, None),
        };
        Some((
            Seen {
                method,
                path,
                query,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            },
            close,
        ))
    }
}
