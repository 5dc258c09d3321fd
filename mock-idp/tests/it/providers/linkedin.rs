//! LinkedIn (OpenID Connect), driven by `openidconnect`, and its quirks.

use mock_idp::personality::LinkedIn;
use openidconnect::core::{CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{IssuerUrl, OAuth2TokenResponse, TokenResponse};
use serde_json::{Value, json};

use super::{get_resource, login, oidc_login, resource_urls, start, token_request, tokens};
use crate::common::{self, REDIRECT, jwt_parts, param};

#[tokio::test]
async fn login_profile_and_failures_with_openidconnect() {
    let idp = start(LinkedIn::new()).await;
    let login = oidc_login(&idp, idp.issuer(), true, false, &[]).await;
    assert_eq!(
        login.claims.issuer().as_str(),
        format!("{}/oauth", idp.base_url())
    );
    assert!(
        login.token.refresh_token().is_none(),
        "no refresh tokens for non-partner apps"
    );
    assert_eq!(login.token.expires_in().unwrap().as_secs(), 5_183_999);
    let info: Value = get_resource(
        &resource_urls(&idp)[0].1,
        Some(login.token.access_token().secret()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(info["locale"], json!({"country": "US", "language": "en"}));
    assert_eq!(info["email_verified"], true);

    idp.on_authorize().respond(mock_idp::Outcome::deny());
    let loc = login_loc(&idp).await;
    assert_eq!(param(&loc, "error").as_deref(), Some("user_cancelled_authorize"));
    let bad = token_request(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(bad.json::<Value>().await.unwrap()["error"], "invalid_request");
}

async fn login_loc(idp: &mock_idp::MockIdp) -> String {
    login(idp, &[]).await
}

#[tokio::test]
async fn quirk_06_linkedin_issuer_moved_to_the_oauth_path() {
    let idp = start(LinkedIn::new()).await;
    let http = common::oidc_http(common::http(None));
    // A client that hard-codes the old issuer (the bare origin) cannot even discover.
    assert!(
        CoreProviderMetadata::discover_async(IssuerUrl::new(idp.base_url().into()).unwrap(), &http)
            .await
            .is_err()
    );
    let body = tokens(&idp, &[]).await;
    assert_eq!(
        jwt_parts(body["id_token"].as_str().unwrap()).1["iss"],
        format!("{}/oauth", idp.base_url())
    );
}

#[tokio::test]
async fn quirk_13_linkedin_accepts_only_client_secret_post_and_refuses_pkce_from_web_clients() {
    let idp = start(LinkedIn::new()).await;
    let code = param(&login(&idp, &[]).await, "code").unwrap();
    let basic = common::http(None)
        .post(idp.endpoint_url(mock_idp::Endpoint::Token).unwrap())
        .basic_auth("mock-client", Some("mock-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "Basic is refused");
    let verifier = "v".repeat(43);
    let challenge = crate::strictness::s256(&verifier);
    let code = param(
        &login(
            &idp,
            &[("code_challenge", &challenge), ("code_challenge_method", "S256")],
        )
        .await,
        "code",
    )
    .unwrap();
    let resp = token_request(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.json::<Value>().await.unwrap()["error_description"]
            .as_str()
            .unwrap()
            .contains("code verifier does not match")
    );
}

#[tokio::test]
async fn linkedin_locale_object_breaks_standard_claim_parsers_unless_configured_as_string() {
    let idp = start(LinkedIn::new()).await;
    let login = oidc_login(&idp, idp.issuer(), true, false, &[]).await;
    let http = common::oidc_http(common::http(None));
    let parsed: Result<CoreUserInfoClaims, _> = login
        .client
        .user_info(login.token.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        parsed.is_err(),
        "openidconnect types `locale` as a language tag string"
    );
    let idp = start(LinkedIn::new().locale_as_string()).await;
    let login = oidc_login(&idp, idp.issuer(), true, false, &[]).await;
    let info: CoreUserInfoClaims = login
        .client
        .user_info(login.token.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.email().unwrap().as_str(), "alice@example.com");
}

#[tokio::test]
async fn linkedin_partner_apps_get_refresh_tokens() {
    let idp = start(LinkedIn::new().partner()).await;
    let body = tokens(&idp, &[]).await;
    assert!(body["refresh_token"].is_string());
    assert_eq!(body["refresh_token_expires_in"], 31_536_000);
    assert_eq!(body["scope"], "email,openid,profile");
    let _ = oidc_login(&idp, idp.issuer(), true, false, &[])
        .await
        .token
        .id_token()
        .unwrap();
}
