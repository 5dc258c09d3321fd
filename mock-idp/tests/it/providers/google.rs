//! Google, driven by `openidconnect`, and Google's quirks.

use mock_idp::personality::Google;
use mock_idp::{Endpoint, Outcome};
use openidconnect::{Nonce, OAuth2TokenResponse, TokenResponse};
use serde_json::{Value, json};

use super::{get_resource, login, oidc_login, start, token_request, tokens};
use crate::common::{self, REDIRECT, jwt_parts, param};

#[tokio::test]
async fn login_profile_refresh_and_failures_with_openidconnect() {
    let idp = start(Google::new()).await;
    let login = oidc_login(
        &idp,
        idp.issuer(),
        false,
        true,
        &[("access_type", "offline"), ("prompt", "consent")],
    )
    .await;
    let sub = login.claims.subject().as_str();
    assert_eq!(sub.len(), 21, "Google subjects are 21-digit strings");
    assert!(sub.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(login.claims.email().unwrap().as_str(), "alice@example.com");
    assert_eq!(login.token.access_token().secret().get(..7), Some("ya29.a0"));
    assert_eq!(login.token.expires_in().unwrap().as_secs(), 3599);

    // Userinfo through openidconnect.
    let info: openidconnect::core::CoreUserInfoClaims = login
        .client
        .user_info(
            login.token.access_token().clone(),
            Some(login.claims.subject().clone()),
        )
        .unwrap()
        .request_async(&common::oidc_http(common::http(None)))
        .await
        .unwrap();
    assert_eq!(info.email_verified(), Some(true));

    // Refresh keeps the same refresh token (no rotation) and returns a new ID token.
    let refresh = login
        .token
        .refresh_token()
        .expect("offline + consent gives a refresh token")
        .clone();
    let http = common::oidc_http(common::http(None));
    for _ in 0..2 {
        let r = login
            .client
            .exchange_refresh_token(&refresh)
            .unwrap()
            .request_async(&http)
            .await
            .unwrap();
        assert!(r.refresh_token().is_none(), "Google never rotates");
        let rc = r
            .id_token()
            .unwrap()
            .claims(&login.client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
            .unwrap();
        assert_eq!(rc.subject(), login.claims.subject());
    }

    // Scripted failures in Google's shape.
    idp.on_authorize().respond(Outcome::deny());
    let denied = login_params(&idp).await;
    assert_eq!(
        denied.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["error", "state", "iss"]
    );
    idp.on_refresh().respond(Outcome::RefreshRevoked);
    let err = login
        .client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("Token has been expired or revoked."),
        "{err:?}"
    );
    let bad = token_request(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap(),
        json!({"error": "invalid_grant", "error_description": "Bad Request"})
    );
}

async fn login_params(idp: &mock_idp::MockIdp) -> Vec<(String, String)> {
    common::params_of(&login(idp, &[]).await)
}

#[tokio::test]
async fn quirk_01_google_refresh_token_only_with_offline_access_on_a_consent_login() {
    let idp = start(Google::new()).await;
    // First login with access_type=offline: the consent screen shows, a refresh token comes.
    let first = tokens(&idp, &[("access_type", "offline"), ("prompt", "")]).await;
    assert!(first["refresh_token"].as_str().unwrap().starts_with("1//0g"));
    // A silent re-login (consent remembered) with access_type=offline: none.
    let again = tokens(&idp, &[("access_type", "offline"), ("prompt", "")]).await;
    assert!(again.get("refresh_token").is_none(), "{again}");
    // prompt=consent forces the screen, and with it a refresh token.
    let forced = tokens(&idp, &[("access_type", "offline"), ("prompt", "consent")]).await;
    assert!(forced.get("refresh_token").is_some());
    // Without access_type=offline: never.
    let online = tokens(&idp, &[("access_type", ""), ("prompt", "consent")]).await;
    assert!(online.get("refresh_token").is_none());
}

#[tokio::test]
async fn quirk_11_google_iss_without_scheme() {
    let idp = start(Google::new().issuer_without_scheme()).await;
    let body = tokens(&idp, &[]).await;
    let claims = jwt_parts(body["id_token"].as_str().unwrap()).1;
    let bare = idp.issuer().trim_start_matches("http://");
    assert_eq!(claims["iss"], bare, "iss like `accounts.google.com`");
}

#[tokio::test]
async fn quirk_12_google_sends_iss_on_the_callback_without_advertising_it() {
    let idp = start(Google::new()).await;
    let doc: Value = common::get_json(&idp.discovery_url()).await;
    assert!(
        doc.get("authorization_response_iss_parameter_supported")
            .is_none()
    );
    let loc = login(&idp, &[]).await;
    assert_eq!(param(&loc, "iss").as_deref(), Some(idp.issuer()));
}

#[tokio::test]
async fn quirk_14_google_echoes_scope_expanded_with_extra_callback_params() {
    let idp = start(Google::new()).await;
    let loc = login(&idp, &[("prompt", "consent")]).await;
    assert_eq!(
        param(&loc, "scope").as_deref(),
        Some(
            "email profile https://www.googleapis.com/auth/userinfo.profile openid https://www.googleapis.com/auth/userinfo.email"
        )
    );
    assert_eq!(param(&loc, "authuser").as_deref(), Some("0"));
    assert_eq!(param(&loc, "prompt").as_deref(), Some("consent"));
    let body = tokens(&idp, &[]).await;
    assert_eq!(
        body["scope"],
        "https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email openid"
    );
}

#[tokio::test]
async fn google_workspace_users_carry_hd_on_the_callback_and_in_tokens() {
    let idp = start(Google::new()).await;
    idp.add_user(
        mock_idp::User::new("dana")
            .email("dana@corp.example")
            .claim("hd", "corp.example"),
    );
    let loc = login(&idp, &[("login_hint", "dana")]).await;
    assert_eq!(param(&loc, "hd").as_deref(), Some("corp.example"));
    let code = param(&loc, "code").unwrap();
    let body: Value = token_request(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        jwt_parts(body["id_token"].as_str().unwrap()).1["hd"],
        "corp.example"
    );
    let info: Value = get_resource(
        &idp.endpoint_url(Endpoint::Userinfo).unwrap(),
        body["access_token"].as_str(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(info["hd"], "corp.example");
}

#[tokio::test]
async fn google_revokes_by_token_alone_and_accepts_plain_pkce() {
    let idp = start(Google::new()).await;
    let body = tokens(&idp, &[]).await;
    let at = body["access_token"].as_str().unwrap();
    let resp = common::http(None)
        .post(format!(
            "{}?token={at}",
            idp.endpoint_url(Endpoint::Revocation).unwrap()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        get_resource(&idp.endpoint_url(Endpoint::Userinfo).unwrap(), Some(at))
            .await
            .status(),
        401
    );
    let verifier = "p".repeat(43);
    let loc = login(
        &idp,
        &[("code_challenge", &verifier), ("code_challenge_method", "plain")],
    )
    .await;
    assert!(
        param(&loc, "code").is_some(),
        "Google advertises and accepts plain"
    );
}

/// Google's userinfo serves any of `openid`, `email`, `profile`: a token granted only
/// `profile` (passport-google-oauth20's documented scope) reads the profile, without the email.
#[tokio::test]
async fn userinfo_serves_a_profile_only_token() {
    let idp = start(Google::new()).await;
    let body = super::tokens(&idp, &[("scope", "profile")]).await;
    let access = body["access_token"].as_str().unwrap();
    let url = super::resource_urls(&idp)[0].1.clone();
    let resp = super::get_resource(&url, Some(access)).await;
    assert_eq!(resp.status(), 200);
    let info: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(info["name"], "Alice Example");
    assert!(
        info.get("email").is_none(),
        "no email without the email scope: {info}"
    );
    let none = super::tokens(&idp, &[("scope", "https://www.googleapis.com/auth/drive.file")]).await;
    let resp = super::get_resource(&url, Some(none["access_token"].as_str().unwrap())).await;
    assert_eq!(resp.status(), 403, "a token for another API is refused");
}

/// Google's `/tokeninfo`: an API checks an opaque access token without client credentials.
/// The person's token names the client, Google's scopes, its expiry (strings, as Google sends
/// them), the same `sub` as userinfo and the verified email; a dead or missing token is
/// `400 invalid_token` "Invalid Value"; it is scriptable as the introspection endpoint.
#[tokio::test]
async fn tokeninfo_describes_a_live_token_and_refuses_a_dead_one() {
    let idp = start(Google::new()).await;
    let t = tokens(&idp, &[]).await;
    let token = t["access_token"].as_str().unwrap();
    let url = idp.url("/tokeninfo");
    let http = common::http(None);
    let (_, userinfo, _) = common::userinfo(&idp, &http, token).await;

    let resp = http.post(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let info: Value = resp.json().await.unwrap();
    assert_eq!(info["azp"], "mock-client", "{info}");
    assert_eq!(info["aud"], "mock-client", "{info}");
    assert_eq!(info["sub"], userinfo["sub"], "{info}");
    assert_eq!(info["email"], "alice@example.com", "{info}");
    assert_eq!(
        info["email_verified"], "true",
        "a string, as Google sends it: {info}"
    );
    assert!(
        info["scope"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "https://www.googleapis.com/auth/userinfo.email"),
        "{info}"
    );
    let expires_in: u64 = info["expires_in"].as_str().unwrap().parse().unwrap();
    assert!((3500..=3599).contains(&expires_in), "{info}");
    assert!(info["exp"].as_str().unwrap().parse::<u64>().is_ok(), "{info}");

    // The query form works too, and is noted (a token in a URL ends up in logs).
    let resp = http
        .get(format!("{url}?access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let noted = idp
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.endpoint == Some(Endpoint::Introspection))
        .unwrap();
    assert!(
        noted
            .findings
            .iter()
            .any(|f| f.code == mock_idp::LintCode::TokenInQuery),
        "{noted:?}"
    );

    let refused = |resp: reqwest::Response| async move {
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap())
    };
    let dead = json!({"error": "invalid_token", "error_description": "Invalid Value"});
    assert_eq!(
        refused(http.post(&url).bearer_auth("ya29.made-up").send().await.unwrap()).await,
        (400, dead.clone())
    );
    assert_eq!(
        refused(http.post(&url).send().await.unwrap()).await,
        (400, dead.clone())
    );

    // A disabled person's token is dead here as at userinfo; so is a revoked one.
    let disable = |on: bool| mock_idp::UserPatch {
        disabled: Some(on),
        ..Default::default()
    };
    idp.update_user("alice", disable(true));
    assert_eq!(
        refused(http.post(&url).bearer_auth(token).send().await.unwrap()).await,
        (400, dead.clone())
    );
    idp.update_user("alice", disable(false));
    assert_eq!(
        http.post(&url).bearer_auth(token).send().await.unwrap().status(),
        200
    );

    idp.on(Endpoint::Introspection).respond(Outcome::ServerError);
    let resp = http.post(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), 500);

    idp.clock().advance(std::time::Duration::from_secs(3600));
    assert_eq!(
        refused(http.post(&url).bearer_auth(token).send().await.unwrap()).await,
        (400, dead.clone())
    );
    let fresh = tokens(&idp, &[]).await;
    let fresh = fresh["access_token"].as_str().unwrap();
    assert_eq!(
        http.post(&url).bearer_auth(fresh).send().await.unwrap().status(),
        200
    );
    idp.revoke_user("alice");
    assert_eq!(
        refused(http.post(&url).bearer_auth(fresh).send().await.unwrap()).await,
        (400, dead)
    );
}
