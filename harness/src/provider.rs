//! The providers a scenario can name, defined once: their ids (profiles, templates, reports
//! in JSON), the names features and reports use ("GitHub", "Microsoft Entra ID", "a generic
//! OAuth 2.0 IdP"), the mock personality that plays each, and the reference gateway's kind.
//!
//! Parsing is strict: an unknown name is an error naming the known ones, never a silent
//! "generic". A step that names a provider takes a [`Provider`] (`{provider}` in a cucumber
//! expression, or a capture parsed with [`FromStr`]). In a step function's signature write it
//! as `crate::provider::Provider`: cucumber's step macros declare a `Provider` of their own
//! that a bare name would resolve to.

use std::fmt;
use std::str::FromStr;

use mock_idp::MockIdpBuilder;
use mock_idp::personality::{Amazon, Facebook, Generic, GitHub, GitLab, Google, LinkedIn, Microsoft, Twitch};
use serde::{Deserialize, Serialize};

/// A provider the suite can play and a gateway can support.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, cucumber::Parameter,
)]
#[serde(rename_all = "lowercase")]
#[param(
    name = "provider",
    regex = "Google|GitHub|Microsoft Entra ID|Microsoft|GitLab|LinkedIn|Twitch|Amazon|Facebook|a generic OAuth 2\\.0 IdP"
)]
pub enum Provider {
    /// Login with Amazon.
    Amazon,
    /// Facebook Login.
    Facebook,
    /// GitHub (an OAuth app; a GitHub App with rotating tokens as a flavour).
    Github,
    /// GitLab.
    Gitlab,
    /// Google.
    Google,
    /// LinkedIn (OpenID Connect).
    Linkedin,
    /// Microsoft Entra ID.
    Microsoft,
    /// Twitch.
    Twitch,
    /// A generic OAuth 2.0 IdP (Authmonger's settings).
    Generic,
}

/// Which variant of a provider the mock plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavour {
    /// The provider's usual app type.
    #[default]
    Standard,
    /// GitHub App (expiring, rotating user tokens) / rotating refresh tokens elsewhere.
    Rotating,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 9] = [
        Provider::Amazon,
        Provider::Facebook,
        Provider::Github,
        Provider::Gitlab,
        Provider::Google,
        Provider::Linkedin,
        Provider::Microsoft,
        Provider::Twitch,
        Provider::Generic,
    ];

    /// The id profiles and templates use (`github`).
    pub fn id(self) -> &'static str {
        match self {
            Provider::Amazon => "amazon",
            Provider::Facebook => "facebook",
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Google => "google",
            Provider::Linkedin => "linkedin",
            Provider::Microsoft => "microsoft",
            Provider::Twitch => "twitch",
            Provider::Generic => "generic",
        }
    }

    /// The name reports use (`GitHub`; `Generic`).
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Amazon => "Amazon",
            Provider::Facebook => "Facebook",
            Provider::Github => "GitHub",
            Provider::Gitlab => "GitLab",
            Provider::Google => "Google",
            Provider::Linkedin => "LinkedIn",
            Provider::Microsoft => "Microsoft",
            Provider::Twitch => "Twitch",
            Provider::Generic => "Generic",
        }
    }

    /// The reference gateway's provider.
    pub fn kind(self) -> ref_gateway::ProviderKind {
        match self {
            Provider::Amazon => ref_gateway::ProviderKind::Amazon,
            Provider::Facebook => ref_gateway::ProviderKind::Facebook,
            Provider::Github => ref_gateway::ProviderKind::Github,
            Provider::Gitlab => ref_gateway::ProviderKind::Gitlab,
            Provider::Google => ref_gateway::ProviderKind::Google,
            Provider::Linkedin => ref_gateway::ProviderKind::Linkedin,
            Provider::Microsoft => ref_gateway::ProviderKind::Microsoft,
            Provider::Twitch => ref_gateway::ProviderKind::Twitch,
            Provider::Generic => ref_gateway::ProviderKind::Generic,
        }
    }

    /// The mock IdP playing this provider.
    pub fn personality(self, b: MockIdpBuilder, flavour: Flavour) -> MockIdpBuilder {
        match (self, flavour) {
            (Provider::Google, _) => b.personality(Google::new()),
            (Provider::Github, Flavour::Rotating) => b.personality(GitHub::app()),
            (Provider::Github, _) => b.personality(GitHub::oauth_app()),
            (Provider::Microsoft, _) => b.personality(Microsoft::new()),
            (Provider::Gitlab, _) => b.personality(GitLab::new()),
            (Provider::Linkedin, _) => b.personality(LinkedIn::new()),
            (Provider::Twitch, _) => b.personality(Twitch::new()),
            (Provider::Amazon, Flavour::Rotating) => b.personality(Amazon::new().rotating_refresh()),
            (Provider::Amazon, _) => b.personality(Amazon::new()),
            (Provider::Facebook, _) => b.personality(Facebook::new()),
            (Provider::Generic, _) => b.personality(Generic::new()),
        }
    }

    /// Whether the provider issues refresh tokens to a standard app (GitHub OAuth apps,
    /// LinkedIn and Facebook do not).
    pub fn refreshes(self) -> bool {
        !matches!(self, Provider::Github | Provider::Linkedin | Provider::Facebook)
    }
}

