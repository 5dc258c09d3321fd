//! Continuous authorization (auth check interval), configuration reload, inactivity timeout,
//! maximum duration and options passthrough — with the fake clocks.

use std::time::Duration;

use mock_idp::{Endpoint, Outcome, RefreshRotation, UserPatch};
use ref_gateway::ProviderKind;

use ref_gateway::events::Decision;

use crate::support::{describe, env};

const MIN: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_email_changed_at_the_idp_is_noticed_after_the_auth_check_interval() {
    let e = env(ProviderKind::Google)
        .oauth(|o| {
            o.allow_domains = vec!["example.com".into()];
            o.auth_check_interval = Some(5 * MIN);
        })
        .start()
        .await;
    e.logged_in("/").await;
    e.idp.update_user(
        "alice",
        UserPatch {
            email: Some(Some("alice@other.example".into())),
            ..Default::default()
        },
    );
    e.advance(4 * MIN);
    assert_eq!(
        e.ua.get(&e.url("/a")).await.status,
        200,
        "before the interval: no check"
    );
    e.idp.expect(Endpoint::Refresh).times(1);
    e.advance(2 * MIN);
    let hop = e.ua.get(&e.url("/b")).await;
    assert_eq!(
        (hop.status, hop.header("x-gateway-error")),
        (403, Some("unauthorized")),
        "{}",
        hop.body
    );
    assert!(hop.body.contains("auth/authn"), "retry link");
    assert_eq!(e.upstream.seen().iter().filter(|s| s.path == "/b").count(), 0);
    assert!(
        e.ua.cookie("app.localhost", "session").is_none(),
        "the session cookie is cleared"
    );
    let event = e.event_for("/b").await;
    assert_eq!((event.decision, event.status), (Decision::Block, 403));
    assert_eq!(
        event.user_id.as_deref(),
        Some(e.idp.provider_user_id("alice").unwrap().as_str())
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_sends_the_user_through_login_again() {
    let e = env(ProviderKind::Gitlab)
        .oauth(|o| o.auth_check_interval = Some(MIN))
        .start()
        .await;
    e.logged_in("/").await;
    e.idp.on_refresh().respond(Outcome::RefreshRevoked);
    e.advance(2 * MIN);
    let hop = e.ua.get(&e.url("/again")).await;
    assert_eq!(hop.status, 302);
    assert!(
        hop.location
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with(e.idp.base_url()),
        "to the IdP: {:?}",
        hop.location
    );
    assert!(
        hop.set_cookies
            .iter()
            .any(|c| c.starts_with("session=") && c.contains("Max-Age=0"))
    );
}

#[tokio::test]
async fn rotated_refresh_tokens_are_followed_and_the_new_one_reaches_the_upstream() {
    let e = env(ProviderKind::Gitlab)
        .oauth(|o| o.auth_check_interval = Some(MIN))
        .idp(|b| {
            b.client(
                mock_idp::Client::confidential("mock-client", "mock-secret")
                    .redirect_uri("http://placeholder.invalid/")
                    .refresh_rotation(RefreshRotation::Rotate),
            )
        })
        .start()
        .await;
    // The builder's own client replaced the default one: register the callback on it.
    let mut c = mock_idp::Client::confidential("mock-client", "mock-secret")
        .refresh_rotation(RefreshRotation::Rotate);
    c.redirect_uris = vec![format!("{}/oauth2/callback", e.origin)];
    e.idp.add_client(c).unwrap();
    e.logged_in("/").await;
    let first = e
        .upstream
        .last()
        .unwrap()
        .header("ngrok-auth-oauth-refresh-token")
        .unwrap()
        .to_owned();
    for round in 0..3 {
        e.advance(2 * MIN);
        let hop = e.ua.get(&e.url(&format!("/r{round}"))).await;
        assert_eq!(hop.status, 200, "round {round}: {}", hop.body);
    }
    let last = e
        .upstream
        .last()
        .unwrap()
        .header("ngrok-auth-oauth-refresh-token")
        .unwrap()
        .to_owned();
    assert_ne!(first, last, "the rotated refresh token is the one in use");
    assert_eq!(e.idp.requests_to(Endpoint::Refresh).len(), 3);
}

#[tokio::test]
async fn with_no_interval_the_idp_is_never_asked_again() {
    let e = env(ProviderKind::Google).start().await;
    e.logged_in("/").await;
    e.idp.expect(Endpoint::Refresh).never();
    e.idp.expect(Endpoint::Userinfo).times(1);
    e.advance(Duration::from_secs(24 * 3600));
    for i in 0..3 {
        assert_eq!(e.ua.get(&e.url(&format!("/{i}"))).await.status, 200);
    }
}

#[tokio::test]
async fn a_configuration_change_re_evaluates_existing_sessions() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let mut narrower = e.config.clone();
    narrower.endpoints[0].oauth.allow_domains = vec!["acme.org".into()];
    e.gw.reload(ref_gateway::config::validate(narrower).unwrap());
    let hop = e.ua.get(&e.url("/after-reload")).await;
    assert_eq!(
        (hop.status, hop.header("x-gateway-error")),
        (403, Some("unauthorized"))
    );
    assert!(e.upstream.seen().iter().all(|s| s.path != "/after-reload"));
}

#[tokio::test]
async fn inactivity_timeout_and_maximum_duration() {
    let e = env(ProviderKind::Github)
        .oauth(|o| o.inactivity_timeout = Some(10 * MIN))
        .start()
        .await;
    e.logged_in("/").await;
    for _ in 0..3 {
        e.advance(9 * MIN);
        assert_eq!(
            e.ua.get(&e.url("/active")).await.status,
            200,
            "activity keeps the session alive"
        );
    }
    e.advance(11 * MIN);
    let hop = e.ua.get(&e.url("/idle")).await;
    assert_eq!(hop.status, 302, "idle too long: login again");
    assert_eq!(e.upstream.seen().iter().filter(|s| s.path == "/idle").count(), 0);

    let e = env(ProviderKind::Github)
        .oauth(|o| o.max_duration = Some(60 * MIN))
        .start()
        .await;
    e.logged_in("/").await;
    for _ in 0..5 {
        e.advance(11 * MIN);
        assert_eq!(e.ua.get(&e.url("/busy")).await.status, 200);
    }
    e.advance(6 * MIN);
    assert_eq!(
        e.ua.get(&e.url("/late")).await.status,
        302,
        "no session outlives the maximum duration"
    );
}

#[tokio::test]
async fn options_passthrough_forwards_only_real_preflights_without_identity() {
    let e = env(ProviderKind::Github)
        .oauth(|o| o.options_passthrough = true)
        .start()
        .await;
    let preflight =
        e.ua.send(
            reqwest::Method::OPTIONS,
            &e.url("/api"),
            &[
                ("origin", "https://spa.example"),
                ("access-control-request-method", "POST"),
                ("ngrok-auth-user-email", "forged@x.y"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, 200);
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.method, "OPTIONS");
    assert!(
        seen.headers.iter().all(|(k, _)| !k.starts_with("ngrok-auth-")),
        "{:?}",
        seen.headers
    );
    let event = e.event_for("/api").await;
    assert_eq!(
        (event.decision, event.method.as_str(), event.user_id),
        (Decision::Allow, "OPTIONS", None),
        "forwarded, with no user"
    );
    let plain =
        e.ua.send(reqwest::Method::OPTIONS, &e.url("/api"), &[], None)
            .await;
    assert_eq!(
        plain.status, 401,
        "an OPTIONS that is not a preflight is not exempt"
    );
    assert_eq!(e.event_for("/api").await.decision, Decision::Block);
    let e = env(ProviderKind::Github).start().await;
    let off =
        e.ua.send(
            reqwest::Method::OPTIONS,
            &e.url("/api"),
            &[
                ("origin", "https://spa.example"),
                ("access-control-request-method", "POST"),
            ],
            None,
        )
        .await;
    assert_eq!(off.status, 401, "passthrough off: authentication required");
    assert_eq!(e.upstream.count(), 0, "{}", describe(&[off]));
}

#[tokio::test]
async fn an_idp_outage_during_the_auth_check_fails_closed_and_the_session_survives_it() {
    let e = env(ProviderKind::Gitlab)
        .oauth(|o| o.auth_check_interval = Some(MIN))
        .start()
        .await;
    e.logged_in("/").await;
    e.idp.on_refresh().times(2).respond(Outcome::ServerError);
    e.advance(2 * MIN);
    let hop = e.ua.get(&e.url("/during-outage")).await;
    assert_eq!(
        (hop.status, hop.header("x-gateway-error")),
        (503, Some("idp_unavailable")),
        "{}",
        hop.body
    );
    assert!(
        e.upstream.seen().iter().all(|s| s.path != "/during-outage"),
        "fail closed"
    );
    assert!(
        e.ua.cookie("app.localhost", "session").is_some(),
        "the session is kept"
    );
    assert_eq!(e.event_for("/during-outage").await.decision, Decision::Block);
    // The IdP answers again: the same session goes on without a new login.
    let _ = e.ua.get(&e.url("/still-out")).await;
    let hop = e.ua.get(&e.url("/after-outage")).await;
    assert_eq!(hop.status, 200, "{}", hop.body);
    assert_eq!(e.idp.requests_to(Endpoint::Authorize).len(), 1, "no second login");
}

#[tokio::test]
async fn concurrent_requests_due_for_a_check_share_one_refresh() {
    let e = env(ProviderKind::Gitlab)
        .oauth(|o| o.auth_check_interval = Some(MIN))
        .start()
        .await;
    e.logged_in("/").await;
    e.advance(2 * MIN);
    let requests = (0..8).map(|i| {
        let ua = e.ua.clone();
        let url = e.url(&format!("/parallel/{i}"));
        async move { ua.get(&url).await.status }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        e.idp.requests_to(Endpoint::Refresh).len(),
        1,
        "single-flight auth check"
    );
}

#[tokio::test]
async fn with_options_passthrough_no_options_request_carries_identity_even_when_logged_in() {
    let e = env(ProviderKind::Github)
        .oauth(|o| o.options_passthrough = true)
        .start()
        .await;
    e.logged_in("/").await;
    let hop =
        e.ua.send(reqwest::Method::OPTIONS, &e.url("/api"), &[], None)
            .await;
    assert_eq!(hop.status, 200);
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.method, "OPTIONS");
    assert!(
        seen.headers.iter().all(|(k, _)| !k.starts_with("ngrok-auth-")),
        "{:?}",
        seen.headers
    );
    let get = e.ua.get(&e.url("/api")).await;
    assert_eq!(get.status, 200);
    assert!(
        e.upstream
            .last()
            .unwrap()
            .header("ngrok-auth-user-email")
            .is_some()
    );
}
