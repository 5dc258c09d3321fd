//! The command-profile path, end to end: `fixtures/gateways/reference-process.toml` starts
//! `ref-gateway` as a process from rendered templates, reads its events from a file, moves
//! its clock and reads App Users through its admin API, and reloads it with SIGHUP. A
//! representative part of the suite must pass through it exactly as in-process.

use std::sync::Arc;

use gatecheck::profile::{Profile, profiles_dir, workspace_root};
use gatecheck::report::Status;
use gatecheck::suite::RunOptions;

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_gateway_as_a_process_passes_through_its_command_profile() {
    // The binary must match the sources this test was built from.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = std::process::Command::new(cargo)
        .args(["build", "-q", "-p", "reference-impl", "--bin", "ref-gateway"])
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(built.success(), "building ref-gateway");
    let path = profiles_dir().join("reference-process.toml");
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
