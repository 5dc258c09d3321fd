//! Attacks on the connection level (security checklist 63, 65, 67, 68): bodies on GET, HEAD
//! and OPTIONS that smuggle a second request to an application that never reads them, slow
//! clients, WebSockets that outlive their session, repeated `Host` headers — each judged by
//! what the application received and what each person was served.

use std::time::Duration;

use cucumber::{given, then, when};

use super::browse::{describe, open};
use super::requests::{cookie_header, raw_with_body};
use crate::raw::{Echo, RawOutcome, RawRequest, SlowClients, Tunnel};
use crate::upstream::Reading;
use crate::world::GateWorld;

#[given(
    regex = r"^the application never reads a body on GET, HEAD or OPTIONS requests, like Python's http\.server$"
)]
fn naive_upstream(w: &mut GateWorld) {
    w.configuring();
    w.upstream_reading = Reading::IgnoresBodiesOnSafeMethods;
}

/// A request for `path` that claims to come from `who` through the profile's identity
/// headers, as raw bytes: what an attacker puts in a body the application will parse as the
/// next request on its connection.
fn smuggled(w: &GateWorld, path: &str, who: &str) -> Vec<u8> {
    let names = w.header_names().clone();
    let email = w.users[who].email.clone().unwrap_or_default();
    let id = w.user_ids.get(who).cloned().unwrap_or_else(|| who.to_owned());
    format!(
        "GET {path} HTTP/1.1\r\nhost: localhost\r\n{}: {email}\r\n{}: {id}\r\nx-smuggled: yes\r\n\r\n",
        names.user_email, names.user_id
    )
    .into_bytes()
}

#[when(
    regex = r#"^(\w+) sends a CORS preflight for "([^"]*)" whose body smuggles a request for "([^"]*)" claiming to be (\w+)$"#
)]
async fn smuggle_in_preflight(w: &mut GateWorld, name: String, path: String, target: String, victim: String) {
    w.env().await;
    let body = smuggled(w, &target, &victim);
    let headers = [
        ("origin".to_owned(), "http://evil.test".to_owned()),
        ("access-control-request-method".to_owned(), "GET".to_owned()),
        ("accept".to_owned(), "*/*".to_owned()),
    ];
    raw_with_body(w, &name, "OPTIONS", &path, None, &headers, &body).await;
}

#[when(
    regex = r#"^(\w+) sends "(GET|HEAD|OPTIONS) ([^"]*)" with a body that smuggles a request for "([^"]*)" claiming to be (\w+)$"#
)]
async fn smuggle_in_body(
    w: &mut GateWorld,
    name: String,
    method: String,
    path: String,
    target: String,
    victim: String,
) {
    w.env().await;
    let body = smuggled(w, &target, &victim);
    raw_with_body(w, &name, &method, &path, None, &[], &body).await;
}

#[when(regex = r"^(\w+) and (\w+) each open (\d+) pages, taking turns$")]
async fn taking_turns(w: &mut GateWorld, a: String, b: String, n: usize) {
    w.env().await;
    for i in 0..n {
        for who in [&a, &b] {
            let path = format!("/{who}/page-{i}");
            let hop = open(w, who, &path, &[]).await;
            w.probes.turns.push((who.clone(), path, hop));
        }
    }
}

