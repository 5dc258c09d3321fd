//! Starting the gateway under test from a [`Profile`] and a scenario's [`GatewaySpec`]:
//! in-process for the reference gateway (a `ref-gateway` `ConfigFile` built directly), or as
//! a process whose command line and files are rendered from the profile's templates
//! (minijinja). Either way the scenario gets a [`Launched`] gateway with one interface:
//! events, clock, App Users API, reload, stop.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mock_idp::MockIdp;
use ref_gateway::config::{AdminFile, AppCredentials, ConfigFile, EndpointFile, OAuthFile, StoreFile};
use ref_gateway::faults::{Fault, Faults};
use ref_gateway::types::Secret;
use ref_gateway::{ProviderKind, RunningGateway};
use serde_json::{Value, json};

use crate::balancer::Balancer;
use crate::profile::{Launch, Profile, Reload};
use crate::spec::GatewaySpec;

/// The admin token the harness gives gateways.
pub const ADMIN_TOKEN: &str = "gatecheck-admin-token-0123456789abcdef";

/// The mock IdP's default client: id and secret.
fn client(idp: &MockIdp) -> (String, String) {
    let c = idp.client();
    (
        c.id.as_str().to_owned(),
        c.secret.map(|s| s.expose().to_owned()).unwrap_or_default(),
    )
}

/// Everything a launch needs besides the profile and the spec.
pub struct Setting<'a> {
    /// The mock IdP (started).
    pub idp: &'a MockIdp,
    /// The recording upstream's URL.
    pub upstream_url: String,
    /// The public port (the balancer's, with replicas).
    pub port: u16,
    /// The public port's listener, bound before the IdP started (the balancer's with
    /// replicas, the gateway's own otherwise).
    pub front: Option<std::net::TcpListener>,
    /// A scratch directory for rendered files and the CA file.
    pub work_dir: &'a Path,
    /// Redis URL when the spec needs one.
    pub redis_url: Option<String>,
}

/// `http://app.localhost:PORT`.
pub fn origin(port: u16) -> String {
    format!("http://app.localhost:{port}")
}

/// The callback URL the IdP must allow.
pub fn callback_url(profile: &Profile, spec: &GatewaySpec, port: u16) -> String {
    if spec.central_callback {
        format!("http://login.localhost:{port}{}", profile.callback_path)
    } else {
        format!("{}{}", origin(port), profile.callback_path)
    }
}

/// A gateway under test.
pub enum Launched {
    /// Reference gateway replicas in this process.
    InProcess(Box<InProcessGateway>),
    /// Gateway processes.
    Process(Box<ProcessGateway>),
}

/// Reference gateway replicas in this process.
pub struct InProcessGateway {
    /// The replicas.
    pub gws: Vec<RunningGateway>,
    /// The balancer in front of several replicas.
    balancer: Option<Balancer>,
    /// Event subscriptions, one per replica.
    events: Mutex<Vec<tokio::sync::broadcast::Receiver<ref_gateway::events::Event>>>,
    /// The config file the replicas run (for reloads).
    config: ConfigFile,
    /// The faults in force.
    faults: Faults,
}

/// A command-profile gateway.
pub struct ProcessGateway {
    children: Vec<Child>,
    balancer: Option<Balancer>,
    profile: Profile,
    ctx: Value,
    events_file: Option<PathBuf>,
    events_read: Mutex<usize>,
    clock_urls: Vec<String>,
    admin_ports: Vec<u16>,
    app_users_url: Option<String>,
    work_dir: PathBuf,
    stderr_files: Vec<PathBuf>,
    listens: Vec<u16>,
}

impl std::fmt::Debug for Launched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Launched::InProcess(g) => write!(f, "in-process reference gateway ×{}", g.gws.len()),
            Launched::Process(p) => write!(f, "{} ×{}", p.profile.name, p.children.len()),
        }
    }
}

/// Why a gateway could not be started.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LaunchError(pub String);

fn provider_kind(id: &str) -> Result<ProviderKind, LaunchError> {
    ProviderKind::parse(id).ok_or_else(|| LaunchError(format!("unknown provider {id:?}")))
}

