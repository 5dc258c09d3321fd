//! [`MockIdp`]: one running IdP on a free loopback port, and its builder.
//!
//! Each instance has its own port, keys, users, clients, clock, script and log, so tests run
//! in parallel without sharing anything. Dropping the handle stops the server, releases
//! stalled requests, and verifies the expectations (panicking with a readable report if one
//! failed, unless the test is already panicking) — the wiremock contract.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::builders::{ExpectationBuilder, ScriptBuilder};
use crate::clients::{Client, ClientError, Lifetimes};
use crate::clock::Clock;
use crate::expect::VerificationReport;
use crate::keys::{KeySet, SigningAlg, SigningKey};
use crate::lint::Finding;
use crate::log::RecordedRequest;
use crate::personality::{Hooks, Personality, Profile, ProviderId, personality_for};
use crate::settings::{Interaction, Settings};
use crate::shared::{Parts, Shared};
use crate::store::Store;
use crate::tls::{self, CaSource};
use crate::types::{ClientId, Endpoint, GrantType, Secret, UserId, random_token};
use crate::users::{User, UserPatch};

/// The id of the client created when none is configured.
pub const DEFAULT_CLIENT_ID: &str = "mock-client";
/// Its secret.
pub const DEFAULT_CLIENT_SECRET: &str = "mock-secret";

/// Why an IdP could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source} (choose another port, or 0 for a free one)")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// A client registration is unusable.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// TLS setup failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The issuer override is not a URL.
    #[error("issuer {0:?} is not an absolute http(s) URL without query or fragment")]
    Issuer(String),
}

/// Configures and starts a [`MockIdp`]: personality, users, clients, lifetimes, keys, TLS
/// and address. Every setting has a default ([`MockIdp::start`] takes them all).
///
/// ```no_run
/// use std::time::Duration;
/// use mock_idp::personality::GitHub;
/// use mock_idp::{Client, MockIdp, RefreshRotation, User};
///
/// # async fn demo() {
/// let idp = MockIdp::builder()
///     .personality(GitHub::app()) // a GitHub App: expiring, rotating tokens
///     .client(
///         Client::confidential("app", "s3cret")
///             .redirect_uri("http://127.0.0.1:8080/oauth2/callback")
///             .refresh_rotation(RefreshRotation::Rotate),
///     )
///     .user(User::new("octocat").email("octo@example.com"))
///     .access_token_lifetime(Duration::from_secs(60))
///     .login_page() // a browser test: show the login and consent page
///     .start()
///     .await;
/// # drop(idp);
/// # }
/// ```
#[derive(Debug)]
#[must_use = "call .start().await to run the IdP"]
pub struct MockIdpBuilder {
    personality: Option<Box<dyn Hooks>>,
    provider: ProviderId,
    lifetimes: Option<Lifetimes>,
    lifetime_patch: LifetimePatch,
    users: Vec<User>,
    clients: Vec<Client>,
    default_redirect_uris: Vec<String>,
    default_post_logout_uris: Vec<String>,
    settings: Settings,
    signing_alg: SigningAlg,
    share_keys: bool,
    signing_key: Option<Arc<SigningKey>>,
    tls: Option<CaSource>,
    bind: IpAddr,
    port: u16,
    host: Option<String>,
    issuer: Option<String>,
    verify_on_drop: bool,
}

/// Lifetimes set one by one on the builder, applied over the personality's defaults.
#[derive(Debug, Default)]
struct LifetimePatch {
    code: Option<Duration>,
    access_token: Option<Duration>,
    refresh_token: Option<Duration>,
}

impl Default for MockIdpBuilder {
    fn default() -> Self {
        MockIdpBuilder {
            personality: None,
            provider: ProviderId::default(),
            lifetimes: None,
            lifetime_patch: LifetimePatch::default(),
            users: Vec::new(),
            clients: Vec::new(),
            default_redirect_uris: Vec::new(),
            default_post_logout_uris: Vec::new(),
            settings: Settings::default(),
            signing_alg: SigningAlg::default(),
            share_keys: false,
            signing_key: None,
            tls: None,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            host: None,
            issuer: None,
            verify_on_drop: true,
        }
    }
}

