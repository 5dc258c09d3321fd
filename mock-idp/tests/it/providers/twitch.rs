//! Twitch, with `openidconnect` for discovery and ID tokens, and its quirks.

use mock_idp::Outcome;
use mock_idp::personality::Twitch;
use openidconnect::core::{CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{ClientId, IssuerUrl, Nonce};
use serde_json::{Value, json};

use super::{
    error_body, get_resource, login, oauth2_client, oauth2_code, resource_urls, start, token_request, tokens,
};
use crate::common::{self, REDIRECT, http};

fn url(idp: &mock_idp::MockIdp, name: &str) -> String {
    resource_urls(idp).into_iter().find(|(n, _)| n == name).unwrap().1
}

#[tokio::test]
async fn login_profile_refresh_and_failures() {
    let idp = start(Twitch::new()).await;
    // Discovery and ID-token verification with openidconnect.
    let oidc = common::oidc_http(http(None));
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(idp.issuer().into()).unwrap(), &oidc)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("mock-client".into()), None);
    let body = tokens(&idp, &[]).await;
    let id: CoreIdToken = body["id_token"].as_str().unwrap().parse().unwrap();
    let claims = id
        .claims(
            &client.id_token_verifier(),
            &Nonce::new("nonce-0123456789".into()),
        )
        .unwrap();
    assert_eq!(
        claims.email().unwrap().as_str(),
        "alice@example.com",
        "email asked for with `claims`"
    );
    assert_eq!(claims.preferred_username().unwrap().as_str(), "Alice Example");

    let at = body["access_token"].as_str().unwrap();
    let helix: Value = get_resource(&url(&idp, "helix_users"), Some(at))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(helix["data"][0]["id"], claims.subject().as_str());
    let validate: Value = common::http(None)
        .get(url(&idp, "validate"))
        .header("authorization", format!("OAuth {at}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(validate["scopes"], json!(["openid", "user:read:email"]));
    assert_eq!(validate["client_id"], "mock-client");

    // Refresh, then a revoked refresh in Twitch's shape.
    let rt = body["refresh_token"].as_str().unwrap();
    let r: Value = token_request(&idp, &[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .await
        .json()
        .await
        .unwrap();
    assert!(r["access_token"].is_string());
    idp.on_refresh().respond(Outcome::RefreshRevoked);
    let dead = token_request(&idp, &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
    assert_eq!(dead.status(), 400);
    assert_eq!(
        dead.json::<Value>().await.unwrap(),
        json!({"status": 400, "message": "Invalid refresh token"})
    );
    idp.on_authorize().respond(Outcome::deny());
    let loc = login(&idp, &[]).await;
    assert_eq!(
        common::param(&loc, "error_description").as_deref(),
        Some("The user denied you access")
    );
}

#[tokio::test]
async fn quirk_07_twitch_scope_is_a_json_array_and_errors_have_no_error_member() {
    let idp = start(Twitch::new()).await;
    let body = tokens(&idp, &[]).await;
    assert_eq!(body["scope"], json!(["openid", "user:read:email"]));
    assert_eq!(body["token_type"], "bearer");
    let bad = token_request(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let err: Value = bad.json().await.unwrap();
    assert_eq!(
        err,
        json!({"status": 400, "message": "Invalid authorization code"})
    );
    assert!(err.get("error").is_none());
    // The oauth2 crate expects a space-separated string and an `error` member: both break.
    let client = oauth2_client(&idp, true);
    let (code, _) = oauth2_code(&idp, &client, &["openid", "user:read:email"], &[]).await;
    let http = common::oidc_http(common::http(None));
    let res = client
        .exchange_code(oauth2::AuthorizationCode::new(code))
        .request_async(&http)
        .await;
    assert!(
        matches!(res, Err(oauth2::RequestTokenError::Parse(..))),
        "scope array: {:?}",
        res.as_ref().map(|_| ())
    );
    let res = client
        .exchange_code(oauth2::AuthorizationCode::new("nope".into()))
        .request_async(&http)
        .await;
    assert!(error_body(&res.unwrap_err()).contains("Invalid authorization code"));
}

#[tokio::test]
async fn quirk_08_twitch_helix_needs_a_matching_client_id_and_wraps_users_in_data() {
    let idp = start(Twitch::new()).await;
    idp.add_client(mock_idp::Client::confidential("other-app", "o").redirect_uri(REDIRECT))
        .unwrap();
    let at = tokens(&idp, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let helix = url(&idp, "helix_users");
    let no_id = common::http(None)
        .get(&helix)
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(no_id.status(), 401);
    assert_eq!(
        no_id.json::<Value>().await.unwrap()["message"],
        "Client ID is missing"
    );
    let wrong = common::http(None)
        .get(&helix)
        .bearer_auth(&at)
        .header("client-id", "other-app")
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["message"],
        "Client ID and OAuth token do not match"
    );
    let ok: Value = get_resource(&helix, Some(&at)).await.json().await.unwrap();
    assert!(ok["data"][0]["id"].is_string(), "Helix ids are strings: {ok}");
}

#[tokio::test]
async fn twitch_claims_must_be_requested_explicitly() {
    let idp = start(Twitch::new()).await;
    let body = tokens(&idp, &[("claims", "")]).await;
    let claims = common::jwt_parts(body["id_token"].as_str().unwrap()).1;
    assert!(
        claims.get("email").is_none() && claims.get("preferred_username").is_none(),
        "{claims}"
    );
    let info: Value = get_resource(&resource_urls(&idp)[0].1, body["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert!(info.get("email").is_none(), "{info}");
}
