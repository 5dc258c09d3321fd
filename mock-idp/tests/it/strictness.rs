//! One test per strictness rule: the mistake, and the exact status and body the IdP answers.

use std::time::Duration;

use mock_idp::{Client, Endpoint, LintCode, MockIdp, RefreshRotation, UserPatch};
use serde_json::{Value, json};

use crate::common::{self, REDIRECT, authorize_url, follow, http, param, params_of, token};

fn token_url(idp: &MockIdp) -> String {
    idp.endpoint_url(Endpoint::Token).unwrap()
}

/// An error page at the IdP: status 400, the machine code in a header, the message in the page,
/// and no redirect.
async fn assert_error_page(http: &reqwest::Client, url: &str, code: &str, message: &str) {
    let resp = http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.headers().get("location").is_none(),
        "an error page never redirects"
    );
    assert_eq!(resp.headers()["x-mock-idp-error"], code);
    let body = resp.text().await.unwrap();
    assert!(body.contains(message), "page should say {message:?}:\n{body}");
}

/// An error redirect back to the client: exactly these parameters, in this order.
async fn assert_error_redirect(
    http: &reqwest::Client,
    idp: &MockIdp,
    url: &str,
    error: &str,
    description: &str,
) {
    let loc = follow(http, url).await;
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert_eq!(
        params_of(&loc),
        vec![
            ("error".to_owned(), error.to_owned()),
            ("error_description".to_owned(), description.to_owned()),
            ("state".to_owned(), "state-0123456789abcdef".to_owned()),
            ("iss".to_owned(), idp.issuer().to_owned()),
        ]
    );
}

