//! One test per scripted outcome (and per script mechanic: counts, clients, FIFO, scoping,
//! expectations), each asserting the exact status and body.

use std::time::{Duration, Instant};

use mock_idp::{
    AuthorizeResponseChange, Client, Endpoint, IdTokenFault, MockIdp, Outcome, TokenResponseChange, User,
    UserPatch,
};
use openidconnect::Nonce;
use openidconnect::core::{CoreClient, CoreIdToken, CoreProviderMetadata};
use serde_json::{Value, json};

use crate::common::{self, REDIRECT, authorize_url, follow, http, jwt_parts, oidc_http, params_of, token};

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

async fn redeem(idp: &MockIdp, http: &reqwest::Client) -> (u16, Value) {
    let code = common::code(idp, http, &[]).await;
    token(
        idp,
        http,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

// ---- authorize -------------------------------------------------------------------------------

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let idp = common::idp().await;
    idp.on_authorize().respond(Outcome::deny());
    let loc = follow(&http(None), &authorize_url(&idp, &[])).await;
    assert_eq!(
        params_of(&loc),
        pairs(&[
            ("error", "access_denied"),
            ("error_description", "The user denied the request."),
            ("state", "state-0123456789abcdef"),
            ("iss", idp.issuer()),
        ])
    );
    // once() is the default: the next login succeeds.
    assert!(common::param(&follow(&http(None), &authorize_url(&idp, &[])).await, "code").is_some());
}

#[tokio::test]
async fn approve_logs_in_the_scripted_user() {
    let idp = MockIdp::builder()
        .redirect_uri(REDIRECT)
        .user(User::new("alice"))
        .user(User::new("bob"))
        .start()
        .await;
    idp.on_authorize().respond(Outcome::approve("bob"));
    let (_, body) = redeem(&idp, &http(None)).await;
    assert_eq!(jwt_parts(body["id_token"].as_str().unwrap()).1["sub"], "bob");
}

#[tokio::test]
async fn authorize_error_redirects_with_the_scripted_error() {
    let idp = common::idp().await;
    idp.on_authorize().respond(Outcome::authorize_error(
        "temporarily_unavailable",
        Some("maintenance"),
    ));
    let loc = follow(&http(None), &authorize_url(&idp, &[])).await;
    assert_eq!(
        params_of(&loc),
        pairs(&[
            ("error", "temporarily_unavailable"),
            ("error_description", "maintenance"),
            ("state", "state-0123456789abcdef"),
            ("iss", idp.issuer()),
        ])
    );
}

#[tokio::test]
async fn narrow_scope_grants_fewer_scopes_than_asked() {
    let idp = common::idp().await;
    idp.on_authorize()
        .respond(Outcome::narrow_scope("openid profile"));
    let http = http(None);
    let (status, body) = redeem(&idp, &http).await;
    assert_eq!(status, 200);
    assert_eq!(body["scope"], "openid profile");
    let claims = jwt_parts(body["id_token"].as_str().unwrap()).1;
    assert!(claims.get("email").is_none(), "email was not granted: {claims}");
    let (_, info, _) = common::userinfo(&idp, &http, body["access_token"].as_str().unwrap()).await;
    assert!(info.get("email").is_none());
}

#[tokio::test]
async fn authorization_response_changes() {
    let idp = common::idp().await;
    let http = http(None);
    type Check = dyn Fn(&[(String, String)]) -> bool;
    let cases: [(AuthorizeResponseChange, &Check); 5] = [
        (AuthorizeResponseChange::InvalidState, &|p| {
            p.iter()
                .any(|(k, v)| k == "state" && v == "state-0123456789abcdef1")
        }),
        (AuthorizeResponseChange::MissingState, &|p| {
            !p.iter().any(|(k, _)| k == "state")
        }),
        (AuthorizeResponseChange::InvalidIss, &|p| {
            p.iter().any(|(k, v)| k == "iss" && v.ends_with("1"))
        }),
        (AuthorizeResponseChange::MissingIss, &|p| {
            !p.iter().any(|(k, _)| k == "iss")
        }),
        (AuthorizeResponseChange::MissingCode, &|p| {
            !p.iter().any(|(k, _)| k == "code")
        }),
    ];
    for (change, check) in cases {
        idp.on_authorize().respond(Outcome::AuthorizeResponse { change });
        let p = params_of(&follow(&http, &authorize_url(&idp, &[])).await);
        assert!(check(&p), "{change:?}: {p:?}");
    }
}

// ---- token -----------------------------------------------------------------------------------

#[tokio::test]
async fn invalid_grant_on_the_code_exchange() {
    let idp = common::idp().await;
    idp.on_token().respond(Outcome::invalid_grant());
    assert_eq!(
        redeem(&idp, &http(None)).await,
        (
            400,
            json!({"error": "invalid_grant", "error_description": "the authorization code is invalid or expired"})
        )
    );
}

#[tokio::test]
async fn oauth_error_with_any_status_and_code() {
    let idp = common::idp().await;
    idp.on_token()
        .respond(Outcome::oauth_error(429, "slow_down", Some("too many requests")));
    assert_eq!(
        redeem(&idp, &http(None)).await,
        (
            429,
            json!({"error": "slow_down", "error_description": "too many requests"})
        )
    );
}

#[tokio::test]
async fn server_error_on_every_endpoint() {
    let idp = common::idp().await;
    let http = http(None);
    let body = json!({"error": "server_error", "error_description": "The identity provider encountered an internal error."});
    for endpoint in [
        Endpoint::Discovery,
        Endpoint::Jwks,
        Endpoint::Token,
        Endpoint::Userinfo,
        Endpoint::Revocation,
    ] {
        idp.on(endpoint).respond(Outcome::ServerError);
        let url = idp.endpoint_url(endpoint).unwrap();
        let resp = match endpoint {
            Endpoint::Discovery | Endpoint::Jwks => http.get(url).send().await.unwrap(),
            Endpoint::Userinfo => http.get(url).bearer_auth("x").send().await.unwrap(),
            _ => http
                .post(url)
                .basic_auth("mock-client", Some("mock-secret"))
                .form(&[("grant_type", "authorization_code")])
                .send()
                .await
                .unwrap(),
        };
        assert_eq!(resp.status(), 500, "{endpoint}");
        assert_eq!(resp.json::<Value>().await.unwrap(), body, "{endpoint}");
    }
    idp.on_authorize().respond(Outcome::ServerError);
    let resp = http.get(authorize_url(&idp, &[])).send().await.unwrap();
    assert_eq!(resp.status(), 500);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("the identity provider failed")
    );
}

