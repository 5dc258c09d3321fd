//! The `generic` provider with Authmonger's settings: default scope, login attribute,
//! just-in-time provisioning, token-as-query, single logout, and the quirks of hand-rolled
//! IdPs (form-encoded tokens, lowercase `bearer`, wrapped profiles, numeric ids).

use mock_idp::personality::{Generic, ProfileShape};
use mock_idp::{Endpoint, Outcome, User};
use ref_gateway::ProviderKind;

use crate::support::{Env, describe, env, params};

fn generic() -> crate::support::EnvBuilder {
    env(ProviderKind::Generic)
}

async fn login_as(e: &Env, user: &str) -> Vec<gatecheck::Hop> {
    e.idp.on_authorize().respond(Outcome::approve(user));
    e.ua.clear_cookies();
    e.ua.follow(&e.url("/")).await
}

#[tokio::test]
async fn defaults_scope_openid_email_profile_user_id_from_id_and_a_bearer_header() {
    let e = generic()
        .user(User::new("u-1001").username("alice_w").email("w@example.com"))
        .start()
        .await;
    let hops = login_as(&e, "u-1001").await;
    assert_eq!(hops.last().unwrap().status, 200, "{}", describe(&hops));
    let authorize = &e.idp.requests_to(Endpoint::Authorize)[0];
    let scope = authorize
        .params
        .iter()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str());
    assert_eq!(scope, Some("openid email profile"));
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.header("ngrok-auth-user-id"), Some("u-1001"));
    assert_eq!(seen.header("ngrok-auth-user-email"), Some("w@example.com"));
    let profile = &e.idp.requests_to(Endpoint::Userinfo)[0];
    assert!(
        profile
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.starts_with("Bear")),
        "{:?}",
        profile.headers
    );
    assert!(profile.params.iter().all(|(k, _)| k != "access_token"));
}

#[tokio::test]
async fn a_configured_scope_replaces_the_default() {
    let e = generic()
        .oauth(|o| o.scope = Some("openid email read".into()))
        .start()
        .await;
    e.logged_in("/").await;
    let authorize = &e.idp.requests_to(Endpoint::Authorize)[0];
    let scope = authorize
        .params
        .iter()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str());
    assert_eq!(scope, Some("openid email read"));
}

#[tokio::test]
async fn the_login_attribute_chooses_the_profile_field_that_becomes_the_user_id() {
    let e = generic()
        .oauth(|o| o.login_attribute = Some("username".into()))
        .user(User::new("u-1001").username("alice_w").email("w@example.com"))
        .start()
        .await;
    login_as(&e, "u-1001").await;
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.header("ngrok-auth-user-id"), Some("alice_w"));
    let events = e.events().await;
    assert_eq!(events.last().unwrap().user_id.as_deref(), Some("alice_w"));
}