fn err(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

// ---- authorization endpoint: failures shown at the IdP -------------------------------------

#[tokio::test]
async fn authorize_without_client_id_shows_an_error_page() {
    let idp = common::idp().await;
    assert_error_page(
        &http(None),
        &authorize_url(&idp, &[("client_id", "")]),
        "invalid_request",
        "client_id is missing",
    )
    .await;
}

#[tokio::test]
async fn authorize_with_unknown_client_shows_an_error_page() {
    let idp = common::idp().await;
    assert_error_page(
        &http(None),
        &authorize_url(&idp, &[("client_id", "nobody")]),
        "invalid_client",
        "unknown client_id nobody",
    )
    .await;
}

#[tokio::test]
async fn unregistered_redirect_uri_shows_an_error_page_never_a_redirect() {
    let idp = common::idp().await;
    let evil = "https://evil.example/steal";
    assert_error_page(
        &http(None),
        &authorize_url(&idp, &[("redirect_uri", evil)]),
        "invalid_redirect_uri",
        "redirect_uri https://evil.example/steal is not registered for client mock-client (registered: http://127.0.0.1:9/callback)",
    )
    .await;
}

#[tokio::test]
async fn redirect_uri_must_match_exactly_not_by_prefix_or_trailing_slash() {
    let idp = common::idp().await;
    let http = http(None);
    for near in [
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
        "http://127.0.0.1:9/Callback",
        "http://localhost:9/callback",
        "http://127.0.0.1:9/callback/../callback",
    ] {
        assert_error_page(
            &http,
            &authorize_url(&idp, &[("redirect_uri", near)]),
            "invalid_redirect_uri",
            "is not registered",
        )
        .await;
    }
}

#[tokio::test]
async fn repeated_redirect_uri_shows_an_error_page() {
    let idp = common::idp().await;
    let url = format!(
        "{}&redirect_uri={}",
        authorize_url(&idp, &[]),
        urlencode(REDIRECT)
    );
    assert_error_page(
        &http(None),
        &url,
        "invalid_request",
        "parameter redirect_uri is repeated",
    )
    .await;
}

#[tokio::test]
async fn openid_request_without_redirect_uri_shows_an_error_page() {
    let idp = common::idp().await;
    assert_error_page(
        &http(None),
        &authorize_url(&idp, &[("redirect_uri", "")]),
        "invalid_request",
        "redirect_uri is missing",
    )
    .await;
}

#[tokio::test]
async fn unsupported_response_mode_shows_an_error_page() {
    let idp = common::idp().await;
    assert_error_page(
        &http(None),
        &authorize_url(&idp, &[("response_mode", "web_message")]),
        "invalid_request",
        "response_mode &quot;web_message&quot; is not supported",
    )
    .await;
}

// ---- authorization endpoint: failures redirected to the client -----------------------------

#[tokio::test]
async fn missing_response_type_is_invalid_request() {
    let idp = common::idp().await;
    assert_error_redirect(
        &http(None),
        &idp,
        &authorize_url(&idp, &[("response_type", "")]),
        "invalid_request",
        "response_type is missing",
    )
    .await;
}

#[tokio::test]
async fn implicit_flow_is_unsupported_response_type() {
    let idp = common::idp().await;
    assert_error_redirect(
        &http(None),
        &idp,
        &authorize_url(&idp, &[("response_type", "token")]),
        "unsupported_response_type",
        "response_type \"token\" is not supported; this IdP implements the authorization code flow (response_type=code)",
    )
    .await;
}

#[tokio::test]
async fn repeated_parameter_is_invalid_request() {
    let idp = common::idp().await;
    let url = format!("{}&scope=openid", authorize_url(&idp, &[]));
    assert_error_redirect(
        &http(None),
        &idp,
        &url,
        "invalid_request",
        "parameter scope is repeated (RFC 6749 §3.1)",
    )
    .await;
}

#[tokio::test]
async fn public_client_without_pkce_is_invalid_request() {
    let idp = MockIdp::builder()
        .client(Client::public("spa").redirect_uri(REDIRECT))
        .start()
        .await;
    assert_error_redirect(
        &http(None),
        &idp,
        &authorize_url(&idp, &[("client_id", "spa")]),
        "invalid_request",
        "code_challenge is required for this client (PKCE)",
    )
    .await;
}

#[tokio::test]
async fn pkce_plain_is_refused_unless_the_client_allows_it_and_is_the_default_method() {
    let idp = common::idp().await;
    let challenge = "a".repeat(43);
    let expected = "code_challenge_method plain is not accepted (it is also the default when the method is omitted); use S256";
    let http = http(None);
    assert_error_redirect(
        &http,
        &idp,
        &authorize_url(
            &idp,
            &[("code_challenge", &challenge), ("code_challenge_method", "plain")],
        ),
        "invalid_request",
        expected,
    )
    .await;
    assert_error_redirect(
        &http,
        &idp,
        &authorize_url(&idp, &[("code_challenge", &challenge)]),
        "invalid_request",
        expected,
    )
    .await;
    assert_error_redirect(
        &http,
        &idp,
        &authorize_url(
            &idp,
            &[("code_challenge", &challenge), ("code_challenge_method", "S512")],
        ),
        "invalid_request",
        "code_challenge_method \"S512\" is not supported; use S256",
    )
    .await;
}

#[tokio::test]
async fn pkce_plain_works_when_the_client_allows_it() {
    let idp = MockIdp::builder()
        .client(
            Client::confidential("app", "s")
                .redirect_uri(REDIRECT)
                .allow_plain_pkce(),
        )
        .start()
        .await;
    let http = http(None);
    let verifier = "v".repeat(50);
    let code = common::code(
        &idp,
        &http,
        &[
            ("client_id", "app"),
            ("code_challenge", &verifier),
            ("code_challenge_method", "plain"),
        ],
    )
    .await;
    let resp = http
        .post(token_url(&idp))
        .basic_auth("app", Some("s"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(idp.findings().iter().any(|f| f.code == LintCode::PkcePlain));
}

#[tokio::test]
async fn malformed_code_challenge_is_invalid_request() {
    let idp = common::idp().await;
    assert_error_redirect(
        &http(None),
        &idp,
        &authorize_url(
            &idp,
            &[("code_challenge", "too-short"), ("code_challenge_method", "S256")],
        ),
        "invalid_request",
        "code_challenge is malformed: S256 challenges are 43 base64url characters (RFC 7636 §4.2)",
    )
    .await;
}

#[tokio::test]
async fn prompt_none_cannot_be_combined_and_unknown_prompts_are_refused() {
    let idp = common::idp().await;
    let http = http(None);
    assert_error_redirect(
        &http,
        &idp,
        &authorize_url(&idp, &[("prompt", "none login")]),
        "invalid_request",
        "prompt=none cannot be combined with other values",
    )
    .await;
    assert_error_redirect(
        &http,
        &idp,
        &authorize_url(&idp, &[("prompt", "maybe")]),
        "invalid_request",
        "prompt value \"maybe\" is not supported",
    )
    .await;
}

#[tokio::test]
async fn max_age_must_be_a_number() {
    let idp = common::idp().await;
    assert_error_redirect(
        &http(None),
        &idp,
        &authorize_url(&idp, &[("max_age", "-1")]),
        "invalid_request",
        "max_age \"-1\" is not a non-negative integer",
    )
    .await;
}

#[tokio::test]
async fn prompt_none_without_an_idp_session_is_login_required() {
    let idp = common::idp().await;
    assert_error_redirect(
        &http(None),
        &idp,
        &authorize_url(&idp, &[("prompt", "none")]),
        "login_required",
        "prompt=none was requested but the user is not logged in.",
    )
    .await;
}

#[tokio::test]
async fn lint_findings_explain_client_mistakes_without_changing_the_answer() {
    let idp = MockIdp::builder()
        .client(
            Client::confidential("app", "s")
                .redirect_uri("http://app.example/cb")
                .redirect_uri(REDIRECT),
        )
        .start()
        .await;
    let http = http(None);
    let loc = follow(
        &http,
        &authorize_url(
            &idp,
            &[
                ("client_id", "app"),
                ("redirect_uri", "http://app.example/cb"),
                ("scope", "openid phone"),
                ("state", "abc"),
            ],
        ),
    )
    .await;
    assert!(param(&loc, "code").is_some(), "findings never block the login");
    let findings = idp.findings();
    let by = |code: LintCode| {
        findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("{code:?} in {findings:?}"))
    };
    assert_eq!(
        by(LintCode::InsecureRedirectUri).severity,
        mock_idp::Severity::Error
    );
    assert_eq!(
        by(LintCode::UnknownScope).message,
        "scope `phone` is not in the IdP's scopes_supported; a real provider may reject the request"
    );
    assert_eq!(
        by(LintCode::WeakState).message,
        "your app's `state` is only 3 characters long: it may be guessable"
    );
    assert!(
        by(LintCode::MissingPkce)
            .fix
            .contains("code_challenge_method=S256")
    );
    follow(&http, &authorize_url(&idp, &[("client_id", "app")])).await;
    let last = idp.requests().last().unwrap().clone();
    let loopback = last
        .findings
        .iter()
        .find(|f| f.code == LintCode::InsecureRedirectUri)
        .unwrap();
    assert_eq!(
        loopback.severity,
        mock_idp::Severity::Info,
        "http on loopback is fine for development"
    );
}

// ---- token endpoint --------------------------------------------------------------------------

#[tokio::test]
async fn token_endpoint_only_accepts_post() {
    let idp = common::idp().await;
    assert_eq!(
        http(None).get(token_url(&idp)).send().await.unwrap().status(),
        405
    );
}

#[tokio::test]
async fn token_request_must_be_form_encoded() {
    let idp = common::idp().await;
    let resp = http(None)
        .post(token_url(&idp))
        .basic_auth("mock-client", Some("mock-secret"))
        .json(&json!({"grant_type": "authorization_code", "code": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_request",
            "Content-Type \"application/json\" is not accepted: send the parameters as application/x-www-form-urlencoded"
        )
    );
}

#[tokio::test]
async fn token_request_without_client_authentication_is_invalid_client() {
    let idp = common::idp().await;
    let resp = http(None)
        .post(token_url(&idp))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers().get("www-authenticate").is_none(),
        "no Basic attempt, no challenge required"
    );
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_client",
            "client authentication is required: send Authorization: Basic or client_id (and client_secret) in the body"
        )
    );
}

