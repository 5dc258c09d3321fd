//! Published conformance of third-party gateways: a committed expected-results file per
//! profile (`fixtures/gateways/expected/<name>.json`, every scenario's status), a findings
//! file written by a person (`fixtures/gateways/expected/<name>.findings.toml`: what causes
//! each failure, whether it is a weakness, with evidence and a link), and the matrix a person
//! reads (`docs/conformance/<name>.md`), generated from both. A run that differs from the
//! expected results, a failure no finding explains, or a stale document fails the check;
//! `GATECHECK_BLESS=1` rewrites the expected results and the document for review.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::report::{ScenarioResult, Status};
use crate::workspace::workspace_root;

/// One expected result.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    /// Feature name.
    pub feature: String,
    /// Scenario name.
    pub scenario: String,
    /// `passed`, `failed`, `not_applicable`.
    pub status: String,
}

/// What a finding is.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A security weakness of the gateway (or of its defaults).
    Weakness,
    /// Behaviour that differs from the reference without being a weakness.
    Difference,
    /// An interoperability problem with a provider's quirk.
    Interop,
}

/// One finding, written by a person.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Short id (`no-pkce`).
    pub id: String,
    /// What it is.
    pub kind: Kind,
    /// One line.
    pub title: String,
    /// What happens and why, with the evidence the suite collected.
    pub explanation: String,
    /// The gateway's documentation or source that shows it.
    pub link: String,
    /// Scenario names (or unique parts of them) this finding explains.
    pub scenarios: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingsFile {
    /// The gateway as the tables name it, with its version (`Auth.js 0.41.3`).
    gateway: String,
    /// Intro paragraph for the document: versions and the settings the profile uses.
    about: String,
    finding: Vec<Finding>,
}

/// The files of one gateway.
pub struct Paths {
    /// Expected results.
    pub expected: PathBuf,
    /// Findings.
    pub findings: PathBuf,
    /// The published document.
    pub doc: PathBuf,
}

/// Where the files of profile `name` live.
pub fn paths(name: &str) -> Paths {
    let root = workspace_root();
    Paths {
        expected: root.join(format!("fixtures/gateways/expected/{name}.json")),
        findings: root.join(format!("fixtures/gateways/expected/{name}.findings.toml")),
        doc: root.join(format!("docs/conformance/{name}.md")),
    }
}

fn status_name(s: &Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "undefined",
        Status::NotApplicable => "not_applicable",
    }
}

/// The results as expected-results entries.
pub fn expected_of(results: &[ScenarioResult]) -> Vec<Expected> {
    let mut v: Vec<Expected> = results
        .iter()
        .map(|r| Expected {
            feature: r.feature.clone(),
            scenario: r.scenario.clone(),
            status: status_name(&r.status).into(),
        })
        .collect();
    v.sort();
    v
}

/// Differences between a run and the expected results, one line each.
pub fn differences(expected: &[Expected], actual: &[Expected]) -> Vec<String> {
    let key = |e: &Expected| (e.feature.clone(), e.scenario.clone());
    let exp: BTreeMap<_, _> = expected.iter().map(|e| (key(e), e.status.clone())).collect();
    let act: BTreeMap<_, _> = actual.iter().map(|e| (key(e), e.status.clone())).collect();
    let mut out = Vec::new();
    for (k, s) in &act {
        match exp.get(k) {
            None => out.push(format!("new scenario {} › {}: {s}", k.0, k.1)),
            Some(e) if e != s => out.push(format!("{} › {}: expected {e}, got {s}", k.0, k.1)),
            _ => {}
        }
    }
    for k in exp.keys() {
        if !act.contains_key(k) {
            out.push(format!("scenario gone: {} › {}", k.0, k.1));
        }
    }
    out
}

fn findings_file(name: &str) -> Result<FindingsFile, String> {
    let p = paths(name).findings;
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// Loads the findings of `name`.
pub fn findings(name: &str) -> Result<(String, Vec<Finding>), String> {
    let f = findings_file(name)?;
    Ok((f.about, f.finding))
}

/// The gateways with published results: every `fixtures/gateways/expected/*.findings.toml`,
/// sorted by name.
pub fn published() -> Result<Vec<String>, String> {
    let dir = workspace_root().join("fixtures/gateways/expected");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".findings.toml").map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// The table of every published gateway's results, generated from the committed expected
/// results and findings (never typed by hand). `matrix_dir` is the path from the document
/// the table goes into to `docs/conformance/`.
pub fn index_table(matrix_dir: &str) -> Result<String, String> {
    let mut s = String::from(
        "| Gateway | Passed | Failed | n/a | Weaknesses found (failing scenarios) | Matrix |\n|---|--:|--:|--:|---|---|\n",
    );
    for name in published()? {
        let file = findings_file(&name)?;
        let p = paths(&name).expected;
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let expected: Vec<Expected> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        let count = |st: &str| expected.iter().filter(|e| e.status == st).count();
        let failing = |f: &Finding| {
            expected
                .iter()
                .filter(|e| {
                    e.status == "failed" && f.scenarios.iter().any(|x| e.scenario.contains(x.as_str()))
                })
                .count()
        };
        let weaknesses: Vec<String> = file
            .finding
            .iter()
            .filter(|f| f.kind == Kind::Weakness)
            .map(|f| format!("`{}` ({})", f.id, failing(f)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | [{name}.md]({matrix_dir}{name}.md) |",
            file.gateway,
            count("passed"),
            count("failed"),
            count("not_applicable"),
            weaknesses.join(", ")
        );
    }
    Ok(s)
}

/// `doc` with the text between the lines `<!-- begin {block} -->` and `<!-- end {block} -->`
/// replaced by `content`.
pub fn splice(doc: &str, block: &str, content: &str) -> Result<String, String> {
    let begin = format!("<!-- begin {block} -->\n");
    let end = format!("<!-- end {block} -->");
    let start = doc
        .find(&begin)
        .ok_or_else(|| format!("no `{}` line", begin.trim_end()))?
        + begin.len();
    let stop = doc[start..]
        .find(&end)
        .ok_or_else(|| format!("no `{end}` line after `{}`", begin.trim_end()))?
        + start;
    Ok(format!("{}{content}{}", &doc[..start], &doc[stop..]))
}

/// The finding that explains a failed scenario.
pub fn explain<'a>(findings: &'a [Finding], r: &ScenarioResult) -> Option<&'a Finding> {
    findings
        .iter()
        .find(|f| f.scenarios.iter().any(|s| r.scenario.contains(s.as_str())))
}

