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
    /// The rule, for checklist items.
    #[serde(default)]
    title: String,
}

/// One scenario carrying a tag.
struct Tagged {
    name: String,
    /// Its feature file, without `.feature`.
    file: String,
    /// Scenarios it expands to (an outline's example rows).
    runs: usize,
}

fn coverage() -> Coverage {
    let path = workspace_root().join("fixtures/security/coverage.toml");
    let text = std::fs::read_to_string(&path).expect("coverage.toml");
    toml::from_str(&text).expect("coverage.toml parses")
}

/// Tag → the scenarios carrying it (or their feature), over every feature file.
fn tags() -> BTreeMap<String, Vec<Tagged>> {
    let mut out: BTreeMap<String, Vec<Tagged>> = BTreeMap::new();
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
        let file = path
            .file_stem()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        for s in scenarios {
            let rows: usize = s
                .examples
                .iter()
                .filter_map(|e| e.table.as_ref())
                .map(|t| t.rows.len().saturating_sub(1))
                .sum();
            for t in feature.tags.iter().chain(s.tags.iter()) {
                out.entry(t.clone()).or_default().push(Tagged {
                    name: s.name.clone(),
                    file: file.clone(),
                    runs: if s.examples.is_empty() { 1 } else { rows },
                });
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
    assert_eq!(
        cov.checklist.len(),
        68,
        "the security checklist's 62 items and the 6 an outside attack probe added (63–68)"
    );
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
    // Every scenario proving an item or a module runs under `--tags @security,@oidf`.
    let selected: BTreeSet<(&str, &str)> = ["security", "oidf"]
        .iter()
        .flat_map(|t| tags.get(*t).into_iter().flatten())
        .map(|s| (s.file.as_str(), s.name.as_str()))
        .collect();
    for (tag, scenarios) in &tags {
        if !(tag.starts_with("sec-") || tag.starts_with("oidcc-") || tag.starts_with("fapi")) {
            continue;
        }
        for s in scenarios {
            assert!(
                selected.contains(&(s.file.as_str(), s.name.as_str())),
                "scenario {:?} ({}.feature, tag @{tag}) is tagged neither @security nor @oidf",
                s.name,
                s.file
            );
        }
    }
    security_md_table_is_current(&cov, &tags, &profile);
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

/// SECURITY.md's item-by-item table is derived from the features and the profile: this
/// rebuilds it and fails when the file differs (`GATECHECK_BLESS=1` rewrites it).
fn security_md_table_is_current(cov: &Coverage, tags: &BTreeMap<String, Vec<Tagged>>, profile: &Profile) {
    let mut rows = String::new();
    for e in &cov.checklist {
        let n = e.id.trim_start_matches("sec-");
        let cell = match tags.get(&e.id) {
            Some(scenarios) => {
                let runs: usize = scenarios.iter().map(|s| s.runs).sum();
                let files: BTreeSet<&str> = scenarios.iter().map(|s| s.file.as_str()).collect();
                format!("{runs} ({})", files.into_iter().collect::<Vec<_>>().join(", "))
            }
            None => format!(
                "n/a: {}",
                profile.not_applicable.get(&e.id).map_or("?", String::as_str)
            ),
        };
        rows.push_str(&format!("| {n} | {} | {cell} |\n", e.title));
    }
    let path = workspace_root().join("SECURITY.md");
    let text = std::fs::read_to_string(&path).expect("SECURITY.md");
    let head = "| # | Rule | Scenarios (feature files) |\n| --- | --- | --- |\n";
    let start = text.find(head).expect("SECURITY.md has the item table") + head.len();
    let end = start
        + text[start..]
            .find("\n\n")
            .expect("the table ends with a blank line")
        + 1;
    if text[start..end] == rows {
        return;
    }
    if std::env::var_os("GATECHECK_BLESS").is_some() {
        std::fs::write(&path, format!("{}{rows}{}", &text[..start], &text[end..]))
            .expect("writing SECURITY.md");
        return;
    }
    panic!(
        "SECURITY.md's item table is stale (GATECHECK_BLESS=1 cargo test -p harness --test security_coverage rewrites it); expected:\n{rows}"
    );
}
