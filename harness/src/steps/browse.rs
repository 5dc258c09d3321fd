//! People using their browsers (one hop at a time, every hop kept for the assertions), time
//! passing on both clocks, and configuration changes.

use cucumber::gherkin::Step;
use cucumber::{given, when};
use mock_idp::Outcome;
use reqwest::Method;
use url::Url;

use crate::agent::Hop;
use crate::world::GateWorld;

use super::duration;

/// Opens `path` in `name`'s browser: one hop.
pub async fn open(w: &mut GateWorld, name: &str, path: &str, headers: &[(&str, &str)]) -> Hop {
    let url = {
        w.env().await;
        w.url(path)
    };
    let hop = w.person(name).ua.send(Method::GET, &url, headers, None).await;
    w.note_login_redirects(std::slice::from_ref(&hop));
    w.person(name).hops = vec![hop.clone()];
    hop
}

/// Follows the redirect chain from `name`'s last hop.
pub async fn follow(w: &mut GateWorld, name: &str) {
    let p = w.person(name);
    let from = p
        .hops
        .last()
        .and_then(|h| h.location.clone())
        .unwrap_or_else(|| panic!("{name}'s last response was not a redirect"));
    let more = p.ua.follow(from.as_str()).await;
    p.hops.extend(more.clone());
    w.note_login_redirects(&more);
}

/// The IdP approves the next login as `name` (headless), then the browser follows.
pub async fn complete_login(w: &mut GateWorld, name: &str) {
    w.env().await.idp.on_authorize().respond(Outcome::approve(name));
    follow(w, name).await;
}

/// Opens `path` and completes the login; asserts it landed on the application.
pub async fn log_in(w: &mut GateWorld, name: &str, path: &str) {
    open(w, name, path, &[]).await;
    complete_login(w, name).await;
    let hops = &w.person(name).hops;
    let last = hops.last().expect("hops");
    assert_eq!(
        last.status,
        200,
        "{name} should have logged in:\n{}",
        describe(hops)
    );
}

