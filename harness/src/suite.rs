//! Running the feature suite against a gateway profile: scenario selection (tags, names),
//! "not applicable" decisions (capabilities the profile lacks, providers it does not
//! support, system components that are missing), a shard of them when the run is split,
//! cucumber with the terminal writer and the results collector, and the report folder.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::writer::{self, Coloring};
use cucumber::{World as _, WriterExt as _};

use crate::collect::{Collected, Matrix};
use crate::profile::{CAPABILITIES, Profile};
use crate::report::{ScenarioResult, Status, Totals, file_of};
use crate::world::{GateWorld, RunContext, within};

/// What to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The profile of the gateway under test.
    pub profile: Arc<Profile>,
    /// `features/` (or one file).
    pub features: PathBuf,
    /// A cucumber tag expression (`@login and not @slow`).
    pub tags: Option<String>,
    /// Only scenarios whose name contains this.
    pub name: Option<String>,
    /// Where the reports go (`None`: no files).
    pub report_dir: Option<PathBuf>,
    /// Scenarios run at once.
    pub concurrency: usize,
    /// Print every step (cucumber's writer) or only the summary.
    pub verbose: bool,
    /// Run only this share of the scenarios (a run split across machines).
    pub shard: Option<crate::shard::Shard>,
}

/// What happened.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Per scenario.
    pub results: Vec<ScenarioResult>,
    /// Counts.
    pub totals: Totals,
    /// Wall time.
    pub elapsed: Duration,
}

impl Outcome {
    /// No failure and no undefined step.
    pub fn ok(&self) -> bool {
        self.totals.failed == 0 && self.totals.skipped == 0
    }

    /// One entry per failed or undefined scenario: its name, file and line, and why.
    pub fn failures(&self) -> Vec<String> {
        crate::report::failure_lines(&self.results)
    }
}

/// Parses a `--tags` expression: cucumber's (`@a and not @b`, `@a or @b`) or a plain
/// comma list, `@security,@oidf`, meaning any of them.
pub fn parse_tags(expr: &str) -> Result<TagOperation, String> {
    let text = if expr.contains(',') && !expr.contains('(') {
        expr.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" or ")
    } else {
        expr.to_owned()
    };
    text.parse()
        .map_err(|e| format!("--tags {expr:?} is not a tag expression ({e}); write e.g. `@security,@oidf` or `@login and not @browser`"))
}

