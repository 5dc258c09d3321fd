//! Calls to an IdP's token endpoint and profile APIs, and the parsing of their answers.
//!
//! One lenient-where-the-spec-says, strict-elsewhere parser for every provider (security
//! checklist 15, 28): an `error` member means failure whatever the HTTP status (GitHub answers
//! errors with 200); Twitch's `{"status","message"}` and Facebook's `{"error":{…}}` are
//! recognised as errors; the body may be JSON or form-encoded; `token_type` must be Bearer in
//! any case; `scope` may be a string or an array; `access_token` must be a non-empty string.
//! The `oauth2` crate's typed response cannot read Twitch's array `scope` or GitHub's
//! HTTP-200 errors, which is why this parser exists instead of three special cases.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Map, Value};

use crate::types::Secret;

/// Largest IdP response body read (security checklist 61).
pub const MAX_BODY: usize = 256 * 1024;

/// What went wrong talking to an IdP.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// The IdP could not be reached, timed out, or answered 5xx.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The IdP refused (an OAuth error).
    #[error("the identity provider refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected {
        /// Error code.
        error: String,
        /// Description.
        description: Option<String>,
    },
    /// The answer cannot be trusted or understood (bad ID token, malformed body…).
    #[error("the identity provider's answer is invalid: {0}")]
    Invalid(String),
}

impl ProviderError {
    /// Whether a refresh failed because the grant is dead (the session must end).
    pub fn is_dead_grant(&self) -> bool {
        matches!(self, ProviderError::Rejected { .. } | ProviderError::Invalid(_))
    }
}

pub use crate::session::TokenSet;

/// Reads a response body up to [`MAX_BODY`].
pub async fn read_body(resp: reqwest::Response) -> Result<(u16, Option<String>, Vec<u8>), ProviderError> {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ProviderError::Invalid(format!(
            "response body larger than {MAX_BODY} bytes"
        )));
    }
    let mut resp = resp;
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            return Err(ProviderError::Invalid(format!(
                "response body larger than {MAX_BODY} bytes"
            )));
        }
    }
    Ok((status, ct, body))
}

/// Maps a transport error.
pub fn transport(e: reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Unavailable("timed out".into())
    } else {
        ProviderError::Unavailable(format!("{}", e.without_url()))
    }
}

/// Parses a JSON or form-encoded body into a map.
fn parse_map(content_type: Option<&str>, body: &[u8]) -> Option<Map<String, Value>> {
    let is_form = content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !is_form && let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
        return Some(m);
    }
    let text = std::str::from_utf8(body).ok()?;
    if is_form || (!text.trim_start().starts_with('{') && text.contains('=')) {
        let mut m = Map::new();
        for (k, v) in form_urlencoded::parse(body) {
            m.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        return Some(m);
    }
    None
}

