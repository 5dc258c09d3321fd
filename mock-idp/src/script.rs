//! The script: queued outcomes per endpoint, consumed by the requests that match them.
//!
//! Modelled on wiremock's mounts. An entry names an [`Endpoint`], optionally a client id,
//! how often it answers ([`Times`]), an optional delay and an [`Outcome`]. A request takes
//! the *first* matching entry that still has uses left (FIFO), so
//! `on_token().once().respond(A); on_token().once().respond(B)` answers A, then B, then
//! normally. `always()` entries never run out and shadow the entries queued after them.
//! When nothing matches, the endpoint behaves normally (success).
//!
//! `respond` without a count means **once**: "the next login, the user presses Deny".

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outcome::Outcome;
use crate::state::Shared;
use crate::types::{ClientId, Endpoint};

/// How many requests a script entry answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Times {
    /// Exactly `n` matching requests.
    N(u32),
    /// Every matching request, for as long as the entry is mounted.
    Always,
}

impl Times {
    fn allows(self, used: u32) -> bool {
        match self {
            Times::N(n) => used < n,
            Times::Always => true,
        }
    }
}

/// One queued outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScriptEntry {
    /// Id, for removal and hit counts.
    pub id: u64,
    /// Which endpoint it answers.
    pub endpoint: Endpoint,
    /// Only requests of this client match (all clients when `None`).
    pub client_id: Option<ClientId>,
    /// How many requests it answers.
    pub times: Times,
    /// How many it has answered.
    pub used: u32,
    /// Delay before answering (a real sleep).
    #[serde(with = "humantime_serde", default)]
    pub delay: Duration,
    /// A name for reports.
    pub name: Option<String>,
    /// What to do.
    pub outcome: Outcome,
}

impl ScriptEntry {
    /// Whether the entry has uses left.
    pub fn is_live(&self) -> bool {
        self.times.allows(self.used)
    }
    fn matches(&self, endpoint: Endpoint, client: Option<&ClientId>) -> bool {
        self.endpoint == endpoint
            && self.is_live()
            && self.client_id.as_ref().is_none_or(|want| Some(want) == client)
    }
}

/// What a request took from the script.
#[derive(Clone, Debug)]
pub struct Taken {
    /// Entry id.
    pub id: u64,
    /// The outcome.
    pub outcome: Outcome,
    /// Delay before answering.
    pub delay: Duration,
}

/// The queue of script entries of one IdP.
#[derive(Debug, Default)]
pub struct Script {
    entries: Vec<ScriptEntry>,
    next_id: u64,
}

impl Script {
    /// Appends an entry and returns its id.
    pub fn push(&mut self, mut entry: ScriptEntry) -> u64 {
        self.next_id += 1;
        entry.id = self.next_id;
        self.entries.push(entry);
        self.next_id
    }

    /// The first live entry for this request, without consuming it.
    pub fn peek(&self, endpoint: Endpoint, client: Option<&ClientId>) -> Option<&ScriptEntry> {
        self.entries.iter().find(|e| e.matches(endpoint, client))
    }

    /// Consumes one use of the first live entry for this request.
    pub fn take(&mut self, endpoint: Endpoint, client: Option<&ClientId>) -> Option<Taken> {
        let entry = self.entries.iter_mut().find(|e| e.matches(endpoint, client))?;
        entry.used += 1;
        Some(Taken {
            id: entry.id,
            outcome: entry.outcome.clone(),
            delay: entry.delay,
        })
    }

    /// Removes an entry; returns whether it existed.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.id != id);
        before != self.entries.len()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// All entries, used-up ones included.
    pub fn entries(&self) -> &[ScriptEntry] {
        &self.entries
    }

    /// One entry by id.
    pub fn get(&self, id: u64) -> Option<&ScriptEntry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

/// A scripted outcome that does not fit the endpoint it was queued for.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("outcome `{outcome}` cannot be scripted on the {endpoint} endpoint; it applies to: {allowed}")]
pub struct ScriptError {
    /// The outcome kind.
    pub outcome: String,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Where it would fit.
    pub allowed: String,
}

/// Checks that `outcome` fits `endpoint`.
pub fn check_applies(outcome: &Outcome, endpoint: Endpoint) -> Result<(), ScriptError> {
    if outcome.applies_to(endpoint) {
        return Ok(());
    }
    let allowed: Vec<&str> = Endpoint::ALL
        .iter()
        .filter(|e| outcome.applies_to(**e))
        .map(|e| e.name())
        .collect();
    Err(ScriptError {
        outcome: outcome.kind(),
        endpoint,
        allowed: allowed.join(", "),
    })
}

/// Builds a script entry: `idp.on_token().for_client("app").times(2).respond(...)`.
#[must_use = "a script does nothing until `respond` mounts it"]
pub struct ScriptBuilder {
    shared: Arc<Shared>,
    endpoint: Endpoint,
    client_id: Option<ClientId>,
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
        let id = self.shared.mount(
            self.endpoint,
            self.client_id,
            self.times,
            self.delay,
            self.name,
            outcome,
        )?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(endpoint: Endpoint, client: Option<&str>, times: Times, outcome: Outcome) -> ScriptEntry {
        ScriptEntry {
            id: 0,
            endpoint,
            client_id: client.map(ClientId::new),
            times,
            used: 0,
            delay: Duration::ZERO,
            name: None,
            outcome,
        }
    }

    #[test]
    fn fifo_with_counts_and_client_matching() {
        let mut s = Script::default();
        s.push(entry(
            Endpoint::Token,
            Some("b"),
            Times::N(1),
            Outcome::ServerError,
        ));
        s.push(entry(Endpoint::Token, None, Times::N(2), Outcome::InvalidGrant));
        let a = ClientId::new("a");
        let b = ClientId::new("b");
        assert_eq!(
            s.take(Endpoint::Token, Some(&a)).unwrap().outcome,
            Outcome::InvalidGrant
        );
        assert_eq!(
            s.take(Endpoint::Token, Some(&b)).unwrap().outcome,
            Outcome::ServerError
        );
        assert_eq!(
            s.take(Endpoint::Token, Some(&b)).unwrap().outcome,
            Outcome::InvalidGrant
        );
        assert!(s.take(Endpoint::Token, Some(&b)).is_none());
        assert!(s.take(Endpoint::Refresh, Some(&b)).is_none());
    }

    #[test]
    fn always_never_runs_out() {
        let mut s = Script::default();
        s.push(entry(
            Endpoint::Userinfo,
            None,
            Times::Always,
            Outcome::ServerError,
        ));
        for _ in 0..100 {
            assert!(s.take(Endpoint::Userinfo, None).is_some());
        }
    }

    #[test]
    fn misapplied_outcome_names_where_it_fits() {
        let err = check_applies(&Outcome::Deny, Endpoint::Token).unwrap_err();
        assert_eq!(
            err.to_string(),
            "outcome `deny` cannot be scripted on the token endpoint; it applies to: authorize"
        );
    }
}
