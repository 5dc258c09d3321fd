//! Fuzz target `idp_params`: the mock IdP's authorization and token endpoints, called
//! in-process through its axum router (`mock_idp::fuzzing::FuzzIdp`) with arbitrary query
//! strings, bodies and headers. Client-side garbage must never panic or get a 5xx; the
//! authorization endpoint must never redirect anywhere but the registered redirect URI; the
//! spec-exact personality answers token errors with a 4xx and an OAuth error JSON.
//!
//! Input format (lines split on `\n`, so seeds are readable):
//! 1. selector: first byte `A` authorize GET, `a` authorize POST, `T` token POST, `t` token
//!    GET (any other byte: that byte mod 4); second byte a digit picking the provider
//!    personality (any other byte: mod 10);
//! 2. the query string; 3. the body;
//! 4. `Authorization` header value (line absent or empty: none);
//! 5. `Content-Type` (line absent: `application/x-www-form-urlencoded`; empty: none).
//!
//! In the query and body, `@CODE@` is replaced by a fresh authorization code (issued for
//! `mock-client`, the registered redirect URI and the verifier
//! `gatecheck-fuzz-verifier-0123456789abcdefghijk`) and `@REFRESH@` by a fresh refresh token,
//! so the fuzzer reaches the grant checks behind them. `FUZZ_DEBUG=1` prints each request
//! and the answer's status (`cargo +nightly fuzz run -s none idp_params fuzz/corpus/idp_params/*`).
#![no_main]

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use mock_idp::fuzzing::{FuzzIdp, REDIRECT_URI};
use mock_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, ProviderId};
use tower::ServiceExt;

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
});

const CHALLENGE: &str = "d8yQ4FPxmRWcwqeU5GYCYZcD6amLYKJ5vK4LN3DqXLU";
const VERIFIER: &str = "gatecheck-fuzz-verifier-0123456789abcdefghijk";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    AuthorizeGet,
    AuthorizePost,
    TokenPost,
    TokenGet,
}

