//! The generic OAuth 2.0 personality and its knobs, driven by `oauth2`.

use mock_idp::personality::{Generic, ProfileShape};
use oauth2::{AuthorizationCode, TokenResponse};
use serde_json::{Value, json};

use super::{get_resource, login, oauth2_client, oauth2_code, resource_urls, start, token_request};
use crate::common::{self, REDIRECT, param};

#[tokio::test]
async fn login_profile_refresh_and_logout_with_oauth2() {
    let idp = start(Generic::new()).await;
    let client = oauth2_client(&idp, false);
    let http = common::oidc_http(common::http(None));
    let (code, _) = oauth2_code(&idp, &client, &["openid", "email", "profile"], &[]).await;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
        .unwrap();
    let profile: Value = get_resource(&resource_urls(&idp)[0].1, Some(token.access_token().secret()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        profile,
        json!({"id": "alice", "username": "alice", "name": "Alice Example", "email": "alice@example.com", "email_verified": true})
    );
    let refreshed = client
        .exchange_refresh_token(token.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    assert!(!refreshed.access_token().secret().is_empty());
    // Single logout through the end-session URL.
    let logout = format!(
        "{}?client_id=mock-client&post_logout_redirect_uri={}",
        idp.endpoint_url(mock_idp::Endpoint::EndSession).unwrap(),
        form_urlencoded::byte_serialize(common::POST_LOGOUT.as_bytes()).collect::<String>()
    );
    assert_eq!(
        common::follow(&common::http(None), &logout).await,
        common::POST_LOGOUT
    );
}

#[tokio::test]
async fn generic_knobs_shape_tokens_and_profiles() {
    let idp = start(
        Generic::new()
            .form_encoded_tokens()
            .token_type("bearer")
            .id_field("user_id")
            .numeric_id()
            .email_field("mail")
            .verified_field(None)
            .scope_separator(',')
            .profile_shape(ProfileShape::Array("data".into())),
    )
    .await;
    let code = param(&login(&idp, &[("scope", "email,profile")]).await, "code").unwrap();
    let resp = token_request(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let text = resp.text().await.unwrap();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes()).into_owned().collect();
    let at = pairs.iter().find(|(k, _)| k == "access_token").unwrap().1.clone();
    assert!(pairs.contains(&("token_type".into(), "bearer".into())));
    let profile: Value = get_resource(&resource_urls(&idp)[0].1, Some(&at))
        .await
        .json()
        .await
        .unwrap();
    let user = &profile["data"][0];
    assert!(user["user_id"].is_u64(), "{profile}");
    assert_eq!(user["mail"], "alice@example.com");
    assert!(user.get("email_verified").is_none());
}
