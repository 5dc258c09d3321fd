//! `Then` steps: what the browser got (status, redirects, pages, cookies), what the
//! application behind the gateway received (paths, identity headers, tokens), and what the
//! identity provider was asked.

use cucumber::then;
use mock_idp::Endpoint;

use crate::agent::Hop;
use crate::provider::Provider;
use crate::world::GateWorld;

use super::browse::{describe, open};

fn last(w: &mut GateWorld, name: &str) -> Hop {
    w.person(name)
        .hops
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("{name} has not opened anything yet"))
}

fn seen_last(w: &GateWorld) -> crate::upstream::Seen {
    w.started()
        .upstream
        .last()
        .expect("the application received no request at all")
}

#[then(regex = r"^(\w+) is sent to the identity provider$")]
fn sent_to_idp(w: &mut GateWorld, name: String) {
    let hop = last(w, &name);
    let base = w.started().idp.base_url().to_owned();
    let to = hop.location.as_ref().map(|u| u.to_string()).unwrap_or_default();
    assert!(
        (300..400).contains(&hop.status) && to.starts_with(&base),
        "{name} should be redirected to the identity provider ({base}), got {} → {to:?}",
        hop.status
    );
}

#[then(regex = r#"^(\w+) lands on "([^"]*)"$"#)]
fn lands_on(w: &mut GateWorld, name: String, path: String) {
    let hops = w.person(&name).hops.clone();
    let hop = hops.last().expect("hops");
    let got = match hop.url.query() {
        Some(q) => format!("{}?{q}", hop.url.path()),
        None => hop.url.path().to_owned(),
    };
    assert_eq!(
        (hop.status, got.as_str(), hop.url.host_str()),
        (200, path.as_str(), Some("app.localhost")),
        "{name}'s navigation:\n{}",
        describe(&hops)
    );
}

#[then(regex = r"^(\w+) gets the application's page$")]
fn gets_app_page(w: &mut GateWorld, name: String) {
    let hops = w.person(&name).hops.clone();
    let hop = hops.last().expect("hops");
    assert_eq!(hop.status, 200, "{}", describe(&hops));
    assert_eq!(
        hop.header("x-upstream"),
        Some("recording"),
        "from the application:\n{}",
        describe(&hops)
    );
}

#[then(regex = r#"^the application receives "([^"]*)"$"#)]
fn app_receives(w: &mut GateWorld, path: String) {
    let s = seen_last(w);
    let got = match &s.query {
        Some(q) => format!("{}?{q}", s.path),
        None => s.path.clone(),
    };
    assert_eq!(got, path, "the application's last request");
}

#[then(
    regex = r#"^the application receives the (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) request for "([^"]*)"$"#
)]
fn app_receives_method(w: &mut GateWorld, method: String, path: String) {
    let s = seen_last(w);
    assert_eq!(
        (s.method.as_str(), s.path.as_str()),
        (method.as_str(), path.as_str())
    );
}

#[then(regex = r"^the application receives nothing$")]
fn app_nothing(w: &mut GateWorld) {
    let seen: Vec<String> = w
        .started()
        .upstream
        .seen()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert!(seen.is_empty(), "the application received {seen:?}");
}

#[then(regex = r#"^the application never receives "([^"]*)"$"#)]
fn app_never(w: &mut GateWorld, path: String) {
    let seen: Vec<String> = w
        .started()
        .upstream
        .seen()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert!(!seen.contains(&path), "the application received {path}: {seen:?}");
}

#[then(regex = r"^the application receives no request under /auth/$")]
fn app_no_auth(w: &mut GateWorld) {
    let seen: Vec<String> = w
        .started()
        .upstream
        .seen()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert!(
        seen.iter().all(|p| !p.to_ascii_lowercase().starts_with("/auth")),
        "{seen:?}"
    );
}

#[then(regex = r"^the application sees (\w+)'s email$")]
fn sees_email(w: &mut GateWorld, name: String) {
    let header = w.header_names().user_email.clone();
    let email = w.users[&name].email.clone().expect("the user has an email");
    let s = seen_last(w);
    let got = s.header_all(&header);
    // Gateways may normalise the case of an address (providers do too).
    assert!(
        got.len() == 1 && got[0].eq_ignore_ascii_case(&email),
        "exactly one {header} saying {email}, in any case; the application saw {got:?}"
    );
}