/// Percent-encodes what may not stand in a request target, as a client's HTTP stack would.
fn target_safe(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for &b in raw {
        if (0x21..=0x7e).contains(&b) && !b"\"#<>\\^`{|}".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn replace(raw: &[u8], code: &str, refresh: &str) -> Vec<u8> {
    String::from_utf8_lossy(raw)
        .replace("@CODE@", code)
        .replace("@REFRESH@", refresh)
        .into_bytes()
}

async fn call(idp: &FuzzIdp, req: Request<Body>) -> (StatusCode, HeaderValue, Vec<u8>) {
    let resp: Response<Body> = idp.router().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .cloned()
        .unwrap_or(HeaderValue::from_static(""));
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("in-memory body")
        .to_bytes()
        .to_vec();
    (status, location, body)
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A code from a well-formed, headless authorization request (empty if the personality
/// would not issue one).
async fn issue_code(idp: &FuzzIdp) -> String {
    let uri = format!(
        "{}?response_type=code&client_id={DEFAULT_CLIENT_ID}&redirect_uri={}&scope=openid%20email\
         &state=fuzzstate&nonce=fuzznonce&code_challenge={CHALLENGE}&code_challenge_method=S256",
        idp.authorize_path(),
        enc(REDIRECT_URI)
    );
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let (_, location, _) = call(idp, req).await;
    url::Url::parse(location.to_str().unwrap_or(""))
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

/// A refresh token from a well-formed code exchange (empty if none is issued).
async fn issue_refresh(idp: &FuzzIdp) -> String {
    let code = issue_code(idp).await;
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={DEFAULT_CLIENT_ID}\
         &client_secret={DEFAULT_CLIENT_SECRET}&code_verifier={VERIFIER}",
        enc(&code),
        enc(REDIRECT_URI)
    );
    let req = Request::post(idp.token_path())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (_, _, body) = call(idp, req).await;
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("refresh_token")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn run(data: &[u8]) {
    let mut lines = data.split(|b| *b == b'\n');
    let selector = lines.next().unwrap_or_default();
    let kind = match selector.first().copied().unwrap_or(0) {
        b'A' => Kind::AuthorizeGet,
        b'a' => Kind::AuthorizePost,
        b'T' => Kind::TokenPost,
        b't' => Kind::TokenGet,
        b => [
            Kind::AuthorizeGet,
            Kind::AuthorizePost,
            Kind::TokenPost,
            Kind::TokenGet,
        ][usize::from(b % 4)],
    };
    let provider = match selector.get(1).copied().unwrap_or(b'0') {
        b @ b'0'..=b'9' => usize::from(b - b'0'),
        b => usize::from(b % 10),
    };
    let provider = ProviderId::ALL[provider];
    let query = lines.next().unwrap_or_default();
    let body = lines.next().unwrap_or_default();
    let authorization = lines.next().filter(|a| !a.is_empty());
    let content_type = lines.next();

    let idp = FuzzIdp::new(provider);
    let wants = |s: &[u8], pat: &[u8]| s.windows(pat.len()).any(|w| w == pat);
    let needs_code = wants(query, b"@CODE@") || wants(body, b"@CODE@");
    let needs_refresh = wants(query, b"@REFRESH@") || wants(body, b"@REFRESH@");
    let code = if needs_code {
        issue_code(&idp).await
    } else {
        String::new()
    };
    let refresh = if needs_refresh {
        issue_refresh(&idp).await
    } else {
        String::new()
    };
    let query = target_safe(&replace(query, &code, &refresh));
    let body = replace(body, &code, &refresh);

    let (method, path) = match kind {
        Kind::AuthorizeGet => (Method::GET, idp.authorize_path()),
        Kind::AuthorizePost => (Method::POST, idp.authorize_path()),
        Kind::TokenPost => (Method::POST, idp.token_path()),
        Kind::TokenGet => (Method::GET, idp.token_path()),
    };
    let uri = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let mut req = Request::builder().method(method.clone()).uri(&uri);
    match content_type {
        None => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        Some(ct) if !ct.is_empty() => {
            if let Ok(v) = HeaderValue::from_bytes(ct) {
                req = req.header(header::CONTENT_TYPE, v);
            }
        }
        Some(_) => {}
    }
    if let Some(v) = authorization.and_then(|a| HeaderValue::from_bytes(a).ok()) {
        req = req.header(header::AUTHORIZATION, v);
    }
    let req = req
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("request {method} {uri}: {e}"));
    let (status, location, resp_body) = call(&idp, req).await;
    let text = String::from_utf8_lossy(&resp_body);
    if std::env::var_os("FUZZ_DEBUG").is_some() {
        eprintln!(
            "{provider:?} {kind:?} {uri} -> {status} {}",
            text.chars().take(160).collect::<String>()
        );
    }

    assert!(
        !status.is_server_error(),
        "{provider:?} {kind:?} {uri} answered {status}: {text}"
    );
    match kind {
        Kind::AuthorizeGet | Kind::AuthorizePost => {
            if status.is_redirection() {
                let loc = location.to_str().unwrap_or("<not ASCII>");
                let rest = loc.strip_prefix(REDIRECT_URI).unwrap_or_else(|| {
                    panic!("{provider:?} {kind:?} {uri} redirected to {loc:?}, not the registered URI")
                });
                assert!(
                    rest.is_empty() || rest.starts_with(['?', '#']),
                    "{provider:?} {kind:?} {uri} redirected to {loc:?}"
                );
            }
        }
        Kind::TokenPost | Kind::TokenGet => {
            // 405: the router's answer to a method the endpoint lacks, before any parsing.
            if idp.rfc_token_errors() && status.is_client_error() && status != StatusCode::METHOD_NOT_ALLOWED
            {
                let json: serde_json::Value = serde_json::from_slice(&resp_body).unwrap_or_else(|e| {
                    panic!("{kind:?} {uri} answered {status} with no JSON ({e}): {text}")
                });
                assert!(
                    json.get("error").is_some_and(serde_json::Value::is_string),
                    "{kind:?} {uri} answered {status} without an OAuth error: {text}"
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    RT.block_on(run(data));
});
