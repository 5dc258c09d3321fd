//! GitHub, driven by the `oauth2` crate, and GitHub's quirks.

use mock_idp::personality::GitHub;
use mock_idp::{Outcome, User};
use oauth2::{AuthorizationCode, PkceCodeChallenge, TokenResponse};
use serde_json::{Value, json};

use super::{
    error_body, get_resource, login, oauth2_client, oauth2_code, resource_urls, start, token_request, tokens,
};
use crate::common::{self, REDIRECT, param};

fn profile_url(idp: &mock_idp::MockIdp) -> String {
    resource_urls(idp)[0].1.clone()
}

fn emails_url(idp: &mock_idp::MockIdp) -> String {
    resource_urls(idp)
        .into_iter()
        .find(|(n, _)| n == "emails")
        .unwrap()
        .1
}

#[tokio::test]
async fn login_profile_and_failures_with_oauth2() {
    let idp = start(GitHub::oauth_app()).await;
    let client = oauth2_client(&idp, true);
    let http = common::oidc_http(common::http(None));
    let (code, _) = oauth2_code(&idp, &client, &["read:user", "user:email"], &[]).await;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
        .expect("token");
    assert!(token.access_token().secret().starts_with("gho_"));
    assert_eq!(
        token.access_token().secret().len(),
        40,
        "gho_ + 36 characters, as GitHub's"
    );
    assert!(
        token.refresh_token().is_none() && token.expires_in().is_none(),
        "OAuth App tokens do not expire"
    );
    let scopes: Vec<String> = token.scopes().unwrap().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        scopes,
        ["read:user,user:email"],
        "one comma-separated entry: GitHub's report format"
    );

    let user: Value = get_resource(&profile_url(&idp), Some(token.access_token().secret()))
        .await
        .json()
        .await
        .unwrap();
    assert!(user["id"].is_u64(), "numeric id: {user}");
    assert_eq!(user["login"], "alice");
    assert_eq!(idp.provider_user_id("alice").unwrap(), user["id"].to_string());

    // Scripted failures in GitHub's shape: the deny redirect and HTTP-200 token errors.
    idp.on_authorize().respond(Outcome::deny());
    let loc = login(&idp, &[]).await;
    assert_eq!(param(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        param(&loc, "error_description").as_deref(),
        Some("The user has denied your application access.")
    );
    assert!(param(&loc, "error_uri").unwrap().ends_with("#access-denied"));
    let (code, _) = oauth2_code(&idp, &client, &["read:user"], &[]).await;
    idp.on_token().respond(Outcome::invalid_grant());
    let err = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
        .unwrap_err();
    assert!(error_body(&err).contains("bad_verification_code"), "{err:?}");
}

#[tokio::test]
async fn github_app_refresh_rotates_and_kills_the_old_tokens() {
    let idp = start(GitHub::app()).await;
    let client = oauth2_client(&idp, true);
    let http = common::oidc_http(common::http(None));
    let (code, _) = oauth2_code(&idp, &client, &[], &[]).await;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
        .unwrap();
    assert!(token.access_token().secret().starts_with("ghu_"));
    assert_eq!(token.expires_in().unwrap().as_secs(), 28_800);
    let refresh = token.refresh_token().unwrap().clone();
    assert!(refresh.secret().starts_with("ghr_"));
    let rotated = client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(rotated.refresh_token().unwrap().secret(), refresh.secret());
    let old_access = get_resource(&profile_url(&idp), Some(token.access_token().secret())).await;
    assert_eq!(
        old_access.status(),
        401,
        "the old access token died with the refresh"
    );
    let err = client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .unwrap_err();
    assert!(error_body(&err).contains("bad_refresh_token"), "{err:?}");
}

