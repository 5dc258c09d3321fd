//! The [`Oidc`] personality: a spec-exact OpenID Provider — the default personality.
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use super::hooks::Hooks;
use super::profile::{Paths, Profile, ProviderId};
use crate::clients::TokenAuthMethod;

/// A spec-exact OpenID Provider — the default personality.
///
/// It follows OpenID Connect Core 1.0, Discovery 1.0, RP-Initiated Logout 1.0, RFC 6749,
/// RFC 6750, RFC 7009, RFC 7636 and RFC 9207 to the letter and tolerates nothing more: it is
/// what a relying party should be tested against first. Every hook is the trait default.
#[derive(Debug)]
pub struct Oidc {
    profile: Profile,
}

impl Oidc {
    /// The personality with its standard paths.
    pub fn new() -> Oidc {
        Oidc {
            profile: Profile {
                scopes_supported: ["openid", "profile", "email", "offline_access"]
                    .map(String::from)
                    .to_vec(),
                access_token_prefix: "mat_".into(),
                refresh_token_prefix: "mrt_".into(),
                iss_in_authorization_response: true,
                advertise_iss_parameter: true,
                client_credentials: true,
                token_exchange: true,
                jwt_bearer: true,
                client_auth_methods: vec![
                    TokenAuthMethod::ClientSecretBasic,
                    TokenAuthMethod::ClientSecretPost,
                    TokenAuthMethod::ClientSecretJwt,
                    TokenAuthMethod::PrivateKeyJwt,
                    TokenAuthMethod::None,
                ],
                ..Profile::standard(
                    ProviderId::Oidc,
                    "Mock OpenID Provider",
                    true,
                    Paths {
                        discovery: Some("/.well-known/openid-configuration".into()),
                        jwks: Some("/jwks".into()),
                        authorize: "/authorize".into(),
                        token: "/token".into(),
                        userinfo: "/userinfo".into(),
                        revocation: Some("/revoke".into()),
                        end_session: Some("/logout".into()),
                        introspection: Some("/introspect".into()),
                        device_authorization: Some("/device_authorization".into()),
                        device_verification: Some("/device".into()),
                    },
                )
            },
        }
    }
}

impl Default for Oidc {
    fn default() -> Self {
        Oidc::new()
    }
}

impl Hooks for Oidc {
    fn profile(&self) -> &Profile {
        &self.profile
    }
}
