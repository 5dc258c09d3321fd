//! [`Shared`]: one IdP instance as every handler and every API handle sees it.
//!
//! Identity (issuer, instance id, origin), the personality, settings, clock, keys, the
//! [`Store`], the script, expectations and the request log. Locks are `std::sync` and never
//! held across an `.await`. The operations on it that both the Rust and the HTTP API offer
//! live in `ops.rs`; the builders a test holds (`builders.rs`) sit above both.

use std::sync::{Arc, Mutex, RwLock};

use tokio_util::sync::CancellationToken;

use crate::clients::Lifetimes;
use crate::clock::Clock;
use crate::expect::Expectation;
use crate::keys::{KeySet, SigningAlg};
use crate::log::RequestLog;
use crate::personality::Hooks;
use crate::script::Script;
use crate::settings::Settings;
use crate::store::Store;
use crate::types::ClientId;

/// Everything one IdP instance shares between handlers and API handles.
pub struct Shared {
    /// Random id of this instance (cookie names: instances on one host must not collide).
    pub instance: String,
    /// Issuer identifier (`http://127.0.0.1:PORT`).
    pub issuer: String,
    /// Origin the endpoints are served at.
    pub base: String,
    /// Whether the IdP serves https.
    pub tls: bool,
    /// The provider it plays.
    pub personality: Box<dyn Hooks>,
    /// Changeable settings.
    pub settings: RwLock<Settings>,
    /// The IdP's clock.
    pub clock: Clock,
    /// Signing keys.
    pub keys: RwLock<KeySet>,
    /// Users, clients, grants, tokens, sessions.
    pub store: Mutex<Store>,
    /// Scripted outcomes.
    pub script: Mutex<Script>,
    /// Expectations, verified on drop.
    pub expectations: Mutex<Vec<Expectation>>,
    /// Request log.
    pub log: Arc<Mutex<RequestLog>>,
    /// Cancelled when the IdP shuts down (releases stalled requests).
    pub shutdown: CancellationToken,
    /// The client created when none was configured.
    pub default_client: ClientId,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("issuer", &self.issuer)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

/// What a new instance is made of; its clock, script, expectations and log start empty.
pub struct Parts {
    /// Random id of this instance.
    pub instance: String,
    /// Issuer identifier.
    pub issuer: String,
    /// Origin the endpoints are served at.
    pub base: String,
    /// Whether the IdP serves https.
    pub tls: bool,
    /// The provider it plays.
    pub personality: Box<dyn Hooks>,
    /// Initial settings.
    pub settings: Settings,
    /// Signing keys.
    pub keys: KeySet,
    /// Users and clients (and nothing issued yet).
    pub store: Store,
    /// The client created when none was configured.
    pub default_client: ClientId,
}

impl Shared {
    /// A fresh instance: real-time clock, empty script, expectations and log.
    pub fn new(parts: Parts) -> Arc<Shared> {
        Arc::new(Shared {
            instance: parts.instance,
            issuer: parts.issuer,
            base: parts.base,
            tls: parts.tls,
            personality: parts.personality,
            settings: RwLock::new(parts.settings),
            clock: Clock::new(),
            keys: RwLock::new(parts.keys),
            store: Mutex::new(parts.store),
            script: Mutex::new(Script::default()),
            expectations: Mutex::new(Vec::new()),
            log: Arc::new(Mutex::new(RequestLog::default())),
            shutdown: CancellationToken::new(),
            default_client: parts.default_client,
        })
    }

    /// Snapshot of the settings.
    pub fn settings(&self) -> Settings {
        self.settings.read().unwrap().clone()
    }
    /// Lifetimes now in force.
    pub fn lifetimes(&self) -> Lifetimes {
        self.settings.read().unwrap().lifetimes.clone()
    }
    /// The IdP session cookie name.
    pub fn session_cookie_name(&self) -> String {
        format!("mockidp_{}", self.instance)
    }
    /// Full URL of a path on this IdP.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    /// The ID-token algorithm of the active key.
    pub fn active_alg(&self) -> SigningAlg {
        self.keys.read().unwrap().active().alg()
    }
}
