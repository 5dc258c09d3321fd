//! insta snapshots of what the IdP puts on the wire: discovery, JWKS, token responses, ID
//! token, userinfo, and every error shape. A change here is a reviewed diff.
//!
//! Per-instance values (port, tokens, key material, timestamps) are replaced by placeholders so
//! the snapshots are stable.

use mock_idp::{Endpoint, MockIdp, Outcome};
use serde_json::{Map, Value, json};

use crate::common::{self, REDIRECT, authorize_url, follow, http, jwt_parts, params_of, token};

/// A response as snapshotted: status, the headers that matter, body (JSON if it parses).
async fn capture(idp: &MockIdp, resp: reqwest::Response) -> Value {
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    for name in [
        "content-type",
        "cache-control",
        "pragma",
        "www-authenticate",
        "location",
    ] {
        if let Some(v) = resp.headers().get(name) {
            headers.insert(name.into(), json!(v.to_str().unwrap()));
        }
    }
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    normalize(idp, json!({"status": status, "headers": headers, "body": body}))
}

/// Replaces instance-specific values with placeholders.
fn normalize(idp: &MockIdp, v: Value) -> Value {
    match v {
        Value::String(s) => {
            let s = s.replace(idp.base_url(), "http://[idp]");
            let placeholder = |prefix: &str| format!("[{prefix}]");
            Value::String(if s.starts_with("mat_") {
                placeholder("access_token")
            } else if s.starts_with("mrt_") {
                placeholder("refresh_token")
            } else if s.starts_with("ey") && s.matches('.').count() == 2 {
                placeholder("jwt")
            } else {
                s
            })
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|x| normalize(idp, x)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "iat" | "exp" | "auth_time" => json!("[timestamp]"),
                        "kid" | "n" | "e" | "x" | "y" | "at_hash" => json!(format!("[{k}]")),
                        _ => normalize(idp, v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

fn post_token(idp: &MockIdp, http: &reqwest::Client) -> reqwest::RequestBuilder {
    http.post(idp.endpoint_url(Endpoint::Token).unwrap())
}

#[tokio::test]
async fn discovery_and_jwks() {
    let idp = common::idp().await;
    let http = http(None);
    insta::assert_json_snapshot!(
        "discovery",
        capture(&idp, http.get(idp.discovery_url()).send().await.unwrap()).await
    );
    insta::assert_json_snapshot!(
        "jwks",
        capture(
            &idp,
            http.get(idp.endpoint_url(Endpoint::Jwks).unwrap())
                .send()
                .await
                .unwrap()
        )
        .await
    );
}

#[tokio::test]
async fn token_success_id_token_refresh_and_userinfo() {
    let idp = common::idp().await;
    let http = http(None);
    let code = common::code(&idp, &http, &[]).await;
    let resp = post_token(&idp, &http)
        .basic_auth("mock-client", Some("mock-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    let raw: Value = {
        let v = capture(&idp, resp).await;
        insta::assert_json_snapshot!("token_success", v);
        // Re-issue to read the real tokens (the snapshot hides them).
        common::tokens(&idp, &http).await
    };
    let (header, claims) = jwt_parts(raw["id_token"].as_str().unwrap());
    insta::assert_json_snapshot!(
        "id_token",
        normalize(&idp, json!({"header": header, "claims": claims}))
    );
    let resp = post_token(&idp, &http)
        .basic_auth("mock-client", Some("mock-secret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", raw["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    insta::assert_json_snapshot!("refresh_success", capture(&idp, resp).await);
    let resp = http
        .get(idp.endpoint_url(Endpoint::Userinfo).unwrap())
        .bearer_auth(raw["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    insta::assert_json_snapshot!("userinfo_success", capture(&idp, resp).await);
}

#[tokio::test]
async fn token_errors() {
    let idp = common::idp().await;
    let http = http(None);
    let basic = |b: reqwest::RequestBuilder| b.basic_auth("mock-client", Some("mock-secret"));
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "token_error_missing_grant_type",
            basic(post_token(&idp, &http)).form(&[("code", "x")]),
        ),
        (
            "token_error_unsupported_grant_type",
            basic(post_token(&idp, &http)).form(&[("grant_type", "password")]),
        ),
        (
            "token_error_unknown_client_basic",
            post_token(&idp, &http)
                .basic_auth("ghost", Some("x"))
                .form(&[("grant_type", "authorization_code")]),
        ),
        (
            "token_error_no_client_auth",
            post_token(&idp, &http).form(&[("grant_type", "authorization_code")]),
        ),
        (
            "token_error_unknown_code",
            basic(post_token(&idp, &http)).form(&[
                ("grant_type", "authorization_code"),
                ("code", "nope"),
                ("redirect_uri", REDIRECT),
            ]),
        ),
        (
            "token_error_unknown_refresh_token",
            basic(post_token(&idp, &http))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", "nope")]),
        ),
    ];
    for (name, req) in cases {
        insta::assert_json_snapshot!(name, capture(&idp, req.send().await.unwrap()).await);
    }
    let code = common::code(&idp, &http, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    token(&idp, &http, &form).await;
    insta::assert_json_snapshot!(
        "token_error_code_reused",
        capture(
            &idp,
            basic(post_token(&idp, &http)).form(&form).send().await.unwrap()
        )
        .await
    );
    idp.on_token().respond(Outcome::ServerError);
    insta::assert_json_snapshot!(
        "token_error_server_error",
        capture(
            &idp,
            basic(post_token(&idp, &http)).form(&form).send().await.unwrap()
        )
        .await
    );
}

#[tokio::test]
async fn authorize_error_redirects() {
    let idp = common::idp().await;
    let http = http(None);
    let mut all = Map::new();
    idp.on_authorize().respond(Outcome::deny());
    all.insert(
        "deny".into(),
        json!(params_of(&follow(&http, &authorize_url(&idp, &[])).await)),
    );
    all.insert(
        "login_required".into(),
        json!(params_of(
            &follow(&http, &authorize_url(&idp, &[("prompt", "none")])).await
        )),
    );
    all.insert(
        "unsupported_response_type".into(),
        json!(params_of(
            &follow(&http, &authorize_url(&idp, &[("response_type", "id_token")])).await
        )),
    );
    all.insert(
        "missing_response_type".into(),
        json!(params_of(
            &follow(&http, &authorize_url(&idp, &[("response_type", "")])).await
        )),
    );
    insta::assert_json_snapshot!("authorize_errors", normalize(&idp, Value::Object(all)));
}

#[tokio::test]
async fn userinfo_errors() {
    let idp = common::idp().await;
    let http = http(None);
    let url = idp.endpoint_url(Endpoint::Userinfo).unwrap();
    insta::assert_json_snapshot!(
        "userinfo_error_no_token",
        capture(&idp, http.get(&url).send().await.unwrap()).await
    );
    insta::assert_json_snapshot!(
        "userinfo_error_invalid_token",
        capture(&idp, http.get(&url).bearer_auth("nope").send().await.unwrap()).await
    );
}
