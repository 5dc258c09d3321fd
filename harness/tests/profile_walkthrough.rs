//! docs/profiles.md's "Write a profile in 15 minutes" stays true: the profile it builds,
//! `fixtures/gateways/examples/walkthrough.toml`, appears in the document verbatim, loads, and
//! the suite's login scenarios pass through it with the gateway started as a command.

mod common;

use std::sync::Arc;

use gatecheck::profile::{Profile, workspace_root};
use gatecheck::report::Status;
use gatecheck::suite::RunOptions;

const EXAMPLE: &str = "fixtures/gateways/examples/walkthrough.toml";

/// The example without its leading comment lines (the document explains instead).
fn example_body() -> String {
    let text = std::fs::read_to_string(workspace_root().join(EXAMPLE)).expect("the example profile");
    text.lines()
        .skip_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_walkthrough_shows_the_example_profile_verbatim() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/profiles.md")).unwrap();
    let body = example_body();
    assert!(
        doc.contains(&body),
        "docs/profiles.md must show {EXAMPLE} verbatim (from `name =` on) in its walk-through; copy the file into it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_walkthrough_profile_passes_the_login_scenarios() {
    common::build_ref_gateway();
    let path = workspace_root().join(EXAMPLE);
    let (profile, _) = Profile::resolve(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let outcome = gatecheck::suite::run(RunOptions {
        profile: Arc::new(profile),
        features: workspace_root().join("features"),
        tags: Some("@login and not @browser and not @security".into()),
        name: None,
        report_dir: None,
        concurrency: 8,
        verbose: false,
        shard: None,
    })
    .await;
    let failures = gatecheck::report::failure_lines(&outcome.results);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let passed_in = |feature: &str| {
        outcome
            .results
            .iter()
            .filter(|r| r.status == Status::Passed && r.feature == feature)
            .count()
    };
    // The walk-through claims logins and identity headers: those features must have run.
    assert!(
        passed_in("Logging in") >= 5,
        "login scenarios passed: {}",
        passed_in("Logging in")
    );
    assert!(
        passed_in("What the application receives") >= 5,
        "identity-header scenarios passed: {}",
        passed_in("What the application receives")
    );
}
