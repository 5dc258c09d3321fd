//! Microsoft Entra ID, driven by `openidconnect`, and its quirks.

use mock_idp::personality::{CONSUMERS_TENANT, Microsoft};
use mock_idp::{Outcome, User};
use openidconnect::core::CoreProviderMetadata;
use openidconnect::{IssuerUrl, Nonce, OAuth2TokenResponse, TokenResponse};
use serde_json::Value;

use super::{error_body, get_resource, login, oidc_login, resource_urls, start, token_request, tokens};
use crate::common::{self, REDIRECT, jwt_parts, param};

fn tenant_issuer(idp: &mock_idp::MockIdp) -> String {
    idp.issuer().to_owned()
}

#[tokio::test]
async fn login_profile_refresh_and_failures_with_openidconnect() {
    let idp = start(Microsoft::new()).await;
    let login = oidc_login(&idp, &tenant_issuer(&idp), false, true, &[]).await;
    assert_eq!(login.token.expires_in().unwrap().as_secs(), 4797);
    let scopes: Vec<String> = login
        .token
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        scopes,
        ["User.Read", "profile", "openid", "email"],
        "resource scope first, offline_access not echoed"
    );

    // Graph: /oidc/userinfo and /v1.0/me.
    let at = login.token.access_token().secret().clone();
    let urls = resource_urls(&idp);
    let info: Value = get_resource(&urls[0].1, Some(&at)).await.json().await.unwrap();
    assert_eq!(info["sub"], login.claims.subject().as_str());
    let me: Value = get_resource(&urls[1].1, Some(&at)).await.json().await.unwrap();
    assert_eq!(me["userPrincipalName"], "alice@example.com");

    // Refresh returns a new refresh token; the old one keeps working.
    let http = common::oidc_http(common::http(None));
    let first = login.token.refresh_token().expect("offline_access").clone();
    let r1 = login
        .client
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(r1.refresh_token().unwrap().secret(), first.secret());
    let r2 = login
        .client
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    r2.id_token()
        .unwrap()
        .claims(&login.client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .unwrap();

    // Failures: AADSTS codes.
    idp.on_refresh().respond(Outcome::RefreshRevoked);
    let err = login
        .client
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_err();
    assert!(error_body(&err).contains("AADSTS50173"), "{err:?}");
    idp.on_authorize().respond(Outcome::deny());
    let loc = login_redirect(&idp).await;
    assert_eq!(
        param(&loc, "error_description").as_deref(),
        Some("AADSTS65004: User declined to consent to access the app.")
    );
}

async fn login_redirect(idp: &mock_idp::MockIdp) -> String {
    login(idp, &[]).await
}

#[tokio::test]
async fn quirk_04_microsoft_common_discovery_issuer_is_the_tenantid_template() {
    let idp = start(Microsoft::new()).await;
    let base = idp.base_url();
    let common_doc: Value =
        common::get_json(&format!("{base}/common/v2.0/.well-known/openid-configuration")).await;
    assert_eq!(common_doc["issuer"], format!("{base}/{{tenantid}}/v2.0"));
    let consumers: Value =
        common::get_json(&format!("{base}/consumers/v2.0/.well-known/openid-configuration")).await;
    assert_eq!(consumers["issuer"], format!("{base}/{CONSUMERS_TENANT}/v2.0"));
    // A strict client discovering through /common fails: the issuer is not the URL it asked.
    let http = common::oidc_http(common::http(None));
    let err =
        CoreProviderMetadata::discover_async(IssuerUrl::new(format!("{base}/common/v2.0")).unwrap(), &http)
            .await
            .unwrap_err();
    assert!(format!("{err:?}").contains("tenantid"), "{err:?}");
    // The token's iss names the user's real tenant.
    let body = tokens(&idp, &[]).await;
    let claims = jwt_parts(body["id_token"].as_str().unwrap()).1;
    assert_eq!(
        claims["iss"],
        format!("{base}/{}/v2.0", claims["tid"].as_str().unwrap())
    );
}

