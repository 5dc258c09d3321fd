//! `gatecheck`: run the conformance suite against a gateway profile, list the scenarios, or
//! list the profiles. With no arguments it runs the whole suite against the reference
//! gateway (embedded profile, in-memory sessions, no setup) and writes the report folder.
//!
//! Exit codes: 0 — every applicable scenario passed; 1 — a scenario failed or has an
//! undefined step; 2 — bad arguments or profile.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use gatecheck::profile::{CAPABILITIES, Profile, profiles_dir};
use gatecheck::suite::{RunOptions, not_applicable};

#[derive(Parser)]
#[command(
    name = "gatecheck",
    version,
    about = "Conformance suite for OAuth/OIDC login gateways"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenarios against a gateway (default: the reference gateway).
    Run(RunArgs),
    /// List the scenarios with their tags, and whether they apply to a profile.
    List {
        /// The profile to check applicability against.
        #[arg(long, default_value = "reference")]
        gateway: String,
        /// Only scenarios matching this tag expression.
        #[arg(long)]
        tags: Option<String>,
        /// A folder of your own .feature files, laid over the built-in scenarios (a file
        /// with a built-in one's name replaces it); repeatable.
        #[arg(long = "features", value_name = "DIR")]
        features: Vec<PathBuf>,
    },
    /// List the gateway profiles and the capabilities a profile can claim.
    Profiles,
    /// Work with report folders.
    #[command(subcommand)]
    Report(ReportCommand),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge the report folders of the shards of one run (`gatecheck run --shard I/N`) into
    /// the report one run would have written.
    Merge {
        /// The shards' report folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged report.
        #[arg(long, default_value = "gatecheck-report")]
        out: PathBuf,
    },
}

#[derive(clap::Args, Default)]
struct RunArgs {
    /// `reference`, a profile name under fixtures/gateways/, or a profile file.
    #[arg(long, default_value = "reference")]
    gateway: String,
    /// A tag expression, e.g. `@login and not @redis-replicas`.
    #[arg(long)]
    tags: Option<String>,
    /// Only scenarios whose name contains this text.
    #[arg(long)]
    name: Option<String>,
    /// Where to write summary.md, matrix.html, junit.xml and results.json.
    #[arg(long, default_value = "gatecheck-report")]
    report: PathBuf,
    /// A folder of your own .feature files, laid over the built-in scenarios (a file with a
    /// built-in one's name replaces it); repeatable.
    #[arg(long = "features", value_name = "DIR")]
    features: Vec<PathBuf>,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Only the summary, not every step.
    #[arg(long, short)]
    quiet: bool,
    /// Run only the I-th of N shares of the scenarios (`2/4`), to split a run across
    /// machines; merge the reports with `gatecheck report merge`.
    #[arg(long)]
    shard: Option<gatecheck::shard::Shard>,
}

/// The scenarios of this run: the built-in ones with the team's own (`--features`) laid over
/// them, in `scratch` (which must live as long as the run).
fn features_dir(own: &[PathBuf], scratch: &tempfile::TempDir) -> Result<PathBuf, String> {
    gatecheck::bundle::features_with(own, scratch.path())
}

