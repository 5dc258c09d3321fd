//! Signing keys, the published JWKS, and JWS signing/verification.
//!
//! Each IdP instance owns a key set: one active [`SigningKey`] (RS256 by default, or ES256)
//! plus older keys that stay published after a rotation until dropped. Keys are generated
//! per instance with aws-lc-rs (the same crypto backend rustls uses) and kept parsed, so
//! signing an ID token costs one signature, not a key parse.
//!
//! Public here: the key type (to hand a [`MockIdpBuilder`](crate::MockIdpBuilder) a key kept
//! with [`load_or_create`], or to sign a token of your own) and [`ATTACKER_JWKS_PATH`].
//!
//! Tokens are assembled here rather than with `jsonwebtoken` because the mock must also
//! produce the broken tokens of the OpenID Foundation RP tests: `alg: none`, a corrupted
//! signature, a token signed by a key that is not published, HS256 keyed with the public key.

use std::fmt;
use std::sync::{Arc, OnceLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The JWS algorithms the mock signs ID tokens with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys (the OIDC default).
    #[default]
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
}

impl SigningAlg {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }
    /// Parses `RS256` / `ES256` (case-insensitive).
    pub fn parse(value: &str) -> Option<SigningAlg> {
        match value.to_ascii_uppercase().as_str() {
            "RS256" => Some(SigningAlg::RS256),
            "ES256" => Some(SigningAlg::ES256),
            _ => None,
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

enum Material {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// One signing key pair with its key id.
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    material: Material,
    public_der: Vec<u8>,
    jwk: Value,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    /// Generates a fresh key pair for `alg`.
    pub fn generate(alg: SigningAlg) -> SigningKey {
        match alg {
            SigningAlg::RS256 => {
                let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .expect("RSA key generation failed");
                SigningKey::from_rsa(pair)
            }
            SigningAlg::ES256 => {
                let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .expect("EC key generation failed");
                SigningKey::from_ec(pair)
            }
        }
    }

    /// Loads a key from its PKCS#8 (v1) DER encoding, as written by [`SigningKey::to_pkcs8`].
    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<SigningKey, String> {
        match alg {
            SigningAlg::RS256 => RsaKeyPair::from_pkcs8(der)
                .map(SigningKey::from_rsa)
                .map_err(|e| format!("not an RSA private key in PKCS#8: {e}")),
            SigningAlg::ES256 => EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map(SigningKey::from_ec)
                .map_err(|e| format!("not a P-256 private key in PKCS#8: {e}")),
        }
    }

    /// The private key in PKCS#8 (v1) DER, to keep it across restarts.
    pub fn to_pkcs8(&self) -> Vec<u8> {
        use aws_lc_rs::encoding::AsDer;
        match &self.material {
            Material::Rsa(pair) => AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(pair)
                .expect("an RSA key encodes as PKCS#8")
                .as_ref()
                .to_vec(),
            Material::Ec(pair) => pair
                .to_pkcs8v1()
                .expect("an EC key encodes as PKCS#8")
                .as_ref()
                .to_vec(),
        }
    }

    /// The key id: derived from the public key, so a key kept across restarts keeps its id.
    fn kid_for(alg: SigningAlg, public: &[u8]) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public);
        format!(
            "{}-{}",
            alg.as_str().to_ascii_lowercase(),
            b64(&digest.as_ref()[..6])
        )
    }

    fn from_rsa(pair: RsaKeyPair) -> SigningKey {
        let alg = SigningAlg::RS256;
        let public = pair.public_key();
        let n = b64(public.modulus().big_endian_without_leading_zero());
        let e = b64(public.exponent().big_endian_without_leading_zero());
        let public_der = public.as_ref().to_vec();
        let kid = SigningKey::kid_for(alg, &public_der);
        let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
        SigningKey {
            kid,
            alg,
            material: Material::Rsa(pair),
            public_der,
            jwk,
        }
    }

    fn from_ec(pair: EcdsaKeyPair) -> SigningKey {
        let alg = SigningAlg::ES256;
        let point = pair.public_key().as_ref().to_vec();
        // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
        let (x, y) = (&point[1..33], &point[33..65]);
        let kid = SigningKey::kid_for(alg, &point);
        let jwk = json!({"kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256",
                         "x": b64(x), "y": b64(y)});
        SigningKey {
            kid,
            alg,
            material: Material::Ec(pair),
            public_der: point,
            jwk,
        }
    }

    /// The key id published in the JWKS and put in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The algorithm this key signs with.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }
    /// The public key as a JWK.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }
    /// The public key bytes (PKCS#1 DER for RSA, SEC1 point for EC); used for the
    /// HS256-keyed-with-the-public-key confusion attack.
    pub fn public_key_bytes(&self) -> &[u8] {
        &self.public_der
    }

    /// The public key as PEM text (`RSA PUBLIC KEY` for PKCS#1, `EC POINT` for a SEC1
    /// point); only used to plant the HS256 confusion attack.
    pub fn public_pem(&self) -> String {
        use base64::Engine;
        let label = match self.alg {
            SigningAlg::RS256 => "RSA PUBLIC KEY",
            SigningAlg::ES256 => "EC POINT",
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.public_der);
        let mut pem = format!("-----BEGIN {label}-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str(&format!("-----END {label}-----\n"));
        pem
    }

    /// Signs `signing_input` (`b64(header).b64(claims)`) and returns the raw signature.
    pub fn sign_raw(&self, signing_input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.material {
            Material::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, signing_input, &mut sig)
                    .expect("RSA signing failed");
                sig
            }
            Material::Ec(pair) => pair
                .sign(&rng, signing_input)
                .expect("EC signing failed")
                .as_ref()
                .to_vec(),
        }
    }

    /// Signs claims as a compact JWS with the standard header (`alg`, `typ`, `kid`).
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": self.alg.as_str(), "typ": "JWT", "kid": self.kid});
        self.sign_with_header(&header, claims)
    }

    /// Signs claims under a caller-made header (which may lie about `alg` or `kid`).
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let sig = self.sign_raw(input.as_bytes());
        format!("{input}.{}", b64(&sig))
    }

    fn verify(&self, signing_input: &[u8], sig: &[u8]) -> bool {
        let alg: &dyn signature::VerificationAlgorithm = match self.alg {
            SigningAlg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            SigningAlg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        };
        signature::UnparsedPublicKey::new(alg, &self.public_der)
            .verify(signing_input, sig)
            .is_ok()
    }
}

