//! ID-token and discovery checks (OIDC providers): the OpenID Foundation RP faults the mock
//! can put into an ID token — each must end the login without a session and without reaching
//! the upstream, except the three a correct RP must accept — plus a discovery issuer that is
//! not the configured one and a callback without RFC 9207 `iss` where the IdP promises it.

use mock_idp::{AuthorizeResponseChange, IdTokenFault, Outcome};
use ref_gateway::ProviderKind;

use crate::support::{describe, env};

#[tokio::test]
async fn every_id_token_fault_is_refused_and_the_must_accept_variants_are_accepted() {
    for provider in [ProviderKind::Google, ProviderKind::Gitlab] {
        let e = env(provider).start().await;
        for fault in IdTokenFault::ALL {
            e.ua.clear_cookies();
            e.upstream.clear();
            e.idp.on_token().respond(Outcome::id_token(fault));
            let hops = e.login("/private").await;
            let last = hops.last().unwrap();
            if fault.must_be_accepted() {
                assert_eq!(
                    last.status,
                    200,
                    "{provider} {fault:?} must be accepted: {}",
                    describe(&hops)
                );
                continue;
            }
            assert!(
                (400..500).contains(&last.status) || last.status == 502,
                "{provider} {fault:?}: {} {}",
                describe(&hops),
                last.body
            );
            assert_eq!(e.upstream.count(), 0, "{provider} {fault:?}: nothing upstream");
            assert!(
                e.ua.cookie("app.localhost", "session").is_none(),
                "{provider} {fault:?}: no session"
            );
        }
    }
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let e = env(ProviderKind::Gitlab).start().await;
    e.idp
        .on(mock_idp::Endpoint::Discovery)
        .always()
        .respond(Outcome::DiscoveryIssuerMismatch);
    let hops = e.login("/").await;
    let last = hops.last().unwrap();
    assert!(last.status >= 400, "{}", describe(&hops));
    assert_eq!(e.upstream.count(), 0);
    assert!(e.ua.cookie("app.localhost", "session").is_none());
}

#[tokio::test]
async fn a_callback_without_iss_is_refused_when_the_idp_advertises_rfc_9207() {
    // A spec-exact OpenID Provider (advertises authorization_response_iss_parameter_supported)
    // behind the gateway's GitLab provider, which is discovery-driven.
    let e = env(ProviderKind::Gitlab)
        .idp(|b| b.personality(mock_idp::personality::Oidc::new()))
        .start()
        .await;
    let advertised = e.idp.discovery().unwrap()["authorization_response_iss_parameter_supported"].as_bool();
    assert_eq!(advertised, Some(true));
    e.logged_in("/first").await;
    e.ua.clear_cookies();
    e.upstream.clear();
    e.idp.on_authorize().respond(Outcome::AuthorizeResponse {
        change: AuthorizeResponseChange::MissingIss,
    });
    let hops = e.login("/").await;
    let last = hops.last().unwrap();
    assert!(last.status >= 400, "{}", describe(&hops));
    assert_eq!(e.upstream.count(), 0);
    assert_eq!(
        e.idp.requests_to(mock_idp::Endpoint::Token).len(),
        1,
        "only the first login redeemed a code"
    );
}

#[tokio::test]
async fn a_userinfo_for_another_subject_during_the_auth_check_ends_the_session() {
    let e = env(ProviderKind::Google)
        .oauth(|o| o.auth_check_interval = Some(std::time::Duration::from_secs(60)))
        .start()
        .await;
    e.logged_in("/").await;
    e.idp.on_userinfo().respond(Outcome::UserinfoInvalidSub);
    e.advance(std::time::Duration::from_secs(120));
    let hop = e.ua.get(&e.url("/after")).await;
    assert_eq!(hop.status, 302, "log in again: {}", hop.body);
    assert!(e.upstream.seen().iter().all(|s| s.path != "/after"));
}
