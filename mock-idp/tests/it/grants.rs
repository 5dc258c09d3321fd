//! Grants beyond the browser login and the endpoints around them: `client_credentials`
//! (RFC 6749 §4.4) where the provider has it, and RFC 7662 introspection — strictness,
//! scripting, and the provider's refusal where it has no such grant.

use mock_idp::personality::{GitHub, Google, Microsoft};
use mock_idp::{Client, Endpoint, MockIdp, Outcome};
use serde_json::{Value, json};

use crate::common;

use common::post_form as post;

/// POSTs `form` to `idp`'s token endpoint, authenticated as `client` (Basic) when given.
async fn token_at(idp: &MockIdp, form: &[(&str, &str)], client: Option<(&str, &str)>) -> (u16, Value) {
    post(&idp.endpoint_url(Endpoint::Token).unwrap(), form, client).await
}

async fn client_credentials(idp: &MockIdp, scope: &str, client: (&str, &str)) -> (u16, Value) {
    token_at(
        idp,
        &[("grant_type", "client_credentials"), ("scope", scope)],
        Some(client),
    )
    .await
}

const MOCK: (&str, &str) = ("mock-client", "mock-secret");

#[tokio::test]
async fn client_credentials_issue_an_access_token_for_the_client_and_nothing_else() {
    let idp = MockIdp::builder().start().await;
    let (status, body) = client_credentials(&idp, "reports.read", MOCK).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].is_number());
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token (RFC 6749 §4.4.3): {body}"
    );
    assert!(body.get("id_token").is_none(), "no user, no ID token: {body}");
    let discovery: Value = common::get_json(&idp.discovery_url()).await;
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("client_credentials")),
        "advertised: {discovery}"
    );
}

#[tokio::test]
async fn client_credentials_refuse_openid_public_clients_and_clients_not_allowed() {
    let idp = MockIdp::builder()
        .client(Client::confidential("mock-client", "mock-secret").redirect_uri("http://127.0.0.1:9/cb"))
        .client(
            Client::confidential("web-only", "s3cret")
                .redirect_uri("http://127.0.0.1:9/cb")
                .no_client_credentials(),
        )
        .start()
        .await;
    let (status, body) = client_credentials(&idp, "openid", MOCK).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );
    let (status, body) = client_credentials(&idp, "reports.read", ("web-only", "s3cret")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
    let (status, body) = client_credentials(&idp, "reports.read", ("mock-client", "wrong")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
}

#[tokio::test]
async fn client_credentials_can_be_scripted_like_any_token_request() {
    let idp = MockIdp::builder().start().await;
    idp.on_token().respond(Outcome::oauth_error(
        400,
        "invalid_scope",
        Some("reports.write is not granted"),
    ));
    let (status, body) = client_credentials(&idp, "reports.write", MOCK).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_description"], "reports.write is not granted");
    let (status, _) = client_credentials(&idp, "reports.write", MOCK).await;
    assert_eq!(status, 200, "once, then back to normal");
}

#[tokio::test]
async fn entra_client_credentials_take_one_resource_default_scope() {
    let idp = MockIdp::builder().personality(Microsoft::new()).start().await;
    let (status, body) = client_credentials(&idp, "api://reports/.default", MOCK).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none());
    let (status, body) = client_credentials(&idp, "User.Read", MOCK).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );
    assert!(
        body["error_description"].as_str().unwrap().contains("/.default"),
        "{body}"
    );
    assert!(body["error_codes"].is_array(), "AADSTS shape: {body}");
}

#[tokio::test]
async fn providers_without_the_grant_refuse_it_in_their_own_shape() {
    for idp in [
        MockIdp::builder().personality(GitHub::oauth_app()).start().await,
        MockIdp::builder().personality(Google::new()).start().await,
    ] {
        let (_, body) = client_credentials(&idp, "", MOCK).await;
        let error = body["error"]
            .as_str()
            .or_else(|| body.as_str().filter(|s| s.contains("unsupported_grant_type")));
        assert!(
            error.is_some_and(|e| e.contains("unsupported_grant_type")),
            "{}: {body}",
            idp.provider().as_str()
        );
    }
}

