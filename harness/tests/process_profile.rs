//! The command-profile path, end to end: `fixtures/gateways/reference-process.toml` starts
//! `ref-gateway` as a process from rendered templates, reads its events from a file, moves
//! its clock and reads App Users through its admin API, and reloads it with SIGHUP. A
//! representative part of the suite must pass through it exactly as in-process.

mod common;

use std::sync::Arc;

use gatecheck::profile::{Profile, profiles_dir, workspace_root};
use gatecheck::report::Status;
use gatecheck::suite::RunOptions;

/// Builds `ref-gateway` (the binary must match the sources this test was built from) and
/// returns the path of the profile that runs it as a process.
fn reference_process_profile() -> std::path::PathBuf {
    common::build_ref_gateway();
    profiles_dir().join("reference-process.toml")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_gateway_as_a_process_passes_through_its_command_profile() {
    let path = reference_process_profile();
    let (profile, _) = Profile::resolve(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let outcome = gatecheck::suite::run(RunOptions {
        profile: Arc::new(profile),
        features: workspace_root().join("features"),
        tags: Some(
            "(@reload or @events or @app-users or @fake-clock or @generic-provider or @websocket) and not @redis-replicas"
                .into(),
        ),
        name: None,
        report_dir: None,
        concurrency: 8,
        verbose: false,
        shard: None,
    })
    .await;
    let failures: Vec<String> = outcome
        .results
        .iter()
        .filter(|r| r.status != Status::Passed)
        .map(|r| {
            format!(
                "{} › {}: {}",
                r.feature,
                r.scenario,
                r.detail.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(
        outcome.results.len() >= 40,
        "a representative part ran: {}",
        outcome.results.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Security checklist 52: with debug logging on, nothing the gateway writes to its log holds
/// the authorization code, the session cookie, the tokens or the client secret.
#[tokio::test(flavor = "multi_thread")]
async fn the_gateways_debug_log_holds_no_code_token_cookie_or_secret() {
    let path = reference_process_profile();
    let (mut profile, _) = Profile::resolve(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    profile.env.insert("RUST_LOG".into(), "debug".into());
    let spec = gatecheck::spec::GatewaySpec::new(gatecheck::provider::Provider::Google);
    let port = gatecheck::ports::private_port();
    let idp = mock_idp::MockIdp::builder()
        .personality(mock_idp::personality::Google::new())
        .redirect_uri(gatecheck::launch::callback_url(&profile, &spec, port))
        .share_process_keys()
        .no_verify_on_drop()
        .start()
        .await;
    let upstream = gatecheck::upstream::RecordingUpstream::start().await;
    let work = tempfile::tempdir().unwrap();
    let gw = gatecheck::launch::Launched::start(
        &profile,
        &spec,
        gatecheck::launch::Setting {
            idp: &idp,
            upstream_url: upstream.url(),
            port,
            front: None,
            work_dir: work.path(),
            redis_url: None,
            idp_ca_pem: idp.ca_pem().map(str::to_owned),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let ua = gatecheck::UserAgent::new();
    idp.on_authorize().respond(mock_idp::Outcome::approve("alice"));
    let hops = ua
        .follow(&format!("{}/private", gatecheck::launch::origin(port)))
        .await;
    assert_eq!(hops.last().unwrap().status, 200, "logged in");
    ua.get(&format!("{}/again", gatecheck::launch::origin(port)))
        .await;
    let mut secrets: Vec<(&str, String)> = Vec::new();
    for h in &hops {
        if let Some((_, code)) = h.url.query_pairs().find(|(k, _)| k == "code") {
            secrets.push(("authorization code", code.into_owned()));
        }
    }
    for c in ua.cookies("app.localhost") {
        secrets.push(("gateway cookie", c.value));
    }
    let seen = upstream.seen();
    let last = seen.last().expect("the application was reached");
    for (name, header) in [
        ("access token", "ngrok-auth-oauth-access-token"),
        ("refresh token", "ngrok-auth-oauth-refresh-token"),
    ] {
        if let Some(v) = last.header(header) {
            secrets.push((name, v.to_owned()));
        }
    }
    secrets.push(("client secret", mock_idp::DEFAULT_CLIENT_SECRET.to_owned()));
    assert!(secrets.len() >= 5, "{secrets:?}");
    drop(gw);
    let mut log = String::new();
    for e in std::fs::read_dir(work.path()).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "log") {
            log.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    assert!(log.lines().count() >= 3, "debug logging was on:\n{log}");
    for (name, value) in &secrets {
        assert!(
            !log.contains(value.as_str()),
            "the gateway logged the {name}:\n{log}"
        );
    }
}
