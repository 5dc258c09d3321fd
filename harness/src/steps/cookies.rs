//! Session cookies that are not what the gateway issued: tampered with, or planted from
//! another person's browser — neither may give access to a session.

use cucumber::{then, when};

use super::browse::open;
use crate::world::GateWorld;

#[when(
    regex = r"^(\w+)'s session cookie is tampered with: (one character changed|cut short|doubled|padded with base64 junk|made empty)$"
)]
async fn tamper(w: &mut GateWorld, name: String, how: String) {
    let (cookie, value) = session_cookie_of(w, &name);
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
    let (cookie, value) = session_cookie_of(w, &owner);
    w.probes.planted_cookie = Some(value.clone());
    w.person(&victim).ua.set_cookie("app.localhost", &cookie, &value);
}

#[then(regex = r"^(\w+)'s session cookie is a new one$")]
async fn new_cookie(w: &mut GateWorld, name: String) {
    let planted = planted_cookie(w);
    let (_, now) = session_cookie_of(w, &name);
    assert_ne!(
        now, planted,
        "the login kept the planted session id (session fixation)"
    );
}

#[then(regex = r"^the planted cookie does not give access to (\w+)'s session$")]
async fn planted_useless(w: &mut GateWorld, name: String) {
    let cookie = w.profile.session_cookie.clone();
    let planted = planted_cookie(w);
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

/// The gateway's session cookie name and the value `name`'s browser holds for it.
fn session_cookie_of(w: &mut GateWorld, name: &str) -> (String, String) {
    let cookie = w.profile.session_cookie.clone();
    let value = w
        .person(name)
        .ua
        .cookie("app.localhost", &cookie)
        .unwrap_or_else(|| panic!("{name} has no session cookie"))
        .value;
    (cookie, value)
}

/// The session cookie value planted earlier in the scenario.
fn planted_cookie(w: &GateWorld) -> String {
    w.probes
        .planted_cookie
        .clone()
        .expect("a cookie was planted earlier in the scenario")
}
