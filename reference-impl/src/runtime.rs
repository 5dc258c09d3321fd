//! The gateway's state: [`Runtime`] (everything derived from one configuration, swapped as
//! a whole on reload) and [`Shared`] (what every request reaches: the runtime in force, the
//! session store, the upstream client, the clock, events, open tunnels, a lock per session).
//!
//! Below the request pipeline and above the providers and the store: `gate`, `login`,
//! `continuous`, `proxy` and `admin` take a [`Shared`]; nothing here calls them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

use axum::body::Body;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{Config, Endpoint};
use crate::events::EventSink;
use crate::providers::Provider;
use crate::session::{SessionStore, StoreError};
use crate::tunnels::Tunnels;
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
    /// Cancelled when the gateway shuts down (tunnels end with it).
    pub shutdown: CancellationToken,
    /// Sessions, logins in flight, App Users.
    pub store: Arc<dyn SessionStore>,
    /// Upstream HTTP client (connection-pooled).
    pub upstream: Client<HttpConnector, Body>,
    /// The gateway's clock.
    pub clock: Clock,
    /// Events.
    pub events: EventSink,
    /// Open WebSocket tunnels, by session.
    pub tunnels: Arc<Tunnels>,
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Shared {
    /// The state for `config`, with these parts.
    pub fn new(
        config: Config,
        store: Arc<dyn SessionStore>,
        upstream: Client<HttpConnector, Body>,
        clock: Clock,
        events: EventSink,
    ) -> Shared {
        let runtime = Runtime::new(config, &clock);
        Shared {
            runtime: RwLock::new(Arc::new(runtime)),
            shutdown: CancellationToken::new(),
            store,
            upstream,
            clock,
            events,
            tunnels: Default::default(),
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// Puts `config` in force (a reload).
    pub fn reconfigure(&self, config: Config) {
        let rt = Runtime::new(config, &self.clock);
        *self.runtime.write().unwrap() = Arc::new(rt);
    }

    /// The configuration in force.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.runtime.read().unwrap().clone()
    }

    /// Ends a session: deletes it and closes the tunnels it opened.
    pub async fn end_session(&self, id: &str) -> Result<(), StoreError> {
        self.tunnels.close_session(id);
        self.store.delete_session(id).await
    }

    /// Ends every session of a user (revocation); returns how many there were.
    pub async fn end_user_sessions(&self, user_key: &str) -> Result<usize, StoreError> {
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

impl Runtime {
    /// Builds the endpoints and their provider engines for `config`.
    pub fn new(config: Config, clock: &Clock) -> Runtime {
        // The IdP client follows the configuration (timeout, extra CAs), so a reload applies them.
        let http = &if config
            .test_faults
            .has(crate::faults::Fault::AcceptAnyIdpCertificate)
        {
            crate::providers::token::http_client_trusting_anything(config.idp_timeout)
        } else {
            crate::providers::token::http_client(config.idp_timeout, &config.idp_ca)
        };
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
            if config.test_faults.has(crate::faults::Fault::SkipSignatureCheck) {
                provider.skip_signature_check();
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
}