#[tokio::test]
async fn introspection_describes_active_tokens_to_an_authenticated_caller_only() {
    let idp = common::idp().await;
    let url = idp
        .endpoint_url(Endpoint::Introspection)
        .expect("advertised by the OIDC personality");
    let (_, cc) = client_credentials(&idp, "reports.read", MOCK).await;
    let token = cc["access_token"].as_str().unwrap();

    let (status, body) = post(&url, &[("token", token)], None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "caller must authenticate: {body}"
    );

    let (status, body) = post(&url, &[("token", token)], Some(MOCK)).await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "reports.read");
    assert_eq!(body["client_id"], "mock-client");
    assert_eq!(
        body["sub"], "mock-client",
        "a client_credentials token stands for the client"
    );
    assert!(body["exp"].is_u64());

    let (_, body) = post(&url, &[("token", "not-a-token")], Some(MOCK)).await;
    assert_eq!(
        body,
        json!({"active": false}),
        "an inactive token reveals nothing"
    );
    // A person's token is active while the person can log in.
    let tokens = common::tokens(&idp, &common::http(None)).await;
    let person = tokens["access_token"].as_str().unwrap();
    let (_, body) = post(&url, &[("token", person)], Some(MOCK)).await;
    assert_eq!(body["active"], true, "{body}");
    idp.update_user(
        "alice",
        mock_idp::UserPatch {
            disabled: Some(true),
            ..Default::default()
        },
    );
    let (_, body) = post(&url, &[("token", person)], Some(MOCK)).await;
    assert_eq!(body, json!({"active": false}), "a disabled user's token");

    idp.clock().advance(std::time::Duration::from_secs(24 * 3600));
    let (_, body) = post(&url, &[("token", token)], Some(MOCK)).await;
    assert_eq!(body, json!({"active": false}), "expired");

    let discovery: Value = common::get_json(&idp.discovery_url()).await;
    assert_eq!(discovery["introspection_endpoint"], json!(url));
}

#[tokio::test]
async fn introspection_can_be_scripted_and_is_logged() {
    let idp = MockIdp::builder().start().await;
    let url = idp.endpoint_url(Endpoint::Introspection).unwrap();
    idp.on(Endpoint::Introspection).respond(Outcome::ServerError);
    let (status, _) = post(&url, &[("token", "x")], Some(MOCK)).await;
    assert_eq!(status, 500);
    let (status, _) = post(&url, &[("token", "x")], Some(MOCK)).await;
    assert_eq!(status, 200);
    assert_eq!(idp.requests_to(Endpoint::Introspection).len(), 2);
}

