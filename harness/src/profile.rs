//! Gateway profiles: how to start a gateway under test, how to know it is ready, what it
//! claims to support, and how its identity headers and cookies are named. Format reference:
//! `docs/profiles.md`; the reference gateway's profiles live in `fixtures/gateways/` and the
//! in-process one is embedded, so `gatecheck` runs with no files at all.
//!
//! A profile is validated when loaded — unknown keys, unknown capabilities, a command
//! profile without a command, templates that do not compile — so a mistake is reported
//! before any scenario starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::provider::Provider;
pub use crate::workspace::{profiles_dir, workspace_root};

/// The capabilities a profile can claim; a scenario tagged with one its profile lacks is
/// reported "not applicable".
pub const CAPABILITIES: &[(&str, &str)] = &[
    (
        "login",
        "logs users in through the IdP and forwards them upstream",
    ),
    (
        "error-page",
        "shows an error page (with the IdP's error) when a login fails",
    ),
    ("retry-link", "its error pages link to a fresh login"),
    (
        "id-token-checks",
        "validates OIDC ID tokens (signature, iss, aud, exp, nonce, …)",
    ),
    ("email-rules", "allowed emails and allowed email domains"),
    (
        "auth-check-interval",
        "re-checks sessions with the IdP after an interval (refresh + profile)",
    ),
    ("reload", "applies a configuration change to existing sessions"),
    ("inactivity-timeout", "ends idle sessions"),
    ("max-duration", "ends sessions after a maximum duration"),
    ("options-passthrough", "forwards CORS preflights unauthenticated"),
    ("identity-headers", "sends the user's id, name and email upstream"),
    ("token-headers", "sends the access and refresh tokens upstream"),
    (
        "header-stripping",
        "removes client-sent copies of its identity headers",
    ),
    (
        "other-identity-headers",
        "also removes other gateways' identity headers and unknown ones with its own prefix",
    ),
    ("forwarded-headers", "sets X-Forwarded-* itself"),
    ("websocket", "passes WebSocket upgrades through"),
    ("special-paths", "/auth/authn and /auth/logout, never forwarded"),
    ("force-reauth", "/auth/authn forces re-authentication at the IdP"),
    (
        "cookies",
        "session and nonce cookies as the ngrok module sets them",
    ),
    ("events", "http_request_complete.v0 events with oauth.* fields"),
    ("app-users", "the App Users API: list, revoke, MAU"),
    ("managed-apps", "gateway-level shared OAuth apps"),
    ("central-callback", "one callback origin for every endpoint"),
    (
        "generic-provider",
        "Authmonger's generic OAuth 2.0 provider options",
    ),
    (
        "scope-errors",
        "an invalid-request page carrying the IdP's scope error",
    ),
    (
        "redis-replicas",
        "several replicas sharing sessions through Redis",
    ),
    (
        "fake-clock",
        "follows the IdP's fake clock (time can be advanced)",
    ),
    (
        "idp-outage",
        "fails closed and clearly when the IdP is down or slow",
    ),
];

/// How the gateway is started.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Launch {
    /// The reference gateway inside the harness process (fast; events and clock direct).
    InProcess,
    /// A process started from `command`, configured by rendered `files`.
    Command,
}

/// How a command profile's readiness is detected.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    /// An HTTP path on the gateway that answers (any status) once it is up; without it, a
    /// TCP connect to the gateway's port is enough.
    pub http_path: Option<String>,
    /// How long to wait (default 20 s).
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
}

/// How a configuration change reaches a running command gateway.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Reload {
    /// Re-render the files and send SIGHUP.
    Sighup,
    /// Re-render the files and restart the process (sessions must survive: shared store).
    Restart,
    /// Not supported (scenarios tagged `@reload` are not applicable).
    #[default]
    None,
}

/// Identity header names.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Headers {
    /// The user id header.
    pub user_id: String,
    /// The user name header.
    pub user_name: Option<String>,
    /// The email header.
    pub user_email: String,
    /// The access token header.
    pub access_token: Option<String>,
    /// The refresh token header.
    pub refresh_token: Option<String>,
}

