//! The reference gateway in this process: replicas started from a `ref-gateway`
//! [`ConfigFile`] built for the scenario, behind a balancer when there are several. Also the
//! one place that points `ref-gateway` at a mock IdP ([`point_at_mock`]), used by the
//! suite and by the gateway's own tests alike.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use mock_idp::MockIdp;
use ref_gateway::RunningGateway;
use ref_gateway::config::{AdminFile, AppCredentials, ConfigFile, EndpointFile, OAuthFile, StoreFile};
use ref_gateway::faults::{Fault, Faults};
use ref_gateway::types::Secret;
use serde_json::Value;

use super::{ADMIN_TOKEN, LaunchError, Setting, callback_url, client, origin};
use crate::balancer::Balancer;
use crate::profile::Profile;
use crate::provider::Provider;
use crate::spec::GatewaySpec;

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

/// Points `oauth` at the mock `idp` playing `provider`: the generic provider's authorize,
/// token and profile URLs (the others' base URL), and — unless a managed app stands in —
/// the mock's default client. Settings already in `oauth` are kept.
pub fn point_at_mock(idp: &MockIdp, provider: Provider, managed: bool, oauth: &mut OAuthFile) {
    oauth.provider = provider.id().to_owned();
    if !managed {
        let (id, secret) = client(idp);
        oauth.client_id.get_or_insert(id);
        oauth.client_secret.get_or_insert_with(|| Secret::new(secret));
    }
    if provider == Provider::Generic {
        let url = |e: mock_idp::Endpoint| idp.endpoint_url(e).unwrap_or_default();
        oauth
            .authorize_url
            .get_or_insert_with(|| url(mock_idp::Endpoint::Authorize));
        oauth
            .token_url
            .get_or_insert_with(|| url(mock_idp::Endpoint::Token));
        oauth
            .profile_url
            .get_or_insert_with(|| url(mock_idp::Endpoint::Userinfo));
    } else {
        oauth.base_url.get_or_insert_with(|| idp.base_url().to_owned());
    }
}

/// Builds the reference gateway's configuration for a spec.
pub fn reference_config(
    spec: &GatewaySpec,
    profile: &Profile,
    s: &Setting<'_>,
) -> Result<ConfigFile, LaunchError> {
    let idp = s.idp;
    let mut oauth = OAuthFile {
        scopes: spec.scopes.clone(),
        allow_emails: spec.allow_emails.clone(),
        allow_domains: spec.allow_domains.clone(),
        auth_check_interval: Some(spec.auth_check_interval),
        inactivity_timeout: Some(spec.inactivity_timeout),
        max_duration: Some(spec.max_duration),
        options_passthrough: spec.options_passthrough,
        ..Default::default()
    };
    point_at_mock(idp, spec.provider, spec.managed_app, &mut oauth);
    if spec.provider == Provider::Generic {
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
    }
    let mut managed_apps = BTreeMap::new();
    if spec.managed_app {
        let (client_id, client_secret) = client(idp);
        managed_apps.insert(
            spec.provider.id().to_owned(),
            AppCredentials {
                client_id,
                client_secret: Secret::new(client_secret),
            },
        );
    }
    let idp_ca_file = s.write_ca_file()?;
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

impl InProcessGateway {
    /// Starts the replicas for `spec`.
    pub async fn start(
        profile: &Profile,
        spec: &GatewaySpec,
        mut s: Setting<'_>,
    ) -> Result<InProcessGateway, LaunchError> {
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
                let l = tokio::net::TcpListener::from_std(l).map_err(|e| LaunchError(e.to_string()))?;
                Some(Balancer::start(l, gws.iter().map(RunningGateway::addr).collect()))
            }
            None => None,
        };
        Ok(InProcessGateway {
            gws,
            balancer,
            events,
            config,
            faults,
        })
    }

    /// Events emitted since the last call, oldest first.
    pub fn events(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for rx in self.events.lock().unwrap().iter_mut() {
            while let Ok(e) = rx.try_recv() {
                out.push(serde_json::to_value(&e).unwrap_or(Value::Null));
            }
        }
        out.sort_by_key(|e| e["timestamp_ms"].as_u64().unwrap_or(0));
        out
    }

    /// Moves every replica's clock (replicas share one notion of time in a real deployment).
    pub fn advance_clock(&self, by: Duration) {
        for g in &self.gws {
            g.clock().advance(by);
        }
    }

    /// The App Users API's base URL.
    pub fn admin_base(&self) -> Result<String, LaunchError> {
        self.gws[0]
            .admin_addr()
            .map(|a| format!("http://{a}"))
            .ok_or_else(|| LaunchError("no admin listener".into()))
    }

    /// Applies a changed spec to every replica (SIGHUP-style reload).
    pub fn reload(&self, spec: &GatewaySpec, profile: &Profile, s: &Setting<'_>) -> Result<(), LaunchError> {
        let mut file = reference_config(spec, profile, s)?;
        file.listen = self.config.listen;
        for g in &self.gws {
            let mut replica = file.clone();
            replica.listen = Some(g.addr());
            g.reload(validated(replica, &self.faults)?);
        }
        Ok(())
    }

    /// Connections the balancer sent to each replica.
    pub fn balancer_hits(&self) -> Option<Vec<usize>> {
        self.balancer.as_ref().map(Balancer::hits)
    }

    /// Stops every replica.
    pub async fn stop(self) {
        for g in self.gws {
            g.shutdown().await;
        }
    }

    /// How many replicas run.
    pub fn replicas(&self) -> usize {
        self.gws.len()
    }
}
