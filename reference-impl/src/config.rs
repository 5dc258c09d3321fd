//! Configuration: the TOML file and the seed-shaped command line, both turned into one
//! validated [`Config`] before anything starts.
//!
//! Every rule lives in [`validate`]: a bad value produces a [`ConfigError`] naming the field
//! (`endpoints[0].oauth.allow_domains[1]`) and what to write instead; the binary prints it and
//! exits with code 2. Secrets never appear in messages.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::policy::{EmailPolicy, check_domain, check_email};
use crate::types::Secret;

/// The OAuth providers the gateway supports (the seed's eight, plus `generic`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Login with Amazon.
    Amazon,
    /// Facebook Login.
    Facebook,
    /// GitHub.
    Github,
    /// GitLab.
    Gitlab,
    /// Google.
    Google,
    /// LinkedIn (OpenID Connect).
    Linkedin,
    /// Microsoft Entra ID.
    Microsoft,
    /// Twitch.
    Twitch,
    /// A generic OAuth 2.0 IdP (Authmonger's settings).
    Generic,
}

impl ProviderKind {
    /// Every provider.
    pub const ALL: [ProviderKind; 9] = [
        ProviderKind::Amazon,
        ProviderKind::Facebook,
        ProviderKind::Github,
        ProviderKind::Gitlab,
        ProviderKind::Google,
        ProviderKind::Linkedin,
        ProviderKind::Microsoft,
        ProviderKind::Twitch,
        ProviderKind::Generic,
    ];
    /// The identifier (`github`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Amazon => "amazon",
            ProviderKind::Facebook => "facebook",
            ProviderKind::Github => "github",
            ProviderKind::Gitlab => "gitlab",
            ProviderKind::Google => "google",
            ProviderKind::Linkedin => "linkedin",
            ProviderKind::Microsoft => "microsoft",
            ProviderKind::Twitch => "twitch",
            ProviderKind::Generic => "generic",
        }
    }
    /// Parses an identifier.
    pub fn parse(s: &str) -> Option<ProviderKind> {
        ProviderKind::ALL.into_iter().find(|p| p.as_str() == s)
    }
    /// Whether a gateway-level managed app can stand in for the endpoint's own credentials.
    pub fn has_managed_app(self) -> bool {
        matches!(
            self,
            ProviderKind::Github
                | ProviderKind::Gitlab
                | ProviderKind::Google
                | ProviderKind::Linkedin
                | ProviderKind::Microsoft
                | ProviderKind::Twitch
        )
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The config file as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Address to listen on (all endpoints, routed by `Host`).
    pub listen: Option<SocketAddr>,
    /// The central callback URL the IdPs return to (`…/oauth2/callback`). Default: each
    /// endpoint's own origin.
    pub callback_url: Option<String>,
    /// `"memory"` (default) or `{ redis = "redis://127.0.0.1:6379" }`.
    pub session_store: Option<StoreFile>,
    /// Mark cookies `Secure` (default true).
    pub cookie_secure: Option<bool>,
    /// `"stdout"`, `"none"` (default) or `{ file = "events.jsonl" }`.
    pub events: Option<EventsFile>,
    /// Timeout of every call to an IdP (default 10 s).
    #[serde(default, with = "humantime_serde")]
    pub idp_timeout: Option<Duration>,
    /// Allow plain-http IdP URLs (local tests against a mock IdP only; a warning is printed at
    /// start). Without it every IdP URL must be https, loopback included.
    pub allow_insecure_idp_http: Option<bool>,
    /// A PEM file of extra CA certificates trusted for IdP connections (a private CA, or the
    /// one `mock-idp serve --tls --ca-out ca.pem` writes), in addition to the system roots.
    pub idp_ca_file: Option<std::path::PathBuf>,
    /// The App Users admin API.
    pub admin: Option<AdminFile>,
    /// Limits on client connections (slow clients, idle connections, how many at once).
    pub limits: Option<LimitsFile>,
    /// Gateway-level credentials shared by endpoints that give none ("managed apps").
    #[serde(default)]
    pub managed_apps: BTreeMap<String, AppCredentials>,
    /// The protected endpoints.
    #[serde(default)]
    pub endpoints: Vec<EndpointFile>,
}

