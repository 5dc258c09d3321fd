//! Facebook Login (OAuth 2.0; identity from the Graph API's `/me?fields=id,name,email`). The
//! email is absent when declined or for phone-only accounts; Facebook only returns confirmed
//! addresses, so a present email counts as verified. `auth_type=reauthenticate` on
//! `/auth/authn`. Scopes are comma-separated.

use serde_json::Value;
use url::Url;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources, at};
use crate::session::Identity;

const VERSION: &str = "v19.0";

pub(super) fn build(base: Option<&Url>) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    (
        ProviderSpec {
            endpoints: Endpoints::Plain {
                authorize: at(
                    base,
                    "https://www.facebook.com",
                    &format!("/{VERSION}/dialog/oauth"),
                ),
                token: at(
                    base,
                    "https://graph.facebook.com",
                    &format!("/{VERSION}/oauth/access_token"),
                ),
                profiles: vec![(
                    "me",
                    at(
                        base,
                        "https://graph.facebook.com",
                        &format!("/{VERSION}/me?fields=id,name,email"),
                    ),
                )],
            },
            login_scopes: vec!["email".into(), "public_profile".into()],
            scope_separator: ",",
            pkce: false,
            client_auth: ClientAuth::Post,
            reauth_params: vec![("auth_type", "reauthenticate".into())],
            extra_params: vec![],
            token_in_header: true,
        },
        Box::new(Facebook),
    )
}

struct Facebook;

impl ProviderHooks for Facebook {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        let me = s.profile("me")?;
        let id = me
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Invalid("/me has no id".into()))?;
        let email = me.get("email").and_then(Value::as_str).map(str::to_owned);
        Ok(Identity {
            user_id: id.to_owned(),
            name: me.get("name").and_then(Value::as_str).map(str::to_owned),
            email_verified: email.is_some(),
            email,
            subject: Some(id.to_owned()),
            issuer: None,
        })
    }
}
