//! Runs split across machines: `gatecheck run --shard I/N` runs a deterministic share of the
//! scenarios (applicable or not: each lands in exactly one shard, chosen by a stable hash of
//! its feature file, line and name), and `gatecheck report merge DIR…` puts the shards'
//! report folders back together into the report one run would have written
//! ([`crate::report::merge`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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
