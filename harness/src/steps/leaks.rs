//! What must never leak: codes, verifiers, secrets and sessions in what the application
//! receives or the gateway reports, tokens in redirects and pages, cross-origin reads,
//! cacheable or frameable callback answers.

use cucumber::then;
use mock_idp::Endpoint;

use super::check;
use crate::world::GateWorld;

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

#[then(regex = r"^the callback's answer keeps the code from caches, referrers and frames$")]
async fn callback_headers(w: &mut GateWorld) {
    // RFC 9700 §4.2.4 (code leakage via Referer), RFC 9111 (what a cache may store). A
    // callback that answers with a redirect leaks nothing through Referer (a redirected
    // navigation keeps its original referrer) and has nothing to frame; it must only not be
    // storable. A callback that answers with a page must keep it out of caches, referrers
    // and frames itself.
    let callback_path = w.callback_path();
    let hop = w
        .people
        .values()
        .flat_map(|p| p.hops.iter())
        .find(|h| h.url.path() == callback_path)
        .cloned()
        .expect("a callback hop");
    let cc = hop
        .header("cache-control")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if (300..400).contains(&hop.status) {
        assert!(
            !storable_redirect(&hop),
            "caches may store the callback's {} redirect (Cache-Control {cc:?}, Expires {:?}): RFC 9111 §3 lets them keep a {} or one with explicit freshness",
            hop.status,
            hop.header("expires"),
            hop.status
        );
        if !check::is_no_store(&hop) {
            w.observe(format!(
                "the callback's {} redirect has no Cache-Control: no-store (not storable anyway: RFC 9111 gives it no heuristic freshness)",
                hop.status
            ));
        }
        return;
    }
    w.observe(format!(
        "the callback ends in a {} page, not a redirect: the code stays in the address bar and history",
        hop.status
    ));
    assert!(
        check::is_no_store(&hop),
        "the callback's page may be cached: Cache-Control {cc:?}"
    );
    let rp = hop.header("referrer-policy").unwrap_or_default();
    assert!(
        rp.contains("no-referrer") || rp.contains("same-origin"),
        "the callback's page, whose URL holds the code, sends it as Referer: Referrer-Policy {rp:?}"
    );
    assert!(
        check::cannot_be_framed(&hop),
        "the callback's page can be framed: X-Frame-Options {:?}, Content-Security-Policy {:?}",
        hop.header("x-frame-options"),
        hop.header("content-security-policy")
    );
}

/// Whether a cache may store a redirect (RFC 9111 §3, §4.2.2): 301 and 308 are heuristically
/// cacheable; any redirect with `public`, `max-age`, `s-maxage` or `Expires` has explicit
/// freshness; `no-store` forbids storing.
fn storable_redirect(hop: &crate::agent::Hop) -> bool {
    let cc = hop
        .header("cache-control")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let directives: Vec<&str> = cc
        .split(',')
        .map(|d| d.trim().split('=').next().unwrap_or(""))
        .collect();
    if directives.contains(&"no-store") {
        return false;
    }
    let explicit = directives
        .iter()
        .any(|d| matches!(*d, "public" | "max-age" | "s-maxage"))
        || hop.header("expires").is_some();
    explicit || matches!(hop.status, 300 | 301 | 308)
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
