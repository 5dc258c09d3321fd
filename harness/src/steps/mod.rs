//! The step library, grouped by domain: `setup` (the IdP, its users, the gateway's settings),
//! `idp` (scripting what the identity provider does next), `browse` (people using their
//! browsers, time passing, configuration changes), `check` (what the browser, the
//! application and the IdP saw), `events` and `admin` (the gateway's event stream and App
//! Users API), `attack` (the `@security` scenarios' attacks and checks), `connections`
//! (connection-level attacks: smuggled bodies, slow clients, tunnels, repeated Host),
//! `id_tokens` (forged ID tokens judged by OIDC Core §3.1.3.7: a signature check, or TLS to
//! the token endpoint), `cookies`, `leaks`, `redirects`, `requests`, `web`. Step texts are
//! written in the user's language; see `gatecheck list --steps`.

use std::time::Duration;

pub mod admin;
pub mod attack;
pub mod browse;
pub mod check;
pub mod connections;
pub mod cookies;
pub mod events;
pub mod id_tokens;
pub mod idp;
pub mod leaks;
pub mod redirects;
pub mod requests;
pub mod setup;
pub mod web;

/// `5 minutes`, `1 hour`, `30 seconds`, `2 days` → a duration.
pub fn duration(text: &str) -> Duration {
    let mut it = text.split_whitespace();
    let n: u64 = it
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text:?}: expected a number and a unit"));
    let unit = it.next().unwrap_or("seconds");
    let secs = match unit.trim_end_matches('s') {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        other => panic!("{text:?}: unknown unit {other:?}"),
    };
    Duration::from_secs(n * secs)
}
