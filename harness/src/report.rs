//! Reports: every scenario's outcome (passed, failed with the failing step and message, not
//! applicable with the reason), written as the conformance matrix (feature × provider) in
//! Markdown and HTML, a JSON dump, and the terminal's summary table. The outcomes are
//! collected during a run by [`crate::collect`]. Every file is made from the results alone,
//! so the shards of a split run merge into the report one run would have written
//! ([`crate::shard`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

/// How a scenario ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every step passed.
    Passed,
    /// A step (or hook) failed.
    Failed,
    /// A step has no definition (counts as a failure in CI).
    Skipped,
    /// The gateway's profile lacks a capability the scenario needs, or a system component
    /// is missing.
    NotApplicable,
}

/// One scenario's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ScenarioResult {
    /// Feature name.
    pub feature: String,
    /// Feature file (relative).
    pub file: String,
    /// Scenario name (outline rows expanded).
    pub scenario: String,
    /// Line in the feature file.
    pub line: usize,
    /// The provider column (from "the identity provider is …").
    pub provider: String,
    /// Outcome.
    pub status: Status,
    /// The failing (or skipped, or n/a) step and the message.
    pub detail: Option<String>,
    /// Wall time.
    pub millis: u64,
    /// The feature's and the scenario's tags (without `@`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// What the scenario noticed without failing: a mechanism the gateway chose where a
    /// spec allows two ways (PKCE instead of `state`, TLS instead of a signature check).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<String>,
}

/// The feature file's name (`login.feature`).
pub fn file_of(f: &cucumber::gherkin::Feature) -> String {
    f.path
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|x| x.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A scenario's tags with its feature's.
pub fn tags_of(feature: &cucumber::gherkin::Feature, scenario: &cucumber::gherkin::Scenario) -> Vec<String> {
    feature.tags.iter().chain(scenario.tags.iter()).cloned().collect()
}

/// The file-name form of a scenario name (`failures/<slug>.png`).
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Passed scenarios.
    pub passed: usize,
    /// Failed scenarios.
    pub failed: usize,
    /// Scenarios with an undefined step.
    pub skipped: usize,
    /// Not applicable to this gateway.
    pub not_applicable: usize,
}

impl Totals {
    /// From results.
    pub fn of(results: &[ScenarioResult]) -> Totals {
        let mut t = Totals::default();
        for r in results {
            match r.status {
                Status::Passed => t.passed += 1,
                Status::Failed => t.failed += 1,
                Status::Skipped => t.skipped += 1,
                Status::NotApplicable => t.not_applicable += 1,
            }
        }
        t
    }
}

const PROVIDER_ORDER: [&str; 9] = [
    "Google",
    "GitHub",
    "Microsoft",
    "GitLab",
    "LinkedIn",
    "Twitch",
    "Amazon",
    "Facebook",
    "Generic",
];

fn cell(results: &[&ScenarioResult]) -> (&'static str, String) {
    if results.is_empty() {
        return ("", String::new());
    }
    let failed = results
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Skipped))
        .count();
    let passed = results.iter().filter(|r| r.status == Status::Passed).count();
    let na = results.len() - failed - passed;
    if failed > 0 {
        ("fail", format!("✗ {failed}/{}", results.len()))
    } else if passed > 0 {
        (
            "pass",
            format!(
                "✓ {passed}{}",
                if na > 0 {
                    format!(" (+{na} n/a)")
                } else {
                    String::new()
                }
            ),
        )
    } else {
        ("na", "n/a".into())
    }
}

/// The matrix as Markdown: one row per feature, one column per provider, then the failures
/// and the not-applicable scenarios with their reasons.
pub fn markdown(profile: &str, results: &[ScenarioResult], elapsed: Duration) -> String {
    markdown_in(None, profile, results, elapsed)
}

