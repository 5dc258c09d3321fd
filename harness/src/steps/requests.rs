//! Requests no browser sends, over a raw TCP connection so that they reach the gateway byte
//! for byte (an HTTP library would resolve `..` or reject `\`): odd request targets, methods
//! and Host headers, oversized or numerous cookies, folded headers, health-checker user
//! agents — and what the gateway and the application must (not) do with them.

use std::time::Duration;

use cucumber::gherkin::Step;
use cucumber::{then, when};
use reqwest::Method;
use url::Url;

use super::browse::describe;
use crate::agent::Hop;
use crate::raw::RawRequest;
use crate::world::GateWorld;

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

/// The cookies `name`'s browser holds for the gateway, as a `Cookie` header value.
pub(crate) fn cookie_header(w: &mut GateWorld, name: &str) -> Option<String> {
    let cookies: Vec<String> = w
        .person(name)
        .ua
        .cookies("app.localhost")
        .into_iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect();
    (!cookies.is_empty()).then(|| cookies.join("; "))
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
    let cookies = cookie_header(w, name);
    let host = host
        .map(str::to_owned)
        .unwrap_or_else(|| format!("app.localhost:{port}"));
    let mut req = RawRequest::new(method, target, &host).header("connection", "close");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
        req = req.header("accept", "text/html");
    }
    if let Some(c) = cookies {
        req = req.header("cookie", &c);
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
    // Like a browser, keep what the gateway set (a login bound to a cookie needs it back).
    w.person(name).ua.store(&url, &resp.set_cookies);
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
pub(crate) fn sets_cookie(set_cookie: &str, name: &str) -> bool {
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

#[when(regex = r#"^(\w+) forges the user email header folded over two lines as "([^"]*)"$"#)]
async fn forge_folded(w: &mut GateWorld, name: String, value: String) {
    let header = w.header_names().user_email.clone();
    // An obsolete line folding (RFC 9112 §5.2): the value continues on the next line.
    let headers = vec![(header, format!("{value}{{FOLD}}x@evil.test"))];
    raw(w, &name, "GET", "/folded", None, &headers).await;
}