/// Builds the reference gateway's configuration for a spec.
pub fn reference_config(
    spec: &GatewaySpec,
    profile: &Profile,
    s: &Setting<'_>,
) -> Result<ConfigFile, LaunchError> {
    let kind = provider_kind(&spec.provider)?;
    let idp = s.idp;
    let mut oauth = OAuthFile {
        provider: spec.provider.clone(),
        scopes: spec.scopes.clone(),
        allow_emails: spec.allow_emails.clone(),
        allow_domains: spec.allow_domains.clone(),
        auth_check_interval: Some(spec.auth_check_interval),
        inactivity_timeout: Some(spec.inactivity_timeout),
        max_duration: Some(spec.max_duration),
        options_passthrough: spec.options_passthrough,
        ..Default::default()
    };
    let (client_id, client_secret) = client(idp);
    if !spec.managed_app {
        oauth.client_id = Some(client_id.clone());
        oauth.client_secret = Some(Secret::new(client_secret.clone()));
    }
    let base = idp.base_url().to_owned();
    if kind == ProviderKind::Generic {
        let url = |e: mock_idp::Endpoint| idp.endpoint_url(e).unwrap_or_default();
        oauth.authorize_url = Some(url(mock_idp::Endpoint::Authorize));
        oauth.token_url = Some(url(mock_idp::Endpoint::Token));
        oauth.profile_url = Some(url(mock_idp::Endpoint::Userinfo));
        let g = &spec.generic;
        oauth.scope = g.scope.clone();
        oauth.login_attribute = g.login_attribute.clone();
        oauth.jit_provisioning = g.jit_provisioning;
        oauth.provisioned_users = g.provisioned_users.clone();
        oauth.access_token_as_auth_header = g.access_token_as_auth_header;
        if g.single_logout {
            oauth.end_session_url = idp.endpoint_url(mock_idp::Endpoint::EndSession);
            oauth.post_logout_redirect_url = Some(format!("{}/", origin(s.port)));
        }
    } else {
        oauth.base_url = Some(base);
    }
    let mut managed_apps = BTreeMap::new();
    if spec.managed_app {
        managed_apps.insert(
            spec.provider.clone(),
            AppCredentials {
                client_id,
                client_secret: Secret::new(client_secret),
            },
        );
    }
    let idp_ca_file = match idp.ca_pem() {
        Some(pem) => {
            let path = s.work_dir.join("idp-ca.pem");
            std::fs::write(&path, pem).map_err(|e| LaunchError(format!("writing the CA file: {e}")))?;
            Some(path)
        }
        None => None,
    };
    Ok(ConfigFile {
        listen: Some(([127, 0, 0, 1], s.port).into()),
        callback_url: spec.central_callback.then(|| callback_url(profile, spec, s.port)),
        session_store: s.redis_url.clone().map(|redis| StoreFile::Redis { redis }),
        cookie_secure: Some(true),
        events: None,
        idp_timeout: Some(Duration::from_secs(2)),
        allow_insecure_idp_http: Some(idp.ca_pem().is_none()),
        idp_ca_file,
        admin: Some(AdminFile {
            listen: ([127, 0, 0, 1], 0).into(),
            token: Secret::new(ADMIN_TOKEN),
            test_clock: true,
        }),
        limits: None,
        managed_apps,
        endpoints: vec![EndpointFile {
            url: origin(s.port),
            upstream: s.upstream_url.clone(),
            oauth,
        }],
    })
}

fn faults_of(profile: &Profile) -> Result<Faults, LaunchError> {
    profile.faults.iter().try_fold(Faults::default(), |acc, name| {
        Fault::parse(name).map(|f| acc.with(f)).ok_or_else(|| {
            let known: Vec<&str> = Fault::ALL.iter().map(|(_, n)| *n).collect();
            LaunchError(format!("unknown fault {name:?}; known: {}", known.join(", ")))
        })
    })
}