#[tokio::test]
async fn unknown_client_with_basic_is_401_with_a_basic_challenge() {
    let idp = common::idp().await;
    let resp = http(None)
        .post(token_url(&idp))
        .basic_auth("ghost", Some("x"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Basic realm=\"mock-idp\"");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err("invalid_client", "unknown client ghost")
    );
}

#[tokio::test]
async fn wrong_client_secret_is_invalid_client() {
    let idp = common::idp().await;
    let http = http(None);
    let code = common::code(&idp, &http, &[]).await;
    let resp = http
        .post(token_url(&idp))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "mock-client"),
            ("client_secret", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_client",
            "client authentication failed: wrong client_secret"
        )
    );
}

#[tokio::test]
async fn two_client_authentication_methods_at_once_are_refused() {
    let idp = common::idp().await;
    let resp = http(None)
        .post(token_url(&idp))
        .basic_auth("mock-client", Some("mock-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_secret", "mock-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_request",
            "the client authenticated twice (Authorization header and client_secret in the body); use exactly one method"
        )
    );
    assert!(
        idp.findings()
            .iter()
            .any(|f| f.code == LintCode::MultipleClientAuth)
    );
}

#[tokio::test]
async fn a_method_the_client_did_not_register_is_refused() {
    let idp = MockIdp::builder()
        .client(
            Client::confidential("app", "s")
                .redirect_uri(REDIRECT)
                .auth_methods([mock_idp::TokenAuthMethod::ClientSecretBasic]),
        )
        .start()
        .await;
    let resp = http(None)
        .post(token_url(&idp))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", "app"),
            ("client_secret", "s"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_client",
            "client app may not authenticate with client_secret_post; registered: client_secret_basic"
        )
    );
}