impl From<ref_gateway::ProviderKind> for Provider {
    fn from(kind: ref_gateway::ProviderKind) -> Provider {
        Provider::ALL
            .into_iter()
            .find(|p| p.kind() == kind)
            .expect("every gateway provider is a suite provider")
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// A name that is no provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown provider {0:?}; known: amazon, facebook, github, gitlab, google, linkedin, microsoft, twitch, generic"
)]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    /// An id (`github`) or a name features use (`GitHub`, `Microsoft Entra ID`, `a generic
    /// OAuth 2.0 IdP`), in any case.
    fn from_str(s: &str) -> Result<Provider, UnknownProvider> {
        let t = s.trim().to_ascii_lowercase();
        let alias = match t.as_str() {
            "microsoft entra id" | "entra" | "entra id" => Some(Provider::Microsoft),
            "a generic oauth 2.0 idp" | "generic oauth2" => Some(Provider::Generic),
            _ => None,
        };
        alias
            .or_else(|| Provider::ALL.into_iter().find(|p| p.id() == t))
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}

/// The provider a scenario names in a step ("the identity provider is GitHub…", its own step
/// overriding its Background's), if any: `Err` with the words when they name no provider.
pub fn named_in(
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
) -> Option<Result<Provider, UnknownProvider>> {
    let background = feature.background.iter().flat_map(|b| b.steps.iter());
    let mut found = None;
    for step in background.chain(scenario.steps.iter()) {
        if let Some(rest) = step.value.strip_prefix("the identity provider is ") {
            let name = rest.split(" with ").next().unwrap_or(rest);
            found = Some(name.parse());
        }
    }
    found
}

/// The provider a scenario runs against: the one it names, else `default`.
pub fn of_scenario(
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
    default: Provider,
) -> Result<Provider, UnknownProvider> {
    named_in(feature, scenario).unwrap_or(Ok(default))
}

/// The matrix column of a scenario: its provider's name (or the unknown words it uses).
pub fn provider_column(
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
    default: Provider,
) -> String {
    match of_scenario(feature, scenario, default) {
        Ok(p) => p.display_name().to_owned(),
        Err(UnknownProvider(words)) => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_parse_and_nothing_else_does() {
        for p in Provider::ALL {
            assert_eq!(p.id().parse::<Provider>(), Ok(p));
            assert_eq!(p.display_name().parse::<Provider>(), Ok(p));
            assert_eq!(Provider::from(p.kind()), p);
        }
        assert_eq!("Microsoft Entra ID".parse(), Ok(Provider::Microsoft));
        assert_eq!("a generic OAuth 2.0 IdP".parse(), Ok(Provider::Generic));
        let err = "MySpace".parse::<Provider>().unwrap_err().to_string();
        assert!(err.contains("unknown provider \"MySpace\""), "{err}");
    }
}
