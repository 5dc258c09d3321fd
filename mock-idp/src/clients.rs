//! Registered OAuth clients and the rules the IdP enforces for each.
//!
//! A [`Client`] says who may ask for codes and tokens and how: which redirect URIs match
//! (exact string comparison, as OAuth 2.1 and RFC 9700 require), how it authenticates at the
//! token endpoint, whether PKCE is required and whether `plain` is tolerated, and what
//! happens to refresh tokens when they are used (rotation).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::types::{ClientId, Secret};

/// How a client authenticates at the token and revocation endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// Public client: `client_id` only, PKCE required.
    None,
    /// A JWT signed with the client secret (HMAC; RFC 7523 §2.2, OIDC Core §9).
    ClientSecretJwt,
    /// A JWT signed with the client's private key; the public keys are [`Client::jwks`].
    PrivateKeyJwt,
}

impl TokenAuthMethod {
    /// Every method, in the order discovery lists them.
    pub const ALL: [TokenAuthMethod; 5] = [
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
        TokenAuthMethod::ClientSecretJwt,
        TokenAuthMethod::PrivateKeyJwt,
        TokenAuthMethod::None,
    ];

    /// The method with this registered name (`client_secret_basic`, …).
    pub fn parse(name: &str) -> Option<TokenAuthMethod> {
        TokenAuthMethod::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether the method proves the client secret (Basic, post or an HMAC-signed JWT).
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            TokenAuthMethod::ClientSecretBasic
                | TokenAuthMethod::ClientSecretPost
                | TokenAuthMethod::ClientSecretJwt
        )
    }

    /// The registered name (`client_secret_basic`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::None => "none",
            TokenAuthMethod::ClientSecretJwt => "client_secret_jwt",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// Whether the client must use PKCE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PkcePolicy {
    /// PKCE is accepted, and enforced when the authorization request used it.
    #[default]
    Optional,
    /// An authorization request without `code_challenge` is rejected.
    Required,
}

/// What the token endpoint does with a refresh token once it has been used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshRotation {
    /// The same refresh token keeps working; no new one is returned (Google).
    #[default]
    Never,
    /// Every refresh returns a new refresh token and the used one stops working (GitLab,
    /// GitHub Apps). Presenting the old one again revokes the whole grant (reuse detection).
    Rotate,
    /// Every refresh returns a new refresh token, and the old one keeps working until it
    /// expires (Microsoft Entra).
    Reissue,
}

/// A registered client.
///
/// ```
/// use mock_idp::{Client, RefreshRotation};
///
/// let app = Client::confidential("app", "s3cret")
///     .redirect_uri("https://app.example/oauth2/callback")
///     .refresh_rotation(RefreshRotation::Rotate);
/// assert!(app.validate().is_ok());
///
/// let spa = Client::public("spa").redirect_uri("http://127.0.0.1:5173/callback"); // PKCE required
/// assert!(spa.is_public() && spa.validate().is_ok());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// The `client_id`.
    pub id: ClientId,
    /// The secret; `None` makes a public client.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Redirect URIs, compared as exact strings.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser afterwards.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Accepted token-endpoint authentication methods.
    #[serde(default = "default_auth_methods")]
    pub auth_methods: Vec<TokenAuthMethod>,
    /// PKCE requirement.
    #[serde(default)]
    pub pkce: PkcePolicy,
    /// Accept `code_challenge_method=plain` (off by default: only S256).
    #[serde(default)]
    pub allow_plain_pkce: bool,
    /// Issue refresh tokens at all.
    #[serde(default = "default_true")]
    pub refresh_tokens: bool,
    /// Refresh-token rotation.
    #[serde(default)]
    pub refresh_rotation: RefreshRotation,
    /// The public keys of a `private_key_jwt` client (a JWK Set: `{"keys": [...]}`).
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    /// May use the `client_credentials` grant (confidential clients, where the provider has
    /// the grant); otherwise `unauthorized_client`.
    #[serde(default = "default_true")]
    pub client_credentials: bool,
}

fn default_auth_methods() -> Vec<TokenAuthMethod> {
    vec![
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
    ]
}
fn default_true() -> bool {
    true
}

/// A client registration that cannot work, with what to change.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClientError {
    /// A redirect URI is not an absolute URL or carries a fragment.
    #[error(
        "client {client}: redirect URI {uri:?} is not usable: {why} (register absolute URLs such as http://127.0.0.1:8080/oauth2/callback)"
    )]
    BadRedirectUri {
        /// Client id.
        client: String,
        /// The URI.
        uri: String,
        /// What is wrong.
        why: String,
    },
    /// A public client must use `none` and PKCE.
    #[error(
        "client {0}: a client without a secret is public: its auth method must be `none` and PKCE required"
    )]
    PublicClient(String),
    /// Secret auth methods without a secret, or `none` with one.
    #[error("client {0}: auth methods need a secret (client_secret_basic/post) or none of them (none)")]
    AuthMethods(String),
    /// `private_key_jwt` without public keys.
    #[error("client {0}: private_key_jwt needs the client's public keys (jwks: {{\"keys\": [...]}})")]
    NoKeys(String),
    /// A key of [`Client::jwks`] that cannot verify a client assertion.
    #[error(
        "client {client}: jwks key {index} is not usable: {why} (register public RSA keys (kty, n, e) or EC P-256/P-384 keys (kty, crv, x, y))"
    )]
    BadKey {
        /// Client id.
        client: String,
        /// The key's position in `keys`.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// Empty client id.
    #[error("a client id must not be empty")]
    EmptyId,
}

