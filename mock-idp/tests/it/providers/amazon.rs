//! Login with Amazon, driven by `oauth2`, and its quirks.

use mock_idp::Outcome;
use mock_idp::personality::Amazon;
use oauth2::{AuthorizationCode, PkceCodeChallenge, TokenResponse};
use serde_json::{Value, json};

use super::{error_body, get_resource, oauth2_client, oauth2_code, resource_urls, start, tokens};
use crate::common::{self, REDIRECT};

#[tokio::test]
async fn login_profile_refresh_and_failures_with_oauth2() {
    let idp = start(Amazon::new()).await;
    let client = oauth2_client(&idp, false);
    let http = common::oidc_http(common::http(None));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(oauth2::CsrfToken::new_random)
        .add_scope(oauth2::Scope::new("profile".into()));
    req = req.set_pkce_challenge(challenge);
    let (url, _) = req.url();
    let code = common::param(&common::follow(&common::http(None), url.as_str()).await, "code").unwrap();
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let at = token.access_token().secret();
    assert!(at.starts_with("Atza|") && at.len() >= 350);
    assert!(token.refresh_token().unwrap().secret().starts_with("Atzr|"));
    let profile: Value = get_resource(&resource_urls(&idp)[0].1, Some(at))
        .await
        .json()
        .await
        .unwrap();
    assert!(profile["user_id"].as_str().unwrap().starts_with("amzn1.account."));
    let refreshed = client
        .exchange_refresh_token(token.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    assert!(refreshed.refresh_token().is_none(), "not rotated by default");
    idp.on_refresh().respond(Outcome::RefreshRevoked);
    let err = client
        .exchange_refresh_token(token.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(
        serde_json::from_str::<Value>(&error_body(&err)).unwrap(),
        json!({"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"})
    );
}

#[tokio::test]
async fn quirk_20_amazon_pipe_tokens_must_be_url_encoded_and_token_type_is_lowercase() {
    let idp = start(Amazon::new()).await;
    let body = tokens(&idp, &[]).await;
    assert_eq!(body["token_type"], "bearer");
    let at = body["access_token"].as_str().unwrap();
    let url = &resource_urls(&idp)[0].1;
    // Properly encoded in the query: accepted.
    let enc: String = form_urlencoded::byte_serialize(at.as_bytes()).collect();
    let ok = common::http(None)
        .get(format!("{url}?access_token={enc}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // The `x-amz-access-token` header works too.
    let hdr = common::http(None)
        .get(url)
        .header("x-amz-access-token", at)
        .send()
        .await
        .unwrap();
    assert_eq!(hdr.status(), 200);
    // Refresh tokens posted with a raw `|` in a form body decode fine; `+`-mangled ones do not.
    let rt = body["refresh_token"].as_str().unwrap();
    let mangled = rt.replace('|', "+");
    let resp = super::token_request(
        &idp,
        &[("grant_type", "refresh_token"), ("refresh_token", &mangled)],
    )
    .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn quirk_17_amazon_ids_are_amzn1_account_strings_and_there_is_no_email_verified_flag() {
    let idp = start(Amazon::new()).await;
    let body = tokens(&idp, &[("login_hint", "unverified")]).await;
    let profile: Value = get_resource(&resource_urls(&idp)[0].1, body["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert!(
        profile.get("email_verified").is_none(),
        "Amazon has no such flag: {profile}"
    );
    assert_eq!(profile["email"], "unverified@example.com");
}

#[tokio::test]
async fn amazon_accepts_every_parameter_in_the_query_with_an_empty_body_as_auth_js_sends_them() {
    let idp = start(Amazon::new()).await;
    let client = oauth2_client(&idp, true);
    let (code, _) = oauth2_code(&idp, &client, &["profile"], &[]).await;
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", "mock-client"),
            ("client_secret", "mock-secret"),
        ])
        .finish();
    let resp = common::http(None)
        .post(format!(
            "{}?{q}",
            idp.endpoint_url(mock_idp::Endpoint::Token).unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let tokeninfo = resource_urls(&idp)
        .into_iter()
        .find(|(n, _)| n == "tokeninfo")
        .unwrap()
        .1;
    let at = tokens(&idp, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let info: Value = get_resource(&tokeninfo, Some(&at)).await.json().await.unwrap();
    assert_eq!(info["aud"], "mock-client", "the audience a client must check");
}
