//! gatecheck's conformance suite against this gateway, from `cargo test` (`harness = false`:
//! the suite runs its scenarios concurrently itself). The profile starts the gateway binary
//! cargo built for this test; the report lands in `target/gatecheck-report/`.

fn main() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let outcome = gatecheck::Suite::from_file(format!("{dir}/gatecheck.toml"))
        .and_then(|suite| {
            suite
                .tags("@login and not @browser")
                .report_dir(format!("{dir}/target/gatecheck-report"))
                .run_blocking()
        })
        .unwrap_or_else(|e| panic!("gatecheck: {e}"));
    for line in outcome.failures() {
        eprintln!("{line}");
    }
    println!(
        "gatecheck: {} passed, {} failed, {} not applicable",
        outcome.totals.passed, outcome.totals.failed, outcome.totals.not_applicable
    );
    assert!(outcome.totals.passed > 0, "no scenario ran");
    assert!(
        outcome.ok(),
        "the gateway failed {} scenarios",
        outcome.totals.failed
    );
}