fn validated(file: ConfigFile, faults: &Faults) -> Result<ref_gateway::Config, LaunchError> {
    let mut c = ref_gateway::config::validate(file).map_err(|e| {
        LaunchError(format!(
            "the reference gateway refused the scenario's configuration: {e}"
        ))
    })?;
    c.test_faults = faults.clone();
    Ok(c)
}

/// The minijinja environment for profile templates: `bin(name)` finds a binary next to
/// gatecheck (the cargo target directory) or on `PATH`.
pub fn template_env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_function("bin", |name: String| -> Result<String, minijinja::Error> {
        find_binary(&name).map(|p| p.display().to_string()).ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("binary {name:?} not found next to gatecheck or on PATH (build it: cargo build -p <crate>)"),
            )
        })
    });
    env
}

/// A binary next to the running executable (target/debug, also from target/debug/deps) or
/// on `PATH`.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dirs: Vec<PathBuf> = exe.ancestors().skip(1).take(2).map(Path::to_path_buf).collect();
    dirs.push(crate::profile::workspace_root().join("target/debug"));
    dirs.push(crate::profile::workspace_root().join("target/release"));
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .or_else(|| crate::system::find(name))
}

fn render(env: &minijinja::Environment<'_>, template: &str, ctx: &Value) -> Result<String, LaunchError> {
    env.render_str(template, ctx)
        .map_err(|e| LaunchError(format!("template {template:?}: {e:#}")))
}

impl Launched {
    /// Starts the gateway(s) for `spec`.
    pub async fn start(
        profile: &Profile,
        spec: &GatewaySpec,
        mut s: Setting<'_>,
    ) -> Result<Launched, LaunchError> {
        match profile.launch {
            Launch::InProcess => {
                let faults = faults_of(profile)?;
                let config = reference_config(spec, profile, &s)?;
                let mut gws = Vec::new();
                let replicas = spec.replicas.max(1);
                for _ in 0..replicas {
                    let mut replica = config.clone();
                    let started = if replicas == 1
                        && let Some(l) = s.front.take()
                    {
                        ref_gateway::start_on(validated(replica, &faults)?, l).await
                    } else {
                        if s.front.is_some() {
                            replica.listen = Some(([127, 0, 0, 1], 0).into());
                        }
                        ref_gateway::start(validated(replica, &faults)?).await
                    };
                    gws.push(started.map_err(|e| LaunchError(format!("ref-gateway did not start: {e}")))?);
                }
                let events = Mutex::new(gws.iter().map(RunningGateway::events).collect());
                let balancer = match s.front.take() {
                    Some(l) => {
                        l.set_nonblocking(true).map_err(|e| LaunchError(e.to_string()))?;
                        let l =
                            tokio::net::TcpListener::from_std(l).map_err(|e| LaunchError(e.to_string()))?;
                        Some(Balancer::start(l, gws.iter().map(RunningGateway::addr).collect()))
                    }
                    None => None,
                };
                Ok(Launched::InProcess(Box::new(InProcessGateway {
                    gws,
                    balancer,
                    events,
                    config,
                    faults,
                })))
            }
            Launch::Command => ProcessGateway::start(profile, spec, s)
                .await
                .map(|p| Launched::Process(Box::new(p))),
        }
    }

    /// Events emitted since the last call, as JSON objects with the seed's field names.
    pub fn events(&self) -> Vec<Value> {
        match self {
            Launched::InProcess(g) => {
                let mut out = Vec::new();
                for rx in g.events.lock().unwrap().iter_mut() {
                    while let Ok(e) = rx.try_recv() {
                        out.push(serde_json::to_value(&e).unwrap_or(Value::Null));
                    }
                }
                out.sort_by_key(|e| e["timestamp_ms"].as_u64().unwrap_or(0));
                out
            }
            Launched::Process(p) => p.events(),
        }
    }

    /// Moves the gateway's clock forward.
    pub async fn advance_clock(&self, by: Duration) -> Result<(), LaunchError> {
        match self {
            Launched::InProcess(ip) => {
                // Replicas share one notion of time in a real deployment: move them all.
                for g in &ip.gws {
                    g.clock().advance(by);
                }
                Ok(())
            }
            Launched::Process(p) => p.advance_clock(by).await,
        }
    }

