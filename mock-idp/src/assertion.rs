//! JWT client authentication (RFC 7523 §2.2, OpenID Connect Core §9): `client_secret_jwt`
//! (HMAC with the client's secret) and `private_key_jwt` (the client's registered public key),
//! with the checks a strict authorization server makes — `iss` and `sub` both the client, the
//! IdP (issuer or token endpoint) among the audiences, `exp` in the future, no `nbf`/`iat`
//! from the future, and a `jti` never seen before while the assertion could still be used.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::clients::{Client, TokenAuthMethod};

/// RFC 7523 §2.2's `client_assertion_type`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed for `exp`, `nbf` and `iat`.
const SKEW: Duration = Duration::from_secs(60);

/// What kind of check an assertion failed, so a personality can word the refusal as its
/// provider does (Google: "Invalid JWT Signature.").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionFault {
    /// Not a JWS with JSON header and claims, an algorithm not accepted, no `iss`, `iss` ≠
    /// `sub` for a client assertion.
    Malformed,
    /// `iss` names no registered client (an account the provider does not know).
    UnknownIssuer,
    /// `sub` names no user of the IdP.
    UnknownSubject,
    /// No key or secret of the client verifies the signature.
    Signature,
    /// The IdP is not among the audiences.
    Audience,
    /// No `exp`, expired, or `nbf`/`iat` in the future.
    Lifetime,
    /// No `jti` where one is required, or one used before.
    Replay,
}

/// Why an assertion was refused: the kind of fault and the mock's own description (kept in
/// the request log).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct AssertionProblem {
    /// The check that failed.
    pub fault: AssertionFault,
    /// What was wrong, in the mock's words.
    pub description: String,
}

impl AssertionProblem {
    /// A refusal for `fault`, described.
    pub fn new(fault: AssertionFault, description: impl Into<String>) -> AssertionProblem {
        AssertionProblem {
            fault,
            description: description.into(),
        }
    }
}

fn malformed(description: impl Into<String>) -> AssertionProblem {
    AssertionProblem::new(AssertionFault::Malformed, description)
}

/// An assertion read but not yet verified: who it says it is and how it is signed.
#[derive(Debug)]
pub struct Unverified {
    /// `iss` (must equal `sub`: the client id).
    pub client_id: String,
    /// The method its `alg` implies.
    pub method: TokenAuthMethod,
    alg: String,
    kid: Option<String>,
    claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

/// Reads a client assertion's header and claims (`iss` = `sub` = the client); the error says
/// what is malformed.
pub fn read(jwt: &str) -> Result<Unverified, AssertionProblem> {
    let a = read_any(jwt)?;
    if a.claims["sub"].as_str() != Some(a.client_id.as_str()) {
        return Err(malformed(
            "client_assertion's iss and sub must both be the client_id (RFC 7523 §3)",
        ));
    }
    Ok(a)
}

/// Reads an authorization grant assertion (RFC 7523 §2.1): `iss` the client that signed it,
/// `sub` the user it is for (or absent: the client itself, as Google's service accounts).
pub fn read_grant(jwt: &str) -> Result<Unverified, AssertionProblem> {
    read_any(jwt)
}

fn read_any(jwt: &str) -> Result<Unverified, AssertionProblem> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed(
            "client_assertion is not a JWS (three dot-separated parts)",
        ));
    };
    let decode = |p: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| malformed(format!("client_assertion's {what} is not base64url")))
    };
    let header: Value = serde_json::from_slice(&decode(h, "header")?)
        .map_err(|_| malformed("client_assertion's header is not JSON"))?;
    let claims: Value = serde_json::from_slice(&decode(c, "payload")?)
        .map_err(|_| malformed("client_assertion's payload is not JSON"))?;
    let alg = header["alg"].as_str().unwrap_or("").to_owned();
    let method = match alg.as_str() {
        "HS256" | "HS384" | "HS512" => TokenAuthMethod::ClientSecretJwt,
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" => {
            TokenAuthMethod::PrivateKeyJwt
        }
        other => {
            return Err(malformed(format!(
                "client_assertion alg {other:?} is not accepted (HS256, RS256, PS256, ES256…)"
            )));
        }
    };
    let iss = claims["iss"].as_str().unwrap_or("");
    if iss.is_empty() {
        return Err(malformed("the assertion has no iss (RFC 7523 §3)"));
    }
    Ok(Unverified {
        client_id: iss.to_owned(),
        method,
        alg,
        kid: header["kid"].as_str().map(str::to_owned),
        claims,
        signing_input: format!("{h}.{c}"),
        signature: decode(s, "signature")?,
    })
}

/// The `jti`s of assertions already used, until they expire.
#[derive(Debug, Default)]
pub struct SeenAssertions {
    until: HashMap<String, SystemTime>,
}

impl SeenAssertions {
    /// Forgets the `jti`s of assertions that have expired (a replay of one fails on `exp`).
    pub fn purge(&mut self, now: SystemTime) {
        self.until.retain(|_, until| *until > now);
    }
}

impl Unverified {
    /// `sub`, when the assertion names one.
    pub fn subject(&self) -> Option<&str> {
        self.claims["sub"].as_str()
    }

