//! Operations on a running IdP, shared by the Rust API (`MockIdp`, the builders) and the HTTP
//! admin API and inspector, so the two can never drift apart.

use std::collections::HashMap;

use serde_json::Value;

use crate::clients::{Client, ClientError};
use crate::expect::{Expectation, VerificationReport, verify};
use crate::keys::SigningAlg;
use crate::lint::Finding;
use crate::log::RecordedRequest;
use crate::personality::DiscoveryContext;
use crate::script::{ScriptEntry, ScriptError, check_applies};
use crate::shared::Shared;
use crate::types::{ClientId, UserId};
use crate::users::{User, UserPatch};

/// A user that does not exist.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("no user {0} at this IdP")]
pub struct UnknownUser(pub UserId);

impl Shared {
    /// Decides a device authorization by its user code: approve as `user` (who must exist), or
    /// deny (`None`).
    pub fn decide_device(&self, user_code: &str, user: Option<UserId>) -> Result<(), String> {
        let now = self.clock.now();
        let mut store = self.store.lock().unwrap();
        if let Some(u) = &user
            && !store.users.contains_key(u)
        {
            return Err(UnknownUser(u.clone()).to_string());
        }
        store.devices.decide(user_code, user, now)
    }

    /// The user codes of device authorizations waiting for a person, oldest first.
    pub fn waiting_devices(&self) -> Vec<(String, ClientId)> {
        let now = self.clock.now();
        self.store
            .lock()
            .unwrap()
            .devices
            .waiting(now)
            .into_iter()
            .map(|da| (da.user_code, da.client))
            .collect()
    }

    /// Adds or replaces a user.
    pub fn add_user(&self, user: User) {
        self.store.lock().unwrap().add_user(user);
    }

    /// Changes a user; returns the user as it is now.
    pub fn update_user(&self, id: &UserId, patch: &UserPatch) -> Result<User, UnknownUser> {
        let mut store = self.store.lock().unwrap();
        let user = store.users.get_mut(id).ok_or_else(|| UnknownUser(id.clone()))?;
        patch.apply(user);
        Ok(user.clone())
    }

    /// Deletes a user: their sessions, tokens and consents stop working.
    pub fn remove_user(&self, id: &UserId) -> bool {
        let mut store = self.store.lock().unwrap();
        let existed = store.users.shift_remove(id).is_some();
        if existed {
            store.revoke_user_grants(id);
            store.forget_consents(id);
            store.sessions.retain(|_, s| &s.user != id);
        }
        existed
    }

    /// Every user, in registration order.
    pub fn users(&self) -> Vec<User> {
        self.store.lock().unwrap().users.values().cloned().collect()
    }

    /// Revokes every grant of a user and ends their IdP sessions ("sign out everywhere",
    /// password change). Returns how many grants were revoked.
    pub fn revoke_user(&self, id: &UserId) -> usize {
        let mut store = self.store.lock().unwrap();
        store.sessions.retain(|_, s| &s.user != id);
        store.revoke_user_grants(id)
    }

    /// Adds or replaces a client after validating it.
    pub fn add_client(&self, client: Client) -> Result<(), ClientError> {
        self.store.lock().unwrap().add_client(client)
    }

    /// Removes a client.
    pub fn remove_client(&self, id: &ClientId) -> bool {
        self.store.lock().unwrap().clients.shift_remove(id).is_some()
    }

    /// Every client.
    pub fn clients(&self) -> Vec<Client> {
        self.store.lock().unwrap().clients.values().cloned().collect()
    }

    /// Queues a script entry (its `id` and `used` are set here), if it can ever answer.
    pub fn mount(&self, mut entry: ScriptEntry) -> Result<u64, ScriptError> {
        check_applies(&entry)?;
        entry.used = 0;
        Ok(self.script.lock().unwrap().push(entry))
    }

    /// Removes every scripted outcome.
    pub fn clear_script(&self) {
        self.script.lock().unwrap().clear();
    }

    /// The script entries.
    pub fn script_entries(&self) -> Vec<ScriptEntry> {
        self.script.lock().unwrap().entries().to_vec()
    }

    /// Rotates the signing key; returns the new key id.
    pub fn rotate_keys(&self, alg: SigningAlg, keep_old: bool) -> String {
        self.keys.write().unwrap().rotate(alg, keep_old)
    }

    /// The request log (most recent [`crate::log::RequestLog::CAPACITY`] requests).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.lock().unwrap().records()
    }

    /// Every lint finding in the log, with the request it was seen on.
    pub fn findings(&self) -> Vec<(u64, Finding)> {
        self.requests()
            .into_iter()
            .flat_map(|r| r.findings.into_iter().map(move |f| (r.seq, f)))
            .collect()
    }

    /// Forgets the request log (sequence numbers keep counting).
    pub fn clear_requests(&self) {
        self.log.lock().unwrap().clear();
    }

    /// Registers an expectation.
    pub fn add_expectation(&self, expectation: Expectation) {
        self.expectations.lock().unwrap().push(expectation);
    }

    /// Checks every expectation.
    pub fn verify(&self) -> Result<(), VerificationReport> {
        let expectations = self.expectations.lock().unwrap().clone();
        let log = self.log.lock().unwrap();
        verify(&expectations, log.hits())
    }

    /// Back to a clean slate between tests: no script, expectations, log, sessions or
    /// grants; the clock at real time. Users, clients and keys stay.
    pub fn reset(&self) {
        self.clear_script();
        self.expectations.lock().unwrap().clear();
        self.clear_requests();
        self.store.lock().unwrap().reset_sessions();
        self.clock.reset();
    }

    /// The discovery document of this instance for the path parameters of a request
    /// (Microsoft's `{tenant}`), as the personality writes it; `None` when it publishes none.
    pub fn discovery_document(&self, path_params: &HashMap<String, String>) -> Option<Value> {
        let ctx = DiscoveryContext {
            issuer: &self.issuer,
            base: &self.base,
            signing_algs: vec![SigningAlg::RS256.as_str(), SigningAlg::ES256.as_str()],
            path_params,
        };
        self.personality.discovery(&ctx)
    }
}