#[tokio::test]
async fn client_secret_in_the_query_string_is_refused_and_linted() {
    let idp = common::idp().await;
    let resp = http(None)
        .post(format!("{}?client_secret=mock-secret", token_url(&idp)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", "mock-client"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_request",
            "client_secret must not be sent in the URL query; send it in the form body or an Authorization: Basic header"
        )
    );
    assert!(idp.findings().iter().any(|f| f.code == LintCode::SecretInQuery));
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded_before_base64() {
    // RFC 6749 §2.3.1: "client:1" must travel as "client%3A1".
    let idp = MockIdp::builder()
        .client(Client::confidential("client:1", "p@ss word").redirect_uri(REDIRECT))
        .start()
        .await;
    let http = http(None);
    let code = common::code(&idp, &http, &[("client_id", "client:1")]).await;
    let resp = http
        .post(token_url(&idp))
        .basic_auth("client%3A1", Some("p%40ss+word"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

#[tokio::test]
async fn public_client_must_not_send_a_secret() {
    let idp = MockIdp::builder()
        .client(Client::public("spa").redirect_uri(REDIRECT))
        .start()
        .await;
    let resp = http(None)
        .post(token_url(&idp))
        .basic_auth("spa", Some("whatever"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_client",
            "client spa may not authenticate with client_secret_basic; registered: none"
        )
    );
}

#[tokio::test]
async fn missing_and_unsupported_grant_types() {
    let idp = common::idp().await;
    let http = http(None);
    assert_eq!(
        token(&idp, &http, &[("code", "x")]).await,
        (400, err("invalid_request", "grant_type is missing"))
    );
    assert_eq!(
        token(
            &idp,
            &http,
            &[("grant_type", "password"), ("username", "a"), ("password", "b")]
        )
        .await,
        (
            400,
            err(
                "unsupported_grant_type",
                "grant_type \"password\" is not supported; use authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange or urn:ietf:params:oauth:grant-type:jwt-bearer"
            )
        )
    );
}

#[tokio::test]
async fn repeated_token_parameters_are_invalid_request() {
    let idp = common::idp().await;
    assert_eq!(
        token(
            &idp,
            &http(None),
            &[("grant_type", "authorization_code"), ("code", "a"), ("code", "b")]
        )
        .await,
        (
            400,
            err("invalid_request", "parameter code is repeated (RFC 6749 §3.1)")
        )
    );
}

#[tokio::test]
async fn missing_and_unknown_codes() {
    let idp = common::idp().await;
    let http = http(None);
    assert_eq!(
        token(
            &idp,
            &http,
            &[("grant_type", "authorization_code"), ("redirect_uri", REDIRECT)]
        )
        .await,
        (400, err("invalid_request", "code is missing"))
    );
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "authorization_code"),
                ("code", "made-up"),
                ("redirect_uri", REDIRECT)
            ]
        )
        .await,
        (
            400,
            err(
                "invalid_grant",
                "the authorization code is not valid: it was never issued by this IdP"
            )
        )
    );
}

