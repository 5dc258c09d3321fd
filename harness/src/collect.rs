//! The cucumber writer that collects every scenario's outcome during a run: passed, failed
//! with the failing step and its message, undefined; [`crate::report`] writes them out.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cucumber::event::{self, Cucumber, Feature, Hook, Scenario, Step};
use cucumber::{Event, Writer, cli, parser};

use crate::provider::{Provider, provider_column};
use crate::report::{ScenarioResult, Status, file_of, tags_of};
use crate::world::{GateWorld, Observations};

/// Results shared between the writer and the caller.
#[derive(Clone, Default)]
pub struct Collected(pub Arc<Mutex<Vec<ScenarioResult>>>);

/// The collecting writer.
pub struct Matrix {
    out: Collected,
    default_provider: Provider,
    observations: Observations,
    running: BTreeMap<(String, usize), (Instant, Option<String>, bool)>,
}

impl Matrix {
    /// A writer that appends to `out`.
    pub fn new(out: Collected, default_provider: Provider, observations: Observations) -> Matrix {
        Matrix {
            out,
            default_provider,
            observations,
            running: BTreeMap::new(),
        }
    }
}

impl Writer<GateWorld> for Matrix {
    type Cli = cli::Empty;

    async fn handle_event(&mut self, event: parser::Result<Event<Cucumber<GateWorld>>>, _: &Self::Cli) {
        let Ok(Event { value, .. }) = event else { return };
        let Cucumber::Feature(feature, Feature::Scenario(scenario, ev)) = value else {
            return;
        };
        let key = (feature.name.clone(), scenario.position.line);
        let fail = |step: &cucumber::gherkin::Step, err: &event::StepError| {
            let msg = err.to_string();
            let msg = msg.trim_start_matches("Step panicked. Captured output: ");
            format!("{} {}: {msg}", step.keyword.trim(), step.value)
        };
        match ev.event {
            Scenario::Started => {
                self.running.insert(key, (Instant::now(), None, false));
            }
            Scenario::Step(step, Step::Failed(_, _, _, err))
            | Scenario::Background(step, Step::Failed(_, _, _, err)) => {
                if let Some(r) = self.running.get_mut(&key) {
                    r.1.get_or_insert_with(|| fail(&step, &err));
                }
            }
            Scenario::Step(step, Step::Skipped) | Scenario::Background(step, Step::Skipped) => {
                if let Some(r) = self.running.get_mut(&key)
                    && r.1.is_none()
                {
                    r.1 = Some(format!(
                        "{} {}: no step definition matches",
                        step.keyword.trim(),
                        step.value
                    ));
                    r.2 = true;
                }
            }
            Scenario::Hook(kind, Hook::Failed(_, info)) => {
                if let Some(r) = self.running.get_mut(&key) {
                    let msg = info
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    r.1.get_or_insert_with(|| format!("{kind} hook failed: {msg}"));
                }
            }
            Scenario::Finished => {
                let (started, detail, skipped) =
                    self.running.remove(&key).unwrap_or((Instant::now(), None, false));
                let status = match (&detail, skipped) {
                    (None, _) => Status::Passed,
                    (Some(_), true) => Status::Skipped,
                    (Some(_), false) => Status::Failed,
                };
                let file = file_of(&feature);
                self.out.0.lock().unwrap().push(ScenarioResult {
                    feature: feature.name.clone(),
                    file,
                    scenario: scenario.name.clone(),
                    line: scenario.position.line,
                    provider: provider_column(&feature, &scenario, self.default_provider),
                    status,
                    detail,
                    millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    tags: tags_of(&feature, &scenario),
                    observations: self.observations.take(&key),
                });
            }
            _ => {}
        }
    }
}

impl cucumber::writer::NonTransforming for Matrix {}
