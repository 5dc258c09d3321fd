//! Proof that the suite can fail: the reference gateway with one check turned off (test-only
//! profiles in `fixtures/gateways/testing/`) makes exactly the scenarios about that check fail,
//! with a message that says what went wrong.

use std::sync::Arc;

use gatecheck::profile::{Profile, profiles_dir, workspace_root};
use gatecheck::report::{ScenarioResult, Status};
use gatecheck::suite::RunOptions;

async fn run_broken(fault: &str, tags: &str) -> Vec<ScenarioResult> {
    run_broken_to(fault, tags, None, None).await
}

async fn run_broken_to(
    fault: &str,
    tags: &str,
    name: Option<&str>,
    report_dir: Option<std::path::PathBuf>,
) -> Vec<ScenarioResult> {
    let path = profiles_dir().join(format!("testing/broken-{fault}.toml"));
    let (profile, _) = Profile::resolve(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(profile.faults, [fault]);
    let outcome = gatecheck::suite::run(RunOptions {
        profile: Arc::new(profile),
        features: workspace_root().join("features"),
        tags: Some(tags.into()),
        name: name.map(str::to_owned),
        report_dir,
        concurrency: 8,
        verbose: false,
        shard: None,
    })
    .await;
    outcome.results
}

fn failed<'a>(results: &'a [ScenarioResult], scenario: &str) -> &'a ScenarioResult {
    results
        .iter()
        .find(|r| r.scenario.contains(scenario))
        .unwrap_or_else(|| panic!("no scenario named like {scenario:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_forwards_forged_identity_headers_fails_the_stripping_scenarios() {
    let results = run_broken("keep-forged-identity-headers", "@header-stripping").await;
    // Setting its own header over a same-named forged one hides the bug for the exact
    // spelling; the other separator and unknown ngrok-auth-* names get through.
    for scenario in [
        "A forged user email header, spelled with the other separator",
        "A forged user id header, spelled with the other separator",
        "A forged ngrok-auth-something-new header",
    ] {
        let r = failed(&results, scenario);
        assert_eq!(r.status, Status::Failed, "{r:?}");
        let detail = r.detail.as_deref().unwrap_or_default();
        assert!(
            detail.contains("no header the application sees contains \"evil\"")
                && detail.contains("forged@evil.test"),
            "the message shows what the application saw: {detail}"
        );
    }
    assert_eq!(
        failed(&results, "A forged user email header, spelled exactly").status,
        Status::Passed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_ignores_the_browser_binding_fails_the_login_csrf_scenario() {
    let results = run_broken("ignore-browser-binding", "@login and not @central-callback").await;
    let r = failed(&results, "Login CSRF");
    assert_eq!(r.status, Status::Failed, "{r:?}");
    let detail = r.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("alice holds a session cookie"), "{detail}");
    let bad: Vec<&str> = results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .map(|r| r.scenario.as_str())
        .collect();
    // The login scenario, the security checklist's item 1 and item 64 (whose corpus sends the
    // victim's own state from the attacker's browser) catch it, and nothing else fails.
    assert_eq!(
        bad,
        [
            "Login CSRF: a callback from someone else's login is refused before any code is redeemed",
            "1 — Login CSRF: another browser's callback is refused before any code is redeemed",
            "64 — LinkedIn: a leaked code is not redeemed through a state that is not this browser's login in flight",
            "64 — Twitch: a leaked code is not redeemed through a state that is not this browser's login in flight",
            "64 — Google: a leaked code is not redeemed through a state that is not this browser's login in flight",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_trusts_unverified_emails_fails_the_unverified_scenarios() {
    let results = run_broken("trust-unverified-emails", "@email-rules").await;
    let r = failed(&results, "ann is refused (unverified emails never match)");
    assert_eq!(r.status, Status::Failed, "{r:?}");
    assert!(
        r.detail
            .as_deref()
            .unwrap_or_default()
            .contains("ann reached the application"),
        "{:?}",
        r.detail
    );
    assert_eq!(
        failed(&results, "An address in an allowed domain gets in").status,
        Status::Passed,
        "the rest still passes"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_drops_the_original_path_fails_the_browser_deep_link_scenario_with_a_screenshot() {
    if gatecheck::system::require(
        "chromedriver",
        "chromium chromium-driver",
        "browser broken-gateway test",
    )
    .is_none()
    {
        return;
    }
    let report = tempfile::tempdir().unwrap();
    let results = run_broken_to(
        "drop-original-path",
        "@browser",
        Some("deep link"),
        Some(report.path().to_path_buf()),
    )
    .await;
    let r = failed(
        &results,
        "Signing in at the identity provider lands on the deep link",
    );
    assert_eq!(r.status, Status::Failed, "{r:?}");
    assert!(
        r.detail
            .as_deref()
            .unwrap_or_default()
            .contains("/reports/2026?sort=desc"),
        "the message names the page it should have landed on: {:?}",
        r.detail
    );
    let shot = report
        .path()
        .join("failures/signing-in-at-the-identity-provider-lands-on-the-deep-link-that-started-it.png");
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    assert!(shot.with_extension("html").is_file(), "and the page HTML");
}

/// Runs `tags` against the gateway broken by `fault` and checks that exactly the scenarios
/// named like `failing` fail, each with a message containing `says`, and that the rest of the
/// selection passes.
async fn only_these_fail(fault: &str, tags: &str, failing: &[&str], says: &str) {
    let results = run_broken(fault, tags).await;
    assert!(!results.is_empty(), "{tags} selects no scenario");
    for r in &results {
        let expected = failing.iter().any(|f| r.scenario.contains(f));
        if expected {
            assert_eq!(
                r.status,
                Status::Failed,
                "{fault}: {} should fail: {r:?}",
                r.scenario
            );
            let detail = r.detail.as_deref().unwrap_or_default();
            assert!(
                detail.contains(says),
                "{fault}: {}: the message says {says:?}: {detail}",
                r.scenario
            );
        } else {
            assert_eq!(
                r.status,
                Status::Passed,
                "{fault}: {} should pass: {r:?}",
                r.scenario
            );
        }
    }
    for f in failing {
        failed(&results, f);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_forwards_bodies_on_get_and_options_fails_the_desync_scenarios() {
    only_these_fail(
        "forward-bodies-on-safe-methods",
        "@sec-63",
        &[
            "63 — The body of an unauthenticated CORS preflight",
            "63 — The body of a logged-in GET request",
            "63 — The body of a logged-in HEAD request",
            "63 — The body of a logged-in OPTIONS request",
        ],
        "the application received /admin",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_keeps_finished_logins_among_logins_in_flight_fails_the_state_confusion_scenarios() {
    only_these_fail(
        "finished-logins-as-transactions",
        "@sec-64",
        &["64 — LinkedIn", "64 — Twitch", "64 — Google"],
        "state \"done:{finished}\" led to 1 token request",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_without_connection_limits_fails_the_slow_client_scenario() {
    only_these_fail(
        "no-slow-client-limits",
        "@sec-65",
        &["65 — Slow clients"],
        "connections that never completed a request head were still open after 25s",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_forwards_unverified_emails_fails_for_every_provider_that_has_them() {
    only_these_fail(
        "forward-unverified-emails",
        "@sec-66",
        &[
            "66 — Google",
            "66 — GitHub",
            "66 — GitLab",
            "66 — LinkedIn",
            "66 — Microsoft",
            "66 — Twitch",
            "66 — a generic OAuth 2.0 IdP",
        ],
        "the application was told \"ann@example.com\" as the user's identity",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_keeps_tunnels_open_after_logout_fails_the_tunnel_scenarios() {
    only_these_fail(
        "keep-tunnels-after-logout",
        "@sec-67",
        &[
            "67 — A WebSocket ends when the session",
            "67 — A WebSocket ends when its user's",
        ],
        "WebSocket still reached the application 10 s after",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_serves_two_host_headers_fails_the_host_scenarios() {
    only_these_fail(
        "accept-repeated-host",
        "@sec-68",
        &[
            "68 — A request with two Host headers, the site's",
            "68 — A request with two Host headers, another site's",
        ],
        "RFC 9112 §3.2 requires 400 for a request with two Host headers",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_reads_its_expiry_leeway_in_the_wrong_unit_fails_only_the_fresh_expired_token() {
    // The OpenID Foundation's expired-token module plants an old `iat` too, so the iat-age
    // rule refuses it and hides the broken `exp` check; only the fresh one catches it.
    only_these_fail(
        "expiry-leeway-in-wrong-unit",
        "@sec-24,@fapi2-security-profile-final-client-test-invalid-expired-exp",
        &["24 — An ID token issued 125 seconds ago that expired 120 seconds ago"],
        "alice reached the application",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_reads_the_key_set_but_skips_the_signature_fails_even_over_tls() {
    // OIDC Core §3.1.3.7 (6) lets a gateway rely on TLS instead of the signature; this one
    // reads the key set (so it claims to check signatures) and then does not: over https the
    // forged-signature scenarios must still fail.
    only_these_fail(
        "skip-signature-check",
        "@oidcc-client-test-invalid-sig-rs256,@oidcc-client-test-invalid-sig-es256,@sec-20",
        &[
            "An RS256 ID token with a corrupted signature is refused",
            "An ES256 ID token with a corrupted signature is refused",
            "20 — A key embedded in the token's header is ignored",
            "20 — A key set URL named by the token (jku) is never fetched",
        ],
        "so it validates ID tokens itself — and accepted this one",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_accepts_any_idp_certificate_fails_the_untrusted_certificate_scenario() {
    only_these_fail(
        "accept-any-idp-certificate",
        "@sec-18",
        &["18 — An identity provider certificate the gateway was not told to trust stops every login"],
        "alice reached the application",
    )
    .await;
}
