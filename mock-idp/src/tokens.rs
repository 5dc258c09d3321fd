//! Minting tokens: access and refresh tokens, and the ID token with any planted fault.
//!
//! Called by the token endpoint for both grants. The ID token is built from the user's data
//! *now* (as a real IdP does at issuance); faults from [`IdTokenFault`] are applied to the
//! claims or the signature exactly as the OpenID Foundation RP tests make them.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::keys::{half_hash, hs256, signing_input};
use crate::outcome::{IdTokenFault, TokenResponseChange};
use crate::personality::{ClaimsContext, TokenSuccess};
use crate::shared::Shared;
use crate::store::{Grant, Store};
use crate::types::random_token;

/// What to mint.
pub(crate) struct MintRequest<'a> {
    pub grant_id: u64,
    pub grant: &'a Grant,
    /// Issue a refresh token.
    pub refresh: bool,
    /// A refresh (its ID token carries no `nonce`, OIDC §12.2) rather than a code exchange.
    pub is_refresh: bool,
    pub fault: Option<IdTokenFault>,
    pub change: Option<TokenResponseChange>,
}

/// Mints and stores the tokens; returns the response content.
/// An RFC 9068 access token: a JWT typed `at+jwt`, signed with the IdP's active key.
fn jwt_access_token(
    shared: &Shared,
    store: &Store,
    req: &MintRequest<'_>,
    audience: &str,
    now: std::time::SystemTime,
    lifetime: std::time::Duration,
) -> String {
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    let sub = match store.users.get(&req.grant.user) {
        Some(user) => shared.personality.subject_for_client(user, &req.grant.client),
        None => req.grant.client.to_string(),
    };
    let claims = json!({
        "iss": shared.issuer,
        "sub": sub,
        "aud": audience,
        "client_id": req.grant.client.to_string(),
        "scope": req.grant.scopes.join(" "),
        "iat": secs(now),
        "exp": secs(now + lifetime),
        "jti": random_token(16),
    });
    let key = shared.keys.read().unwrap().active();
    key.sign_with_header(
        &json!({"alg": key.alg().as_str(), "kid": key.kid(), "typ": "at+jwt"}),
        &claims,
    )
}

pub(crate) fn mint(shared: &Shared, store: &mut Store, req: MintRequest<'_>) -> TokenSuccess {
    let personality = &shared.personality;
    let profile = personality.profile();
    let lifetimes = shared.lifetimes();
    let now = shared.clock.now();
    let audience = shared.settings.read().unwrap().jwt_access_token_audience.clone();
    let access = match audience {
        Some(audience) => jwt_access_token(shared, store, &req, &audience, now, lifetimes.access_token),
        None => format!(
            "{}{}",
            profile.access_token_prefix,
            random_token(profile.access_token_bytes)
        ),
    };
    store.add_access_token(
        &access,
        req.grant_id,
        req.grant.scopes.clone(),
        now + lifetimes.access_token,
    );
    let refresh = req.refresh.then(|| {
        let t = format!("{}{}", profile.refresh_token_prefix, random_token(32));
        store.add_refresh_token(&t, req.grant_id, now + lifetimes.refresh_token);
        t
    });
    let user = store.users.get(&req.grant.user);
    let id_token = match user {
        Some(user) if profile.oidc && req.grant.scopes.contains("openid") => {
            let mut claims = user.claims_for(&req.grant.scopes);
            claims.insert("sub".into(), json!(personality.subject(user)));
            let ctx = ClaimsContext {
                issuer: &shared.issuer,
                user,
                grant: req.grant,
                refresh: req.is_refresh,
            };
            Some(id_token(
                shared,
                &ctx,
                claims,
                &access,
                req.fault,
                lifetimes.id_token,
                store
                    .clients
                    .get(&req.grant.client)
                    .and_then(|c| c.secret.as_ref())
                    .map(|s| s.expose()),
            ))
        }
        _ => None,
    };
    let mut success = TokenSuccess {
        access_token: Some(access),
        token_type: profile.token_type.clone(),
        expires_in: Some(lifetimes.access_token.as_secs()),
        refresh_token: refresh,
        scope: Some(req.grant.scopes.clone()),
        id_token,
    };
    if let Some(change) = req.change {
        apply_change(&mut success, change);
    }
    success
}

