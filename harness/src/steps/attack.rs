//! Attacks on the login: a code injected into someone's pending login, a leaked code tried
//! through every state that is not a login in flight (state confusion), floods of forged
//! callbacks, extra callback parameters, many logins from one browser, ID tokens naming
//! unknown keys — and the checks on what the login request and the token request carried.

use cucumber::{then, when};
use mock_idp::{Endpoint, Outcome};

use super::browse::code_for;
use super::browse::{describe, follow, open};
use super::redirects::escapes;
use super::requests::raw;
use crate::agent::Hop;
use crate::world::GateWorld;

#[when(regex = r#"^(\w+) starts logins at "([^"]*)" and "([^"]*)" and the first one completes$"#)]
async fn two_logins(w: &mut GateWorld, name: String, first: String, second: String) {
    let one = open(w, &name, &first, &[("accept", "text/html")]).await;
    open(w, &name, &second, &[("accept", "text/html")]).await;
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
    // (A gateway may send no state and bind the login by a cookie and PKCE alone.)
    let victim_state = state_in(&pending);
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
    // The attacker's callback with the victim's state (or none, when the victim's login
    // carried none).
    let pairs: Vec<(String, String)> = back
        .query_pairs()
        .filter(|(k, _)| k != "state")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain(victim_state.map(|s| ("state".to_owned(), s)))
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
    let callback = w.url(&w.callback_path());
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
            // Refused: an error answer or a redirect to the gateway's own page, never the
            // application, never a server error.
            assert!(
                h.status < 500 && h.header("x-upstream").is_none(),
                "{name}: {} {} answered {}{}",
                h.method,
                h.url,
                h.status,
                if h.header("x-upstream").is_some() {
                    " from the application"
                } else {
                    ""
                }
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

/// A parameter of the first login request: the first authorization request the IdP
/// received, else the first the gateway redirected a browser to.
fn first_authorize_param(w: &GateWorld, name: &str) -> Option<String> {
    let auth = w.started().idp.requests_to(Endpoint::Authorize);
    if let Some(first) = auth.first() {
        return first
            .params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
    }
    let login = w
        .probes
        .login_redirects
        .first()
        .expect("a login request (no browser was sent to the identity provider)");
    login
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// What a login without `state` is worth knowing (not a failure).
const NO_STATE: &str = "the login request carried no state: the gateway binds its logins to the browser by PKCE alone, \
     which RFC 9700 §2.1 allows when the identity provider supports PKCE";

/// What a login without `nonce` is worth knowing (not a failure).
const NO_NONCE: &str = "the login request carried no nonce: optional in the code flow (OIDC Core §3.1.2.1), so no ID token replay check";

#[then(regex = r"^the login request used the code flow or carried a nonce$")]
async fn login_nonce(w: &mut GateWorld) {
    // OIDC Core §3.1.2.1: nonce is REQUIRED in the implicit and hybrid flows, OPTIONAL in the
    // code flow (the OpenID Foundation's rp-nonce-unless-code-flow).
    let code_flow = first_authorize_param(w, "response_type").is_some_and(|t| t == "code");
    let nonce = first_authorize_param(w, "nonce");
    if nonce.is_none() {
        w.observe(NO_NONCE);
    }
    assert!(
        code_flow || nonce.as_ref().is_some_and(|n| n.len() >= 22),
        "a login outside the code flow must carry a nonce of at least 128 bits: response_type {:?}, nonce {nonce:?}",
        first_authorize_param(w, "response_type")
    );
}

#[then(regex = r"^if the login request carried a state, (\w+) is not let in$")]
async fn not_let_in_if_state(w: &mut GateWorld, name: String) {
    // A gateway that sends no state binds the login by PKCE alone (RFC 9700 §2.1): a state
    // changed or removed on the way back then concerns nothing it checks.
    if first_authorize_param(w, "state").is_none() {
        w.observe(NO_STATE);
        return;
    }
    let hops = w.person(&name).hops.clone();
    let last = hops.last().expect("hops");
    assert!(
        last.header("x-upstream").is_none(),
        "{name} reached the application with a state that was not the one sent:\n{}",
        describe(&hops)
    );
}

#[then(regex = r"^if the login request carried a state, the identity provider received no token requests$")]
async fn no_token_request_if_state(w: &mut GateWorld) {
    // RFC 9700 §2.1 / checklist 11: a callback whose state is not the browser's is refused
    // before any back-channel call. Without a state, the code is tried with the browser's own
    // PKCE verifier and the identity provider refuses it.
    if first_authorize_param(w, "state").is_none() {
        w.observe(NO_STATE);
        return;
    }
    let n = w.started().idp.requests_to(Endpoint::Token).len();
    assert_eq!(
        n, 0,
        "{n} token requests for a callback whose state was not this browser's"
    );
}

#[then(regex = r"^if the login request carried a nonce, (\w+) is refused before any userinfo request$")]
async fn refused_if_nonce(w: &mut GateWorld, name: String) {
    // A nonce that was sent must come back (OIDC Core §3.1.3.7 (11)); one that was not sent
    // has nothing to be compared with.
    if first_authorize_param(w, "nonce").is_none() {
        w.observe(NO_NONCE);
        return;
    }
    let hops = w.person(&name).hops.clone();
    let last = hops.last().expect("hops");
    assert!(
        last.header("x-upstream").is_none(),
        "{name} reached the application although the ID token's nonce was not the one sent:\n{}",
        describe(&hops)
    );
    let seen = w.started().upstream.count();
    assert_eq!(seen, 0, "the application received {seen} requests");
    let userinfo = w.started().idp.requests_to(Endpoint::Userinfo).len();
    assert_eq!(
        userinfo, 0,
        "the gateway called userinfo with the tokens of a refused ID token"
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

#[when(regex = r"^(\w+) opens the callback with a (\d+) KB (state|code)$")]
async fn huge_callback(w: &mut GateWorld, name: String, kb: usize, which: String) {
    let big = "A".repeat(kb * 1024);
    let query = if which == "state" {
        format!("code=abc&state={big}")
    } else {
        format!("code={big}&state=abc")
    };
    let target = format!("{}?{query}", w.callback_path());
    raw(w, &name, "GET", &target, None, &[]).await;
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
        // No server error; whether the login was refused (nothing forwarded) is for the
        // scenario's `Then` to judge: a gateway that relies on TLS to the token endpoint
        // (OIDC Core §3.1.3.7 (6)) may admit it.
        let hops = w.person(&name).hops.clone();
        let last = hops.last().expect("hops");
        assert!(
            last.status < 500,
            "login {i} with an unknown key ended in a server error:\n{}",
            describe(&hops)
        );
    }
}

#[then(regex = r"^(\w+) either gets in as (?:herself|himself|themselves) or is not let in$")]
async fn either(w: &mut GateWorld, name: String) {
    let hops = w.person(&name).hops.clone();
    let last = hops.last().expect("hops");
    assert!(last.status < 500, "server error:\n{}", describe(&hops));
    // Let in means the request reached the application (a refusal page may well be a 200).
    if last.header("x-upstream").is_some() {
        let header = w.header_names().user_email.clone();
        let email = w.users[&name].email.clone();
        let seen = w.started().upstream.seen();
        let got = seen.last().and_then(|s| s.header(&header).map(str::to_owned));
        assert_eq!(got, email, "{name} got in as someone else");
    }
}

#[then(regex = r"^if (\w+) got in, the report notes: (.+)$")]
async fn note_if_let_in(w: &mut GateWorld, name: String, note: String) {
    let let_in = w
        .person(&name)
        .hops
        .last()
        .is_some_and(|h| h.header("x-upstream").is_some());
    if let_in {
        w.observe(note);
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
