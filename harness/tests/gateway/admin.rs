//! The App Users admin API: its own listener, a bearer token, users with last access and
//! sessions, revoking a user's sessions, and monthly active users by IdP user id across
//! endpoints.

use std::time::Duration;

use mock_idp::{Outcome, User};
use ref_gateway::ProviderKind;
use ref_gateway::config::EndpointFile;
use reqwest::Method;

use crate::support::{Env, env};

async fn login_as(e: &Env, ua: &gatecheck::UserAgent, origin: &str, user: &str) -> u16 {
    e.idp.on_authorize().respond(Outcome::approve(user));
    ua.follow(&format!("{origin}/")).await.last().unwrap().status
}

#[tokio::test]
async fn the_admin_api_needs_its_token_and_lives_on_its_own_listener() {
    let e = env(ProviderKind::Github).admin().start().await;
    let addr = e.gw.admin_addr().unwrap();
    assert_ne!(addr.port(), e.port, "a separate listener");
    let client = reqwest::Client::new();
    for auth in [None, Some("Bearer wrong-token"), Some("Basic YWRtaW46YWRtaW4=")] {
        let mut req = client.get(format!("http://{addr}/app_users"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    }
    let health = client.get(format!("http://{addr}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // The admin API is not reachable through the public listener.
    let hop = e.ua.get(&e.url("/app_users")).await;
    assert_eq!(hop.status, 302, "an ordinary protected path there");
}

#[tokio::test]
async fn users_are_listed_with_last_access_and_sessions_and_no_tokens() {
    let e = env(ProviderKind::Github)
        .admin()
        .user(User::new("bob").name("Bob").email("bob@example.com"))
        .start()
        .await;
    let (alice, bob) = (gatecheck::UserAgent::new(), gatecheck::UserAgent::new());
    assert_eq!(login_as(&e, &alice, &e.origin, "alice").await, 200);
    e.advance(Duration::from_secs(90));
    assert_eq!(login_as(&e, &bob, &e.origin, "bob").await, 200);
    assert_eq!(alice.get(&e.url("/later")).await.status, 200);

    let (status, body) = e.admin(Method::GET, "/app_users").await;
    assert_eq!(status, 200);
    let users = body.as_array().unwrap();
    assert_eq!(users.len(), 2, "{body:#}");
    let a = users.iter().find(|u| u["email"] == "alice@example.com").unwrap();
    let b = users.iter().find(|u| u["email"] == "bob@example.com").unwrap();
    assert_eq!(a["user_id"], e.idp.provider_user_id("alice").unwrap());
    assert_eq!(a["provider"], "github");
    assert_eq!(a["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(a["endpoints"][0], format!("app.localhost:{}", e.port));
    let last_access = |u: &serde_json::Value| u["last_access"].as_u64().unwrap();
    assert!(
        last_access(a) >= last_access(b),
        "alice came back after bob logged in: {body:#}"
    );
    assert!(a["first_seen"].as_u64().unwrap() < last_access(a));
    let text = body.to_string();
    for seen in e.upstream.seen() {
        let token = seen.header("ngrok-auth-oauth-access-token").unwrap();
        assert!(!text.contains(token), "the admin API never shows a token");
    }
}

#[tokio::test]
async fn revoking_a_user_makes_their_next_request_log_in_again() {
    let e = env(ProviderKind::Github)
        .admin()
        .user(User::new("bob").email("bob@example.com"))
        .start()
        .await;
    // Alice on a laptop and a phone: two sessions.
    let (laptop, phone, bob) = (
        gatecheck::UserAgent::new(),
        gatecheck::UserAgent::new(),
        gatecheck::UserAgent::new(),
    );
    assert_eq!(login_as(&e, &laptop, &e.origin, "alice").await, 200);
    assert_eq!(login_as(&e, &phone, &e.origin, "alice").await, 200);
    assert_eq!(login_as(&e, &bob, &e.origin, "bob").await, 200);
    let (_, users) = e.admin(Method::GET, "/app_users").await;
    let key = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "alice@example.com")
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = e
        .admin(Method::DELETE, &format!("/app_users/{key}/sessions"))
        .await;
    assert_eq!(
        (status, body["revoked_sessions"].as_u64()),
        (200, Some(2)),
        "{body}"
    );
    for alice in [&laptop, &phone] {
        let hop = alice.get(&e.url("/after-revoke")).await;
        assert_eq!(hop.status, 302, "alice must log in again");
        assert!(hop.location.unwrap().as_str().starts_with(e.idp.base_url()));
    }
    assert_eq!(bob.get(&e.url("/still-in")).await.status, 200, "bob is untouched");
    assert!(e.upstream.seen().iter().all(|s| s.path != "/after-revoke"));
    let (status, body) = e.admin(Method::DELETE, "/app_users/github:nobody/sessions").await;
    assert_eq!((status, body["revoked_sessions"].as_u64()), (200, Some(0)));
}

#[tokio::test]
async fn mau_counts_idp_user_ids_per_calendar_month_across_endpoints() {
    let e = env(ProviderKind::Github)
        .admin()
        .central_callback()
        .user(User::new("bob").email("bob@example.com"))
        .start()
        .await;
    // A second endpoint on the same gateway, same provider.
    let other = format!("http://two.localhost:{}", e.port);
    let mut config = e.config.clone();
    let first = config.endpoints[0].clone();
    config.endpoints.push(EndpointFile {
        url: other.clone(),
        ..first
    });
    e.gw.reload(ref_gateway::config::validate(config).unwrap());

    let alice = gatecheck::UserAgent::new();
    assert_eq!(login_as(&e, &alice, &e.origin, "alice").await, 200);
    assert_eq!(login_as(&e, &alice, &other, "alice").await, 200);
    let bob = gatecheck::UserAgent::new();
    assert_eq!(login_as(&e, &bob, &other, "bob").await, 200);
    let (status, body) = e.admin(Method::GET, "/mau").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["monthly_active_users"], 2,
        "alice on two endpoints counts once: {body}"
    );
    let month = body["month"].as_str().unwrap().to_owned();

    // Next month only those who come back count; the old month keeps its figure.
    e.advance(Duration::from_secs(32 * 24 * 3600));
    let (_, next) = e.admin(Method::GET, "/mau").await;
    assert_ne!(next["month"], month);
    assert_eq!(next["monthly_active_users"], 0);
    assert_eq!(login_as(&e, &bob, &other, "bob").await, 200);
    let (_, next) = e.admin(Method::GET, "/mau").await;
    assert_eq!(next["monthly_active_users"], 1);
    let (_, old) = e.admin(Method::GET, &format!("/mau?month={month}")).await;
    assert_eq!(old["monthly_active_users"], 2);
    let (status, err) = e.admin(Method::GET, "/mau?month=November").await;
    assert_eq!(status, 400);
    assert!(err["error"].as_str().unwrap().contains("2026-11"), "{err}");
}
