//! The running gateway: shared state, the listener, routing by `Host`, reload and shutdown.
//!
//! One listener serves every endpoint; the request's authority (`Host`, or the absolute-form
//! request target, which must agree with it) picks the endpoint — an unknown host gets 404,
//! never a default upstream (security checklist 57), and two `Host` headers get 400.
//! Connections are served under `[limits]`: a request head must arrive within
//! `header_read_timeout`, a connection without requests closes after `idle_timeout`, and at
//! most `max_connections` are served at once (the rest wait in the listen backlog). The central callback origin, when
//! configured, answers only `/oauth2/callback`. The admin API listens separately.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use url::Url;

use crate::config::{Config, Endpoint, StoreConfig};
use crate::events::{Event, EventSink};
use crate::pages::{self, ErrorPage};
use crate::providers::Provider;
use crate::session::SessionStore;
use crate::store::{memory::MemoryStore, redis::RedisStore};
use crate::types::Clock;

/// An endpoint with its provider engine.
pub struct EndpointRt {
    /// The validated endpoint.
    pub endpoint: Endpoint,
    /// Its provider.
    pub provider: Provider,
    /// Where its logins return (`…/oauth2/callback`).
    pub redirect_uri: Url,
}

/// Everything derived from one configuration (swapped as a whole on reload).
pub struct Runtime {
    /// The configuration.
    pub config: Config,
    /// Endpoints by authority.
    pub endpoints: HashMap<String, Arc<EndpointRt>>,
    /// Authority of the central callback origin.
    pub callback_authority: Option<String>,
}

/// State shared by every request.
pub struct Shared {
    runtime: RwLock<Arc<Runtime>>,
    /// Sessions, logins in flight, App Users.
    pub store: Arc<dyn SessionStore>,
    /// Upstream HTTP client (connection-pooled).
    pub upstream: Client<HttpConnector, Body>,
    /// The gateway's clock.
    pub clock: Clock,
    /// Events.
    pub events: EventSink,
    /// Open WebSocket (and other upgraded) tunnels, by session.
    pub tunnels: Arc<crate::tunnels::Tunnels>,
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Shared {
    /// The configuration in force.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.runtime.read().unwrap().clone()
    }

    /// Ends a session: deletes it and closes the tunnels it opened.
    pub async fn end_session(&self, id: &str) -> Result<(), crate::session::StoreError> {
        self.tunnels.close_session(id);
        self.store.delete_session(id).await
    }

    /// Ends every session of a user (revocation); returns how many there were.
    pub async fn end_user_sessions(&self, user_key: &str) -> Result<usize, crate::session::StoreError> {
        self.tunnels.close_user(user_key);
        self.store.delete_user_sessions(user_key).await
    }

    /// A lock per key (single-flight auth checks of one session).
    pub fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap();
        if let Some(l) = locks.get(key).and_then(Weak::upgrade) {
            return l;
        }
        if locks.len() > 10_000 {
            locks.retain(|_, w| w.strong_count() > 0);
        }
        let l = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.to_owned(), Arc::downgrade(&l));
        l
    }
}

fn authority_of(u: &Url) -> String {
    format!(
        "{}:{}",
        u.host_str().unwrap_or_default().to_ascii_lowercase(),
        u.port_or_known_default().unwrap_or(80)
    )
}

fn build_runtime(config: Config, clock: &Clock) -> Runtime {
    // The IdP client follows the configuration (timeout, extra CAs), so a reload applies them.
    let http = &crate::providers::token::http_client(config.idp_timeout, &config.idp_ca);
    let mut endpoints = HashMap::new();
    for e in &config.endpoints {
        let redirect_uri = config
            .callback_url
            .clone()
            .unwrap_or_else(|| e.origin.join("/oauth2/callback").expect("origin joins a path"));
        let mut provider = Provider::new(
            &e.oauth,
            redirect_uri.clone(),
            http.clone(),
            clock.clone(),
            config.allow_insecure_idp_http,
        );
        if config
            .test_faults
            .has(crate::faults::Fault::ExpiryLeewayInWrongUnit)
        {
            provider.misread_expiry_leeway();
        }
        endpoints.insert(
            e.authority.clone(),
            Arc::new(EndpointRt {
                endpoint: e.clone(),
                provider,
                redirect_uri,
            }),
        );
    }
    let callback_authority = config.callback_url.as_ref().map(authority_of);
    Runtime {
        config,
        endpoints,
        callback_authority,
    }
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// Redis is unreachable.
    #[error("session store: {0}")]
    Store(String),
    /// The events file cannot be opened.
    #[error("events file: {0}")]
    Events(std::io::Error),
}

