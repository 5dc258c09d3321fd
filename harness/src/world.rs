//! The cucumber `World`: everything one scenario owns — the mock IdP (in-process), the gateway
//! under test (through the selected profile), the recording upstream, one browser per person,
//! the hops of the last navigation, and the events seen so far. Scenarios are isolated (own
//! ports, own IdP, own gateway) and run concurrently.
//!
//! `Given` steps describe the IdP and the gateway; the environment starts lazily at the first
//! step that needs it ([`GateWorld::env`]), so a gateway setting after that point is a
//! scenario-writing mistake and fails with a message saying so.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mock_idp::{MockIdp, User};
use serde_json::Value;

use crate::agent::{Hop, UserAgent};
use crate::launch::{Launched, Setting};
use crate::profile::{Profile, UserIdClaim};
use crate::provider::{Flavour, Provider};
use crate::spec::GatewaySpec;
use crate::upstream::RecordingUpstream;

/// What every scenario of one run shares: the profile, the report folder, and the
/// chromedriver (started by the first browser scenario).
pub struct RunContext {
    /// The profile of the gateway under test.
    pub profile: Arc<Profile>,
    /// Where failure evidence (screenshots, page HTML) goes.
    pub report_dir: Option<std::path::PathBuf>,
    /// The run's chromedriver, or why it could not start.
    pub driver: tokio::sync::OnceCell<Result<crate::browser::Chromedriver, String>>,
    /// What scenarios noticed without failing (see [`GateWorld::observe`]).
    pub observations: Observations,
}

/// Observations by scenario (feature name, line): a mechanism the gateway chose where a spec
/// allows two ways (PKCE instead of `state`, TLS instead of a signature check). They are
/// findings for the report, never failures.
#[derive(Clone, Default)]
pub struct Observations(Arc<std::sync::Mutex<BTreeMap<ScenarioKey, Vec<String>>>>);

/// A scenario's feature name and line.
pub type ScenarioKey = (String, usize);

impl Observations {
    /// Notes `text` for the scenario at `key` (once).
    pub fn add(&self, key: ScenarioKey, text: String) {
        let mut m = self.0.lock().unwrap();
        let list = m.entry(key).or_default();
        if !list.contains(&text) {
            list.push(text);
        }
    }

    /// Takes the observations of the scenario at `key`.
    pub fn take(&self, key: &ScenarioKey) -> Vec<String> {
        self.0.lock().unwrap().remove(key).unwrap_or_default()
    }
}

impl RunContext {
    /// A context for a run against `profile`.
    pub fn new(profile: Arc<Profile>, report_dir: Option<std::path::PathBuf>) -> Arc<RunContext> {
        Arc::new(RunContext {
            profile,
            report_dir,
            driver: tokio::sync::OnceCell::new(),
            observations: Observations::default(),
        })
    }
}

tokio::task_local! {
    /// The run in progress (each run scopes its own, so runs in one process do not see
    /// each other's).
    static CONTEXT: Arc<RunContext>;
}

/// Runs `fut` (a cucumber run) within `ctx`.
pub async fn within<F: std::future::Future>(ctx: Arc<RunContext>, fut: F) -> F::Output {
    CONTEXT.scope(ctx, fut).await
}

fn current_context() -> Arc<RunContext> {
    CONTEXT
        .try_with(Arc::clone)
        .unwrap_or_else(|_| RunContext::new(Arc::new(Profile::reference()), None))
}

/// A person in the scenario: their IdP user and their browser.
pub struct Person {
    /// Their browser.
    pub ua: UserAgent,
    /// The hops of their last navigation.
    pub hops: Vec<Hop>,
}

/// The running environment of a scenario.
pub struct Env {
    /// The mock IdP.
    pub idp: MockIdp,
    /// The application behind the gateway.
    pub upstream: RecordingUpstream,
    /// The gateway under test.
    pub gateway: Launched,
    /// The public port (`app.localhost:PORT`).
    pub port: u16,
    /// Redis, when the scenario needs it.
    pub redis: Option<crate::redis::RedisServer>,
    /// The CA the gateway was told to trust for the IdP (see [`Setting::idp_ca_pem`]).
    pub idp_ca_pem: Option<String>,
}