    /// A call to the App Users API: status and JSON body.
    pub async fn admin(&self, method: reqwest::Method, path: &str) -> Result<(u16, Value), LaunchError> {
        let base = match self {
            Launched::InProcess(g) => g.gws[0]
                .admin_addr()
                .map(|a| format!("http://{a}"))
                .ok_or_else(|| LaunchError("no admin listener".into()))?,
            Launched::Process(p) => p
                .app_users_url
                .clone()
                .ok_or_else(|| LaunchError("the profile has no app_users_url".into()))?,
        };
        let resp = loopback_client()
            .request(method, format!("{}{path}", base.trim_end_matches('/')))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .map_err(|e| LaunchError(format!("App Users API: {e}")))?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// Applies a changed spec to the running gateway (SIGHUP-style reload).
    pub async fn reload(
        &self,
        spec: &GatewaySpec,
        profile: &Profile,
        s: Setting<'_>,
    ) -> Result<(), LaunchError> {
        match self {
            Launched::InProcess(ip) => {
                let mut file = reference_config(spec, profile, &s)?;
                file.listen = ip.config.listen;
                for g in &ip.gws {
                    let mut replica = file.clone();
                    replica.listen = Some(g.addr());
                    g.reload(validated(replica, &ip.faults)?);
                }
                Ok(())
            }
            Launched::Process(p) => p.reload(spec, s).await,
        }
    }

    /// Connections the balancer sent to each replica.
    pub fn balancer_hits(&self) -> Option<Vec<usize>> {
        match self {
            Launched::InProcess(g) => g.balancer.as_ref().map(Balancer::hits),
            Launched::Process(p) => p.balancer.as_ref().map(Balancer::hits),
        }
    }

    /// Stops everything.
    pub async fn stop(self) {
        match self {
            Launched::InProcess(ip) => {
                for g in ip.gws {
                    g.shutdown().await;
                }
            }
            Launched::Process(mut p) => p.kill(),
        }
    }
}

impl ProcessGateway {
    fn context(
        profile: &Profile,
        spec: &GatewaySpec,
        s: &Setting<'_>,
        listens: &[u16],
        admin_ports: &[u16],
        replica: usize,
    ) -> Value {
        let idp = s.idp;
        let url = |e: mock_idp::Endpoint| idp.endpoint_url(e);
        let files: BTreeMap<&String, String> = profile
            .files
            .keys()
            .map(|name| {
                (
                    name,
                    s.work_dir
                        .join(format!("r{replica}-{name}"))
                        .display()
                        .to_string(),
                )
            })
            .collect();
        json!({
            "gateway": {
                "port": listens[replica],
                "public_port": s.port,
                "listen": format!("127.0.0.1:{}", listens[replica]),
                "origin": origin(s.port),
                "host": format!("app.localhost:{}", s.port),
                "callback_url": callback_url(profile, spec, s.port),
            },
            "upstream": { "url": format!("{}/", s.upstream_url.trim_end_matches('/')) },
            "idp": {
                "provider": spec.provider,
                "issuer": idp.issuer(),
                "base_url": idp.base_url(),
                "discovery_url": idp.discovery().map(|_| idp.discovery_url()),
                "authorize_url": url(mock_idp::Endpoint::Authorize),
                "token_url": url(mock_idp::Endpoint::Token),
                "userinfo_url": url(mock_idp::Endpoint::Userinfo),
                "end_session_url": url(mock_idp::Endpoint::EndSession),
                "ca_file": idp.ca_pem().map(|_| s.work_dir.join("idp-ca.pem").display().to_string()),
            },
            "client": { "id": client(idp).0, "secret": client(idp).1 },
            "spec": spec,
            "admin": { "port": admin_ports[replica], "token": ADMIN_TOKEN },
            "events_file": s.work_dir.join("events.jsonl").display().to_string(),
            "redis_url": s.redis_url,
            "work_dir": s.work_dir.display().to_string(),
            "workspace_root": crate::profile::workspace_root().display().to_string(),
            "replica": replica,
            "files": files,
        })
    }

