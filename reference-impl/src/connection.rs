//! One client connection under `[limits]` (security checklist 65): what a connection may cost
//! and when the gateway closes it.
//!
//! * The first request must start within `header_read_timeout` of the connection opening (a
//!   client that sends nothing, or trickles the bytes that tell HTTP/1.1 from HTTP/2, never
//!   reaches hyper's own timer), and every HTTP/1.1 request head must arrive within it
//!   (hyper's timer, which also runs while a kept-alive connection waits for its next
//!   request).
//! * A connection with no exchange in progress for `idle_timeout` is closed gracefully. An
//!   exchange lasts until its response body has been sent, so a long download or an event
//!   stream is not idle.
//! * A client that stops reading (the gateway's writes to it have been blocked for
//!   `idle_timeout`) is dropped outright: nothing else ends a connection whose peer never
//!   takes its response.
//! * The connection holds a [`Slot`] of `max_connections` until it closes; a WebSocket tunnel
//!   takes the slot over from its upgrade request and holds it while it is open.
//!
//! The watchdog wakes on its deadlines only (at least once per `header_read_timeout` or
//! `idle_timeout`), never per request.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response};
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;

/// A connection's place under `max_connections`, held by the connection and by a tunnel
/// opened on it (a request extension, so the proxy can carry it into the tunnel).
#[derive(Clone)]
pub struct Slot {
    _permit: Arc<OwnedSemaphorePermit>,
}

/// No value: "not since".
const NEVER: u64 = u64::MAX;

/// What the watchdog reads: exchanges in progress, when the last one ended, and since when
/// writes to the client have been blocked (milliseconds since the connection opened).
struct Activity {
    opened: Instant,
    in_progress: AtomicUsize,
    last_end: AtomicU64,
    blocked_since: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_progress: AtomicUsize::new(0),
            last_end: AtomicU64::new(NEVER),
            blocked_since: AtomicU64::new(NEVER),
        }
    }
    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(NEVER - 1)
    }
    fn begin(self: &Arc<Self>) -> InProgress {
        self.in_progress.fetch_add(1, Ordering::SeqCst);
        InProgress(self.clone())
    }
    /// When the connection counts as idle if nothing happens meanwhile; `None` while an
    /// exchange is in progress.
    fn idle_at(&self, first: Duration, idle: Duration) -> Option<u64> {
        if self.in_progress.load(Ordering::SeqCst) > 0 {
            return None;
        }
        Some(match self.last_end.load(Ordering::SeqCst) {
            NEVER => millis(first),
            end => end.saturating_add(millis(idle)),
        })
    }
    /// When a client that stopped reading is dropped; `None` while writes flow.
    fn stalled_at(&self, idle: Duration) -> Option<u64> {
        match self.blocked_since.load(Ordering::SeqCst) {
            NEVER => None,
            since => Some(since.saturating_add(millis(idle))),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(NEVER - 1)
}

/// One exchange in progress; ends when dropped (with the response body).
struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.last_end.store(self.0.now(), Ordering::SeqCst);
        self.0.in_progress.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its exchange in progress until it has been sent (or dropped).
struct Tracked {
    inner: Body,
    _exchange: InProgress,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The client's socket, noting when writes to it block and unblock.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Watched {
    fn note<T>(&self, r: &Poll<T>) {
        let a = &self.activity;
        match r {
            Poll::Pending => {
                let _ = a
                    .blocked_since
                    .compare_exchange(NEVER, a.now(), Ordering::SeqCst, Ordering::SeqCst);
            }
            Poll::Ready(_) => a.blocked_since.store(NEVER, Ordering::SeqCst),
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.note(&r);
        r
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.note(&r);
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.stream).poll_flush(cx);
        self.note(&r);
        r
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves one client connection (HTTP/1.1 or HTTP/2, with upgrades) with `handle`, under
/// `limits` (none at all when `unlimited`: the test-only fault). Returns when it is closed.
pub async fn serve<H, F>(
    stream: TcpStream,
    peer: SocketAddr,
    limits: Limits,
    unlimited: bool,
    slot: OwnedSemaphorePermit,
    cancel: CancellationToken,
    handle: H,
) where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = Response<Body>> + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let slot = Slot {
        _permit: Arc::new(slot),
    };
    let handle = Arc::new(handle);
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: Request<Incoming>| {
            let exchange = activity.begin();
            req.extensions_mut().insert(slot.clone());
            let handle = handle.clone();
            async move {
                let resp = handle(req).await;
                Ok::<_, std::convert::Infallible>(resp.map(|inner| {
                    Body::new(Tracked {
                        inner,
                        _exchange: exchange,
                    })
                }))
            }
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if !unlimited {
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
    }
    let io = Watched {
        stream,
        activity: activity.clone(),
    };
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    // Wake at least this often to look at the deadlines again.
    let period = limits.header_read_timeout.min(limits.idle_timeout);
    let mut closing = false;
    loop {
        let now = activity.now();
        let idle_at = (!closing)
            .then(|| activity.idle_at(limits.header_read_timeout, limits.idle_timeout))
            .flatten();
        let stalled_at = activity.stalled_at(limits.idle_timeout);
        let wake = [idle_at, stalled_at, Some(now.saturating_add(millis(period)))]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(NEVER);
        let sleep = tokio::time::sleep(Duration::from_millis(wake.saturating_sub(now)));
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = cancel.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = sleep, if !unlimited => {
                let now = activity.now();
                if activity.stalled_at(limits.idle_timeout).is_some_and(|at| at <= now) {
                    tracing::debug!(%peer, "dropping a connection whose client stopped reading");
                    break;
                }
                if !closing
                    && activity
                        .idle_at(limits.header_read_timeout, limits.idle_timeout)
                        .is_some_and(|at| at <= now)
                {
                    tracing::debug!(%peer, "closing a connection without a request in time");
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}
