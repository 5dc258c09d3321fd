//! What a scenario asks of the gateway under test: the provider, the policy (allowed emails
//! and domains, auth check interval, timeouts, passthrough), the Authmonger generic options,
//! central callback, managed app, events, App Users API, replicas. `Given` steps fill a
//! [`GatewaySpec`]; a profile turns it into the gateway's own configuration (a `ref-gateway`
//! `ConfigFile` in process, or a rendered template for a command profile).

use std::time::Duration;

use serde::Serialize;

use crate::provider::Provider;

/// Everything a scenario configures on the gateway.
#[derive(Clone, Debug, Serialize)]
pub struct GatewaySpec {
    /// The provider (serialized as its id: `github`, `google`, …, `generic`).
    pub provider: Provider,
    /// Allowed emails.
    pub allow_emails: Vec<String>,
    /// Allowed email domains.
    pub allow_domains: Vec<String>,
    /// Extra scopes requested (non-generic providers).
    pub scopes: Vec<String>,
    /// Auth check interval (zero: only at login).
    #[serde(with = "secs")]
    pub auth_check_interval: Duration,
    /// Inactivity timeout (zero: none).
    #[serde(with = "secs")]
    pub inactivity_timeout: Duration,
    /// Maximum session duration (zero: none).
    #[serde(with = "secs")]
    pub max_duration: Duration,
    /// Forward CORS preflights unauthenticated.
    pub options_passthrough: bool,
    /// IdP returns to one callback origin (`login.localhost`).
    pub central_callback: bool,
    /// Use the gateway's managed app instead of own credentials.
    pub managed_app: bool,
    /// Generic provider options.
    pub generic: GenericSpec,
    /// Number of replicas (more than one needs Redis).
    pub replicas: usize,
    /// Share sessions through Redis even with one replica.
    pub redis: bool,
}

/// Authmonger's generic-provider options.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GenericSpec {
    /// Full scope string (None: the gateway's default).
    pub scope: Option<String>,
    /// Profile field that becomes the user id (None: default `id`).
    pub login_attribute: Option<String>,
    /// Just-in-time provisioning (None: default on).
    pub jit_provisioning: Option<bool>,
    /// Users allowed when JIT provisioning is off.
    pub provisioned_users: Vec<String>,
    /// Token as `Authorization` header (None: default on).
    pub access_token_as_auth_header: Option<bool>,
    /// Single logout through the IdP's end-session URL.
    pub single_logout: bool,
}

impl GatewaySpec {
    /// The defaults: GitHub, no rules, no limits.
    pub fn new(provider: Provider) -> GatewaySpec {
        GatewaySpec {
            provider,
            allow_emails: Vec::new(),
            allow_domains: Vec::new(),
            scopes: Vec::new(),
            auth_check_interval: Duration::ZERO,
            inactivity_timeout: Duration::ZERO,
            max_duration: Duration::ZERO,
            options_passthrough: false,
            central_callback: false,
            managed_app: false,
            generic: GenericSpec::default(),
            replicas: 1,
            redis: false,
        }
    }
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}
