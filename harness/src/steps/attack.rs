//! Attacker steps for the `@security` scenarios: raw request targets that no well-behaved
//! HTTP client would send (dot segments, backslashes, odd methods, absolute-form targets),
//! injected codes, floods of forged callbacks, tampered and planted cookies, oversized
//! inputs, the open-redirect corpus — and the checks that go with them.
//!
//! Raw requests go over a plain TCP connection so that the request-target reaches the gateway
//! byte for byte (an HTTP library would resolve `..` or reject `\`).

use std::time::Duration;

use cucumber::gherkin::Step;
use cucumber::{then, when};
use mock_idp::{Endpoint, Outcome};
use reqwest::Method;
use url::Url;

use super::browse::{describe, follow, open};
use crate::agent::Hop;
use crate::raw::RawRequest;
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

/// Percent-encodes the bytes an HTTP/1.1 request line cannot carry raw (controls, space,
/// non-ASCII, `#`), leaving every other byte — `\`, `%`, `..` — exactly as written.
pub fn wire_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for b in target.bytes() {
        if b <= 0x20 || b >= 0x7f || b == b'#' {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Sends one raw HTTP/1.1 request to the gateway's public port, with `name`'s cookies for
/// `app.localhost`. `host` overrides the Host header; `headers` are added after it (a `host`
/// among them is a second Host header).
pub async fn raw(
    w: &mut GateWorld,
    name: &str,
    method: &str,
    target: &str,
    host: Option<&str>,
    headers: &[(String, String)],
) -> Hop {
    raw_with_body(w, name, method, target, host, headers, &[]).await
}

/// [`raw`] with a body.
pub async fn raw_with_body(
    w: &mut GateWorld,
    name: &str,
    method: &str,
    target: &str,
    host: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
) -> Hop {
    let port = w.env().await.port;
    let origin = crate::launch::origin(port);
    let cookies: Vec<String> = w
        .person(name)
        .ua
        .cookies("app.localhost")
        .into_iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect();
    let host = host
        .map(str::to_owned)
        .unwrap_or_else(|| format!("app.localhost:{port}"));
    let mut req = RawRequest::new(method, target, &host).header("connection", "close");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
        req = req.header("accept", "text/html");
    }
    if !cookies.is_empty() {
        req = req.header("cookie", &cookies.join("; "));
    }
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let req = req.body(body);
    w.upstream_mark = w.started().upstream.count();
    let resp = req
        .send(port, Duration::from_secs(20))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = Url::parse(&format!("{origin}{target}"))
        .or_else(|_| Url::parse(&format!("{origin}/")))
        .expect("the origin is a URL");
    let location = resp
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url.join(l).ok());
    let hop = Hop {
        method: method.parse().unwrap_or(Method::GET),
        url,
        status: resp.status,
        headers: resp.headers,
        location,
        set_cookies: resp.set_cookies,
        body: resp.body,
    };
    w.person(name).hops = vec![hop.clone()];
    hop
}

