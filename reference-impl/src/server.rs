//! The running gateway: shared state, the listener, routing by `Host`, reload and shutdown.
//!
//! One listener serves every endpoint; the request's authority (`Host`, or the absolute-form
//! request target, which must agree with it) picks the endpoint — an unknown host gets 404,
//! never a default upstream (security checklist 57), and two `Host` headers get 400.
//! Connections are served under `[limits]`: a request head must arrive within
//! `header_read_timeout`, a connection without requests closes after `idle_timeout`, and at
//! most `max_connections` are served at once (the rest wait in the listen backlog). The central callback origin, when
//! configured, answers only `/oauth2/callback`. The admin API listens separately.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, StoreConfig};
use crate::events::{Event, EventSink};
use crate::pages::ErrorPage;
use crate::runtime::Shared;
use crate::session::SessionStore;
use crate::store::{memory::MemoryStore, redis::RedisStore};
use crate::types::Clock;

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
        self.shared.reconfigure(config);
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
    let shared = Arc::new(Shared::new(config, store, upstream, clock, events));
    let cancel = shared.shutdown.clone();
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
        let rt = shared.runtime();
        let limits = rt.config.limits;
        let unlimited = rt
            .config
            .test_faults
            .has(crate::faults::Fault::NoSlowClientLimits);
        drop(rt);
        let shared = shared.clone();
        connections.spawn(crate::connection::serve(
            stream,
            peer,
            limits,
            unlimited,
            slot,
            cancel.clone(),
            move |req| dispatch(shared.clone(), req, peer.ip()),
        ));
    }
    drop(listener);
    connections.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), connections.wait()).await;
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
    ErrorPage::new(status, "unknown_host", "Unknown site", why).render()
}