/// `[limits]` as written: every key optional, defaults in [`Limits::default`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Time a client has to send a complete request head (HTTP/1.1), counted from when the
    /// connection is ready for a request — so it also ends idle keep-alive connections.
    #[serde(default, with = "humantime_serde")]
    pub header_read_timeout: Option<Duration>,
    /// A connection on which no request has started for this long is closed (after the
    /// exchange in progress, if any, finishes). Applies to HTTP/1.1 and HTTP/2.
    #[serde(default, with = "humantime_serde")]
    pub idle_timeout: Option<Duration>,
    /// Client connections served at once; beyond it new connections wait in the listen
    /// backlog until one closes.
    pub max_connections: Option<usize>,
}

/// Limits on client connections (docs/gateway.md, "Limits").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// See [`LimitsFile::header_read_timeout`]. Default 10 s.
    pub header_read_timeout: Duration,
    /// See [`LimitsFile::idle_timeout`]. Default 60 s.
    pub idle_timeout: Duration,
    /// See [`LimitsFile::max_connections`]. Default 4096.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

fn limits(file: Option<&LimitsFile>) -> Result<Limits, ConfigError> {
    let d = Limits::default();
    let Some(f) = file else { return Ok(d) };
    let positive = |field: &str, v: Option<Duration>, default: Duration| match v {
        Some(v) if v.is_zero() => Err(err(
            format!("limits.{field}"),
            "must be more than zero (the limit cannot be turned off)",
        )),
        Some(v) => Ok(v),
        None => Ok(default),
    };
    let max_connections = match f.max_connections {
        Some(0) => {
            return Err(err(
                "limits.max_connections",
                "must be at least 1 (the default is 4096)",
            ));
        }
        Some(n) => n,
        None => d.max_connections,
    };
    Ok(Limits {
        header_read_timeout: positive(
            "header_read_timeout",
            f.header_read_timeout,
            d.header_read_timeout,
        )?,
        idle_timeout: positive("idle_timeout", f.idle_timeout, d.idle_timeout)?,
        max_connections,
    })
}

/// Session store choice.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum StoreFile {
    /// `"memory"`.
    Named(String),
    /// `{ redis = "redis://…" }`.
    Redis {
        /// Redis URL.
        redis: String,
    },
}

/// Events output.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum EventsFile {
    /// `"stdout"` or `"none"`.
    Named(String),
    /// `{ file = "…" }`.
    File {
        /// Path of the JSON-lines file.
        file: String,
    },
}

/// `[admin]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminFile {
    /// Listener of the admin API (keep it private).
    pub listen: SocketAddr,
    /// Bearer token (at least 32 characters).
    pub token: Secret,
    /// Enable `POST /clock/advance` so a test harness can move the gateway's clock.
    #[serde(default)]
    pub test_clock: bool,
}

/// Client credentials.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppCredentials {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Secret,
}

/// `[[endpoints]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointFile {
    /// Public origin, e.g. `https://app.example.com` (routing key: its host and port).
    pub url: String,
    /// Where authenticated requests go, e.g. `http://127.0.0.1:3000`.
    pub upstream: String,
    /// The OAuth policy.
    pub oauth: OAuthFile,
}

