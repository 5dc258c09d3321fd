//! The security acceptance of gatecheck: every item of the security checklist and every
//! OpenID Foundation RP module (`fixtures/security/coverage.toml`) is the tag of at least one
//! scenario or is explained in the reference profile's `not_applicable` table; every such tag
//! in the features names a real item; and `gatecheck run --tags @security,@oidf` — the exact
//! command of the acceptance — is green on the reference gateway, printing its count.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use gatecheck::profile::{Profile, workspace_root};

#[derive(serde::Deserialize)]
struct Coverage {
    checklist: Vec<Entry>,
    oidf: Vec<Entry>,
}

#[derive(serde::Deserialize)]
struct Entry {
    id: String,
}

fn coverage() -> Coverage {
    let path = workspace_root().join("fixtures/security/coverage.toml");
    let text = std::fs::read_to_string(&path).expect("coverage.toml");
    toml::from_str(&text).expect("coverage.toml parses")
}

/// Tag → scenario names, over every feature file.
fn tags() -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let dir = workspace_root().join("features");
    for entry in std::fs::read_dir(&dir).expect("features/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "feature") {
            continue;
        }
        let feature = cucumber::gherkin::Feature::parse_path(&path, cucumber::gherkin::GherkinEnv::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let scenarios = feature
            .scenarios
            .iter()
            .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()));
        for s in scenarios {
            for t in feature.tags.iter().chain(s.tags.iter()) {
                out.entry(t.clone()).or_default().push(s.name.clone());
            }
        }
    }
    out
}

#[test]
fn every_checklist_item_and_oidf_module_is_covered_or_explained() {
    let cov = coverage();
    let tags = tags();
    let profile = Profile::reference();
    assert_eq!(cov.checklist.len(), 62, "the checklist has 62 items");
    let known: BTreeSet<&str> = cov
        .checklist
        .iter()
        .chain(cov.oidf.iter())
        .map(|e| e.id.as_str())
        .collect();
    let mut missing = Vec::new();
    let (mut by_scenario, mut by_reason) = (0, 0);
    for e in cov.checklist.iter().chain(cov.oidf.iter()) {
        let tagged = tags.contains_key(&e.id);
        let explained = profile.not_applicable.contains_key(&e.id);
        match (tagged, explained) {
            (true, _) => by_scenario += 1,
            (false, true) => by_reason += 1,
            (false, false) => missing.push(e.id.clone()),
        }
    }
    assert!(
        missing.is_empty(),
        "neither a scenario nor a not_applicable reason for: {missing:#?}"
    );
    // A typo in a tag would silently cover nothing.
    let unknown: Vec<&String> = tags
        .keys()
        .filter(|t| {
            (t.starts_with("sec-") || t.starts_with("oidcc-") || t.starts_with("fapi"))
                && !known.contains(t.as_str())
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "tags naming no checklist item or module: {unknown:?}"
    );
    let stray: Vec<&String> = profile
        .not_applicable
        .keys()
        .filter(|k| !known.contains(k.as_str()))
        .collect();
    assert!(
        stray.is_empty(),
        "not_applicable entries naming nothing: {stray:?}"
    );
    // Every scenario proving a checklist item runs under @security, every module under @oidf.
    let security: BTreeSet<&String> = tags
        .get("security")
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let oidf: BTreeSet<&String> = tags.get("oidf").map(|v| v.iter().collect()).unwrap_or_default();
    for (tag, scenarios) in &tags {
        let (set, label) = if tag.starts_with("sec-") {
            (&security, "@security")
        } else if tag.starts_with("oidcc-") || tag.starts_with("fapi") {
            (&oidf, "@oidf")
        } else {
            continue;
        };
        for s in scenarios {
            assert!(
                set.contains(s) || security.contains(s) || oidf.contains(s),
                "scenario {s:?} (tag @{tag}) is not selected by {label}"
            );
        }
    }
    // SECURITY.md maps every item; a new item must get its row there too.
    let security_md = std::fs::read_to_string(workspace_root().join("SECURITY.md")).expect("SECURITY.md");
    for e in &cov.checklist {
        let n = e.id.trim_start_matches("sec-");
        assert!(
            security_md.contains(&format!("\n| {n} | ")),
            "SECURITY.md has no row for checklist item {n}"
        );
    }
    println!(
        "{} checklist items and OIDF modules: {by_scenario} proved by scenarios, {by_reason} not applicable with a reason",
        by_scenario + by_reason
    );
}

#[test]
fn gatecheck_run_security_and_oidf_is_green_on_the_reference() {
    let report = tempfile::tempdir().expect("a temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["run", "--tags", "@security,@oidf", "--quiet", "--report"])
        .arg(report.path())
        .current_dir(workspace_root())
        .output()
        .expect("gatecheck runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout
        .lines()
        .find(|l| l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}\n{stderr}"));
    println!("gatecheck run --tags @security,@oidf: {summary}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let passed: usize = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {summary:?}"));
    assert!(passed >= 200, "only {passed} security and OIDF scenarios ran");
    assert!(summary.contains(" 0 failed, 0 undefined"), "{summary}");
}
