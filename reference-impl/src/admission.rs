//! Who is let in: one rule, applied at login and again at every auth check, so the two can
//! never drift apart.
//!
//! In order: the endpoint's email rules (an unverified address never matches); an identity
//! whose user id *is* an email the provider did not verify is no identity at all (whoever
//! typed that address at the IdP would become that user); with just-in-time provisioning off
//! (generic provider), only provisioned users and existing App Users.

use crate::config::OAuthPolicy;
use crate::faults::Fault;
use crate::policy::{Decision, Subject};
use crate::runtime::{EndpointRt, Shared};
use crate::session::Identity;

/// Why a user is not let in; the message is shown to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The email rules refuse them.
    Unauthorized(String),
    /// Their user id is an email the provider did not verify.
    UnverifiedId(String),
    /// Just-in-time provisioning is off and they are not provisioned.
    NotProvisioned(String),
}

impl Refusal {
    /// The page's machine-readable code (`x-gateway-error`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unauthorized(_) | Refusal::UnverifiedId(_) => "unauthorized",
            Refusal::NotProvisioned(_) => "not_provisioned",
        }
    }

    /// What the user is told.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Unauthorized(m) | Refusal::UnverifiedId(m) | Refusal::NotProvisioned(m) => m,
        }
    }
}

/// The App User key: the provider and its user id — for `generic`, also the IdP's host, so
/// two generic IdPs never share users.
pub fn user_key(oauth: &OAuthPolicy, user_id: &str) -> String {
    match &oauth.generic {
        Some(g) => format!(
            "generic@{}:{user_id}",
            g.authorize_url.host_str().unwrap_or_default()
        ),
        None => format!("{}:{user_id}", oauth.provider),
    }
}

/// Decides whether `identity` may use endpoint `ep`; on success, its App User key.
pub async fn admit(shared: &Shared, ep: &EndpointRt, identity: &Identity) -> Result<String, Refusal> {
    let oauth = &ep.endpoint.oauth;
    let faults = &shared.runtime().config.test_faults;
    let verified = identity.email_verified || faults.has(Fault::TrustUnverifiedEmails);
    if let Decision::Deny(reason) = oauth.emails.decide(&Subject {
        email: identity.email.as_deref(),
        email_verified: verified,
    }) {
        return Err(Refusal::Unauthorized(reason));
    }
    if let Some(email) = identity.email.as_deref()
        && !verified
        && identity.user_id.trim().eq_ignore_ascii_case(email.trim())
    {
        return Err(Refusal::UnverifiedId(format!(
            "your user id is the email address {email}, which the identity provider has not verified"
        )));
    }
    let key = user_key(oauth, &identity.user_id);
    if let Some(g) = &oauth.generic
        && !g.jit_provisioning
        && !g.provisioned_users.contains(&identity.user_id)
        && !matches!(shared.store.user(&key).await, Ok(Some(_)))
    {
        return Err(Refusal::NotProvisioned(format!(
            "user {} is not provisioned for this site (just-in-time provisioning is off)",
            identity.user_id
        )));
    }
    Ok(key)
}