/// The wire of these grants, per personality, as reviewed snapshots.
#[tokio::test]
async fn snapshots_of_client_credentials_and_introspection() {
    async fn cc(idp: &MockIdp, scope: &str) -> Value {
        let resp = common::http(None)
            .post(idp.endpoint_url(Endpoint::Token).unwrap())
            .basic_auth("mock-client", Some("mock-secret"))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap();
        crate::providers::capture(idp, resp).await
    }
    let oidc = MockIdp::builder().start().await;
    insta::assert_json_snapshot!("client_credentials_oidc", cc(&oidc, "reports.read").await);
    let entra = MockIdp::builder().personality(Microsoft::new()).start().await;
    insta::assert_json_snapshot!(
        "client_credentials_microsoft",
        cc(&entra, "api://reports/.default").await
    );
    insta::assert_json_snapshot!(
        "client_credentials_microsoft_bad_scope",
        cc(&entra, "User.Read").await
    );
    let github = MockIdp::builder().personality(GitHub::oauth_app()).start().await;
    insta::assert_json_snapshot!("client_credentials_github", cc(&github, "").await);
    let (_, body) = client_credentials(&oidc, "reports.read", MOCK).await;
    let resp = common::http(None)
        .post(oidc.endpoint_url(Endpoint::Introspection).unwrap())
        .basic_auth("mock-client", Some("mock-secret"))
        .form(&[("token", body["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    insta::assert_json_snapshot!("introspection_active", crate::providers::capture(&oidc, resp).await, {
        ".body.exp" => "[exp]"
    });
}

#[tokio::test]
async fn the_password_grant_checks_the_users_password_where_the_provider_has_it() {
    use mock_idp::User;
    use mock_idp::personality::Generic;
    let idp = MockIdp::builder()
        .personality(Generic::new())
        .user(User::new("alice").password("correct horse"))
        .user(User::new("bob"))
        .start()
        .await;
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let grant = |user: &'static str, password: &'static str| {
        let token = token.clone();
        async move {
            post(
                &token,
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", password),
                    ("scope", "read"),
                ],
                Some(MOCK),
            )
            .await
        }
    };
    let (status, body) = grant("alice", "correct horse").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    let (status, body) = grant("alice", "wrong").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (_, body) = grant("bob", "anything").await;
    assert_eq!(
        body["error"], "invalid_grant",
        "a user without a password cannot: {body}"
    );

    let oidc = MockIdp::builder()
        .user(User::new("alice").password("correct horse"))
        .start()
        .await;
    let (_, body) = token_at(
        &oidc,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "correct horse"),
        ],
        Some(MOCK),
    )
    .await;
    assert_eq!(
        body["error"], "unsupported_grant_type",
        "OAuth 2.1 has no password grant: {body}"
    );

    let entra = MockIdp::builder()
        .personality(Microsoft::new())
        .user(User::new("alice").password("correct horse"))
        .start()
        .await;
    let (_, body) = token_at(
        &entra,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "nope"),
            ("scope", "openid"),
        ],
        Some(MOCK),
    )
    .await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS50126"),
        "{body}"
    );
}

#[tokio::test]
async fn token_exchange_trades_an_active_access_token_for_a_narrower_one() {
    use mock_idp::personality::Oidc;
    let idp = crate::providers::start(Oidc::new()).await;
    let login = crate::providers::tokens(&idp, &[("scope", "openid profile email")]).await;
    let subject = login["access_token"].as_str().unwrap();
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    const TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
    const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
    let (status, body) = post(
        &token,
        &[
            ("grant_type", GRANT),
            ("subject_token", subject),
            ("subject_token_type", TYPE),
            ("scope", "profile"),
        ],
        Some(MOCK),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], TYPE);
    assert_eq!(body["scope"], "profile");
    let introspected = post(
        &idp.endpoint_url(Endpoint::Introspection).unwrap(),
        &[("token", body["access_token"].as_str().unwrap())],
        Some(MOCK),
    )
    .await
    .1;
    assert_eq!(
        introspected["sub"],
        idp.provider_user_id("alice").unwrap(),
        "the same user: {introspected}"
    );

    let (_, body) = post(
        &token,
        &[
            ("grant_type", GRANT),
            ("subject_token", subject),
            ("subject_token_type", TYPE),
            ("scope", "admin"),
        ],
        Some(MOCK),
    )
    .await;
    assert_eq!(body["error"], "invalid_scope", "{body}");
    let (_, body) = post(
        &token,
        &[
            ("grant_type", GRANT),
            ("subject_token", "forged"),
            ("subject_token_type", TYPE),
        ],
        Some(MOCK),
    )
    .await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let (_, body) = post(
        &token,
        &[
            ("grant_type", GRANT),
            ("subject_token", subject),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:saml2"),
        ],
        Some(MOCK),
    )
    .await;
    assert_eq!(body["error"], "invalid_request", "{body}");
}