/// `[endpoints.oauth]`, named like the seed's parameters.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthFile {
    /// Provider identifier.
    pub provider: String,
    /// Client id (empty: managed app).
    pub client_id: Option<String>,
    /// Client secret (empty: managed app).
    pub client_secret: Option<Secret>,
    /// Scopes requested in addition to the provider's login scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Allowed emails.
    #[serde(default)]
    pub allow_emails: Vec<String>,
    /// Allowed email domains (exact).
    #[serde(default)]
    pub allow_domains: Vec<String>,
    /// Auth check interval (0 = only at login).
    #[serde(default, with = "humantime_serde")]
    pub auth_check_interval: Option<Duration>,
    /// Inactivity timeout (0 = none).
    #[serde(default, with = "humantime_serde")]
    pub inactivity_timeout: Option<Duration>,
    /// Maximum session duration (0 = none).
    #[serde(default, with = "humantime_serde")]
    pub max_duration: Option<Duration>,
    /// Do not authenticate CORS preflight OPTIONS requests.
    #[serde(default)]
    pub options_passthrough: bool,
    /// Replace the provider's hosts by this origin (tests, proxies).
    pub base_url: Option<String>,
    /// Microsoft tenant (`common`, `organizations`, `consumers` or a GUID; default `common`).
    pub tenant: Option<String>,
    /// Generic: authorize URL.
    pub authorize_url: Option<String>,
    /// Generic: token URL.
    pub token_url: Option<String>,
    /// Generic: profile URL.
    pub profile_url: Option<String>,
    /// Generic: the full scope (default `openid email profile`).
    pub scope: Option<String>,
    /// Generic: end-session URL for single logout on `/auth/logout`.
    pub end_session_url: Option<String>,
    /// Generic: where the IdP sends the browser after single logout.
    pub post_logout_redirect_url: Option<String>,
    /// Generic: the profile field that becomes the user id (default `id`).
    pub login_attribute: Option<String>,
    /// Generic: create unknown users on first login (default true).
    pub jit_provisioning: Option<bool>,
    /// Generic: users (login attribute values) allowed when JIT provisioning is off.
    #[serde(default)]
    pub provisioned_users: Vec<String>,
    /// Generic: send the access token as `Authorization: Bearer` to the profile URL (default
    /// true); false sends it as the `access_token` query parameter.
    pub access_token_as_auth_header: Option<bool>,
    /// Generic: the profile field holding the email-verified flag (default `email_verified`).
    pub email_verified_field: Option<String>,
}

/// A configuration problem: which field, what is wrong, what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field path.
    pub field: String,
    /// The message.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

/// Where sessions live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreConfig {
    /// In this process.
    Memory,
    /// Shared Redis (several replicas).
    Redis(String),
}

/// Where events go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventsConfig {
    /// Nowhere (but subscribers of the running gateway).
    None,
    /// Standard output, one JSON object per line.
    Stdout,
    /// A file, appended.
    File(String),
}

/// Validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Listener.
    pub listen: SocketAddr,
    /// Central callback URL, if any.
    pub callback_url: Option<Url>,
    /// Session store.
    pub store: StoreConfig,
    /// `Secure` cookies.
    pub cookie_secure: bool,
    /// Events.
    pub events: EventsConfig,
    /// IdP call timeout.
    pub idp_timeout: Duration,
    /// Plain-http IdP URLs allowed anywhere.
    pub allow_insecure_idp_http: bool,
    /// Extra CA certificates (parsed at start) trusted for IdP connections.
    pub idp_ca: Vec<reqwest::Certificate>,
    /// Admin API.
    pub admin: Option<AdminFile>,
    /// Client connection limits.
    pub limits: Limits,
    /// Endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Checks turned off for the conformance suite's "broken gateway" profiles; settable only
    /// from Rust, always empty when loaded from a file or flags.
    pub test_faults: crate::faults::Faults,
}

/// One validated endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Public origin.
    pub origin: Url,
    /// `host:port` the endpoint answers to (lower case).
    pub authority: String,
    /// Upstream base URL.
    pub upstream: Url,
    /// OAuth settings.
    pub oauth: OAuthPolicy,
}

/// Generic-provider settings (Authmonger).
#[derive(Clone, Debug, Serialize)]
pub struct GenericSettings {
    /// Authorize URL.
    pub authorize_url: Url,
    /// Token URL.
    pub token_url: Url,
    /// Profile URL.
    pub profile_url: Url,
    /// Scope string.
    pub scope: String,
    /// End-session URL.
    pub end_session_url: Option<Url>,
    /// Post-logout redirect.
    pub post_logout_redirect_url: Option<Url>,
    /// Login attribute.
    pub login_attribute: String,
    /// JIT provisioning.
    pub jit_provisioning: bool,
    /// Pre-provisioned users.
    pub provisioned_users: Vec<String>,
    /// Token as `Authorization` header.
    pub access_token_as_auth_header: bool,
    /// Email-verified field.
    pub email_verified_field: String,
}

