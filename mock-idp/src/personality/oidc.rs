//! `oidc`: a spec-exact OpenID Provider — the default personality.
//!
//! It follows OpenID Connect Core 1.0, Discovery 1.0, RP-Initiated Logout 1.0, RFC 6749,
//! RFC 6750, RFC 7009, RFC 7636 and RFC 9207 to the letter and tolerates nothing more: it is
//! what a relying party should be tested against first. Every hook is the trait default.

use super::{Paths, Personality, PkceSupport, Profile, ProviderId};

/// The standard OpenID Provider.
#[derive(Debug)]
pub struct Oidc {
    profile: Profile,
}

impl Oidc {
    /// The personality with its standard paths.
    pub fn new() -> Oidc {
        Oidc {
            profile: Profile {
                id: ProviderId::Oidc,
                display_name: "Mock OpenID Provider".into(),
                oidc: true,
                paths: Paths {
                    discovery: Some("/.well-known/openid-configuration".into()),
                    jwks: Some("/jwks".into()),
                    authorize: "/authorize".into(),
                    token: "/token".into(),
                    userinfo: "/userinfo".into(),
                    revocation: Some("/revoke".into()),
                    end_session: Some("/logout".into()),
                },
                resources: Vec::new(),
                scope_separators: vec![],
                scopes_supported: ["openid", "profile", "email", "offline_access"]
                    .map(String::from)
                    .to_vec(),
                default_scopes: "openid email profile".into(),
                token_type: "Bearer".into(),
                access_token_prefix: "mat_".into(),
                refresh_token_prefix: "mrt_".into(),
                iss_in_authorization_response: true,
                advertise_iss_parameter: true,
                pkce_methods_advertised: vec!["S256".into()],
                pkce: PkceSupport::Standard,
                access_token_bytes: 32,
                token_endpoint_get: false,
                client_auth_in_query: false,
                refresh_revokes_access_tokens: false,
                userinfo_requires_openid: true,
            },
        }
    }
}

impl Default for Oidc {
    fn default() -> Self {
        Oidc::new()
    }
}

impl Personality for Oidc {
    fn profile(&self) -> &Profile {
        &self.profile
    }
}