impl MockIdpBuilder {
    /// The provider personality to play, with its default options (default: the spec-exact
    /// `oidc`).
    pub fn provider(mut self, provider: ProviderId) -> Self {
        self.provider = provider;
        self.personality = None;
        self
    }
    /// A personality with non-default options (e.g. `GitHub::app()` for expiring tokens).
    pub fn personality(mut self, personality: impl Personality) -> Self {
        self.provider = personality.profile().id;
        self.personality = Some(Box::new(personality));
        self
    }
    /// Adds a user. Without any, the IdP has one: `alice` (alice@example.com).
    pub fn user(mut self, user: User) -> Self {
        self.users.push(user);
        self
    }
    /// Registers a client. Without any, the IdP has `mock-client` / `mock-secret`.
    pub fn client(mut self, client: Client) -> Self {
        self.clients.push(client);
        self
    }
    /// Adds a redirect URI to the default client.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.default_redirect_uris.push(uri.into());
        self
    }
    /// Adds a post-logout redirect URI to the default client.
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.default_post_logout_uris.push(uri.into());
        self
    }
    /// Approve without a page (default).
    pub fn headless(mut self) -> Self {
        self.settings.interaction = Interaction::Headless;
        self
    }
    /// Whether discovery advertises `authorization_response_iss_parameter_supported` (RFC
    /// 9207), overriding the personality: a client must then insist on `iss` in the callback.
    pub fn advertise_iss_parameter(mut self, advertise: bool) -> Self {
        self.settings.advertise_iss = Some(advertise);
        self
    }
    /// Issues access tokens as RFC 9068 JWTs (`typ: at+jwt`) with `aud` = `audience`, signed
    /// with the IdP's published keys (`iss`, `sub`, `client_id`, `scope`, `exp`, `iat`, `jti`),
    /// for an API that validates bearer tokens itself.
    ///
    /// ```no_run
    /// # async fn f() {
    /// let idp = mock_idp::MockIdp::builder().jwt_access_tokens("https://api.example").start().await;
    /// # }
    /// ```
    pub fn jwt_access_tokens(mut self, audience: impl Into<String>) -> Self {
        self.settings.jwt_access_token_audience = Some(audience.into());
        self
    }
    /// Show the HTML login and consent page.
    pub fn login_page(mut self) -> Self {
        self.settings.interaction = Interaction::LoginPage;
        self
    }
    /// Sets all lifetimes (default: the personality's, i.e. the real provider's).
    pub fn lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.lifetimes = Some(lifetimes);
        self
    }
    /// Sets the access-token lifetime.
    pub fn access_token_lifetime(mut self, d: Duration) -> Self {
        self.lifetime_patch.access_token = Some(d);
        self
    }
    /// Sets the authorization-code lifetime.
    pub fn code_lifetime(mut self, d: Duration) -> Self {
        self.lifetime_patch.code = Some(d);
        self
    }
    /// Sets the refresh-token lifetime.
    pub fn refresh_token_lifetime(mut self, d: Duration) -> Self {
        self.lifetime_patch.refresh_token = Some(d);
        self
    }
    /// Uses this process's shared signing key instead of generating one (RSA generation costs
    /// tens of milliseconds of CPU): for suites that start many short-lived IdPs. Tokens of
    /// one instance then verify against another's JWKS — issuer and audience still differ.
    pub fn share_process_keys(mut self) -> Self {
        self.share_keys = true;
        self
    }
    /// Signs with this key (its algorithm overrides [`MockIdpBuilder::signing_alg`]): a key
    /// kept across restarts with [`crate::keys::load_or_create`], say.
    pub fn signing_key(mut self, key: Arc<SigningKey>) -> Self {
        self.signing_alg = key.alg();
        self.signing_key = Some(key);
        self
    }
    /// Signs ID tokens with `alg` (default RS256).
    pub fn signing_alg(mut self, alg: SigningAlg) -> Self {
        self.signing_alg = alg;
        self
    }
    /// Serves https with a CA generated for this instance.
    pub fn tls(mut self) -> Self {
        self.tls = Some(CaSource::Generate);
        self
    }
    /// Serves https with a leaf signed by a fixed CA.
    pub fn tls_with_ca(mut self, cert_pem: impl Into<String>, key_pem: impl Into<String>) -> Self {
        self.tls = Some(CaSource::Pem {
            cert: cert_pem.into(),
            key: key_pem.into(),
        });
        self
    }
    /// Listens on this port (default 0: a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Listens on this address (default 127.0.0.1).
    pub fn bind(mut self, addr: IpAddr) -> Self {
        self.bind = addr;
        self
    }
    /// Host name used in the issuer and endpoint URLs (e.g. `idp.localhost`, so browser
    /// cookies stay apart from the gateway's). Default: the bind address.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }
    /// Overrides the issuer identifier (default: the origin, `http://127.0.0.1:PORT`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
    /// Do not verify expectations on drop (use [`MockIdp::verify`] yourself).
    pub fn no_verify_on_drop(mut self) -> Self {
        self.verify_on_drop = false;
        self
    }

    /// Starts the IdP; panics with the reason if it cannot (use [`Self::try_start`] to handle it).
    pub async fn start(self) -> MockIdp {
        match self.try_start().await {
            Ok(idp) => idp,
            Err(e) => panic!("mock-idp failed to start: {e}"),
        }
    }

    /// Starts the IdP.
    pub async fn try_start(self) -> Result<MockIdp, StartError> {
        let mut store = Store::default();
        let mut default_client = ClientId::new(DEFAULT_CLIENT_ID);
        if self.clients.is_empty() {
            let mut c = Client::confidential(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
            c.redirect_uris = self.default_redirect_uris.clone();
            c.post_logout_redirect_uris = self.default_post_logout_uris.clone();
            store.add_client(c)?;
        } else {
            default_client = self.clients[0].id.clone();
            for c in self.clients {
                store.add_client(c)?;
            }
        }
        if self.users.is_empty() {
            store.add_user(User::new("alice").name("Alice Example").names("Alice", "Example"));
        }
        for u in self.users {
            store.add_user(u);
        }
        let addr = SocketAddr::new(self.bind, self.port);
        // Key generation (tens of ms for RSA) overlaps with binding and TLS setup.
        let alg = self.signing_alg;
        let share = self.share_keys;
        let given = self.signing_key.clone();
        let keygen = tokio::task::spawn_blocking(move || {
            if let Some(key) = given {
                KeySet::with_arc(key)
            } else if share {
                KeySet::shared(alg)
            } else {
                KeySet::generate(alg)
            }
        });
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let host = self.host.unwrap_or_else(|| match local.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        });
        let tls_material = match &self.tls {
            Some(source) => {
                let mut names = vec![
                    host.trim_matches(['[', ']']).to_owned(),
                    "localhost".into(),
                    "127.0.0.1".into(),
                ];
                names.dedup();
                Some(tls::build(source, &names)?)
            }
            None => None,
        };
        let scheme = if tls_material.is_some() { "https" } else { "http" };
        let base = format!("{scheme}://{host}:{}", local.port());
        let personality = self.personality.unwrap_or_else(|| personality_for(self.provider));
        let mut settings = self.settings;
        settings.lifetimes = self.lifetimes.unwrap_or_else(|| personality.default_lifetimes());
        let patch = self.lifetime_patch;
        for (slot, value) in [
            (&mut settings.lifetimes.code, patch.code),
            (&mut settings.lifetimes.access_token, patch.access_token),
            (&mut settings.lifetimes.refresh_token, patch.refresh_token),
        ] {
            if let Some(v) = value {
                *slot = v;
            }
        }
        let issuer = match self.issuer {
            Some(i) => {
                let ok = url::Url::parse(&i).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https") && u.query().is_none() && u.fragment().is_none()
                });
                if !ok {
                    return Err(StartError::Issuer(i));
                }
                i
            }
            None => personality.issuer(&base),
        };
        let keys = keygen.await.expect("key generation task panicked");
        let shared = Shared::new(Parts {
            instance: random_token(6).replace(['-', '_'], "x"),
            issuer,
            base,
            tls: tls_material.is_some(),
            personality,
            settings,
            keys,
            store,
            default_client,
        });
        let router = crate::http::router(shared.clone());
        let acceptor = tls_material
            .as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(t.server_config.clone()));
        let server = tokio::spawn(serve(listener, router, acceptor, shared.shutdown.clone()));
        Ok(MockIdp {
            shared,
            addr: local,
            ca_pem: tls_material.map(|t| t.ca_pem),
            server: Some(server),
            verify_on_drop: self.verify_on_drop,
        })
    }
}