    /// A claim, for grant-specific ones (Google's `scope`).
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims[name].as_str()
    }

    /// Verifies the signature with `client`'s secret or keys, then the claims; records the `jti`
    /// (required unless `jti_optional`: Google's service-account assertions carry none).
    pub fn verify(
        &self,
        client: &Client,
        audiences: &[String],
        now: SystemTime,
        seen: &mut SeenAssertions,
    ) -> Result<(), AssertionProblem> {
        self.verify_with(client, audiences, now, seen, false)
    }

    /// [`Unverified::verify`], with the `jti` optional or not.
    pub fn verify_with(
        &self,
        client: &Client,
        audiences: &[String],
        now: SystemTime,
        seen: &mut SeenAssertions,
        jti_optional: bool,
    ) -> Result<(), AssertionProblem> {
        use AssertionFault::{Audience, Lifetime, Replay, Signature};
        let ok = self
            .signature_ok(client)
            .map_err(|why| AssertionProblem::new(Signature, why))?;
        if !ok {
            return Err(AssertionProblem::new(
                Signature,
                "client_assertion's signature does not verify",
            ));
        }
        let aud_ok = match &self.claims["aud"] {
            Value::String(a) => audiences.contains(a),
            Value::Array(list) => list
                .iter()
                .filter_map(Value::as_str)
                .any(|a| audiences.iter().any(|x| x == a)),
            _ => false,
        };
        if !aud_ok {
            return Err(AssertionProblem::new(
                Audience,
                format!(
                    "client_assertion's aud must name this IdP: {}",
                    audiences.join(" or ")
                ),
            ));
        }
        let at = |name: &str| {
            self.claims[name]
                .as_u64()
                .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
        };
        let exp = at("exp")
            .ok_or_else(|| AssertionProblem::new(Lifetime, "client_assertion has no exp (RFC 7523 §3)"))?;
        if now >= exp + SKEW {
            return Err(AssertionProblem::new(Lifetime, "client_assertion has expired"));
        }
        if at("nbf").is_some_and(|nbf| nbf > now + SKEW) || at("iat").is_some_and(|iat| iat > now + SKEW) {
            return Err(AssertionProblem::new(
                Lifetime,
                "client_assertion is not valid yet (nbf or iat in the future)",
            ));
        }
        let Some(jti) = self.claims["jti"].as_str().filter(|j| !j.is_empty()) else {
            return if jti_optional {
                Ok(())
            } else {
                Err(AssertionProblem::new(
                    Replay,
                    "the assertion has no jti: a strict server needs one to refuse replays",
                ))
            };
        };
        if seen.until.get(jti).is_some_and(|until| *until > now) {
            return Err(AssertionProblem::new(
                Replay,
                format!("client_assertion jti {jti:?} was used before (replay)"),
            ));
        }
        seen.until.insert(jti.to_owned(), exp + SKEW);
        Ok(())
    }

    fn signature_ok(&self, client: &Client) -> Result<bool, String> {
        use aws_lc_rs::{hmac, signature as sig};
        let msg = self.signing_input.as_bytes();
        if self.method == TokenAuthMethod::ClientSecretJwt {
            let secret = client
                .secret
                .as_ref()
                .ok_or("this client has no secret for client_secret_jwt")?;
            let alg = match self.alg.as_str() {
                "HS256" => hmac::HMAC_SHA256,
                "HS384" => hmac::HMAC_SHA384,
                _ => hmac::HMAC_SHA512,
            };
            let key = hmac::Key::new(alg, secret.expose().as_bytes());
            return Ok(hmac::verify(&key, msg, &self.signature).is_ok());
        }
        let keys = client
            .jwks
            .as_ref()
            .and_then(|j| j["keys"].as_array())
            .ok_or("this client registered no jwks for private_key_jwt")?;
        let candidates = keys.iter().filter(|k| {
            self.kid
                .as_deref()
                .is_none_or(|kid| k["kid"].as_str() == Some(kid))
        });
        let field = |k: &Value, name: &str| k[name].as_str().and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        for key in candidates {
            let ok = match (key["kty"].as_str(), self.alg.as_str()) {
                (Some("RSA"), alg) if alg.starts_with("RS") || alg.starts_with("PS") => {
                    let (Some(n), Some(e)) = (field(key, "n"), field(key, "e")) else {
                        continue;
                    };
                    let params: &sig::RsaParameters = match alg {
                        "RS256" => &sig::RSA_PKCS1_2048_8192_SHA256,
                        "RS384" => &sig::RSA_PKCS1_2048_8192_SHA384,
                        "RS512" => &sig::RSA_PKCS1_2048_8192_SHA512,
                        "PS256" => &sig::RSA_PSS_2048_8192_SHA256,
                        "PS384" => &sig::RSA_PSS_2048_8192_SHA384,
                        _ => &sig::RSA_PSS_2048_8192_SHA512,
                    };
                    sig::RsaPublicKeyComponents { n: &n, e: &e }
                        .verify(params, msg, &self.signature)
                        .is_ok()
                }
                (Some("EC"), alg @ ("ES256" | "ES384")) => {
                    let (Some(x), Some(y)) = (field(key, "x"), field(key, "y")) else {
                        continue;
                    };
                    let point = [&[4u8][..], &x, &y].concat();
                    let params = if alg == "ES256" {
                        &sig::ECDSA_P256_SHA256_FIXED
                    } else {
                        &sig::ECDSA_P384_SHA384_FIXED
                    };
                    sig::UnparsedPublicKey::new(params, &point)
                        .verify(msg, &self.signature)
                        .is_ok()
                }
                _ => false,
            };
            if ok {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
