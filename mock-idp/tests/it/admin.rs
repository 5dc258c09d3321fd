//! The HTTP admin API: everything the Rust API does, over JSON, with strict bodies and
//! errors that say what is wrong.

use serde_json::{Value, json};

use crate::common::{self, REDIRECT, authorize_url, follow, http, param, token};

struct Admin {
    http: reqwest::Client,
    base: String,
}

impl Admin {
    fn new(idp: &mock_idp::MockIdp) -> Admin {
        Admin {
            http: http(None),
            base: idp.url("/__admin"),
        }
    }
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.parse().unwrap(), url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn config_describes_the_instance() {
    let idp = common::idp().await;
    let (status, cfg) = Admin::new(&idp).call("GET", "/config", None).await;
    assert_eq!(status, 200);
    assert_eq!(cfg["issuer"], idp.issuer());
    assert_eq!(cfg["provider"], "oidc");
    assert_eq!(cfg["default_client"], "mock-client");
    assert_eq!(
        cfg["discovery"]["token_endpoint"],
        idp.endpoint_url(mock_idp::Endpoint::Token).unwrap()
    );
    let (_, index) = Admin::new(&idp).call("GET", "/", None).await;
    assert!(index["routes"].as_array().unwrap().len() > 10);
}

#[tokio::test]
async fn users_can_be_added_changed_disabled_and_deleted() {
    let idp = common::idp().await;
    let a = Admin::new(&idp);
    let (status, _) = a
        .call("POST", "/users", Some(json!({"id": "bob", "email": "bob@example.com", "email_verified": false, "claims": {"groups": ["ops"]}})))
        .await;
    assert_eq!(status, 201);
    let http = http(None);
    let code = common::code(&idp, &http, &[("login_hint", "bob@example.com")]).await;
    let (_, body) = token(
        &idp,
        &http,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let at = body["access_token"].as_str().unwrap().to_owned();
    let (_, info, _) = common::userinfo(&idp, &http, &at).await;
    assert_eq!(
        (
            info["sub"].as_str(),
            info["email_verified"].as_bool(),
            info["groups"][0].as_str()
        ),
        (Some("bob"), Some(false), Some("ops"))
    );

    let (status, user) = a
        .call(
            "PATCH",
            "/users/bob",
            Some(json!({"email": "robert@example.com"})),
        )
        .await;
    assert_eq!(
        (status, user["email"].as_str()),
        (200, Some("robert@example.com"))
    );
    assert_eq!(
        common::userinfo(&idp, &http, &at).await.1["email"],
        "robert@example.com"
    );
    assert_eq!(
        a.call("PATCH", "/users/bob", Some(json!({"disabled": true})))
            .await
            .0,
        200
    );
    assert_eq!(common::userinfo(&idp, &http, &at).await.0, 401);
    assert_eq!(a.call("DELETE", "/users/bob", None).await.0, 204);
    assert_eq!(
        a.call("GET", "/users/bob", None).await,
        (404, json!({"error": "not_found", "message": "no user bob"}))
    );
    let (_, users) = a.call("GET", "/users", None).await;
    assert_eq!(users.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bodies_are_strict_and_errors_name_the_field() {
    let idp = common::idp().await;
    let a = Admin::new(&idp);
    let (status, e) = a
        .call("POST", "/users", Some(json!({"id": "x", "emial": "typo"})))
        .await;
    assert_eq!(status, 400);
    assert!(
        e["message"].as_str().unwrap().contains("unknown field `emial`"),
        "{e}"
    );
    let (status, e) = a
        .call(
            "POST",
            "/outcomes",
            Some(json!({"endpoint": "token", "outcome": {"kind": "deny"}})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        e["message"],
        "outcome `deny` cannot be scripted on the token endpoint; it applies to: authorize"
    );
    let (status, e) = a
        .call(
            "POST",
            "/outcomes",
            Some(json!({"endpoint": "tokn", "outcome": {"kind": "deny"}})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        e["message"].as_str().unwrap().contains("unknown variant `tokn`"),
        "{e}"
    );
    let (status, e) = a
        .call(
            "POST",
            "/outcomes",
            Some(json!({"endpoint": "token", "outcome": {"kind": "invalid_grant"}, "times": 0})),
        )
        .await;
    assert_eq!(
        (status, e["message"].as_str()),
        (400, Some("times must be a positive integer or \"always\""))
    );
    let (status, e) = a
        .call(
            "POST",
            "/clients",
            Some(json!({"id": "c", "secret": "s", "redirect_uris": ["relative/path"]})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("redirect URI \"relative/path\" is not usable"),
        "{e}"
    );
    let (status, e) = a.call("POST", "/clock/advance", Some(json!({}))).await;
    assert_eq!(
        (status, e["message"].as_str()),
        (
            400,
            Some("send exactly one of {\"seconds\": 3600} or {\"by\": \"1h\"}")
        )
    );
}

#[tokio::test]
async fn outcomes_are_queued_listed_and_removed() {
    let idp = common::idp().await;
    let a = Admin::new(&idp);
    let http = http(None);
    let (status, created) = a
        .call("POST", "/outcomes", Some(json!({"endpoint": "authorize", "outcome": {"kind": "deny"}, "times": 2, "name": "two denials"})))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_u64().unwrap();
    assert_eq!(
        param(&follow(&http, &authorize_url(&idp, &[])).await, "error").as_deref(),
        Some("access_denied")
    );
    let (_, list) = a.call("GET", "/outcomes", None).await;
    assert_eq!(
        (list[0]["used"].as_u64(), list[0]["name"].as_str()),
        (Some(1), Some("two denials"))
    );
    assert_eq!(a.call("DELETE", &format!("/outcomes/{id}"), None).await.0, 204);
    assert!(param(&follow(&http, &authorize_url(&idp, &[])).await, "code").is_some());
    a.call("POST", "/outcomes", Some(json!({"endpoint": "token", "outcome": {"kind": "id_token", "fault": "alg_none"}, "times": "always"}))).await;
    for _ in 0..2 {
        let body = common::tokens(&idp, &http).await;
        assert_eq!(
            common::jwt_parts(body["id_token"].as_str().unwrap()).0["alg"],
            "none"
        );
    }
    assert_eq!(a.call("DELETE", "/outcomes", None).await.0, 204);
    assert_eq!(a.call("GET", "/outcomes", None).await.1, json!([]));
}

#[tokio::test]
async fn clock_keys_requests_findings_expectations_and_reset() {
    let idp = common::idp().await;
    let a = Admin::new(&idp);
    let http = http(None);
    let body = common::tokens(&idp, &http).await;

    let (_, clock) = a
        .call("POST", "/clock/advance", Some(json!({"by": "1h 1s"})))
        .await;
    assert_eq!(clock["offset_seconds"], 3601);
    assert_eq!(
        common::userinfo(&idp, &http, body["access_token"].as_str().unwrap())
            .await
            .0,
        401,
        "expired by the clock"
    );
    assert_eq!(a.call("POST", "/clock/reset", None).await.1["offset_seconds"], 0);

    let (_, keys) = a.call("GET", "/keys", None).await;
    let old = keys["active"].as_str().unwrap().to_owned();
    let (_, rotated) = a
        .call(
            "POST",
            "/keys/rotate",
            Some(json!({"alg": "ES256", "keep_old": true})),
        )
        .await;
    assert_ne!(rotated["active"], old.as_str());
    assert_eq!(rotated["jwks"]["keys"].as_array().unwrap().len(), 2);
    assert_eq!(a.call("DELETE", &format!("/keys/{old}"), None).await.0, 204);
    assert_eq!(
        a.call("GET", "/keys", None).await.1["jwks"]["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    follow(&http, &authorize_url(&idp, &[("state", ""), ("nonce", "")])).await;
    let (_, findings) = a.call("GET", "/findings", None).await;
    let codes: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"missing_state")
            && codes.contains(&"missing_nonce")
            && codes.contains(&"missing_pkce"),
        "{codes:?}"
    );
    let (_, reqs) = a.call("GET", "/requests?endpoint=token", None).await;
    let first = &reqs[0];
    assert_eq!(first["endpoint"], "token");
    assert_eq!(first["status"], 200);
    let code_param = first["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "code")
        .unwrap();
    assert!(
        code_param[1].as_str().unwrap().contains("masked"),
        "codes are masked: {code_param}"
    );
    assert!(!reqs.to_string().contains("mock-secret"));
    assert_eq!(a.call("GET", "/requests?endpoint=nope", None).await.0, 400);

    assert_eq!(
        a.call(
            "POST",
            "/expectations",
            Some(json!({"endpoint": "refresh", "times": 1}))
        )
        .await
        .0,
        201
    );
    let (status, v) = a.call("GET", "/verify", None).await;
    assert_eq!(status, 409);
    assert!(
        v["report"]
            .as_str()
            .unwrap()
            .contains("refresh endpoint: expected exactly 1 request, received 0"),
        "{v}"
    );
    assert_eq!(a.call("POST", "/reset", None).await.0, 204);
    assert_eq!(a.call("GET", "/verify", None).await, (200, json!({"ok": true})));
    assert_eq!(a.call("GET", "/requests", None).await.1, json!([]));
}

#[tokio::test]
async fn settings_switch_to_the_login_page_and_clients_are_managed() {
    let idp = common::idp().await;
    let a = Admin::new(&idp);
    let (status, s) = a
        .call(
            "PUT",
            "/settings",
            Some(json!({"interaction": "login_page", "lifetimes": {"code": "5s"}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(s["lifetimes"]["code"], "5s");
    let resp = http(None).get(authorize_url(&idp, &[])).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("id=\"allow\""));

    assert_eq!(
        a.call("POST", "/clients", Some(json!({"id": "app2", "secret": "s", "redirect_uris": [REDIRECT], "refresh_rotation": "rotate"}))).await.0,
        201
    );
    let (_, clients) = a.call("GET", "/clients", None).await;
    assert_eq!(clients[1]["id"], "app2");
    assert_eq!(clients[1]["secret"], "***", "secrets are never listed");
    assert_eq!(clients[1]["refresh_rotation"], "rotate");
    assert_eq!(a.call("DELETE", "/clients/app2", None).await.0, 204);
    assert_eq!(a.call("DELETE", "/clients/app2", None).await.0, 404);
}

#[tokio::test]
async fn revoke_user_ends_grants_and_idp_sessions() {
    let idp = common::idp().await;
    let a = Admin::new(&idp);
    let http = http(None);
    let body = common::tokens(&idp, &http).await;
    let (_, r) = a.call("POST", "/users/alice/revoke", None).await;
    assert_eq!(r["revoked_grants"], 1);
    assert_eq!(
        common::userinfo(&idp, &http, body["access_token"].as_str().unwrap())
            .await
            .0,
        401
    );
}

/// A path under /__admin that is no route answers in the admin API's JSON and points to the
/// index — at every personality, not in the provider's not-found shape.
#[tokio::test]
async fn an_unknown_admin_route_says_so_in_the_admin_apis_words() {
    for idp in [
        common::idp().await,
        mock_idp::MockIdp::builder()
            .personality(mock_idp::personality::GitHub::oauth_app())
            .start()
            .await,
    ] {
        let a = Admin::new(&idp);
        let (status, e) = a.call("GET", "/userz", None).await;
        assert_eq!(status, 404, "{e}");
        assert_eq!(e["error"], "not_found", "{e}");
        assert_eq!(
            e["message"], "no admin route GET /__admin/userz: GET /__admin/ lists them",
            "{e}"
        );
    }
}