    fn write_files(
        profile: &Profile,
        env: &minijinja::Environment<'_>,
        ctx: &Value,
    ) -> Result<(), LaunchError> {
        for (name, template) in &profile.files {
            let path = ctx["files"][name].as_str().unwrap_or_default().to_owned();
            let text = render(env, template, ctx)?;
            std::fs::write(&path, text).map_err(|e| LaunchError(format!("writing {path}: {e}")))?;
        }
        Ok(())
    }

    fn spawn(
        profile: &Profile,
        env: &minijinja::Environment<'_>,
        ctx: &Value,
        stderr: &Path,
    ) -> Result<Child, LaunchError> {
        let argv: Vec<String> = profile
            .command
            .iter()
            .map(|t| render(env, t, ctx))
            .collect::<Result<_, _>>()?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        // Its own process group, so stopping it stops every process it forked (Apache's
        // workers run on after their parent is killed otherwise).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        for (k, t) in &profile.env {
            cmd.env(k, render(env, t, ctx)?);
        }
        let err = std::fs::File::create(stderr).map_err(|e| LaunchError(e.to_string()))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .map_err(|e| LaunchError(format!("cannot start {:?}: {e}", argv[0])))
    }

    async fn start(
        profile: &Profile,
        spec: &GatewaySpec,
        mut s: Setting<'_>,
    ) -> Result<ProcessGateway, LaunchError> {
        if let Some(pem) = s.idp.ca_pem() {
            std::fs::write(s.work_dir.join("idp-ca.pem"), pem).map_err(|e| LaunchError(e.to_string()))?;
        }
        let replicas = spec.replicas.max(1);
        let listens: Vec<u16> = if replicas > 1 {
            (0..replicas).map(|_| free_port_pair()).collect()
        } else {
            // The process binds the port itself: release the reservation just before.
            drop(s.front.take());
            vec![s.port]
        };
        let admin_ports: Vec<u16> = (0..replicas).map(|_| private_port()).collect();
        let env = template_env();
        let mut children = Vec::new();
        let mut stderr_files = Vec::new();
        let mut clock_urls = Vec::new();
        let mut ctx0 = Value::Null;
        for r in 0..replicas {
            let ctx = Self::context(profile, spec, &s, &listens, &admin_ports, r);
            Self::write_files(profile, &env, &ctx)?;
            let stderr = s.work_dir.join(format!("r{r}-stderr.log"));
            children.push(Self::spawn(profile, &env, &ctx, &stderr)?);
            stderr_files.push(stderr);
            if let Some(t) = &profile.clock_advance_url {
                clock_urls.push(render(&env, t, &ctx)?);
            }
            if r == 0 {
                ctx0 = ctx;
            }
        }
        let opt = |t: &Option<String>| t.as_ref().map(|t| render(&env, t, &ctx0)).transpose();
        let mut p = ProcessGateway {
            children,
            balancer: None,
            profile: profile.clone(),
            events_file: opt(&profile.events_file)?.map(PathBuf::from),
            events_read: Mutex::new(0),
            clock_urls,
            admin_ports,
            app_users_url: opt(&profile.app_users_url)?,
            ctx: ctx0,
            work_dir: s.work_dir.to_path_buf(),
            stderr_files,
            listens: listens.clone(),
        };
        for port in &listens {
            p.wait_ready(*port).await?;
        }
        if let Some(l) = s.front.take() {
            l.set_nonblocking(true).map_err(|e| LaunchError(e.to_string()))?;
            let l = tokio::net::TcpListener::from_std(l).map_err(|e| LaunchError(e.to_string()))?;
            let backends: Vec<SocketAddr> = listens
                .iter()
                .map(|p| SocketAddr::from(([127, 0, 0, 1], *p)))
                .collect();
            p.balancer = Some(Balancer::start(l, backends));
        }
        Ok(p)
    }