/// Turns an error-shaped body into a [`ProviderError::Rejected`], whatever the provider.
fn error_of(m: &Map<String, Value>) -> Option<ProviderError> {
    match m.get("error") {
        Some(Value::String(e)) => Some(ProviderError::Rejected {
            error: e.clone(),
            description: m
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }),
        // Facebook / Graph: {"error": {"message", "type", "code"}}
        Some(Value::Object(o)) => Some(ProviderError::Rejected {
            error: o
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("error")
                .to_owned(),
            description: o.get("message").and_then(Value::as_str).map(str::to_owned),
        }),
        _ => match (m.get("status"), m.get("message")) {
            // Twitch: {"status": 400, "message": "Invalid authorization code"}
            (Some(s), Some(Value::String(msg))) if s.as_u64().is_some_and(|s| s >= 400) => {
                Some(ProviderError::Rejected {
                    error: "invalid_grant".into(),
                    description: Some(msg.clone()),
                })
            }
            _ => None,
        },
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic.
    Basic,
    /// Form body.
    Post,
}

/// POSTs a token request and parses the answer.
pub async fn token_request(
    http: &reqwest::Client,
    url: &url::Url,
    auth: ClientAuth,
    client_id: &str,
    client_secret: &Secret,
    params: &[(&str, &str)],
) -> Result<TokenSet, ProviderError> {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    let mut req = http.post(url.clone()).header(ACCEPT, "application/json");
    match auth {
        ClientAuth::Basic => {
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            req = req.basic_auth(enc(client_id), Some(enc(client_secret.expose())));
        }
        ClientAuth::Post => {
            form.push(("client_id", client_id));
            form.push(("client_secret", client_secret.expose()));
        }
    }
    let resp = req.form(&form).send().await.map_err(transport)?;
    let (status, ct, body) = read_body(resp).await?;
    parse_token_response(status, ct.as_deref(), &body)
}

/// Parses a token response (see the module docs for the rules).
pub fn parse_token_response(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<TokenSet, ProviderError> {
    let map = parse_map(content_type, body);
    if let Some(m) = &map
        && let Some(e) = error_of(m)
    {
        return Err(if status >= 500 {
            ProviderError::Unavailable(e.to_string())
        } else {
            e
        });
    }
    if status >= 500 {
        return Err(ProviderError::Unavailable(format!("HTTP {status}")));
    }
    if !(200..300).contains(&status) {
        return Err(ProviderError::Rejected {
            error: format!("http_{status}"),
            description: None,
        });
    }
    let m = map.ok_or_else(|| {
        ProviderError::Invalid("the token response is neither JSON nor form-encoded".into())
    })?;
    let access = match m.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(ProviderError::Invalid("access_token is not a string".into())),
        None => {
            return Err(ProviderError::Invalid(
                "the token response has no access_token".into(),
            ));
        }
    };
    match m.get("token_type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("bearer") => {}
        Some(t) => return Err(ProviderError::Invalid(format!("token_type {t:?} is not Bearer"))),
        None => {
            return Err(ProviderError::Invalid(
                "the token response has no token_type".into(),
            ));
        }
    }
    let expires_in = match m.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let string = |k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(TokenSet {
        access_token: Secret::new(access),
        refresh_token: string("refresh_token").map(Secret::new),
        expires_in,
        id_token: string("id_token"),
    })
}

/// GETs a JSON profile API with the access token, as a header or (generic providers that
/// want it) as the `access_token` query parameter.
pub async fn get_json(
    http: &reqwest::Client,
    url: &url::Url,
    token: &Secret,
    token_in_header: bool,
) -> Result<Value, ProviderError> {
    let mut req = if token_in_header {
        http.get(url.clone()).bearer_auth(token.expose())
    } else {
        let mut u = url.clone();
        u.query_pairs_mut().append_pair("access_token", token.expose());
        http.get(u)
    };
    req = req.header(ACCEPT, "application/json");
    let resp = req.send().await.map_err(transport)?;
    let (status, _ct, body) = read_body(resp).await?;
    if status >= 500 {
        return Err(ProviderError::Unavailable(format!(
            "profile API answered HTTP {status}"
        )));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|_| {
        ProviderError::Invalid(format!(
            "profile API answered HTTP {status} with a body that is not JSON"
        ))
    })?;
    if !(200..300).contains(&status) {
        let e = v.as_object().and_then(error_of);
        return Err(e.unwrap_or(ProviderError::Rejected {
            error: format!("http_{status}"),
            description: None,
        }));
    }
    Ok(v)
}

/// The HTTP client used for every IdP call: no redirects (SSRF), a timeout, a recognisable
/// user agent (GitHub's API requires one).
pub fn http_client(timeout: Duration, extra_roots: &[reqwest::Certificate]) -> reqwest::Client {
    build_client(timeout, extra_roots)
}

/// The platform-verifier TLS configuration, built once per process: building it loads and
/// parses the system's root certificates, which a reload (or a test run starting many
/// gateways) would otherwise repeat. A rustls config is not tied to a runtime, so sharing
/// it is safe where sharing a client is not.
fn platform_tls() -> Option<rustls::ClientConfig> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    static CONFIG: std::sync::OnceLock<Option<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let mut c = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()?
                .with_platform_verifier()
                .ok()?
                .with_no_client_auth();
            c.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Some(c)
        })
        .clone()
}

/// Test-only ([`crate::faults::Fault::AcceptAnyIdpCertificate`]): a client that accepts any
/// certificate.
pub(crate) fn http_client_trusting_anything(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .danger_accept_invalid_certs(true)
        .build()
        .expect("HTTP client configuration is valid")
}

fn build_client(timeout: Duration, extra_roots: &[reqwest::Certificate]) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("ref-gateway/", env!("CARGO_PKG_VERSION"), " (gatecheck)"))
        .pool_idle_timeout(Duration::from_secs(60));
    if !extra_roots.is_empty() {
        b = b.tls_certs_merge(extra_roots.iter().cloned());
    } else if let Some(tls) = platform_tls() {
        b = b.use_preconfigured_tls(tls);
    }
    b.build().expect("HTTP client configuration is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_spec_allows() {
        let t = parse_token_response(
            200,
            Some("application/json"),
            br#"{"access_token":"a","token_type":"bEARER"}"#,
        )
        .unwrap();
        assert_eq!((t.access_token.expose(), t.expires_in), ("a", None));
        let t = parse_token_response(
            200,
            Some("application/json"),
            br#"{"access_token":"a","token_type":"bearer","scope":["openid"],"expires_in":"60"}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in, Some(60));
        let t = parse_token_response(
            200,
            Some("application/x-www-form-urlencoded"),
            b"access_token=gho_x&scope=read%3Auser&token_type=bearer",
        )
        .unwrap();
        assert_eq!(t.access_token.expose(), "gho_x");
    }

    #[test]
    fn refuses_everything_else() {
        let cases: [(u16, &[u8]); 7] = [
            (200, br#"{"error":"bad_verification_code","error_description":"x"}"#),
            (400, br#"{"status":400,"message":"Invalid authorization code"}"#),
            (400, br#"{"error":{"message":"This authorization code has been used.","type":"OAuthException","code":100}}"#),
            (200, br#"{"access_token":"a","token_type":"mac"}"#),
            (200, br#"{"token_type":"Bearer"}"#),
            (200, br#"{"access_token":5,"token_type":"Bearer"}"#),
            (200, b"{\"access_token\":\"mat_trunc"),
        ];
        for (status, body) in cases {
            assert!(
                parse_token_response(status, Some("application/json"), body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(matches!(
            parse_token_response(503, None, b"<html>"),
            Err(ProviderError::Unavailable(_))
        ));
        assert!(matches!(
            parse_token_response(
                200,
                Some("application/json"),
                br#"{"error":"bad_verification_code"}"#
            ),
            Err(ProviderError::Rejected { .. })
        ));
    }
}