fn markdown_in(dir: Option<&Path>, profile: &str, results: &[ScenarioResult], elapsed: Duration) -> String {
    let t = Totals::of(results);
    let mut s = String::new();
    let _ = writeln!(s, "# gatecheck conformance report — profile `{profile}`\n");
    let _ = writeln!(
        s,
        "{} scenarios: **{} passed**, **{} failed**, {} with undefined steps, {} not applicable — {:.1} s\n",
        results.len(),
        t.passed,
        t.failed,
        t.skipped,
        t.not_applicable,
        elapsed.as_secs_f64()
    );
    let features = features(results);
    let _ = write!(s, "| Feature |");
    for p in PROVIDER_ORDER {
        let _ = write!(s, " {p} |");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "|---|{}", "---|".repeat(PROVIDER_ORDER.len()));
    for f in &features {
        let _ = write!(s, "| {f} |");
        for p in PROVIDER_ORDER {
            let rs: Vec<&ScenarioResult> = results
                .iter()
                .filter(|r| &r.feature == f && r.provider == p)
                .collect();
            let _ = write!(s, " {} |", cell(&rs).1);
        }
        let _ = writeln!(s);
    }
    let failures: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Skipped))
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "\n## Failures\n");
        for r in failures {
            let shot = format!("failures/{}.png", slug(&r.scenario));
            let evidence = match dir {
                Some(d) if d.join(&shot).is_file() => format!(" — [screenshot]({shot})"),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "- **{}** › {} ({}:{}) — {}{evidence}",
                r.feature,
                r.scenario,
                r.file,
                r.line,
                excerpt(r.detail.as_deref().unwrap_or(""))
            );
        }
    }
    let observed: Vec<&ScenarioResult> = results.iter().filter(|r| !r.observations.is_empty()).collect();
    if !observed.is_empty() {
        let _ = writeln!(
            s,
            "\n## Observations\n\nWhat the gateway does where a spec allows two ways; worth knowing, not failures.\n"
        );
        for r in observed {
            for o in &r.observations {
                let _ = writeln!(s, "- {} › {} — {}", r.feature, r.scenario, excerpt(o));
            }
        }
    }
    // Screenshots scenarios kept on purpose (`a screenshot of the page is kept …`).
    if let Some(d) = dir
        && let Ok(entries) = std::fs::read_dir(d.join("screenshots"))
    {
        let mut shots: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".png"))
            .collect();
        shots.sort();
        if !shots.is_empty() {
            let _ = writeln!(s, "\n## Screenshots\n");
            for n in shots {
                let _ = writeln!(s, "- [{}](screenshots/{n})", n.trim_end_matches(".png"));
            }
        }
    }
    let na: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| r.status == Status::NotApplicable)
        .collect();
    security_section(&mut s, results);
    if !na.is_empty() {
        let _ = writeln!(s, "\n## Not applicable\n");
        for r in na {
            let _ = writeln!(
                s,
                "- {} › {} — {}",
                r.feature,
                r.scenario,
                r.detail.as_deref().unwrap_or("")
            );
        }
    }
    s
}

/// Longest failure message the summary shows; `results.json` keeps every message whole.
const EXCERPT_CHARS: usize = 600;

/// A failure message on one line, cut to [`EXCERPT_CHARS`] (whole HTML pages in a summary
/// make it unreadable).
fn excerpt(detail: &str) -> String {
    let line = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    let total = line.chars().count();
    if total <= EXCERPT_CHARS {
        return line;
    }
    let cut: String = line.chars().take(EXCERPT_CHARS).collect();
    format!(
        "{cut} … ({} more characters in results.json)",
        total - EXCERPT_CHARS
    )
}

