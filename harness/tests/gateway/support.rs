//! The test environment: a mock IdP playing a provider, a recording upstream, and a reference
//! gateway in front of it on `app.localhost` (with the central callback on `login.localhost`
//! when asked), plus a browser-like user agent.

use std::time::Duration;

use gatecheck::{Hop, RecordingUpstream, UserAgent};
use mock_idp::{MockIdp, User};
use ref_gateway::config::{AdminFile, ConfigFile, EndpointFile, OAuthFile};
use ref_gateway::events::Event;
use ref_gateway::types::Secret;
use ref_gateway::{ProviderKind, RunningGateway};

pub const ADMIN_TOKEN: &str = "an-admin-token-of-at-least-32-characters";

/// A free loopback port for something to bind later: below the ephemeral range, so no
/// client connection of a test running in parallel can take it in the meantime (a port from
/// `bind(0)` could be, and the gateway's bind then failed now and then).
pub fn free_port() -> u16 {
    gatecheck::ports::private_port()
}

/// Everything a scenario touches.
pub struct Env {
    pub idp: MockIdp,
    pub upstream: RecordingUpstream,
    pub gw: RunningGateway,
    /// Further replicas sharing the session store (with `.replicas(n)`), behind `balancer`.
    pub replicas: Vec<RunningGateway>,
    pub balancer: Option<gatecheck::balancer::Balancer>,
    pub ua: UserAgent,
    /// `http://app.localhost:PORT`
    pub origin: String,
    pub port: u16,
    events: tokio::sync::Mutex<tokio::sync::broadcast::Receiver<Event>>,
    pub config: ConfigFile,
}

/// Builds an [`Env`].
pub struct EnvBuilder {
    provider: ProviderKind,
    oauth: OAuthFile,
    central: bool,
    admin: bool,
    redis: Option<String>,
    users: Vec<User>,
    idp: Option<Box<dyn FnOnce(mock_idp::MockIdpBuilder) -> mock_idp::MockIdpBuilder>>,
    managed: bool,
    replicas: usize,
    events: Option<ref_gateway::config::EventsFile>,
    idp_tls: bool,
    limits: Option<ref_gateway::config::LimitsFile>,
    reading: gatecheck::upstream::Reading,
}

pub fn env(provider: ProviderKind) -> EnvBuilder {
    EnvBuilder {
        provider,
        oauth: OAuthFile::default(),
        central: false,
        admin: false,
        redis: None,
        users: vec![
            User::new("alice")
                .name("Alice Example")
                .email("alice@example.com"),
        ],
        idp: None,
        managed: false,
        replicas: 1,
        events: None,
        idp_tls: false,
        limits: None,
        reading: Default::default(),
    }
}

impl EnvBuilder {
    pub fn oauth(mut self, f: impl FnOnce(&mut OAuthFile)) -> Self {
        f(&mut self.oauth);
        self
    }
    pub fn central_callback(mut self) -> Self {
        self.central = true;
        self
    }
    pub fn admin(mut self) -> Self {
        self.admin = true;
        self
    }
    pub fn redis(mut self, url: &str) -> Self {
        self.redis = Some(url.to_owned());
        self
    }
    /// Runs `n` gateway replicas behind a round-robin TCP balancer on the endpoint's port; the
    /// user agent opens a connection per request, so consecutive hops alternate replicas.
    pub fn replicas(mut self, n: usize) -> Self {
        self.replicas = n;
        self
    }
    /// The mock IdP serves https with a generated CA; the gateway trusts it through
    /// `idp_ca_file` and runs without the plain-http opt-out.
    pub fn idp_tls(mut self) -> Self {
        self.idp_tls = true;
        self
    }
    /// Where the gateway writes its events (besides the in-process subscription).
    pub fn events_to(mut self, out: ref_gateway::config::EventsFile) -> Self {
        self.events = Some(out);
        self
    }
    /// The gateway's `[limits]`.
    pub fn limits(mut self, limits: ref_gateway::config::LimitsFile) -> Self {
        self.limits = Some(limits);
        self
    }
    /// How the application behind the gateway reads requests.
    pub fn upstream_reading(mut self, reading: gatecheck::upstream::Reading) -> Self {
        self.reading = reading;
        self
    }
    pub fn user(mut self, u: User) -> Self {
        self.users.push(u);
        self
    }
    pub fn managed_app(mut self) -> Self {
        self.managed = true;
        self
    }
    pub fn idp(
        mut self,
        f: impl FnOnce(mock_idp::MockIdpBuilder) -> mock_idp::MockIdpBuilder + 'static,
    ) -> Self {
        self.idp = Some(Box::new(f));
        self
    }

