//! RFC 8628 device authorizations in flight: the device code a client polls with, the user
//! code a person types on another device, their expiry and polling interval (on the IdP's
//! clock, so tests move time without sleeping), and the person's decision.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::types::{ClientId, ScopeSet, UserId, random_token};

/// What the person decided, or that the client already collected the tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceDecision {
    /// Nobody has entered the user code yet.
    Pending,
    /// Approved as this user.
    Approved(UserId),
    /// Denied.
    Denied,
    /// Approved, and the tokens were issued: the device code is spent.
    Redeemed,
}

/// One device authorization.
#[derive(Clone, Debug)]
pub struct DeviceAuthorization {
    /// What the client polls with.
    pub device_code: String,
    /// What the person types (`WDJB-MJHT`).
    pub user_code: String,
    /// The client that asked.
    pub client: ClientId,
    /// Scopes asked for.
    pub scopes: ScopeSet,
    /// When both codes stop working.
    pub expires_at: SystemTime,
    /// The minimum time between two polls; grows by 5 s at each `slow_down` (RFC 8628 §3.5).
    pub interval: Duration,
    /// The last poll, to tell a client that polls too fast.
    pub last_poll: Option<SystemTime>,
    /// The decision so far.
    pub decision: DeviceDecision,
}

/// Why a poll gets no tokens yet, or never will (RFC 8628 §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceProblem {
    /// Nobody has decided yet: keep polling.
    AuthorizationPending,
    /// Polled before the interval passed: wait 5 s longer from now on.
    SlowDown {
        /// The interval from now on, in seconds (GitHub says it in the answer).
        interval_secs: u64,
    },
    /// The device code expired.
    ExpiredToken,
    /// The person denied it.
    AccessDenied,
}

impl DeviceProblem {
    /// The RFC 8628 error code.
    pub fn code(self) -> &'static str {
        match self {
            DeviceProblem::AuthorizationPending => "authorization_pending",
            DeviceProblem::SlowDown { .. } => "slow_down",
            DeviceProblem::ExpiredToken => "expired_token",
            DeviceProblem::AccessDenied => "access_denied",
        }
    }

    /// What it means, for the standard personality.
    pub fn describe(self) -> &'static str {
        match self {
            DeviceProblem::AuthorizationPending => "the user has not entered the user code yet; keep polling",
            DeviceProblem::SlowDown { .. } => {
                "polled before the interval passed; wait 5 seconds longer between polls"
            }
            DeviceProblem::ExpiredToken => "the device code has expired; start a new device authorization",
            DeviceProblem::AccessDenied => "the user denied the device authorization",
        }
    }
}

/// Why a device code cannot be used at all (`invalid_grant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceCodeProblem {
    /// Never issued.
    Unknown,
    /// Issued to another client.
    OtherClient,
    /// Its tokens were issued already.
    Redeemed,
}

/// The device authorizations of one IdP.
#[derive(Debug, Default)]
pub struct DeviceCodes {
    by_device: HashMap<String, DeviceAuthorization>,
    by_user: HashMap<String, String>,
}

/// The alphabet of user codes: consonants only, so no word can be spelt (RFC 8628 §6.1).
const USER_CODE_CHARS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