/// `b64(header) + "." + b64(claims)`.
/// Where the mock publishes the attacker's key set that an ID token with the `foreign_jku`
/// fault points at. A gateway that honours `jku` fetches it (and the request log shows it).
pub const ATTACKER_JWKS_PATH: &str = "/attacker/jwks.json";

pub(crate) fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// HMAC-SHA256 over the signing input, as a compact JWS signature part.
pub(crate) fn hs256(key: &[u8], signing_input: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    b64(aws_lc_rs::hmac::sign(&key, signing_input.as_bytes()).as_ref())
}

/// SHA-256 based `at_hash` / `c_hash`: base64url of the left half of the digest.
pub(crate) fn half_hash(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    b64(&digest.as_ref()[..16])
}

/// Why a presented JWT was not accepted by `KeySet::verify`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum JwtError {
    /// Not three base64url parts with JSON header and claims.
    #[error("not a compact JWS (three base64url parts with a JSON header and claims)")]
    Malformed,
    /// The header names a key the IdP does not publish.
    #[error("the token was signed with a key this IdP does not publish (kid {0:?})")]
    UnknownKey(Option<String>),
    /// The signature does not verify.
    #[error("the token signature does not verify")]
    BadSignature,
}

/// The keys of one IdP instance.
#[derive(Debug)]
pub(crate) struct KeySet {
    keys: Vec<Arc<SigningKey>>,
    stray: OnceLock<Arc<SigningKey>>,
    without_kid: bool,
}

