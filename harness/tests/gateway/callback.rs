//! The callback: central callback origin with a one-time hand-off bound to the nonce cookie,
//! single use of state and tickets, strict parameters, RFC 9207, login CSRF.

use mock_idp::{AuthorizeResponseChange, Endpoint, Outcome, Severity};
use ref_gateway::ProviderKind;

use crate::support::{describe, env};

#[tokio::test]
async fn the_central_callback_hands_the_login_back_to_the_endpoint() {
    let e = env(ProviderKind::Google).central_callback().start().await;
    let hops = e.logged_in("/deep?x=1").await;
    let urls: Vec<String> = hops.iter().map(|h| h.url.to_string()).collect();
    assert!(
        urls.iter()
            .any(|u| u.starts_with(&format!("http://login.localhost:{}/oauth2/callback", e.port))),
        "{}",
        describe(&hops)
    );
    assert!(
        urls.iter().any(|u| u.contains("/auth/handoff?ticket=")),
        "{}",
        describe(&hops)
    );
    assert_eq!(e.upstream.last().unwrap().query.as_deref(), Some("x=1"));
    assert!(
        e.ua.cookie("login.localhost", "session").is_none(),
        "no session on the callback origin"
    );
    // The authorize request named the central callback.
    let authz = e.idp.requests_to(Endpoint::Authorize);
    let redirect = authz[0]
        .params
        .iter()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .clone();
    assert_eq!(
        redirect,
        format!("http://login.localhost:{}/oauth2/callback", e.port)
    );
}

