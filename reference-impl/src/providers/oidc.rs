//! OpenID Connect machinery shared by the OIDC providers: discovery (cached, issuer checked),
//! the JWKS (cached, refetched once when a token names an unknown key — throttled so random
//! `kid`s cannot force a fetch storm), and ID-token verification with `openidconnect`.
//!
//! Verification (security checklist 18–26): signature with an algorithm from the discovered
//! allow-list (RS/PS/ES only — never `none`, never HMAC with a public key, never a key named by
//! the token's own header), `iss` exact (per-provider accepted forms), `aud` contains the
//! client and no untrusted extra audience, `azp` if present equals the client, `exp` with
//! 60 s of skew, `iat` present, not in the future and not older than ten minutes, `nbf`,
//! `nonce` when one was sent, `at_hash` when present, and a JOSE `typ` of JWT.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, ClientSecret, IdToken, IdTokenVerifier, IssuerUrl,
    Nonce, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::token::{ProviderError, read_body, transport};
use crate::types::{Clock, Secret};

/// Claims outside the standard set (`tid`, `oid`, `xms_edov`, `nbf`, `hd`…), kept as JSON.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct ExtraClaims(pub HashMap<String, Value>);
impl AdditionalClaims for ExtraClaims {}

type GwIdToken =
    IdToken<ExtraClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// Discovered provider metadata (the parts the gateway uses).
#[derive(Clone, Debug)]
pub struct Metadata {
    /// `issuer` as published.
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: Url,
    /// Token endpoint.
    pub token_endpoint: Url,
    /// Userinfo endpoint.
    pub userinfo_endpoint: Option<Url>,
    /// JWKS URL.
    pub jwks_uri: Url,
    /// RFC 9207 advertised.
    pub iss_parameter_supported: bool,
    /// ID-token algorithms allowed (published ∩ asymmetric).
    pub algs: Vec<CoreJwsSigningAlgorithm>,
    /// End-session endpoint.
    pub end_session_endpoint: Option<Url>,
}

struct Cached {
    meta: Arc<Metadata>,
    jwks: CoreJsonWebKeySet,
    fetched: Instant,
}

/// Discovery + JWKS + verification for one provider configuration.
pub struct Oidc {
    discovery_url: Url,
    /// Accepted `issuer` in the discovery document (exact); `None` to accept the template
    /// forms of multi-tenant providers (checked by the provider instead).
    expected_issuer: Option<String>,
    http: reqwest::Client,
    clock: Clock,
    insecure_http_ok: bool,
    /// Seconds an expired ID token is still accepted (clock skew).
    expiry_leeway: i64,
    /// Test-only fault: signatures go unchecked.
    skip_signature: bool,
    cache: tokio::sync::RwLock<Option<Cached>>,
    last_jwks_refresh: tokio::sync::Mutex<Option<Instant>>,
}

/// Verified ID-token claims.
#[derive(Clone, Debug)]
pub struct Verified {
    /// Every claim, as JSON.
    pub claims: Value,
    /// `sub`.
    pub subject: String,
    /// `iss`.
    pub issuer: String,
}

const METADATA_TTL: Duration = Duration::from_secs(3600);
const JWKS_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(10);
const SKEW: i64 = 60;
const MAX_IAT_AGE: i64 = 600;

fn invalid(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Invalid(e.to_string())
}

impl Oidc {
    /// Test-only: the seconds of `exp` leeway (see [`crate::faults::Fault::ExpiryLeewayInWrongUnit`]).
    pub(crate) fn set_expiry_leeway(&mut self, secs: i64) {
        self.expiry_leeway = secs;
    }

    /// Test-only: signatures go unchecked (see [`crate::faults::Fault::SkipSignatureCheck`]).
    pub(crate) fn skip_signature_check(&mut self) {
        self.skip_signature = true;
    }

    /// A provider discovered at `discovery_url`, whose document must name `expected_issuer`.
    pub fn new(
        discovery_url: Url,
        expected_issuer: Option<String>,
        http: reqwest::Client,
        clock: Clock,
        insecure_http_ok: bool,
    ) -> Oidc {
        Oidc {
            discovery_url,
            expected_issuer,
            http,
            clock,
            insecure_http_ok,
            expiry_leeway: SKEW,
            skip_signature: false,
            cache: tokio::sync::RwLock::new(None),
            last_jwks_refresh: tokio::sync::Mutex::new(None),
        }
    }

    async fn get_json(&self, url: &Url) -> Result<Value, ProviderError> {
        let resp = self.http.get(url.clone()).send().await.map_err(transport)?;
        let (status, _, body) = read_body(resp).await?;
        if status >= 500 {
            return Err(ProviderError::Unavailable(format!(
                "{url} answered HTTP {status}"
            )));
        }
        if status != 200 {
            return Err(ProviderError::Invalid(format!("{url} answered HTTP {status}")));
        }
        serde_json::from_slice(&body).map_err(|_| invalid(format!("{url} did not answer JSON")))
    }