impl Client {
    /// A confidential client with `secret`, accepting Basic and post authentication.
    pub fn confidential(id: impl Into<String>, secret: impl Into<String>) -> Client {
        Client {
            id: ClientId::new(id),
            secret: Some(Secret::new(secret)),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            auth_methods: default_auth_methods(),
            pkce: PkcePolicy::Optional,
            allow_plain_pkce: false,
            refresh_tokens: true,
            refresh_rotation: RefreshRotation::Never,
            client_credentials: true,
            jwks: None,
        }
    }
    /// A client that authenticates with `private_key_jwt` only, with these public keys (a JWK
    /// Set).
    pub fn private_key_jwt(id: impl Into<String>, jwks: serde_json::Value) -> Client {
        Client {
            secret: None,
            auth_methods: vec![TokenAuthMethod::PrivateKeyJwt],
            jwks: Some(jwks),
            ..Client::confidential(id, "")
        }
    }
    /// A public client (no secret, auth method `none`, PKCE required).
    pub fn public(id: impl Into<String>) -> Client {
        Client {
            secret: None,
            auth_methods: vec![TokenAuthMethod::None],
            pkce: PkcePolicy::Required,
            ..Client::confidential(id, "")
        }
    }
    /// Adds an allowed redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Client {
        self.redirect_uris.push(uri.into());
        self
    }
    /// Adds an allowed post-logout redirect URI.
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Client {
        self.post_logout_redirect_uris.push(uri.into());
        self
    }
    /// Restricts token-endpoint authentication to these methods.
    pub fn auth_methods(mut self, methods: impl IntoIterator<Item = TokenAuthMethod>) -> Client {
        self.auth_methods = methods.into_iter().collect();
        self
    }
    /// Requires PKCE on every authorization request.
    pub fn require_pkce(mut self) -> Client {
        self.pkce = PkcePolicy::Required;
        self
    }
    /// Tolerates `code_challenge_method=plain`.
    pub fn allow_plain_pkce(mut self) -> Client {
        self.allow_plain_pkce = true;
        self
    }
    /// Sets refresh-token rotation.
    pub fn refresh_rotation(mut self, rotation: RefreshRotation) -> Client {
        self.refresh_rotation = rotation;
        self
    }
    /// May not use the `client_credentials` grant (`unauthorized_client`).
    pub fn no_client_credentials(mut self) -> Client {
        self.client_credentials = false;
        self
    }
    /// Never issues refresh tokens.
    pub fn no_refresh_tokens(mut self) -> Client {
        self.refresh_tokens = false;
        self
    }

    /// Whether this client has no secret.
    pub fn is_public(&self) -> bool {
        self.auth_methods.iter().all(|m| *m == TokenAuthMethod::None)
    }

    /// Checks that the registration is usable; called when a client is added.
    pub fn validate(&self) -> Result<(), ClientError> {
        if self.id.as_str().is_empty() {
            return Err(ClientError::EmptyId);
        }
        for uri in self.redirect_uris.iter().chain(&self.post_logout_redirect_uris) {
            let bad = |why: &str| ClientError::BadRedirectUri {
                client: self.id.to_string(),
                uri: uri.clone(),
                why: why.to_owned(),
            };
            let parsed = url::Url::parse(uri).map_err(|e| bad(&e.to_string()))?;
            if parsed.fragment().is_some() {
                return Err(bad(
                    "a redirect URI must not contain a fragment (RFC 6749 §3.1.2)",
                ));
            }
        }
        let secret_methods = self.auth_methods.iter().any(|m| m.uses_secret());
        if let Some(keys) = self.jwks.as_ref().and_then(|j| j["keys"].as_array()) {
            for (index, key) in keys.iter().enumerate() {
                check_public_key(key).map_err(|why| ClientError::BadKey {
                    client: self.id.to_string(),
                    index,
                    why,
                })?;
            }
        }
        if self.auth_methods.contains(&TokenAuthMethod::PrivateKeyJwt) {
            let has_keys = self
                .jwks
                .as_ref()
                .and_then(|j| j["keys"].as_array())
                .is_some_and(|k| !k.is_empty());
            if !has_keys {
                return Err(ClientError::NoKeys(self.id.to_string()));
            }
            if !secret_methods && self.secret.is_none() {
                return if self.auth_methods.is_empty() {
                    Err(ClientError::AuthMethods(self.id.to_string()))
                } else {
                    Ok(())
                };
            }
        }
        match (&self.secret, secret_methods) {
            (None, true) => return Err(ClientError::PublicClient(self.id.to_string())),
            (None, false) if self.pkce != PkcePolicy::Required => {
                return Err(ClientError::PublicClient(self.id.to_string()));
            }
            (Some(_), false) => return Err(ClientError::AuthMethods(self.id.to_string())),
            _ => {}
        }
        if self.auth_methods.is_empty() {
            return Err(ClientError::AuthMethods(self.id.to_string()));
        }
        Ok(())
    }
}