/// A running gateway.
pub struct RunningGateway {
    shared: Arc<Shared>,
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningGateway {
    /// The proxy listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The admin listener's address.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }
    /// The gateway's clock (tests advance it).
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }
    /// Subscribes to request events.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }
    /// The session store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.shared.store
    }
    /// Replaces the configuration (SIGHUP): existing sessions are re-evaluated on their next
    /// request. The listeners, session store and events output stay as they are; the
    /// settings among those that differ in `config` are returned (they need a restart).
    pub fn reload(&self, config: Config) -> Vec<&'static str> {
        let mut kept = Vec::new();
        {
            let old = &self.shared.runtime().config;
            if old.listen != config.listen {
                kept.push("listen");
            }
            if old.store != config.store {
                kept.push("session_store");
            }
            if old.events != config.events {
                kept.push("events");
            }
            if old.admin.as_ref().map(|a| a.listen) != config.admin.as_ref().map(|a| a.listen) {
                kept.push("admin.listen");
            }
            if old.limits.max_connections != config.limits.max_connections {
                kept.push("limits.max_connections");
            }
        }
        let rt = build_runtime(config, &self.shared.clock);
        *self.shared.runtime.write().unwrap() = Arc::new(rt);
        tracing::info!("configuration reloaded");
        kept
    }
    /// Stops accepting, lets in-flight requests finish (up to 5 s), and returns.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Starts a gateway: binds its listeners, connects its store, serves until shut down.
pub async fn start(config: Config) -> Result<RunningGateway, StartError> {
    start_inner(config, None).await
}

/// Like [`start`], on a listener the caller already bound (a test harness that must know the
/// port before the gateway starts, without racing other processes for it). `config.listen`
/// is ignored.
pub async fn start_on(config: Config, listener: std::net::TcpListener) -> Result<RunningGateway, StartError> {
    start_inner(config, Some(listener)).await
}

async fn start_inner(
    config: Config,
    bound: Option<std::net::TcpListener>,
) -> Result<RunningGateway, StartError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let store: Arc<dyn SessionStore> = match &config.store {
        StoreConfig::Memory => Arc::new(MemoryStore::new()),
        StoreConfig::Redis(url) => {
            let r = RedisStore::new(url).map_err(|e| StartError::Store(e.to_string()))?;
            r.ping().await.map_err(|e| {
                StartError::Store(format!(
                    "{} (is redis-server running at {}?)",
                    crate::types::redact_password(&e.to_string(), url),
                    crate::types::redact_url(url)
                ))
            })?;
            Arc::new(r)
        }
    };
    let events = EventSink::new(&config.events).map_err(StartError::Events)?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    let upstream = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector);
    let clock = Clock::default();
    let listener = match bound {
        Some(l) => l
            .set_nonblocking(true)
            .and_then(|()| TcpListener::from_std(l))
            .map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?,
        None => TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?,
    };
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let admin = match &config.admin {
        Some(a) => {
            let l = TcpListener::bind(a.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: a.listen,
                    source,
                })?;
            Some(l)
        }
        None => None,
    };
    let admin_addr = admin.as_ref().and_then(|l| l.local_addr().ok());
    let runtime = build_runtime(config, &clock);
    let shared = Arc::new(Shared {
        runtime: RwLock::new(Arc::new(runtime)),
        store,
        upstream,
        clock,
        events,
        tunnels: Default::default(),
        locks: Mutex::new(HashMap::new()),
    });
    let cancel = CancellationToken::new();
    let mut tasks = vec![tokio::spawn(serve(listener, shared.clone(), cancel.clone()))];
    if let Some(l) = admin {
        let router = crate::admin::router(shared.clone());
        let c = cancel.clone();
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(l, router)
                .with_graceful_shutdown(async move { c.cancelled().await })
                .await;
        }));
    }
    Ok(RunningGateway {
        shared,
        addr,
        admin_addr,
        cancel,
        tasks,
    })
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, cancel: CancellationToken) {
    // The cap is fixed at start (a reload keeps it); the timeouts apply to new connections.
    let slots = Arc::new(Semaphore::new(shared.runtime().config.limits.max_connections));
    let connections = TaskTracker::new();
    let mut last_full_warning: Option<std::time::Instant> = None;
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            _ = cancel.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = cancel.cancelled() => break,
        };
        if slots.available_permits() == 0
            && last_full_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(60))
        {
            last_full_warning = Some(std::time::Instant::now());
            tracing::warn!(
                "{} client connections are open (limits.max_connections): new ones wait until one closes",
                shared.runtime().config.limits.max_connections
            );
        }
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            stream,
            peer,
            shared.clone(),
            cancel.clone(),
            slot,
        ));
    }
    drop(listener);
    connections.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), connections.wait()).await;
}

/// When a connection last started or finished a request, and how many it has in progress: a
/// connection with none for `limits.idle_timeout` is closed.
#[derive(Default)]
struct Activity {
    in_progress: std::sync::atomic::AtomicUsize,
    last: Mutex<Option<tokio::time::Instant>>,
    /// Wakes the connection's watchdog when a request starts or ends.
    changed: tokio::sync::Notify,
}