#[tokio::test]
async fn a_reused_code_fails_and_revokes_the_tokens_it_issued() {
    let idp = common::idp().await;
    let http = http(None);
    let code = common::code(&idp, &http, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, first) = token(&idp, &http, &form).await;
    assert_eq!(status, 200);
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(common::userinfo(&idp, &http, access).await.0, 200);
    assert_eq!(
        token(&idp, &http, &form).await,
        (
            400,
            err(
                "invalid_grant",
                "the authorization code was already redeemed; the tokens issued for it have been revoked (RFC 6749 §4.1.2)"
            )
        )
    );
    assert_eq!(
        common::userinfo(&idp, &http, access).await.0,
        401,
        "the first access token is revoked"
    );
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(
        token(
            &idp,
            &http,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)]
        )
        .await
        .1["error"],
        "invalid_grant"
    );
    assert!(idp.findings().iter().any(|f| f.code == LintCode::CodeReused));
}

#[tokio::test]
async fn codes_expire() {
    let idp = common::idp().await;
    let http = http(None);
    let code = common::code(&idp, &http, &[]).await;
    idp.clock().advance(Duration::from_secs(61));
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT)
            ]
        )
        .await,
        (400, err("invalid_grant", "the authorization code has expired"))
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_client() {
    let idp = MockIdp::builder()
        .client(Client::confidential("a", "sa").redirect_uri(REDIRECT))
        .client(Client::confidential("b", "sb").redirect_uri(REDIRECT))
        .start()
        .await;
    let http = http(None);
    let code = common::code(&idp, &http, &[("client_id", "a")]).await;
    let resp = http
        .post(token_url(&idp))
        .basic_auth("b", Some("sb"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_grant",
            "the authorization code was issued to another client"
        )
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri() {
    let idp = MockIdp::builder()
        .redirect_uri(REDIRECT)
        .redirect_uri("http://127.0.0.1:9/other")
        .start()
        .await;
    let http = http(None);
    let expected = (
        400,
        err(
            "invalid_grant",
            "redirect_uri does not match the one sent in the authorization request (RFC 6749 §4.1.3)",
        ),
    );
    let code = common::code(&idp, &http, &[]).await;
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:9/other")
            ]
        )
        .await,
        expected
    );
    let code = common::code(&idp, &http, &[]).await;
    assert_eq!(
        token(
            &idp,
            &http,
            &[("grant_type", "authorization_code"), ("code", &code)]
        )
        .await,
        expected
    );
    assert!(
        idp.findings()
            .iter()
            .any(|f| f.code == LintCode::RedirectUriNotRepeated)
    );
}

#[tokio::test]
async fn pkce_verifier_must_match_be_present_and_not_appear_from_nowhere() {
    let idp = common::idp().await;
    let http = http(None);
    let verifier = "v".repeat(43);
    let challenge = s256(&verifier);
    let with_pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = common::code(&idp, &http, &with_pkce).await;
    let wrong = "w".repeat(43);
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &wrong)
            ]
        )
        .await,
        (
            400,
            err(
                "invalid_grant",
                "PKCE verification failed: code_verifier does not match code_challenge"
            )
        )
    );
    let code = common::code(&idp, &http, &with_pkce).await;
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT)
            ]
        )
        .await,
        (
            400,
            err(
                "invalid_grant",
                "code_verifier is required: the authorization request carried a code_challenge"
            )
        )
    );
    let code = common::code(&idp, &http, &[]).await;
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier)
            ]
        )
        .await,
        (
            400,
            err(
                "invalid_grant",
                "code_verifier sent but the authorization request carried no code_challenge"
            )
        )
    );
    let code = common::code(&idp, &http, &with_pkce).await;
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", "short")
            ]
        )
        .await,
        (
            400,
            err(
                "invalid_request",
                "code_verifier is malformed: 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)"
            )
        )
    );
    let code = common::code(&idp, &http, &with_pkce).await;
    let (status, _) = token(
        &idp,
        &http,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200);
}

// ---- refresh ---------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_and_foreign_refresh_tokens_are_invalid_grant() {
    let idp = MockIdp::builder()
        .client(Client::confidential("mock-client", "mock-secret").redirect_uri(REDIRECT))
        .client(Client::confidential("other", "o").redirect_uri(REDIRECT))
        .start()
        .await;
    let http = http(None);
    assert_eq!(
        token(
            &idp,
            &http,
            &[("grant_type", "refresh_token"), ("refresh_token", "nope")]
        )
        .await,
        (
            400,
            err(
                "invalid_grant",
                "the refresh token is not valid: it was never issued by this IdP"
            )
        )
    );
    let body = common::tokens(&idp, &http).await;
    let resp = http
        .post(token_url(&idp))
        .basic_auth("other", Some("o"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err("invalid_grant", "the refresh token was issued to another client")
    );
}