    fn stderr_tail(&self) -> String {
        let mut out = String::new();
        for f in &self.stderr_files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&lines[lines.len().saturating_sub(15)..].join("\n"));
        }
        out
    }

    async fn wait_ready(&mut self, port: u16) -> Result<(), LaunchError> {
        let ready = self.profile.ready.clone();
        let timeout = ready
            .as_ref()
            .and_then(|r| r.timeout)
            .unwrap_or(Duration::from_secs(20));
        let deadline = Instant::now() + timeout;
        let http = loopback_client();
        loop {
            for c in &mut self.children {
                if let Ok(Some(status)) = c.try_wait() {
                    return Err(LaunchError(format!(
                        "{} exited during start-up ({status}); its stderr ends with:\n{}",
                        self.profile.name,
                        self.stderr_tail()
                    )));
                }
            }
            let up = match ready.as_ref().and_then(|r| r.http_path.as_ref()) {
                Some(path) => http
                    .get(format!("http://127.0.0.1:{port}{path}"))
                    .send()
                    .await
                    .is_ok(),
                None => tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok(),
            };
            if up {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(LaunchError(format!(
                    "{} was not ready on port {port} within {timeout:?}; its stderr ends with:\n{}",
                    self.profile.name,
                    self.stderr_tail()
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn events(&self) -> Vec<Value> {
        let Some(path) = &self.events_file else {
            return Vec::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut read = self.events_read.lock().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let fresh: Vec<Value> = lines[(*read).min(lines.len())..]
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        *read = lines.len();
        fresh
    }

    async fn advance_clock(&self, by: Duration) -> Result<(), LaunchError> {
        if self.clock_urls.is_empty() {
            return Err(LaunchError("the profile has no clock_advance_url".into()));
        }
        // Every replica has its own clock: advance each.
        for url in &self.clock_urls {
            let resp = loopback_client()
                .post(url)
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({ "seconds": by.as_secs() }))
                .send()
                .await
                .map_err(|e| LaunchError(format!("advancing the gateway clock: {e}")))?;
            if !resp.status().is_success() {
                return Err(LaunchError(format!(
                    "advancing the gateway clock: {}",
                    resp.status()
                )));
            }
        }
        Ok(())
    }

    async fn reload(&self, spec: &GatewaySpec, s: Setting<'_>) -> Result<(), LaunchError> {
        let env = template_env();
        for r in 0..self.children.len() {
            let ctx = Self::context(&self.profile, spec, &s, &self.listens, &self.admin_ports, r);
            Self::write_files(&self.profile, &env, &ctx)?;
        }
        match self.profile.reload {
            Reload::Sighup => {
                for c in &self.children {
                    let ok = Command::new("kill")
                        .args(["-HUP", &c.id().to_string()])
                        .status()
                        .map_err(|e| LaunchError(e.to_string()))?;
                    if !ok.success() {
                        return Err(LaunchError("kill -HUP failed".into()));
                    }
                }
                // Give the process a moment to re-read its files.
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(())
            }
            Reload::Restart | Reload::None => Err(LaunchError(format!(
                "profile {} cannot reload a running gateway (reload = {:?})",
                self.profile.name, self.profile.reload
            ))),
        }
    }

    fn kill(&mut self) {
        for c in &mut self.children {
            if let Ok(None) = c.try_wait() {
                // The whole process group (see `spawn`); then the leader itself.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", c.id())])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = (&self.ctx, &self.work_dir);
    }
}

impl Drop for ProcessGateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free loopback port below the ephemeral range (32768+), for a gateway process to bind
/// itself: handed out once per process (a counter from a per-process offset), checked free,
/// and never what another scenario's `bind(0)` gets in the meantime.
pub fn private_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id() % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = u16::try_from(LOW + n % SPAN).expect("below 32768");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A client for loopback admin calls (no system roots to load).
pub fn loopback_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only(Vec::new())
        .build()
        .expect("a client")
}

/// A free port whose successor is also free (gateway + its admin listener).
fn free_port_pair() -> u16 {
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = a.local_addr().expect("bound").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}