/// Why a scenario does not apply to this profile (or machine), if it does not.
pub fn not_applicable(
    profile: &Profile,
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
) -> Option<String> {
    let tags = feature.tags.iter().chain(scenario.tags.iter());
    let mut missing: Vec<&str> = Vec::new();
    for t in tags {
        if CAPABILITIES.iter().any(|(c, _)| c == t) && !profile.has(t) && !missing.contains(&t.as_str()) {
            missing.push(t);
        }
    }
    if let Some((tag, reason)) = feature
        .tags
        .iter()
        .chain(scenario.tags.iter())
        .find_map(|t| profile.not_applicable.get_key_value(t))
    {
        return Some(format!("@{tag}: {reason}"));
    }
    if !missing.is_empty() {
        return Some(format!(
            "profile {} does not claim {}",
            profile.name,
            missing
                .iter()
                .map(|m| format!("@{m}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // A scenario naming no known provider is left to run: its step then fails, saying so.
    if let Ok(provider) = crate::provider::of_scenario(feature, scenario, profile.default_provider)
        && !profile.providers.contains(&provider)
    {
        return Some(format!("profile {} does not support {provider}", profile.name));
    }
    let all_tags: Vec<&String> = feature.tags.iter().chain(scenario.tags.iter()).collect();
    if all_tags.iter().any(|t| *t == "browser")
        && let Err(reason) = crate::browser::locate()
    {
        assert!(
            !crate::system::components_required(),
            "{reason} — CI must install it (.ci/run)"
        );
        return Some(reason);
    }
    if all_tags.iter().any(|t| *t == "redis-replicas") && crate::system::find("redis-server").is_none() {
        let reason = "redis-server is not installed (apt-get install redis-server)".to_owned();
        assert!(
            !crate::system::components_required(),
            "{reason} — CI must install it (.ci/run)"
        );
        return Some(reason);
    }
    None
}

/// Runs the suite.
pub async fn run(opts: RunOptions) -> Outcome {
    let started = Instant::now();
    let collected = Collected::default();
    let ctx = RunContext::new(opts.profile.clone(), opts.report_dir.clone());
    let skipped: Arc<std::sync::Mutex<Vec<ScenarioResult>>> = Arc::default();
    let tag_filter: Option<TagOperation> = opts
        .tags
        .as_deref()
        .map(|t| parse_tags(t).unwrap_or_else(|e| panic!("{e}")));
    if let Some(dir) = &opts.report_dir {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        // Evidence of an earlier run would be mistaken for this one's.
        let _ = std::fs::remove_dir_all(dir.join("failures"));
        let _ = std::fs::remove_dir_all(dir.join("screenshots"));
    }
    let shard = opts.shard;
    let profile = opts.profile.clone();
    let na = skipped.clone();
    let name = opts.name.clone();
    let filter = move |f: &cucumber::gherkin::Feature,
                       _: Option<&cucumber::gherkin::Rule>,
                       s: &cucumber::gherkin::Scenario| {
        let tags: Vec<&String> = f.tags.iter().chain(s.tags.iter()).collect();
        if let Some(op) = &tag_filter
            && !op.eval(tags.iter().map(|t| t.as_str()))
        {
            return false;
        }
        if let Some(n) = &name
            && !s.name.contains(n.as_str())
        {
            return false;
        }
        if let Some(shard) = shard
            && !shard.contains(&file_of(f), s.position.line, &s.name)
        {
            return false;
        }
        if let Some(reason) = not_applicable(&profile, f, s) {
            na.lock().unwrap().push(ScenarioResult {
                feature: f.name.clone(),
                file: file_of(f),
                scenario: s.name.clone(),
                line: s.position.line,
                provider: crate::provider::provider_column(f, s, profile.default_provider),
                status: Status::NotApplicable,
                detail: Some(reason),
                tags: crate::report::tags_of(f, s),
                millis: 0,
                observations: Vec::new(),
            });
            return false;
        }
        true
    };
    let verbosity = 0;
    let out: Box<dyn std::io::Write> = if opts.verbose {
        Box::new(std::io::stdout())
    } else {
        Box::new(std::io::sink())
    };
    let basic = writer::Basic::raw(out, Coloring::Auto, verbosity);
    let cucumber = GateWorld::cucumber()
        .before(|feature, _, scenario, world| {
            world.scenario = scenario.name.clone();
            world.scenario_key = (feature.name.clone(), scenario.position.line);
            world.uses_browser = feature
                .tags
                .iter()
                .chain(scenario.tags.iter())
                .any(|t| t == "browser");
            Box::pin(async {})
        })
        .after(|_, _, _, finished, world| {
            let failed = !matches!(finished, cucumber::event::ScenarioFinished::StepPassed);
            Box::pin(async move {
                if let Some(w) = world {
                    w.finish(failed).await;
                }
            })
        })
        .max_concurrent_scenarios(opts.concurrency.max(1))
        .fail_on_skipped()
        .with_writer(
            basic
                .summarized()
                .tee::<GateWorld, _>(
                    Matrix::new(
                        collected.clone(),
                        opts.profile.default_provider,
                        ctx.observations.clone(),
                    )
                    .discard_stats_writes()
                    .discard_arbitrary_writes(),
                )
                .normalized(),
        )
        .with_default_cli();
    within(ctx, cucumber.filter_run(opts.features.clone(), filter)).await;
    let mut results = collected.0.lock().unwrap().clone();
    results.extend(skipped.lock().unwrap().iter().cloned());
    crate::report::sort(&mut results);
    let elapsed = started.elapsed();
    if let Some(dir) = &opts.report_dir {
        let run = crate::report::RunInfo {
            profile: opts.profile.name.clone(),
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            shard: opts.shard,
            tags: opts.tags.clone(),
        };
        crate::report::write_all(dir, &run, &results)
            .unwrap_or_else(|e| panic!("writing the report to {}: {e}", dir.display()));
    }
    Outcome {
        totals: Totals::of(&results),
        results,
        elapsed,
    }
}
