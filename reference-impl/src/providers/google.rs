//! Google (OpenID Connect). Issuer `https://accounts.google.com`, and ID tokens that may carry
//! it without the scheme (Google's own guidance accepts both). `access_type=offline` so the
//! consent login yields a refresh token for the auth check; `prompt=select_account` to force
//! a fresh sign-in on `/auth/authn` (Google documents no `prompt=login`).

use serde_json::Value;
use url::Url;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources, at, oidc_identity};
use crate::session::Identity;

const ORIGIN: &str = "https://accounts.google.com";

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
            login_scopes: vec!["openid".into(), "email".into(), "profile".into()],
            scope_separator: " ",
            pkce: true,
            client_auth: ClientAuth::Basic,
            reauth_params: vec![("prompt", "select_account".into())],
            extra_params: vec![("access_type", "offline".into())],
            token_in_header: true,
        },
        Box::new(Google),
    )
}

struct Google;

impl ProviderHooks for Google {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        oidc_identity(s, &["name"])
    }

    fn accepted_issuers(&self, issuer: &str, _claims: &Value) -> Vec<String> {
        let bare = issuer
            .split_once("://")
            .map_or(issuer, |(_, rest)| rest)
            .to_owned();
        vec![issuer.to_owned(), bare]
    }
}