/// One scenario's world.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct GateWorld {
    /// The profile of the gateway under test.
    pub profile: Arc<Profile>,
    /// The run this scenario belongs to.
    pub ctx: Arc<RunContext>,
    /// The scenario's name (for evidence files).
    pub scenario: String,
    /// The scenario's feature name and line (the key of its result).
    pub scenario_key: ScenarioKey,
    /// Whether the scenario drives a real browser (`@browser`): the IdP then shows its
    /// login page.
    pub uses_browser: bool,
    /// The scenario's browser session, once opened.
    pub browser: Option<crate::browser::Browser>,
    /// Browser tabs (window handles) by name.
    pub tabs: BTreeMap<String, fantoccini::wd::WindowHandle>,
    /// What the scenario asks of the gateway.
    pub spec: GatewaySpec,
    /// The mock IdP's flavour.
    pub flavour: Flavour,
    /// The mock IdP's signing algorithm (its default, RS256, when `None`).
    pub signing_alg: Option<mock_idp::SigningAlg>,
    /// Whether the mock IdP's discovery promises RFC 9207 `iss` in callbacks.
    pub advertise_iss: bool,
    /// Users the IdP knows, by first name.
    pub users: BTreeMap<String, User>,
    /// The environment, once started.
    pub env: Option<Env>,
    /// People and their browsers.
    pub people: BTreeMap<String, Person>,
    /// Events seen so far (the gateway's stream, drained).
    pub events: Vec<Value>,
    /// A mock-side fault to apply after start (`mock_idp` scripting needs the IdP).
    pub idp_tls: bool,
    /// The gateway is told to trust an unrelated CA instead of the IdP's (it must then
    /// refuse to talk to the IdP).
    pub idp_ca_unrelated: bool,
    /// Scratch directory.
    pub work_dir: tempfile::TempDir,
    /// The provider user ids of people (resolved at start).
    pub user_ids: BTreeMap<String, String>,
    /// How the application behind the gateway reads requests.
    pub upstream_reading: crate::upstream::Reading,
    /// How many requests the application had received before the last raw request.
    pub upstream_mark: usize,
    /// Connection-level probes in progress (slow clients, held tunnels, leaked codes).
    pub probes: Probes,
}

/// What the connection-level attack steps keep between steps.
#[derive(Default)]
pub struct Probes {
    /// Slow clients holding connections.
    pub slow_clients: Option<crate::raw::SlowClients>,
    /// Upgraded connections held open, by person.
    pub tunnels: BTreeMap<String, crate::raw::Tunnel>,
    /// A victim's callback (with its authorization code) that leaked before they used it,
    /// with the victim's name.
    pub leaked_callback: Option<(String, url::Url)>,
    /// The pages people opened taking turns: who, the path asked for, the answer.
    pub turns: Vec<(String, String, Hop)>,
    /// The state-confusion attempts made.
    pub state_attempts: Vec<StateAttempt>,
    /// What the last raw request got (an answer, or a closed connection).
    pub raw_outcome: Option<crate::raw::RawOutcome>,
    /// Session cookie values people kept a copy of, by person.
    pub kept_cookies: BTreeMap<String, String>,
    /// A session cookie value planted in someone's browser (forged or another's).
    pub planted_cookie: Option<String>,
    /// The open-redirect corpus passes so far: what left the origin, how many were sent.
    pub corpus: CorpusTally,
    /// Every login request the gateway redirected a browser to (the IdP's authorize URL with
    /// its parameters), in order — whether or not the browser went on to the IdP.
    pub login_redirects: Vec<url::Url>,
}

/// The open-redirect corpus passes of a scenario.
#[derive(Debug, Default)]
pub struct CorpusTally {
    /// Each payload that left the gateway's origin or failed, with the hops.
    pub failures: Vec<String>,
    /// Requests sent.
    pub sent: usize,
}