impl Activity {
    fn touch(&self) {
        *self.last.lock().unwrap() = Some(tokio::time::Instant::now());
        self.changed.notify_one();
    }
    fn begin(self: &Arc<Self>) -> InProgress {
        self.in_progress.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.touch();
        InProgress(self.clone())
    }
    /// When the connection is to be closed if nothing happens meanwhile: `first` after it
    /// opened while no request has started on it yet (a client that sends nothing, or trickles
    /// the bytes that tell HTTP/1.1 from HTTP/2, never reaches hyper's header timer), `idle`
    /// after its last request otherwise; `None` while a request is in progress.
    fn deadline(
        &self,
        opened: tokio::time::Instant,
        first: Duration,
        idle: Duration,
    ) -> Option<tokio::time::Instant> {
        if self.in_progress.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            return None;
        }
        Some(match *self.last.lock().unwrap() {
            None => opened + first,
            Some(last) => last + idle,
        })
    }
}

struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0
            .in_progress
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        self.0.touch();
    }
}

/// Serves one client connection (HTTP/1.1 or HTTP/2, with upgrades) under the limits: the
/// first request must start within `header_read_timeout` of the connection opening, every
/// later HTTP/1.1 request head must arrive within it (hyper's timer, which also runs while the
/// connection waits for its next request), and a connection with no request for
/// `idle_timeout` is closed gracefully. `slot` is its place under `max_connections`.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    slot: OwnedSemaphorePermit,
) {
    let rt = shared.runtime();
    let limits = rt.config.limits;
    let unlimited = rt
        .config
        .test_faults
        .has(crate::faults::Fault::NoSlowClientLimits);
    drop(rt);
    let activity = Arc::new(Activity::default());
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let shared = shared.clone();
            let in_progress = activity.begin();
            async move {
                let resp = dispatch(shared, req, peer.ip()).await;
                drop(in_progress);
                Ok::<_, std::convert::Infallible>(resp)
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
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let opened = tokio::time::Instant::now();
    let mut closing = false;
    loop {
        let idle_at = if closing || unlimited {
            None
        } else {
            activity.deadline(opened, limits.header_read_timeout, limits.idle_timeout)
        };
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = cancel.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = tokio::time::sleep_until(idle_at.unwrap_or(opened)), if idle_at.is_some() => {
                if activity
                    .deadline(opened, limits.header_read_timeout, limits.idle_timeout)
                    .is_some_and(|at| at <= tokio::time::Instant::now())
                {
                    tracing::debug!(%peer, "closing a connection without a request in time");
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            // A request started or finished: compute the deadline again.
            _ = activity.changed.notified(), if !closing && !unlimited => {}
        }
    }
    drop(slot);
}

/// The request's `host:port` candidates, or why it has none. A Host without a port matches an endpoint on the
/// scheme's default port: the gateway may sit behind a TLS terminator, so both `:80` and
/// `:443` are candidates (in that order).
fn request_authority(req: &Request<Incoming>, repeated_ok: bool) -> Result<Vec<String>, &'static str> {
    // RFC 9112 §3.2: a request with more than one Host field line is answered 400.
    if req.headers().get_all(header::HOST).iter().count() > 1 && !repeated_ok {
        return Err("the request has more than one Host header");
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let target = req.uri().authority().map(|a| a.as_str().to_owned());
    let raw = match (target, host) {
        (Some(t), Some(h)) if !t.eq_ignore_ascii_case(&h) => {
            return Err("the request target and Host name different sites");
        }
        (Some(t), _) => t,
        (None, Some(h)) => h,
        (None, None) => return Err("the request has no Host"),
    };
    let raw = raw.to_ascii_lowercase();
    if raw.contains('@') || raw.is_empty() {
        return Err("the Host is malformed");
    }
    Ok(
        if raw
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            && !raw.ends_with(']')
        {
            vec![raw]
        } else {
            vec![format!("{raw}:80"), format!("{raw}:443")]
        },
    )
}

async fn dispatch(shared: Arc<Shared>, req: Request<Incoming>, peer: IpAddr) -> Response<Body> {
    let rt = shared.runtime();
    let repeated_ok = rt
        .config
        .test_faults
        .has(crate::faults::Fault::AcceptRepeatedHost);
    let candidates = match request_authority(&req, repeated_ok) {
        Ok(a) => a,
        Err(why) => return bad_host(StatusCode::BAD_REQUEST, why),
    };
    for authority in &candidates {
        if let Some(ep) = rt.endpoints.get(authority).cloned() {
            return crate::gate::handle(shared, rt, ep, req, peer).await;
        }
    }
    if candidates
        .iter()
        .any(|a| rt.callback_authority.as_deref() == Some(a.as_str()))
    {
        return crate::login::central_callback(shared, rt, req).await;
    }
    bad_host(StatusCode::NOT_FOUND, "no endpoint is configured for this host")
}

fn bad_host(status: StatusCode, why: &str) -> Response<Body> {
    pages::error(&ErrorPage {
        status,
        title: "Unknown site",
        message: why,
        idp_error: None,
        retry: None,
        code: "unknown_host",
    })
}