/// A profile as written in TOML.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name (`reference`, `oauth2-proxy`).
    pub name: String,
    /// One line for `gatecheck profiles`.
    pub description: String,
    /// How it is started.
    pub launch: Launch,
    /// Capabilities claimed (see [`CAPABILITIES`]).
    pub capabilities: Vec<String>,
    /// Providers it can be configured for (ids: `github`, `google`…).
    pub providers: Vec<Provider>,
    /// The provider of scenarios that do not name one (default `github`).
    #[serde(default = "default_provider")]
    pub default_provider: Provider,
    /// Name of its session cookie.
    pub session_cookie: String,
    /// Path of its OAuth callback: a template with `idp.provider` (Auth.js puts the provider
    /// in it: `/auth/callback/{{ idp.provider }}`). Default `/oauth2/callback`.
    #[serde(default = "default_callback_path")]
    pub callback_path: String,
    /// Path (and query) a browser opens to log out (default `/auth/logout`, ngrok's), with
    /// a GET unless `logout_form` says how to post it.
    #[serde(default = "default_logout_path")]
    pub logout_path: String,
    /// Logout is a form POST to `logout_path` (Auth.js, Rails apps…), carrying a CSRF token
    /// read from a JSON document first.
    pub logout_form: Option<LogoutForm>,
    /// The mock IdP serves https (with its own CA, `idp.ca_file`) in every scenario, for a
    /// gateway that will not talk to an identity provider over plain http.
    #[serde(default)]
    pub idp_https: bool,
    /// Identity header names.
    pub headers: Headers,
    /// Which of the provider's user ids the gateway puts in its user-id header, per provider
    /// (`[user_id] microsoft = "sub"`); unlisted providers: `default`.
    #[serde(default)]
    pub user_id: BTreeMap<Provider, UserIdClaim>,
    /// Command profiles: argv, each element a template.
    #[serde(default)]
    pub command: Vec<String>,
    /// Command profiles: files written before start (name → template); `{{ files["name"] }}`
    /// is the written path.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Command profiles: extra environment variables (templates).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Command profiles: readiness.
    pub ready: Option<Ready>,
    /// Command profiles: how a config change is applied.
    #[serde(default)]
    pub reload: Reload,
    /// Command profiles: URL (template) to POST `{"seconds": n}` to advance the gateway's
    /// clock, with the admin token as bearer.
    pub clock_advance_url: Option<String>,
    /// Command profiles: the events JSON-lines file (template).
    pub events_file: Option<String>,
    /// Command profiles: base URL (template) of an App Users API shaped like the reference's.
    pub app_users_url: Option<String>,
    /// Scenario tags that cannot apply to this gateway, each with the reason (`sec-42 =
    /// "no back-channel logout endpoint"`): such scenarios are reported n/a with it. This is
    /// how a profile says why a security-checklist item or an OpenID Foundation module does
    /// not apply.
    #[serde(default)]
    pub not_applicable: BTreeMap<String, String>,
    /// Reference only: test-only faults to inject (the "broken gateway" profiles that prove
    /// the suite can fail).
    #[serde(default)]
    pub faults: Vec<String>,
    /// The directory of the profile file (templates: `profile_dir`), for files kept next to
    /// it; the current directory for a profile not read from a file.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// How a browser posts the logout form: `GET from` (JSON), then `POST logout_path` with the
/// form field `field` set to that document's `field`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutForm {
    /// Where the CSRF token is read from (a path answering JSON, e.g. `/auth/csrf`).
    pub csrf_from: String,
    /// Its field, and the form field it is posted as (e.g. `csrfToken`).
    pub csrf_field: String,
}

/// Which of a provider's user ids a gateway reports as the user's id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserIdClaim {
    /// The provider's stable id, as ngrok reports it: Entra's `oid`, GitHub's numeric `id`,
    /// Google's and the others' `sub`, the generic provider's login attribute.
    #[default]
    Default,
    /// The OIDC `sub` as issued to this client (pairwise at Entra: it differs per app).
    Sub,
    /// Entra's `oid` (the same in every app of the tenant).
    Oid,
    /// The user's email address.
    Email,
    /// The user's login name (`preferred_username`, GitHub's `login`).
    Username,
}

fn default_provider() -> Provider {
    Provider::Github
}

fn default_callback_path() -> String {
    "/oauth2/callback".into()
}

fn default_logout_path() -> String {
    "/auth/logout".into()
}

/// The embedded default profile.
pub const REFERENCE: &str = include_str!("../../fixtures/gateways/reference.toml");