/// A client assertion (RFC 7523 §2.2) for `client` with `aud`, signed by `key` (or HS256 with
/// `secret`), expiring in a minute, with `jti`.
fn assertion(
    key: Option<&mock_idp::keys::SigningKey>,
    secret: &str,
    client: &str,
    aud: &str,
    jti: &str,
    exp_in: i64,
) -> String {
    use base64::Engine;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims =
        json!({"iss": client, "sub": client, "aud": aud, "jti": jti, "iat": now, "exp": now + exp_in});
    match key {
        Some(k) => k.sign(&claims),
        None => {
            let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            let input = format!("{}.{}", b64(&json!({"alg": "HS256", "typ": "JWT"})), b64(&claims));
            let tag = aws_lc_rs::hmac::sign(
                &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes()),
                input.as_bytes(),
            );
            format!(
                "{input}.{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
            )
        }
    }
}

#[tokio::test]
async fn private_key_jwt_and_client_secret_jwt_authenticate_with_every_strict_check() {
    use mock_idp::keys::{SigningAlg, SigningKey};
    const TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let key = SigningKey::generate(SigningAlg::ES256);
    let other = SigningKey::generate(SigningAlg::ES256);
    let idp = MockIdp::builder()
        .client(Client::private_key_jwt("signed", json!({"keys": [key.jwk()]})))
        .client(
            Client::confidential("hmac", "a-long-shared-secret-of-32-bytes!")
                .auth_methods([mock_idp::TokenAuthMethod::ClientSecretJwt]),
        )
        .start()
        .await;
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let issuer = idp.issuer().to_owned();
    let try_with = |jwt: String| {
        let token = token.clone();
        async move {
            post(
                &token,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", TYPE),
                    ("client_assertion", &jwt),
                ],
                None,
            )
            .await
        }
    };
    let (status, body) = try_with(assertion(Some(&key), "", "signed", &token, "one", 60)).await;
    assert_eq!(
        status, 200,
        "private_key_jwt with the token endpoint as aud: {body}"
    );
    let (status, body) = try_with(assertion(Some(&key), "", "signed", &issuer, "two", 60)).await;
    assert_eq!(status, 200, "the issuer as aud: {body}");
    let (status, body) = try_with(assertion(Some(&key), "", "signed", &token, "one", 60)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "a replayed jti: {body}"
    );
    assert!(
        body["error_description"].as_str().unwrap().contains("replay"),
        "{body}"
    );
    let (_, body) = try_with(assertion(Some(&other), "", "signed", &token, "three", 60)).await;
    assert!(
        body["error_description"].as_str().unwrap().contains("signature"),
        "another key: {body}"
    );
    let (_, body) = try_with(assertion(
        Some(&key),
        "",
        "signed",
        "https://elsewhere.test/token",
        "four",
        60,
    ))
    .await;
    assert!(
        body["error_description"].as_str().unwrap().contains("aud"),
        "{body}"
    );
    let (_, body) = try_with(assertion(Some(&key), "", "signed", &token, "five", -120)).await;
    assert!(
        body["error_description"].as_str().unwrap().contains("expired"),
        "{body}"
    );

    let (status, body) = try_with(assertion(
        None,
        "a-long-shared-secret-of-32-bytes!",
        "hmac",
        &token,
        "six",
        60,
    ))
    .await;
    assert_eq!(status, 200, "client_secret_jwt: {body}");
    let (_, body) = try_with(assertion(None, "wrong-secret", "hmac", &token, "seven", 60)).await;
    assert_eq!(body["error"], "invalid_client", "{body}");
    let (_, body) = try_with(assertion(
        None,
        "a-long-shared-secret-of-32-bytes!",
        "signed",
        &token,
        "eight",
        60,
    ))
    .await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("may not authenticate with client_secret_jwt"),
        "a method the client did not register: {body}"
    );
    let discovery: Value = common::get_json(&idp.discovery_url()).await;
    assert!(
        discovery["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt")),
        "{discovery}"
    );
}