fn table_pairs(step: &Step) -> Vec<(String, String)> {
    step.table
        .as_ref()
        .map(|t| {
            t.rows
                .iter()
                .filter(|r| r.len() == 2 && r[0] != "header")
                .map(|r| (r[0].clone(), r[1].clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[when(regex = r#"^(\w+) sends the raw request "(\S+) ([^"]*)"$"#)]
async fn raw_request(w: &mut GateWorld, name: String, method: String, target: String) {
    raw(w, &name, &method, &target, None, &[]).await;
}

#[when(regex = r#"^(\w+) sends the raw request "(\S+) ([^"]*)" with the Host "([^"]*)"$"#)]
async fn raw_request_host(w: &mut GateWorld, name: String, method: String, target: String, host: String) {
    raw(w, &name, &method, &target, Some(&host), &[]).await;
}

#[when(regex = r#"^(\w+) sends the raw request "(\S+) ([^"]*)" with the headers:$"#)]
async fn raw_request_headers(w: &mut GateWorld, name: String, method: String, target: String, step: &Step) {
    let headers = table_pairs(step);
    raw(w, &name, &method, &target, None, &headers).await;
}

#[then(regex = r"^(\w+) is refused or sent to log in, without a server error$")]
async fn refused_or_login(w: &mut GateWorld, name: String) {
    let hops = w.person(&name).hops.clone();
    let hop = hops.last().expect("a request was sent");
    let to_idp = hop
        .location
        .as_ref()
        .is_some_and(|l| l.host_str() != Some("app.localhost"));
    assert!(
        (400..500).contains(&hop.status) || ((300..400).contains(&hop.status) && to_idp),
        "{name} should be refused (4xx) or sent to the identity provider, got:\n{}",
        describe(&hops)
    );
    let cookie = w.profile.session_cookie.clone();
    assert!(
        !hop.set_cookies.iter().any(|c| sets_cookie(c, &cookie)),
        "no session may be created: {:?}",
        hop.set_cookies
    );
}

/// Whether `set_cookie` gives the browser a cookie named `name` — not when it deletes one
/// (an empty value, `Max-Age` ≤ 0 or an `Expires` in the past: gateways clear a session in
/// any of these spellings, and browsers honour all of them).
fn sets_cookie(set_cookie: &str, name: &str) -> bool {
    let Ok(c) = cookie::Cookie::parse(set_cookie) else {
        // Unparseable: count it if it names the cookie, rather than let it slip through.
        return set_cookie.trim_start().starts_with(&format!("{name}="));
    };
    if c.name() != name || c.value().is_empty() {
        return false;
    }
    if c.max_age().is_some_and(|m| m.is_zero() || m.is_negative()) {
        return false;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    c.expires_datetime().is_none_or(|e| e.unix_timestamp() > now)
}

/// The `state` in a login redirect (the IdP's authorize URL).
fn state_of(hop: &Hop) -> String {
    hop.location
        .as_ref()
        .and_then(|l| {
            l.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| panic!("not a login redirect: {} {}", hop.status, hop.url))
}

/// Approves a login at the IdP as `user` and returns the IdP's redirect back (the callback
/// URL with the code) without opening it.
async fn code_for(w: &mut GateWorld, name: &str, authorize: &Url, user: &str) -> Url {
    w.env().await.idp.on_authorize().respond(Outcome::approve(user));
    let at_idp = w.person(name).ua.get(authorize.as_str()).await;
    at_idp
        .location
        .unwrap_or_else(|| panic!("the IdP did not redirect back: {} {}", at_idp.status, at_idp.body))
}

#[when(regex = r#"^(\w+) starts logins at "([^"]*)" and "([^"]*)" and the first one completes$"#)]
async fn two_logins(w: &mut GateWorld, name: String, first: String, second: String) {
    let one = open(w, &name, &first, &[("accept", "text/html")]).await;
    let two = open(w, &name, &second, &[("accept", "text/html")]).await;
    assert_ne!(state_of(&one), state_of(&two), "two logins share a state");
    let back = code_for(w, &name, one.location.as_ref().expect("login redirect"), &name).await;
    let hop = w.person(&name).ua.get(back.as_str()).await;
    w.person(&name).hops = vec![hop];
    if w.person(&name).hops[0].location.is_some() {
        follow(w, &name).await;
    }
}

#[when(regex = r"^an attacker's authorization code is injected into (\w+)'s own pending login$")]
async fn code_injection(w: &mut GateWorld, victim: String) {
    // The victim's login is pending (their state is valid in their browser) …
    let pending = open(w, &victim, "/", &[("accept", "text/html")]).await;
    let victim_state = state_of(&pending);
    // … and the attacker finishes the IdP part of their own login, keeping the code.
    let theirs = open(w, "mallory", "/", &[("accept", "text/html")]).await;
    let back = code_for(
        w,
        "mallory",
        theirs.location.as_ref().expect("login redirect"),
        "mallory",
    )
    .await;
    let mut injected = back.clone();
    let pairs: Vec<(String, String)> = back
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                victim_state.clone()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    injected.query_pairs_mut().clear().extend_pairs(pairs);
    let hop = w.person(&victim).ua.get(injected.as_str()).await;
    w.person(&victim).hops = vec![hop];
    if w.person(&victim).hops[0].location.is_some() {
        follow(w, &victim).await;
    }
}

/// The state-confusion corpus (`fixtures/security/state-confusion.txt`).
pub const STATE_CONFUSION: &str = include_str!("../../../fixtures/security/state-confusion.txt");

/// The `state` of a login redirect, if the gateway sent one (a gateway may rely on PKCE
/// instead, RFC 9700 §2.1).
fn state_in(hop: &Hop) -> Option<String> {
    hop.location.as_ref().and_then(|l| {
        l.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    })
}

#[when(regex = r"^(\w+)'s authorization code leaks before (?:she|he|they) uses? it$")]
async fn code_leaks(w: &mut GateWorld, victim: String) {
    let pending = open(w, &victim, "/", &[("accept", "text/html")]).await;
    let authorize = pending.location.clone().unwrap_or_else(|| {
        panic!(
            "{victim} was not sent to log in: {} {}",
            pending.status, pending.url
        )
    });
    let back = code_for(w, &victim, &authorize, &victim).await;
    w.probes.leaked_callback = Some((victim, back));
}

#[when(
    regex = r"^(\w+) tries (\w+)'s leaked code with every state that is not a login of (?:hers|his|theirs) in flight$"
)]
async fn state_confusion(w: &mut GateWorld, attacker: String, victim: String) {
    let (owner, leaked) = w
        .probes
        .leaked_callback
        .clone()
        .expect("a leaked authorization code (an earlier step)");
    assert_eq!(owner, victim, "the leaked code is {owner}'s");
    // The attacker finishes a login of her own: its state is now a finished one. Unless the
    // gateway can log her in, the check proves nothing, so that must work first.
    let start = open(w, &attacker, "/", &[("accept", "text/html")]).await;
    let finished = state_in(&start);
    super::browse::complete_login(w, &attacker).await;
    let landed = w.person(&attacker).hops.last().map_or(0, |h| h.status);
    assert_eq!(
        landed,
        200,
        "{attacker} must be able to log in herself for this check to mean anything, and could not:\n{}",
        describe(&w.person(&attacker).hops)
    );
    let victims_state = leaked
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    let names = w.header_names().clone();
    let victim_email = w.users[&victim].email.clone().unwrap_or_default();
    let victim_id = w.user_id(&victim);
    let origin_host = "app.localhost";
    let mut attempts = Vec::new();
    for template in STATE_CONFUSION
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let random = {
            use base64::Engine;
            let mut bytes = [0u8; 32];
            aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        let state = match (
            template.contains("{finished}"),
            template.contains("{other-browser}"),
        ) {
            (true, _) if finished.is_none() => continue,
            (_, true) if victims_state.is_none() => continue,
            _ => template
                .replace("{finished}", finished.as_deref().unwrap_or_default())
                .replace("{other-browser}", victims_state.as_deref().unwrap_or_default())
                .replace("{random}", &random),
        };
        let mut url = leaked.clone();
        let pairs: Vec<(String, String)> = leaked
            .query_pairs()
            .filter(|(k, _)| k != "state")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .chain(std::iter::once(("state".to_owned(), state)))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        let tokens_before = w.started().idp.requests_to(Endpoint::Token).len();
        let mark = w.started().upstream.count();
        let mut hops = vec![w.person(&attacker).ua.get(url.as_str()).await];
        // Follow the gateway's own redirects (where a session would lead), never the IdP's.
        while hops.len() < 6
            && let Some(next) = hops.last().and_then(|h| h.location.clone())
            && next.host_str() == Some(origin_host)
        {
            hops.push(w.person(&attacker).ua.get(next.as_str()).await);
        }
        let token_requests = w.started().idp.requests_to(Endpoint::Token).len() - tokens_before;
        let reached_app_as_victim = w.started().upstream.seen().iter().skip(mark).any(|s| {
            s.header(&names.user_email) == Some(victim_email.as_str())
                || s.header(&names.user_id) == Some(victim_id.as_str())
        });
        attempts.push(crate::world::StateAttempt {
            template: template.to_owned(),
            token_requests,
            reached_app_as_victim,
            hops,
        });
    }
    assert!(!attempts.is_empty(), "no state could be tried");
    w.probes.state_attempts = attempts;
}

#[then(regex = r"^none of those states led to a token request$")]
fn no_token_request_for_states(w: &mut GateWorld) {
    let attempts = &w.probes.state_attempts;
    assert!(!attempts.is_empty(), "no state-confusion attempt was made");
    let bad: Vec<String> = attempts
        .iter()
        .filter(|a| a.token_requests > 0)
        .map(|a| {
            format!(
                "state {:?} led to {} token request(s):\n{}",
                a.template,
                a.token_requests,
                describe(&a.hops)
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "a callback whose state is not a login in flight in this browser must be refused before the code is redeemed:\n{}",
        bad.join("\n")
    );
}

#[then(regex = r"^(\w+) never reached the application as (\w+)$")]
fn never_as_victim(w: &mut GateWorld, attacker: String, victim: String) {
    let attempts = &w.probes.state_attempts;
    assert!(!attempts.is_empty(), "no state-confusion attempt was made");
    let bad: Vec<String> = attempts
        .iter()
        .filter(|a| a.reached_app_as_victim)
        .map(|a| format!("with state {:?}:\n{}", a.template, describe(&a.hops)))
        .collect();
    assert!(
        bad.is_empty(),
        "{attacker} reached the application as {victim}:\n{}",
        bad.join("\n")
    );
}

#[when(regex = r"^(\w+) sends (\d+) callbacks with random codes and (no|made-up) states?$")]
async fn callback_flood(w: &mut GateWorld, name: String, n: usize, state: String) {
    w.env().await;
    let callback = w.url(&w.profile.callback_path.clone());
    let mut hops = Vec::with_capacity(n);
    for i in 0..n {
        let code = format!("forged{i:04}{:x}", std::process::id() as u64 * 7919 + i as u64);
        let url = if state == "no" {
            format!("{callback}?code={code}")
        } else {
            format!("{callback}?code={code}&state=made-up-{i}")
        };
        hops.push(w.person(&name).ua.get(&url).await);
    }
    w.person(&name).hops = hops;
}

#[then(regex = r"^every one of them was refused$")]
async fn all_refused(w: &mut GateWorld) {
    let cookie = w.profile.session_cookie.clone();
    for (name, p) in &w.people {
        for h in &p.hops {
            assert!(
                (400..500).contains(&h.status),
                "{name}: {} {} answered {}",
                h.method,
                h.url,
                h.status
            );
            assert!(
                !h.set_cookies.iter().any(|c| c.starts_with(&format!("{cookie}="))),
                "{name}: a session cookie was set by {}",
                h.url
            );
        }
    }
}

#[when(regex = r#"^(\w+)'s callback arrives with the extra parameters "([^"]*)"$"#)]
async fn callback_extra(w: &mut GateWorld, name: String, extra: String) {
    let login = w
        .person(&name)
        .hops
        .first()
        .and_then(|h| h.location.clone())
        .expect("a pending login (open a page first)");
    let back = code_for(w, &name, &login, &name).await;
    let url = format!("{back}&{extra}");
    let hop = w.person(&name).ua.get(&url).await;
    w.person(&name).hops = vec![hop];
    if w.person(&name).hops[0].location.is_some() {
        follow(w, &name).await;
    }
}

#[then(regex = r"^(\w+) never left the gateway's origin$")]
async fn stayed_on_origin(w: &mut GateWorld, name: String) {
    let hops = w.person(&name).hops.clone();
    let escapes = escapes(w, &hops, &name);
    assert!(
        escapes.is_empty(),
        "{name} was sent off the gateway's origin: {escapes:?}\n{}",
        describe(&hops)
    );
}

/// Every hop of `hops` that redirected anywhere but the gateway's own origin or the IdP, or
/// answered with a server error, as one line each starting with `what`.
fn escapes(w: &GateWorld, hops: &[Hop], what: &str) -> Vec<String> {
    let gateway = crate::launch::origin(w.started().port);
    let idp = w.started().idp.url("/");
    let idp = idp.trim_end_matches('/');
    let mut out = Vec::new();
    for h in hops {
        if let Some(l) = &h.location
            && l.origin().ascii_serialization() != gateway
            && !l.as_str().starts_with(idp)
        {
            out.push(format!("{what} → {l}"));
        }
        if h.status >= 500 {
            out.push(format!("{what} → status {}", h.status));
        }
    }
    out
}

#[when(
    regex = r"^(\w+)'s session cookie is tampered with: (one character changed|cut short|doubled|padded with base64 junk|made empty)$"
)]
async fn tamper(w: &mut GateWorld, name: String, how: String) {
    let cookie = w.profile.session_cookie.clone();
    let value = w
        .person(&name)
        .ua
        .cookie("app.localhost", &cookie)
        .unwrap_or_else(|| panic!("{name} has no session cookie"))
        .value;
    let changed = match how.as_str() {
        "one character changed" => {
            let mut b = value.clone().into_bytes();
            let i = b.len() / 2;
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            String::from_utf8(b).expect("ASCII")
        }
        "cut short" => value[..value.len() / 2].to_owned(),
        "doubled" => format!("{value}{value}"),
        "padded with base64 junk" => format!("{value}.eyJzdWIiOiJhZG1pbiJ9=="),
        _ => String::new(),
    };
    w.person(&name).ua.set_cookie("app.localhost", &cookie, &changed);
}

#[when(regex = r"^(\w+) plants (\w+)'s session cookie in (?:her|his|their) browser$")]
async fn plant(w: &mut GateWorld, victim: String, owner: String) {
    let cookie = w.profile.session_cookie.clone();
    let value = w
        .person(&owner)
        .ua
        .cookie("app.localhost", &cookie)
        .unwrap_or_else(|| panic!("{owner} has no session cookie"))
        .value;
    w.saved.insert("planted".into(), value.clone());
    w.person(&victim).ua.set_cookie("app.localhost", &cookie, &value);
}

#[then(regex = r"^(\w+)'s session cookie is a new one$")]
async fn new_cookie(w: &mut GateWorld, name: String) {
    let cookie = w.profile.session_cookie.clone();
    let planted = w.saved.get("planted").cloned().expect("a planted cookie");
    let now = w
        .person(&name)
        .ua
        .cookie("app.localhost", &cookie)
        .unwrap_or_else(|| panic!("{name} has no session cookie"))
        .value;
    assert_ne!(
        now, planted,
        "the login kept the planted session id (session fixation)"
    );
}

#[then(regex = r"^the planted cookie does not give access to (\w+)'s session$")]
async fn planted_useless(w: &mut GateWorld, name: String) {
    let cookie = w.profile.session_cookie.clone();
    let planted = w.saved.get("planted").cloned().expect("a planted cookie");
    w.person("planter")
        .ua
        .set_cookie("app.localhost", &cookie, &planted);
    let before = w.started().upstream.seen().len();
    let hop = open(w, "planter", "/whoami", &[("accept", "text/html")]).await;
    let seen = w.started().upstream.seen();
    if hop.status == 200 && seen.len() > before {
        let email = w.header_names().user_email.clone();
        let user = w.users.get(&name).and_then(|u| u.email.clone());
        let got = seen.last().and_then(|s| s.header(&email).map(str::to_owned));
        assert!(
            got.is_none() || got != user,
            "the planted cookie reached {name}'s session"
        );
    }
}

#[then(regex = r#"^no page (\w+) saw contains "([^"]*)"$"#)]
async fn page_never_contains(w: &mut GateWorld, name: String, text: String) {
    for h in &w.person(&name).hops {
        assert!(
            !h.body.contains(&text),
            "{} {} answered a page containing {text:?}:\n{}",
            h.method,
            h.url,
            h.body
        );
    }
}

#[then(regex = r"^the login request carried the configured scope, client and callback, each once$")]
async fn login_params_fixed(w: &mut GateWorld) {
    let name = w.people.keys().next().cloned().expect("someone browsed");
    let login = w
        .person(&name)
        .hops
        .iter()
        .find_map(|h| {
            h.location
                .clone()
                .filter(|l| l.host_str() != Some("app.localhost"))
        })
        .expect("a login redirect");
    let pairs: Vec<(String, String)> = login
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let client = w.started().idp.client().id.to_string();
    let callback = crate::launch::callback_url(&w.profile, &w.spec, w.started().port);
    for key in ["client_id", "redirect_uri", "scope", "state", "response_type"] {
        let n = pairs.iter().filter(|(k, _)| k == key).count();
        assert!(n <= 1, "{key} appears {n} times in {login}");
    }
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("client_id"), Some(client.as_str()), "{login}");
    assert_eq!(get("redirect_uri"), Some(callback.as_str()), "{login}");
    let scope = get("scope").unwrap_or_default();
    assert!(
        !scope.split([' ', ',', '+']).any(|s| s == "admin"),
        "the user widened the scope: {scope}"
    );
    for extra in ["prompt", "acr_values", "login_hint"] {
        assert!(
            get(extra).is_none_or(|v| v != "evil"),
            "the user set {extra}: {login}"
        );
    }
}

#[then(regex = r"^the login request carried a nonce$")]
async fn login_nonce(w: &mut GateWorld) {
    let auth = w.started().idp.requests_to(Endpoint::Authorize);
    let first = auth.first().expect("an authorization request");
    let nonce = first
        .params
        .iter()
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.clone());
    assert!(
        nonce.as_ref().is_some_and(|n| n.len() >= 22),
        "the authorization request carried no (or a short) nonce: {:?}",
        first.params
    );
}

#[then(regex = r"^the token request authenticated the client with HTTP Basic$")]
async fn basic_auth(w: &mut GateWorld) {
    let token = w.started().idp.requests_to(Endpoint::Token);
    let first = token.first().expect("a token request");
    let auth = first
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone());
    assert!(
        // The request log masks credentials but keeps the first four characters.
        auth.as_deref()
            .is_some_and(|v| v.starts_with("Basic ") || v.starts_with("Basi…")),
        "token request authorization: {auth:?}"
    );
    assert!(
        !first.params.iter().any(|(k, _)| k == "client_secret"),
        "the secret was also sent in the body"
    );
}

#[when(regex = r"^(\w+) starts (\d+) logins$")]
async fn many_logins(w: &mut GateWorld, name: String, n: usize) {
    let mut last = None;
    for i in 0..n {
        let hop = open(w, &name, &format!("/page/{i}"), &[("accept", "text/html")]).await;
        last = Some(hop);
    }
    w.person(&name).hops = vec![last.expect("at least one login")];
}

#[then(regex = r"^(\w+) holds at most (\d+) cookies? from the gateway$")]
async fn cookie_count(w: &mut GateWorld, name: String, n: usize) {
    let cookies = w.person(&name).ua.cookies("app.localhost");
    assert!(
        cookies.len() <= n,
        "{name} holds {} cookies: {cookies:?}",
        cookies.len()
    );
    let size: usize = cookies.iter().map(|c| c.raw.len()).sum();
    assert!(size < 4096, "the gateway's cookies take {size} bytes");
}

#[when(regex = r"^(\w+) completes the last of them$")]
async fn complete_last(w: &mut GateWorld, name: String) {
    super::browse::complete_login(w, &name).await;
}

#[when(regex = r"^(\w+) sends a Cookie header of (\d+) KB$")]
async fn big_cookie(w: &mut GateWorld, name: String, kb: usize) {
    let value = format!("junk={}", "A".repeat(kb * 1024));
    let headers = vec![("cookie".to_owned(), value)];
    raw(w, &name, "GET", "/private", None, &headers).await;
}

#[when(regex = r"^(\w+) sends (\d+) cookies$")]
async fn many_cookies(w: &mut GateWorld, name: String, n: usize) {
    let cookie = w.profile.session_cookie.clone();
    let value: Vec<String> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                format!("c{i}=v{i}")
            } else {
                format!("{cookie}=x{i}")
            }
        })
        .collect();
    let headers = vec![("cookie".to_owned(), value.join("; "))];
    raw(w, &name, "GET", "/private", None, &headers).await;
}

#[when(regex = r"^(\w+) opens the callback with a (\d+) KB (state|code)$")]
async fn huge_callback(w: &mut GateWorld, name: String, kb: usize, which: String) {
    let big = "A".repeat(kb * 1024);
    let query = if which == "state" {
        format!("code=abc&state={big}")
    } else {
        format!("code={big}&state=abc")
    };
    let target = format!("{}?{query}", w.profile.callback_path);
    raw(w, &name, "GET", &target, None, &[]).await;
}

#[then(regex = r"^the answer grants no cross-origin read$")]
async fn no_cors(w: &mut GateWorld) {
    for (name, p) in &w.people {
        for h in &p.hops {
            let acao = h.header("access-control-allow-origin");
            assert!(
                acao.is_none_or(|v| v != "*" && !v.contains("evil")),
                "{name}: {} answered Access-Control-Allow-Origin: {acao:?}",
                h.url
            );
        }
    }
}

#[then(regex = r"^the callback answer is not cached, not framed and sends no referrer$")]
async fn callback_headers(w: &mut GateWorld) {
    let callback_path = w.profile.callback_path.clone();
    let hop = w
        .people
        .values()
        .flat_map(|p| p.hops.iter())
        .find(|h| h.url.path() == callback_path)
        .cloned()
        .expect("a callback hop");
    let cc = hop.header("cache-control").unwrap_or_default();
    assert!(cc.contains("no-store"), "callback Cache-Control: {cc:?}");
    let rp = hop.header("referrer-policy").unwrap_or_default();
    assert!(rp.contains("no-referrer"), "callback Referrer-Policy: {rp:?}");
    let xfo = hop.header("x-frame-options").unwrap_or_default();
    let csp = hop.header("content-security-policy").unwrap_or_default();
    assert!(
        xfo.eq_ignore_ascii_case("deny") || csp.contains("frame-ancestors 'none'"),
        "the callback can be framed: X-Frame-Options {xfo:?}, Content-Security-Policy {csp:?}"
    );
    assert!(
        (300..400).contains(&hop.status),
        "the callback should end with a redirect so the code leaves the address bar: {}",
        hop.status
    );
}

#[then(
    regex = r"^nothing the application received or the gateway reported contains the code, the verifier, the client secret or the session$"
)]
async fn no_secrets_leak(w: &mut GateWorld) {
    let mut secrets: Vec<(String, String)> = Vec::new();
    for p in w.people.values() {
        for h in &p.hops {
            if let Some(code) = h.url.query_pairs().find(|(k, _)| k == "code") {
                secrets.push(("code".into(), code.1.into_owned()));
            }
        }
    }
    for p in w.people.values() {
        for c in p.ua.cookies("app.localhost") {
            secrets.push((format!("cookie {}", c.name), c.value));
        }
    }
    let idp = &w.started().idp;
    // The IdP's log masks the verifier, so it is found by what it hashes to: the S256
    // challenges the gateway sent (not masked).
    let challenges: Vec<String> = idp
        .requests_to(Endpoint::Authorize)
        .iter()
        .filter_map(|r| r.params.iter().find(|(k, _)| k == "code_challenge"))
        .map(|(_, v)| v.clone())
        .collect();
    // (A gateway without PKCE has no verifier to leak; checklist item 2 fails it on its own.)
    if let Some(s) = idp.client().secret {
        secrets.push(("client secret".into(), s.expose().to_owned()));
    }
    secrets.retain(|(_, v)| v.len() >= 8);
    assert!(!secrets.is_empty(), "nothing to look for: no login happened");
    let upstream = w.started().upstream.seen();
    // The jar only holds the session as it is now (a later answer may have cleared or
    // replaced it): also look for the session cookie itself, by name, in every request the
    // application received (checklist 44: the application sees its own cookies only).
    let session = w.profile.session_cookie.clone();
    for s in &upstream {
        for (_, v) in s.headers.iter().filter(|(k, _)| k == "cookie") {
            let forwarded = v.split(';').any(|c| {
                let name = c.trim().split('=').next().unwrap_or_default();
                name == session
                    || name
                        .strip_prefix(session.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '_']))
            });
            assert!(
                !forwarded,
                "the application received the gateway's session cookie: {} cookie: {v}",
                s.path
            );
        }
    }
    let events = w.drain_events().to_vec();
    let events_text = serde_json::to_string(&events).unwrap_or_default();
    let upstream_text: String = upstream
        .iter()
        .map(|s| format!("{} {:?}\n", s.path, s.headers))
        .collect();
    for text in [&upstream_text, &events_text] {
        if let Some(v) = verifier_in(text, &challenges) {
            panic!("the PKCE verifier {v} left the gateway (upstream or events)");
        }
    }
    for (what, value) in &secrets {
        for s in &upstream {
            let text = format!("{} {:?}", s.path, s.headers);
            assert!(
                !text.contains(value.as_str()),
                "the application received the {what}: {text}"
            );
        }
        assert!(
            !events_text.contains(value.as_str()),
            "an event carries the {what}"
        );
        for p in w.people.values() {
            for h in &p.hops {
                if let Some(l) = &h.location
                    && h.url.host_str() == Some("app.localhost")
                    && what != "code"
                {
                    assert!(
                        !l.as_str().contains(value.as_str()),
                        "a redirect the gateway made carries the {what}: {l}"
                    );
                }
            }
        }
    }
}

