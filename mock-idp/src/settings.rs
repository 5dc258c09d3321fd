//! Instance-wide settings that may change while the IdP runs: lifetimes, how the
//! authorization endpoint asks for the user's decision, and a few switches.
//!
//! Plain data, read by the handlers through [`crate::shared::Shared::settings`] and replaced
//! whole by `PUT /__admin/settings`; it depends on nothing but the client rules' lifetimes.

use serde::{Deserialize, Serialize};

use crate::clients::Lifetimes;

/// How the authorization endpoint gets a user's decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interaction {
    /// No page: approve at once as the scripted user, the `login_hint` user, the user of the
    /// IdP session, or the first user. For HTTP-only tests.
    #[default]
    Headless,
    /// Show the HTML login and consent page (browsers, local debugging).
    LoginPage,
}

/// Instance-wide settings that may change while the IdP runs (admin API).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Lifetimes of codes, tokens and the IdP session.
    pub lifetimes: Lifetimes,
    /// Headless or login page.
    pub interaction: Interaction,
    /// Overrides whether discovery advertises `authorization_response_iss_parameter_supported`
    /// (RFC 9207); `None` keeps the personality's choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertise_iss: Option<bool>,
    /// Other IdPs started alongside (`mock-idp serve --provider all`): name → inspector URL,
    /// linked from this one's inspector.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sibling_inspectors: Vec<(String, String)>,
    /// Issue access tokens as RFC 9068 JWTs (`typ: at+jwt`) for this resource (`aud`), signed
    /// with the IdP's keys, so an API behind a gateway can validate bearer tokens itself;
    /// `None` (the default) keeps the provider's own format (opaque where the real one is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_access_token_audience: Option<String>,
}
