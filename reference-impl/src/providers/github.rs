//! GitHub (OAuth 2.0; identity from the REST API). `/user` gives the numeric id and name; the
//! email is the primary **verified** address from `/user/emails` (needs `user:email`; when that
//! call fails the `/user` email counts as unverified). `prompt=select_account` re-prompts.

use serde_json::Value;
use url::Url;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources, at};
use crate::session::Identity;

pub(super) fn build(base: Option<&Url>) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    (
        ProviderSpec {
            endpoints: Endpoints::Plain {
                authorize: at(base, "https://github.com", "/login/oauth/authorize"),
                token: at(base, "https://github.com", "/login/oauth/access_token"),
                profiles: vec![
                    ("user", at(base, "https://api.github.com", "/user")),
                    ("emails", at(base, "https://api.github.com", "/user/emails")),
                ],
            },
            login_scopes: vec!["read:user".into(), "user:email".into()],
            scope_separator: " ",
            pkce: true,
            client_auth: ClientAuth::Post,
            reauth_params: vec![("prompt", "select_account".into())],
            extra_params: vec![],
            token_in_header: true,
        },
        Box::new(GitHub),
    )
}

struct GitHub;

impl ProviderHooks for GitHub {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        let user = s.profile("user")?;
        let id = match user.get("id") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(ProviderError::Invalid("GitHub's /user has no id".into())),
        };
        let primary = s
            .profile("emails")
            .ok()
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
                    .cloned()
            });
        let (email, verified) = match primary {
            Some(p) => (
                p.get("email").and_then(Value::as_str).map(str::to_owned),
                p.get("verified").and_then(Value::as_bool).unwrap_or(false),
            ),
            None => (
                user.get("email").and_then(Value::as_str).map(str::to_owned),
                false,
            ),
        };
        Ok(Identity {
            user_id: id.clone(),
            name: user
                .get("name")
                .and_then(Value::as_str)
                .or_else(|| user.get("login").and_then(Value::as_str))
                .map(str::to_owned),
            email,
            email_verified: verified,
            subject: Some(id),
            issuer: None,
        })
    }

    fn profile_optional(&self, name: &str) -> bool {
        name == "emails"
    }
}
