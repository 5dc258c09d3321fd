//! A team's own scenarios next to the built-in ones (`--features DIR`, `Suite::features`): a
//! file with a built-in one's name replaces it, others are added, and a folder that is not
//! one is refused with exit code 2.

use std::process::Command;

use gatecheck::report::Status;

const OURS: &str = "Feature: Ours\n  Scenario: Our own login check\n    When alice logs in at \"/ours\"\n    Then the application sees alice's email\n";

fn gatecheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(args)
        .output()
        .expect("gatecheck runs")
}

#[test]
fn the_cli_lists_own_scenarios_beside_the_built_in_ones_and_refuses_a_missing_folder() {
    let own = tempfile::tempdir().unwrap();
    std::fs::write(own.path().join("ours.feature"), OURS).unwrap();
    std::fs::write(
        own.path().join("login.feature"),
        "Feature: Replaced login\n  Scenario: Only this one\n    When alice logs in at \"/\"\n",
    )
    .unwrap();
    let dir = own.path().to_str().unwrap();
    let built_in = String::from_utf8(gatecheck(&["list"]).stdout).unwrap();
    let listed = String::from_utf8(gatecheck(&["list", "--features", dir]).stdout).unwrap();
    assert!(listed.contains("Our own login check"), "added: {listed}");
    assert!(
        listed.contains("Only this one") && !listed.contains("Feature: Logging in"),
        "replaced"
    );
    let count = |text: &str| -> usize {
        text.lines()
            .last()
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("a closing count line")
    };
    let login_scenarios = built_in
        .lines()
        .skip_while(|l| !l.starts_with("Logging in (login.feature)"))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .count();
    assert!(
        login_scenarios > 5,
        "the built-in login feature is listed: {built_in}"
    );
    assert_eq!(count(&listed), count(&built_in) - login_scenarios + 2);
    let missing = gatecheck(&["list", "--features", "/nonexistent/features"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not a directory"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rust_test_runs_its_own_scenario_through_the_suite_api() {
    let own = tempfile::tempdir().unwrap();
    std::fs::write(own.path().join("ours.feature"), OURS).unwrap();
    let outcome = gatecheck::Suite::new(gatecheck::Profile::reference())
        .features(own.path())
        .name("Our own")
        .run()
        .await
        .expect("the suite runs");
    assert_eq!(outcome.results.len(), 1, "{:?}", outcome.results);
    assert_eq!(
        outcome.results[0].status,
        Status::Passed,
        "{:?}",
        outcome.failures()
    );
}