async fn serve(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    cancel: CancellationToken,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!("mock-idp accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = cancel.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls_stream) => {
                        let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls_stream), service);
                        let _ = watcher.watch(conn.into_owned()).await;
                    }
                    Err(e) => tracing::debug!("mock-idp TLS handshake failed: {e}"),
                },
                None => {
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn.into_owned()).await;
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
    }
}

/// A running mock IdP on its own loopback port, with its own keys, users, clients, clock,
/// script and request log; see the [crate docs](crate) for a tour.
///
/// Dropping it stops the server, releases stalled requests and verifies the expectations,
/// panicking with a readable report if one failed (unless the test already panics);
/// [`MockIdp::shutdown`] stops it and waits.
///
/// ```
/// use mock_idp::{Endpoint, MockIdp, Outcome};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let idp = MockIdp::builder()
///     .redirect_uri("http://127.0.0.1:8080/oauth2/callback")
///     .start()
///     .await;
/// // What the app under test is configured with:
/// assert!(idp.discovery_url().ends_with("/.well-known/openid-configuration"));
/// assert_eq!(idp.client().id.as_str(), mock_idp::DEFAULT_CLIENT_ID);
///
/// idp.on_authorize().respond(Outcome::deny()); // the next login: the user presses Deny
/// idp.expect(Endpoint::Token).never(); // checked when `idp` drops
/// # }
/// ```
pub struct MockIdp {
    shared: Arc<Shared>,
    addr: SocketAddr,
    ca_pem: Option<String>,
    server: Option<JoinHandle<()>>,
    verify_on_drop: bool,
}