#[tokio::test]
async fn quirk_02_github_private_email_is_null_on_user_and_listed_on_user_emails() {
    let idp = start(GitHub::oauth_app()).await;
    idp.add_user(User::new("octocat").email("octo@example.com").provider_attr(
        "github",
        "email_private",
        true,
    ));
    let body = tokens(&idp, &[("login_hint", "octocat")]).await;
    let at = body["access_token"].as_str().unwrap();
    let user: Value = get_resource(&profile_url(&idp), Some(at))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["email"], Value::Null);
    let emails: Value = get_resource(&emails_url(&idp), Some(at))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        emails[0],
        json!({"email": "octo@example.com", "primary": true, "verified": true, "visibility": "private"})
    );
    // Without user:email, /user/emails is out of reach.
    let narrow = tokens(&idp, &[("login_hint", "octocat"), ("scope", "read:user")]).await;
    let resp = get_resource(&emails_url(&idp), narrow["access_token"].as_str()).await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn quirk_03_github_token_endpoint_answers_form_encoded_and_errors_with_200() {
    let idp = start(GitHub::oauth_app()).await;
    let code = param(&login(&idp, &[]).await, "code").unwrap();
    let resp = common::http(None)
        .post(idp.endpoint_url(mock_idp::Endpoint::Token).unwrap())
        .form(&[
            ("client_id", "mock-client"),
            ("client_secret", "mock-secret"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let text = resp.text().await.unwrap();
    assert!(
        text.starts_with("access_token=gho_")
            && text.ends_with("&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer"),
        "{text}"
    );
    // The same code again: an error, still HTTP 200, form-encoded.
    let again = common::http(None)
        .post(idp.endpoint_url(mock_idp::Endpoint::Token).unwrap())
        .form(&[
            ("client_id", "mock-client"),
            ("client_secret", "mock-secret"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let text = again.text().await.unwrap();
    assert!(
        text.starts_with(
            "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired."
        ),
        "{text}"
    );
    // The oauth2 crate, which reads the status first, reports it as a parse failure.
    let client = oauth2_client(&idp, true);
    let err = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&common::oidc_http(common::http(None)))
        .await
        .unwrap_err();
    assert!(matches!(err, oauth2::RequestTokenError::Parse(..)), "{err:?}");
}

#[tokio::test]
async fn github_api_needs_a_user_agent_and_reports_scopes_in_a_header() {
    let idp = start(GitHub::oauth_app()).await;
    let body = tokens(&idp, &[]).await;
    let at = body["access_token"].as_str().unwrap();
    let no_ua = common::http(None)
        .get(profile_url(&idp))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(no_ua.status(), 403);
    let ok = get_resource(&profile_url(&idp), Some(at)).await;
    assert_eq!(ok.headers()["x-oauth-scopes"], "read:user, user:email");
    let token_scheme = common::http(None)
        .get(profile_url(&idp))
        .header("user-agent", "t")
        .header("authorization", format!("token {at}"))
        .send()
        .await
        .unwrap();
    assert_eq!(token_scheme.status(), 200, "the `token` scheme works too");
    let dead = get_resource(&profile_url(&idp), Some("gho_dead")).await;
    assert_eq!(dead.json::<Value>().await.unwrap()["message"], "Bad credentials");
}

#[tokio::test]
async fn github_pkce_is_s256_only_now_and_ignored_by_the_legacy_personality() {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let idp = start(GitHub::oauth_app()).await;
    let loc = login(
        &idp,
        &[
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let code = param(&loc, "code").unwrap();
    let wrong = token_request(
        &idp,
        &[
            ("code", &code),
            ("code_verifier", &"x".repeat(43)),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"],
        "bad_verification_code"
    );
    let legacy = start(GitHub::oauth_app().legacy_pkce()).await;
    let loc = login(
        &legacy,
        &[
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let code = param(&loc, "code").unwrap();
    let resp = token_request(
        &legacy,
        &[
            ("code", &code),
            ("code_verifier", &"x".repeat(43)),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert!(
        resp.json::<Value>().await.unwrap()["access_token"].is_string(),
        "legacy GitHub ignored PKCE"
    );
    let _ = verifier;
}

#[tokio::test]
async fn github_app_refuses_a_user_whose_primary_email_is_unverified() {
    let idp = start(GitHub::app()).await;
    let code = param(&login(&idp, &[("login_hint", "unverified")]).await, "code").unwrap();
    let resp = token_request(&idp, &[("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"error": "unverified_user_email", "error_description": "The user must have a verified primary email."})
    );
}

#[tokio::test]
async fn github_authorize_needs_no_response_type_but_says_so() {
    let idp = start(GitHub::oauth_app()).await;
    let http = common::http(None);
    let url = format!(
        "{}?client_id={}&redirect_uri={}&scope=read%3Auser&state=state-0123456789abcdef",
        idp.endpoint_url(mock_idp::Endpoint::Authorize).unwrap(),
        mock_idp::DEFAULT_CLIENT_ID,
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let back = common::follow(&http, &url).await;
    assert!(
        param(&back, "code").is_some(),
        "GitHub assumes response_type=code: {back}"
    );
    let finding = idp
        .findings()
        .into_iter()
        .find(|f| f.code == mock_idp::LintCode::MissingResponseType)
        .expect("an info finding about the missing response_type");
    assert_eq!(finding.severity, mock_idp::Severity::Info);
    // A spec-exact provider refuses the same request.
    let oidc = common::idp().await;
    let strict = url.replace(
        &idp.endpoint_url(mock_idp::Endpoint::Authorize).unwrap(),
        &oidc.endpoint_url(mock_idp::Endpoint::Authorize).unwrap(),
    );
    let back = common::follow(&http, &strict).await;
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("invalid_request"),
        "{back}"
    );
}

/// GitHub's own libraries (`@octokit/oauth-methods`, `@octokit/auth-oauth-device`) post JSON
/// to `/login/oauth/access_token` and `/login/device/code`, and GitHub takes it: so does the
/// personality, with an info finding (other providers require a form). The OIDC personality
/// still refuses JSON, as RFC 6749 §4.1.3 has it.
#[tokio::test]
async fn github_takes_json_bodies_as_its_own_libraries_send_them() {
    let idp = start(GitHub::oauth_app()).await;
    let post_json = |url: String, body: Value| async move {
        let resp = common::http(None)
            .post(url)
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };
    let code = param(&login(&idp, &[]).await, "code").unwrap();
    let token_url = idp.endpoint_url(mock_idp::Endpoint::Token).unwrap();
    let (status, body) = post_json(
        token_url.clone(),
        json!({"client_id": "mock-client", "client_secret": "mock-secret", "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"]
        .as_str()
        .expect("a token for the JSON exchange");
    assert!(token.starts_with("gho_"), "{body}");
    let finding = idp
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.endpoint == Some(mock_idp::Endpoint::Token))
        .and_then(|r| {
            r.findings
                .into_iter()
                .find(|f| f.code == mock_idp::LintCode::JsonBody)
        })
        .expect("the JSON body is noted");
    assert!(
        finding.message.contains("application/x-www-form-urlencoded"),
        "{finding:?}"
    );

    // The device flow, all in JSON.
    let device_url = idp.endpoint_url(mock_idp::Endpoint::DeviceAuthorization).unwrap();
    let (status, codes) = post_json(
        device_url.clone(),
        json!({"client_id": "mock-client", "scope": "read:user"}),
    )
    .await;
    assert_eq!(status, 200, "{codes}");
    idp.approve_device(
        codes["user_code"]
            .as_str()
            .unwrap_or_else(|| panic!("no user code: {codes}")),
        "alice",
    )
    .unwrap();
    idp.clock().advance(std::time::Duration::from_secs(6));
    let (status, body) = post_json(
        token_url.clone(),
        json!({
            "client_id": "mock-client",
            "device_code": codes["device_code"],
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("gho_")),
        "{body}"
    );

    // GitHub's device flow names the app by client_id alone; a secret that is sent is still
    // checked, and an unknown app is refused.
    for (form, error) in [
        (
            json!({"client_id": "mock-client", "client_secret": "wrong"}),
            "incorrect_client_credentials",
        ),
        (json!({"client_id": "nobody"}), "incorrect_client_credentials"),
    ] {
        let (status, body) = post_json(device_url.clone(), form.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (200, Some(error)),
            "{form}: {body}"
        );
    }

    // A wrong secret in the query (where GitHub reads credentials too) is checked as well.
    let (status, body) = post_json(
        format!("{device_url}?client_secret=wrong"),
        json!({"client_id": "mock-client"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (200, Some("incorrect_client_credentials")),
        "{body}"
    );

    // JSON that is not one flat object is a clear invalid_request (HTTP 200, GitHub's way).
    for bad in [json!(["client_id"]), json!({"client_id": {"nested": true}})] {
        let (status, body) = post_json(device_url.clone(), bad.clone()).await;
        assert_eq!(status, 200, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_request", "{bad}: {body}");
    }

    // A name given twice is refused as in a form (RFC 6749 §3.1), not silently the last one.
    for raw in [
        r#"{"client_id":"other","client_id":"mock-client","client_secret":"mock-secret","code":"x"}"#,
        r#"{"client_id":"mock-client","client_secret":"wrong","client_secret":"mock-secret","code":"x"}"#,
    ] {
        let body: Value = common::http(None)
            .post(&token_url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["error"], "invalid_request", "{raw}: {body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap_or("")
                .contains("repeated"),
            "{raw}: {body}"
        );
    }

    // Elsewhere JSON stays refused, and a confidential client's device flow needs its secret
    // (RFC 8628 §3.1).
    let oidc = mock_idp::MockIdp::builder().start().await;
    let resp = common::http(None)
        .post(
            oidc.endpoint_url(mock_idp::Endpoint::DeviceAuthorization)
                .unwrap(),
        )
        .form(&[("client_id", "mock-client"), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_client");
    let (status, body) = post_json(
        oidc.endpoint_url(mock_idp::Endpoint::Token).unwrap(),
        json!({"grant_type": "client_credentials", "client_id": "mock-client", "client_secret": "mock-secret"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
}
