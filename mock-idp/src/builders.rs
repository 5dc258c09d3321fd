//! The builders and handles a test holds on a running IdP: [`ScriptBuilder`] mounts an
//! outcome and returns a [`ScriptHandle`] (or a [`ScopedScript`] guard);
//! [`ExpectationBuilder`] registers how many requests an endpoint should get.
//!
//! They hold the instance ([`Shared`]) and go through its operations, so they sit above
//! it: the script queue and the expectations themselves (`script.rs`, `expect.rs`) know
//! nothing of them.

use std::sync::Arc;
use std::time::Duration;

use crate::expect::Expectation;
use crate::outcome::Outcome;
use crate::script::{ScriptEntry, ScriptError, Times};
use crate::shared::Shared;
use crate::types::{ClientId, Endpoint, GrantType};

/// Builds a script entry: which requests it answers, how often, after how long, then
/// [`respond`](Self::respond) mounts it (or [`try_respond`](Self::try_respond),
/// [`respond_scoped`](Self::respond_scoped)). Made by [`MockIdp::on`](crate::MockIdp::on)
/// and the `on_*` shortcuts.
///
/// ```no_run
/// use std::time::Duration;
/// use mock_idp::{MockIdp, Outcome};
///
/// # async fn demo(idp: MockIdp) {
/// // The next two code exchanges of client `app` fail, each after a second.
/// let flaky = idp
///     .on_token()
///     .for_client("app")
///     .times(2)
///     .after(Duration::from_secs(1))
///     .named("flaky token endpoint")
///     .respond(Outcome::invalid_grant());
/// // … drive two logins …
/// assert_eq!(flaky.hits(), 2);
///
/// // Slow userinfo for one test step only.
/// let slow = idp.on_userinfo().always().after(Duration::from_secs(5)).respond_scoped(Outcome::Success);
/// // … the step …
/// drop(slow);
/// # }
/// ```
#[must_use = "a script does nothing until `respond` mounts it"]
pub struct ScriptBuilder {
    shared: Arc<Shared>,
    endpoint: Endpoint,
    client_id: Option<ClientId>,
    grant: Option<GrantType>,
    times: Times,
    delay: Duration,
    name: Option<String>,
}

impl ScriptBuilder {
    pub(crate) fn new(shared: Arc<Shared>, endpoint: Endpoint) -> ScriptBuilder {
        ScriptBuilder {
            shared,
            endpoint,
            client_id: None,
            grant: None,
            times: Times::N(1),
            delay: Duration::ZERO,
            name: None,
        }
    }
    /// Only requests from this client match.
    pub fn for_client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(ClientId::new(client_id));
        self
    }
    /// Only token requests of this grant match (the token endpoint only; refresh requests
    /// are [`Endpoint::Refresh`]): `idp.on_token().for_grant(GrantType::Password)`.
    pub fn for_grant(mut self, grant: GrantType) -> Self {
        self.grant = Some(grant);
        self
    }
    /// Answer one request (the default).
    pub fn once(mut self) -> Self {
        self.times = Times::N(1);
        self
    }
    /// Answer `n` requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Times::N(n);
        self
    }
    /// Answer every matching request while mounted.
    pub fn always(mut self) -> Self {
        self.times = Times::Always;
        self
    }
    /// Wait this long before answering (a real sleep: a slow IdP).
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
    /// A name for reports and the request log.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Mounts the outcome. Panics if the outcome cannot apply to this endpoint — a test bug;
    /// use [`ScriptBuilder::try_respond`] to get the error instead.
    pub fn respond(self, outcome: Outcome) -> ScriptHandle {
        match self.try_respond(outcome) {
            Ok(handle) => handle,
            Err(e) => panic!("{e}"),
        }
    }

    /// Mounts the outcome, or says why it cannot apply.
    pub fn try_respond(self, outcome: Outcome) -> Result<ScriptHandle, ScriptError> {
        let id = self.shared.mount(ScriptEntry {
            id: 0,
            endpoint: self.endpoint,
            client_id: self.client_id,
            grant: self.grant,
            times: self.times,
            used: 0,
            delay: self.delay,
            name: self.name,
            outcome,
        })?;
        Ok(ScriptHandle {
            shared: self.shared,
            id,
        })
    }

    /// Mounts the outcome until the returned guard drops (a behaviour owned by one test
    /// step). Panics like [`ScriptBuilder::respond`].
    pub fn respond_scoped(self, outcome: Outcome) -> ScopedScript {
        ScopedScript {
            handle: self.respond(outcome),
        }
    }
}

