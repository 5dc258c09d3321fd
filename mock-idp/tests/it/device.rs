//! RFC 8628 device authorization: codes, polling (pending, slow_down, denied, expired, once),
//! the person's decision through the verification page, the Rust API and the admin API, all
//! on the IdP's clock.

use std::time::Duration;

use mock_idp::{Endpoint, MockIdp, Outcome};
use serde_json::{Value, json};

use crate::common;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn post(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    common::post_form(url, form, Some(("mock-client", "mock-secret"))).await
}

async fn start(idp: &MockIdp, scope: &str) -> Value {
    let (status, body) = post(
        &idp.endpoint_url(Endpoint::DeviceAuthorization).unwrap(),
        &[("scope", scope)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn poll(idp: &MockIdp, device_code: &str) -> (u16, Value) {
    post(
        &idp.endpoint_url(Endpoint::Token).unwrap(),
        &[("grant_type", GRANT), ("device_code", device_code)],
    )
    .await
}

#[tokio::test]
async fn a_device_polls_until_the_person_approves_then_gets_tokens_once() {
    let idp = MockIdp::builder().start().await;
    let codes = start(&idp, "openid profile email").await;
    let device = codes["device_code"].as_str().unwrap();
    let user_code = codes["user_code"].as_str().unwrap();
    assert_eq!(codes["interval"], 5);
    assert!(codes["verification_uri"].as_str().unwrap().ends_with("/device"));
    assert!(
        codes["verification_uri_complete"]
            .as_str()
            .unwrap()
            .contains(user_code)
    );

    let (status, body) = poll(&idp, device).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending")),
        "{body}"
    );
    let (_, body) = poll(&idp, device).await;
    assert_eq!(body["error"], "slow_down", "polled again at once: {body}");

    assert_eq!(
        idp.waiting_devices(),
        vec![(user_code.to_owned(), idp.client().id)]
    );
    idp.approve_device(user_code, "alice").unwrap();
    idp.clock().advance(Duration::from_secs(11));
    let (status, body) = poll(&idp, device).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["access_token"].is_string() && body["id_token"].is_string(),
        "{body}"
    );
    idp.clock().advance(Duration::from_secs(11));
    let (status, body) = poll(&idp, device).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "only once: {body}"
    );

    let discovery: Value = common::get_json(&idp.discovery_url()).await;
    assert_eq!(
        discovery["device_authorization_endpoint"],
        json!(idp.endpoint_url(Endpoint::DeviceAuthorization).unwrap())
    );
}