/// One attempt to get a leaked code redeemed through a state that is not a login in flight.
#[derive(Clone, Debug)]
pub struct StateAttempt {
    /// The corpus line (`done:{finished}`).
    pub template: String,
    /// Token requests the IdP received during the attempt.
    pub token_requests: usize,
    /// Whether the application received a request as the victim during the attempt.
    pub reached_app_as_victim: bool,
    /// The hops.
    pub hops: Vec<Hop>,
}

impl std::fmt::Debug for GateWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateWorld")
            .field("profile", &self.profile.name)
            .field("spec", &self.spec)
            .field("started", &self.env.is_some())
            .field("people", &self.people.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn oid_for(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

impl GateWorld {
    fn new() -> GateWorld {
        let ctx = current_context();
        let default_provider = ctx.profile.default_provider;
        let idp_https = ctx.profile.idp_https;
        let mut w = GateWorld {
            profile: ctx.profile.clone(),
            ctx,
            scenario: String::new(),
            scenario_key: (String::new(), 0),
            uses_browser: false,
            browser: None,
            tabs: BTreeMap::new(),
            spec: GatewaySpec::new(default_provider),
            flavour: Flavour::Standard,
            signing_alg: None,
            advertise_iss: false,
            users: BTreeMap::new(),
            env: None,
            people: BTreeMap::new(),
            events: Vec::new(),
            idp_tls: idp_https,
            idp_ca_unrelated: false,
            work_dir: tempfile::Builder::new()
                .prefix("gatecheck-")
                .tempdir()
                .expect("a temporary directory"),
            user_ids: BTreeMap::new(),
            upstream_reading: Default::default(),
            upstream_mark: 0,
            probes: Probes::default(),
        };
        w.add_user(
            User::new("alice")
                .name("Alice Example")
                .email("alice@example.com"),
        );
        w
    }

    /// Notes something the gateway does that is worth knowing but not a failure (a
    /// mechanism a spec allows instead of the one the suite prefers). It appears next to the
    /// scenario's result in the report.
    pub fn observe(&self, text: impl Into<String>) {
        self.ctx.observations.add(self.scenario_key.clone(), text.into());
    }

    /// Adds (or replaces) an IdP user, giving them a stable Microsoft object id.
    pub fn add_user(&mut self, user: User) {
        let n = self.users.len() + 1;
        let id = user.id.to_string();
        let user = user.provider_attr("microsoft", "oid", oid_for(n));
        self.users.insert(id, user);
    }

    /// Panics when the environment already started (a `Given` about the gateway came after
    /// a step that needed it).
    pub fn configuring(&mut self) -> &mut GatewaySpec {
        assert!(
            self.env.is_none(),
            "the gateway is already running: put gateway and identity-provider settings before the first step that uses them"
        );
        &mut self.spec
    }

    /// The environment, started on first use.
    pub async fn env(&mut self) -> &mut Env {
        if self.env.is_none() {
            let env = self.start().await;
            self.env = Some(env);
        }
        self.env.as_mut().expect("started")
    }

    /// The running environment (after a step started it).
    pub fn started(&self) -> &Env {
        self.env
            .as_ref()
            .expect("the scenario has not started the gateway yet")
    }

    async fn start(&mut self) -> Env {
        let profile = self.profile.clone();
        let spec = self.spec.clone();
        assert!(
            profile.providers.contains(&spec.provider),
            "profile {} does not support provider {}",
            profile.name,
            spec.provider
        );
        let redis = if spec.redis || spec.replicas > 1 {
            let bin = crate::system::find("redis-server").expect(
                "redis-server is needed by this scenario (apt-get install redis-server); scenarios tagged @redis-replicas are skipped when it is missing",
            );
            Some(crate::redis::RedisServer::start(&bin).expect("redis-server starts"))
        } else {
            None
        };
        // In-process (and behind a balancer) the public port stays bound from here on. A
        // gateway process must bind it itself: it gets a port outside the ephemeral range, so
        // no other scenario's bind(0) can take it in the meantime.
        let (front, port) = if profile.launch == crate::profile::Launch::Command && spec.replicas <= 1 {
            (None, crate::ports::private_port())
        } else {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            let port = l.local_addr().expect("bound").port();
            (Some(l), port)
        };
        let callback = crate::launch::callback_url(&profile, &spec, port);
        let mut b = spec
            .provider
            .personality(MockIdp::builder(), self.flavour)
            .redirect_uri(&callback)
            .post_logout_redirect_uri(format!("{}/", crate::launch::origin(port)))
            .share_process_keys()
            .no_verify_on_drop();
        for u in self.users.values() {
            b = b.user(u.clone());
        }
        if self.idp_tls {
            b = b.tls();
        }
        if let Some(alg) = self.signing_alg {
            b = b.signing_alg(alg);
        }
        if self.advertise_iss {
            b = b.advertise_iss_parameter(true);
        }
        if self.uses_browser {
            b = b.login_page();
        }
        let idp = b.start().await;
        let claim = profile.user_id.get(&spec.provider).copied().unwrap_or_default();
        for (name, user) in &self.users {
            let oid = || {
                user.attr("microsoft", "oid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let id = match claim {
                UserIdClaim::Default if spec.provider == Provider::Microsoft => oid(),
                UserIdClaim::Oid => oid(),
                UserIdClaim::Default | UserIdClaim::Sub => idp.provider_user_id(name).unwrap_or_default(),
                UserIdClaim::Email => user.email.clone().unwrap_or_default(),
                UserIdClaim::Username => user.username.clone().unwrap_or_else(|| name.clone()),
            };
            self.user_ids.insert(name.clone(), id);
        }
        let upstream = RecordingUpstream::start_reading(self.upstream_reading).await;
        let idp_ca_pem = if self.idp_ca_unrelated {
            Some(mock_idp::tls::generate_ca().expect("a fresh CA").0)
        } else {
            idp.ca_pem().map(str::to_owned)
        };
        let setting = Setting {
            idp: &idp,
            upstream_url: upstream.url(),
            port,
            front,
            work_dir: self.work_dir.path(),
            redis_url: redis.as_ref().map(crate::redis::RedisServer::url),
            idp_ca_pem: idp_ca_pem.clone(),
        };
        let gateway = Launched::start(&profile, &spec, setting)
            .await
            .unwrap_or_else(|e| panic!("the gateway under test did not start: {e}"));
        Env {
            idp,
            upstream,
            gateway,
            port,
            redis,
            idp_ca_pem,
        }
    }

    /// The scenario's browser (a session is opened on first use).
    pub async fn browser(&mut self) -> &crate::browser::Browser {
        if self.browser.is_none() {
            let driver = self
                .ctx
                .driver
                .get_or_init(|| async { crate::browser::Chromedriver::start().await })
                .await;
            let driver = driver.as_ref().unwrap_or_else(|e| panic!("{e}"));
            let b = driver.session().await.unwrap_or_else(|e| panic!("{e}"));
            self.browser = Some(b);
        }
        self.browser.as_ref().expect("opened")
    }

    /// Called after the scenario: on failure, saves a screenshot and the page HTML of the
    /// browser (if any) to the report folder; then closes the browser and stops everything.
    pub async fn finish(&mut self, failed: bool) {
        if failed
            && let Some(dir) = self.ctx.report_dir.clone()
            && let Some(env) = &self.env
        {
            // What the IdP, the gateway and the application saw, for whoever debugs this.
            let dir = dir.join("failures");
            let slug = crate::report::slug(&self.scenario);
            let events: Vec<Value> = {
                let fresh = env.gateway.events();
                self.events.iter().cloned().chain(fresh).collect()
            };
            let trace = serde_json::json!({
                "scenario": self.scenario,
                "profile": self.profile.name,
                "spec": self.spec,
                "idp_requests": env.idp.requests(),
                "gateway_events": events,
                "upstream_requests": env.upstream.seen(),
            });
            if std::fs::create_dir_all(&dir).is_ok() {
                let _ = std::fs::write(
                    dir.join(format!("{slug}.trace.json")),
                    serde_json::to_string_pretty(&trace).unwrap_or_default(),
                );
                // The gateway's own logs (a command profile's stderr, an Apache error log).
                if let Ok(entries) = std::fs::read_dir(self.work_dir.path()) {
                    for e in entries.flatten() {
                        let p = e.path();
                        if p.extension().is_some_and(|x| x == "log") {
                            let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
                            let _ = std::fs::copy(&p, dir.join(format!("{slug}.{name}")));
                        }
                    }
                }
            }
        }
        if let Some(b) = self.browser.take() {
            if failed && let Some(dir) = self.ctx.report_dir.clone() {
                let (png, html) = b.evidence().await;
                let dir = dir.join("failures");
                let slug = crate::report::slug(&self.scenario);
                if std::fs::create_dir_all(&dir).is_ok() {
                    if let Some(png) = png {
                        let _ = std::fs::write(dir.join(format!("{slug}.png")), png);
                    }
                    let _ = std::fs::write(dir.join(format!("{slug}.html")), html);
                }
            }
            b.close().await;
        }
        // The gateway, IdP and upstream stop when dropped.
        self.env = None;
    }

    /// Re-applies the (changed) spec to the running gateway.
    pub async fn reload(&mut self) {
        let profile = self.profile.clone();
        let spec = self.spec.clone();
        let work_dir = self.work_dir.path().to_path_buf();
        let env = self.env.as_ref().expect("started");
        let setting = Setting {
            idp: &env.idp,
            upstream_url: env.upstream.url(),
            port: env.port,
            front: None,
            work_dir: &work_dir,
            redis_url: env.redis.as_ref().map(crate::redis::RedisServer::url),
            idp_ca_pem: env.idp_ca_pem.clone(),
        };
        env.gateway
            .reload(&spec, &profile, setting)
            .await
            .unwrap_or_else(|e| panic!("reloading the gateway: {e}"));
    }

    /// A person's browser (created on first mention; one hop at a time; new connection per
    /// request when replicas sit behind a balancer).
    pub fn person(&mut self, name: &str) -> &mut Person {
        let replicas = self.spec.replicas > 1;
        let ca = self.env.as_ref().and_then(|e| e.idp.ca_pem().map(str::to_owned));
        self.people.entry(name.to_owned()).or_insert_with(|| Person {
            ua: match (replicas, ca) {
                (true, _) => UserAgent::without_keep_alive(),
                (false, Some(pem)) => UserAgent::trusting(&pem),
                (false, None) => UserAgent::new(),
            },
            hops: Vec::new(),
        })
    }

    /// Notes the login requests among `hops` (redirects to the IdP's authorization endpoint).
    pub fn note_login_redirects(&mut self, hops: &[Hop]) {
        let Some(env) = &self.env else { return };
        let Some(authorize) = env.idp.endpoint_url(mock_idp::Endpoint::Authorize) else {
            return;
        };
        for h in hops {
            if let Some(l) = &h.location
                && l.as_str().split('?').next() == Some(authorize.as_str())
            {
                self.probes.login_redirects.push(l.clone());
            }
        }
    }

    /// The gateway's callback path for the scenario's provider.
    pub fn callback_path(&self) -> String {
        self.profile
            .callback_path_for(self.spec.provider)
            .unwrap_or_else(|e| panic!("profile {}: {e}", self.profile.name))
    }

    /// `http://app.localhost:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", crate::launch::origin(self.started().port))
    }

    /// Drains the gateway's new events into [`GateWorld::events`].
    pub fn drain_events(&mut self) -> &[Value] {
        if let Some(env) = &self.env {
            let fresh = env.gateway.events();
            self.events.extend(fresh);
        }
        &self.events
    }

    /// Moves the IdP's and the gateway's clocks.
    pub async fn advance(&mut self, by: Duration) {
        let env = self.env().await;
        env.idp.clock().advance(by);
        env.gateway
            .advance_clock(by)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// The identity header names of the profile.
    pub fn header_names(&self) -> &crate::profile::Headers {
        &self.profile.headers
    }

    /// The provider user id of a person (as the gateway should report it).
    pub fn user_id(&self, name: &str) -> String {
        self.user_ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is not a user of the identity provider"))
    }
}
