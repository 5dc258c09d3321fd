//! `/auth/authn`, `/auth/logout`, and the reserved `/auth/` prefix in every spelling.

use mock_idp::Endpoint;
use ref_gateway::ProviderKind;

use crate::support::{describe, env};

#[tokio::test]
async fn authn_forces_reauthentication_where_the_provider_supports_it_and_lands_on_root() {
    for (provider, param) in [
        (ProviderKind::Google, ("prompt", "select_account")),
        (ProviderKind::Microsoft, ("prompt", "login")),
        (ProviderKind::Gitlab, ("prompt", "login")),
        (ProviderKind::Github, ("prompt", "select_account")),
        (ProviderKind::Twitch, ("force_verify", "true")),
        (ProviderKind::Facebook, ("auth_type", "reauthenticate")),
        (ProviderKind::Generic, ("prompt", "login")),
    ] {
        let e = env(provider).start().await;
        e.logged_in("/somewhere").await;
        let hops = e.ua.follow(&e.url("/auth/authn")).await;
        assert_eq!(
            hops.last().unwrap().status,
            200,
            "{provider}: {}",
            describe(&hops)
        );
        assert_eq!(
            e.upstream.last().unwrap().path,
            "/",
            "{provider}: after /auth/authn the user lands on /"
        );
        let authz = e.idp.requests_to(Endpoint::Authorize);
        let last = authz.last().unwrap();
        assert!(
            last.params.contains(&(param.0.to_owned(), param.1.to_owned())),
            "{provider}: {:?}",
            last.params
        );
        let first = &authz[0];
        assert!(
            !first.params.iter().any(|(k, v)| k == param.0 && v == param.1),
            "{provider}: only /auth/authn forces it"
        );
    }
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_not_just_the_cookie() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let stolen = e.ua.cookie("app.localhost", "session").unwrap().value;
    let out = e.ua.get(&e.url("/auth/logout")).await;
    assert_eq!(out.status, 200);
    assert!(out.body.contains("You are logged out"));
    assert!(
        out.set_cookies
            .iter()
            .any(|c| c.starts_with("session=") && c.contains("Max-Age=0"))
    );
    assert!(e.ua.cookie("app.localhost", "session").is_none());
    let event = e.event_for("/auth/logout").await;
    assert_eq!(
        (event.decision, event.status),
        (ref_gateway::events::Decision::Block, 200),
        "gateway-answered, not forwarded"
    );
    // A copy of the old cookie no longer works.
    e.ua.set_cookie("app.localhost", "session", &stolen);
    let replay = e.ua.get(&e.url("/private")).await;
    assert_eq!(replay.status, 302, "login again");
    assert!(e.upstream.seen().iter().all(|s| s.path != "/private"));
    assert_eq!(
        e.upstream
            .seen()
            .iter()
            .filter(|s| s.path.starts_with("/auth"))
            .count(),
        0
    );
}

#[tokio::test]
async fn nothing_under_auth_reaches_the_upstream_however_it_is_spelled() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    e.upstream.clear();
    for path in [
        "/auth/anything",
        "/auth",
        "/AUTH/whatever",
        "/%61uth/x",
        "/x/../auth/y",
        "//auth/y",
        "/auth;jsessionid=1/y",
        "/auth/./y",
        "/auth%2fy",
        "/auth/%2e%2e/auth/y",
        "/auth%3B/x",
        "/auth./x",
        "/AUTH%2E/x",
        "/auth%3bfoo=1/logout",
    ] {
        let hop = e.ua.get(&e.url(path)).await;
        assert!(
            matches!(hop.status, 400 | 404),
            "{path}: {} {}",
            hop.status,
            hop.body
        );
    }
    assert_eq!(
        e.upstream.count(),
        0,
        "{:?}",
        e.upstream.seen().iter().map(|s| &s.path).collect::<Vec<_>>()
    );
    // Lookalikes outside the prefix are the app's.
    assert_eq!(e.ua.get(&e.url("/authors")).await.status, 200);
    assert_eq!(e.upstream.last().unwrap().path, "/authors");
}

#[tokio::test]
async fn paths_are_forwarded_in_the_canonical_form_the_decision_was_made_on() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    e.ua.get(&e.url("/public/../admin/%7Euser/./x")).await;
    assert_eq!(e.upstream.last().unwrap().path, "/admin/~user/x");
    let bad = e.ua.get(&e.url("/a%5cb")).await;
    assert_eq!(
        (bad.status, bad.header("x-gateway-error")),
        (400, Some("bad_path"))
    );
}

#[tokio::test]
async fn logging_in_again_ends_the_previous_session_of_that_browser() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let old = e.ua.cookie("app.localhost", "session").unwrap().value;
    let hops = e.ua.follow(&e.url("/auth/authn")).await;
    assert_eq!(hops.last().unwrap().status, 200, "{}", describe(&hops));
    let new = e.ua.cookie("app.localhost", "session").unwrap().value;
    assert_ne!(old, new, "a fresh session id after re-authentication");
    assert!(
        e.gw.store().get_session(&old).await.unwrap().is_none(),
        "the old one is gone"
    );
}
