//! Starting the gateway under test from a [`Profile`] and a scenario's [`GatewaySpec`]:
//! in-process for the reference gateway ([`in_process`]: a `ref-gateway` `ConfigFile` built
//! directly), or as processes whose command line and files are rendered from the profile's
//! templates ([`process`]). Either way the scenario gets a [`Launched`] gateway with one
//! interface: events, clock, App Users API, reload, stop.

use std::path::Path;
use std::time::Duration;

use mock_idp::MockIdp;
use serde_json::Value;

use crate::ports::loopback_client;
use crate::profile::{Launch, Profile};
use crate::spec::GatewaySpec;

pub mod in_process;
pub mod process;

pub use in_process::{InProcessGateway, point_at_mock, reference_config};
pub use process::ProcessGateway;

/// The admin token the harness gives gateways.
pub const ADMIN_TOKEN: &str = "gatecheck-admin-token-0123456789abcdef";

/// The mock IdP's default client: id and secret.
pub(crate) fn client(idp: &MockIdp) -> (String, String) {
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
    /// The CA certificate (PEM) the gateway is told to trust for the IdP: the IdP's own, or
    /// an unrelated one when a scenario checks that the gateway verifies the IdP's
    /// certificate. `None` when the IdP serves plain http.
    pub idp_ca_pem: Option<String>,
}

impl Setting<'_> {
    /// Writes the CA the gateway trusts to `idp-ca.pem` in the work directory.
    pub fn write_ca_file(&self) -> Result<Option<std::path::PathBuf>, LaunchError> {
        let Some(pem) = &self.idp_ca_pem else {
            return Ok(None);
        };
        let path = self.work_dir.join("idp-ca.pem");
        std::fs::write(&path, pem)
            .map_err(|e| LaunchError(format!("writing the CA file {}: {e}", path.display())))?;
        Ok(Some(path))
    }
}

/// `http://app.localhost:PORT`.
pub fn origin(port: u16) -> String {
    format!("http://app.localhost:{port}")
}

/// The callback URL the IdP must allow.
pub fn callback_url(profile: &Profile, spec: &GatewaySpec, port: u16) -> String {
    let path = profile
        .callback_path_for(spec.provider)
        .unwrap_or_else(|e| panic!("profile {}: {e}", profile.name));
    if spec.central_callback {
        format!("http://login.localhost:{port}{path}")
    } else {
        format!("{}{path}", origin(port))
    }
}

/// A gateway under test.
pub enum Launched {
    /// Reference gateway replicas in this process.
    InProcess(Box<InProcessGateway>),
    /// Gateway processes.
    Process(Box<ProcessGateway>),
}

impl std::fmt::Debug for Launched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Launched::InProcess(g) => write!(f, "in-process reference gateway ×{}", g.replicas()),
            Launched::Process(p) => write!(f, "{} ×{}", p.profile.name, p.replicas()),
        }
    }
}

/// Why a gateway could not be started.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LaunchError(pub String);

impl Launched {
    /// Starts the gateway(s) for `spec`.
    pub async fn start(
        profile: &Profile,
        spec: &GatewaySpec,
        s: Setting<'_>,
    ) -> Result<Launched, LaunchError> {
        match profile.launch {
            Launch::InProcess => InProcessGateway::start(profile, spec, s)
                .await
                .map(|g| Launched::InProcess(Box::new(g))),
            Launch::Command => ProcessGateway::start(profile, spec, s)
                .await
                .map(|p| Launched::Process(Box::new(p))),
        }
    }

    /// Events emitted since the last call, as JSON objects with the seed's field names.
    pub fn events(&self) -> Vec<Value> {
        match self {
            Launched::InProcess(g) => g.events(),
            Launched::Process(p) => p.events(),
        }
    }

    /// Moves the gateway's clock forward.
    pub async fn advance_clock(&self, by: Duration) -> Result<(), LaunchError> {
        match self {
            Launched::InProcess(g) => {
                g.advance_clock(by);
                Ok(())
            }
            Launched::Process(p) => p.advance_clock(by).await,
        }
    }

    /// A call to the App Users API: status and JSON body.
    pub async fn admin(&self, method: reqwest::Method, path: &str) -> Result<(u16, Value), LaunchError> {
        let base = match self {
            Launched::InProcess(g) => g.admin_base()?,
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
            Launched::InProcess(g) => g.reload(spec, profile, &s),
            Launched::Process(p) => p.reload(spec, s).await,
        }
    }

    /// Connections the balancer sent to each replica.
    pub fn balancer_hits(&self) -> Option<Vec<usize>> {
        match self {
            Launched::InProcess(g) => g.balancer_hits(),
            Launched::Process(p) => p.balancer.as_ref().map(crate::balancer::Balancer::hits),
        }
    }

    /// Stops everything.
    pub async fn stop(self) {
        match self {
            Launched::InProcess(g) => g.stop().await,
            Launched::Process(mut p) => p.kill(),
        }
    }
}
