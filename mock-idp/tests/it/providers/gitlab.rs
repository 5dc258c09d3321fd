//! GitLab, driven by `openidconnect`, and its quirks.

use std::time::Duration;

use mock_idp::Outcome;
use mock_idp::personality::GitLab;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde_json::{Value, json};

use super::{error_body, get_resource, oidc_login, resource_urls, start, token_request};
use crate::common::{self, REDIRECT};

#[tokio::test]
async fn login_profile_refresh_and_failures_with_openidconnect() {
    let idp = start(GitLab::new()).await;
    let login = oidc_login(&idp, idp.issuer(), false, true, &[]).await;
    let sub = login.claims.subject().as_str().to_owned();
    assert!(
        sub.chars().all(|c| c.is_ascii_digit()),
        "sub is the numeric id as a string"
    );
    let at = login.token.access_token().secret().clone();
    let urls = resource_urls(&idp);
    let info: Value = get_resource(&urls[0].1, Some(&at)).await.json().await.unwrap();
    assert_eq!(info["nickname"], "alice");
    let user: Value = get_resource(&urls[1].1, Some(&at)).await.json().await.unwrap();
    assert_eq!(
        user["id"].to_string(),
        sub,
        "REST id is an integer, the same number"
    );
    assert_eq!(user["username"], "alice");

    let http = common::oidc_http(common::http(None));
    idp.on_refresh().respond(Outcome::RefreshRevoked);
    let refresh = login.token.refresh_token().unwrap().clone();
    let err = login
        .client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(
        serde_json::from_str::<Value>(&error_body(&err)).unwrap()["error_description"],
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
    );
    let bad = token_request(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(bad.status(), 400);
    let unknown = common::http(None)
        .post(idp.endpoint_url(mock_idp::Endpoint::Token).unwrap())
        .basic_auth("nobody", Some("x"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        json!({"error": "invalid_client", "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."})
    );
}

#[tokio::test]
async fn quirk_16_gitlab_access_tokens_expire_after_two_hours_and_refresh_rotates() {
    let idp = start(GitLab::new()).await;
    let login = oidc_login(&idp, idp.issuer(), false, true, &[]).await;
    assert_eq!(login.token.expires_in().unwrap().as_secs(), 7200);
    let url = resource_urls(&idp)[0].1.clone();
    let at = login.token.access_token().secret().clone();
    idp.clock().advance(Duration::from_secs(7201));
    assert_eq!(
        get_resource(&url, Some(&at)).await.status(),
        401,
        "a lazily refreshing client is logged out"
    );
    let http = common::oidc_http(common::http(None));
    let old = login.token.refresh_token().unwrap().clone();
    let fresh = login
        .client
        .exchange_refresh_token(&old)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(fresh.refresh_token().unwrap().secret(), old.secret());
    assert!(fresh.id_token().is_some());
    assert!(
        login
            .client
            .exchange_refresh_token(&old)
            .unwrap()
            .request_async(&http)
            .await
            .is_err(),
        "the old refresh token is revoked"
    );
}