#[then(regex = r"^(\w+) and (\w+) each received only the answers to their own requests$")]
fn own_answers(w: &mut GateWorld, a: String, b: String) {
    let names = w.header_names().clone();
    assert!(!w.probes.turns.is_empty(), "nobody opened pages taking turns");
    let mut wrong = Vec::new();
    for (who, path, hop) in &w.probes.turns {
        assert!([&a, &b].contains(&who), "{who} took a turn but is not {a} or {b}");
        assert_eq!(
            hop.status,
            200,
            "{who} should have been served {path}:\n{}",
            describe(std::slice::from_ref(hop))
        );
        // The application echoes the request it answered: its path and identity headers.
        let echo: serde_json::Value = serde_json::from_str(&hop.body).unwrap_or_else(|_| {
            panic!(
                "{who}'s answer for {path} is not the application's echo: {}",
                hop.body
            )
        });
        let answered = echo["path"].as_str().unwrap_or_default();
        let email = w.users[who].email.clone().unwrap_or_default();
        let header_email = echo["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_array())
            .find(|h| h[0].as_str() == Some(names.user_email.as_str()))
            .and_then(|h| h[1].as_str().map(str::to_owned));
        if answered != path || header_email.as_deref().is_some_and(|e| e != email) {
            wrong.push(format!(
                "{who} asked for {path} and was served the answer to {answered} (made for {})",
                header_email.as_deref().unwrap_or("nobody")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "someone was served an answer to another request (a desynchronised connection to the application):\n  {}",
        wrong.join("\n  ")
    );
}

#[when(regex = r"^(\d+) clients open connections and trickle or withhold their request heads$")]
async fn slow_clients(w: &mut GateWorld, n: usize) {
    let port = w.env().await.port;
    assert!(n <= 50, "at most 50 slow clients (the scenario must stay light)");
    let clients =
        SlowClients::start(port, &format!("app.localhost:{port}"), n, Duration::from_secs(30)).await;
    let refused = clients.refused();
    assert!(
        refused.is_empty(),
        "the gateway refused {} of {n} connections outright: {}",
        refused.len(),
        refused.join("; ")
    );
    w.probes.slow_clients = Some(clients);
    // Give them a head start, so the next steps run while they hold their connections.
    tokio::time::sleep(Duration::from_secs(2)).await;
}

#[then(regex = r#"^(\w+) can log in at "([^"]*)" within (\d+) seconds$"#)]
async fn logs_in_in_time(w: &mut GateWorld, name: String, path: String, limit: u64) {
    let start = std::time::Instant::now();
    super::browse::log_in(w, &name, &path).await;
    let took = start.elapsed();
    assert!(
        took <= Duration::from_secs(limit),
        "{name}'s login took {took:.1?} while slow clients held connections (more than {limit} s: \
         they keep real users waiting)"
    );
}

#[then(regex = r"^the gateway closed every slow connection within (\d+) seconds$")]
async fn slow_clients_closed(w: &mut GateWorld, limit: u64) {
    assert!(limit <= 28, "the scenario must finish within 30 s");
    let clients = w
        .probes
        .slow_clients
        .take()
        .expect("slow clients were started earlier in the scenario");
    let limit = Duration::from_secs(limit);
    let after = clients.wait_closed(limit).await;
    let open = after.iter().filter(|c| c.is_none_or(|d| d > limit)).count();
    let longest = after
        .iter()
        .flatten()
        .filter(|d| **d <= limit)
        .max()
        .copied()
        .unwrap_or_default();
    assert!(
        open == 0,
        "{open} of {} connections that never completed a request head were still open after {limit:?} \
         (the gateway has no request-head deadline or idle timeout: slow clients can hold its connections \
         until it runs out of them); the others closed after at most {longest:.1?}",
        after.len()
    );
}

#[when(regex = r#"^(\w+) opens a WebSocket to "([^"]*)" and keeps it open$"#)]
async fn hold_websocket(w: &mut GateWorld, name: String, path: String) {
    let port = w.env().await.port;
    let cookie = cookie_header(w, &name);
    let mut tunnel = Tunnel::open(port, &format!("app.localhost:{port}"), &path, cookie.as_deref())
        .await
        .unwrap_or_else(|e| panic!("{name}'s WebSocket to {path} did not open: {e}"));
    assert!(
        tunnel.echoes().await,
        "{name}'s WebSocket opened but does not reach the application (no echo)"
    );
    w.probes.tunnels.insert(name, tunnel);
}

#[then(regex = r"^(\w+)'s WebSocket is closed within (\d+) seconds$")]
async fn websocket_closed(w: &mut GateWorld, name: String, limit: u64) {
    let mut tunnel = w
        .probes
        .tunnels
        .remove(&name)
        .unwrap_or_else(|| panic!("{name} holds no WebSocket"));
    let closed = tunnel.closed_within(Duration::from_secs(limit)).await;
    assert!(
        closed.is_some(),
        "{name}'s WebSocket still reached the application {limit} s after the session that opened it ended"
    );
}

#[when(
    regex = r#"^(\w+) sends a request for "([^"]*)" with two Host headers, (the site's|another site's) first$"#
)]
async fn two_hosts(w: &mut GateWorld, name: String, path: String, first: String) {
    let port = w.env().await.port;
    let site = format!("app.localhost:{port}");
    let (one, two) = if first == "the site's" {
        (site, "evil.test".to_owned())
    } else {
        ("evil.test".to_owned(), site)
    };
    let mut req = RawRequest::new("GET", &path, &one)
        .header("host", &two)
        .header("accept", "text/html")
        .header("connection", "close");
    if let Some(c) = cookie_header(w, &name) {
        req = req.header("cookie", &c);
    }
    w.upstream_mark = w.started().upstream.count();
    let outcome = req
        .exchange(port, Duration::from_secs(20))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.probes.raw_outcome = Some(outcome);
}

#[then(regex = r"^the gateway answered 400 or closed the connection without an answer$")]
fn answered_400_or_closed(w: &mut GateWorld) {
    match w.probes.raw_outcome.as_ref().expect("a raw request was sent") {
        RawOutcome::Closed => {}
        RawOutcome::Answered(r) => assert!(
            r.status == 400,
            "RFC 9112 §3.2 requires 400 for a request with two Host headers; the gateway answered {} \
             (from the application: {})",
            r.status,
            r.headers.get("x-upstream").is_some()
        ),
    }
}

#[then(regex = r"^(\w+)'s WebSocket is still open$")]
async fn websocket_open(w: &mut GateWorld, name: String) {
    let tunnel = w
        .probes
        .tunnels
        .get_mut(&name)
        .unwrap_or_else(|| panic!("{name} holds no WebSocket"));
    assert_eq!(
        tunnel.probe().await,
        Echo::Echoed,
        "{name}'s WebSocket, whose session did not end, no longer reaches the application \
         (a gateway that closes every tunnel would pass the other check)"
    );
}

#[then(regex = r"^the application received nothing from that request$")]
fn nothing_from_that_request(w: &mut GateWorld) {
    let since: Vec<String> = w
        .started()
        .upstream
        .seen()
        .into_iter()
        .skip(w.upstream_mark)
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert!(since.is_empty(), "the application received {since:?}");
}