#[then(regex = r"^the application sees (\w+)'s user id$")]
fn sees_user_id(w: &mut GateWorld, name: String) {
    let header = w.header_names().user_id.clone();
    let id = w.user_id(&name);
    let s = seen_last(w);
    assert_eq!(s.header_all(&header), [id.as_str()], "exactly one {header}");
}

#[then(regex = r#"^the application sees the name "([^"]*)"$"#)]
fn sees_name(w: &mut GateWorld, expected: String) {
    let header = w
        .header_names()
        .user_name
        .clone()
        .expect("the profile names a user-name header");
    let s = seen_last(w);
    assert_eq!(s.header_all(&header), [expected.as_str()]);
}

#[then(regex = r"^the application sees the access and refresh tokens$")]
fn sees_tokens(w: &mut GateWorld) {
    let h = w.header_names().clone();
    let s = seen_last(w);
    let access = h.access_token.expect("an access-token header");
    assert_eq!(s.header_all(&access).len(), 1, "one {access}");
    assert!(!s.header(&access).unwrap_or_default().is_empty());
    if let Some(refresh) = h.refresh_token {
        let provider_refreshes = w.spec.provider.refreshes();
        if provider_refreshes {
            assert_eq!(s.header_all(&refresh).len(), 1, "one {refresh}");
        }
    }
}

#[then(regex = r"^the application sees the access token$")]
fn sees_access_token(w: &mut GateWorld) {
    let access = w
        .header_names()
        .access_token
        .clone()
        .expect("an access-token header");
    let s = seen_last(w);
    assert_eq!(s.header_all(&access).len(), 1, "one {access}: {:?}", s.headers);
}

#[then(regex = r"^the application sees no OAuth tokens$")]
fn sees_no_tokens(w: &mut GateWorld) {
    let h = w.header_names().clone();
    let s = seen_last(w);
    for name in [h.access_token, h.refresh_token].into_iter().flatten() {
        assert!(
            s.header(&name).is_none(),
            "{name} must not be sent: {:?}",
            s.headers
        );
    }
}

#[then(regex = r"^the application sees no identity headers$")]
fn sees_no_identity(w: &mut GateWorld) {
    let h = w.header_names().clone();
    let s = seen_last(w);
    for name in [
        Some(h.user_id),
        h.user_name,
        Some(h.user_email),
        h.access_token,
        h.refresh_token,
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            s.header(&name).is_none(),
            "{name} must not be sent: {:?}",
            s.headers
        );
    }
}

#[then(regex = r#"^the application sees no header "([^"]*)"$"#)]
fn sees_no_header(w: &mut GateWorld, name: String) {
    let s = seen_last(w);
    assert!(s.header(&name).is_none(), "{name}: {:?}", s.header(&name));
}

#[then(regex = r#"^the application sees the header "([^"]*)" set to "([^"]*)"$"#)]
fn sees_header(w: &mut GateWorld, name: String, value: String) {
    let value = value.replace("{port}", &w.started().port.to_string());
    let s = seen_last(w);
    assert_eq!(s.header_all(&name), [value.as_str()], "{name}");
}

#[then(regex = r#"^no header the application sees contains "([^"]*)"$"#)]
fn no_header_contains(w: &mut GateWorld, text: String) {
    let s = seen_last(w);
    assert!(
        s.headers
            .iter()
            .all(|(k, v)| !v.contains(&text) && !k.contains(&text)),
        "{:?}",
        s.headers
    );
}

#[then(regex = r#"^no identity header the application received carries "([^"]*)"$"#)]
fn no_identity_header_carries(w: &mut GateWorld, text: String) {
    let names = w.header_names().clone();
    let headers: Vec<String> = [Some(names.user_id), names.user_name, Some(names.user_email)]
        .into_iter()
        .flatten()
        .collect();
    let lower = text.to_ascii_lowercase();
    let mut carried = Vec::new();
    for s in w.started().upstream.seen() {
        for h in &headers {
            for v in s.header_all(h) {
                if v.to_ascii_lowercase().contains(&lower) {
                    carried.push(format!("{} {}: {h}: {v}", s.method, s.path));
                }
            }
        }
    }
    assert!(
        carried.is_empty(),
        "the application was told {text:?} as the user's identity, though the provider never verified it:\n  {}",
        carried.join("\n  ")
    );
}

#[then(regex = r#"^the application receives the body "([^"]*)"$"#)]
fn app_body(w: &mut GateWorld, body: String) {
    assert_eq!(seen_last(w).body, body);
}