#[tokio::test]
async fn raw_status_and_malformed_bodies() {
    let idp = common::idp().await;
    let http = http(None);
    idp.on_token().respond(Outcome::Status {
        status: 502,
        body: "<html>Bad Gateway</html>".into(),
        content_type: Some("text/html".into()),
    });
    let code = common::code(&idp, &http, &[]).await;
    let resp = http
        .post(idp.endpoint_url(Endpoint::Token).unwrap())
        .basic_auth("mock-client", Some("mock-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["content-type"], "text/html");
    assert_eq!(resp.text().await.unwrap(), "<html>Bad Gateway</html>");

    idp.on(Endpoint::Discovery).respond(Outcome::Malformed);
    let resp = http.get(idp.discovery_url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert_eq!(text, "{\"access_token\":\"mat_trunc");
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

#[tokio::test]
async fn infrastructure_faults_preempt_validation_but_other_outcomes_wait_for_a_valid_request() {
    let idp = common::idp().await;
    let http = http(None);
    // A 5xx hits even a request that is wrong in every way.
    idp.on_token().respond(Outcome::ServerError);
    assert_eq!(token(&idp, &http, &[("grant_type", "nonsense")]).await.0, 500);
    // invalid_grant is not spent on a broken request: the client first gets its own error…
    let scripted = idp.on_token().respond(Outcome::invalid_grant());
    assert_eq!(
        token(&idp, &http, &[("grant_type", "nonsense")]).await.1["error"],
        "unsupported_grant_type"
    );
    assert_eq!(scripted.hits(), 0);
    // …and the scripted outcome answers the next valid request.
    assert_eq!(
        redeem(&idp, &http).await.1["error_description"],
        "the authorization code is invalid or expired"
    );
    assert_eq!(scripted.hits(), 1);
}

#[tokio::test]
async fn id_token_faults_are_planted_as_the_oidf_suite_plants_them() {
    let idp = common::idp().await;
    let http = http(None);
    let (_, good) = redeem(&idp, &http).await;
    let (gh, gc) = jwt_parts(good["id_token"].as_str().unwrap());
    let now = gc["iat"].as_u64().unwrap();
    for fault in IdTokenFault::ALL {
        idp.on_token().respond(Outcome::id_token(fault));
        let (status, body) = redeem(&idp, &http).await;
        assert_eq!(status, 200, "{fault:?}");
        let jwt = body["id_token"].as_str().unwrap();
        let (h, c) = jwt_parts(jwt);
        let sig = jwt.rsplit('.').next().unwrap();
        let at = body["access_token"].as_str().unwrap();
        use IdTokenFault as F;
        let ok = match fault {
            F::InvalidIss => c["iss"] == format!("{}1", idp.issuer()),
            F::MissingIss => c.get("iss").is_none(),
            F::InvalidAud => c["aud"] == "mock-client1",
            F::MissingAud => c.get("aud").is_none(),
            F::SecondaryAud => c["aud"] == json!(["mock-client", "mock-client1"]) && c.get("azp").is_none(),
            F::AudAsArray => c["aud"] == json!(["mock-client"]),
            F::MissingSub => c.get("sub").is_none(),
            F::InvalidSub => c["sub"] == "alice1",
            F::MissingIat => c.get("iat").is_none(),
            F::IatWeekAgo => c["iat"].as_u64().unwrap() + 7 * 24 * 3600 <= now + 60,
            F::IatInFuture => c["iat"].as_u64().unwrap() >= now + 3500,
            F::NbfInFuture => c["nbf"].as_u64().unwrap() >= now + 3500,
            F::Expired => c["exp"].as_u64().unwrap() + 300 < now,
            F::MissingExp => c.get("exp").is_none(),
            F::InvalidNonce => c["nonce"] == "nonce-01234567891",
            F::MissingNonce => c.get("nonce").is_none(),
            F::InvalidAtHash => c["at_hash"] != gc["at_hash"] && c["at_hash"].as_str().unwrap().len() == 22,
            F::MissingAtHash => c.get("at_hash").is_none(),
            F::InvalidSignature => h == gh && !sig.is_empty(),
            F::AlgNone => h == json!({"alg": "none", "typ": "JWT"}) && sig.is_empty(),
            F::UnknownKid => {
                h["kid"] != gh["kid"] && !idp.jwks().to_string().contains(h["kid"].as_str().unwrap())
            }
            F::NoKid => h.get("kid").is_none() && h["alg"] == "RS256",
            F::Hs256WithPublicKey => h["alg"] == "HS256" && h["kid"] == gh["kid"],
            F::EmbeddedJwk => h["jwk"]["kty"] == "RSA" && h["kid"] != gh["kid"],
            F::WrongTyp => h["typ"] == "at+jwt",
            F::AlgNoneCapitalized => h["alg"] == "None" && sig.is_empty(),
            F::AlgNoneUpper => h["alg"] == "NONE" && sig.is_empty(),
            F::MissingAlg => h.get("alg").is_none() && h["kid"] == gh["kid"] && !sig.is_empty(),
            F::SplicedSignature => h == gh && c["sub"] == gc["sub"] && !sig.is_empty(),
            F::Hs256WithPublicPem | F::Hs256WithJwkN => h["alg"] == "HS256" && h["kid"] == gh["kid"],
            F::Hs256CorruptedMac => h["alg"] == "HS256" && h.get("kid").is_none() && sig.len() == 43,
            F::ForeignJku => {
                h["jku"]
                    == format!(
                        "{}{}",
                        idp.issuer().trim_end_matches('/'),
                        mock_idp::keys::ATTACKER_JWKS_PATH
                    )
                    && h["kid"] != gh["kid"]
            }
            F::IssTrailingSlash => {
                let iss = c["iss"].as_str().unwrap();
                iss != idp.issuer() && iss.trim_end_matches('/') == idp.issuer().trim_end_matches('/')
            }
            F::IssUppercase => c["iss"] == idp.issuer().to_uppercase(),
            F::ForeignAzp => c["azp"] == "mock-client-other",
            F::ExpiredWithinSkew => {
                let exp = c["exp"].as_u64().unwrap();
                exp < now && exp + 60 > now
            }
            F::ExpiredTwoMinutesAgo => {
                let (exp, iat) = (c["exp"].as_u64().unwrap(), c["iat"].as_u64().unwrap());
                exp + 100 < now && iat + 130 > now
            }
            F::OversizedClaims => c.as_object().unwrap().len() > 100_000 && jwt.len() > 1_000_000,
        };
        assert!(ok, "{fault:?}: header {h} claims {c}");
        assert!(!at.is_empty());
    }
}

#[tokio::test]
async fn a_real_relying_party_rejects_the_must_reject_faults_and_accepts_the_rest() {
    let idp = common::idp().await;
    let http = http(None);
    let meta = CoreProviderMetadata::discover_async(
        openidconnect::IssuerUrl::new(idp.issuer().into()).unwrap(),
        &oidc_http(http.clone()),
    )
    .await
    .unwrap();
    let client =
        CoreClient::from_provider_metadata(meta, openidconnect::ClientId::new("mock-client".into()), None);
    let nonce = Nonce::new("nonce-0123456789".into());
    // The faults openidconnect itself checks; the rest (iat age, nbf, at_hash, typ) are the
    // gateway's own job and are exercised by the harness.
    use IdTokenFault as F;
    for fault in [
        F::InvalidIss,
        F::MissingIss,
        F::InvalidAud,
        F::MissingAud,
        F::SecondaryAud,
        F::MissingSub,
        F::MissingIat,
        F::Expired,
        F::MissingExp,
        F::InvalidNonce,
        F::MissingNonce,
        F::InvalidSignature,
        F::AlgNone,
        F::UnknownKid,
        F::Hs256WithPublicKey,
        F::EmbeddedJwk,
        F::AudAsArray,
        F::NoKid,
    ] {
        idp.on_token().respond(Outcome::id_token(fault));
        let (_, body) = redeem(&idp, &http).await;
        let parsed = body["id_token"].as_str().unwrap().parse::<CoreIdToken>();
        let verdict = parsed.map_err(|e| e.to_string()).and_then(|t| {
            t.claims(&client.id_token_verifier(), &nonce)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        assert_eq!(
            verdict.is_ok(),
            fault.must_be_accepted(),
            "{fault:?}: {verdict:?}"
        );
    }
}

#[tokio::test]
async fn token_response_changes() {
    let idp = common::idp().await;
    let http = http(None);
    use TokenResponseChange as C;
    for (change, check) in [
        (
            C::InvertTokenTypeCase,
            (&|b: &Value| b["token_type"] == "bEARER") as &dyn Fn(&Value) -> bool,
        ),
        (C::OmitExpiresIn, &|b| b.get("expires_in").is_none()),
        (C::OmitScope, &|b| b.get("scope").is_none()),
        (C::OmitIdToken, &|b| b.get("id_token").is_none()),
        (C::OmitRefreshToken, &|b| b.get("refresh_token").is_none()),
        (C::OmitAccessToken, &|b| b.get("access_token").is_none()),
        (C::UnsupportedTokenType, &|b| b["token_type"] == "mac"),
    ] {
        idp.on_token().respond(Outcome::token_response(change));
        let (status, body) = redeem(&idp, &http).await;
        assert_eq!(status, 200);
        assert!(check(&body), "{change:?}: {body}");
    }
}

// ---- refresh ---------------------------------------------------------------------------------

async fn refresh(idp: &MockIdp, http: &reqwest::Client, rt: &str) -> (u16, Value) {
    token(
        idp,
        http,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await
}

#[tokio::test]
async fn refresh_revoked_is_real_afterwards() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let rt = body["refresh_token"].as_str().unwrap();
    idp.on_refresh().respond(Outcome::RefreshRevoked);
    let expected = (
        400,
        json!({"error": "invalid_grant", "error_description": "the refresh token has been revoked"}),
    );
    assert_eq!(refresh(&idp, &http, rt).await, expected);
    assert_eq!(
        refresh(&idp, &http, rt).await,
        expected,
        "still revoked without a script"
    );
    assert_eq!(
        common::userinfo(&idp, &http, body["access_token"].as_str().unwrap())
            .await
            .0,
        401,
        "grant revoked"
    );
}

#[tokio::test]
async fn refresh_expired_is_real_afterwards() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let rt = body["refresh_token"].as_str().unwrap();
    idp.on_refresh().respond(Outcome::RefreshExpired);
    let expected = (
        400,
        json!({"error": "invalid_grant", "error_description": "the refresh token has expired"}),
    );
    assert_eq!(refresh(&idp, &http, rt).await, expected);
    assert_eq!(refresh(&idp, &http, rt).await, expected);
}

#[tokio::test]
async fn refresh_rotated_once_then_the_old_token_is_dead() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let rt = body["refresh_token"].as_str().unwrap();
    idp.on_refresh().respond(Outcome::RefreshRotated);
    let (status, rotated) = refresh(&idp, &http, rt).await;
    assert_eq!(status, 200);
    let new = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(new, rt);
    assert_eq!(refresh(&idp, &http, rt).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_invalid_grant_and_id_token_fault() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let rt = body["refresh_token"].as_str().unwrap();
    idp.on_refresh().respond(Outcome::invalid_grant());
    assert_eq!(
        refresh(&idp, &http, rt).await,
        (
            400,
            json!({"error": "invalid_grant", "error_description": "the refresh token is invalid, expired or revoked"})
        )
    );
    idp.on_refresh()
        .respond(Outcome::id_token(IdTokenFault::InvalidSub));
    let (status, r) = refresh(&idp, &http, rt).await;
    assert_eq!(status, 200);
    assert_eq!(
        jwt_parts(r["id_token"].as_str().unwrap()).1["sub"],
        "alice1",
        "[refresh-token-invalid-sub]"
    );
}

#[tokio::test]
async fn refresh_reflects_user_changes_in_the_new_id_token() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    idp.update_user(
        "alice",
        UserPatch {
            email: Some(Some("alice@new.example".into())),
            ..Default::default()
        },
    );
    let (_, r) = refresh(&idp, &http, body["refresh_token"].as_str().unwrap()).await;
    let c = jwt_parts(r["id_token"].as_str().unwrap()).1;
    assert_eq!(
        (c["sub"].as_str(), c["email"].as_str()),
        (Some("alice"), Some("alice@new.example"))
    );
}

// ---- userinfo --------------------------------------------------------------------------------

#[tokio::test]
async fn userinfo_user_changed_and_invalid_sub_and_error() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let at = body["access_token"].as_str().unwrap();
    idp.on_userinfo().respond(Outcome::user_changed(UserPatch {
        email: Some(Some("changed@example.com".into())),
        email_verified: Some(false),
        ..Default::default()
    }));
    let (status, info, _) = common::userinfo(&idp, &http, at).await;
    assert_eq!(status, 200);
    assert_eq!(
        (info["email"].as_str(), info["email_verified"].as_bool()),
        (Some("changed@example.com"), Some(false))
    );
    assert_eq!(
        idp.user("alice").unwrap().email.as_deref(),
        Some("changed@example.com"),
        "the change stays"
    );

    idp.on_userinfo().respond(Outcome::UserinfoInvalidSub);
    assert_eq!(common::userinfo(&idp, &http, at).await.1["sub"], "aliceinvalid");

    idp.on_userinfo()
        .respond(Outcome::oauth_error(401, "invalid_token", Some("revoked")));
    let (status, info, _) = common::userinfo(&idp, &http, at).await;
    assert_eq!(
        (status, info),
        (
            401,
            json!({"error": "invalid_token", "error_description": "revoked"})
        )
    );
}

#[tokio::test]
async fn discovery_issuer_mismatch() {
    let idp = common::idp().await;
    idp.on(Endpoint::Discovery)
        .respond(Outcome::DiscoveryIssuerMismatch);
    let doc: Value = http(None)
        .get(idp.discovery_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{}INVALID", idp.issuer()));
}

// ---- timing ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_delay_makes_the_endpoint_slow() {
    let idp = common::idp().await;
    idp.on(Endpoint::Discovery)
        .after(Duration::from_millis(300))
        .respond(Outcome::Success);
    let started = Instant::now();
    let resp = http(None).get(idp.discovery_url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_stalled_request_never_answers_but_is_counted_and_released_on_shutdown() {
    let idp = common::idp().await;
    idp.on(Endpoint::Jwks).respond(Outcome::Stall);
    let client = http(None);
    let url = idp.endpoint_url(Endpoint::Jwks).unwrap();
    let pending = tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!pending.is_finished(), "a stalled request gets no answer");
    assert_eq!(idp.requests_to(Endpoint::Jwks).len(), 1, "it is in the log");
    idp.expect(Endpoint::Jwks).times(1);
    idp.verify().expect("and counted for expectations");
    idp.shutdown().await;
    let answer = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("released by shutdown")
        .unwrap();
    assert!(answer.as_ref().map_or(true, |s| *s == 503), "{answer:?}");
}

// ---- script mechanics ------------------------------------------------------------------------

#[tokio::test]
async fn times_always_fifo_and_client_matching() {
    let idp = MockIdp::builder()
        .client(Client::confidential("a", "sa").redirect_uri(REDIRECT))
        .client(Client::confidential("b", "sb").redirect_uri(REDIRECT))
        .start()
        .await;
    let http = http(None);
    let deny = |client: &str| authorize_url(&idp, &[("client_id", client)]);
    idp.on_authorize()
        .for_client("b")
        .times(2)
        .respond(Outcome::deny());
    idp.on_authorize()
        .respond(Outcome::authorize_error("server_error", None));
    let error_of = |loc: String| common::param(&loc, "error");
    assert_eq!(
        error_of(follow(&http, &deny("a")).await).as_deref(),
        Some("server_error"),
        "client a skips b's entry"
    );
    assert_eq!(
        error_of(follow(&http, &deny("b")).await).as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        error_of(follow(&http, &deny("b")).await).as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        error_of(follow(&http, &deny("b")).await),
        None,
        "both used up: success"
    );
    let always = idp.on_authorize().always().respond(Outcome::deny());
    for _ in 0..5 {
        assert_eq!(
            error_of(follow(&http, &deny("a")).await).as_deref(),
            Some("access_denied")
        );
    }
    assert_eq!(always.hits(), 5);
    always.remove();
    assert_eq!(error_of(follow(&http, &deny("a")).await), None);
}

#[tokio::test]
async fn scoped_scripts_end_with_their_guard() {
    let idp = common::idp().await;
    let http = http(None);
    {
        let _guard = idp.on_authorize().always().respond_scoped(Outcome::deny());
        assert_eq!(
            common::param(&follow(&http, &authorize_url(&idp, &[])).await, "error").as_deref(),
            Some("access_denied")
        );
    }
    assert!(common::param(&follow(&http, &authorize_url(&idp, &[])).await, "code").is_some());
}

#[tokio::test]
async fn an_outcome_on_the_wrong_endpoint_is_refused_with_where_it_fits() {
    let idp = common::idp().await;
    let err = idp.on_token().try_respond(Outcome::deny()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "outcome `deny` cannot be scripted on the token endpoint; it applies to: authorize"
    );
}

#[tokio::test]
#[should_panic(expected = "outcome `refresh_revoked` cannot be scripted on the userinfo endpoint")]
async fn respond_panics_on_a_misapplied_outcome() {
    let idp = common::idp().await;
    idp.on_userinfo().respond(Outcome::RefreshRevoked);
}

#[tokio::test]
async fn expectations_report_what_arrived() {
    let idp = common::idp().await;
    let http = http(None);
    idp.expect(Endpoint::Token).times(2);
    idp.expect(Endpoint::Refresh).never();
    idp.expect(Endpoint::Authorize)
        .for_client("mock-client")
        .at_least(1);
    redeem(&idp, &http).await;
    let report = idp.verify().unwrap_err().to_string();
    assert!(
        report.contains("✗ token endpoint: expected exactly 2 requests, received 1"),
        "{report}"
    );
    assert!(
        report.contains("POST /token → 200 (client mock-client)"),
        "{report}"
    );
    assert!(
        report.contains("all requests received: authorize=1, token=1"),
        "{report}"
    );
    redeem(&idp, &http).await;
    idp.verify().expect("now met");
}

#[tokio::test]
#[should_panic(expected = "expected exactly 1 request, received 0")]
async fn unmet_expectations_panic_when_the_idp_drops() {
    let idp = common::idp().await;
    idp.expect(Endpoint::Userinfo).times(1);
}