fn scratch() -> Result<tempfile::TempDir, String> {
    tempfile::tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run(RunArgs {
        gateway: "reference".into(),
        report: PathBuf::from("gatecheck-report"),
        concurrency: 16,
        ..Default::default()
    })) {
        Command::Run(a) => run(a),
        Command::List {
            gateway,
            tags,
            features,
        } => list(&gateway, tags, &features),
        Command::Profiles => profiles(),
        Command::Report(ReportCommand::Merge { dirs, out }) => merge(&dirs, &out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gatecheck: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(a: RunArgs) -> Result<ExitCode, String> {
    let (profile, path) = Profile::resolve(&a.gateway).map_err(|e| e.to_string())?;
    let scratch = scratch()?;
    let features = features_dir(&a.features, &scratch)?;
    if let Some(t) = &a.tags {
        gatecheck::suite::parse_tags(t)?;
    }
    println!(
        "gatecheck: profile {} ({}), features {}",
        profile.name,
        path.display(),
        features.display()
    );
    let opts = RunOptions {
        profile: Arc::new(profile),
        features,
        tags: a.tags,
        name: a.name,
        report_dir: Some(a.report.clone()),
        concurrency: a.concurrency,
        verbose: !a.quiet,
        shard: a.shard,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let outcome = rt.block_on(gatecheck::suite::run(opts));
    println!();
    print!("{}", gatecheck::report::terminal_table(&outcome.results));
    for line in gatecheck::report::failure_lines(&outcome.results) {
        println!("{line}");
    }
    for line in gatecheck::report::not_applicable_lines(&outcome.results) {
        println!("{line}");
    }
    println!(
        "\n{} passed, {} failed, {} undefined, {} not applicable in {:.1} s — report: {}/summary.md, matrix.html, junit.xml",
        outcome.totals.passed,
        outcome.totals.failed,
        outcome.totals.skipped,
        outcome.totals.not_applicable,
        outcome.elapsed.as_secs_f64(),
        a.report.display()
    );
    Ok(if outcome.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn list(gateway: &str, tags: Option<String>, features: &[PathBuf]) -> Result<ExitCode, String> {
    use cucumber::tag::Ext as _;
    let (profile, _) = Profile::resolve(gateway).map_err(|e| e.to_string())?;
    let scratch = scratch()?;
    let dir = features_dir(features, &scratch)?;
    let op: Option<cucumber::gherkin::tagexpr::TagOperation> =
        tags.as_deref().map(gatecheck::suite::parse_tags).transpose()?;
    let files = gatecheck::bundle::feature_files(&dir);
    let (mut total, mut applicable) = (0, 0);
    for f in files {
        let feature = cucumber::gherkin::Feature::parse_path(&f, cucumber::gherkin::GherkinEnv::default())
            .map_err(|e| format!("{}: {e}", f.display()))?;
        let feature =
            cucumber::feature::Ext::expand_examples(feature).map_err(|e| format!("{}: {e}", f.display()))?;
        let mut header = Some(format!(
            "{} ({})",
            feature.name,
            f.file_name().unwrap_or_default().to_string_lossy()
        ));
        for s in &feature.scenarios {
            let tags: Vec<&String> = feature.tags.iter().chain(s.tags.iter()).collect();
            if let Some(op) = &op
                && !op.eval(tags.iter().map(|t| t.as_str()))
            {
                continue;
            }
            if let Some(h) = header.take() {
                println!("{h}");
            }
            total += 1;
            let na = not_applicable(&profile, &feature, s);
            if na.is_none() {
                applicable += 1;
            }
            let tag_text: Vec<String> = s.tags.iter().map(|t| format!("@{t}")).collect();
            println!(
                "  {:<4} {}{}{}",
                s.position.line,
                s.name,
                if tag_text.is_empty() {
                    String::new()
                } else {
                    format!("  {}", tag_text.join(" "))
                },
                na.map(|r| format!("  [n/a: {r}]")).unwrap_or_default()
            );
        }
    }
    println!(
        "\n{total} scenarios, {applicable} applicable to profile {}",
        profile.name
    );
    Ok(ExitCode::SUCCESS)
}

fn profiles() -> Result<ExitCode, String> {
    println!("reference (embedded)  {}", Profile::reference().description);
    let dir = profiles_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        match Profile::resolve(&p.display().to_string()) {
            Ok((prof, _)) => println!("{:<20}  {} ({})", prof.name, prof.description, p.display()),
            Err(e) => println!("{:<20}  INVALID: {e}", p.display()),
        }
    }
    println!("\nCapabilities a profile can claim (scenario tags):");
    for (c, what) in CAPABILITIES {
        println!("  @{c:<22} {what}");
    }
    Ok(ExitCode::SUCCESS)
}

fn merge(dirs: &[PathBuf], out: &std::path::Path) -> Result<ExitCode, String> {
    let refs: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
    let (run, results) = gatecheck::report::merge(&refs)?;
    if dirs.iter().any(|d| d.as_path() == out) {
        return Err(format!(
            "--out {} is one of the shards: pick another folder",
            out.display()
        ));
    }
    // The failure evidence of every shard, next to the merged summary that links it.
    for d in dirs {
        let from = d.join("failures");
        if from.is_dir() {
            let to = out.join("failures");
            std::fs::create_dir_all(&to).map_err(|e| format!("{}: {e}", to.display()))?;
            for e in std::fs::read_dir(&from)
                .map_err(|e| format!("{}: {e}", from.display()))?
                .flatten()
            {
                std::fs::copy(e.path(), to.join(e.file_name()))
                    .map_err(|err| format!("copying {}: {err}", e.path().display()))?;
            }
        }
    }
    gatecheck::report::write_all(out, &run, &results).map_err(|e| format!("{}: {e}", out.display()))?;
    let t = gatecheck::report::Totals::of(&results);
    println!(
        "merged {} shards: {} passed, {} failed, {} undefined, {} not applicable — report: {}/summary.md, matrix.html, junit.xml",
        dirs.len(),
        t.passed,
        t.failed,
        t.skipped,
        t.not_applicable,
        out.display()
    );
    Ok(if t.failed == 0 && t.skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
