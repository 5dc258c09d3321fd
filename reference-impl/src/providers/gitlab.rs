//! GitLab (OpenID Connect, Doorkeeper). `prompt=login` forces re-authentication. Access
//! tokens live two hours and refresh tokens rotate, which the auth check follows.

use url::Url;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources, at, oidc_identity};
use crate::session::Identity;

const ORIGIN: &str = "https://gitlab.com";

pub(super) fn build(base: Option<&Url>) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    let issuer = base
        .map(|b| b.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| ORIGIN.into());
    (
        ProviderSpec {
            endpoints: Endpoints::Oidc {
                discovery: at(base, ORIGIN, "/.well-known/openid-configuration"),
                expected_issuer: Some(issuer),
            },
            login_scopes: vec!["openid".into(), "profile".into(), "email".into()],
            scope_separator: " ",
            pkce: true,
            client_auth: ClientAuth::Basic,
            reauth_params: vec![("prompt", "login".into())],
            extra_params: vec![],
            token_in_header: true,
        },
        Box::new(GitLab),
    )
}

struct GitLab;

impl ProviderHooks for GitLab {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        oidc_identity(s, &["name", "nickname"])
    }
}