#[then(regex = r"^(\w+) sees an error page with status (\d+)$")]
fn error_page(w: &mut GateWorld, name: String, status: u16) {
    let hops = w.person(&name).hops.clone();
    let hop = hops.last().expect("hops");
    assert_eq!(hop.status, status, "{}\n{}", describe(&hops), hop.body);
    assert!(
        hop.header("x-upstream").is_none(),
        "the gateway's page, not the application's"
    );
    assert!(!hop.body.is_empty(), "an explanation for the user");
}

#[then(regex = r"^(\w+) sees an error page$")]
fn error_page_any(w: &mut GateWorld, name: String) {
    let hops = w.person(&name).hops.clone();
    let hop = hops.last().expect("hops");
    assert!(hop.status >= 400, "{}\n{}", describe(&hops), hop.body);
    assert!(
        hop.header("x-upstream").is_none(),
        "the gateway's page, not the application's"
    );
}

#[then(regex = r"^(\w+) is refused with status (\d+)$")]
fn refused(w: &mut GateWorld, name: String, status: u16) {
    let hop = last(w, &name);
    assert_eq!(hop.status, status, "{}", hop.body);
    assert!(
        hop.header("x-upstream").is_none(),
        "not answered by the application"
    );
}

#[then(regex = r#"^the page says "([^"]*)"$"#)]
fn page_says(w: &mut GateWorld, text: String) {
    let name = w.people.keys().next().cloned().unwrap_or_else(|| "alice".into());
    let hop = w
        .people
        .values()
        .filter_map(|p| p.hops.last())
        .find(|h| h.body.contains(&text))
        .cloned();
    assert!(
        hop.is_some(),
        "no page says {text:?}; {name}'s last page:\n{}",
        last(w, &name).body
    );
}

#[then(regex = r"^the page offers a link to log in again$")]
fn retry_link(w: &mut GateWorld) {
    let want = w.url("/auth/authn");
    let ok = w
        .people
        .values()
        .filter_map(|p| p.hops.last())
        .any(|h| h.body.contains(&format!("href=\"{want}\"")));
    assert!(ok, "an error page linking to {want}");
}

#[then(regex = r"^the page cannot be framed and is not cached$")]
fn page_headers(w: &mut GateWorld) {
    let name = w.people.keys().next().cloned().expect("someone browsed");
    let hop = last(w, &name);
    assert!(
        cannot_be_framed(&hop),
        "the page can be framed by another site: no X-Frame-Options DENY/SAMEORIGIN and no CSP frame-ancestors 'none'/'self' (X-Frame-Options {:?}, Content-Security-Policy {:?})",
        hop.header("x-frame-options"),
        hop.header("content-security-policy")
    );
    assert!(
        is_no_store(&hop),
        "the page may be stored by caches: Cache-Control {:?} (no-store needed)",
        hop.header("cache-control")
    );
}

/// Another site cannot frame the page: `X-Frame-Options: DENY` or `SAMEORIGIN` (RFC 7034),
/// or a CSP `frame-ancestors 'none'` or `'self'` (CSP Level 2, which takes precedence).
pub(crate) fn cannot_be_framed(hop: &Hop) -> bool {
    let xfo = hop
        .header("x-frame-options")
        .is_some_and(|v| v.eq_ignore_ascii_case("deny") || v.eq_ignore_ascii_case("sameorigin"));
    let csp = hop.header("content-security-policy").is_some_and(|v| {
        v.split(';').any(|d| {
            let mut words = d.split_whitespace();
            words
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("frame-ancestors"))
                && words.clone().count() > 0
                && words.all(|src| src == "'none'" || src == "'self'")
        })
    });
    xfo || csp
}

/// `Cache-Control` has `no-store` among its directives.
pub(crate) fn is_no_store(hop: &Hop) -> bool {
    hop.header("cache-control")
        .is_some_and(|v| v.split(',').any(|d| d.trim().eq_ignore_ascii_case("no-store")))
}

#[then(regex = r"^(\w+) has no session$")]
fn no_session(w: &mut GateWorld, name: String) {
    let cookie = w.profile.session_cookie.clone();
    assert!(
        w.person(&name).ua.cookie("app.localhost", &cookie).is_none(),
        "{name} holds a {cookie} cookie"
    );
}

#[then(regex = r"^(\w+) has a session$")]
fn has_session(w: &mut GateWorld, name: String) {
    let cookie = w.profile.session_cookie.clone();
    assert!(
        w.person(&name).ua.cookie("app.localhost", &cookie).is_some(),
        "{name} holds no {cookie} cookie"
    );
}

