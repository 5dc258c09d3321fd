//! What the upstream receives: identity headers only from the gateway, forwarded headers,
//! hop-by-hop handling, streamed bodies, upgrades, and no tokens with a managed app.

use std::time::Duration;

use ref_gateway::ProviderKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::env;

#[tokio::test]
async fn forged_identity_headers_are_stripped_in_every_spelling() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let forged = [
        ("ngrok-auth-user-email", "admin@evil.test"),
        ("NGROK-AUTH-USER-ID", "0"),
        ("ngrok_auth_user_name", "Mallory"),
        ("Ngrok-Auth_Oauth-Access-Token", "stolen"),
        ("ngrok-auth-oauth-refresh-token", "stolen"),
        ("ngrok-auth-anything-else", "x"),
        // Other gateways' identity headers an upstream may still trust.
        ("X-Forwarded-Email", "admin@evil.test"),
        ("X-Forwarded-User", "evil-admin"),
        ("X-Auth-Request-Email", "admin@evil.test"),
        ("Remote-User", "evil-admin"),
        ("OIDC_CLAIM_email", "admin@evil.test"),
    ];
    e.ua.send(reqwest::Method::GET, &e.url("/me"), &forged, None)
        .await;
    let seen = e.upstream.last().unwrap();
    assert_eq!(
        seen.header_all("ngrok-auth-user-email"),
        ["alice@example.com"],
        "exactly the gateway's value"
    );
    assert_eq!(seen.header_all("ngrok-auth-user-name"), ["Alice Example"]);
    assert_eq!(seen.header_all("ngrok-auth-user-id").len(), 1);
    assert!(
        seen.headers
            .iter()
            .all(|(k, v)| !v.contains("evil") && v != "stolen" && !k.contains('_')),
        "{:?}",
        seen.headers
    );
    assert!(seen.header("ngrok-auth-anything-else").is_none());
    for other in [
        "x-forwarded-email",
        "x-forwarded-user",
        "x-auth-request-email",
        "remote-user",
    ] {
        assert!(seen.header(other).is_none(), "{other} stripped");
    }
}

#[tokio::test]
async fn the_upstream_cannot_set_or_see_the_gateways_cookies() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let session = e.ua.cookie("app.localhost", "session").unwrap().value;
    // The recording upstream answers /set-cookie?… with those Set-Cookie headers.
    let hop =
        e.ua.get(&e.url("/set-cookie?session=hijacked&nonce=x&theme=dark"))
            .await;
    assert_eq!(hop.status, 200);
    assert!(
        hop.set_cookies
            .iter()
            .all(|c| !c.starts_with("session=") && !c.starts_with("nonce=")),
        "{:?}",
        hop.set_cookies
    );
    assert!(
        hop.set_cookies.iter().any(|c| c.starts_with("theme=dark")),
        "{:?}",
        hop.set_cookies
    );
    assert_eq!(e.ua.cookie("app.localhost", "session").unwrap().value, session);
    assert_eq!(e.ua.get(&e.url("/still-in")).await.status, 200);
}

#[tokio::test]
async fn forwarded_headers_are_the_gateways_and_path_overrides_are_removed() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    e.ua.send(
        reqwest::Method::GET,
        &e.url("/x"),
        &[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-host", "evil.test"),
            ("x-forwarded-proto", "https"),
            ("x-original-url", "/admin"),
            ("x-rewrite-url", "/admin"),
            ("x-app", "kept"),
        ],
        None,
    )
    .await;
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.header_all("x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(
        seen.header("x-forwarded-host"),
        Some(format!("app.localhost:{}", e.port).as_str())
    );
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    assert!(seen.header("x-original-url").is_none() && seen.header("x-rewrite-url").is_none());
    assert_eq!(seen.header("x-app"), Some("kept"));
}

#[tokio::test]
async fn connection_cannot_delete_identity_headers_and_hop_by_hop_headers_stop_here() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    e.ua.send(
        reqwest::Method::GET,
        &e.url("/x"),
        &[
            ("connection", "keep-alive, ngrok-auth-user-email, x-secret"),
            ("x-secret", "1"),
            ("keep-alive", "timeout=5"),
        ],
        None,
    )
    .await;
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.header("ngrok-auth-user-email"), Some("alice@example.com"));
    assert!(seen.header("x-secret").is_none() && seen.header("keep-alive").is_none());
}

#[tokio::test]
async fn request_bodies_stream_through_and_upstream_cookies_survive() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let big = "z".repeat(2 * 1024 * 1024);
    e.ua.set_cookie("app.localhost", "app_pref", "dark");
    let hop =
        e.ua.send(
            reqwest::Method::POST,
            &e.url("/upload"),
            &[("content-type", "text/plain")],
            Some(big.clone()),
        )
        .await;
    assert_eq!(hop.status, 200);
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.body.len(), big.len());
    assert_eq!(
        seen.header("cookie"),
        Some("app_pref=dark"),
        "the app's cookie, not the gateway's"
    );
}

#[tokio::test]
async fn websocket_upgrades_pass_through() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let session = e.ua.cookie("app.localhost", "session").unwrap().value;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", e.port))
        .await
        .unwrap();
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: app.localhost:{}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: session={session}\r\n\r\n",
        e.port
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s.write_all(b"ping over the upgraded connection").await.unwrap();
    let mut echo = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut echo))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&echo[..n], b"ping over the upgraded connection");
    assert_eq!(
        e.upstream.last().unwrap().header("ngrok-auth-user-email"),
        Some("alice@example.com")
    );
}

#[tokio::test]
async fn an_unauthenticated_upgrade_never_reaches_the_upstream() {
    let e = env(ProviderKind::Github).start().await;
    let hop =
        e.ua.send(
            reqwest::Method::GET,
            &e.url("/ws"),
            &[("connection", "upgrade"), ("upgrade", "websocket")],
            None,
        )
        .await;
    assert_eq!(hop.status, 401, "an upgrade cannot follow a login redirect");
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn managed_apps_log_in_without_own_credentials_and_send_no_tokens_upstream() {
    let e = env(ProviderKind::Github).managed_app().start().await;
    e.logged_in("/").await;
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.header("ngrok-auth-user-email"), Some("alice@example.com"));
    assert!(seen.header("ngrok-auth-oauth-access-token").is_none());
    assert!(seen.header("ngrok-auth-oauth-refresh-token").is_none());
}

#[tokio::test]
async fn the_upstream_being_down_is_a_502_page() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let mut cfg = e.config.clone();
    cfg.endpoints[0].upstream = format!("http://127.0.0.1:{}", crate::support::free_port());
    e.gw.reload(ref_gateway::config::validate(cfg).unwrap());
    let hop = e.ua.get(&e.url("/x")).await;
    assert_eq!(
        (hop.status, hop.header("x-gateway-error")),
        (502, Some("upstream_unavailable")),
        "{}",
        hop.body
    );
}