    fn url_field(&self, doc: &Value, name: &str) -> Result<Option<Url>, ProviderError> {
        let Some(raw) = doc.get(name).and_then(Value::as_str) else {
            return Ok(None);
        };
        let u = Url::parse(raw).map_err(|_| invalid(format!("discovery {name} {raw:?} is not a URL")))?;
        // Same rule as configured URLs: https, unless the loud opt-out is on.
        if u.scheme() != "https" && !(u.scheme() == "http" && self.insecure_http_ok) {
            return Err(invalid(format!("discovery {name} {raw} is not https")));
        }
        Ok(Some(u))
    }

    async fn fetch(&self) -> Result<Cached, ProviderError> {
        let doc = self.get_json(&self.discovery_url).await?;
        let issuer = doc
            .get("issuer")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("discovery document has no issuer"))?
            .to_owned();
        if let Some(expected) = &self.expected_issuer
            && &issuer != expected
        {
            return Err(invalid(format!(
                "discovery issuer {issuer:?} is not the configured issuer {expected:?}"
            )));
        }
        let need = |n: &str| {
            self.url_field(&doc, n)?
                .ok_or_else(|| invalid(format!("discovery document has no {n}")))
        };
        let algs: Vec<CoreJwsSigningAlgorithm> = doc
            .get("id_token_signing_alg_values_supported")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| serde_json::from_value::<CoreJwsSigningAlgorithm>(v.clone()).ok())
                    .filter(|a| {
                        use CoreJwsSigningAlgorithm as A;
                        matches!(
                            a,
                            A::RsaSsaPkcs1V15Sha256
                                | A::RsaSsaPkcs1V15Sha384
                                | A::RsaSsaPkcs1V15Sha512
                                | A::EcdsaP256Sha256
                                | A::EcdsaP384Sha384
                                | A::RsaSsaPssSha256
                                | A::RsaSsaPssSha384
                                | A::RsaSsaPssSha512
                        )
                    })
                    .collect()
            })
            .unwrap_or_else(|| vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
        let meta = Metadata {
            issuer,
            authorization_endpoint: need("authorization_endpoint")?,
            token_endpoint: need("token_endpoint")?,
            userinfo_endpoint: self.url_field(&doc, "userinfo_endpoint")?,
            jwks_uri: need("jwks_uri")?,
            iss_parameter_supported: doc
                .get("authorization_response_iss_parameter_supported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            algs,
            end_session_endpoint: self.url_field(&doc, "end_session_endpoint")?,
        };
        let jwks = self.fetch_jwks(&meta.jwks_uri).await?;
        Ok(Cached {
            meta: Arc::new(meta),
            jwks,
            fetched: Instant::now(),
        })
    }

    async fn fetch_jwks(&self, url: &Url) -> Result<CoreJsonWebKeySet, ProviderError> {
        let v = self.get_json(url).await?;
        serde_json::from_value(v).map_err(|e| invalid(format!("JWKS at {url} is not a key set: {e}")))
    }

    /// The metadata, fetched on first use and after an hour.
    pub async fn metadata(&self) -> Result<Arc<Metadata>, ProviderError> {
        if let Some(c) = self.cache.read().await.as_ref()
            && c.fetched.elapsed() < METADATA_TTL
        {
            return Ok(c.meta.clone());
        }
        let fresh = self.fetch().await?;
        let meta = fresh.meta.clone();
        *self.cache.write().await = Some(fresh);
        Ok(meta)
    }

    /// Refetches the JWKS, at most once per [`JWKS_REFRESH_MIN_INTERVAL`].
    async fn refresh_jwks(&self) -> Result<bool, ProviderError> {
        let mut last = self.last_jwks_refresh.lock().await;
        if last.is_some_and(|t| t.elapsed() < JWKS_REFRESH_MIN_INTERVAL) {
            return Ok(false);
        }
        *last = Some(Instant::now());
        let meta = self.metadata().await?;
        let jwks = self.fetch_jwks(&meta.jwks_uri).await?;
        if let Some(c) = self.cache.write().await.as_mut() {
            c.jwks = jwks;
        }
        Ok(true)
    }

    /// Verifies an ID token. `accepted_issuers` are the exact `iss` values allowed;
    /// `nonce` is required to match when given; `access_token` is checked against `at_hash`.
    pub async fn verify(
        &self,
        jwt: &str,
        client_id: &str,
        client_secret: &Secret,
        accepted_issuers: &(dyn Fn(&Value) -> Vec<String> + Sync),
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<Verified, ProviderError> {
        let token: GwIdToken = jwt
            .parse()
            .map_err(|e| invalid(format!("the ID token is malformed: {e}")))?;
        let meta = self.metadata().await?;
        let first = self.verify_with(&token, &meta, self.jwks().await, client_id, client_secret, nonce);
        match first {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if self.refresh_jwks().await? => {
                self.verify_with(&token, &meta, self.jwks().await, client_id, client_secret, nonce)
            }
            other => other,
        }
        .map_err(|e| invalid(format!("the ID token was rejected: {e}")))?;
        let claims = self.claims_json(&token)?;
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !accepted_issuers(&claims).contains(&issuer) {
            return Err(invalid(format!(
                "the ID token's issuer {issuer:?} is not this provider's"
            )));
        }
        let now = self.clock.unix() as i64;
        let num = |k: &str| claims.get(k).and_then(Value::as_i64);
        if let Some(nbf) = num("nbf")
            && nbf > now + SKEW
        {
            return Err(invalid("the ID token is not valid yet (nbf in the future)"));
        }
        if let Some(azp) = claims.get("azp").and_then(Value::as_str)
            && azp != client_id
        {
            return Err(invalid(format!(
                "the ID token was issued to another party (azp {azp:?})"
            )));
        }
        if let (Some(expected), Some(at)) = (claims.get("at_hash").and_then(Value::as_str), access_token) {
            let alg = token.signing_alg().map_err(invalid)?;
            if half_hash(alg, at).as_deref() != Some(expected) {
                return Err(invalid("at_hash does not match the access token"));
            }
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("the ID token has no sub"))?
            .to_owned();
        Ok(Verified {
            claims,
            subject,
            issuer,
        })
    }

    async fn jwks(&self) -> CoreJsonWebKeySet {
        self.cache
            .read()
            .await
            .as_ref()
            .map(|c| c.jwks.clone())
            .unwrap_or_else(|| CoreJsonWebKeySet::new(vec![]))
    }

    fn verify_with(
        &self,
        token: &GwIdToken,
        meta: &Metadata,
        jwks: CoreJsonWebKeySet,
        client_id: &str,
        client_secret: &Secret,
        nonce: Option<&str>,
    ) -> Result<(), ClaimsVerificationError> {
        let clock = self.clock.clone();
        let clock2 = self.clock.clone();
        let leeway = self.expiry_leeway;
        let mut verifier: IdTokenVerifier<'_, CoreJsonWebKey> = IdTokenVerifier::new_confidential_client(
            ClientId::new(client_id.to_owned()),
            ClientSecret::new(client_secret.expose().to_owned()),
            IssuerUrl::new(meta.issuer.clone()).map_err(|e| ClaimsVerificationError::Other(e.to_string()))?,
            jwks,
        )
        .require_issuer_match(false)
        .set_allowed_algs(meta.algs.clone())
        .set_time_fn(move || to_chrono(clock.unix() as i64 - leeway))
        .set_issue_time_verifier_fn(move |iat| {
            let now = clock2.unix() as i64;
            let iat = iat.timestamp();
            if iat > now + SKEW {
                Err(format!("iat {iat} is in the future"))
            } else if iat < now - MAX_IAT_AGE {
                Err(format!("iat {iat} is more than {MAX_IAT_AGE} s old"))
            } else {
                Ok(())
            }
        });
        if self.skip_signature {
            verifier = verifier.insecure_disable_signature_check();
        }
        match nonce {
            Some(n) => token.claims(&verifier, &Nonce::new(n.to_owned())).map(|_| ()),
            None => token.claims(&verifier, |_: Option<&Nonce>| Ok(())).map(|_| ()),
        }
    }

    fn claims_json(&self, token: &GwIdToken) -> Result<Value, ProviderError> {
        // The signature was verified above; this only reads the payload.
        let payload = token.to_string();
        let part = payload
            .split('.')
            .nth(1)
            .ok_or_else(|| invalid("the ID token is malformed"))?;
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .map_err(invalid)?;
        serde_json::from_slice(&bytes).map_err(invalid)
    }
}

fn to_chrono(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// `at_hash`: base64url of the left half of the hash matching the signing algorithm.
fn half_hash(alg: &CoreJwsSigningAlgorithm, value: &str) -> Option<String> {
    use CoreJwsSigningAlgorithm as A;
    let algo = match alg {
        A::RsaSsaPkcs1V15Sha256 | A::EcdsaP256Sha256 | A::RsaSsaPssSha256 => &aws_lc_rs::digest::SHA256,
        A::RsaSsaPkcs1V15Sha384 | A::EcdsaP384Sha384 | A::RsaSsaPssSha384 => &aws_lc_rs::digest::SHA384,
        A::RsaSsaPkcs1V15Sha512 | A::RsaSsaPssSha512 => &aws_lc_rs::digest::SHA512,
        _ => return None,
    };
    let d = aws_lc_rs::digest::digest(algo, value.as_bytes());
    let half = &d.as_ref()[..d.as_ref().len() / 2];
    use base64::Engine;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(half))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        assert_eq!(
            half_hash(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            )
            .as_deref(),
            Some("77QmUPtjPfzWtF2AnpK9RQ")
        );
    }
}
