//! Failed logins: the IdP's error on an error page with a retry link, no session, nothing
//! upstream; the retry works; Authmonger's "invalid request" on a scope mismatch; an IdP that
//! is down or broken.

use mock_idp::{Endpoint, Outcome};
use ref_gateway::ProviderKind;

use crate::support::{describe, env};

#[tokio::test]
async fn denial_shows_the_idps_error_with_a_retry_link_and_the_retry_logs_in() {
    for provider in ProviderKind::ALL {
        let e = env(provider).start().await;
        e.idp.on_authorize().respond(Outcome::deny());
        let hops = e.login("/app").await;
        let last = hops.last().unwrap();
        assert_eq!(last.status, 403, "{provider}: {}", describe(&hops));
        assert_eq!(last.header("x-gateway-error"), Some("idp_denied"), "{provider}");
        assert!(
            last.body.contains("id=\"idp-error\""),
            "{provider}: the IdP's error is shown"
        );
        let retry = format!("href=\"{}\"", e.url("/auth/authn"));
        assert!(last.body.contains(&retry), "{provider}: {}", last.body);
        assert_eq!(e.upstream.count(), 0, "{provider}: nothing reached the upstream");
        assert!(
            e.ua.cookie("app.localhost", "session").is_none(),
            "{provider}: no session"
        );
        let event = e.event_for("/oauth2/callback").await;
        assert_eq!(
            (event.decision, event.status, event.user_id),
            (ref_gateway::events::Decision::Block, 403, None),
            "{provider}"
        );
        // Retry: /auth/authn logs in and lands on /.
        let hops = e.ua.follow(&e.url("/auth/authn")).await;
        assert_eq!(
            hops.last().unwrap().status,
            200,
            "{provider}: {}",
            describe(&hops)
        );
        assert_eq!(e.upstream.last().unwrap().path, "/", "{provider}");
    }
}

