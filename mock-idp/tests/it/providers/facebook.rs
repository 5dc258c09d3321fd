//! Facebook Login, driven by `oauth2`, and its quirks.

use mock_idp::Outcome;
use mock_idp::personality::Facebook;
use oauth2::{AuthorizationCode, TokenResponse};
use serde_json::{Value, json};

use super::{
    error_body, get_resource, login, oauth2_client, oauth2_code, resource_urls, start, token_request,
};
use crate::common::{self, REDIRECT, param};

fn me_url(idp: &mock_idp::MockIdp) -> String {
    idp.endpoint_url(mock_idp::Endpoint::Userinfo).unwrap()
}

#[tokio::test]
async fn login_profile_and_failures_with_oauth2() {
    let idp = start(Facebook::new()).await;
    let client = oauth2_client(&idp, true);
    let http = common::oidc_http(common::http(None));
    let (code, loc) = oauth2_code(&idp, &client, &["email", "public_profile"], &[]).await;
    assert!(loc.ends_with("#_=_"), "{loc}");
    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .request_async(&http)
        .await
        .unwrap();
    assert!(token.access_token().secret().starts_with("EAAB"));
    assert!(token.refresh_token().is_none() && token.scopes().is_none());
    let me: Value = get_resource(
        &format!("{}?fields=id,name,email,picture", me_url(&idp)),
        Some(token.access_token().secret()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(me["id"].is_string());
    assert_eq!(me["picture"]["data"]["url"], "https://pictures.example/alice.png");
    // The same code again (browser back/refresh): code 100.
    let err = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
        .unwrap_err();
    let body: Value = serde_json::from_str(&error_body(&err)).unwrap();
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["message"], "This authorization code has been used.");
}

#[tokio::test]
async fn quirk_09_facebook_appends_hash_underscore_to_every_redirect() {
    let idp = start(Facebook::new()).await;
    assert!(login(&idp, &[]).await.ends_with("#_=_"));
    idp.on_authorize().respond(Outcome::deny());
    let denied = login(&idp, &[]).await;
    assert!(denied.ends_with("#_=_"), "{denied}");
    assert_eq!(param(&denied, "error_reason").as_deref(), Some("user_denied"));
    assert_eq!(param(&denied, "error_code").as_deref(), Some("200"));
}

#[tokio::test]
async fn quirk_10_facebook_email_needs_fields_and_is_absent_when_declined() {
    let idp = start(Facebook::new()).await;
    let client = oauth2_client(&idp, true);
    let http = common::oidc_http(common::http(None));
    let (code, _) = oauth2_code(&idp, &client, &["email", "public_profile"], &[]).await;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
        .unwrap();
    let at = token.access_token().secret();
    let bare: Value = get_resource(&me_url(&idp), Some(at)).await.json().await.unwrap();
    assert_eq!(
        bare.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "name"],
        "only id and name without fields="
    );
    idp.on_authorize()
        .respond(Outcome::narrow_scope("public_profile"));
    let (code, _) = oauth2_code(&idp, &client, &["email", "public_profile"], &[]).await;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
        .unwrap();
    let at = token.access_token().secret();
    let me: Value = get_resource(&format!("{}?fields=id,name,email", me_url(&idp)), Some(at))
        .await
        .json()
        .await
        .unwrap();
    assert!(me.get("email").is_none(), "declined email is simply absent: {me}");
    let perms_url = resource_urls(&idp)
        .into_iter()
        .find(|(n, _)| n == "permissions")
        .unwrap()
        .1;
    let perms: Value = get_resource(&perms_url, Some(at)).await.json().await.unwrap();
    assert!(
        perms["data"]
            .as_array()
            .unwrap()
            .contains(&json!({"permission": "email", "status": "declined"}))
    );
}

#[tokio::test]
async fn quirk_18_facebook_code_reuse_and_entra_reuse_fail_differently() {
    let fb = start(Facebook::new()).await;
    let code = param(&login(&fb, &[]).await, "code").unwrap();
    let form = [("code", code.as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(token_request(&fb, &form).await.status(), 200);
    let again: Value = token_request(&fb, &form).await.json().await.unwrap();
    assert_eq!(
        (again["error"]["code"].as_u64(), again["error"]["type"].as_str()),
        (Some(100), Some("OAuthException"))
    );
    let ms = start(mock_idp::personality::Microsoft::new()).await;
    let code = param(&login(&ms, &[]).await, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    token_request(&ms, &form).await;
    let again: Value = token_request(&ms, &form).await.json().await.unwrap();
    assert_eq!(again["error_codes"], json!([54005]));
}

#[tokio::test]
async fn facebook_token_endpoint_answers_get_and_dead_tokens_are_code_190() {
    let idp = start(Facebook::new()).await;
    let code = param(&login(&idp, &[]).await, "code").unwrap();
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", "mock-client"),
            ("client_secret", "mock-secret"),
            ("redirect_uri", REDIRECT),
            ("code", code.as_str()),
        ])
        .finish();
    let resp = common::http(None)
        .get(format!(
            "{}?{q}",
            idp.endpoint_url(mock_idp::Endpoint::Token).unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    let at = body["access_token"].as_str().unwrap();
    idp.revoke_user("alice");
    let dead: Value = get_resource(&me_url(&idp), Some(at)).await.json().await.unwrap();
    assert_eq!(dead["error"]["code"], 190);
    assert_eq!(dead["error"]["error_subcode"], 458);
}

/// Unversioned Graph calls run at the app's default version: Auth.js's Facebook provider
/// redeems codes at `/oauth/access_token` without a version.
#[tokio::test]
async fn the_unversioned_token_path_redeems_codes() {
    let idp = start(Facebook::new()).await;
    let loc = super::login(&idp, &[]).await;
    let code = param(&loc, "code").unwrap();
    let url = format!("{}/oauth/access_token", idp.base_url().trim_end_matches('/'));
    let resp = common::http(None)
        .post(url)
        .form(&[
            ("client_id", "mock-client"),
            ("client_secret", "mock-secret"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["access_token"].is_string(), "{body}");
}