#[tokio::test]
async fn a_login_attribute_missing_from_the_profile_is_an_error_page_naming_it() {
    let e = generic()
        .oauth(|o| o.login_attribute = Some("employee_number".into()))
        .start()
        .await;
    let hops = e.login("/").await;
    let last = hops.last().unwrap();
    assert_eq!(
        last.header("x-gateway-error"),
        Some("idp_invalid"),
        "{}",
        describe(&hops)
    );
    assert!(last.body.contains("employee_number"), "{}", last.body);
    assert!(e.ua.cookie("app.localhost", "session").is_none());
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn wrapped_profiles_numeric_ids_form_encoded_tokens_and_lowercase_bearer_work() {
    let e = generic()
        .idp(|b| {
            b.personality(
                Generic::new()
                    .profile_shape(ProfileShape::Array("data".into()))
                    .numeric_id()
                    .form_encoded_tokens()
                    .token_type("bearer"),
            )
        })
        .start()
        .await;
    e.logged_in("/").await;
    let id = e
        .upstream
        .last()
        .unwrap()
        .header("ngrok-auth-user-id")
        .unwrap()
        .to_owned();
    assert!(
        id.bytes().all(|b| b.is_ascii_digit()),
        "a JSON number becomes its digits: {id}"
    );
}

#[tokio::test]
async fn with_the_auth_header_off_the_token_goes_as_a_query_parameter() {
    let e = generic()
        .oauth(|o| o.access_token_as_auth_header = Some(false))
        .start()
        .await;
    e.logged_in("/").await;
    let profile = &e.idp.requests_to(Endpoint::Userinfo)[0];
    assert!(
        profile.params.iter().any(|(k, _)| k == "access_token"),
        "{:?}",
        profile.params
    );
    assert!(profile.headers.iter().all(|(k, _)| k != "authorization"));
}

#[tokio::test]
async fn without_jit_provisioning_only_provisioned_or_known_users_get_in() {
    let e = generic()
        .user(User::new("bob").email("bob@example.com"))
        .user(User::new("carol").email("carol@example.com"))
        .start()
        .await;
    // Bob logs in while just-in-time provisioning is on: he becomes an App User.
    assert_eq!(login_as(&e, "bob").await.last().unwrap().status, 200);
    let mut strict = e.config.clone();
    strict.endpoints[0].oauth.jit_provisioning = Some(false);
    strict.endpoints[0].oauth.provisioned_users = vec!["alice".into()];
    e.gw.reload(ref_gateway::config::validate(strict).unwrap());

    assert_eq!(login_as(&e, "alice").await.last().unwrap().status, 200, "listed");
    assert_eq!(
        login_as(&e, "bob").await.last().unwrap().status,
        200,
        "already an App User"
    );
    let hops = login_as(&e, "carol").await;
    let last = hops.last().unwrap();
    assert_eq!(
        (last.status, last.header("x-gateway-error")),
        (403, Some("not_provisioned")),
        "{}",
        describe(&hops)
    );
    assert!(last.body.contains("carol"), "{}", last.body);
    let event = e.event_for("/oauth2/callback").await;
    assert_eq!(
        (event.decision, event.user_id.as_deref()),
        (ref_gateway::events::Decision::Block, Some("carol"))
    );
    assert!(last.body.contains("/auth/authn"), "a retry link: {}", last.body);
    assert!(e.ua.cookie("app.localhost", "session").is_none());
    let users: Vec<String> = e
        .upstream
        .seen()
        .iter()
        .filter_map(|s| s.header("ngrok-auth-user-id").map(str::to_owned))
        .collect();
    assert_eq!(users, ["bob", "alice", "bob"]);
}

#[tokio::test]
async fn logout_ends_the_session_and_continues_to_the_idps_end_session_url() {
    let e = generic().start().await;
    // The IdP's URL is only known after it started: configure it and reload.
    let mut config = e.config.clone();
    let base = e.idp.base_url().to_owned();
    config.endpoints[0].oauth.end_session_url = Some(format!("{base}/oauth/logout"));
    config.endpoints[0].oauth.post_logout_redirect_url = Some(e.url("/"));
    e.gw.reload(ref_gateway::config::validate(config).unwrap());

    e.logged_in("/").await;
    let session = e.ua.cookie("app.localhost", "session").unwrap().value;
    let hop = e.ua.get(&e.url("/auth/logout")).await;
    assert_eq!(hop.status, 302);
    let to = hop.location.clone().unwrap();
    assert_eq!(
        to.as_str().split('?').next(),
        Some(format!("{base}/oauth/logout").as_str())
    );
    let q = params(&to);
    assert!(q.contains(&("client_id".into(), "mock-client".into())), "{q:?}");
    assert!(
        q.contains(&("post_logout_redirect_uri".into(), e.url("/"))),
        "{q:?}"
    );
    assert!(
        hop.set_cookies
            .iter()
            .any(|c| c.starts_with("session=") && c.contains("Max-Age=0"))
    );

    // The IdP ends its session and sends the browser back; the old session id is dead.
    let back = e.ua.get(to.as_str()).await;
    assert_eq!(
        (back.status, back.location.as_ref().map(|u| u.to_string())),
        (302, Some(e.url("/")))
    );
    assert_eq!(e.idp.requests_to(Endpoint::EndSession).len(), 1);
    e.ua.set_cookie("app.localhost", "session", &session);
    let replay = e.ua.get(&e.url("/secret")).await;
    assert_eq!(replay.status, 302, "a logged-out session id is refused");
    assert!(e.upstream.seen().iter().all(|s| s.path != "/secret"));
}

#[tokio::test]
async fn the_email_verified_field_names_where_the_idp_puts_verification() {
    let e = generic()
        .idp(|b| b.personality(Generic::new().verified_field(Some("is_confirmed"))))
        .oauth(|o| {
            o.email_verified_field = Some("is_confirmed".into());
            o.allow_domains = vec!["example.com".into()];
        })
        .user(User::new("ann").email("ann@example.com").email_unverified())
        .start()
        .await;
    assert_eq!(login_as(&e, "alice").await.last().unwrap().status, 200);
    let hops = login_as(&e, "ann").await;
    assert_eq!(
        hops.last().unwrap().status,
        403,
        "unverified per is_confirmed: {}",
        describe(&hops)
    );
    // With the default field name the flag would not be found: nobody counts as verified.
    let e = generic()
        .idp(|b| b.personality(Generic::new().verified_field(Some("is_confirmed"))))
        .oauth(|o| o.allow_domains = vec!["example.com".into()])
        .start()
        .await;
    assert_eq!(login_as(&e, "alice").await.last().unwrap().status, 403);
}

#[tokio::test]
async fn a_user_id_that_is_an_unverified_email_is_refused() {
    // With `login_attribute = "email"` the user id is the address: one the IdP did not
    // verify would let whoever typed it there become that user.
    let e = generic()
        .oauth(|o| o.login_attribute = Some("email".into()))
        .user(User::new("ann").email("alice@example.com").email_unverified())
        .user(User::new("bob").email("bob@example.com"))
        .start()
        .await;
    let hops = login_as(&e, "ann").await;
    let last = hops.last().unwrap();
    assert_eq!(
        (last.status, last.header("x-gateway-error")),
        (403, Some("unauthorized")),
        "{}",
        describe(&hops)
    );
    assert_eq!(e.upstream.count(), 0);
    let hops = login_as(&e, "bob").await;
    assert_eq!(hops.last().unwrap().status, 200, "{}", describe(&hops));
    assert_eq!(
        e.upstream.last().unwrap().header("ngrok-auth-user-id"),
        Some("bob@example.com")
    );
}
