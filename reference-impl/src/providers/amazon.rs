//! Login with Amazon (OAuth 2.0; identity from `/user/profile`). Amazon only returns confirmed
//! addresses and has no verification flag, so its email counts as verified. No switch to force
//! re-authentication.

use serde_json::Value;
use url::Url;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources, at};
use crate::session::Identity;

pub(super) fn build(base: Option<&Url>) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    (
        ProviderSpec {
            endpoints: Endpoints::Plain {
                authorize: at(base, "https://www.amazon.com", "/ap/oa"),
                token: at(base, "https://api.amazon.com", "/auth/o2/token"),
                profiles: vec![("profile", at(base, "https://api.amazon.com", "/user/profile"))],
            },
            login_scopes: vec!["profile".into()],
            scope_separator: " ",
            pkce: true,
            client_auth: ClientAuth::Post,
            reauth_params: vec![],
            extra_params: vec![],
            token_in_header: true,
        },
        Box::new(Amazon),
    )
}

struct Amazon;

impl ProviderHooks for Amazon {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        let p = s.profile("profile")?;
        let id = p
            .get("user_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Invalid("no user_id".into()))?;
        let email = p.get("email").and_then(Value::as_str).map(str::to_owned);
        Ok(Identity {
            user_id: id.to_owned(),
            name: p.get("name").and_then(Value::as_str).map(str::to_owned),
            email_verified: email.is_some(),
            email,
            subject: Some(id.to_owned()),
            issuer: None,
        })
    }
}