fn features(results: &[ScenarioResult]) -> Vec<String> {
    let mut f: Vec<String> = Vec::new();
    for r in results {
        if !f.contains(&r.feature) {
            f.push(r.feature.clone());
        }
    }
    f.sort();
    f
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The matrix as a self-contained HTML page; a failing cell's tooltip names the failing step.
pub fn html(profile: &str, results: &[ScenarioResult], elapsed: Duration) -> String {
    let t = Totals::of(results);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><meta charset=utf-8><title>gatecheck — {p}</title>\
<style>body{{font:14px system-ui;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:center}}\
td.pass{{background:#e6f4ea}}td.fail{{background:#fce8e6}}td.na{{background:#f1f3f4;color:#777}}th:first-child,td:first-child{{text-align:left}}</style>\
<h1>gatecheck conformance — profile <code>{p}</code></h1><p>{n} scenarios: {pa} passed, {fa} failed, {sk} undefined, {na} not applicable — {el:.1} s</p><table><tr><th>Feature</th>",
        p = esc(profile),
        n = results.len(),
        pa = t.passed,
        fa = t.failed,
        sk = t.skipped,
        na = t.not_applicable,
        el = elapsed.as_secs_f64()
    );
    for p in PROVIDER_ORDER {
        let _ = write!(s, "<th>{p}</th>");
    }
    s.push_str("</tr>");
    for f in features(results) {
        let _ = write!(s, "<tr><td>{}</td>", esc(&f));
        for p in PROVIDER_ORDER {
            let rs: Vec<&ScenarioResult> = results
                .iter()
                .filter(|r| r.feature == f && r.provider == p)
                .collect();
            let (class, text) = cell(&rs);
            let title: Vec<String> = rs
                .iter()
                .filter(|r| r.status != Status::Passed)
                .map(|r| format!("{}: {}", r.scenario, r.detail.as_deref().unwrap_or("")))
                .collect();
            let _ = write!(
                s,
                "<td class=\"{class}\" title=\"{}\">{}</td>",
                esc(&title.join("\n")),
                esc(&text)
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    let failures: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Skipped))
        .collect();
    if !failures.is_empty() {
        s.push_str("<h2>Failures</h2><ul>");
        for r in failures {
            let _ = write!(
                s,
                "<li><b>{}</b> › {} <small>({}:{})</small><pre>{}</pre></li>",
                esc(&r.feature),
                esc(&r.scenario),
                esc(&r.file),
                r.line,
                esc(r.detail.as_deref().unwrap_or(""))
            );
        }
        s.push_str("</ul>");
    }
    s
}

/// The one-screen terminal summary: one line per feature with counts.
pub fn terminal_table(results: &[ScenarioResult]) -> String {
    let mut s = String::new();
    let width = features(results)
        .iter()
        .map(|f| f.chars().count())
        .max()
        .unwrap_or(10)
        .max(7);
    let _ = writeln!(
        s,
        "{:<width$}  {:>6} {:>6} {:>6} {:>6}",
        "Feature", "passed", "failed", "undef", "n/a"
    );
    for f in features(results) {
        let rs: Vec<ScenarioResult> = results.iter().filter(|r| r.feature == f).cloned().collect();
        let t = Totals::of(&rs);
        let _ = writeln!(
            s,
            "{f:<width$}  {:>6} {:>6} {:>6} {:>6}",
            t.passed, t.failed, t.skipped, t.not_applicable
        );
    }
    let t = Totals::of(results);
    let _ = writeln!(
        s,
        "{:<width$}  {:>6} {:>6} {:>6} {:>6}",
        "Total", t.passed, t.failed, t.skipped, t.not_applicable
    );
    s
}

/// One line per failed or skipped scenario, as the CLI and `cargo test` print them:
/// `FAILED feature › scenario (file:line)` and the failing step's message.
pub fn failure_lines(results: &[ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Skipped))
        .map(|r| {
            format!(
                "FAILED {} › {} ({}:{})\n       {}",
                r.feature,
                r.scenario,
                r.file,
                r.line,
                r.detail.as_deref().unwrap_or("")
            )
        })
        .collect()
}

/// One line per distinct reason scenarios were not applicable: `n/a: 10 scenarios — …`.
pub fn not_applicable_lines(results: &[ScenarioResult]) -> Vec<String> {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.status == Status::NotApplicable) {
        *reasons.entry(r.detail.as_deref().unwrap_or("")).or_default() += 1;
    }
    reasons
        .into_iter()
        .map(|(why, n)| format!("n/a: {n} scenario{} — {why}", if n == 1 { "" } else { "s" }))
        .collect()
}

/// Writes `summary.md`, `matrix.html` and `results.json` into `dir`.
pub fn write_all(dir: &Path, run: &RunInfo, results: &[ScenarioResult]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let elapsed = Duration::from_millis(run.elapsed_ms);
    std::fs::write(
        dir.join("summary.md"),
        markdown_in(Some(dir), &run.profile, results, elapsed),
    )?;
    std::fs::write(dir.join("matrix.html"), html(&run.profile, results, elapsed))?;
    std::fs::write(dir.join("junit.xml"), junit(&run.profile, results))?;
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(results).unwrap_or_default(),
    )?;
    std::fs::write(
        dir.join("run.json"),
        serde_json::to_string_pretty(run).unwrap_or_default(),
    )?;
    Ok(())
}

/// What a report folder's `run.json` says about the run that wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RunInfo {
    /// The profile's name.
    pub profile: String,
    /// Wall time, milliseconds.
    pub elapsed_ms: u64,
    /// The share of the scenarios this run had (`None`: all of them).
    pub shard: Option<crate::shard::Shard>,
    /// The tag expression, if any.
    pub tags: Option<String>,
}

