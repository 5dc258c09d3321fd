//! The browser-facing side of authorize, driven over HTTP: the login and consent page, the
//! IdP session cookie, `prompt`, `max_age`, response modes, and headless user selection.

use std::time::Duration;

use mock_idp::{Endpoint, MockIdp, User};

use crate::common::{self, REDIRECT, authorize_url, follow, http, jwt_parts, param, token};

async fn page_idp() -> MockIdp {
    MockIdp::builder()
        .login_page()
        .redirect_uri(REDIRECT)
        .user(User::new("alice").name("Alice"))
        .user(User::new("bob").name("Bob"))
        .start()
        .await
}

struct Browser {
    http: reqwest::Client,
    cookie: Option<String>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: http(None),
            cookie: None,
        }
    }
    fn keep_cookie(&mut self, resp: &reqwest::Response) {
        if let Some(c) = resp.headers().get("set-cookie") {
            self.cookie = Some(c.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
    }
    async fn get(&mut self, url: &str) -> reqwest::Response {
        let mut req = self.http.get(url);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let resp = req.send().await.unwrap();
        self.keep_cookie(&resp);
        resp
    }
    /// Opens the authorize URL, expects the page, and submits it.
    async fn decide(&mut self, idp: &MockIdp, page: String, fields: &[(&str, &str)]) -> reqwest::Response {
        let txn = between(&page, "name=\"txn\" value=\"", "\"");
        let mut form = vec![("txn", txn.as_str())];
        form.extend_from_slice(fields);
        let mut req = self.http.post(idp.url("/__mock/decision")).form(&form);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let resp = req.send().await.unwrap();
        self.keep_cookie(&resp);
        resp
    }
}

fn between(s: &str, start: &str, end: &str) -> String {
    let i = s
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in page:\n{s}"))
        + start.len();
    s[i..][..s[i..].find(end).unwrap()].to_owned()
}

fn location(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), 302);
    resp.headers()["location"].to_str().unwrap().to_owned()
}

async fn redeem_claims(idp: &MockIdp, loc: &str) -> serde_json::Value {
    let code = param(loc, "code").unwrap_or_else(|| panic!("no code: {loc}"));
    let (_, body) = token(
        idp,
        &http(None),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    jwt_parts(body["id_token"].as_str().unwrap()).1
}

#[tokio::test]
async fn the_page_lists_users_and_allow_logs_the_chosen_one_in() {
    let idp = page_idp().await;
    let mut b = Browser::new();
    let resp = b.get(&authorize_url(&idp, &[])).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let page = resp.text().await.unwrap();
    for needle in [
        "id=\"user-alice\"",
        "id=\"user-bob\"",
        "id=\"login\"",
        "id=\"allow\"",
        "id=\"deny\"",
        "openid email profile",
        "mock-client",
    ] {
        assert!(page.contains(needle), "{needle} missing");
    }
    let resp = b
        .decide(&idp, page, &[("action", "allow"), ("user", "bob")])
        .await;
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert_eq!(redeem_claims(&idp, &location(&resp)).await["sub"], "bob");
}

#[tokio::test]
async fn typing_an_unknown_login_creates_that_user() {
    let idp = page_idp().await;
    let mut b = Browser::new();
    let page = b.get(&authorize_url(&idp, &[])).await.text().await.unwrap();
    let resp = b
        .decide(
            &idp,
            page,
            &[("action", "allow"), ("login", "carol@corp.example")],
        )
        .await;
    let claims = redeem_claims(&idp, &location(&resp)).await;
    assert_eq!(
        (claims["sub"].as_str(), claims["email"].as_str()),
        (Some("carol@corp.example"), Some("carol@corp.example"))
    );
    assert!(idp.user("carol@corp.example").is_some());
}

#[tokio::test]
async fn deny_on_the_page_returns_access_denied_and_the_page_is_single_use() {
    let idp = page_idp().await;
    let mut b = Browser::new();
    let page = b.get(&authorize_url(&idp, &[])).await.text().await.unwrap();
    let resp = b.decide(&idp, page.clone(), &[("action", "deny")]).await;
    assert_eq!(param(&location(&resp), "error").as_deref(), Some("access_denied"));
    let again = b
        .decide(&idp, page, &[("action", "allow"), ("user", "alice")])
        .await;
    assert_eq!(again.status(), 400);
    assert_eq!(again.headers()["x-mock-idp-error"], "login_expired");
}

#[tokio::test]
async fn an_idp_session_with_consent_skips_the_page_and_keeps_auth_time() {
    let idp = page_idp().await;
    let mut b = Browser::new();
    let page = b.get(&authorize_url(&idp, &[])).await.text().await.unwrap();
    let first = redeem_claims(
        &idp,
        &location(
            &b.decide(&idp, page, &[("action", "allow"), ("user", "alice")])
                .await,
        ),
    )
    .await;
    idp.clock().advance(Duration::from_secs(120));
    let resp = b.get(&authorize_url(&idp, &[])).await;
    let second = redeem_claims(&idp, &location(&resp)).await;
    assert_eq!(second["sub"], "alice");
    assert_eq!(
        second["auth_time"], first["auth_time"],
        "no new authentication happened"
    );
    // prompt=none also works now, silently.
    assert!(
        param(
            &location(&b.get(&authorize_url(&idp, &[("prompt", "none")])).await),
            "code"
        )
        .is_some()
    );
    // More scopes than consented: the consent page comes back, signed in already.
    let page = b
        .get(&authorize_url(
            &idp,
            &[("scope", "openid email profile offline_access")],
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"signed-in\"") && page.contains("Signed in as <b>Alice</b>"),
        "{page}"
    );
}

#[tokio::test]
async fn prompt_consent_shows_consent_and_prompt_login_forces_a_new_login() {
    let idp = page_idp().await;
    let mut b = Browser::new();
    let page = b.get(&authorize_url(&idp, &[])).await.text().await.unwrap();
    let first = redeem_claims(
        &idp,
        &location(
            &b.decide(&idp, page, &[("action", "allow"), ("user", "alice")])
                .await,
        ),
    )
    .await;

    let consent = b
        .get(&authorize_url(&idp, &[("prompt", "consent")]))
        .await
        .text()
        .await
        .unwrap();
    assert!(consent.contains("id=\"signed-in\""));
    assert!(
        !consent.contains("id=\"user-bob\""),
        "consent only: no account list"
    );

    idp.clock().advance(Duration::from_secs(30));
    let login = b
        .get(&authorize_url(&idp, &[("prompt", "login")]))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        login.contains("id=\"user-bob\""),
        "prompt=login shows the account list"
    );
    let resp = b
        .decide(&idp, login, &[("action", "allow"), ("user", "alice")])
        .await;
    let again = redeem_claims(&idp, &location(&resp)).await;
    assert!(
        again["auth_time"].as_u64() > first["auth_time"].as_u64(),
        "re-authenticated"
    );
}