#[then(regex = r"^no redirect the gateway made and no page it showed carries a token$")]
async fn no_token_in_redirects(w: &mut GateWorld) {
    let h = w.header_names().clone();
    let seen = w.started().upstream.seen();
    let mut tokens: Vec<String> = Vec::new();
    for s in &seen {
        for name in [h.access_token.as_deref(), h.refresh_token.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(v) = s.header(name) {
                tokens.push(v.to_owned());
            }
        }
    }
    for p in w.people.values() {
        for c in p.ua.cookies("app.localhost") {
            tokens.push(c.value);
        }
    }
    tokens.retain(|t| t.len() >= 8);
    assert!(
        !tokens.is_empty(),
        "no token to look for (the profile sends no token headers and set no cookie)"
    );
    for p in w.people.values() {
        for hop in p
            .hops
            .iter()
            .filter(|h| h.url.host_str() == Some("app.localhost"))
        {
            for t in &tokens {
                if let Some(l) = &hop.location {
                    assert!(!l.as_str().contains(t.as_str()), "redirect carries a token: {l}");
                }
                let is_app_page = seen.iter().any(|s| hop.url.path() == s.path);
                if !is_app_page {
                    assert!(
                        !hop.body.contains(t.as_str()),
                        "the gateway's page {} carries a token",
                        hop.url
                    );
                }
            }
        }
    }
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
        }
        failures.extend(escapes(w, &hops, &format!("{payload:?}")));
    }
    note_corpus_run(w, failures, payloads.len());
}

