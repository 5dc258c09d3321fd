//! The open-redirect corpus (`fixtures/security/open-redirects.txt`): every payload as the
//! page asked for before logging in, and as a parameter of the gateway's own paths; none may
//! send the browser off the gateway's origin.

use cucumber::{then, when};

use super::browse::code_for;
use super::requests::{raw, wire_target};
use crate::agent::Hop;
use crate::world::GateWorld;

/// The open-redirect corpus (`fixtures/security/open-redirects.txt`), one payload per line.
pub const OPEN_REDIRECTS: &str = include_str!("../../../fixtures/security/open-redirects.txt");

/// The corpus payloads (comments and blank lines dropped).
pub fn open_redirect_payloads() -> Vec<&'static str> {
    OPEN_REDIRECTS
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[when(regex = r"^(\w+) opens every path of the open-redirect corpus and logs in each time$")]
async fn corpus_as_original_path(w: &mut GateWorld, name: String) {
    w.env().await;
    let idp_origin = w.started().idp.url("/");
    let mut failures = Vec::new();
    let payloads = open_redirect_payloads();
    assert!(
        payloads.len() >= 100,
        "the corpus has only {} payloads",
        payloads.len()
    );
    let mut unfinished = Vec::new();
    for payload in &payloads {
        let target = if payload.starts_with('/') {
            wire_target(payload)
        } else {
            format!("/{}", wire_target(payload))
        };
        w.person(&name).ua.clear_cookies();
        let first = raw(w, &name, "GET", &target, None, &[]).await;
        let mut hops = vec![first.clone()];
        if let Some(login) = first.location.clone()
            && login.as_str().starts_with(idp_origin.trim_end_matches('/'))
        {
            let back = code_for(w, &name, &login, &name).await;
            let more = w.person(&name).ua.follow(back.as_str()).await;
            hops.extend(more);
            // The check means something only if the login got as far as the page it was for.
            let cookie = w.profile.session_cookie.clone();
            if w.person(&name).ua.cookie("app.localhost", &cookie).is_none() {
                unfinished.push(format!("{payload:?}:\n{}", super::browse::describe(&hops)));
            }
        }
        failures.extend(escapes(w, &hops, &format!("{payload:?}")));
    }
    assert!(
        unfinished.is_empty(),
        "{} of {} logins started by the corpus did not end with a session, so where they would have sent the browser was never tested:\n{}",
        unfinished.len(),
        payloads.len(),
        unfinished.join("\n")
    );
    note_corpus_run(w, failures, payloads.len());
}

/// Adds one corpus pass (its failures, how many requests it sent) to what the scenario's
/// `no payload sent the browser off the gateway's origin` step checks.
fn note_corpus_run(w: &mut GateWorld, failures: Vec<String>, sent: usize) {
    w.probes.corpus.failures.extend(failures);
    w.probes.corpus.sent += sent;
}

#[when(regex = r#"^(\w+) sends every payload of the open-redirect corpus as "([^"]*)" to "([^"]*)"$"#)]
async fn corpus_as_parameter(w: &mut GateWorld, name: String, param: String, path: String) {
    w.env().await;
    let mut failures = Vec::new();
    let payloads = open_redirect_payloads();
    for payload in &payloads {
        let value: String = url::form_urlencoded::byte_serialize(payload.as_bytes()).collect();
        let sep = if path.contains('?') { '&' } else { '?' };
        let target = format!("{path}{sep}{param}={value}");
        let first = raw(w, &name, "GET", &target, None, &[]).await;
        let mut hops = vec![first.clone()];
        if let Some(next) = first.location.clone()
            && next.host_str() == Some("app.localhost")
        {
            hops.extend(w.person(&name).ua.follow(next.as_str()).await);
        }
        failures.extend(escapes(w, &hops, &format!("{path} {param}={payload:?}")));
    }
    note_corpus_run(w, failures, payloads.len());
}

#[then(regex = r"^no payload sent the browser off the gateway's origin$")]
async fn corpus_ok(w: &mut GateWorld) {
    let tally = &w.probes.corpus;
    assert!(tally.sent > 0, "no corpus payload was sent");
    assert!(
        tally.failures.is_empty(),
        "of {} requests, these left the origin or failed:\n{}",
        tally.sent,
        tally.failures.join("\n")
    );
}

/// Every hop of `hops` that redirected anywhere but the gateway's own origin or the IdP, or
/// answered with a server error, as one line each starting with `what`.
pub fn escapes(w: &GateWorld, hops: &[Hop], what: &str) -> Vec<String> {
    let gateway = crate::launch::origin(w.started().port);
    let idp = w.started().idp.url("/");
    let idp = idp.trim_end_matches('/');
    let mut out = Vec::new();
    for h in hops {
        if let Some(l) = &h.location
            && l.origin().ascii_serialization() != gateway
            && !l.as_str().starts_with(idp)
        {
            let raw = h.header("location").unwrap_or_default();
            out.push(format!("{what} → Location: {raw:?} (a browser goes to {l})"));
        }
        if h.status >= 500 {
            out.push(format!("{what} → status {}", h.status));
        }
    }
    out
}
