//! The gateway's event stream: one `http_request_complete.v0` per request with the seed's
//! `oauth.*` fields.

use cucumber::then;
use serde_json::Value;

use crate::world::GateWorld;

fn events_for(w: &mut GateWorld, path: &str) -> Vec<Value> {
    w.drain_events()
        .iter()
        .filter(|e| e["http.request.url.path"] == path)
        .cloned()
        .collect()
}

#[then(regex = r#"^the gateway reports (allow|block) for "([^"]*)"(?: naming (\w+))?$"#)]
fn reports(w: &mut GateWorld, decision: String, path: String, name: String) {
    let events = events_for(w, &path);
    let last = events
        .last()
        .unwrap_or_else(|| panic!("no event for {path}; events so far: {:#?}", w.events));
    assert_eq!(last["event_type"], "http_request_complete.v0");
    assert_eq!(last["oauth.decision"], decision.as_str(), "{last:#}");
    if !name.is_empty() {
        let id = w.user_id(&name);
        assert_eq!(last["oauth.user.id"], id.as_str(), "{last:#}");
        let full = w.users[&name].name.clone();
        if let Some(full) = full {
            assert_eq!(last["oauth.user.name"], full.as_str(), "{last:#}");
        }
    }
}

#[then(regex = r#"^the gateway's event for "([^"]*)" names no user$"#)]
fn names_no_user(w: &mut GateWorld, path: String) {
    let events = events_for(w, &path);
    let last = events.last().expect("an event");
    assert!(last.get("oauth.user.id").is_none(), "{last:#}");
}

#[then(regex = r"^every event names the application's OAuth client$")]
fn client_id(w: &mut GateWorld) {
    let expected = w.started().idp.client().id.as_str().to_owned();
    let events = w.drain_events().to_vec();
    assert!(!events.is_empty(), "no events");
    for e in events {
        assert_eq!(e["oauth.app_client_id"], expected.as_str(), "{e:#}");
    }
}

#[then(regex = r"^no event contains a token or a cookie$")]
fn no_secrets(w: &mut GateWorld) {
    let text = serde_json::to_string(&w.drain_events().to_vec()).unwrap_or_default();
    let cookie = w.profile.session_cookie.clone();
    let values: Vec<String> = w
        .people
        .values()
        .filter_map(|p| p.ua.cookie("app.localhost", &cookie).map(|c| c.value))
        .collect();
    for v in values {
        assert!(!text.contains(&v), "a session cookie value appears in the events");
    }
    let access = w.header_names().access_token.clone();
    for s in w.started().upstream.seen() {
        if let Some(t) = access.as_ref().and_then(|h| s.header(h)) {
            assert!(!text.contains(t), "an access token appears in the events");
        }
    }
}