/// The OAuth policy of an endpoint.
#[derive(Clone, Debug)]
pub struct OAuthPolicy {
    /// Provider.
    pub provider: ProviderKind,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Secret,
    /// Whether the credentials are the gateway's managed app (tokens not sent upstream).
    pub managed: bool,
    /// Additional scopes.
    pub scopes: Vec<String>,
    /// Email rules.
    pub emails: EmailPolicy,
    /// Auth check interval (zero: login only).
    pub auth_check_interval: Duration,
    /// Inactivity timeout (zero: none).
    pub inactivity_timeout: Duration,
    /// Maximum duration (zero: none).
    pub max_duration: Duration,
    /// Options passthrough.
    pub options_passthrough: bool,
    /// Provider base URL override.
    pub base_url: Option<Url>,
    /// Microsoft tenant.
    pub tenant: String,
    /// Generic settings.
    pub generic: Option<GenericSettings>,
    /// A digest of everything that affects authorization: a session checked under another
    /// value is re-evaluated on its next request.
    pub policy_hash: String,
}

impl OAuthPolicy {
    /// How long a session may live in the store: the maximum duration, else the inactivity
    /// timeout, else 30 days.
    pub fn session_ttl(&self) -> Duration {
        if !self.max_duration.is_zero() {
            self.max_duration
        } else if !self.inactivity_timeout.is_zero() {
            self.inactivity_timeout
        } else {
            Duration::from_secs(30 * 24 * 3600)
        }
    }
}

/// Parses an IdP URL: https only, unless the loud opt-out `allow_insecure_idp_http` is on —
/// even loopback needs it, so a test setup never silently becomes a production one.
fn idp_url(field: &str, value: &str, insecure_ok: bool) -> Result<Url, ConfigError> {
    let u = Url::parse(value).map_err(|e| err(field, format!("{value:?} is not an absolute URL ({e})")))?;
    match u.scheme() {
        "https" => Ok(u),
        "http" if insecure_ok => Ok(u),
        "http" => Err(err(
            field,
            format!(
                "{value} uses plain http: identity provider URLs must use https (set allow_insecure_idp_http = true only for local tests)"
            ),
        )),
        other => Err(err(
            field,
            format!("scheme {other:?} is not supported; use https"),
        )),
    }
}