#[tokio::test]
async fn an_idp_error_description_is_escaped() {
    let e = env(ProviderKind::Github).start().await;
    e.idp.on_authorize().respond(Outcome::authorize_error(
        "access_denied",
        Some("<script>alert(1)</script>"),
    ));
    let last = e.login("/").await.pop().unwrap();
    assert!(!last.body.contains("<script>alert(1)"), "{}", last.body);
    assert!(last.body.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn scope_mismatch_is_an_invalid_request_page_carrying_the_idps_error() {
    let e = env(ProviderKind::Generic)
        .oauth(|o| o.scope = Some("openid email profile admin".into()))
        .start()
        .await;
    e.idp.on_authorize().respond(Outcome::authorize_error(
        "invalid_scope",
        Some("scope admin is not allowed"),
    ));
    let last = e.login("/").await.pop().unwrap();
    assert_eq!(last.status, 400);
    assert_eq!(last.header("x-gateway-error"), Some("idp_invalid_request"));
    assert!(
        last.body.contains("Invalid request")
            && last.body.contains("invalid_scope")
            && last.body.contains("scope admin is not allowed"),
        "{}",
        last.body
    );
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn token_endpoint_failures_end_the_login_without_a_session() {
    let cases = [
        (Outcome::invalid_grant(), 401, "idp_rejected"),
        (Outcome::ServerError, 502, "idp_unavailable"),
        (Outcome::Malformed, 401, "idp_invalid"),
        (
            Outcome::token_response(mock_idp::TokenResponseChange::OmitAccessToken),
            401,
            "idp_invalid",
        ),
        (
            Outcome::token_response(mock_idp::TokenResponseChange::OmitIdToken),
            401,
            "idp_invalid",
        ),
        (
            Outcome::token_response(mock_idp::TokenResponseChange::UnsupportedTokenType),
            401,
            "idp_invalid",
        ),
    ];
    for (outcome, status, code) in cases {
        let e = env(ProviderKind::Gitlab).start().await;
        let what = outcome.describe();
        e.idp.on_token().respond(outcome);
        e.idp.expect(Endpoint::Token).times(1);
        let last = e.login("/").await.pop().unwrap();
        assert_eq!(
            (last.status, last.header("x-gateway-error")),
            (status, Some(code)),
            "{what}: {}",
            last.body
        );
        assert_eq!(e.upstream.count(), 0, "{what}");
        assert!(e.ua.cookie("app.localhost", "session").is_none(), "{what}");
    }
}

#[tokio::test]
async fn a_token_answer_over_the_body_cap_is_refused_before_it_is_parsed() {
    // Valid JSON of 4 MB: only the cap (ref_gateway::providers::token::MAX_BODY) refuses it
    // for what it is, rather than for a missing field after reading it all.
    let body = format!(
        r#"{{"access_token":"a","token_type":"Bearer","padding":"{}"}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    let e = env(ProviderKind::Gitlab).start().await;
    e.idp.on_token().respond(Outcome::status(200, body));
    let last = e.login("/").await.pop().unwrap();
    assert_eq!(
        (last.status, last.header("x-gateway-error")),
        (401, Some("idp_invalid")),
        "{}",
        last.body
    );
    assert!(
        last.body.contains(&format!(
            "larger than {} bytes",
            ref_gateway::providers::token::MAX_BODY
        )),
        "refused for its size: {}",
        last.body
    );
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn an_idp_that_is_down_gives_a_clear_502_and_no_session() {
    let e = env(ProviderKind::Google).start().await;
    let idp_url = e.idp.base_url().to_owned();
    let crate::support::Env { idp, .. } = &e;
    let _ = idp_url;
    idp.on(Endpoint::Discovery).always().respond(Outcome::ServerError);
    let last = e.login("/").await.pop().unwrap();
    assert_eq!(last.status, 502, "{}", last.body);
    assert_eq!(last.header("x-gateway-error"), Some("idp_unavailable"));
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn a_slow_token_endpoint_times_out_into_an_error_page() {
    let e = env(ProviderKind::Github).start().await;
    e.idp
        .on_token()
        .after(std::time::Duration::from_secs(5))
        .respond(Outcome::Success);
    let started = std::time::Instant::now();
    let last = e.login("/").await.pop().unwrap();
    assert_eq!(
        (last.status, last.header("x-gateway-error")),
        (502, Some("idp_unavailable"))
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the 3 s IdP timeout applies"
    );
}

#[tokio::test]
async fn api_clients_and_non_replayable_methods_get_401_not_a_login_redirect() {
    let e = env(ProviderKind::Github).start().await;
    let cases: [(reqwest::Method, &[(&str, &str)]); 3] = [
        (reqwest::Method::POST, &[("accept", "text/html")]),
        (reqwest::Method::GET, &[("accept", "application/json")]),
        (reqwest::Method::DELETE, &[]),
    ];
    for (method, headers) in cases {
        let hop =
            e.ua.send(method.clone(), &e.url("/api/items"), headers, None)
                .await;
        assert_eq!(hop.status, 401, "{method}");
        assert_eq!(
            hop.header("www-authenticate"),
            Some("Cookie realm=\"gateway\""),
            "{method}"
        );
        assert!(hop.location.is_none(), "{method}: no redirect");
    }
    assert_eq!(e.upstream.count(), 0);
    assert_eq!(e.idp.requests().len(), 0, "no login was started");
}

#[tokio::test]
async fn gateway_pages_cannot_be_framed_or_cached() {
    let e = env(ProviderKind::Github).start().await;
    e.idp.on_authorize().respond(Outcome::deny());
    let hops = e.login("/").await;
    let page = hops.last().unwrap();
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'"))
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
}

#[tokio::test]
async fn an_oversized_cookie_header_is_431_and_a_target_naming_another_host_is_400() {
    let e = env(ProviderKind::Github).start().await;
    let huge = format!("session={}", "a".repeat(10_000));
    let hop =
        e.ua.send(
            reqwest::Method::GET,
            &e.url("/"),
            &[("cookie", huge.as_str())],
            None,
        )
        .await;
    assert_eq!(hop.status, 431, "{}", hop.body);
    // Absolute-form request target for another site than the Host header.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", e.port))
        .await
        .unwrap();
    let req = format!(
        "GET http://evil.localhost:{0}/ HTTP/1.1\r\nHost: app.localhost:{0}\r\nConnection: close\r\n\r\n",
        e.port
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert_eq!(e.upstream.count(), 0);
}
