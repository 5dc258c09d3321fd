//! Provider personalities: how one IdP looks and talks on the wire.
//!
//! The core (codes, tokens, sessions, strictness, scripting) is the same for every
//! provider. What differs — paths, discovery, scope separators, token formats, and above
//! all the *shape* of every answer and error — is a personality: a [`Profile`] of data plus
//! hooks. Every hook has a default that speaks plain RFC 6749 / OpenID Connect, so a
//! personality overrides only where its provider really differs (oauth2-proxy's
//! one-file-per-provider layout, inverted).
//!
//! A test picks one with [`MockIdpBuilder::provider`](crate::MockIdpBuilder::provider)
//! (defaults) or [`MockIdpBuilder::personality`](crate::MockIdpBuilder::personality) (with
//! options):
//!
//! ```
//! use mock_idp::MockIdp;
//! use mock_idp::personality::{GitHub, Microsoft};
//!
//! let github_app = MockIdp::builder().personality(GitHub::app()); // expiring, rotating tokens
//! let entra = MockIdp::builder().personality(Microsoft::new());
//! assert_eq!(Microsoft::new().tenant_id().len(), 36);
//! # drop((github_app, entra));
//! ```
//!
//! Inside the crate: `profile.rs` (the data), `context.rs` (what hooks see), `wire.rs` (the
//! semantic failures the core reports and helpers for shaping answers), `standard.rs` (the
//! standard answers), `hooks.rs` (the trait), then one file per provider. Adding a provider
//! = one file here implementing `Hooks`, plus one line in [`ProviderId`] and in
//! `personality_for` below.

mod amazon;
mod context;
mod facebook;
mod generic;
mod github;
mod gitlab;
mod google;
mod hooks;
mod linkedin;
mod microsoft;
mod oidc;
mod profile;
mod standard;
mod twitch;
mod wire;

pub use amazon::Amazon;
pub use facebook::Facebook;
pub use generic::{Generic, ProfileShape};
pub use github::GitHub;
pub use gitlab::GitLab;
pub use google::Google;
pub use linkedin::LinkedIn;
pub use microsoft::{CONSUMERS_TENANT, Microsoft};
pub use oidc::Oidc;
pub use profile::{
    DEVICE_CODE_GRANT, JWT_BEARER_GRANT, Paths, PkceSupport, Profile, ProviderId, Resource,
    TOKEN_EXCHANGE_GRANT,
};
pub use twitch::Twitch;

pub(crate) use context::{
    AuthorizeContext, ClaimsContext, DeviceContext, DiscoveryContext, ResourceContext, TokenContext,
    TokenInfoContext, TokenSource,
};
pub(crate) use hooks::Hooks;
pub(crate) use wire::{AuthorizeFailure, BearerFailure, ClientProblem, TokenFailure, TokenSuccess};

/// A provider personality a [`MockIdp`](crate::MockIdp) can play: one of the types of this
/// module, configured with its own methods ([`GitHub::app`], [`Generic::profile_shape`], …).
///
/// Sealed: every provider is one file inside this crate, where its hooks can reach the core's
/// vocabulary; outside it a personality is chosen, not written.
pub trait Personality: Hooks {}

impl<T: Hooks> Personality for T {}

/// The personality implementing a provider id, with its default options.
pub(crate) fn personality_for(id: ProviderId) -> Box<dyn Hooks> {
    match id {
        ProviderId::Oidc => Box::new(Oidc::new()),
        ProviderId::Google => Box::new(Google::new()),
        ProviderId::Github => Box::new(GitHub::oauth_app()),
        ProviderId::Microsoft => Box::new(Microsoft::new()),
        ProviderId::Gitlab => Box::new(GitLab::new()),
        ProviderId::Linkedin => Box::new(LinkedIn::new()),
        ProviderId::Twitch => Box::new(Twitch::new()),
        ProviderId::Amazon => Box::new(Amazon::new()),
        ProviderId::Facebook => Box::new(Facebook::new()),
        ProviderId::Generic => Box::new(Generic::new()),
    }
}
