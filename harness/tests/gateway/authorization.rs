//! Allowed emails and email domains: exact matches, case, subdomains, unverified emails.

use mock_idp::User;
use ref_gateway::ProviderKind;

use crate::support::{Env, describe, env};

async fn login_as(e: &Env, user: &str) -> gatecheck::Hop {
    e.ua.clear_cookies();
    e.ua.follow(&format!("{}/?who={user}", e.origin))
        .await
        .pop()
        .unwrap()
}

async fn with_users(allow_emails: &[&str], allow_domains: &[&str]) -> Env {
    let emails: Vec<String> = allow_emails.iter().map(|s| s.to_string()).collect();
    let domains: Vec<String> = allow_domains.iter().map(|s| s.to_string()).collect();
    env(ProviderKind::Google)
        .oauth(move |o| {
            o.allow_emails = emails;
            o.allow_domains = domains;
        })
        .user(User::new("kate").email("Kate.Libby@Gmail.com"))
        .user(User::new("acme").email("bob@acme.org"))
        .user(User::new("sub").email("eve@eng.acme.org"))
        .user(User::new("lookalike").email("mallory@evilacme.org"))
        .user(User::new("unverified").email("ann@acme.org").email_unverified())
        .user(User::new("noemail").no_email())
        .start()
        .await
}

async fn verdict(e: &Env, user: &str) -> u16 {
    e.idp.on_authorize().respond(mock_idp::Outcome::approve(user));
    login_as(e, user).await.status
}

#[tokio::test]
async fn allowed_emails_and_domains_as_in_the_seed_example() {
    // ngrok http 80 --oauth google --oauth-allow-email kate.libby@gmail.com --oauth-allow-domain acme.org
    let e = with_users(&["kate.libby@gmail.com"], &["acme.org"]).await;
    assert_eq!(verdict(&e, "kate").await, 200, "case-insensitive address match");
    assert_eq!(verdict(&e, "acme").await, 200, "exact domain");
    assert_eq!(verdict(&e, "sub").await, 403, "subdomains must be listed");
    assert_eq!(verdict(&e, "lookalike").await, 403, "no suffix matching");
    assert_eq!(
        verdict(&e, "unverified").await,
        403,
        "unverified emails never match"
    );
    assert_eq!(verdict(&e, "noemail").await, 403);
    assert_eq!(verdict(&e, "alice").await, 403);
}

#[tokio::test]
async fn a_refused_user_gets_an_error_page_with_retry_no_session_and_nothing_upstream() {
    let e = with_users(&[], &["acme.org"]).await;
    e.idp.on_authorize().respond(mock_idp::Outcome::approve("alice"));
    let hops = e.login("/x").await;
    let last = hops.last().unwrap();
    assert_eq!(
        (last.status, last.header("x-gateway-error")),
        (403, Some("unauthorized")),
        "{}",
        describe(&hops)
    );
    assert!(
        last.body.contains("alice@example.com is not allowed"),
        "{}",
        last.body
    );
    assert!(last.body.contains(&format!("{}/auth/authn", e.origin)));
    assert_eq!(e.upstream.count(), 0);
    assert!(e.ua.cookie("app.localhost", "session").is_none());
    let event = e.event_for("/oauth2/callback").await;
    assert_eq!(
        (event.decision, event.status),
        (ref_gateway::events::Decision::Block, 403)
    );
    assert_eq!(
        event.user_id.as_deref(),
        Some(e.idp.provider_user_id("alice").unwrap().as_str()),
        "the refused user is named"
    );
}

#[tokio::test]
async fn listing_a_subdomain_admits_it() {
    let e = with_users(&[], &["acme.org", "eng.acme.org"]).await;
    assert_eq!(verdict(&e, "sub").await, 200);
}

#[tokio::test]
async fn no_rules_admits_every_authenticated_user() {
    let e = with_users(&[], &[]).await;
    assert_eq!(verdict(&e, "noemail").await, 200);
    assert_eq!(verdict(&e, "unverified").await, 200);
}

#[tokio::test]
async fn an_unverified_email_never_reaches_the_application_but_its_user_does() {
    // Checklist 66 (the nOAuth pattern): with no rule to refuse them, users with an
    // unverified email get in, named by their id, without the email header.
    for provider in [
        ProviderKind::Google,
        ProviderKind::Github,
        ProviderKind::Gitlab,
        ProviderKind::Linkedin,
        ProviderKind::Microsoft,
        ProviderKind::Twitch,
        ProviderKind::Generic,
    ] {
        let e = env(provider)
            .user(
                User::new("ann")
                    .name("Ann")
                    .email("alice@example.com")
                    .email_unverified(),
            )
            .start()
            .await;
        assert_eq!(verdict(&e, "ann").await, 200, "{provider}");
        let seen = e.upstream.last().unwrap();
        assert!(
            seen.header("ngrok-auth-user-email").is_none(),
            "{provider}: the unverified address was forwarded: {:?}",
            seen.headers
        );
        assert!(seen.header("ngrok-auth-user-id").is_some(), "{provider}");
        // A verified one still is.
        let e = env(provider).start().await;
        assert_eq!(verdict(&e, "alice").await, 200, "{provider}");
        assert_eq!(
            e.upstream.last().unwrap().header("ngrok-auth-user-email"),
            Some("alice@example.com"),
            "{provider}"
        );
    }
}

#[tokio::test]
async fn github_uses_the_primary_verified_email_and_microsoft_needs_domain_owner_verification() {
    let e = env(ProviderKind::Github)
        .oauth(|o| o.allow_domains = vec!["acme.org".into()])
        .user(
            User::new("priv")
                .email("p@acme.org")
                .provider_attr("github", "email_private", true),
        )
        .user(User::new("unv").email("u@acme.org").email_unverified())
        .start()
        .await;
    assert_eq!(
        verdict(&e, "priv").await,
        200,
        "a private email is read from /user/emails"
    );
    assert_eq!(verdict(&e, "unv").await, 403);
    let e = env(ProviderKind::Microsoft)
        .oauth(|o| o.allow_domains = vec!["acme.org".into()])
        .user(User::new("ok").email("ok@acme.org"))
        .user(User::new("claimed").email("ceo@acme.org").email_unverified())
        .start()
        .await;
    assert_eq!(verdict(&e, "ok").await, 200);
    assert_eq!(
        verdict(&e, "claimed").await,
        403,
        "an unverified Entra email (no xms_edov) is refused"
    );
}
