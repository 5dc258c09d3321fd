//! LinkedIn (Sign In with LinkedIn using OpenID Connect). Issuer `https://www.linkedin.com/oauth`;
//! `client_secret_post` only; no PKCE (LinkedIn refuses it from web clients); no switch to force
//! re-authentication.

use url::Url;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources, at, oidc_identity};
use crate::session::Identity;

const ORIGIN: &str = "https://www.linkedin.com";

pub(super) fn build(base: Option<&Url>) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    let origin = base
        .map(|b| b.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| ORIGIN.into());
    (
        ProviderSpec {
            endpoints: Endpoints::Oidc {
                discovery: at(base, ORIGIN, "/oauth/.well-known/openid-configuration"),
                expected_issuer: Some(format!("{origin}/oauth")),
            },
            login_scopes: vec!["openid".into(), "profile".into(), "email".into()],
            scope_separator: " ",
            pkce: false,
            client_auth: ClientAuth::Post,
            reauth_params: vec![],
            extra_params: vec![],
            token_in_header: true,
        },
        Box::new(LinkedIn),
    )
}

struct LinkedIn;

impl ProviderHooks for LinkedIn {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        oidc_identity(s, &["name"])
    }
}
