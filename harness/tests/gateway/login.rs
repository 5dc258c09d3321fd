//! Login with every provider, the original path restored, identity headers upstream, the
//! cookies and the events.

use ref_gateway::ProviderKind;
use ref_gateway::events::Decision;

use crate::support::{describe, env};

#[tokio::test]
async fn login_with_every_provider_reaches_the_upstream_with_identity_headers() {
    for provider in ProviderKind::ALL {
        let e = env(provider).start().await;
        let hops = e.logged_in("/deep/link?x=1&y=2").await;
        let seen = e.upstream.last().unwrap();
        assert_eq!(
            (seen.path.as_str(), seen.query.as_deref()),
            ("/deep/link", Some("x=1&y=2")),
            "{provider}: {}",
            describe(&hops)
        );
        assert_eq!(
            seen.header("ngrok-auth-user-email"),
            Some("alice@example.com"),
            "{provider}"
        );
        let user_id = seen.header("ngrok-auth-user-id").unwrap_or_default();
        assert!(!user_id.is_empty(), "{provider}");
        let expected = e.idp.provider_user_id("alice").unwrap();
        if provider != ProviderKind::Microsoft {
            assert_eq!(user_id, expected, "{provider}: the provider-defined id");
        }
        assert!(
            seen.header("ngrok-auth-oauth-access-token").is_some(),
            "{provider}"
        );
        assert!(
            seen.header("cookie").is_none_or(|c| !c.contains("session=")),
            "{provider}: no gateway cookie upstream"
        );
    }
}

#[tokio::test]
async fn after_login_the_browser_lands_on_the_original_path_or_root() {
    let e = env(ProviderKind::Github).start().await;
    let hops = e.logged_in("/reports/2026?sort=desc").await;
    let landing = &hops[hops.len() - 2];
    assert_eq!(
        landing.location.as_ref().unwrap().as_str(),
        e.url("/reports/2026?sort=desc"),
        "{}",
        describe(&hops)
    );
    let e = env(ProviderKind::Github).start().await;
    let hops = e.logged_in("/").await;
    assert_eq!(hops.last().unwrap().url.path(), "/");
}

#[tokio::test]
async fn the_session_and_nonce_cookies_are_opaque_http_only_secure_lax() {
    let e = env(ProviderKind::Google).start().await;
    let first = e.ua.get(&e.url("/")).await;
    assert_eq!(first.status, 302);
    let nonce = first
        .set_cookies
        .iter()
        .find(|c| c.starts_with("nonce="))
        .expect("nonce cookie")
        .clone();
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=600"] {
        assert!(nonce.contains(attr), "{nonce}");
    }
    let hops = e.ua.follow(first.location.unwrap().as_str()).await;
    let all: Vec<&String> = hops.iter().flat_map(|h| h.set_cookies.iter()).collect();
    let session = all
        .iter()
        .find(|c| c.starts_with("session=") && !c.contains("Max-Age=0"))
        .expect("session cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Domain"), "host-only: {session}");
    assert!(
        !all.iter().any(|c| c.starts_with("nonce=")),
        "the nonce cookie is left to expire: another tab's login may be bound to it"
    );
    let value = e.ua.cookie("app.localhost", "session").unwrap().value;
    assert_eq!(value.len(), 43, "an opaque 256-bit id");
    assert!(!value.contains("alice"));
}