#[then(regex = r"^(\w+) must log in again$")]
async fn must_log_in(w: &mut GateWorld, name: String) {
    let hop = open(w, &name, "/check-session", &[("accept", "text/html")]).await;
    let base = w.started().idp.base_url().to_owned();
    assert!(
        (300..400).contains(&hop.status)
            && hop
                .location
                .as_ref()
                .is_some_and(|l| l.as_str().starts_with(&base)),
        "{name} should be sent to log in, got {} {:?}",
        hop.status,
        hop.location
    );
    w.started().upstream.seen().iter().for_each(|s| {
        assert_ne!(s.path, "/check-session", "the application must not receive it");
    });
}

#[then(regex = r"^(\w+) is still logged in$")]
async fn still_logged_in(w: &mut GateWorld, name: String) {
    let hop = open(w, &name, "/check-session", &[("accept", "text/html")]).await;
    assert_eq!(hop.status, 200, "{}", hop.body);
    let header = w.header_names().user_id.clone();
    let id = w.user_id(&name);
    let s = seen_last(w);
    assert_eq!(
        (s.path.as_str(), s.header(&header)),
        ("/check-session", Some(id.as_str()))
    );
}

#[then(regex = r"^the session cookie is HttpOnly, Secure and SameSite=Lax and its value is opaque$")]
fn cookie_attributes(w: &mut GateWorld) {
    let cookie = w.profile.session_cookie.clone();
    let c = w
        .person("alice")
        .ua
        .cookie("app.localhost", &cookie)
        .expect("a session cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(c.raw.contains(attr), "{attr} in {}", c.raw);
    }
    assert!(c.value.len() >= 32, "at least 128 bits: {}", c.value);
    assert!(
        !c.value.contains("alice") && !c.value.contains('@'),
        "opaque: {}",
        c.value
    );
}

/// A parameter of the first authorization request the IdP received.
fn authorize_param(w: &GateWorld, name: &str) -> Option<String> {
    w.started()
        .idp
        .requests_to(Endpoint::Authorize)
        .into_iter()
        .next()
        .expect("an authorization request")
        .params
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[then(regex = r"^the login request used PKCE with S256$")]
fn authorize_pkce(w: &mut GateWorld) {
    let method = authorize_param(w, "code_challenge_method");
    assert_eq!(
        method.as_deref(),
        Some("S256"),
        "the login request's code_challenge_method (RFC 7636 §4.3; RFC 9700 §2.1.1: S256, always)"
    );
}

#[then(regex = r"^the login request carried the configured callback$")]
fn authorize_callback(w: &mut GateWorld) {
    let port = w.started().port;
    let callback = crate::launch::callback_url(&w.profile, &w.spec, port);
    assert_eq!(authorize_param(w, "redirect_uri"), Some(callback));
}

#[then(regex = r"^the login request is bound to the browser by an unguessable state or by PKCE with S256$")]
fn authorize_csrf_protected(w: &mut GateWorld) {
    // RFC 9700 §2.1: a client may rely on PKCE instead of `state` for CSRF protection when the
    // authorization server supports PKCE (every provider played here does, or refuses it).
    let state = authorize_param(w, "state").filter(|s| s.len() >= 22);
    let pkce = authorize_param(w, "code_challenge_method").is_some_and(|m| m == "S256");
    assert!(
        state.is_some() || pkce,
        "the login request carried neither a state of at least 128 bits nor a PKCE S256 challenge: nothing binds the callback to this browser's login (RFC 9700 §2.1)"
    );
}

#[then(
    regex = r"^the identity provider received (no|\d+|at most \d+|at least \d+) (token|refresh|userinfo|authorization|discovery|key set) requests?$"
)]
fn idp_count(w: &mut GateWorld, n: String, kind: String) {
    let endpoint = match kind.as_str() {
        "token" => Endpoint::Token,
        "refresh" => Endpoint::Refresh,
        "userinfo" => Endpoint::Userinfo,
        "discovery" => Endpoint::Discovery,
        "key set" => Endpoint::Jwks,
        _ => Endpoint::Authorize,
    };
    let got = w.started().idp.requests_to(endpoint).len();
    if let Some(max) = n.strip_prefix("at most ") {
        let max: usize = max.parse().expect("a count");
        assert!(
            got <= max,
            "{got} {kind} requests at the identity provider, expected at most {max}"
        );
    } else if let Some(min) = n.strip_prefix("at least ") {
        let min: usize = min.parse().expect("a count");
        assert!(
            got >= min,
            "{got} {kind} requests at the identity provider, expected at least {min}"
        );
    } else {
        let want: usize = if n == "no" { 0 } else { n.parse().expect("a count") };
        assert_eq!(got, want, "{kind} requests at the identity provider");
    }
}