#[tokio::test]
async fn denied_and_expired_device_codes_say_so_and_an_unknown_code_is_invalid_grant() {
    let idp = MockIdp::builder().start().await;
    let admin = format!("{}/__admin", idp.base_url());
    let denied = start(&idp, "openid").await;
    let resp = common::http(None)
        .post(format!(
            "{admin}/devices/{}/deny",
            denied["user_code"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, body) = poll(&idp, denied["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "access_denied", "{body}");

    let old = start(&idp, "openid").await;
    idp.clock().advance(Duration::from_secs(601));
    let (_, body) = poll(&idp, old["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "expired_token", "{body}");
    assert!(
        idp.approve_device(old["user_code"].as_str().unwrap(), "alice")
            .is_err()
    );

    let (_, body) = poll(&idp, "never-issued").await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let resp = common::http(None)
        .post(format!("{admin}/devices/NOPE-NOPE/approve"))
        .json(&json!({"user": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "an unknown user code is a clear admin error");
}

#[tokio::test]
async fn the_verification_page_lets_a_person_approve_as_a_user() {
    let idp = MockIdp::builder().start().await;
    let codes = start(&idp, "openid").await;
    let user_code = codes["user_code"].as_str().unwrap();
    let page_url = codes["verification_uri"].as_str().unwrap();
    let page = common::http(None)
        .get(codes["verification_uri_complete"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(user_code) && page.contains("Approve"), "{page}");
    let resp = common::http(None)
        .post(page_url)
        .form(&[
            ("user_code", user_code.to_lowercase().as_str()),
            ("user", "alice"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, body) = poll(&idp, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let resp = common::http(None)
        .post(page_url)
        .form(&[
            ("user_code", user_code),
            ("user", "alice"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "a code is used once");
}

#[tokio::test]
async fn the_device_endpoint_and_its_polls_can_be_scripted() {
    let idp = MockIdp::builder().start().await;
    idp.on(Endpoint::DeviceAuthorization)
        .respond(Outcome::oauth_error(400, "invalid_scope", Some("no such scope")));
    let (status, body) = post(
        &idp.endpoint_url(Endpoint::DeviceAuthorization).unwrap(),
        &[("scope", "x")],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    let codes = start(&idp, "openid").await;
    idp.approve_device(codes["user_code"].as_str().unwrap(), "alice")
        .unwrap();
    idp.on_token().respond(Outcome::invalid_grant());
    let (_, body) = poll(&idp, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(idp.requests_to(Endpoint::DeviceAuthorization).len(), 2);
}

/// Each provider's device flow on the wire: the codes, a pending poll, a poll too soon, a
/// denied one and an expired one — as reviewed snapshots.
#[tokio::test]
async fn snapshots_of_each_providers_device_flow() {
    use mock_idp::personality::{GitHub, Google, Microsoft};
    async fn send(idp: &MockIdp, url: String, form: &[(&str, &str)], json: bool) -> Value {
        let mut req = common::http(None).post(url).form(
            &[
                form,
                &[("client_id", "mock-client"), ("client_secret", "mock-secret")],
            ]
            .concat(),
        );
        if json {
            req = req.header("accept", "application/json");
        }
        let mut v = crate::providers::capture(idp, req.send().await.unwrap()).await;
        // A form-encoded body (GitHub's default) as its fields, so random codes can be redacted.
        if let Some(form) = v["body"].as_str().filter(|b| b.contains('=')).map(str::to_owned) {
            let fields: serde_json::Map<String, Value> = url::form_urlencoded::parse(form.as_bytes())
                .map(|(k, val)| (k.into_owned(), json!(val)))
                .collect();
            v["body"] = Value::Object(fields);
        }
        crate::providers::normalize(idp, v)
    }
    for (name, idp) in [
        ("oidc", MockIdp::builder().start().await),
        (
            "github",
            MockIdp::builder().personality(GitHub::oauth_app()).start().await,
        ),
        (
            "google",
            MockIdp::builder().personality(Google::new()).start().await,
        ),
        (
            "microsoft",
            MockIdp::builder().personality(Microsoft::new()).start().await,
        ),
    ] {
        let device_url = idp.endpoint_url(Endpoint::DeviceAuthorization).unwrap();
        let token_url = idp.endpoint_url(Endpoint::Token).unwrap();
        let json = name != "github";
        let codes = send(&idp, device_url.clone(), &[("scope", "openid")], json).await;
        insta::assert_json_snapshot!(format!("device_{name}__codes"), codes, {
            ".body.device_code" => "[device_code]", ".body.user_code" => "[user_code]", ".body.message" => "[message]",
            ".body.verification_uri_complete" => "[verification_uri]?user_code=[user_code]"
        });
        let fresh = start_any(&device_url).await;
        let poll = |code: String| {
            let (idp, url) = (&idp, token_url.clone());
            async move { send(idp, url, &[("grant_type", GRANT), ("device_code", &code)], json).await }
        };
        insta::assert_json_snapshot!(format!("device_{name}__pending"), poll(fresh.0.clone()).await);
        insta::assert_json_snapshot!(format!("device_{name}__slow_down"), poll(fresh.0.clone()).await);
        let denied = start_any(&device_url).await;
        idp.deny_device(&denied.1).unwrap();
        insta::assert_json_snapshot!(format!("device_{name}__denied"), poll(denied.0).await);
        let old = start_any(&device_url).await;
        idp.clock().advance(Duration::from_secs(3600));
        insta::assert_json_snapshot!(format!("device_{name}__expired"), poll(old.0).await);
    }
}

/// Starts a device authorization at any personality, credentials in the body (which every
/// provider accepts): (device code, user code).
async fn start_any(url: &str) -> (String, String) {
    let form = [
        ("client_id", "mock-client"),
        ("client_secret", "mock-secret"),
        ("scope", "openid"),
    ];
    let (status, body) = common::post_form(url, &form, None).await;
    assert_eq!(status, 200, "{body}");
    (
        body["device_code"].as_str().unwrap().to_owned(),
        body["user_code"].as_str().unwrap().to_owned(),
    )
}

/// GitHub says the new interval in every `slow_down`: 5 s more each time a device polls too soon.
#[tokio::test]
async fn githubs_slow_down_names_the_growing_interval() {
    let idp = MockIdp::builder()
        .personality(mock_idp::personality::GitHub::oauth_app())
        .start()
        .await;
    let (device, _) = start_any(&idp.endpoint_url(Endpoint::DeviceAuthorization).unwrap()).await;
    let token = idp.endpoint_url(Endpoint::Token).unwrap();
    let poll = [("grant_type", GRANT), ("device_code", device.as_str())];
    let (status, body) = post(&token, &poll).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (200, Some("authorization_pending")),
        "{body}"
    );
    let intervals: Vec<Value> = slow_down_intervals(&token, &poll).await;
    assert_eq!(intervals, [json!(10), json!(15)], "each slow_down adds 5 s");
}

async fn slow_down_intervals(token: &str, poll: &[(&str, &str)]) -> Vec<Value> {
    let mut out = Vec::new();
    for _ in 0..2 {
        let (_, body) = post(token, poll).await;
        assert_eq!(body["error"], "slow_down", "{body}");
        out.push(body["interval"].clone());
    }
    out
}

#[tokio::test]
async fn the_inspector_lists_waiting_devices_and_a_person_approves_or_denies_there() {
    let idp = MockIdp::builder().start().await;
    let inspector = idp.url("/__inspector");
    let page = || async {
        common::http(None)
            .get(&inspector)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let press = |form: Vec<(&'static str, String)>| {
        let url = idp.url("/__inspector/device");
        async move {
            common::http(None)
                .post(url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert!(!page().await.contains("Devices waiting"), "nothing waits yet");
    let approved = start(&idp, "openid email").await;
    let denied = start(&idp, "openid").await;
    let (approved_code, denied_code) = (
        approved["user_code"].as_str().unwrap().to_owned(),
        denied["user_code"].as_str().unwrap().to_owned(),
    );
    let html = page().await;
    for code in [&approved_code, &denied_code] {
        assert!(
            html.contains(&format!(r#"data-device="{code}""#)),
            "{code} listed: {html}"
        );
    }
    // The form posts back to the page (303); a decision nobody can make is a clear 400.
    let decide = |code: &str, what: &str, user: &str| {
        vec![
            ("code", code.to_owned()),
            ("what", what.to_owned()),
            ("user", user.to_owned()),
        ]
    };
    assert_eq!(press(decide(&approved_code, "approve", "nobody")).await, 400);
    assert_eq!(press(decide(&approved_code, "maybe", "alice")).await, 400);
    assert_eq!(press(decide(&approved_code, "approve", "alice")).await, 303);
    assert_eq!(press(decide(&denied_code, "deny", "")).await, 303);
    assert!(!page().await.contains("Devices waiting"), "both decided");

    idp.clock().advance(Duration::from_secs(11));
    let (status, body) = poll(&idp, approved["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let (_, id_token) = common::jwt_parts(body["id_token"].as_str().unwrap());
    assert_eq!(id_token["sub"], "alice", "{id_token}");
    let (_, body) = poll(&idp, denied["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "access_denied", "{body}");
}

/// `on_device_token()` scripts only the device's polls: a client-credentials request of the
/// same client passes it by; a scripted `slow_down` or server error answers the next poll
/// whatever the person decided, and the device can poll again and get its tokens.
#[tokio::test]
async fn on_device_token_scripts_only_the_polls_and_does_not_spend_the_code() {
    let idp = MockIdp::builder().start().await;
    let slow = idp
        .on_device_token()
        .respond(Outcome::oauth_error(400, "slow_down", Some("scripted")));
    let (status, body) = post(
        &idp.endpoint_url(Endpoint::Token).unwrap(),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "another grant passes the entry by: {body}");
    assert_eq!(slow.hits(), 0);

    let codes = start(&idp, "openid").await;
    let device = codes["device_code"].as_str().unwrap();
    let (_, body) = poll(&idp, device).await;
    assert_eq!(body["error"], "slow_down", "pending, but scripted: {body}");
    assert_eq!(slow.hits(), 1);
    idp.approve_device(codes["user_code"].as_str().unwrap(), "alice")
        .unwrap();
    idp.on_device_token().respond(Outcome::ServerError);
    idp.clock().advance(Duration::from_secs(11));
    let (status, _) = poll(&idp, device).await;
    assert_eq!(status, 500);
    idp.clock().advance(Duration::from_secs(11));
    let (status, body) = poll(&idp, device).await;
    assert_eq!(status, 200, "the code survived both scripted answers: {body}");

    // The admin API names the grant the same way; a grant outside the token endpoint can
    // never match and is refused.
    let admin = format!("{}/__admin/outcomes", idp.base_url());
    let add = |body: Value| {
        let admin = admin.clone();
        async move {
            common::http(None)
                .post(admin)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let outcome = json!({"kind": "oauth_error", "status": 400, "error": "access_denied"});
    assert_eq!(
        add(json!({"endpoint": "token", "grant": "device_code", "outcome": outcome})).await,
        201
    );
    assert_eq!(
        add(json!({"endpoint": "refresh", "grant": "device_code", "outcome": outcome})).await,
        400
    );
    assert_eq!(
        add(json!({"endpoint": "token", "grant": "carrier_pigeon", "outcome": outcome})).await,
        400
    );
    let entries: Value = common::get_json(&admin).await;
    assert_eq!(
        entries.as_array().unwrap().last().unwrap()["grant"],
        "device_code",
        "{entries}"
    );
    assert!(
        idp.on(Endpoint::Refresh)
            .for_grant(mock_idp::GrantType::Password)
            .try_respond(Outcome::ServerError)
            .is_err()
    );
    let codes = start(&idp, "openid").await;
    let (_, body) = poll(&idp, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "access_denied", "{body}");
}

/// What is not an error for device polls waits for the poll that gets tokens: a changed answer
/// scripted with `on_device_token()`, or an entry for every token request, is not used up by
/// the polls while the person has not decided.
#[tokio::test]
async fn pending_polls_leave_a_changed_answer_for_the_poll_that_gets_tokens() {
    let idp = MockIdp::builder().start().await;
    let changed = idp.on_device_token().respond(Outcome::token_response(
        mock_idp::TokenResponseChange::OmitIdToken,
    ));
    let refused = idp.on_token().respond(Outcome::invalid_grant());
    let codes = start(&idp, "openid").await;
    let device = codes["device_code"].as_str().unwrap();
    for _ in 0..3 {
        let (_, body) = poll(&idp, device).await;
        assert_eq!(body["error"], "authorization_pending", "{body}");
        idp.clock().advance(Duration::from_secs(6));
    }
    idp.approve_device(codes["user_code"].as_str().unwrap(), "alice")
        .unwrap();
    let (status, body) = poll(&idp, device).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("id_token").is_none(),
        "the scripted change applied: {body}"
    );
    assert!(body["access_token"].is_string(), "{body}");
    assert!(
        refused.is_live(),
        "the entry for every token request is still there"
    );
    assert_eq!(changed.hits(), 1);
}