/// Validates a config file into a [`Config`].
pub fn validate(file: ConfigFile) -> Result<Config, ConfigError> {
    let insecure = file.allow_insecure_idp_http.unwrap_or(false);
    let store = match file.session_store {
        None => StoreConfig::Memory,
        Some(StoreFile::Named(n)) if n == "memory" => StoreConfig::Memory,
        Some(StoreFile::Named(n)) => {
            return Err(err(
                "session_store",
                format!("{n:?} is unknown; use \"memory\" or {{ redis = \"redis://host:port\" }}"),
            ));
        }
        Some(StoreFile::Redis { redis }) => {
            let u = Url::parse(&redis).map_err(|e| {
                err(
                    "session_store.redis",
                    format!("not a URL ({e}); use redis://[:password@]host:port"),
                )
            })?;
            if !matches!(u.scheme(), "redis" | "rediss" | "unix") {
                return Err(err("session_store.redis", "use a redis://host:port URL"));
            }
            StoreConfig::Redis(redis)
        }
    };
    let events = match file.events {
        None => EventsConfig::None,
        Some(EventsFile::Named(n)) if n == "none" => EventsConfig::None,
        Some(EventsFile::Named(n)) if n == "stdout" => EventsConfig::Stdout,
        Some(EventsFile::Named(n)) => {
            return Err(err(
                "events",
                format!("{n:?} is unknown; use \"stdout\", \"none\" or {{ file = \"events.jsonl\" }}"),
            ));
        }
        Some(EventsFile::File { file }) => EventsConfig::File(file),
    };
    let callback_url = match &file.callback_url {
        None => None,
        Some(c) => {
            let u = Url::parse(c).map_err(|e| err("callback_url", format!("{c:?}: {e}")))?;
            if u.path() != "/oauth2/callback"
                || u.query().is_some()
                || !matches!(u.scheme(), "http" | "https")
            {
                return Err(err(
                    "callback_url",
                    "the callback URL must be an http(s) origin followed by /oauth2/callback",
                ));
            }
            Some(u)
        }
    };
    if let Some(admin) = &file.admin
        && admin.token.expose().len() < 32
    {
        return Err(err(
            "admin.token",
            "the admin token must be at least 32 characters of random text",
        ));
    }
    let limits = limits(file.limits.as_ref())?;
    let idp_timeout = file.idp_timeout.unwrap_or(Duration::from_secs(10));
    if idp_timeout.is_zero() {
        return Err(err("idp_timeout", "must be more than zero"));
    }
    if file.endpoints.is_empty() {
        return Err(err(
            "endpoints",
            "no endpoint is configured; add at least one [[endpoints]] with url, upstream and [endpoints.oauth]",
        ));
    }
    for name in file.managed_apps.keys() {
        let known = ProviderKind::parse(name).is_some_and(ProviderKind::has_managed_app);
        if !known {
            return Err(err(
                format!("managed_apps.{name}"),
                "managed apps exist only for github, gitlab, google, linkedin, microsoft and twitch",
            ));
        }
    }
    let mut endpoints = Vec::new();
    for (i, e) in file.endpoints.iter().enumerate() {
        let f = |name: &str| format!("endpoints[{i}].{name}");
        let origin = Url::parse(&e.url).map_err(|x| err(f("url"), format!("{:?}: {x}", e.url)))?;
        if !matches!(origin.scheme(), "http" | "https")
            || origin.host_str().is_none()
            || origin.path() != "/"
            || origin.query().is_some()
        {
            return Err(err(
                f("url"),
                format!(
                    "{:?} must be an http(s) origin such as https://app.example.com",
                    e.url
                ),
            ));
        }
        let authority = format!(
            "{}:{}",
            origin.host_str().unwrap_or_default().to_ascii_lowercase(),
            origin.port_or_known_default().unwrap_or(80)
        );
        if endpoints.iter().any(|x: &Endpoint| x.authority == authority) {
            return Err(err(
                f("url"),
                format!("another endpoint already answers to {authority}"),
            ));
        }
        let upstream = Url::parse(&e.upstream).map_err(|x| {
            err(
                f("upstream"),
                format!(
                    "{:?} is not an absolute URL ({x}); write it like http://127.0.0.1:3000",
                    e.upstream
                ),
            )
        })?;
        if upstream.scheme() != "http" || upstream.host_str().is_none() {
            return Err(err(
                f("upstream"),
                format!(
                    "{:?} must be an http:// URL of the app (TLS to the upstream is not supported)",
                    e.upstream
                ),
            ));
        }
        endpoints.push(Endpoint {
            origin,
            authority,
            upstream,
            oauth: validate_oauth(&e.oauth, &file.managed_apps, insecure, &f)?,
        });
    }
    let idp_ca = match &file.idp_ca_file {
        None => Vec::new(),
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| err("idp_ca_file", format!("cannot read {}: {e}", path.display())))?;
            match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
                Ok(certs) if !certs.is_empty() => certs,
                Ok(_) => {
                    return Err(err(
                        "idp_ca_file",
                        format!("{} holds no PEM certificate", path.display()),
                    ));
                }
                Err(e) => {
                    return Err(err(
                        "idp_ca_file",
                        format!("{} is not a PEM certificate bundle: {e}", path.display()),
                    ));
                }
            }
        }
    };
    Ok(Config {
        listen: file
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
        callback_url,
        store,
        cookie_secure: file.cookie_secure.unwrap_or(true),
        events,
        idp_timeout,
        allow_insecure_idp_http: insecure,
        idp_ca,
        admin: file.admin,
        limits,
        endpoints,
        test_faults: Default::default(),
    })
}