/// One line per hop, for failure messages.
pub fn describe(hops: &[Hop]) -> String {
    hops.iter()
        .map(|h| {
            format!(
                "  {} {} → {}{}",
                h.method,
                h.url,
                h.status,
                h.location.as_ref().map(|l| format!(" → {l}")).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[when(regex = r#"^(\w+) opens "([^"]*)"$"#)]
async fn opens(w: &mut GateWorld, name: String, path: String) {
    open(w, &name, &path, &[("accept", "text/html")]).await;
}

#[when(regex = r#"^(\w+) opens "([^"]*)" with the header "([^"]*)" set to "([^"]*)"$"#)]
async fn opens_with_header(w: &mut GateWorld, name: String, path: String, header: String, value: String) {
    open(w, &name, &path, &[(header.as_str(), value.as_str())]).await;
}

#[when(regex = r#"^(\w+) opens "([^"]*)" with the headers:$"#)]
async fn opens_with_headers(w: &mut GateWorld, name: String, path: String, step: &Step) {
    let table = step.table.as_ref().expect("a table of header | value");
    let pairs: Vec<(String, String)> = table
        .rows
        .iter()
        .filter(|r| r.len() == 2 && r[0] != "header")
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    open(w, &name, &path, &refs).await;
}

#[when(regex = r"^(\w+) completes the login$")]
async fn completes(w: &mut GateWorld, name: String) {
    complete_login(w, &name).await;
}

#[when(regex = r"^(\w+) follows the redirects$")]
async fn follows(w: &mut GateWorld, name: String) {
    follow(w, &name).await;
}

#[given(regex = r#"^(\w+) has logged in at "([^"]*)"$"#)]
#[when(regex = r#"^(\w+) logs in at "([^"]*)"$"#)]
async fn logs_in_at(w: &mut GateWorld, name: String, path: String) {
    log_in(w, &name, &path).await;
}

/// Opens `path` and, when the gateway sends the browser on, lets the IdP approve the login
/// and follows — a login that may fail at any point (the gateway may refuse before sending
/// anyone to the IdP).
#[when(regex = r#"^(\w+) tries to log in at "([^"]*)"$"#)]
async fn tries_to_log_in(w: &mut GateWorld, name: String, path: String) {
    let hop = open(w, &name, &path, &[]).await;
    if (300..400).contains(&hop.status) {
        complete_login(w, &name).await;
    }
}

#[given(regex = r"^(\w+) is logged in$")]
#[when(regex = r"^(\w+) logs in$")]
async fn logged_in(w: &mut GateWorld, name: String) {
    log_in(w, &name, "/").await;
}

#[when(
    regex = r#"^(\w+) sends (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) "([^"]*)"(?: accepting "([^"]*)")?$"#
)]
async fn sends(w: &mut GateWorld, name: String, method: String, path: String, accept: String) {
    w.env().await;
    let url = w.url(&path);
    let method: Method = method.parse().expect("an HTTP method");
    let accept = if accept.is_empty() {
        "*/*".to_owned()
    } else {
        accept
    };
    let body = matches!(method, Method::POST | Method::PUT | Method::PATCH).then(|| "payload=1".to_owned());
    let hop = w
        .person(&name)
        .ua
        .send(method, &url, &[("accept", accept.as_str())], body)
        .await;
    w.person(&name).hops = vec![hop];
}

#[when(
    regex = r#"^(\w+)'s web page sends a CORS preflight for "([^"]*)"(?: with the header "([^"]*)" set to "([^"]*)")?$"#
)]
async fn preflight(w: &mut GateWorld, name: String, path: String, header: String, value: String) {
    w.env().await;
    let url = w.url(&path);
    let mut headers = vec![
        ("origin", "https://spa.example"),
        ("access-control-request-method", "POST"),
    ];
    if !header.is_empty() {
        headers.push((header.as_str(), value.as_str()));
    }
    let hop = w
        .person(&name)
        .ua
        .send(Method::OPTIONS, &url, &headers, None)
        .await;
    w.person(&name).hops = vec![hop];
}

#[when(regex = r#"^(\w+) opens a WebSocket to "([^"]*)"$"#)]
async fn websocket(w: &mut GateWorld, name: String, path: String) {
    w.env().await;
    let url = w.url(&path);
    let hop = w
        .person(&name)
        .ua
        .send(
            Method::GET,
            &url,
            &[
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
            None,
        )
        .await;
    w.person(&name).hops = vec![hop];
}

#[when(regex = r"^(\w+) logs out$")]
async fn logs_out(w: &mut GateWorld, name: String) {
    let path = w.profile.logout_path.clone();
    match w.profile.logout_form.clone() {
        None => {
            open(w, &name, &path, &[("accept", "text/html")]).await;
        }
        Some(form) => {
            // The logout form a browser would post: its CSRF token first.
            let token_url = w.url(&form.csrf_from);
            let doc = w.person(&name).ua.get(&token_url).await;
            let token = serde_json::from_str::<serde_json::Value>(&doc.body)
                .ok()
                .and_then(|v| v[&form.csrf_field].as_str().map(str::to_owned))
                .unwrap_or_else(|| {
                    panic!(
                        "{} answered no JSON field {:?} to read the logout form's token from: {} {}",
                        form.csrf_from, form.csrf_field, doc.status, doc.body
                    )
                });
            let body: String = form_urlencoded::Serializer::new(String::new())
                .append_pair(&form.csrf_field, &token)
                .finish();
            let url = w.url(&path);
            let hop = w
                .person(&name)
                .ua
                .send(
                    Method::POST,
                    &url,
                    &[
                        ("content-type", "application/x-www-form-urlencoded"),
                        ("accept", "text/html"),
                    ],
                    Some(body),
                )
                .await;
            w.person(&name).hops = vec![hop];
        }
    }
    // Through a single-logout round trip, but not into a new login.
    let authorize = w
        .started()
        .idp
        .endpoint_url(mock_idp::Endpoint::Authorize)
        .unwrap_or_default();
    for _ in 0..10 {
        let p = w.person(&name);
        let Some(next) = p.hops.last().and_then(|h| h.location.clone()) else {
            break;
        };
        if next.as_str().starts_with(&authorize) {
            break;
        }
        let hop = p.ua.get(next.as_str()).await;
        p.hops.push(hop);
    }
}

#[when(regex = r"^(\w+) asks to log in again$")]
async fn reauthenticate(w: &mut GateWorld, name: String) {
    open(w, &name, "/auth/authn", &[("accept", "text/html")]).await;
}

#[when(regex = r"^(\w+) keeps a copy of the session cookie$")]
async fn keep_cookie(w: &mut GateWorld, name: String) {
    let cookie_name = w.profile.session_cookie.clone();
    let value = w
        .person(&name)
        .ua
        .cookie("app.localhost", &cookie_name)
        .unwrap_or_else(|| panic!("{name} has no {cookie_name} cookie"))
        .value;
    w.probes.kept_cookies.insert(name, value);
}

#[when(regex = r"^someone replays (\w+)'s old session cookie$")]
async fn replay_cookie(w: &mut GateWorld, name: String) {
    let value = w
        .probes
        .kept_cookies
        .get(&name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} kept no copy of a session cookie"));
    let cookie_name = w.profile.session_cookie.clone();
    w.person("someone")
        .ua
        .set_cookie("app.localhost", &cookie_name, &value);
    open(w, "someone", "/replayed", &[("accept", "text/html")]).await;
}

#[when(regex = r#"^(\w+) forges a session cookie "([^"]*)"$"#)]
async fn forged_cookie(w: &mut GateWorld, name: String, value: String) {
    w.env().await;
    let cookie_name = w.profile.session_cookie.clone();
    w.person(&name)
        .ua
        .set_cookie("app.localhost", &cookie_name, &value);
    w.probes.planted_cookie = Some(value);
}

/// Runs a login in `attacker`'s browser up to the IdP's redirect back, without following it:
/// the callback URL a victim could be tricked into opening.
async fn attacker_callback(w: &mut GateWorld, attacker: &str) -> String {
    open(w, attacker, "/", &[("accept", "text/html")]).await;
    w.env()
        .await
        .idp
        .on_authorize()
        .respond(Outcome::approve("alice"));
    let to_idp = w.person(attacker).hops[0]
        .location
        .clone()
        .expect("a login redirect");
    let at_idp = w.person(attacker).ua.get(to_idp.as_str()).await;
    at_idp
        .location
        .map(|u| u.to_string())
        .expect("the IdP redirected back with a code")
}

#[when(regex = r"^an attacker tricks (\w+) into opening the callback of the attacker's own login$")]
async fn login_csrf(w: &mut GateWorld, victim: String) {
    let callback = attacker_callback(w, "mallory").await;
    let hop = w.person(&victim).ua.get(&callback).await;
    w.person(&victim).hops = vec![hop];
}

#[when(regex = r"^(\w+) opens the callback of that login a second time$")]
async fn replay_callback(w: &mut GateWorld, name: String) {
    // The callback is where the identity provider sent the browser back to, whatever the
    // gateway calls its path.
    let idp = url::Url::parse(w.started().idp.base_url()).expect("the IdP's base URL");
    let callback = w
        .person(&name)
        .hops
        .iter()
        .filter(|h| h.url.origin() == idp.origin())
        .find_map(|h| h.location.clone().filter(|l| l.origin() != idp.origin()))
        .map(|l| l.to_string())
        .unwrap_or_else(|| {
            panic!("{name}'s last login has no redirect from the identity provider back to the gateway")
        });
    let hop = w.person(&name).ua.get(&callback).await;
    w.person(&name).hops = vec![hop];
}

#[when(regex = r#"^(\w+) opens the callback with the parameters "([^"]*)"$"#)]
async fn callback_with(w: &mut GateWorld, name: String, query: String) {
    let path = format!("{}?{query}", w.callback_path());
    open(w, &name, &path, &[("accept", "text/html")]).await;
}

#[given(regex = r"^(\d+ (?:seconds?|minutes?|hours?|days?)) (?:pass|passes|have passed|has passed)$")]
#[when(regex = r"^(\d+ (?:seconds?|minutes?|hours?|days?)) (?:pass|passes)$")]
async fn time_passes(w: &mut GateWorld, d: String) {
    w.advance(duration(&d)).await;
}

#[when(regex = r#"^the gateway's configuration changes to allow only the email domain "([^"]*)"$"#)]
async fn narrow_policy(w: &mut GateWorld, domain: String) {
    w.env().await;
    w.spec.allow_emails.clear();
    w.spec.allow_domains = vec![domain];
    w.reload().await;
}

#[when(regex = r#"^"([^"]*)" is no longer a provisioned user$"#)]
async fn unprovision(w: &mut GateWorld, id: String) {
    w.env().await;
    w.spec.generic.provisioned_users.retain(|u| *u != id);
    w.reload().await;
}

#[when(regex = r"^(\w+) opens (\w+)'s callback$")]
async fn opens_others_callback(w: &mut GateWorld, name: String, owner: String) {
    let callback_path = w.callback_path();
    let callback = w
        .person(&owner)
        .hops
        .iter()
        .find(|h| h.url.path() == callback_path)
        .map(|h| h.url.to_string())
        .expect("a callback hop in the owner's last login");
    let hop = w.person(&name).ua.get(&callback).await;
    w.person(&name).hops = vec![hop];
}

#[when(
    regex = r#"^(\w+) forges the (user email|user id|user name|access token|refresh token) header (exactly|in capitals|with the other separator) as "([^"]*)"$"#
)]
async fn forges(w: &mut GateWorld, name: String, role: String, spelling: String, value: String) {
    let h = w.header_names().clone();
    let header = match role.as_str() {
        "user email" => Some(h.user_email),
        "user id" => Some(h.user_id),
        "user name" => h.user_name,
        "access token" => h.access_token,
        _ => h.refresh_token,
    }
    .unwrap_or_else(|| panic!("the profile names no {role} header"));
    let spelled = match spelling.as_str() {
        "in capitals" => header.to_ascii_uppercase(),
        "with the other separator" => header
            .chars()
            .map(|c| match c {
                '-' => '_',
                '_' => '-',
                c => c,
            })
            .collect(),
        _ => header,
    };
    open(w, &name, "/me", &[(spelled.as_str(), value.as_str())]).await;
}

/// Approves a login at the IdP as `user` and returns the IdP's redirect back (the callback
/// URL with the code) without opening it.
pub async fn code_for(w: &mut GateWorld, name: &str, authorize: &Url, user: &str) -> Url {
    w.env().await.idp.on_authorize().respond(Outcome::approve(user));
    let at_idp = w.person(name).ua.get(authorize.as_str()).await;
    at_idp
        .location
        .unwrap_or_else(|| panic!("the IdP did not redirect back: {} {}", at_idp.status, at_idp.body))
}