#[tokio::test]
async fn jwt_bearer_assertions_get_tokens_for_the_user_they_name_or_the_signing_client() {
    use mock_idp::keys::{SigningAlg, SigningKey};
    use mock_idp::personality::Oidc;
    const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let key = SigningKey::generate(SigningAlg::ES256);
    let idp = crate::providers::start(Oidc::new()).await;
    idp.add_client(Client::private_key_jwt("svc", json!({"keys": [key.jwk()]})))
        .unwrap();
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signed = |sub: Option<&str>| {
        let mut claims = json!({"iss": "svc", "aud": token, "iat": now, "exp": now + 300});
        if let Some(s) = sub {
            claims["sub"] = json!(s);
        }
        key.sign(&claims)
    };
    let (status, body) = post(
        &token,
        &[
            ("grant_type", GRANT),
            ("assertion", &signed(Some("alice"))),
            ("scope", "profile"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let who = post(
        &idp.endpoint_url(Endpoint::Introspection).unwrap(),
        &[("token", body["access_token"].as_str().unwrap())],
        Some(MOCK),
    )
    .await
    .1;
    assert_eq!(who["sub"], idp.provider_user_id("alice").unwrap(), "{who}");
    let (_, body) = post(
        &token,
        &[("grant_type", GRANT), ("assertion", &signed(Some("nobody")))],
        None,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let forged = SigningKey::generate(SigningAlg::ES256)
        .sign(&json!({"iss": "svc", "sub": "alice", "aud": token, "exp": now + 300}));
    let (_, body) = post(&token, &[("grant_type", GRANT), ("assertion", &forged)], None).await;
    assert!(
        body["error_description"].as_str().unwrap().contains("signature"),
        "{body}"
    );
}

#[tokio::test]
async fn a_google_service_account_signs_its_own_way_in() {
    use mock_idp::keys::{SigningAlg, SigningKey};
    let key = SigningKey::generate(SigningAlg::RS256);
    let sa = "reports@project.iam.gserviceaccount.com";
    let idp = MockIdp::builder().personality(Google::new()).start().await;
    idp.add_client(Client::private_key_jwt(sa, json!({"keys": [key.jwk()]})))
        .unwrap();
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Google's service-account assertion: iss, scope and aud; no sub, no jti.
    let jwt = key.sign(&json!({"iss": sa, "scope": "https://www.googleapis.com/auth/drive.readonly", "aud": token, "iat": now, "exp": now + 3600}));
    let (status, body) = post(
        &token,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &jwt),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["access_token"].as_str().unwrap().starts_with("ya29."),
        "{body}"
    );
    assert!(
        body.get("refresh_token").is_none() && body.get("id_token").is_none(),
        "{body}"
    );
}

/// What Google's own google-auth-library 10 sends and expects (harness/tests/fidelity.rs runs
/// it): the assertion's `aud` is Google's token URL whatever host it posts to, a token with the
/// `userinfo.email` URL scope reads the email, and a refusal is worded as Google words it.
/// Before, the mock refused that `aud` ("client_assertion's aud must name this IdP"), answered
/// such a token's userinfo with `sub` alone, and refused other keys in its own words.
#[tokio::test]
async fn google_service_accounts_sign_googles_audience_and_are_refused_in_googles_words() {
    use mock_idp::User;
    use mock_idp::keys::{SigningAlg, SigningKey};
    let key = SigningKey::generate(SigningAlg::RS256);
    let sa = "reports@project.iam.gserviceaccount.com";
    let idp = MockIdp::builder()
        .personality(Google::new())
        .user(User::new("alice").email("alice@example.com"))
        .start()
        .await;
    idp.add_client(Client::private_key_jwt(sa, json!({"keys": [key.jwk()]})))
        .unwrap();
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let email = "https://www.googleapis.com/auth/userinfo.email";
    let assertion = |signer: &SigningKey, claims: Value| {
        let mut c = json!({"scope": email, "aud": "https://oauth2.googleapis.com/token", "iat": now, "exp": now + 3600});
        c.as_object_mut()
            .unwrap()
            .extend(claims.as_object().unwrap().clone());
        signer.sign(&c)
    };
    let grant = |jwt: String| {
        let token = token.clone();
        async move {
            post(
                &token,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &jwt),
                ],
                None,
            )
            .await
        }
    };
    let (status, body) = grant(assertion(&key, json!({"iss": sa}))).await;
    assert_eq!(status, 200, "Google's own aud: {body}");
    // Domain-wide delegation for alice: userinfo releases her email for the URL scope.
    let (status, body) = grant(assertion(&key, json!({"iss": sa, "sub": "alice@example.com"}))).await;
    assert_eq!(status, 200, "{body}");
    let me: Value = common::http(None)
        .get(idp.url("/v1/userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "alice@example.com", "{me}");
    assert_eq!(me["email_verified"], true, "{me}");
    assert!(me.get("name").is_none(), "profile was not granted: {me}");
    // Refusals, from Google's service-account error table.
    let other = SigningKey::generate(SigningAlg::RS256);
    let google = |error: &str, description: &str| json!({"error": error, "error_description": description});
    for (jwt, status, body) in [
        (
            assertion(&other, json!({"iss": sa})),
            400,
            google("invalid_grant", "Invalid JWT Signature."),
        ),
        (
            assertion(
                &other,
                json!({"iss": "intruder@elsewhere.iam.gserviceaccount.com"}),
            ),
            401,
            google("invalid_client", "The OAuth client was not found."),
        ),
        (
            assertion(&key, json!({"iss": sa, "sub": "nobody@example.com"})),
            400,
            google("invalid_grant", "Invalid email or User ID"),
        ),
        (
            assertion(&key, json!({"iss": sa, "aud": "https://elsewhere.example/token"})),
            400,
            google(
                "invalid_grant",
                "Invalid JWT: Failed audience check. The right audience is https://oauth2.googleapis.com/token",
            ),
        ),
        (
            assertion(&key, json!({"iss": sa, "iat": now - 7200, "exp": now - 3600})),
            400,
            google(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. \
                 Check your 'iat' and 'exp' values and use a clock with skew to account for clock \
                 differences between systems.",
            ),
        ),
    ] {
        assert_eq!(grant(jwt).await, (status, body));
    }
    // The mock's own reason stays in the request log.
    let log = idp.requests_to(Endpoint::Token);
    assert!(
        log[2]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("signature does not verify"),
        "{:?}",
        log[2].error
    );
}

#[tokio::test]
async fn entra_on_behalf_of_trades_a_users_token_for_another_api() {
    let idp = crate::providers::start(Microsoft::new()).await;
    let login = crate::providers::tokens(&idp, &[]).await;
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let obo = |assertion: String| {
        let token = token.clone();
        async move {
            post(
                &token,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("requested_token_use", "on_behalf_of"),
                    ("assertion", &assertion),
                    ("scope", "api://downstream/.default"),
                ],
                Some(MOCK),
            )
            .await
        }
    };
    let (status, body) = obo(login["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = obo("not-a-token".into()).await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body["error_codes"].is_array(), "AADSTS shape: {body}");
}

/// RFC 9068: with an audience configured, access tokens are JWTs an API validates with the
/// IdP's published keys; userinfo and introspection still accept them.
#[tokio::test]
async fn access_tokens_are_rfc_9068_jwts_for_a_configured_api() {
    let idp = MockIdp::builder()
        .jwt_access_tokens("https://api.example")
        .start()
        .await;
    let (_, body) = client_credentials(&idp, "reports.read", MOCK).await;
    let at = body["access_token"].as_str().unwrap();
    let (header, claims) = common::jwt_parts(at);
    assert_eq!(header["typ"], "at+jwt", "{header}");
    assert_eq!(claims["aud"], "https://api.example");
    assert_eq!(claims["iss"], idp.issuer());
    assert_eq!(claims["client_id"], "mock-client");
    assert_eq!(claims["scope"], "reports.read");
    assert!(
        claims["exp"].is_u64() && claims["iat"].is_u64() && claims["jti"].is_string(),
        "{claims}"
    );
    let jwks: Value = common::get_json(&idp.endpoint_url(Endpoint::Jwks).unwrap()).await;
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == header["kid"]),
        "signed with a published key"
    );
    let (_, who) = post(
        &idp.endpoint_url(Endpoint::Introspection).unwrap(),
        &[("token", at)],
        Some(MOCK),
    )
    .await;
    assert_eq!(who["active"], true);
    let opaque = MockIdp::builder().start().await;
    let (_, body) = client_credentials(&opaque, "reports.read", MOCK).await;
    assert!(
        body["access_token"].as_str().unwrap().starts_with("mat_"),
        "opaque by default"
    );
}

/// Grants made at the token endpoint itself follow the script like any token request.
#[tokio::test]
async fn the_password_grant_can_be_scripted_like_any_token_request() {
    use mock_idp::User;
    use mock_idp::personality::Generic;
    let idp = MockIdp::builder()
        .personality(Generic::new())
        .user(User::new("alice").password("correct horse"))
        .start()
        .await;
    idp.on_token().respond(Outcome::oauth_error(
        400,
        "invalid_scope",
        Some("read is not granted"),
    ));
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "correct horse"),
    ];
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let (status, body) = post(&token, &form, Some(MOCK)).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("read is not granted")),
        "{body}"
    );
    let (status, _) = post(&token, &form, Some(MOCK)).await;
    assert_eq!(status, 200, "once, then back to normal");
}