impl std::fmt::Debug for MockIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockIdp")
            .field("issuer", &self.shared.issuer)
            .field("addr", &self.addr)
            .finish()
    }
}

/// Credentials of a registered client, for configuring the app under test.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// `client_id`.
    pub id: ClientId,
    /// `client_secret` (`None` for a public client).
    pub secret: Option<Secret>,
}

impl MockIdp {
    /// A builder with every default.
    pub fn builder() -> MockIdpBuilder {
        MockIdpBuilder::default()
    }

    /// Starts an IdP with every default (oidc personality, user `alice`, client
    /// `mock-client`/`mock-secret` without redirect URIs — add them with
    /// [`MockIdp::add_client`], or use the builder).
    pub async fn start() -> MockIdp {
        MockIdp::builder().start().await
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }
    /// The origin the endpoints are served at (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.shared.base
    }
    /// The socket the IdP listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// A URL on this IdP.
    pub fn url(&self, path: &str) -> String {
        self.shared.url(path)
    }
    /// The URL of an endpoint, if the personality has it.
    pub fn endpoint_url(&self, endpoint: Endpoint) -> Option<String> {
        let p = &self.shared.personality.profile().paths;
        let path = match endpoint {
            Endpoint::Discovery => p.discovery.clone(),
            Endpoint::Jwks => p.jwks.clone(),
            Endpoint::Authorize => Some(p.authorize.clone()),
            Endpoint::Token | Endpoint::Refresh => Some(p.token.clone()),
            Endpoint::Userinfo => Some(p.userinfo.clone()),
            Endpoint::Revocation => p.revocation.clone(),
            Endpoint::Introspection => p.introspection.clone(),
            Endpoint::DeviceAuthorization => p.device_authorization.clone(),
            Endpoint::EndSession => p.end_session.clone(),
        };
        let profile = self.shared.personality.profile();
        path.map(|p| self.shared.url(&profile.fill_path(&p)))
    }

    /// The profile APIs besides userinfo: `(name, URL with the example query)`.
    pub fn resource_urls(&self) -> Vec<(&'static str, String)> {
        let profile = self.shared.personality.profile();
        profile
            .resources
            .iter()
            .map(|r| {
                let mut url = self.shared.url(&profile.fill_path(&r.path));
                if let Some(q) = r.example_query {
                    url = format!("{url}?{q}");
                }
                (r.name, url)
            })
            .collect()
    }

    /// The user's id as this provider reports it (`sub`, GitHub's numeric id, …).
    pub fn provider_user_id(&self, user: &str) -> Option<String> {
        let store = self.shared.store.lock().unwrap();
        store.users.get(&UserId::new(user)).map(|u| {
            self.shared
                .personality
                .subject_for_client(u, &self.shared.default_client)
        })
    }
    /// The discovery document URL.
    pub fn discovery_url(&self) -> String {
        self.endpoint_url(Endpoint::Discovery)
            .unwrap_or_else(|| self.url("/.well-known/openid-configuration"))
    }
    /// The discovery document, as served.
    pub fn discovery(&self) -> Option<Value> {
        self.shared.discovery_document(&Default::default())
    }
    /// The CA certificate (PEM) clients must trust, when serving https.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }
    /// Which provider this IdP plays.
    pub fn provider(&self) -> ProviderId {
        self.shared.personality.profile().id
    }
    /// The data part of the personality (paths, scopes, token formats…).
    pub fn profile(&self) -> &Profile {
        self.shared.personality.profile()
    }
    /// The default client's credentials (the first client registered at build time).
    pub fn client(&self) -> ClientCredentials {
        let store = self.shared.store.lock().unwrap();
        let c = store
            .clients
            .get(&self.shared.default_client)
            .expect("default client is registered");
        ClientCredentials {
            id: c.id.clone(),
            secret: c.secret.clone(),
        }
    }
    /// The name of the IdP's session cookie.
    pub fn session_cookie_name(&self) -> String {
        self.shared.session_cookie_name()
    }

    /// Adds or replaces a user.
    pub fn add_user(&self, user: User) {
        self.shared.add_user(user);
    }
    /// Changes a user (email changed, disabled…). Panics if there is no such user.
    pub fn update_user(&self, id: &str, patch: UserPatch) -> User {
        self.shared
            .update_user(&UserId::new(id), &patch)
            .unwrap_or_else(|e| panic!("{e}"))
    }
    /// Deletes a user; their tokens and IdP sessions stop working.
    pub fn remove_user(&self, id: &str) -> bool {
        self.shared.remove_user(&UserId::new(id))
    }
    /// Approves the device authorization showing `user_code` as `user`, as the person would on
    /// the verification page; the device's next poll gets the tokens.
    ///
    /// ```no_run
    /// # async fn f(idp: mock_idp::MockIdp) {
    /// let code = idp.waiting_devices().pop().expect("a device asked").0;
    /// idp.approve_device(&code, "alice").unwrap();
    /// # }
    /// ```
    pub fn approve_device(&self, user_code: &str, user: &str) -> Result<(), String> {
        self.shared.decide_device(user_code, Some(UserId::new(user)))
    }
    /// Denies the device authorization showing `user_code`: its polls get `access_denied`.
    pub fn deny_device(&self, user_code: &str) -> Result<(), String> {
        self.shared.decide_device(user_code, None)
    }
    /// The user codes (and clients) of device authorizations waiting for a person.
    pub fn waiting_devices(&self) -> Vec<(String, ClientId)> {
        self.shared.waiting_devices()
    }
    /// Revokes every grant and IdP session of a user.
    pub fn revoke_user(&self, id: &str) -> usize {
        self.shared.revoke_user(&UserId::new(id))
    }
    /// A user as the IdP knows them now.
    pub fn user(&self, id: &str) -> Option<User> {
        self.shared
            .store
            .lock()
            .unwrap()
            .users
            .get(&UserId::new(id))
            .cloned()
    }
    /// Registers (or replaces) a client.
    pub fn add_client(&self, client: Client) -> Result<(), ClientError> {
        self.shared.add_client(client)
    }

    /// Scripts an endpoint: `idp.on(Endpoint::Token).once().respond(...)`.
    pub fn on(&self, endpoint: Endpoint) -> ScriptBuilder {
        ScriptBuilder::new(self.shared.clone(), endpoint)
    }
    /// Scripts the authorization endpoint.
    pub fn on_authorize(&self) -> ScriptBuilder {
        self.on(Endpoint::Authorize)
    }
    /// Scripts the token endpoint: every grant but refresh (narrow it with
    /// [`ScriptBuilder::for_grant`]).
    pub fn on_token(&self) -> ScriptBuilder {
        self.on(Endpoint::Token)
    }
    /// Scripts a device's polls at the token endpoint (RFC 8628 §3.4):
    /// `idp.on_device_token().respond(Outcome::ServerError)`. An error answers the next poll
    /// whatever the person decided (the device code stays usable); a changed answer waits for
    /// the poll that gets tokens.
    pub fn on_device_token(&self) -> ScriptBuilder {
        self.on(Endpoint::Token).for_grant(GrantType::DeviceCode)
    }
    /// Scripts refresh requests at the token endpoint.
    pub fn on_refresh(&self) -> ScriptBuilder {
        self.on(Endpoint::Refresh)
    }
    /// Scripts the userinfo endpoint.
    pub fn on_userinfo(&self) -> ScriptBuilder {
        self.on(Endpoint::Userinfo)
    }
    /// Removes every scripted outcome.
    pub fn clear_script(&self) {
        self.shared.clear_script();
    }

    /// Declares how many requests an endpoint should get; verified on drop.
    pub fn expect(&self, endpoint: Endpoint) -> ExpectationBuilder {
        ExpectationBuilder::new(self.shared.clone(), endpoint)
    }
    /// Checks the expectations now.
    pub fn verify(&self) -> Result<(), VerificationReport> {
        self.shared.verify()
    }

    /// The IdP's clock: `idp.clock().advance(Duration::from_secs(3600))`.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }
    /// Links the inspectors of IdPs started together (name, inspector URL) from this one's.
    pub fn set_sibling_inspectors(&self, siblings: Vec<(String, String)>) {
        self.shared.settings.write().unwrap().sibling_inspectors = siblings;
    }
    /// Switches between headless approval and the login page.
    pub fn set_interaction(&self, interaction: Interaction) {
        self.shared.settings.write().unwrap().interaction = interaction;
    }

    /// Publishes a new signing key and signs with it from now on; `keep_old` keeps the
    /// previous keys in the JWKS. Returns the new `kid`.
    pub fn rotate_keys(&self, alg: SigningAlg, keep_old: bool) -> String {
        self.shared.rotate_keys(alg, keep_old)
    }
    /// Publishes the JWKS without `kid`s (the OIDF `kid-absent-*` modules); pair it with
    /// [`IdTokenFault::NoKid`](crate::IdTokenFault::NoKid).
    pub fn publish_keys_without_kid(&self, without: bool) {
        self.shared.keys.write().unwrap().set_without_kid(without);
    }
    /// The `kid` new tokens are signed with.
    pub fn active_kid(&self) -> String {
        self.shared.keys.read().unwrap().active().kid().to_owned()
    }
    /// The JWKS as served.
    pub fn jwks(&self) -> Value {
        self.shared.keys.read().unwrap().jwks()
    }

    /// The request log (recent requests, secrets masked).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }
    /// Requests that reached one endpoint.
    pub fn requests_to(&self, endpoint: Endpoint) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.endpoint == Some(endpoint))
            .collect()
    }
    /// All lint findings seen so far.
    pub fn findings(&self) -> Vec<Finding> {
        self.shared.findings().into_iter().map(|(_, f)| f).collect()
    }
    /// Clears script, expectations, log, sessions and grants; resets the clock.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops the server and waits for it (in-flight requests get up to 2 s).
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for MockIdp {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        if self.verify_on_drop
            && !std::thread::panicking()
            && let Err(report) = self.shared.verify()
        {
            panic!("{report}");
        }
    }
}