#[then(regex = r"^nobody fetched the attacker's key set$")]
fn no_jku_fetch(w: &mut GateWorld) {
    let hits: Vec<_> = w
        .started()
        .idp
        .requests()
        .into_iter()
        .filter(|r| r.path == mock_idp::keys::ATTACKER_JWKS_PATH)
        .collect();
    assert!(
        hits.is_empty(),
        "the gateway fetched the key set named by the token's jku: {hits:#?}"
    );
}

#[then(regex = r"^the identity provider found no mistakes in the gateway's requests$")]
fn no_findings(w: &mut GateWorld) {
    let findings: Vec<_> = w
        .started()
        .idp
        .findings()
        .into_iter()
        .filter(|f| f.severity > mock_idp::Severity::Info)
        .collect();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[then(regex = r"^the upgrade reaches the application$")]
fn upgraded(w: &mut GateWorld) {
    let name = w.people.keys().next().cloned().expect("someone browsed");
    let hop = last(w, &name);
    assert_eq!(hop.status, 101, "{}", hop.body);
    let s = seen_last(w);
    assert_eq!(s.path, "/ws");
}

#[then(regex = r"^the page shows the identity provider's error$")]
fn shows_idp_error(w: &mut GateWorld) {
    let hops: Vec<Hop> = w.people.values().flat_map(|p| p.hops.clone()).collect();
    // The identity provider's redirect back carries its error; later hops (a gateway's own
    // error page, with an `error` of its own in the URL) do not count.
    let idp = url::Url::parse(w.started().idp.base_url()).expect("the IdP's base URL");
    let back = hops
        .iter()
        .filter(|h| h.url.origin() == idp.origin())
        .find_map(|h| h.location.clone().filter(|l| l.origin() != idp.origin()))
        .expect("the identity provider's redirect back to the gateway");
    let error = back
        .query_pairs()
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("the identity provider's redirect back carries no error: {back}"));
    let page = hops.last().expect("a page");
    assert!(
        page.body.contains(&error),
        "the page should show {error:?}:\n{}",
        page.body
    );
}

#[then(expr = "the login request asks {provider} to re-authenticate")]
fn reauth_param(w: &mut GateWorld, provider: crate::provider::Provider) {
    let expected: (&str, &str) = match provider {
        Provider::Google | Provider::Github => ("prompt", "select_account"),
        Provider::Microsoft | Provider::Gitlab | Provider::Generic => ("prompt", "login"),
        Provider::Twitch => ("force_verify", "true"),
        Provider::Facebook => ("auth_type", "reauthenticate"),
        other => panic!("{other} has no re-authentication parameter"),
    };
    let to_idp = w
        .people
        .values()
        .filter_map(|p| p.hops.last())
        .filter_map(|h| h.location.clone())
        .next_back()
        .expect("a redirect to the identity provider");
    let params: Vec<(String, String)> = to_idp.query_pairs().into_owned().collect();
    assert!(
        params.iter().any(|(k, v)| k == expected.0 && v == expected.1),
        "{}={} in {params:?}",
        expected.0,
        expected.1
    );
}

#[then(regex = r#"^the login requested the scope "([^"]*)"$"#)]
fn requested_scope(w: &mut GateWorld, scope: String) {
    let req = w
        .started()
        .idp
        .requests_to(Endpoint::Authorize)
        .into_iter()
        .next()
        .expect("an authorization request");
    let got = req
        .params
        .iter()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone());
    // A scope is a set: its order means nothing (RFC 6749 §3.3).
    let set = |s: &str| {
        s.split_whitespace()
            .map(str::to_owned)
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        got.as_deref().map(set),
        Some(set(&scope)),
        "the login requested {got:?}"
    );
}

#[then(regex = r"^the profile request carried the token as (a query parameter|a bearer header)$")]
fn profile_token(w: &mut GateWorld, how: String) {
    let req = w
        .started()
        .idp
        .requests_to(Endpoint::Userinfo)
        .into_iter()
        .next()
        .expect("a profile request");
    let in_query = req.params.iter().any(|(k, _)| k == "access_token");
    let in_header = req.headers.iter().any(|(k, _)| k == "authorization");
    if how == "a query parameter" {
        assert!(in_query && !in_header, "{:?} {:?}", req.params, req.headers);
    } else {
        assert!(in_header && !in_query, "{:?} {:?}", req.params, req.headers);
    }
}