#[tokio::test]
async fn events_go_to_a_file_as_json_lines_with_the_seed_field_names() {
    let dir = std::env::temp_dir().join(format!("gw-events-{}", crate::support::free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.jsonl");
    let e = env(ProviderKind::Github)
        .events_to(ref_gateway::config::EventsFile::File {
            file: file.display().to_string(),
        })
        .start()
        .await;
    e.logged_in("/report").await;
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() >= 2, "{text}");
    let last = lines.last().unwrap();
    assert_eq!(last["event_type"], "http_request_complete.v0");
    assert_eq!(last["oauth.decision"], "allow");
    assert_eq!(last["oauth.app_client_id"], "mock-client");
    assert_eq!(last["oauth.user.id"], e.idp.provider_user_id("alice").unwrap());
    assert_eq!(last["oauth.user.name"], "Alice Example");
    assert_eq!(last["http.request.url.path"], "/report");
    assert_eq!(lines[0]["oauth.decision"], "block");
    assert!(
        lines[0].get("oauth.user.id").is_none(),
        "no user before login: {}",
        lines[0]
    );
    assert!(
        !text.contains("gho_") && !text.contains("session="),
        "no tokens or cookies in events"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn events_report_block_then_allow_with_the_user() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/x").await;
    let events = e.events().await;
    let first = &events[0];
    assert_eq!(
        (first.event_type, first.decision, first.status),
        ("http_request_complete.v0", Decision::Block, 302)
    );
    assert_eq!(first.app_client_id, "mock-client");
    let last = events.last().unwrap();
    assert_eq!(
        (last.decision, last.status, last.path.as_str()),
        (Decision::Allow, 200, "/x")
    );
    assert_eq!(
        last.user_id.as_deref(),
        Some(e.idp.provider_user_id("alice").unwrap().as_str())
    );
    assert_eq!(last.user_name.as_deref(), Some("Alice Example"));
}

#[tokio::test]
async fn an_https_idp_with_a_private_ca_works_without_the_plain_http_opt_out() {
    for provider in [
        ProviderKind::Google,
        ProviderKind::Github,
        ProviderKind::Microsoft,
    ] {
        let e = env(provider).idp_tls().start().await;
        assert!(e.idp.base_url().starts_with("https://"));
        assert_eq!(e.config.allow_insecure_idp_http, Some(false));
        e.logged_in("/tls").await;
        assert_eq!(
            e.upstream.last().unwrap().header("ngrok-auth-user-email"),
            Some("alice@example.com"),
            "{provider}"
        );
    }
}

#[tokio::test]
async fn an_idp_certificate_the_gateway_does_not_trust_ends_the_login_without_a_session() {
    let e = env(ProviderKind::Github).idp_tls().start().await;
    // The same gateway configuration minus the CA file.
    let mut config = e.config.clone();
    config.idp_ca_file = None;
    e.gw.reload(ref_gateway::config::validate(config).unwrap());
    let hops = e.login("/").await;
    let last = hops.last().unwrap();
    assert!(
        matches!(last.status, 502 | 503),
        "{} {}",
        describe(&hops),
        last.body
    );
    assert!(e.ua.cookie("app.localhost", "session").is_none());
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn an_https_origin_is_served_for_a_host_header_without_a_port() {
    // Behind a TLS terminator the browser sends `Host: secure.localhost` (no :443).
    let e = env(ProviderKind::Github).start().await;
    let mut config = e.config.clone();
    let mut secure = config.endpoints[0].clone();
    secure.url = "https://secure.localhost".into();
    config.endpoints.push(secure);
    e.gw.reload(ref_gateway::config::validate(config).unwrap());
    for host in ["secure.localhost", "secure.localhost:443", "SECURE.localhost"] {
        let hop =
            e.ua.send(reqwest::Method::GET, &e.url("/x"), &[("host", host)], None)
                .await;
        assert_eq!(hop.status, 302, "{host}: {}", hop.body);
        let to = hop.location.unwrap();
        let redirect = to
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(redirect, "https://secure.localhost/oauth2/callback", "{host}");
    }
    let hop =
        e.ua.send(
            reqwest::Method::GET,
            &e.url("/x"),
            &[("host", "secure.localhost:8443")],
            None,
        )
        .await;
    assert_eq!(hop.status, 404, "another port is another site");
}

#[tokio::test]
async fn every_login_start_renews_the_nonce_cookie_with_the_same_binding() {
    let e = env(ProviderKind::Github).start().await;
    let first = e.ua.get(&e.url("/a")).await;
    let second = e.ua.get(&e.url("/b")).await;
    let nonce = |h: &gatecheck::Hop| {
        h.set_cookies
            .iter()
            .find(|c| c.starts_with("nonce="))
            .cloned()
            .unwrap_or_else(|| panic!("a nonce cookie on every start: {:?}", h.set_cookies))
    };
    let (a, b) = (nonce(&first), nonce(&second));
    assert_eq!(a.split(';').next(), b.split(';').next(), "the same binding id");
    assert!(b.contains("Max-Age=600"));
}

#[tokio::test]
async fn microsoft_with_a_tenant_guid_uses_that_tenant_and_its_exact_issuer() {
    let guid = mock_idp::personality::Microsoft::new().tenant_id().to_owned();
    let tenant = guid.clone();
    let e = env(ProviderKind::Microsoft)
        .oauth(move |o| o.tenant = Some(tenant))
        .start()
        .await;
    let hops = e.logged_in("/tenant").await;
    assert_eq!(hops.last().unwrap().status, 200, "{}", describe(&hops));
    let seen = e.upstream.last().expect("the application was reached");
    assert_eq!(seen.header("ngrok-auth-user-email"), Some("alice@example.com"));
    // Every IdP call went to the tenant's own paths, not `common`.
    for endpoint in [mock_idp::Endpoint::Authorize, mock_idp::Endpoint::Token] {
        let reqs = e.idp.requests_to(endpoint);
        assert!(!reqs.is_empty(), "{endpoint}");
        assert!(
            reqs.iter().all(|r| r.path.starts_with(&format!("/{guid}/"))),
            "{endpoint}: {:?}",
            reqs.iter().map(|r| &r.path).collect::<Vec<_>>()
        );
    }
}