/// Adds one corpus pass (its failures, how many requests it sent) to what the scenario's
/// `no payload sent the browser off the gateway's origin` step checks.
fn note_corpus_run(w: &mut GateWorld, failures: Vec<String>, sent: usize) {
    let mut all = w.saved.remove("corpus-failures").unwrap_or_default();
    for f in failures {
        if !all.is_empty() {
            all.push('\n');
        }
        all.push_str(&f);
    }
    w.saved.insert("corpus-failures".into(), all);
    let before: usize = w
        .saved
        .get("corpus-count")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    w.saved.insert("corpus-count".into(), (before + sent).to_string());
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
    let failures = w.saved.get("corpus-failures").cloned().unwrap_or_default();
    let n = w.saved.get("corpus-count").cloned().unwrap_or_default();
    assert!(
        failures.is_empty(),
        "of {n} requests, these left the origin or failed:\n{failures}"
    );
}

#[when(
    regex = r"^(\w+)'s request carries the user agent (empty|of a health checker|of Google's health checker)$"
)]
async fn magic_user_agent(w: &mut GateWorld, name: String, which: String) {
    let ua = match which.as_str() {
        "empty" => "",
        "of a health checker" => "kube-probe/1.29",
        _ => "GoogleHC/1.0",
    };
    let headers = vec![("user-agent".to_owned(), ua.to_owned())];
    raw(w, &name, "GET", "/private", None, &headers).await;
}