/// A problem with a profile, naming the file and the key.
#[derive(Debug, thiserror::Error)]
#[error("profile {source_name}: {message}")]
pub struct ProfileError {
    /// File name or `reference`.
    pub source_name: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl Profile {
    /// The callback path for a provider (`callback_path` rendered with `idp.provider`).
    pub fn callback_path_for(&self, provider: Provider) -> Result<String, String> {
        let ctx = serde_json::json!({ "idp": { "provider": provider.id() } });
        let path = crate::templates::render(&crate::templates::template_env(), &self.callback_path, &ctx)
            .map_err(|e| format!("callback_path: {e}"))?;
        if !path.starts_with('/') {
            return Err(format!(
                "callback_path: {path:?} (for {}) is not a path starting with /",
                provider.id()
            ));
        }
        Ok(path)
    }

    /// The built-in reference profile.
    pub fn reference() -> Profile {
        Profile::parse("reference", REFERENCE).expect("the embedded reference profile is valid")
    }

    /// `reference`, a profile name under `fixtures/gateways/`, or a file path.
    pub fn resolve(name_or_path: &str) -> Result<(Profile, PathBuf), ProfileError> {
        if name_or_path == "reference" {
            return Ok((
                Profile::reference(),
                PathBuf::from("(embedded) fixtures/gateways/reference.toml"),
            ));
        }
        let direct = PathBuf::from(name_or_path);
        let path = if direct.is_file() {
            direct
        } else {
            let named = profiles_dir().join(format!("{name_or_path}.toml"));
            if named.is_file() {
                named
            } else {
                return Err(ProfileError {
                    source_name: name_or_path.into(),
                    message: format!(
                        "no such file, and no profile named so in {} (see `gatecheck profiles`)",
                        profiles_dir().display()
                    ),
                });
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ProfileError {
            source_name: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        let mut profile = Profile::parse(&path.display().to_string(), &text)?;
        profile.dir = std::path::absolute(&path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        Ok((profile, path))
    }

    /// Parses and validates.
    pub fn parse(source_name: &str, text: &str) -> Result<Profile, ProfileError> {
        let fail = |message: String| ProfileError {
            source_name: source_name.into(),
            message,
        };
        let p: Profile = toml::from_str(text).map_err(|e| fail(e.to_string().trim_end().to_owned()))?;
        for c in &p.capabilities {
            if !CAPABILITIES.iter().any(|(k, _)| k == c) {
                let known: Vec<&str> = CAPABILITIES.iter().map(|(k, _)| *k).collect();
                return Err(fail(format!(
                    "capabilities: unknown capability {c:?}; known: {}",
                    known.join(", ")
                )));
            }
        }
        for (tag, reason) in &p.not_applicable {
            if tag.is_empty() || tag.starts_with('@') || tag.contains(char::is_whitespace) {
                return Err(fail(format!(
                    "not_applicable: {tag:?} is not a tag name; write it without `@` and without spaces (e.g. \"sec-42\")"
                )));
            }
            if reason.trim().is_empty() {
                return Err(fail(format!(
                    "not_applicable.{tag}: the reason is empty; say why the scenarios tagged @{tag} cannot apply"
                )));
            }
        }
        if let Some((provider, _)) = p
            .user_id
            .iter()
            .find(|(provider, claim)| **claim == UserIdClaim::Oid && **provider != Provider::Microsoft)
        {
            return Err(fail(format!(
                "user_id.{}: \"oid\" exists only at Microsoft Entra ID; use default, sub, email or username",
                provider.id()
            )));
        }
        for provider in &p.providers {
            p.callback_path_for(*provider).map_err(&fail)?;
        }
        if !p.providers.contains(&p.default_provider) {
            return Err(fail(format!(
                "default_provider {} is not among the profile's providers",
                p.default_provider.id()
            )));
        }
        match p.launch {
            Launch::InProcess => {
                if !p.command.is_empty() || !p.files.is_empty() {
                    return Err(fail(
                        "launch = \"in-process\" runs the reference gateway inside gatecheck; remove `command` and `files` or use launch = \"command\"".into(),
                    ));
                }
            }
            Launch::Command => {
                if p.command.is_empty() {
                    return Err(fail(
                        "command: a command profile needs the argv to start the gateway, e.g. command = [\"{{ bin('ref-gateway') }}\", \"run\", \"--config\", \"{{ files['gateway.toml'] }}\"]".into(),
                    ));
                }
                if !p.faults.is_empty() {
                    return Err(fail(
                        "faults: only the in-process reference gateway takes faults".into(),
                    ));
                }
                let env = crate::templates::template_env();
                let all = p
                    .command
                    .iter()
                    .chain(p.files.values())
                    .chain(p.env.values())
                    .chain(p.clock_advance_url.iter())
                    .chain(p.events_file.iter())
                    .chain(p.app_users_url.iter());
                for t in all {
                    env.template_from_str(t)
                        .map_err(|e| fail(format!("template {t:?}: {e}")))?;
                }
                if p.has("fake-clock") && p.clock_advance_url.is_none() {
                    return Err(fail("capability fake-clock needs clock_advance_url".into()));
                }
                if p.has("events") && p.events_file.is_none() {
                    return Err(fail("capability events needs events_file".into()));
                }
                if p.has("app-users") && p.app_users_url.is_none() {
                    return Err(fail("capability app-users needs app_users_url".into()));
                }
                if p.has("reload") && p.reload == Reload::None {
                    return Err(fail(
                        "capability reload needs reload = \"sighup\" or \"restart\"".into(),
                    ));
                }
            }
        }
        Ok(p)
    }

    /// Whether the profile claims `capability`.
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_reference_profile_is_valid_and_claims_everything() {
        let p = Profile::reference();
        for (c, _) in CAPABILITIES {
            assert!(p.has(c), "reference lacks {c}");
        }
    }

    #[test]
    fn every_committed_profile_is_valid() {
        for dir in [profiles_dir(), profiles_dir().join("testing")] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "toml") {
                    Profile::resolve(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
                }
            }
        }
    }

    #[test]
    fn mistakes_name_the_key() {
        let base = REFERENCE;
        let cases = [
            (
                base.replace("\"login\",", "\"logn\","),
                "unknown capability \"logn\"",
            ),
            (format!("extra = 1\n{base}"), "unknown field `extra`"),
            (
                base.replace("launch = \"in-process\"", "launch = \"command\""),
                "command: a command profile needs",
            ),
            (
                base.replace("sec-42 = \"the ngrok", "sec-42 = \"\" # the ngrok"),
                "not_applicable.sec-42: the reason is empty",
            ),
        ];
        for (text, expected) in cases {
            let e = Profile::parse("t", &text).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
    }
}