#[tokio::test]
async fn refresh_tokens_expire_with_the_clock() {
    let idp = MockIdp::builder()
        .redirect_uri(REDIRECT)
        .refresh_token_lifetime(Duration::from_secs(600))
        .start()
        .await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    idp.clock().advance(Duration::from_secs(601));
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", body["refresh_token"].as_str().unwrap())
            ]
        )
        .await,
        (400, err("invalid_grant", "the refresh token has expired"))
    );
}

#[tokio::test]
async fn refresh_may_narrow_scope_but_never_widen_it() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let rt = body["refresh_token"].as_str().unwrap();
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("scope", "openid email phone")
            ]
        )
        .await,
        (
            400,
            err(
                "invalid_scope",
                "scope \"openid email phone\" exceeds the original grant (openid email profile)"
            )
        )
    );
    let (status, narrowed) = token(
        &idp,
        &http,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(narrowed["scope"], "openid email");
    let (_, info, _) = common::userinfo(&idp, &http, narrowed["access_token"].as_str().unwrap()).await;
    assert!(
        info.get("name").is_none(),
        "profile claims need the profile scope: {info}"
    );
}

#[tokio::test]
async fn rotated_refresh_token_reuse_revokes_the_whole_grant() {
    let idp = MockIdp::builder()
        .client(
            Client::confidential("mock-client", "mock-secret")
                .redirect_uri(REDIRECT)
                .refresh_rotation(RefreshRotation::Rotate),
        )
        .start()
        .await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let old = body["refresh_token"].as_str().unwrap();
    let (status, rotated) = token(
        &idp,
        &http,
        &[("grant_type", "refresh_token"), ("refresh_token", old)],
    )
    .await;
    assert_eq!(status, 200);
    let new = rotated["refresh_token"]
        .as_str()
        .expect("rotation returns a new refresh token");
    assert_ne!(new, old);
    assert_eq!(
        token(
            &idp,
            &http,
            &[("grant_type", "refresh_token"), ("refresh_token", old)]
        )
        .await,
        (
            400,
            err(
                "invalid_grant",
                "the refresh token was already used and rotated out; the grant has been revoked"
            )
        )
    );
    assert_eq!(
        token(
            &idp,
            &http,
            &[("grant_type", "refresh_token"), ("refresh_token", new)]
        )
        .await,
        (400, err("invalid_grant", "the refresh token has been revoked")),
        "reuse detection kills the successor too"
    );
    assert!(
        idp.findings()
            .iter()
            .any(|f| f.code == LintCode::RefreshTokenReused)
    );
}

#[tokio::test]
async fn without_rotation_the_same_refresh_token_keeps_working() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let rt = body["refresh_token"].as_str().unwrap();
    for _ in 0..3 {
        let (status, r) = token(
            &idp,
            &http,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            r.get("refresh_token").is_none(),
            "no new refresh token without rotation"
        );
    }
}

#[tokio::test]
async fn a_disabled_user_cannot_refresh() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    idp.update_user(
        "alice",
        UserPatch {
            disabled: Some(true),
            ..Default::default()
        },
    );
    assert_eq!(
        token(
            &idp,
            &http,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", body["refresh_token"].as_str().unwrap())
            ]
        )
        .await,
        (
            400,
            err(
                "invalid_grant",
                "the user of this grant is disabled or no longer exists"
            )
        )
    );
}

// ---- userinfo --------------------------------------------------------------------------------

#[tokio::test]
async fn userinfo_without_a_token_is_401_with_a_bare_challenge() {
    let idp = common::idp().await;
    let resp = http(None)
        .get(idp.endpoint_url(Endpoint::Userinfo).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer realm=\"mock-idp\"");
}

#[tokio::test]
async fn userinfo_with_unknown_or_expired_tokens_is_invalid_token() {
    let idp = common::idp().await;
    let http = http(None);
    assert_eq!(
        common::userinfo(&idp, &http, "made-up").await,
        (
            401,
            err("invalid_token", "the access token is not valid"),
            Some("Bearer realm=\"mock-idp\", error=\"invalid_token\", error_description=\"the access token is not valid\"".into())
        )
    );
    let body = common::tokens(&idp, &http).await;
    idp.clock().advance(Duration::from_secs(3601));
    let (status, body, _) = common::userinfo(&idp, &http, body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body),
        (401, err("invalid_token", "the access token has expired"))
    );
}