fn validate_oauth(
    o: &OAuthFile,
    managed_apps: &BTreeMap<String, AppCredentials>,
    insecure: bool,
    f: &dyn Fn(&str) -> String,
) -> Result<OAuthPolicy, ConfigError> {
    let provider = ProviderKind::parse(&o.provider).ok_or_else(|| {
        let known: Vec<&str> = ProviderKind::ALL.iter().map(|p| p.as_str()).collect();
        err(
            f("oauth.provider"),
            format!(
                "unknown provider {:?}; use one of {}",
                o.provider,
                known.join(", ")
            ),
        )
    })?;
    let id = o.client_id.clone().filter(|s| !s.is_empty());
    let secret = o.client_secret.clone().filter(|s| !s.is_empty());
    let (client_id, client_secret, managed) = match (id, secret) {
        (Some(id), Some(secret)) => (id, secret, false),
        (None, None) if provider.has_managed_app() => match managed_apps.get(provider.as_str()) {
            Some(app) => (app.client_id.clone(), app.client_secret.clone(), true),
            None => {
                return Err(err(
                    f("oauth.client_id"),
                    format!(
                        "no client credentials and no managed app for {provider}: set client_id and client_secret, or [managed_apps.{provider}] at the top level"
                    ),
                ));
            }
        },
        (None, None) => {
            return Err(err(
                f("oauth.client_id"),
                format!(
                    "{provider} has no managed app: set client_id and client_secret of your own {provider} app"
                ),
            ));
        }
        (Some(_), None) => {
            return Err(err(
                f("oauth.client_secret"),
                "client_id is set but client_secret is not; set both or neither",
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                f("oauth.client_id"),
                "client_secret is set but client_id is not; set both or neither",
            ));
        }
    };
    let mut emails = EmailPolicy::default();
    for (j, e) in o.allow_emails.iter().enumerate() {
        let ok = check_email(e).map_err(|x| err(f(&format!("oauth.allow_emails[{j}]")), x.to_string()))?;
        emails.emails.push(ok);
    }
    for (j, d) in o.allow_domains.iter().enumerate() {
        let field = f(&format!("oauth.allow_domains[{j}]"));
        if d.contains('*') {
            return Err(err(
                field,
                format!("{d:?}: wildcards are not supported; the match is exact, so list each subdomain"),
            ));
        }
        if d.contains('@') {
            return Err(err(
                field,
                format!("{d:?} is an address; put addresses in allow_emails"),
            ));
        }
        emails
            .domains
            .push(check_domain(d).map_err(|x| err(field, x.to_string()))?);
    }
    for (j, s) in o.scopes.iter().enumerate() {
        if s.is_empty() || s.contains(' ') {
            return Err(err(
                f(&format!("oauth.scopes[{j}]")),
                format!("{s:?}: give one scope per entry"),
            ));
        }
    }
    let base_url = o
        .base_url
        .as_deref()
        .map(|b| idp_url(&f("oauth.base_url"), b, insecure))
        .transpose()?;
    let tenant = match (&o.tenant, provider) {
        (Some(t), ProviderKind::Microsoft) => {
            let ok = !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(err(
                    f("oauth.tenant"),
                    format!(
                        "{t:?} is not a tenant: use common, organizations, consumers, a GUID or a domain"
                    ),
                ));
            }
            t.clone()
        }
        (Some(_), _) => {
            return Err(err(
                f("oauth.tenant"),
                "tenant applies to the microsoft provider only",
            ));
        }
        (None, _) => "common".into(),
    };
    let generic_only = [
        ("authorize_url", o.authorize_url.is_some()),
        ("token_url", o.token_url.is_some()),
        ("profile_url", o.profile_url.is_some()),
        ("scope", o.scope.is_some()),
        ("end_session_url", o.end_session_url.is_some()),
        ("login_attribute", o.login_attribute.is_some()),
        ("jit_provisioning", o.jit_provisioning.is_some()),
        (
            "access_token_as_auth_header",
            o.access_token_as_auth_header.is_some(),
        ),
        ("post_logout_redirect_url", o.post_logout_redirect_url.is_some()),
        ("provisioned_users", !o.provisioned_users.is_empty()),
        ("email_verified_field", o.email_verified_field.is_some()),
    ];
    let generic = if provider == ProviderKind::Generic {
        let need = |name: &str, v: &Option<String>| -> Result<Url, ConfigError> {
            let v = v
                .as_deref()
                .ok_or_else(|| err(f(&format!("oauth.{name}")), "required for the generic provider"))?;
            idp_url(&f(&format!("oauth.{name}")), v, insecure)
        };
        Some(GenericSettings {
            authorize_url: need("authorize_url", &o.authorize_url)?,
            token_url: need("token_url", &o.token_url)?,
            profile_url: need("profile_url", &o.profile_url)?,
            scope: o
                .scope
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "openid email profile".into()),
            end_session_url: o
                .end_session_url
                .as_deref()
                .map(|u| idp_url(&f("oauth.end_session_url"), u, insecure))
                .transpose()?,
            post_logout_redirect_url: o
                .post_logout_redirect_url
                .as_deref()
                .map(|u| {
                    let url = Url::parse(u)
                        .map_err(|e| err(f("oauth.post_logout_redirect_url"), format!("{u:?}: {e}")))?;
                    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                        return Err(err(
                            f("oauth.post_logout_redirect_url"),
                            format!(
                                "{u:?} must be an http(s) URL of the site, e.g. https://app.example.com/"
                            ),
                        ));
                    }
                    Ok(url)
                })
                .transpose()?,
            login_attribute: o
                .login_attribute
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "id".into()),
            jit_provisioning: o.jit_provisioning.unwrap_or(true),
            provisioned_users: o.provisioned_users.clone(),
            access_token_as_auth_header: o.access_token_as_auth_header.unwrap_or(true),
            email_verified_field: o
                .email_verified_field
                .clone()
                .unwrap_or_else(|| "email_verified".into()),
        })
    } else {
        if let Some((name, _)) = generic_only.iter().find(|(_, set)| *set) {
            return Err(err(
                f(&format!("oauth.{name}")),
                format!("applies to the generic provider only (this endpoint uses {provider})"),
            ));
        }
        None
    };
    let hash_input = serde_json::json!({
        "provider": provider, "client": client_id, "scopes": o.scopes, "emails": emails, "generic": generic,
        "tenant": tenant,
    });
    let policy_hash = crate::types::fingerprint(&hash_input.to_string());
    Ok(OAuthPolicy {
        provider,
        client_id,
        client_secret,
        managed,
        scopes: o.scopes.clone(),
        emails,
        auth_check_interval: o.auth_check_interval.unwrap_or_default(),
        inactivity_timeout: o.inactivity_timeout.unwrap_or_default(),
        max_duration: o.max_duration.unwrap_or_default(),
        options_passthrough: o.options_passthrough,
        base_url,
        tenant,
        generic,
        policy_hash,
    })
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err(path.display().to_string(), format!("cannot read: {e}")))?;
    let file: ConfigFile = toml::from_str(&text)
        .map_err(|e| err(path.display().to_string(), e.to_string().trim_end().to_owned()))?;
    validate(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        validate(toml::from_str(text).map_err(|e| err("toml", e.to_string()))?)
    }

    const BASE: &str =
        "[[endpoints]]\nurl = \"http://app.localhost:8080\"\nupstream = \"http://127.0.0.1:3000\"\n";

    #[test]
    fn a_minimal_endpoint_validates() {
        let c = parse(&format!(
            "{BASE}[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\n"
        ))
        .unwrap();
        assert_eq!(c.endpoints[0].authority, "app.localhost:8080");
        assert!(!c.endpoints[0].oauth.managed);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                "[endpoints.oauth]\nprovider = \"myspace\"",
                "endpoints[0].oauth.provider: unknown provider \"myspace\"",
            ),
            (
                "[endpoints.oauth]\nprovider = \"facebook\"",
                "endpoints[0].oauth.client_id: facebook has no managed app",
            ),
            (
                "[endpoints.oauth]\nprovider = \"github\"",
                "no managed app for github",
            ),
            (
                "[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"",
                "endpoints[0].oauth.client_secret",
            ),
            (
                "[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\nallow_domains = [\"*.acme.org\"]",
                "endpoints[0].oauth.allow_domains[0]: \"*.acme.org\": wildcards are not supported",
            ),
            (
                "[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\nallow_emails = [\"not-an-email\"]",
                "endpoints[0].oauth.allow_emails[0]",
            ),
            (
                "[endpoints.oauth]\nprovider = \"generic\"\nclient_id = \"a\"\nclient_secret = \"b\"\nauthorize_url = \"http://idp.example/a\"\ntoken_url = \"http://idp.example/t\"\nprofile_url = \"http://idp.example/p\"",
                "endpoints[0].oauth.authorize_url: http://idp.example/a uses plain http",
            ),
            (
                "[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\nbase_url = \"http://127.0.0.1:9\"",
                "endpoints[0].oauth.base_url: http://127.0.0.1:9 uses plain http: identity provider URLs must use https (set allow_insecure_idp_http = true only for local tests)",
            ),
            (
                "[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\nlogin_attribute = \"email\"",
                "endpoints[0].oauth.login_attribute: applies to the generic provider only",
            ),
            (
                "[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\nprovisioned_users = [\"x\"]",
                "endpoints[0].oauth.provisioned_users: applies to the generic provider only",
            ),
        ];
        for (tail, expected) in cases {
            let e = parse(&format!("{BASE}{tail}\n")).unwrap_err().to_string();
            assert!(e.contains(expected), "{tail}\n→ {e}");
            assert!(!e.contains("\"b\""), "secrets never appear: {e}");
        }
    }

    #[test]
    fn limits_have_defaults_and_refuse_zero() {
        let oauth = "[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\n";
        let c = parse(&format!("{BASE}{oauth}")).unwrap();
        assert_eq!(c.limits, Limits::default());
        assert_eq!(
            (
                c.limits.header_read_timeout,
                c.limits.idle_timeout,
                c.limits.max_connections
            ),
            (Duration::from_secs(10), Duration::from_secs(60), 4096)
        );
        let c = parse(&format!(
            "[limits]\nheader_read_timeout = \"3s\"\nmax_connections = 10\n{BASE}{oauth}"
        ))
        .unwrap();
        assert_eq!(
            (
                c.limits.header_read_timeout,
                c.limits.idle_timeout,
                c.limits.max_connections
            ),
            (Duration::from_secs(3), Duration::from_secs(60), 10)
        );
        for (limits, expected) in [
            (
                "header_read_timeout = \"0s\"",
                "limits.header_read_timeout: must be more than zero",
            ),
            (
                "idle_timeout = \"0s\"",
                "limits.idle_timeout: must be more than zero",
            ),
            (
                "max_connections = 0",
                "limits.max_connections: must be at least 1",
            ),
            ("read_timeout = \"1s\"", "unknown field `read_timeout`"),
        ] {
            let e = parse(&format!("[limits]\n{limits}\n{BASE}{oauth}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{limits} → {e}");
        }
    }

    #[test]
    fn the_idp_ca_file_is_read_and_parsed_at_start() {
        let missing = parse(&format!(
            "idp_ca_file = \"/nonexistent/ca.pem\"\n{BASE}[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\n"
        ))
        .unwrap_err();
        assert_eq!(missing.field, "idp_ca_file");
        assert!(
            missing.message.contains("cannot read /nonexistent/ca.pem"),
            "{missing}"
        );
        let not_pem = std::env::temp_dir().join(format!("not-a-ca-{}.pem", std::process::id()));
        std::fs::write(&not_pem, "hello").unwrap();
        let e = parse(&format!(
            "idp_ca_file = {:?}\n{BASE}[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"a\"\nclient_secret = \"b\"\n",
            not_pem.display().to_string()
        ))
        .unwrap_err();
        let _ = std::fs::remove_file(&not_pem);
        assert_eq!(e.field, "idp_ca_file");
        assert!(e.message.contains("no PEM certificate"), "{e}");
    }

    #[test]
    fn managed_apps_stand_in_for_missing_credentials() {
        let c = parse(&format!(
            "[managed_apps.github]\nclient_id = \"shared\"\nclient_secret = \"s\"\n{BASE}[endpoints.oauth]\nprovider = \"github\"\n"
        ))
        .unwrap();
        assert!(c.endpoints[0].oauth.managed);
        assert_eq!(c.endpoints[0].oauth.client_id, "shared");
    }

    #[test]
    fn generic_defaults_follow_authmonger() {
        let c = parse(&format!(
            "allow_insecure_idp_http = true\n{BASE}[endpoints.oauth]\nprovider = \"generic\"\nclient_id = \"a\"\nclient_secret = \"b\"\nauthorize_url = \"http://127.0.0.1:9/a\"\ntoken_url = \"http://127.0.0.1:9/t\"\nprofile_url = \"http://127.0.0.1:9/p\"\n"
        ))
        .unwrap();
        let g = c.endpoints[0].oauth.generic.clone().unwrap();
        assert_eq!(
            (
                g.scope.as_str(),
                g.login_attribute.as_str(),
                g.jit_provisioning,
                g.access_token_as_auth_header
            ),
            ("openid email profile", "id", true, true)
        );
    }
}