#[when(regex = r"^(\w+) tries (\d+) logins whose ID tokens name unknown keys$")]
async fn unknown_kid_flood(w: &mut GateWorld, name: String, n: usize) {
    for i in 0..n {
        w.env()
            .await
            .idp
            .on_token()
            .respond(Outcome::id_token(mock_idp::IdTokenFault::UnknownKid));
        w.person(&name).ua.clear_cookies();
        open(w, &name, &format!("/try/{i}"), &[("accept", "text/html")]).await;
        super::browse::complete_login(w, &name).await;
        // Each login must be refused — no session, nothing forwarded, no server error; how
        // the refusal is worded (its status) is not what this item is about.
        let hops = w.person(&name).hops.clone();
        let last = hops.last().expect("hops");
        let cookie = w.profile.session_cookie.clone();
        assert!(
            last.status < 500
                && last.header("x-upstream").is_none()
                && !hops
                    .iter()
                    .any(|h| h.set_cookies.iter().any(|c| sets_cookie(c, &cookie))),
            "login {i} with an unknown key was not refused:\n{}",
            describe(&hops)
        );
    }
}

#[then(regex = r"^(\w+) either gets in as (?:herself|himself|themselves) or is not let in$")]
async fn either(w: &mut GateWorld, name: String) {
    let hops = w.person(&name).hops.clone();
    let last = hops.last().expect("hops");
    assert!(last.status < 500, "server error:\n{}", describe(&hops));
    if last.status == 200 {
        let header = w.header_names().user_email.clone();
        let email = w.users[&name].email.clone();
        let seen = w.started().upstream.seen();
        let got = seen.last().and_then(|s| s.header(&header).map(str::to_owned));
        assert_eq!(got, email, "{name} got in as someone else");
    }
}