    pub async fn start(self) -> Env {
        // With replicas, the balancer owns the public port and each replica its own.
        let front = if self.replicas > 1 {
            Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        } else {
            None
        };
        let port = front
            .as_ref()
            .map_or_else(free_port, |l| l.local_addr().unwrap().port());
        let origin = format!("http://app.localhost:{port}");
        let callback = if self.central {
            format!("http://login.localhost:{port}/oauth2/callback")
        } else {
            format!("{origin}/oauth2/callback")
        };
        let provider = gatecheck::provider::Provider::from(self.provider);
        let mut b = provider.personality(MockIdp::builder(), gatecheck::provider::Flavour::Standard);
        b = b
            .redirect_uri(&callback)
            .post_logout_redirect_uri(format!("{origin}/"));
        for u in self.users {
            b = b.user(u);
        }
        if let Some(f) = self.idp {
            b = f(b);
        }
        if self.idp_tls {
            b = b.tls();
        }
        let idp = b.start().await;
        let upstream = RecordingUpstream::start_reading(self.reading).await;
        let mut oauth = self.oauth;
        gatecheck::launch::point_at_mock(&idp, provider, self.managed, &mut oauth);
        let mut managed_apps = std::collections::BTreeMap::new();
        if self.managed {
            managed_apps.insert(
                self.provider.as_str().to_owned(),
                ref_gateway::config::AppCredentials {
                    client_id: "mock-client".into(),
                    client_secret: Secret::new("mock-secret"),
                },
            );
        }
        let config = ConfigFile {
            listen: Some(([127, 0, 0, 1], port).into()),
            callback_url: self.central.then_some(callback),
            session_store: self
                .redis
                .map(|redis| ref_gateway::config::StoreFile::Redis { redis }),
            cookie_secure: Some(true),
            events: self.events,
            idp_timeout: Some(Duration::from_secs(3)),
            allow_insecure_idp_http: Some(!self.idp_tls),
            idp_ca_file: idp.ca_pem().map(|pem| {
                let path = std::env::temp_dir().join(format!("gatecheck-idp-ca-{port}.pem"));
                std::fs::write(&path, pem).unwrap();
                path
            }),
            admin: self.admin.then(|| AdminFile {
                listen: ([127, 0, 0, 1], 0).into(),
                token: Secret::new(ADMIN_TOKEN),
                test_clock: true,
            }),
            limits: self.limits,
            managed_apps,
            endpoints: vec![EndpointFile {
                url: origin.clone(),
                upstream: upstream.url(),
                oauth,
            }],
        };
        let mut gws = Vec::new();
        for _ in 0..self.replicas.max(1) {
            let mut replica = config.clone();
            if front.is_some() {
                replica.listen = Some(([127, 0, 0, 1], 0).into());
            }
            let valid = ref_gateway::config::validate(replica).expect("valid test config");
            gws.push(ref_gateway::start(valid).await.expect("gateway starts"));
        }
        let balancer = front
            .map(|l| gatecheck::balancer::Balancer::start(l, gws.iter().map(RunningGateway::addr).collect()));
        let gw = gws.remove(0);
        let events = tokio::sync::Mutex::new(gw.events());
        let ua = match (balancer.is_some(), idp.ca_pem()) {
            (true, _) => UserAgent::without_keep_alive(),
            (false, Some(pem)) => UserAgent::trusting(pem),
            (false, None) => UserAgent::new(),
        };
        Env {
            idp,
            upstream,
            gw,
            replicas: gws,
            balancer,
            ua,
            origin,
            port,
            events,
            config,
        }
    }
}

impl Env {
    /// A URL on the protected endpoint.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Logs in through the headless IdP from `path`; returns every hop.
    pub async fn login(&self, path: &str) -> Vec<Hop> {
        self.ua.follow(&self.url(path)).await
    }

    /// Logs in and asserts it landed on the upstream.
    pub async fn logged_in(&self, path: &str) -> Vec<Hop> {
        let hops = self.login(path).await;
        let last = hops.last().unwrap();
        assert_eq!(
            last.status,
            200,
            "login should land on the upstream: {}",
            describe(&hops)
        );
        assert_eq!(
            last.header("x-upstream"),
            Some("recording"),
            "{}",
            describe(&hops)
        );
        hops
    }

    /// Events emitted since the last call.
    pub async fn events(&self) -> Vec<Event> {
        let mut rx = self.events.lock().await;
        let mut out = Vec::new();
        while let Ok(e) = rx.try_recv() {
            out.push(e);
        }
        out
    }

    /// The last event for `path` among those emitted since the last call to
    /// [`events`](Self::events) or this.
    pub async fn event_for(&self, path: &str) -> Event {
        let events = self.events().await;
        events
            .iter()
            .rev()
            .find(|e| e.path == path)
            .cloned()
            .unwrap_or_else(|| panic!("no event for {path}: {events:#?}"))
    }

    /// Moves both clocks (IdP and gateway) forward, as a profile that follows the IdP's fake
    /// clock does.
    pub fn advance(&self, by: Duration) {
        self.idp.clock().advance(by);
        self.gw.clock().advance(by);
    }

    /// An admin API call.
    pub async fn admin(&self, method: reqwest::Method, path: &str) -> (u16, serde_json::Value) {
        let addr = self.gw.admin_addr().expect("admin listener");
        let resp = reqwest::Client::new()
            .request(method, format!("http://{addr}{path}"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// A readable trace of hops for assertion messages.
pub use gatecheck::steps::browse::describe;

/// The query parameters of a URL.
pub fn params(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}