/// One key per algorithm for the whole process, generated on first use.
fn process_key(alg: SigningAlg) -> Arc<SigningKey> {
    static RS256: OnceLock<Arc<SigningKey>> = OnceLock::new();
    static ES256: OnceLock<Arc<SigningKey>> = OnceLock::new();
    let cell = match alg {
        SigningAlg::RS256 => &RS256,
        SigningAlg::ES256 => &ES256,
    };
    cell.get_or_init(|| Arc::new(SigningKey::generate(alg))).clone()
}

impl KeySet {
    /// A key set whose active key is shared by every instance in this process that asks
    /// for it (see `MockIdpBuilder::share_process_keys`): a test run that starts hundreds of
    /// short-lived IdPs generates one RSA key instead of hundreds. Rotation still makes
    /// fresh keys for that instance only.
    pub fn shared(alg: SigningAlg) -> KeySet {
        KeySet {
            keys: vec![process_key(alg)],
            stray: OnceLock::new(),
            without_kid: false,
        }
    }

    /// A key set whose active key is `key` (loaded from disk, say).
    pub fn with_arc(key: Arc<SigningKey>) -> KeySet {
        KeySet {
            keys: vec![key],
            stray: OnceLock::new(),
            without_kid: false,
        }
    }

    /// A key set with one freshly generated active key.
    pub fn generate(alg: SigningAlg) -> KeySet {
        KeySet {
            keys: vec![Arc::new(SigningKey::generate(alg))],
            stray: OnceLock::new(),
            without_kid: false,
        }
    }

    /// The key new tokens are signed with.
    pub fn active(&self) -> Arc<SigningKey> {
        self.keys
            .last()
            .expect("a key set always holds its active key")
            .clone()
    }

    /// All published keys, oldest first (the active key last).
    pub fn published(&self) -> impl Iterator<Item = &Arc<SigningKey>> {
        self.keys.iter()
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        let keys = self.keys.iter().rev().map(|k| {
            let mut jwk = k.jwk.clone();
            if self.without_kid
                && let Some(o) = jwk.as_object_mut()
            {
                o.remove("kid");
            }
            jwk
        });
        json!({"keys": keys.collect::<Vec<_>>()})
    }

    /// Publishes the keys without `kid` (the OIDF `kid-absent-*` modules); pair it with the
    /// `no_kid` ID-token fault.
    pub fn set_without_kid(&mut self, without: bool) {
        self.without_kid = without;
    }

    /// Makes a new key active. With `keep_old` the previous keys stay published (clients that
    /// cached them keep verifying old tokens); without, they disappear from the JWKS at once.
    /// Returns the new key id.
    pub fn rotate(&mut self, alg: SigningAlg, keep_old: bool) -> String {
        let key = Arc::new(SigningKey::generate(alg));
        let kid = key.kid.clone();
        if !keep_old {
            self.keys.clear();
        }
        self.keys.push(key);
        kid
    }

    /// Removes a published key that is not the active one. Returns whether it was found.
    pub fn drop_key(&mut self, kid: &str) -> bool {
        let active = self.active().kid.clone();
        let before = self.keys.len();
        self.keys.retain(|k| k.kid != kid || k.kid == active);
        before != self.keys.len()
    }

    /// A key of the active algorithm that is never published, for "unknown kid" faults.
    pub fn stray(&self) -> Arc<SigningKey> {
        self.stray
            .get_or_init(|| Arc::new(SigningKey::generate(self.active().alg)))
            .clone()
    }