/// A mounted script entry.
#[derive(Clone)]
pub struct ScriptHandle {
    shared: Arc<Shared>,
    id: u64,
}

impl std::fmt::Debug for ScriptHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptHandle").field("id", &self.id).finish()
    }
}

impl ScriptHandle {
    /// The entry id (as in `GET /__admin/outcomes`).
    pub fn id(&self) -> u64 {
        self.id
    }
    /// How many requests this entry has answered.
    pub fn hits(&self) -> u32 {
        self.shared
            .script
            .lock()
            .unwrap()
            .get(self.id)
            .map_or(0, |e| e.used)
    }
    /// Whether it still has uses left.
    pub fn is_live(&self) -> bool {
        self.shared
            .script
            .lock()
            .unwrap()
            .get(self.id)
            .is_some_and(ScriptEntry::is_live)
    }
    /// Unmounts it.
    pub fn remove(&self) {
        self.shared.script.lock().unwrap().remove(self.id);
    }
}

/// Guard returned by [`ScriptBuilder::respond_scoped`]: unmounts the entry when dropped.
#[derive(Debug)]
pub struct ScopedScript {
    handle: ScriptHandle,
}

impl ScopedScript {
    /// The mounted entry.
    pub fn handle(&self) -> &ScriptHandle {
        &self.handle
    }
}

impl Drop for ScopedScript {
    fn drop(&mut self) {
        self.handle.remove();
    }
}

/// Declares how many requests an endpoint should get; a terminal method (`times`,
/// `at_least`, …) registers it. Made by [`MockIdp::expect`](crate::MockIdp::expect);
/// checked when the IdP drops, or by [`MockIdp::verify`](crate::MockIdp::verify).
///
/// ```no_run
/// use mock_idp::{Endpoint, MockIdp};
///
/// # async fn demo(idp: MockIdp) {
/// idp.expect(Endpoint::Token).times(1);
/// idp.expect(Endpoint::Refresh).for_client("app").at_least(1);
/// idp.expect(Endpoint::Userinfo).never();
/// // … the test …
/// if let Err(report) = idp.verify() {
///     panic!("{report}"); // what was expected, what arrived
/// }
/// # }
/// ```
#[must_use = "an expectation is registered by times/at_least/at_most/between/never"]
pub struct ExpectationBuilder {
    shared: Arc<Shared>,
    endpoint: Endpoint,
    client_id: Option<ClientId>,
}

impl ExpectationBuilder {
    pub(crate) fn new(shared: Arc<Shared>, endpoint: Endpoint) -> Self {
        ExpectationBuilder {
            shared,
            endpoint,
            client_id: None,
        }
    }
    /// Count only this client's requests.
    pub fn for_client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(ClientId::new(client_id));
        self
    }
    fn register(self, min: u64, max: Option<u64>) {
        let e = Expectation {
            endpoint: self.endpoint,
            client_id: self.client_id,
            min,
            max,
        };
        self.shared.add_expectation(e);
    }
    /// Exactly `n` requests.
    pub fn times(self, n: u64) {
        self.register(n, Some(n));
    }
    /// At least `n`.
    pub fn at_least(self, n: u64) {
        self.register(n, None);
    }
    /// At most `n`.
    pub fn at_most(self, n: u64) {
        self.register(0, Some(n));
    }
    /// Between `min` and `max`, inclusive.
    pub fn between(self, min: u64, max: u64) {
        self.register(min, Some(max));
    }
    /// None at all.
    pub fn never(self) {
        self.register(0, Some(0));
    }
}