#[then(regex = r#"^the application receives "([^"]*)" or nothing$"#)]
async fn receives_or_nothing(w: &mut GateWorld, path: String) {
    for s in w.started().upstream.seen().into_iter().skip(w.upstream_mark) {
        let got = match &s.query {
            Some(q) => format!("{}?{q}", s.path),
            None => s.path.clone(),
        };
        assert_eq!(got, path, "the application received another spelling");
    }
}

#[then(regex = r#"^the application received nothing under "([^"]*)"$"#)]
async fn nothing_under(w: &mut GateWorld, prefix: String) {
    let lower = prefix.to_ascii_lowercase();
    for s in w.started().upstream.seen() {
        let decoded: String = url::form_urlencoded::parse(format!("p={}", s.path).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        assert!(
            !s.path.to_ascii_lowercase().starts_with(&lower)
                && !decoded.to_ascii_lowercase().contains(&lower),
            "the application received {}",
            s.path
        );
    }
}

#[then(regex = r"^the identity provider received no userinfo request after the refresh$")]
async fn no_userinfo_after_refresh(w: &mut GateWorld) {
    let log = w.started().idp.requests();
    let refresh = log
        .iter()
        .filter(|r| r.endpoint == Some(Endpoint::Refresh))
        .map(|r| r.seq)
        .max()
        .expect("a refresh request");
    let after: Vec<_> = log
        .iter()
        .filter(|r| r.endpoint == Some(Endpoint::Userinfo) && r.seq > refresh)
        .map(|r| r.path.clone())
        .collect();
    assert!(
        after.is_empty(),
        "userinfo was called after the bad refresh response: {after:?}"
    );
}

#[when(regex = r#"^(\w+) forges the user email header folded over two lines as "([^"]*)"$"#)]
async fn forge_folded(w: &mut GateWorld, name: String, value: String) {
    let header = w.header_names().user_email.clone();
    // An obsolete line folding (RFC 9112 §5.2): the value continues on the next line.
    let headers = vec![(header, format!("{value}{{FOLD}}x@evil.test"))];
    raw(w, &name, "GET", "/folded", None, &headers).await;
}

/// A PKCE verifier (43–128 unreserved characters) in `text` whose S256 challenge is one of
/// `challenges`, if any.
fn verifier_in(text: &str, challenges: &[String]) -> Option<String> {
    use base64::Engine as _;
    let unreserved = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
    text.split(|c: char| !unreserved(c))
        .filter(|w| (43..=128).contains(&w.len()))
        .find(|w| {
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, w.as_bytes());
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
            challenges.contains(&challenge)
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_verifier_is_found_by_its_challenge() {
        // The challenge computed independently (Python's hashlib and base64).
        let verifier = "dBjftJeZ4CVP-mJ92K1rqN5fE7hfFFk2NyQo3JUGXO4";
        let challenges = ["LMztinmaTsnNQm1GBoGRTxVJi70_BqQ-Ta1vaxN32Ps".to_owned()];
        let text = format!("x-forwarded-for: 1.2.3.4; cookie: v={verifier}; other");
        assert_eq!(super::verifier_in(&text, &challenges).as_deref(), Some(verifier));
        assert_eq!(super::verifier_in("nothing here", &challenges), None);
    }
}