/// The personality-specific wire of the grants without a browser, as reviewed snapshots:
/// Google's service-account token, Entra's password refusal and on-behalf-of answer.
#[tokio::test]
async fn snapshots_of_service_account_password_and_on_behalf_of_answers() {
    use mock_idp::User;
    use mock_idp::keys::{SigningAlg, SigningKey};
    // Google: a service account's assertion.
    let key = SigningKey::generate(SigningAlg::RS256);
    let sa = "reports@project.iam.gserviceaccount.com";
    let google = MockIdp::builder().personality(Google::new()).start().await;
    google
        .add_client(Client::private_key_jwt(sa, json!({"keys": [key.jwk()]})))
        .unwrap();
    let token = google.endpoint_url(Endpoint::Token).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let jwt = key.sign(&json!({"iss": sa, "scope": "https://www.googleapis.com/auth/drive.readonly", "aud": token, "iat": now, "exp": now + 3600}));
    let resp = common::http(None)
        .post(&token)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt.as_str()),
        ])
        .send()
        .await
        .unwrap();
    insta::assert_json_snapshot!(
        "service_account_google",
        crate::providers::capture(&google, resp).await
    );
    // Entra: a wrong password, then on-behalf-of with a user's token.
    let entra = crate::providers::start(Microsoft::new()).await;
    entra.add_user(User::new("carol").password("right"));
    let token = entra.endpoint_url(Endpoint::Token).unwrap();
    let send = |form: Vec<(&'static str, String)>| {
        let token = token.clone();
        async move {
            common::http(None)
                .post(token)
                .basic_auth("mock-client", Some("mock-secret"))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = send(vec![
        ("grant_type", "password".into()),
        ("username", "carol".into()),
        ("password", "wrong".into()),
        ("scope", "openid".into()),
    ])
    .await;
    insta::assert_json_snapshot!(
        "password_microsoft_wrong",
        crate::providers::capture(&entra, wrong).await
    );
    let login = crate::providers::tokens(&entra, &[]).await;
    let obo = send(vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".into()),
        ("requested_token_use", "on_behalf_of".into()),
        ("assertion", login["access_token"].as_str().unwrap().to_owned()),
        ("scope", "api://downstream/.default".into()),
    ])
    .await;
    insta::assert_json_snapshot!(
        "on_behalf_of_microsoft",
        crate::providers::capture(&entra, obo).await
    );
}