    /// Verifies a JWT signed by one of the published keys and returns its claims. Expiry is
    /// not checked: RP-initiated logout accepts an expired `id_token_hint`.
    pub fn verify(&self, jwt: &str) -> Result<Value, JwtError> {
        let mut parts = jwt.split('.');
        let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).map_err(|_| JwtError::Malformed);
        let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| JwtError::Malformed)?;
        let claims: Value = serde_json::from_slice(&decode(c)?).map_err(|_| JwtError::Malformed)?;
        let sig = decode(s)?;
        let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(SigningAlg::parse);
        let candidates: Vec<&Arc<SigningKey>> = self
            .keys
            .iter()
            .filter(|k| kid.as_deref().is_none_or(|kid| k.kid == kid) && Some(k.alg) == alg)
            .collect();
        if candidates.is_empty() {
            return Err(JwtError::UnknownKey(kid));
        }
        let input = format!("{h}.{c}");
        if candidates.iter().any(|k| k.verify(input.as_bytes(), &sig)) {
            Ok(claims)
        } else {
            Err(JwtError::BadSignature)
        }
    }
}

/// The key for `alg` kept in `dir` (`rs256.pk8` / `es256.pk8`, PKCS#8 DER, mode 0600): loaded
/// when present, else generated and written there. Keeping it across restarts spares the RSA
/// key generation at every start and keeps tokens issued before a restart verifiable, as a
/// real provider's are.
///
/// ```no_run
/// use mock_idp::{MockIdp, SigningAlg};
///
/// # async fn demo() -> Result<(), String> {
/// let key = mock_idp::keys::load_or_create("target/idp-keys".as_ref(), SigningAlg::RS256)?;
/// let idp = MockIdp::builder().signing_key(key).start().await;
/// # drop(idp);
/// # Ok(())
/// # }
/// ```
pub fn load_or_create(dir: &std::path::Path, alg: SigningAlg) -> Result<Arc<SigningKey>, String> {
    let path = dir.join(format!("{}.pk8", alg.as_str().to_ascii_lowercase()));
    match std::fs::read(&path) {
        Ok(der) => SigningKey::from_pkcs8(alg, &der).map(Arc::new).map_err(|e| {
            format!(
                "{}: {e}; delete the file (a new key is made) or start with fresh keys",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(alg);
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let tmp = dir.join(format!(
                ".{}.tmp-{}",
                alg.as_str().to_ascii_lowercase(),
                std::process::id()
            ));
            {
                use std::io::Write as _;
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts.open(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
                f.write_all(&key.to_pkcs8())
                    .map_err(|e| format!("{}: {e}", tmp.display()))?;
            }
            // Two processes starting at once: the first rename wins, both keys are valid.
            std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Arc::new(key))
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_both_algorithms() {
        for alg in [SigningAlg::RS256, SigningAlg::ES256] {
            let keys = KeySet::generate(alg);
            let jwt = keys.active().sign(&json!({"sub": "alice"}));
            assert_eq!(keys.verify(&jwt).unwrap()["sub"], "alice");
            let mut broken = jwt.clone();
            broken.push('A');
            assert!(keys.verify(&broken).is_err());
        }
    }

    #[test]
    fn rotation_keeps_or_drops_old_keys() {
        let mut keys = KeySet::generate(SigningAlg::ES256);
        let old = keys.active().sign(&json!({"n": 1}));
        keys.rotate(SigningAlg::ES256, true);
        assert_eq!(keys.jwks()["keys"].as_array().unwrap().len(), 2);
        assert!(keys.verify(&old).is_ok());
        keys.rotate(SigningAlg::RS256, false);
        assert_eq!(keys.jwks()["keys"].as_array().unwrap().len(), 1);
        assert!(matches!(keys.verify(&old), Err(JwtError::UnknownKey(_))));
    }

    #[test]
    fn stray_key_is_not_published() {
        let keys = KeySet::generate(SigningAlg::ES256);
        let jwt = keys.stray().sign(&json!({}));
        assert!(matches!(keys.verify(&jwt), Err(JwtError::UnknownKey(_))));
    }

    #[test]
    fn half_hash_matches_the_oidc_example() {
        // OIDC Core A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → at_hash "77QmUPtjPfzWtF2AnpK9RQ"
        assert_eq!(
            half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
