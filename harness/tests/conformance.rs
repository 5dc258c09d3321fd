//! `cargo test` runs the whole feature suite against the reference gateway (embedded
//! profile) and fails on any failed scenario or undefined step. In CI every scenario must
//! run: a missing system component (redis-server) fails instead of being "not applicable".
//!
//! Arguments after `--` are a tag expression (`cargo test -p harness --test conformance --
//! @login`); libtest flags are ignored.

use std::sync::Arc;

use gatecheck::profile::{Profile, workspace_root};
use gatecheck::suite::RunOptions;

fn main() {
    let tags = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--") && !a.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let report = workspace_root().join("target/gatecheck-report");
    let outcome = rt.block_on(gatecheck::suite::run(RunOptions {
        profile: Arc::new(Profile::reference()),
        features: workspace_root().join("features"),
        tags: (!tags.is_empty()).then_some(tags),
        name: None,
        report_dir: Some(report.clone()),
        concurrency: 16,
        verbose: false,
        shard: None,
    }));
    print!("{}", gatecheck::report::terminal_table(&outcome.results));
    let failures = gatecheck::report::failure_lines(&outcome.results);
    let mut bad = !failures.is_empty();
    for line in failures {
        println!("{line}");
    }
    if gatecheck::system::components_required() {
        for r in outcome
            .results
            .iter()
            .filter(|r| r.status == gatecheck::report::Status::NotApplicable)
        {
            bad = true;
            println!(
                "NOT RUN IN CI {} › {}: {}",
                r.feature,
                r.scenario,
                r.detail.as_deref().unwrap_or("")
            );
        }
    }
    for line in gatecheck::report::not_applicable_lines(&outcome.results) {
        println!("{line}");
    }
    println!(
        "conformance: {} passed, {} failed, {} undefined, {} not applicable in {:.1} s (report: {})",
        outcome.totals.passed,
        outcome.totals.failed,
        outcome.totals.skipped,
        outcome.totals.not_applicable,
        outcome.elapsed.as_secs_f64(),
        report.display()
    );
    assert!(!outcome.results.is_empty(), "no scenario ran");
    if bad {
        std::process::exit(1);
    }
}