/// Outcomes scripted for one client or one grant reach requests that name no `client_id`
/// (a service account's assertion) and grants minted at the token endpoint (an ID-token
/// fault on the password grant), instead of being used up and ignored.
#[tokio::test]
async fn scripted_faults_reach_assertion_clients_and_direct_grants() {
    use mock_idp::keys::{SigningAlg, SigningKey};
    use mock_idp::personality::Microsoft;
    use mock_idp::{GrantType, IdTokenFault, User};
    let key = SigningKey::generate(SigningAlg::RS256);
    let sa = "reports@project.iam.gserviceaccount.com";
    let idp = MockIdp::builder().personality(Google::new()).start().await;
    idp.add_client(Client::private_key_jwt(sa, json!({"keys": [key.jwk()]})))
        .unwrap();
    idp.on_token().for_client(sa).respond(Outcome::ServerError);
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let jwt = key.sign(&json!({"iss": sa, "scope": "https://www.googleapis.com/auth/drive.readonly", "aud": token, "iat": now, "exp": now + 3600}));
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", jwt.as_str()),
    ];
    let (status, _) = post(&token, &form, None).await;
    assert_eq!(status, 500, "the entry for the service account answered");

    let idp = MockIdp::builder()
        .personality(Microsoft::new())
        .user(
            User::new("alice")
                .email("alice@example.com")
                .password("correct horse"),
        )
        .start()
        .await;
    idp.on_token()
        .for_grant(GrantType::Password)
        .respond(Outcome::IdToken {
            fault: IdTokenFault::InvalidIss,
        });
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let form = [
        ("grant_type", "password"),
        ("username", "alice@example.com"),
        ("password", "correct horse"),
        ("scope", "openid"),
    ];
    let (status, body) = post(&token, &form, Some(MOCK)).await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = common::jwt_parts(body["id_token"].as_str().expect("an ID token"));
    assert_ne!(
        claims["iss"],
        idp.issuer(),
        "the scripted fault applied: {claims}"
    );
}