#[tokio::test]
async fn quirk_05_microsoft_sub_is_pairwise_email_is_mutable_key_users_by_tid_and_oid() {
    let idp = start(Microsoft::new()).await;
    idp.add_client(mock_idp::Client::confidential("second-app", "s2").redirect_uri(REDIRECT))
        .unwrap();
    let a = jwt_parts(tokens(&idp, &[]).await["id_token"].as_str().unwrap()).1;
    let code = param(&login(&idp, &[("client_id", "second-app")]).await, "code").unwrap();
    let resp = common::http(None)
        .post(idp.endpoint_url(mock_idp::Endpoint::Token).unwrap())
        .form(&[
            ("client_id", "second-app"),
            ("client_secret", "s2"),
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    let b = jwt_parts(resp.json::<Value>().await.unwrap()["id_token"].as_str().unwrap()).1;
    assert_ne!(a["sub"], b["sub"], "sub differs per app");
    assert_eq!(a["oid"], b["oid"], "oid is the stable id");
    assert_eq!(a["tid"], b["tid"]);
    assert!(
        a.get("email_verified").is_none(),
        "Entra never says the email is verified"
    );
    // A guest in another tenant with the same email: same email, different tid/oid.
    idp.add_user(User::new("alice-guest").email("alice@example.com").provider_attr(
        "microsoft",
        "tid",
        "11111111-2222-3333-4444-555555555555",
    ));
    let g = jwt_parts(
        tokens(&idp, &[("login_hint", "alice-guest")]).await["id_token"]
            .as_str()
            .unwrap(),
    )
    .1;
    assert_eq!(g["email"], a["email"]);
    assert_ne!((&g["tid"], &g["oid"]), (&a["tid"], &a["oid"]));
}

#[tokio::test]
async fn quirk_15_microsoft_refresh_needs_offline_access_and_pkce_is_not_advertised() {
    let idp = start(Microsoft::new()).await;
    let doc: Value = common::get_json(&idp.discovery_url()).await;
    assert!(doc.get("code_challenge_methods_supported").is_none());
    let without = tokens(&idp, &[("scope", "openid profile email User.Read")]).await;
    assert!(without.get("refresh_token").is_none());
    let with = tokens(&idp, &[]).await;
    assert!(with["refresh_token"].is_string());
    // PKCE works although not advertised.
    let login = oidc_login(&idp, &tenant_issuer(&idp), false, true, &[]).await;
    assert!(login.token.id_token().is_some());
}

#[tokio::test]
async fn quirk_19_microsoft_errors_pack_aadsts_trace_and_correlation_ids() {
    let idp = start(Microsoft::new()).await;
    let code = param(&login(&idp, &[]).await, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    token_request(&idp, &form).await;
    let body: Value = token_request(&idp, &form).await.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"][0], 54005);
    let d = body["error_description"].as_str().unwrap();
    assert!(
        d.starts_with("AADSTS54005: OAuth2 Authorization code was already redeemed"),
        "{d}"
    );
    assert!(
        d.contains("\r\nTrace ID: ") && d.contains("\r\nCorrelation ID: ") && d.contains("\r\nTimestamp: "),
        "{d}"
    );
    assert!(d.contains(body["trace_id"].as_str().unwrap()));
}

/// What MSAL (`@azure/msal-node`, harness/tests/fidelity.rs) sends and reads, which the mock
/// once missed: it polls the device flow with `grant_type=device_code` (the documented URN works
/// too), and sends `client_info=1` on every user grant, answered with the user's home account —
/// base64url `{"uid": oid, "utid": tid}`, MSAL's `homeAccountId` `uid.utid` (MSAL's own test
/// fixtures carry it in every token response). An app-only token and a request without
/// `client_info=1` get none.
#[tokio::test]
async fn msal_polls_with_device_code_and_gets_client_info() {
    use base64::Engine as _;
    let idp = start(Microsoft::new()).await;
    let device_url = idp.endpoint_url(mock_idp::Endpoint::DeviceAuthorization).unwrap();
    let (status, codes) = common::post_form(
        &device_url,
        &[
            ("client_id", "mock-client"),
            ("client_secret", "mock-secret"),
            ("scope", "openid profile offline_access User.Read"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{codes}");
    idp.approve_device(codes["user_code"].as_str().unwrap(), "alice")
        .unwrap();
    let device_code = codes["device_code"].as_str().unwrap();
    let resp = token_request(
        &idp,
        &[
            ("grant_type", "device_code"),
            ("device_code", device_code),
            ("client_info", "1"),
            ("scope", "openid profile offline_access User.Read"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let got: Value = resp.json().await.unwrap();
    // The home account names the user Graph knows, in the tenant of her ID token.
    let info: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(got["client_info"].as_str().expect("client_info"))
            .unwrap(),
    )
    .unwrap();
    let me: Value = get_resource(&idp.url("/v1.0/me"), got["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    let id_token = jwt_parts(got["id_token"].as_str().unwrap()).1;
    assert_eq!(info["uid"], me["id"], "{info} vs Graph {me}");
    assert_eq!(info["utid"], id_token["tid"], "{info}");
    insta::assert_json_snapshot!("client_info_microsoft", super::normalize(&idp, got));

    // The same grant again, MSAL's way: the code was redeemed.
    let again = token_request(
        &idp,
        &[("grant_type", "device_code"), ("device_code", device_code)],
    )
    .await;
    assert_eq!(again.status(), 400);

    // App-only: no user, no client_info.
    let app: Value = token_request(
        &idp,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
            ("client_info", "1"),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        app["access_token"].is_string() && app.get("client_info").is_none(),
        "{app}"
    );
    // Not asked for: none (the login snapshots have none either).
    assert!(tokens(&idp, &[]).await.get("client_info").is_none());
}
