//! The suite from Rust: what a gateway's own `cargo test` calls. One builder, [`Suite`]: a
//! profile (from a file or a TOML value), optionally a tag filter, a report folder and the
//! team's own scenarios; [`Suite::run`] returns the [`Outcome`] to assert on.
//!
//! ```no_run
//! # async fn conformance() -> Result<(), String> {
//! let outcome = gatecheck::Suite::from_file("tests/my-gateway.toml")?
//!     .tags("@login and not @browser")
//!     .report_dir("target/gatecheck-report")
//!     .run()
//!     .await?;
//! assert!(outcome.ok(), "{}", outcome.failures().join("\n"));
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::profile::Profile;
use crate::suite::{Outcome, RunOptions};

/// A run of the suite against one gateway, configured step by step.
#[derive(Debug)]
pub struct Suite {
    profile: Profile,
    tags: Option<String>,
    name: Option<String>,
    own_features: Vec<PathBuf>,
    report_dir: Option<PathBuf>,
    concurrency: usize,
    verbose: bool,
}

impl Suite {
    /// The suite against the gateway a profile file describes (docs/profiles.md). Its
    /// templates' `profile_dir` is the file's directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Suite, String> {
        let path = path.as_ref();
        let (profile, _) = Profile::resolve(&path.display().to_string()).map_err(|e| e.to_string())?;
        Ok(Suite::new(profile))
    }

    /// The suite against a profile given as TOML text; `profile_dir` is `dir`.
    pub fn from_toml(text: &str, dir: impl Into<PathBuf>) -> Result<Suite, String> {
        let mut profile = Profile::parse("(profile given as a value)", text).map_err(|e| e.to_string())?;
        profile.dir = dir.into();
        Ok(Suite::new(profile))
    }

    /// The suite against a profile built or loaded already.
    pub fn new(profile: Profile) -> Suite {
        Suite {
            profile,
            tags: None,
            name: None,
            own_features: Vec::new(),
            report_dir: None,
            concurrency: 8,
            verbose: false,
        }
    }

    /// Only scenarios matching a tag expression (`@login and not @browser`, or `@a,@b`).
    pub fn tags(mut self, expr: impl Into<String>) -> Suite {
        self.tags = Some(expr.into());
        self
    }

    /// Only scenarios whose name contains `text`.
    pub fn name(mut self, text: impl Into<String>) -> Suite {
        self.name = Some(text.into());
        self
    }

    /// A folder of your own `.feature` files, laid over the built-in scenarios (one with a
    /// built-in file's name replaces it). May be called more than once.
    pub fn features(mut self, dir: impl Into<PathBuf>) -> Suite {
        self.own_features.push(dir.into());
        self
    }

    /// Writes summary.md, matrix.html, junit.xml and results.json there (default: none).
    pub fn report_dir(mut self, dir: impl Into<PathBuf>) -> Suite {
        self.report_dir = Some(dir.into());
        self
    }

    /// How many scenarios run at once (default 8).
    pub fn concurrency(mut self, n: usize) -> Suite {
        self.concurrency = n.max(1);
        self
    }

    /// Prints every step as it runs (default: quiet).
    pub fn verbose(mut self, on: bool) -> Suite {
        self.verbose = on;
        self
    }

    /// Runs the scenarios. Errors are about the inputs (a bad tag expression, a features
    /// folder that is not one); failed scenarios are in the [`Outcome`].
    pub async fn run(self) -> Result<Outcome, String> {
        if let Some(t) = &self.tags {
            crate::suite::parse_tags(t)?;
        }
        let scratch = tempfile::tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let features = crate::bundle::features_with(&self.own_features, scratch.path())?;
        Ok(crate::suite::run(RunOptions {
            profile: Arc::new(self.profile),
            features,
            tags: self.tags,
            name: self.name,
            report_dir: self.report_dir,
            concurrency: self.concurrency,
            verbose: self.verbose,
            shard: None,
        })
        .await)
    }

    /// [`Suite::run`] on a runtime of its own, for a `harness = false` test's `main`.
    pub fn run_blocking(self) -> Result<Outcome, String> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a tokio runtime: {e}"))?
            .block_on(self.run())
    }
}
