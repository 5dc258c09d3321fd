//! A generic OAuth 2.0 IdP with Authmonger's settings: authorize, token and profile URLs, a
//! scope string (default `openid email profile`), the login attribute that becomes the user id
//! (default `id`; a dotted path such as `data.0.id` reaches into nested profiles), and whether
//! the access token goes to the profile URL as `Authorization: Bearer` (default) or as the
//! `access_token` query parameter. The email is verified only when the profile's
//! verification field (default `email_verified`) is a real `true`.

use serde_json::Value;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources};
use crate::config::GenericSettings;
use crate::session::Identity;

pub(super) fn build(g: &GenericSettings) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    (
        ProviderSpec {
            endpoints: Endpoints::Plain {
                authorize: g.authorize_url.clone(),
                token: g.token_url.clone(),
                profiles: vec![("profile", g.profile_url.clone())],
            },
            login_scopes: g.scope.split_whitespace().map(str::to_owned).collect(),
            scope_separator: " ",
            pkce: true,
            client_auth: ClientAuth::Post,
            reauth_params: vec![("prompt", "login".into())],
            extra_params: vec![],
            token_in_header: g.access_token_as_auth_header,
        },
        Box::new(Generic {
            login_attribute: g.login_attribute.clone(),
            verified_field: g.email_verified_field.clone(),
        }),
    )
}

struct Generic {
    login_attribute: String,
    verified_field: String,
}

/// `a.b.0.c` into a JSON value.
pub(crate) fn pick<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, part| match cur {
        Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
        Value::Object(o) => o.get(part),
        _ => None,
    })
}

impl ProviderHooks for Generic {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        let p = s.profile("profile")?;
        // A profile wrapped in `data` (object or one-element array) is unwrapped.
        let user = match p.get("data") {
            Some(Value::Array(a)) if a.len() == 1 && pick(p, &self.login_attribute).is_none() => &a[0],
            Some(o @ Value::Object(_)) if pick(p, &self.login_attribute).is_none() => o,
            _ => p,
        };
        let id = match pick(user, &self.login_attribute) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(ProviderError::Invalid(format!(
                    "the profile has no usable {:?} (the configured login attribute)",
                    self.login_attribute
                )));
            }
        };
        let email = user.get("email").and_then(Value::as_str).map(str::to_owned);
        Ok(Identity {
            user_id: id.clone(),
            name: user.get("name").and_then(Value::as_str).map(str::to_owned),
            email_verified: pick(user, &self.verified_field)
                .and_then(Value::as_bool)
                .unwrap_or(false),
            email,
            subject: Some(id),
            issuer: None,
        })
    }
}