fn apply_change(s: &mut TokenSuccess, change: TokenResponseChange) {
    match change {
        TokenResponseChange::InvertTokenTypeCase => {
            s.token_type = s
                .token_type
                .chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_ascii_uppercase()
                    }
                })
                .collect();
        }
        TokenResponseChange::OmitExpiresIn => s.expires_in = None,
        TokenResponseChange::OmitScope => s.scope = None,
        TokenResponseChange::OmitScopeAndExpiresIn => {
            s.scope = None;
            s.expires_in = None;
        }
        TokenResponseChange::OmitIdToken => s.id_token = None,
        TokenResponseChange::OmitRefreshToken => s.refresh_token = None,
        TokenResponseChange::OmitAccessToken => s.access_token = None,
        TokenResponseChange::UnsupportedTokenType => s.token_type = "mac".into(),
    }
}

/// Builds and signs an ID token, planting `fault` if any.
fn id_token(
    shared: &Shared,
    ctx: &ClaimsContext<'_>,
    user_claims: Map<String, Value>,
    access_token: &str,
    fault: Option<IdTokenFault>,
    lifetime: Duration,
    client_secret: Option<&str>,
) -> String {
    use IdTokenFault as F;
    let now = shared.clock.unix();
    let grant = ctx.grant;
    let client = grant.client.as_str();
    let mut c = Map::new();
    c.insert("iss".into(), json!(shared.issuer));
    c.insert(
        "sub".into(),
        user_claims
            .get("sub")
            .cloned()
            .unwrap_or(json!(grant.user.as_str())),
    );
    c.insert("aud".into(), json!(client));
    c.insert("exp".into(), json!(now + lifetime.as_secs()));
    c.insert("iat".into(), json!(now));
    c.insert("auth_time".into(), json!(grant.auth_time));
    if !ctx.refresh
        && let Some(n) = &grant.nonce
    {
        c.insert("nonce".into(), json!(n));
    }
    c.insert("at_hash".into(), json!(half_hash(access_token)));
    for (k, v) in user_claims {
        c.entry(k).or_insert(v);
    }
    shared.personality.id_token_claims(&mut c, ctx);
    let spoil = |c: &mut Map<String, Value>, k: &str| {
        let v = c.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        c.insert(k.into(), json!(format!("{v}1")));
    };
    match fault {
        Some(F::InvalidIss) => spoil(&mut c, "iss"),
        Some(F::MissingIss) => drop(c.remove("iss")),
        Some(F::InvalidAud) => spoil(&mut c, "aud"),
        Some(F::MissingAud) => drop(c.remove("aud")),
        Some(F::SecondaryAud) => {
            c.insert("aud".into(), json!([client, format!("{client}1")]));
            c.remove("azp");
        }
        Some(F::AudAsArray) => drop(c.insert("aud".into(), json!([client]))),
        Some(F::MissingSub) => drop(c.remove("sub")),
        Some(F::InvalidSub) => spoil(&mut c, "sub"),
        Some(F::MissingIat) => drop(c.remove("iat")),
        Some(F::IatWeekAgo) => drop(c.insert("iat".into(), json!(now - 7 * 24 * 3600))),
        Some(F::IatInFuture) => drop(c.insert("iat".into(), json!(now + 3600))),
        Some(F::NbfInFuture) => drop(c.insert("nbf".into(), json!(now + 3600))),
        Some(F::Expired) => {
            c.insert("exp".into(), json!(now - 360));
            c.insert(
                "iat".into(),
                json!((now - 360).saturating_sub(lifetime.as_secs())),
            );
        }
        Some(F::MissingExp) => drop(c.remove("exp")),
        Some(F::InvalidNonce) => spoil(&mut c, "nonce"),
        Some(F::MissingNonce) => drop(c.remove("nonce")),
        Some(F::InvalidAtHash) => {
            drop(c.insert("at_hash".into(), json!(half_hash(&format!("{access_token}1")))))
        }
        Some(F::MissingAtHash) => drop(c.remove("at_hash")),
        Some(F::IssTrailingSlash) => {
            let iss = shared.issuer.as_str();
            let other = match iss.strip_suffix('/') {
                Some(bare) => bare.to_owned(),
                None => format!("{iss}/"),
            };
            c.insert("iss".into(), json!(other));
        }
        Some(F::IssUppercase) => drop(c.insert("iss".into(), json!(shared.issuer.to_uppercase()))),
        Some(F::ForeignAzp) => drop(c.insert("azp".into(), json!(format!("{client}-other")))),
        Some(F::ExpiredWithinSkew) => {
            c.insert("exp".into(), json!(now - 10));
            c.insert("iat".into(), json!(now - 70));
        }
        Some(F::ExpiredTwoMinutesAgo) => {
            c.insert("exp".into(), json!(now - 120));
            c.insert("iat".into(), json!(now - 125));
        }
        Some(F::OversizedClaims) => {
            for i in 0..100_000 {
                c.insert(format!("x{i}"), json!("padding-claim-value"));
            }
        }
        _ => {}
    }
    let claims = Value::Object(c);
    let keys = shared.keys.read().unwrap();
    let active = keys.active();
    match fault {
        Some(F::InvalidSignature) => {
            let jwt = active.sign(&claims);
            let (input, sig) = jwt.rsplit_once('.').expect("compact JWS has three parts");
            let mut raw = URL_SAFE_NO_PAD.decode(sig).expect("own signature is base64url");
            raw.iter_mut().for_each(|b| *b ^= 0x5A);
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw))
        }
        Some(F::AlgNone) => format!(
            "{}.",
            signing_input(&json!({"alg": "none", "typ": "JWT"}), &claims)
        ),
        Some(F::UnknownKid) => {
            // A fresh key id every time, as an attacker probing the JWKS refetch would send.
            let stray = keys.stray();
            let kid = format!("unknown-{}", crate::types::random_token(9));
            stray.sign_with_header(
                &json!({"alg": stray.alg().as_str(), "typ": "JWT", "kid": kid}),
                &claims,
            )
        }
        Some(F::NoKid) => {
            active.sign_with_header(&json!({"alg": active.alg().as_str(), "typ": "JWT"}), &claims)
        }
        Some(F::Hs256WithPublicKey) => {
            let input = signing_input(
                &json!({"alg": "HS256", "typ": "JWT", "kid": active.kid()}),
                &claims,
            );
            let sig = hs256(active.public_key_bytes(), &input);
            format!("{input}.{sig}")
        }
        Some(F::EmbeddedJwk) => {
            let stray = keys.stray();
            let header =
                json!({"alg": stray.alg().as_str(), "typ": "JWT", "kid": stray.kid(), "jwk": stray.jwk()});
            stray.sign_with_header(&header, &claims)
        }
        Some(F::AlgNoneCapitalized) => format!(
            "{}.",
            signing_input(&json!({"alg": "None", "typ": "JWT"}), &claims)
        ),
        Some(F::AlgNoneUpper) => format!(
            "{}.",
            signing_input(&json!({"alg": "NONE", "typ": "JWT"}), &claims)
        ),
        Some(F::MissingAlg) => active.sign_with_header(&json!({"typ": "JWT", "kid": active.kid()}), &claims),
        Some(F::SplicedSignature) => {
            let mut other = claims.clone();
            other["sub"] = json!("someone-else");
            let donor = active.sign(&other);
            let (_, sig) = donor.rsplit_once('.').expect("compact JWS has three parts");
            let own = active.sign(&claims);
            let (input, _) = own.rsplit_once('.').expect("compact JWS has three parts");
            format!("{input}.{sig}")
        }
        Some(F::Hs256WithPublicPem) => {
            let input = signing_input(
                &json!({"alg": "HS256", "typ": "JWT", "kid": active.kid()}),
                &claims,
            );
            let sig = hs256(active.public_pem().as_bytes(), &input);
            format!("{input}.{sig}")
        }
        Some(F::Hs256WithJwkN) => {
            let jwk = active.jwk();
            let n = jwk
                .get("n")
                .or_else(|| jwk.get("x"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let input = signing_input(
                &json!({"alg": "HS256", "typ": "JWT", "kid": active.kid()}),
                &claims,
            );
            let sig = hs256(n.as_bytes(), &input);
            format!("{input}.{sig}")
        }
        Some(F::Hs256CorruptedMac) => {
            let secret = client_secret.unwrap_or_default();
            let input = signing_input(&json!({"alg": "HS256", "typ": "JWT"}), &claims);
            let mut raw = URL_SAFE_NO_PAD
                .decode(hs256(secret.as_bytes(), &input))
                .expect("own MAC is base64url");
            raw.iter_mut().for_each(|b| *b ^= 0x5A);
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw))
        }
        Some(F::ForeignJku) => {
            let stray = keys.stray();
            let jku = format!(
                "{}{}",
                shared.issuer.trim_end_matches('/'),
                crate::keys::ATTACKER_JWKS_PATH
            );
            let header = json!({"alg": stray.alg().as_str(), "typ": "JWT", "kid": stray.kid(), "jku": jku});
            stray.sign_with_header(&header, &claims)
        }
        Some(F::WrongTyp) => active.sign_with_header(
            &json!({"alg": active.alg().as_str(), "typ": "at+jwt", "kid": active.kid()}),
            &claims,
        ),
        _ => active.sign(&claims),
    }
}