/// Failed scenarios no finding explains, and findings that explain nothing.
pub fn unexplained(results: &[ScenarioResult], findings: &[Finding]) -> Vec<String> {
    let mut out: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Skipped))
        .filter(|r| explain(findings, r).is_none())
        .map(|r| {
            format!(
                "no finding explains the failure of {} › {}",
                r.feature, r.scenario
            )
        })
        .collect();
    for f in findings {
        let used = results.iter().any(|r| {
            r.status == Status::Failed && f.scenarios.iter().any(|s| r.scenario.contains(s.as_str()))
        });
        if !used {
            out.push(format!("finding {} explains no failed scenario", f.id));
        }
    }
    out
}

/// The document a person reads.
pub fn render(name: &str, about: &str, results: &[ScenarioResult], findings: &[Finding]) -> String {
    let t = crate::report::Totals::of(results);
    let mut s = String::new();
    let _ = writeln!(s, "# Conformance: {name}\n");
    let _ = writeln!(
        s,
        "Generated by `GATECHECK_BLESS=1 cargo test -p harness --test third_party` from the suite's run against the `{name}` profile \
(`fixtures/gateways/{name}.toml`) and the findings in `fixtures/gateways/expected/{name}.findings.toml`. CI fails when a run differs.\n"
    );
    let _ = writeln!(s, "{}\n", about.trim());
    let _ = writeln!(
        s,
        "**{} scenarios: {} pass, {} fail, {} not applicable** (the profile does not claim the capability, or the provider is not one it supports).\n",
        results.len(),
        t.passed,
        t.failed,
        t.not_applicable
    );
    let _ = writeln!(s, "## Findings\n");
    for kind in [Kind::Weakness, Kind::Interop, Kind::Difference] {
        let label = match kind {
            Kind::Weakness => "Weaknesses",
            Kind::Interop => "Interoperability",
            Kind::Difference => "Differences (not weaknesses)",
        };
        let fs: Vec<&Finding> = findings.iter().filter(|f| f.kind == kind).collect();
        if fs.is_empty() {
            continue;
        }
        let _ = writeln!(s, "### {label}\n");
        for f in fs {
            let failing: Vec<&ScenarioResult> = results
                .iter()
                .filter(|r| {
                    r.status == Status::Failed && f.scenarios.iter().any(|x| r.scenario.contains(x.as_str()))
                })
                .collect();
            let _ = writeln!(s, "#### `{}` — {}\n", f.id, f.title);
            let _ = writeln!(s, "{}\n", f.explanation.trim());
            let _ = writeln!(s, "Reference: {}\n", f.link);
            let _ = writeln!(s, "Failing scenarios ({}):\n", failing.len());
            for r in failing {
                let _ = writeln!(s, "- {} › {} ({}:{})", r.feature, r.scenario, r.file, r.line);
            }
            let _ = writeln!(s);
        }
    }
    let mut observed: BTreeMap<&str, usize> = BTreeMap::new();
    for o in results.iter().flat_map(|r| &r.observations) {
        *observed.entry(o.as_str()).or_default() += 1;
    }
    if !observed.is_empty() {
        let _ = writeln!(
            s,
            "## Observations\n\nWhere a specification allows two ways, the way this gateway chose (not failures):\n"
        );
        for (o, n) in observed {
            let _ = writeln!(s, "- {o} ({n} scenarios)");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Every scenario\n");
    let _ = writeln!(s, "| Feature | Scenario | Provider | Result |");
    let _ = writeln!(s, "|---|---|---|---|");
    for r in results {
        let result = match r.status {
            Status::Passed => "pass".to_owned(),
            Status::Failed | Status::Skipped => match explain(findings, r) {
                Some(f) => format!("**fail** — `{}`", f.id),
                None => "**fail**".to_owned(),
            },
            Status::NotApplicable => format!("n/a — {}", r.detail.as_deref().unwrap_or("")),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            r.feature,
            r.scenario.replace('|', "\\|"),
            r.provider,
            result.replace('|', "\\|")
        );
    }
    s
}