/// JUnit XML: a test suite per feature, a test case per scenario (a failure with its message,
/// an undefined step as an error, not applicable as skipped with the reason).
pub fn junit(profile: &str, results: &[ScenarioResult]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<testsuites name=\"gatecheck {}\">", esc(profile));
    for f in features(results) {
        let rs: Vec<&ScenarioResult> = results.iter().filter(|r| r.feature == f).collect();
        let count = |st: Status| rs.iter().filter(|r| r.status == st).count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            esc(&f),
            rs.len(),
            count(Status::Failed),
            count(Status::Skipped),
            count(Status::NotApplicable)
        );
        for r in rs {
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{} [{}]\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
                esc(&f),
                esc(&r.scenario),
                esc(&r.provider),
                esc(&r.file),
                r.line,
                r.millis as f64 / 1000.0
            );
            let detail = esc(r.detail.as_deref().unwrap_or_default());
            match r.status {
                Status::Passed => s.push_str("/>\n"),
                Status::Failed => {
                    let _ = writeln!(s, ">\n      <failure message=\"{detail}\"/>\n    </testcase>");
                }
                Status::Skipped => {
                    let _ = writeln!(s, ">\n      <error message=\"{detail}\"/>\n    </testcase>");
                }
                Status::NotApplicable => {
                    let _ = writeln!(s, ">\n      <skipped message=\"{detail}\"/>\n    </testcase>");
                }
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

/// The order results are reported in: by feature file, line and name.
pub fn sort(results: &mut [ScenarioResult]) {
    results.sort_by(|a, b| (&a.file, a.line, &a.scenario).cmp(&(&b.file, b.line, &b.scenario)));
}

/// The security checklist items (`@sec-N`) and OpenID Foundation modules (`@oidcc-…`,
/// `@fapi…`) this run exercised, each passed only when all its scenarios passed: what a
/// person validating a gateway reads first. Nothing when the run had none.
fn security_section(s: &mut String, results: &[ScenarioResult]) {
    use std::collections::BTreeMap;
    let mut items: BTreeMap<(u8, u32, String), Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results {
        for t in &r.tags {
            let key = if let Some(n) = t.strip_prefix("sec-").and_then(|n| n.parse::<u32>().ok()) {
                (0, n, t.clone())
            } else if t.starts_with("oidcc-") || t.starts_with("fapi") {
                (1, 0, t.clone())
            } else {
                continue;
            };
            items.entry(key).or_default().push(r);
        }
    }
    if items.is_empty() {
        return;
    }
    let verdict = |rs: &[&ScenarioResult]| {
        if rs
            .iter()
            .any(|r| matches!(r.status, Status::Failed | Status::Skipped))
        {
            "FAIL"
        } else if rs.iter().all(|r| r.status == Status::NotApplicable) {
            "n/a"
        } else {
            "pass"
        }
    };
    let count = |kind: u8, v: &str| {
        items
            .iter()
            .filter(|((k, _, _), rs)| *k == kind && verdict(rs) == v)
            .count()
    };
    let _ = writeln!(s, "\n## Security checklist and OpenID Foundation modules\n");
    let _ = writeln!(
        s,
        "Checklist items: {} pass, {} fail, {} n/a. OpenID Foundation modules: {} pass, {} fail, {} n/a. \
         An item passes when every scenario tagged with it passed (SECURITY.md maps them).\n",
        count(0, "pass"),
        count(0, "FAIL"),
        count(0, "n/a"),
        count(1, "pass"),
        count(1, "FAIL"),
        count(1, "n/a")
    );
    let _ = writeln!(s, "| Item | Result | Scenarios |\n|---|---|---|");
    for ((_, _, tag), rs) in &items {
        let v = verdict(rs);
        let shown: Vec<String> = rs
            .iter()
            .filter(|r| v != "FAIL" || matches!(r.status, Status::Failed | Status::Skipped))
            .map(|r| r.scenario.replace('|', "\\|"))
            .collect();
        let _ = writeln!(s, "| @{tag} | {v} | {} |", shown.join("; "));
    }
}

/// Reads the report folders of the shards of one run and merges them: the same profile and
/// tags, shards `1/N` … `N/N` each exactly once, each scenario once. The run's wall time is
/// the longest shard's (they run side by side).
pub fn merge(dirs: &[&Path]) -> Result<(RunInfo, Vec<ScenarioResult>), String> {
    if dirs.is_empty() {
        return Err("report merge: name the report folders of the shards".into());
    }
    let mut runs: Vec<(RunInfo, Vec<ScenarioResult>)> = Vec::new();
    for dir in dirs {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| {
                format!(
                    "{}: {e} (is it a report folder written by `gatecheck run --shard I/N --report DIR`?)",
                    dir.join(name).display()
                )
            })
        };
        let run: RunInfo = serde_json::from_str(&read("run.json")?)
            .map_err(|e| format!("{}: {e}", dir.join("run.json").display()))?;
        let results: Vec<ScenarioResult> = serde_json::from_str(&read("results.json")?)
            .map_err(|e| format!("{}: {e}", dir.join("results.json").display()))?;
        runs.push((run, results));
    }
    let first = &runs[0].0;
    let count = match first.shard {
        Some(s) => s.count,
        None => {
            return Err(format!(
                "{} is not a shard (its run had no --shard)",
                dirs[0].display()
            ));
        }
    };
    let mut seen = vec![false; count as usize];
    for (dir, (run, _)) in dirs.iter().zip(&runs) {
        let Some(shard) = run.shard else {
            return Err(format!(
                "{} is not a shard (its run had no --shard)",
                dir.display()
            ));
        };
        if run.profile != first.profile || run.tags != first.tags || shard.count != count {
            return Err(format!(
                "{} is a shard of another run (profile {}, tags {:?}, {} shards; the first folder: profile {}, tags {:?}, {count} shards)",
                dir.display(),
                run.profile,
                run.tags,
                shard.count,
                first.profile,
                first.tags
            ));
        }
        let slot = &mut seen[(shard.index - 1) as usize];
        if *slot {
            return Err(format!("shard {shard} is given twice ({})", dir.display()));
        }
        *slot = true;
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !seen[(*i - 1) as usize])
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("shards missing: {}", missing.join(", ")));
    }
    let info = RunInfo {
        profile: first.profile.clone(),
        elapsed_ms: runs.iter().map(|(r, _)| r.elapsed_ms).max().unwrap_or(0),
        shard: None,
        tags: first.tags.clone(),
    };
    let mut results: Vec<ScenarioResult> = runs.into_iter().flat_map(|(_, r)| r).collect();
    sort(&mut results);
    if let Some(w) = results
        .windows(2)
        .find(|w| (&w[0].file, w[0].line, &w[0].scenario) == (&w[1].file, w[1].line, &w[1].scenario))
    {
        return Err(format!(
            "{} ({}:{}) is in two shards: were they run with different feature files?",
            w[0].scenario, w[0].file, w[0].line
        ));
    }
    Ok((info, results))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(scenario: &str, status: Status, tags: &[&str]) -> ScenarioResult {
        ScenarioResult {
            feature: "F".into(),
            file: "f.feature".into(),
            scenario: scenario.into(),
            line: 1,
            provider: "Google".into(),
            status,
            detail: None,
            millis: 1,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            observations: Vec::new(),
        }
    }

    #[test]
    fn an_item_passes_only_when_all_its_scenarios_pass() {
        let results = [
            result("a", Status::Passed, &["security", "sec-2"]),
            result("b", Status::Failed, &["security", "sec-2"]),
            result("c", Status::Passed, &["security", "sec-10"]),
            result("d", Status::NotApplicable, &["oidf", "oidcc-client-test"]),
            result("e", Status::Passed, &["login"]),
        ];
        let mut s = String::new();
        security_section(&mut s, &results);
        assert!(s.contains("Checklist items: 1 pass, 1 fail, 0 n/a."), "{s}");
        assert!(
            s.contains("OpenID Foundation modules: 0 pass, 0 fail, 1 n/a."),
            "{s}"
        );
        assert!(
            s.contains("| @sec-2 | FAIL | b |"),
            "only the failing scenario is named: {s}"
        );
        // Items in checklist order: 2 before 10.
        assert!(s.find("@sec-2").unwrap() < s.find("@sec-10").unwrap());
        let mut none = String::new();
        security_section(&mut none, &results[4..]);
        assert!(none.is_empty());
    }

    #[test]
    fn the_summary_cuts_long_failure_messages_and_lists_observations() {
        let mut failed = result("long", Status::Failed, &[]);
        failed.detail = Some(format!("Then x: <html>{}</html>", "page ".repeat(2000)));
        let mut observed = result("tls", Status::Passed, &[]);
        observed.observations = vec!["the gateway relied on TLS".into()];
        let md = markdown("p", &[failed, observed], Duration::from_secs(1));
        let line = md
            .lines()
            .find(|l| l.contains("› long"))
            .expect("the failure line");
        assert!(line.chars().count() < EXCERPT_CHARS + 200, "{line}");
        assert!(line.ends_with("more characters in results.json)"), "{line}");
        assert!(md.contains("## Observations"), "{md}");
        assert!(md.contains("F › tls — the gateway relied on TLS"), "{md}");
    }
}
