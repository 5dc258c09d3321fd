//! Microsoft Entra ID (v2.0 endpoints). The tenant (`common` by default) is part of every path.
//! Multi-tenant discovery publishes the issuer as a template with `{tenantid}`; each ID token
//! is checked against that template filled with its own `tid`. The user id is `oid` (stable
//! across apps; `sub` is pairwise). Entra does not verify `email`: it counts as verified only
//! when the token says the domain owner verified it (`xms_edov: true`), so an allowed-email
//! rule cannot be met by a self-asserted address (the "nOAuth" takeover).

use serde_json::Value;
use url::Url;

use super::{ClientAuth, Endpoints, ProviderError, ProviderHooks, ProviderSpec, Sources, at};
use crate::session::Identity;

const ORIGIN: &str = "https://login.microsoftonline.com";

pub(super) fn build(base: Option<&Url>, tenant: &str) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    let origin = base
        .map(|b| b.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| ORIGIN.into());
    let expected = match tenant {
        "common" | "organizations" | "consumers" => None,
        guid => Some(format!("{origin}/{guid}/v2.0")),
    };
    (
        ProviderSpec {
            endpoints: Endpoints::Oidc {
                discovery: at(
                    base,
                    ORIGIN,
                    &format!("/{tenant}/v2.0/.well-known/openid-configuration"),
                ),
                expected_issuer: expected,
            },
            login_scopes: ["openid", "profile", "email", "offline_access", "User.Read"]
                .map(String::from)
                .to_vec(),
            scope_separator: " ",
            pkce: true,
            client_auth: ClientAuth::Post,
            reauth_params: vec![("prompt", "login".into())],
            extra_params: vec![],
            token_in_header: true,
        },
        Box::new(Microsoft),
    )
}

struct Microsoft;

impl ProviderHooks for Microsoft {
    fn identity(&self, s: &Sources<'_>) -> Result<Identity, ProviderError> {
        let claims = s
            .claims
            .ok_or_else(|| ProviderError::Invalid("no ID token".into()))?;
        let oid = claims
            .get("oid")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Invalid("the ID token has no oid".into()))?;
        let edov = claims.get("xms_edov").and_then(Value::as_bool).unwrap_or(false);
        Ok(Identity {
            user_id: oid.to_owned(),
            name: s.string("name"),
            email: s.string("email"),
            email_verified: edov,
            subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            issuer: claims.get("iss").and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// `https://login.microsoftonline.com/{tenantid}/v2.0` with the token's own `tid`.
    fn accepted_issuers(&self, issuer: &str, claims: &Value) -> Vec<String> {
        match claims.get("tid").and_then(Value::as_str) {
            Some(tid) if issuer.contains("{tenantid}") => vec![issuer.replace("{tenantid}", tid)],
            _ => vec![issuer.to_owned()],
        }
    }
}