/// Whether a JWK can verify client assertions the way `assertion.rs` checks them: an RSA key
/// with `n` and `e`, or an EC P-256/P-384 key with `x` and `y`, all base64url; and public
/// only (a registration is listed by `GET /__admin/clients`).
fn check_public_key(key: &serde_json::Value) -> Result<(), String> {
    use base64::Engine;
    let b64 = |name: &str| match key[name].as_str() {
        None => Err(format!("it has no `{name}`")),
        Some(v) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v)
            .map(|_| ())
            .map_err(|_| format!("`{name}` is not base64url without padding")),
    };
    if key.get("d").is_some() {
        return Err("it contains the private key (`d`); register the public key only".into());
    }
    match key["kty"].as_str() {
        Some("RSA") => b64("n").and(b64("e")),
        Some("EC") => match key["crv"].as_str() {
            Some("P-256" | "P-384") => b64("x").and(b64("y")),
            other => Err(format!(
                "curve {} is not supported",
                other.map_or("(none)".to_owned(), |c| format!("{c:?}"))
            )),
        },
        Some(kty) => Err(format!("kty {kty:?} is not supported")),
        None => Err("it has no `kty`".into()),
    }
}

/// Registered URIs for a message: comma-separated, or `none`.
pub(crate) fn list_or_none(uris: &[String]) -> String {
    if uris.is_empty() {
        "none".to_owned()
    } else {
        uris.join(", ")
    }
}

/// Lifetimes and switches of the IdP as a whole (per instance).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lifetimes {
    /// How long an authorization code may be redeemed.
    #[serde(with = "humantime_serde")]
    pub code: Duration,
    /// Access-token lifetime (`expires_in`).
    #[serde(with = "humantime_serde")]
    pub access_token: Duration,
    /// ID-token lifetime (`exp - iat`).
    #[serde(with = "humantime_serde")]
    pub id_token: Duration,
    /// Refresh-token lifetime.
    #[serde(with = "humantime_serde")]
    pub refresh_token: Duration,
    /// How long the IdP's own login session (its browser cookie) lasts.
    #[serde(with = "humantime_serde")]
    pub idp_session: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            code: Duration::from_secs(60),
            access_token: Duration::from_secs(3600),
            id_token: Duration::from_secs(3600),
            refresh_token: Duration::from_secs(30 * 24 * 3600),
            idp_session: Duration::from_secs(8 * 3600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_problem() {
        let c = Client::confidential("app", "s").redirect_uri("not a url");
        assert!(c.validate().unwrap_err().to_string().contains("not a url"));
        let c = Client::confidential("app", "s").redirect_uri("https://app.example/cb#frag");
        assert!(c.validate().unwrap_err().to_string().contains("fragment"));
        assert!(
            Client::public("spa")
                .redirect_uri("http://127.0.0.1/cb")
                .validate()
                .is_ok()
        );
        let mut c = Client::public("spa");
        c.pkce = PkcePolicy::Optional;
        assert_eq!(c.validate(), Err(ClientError::PublicClient("spa".into())));
        assert!(
            Client::confidential("app", "s")
                .redirect_uri("https://a.example/cb")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn jwks_keys_must_be_public_keys_that_can_verify() {
        let key = crate::keys::SigningKey::generate(crate::keys::SigningAlg::ES256);
        let with = |k: serde_json::Value| {
            Client::private_key_jwt("svc", serde_json::json!({"keys": [k]})).validate()
        };
        assert!(with(key.jwk().clone()).is_ok());
        let mut private = key.jwk().clone();
        private["d"] = "c2VjcmV0".into();
        let err = with(private).unwrap_err().to_string();
        assert!(err.contains("key 0") && err.contains("private key"), "{err}");
        let err = with(serde_json::json!({"kty": "oct", "k": "c2VjcmV0"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"oct\" is not supported"), "{err}");
        let err = with(serde_json::json!({"kty": "RSA", "n": "not base64!"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`n` is not base64url"), "{err}");
        assert_eq!(
            TokenAuthMethod::parse("private_key_jwt"),
            Some(TokenAuthMethod::PrivateKeyJwt)
        );
        assert!(
            TokenAuthMethod::ALL
                .iter()
                .all(|m| TokenAuthMethod::parse(m.as_str()) == Some(*m))
        );
    }
}
