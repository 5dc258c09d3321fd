//! A gateway started as processes from a command profile: its files and command line
//! rendered from the profile's templates, one process per replica (behind a balancer when
//! there are several), readiness, events from its events file, clock and reload.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{ADMIN_TOKEN, LaunchError, Setting, callback_url, client, origin};
use crate::balancer::Balancer;
use crate::ports::{free_port_pair, loopback_client, private_port};
use crate::profile::{Profile, Reload};
use crate::spec::GatewaySpec;
use crate::templates::template_env;

fn render(env: &minijinja::Environment<'_>, template: &str, ctx: &Value) -> Result<String, LaunchError> {
    crate::templates::render(env, template, ctx).map_err(LaunchError)
}

/// A command-profile gateway.
pub struct ProcessGateway {
    children: Vec<Child>,
    pub(super) balancer: Option<Balancer>,
    pub(super) profile: Profile,
    ctx: Value,
    events_file: Option<PathBuf>,
    events_read: Mutex<usize>,
    clock_urls: Vec<String>,
    admin_ports: Vec<u16>,
    pub(super) app_users_url: Option<String>,
    work_dir: PathBuf,
    stderr_files: Vec<PathBuf>,
    listens: Vec<u16>,
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
                "jwks_url": url(mock_idp::Endpoint::Jwks),
                "ca_file": s.idp_ca_pem.as_ref().map(|_| s.work_dir.join("idp-ca.pem").display().to_string()),
            },
            "client": { "id": client(idp).0, "secret": client(idp).1 },
            "spec": spec,
            "admin": { "port": admin_ports[replica], "token": ADMIN_TOKEN },
            "events_file": s.work_dir.join("events.jsonl").display().to_string(),
            "redis_url": s.redis_url,
            "work_dir": s.work_dir.display().to_string(),
            "profile_dir": profile.dir.display().to_string(),
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

    /// Renders, starts and waits for the gateway processes for `spec`.
    pub async fn start(
        profile: &Profile,
        spec: &GatewaySpec,
        mut s: Setting<'_>,
    ) -> Result<ProcessGateway, LaunchError> {
        s.write_ca_file()?;
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

    /// See [`super::Launched`].
    pub fn events(&self) -> Vec<Value> {
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

    /// See [`super::Launched`].
    pub async fn advance_clock(&self, by: Duration) -> Result<(), LaunchError> {
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

    /// See [`super::Launched`].
    pub async fn reload(&self, spec: &GatewaySpec, s: Setting<'_>) -> Result<(), LaunchError> {
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

    /// See [`super::Launched`].
    pub fn kill(&mut self) {
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

impl ProcessGateway {
    /// How many processes run.
    pub fn replicas(&self) -> usize {
        self.children.len()
    }
}
