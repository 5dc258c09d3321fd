//! Twitch (OpenID Connect on id.twitch.tv). Issuer `https://id.twitch.tv/oauth2`; credentials
//! in the body; the email, its verification and the display name only come when asked for
//! with the `claims` parameter; `force_verify=true` re-prompts on `/auth/authn`.

use url::Url;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources, at, oidc_identity};
use crate::session::Identity;

const ORIGIN: &str = "https://id.twitch.tv";

pub(super) fn build(base: Option<&Url>) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    let origin = base
        .map(|b| b.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| ORIGIN.into());
    let wanted = r#"{"email":null,"email_verified":null,"preferred_username":null}"#;
    (
        ProviderSpec {
            endpoints: Endpoints::Oidc {
                discovery: at(base, ORIGIN, "/oauth2/.well-known/openid-configuration"),
                expected_issuer: Some(format!("{origin}/oauth2")),
            },
            login_scopes: vec!["openid".into(), "user:read:email".into()],
            scope_separator: " ",
            pkce: false,
            client_auth: ClientAuth::Post,
            reauth_params: vec![("force_verify", "true".into())],
            extra_params: vec![(
                "claims",
                format!(r#"{{"id_token":{wanted},"userinfo":{wanted}}}"#),
            )],
            token_in_header: true,
        },
        Box::new(Twitch),
    )
}

struct Twitch;

impl ProviderHooks for Twitch {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        oidc_identity(s, &["preferred_username"])
    }
}