/// Every outcome the issue lists answers a grant minted at the token endpoint, in FIFO order:
/// the client's own refusals (`invalid_client`, `invalid_grant`, `invalid_scope`,
/// `unauthorized_client`), a server error, and a slow success; then back to normal.
#[tokio::test]
async fn each_scripted_outcome_answers_a_client_credentials_request_in_turn() {
    use mock_idp::GrantType;
    use std::time::{Duration, Instant};
    let idp = MockIdp::builder().start().await;
    let on = || idp.on_token().for_grant(GrantType::ClientCredentials);
    on().respond(Outcome::oauth_error(401, "invalid_client", None));
    on().respond(Outcome::invalid_grant());
    on().respond(Outcome::oauth_error(400, "invalid_scope", None));
    on().respond(Outcome::oauth_error(400, "unauthorized_client", None));
    on().respond(Outcome::ServerError);
    on().after(Duration::from_millis(300)).respond(Outcome::Success);
    for (status, error) in [
        (401, Some("invalid_client")),
        (400, Some("invalid_grant")),
        (400, Some("invalid_scope")),
        (400, Some("unauthorized_client")),
    ] {
        let (got, body) = client_credentials(&idp, "reports.read", MOCK).await;
        assert_eq!((got, body["error"].as_str()), (status, error), "{body}");
    }
    let (status, _) = client_credentials(&idp, "reports.read", MOCK).await;
    assert_eq!(status, 500);
    let started = Instant::now();
    let (status, body) = client_credentials(&idp, "reports.read", MOCK).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the slow answer waited its delay"
    );
    let (status, body) = client_credentials(&idp, "reports.read", MOCK).await;
    assert_eq!(status, 200, "back to normal: {body}");
}