#[tokio::test]
async fn userinfo_token_sent_two_ways_is_invalid_request() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let at = body["access_token"].as_str().unwrap();
    let resp = http
        .post(idp.endpoint_url(Endpoint::Userinfo).unwrap())
        .bearer_auth(at)
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        err(
            "invalid_request",
            "the access token was sent in more than one way (RFC 6750 §2)"
        )
    );
}

#[tokio::test]
async fn userinfo_accepts_the_form_body_and_lints_the_query() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let at = body["access_token"].as_str().unwrap();
    let url = idp.endpoint_url(Endpoint::Userinfo).unwrap();
    let resp = http
        .post(&url)
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = http.get(format!("{url}?access_token={at}")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(idp.findings().iter().any(|f| f.code == LintCode::TokenInQuery));
}

#[tokio::test]
async fn userinfo_needs_the_openid_scope() {
    let idp = common::idp().await;
    let http = http(None);
    let code = common::code(&idp, &http, &[("scope", "email")]).await;
    let (_, body) = token(
        &idp,
        &http,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert!(body.get("id_token").is_none(), "no openid scope, no ID token");
    let (status, body, _) = common::userinfo(&idp, &http, body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body),
        (
            403,
            err(
                "insufficient_scope",
                "userinfo needs a token granted the openid scope"
            )
        )
    );
}

#[tokio::test]
async fn userinfo_refuses_tokens_of_disabled_or_deleted_users() {
    let idp = common::idp().await;
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let at = body["access_token"].as_str().unwrap();
    idp.update_user(
        "alice",
        UserPatch {
            disabled: Some(true),
            ..Default::default()
        },
    );
    let (status, body, _) = common::userinfo(&idp, &http, at).await;
    assert_eq!(
        (status, body),
        (
            401,
            err(
                "invalid_token",
                "the user of this token is disabled or no longer exists"
            )
        )
    );
    idp.update_user(
        "alice",
        UserPatch {
            disabled: Some(false),
            ..Default::default()
        },
    );
    assert_eq!(common::userinfo(&idp, &http, at).await.0, 200);
    idp.remove_user("alice");
    assert_eq!(common::userinfo(&idp, &http, at).await.0, 401);
}

// ---- revocation ------------------------------------------------------------------------------

