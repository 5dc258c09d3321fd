//! Full OpenID Connect code flows, driven by the `openidconnect` crate — an independent
//! relying-party implementation — so the IdP is checked against a real client, not itself.

use mock_idp::{Endpoint, MockIdp, SigningAlg, User};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreRevocableToken, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, IssuerUrl,
    JsonWebKey, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl,
    RedirectUrl, RevocationUrl, Scope, TokenResponse,
};

use crate::common::{self, POST_LOGOUT, REDIRECT, follow, http, oidc_http, param};

async fn full_flow(idp: &MockIdp) {
    let http = http(idp.ca_pem());
    let client_http = oidc_http(http.clone());
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(idp.issuer().into()).unwrap(), &client_http)
            .await
            .expect("discovery");
    let creds = idp.client();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(creds.id.to_string()),
        Some(ClientSecret::new(creds.secret.unwrap().expose().to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_revocation_url(RevocationUrl::new(idp.endpoint_url(Endpoint::Revocation).unwrap()).unwrap());

    // Authorize with PKCE S256 and a nonce; the headless IdP redirects straight back.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let location = follow(&http, url.as_str()).await;
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(
        param(&location, "iss").as_deref(),
        Some(idp.issuer()),
        "RFC 9207 iss"
    );
    let code = param(&location, "code").unwrap();

    // Token: the ID token verifies (signature from the discovered JWKS, iss, aud, exp, nonce).
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&client_http)
        .await
        .expect("code exchange");
    let id_token = token.id_token().expect("id_token for openid scope");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("valid ID token");
    assert_eq!(claims.subject().as_str(), "alice");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(claims.email_verified(), Some(true));
    assert!(claims.auth_time().is_some());
    let at_hash = claims.access_token_hash().expect("at_hash");
    let expected = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(at_hash, &expected, "at_hash matches the access token");

    // Userinfo agrees with the ID token.
    let info: CoreUserInfoClaims = client
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&client_http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));

    // Refresh: a new access token that works; the ID token from refresh verifies (no nonce).
    let refresh = token.refresh_token().expect("refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&client_http)
        .await
        .expect("refresh");
    assert_ne!(refreshed.access_token().secret(), token.access_token().secret());
    let rid = refreshed.id_token().expect("id_token on refresh");
    let rclaims = rid
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("refresh ID token");
    assert_eq!(rclaims.subject(), claims.subject());
    assert!(rclaims.nonce().is_none(), "refresh ID tokens carry no nonce");
    let (status, _, _) = common::userinfo(idp, &http, refreshed.access_token().secret()).await;
    assert_eq!(status, 200);

    // Revoke the refresh token: the grant dies, with every access token issued for it.
    // (oauth2 insists on https for revocation, so over http the RFC 7009 request is sent by hand.)
    if idp.base_url().starts_with("https") {
        client
            .revoke_token(CoreRevocableToken::from(refresh.clone()))
            .unwrap()
            .request_async(&client_http)
            .await
            .expect("revocation");
    } else {
        let resp = http
            .post(idp.endpoint_url(Endpoint::Revocation).unwrap())
            .basic_auth("mock-client", Some("mock-secret"))
            .form(&[
                ("token", refresh.secret().as_str()),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let (status, _, challenge) = common::userinfo(idp, &http, refreshed.access_token().secret()).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("invalid_token"));
    assert!(
        client
            .exchange_refresh_token(&refresh)
            .unwrap()
            .request_async(&client_http)
            .await
            .is_err()
    );

    // RP-initiated logout with id_token_hint and a registered post-logout URI.
    let logout =
        LogoutRequest::from(EndSessionUrl::new(idp.endpoint_url(Endpoint::EndSession).unwrap()).unwrap())
            .set_id_token_hint(id_token)
            .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(POST_LOGOUT.into()).unwrap())
            .set_state(CsrfToken::new("bye-state".into()))
            .http_get_url();
    let back = follow(&http, logout.as_str()).await;
    assert_eq!(back, format!("{POST_LOGOUT}?state=bye-state"));
}

#[tokio::test]
async fn full_code_flow_over_http() {
    let idp = common::idp().await;
    assert!(idp.issuer().starts_with("http://127.0.0.1:"));
    full_flow(&idp).await;
}

#[tokio::test]
async fn full_code_flow_over_https_with_the_instance_ca() {
    let idp = MockIdp::builder()
        .tls()
        .redirect_uri(REDIRECT)
        .post_logout_redirect_uri(POST_LOGOUT)
        .start()
        .await;
    assert!(idp.issuer().starts_with("https://127.0.0.1:"));
    assert!(idp.ca_pem().unwrap().contains("BEGIN CERTIFICATE"));
    full_flow(&idp).await;
}

#[tokio::test]
async fn https_with_a_fixed_ca_that_clients_trust_once() {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "team test CA");
    let ca = params.self_signed(&key).unwrap();
    let idp = MockIdp::builder()
        .tls_with_ca(ca.pem(), key.serialize_pem())
        .start()
        .await;
    assert_eq!(idp.ca_pem(), Some(ca.pem().as_str()));
    let resp = http(Some(&ca.pem()))
        .get(idp.discovery_url())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn https_is_refused_by_a_client_that_does_not_trust_the_ca() {
    let idp = MockIdp::builder().tls().start().await;
    let err = http(None).get(idp.discovery_url()).send().await.unwrap_err();
    assert!(
        err.is_connect() || err.to_string().contains("certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn full_code_flow_with_es256_and_a_custom_user() {
    let idp = MockIdp::builder()
        .signing_alg(SigningAlg::ES256)
        .user(User::new("bob").email("bob@corp.example").name("Bob"))
        .redirect_uri(REDIRECT)
        .post_logout_redirect_uri(POST_LOGOUT)
        .start()
        .await;
    let jwks = idp.jwks();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let (header, claims) = common::jwt_parts(body["id_token"].as_str().unwrap());
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], idp.active_kid());
    assert_eq!(
        claims["sub"], "bob",
        "the first registered user logs in headlessly"
    );
}

#[tokio::test]
async fn key_rotation_publishes_the_new_key_and_keeps_or_drops_the_old() {
    let idp = common::idp().await;
    let http = http(None);
    let old_kid = idp.active_kid();
    let new_kid = idp.rotate_keys(SigningAlg::RS256, true);
    let jwks: serde_json::Value = http
        .get(idp.endpoint_url(Endpoint::Jwks).unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        [new_kid.as_str(), old_kid.as_str()],
        "new key first, old key still published"
    );
    let body = common::tokens(&idp, &http).await;
    assert_eq!(
        common::jwt_parts(body["id_token"].as_str().unwrap()).0["kid"],
        new_kid.as_str()
    );
    idp.rotate_keys(SigningAlg::ES256, false);
    assert_eq!(idp.jwks()["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn openidconnect_rejects_an_id_token_signed_by_a_dropped_key() {
    let idp = common::idp().await;
    let http = http(None);
    let client_http = oidc_http(http.clone());
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(idp.issuer().into()).unwrap(), &client_http)
            .await
            .unwrap();
    let body = common::tokens(&idp, &http).await;
    // Rotate without keeping the old key, then rediscover: the old token no longer verifies.
    idp.rotate_keys(SigningAlg::RS256, false);
    let meta2 =
        CoreProviderMetadata::discover_async(IssuerUrl::new(idp.issuer().into()).unwrap(), &client_http)
            .await
            .unwrap();
    assert_ne!(meta.jwks().keys()[0].key_id(), meta2.jwks().keys()[0].key_id());
    let client = CoreClient::from_provider_metadata(meta2, ClientId::new("mock-client".into()), None);
    let token: openidconnect::core::CoreIdToken = body["id_token"].as_str().unwrap().parse().unwrap();
    let err = token
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .unwrap_err();
    let msg = err.to_string().to_lowercase();
    assert!(msg.contains("key") || msg.contains("signature"), "{err}");
}
