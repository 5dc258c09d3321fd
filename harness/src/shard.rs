//! Runs split across machines: `gatecheck run --shard I/N` runs a deterministic share of the
//! scenarios (applicable or not: each lands in exactly one shard, chosen by a stable hash of
//! its feature file, line and name), and `gatecheck report merge DIR…` puts the shards'
//! report folders back together into the report one run would have written.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::report::{RunInfo, ScenarioResult};

/// The `I`-th of `N` shares (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    /// Which share, 1 ≤ index ≤ count.
    pub index: u32,
    /// How many shares.
    pub count: u32,
}

impl Shard {
    /// Whether the scenario at `file:line` named `name` is in this share.
    pub fn contains(&self, file: &str, line: usize, name: &str) -> bool {
        // FNV-1a: stable across runs, platforms and Rust versions.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in format!("{file}:{line}:{name}").bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s:?}: write I/N, the I-th of N shares (1 ≤ I ≤ N), e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(s: String) -> Result<Shard, String> {
        s.parse()
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
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
    crate::report::sort(&mut results);
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

    #[test]
    fn shards_parse_and_split_every_scenario_into_exactly_one() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("write I/N"), "{bad}: {e}");
        }
        let shards: Vec<Shard> = (1..=3).map(|i| Shard { index: i, count: 3 }).collect();
        let mut sizes = [0; 3];
        for n in 0..300 {
            let name = format!("scenario {n}");
            let owners: Vec<usize> = (0..3)
                .filter(|&i| shards[i].contains("login.feature", n, &name))
                .collect();
            assert_eq!(owners.len(), 1);
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&s| s > 60), "roughly even: {sizes:?}");
    }
}
