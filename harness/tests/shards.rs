//! A run split across machines gives the report one run gives: `gatecheck run --shard I/N`
//! on each, then `gatecheck report merge`. Checked with the real binary on a selection of
//! scenarios (some of them not applicable to the profile), run whole and as three shards.

use std::path::Path;
use std::process::Command;

use gatecheck::profile::workspace_root;

/// Scenarios of several features (the `@special-paths` ones not applicable to the profile
/// below), few enough to run four times.
const TAGS: &str = "@sec-53,@sec-37,@sec-54,@special-paths";

/// The reference profile without the `special-paths` capability, in `dir`.
fn profile_without_special_paths(dir: &Path) -> String {
    let text = std::fs::read_to_string(workspace_root().join("fixtures/gateways/reference.toml"))
        .unwrap()
        .replace(
            "name = \"reference\"",
            "name = \"reference-without-special-paths\"",
        )
        .replace("    \"special-paths\",\n", "");
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn gatecheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("gatecheck runs")
}

fn run(profile: &str, report: &Path, shard: Option<&str>) {
    let mut args = vec![
        "run",
        "--gateway",
        profile,
        "--tags",
        TAGS,
        "--quiet",
        "--concurrency",
        "8",
        "--report",
        report.to_str().unwrap(),
    ];
    if let Some(s) = shard {
        args.extend(["--shard", s]);
    }
    let out = gatecheck(&args);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A report file with its timings taken out (they differ from run to run).
fn without_timings(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = String::new();
    for line in text.lines() {
        // "… not applicable — 3.2 s", "in 3.2 s", time="0.123", "millis": 12
        let mut l = line.to_owned();
        for (start, end) in [("time=\"", "\""), ("\"millis\": ", ","), ("\"millis\": ", "")] {
            if let Some(i) = l.find(start) {
                let from = i + start.len();
                let to = if end.is_empty() {
                    l.len()
                } else {
                    l[from..].find(end).map_or(l.len(), |j| from + j)
                };
                l.replace_range(from..to, "T");
            }
        }
        if let Some(i) = l.rfind(" — ")
            && l.ends_with(" s")
        {
            l.truncate(i);
        }
        if let Some(i) = l.find(" s</") {
            let digits = l[..i]
                .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(0, |j| j + 1);
            l.replace_range(digits..i, "T");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[test]
fn three_shards_merge_into_the_report_of_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = profile_without_special_paths(tmp.path());
    let whole = tmp.path().join("whole");
    run(&profile, &whole, None);
    let shards: Vec<_> = (1..=3).map(|i| tmp.path().join(format!("shard-{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        run(&profile, dir, Some(&format!("{}/3", i + 1)));
    }
    let merged = tmp.path().join("merged");
    let mut args = vec!["report", "merge", "--out", merged.to_str().unwrap()];
    args.extend(shards.iter().map(|d| d.to_str().unwrap()));
    let out = gatecheck(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Every shard had work, and none had all of it.
    let count = |dir: &Path| {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
        v.as_array().unwrap().len()
    };
    let total = count(&whole);
    assert!(total > 20, "{total} scenarios");
    let summary = std::fs::read_to_string(whole.join("summary.md")).unwrap();
    assert!(
        !summary.contains(" 0 not applicable"),
        "some scenarios are n/a: {summary}"
    );
    for s in &shards {
        let n = count(s);
        assert!(n > 0 && n < total, "a shard ran {n} of {total}");
    }
    for file in ["results.json", "summary.md", "matrix.html", "junit.xml"] {
        assert_eq!(
            without_timings(&merged.join(file)),
            without_timings(&whole.join(file)),
            "merged {file} differs from one run's"
        );
    }
}

#[test]
fn a_merge_with_a_shard_missing_or_twice_or_from_another_run_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    for (dir, shard) in [(&a, "1/2"), (&b, "1/2")] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("run.json"),
            format!(r#"{{"profile":"reference","elapsed_ms":1,"shard":"{shard}","tags":null}}"#),
        )
        .unwrap();
        std::fs::write(dir.join("results.json"), "[]").unwrap();
    }
    let merge = |dirs: &[&Path]| {
        let mut args = vec!["report", "merge", "--out"];
        let out = tmp.path().join("out");
        let out = out.to_str().unwrap().to_owned();
        args.push(&out);
        let dirs: Vec<String> = dirs.iter().map(|d| d.to_str().unwrap().to_owned()).collect();
        args.extend(dirs.iter().map(String::as_str));
        gatecheck(&args)
    };
    let twice = merge(&[&a, &b]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("shard 1/2 is given twice"));
    let missing = merge(&[&a]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("shards missing: 2/2"));
    let nothing = merge(&[&tmp.path().join("nowhere")]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("is it a report folder"));
}