async fn revoke(
    idp: &MockIdp,
    http: &reqwest::Client,
    user: (&str, &str),
    form: &[(&str, &str)],
) -> (u16, String) {
    let resp = http
        .post(idp.endpoint_url(Endpoint::Revocation).unwrap())
        .basic_auth(user.0, Some(user.1))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn revocation_answers_200_for_unknown_and_foreign_tokens_without_revoking_them() {
    let idp = MockIdp::builder()
        .client(Client::confidential("mock-client", "mock-secret").redirect_uri(REDIRECT))
        .client(Client::confidential("other", "o"))
        .start()
        .await;
    let http = http(None);
    assert_eq!(
        revoke(&idp, &http, ("mock-client", "mock-secret"), &[("token", "nope")]).await,
        (200, String::new())
    );
    let body = common::tokens(&idp, &http).await;
    let at = body["access_token"].as_str().unwrap();
    assert_eq!(revoke(&idp, &http, ("other", "o"), &[("token", at)]).await.0, 200);
    assert_eq!(
        common::userinfo(&idp, &http, at).await.0,
        200,
        "another client cannot revoke it"
    );
    assert_eq!(
        revoke(
            &idp,
            &http,
            ("mock-client", "mock-secret"),
            &[("token", at), ("token_type_hint", "access_token")]
        )
        .await
        .0,
        200
    );
    assert_eq!(common::userinfo(&idp, &http, at).await.0, 401);
}

#[tokio::test]
async fn revocation_errors() {
    let idp = common::idp().await;
    let http = http(None);
    let (status, body) = revoke(
        &idp,
        &http,
        ("mock-client", "mock-secret"),
        &[("token", "x"), ("token_type_hint", "id_token")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        err(
            "unsupported_token_type",
            "token_type_hint \"id_token\" is not supported; use access_token or refresh_token"
        )
    );
    let (status, body) = revoke(&idp, &http, ("mock-client", "mock-secret"), &[]).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (400, err("invalid_request", "token is missing"))
    );
    let (status, _) = revoke(&idp, &http, ("mock-client", "bad"), &[("token", "x")]).await;
    assert_eq!(status, 401);
}

// ---- end session -----------------------------------------------------------------------------

fn logout_url(idp: &MockIdp, pairs: &[(&str, &str)]) -> String {
    format!(
        "{}?{}",
        idp.endpoint_url(Endpoint::EndSession).unwrap(),
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    )
}

#[tokio::test]
async fn end_session_refuses_unregistered_post_logout_redirects() {
    let idp = common::idp().await;
    let http = http(None);
    assert_error_page(
        &http,
        &logout_url(&idp, &[("client_id", "mock-client"), ("post_logout_redirect_uri", "https://evil.example/")]),
        "invalid_request",
        "post_logout_redirect_uri https://evil.example/ is not registered for client mock-client (registered: http://127.0.0.1:9/signed-out)",
    )
    .await;
    assert_error_page(
        &http,
        &logout_url(&idp, &[("post_logout_redirect_uri", common::POST_LOGOUT)]),
        "invalid_request",
        "post_logout_redirect_uri needs the client to be identified",
    )
    .await;
}

#[tokio::test]
async fn end_session_checks_the_id_token_hint() {
    let idp = common::idp().await;
    let http = http(None);
    assert_error_page(
        &http,
        &logout_url(&idp, &[("id_token_hint", "not.a.jwt")]),
        "invalid_request",
        "id_token_hint is not an ID token of this IdP",
    )
    .await;
    let body = common::tokens(&idp, &http).await;
    let hint = body["id_token"].as_str().unwrap();
    assert_error_page(
        &http,
        &logout_url(&idp, &[("id_token_hint", hint), ("client_id", "someone-else")]),
        "invalid_request",
        "client_id someone-else differs from the audience mock-client of id_token_hint",
    )
    .await;
    // An expired hint is accepted (RP-Initiated Logout §2).
    idp.clock().advance(Duration::from_secs(7200));
    let loc = follow(
        &http,
        &logout_url(
            &idp,
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", common::POST_LOGOUT),
            ],
        ),
    )
    .await;
    assert_eq!(loc, common::POST_LOGOUT);
}

#[tokio::test]
async fn end_session_ends_the_idp_session() {
    let idp = common::idp().await;
    let http = http(None);
    let resp = http.get(authorize_url(&idp, &[])).send().await.unwrap();
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with(&idp.session_cookie_name()));
    // With the IdP cookie, prompt=none succeeds…
    let silent = http
        .get(authorize_url(&idp, &[("prompt", "none")]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(param(silent.headers()["location"].to_str().unwrap(), "code").is_some());
    // …logout clears the cookie and the server-side session…
    let out = http
        .get(logout_url(&idp, &[]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(out.text().await.unwrap().contains("You are signed out"));
    // …so the old cookie no longer logs anyone in.
    let after = http
        .get(authorize_url(&idp, &[("prompt", "none")]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(after.headers()["location"].to_str().unwrap(), "error").as_deref(),
        Some("login_required")
    );
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

#[tokio::test]
async fn no_state_or_nonce_is_only_worth_knowing_when_pkce_s256_protects_the_login() {
    // RFC 9700 §2.1: PKCE may carry the CSRF protection; OIDC Core §3.1.2.1: nonce is
    // optional in the code flow. Without PKCE the same request is a real weakness.
    let idp = common::idp().await;
    let http = http(None);
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    follow(
        &http,
        &authorize_url(
            &idp,
            &[
                ("state", ""),
                ("nonce", ""),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        ),
    )
    .await;
    let severity = |code: LintCode| {
        idp.findings()
            .into_iter()
            .filter(|f| f.code == code)
            .map(|f| f.severity)
            .collect::<Vec<_>>()
    };
    assert_eq!(severity(LintCode::MissingState), [mock_idp::Severity::Info]);
    assert_eq!(severity(LintCode::MissingNonce), [mock_idp::Severity::Info]);
    follow(&http, &authorize_url(&idp, &[("state", ""), ("nonce", "")])).await;
    assert!(severity(LintCode::MissingState).contains(&mock_idp::Severity::Error));
    assert!(severity(LintCode::MissingNonce).contains(&mock_idp::Severity::Warning));
}
