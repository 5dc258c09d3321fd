//! A raw HTTP/1.1 client over TCP, for what no well-behaved HTTP library sends: request
//! targets byte for byte (`..`, `\`, absolute form), repeated `Host` headers, bodies on GET and
//! OPTIONS that smuggle a second request, request heads trickled a byte at a time, and
//! upgraded connections held open to see when the gateway closes them.
//!
//! Building blocks for the attack steps; nothing here knows about scenarios.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request, written exactly as given.
#[derive(Clone, Debug, Default)]
pub struct RawRequest {
    /// Method, as sent (`get`, `FOO`…).
    pub method: String,
    /// Request target, as sent.
    pub target: String,
    /// Header lines, in order (a name may repeat). `Host` is one of them.
    pub headers: Vec<(String, String)>,
    /// Body bytes (a `Content-Length` is added unless a header says how the body is framed).
    pub body: Vec<u8>,
}

impl RawRequest {
    /// `method target` with a `Host` header.
    pub fn new(method: &str, target: &str, host: &str) -> RawRequest {
        RawRequest {
            method: method.to_owned(),
            target: target.to_owned(),
            headers: vec![("host".into(), host.to_owned())],
            body: Vec::new(),
        }
    }

    /// Adds a header line.
    pub fn header(mut self, name: &str, value: &str) -> RawRequest {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> RawRequest {
        self.body = body.into();
        self
    }

    /// The bytes on the wire. `{FOLD}` in a header value is an obsolete line folding
    /// (RFC 9112 §5.2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {}\r\n", v.replace("{FOLD}", "\r\n ")));
        }
        let framed = self.headers.iter().any(|(k, _)| {
            k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
        });
        if !self.body.is_empty() && !framed {
            out.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// Sends it on a new connection to `127.0.0.1:port` and reads the answer until the
    /// gateway closes the connection (the request should carry `connection: close`) or
    /// `within` passes. A connection closed without a byte is [`RawOutcome::Closed`].
    pub async fn exchange(&self, port: u16, within: Duration) -> Result<RawOutcome, String> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("the gateway's port 127.0.0.1:{port} refused the connection: {e}"))?;
        stream
            .write_all(&self.to_bytes())
            .await
            .map_err(|e| format!("writing the request: {e}"))?;
        let mut buf = Vec::new();
        match tokio::time::timeout(within, stream.read_to_end(&mut buf)).await {
            Err(_) if buf.is_empty() => {
                return Err(format!(
                    "the gateway did not answer {} {} within {within:?}",
                    self.method, self.target
                ));
            }
            Ok(_) if buf.is_empty() => return Ok(RawOutcome::Closed),
            _ => {}
        }
        RawResponse::parse(&buf).map(RawOutcome::Answered).ok_or_else(|| {
            format!(
                "no HTTP status line in the answer to {} {}: {:?}",
                self.method,
                self.target,
                String::from_utf8_lossy(&buf[..buf.len().min(200)])
            )
        })
    }

    /// [`exchange`](Self::exchange), requiring an answer.
    pub async fn send(&self, port: u16, within: Duration) -> Result<RawResponse, String> {
        match self.exchange(port, within).await? {
            RawOutcome::Answered(r) => Ok(r),
            RawOutcome::Closed => Err(format!(
                "the gateway closed the connection without answering {} {}",
                self.method, self.target
            )),
        }
    }
}

/// What came back.
#[derive(Clone, Debug)]
pub enum RawOutcome {
    /// An HTTP answer.
    Answered(RawResponse),
    /// The connection was closed without a byte.
    Closed,
}

/// An answer read off the wire.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers (unparseable lines dropped).
    pub headers: HeaderMap,
    /// Every `Set-Cookie` value.
    pub set_cookies: Vec<String>,
    /// Body (de-chunked), lossy UTF-8.
    pub body: String,
}