#[tokio::test]
async fn a_handoff_ticket_works_once_and_only_in_the_browser_that_started() {
    let e = env(ProviderKind::Github).central_callback().start().await;
    let start = e.ua.get(&e.url("/")).await;
    let idp = e.ua.get(start.location.unwrap().as_str()).await;
    let callback = e.ua.get(idp.location.unwrap().as_str()).await;
    let handoff = callback.location.clone().unwrap();
    assert!(handoff.path().ends_with("/auth/handoff"));
    // Another browser with the ticket: refused, and the ticket is spent.
    let attacker = gatecheck::UserAgent::new();
    let stolen = attacker.get(handoff.as_str()).await;
    assert_eq!(
        (stolen.status, stolen.header("x-gateway-error")),
        (400, Some("browser_mismatch"))
    );
    assert!(attacker.cookie("app.localhost", "session").is_none());
    let late = e.ua.get(handoff.as_str()).await;
    assert_eq!(
        (late.status, late.header("x-gateway-error")),
        (400, Some("login_expired")),
        "one-time"
    );
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn a_callback_is_single_use_and_replaying_it_does_not_redeem_the_code_again() {
    let e = env(ProviderKind::Gitlab).start().await;
    let hops = e.logged_in("/reports?q=1").await;
    let callback = hops
        .iter()
        .find(|h| h.url.path() == "/oauth2/callback")
        .unwrap()
        .url
        .clone();
    // The back button in the browser that logged in: back to the page, not an error.
    let replay = e.ua.get(callback.as_str()).await;
    assert_eq!(
        (replay.status, replay.location.as_ref().map(|u| u.to_string())),
        (302, Some(e.url("/reports?q=1")))
    );
    assert!(
        replay.set_cookies.iter().all(|c| !c.starts_with("session=")),
        "no new session"
    );
    // Any other browser: an error, and no session.
    let other = gatecheck::UserAgent::new().get(callback.as_str()).await;
    assert_eq!(
        (other.status, other.header("x-gateway-error")),
        (400, Some("login_expired"))
    );
    assert_eq!(
        e.idp.requests_to(Endpoint::Token).len(),
        1,
        "the code was redeemed exactly once"
    );
}

#[tokio::test]
async fn login_csrf_a_callback_from_another_browser_is_refused_before_any_token_call() {
    let e = env(ProviderKind::Github).start().await;
    // The attacker starts a login and stops at the callback URL…
    let attacker = gatecheck::UserAgent::new();
    let start = attacker.get(&e.url("/")).await;
    let idp = attacker.get(start.location.unwrap().as_str()).await;
    let callback = idp.location.unwrap();
    // …and makes the victim's browser open it.
    let hop = e.ua.get(callback.as_str()).await;
    assert_eq!(
        (hop.status, hop.header("x-gateway-error")),
        (400, Some("browser_mismatch"))
    );
    assert!(e.ua.cookie("app.localhost", "session").is_none());
    assert_eq!(e.idp.requests_to(Endpoint::Token).len(), 0);
}

#[tokio::test]
async fn state_problems_and_duplicate_parameters_are_400_without_token_calls() {
    let e = env(ProviderKind::Github).start().await;
    for query in [
        "code=abc",
        "code=abc&state=unknown",
        "code=a&code=b&state=s",
        "state=s&state=t&code=a",
        "error=access_denied",
    ] {
        let hop = e.ua.get(&e.url(&format!("/oauth2/callback?{query}"))).await;
        assert_eq!(hop.status, 400, "{query}: {}", hop.body);
        assert_eq!(hop.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(hop.header("cache-control"), Some("no-store"));
    }
    e.idp.on_authorize().respond(Outcome::AuthorizeResponse {
        change: AuthorizeResponseChange::InvalidState,
    });
    let last = e.login("/").await.pop().unwrap();
    assert_eq!(last.status, 400, "a state the gateway never issued");
    assert_eq!(e.idp.requests_to(Endpoint::Token).len(), 0);
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn rfc_9207_iss_on_the_callback_must_be_the_issuer() {
    let e = env(ProviderKind::Google).start().await;
    e.idp.on_authorize().respond(Outcome::AuthorizeResponse {
        change: AuthorizeResponseChange::InvalidIss,
    });
    let last = e.login("/").await.pop().unwrap();
    assert_eq!(
        (last.status, last.header("x-gateway-error")),
        (401, Some("idp_invalid")),
        "{}",
        last.body
    );
    assert_eq!(
        e.idp.requests_to(Endpoint::Token).len(),
        0,
        "mix-up defence: no code redeemed"
    );
}

#[tokio::test]
async fn the_authorization_request_carries_state_pkce_nonce_and_the_configured_redirect() {
    let e = env(ProviderKind::Google).start().await;
    let hop =
        e.ua.send(reqwest::Method::GET, &e.url("/"), &[("host", "evil.test")], None)
            .await;
    assert_eq!(hop.status, 404, "an unknown Host is not served");
    e.login("/").await;
    let req = &e.idp.requests_to(Endpoint::Authorize)[0];
    let p = |k: &str| req.params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert!(p("state").unwrap().len() >= 43);
    assert_eq!(p("code_challenge_method").as_deref(), Some("S256"));
    assert!(p("nonce").unwrap().len() >= 43);
    assert_eq!(p("redirect_uri"), Some(format!("{}/oauth2/callback", e.origin)));
    // Plain-http loopback redirect URIs are reported as Info only; anything stronger is a gateway bug.
    let mistakes: Vec<_> = e
        .idp
        .findings()
        .into_iter()
        .filter(|f| f.severity > Severity::Info)
        .collect();
    assert!(
        mistakes.is_empty(),
        "the mock found client mistakes: {mistakes:?}"
    );
}

#[tokio::test]
async fn two_tabs_logging_in_at_once_both_succeed() {
    let e = env(ProviderKind::Github).start().await;
    let a = e.ua.get(&e.url("/tab-a")).await;
    let b = e.ua.get(&e.url("/tab-b")).await;
    let finish = |start: gatecheck::Hop| {
        let ua = e.ua.clone();
        async move { ua.follow(start.location.unwrap().as_str()).await }
    };
    let hops_b = finish(b).await;
    let hops_a = finish(a).await;
    assert_eq!(hops_a.last().unwrap().status, 200, "{}", describe(&hops_a));
    assert_eq!(hops_b.last().unwrap().status, 200, "{}", describe(&hops_b));
    let paths: Vec<String> = e.upstream.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/tab-b", "/tab-a"]);
}

#[tokio::test]
async fn a_session_cookie_from_another_endpoint_is_no_session() {
    let e = env(ProviderKind::Github).central_callback().start().await;
    // A second endpoint on the same gateway, same provider and client.
    let other = format!("http://two.localhost:{}", e.port);
    let mut config = e.config.clone();
    let first = config.endpoints[0].clone();
    config.endpoints.push(ref_gateway::config::EndpointFile {
        url: other.clone(),
        ..first
    });
    e.gw.reload(ref_gateway::config::validate(config).unwrap());
    e.logged_in("/").await;
    let cookie =
        e.ua.cookie("app.localhost", "session")
            .expect("a session on the first endpoint");
    // The same value presented to the other endpoint (a sibling that can read or set cookies
    // for it, or a user who copies it) opens nothing there.
    let intruder = gatecheck::UserAgent::new();
    intruder.set_cookie("two.localhost", "session", &cookie.value);
    let before = e.upstream.seen().len();
    let hop = intruder.get(&format!("{other}/private")).await;
    assert_eq!(
        hop.status, 302,
        "sent to log in: {} {:?}",
        hop.status, hop.location
    );
    assert_ne!(
        hop.location.as_ref().and_then(|l| l.host_str()),
        Some("two.localhost"),
        "to the IdP"
    );
    assert_eq!(e.upstream.seen().len(), before, "nothing reached the application");
    // And the first endpoint still honours it.
    assert_eq!(e.ua.get(&e.url("/still")).await.status, 200);
}

/// Checklist 60: one browser's pending logins are bounded; starting more drops its oldest.
async fn pending_logins_are_bounded_per_browser(e: &crate::support::Env) {
    let n = ref_gateway::session::MAX_PENDING_LOGINS_PER_BROWSER + 4;
    let mut to_idp = Vec::new();
    for i in 0..n {
        let hop = e.ua.get(&e.url(&format!("/p/{i}"))).await;
        to_idp.push(hop.location.expect("a login redirect"));
    }
    let finish = |at: url::Url| async move {
        e.idp.on_authorize().respond(Outcome::approve("alice"));
        let back =
            e.ua.get(at.as_str())
                .await
                .location
                .expect("the IdP redirects back");
        e.ua.get(back.as_str()).await
    };
    let before = e.idp.requests_to(Endpoint::Token).len();
    // The oldest ones were dropped: their callbacks redeem nothing.
    let first = finish(to_idp[0].clone()).await;
    assert_eq!(first.status, 400, "the oldest login was dropped: {}", first.body);
    assert_eq!(
        e.idp.requests_to(Endpoint::Token).len(),
        before,
        "no code redeemed"
    );
    // The newest one completes.
    let last = finish(to_idp[n - 1].clone()).await;
    assert_eq!(last.status, 302, "{}", last.body);
    assert_eq!(last.location.unwrap().path(), format!("/p/{}", n - 1));
    // Another browser is not affected by this one's logins.
    let other = gatecheck::UserAgent::new();
    e.idp.on_authorize().respond(Outcome::approve("alice"));
    let hops = other.follow(&e.url("/mine")).await;
    assert_eq!(hops.last().unwrap().status, 200);
}

#[tokio::test]
async fn pending_logins_are_bounded_per_browser_in_memory() {
    let e = env(ProviderKind::Github).start().await;
    pending_logins_are_bounded_per_browser(&e).await;
}

#[tokio::test]
async fn pending_logins_are_bounded_per_browser_in_redis() {
    let Some(bin) =
        gatecheck::system::require("redis-server", "redis-server", "per-browser login cap in Redis")
    else {
        return;
    };
    let redis = gatecheck::redis::RedisServer::start(&bin).expect("redis-server starts");
    let e = env(ProviderKind::Github).redis(&redis.url()).start().await;
    pending_logins_are_bounded_per_browser(&e).await;
}

/// Checklist 64: a finished login's state — as it is, or spelled as the key a store might
/// keep it under — is never a login in flight: a leaked code sent with it redeems nothing.
async fn finished_states_are_not_logins_in_flight(e: &crate::support::Env) {
    // The attacker's own login finishes; its state is a finished one now.
    let hops = e.logged_in("/").await;
    let finished = hops[0]
        .location
        .as_ref()
        .and_then(|l| {
            l.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        })
        .expect("the login redirect has a state");
    // The victim's code leaks before she uses it.
    let victim = gatecheck::UserAgent::new();
    let start = victim.get(&e.url("/victim")).await;
    e.idp.on_authorize().respond(Outcome::approve("bob"));
    let back = victim
        .get(start.location.unwrap().as_str())
        .await
        .location
        .expect("the IdP redirects back");
    let before = e.idp.requests_to(Endpoint::Token).len();
    for state in [finished.clone(), format!("done:{finished}")] {
        let mut url = back.clone();
        let pairs: Vec<(String, String)> = back
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    state.clone()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        let hop = e.ua.get(url.as_str()).await;
        assert!(
            hop.set_cookies.iter().all(|c| !c.starts_with("session=")),
            "state {state:?} gave a session: {} {}",
            hop.status,
            hop.body
        );
    }
    assert_eq!(
        e.idp.requests_to(Endpoint::Token).len(),
        before,
        "no leaked code was redeemed"
    );
    // The victim's own login is untouched.
    let mine = victim.get(back.as_str()).await;
    assert_eq!(mine.status, 302, "{}", mine.body);
    assert!(
        e.upstream
            .seen()
            .iter()
            .all(|s| s.header("ngrok-auth-user-email") != Some("bob@example.com"))
    );
}

#[tokio::test]
async fn finished_states_are_not_logins_in_flight_in_memory() {
    let e = env(ProviderKind::Linkedin)
        .user(mock_idp::User::new("bob").email("bob@example.com"))
        .start()
        .await;
    finished_states_are_not_logins_in_flight(&e).await;
}

#[tokio::test]
async fn finished_states_are_not_logins_in_flight_in_redis() {
    let Some(bin) = gatecheck::system::require("redis-server", "redis-server", "finished logins in Redis")
    else {
        return;
    };
    let redis = gatecheck::redis::RedisServer::start(&bin).expect("redis-server starts");
    let e = env(ProviderKind::Linkedin)
        .user(mock_idp::User::new("bob").email("bob@example.com"))
        .redis(&redis.url())
        .start()
        .await;
    finished_states_are_not_logins_in_flight(&e).await;
}

/// The `nonce` cookie value a response sets, if any.
fn binding_set(set_cookies: &[String]) -> Option<String> {
    set_cookies
        .iter()
        .find_map(|c| c.strip_prefix("nonce="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// Only a browser binding the gateway minted is adopted: a value the client made up (or
/// one planted in a victim's browser) is replaced, so a login started with it is bound to a
/// value the planter does not know.
async fn only_minted_bindings_are_adopted(e: &crate::support::Env) {
    let made_up = "A".repeat(43);
    let port = e.port;
    let ask = |cookie: Option<String>| async move {
        let mut r = gatecheck::raw::RawRequest::new("GET", "/page", &format!("app.localhost:{port}"))
            .header("accept", "text/html")
            .header("connection", "close");
        if let Some(c) = cookie {
            r = r.header("cookie", &c);
        }
        r.send(port, std::time::Duration::from_secs(10)).await.unwrap()
    };
    let first = ask(Some(format!("nonce={made_up}"))).await;
    assert_eq!(first.status, 302);
    let minted = binding_set(&first.set_cookies).expect("a binding is set");
    assert_ne!(minted, made_up, "a made-up binding is replaced");
    // A minted one is kept (another tab of the same browser).
    let again = ask(Some(format!("nonce={minted}"))).await;
    assert_eq!(binding_set(&again.set_cookies), Some(minted));
}

#[tokio::test]
async fn only_minted_bindings_are_adopted_in_memory() {
    let e = env(ProviderKind::Github).start().await;
    only_minted_bindings_are_adopted(&e).await;
}

#[tokio::test]
async fn only_minted_bindings_are_adopted_in_redis() {
    let Some(bin) = gatecheck::system::require("redis-server", "redis-server", "browser bindings in Redis")
    else {
        return;
    };
    let redis = gatecheck::redis::RedisServer::start(&bin).expect("redis-server starts");
    let e = env(ProviderKind::Github).redis(&redis.url()).start().await;
    only_minted_bindings_are_adopted(&e).await;
}

#[tokio::test]
async fn a_binding_planted_in_a_victims_browser_does_not_make_a_login_csrf() {
    let e = env(ProviderKind::Github).start().await;
    // The attacker starts a login with a binding of her choosing…
    let planted = "B".repeat(43);
    let attacker = gatecheck::UserAgent::new();
    let start = attacker
        .send(
            reqwest::Method::GET,
            &e.url("/"),
            &[("cookie", &format!("nonce={planted}")), ("accept", "text/html")],
            None,
        )
        .await;
    e.idp.on_authorize().respond(Outcome::approve("alice"));
    let callback = attacker
        .get(start.location.unwrap().as_str())
        .await
        .location
        .unwrap();
    // …plants the same value in the victim's browser and sends her the callback.
    let victim = gatecheck::UserAgent::new();
    let hop = victim
        .send(
            reqwest::Method::GET,
            callback.as_str(),
            &[("cookie", &format!("nonce={planted}"))],
            None,
        )
        .await;
    assert_eq!(
        (hop.status, hop.header("x-gateway-error")),
        (400, Some("browser_mismatch"))
    );
    assert_eq!(e.idp.requests_to(Endpoint::Token).len(), 0);
}