#[then(regex = r"^the identity provider ended (\w+)'s session too$")]
fn idp_logout(w: &mut GateWorld, name: String) {
    let n = w.started().idp.requests_to(Endpoint::EndSession).len();
    assert_eq!(n, 1, "one end-session request for {name}");
    let hops = w.person(&name).hops.clone();
    let back = hops.last().expect("hops");
    assert_eq!(
        back.url.host_str(),
        Some("app.localhost"),
        "back at the site:\n{}",
        describe(&hops)
    );
}

#[then(regex = r"^both replicas served (\w+)$")]
fn both_replicas(w: &mut GateWorld, _name: String) {
    let hits = w
        .started()
        .gateway
        .balancer_hits()
        .expect("replicas behind a balancer");
    assert!(hits.iter().all(|&h| h > 0), "connections per replica: {hits:?}");
}

#[then(regex = r#"^(\w+) is redirected to "([^"]*)"$"#)]
fn redirected_to(w: &mut GateWorld, name: String, path: String) {
    let hop = last(w, &name);
    let want = w.url(&path);
    assert_eq!(
        (hop.status, hop.location.as_ref().map(|u| u.to_string())),
        (302, Some(want)),
        "{}",
        hop.body
    );
}

#[then(regex = r"^(\w+) is not let in$")]
fn not_let_in(w: &mut GateWorld, name: String) {
    let hops = w.person(&name).hops.clone();
    let hop = hops.last().expect("hops");
    assert!(
        hop.header("x-upstream").is_none(),
        "{name} reached the application:\n{}",
        describe(&hops)
    );
}

#[then(regex = r"^if the gateway read the identity provider's userinfo, (\w+) is not let in$")]
fn not_let_in_if_userinfo(w: &mut GateWorld, name: String) {
    let asked = !w.started().idp.requests_to(Endpoint::Userinfo).is_empty();
    if asked {
        not_let_in(w, name);
    }
}

#[then(regex = r"^the two logins are bound to different unguessable secrets$")]
fn different_states(w: &mut GateWorld) {
    // RFC 9700 §4.7.1: a login is protected against CSRF by a one-time `state`, by PKCE
    // (when the IdP supports it), or in OpenID Connect by the `nonce`. Any one of them, fresh
    // and unguessable per login, binds the login to its browser; a `state` that is not such a
    // secret is then only worth knowing.
    let redirects: Vec<url::Url> = w
        .people
        .values()
        .filter_map(|p| p.hops.last().and_then(|h| h.location.clone()))
        .collect();
    assert_eq!(redirects.len(), 2, "two login redirects: {redirects:?}");
    let param = |u: &url::Url, k: &str| u.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    let binds = |k: &str| match (param(&redirects[0], k), param(&redirects[1], k)) {
        (Some(a), Some(b)) => a != b && a.len() >= 22 && b.len() >= 22,
        _ => false,
    };
    let binding: Vec<&str> = ["state", "code_challenge", "nonce"]
        .into_iter()
        .filter(|k| binds(k))
        .collect();
    assert!(
        !binding.is_empty(),
        "neither a state, a PKCE challenge nor a nonce differs between two logins with at least 128 bits of base64url: {redirects:?}"
    );
    if !binding.contains(&"state") && param(&redirects[0], "state").is_some() {
        w.observe(format!(
            "the login's state is not a fresh secret ({:?} in both logins or too short): the login is bound to the browser by {} instead (RFC 9700 §4.7.1)",
            param(&redirects[0], "state").unwrap_or_default(),
            binding.join(" and ")
        ));
    }
}

#[then(regex = r"^the last X-Forwarded-For address the application sees is the client's$")]
fn forwarded_for_is_client(w: &mut GateWorld) {
    // Checklist 48: a gateway may append to a client's X-Forwarded-For or replace it, but the
    // last hop it names must be the address it really saw.
    let s = seen_last(w);
    let all: Vec<&str> = s
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("x-forwarded-for"))
        .map(|(_, v)| v.as_str())
        .collect();
    let last = all
        .last()
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .unwrap_or_else(|| panic!("no X-Forwarded-For reached the application: {:?}", s.headers));
    assert!(
        last == "127.0.0.1" || last == "::1" || last == "::ffff:127.0.0.1",
        "the last X-Forwarded-For hop is {last:?}, not the client's loopback address ({all:?})"
    );
}