fn user_code() -> String {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random number generator failed");
    let chars: String = bytes
        .iter()
        .map(|b| USER_CODE_CHARS[usize::from(*b) % USER_CODE_CHARS.len()] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// A user code as typed: case and the dash do not matter.
fn normalize(user_code: &str) -> String {
    user_code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl DeviceCodes {
    /// Starts a device authorization for `client`.
    pub fn start(
        &mut self,
        client: &ClientId,
        scopes: ScopeSet,
        now: SystemTime,
        lifetime: Duration,
        interval: Duration,
    ) -> DeviceAuthorization {
        let da = DeviceAuthorization {
            device_code: random_token(32),
            user_code: user_code(),
            client: client.clone(),
            scopes,
            expires_at: now + lifetime,
            interval,
            last_poll: None,
            decision: DeviceDecision::Pending,
        };
        self.by_user
            .insert(normalize(&da.user_code), da.device_code.clone());
        self.by_device.insert(da.device_code.clone(), da.clone());
        da
    }

    /// Records the person's decision: approve as `user`, or deny (`None`).
    pub fn decide(&mut self, user_code: &str, user: Option<UserId>, now: SystemTime) -> Result<(), String> {
        let device = self
            .by_user
            .get(&normalize(user_code))
            .cloned()
            .ok_or_else(|| format!("no device authorization has the user code {user_code:?}"))?;
        let da = self.by_device.get_mut(&device).expect("indexed");
        if now >= da.expires_at {
            return Err(format!("the user code {user_code:?} has expired"));
        }
        if da.decision != DeviceDecision::Pending {
            return Err(format!("the user code {user_code:?} was already used"));
        }
        da.decision = match user {
            Some(u) => DeviceDecision::Approved(u),
            None => DeviceDecision::Denied,
        };
        Ok(())
    }

    /// Whether `device_code` is one of `client`'s that can still be polled (nothing changes).
    pub fn check(&self, device_code: &str, client: &ClientId) -> Result<(), DeviceCodeProblem> {
        let da = self
            .by_device
            .get(device_code)
            .ok_or(DeviceCodeProblem::Unknown)?;
        pollable(da, client)
    }

    /// A client polls with its device code: the approved user and scopes, once; or why not.
    pub fn poll(
        &mut self,
        device_code: &str,
        client: &ClientId,
        now: SystemTime,
    ) -> Result<Result<(UserId, ScopeSet), DeviceProblem>, DeviceCodeProblem> {
        let da = self
            .by_device
            .get_mut(device_code)
            .ok_or(DeviceCodeProblem::Unknown)?;
        pollable(da, client)?;
        if now >= da.expires_at {
            return Ok(Err(DeviceProblem::ExpiredToken));
        }
        let too_soon = da.last_poll.is_some_and(|last| now < last + da.interval);
        da.last_poll = Some(now);
        if too_soon {
            da.interval += Duration::from_secs(5);
            return Ok(Err(DeviceProblem::SlowDown {
                interval_secs: da.interval.as_secs(),
            }));
        }
        match da.decision.clone() {
            DeviceDecision::Pending => Ok(Err(DeviceProblem::AuthorizationPending)),
            DeviceDecision::Denied => Ok(Err(DeviceProblem::AccessDenied)),
            DeviceDecision::Approved(user) => {
                da.decision = DeviceDecision::Redeemed;
                Ok(Ok((user, da.scopes.clone())))
            }
            DeviceDecision::Redeemed => Err(DeviceCodeProblem::Redeemed),
        }
    }

    /// Device authorizations still waiting for a person, newest last.
    pub fn waiting(&self, now: SystemTime) -> Vec<DeviceAuthorization> {
        let mut v: Vec<DeviceAuthorization> = self
            .by_device
            .values()
            .filter(|da| now < da.expires_at && da.decision == DeviceDecision::Pending)
            .cloned()
            .collect();
        v.sort_by_key(|da| da.expires_at);
        v
    }

    /// Forgets authorizations a day past their expiry.
    pub fn purge(&mut self, now: SystemTime) {
        let day = Duration::from_secs(24 * 3600);
        self.by_device.retain(|_, da| now < da.expires_at + day);
        let live: std::collections::HashSet<&String> = self.by_device.keys().collect();
        self.by_user.retain(|_, d| live.contains(d));
    }
}

/// Whether `client` may poll `da`: its own device code, not yet redeemed.
fn pollable(da: &DeviceAuthorization, client: &ClientId) -> Result<(), DeviceCodeProblem> {
    if &da.client != client {
        Err(DeviceCodeProblem::OtherClient)
    } else if da.decision == DeviceDecision::Redeemed {
        Err(DeviceCodeProblem::Redeemed)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(codes: &mut DeviceCodes, now: SystemTime) -> DeviceAuthorization {
        codes.start(
            &ClientId::new("tv"),
            ScopeSet::parse("openid", &[' ']),
            now,
            Duration::from_secs(900),
            Duration::from_secs(5),
        )
    }

    #[test]
    fn a_poll_is_pending_then_slowed_then_approved_once() {
        let mut codes = DeviceCodes::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let da = start(&mut codes, t0);
        assert_eq!(da.user_code.len(), 9);
        let tv = ClientId::new("tv");
        assert_eq!(
            codes.poll(&da.device_code, &tv, t0),
            Ok(Err(DeviceProblem::AuthorizationPending))
        );
        assert_eq!(
            codes.poll(&da.device_code, &tv, t0 + Duration::from_secs(2)),
            Ok(Err(DeviceProblem::SlowDown { interval_secs: 10 }))
        );
        // The interval is now 10 s from the last poll.
        assert_eq!(
            codes.poll(&da.device_code, &tv, t0 + Duration::from_secs(9)),
            Ok(Err(DeviceProblem::SlowDown { interval_secs: 15 }))
        );
        codes
            .decide(
                &da.user_code.to_lowercase().replace('-', ""),
                Some(UserId::new("alice")),
                t0,
            )
            .unwrap();
        let later = t0 + Duration::from_secs(60);
        assert!(
            matches!(codes.poll(&da.device_code, &tv, later), Ok(Ok((u, _))) if u == UserId::new("alice"))
        );
        assert_eq!(
            codes.poll(&da.device_code, &tv, later + Duration::from_secs(60)),
            Err(DeviceCodeProblem::Redeemed)
        );
        assert_eq!(
            codes.poll(&da.device_code, &ClientId::new("other"), later),
            Err(DeviceCodeProblem::OtherClient)
        );
    }

    #[test]
    fn denied_and_expired_codes_say_so() {
        let mut codes = DeviceCodes::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let tv = ClientId::new("tv");
        let denied = start(&mut codes, t0);
        codes.decide(&denied.user_code, None, t0).unwrap();
        assert_eq!(
            codes.poll(&denied.device_code, &tv, t0),
            Ok(Err(DeviceProblem::AccessDenied))
        );
        let old = start(&mut codes, t0);
        let after = t0 + Duration::from_secs(901);
        assert_eq!(
            codes.poll(&old.device_code, &tv, after),
            Ok(Err(DeviceProblem::ExpiredToken))
        );
        assert!(
            codes
                .decide(&old.user_code, Some(UserId::new("alice")), after)
                .is_err()
        );
    }
}