impl RawResponse {
    /// Parses the first response in `bytes`.
    pub fn parse(bytes: &[u8]) -> Option<RawResponse> {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())?;
        let mut headers = HeaderMap::new();
        let mut set_cookies = Vec::new();
        for l in lines {
            if let Some((k, v)) = l.split_once(':')
                && let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.trim().as_bytes()),
                    HeaderValue::from_str(v.trim()),
                )
            {
                if k == "set-cookie" {
                    set_cookies.push(v.to_str().unwrap_or_default().to_owned());
                }
                headers.append(k, v);
            }
        }
        let chunked = headers
            .get("transfer-encoding")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
        let body = if chunked { dechunk(body) } else { body.to_owned() };
        Some(RawResponse {
            status,
            headers,
            set_cookies,
            body,
        })
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Clients that open connections and never finish a request head: half send nothing at all,
/// half trickle a header one byte a second (slowloris). Each records when the gateway
/// closed its connection.
pub struct SlowClients {
    started: Instant,
    closed_after: Vec<Arc<Mutex<Option<Duration>>>>,
    refused: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SlowClients {
    /// Opens `n` slow connections to `127.0.0.1:port` with `Host: host`; they keep trying
    /// for `patience` at most.
    pub async fn start(port: u16, host: &str, n: usize, patience: Duration) -> SlowClients {
        let started = Instant::now();
        let refused = Arc::new(Mutex::new(Vec::new()));
        let mut closed_after = Vec::with_capacity(n);
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let slot = Arc::new(Mutex::new(None));
            closed_after.push(slot.clone());
            let refused = refused.clone();
            let head = format!("GET /slow-{i} HTTP/1.1\r\nhost: {host}\r\nx-slow: ");
            let trickle = i % 2 == 1;
            let stream = match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(s) => s,
                Err(e) => {
                    refused.lock().unwrap().push(e.to_string());
                    *slot.lock().unwrap() = Some(Duration::ZERO);
                    continue;
                }
            };
            tasks.push(tokio::spawn(async move {
                let closed = hold(stream, head.as_bytes(), trickle, patience).await;
                if closed {
                    *slot.lock().unwrap() = Some(started.elapsed());
                }
            }));
        }
        SlowClients {
            started,
            closed_after,
            refused,
            tasks,
        }
    }

    /// Waits until every connection was closed by the gateway or `limit` has passed since
    /// they started; returns how long each one stayed open (`None`: still open at `limit`).
    pub async fn wait_closed(&self, limit: Duration) -> Vec<Option<Duration>> {
        loop {
            let now: Vec<Option<Duration>> = self.closed_after.iter().map(|s| *s.lock().unwrap()).collect();
            if now.iter().all(Option::is_some) || self.started.elapsed() >= limit {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Connections the gateway's port refused outright.
    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap().clone()
    }
}

impl Drop for SlowClients {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Holds a connection: sends `head` (one byte a second when `trickle`, else nothing at all)
/// and never ends it. `true` when the gateway closed the connection within `patience`.
async fn hold(mut stream: TcpStream, head: &[u8], trickle: bool, patience: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + patience;
    let mut sent = 0usize;
    let mut buf = [0u8; 1024];
    loop {
        let tick = tokio::time::sleep(Duration::from_secs(1));
        tokio::select! {
            r = stream.read(&mut buf) => match r {
                // An answer (a 408, say) is fine; what counts is that the connection ends.
                Ok(n) if n > 0 => continue,
                _ => return true,
            },
            _ = tick => {
                if tokio::time::Instant::now() >= deadline {
                    return false;
                }
                if trickle {
                    let byte = if sent < head.len() { head[sent] } else { b'a' };
                    sent += 1;
                    if stream.write_all(&[byte]).await.is_err() {
                        return true;
                    }
                }
            }
        }
    }
}

/// What a probe sent into a tunnel got back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// The bytes came back.
    Echoed,
    /// End of stream or a reset: the tunnel is closed.
    Closed,
    /// Nothing within two seconds.
    Silent,
}

/// An upgraded connection (a WebSocket to the recording upstream's `/ws`, which echoes
/// bytes), held open to see whether it is still served.
pub struct Tunnel {
    stream: TcpStream,
}

impl Tunnel {
    /// Sends the upgrade request (with `cookie` for the gateway) and reads the answer head:
    /// the tunnel when it is `101`, else the status.
    pub async fn open(port: u16, host: &str, path: &str, cookie: Option<&str>) -> Result<Tunnel, String> {
        let mut req = RawRequest::new("GET", path, host)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("connecting to the gateway: {e}"))?;
        stream
            .write_all(&req.to_bytes())
            .await
            .map_err(|e| format!("sending the upgrade: {e}"))?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
                .await
                .map_err(|_| "no answer to the upgrade within 10 s".to_owned())?
                .map_err(|e| format!("reading the upgrade answer: {e}"))?;
            if n == 0 || head.len() > 64 * 1024 {
                break;
            }
            head.push(byte[0]);
        }
        let status = RawResponse::parse(&head).map(|r| r.status);
        match status {
            Some(101) => Ok(Tunnel { stream }),
            Some(s) => Err(format!("the upgrade was answered {s}, not 101")),
            None => Err(format!(
                "the upgrade got no HTTP answer: {:?}",
                String::from_utf8_lossy(&head)
            )),
        }
    }

    /// Sends a probe and reads what comes back (the upstream echoes).
    pub async fn probe(&mut self) -> Echo {
        let probe = b"ping";
        if self.stream.write_all(probe).await.is_err() {
            return Echo::Closed;
        }
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while got.len() < probe.len() {
            match tokio::time::timeout(Duration::from_secs(2), self.stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
                Ok(_) => return Echo::Closed,
                Err(_) => return Echo::Silent,
            }
        }
        if got.starts_with(probe) {
            Echo::Echoed
        } else {
            Echo::Silent
        }
    }

    /// Whether a probe comes back now.
    pub async fn echoes(&mut self) -> bool {
        self.probe().await == Echo::Echoed
    }

    /// Probes every half second until the tunnel is closed (end of stream or reset; a probe
    /// that only goes unanswered does not count) or `within` passes; returns how long it
    /// stayed open (`None`: still open).
    pub async fn closed_within(&mut self, within: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < within {
            if self.probe().await == Echo::Closed {
                return Some(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_written_byte_for_byte_with_its_body_framed() {
        let r = RawRequest::new("OPTIONS", "/a/../b", "app.localhost:1")
            .header("host", "evil.test")
            .body("GET /admin HTTP/1.1\r\n\r\n");
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert_eq!(
            text,
            "OPTIONS /a/../b HTTP/1.1\r\nhost: app.localhost:1\r\nhost: evil.test\r\ncontent-length: 23\r\n\r\nGET /admin HTTP/1.1\r\n\r\n"
        );
    }

    #[test]
    fn responses_are_parsed_and_dechunked() {
        let r = RawResponse::parse(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nset-cookie: a=1\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "abcde"));
        assert_eq!(r.set_cookies, ["a=1"]);
        assert!(RawResponse::parse(b"garbage").is_none());
    }
}