#[tokio::test]
async fn switch_account_from_the_consent_page() {
    let idp = page_idp().await;
    let mut b = Browser::new();
    let page = b.get(&authorize_url(&idp, &[])).await.text().await.unwrap();
    b.decide(&idp, page, &[("action", "allow"), ("user", "alice")])
        .await;
    let consent = b
        .get(&authorize_url(&idp, &[("prompt", "consent")]))
        .await
        .text()
        .await
        .unwrap();
    let list = b
        .decide(&idp, consent, &[("action", "switch")])
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("id=\"user-bob\""));
    let resp = b
        .decide(&idp, list, &[("action", "allow"), ("user", "bob")])
        .await;
    assert_eq!(redeem_claims(&idp, &location(&resp)).await["sub"], "bob");
}

#[tokio::test]
async fn max_age_forces_login_when_the_session_is_older() {
    let idp = page_idp().await;
    let mut b = Browser::new();
    let page = b.get(&authorize_url(&idp, &[])).await.text().await.unwrap();
    b.decide(&idp, page, &[("action", "allow"), ("user", "alice")])
        .await;
    assert_eq!(
        b.get(&authorize_url(&idp, &[("max_age", "600")])).await.status(),
        302,
        "young session: no page"
    );
    idp.clock().advance(Duration::from_secs(601));
    assert_eq!(
        b.get(&authorize_url(&idp, &[("max_age", "600")])).await.status(),
        200,
        "old session: login page"
    );
    let silent = b
        .get(&authorize_url(&idp, &[("max_age", "600"), ("prompt", "none")]))
        .await;
    assert_eq!(
        param(&location(&silent), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn prompt_none_without_consent_is_consent_required() {
    let idp = page_idp().await;
    let mut b = Browser::new();
    let page = b
        .get(&authorize_url(&idp, &[("scope", "openid")]))
        .await
        .text()
        .await
        .unwrap();
    b.decide(&idp, page, &[("action", "allow"), ("user", "alice")])
        .await;
    let resp = b
        .get(&authorize_url(
            &idp,
            &[("prompt", "none"), ("scope", "openid email")],
        ))
        .await;
    assert_eq!(
        param(&location(&resp), "error").as_deref(),
        Some("consent_required")
    );
}

#[tokio::test]
async fn form_post_and_fragment_response_modes() {
    let idp = common::idp().await;
    let http = http(None);
    let resp = http
        .get(authorize_url(&idp, &[("response_mode", "form_post")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{REDIRECT}\"")), "{html}");
    assert!(
        html.contains("name=\"code\"") && html.contains("name=\"state\" value=\"state-0123456789abcdef\"")
    );
    let loc = follow(&http, &authorize_url(&idp, &[("response_mode", "fragment")])).await;
    assert!(loc.starts_with(&format!("{REDIRECT}#code=")), "{loc}");
    assert!(param(&loc, "code").is_some());
}

#[tokio::test]
async fn headless_picks_the_login_hint_user_and_prompt_login_refreshes_auth_time() {
    let idp = MockIdp::builder()
        .redirect_uri(REDIRECT)
        .user(User::new("alice"))
        .user(User::new("bob").email("bob@b.example"))
        .start()
        .await;
    let mut b = Browser::new();
    let resp = b
        .get(&authorize_url(&idp, &[("login_hint", "bob@b.example")]))
        .await;
    let first = redeem_claims(&idp, &location(&resp)).await;
    assert_eq!(first["sub"], "bob");
    // The IdP session remembers bob; no hint needed now.
    idp.clock().advance(Duration::from_secs(50));
    let second = redeem_claims(&idp, &location(&b.get(&authorize_url(&idp, &[])).await)).await;
    assert_eq!(
        (second["sub"].as_str(), &second["auth_time"]),
        (Some("bob"), &first["auth_time"])
    );
    let third = redeem_claims(
        &idp,
        &location(&b.get(&authorize_url(&idp, &[("prompt", "login")])).await),
    )
    .await;
    assert!(third["auth_time"].as_u64() > first["auth_time"].as_u64());
    // An unknown hint is an error page that says what to do.
    let resp = b.get(&authorize_url(&idp, &[("login_hint", "nobody")])).await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("login_hint &quot;nobody&quot; matches no user")
    );
}

#[tokio::test]
async fn https_session_cookies_are_secure() {
    let idp = MockIdp::builder().tls().redirect_uri(REDIRECT).start().await;
    let resp = http(idp.ca_pem())
        .get(authorize_url(&idp, &[]))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(
        idp.endpoint_url(Endpoint::Authorize)
            .unwrap()
            .starts_with("https://")
    );
}
