//! The inspector page (`/__inspector`): what a developer sees after their app's login, and
//! the buttons that script the next outcome.

use crate::common::{self, REDIRECT, authorize_url, follow, http, param, token};

async fn page(idp: &mock_idp::MockIdp) -> String {
    let resp = http(None).get(idp.url("/__inspector")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    resp.text().await.unwrap()
}

async fn press(idp: &mock_idp::MockIdp, path: &str, form: &[(&str, &str)]) -> u16 {
    let resp = http(None).post(idp.url(path)).form(form).send().await.unwrap();
    resp.status().as_u16()
}

#[tokio::test]
async fn the_page_shows_requests_decoded_tokens_and_findings() {
    let idp = common::idp().await;
    let http = http(None);
    // A login without PKCE (a lint finding) and its code exchange.
    let code = common::code(&idp, &http, &[]).await;
    let (status, body) = token(
        &idp,
        &http,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let html = page(&idp).await;
    // Newest first: the token request comes before the authorization request.
    let token_at = html.find("POST /token").expect("the token request is listed");
    let authz_at = html
        .find("GET /authorize")
        .expect("the authorization request is listed");
    assert!(token_at < authz_at, "newest first");
    // The ID token, decoded, with the key that signed it.
    assert!(html.contains(r#"data-token="id_token""#), "{html}");
    assert!(
        html.contains("&quot;aud&quot;: &quot;mock-client&quot;"),
        "claims are shown"
    );
    assert!(
        html.contains("(published in the JWKS)"),
        "the signing key is named"
    );
    // The missing PKCE is a finding in plain words, with the fix.
    assert!(html.contains("PKCE"), "a PKCE finding: {html}");
    assert!(html.contains("<b>Fix:</b>"));
    // Secrets are masked.
    assert!(
        !html.contains(mock_idp::DEFAULT_CLIENT_SECRET),
        "the client secret leaks"
    );
    assert!(!html.contains(&code[4..]), "the code is shown in full");
    // The inspector's own requests are not logged.
    assert!(!html.contains("GET /__inspector"));
    // Clearing empties the list.
    assert_eq!(press(&idp, "/__inspector/clear", &[]).await, 303);
    assert!(page(&idp).await.contains("No requests yet"));
}

#[tokio::test]
async fn buttons_queue_the_next_outcome_and_switch_users() {
    let idp = mock_idp::MockIdp::builder()
        .redirect_uri(REDIRECT)
        .user(mock_idp::User::new("bob").email("bob@example.com"))
        .start()
        .await;
    let http = http(None);
    assert_eq!(press(&idp, "/__inspector/queue", &[("what", "deny")]).await, 303);
    let back = follow(&http, &authorize_url(&idp, &[])).await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"), "{back}");
    // The queued outcome was used once: the next login succeeds, as bob.
    assert_eq!(press(&idp, "/__inspector/user", &[("user", "bob")]).await, 303);
    let body = common::tokens(&idp, &http).await;
    let (_, claims) = common::jwt_parts(body["id_token"].as_str().unwrap());
    assert_eq!(claims["email"], "bob@example.com");
    // Refresh revoked.
    assert_eq!(
        press(&idp, "/__inspector/queue", &[("what", "refresh-revoked")]).await,
        303
    );
    let rt = body["refresh_token"].as_str().map(str::to_owned);
    if let Some(rt) = rt {
        let (status, err) = token(
            &idp,
            &http,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
        )
        .await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some("invalid_grant")),
            "{err}"
        );
    }
    // Narrowed scope, and a mistake in the form is a 400 naming it.
    assert_eq!(
        press(
            &idp,
            "/__inspector/queue",
            &[("what", "narrow-scope"), ("scope", "openid")]
        )
        .await,
        303
    );
    let body = common::tokens(&idp, &http).await;
    assert_eq!(body["scope"], "openid", "{body}");
    assert_eq!(
        press(&idp, "/__inspector/queue", &[("what", "nonsense")]).await,
        400
    );
    assert_eq!(press(&idp, "/__inspector/user", &[("user", "nobody")]).await, 400);
    // Marking an email unverified shows in the ID token.
    assert_eq!(
        press(&idp, "/__inspector/unverify", &[("user", "bob")]).await,
        303
    );
    assert_eq!(press(&idp, "/__inspector/user", &[("user", "bob")]).await, 303);
    let body = common::tokens(&idp, &http).await;
    let (_, claims) = common::jwt_parts(body["id_token"].as_str().unwrap());
    assert_eq!(claims["email_verified"], false, "{claims}");
    assert!(page(&idp).await.contains("(unverified)"));
}

/// "Next code exchange: invalid_grant" waits for a code exchange: a client-credentials
/// request of the same client passes it by.
#[tokio::test]
async fn the_invalid_grant_button_waits_for_a_code_exchange() {
    let idp = common::idp().await;
    let http = http(None);
    assert_eq!(
        press(&idp, "/__inspector/queue", &[("what", "invalid-grant")]).await,
        303
    );
    let (status, body) = token(
        &idp,
        &http,
        &[("grant_type", "client_credentials"), ("scope", "reports.read")],
    )
    .await;
    assert_eq!(status, 200, "not a code exchange: {body}");
    let code = common::code(&idp, &http, &[]).await;
    let (status, body) = token(
        &idp,
        &http,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}
