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

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outcome::Outcome;
use crate::types::{ClientId, Endpoint, GrantType};

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
    /// Only token requests of this grant match (every grant when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantType>,
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
    fn matches(&self, request: &Request<'_>) -> bool {
        self.endpoint == request.endpoint
            && self.is_live()
            && self
                .client_id
                .as_ref()
                .is_none_or(|want| Some(want) == request.client)
            && self.grant.is_none_or(|want| Some(want) == request.grant)
    }
}

/// What a script entry is matched against: the request's endpoint, its client when known,
/// and at the token endpoint its grant.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The client, when known.
    pub client: Option<&'a ClientId>,
    /// The grant of a token request.
    pub grant: Option<GrantType>,
}

impl<'a> Request<'a> {
    /// A request to `endpoint` from `client`, of no particular grant.
    pub fn to(endpoint: Endpoint, client: Option<&'a ClientId>) -> Request<'a> {
        Request {
            endpoint,
            client,
            grant: None,
        }
    }
}

/// What a request took from the script.
#[derive(Clone, Debug)]
pub struct Taken {
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

    /// Consumes one use of the first live entry for this request.
    #[cfg(test)]
    pub fn take(&mut self, request: &Request<'_>) -> Option<Taken> {
        self.take_if(request, |_| true)
    }

    /// Consumes one use of the first live entry for this request if `wanted` says so (an
    /// infrastructure fault before anything is checked; an error for a pending device poll).
    pub fn take_if(&mut self, request: &Request<'_>, wanted: impl Fn(&ScriptEntry) -> bool) -> Option<Taken> {
        let entry = self.entries.iter_mut().find(|e| e.matches(request))?;
        if !wanted(entry) {
            return None;
        }
        entry.used += 1;
        Some(Taken {
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

/// Checks that an entry can ever answer: its outcome fits its endpoint, and a grant is only
/// named at the token endpoint (refresh requests are [`Endpoint::Refresh`]).
pub fn check_applies(entry: &ScriptEntry) -> Result<(), ScriptError> {
    let (outcome, endpoint) = (&entry.outcome, entry.endpoint);
    if let Some(grant) = entry.grant
        && endpoint != Endpoint::Token
    {
        return Err(ScriptError {
            outcome: format!("grant {grant}"),
            endpoint,
            allowed: "token".into(),
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(endpoint: Endpoint, client: Option<&str>, times: Times, outcome: Outcome) -> ScriptEntry {
        ScriptEntry {
            id: 0,
            endpoint,
            client_id: client.map(ClientId::new),
            grant: None,
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
            s.take(&Request::to(Endpoint::Token, Some(&a))).unwrap().outcome,
            Outcome::InvalidGrant
        );
        assert_eq!(
            s.take(&Request::to(Endpoint::Token, Some(&b))).unwrap().outcome,
            Outcome::ServerError
        );
        assert_eq!(
            s.take(&Request::to(Endpoint::Token, Some(&b))).unwrap().outcome,
            Outcome::InvalidGrant
        );
        assert!(s.take(&Request::to(Endpoint::Token, Some(&b))).is_none());
        assert!(s.take(&Request::to(Endpoint::Refresh, Some(&b))).is_none());
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
            assert!(s.take(&Request::to(Endpoint::Userinfo, None)).is_some());
        }
    }

    #[test]
    fn misapplied_outcome_names_where_it_fits() {
        let err = check_applies(&entry(Endpoint::Token, None, Times::N(1), Outcome::Deny)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "outcome `deny` cannot be scripted on the token endpoint; it applies to: authorize"
        );
        let mut refresh = entry(Endpoint::Refresh, None, Times::N(1), Outcome::ServerError);
        refresh.grant = Some(GrantType::DeviceCode);
        assert_eq!(
            check_applies(&refresh).unwrap_err().to_string(),
            "outcome `grant device_code` cannot be scripted on the refresh endpoint; it applies to: token"
        );
    }
}
