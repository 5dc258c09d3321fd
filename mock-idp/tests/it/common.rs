//! Helpers shared by the integration tests: an HTTP client that never follows redirects,
//! the `openidconnect` adapter over our reqwest, and a headless login that returns the code.

use mock_idp::MockIdp;
use openidconnect::{HttpRequest, HttpResponse};
use serde_json::Value;

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const POST_LOGOUT: &str = "http://127.0.0.1:9/signed-out";

/// Installs the rustls provider (once per process).
pub fn init() {
    mock_idp::tls::install_crypto_provider();
}

/// A reqwest client that never follows redirects, trusting `ca` when given.
pub fn http(ca: Option<&str>) -> reqwest::Client {
    init();
    let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = ca {
        b = b.tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA PEM")]);
    }
    b.build().expect("http client")
}

/// The adapter `openidconnect` needs: its requests, sent with our reqwest 0.13.
pub fn oidc_http(
    client: reqwest::Client,
) -> impl for<'c> openidconnect::AsyncHttpClient<'c, Error = reqwest::Error> {
    move |req: HttpRequest| {
        let client = client.clone();
        async move {
            let req = reqwest::Request::try_from(req)?;
            let resp = client.execute(req).await?;
            let mut out = http::Response::builder().status(resp.status());
            for (k, v) in resp.headers() {
                out = out.header(k, v);
            }
            let body = resp.bytes().await?.to_vec();
            Ok::<HttpResponse, reqwest::Error>(out.body(body).expect("valid response"))
        }
    }
}

/// An IdP with the default client registered for [`REDIRECT`] and [`POST_LOGOUT`].
pub async fn idp() -> MockIdp {
    MockIdp::builder()
        .redirect_uri(REDIRECT)
        .post_logout_redirect_uri(POST_LOGOUT)
        .start()
        .await
}

/// GET `url` (plain http, no client credentials) and parse the answer as JSON.
pub async fn get_json(url: &str) -> Value {
    http(None)
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// The query (or fragment) parameters of a URL.
pub fn params_of(url: &str) -> Vec<(String, String)> {
    let u = url::Url::parse(url).expect("absolute URL");
    let raw = u.query().or(u.fragment()).unwrap_or("").to_owned();
    form_urlencoded::parse(raw.as_bytes()).into_owned().collect()
}

/// One parameter of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    params_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// GET `url`, expect a 302, return the Location.
pub async fn follow(http: &reqwest::Client, url: &str) -> String {
    let resp = http.get(url).send().await.expect("request");
    assert_eq!(
        resp.status(),
        302,
        "expected a redirect from {url}: {}",
        resp.text().await.unwrap_or_default()
    );
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// A standard authorization URL for the default client with extra parameters.
pub fn authorize_url(idp: &MockIdp, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", mock_idp::DEFAULT_CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email profile"),
        ("state", "state-0123456789abcdef"),
        ("nonce", "nonce-0123456789"),
    ];
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{}?{q}", idp.endpoint_url(mock_idp::Endpoint::Authorize).unwrap())
}

/// Logs in headlessly and returns the code.
pub async fn code(idp: &MockIdp, http: &reqwest::Client, extra: &[(&str, &str)]) -> String {
    let loc = follow(http, &authorize_url(idp, extra)).await;
    param(&loc, "code").unwrap_or_else(|| panic!("no code in {loc}"))
}

/// POSTs a form asking for JSON, with Basic client credentials when given: the status and the
/// body (JSON, or the text when it is not JSON).
pub async fn post_form(url: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
    let mut req = http(None)
        .post(url)
        .header("accept", "application/json")
        .form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// POSTs a form to the token endpoint with Basic credentials of the default client.
pub async fn token(idp: &MockIdp, http: &reqwest::Client, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http
        .post(idp.endpoint_url(mock_idp::Endpoint::Token).unwrap())
        .basic_auth(mock_idp::DEFAULT_CLIENT_ID, Some(mock_idp::DEFAULT_CLIENT_SECRET))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Redeems a fresh code for tokens.
pub async fn tokens(idp: &MockIdp, http: &reqwest::Client) -> Value {
    let code = code(idp, http, &[]).await;
    let (status, body) = token(
        idp,
        http,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// GET userinfo with a bearer token.
pub async fn userinfo(idp: &MockIdp, http: &reqwest::Client, token: &str) -> (u16, Value, Option<String>) {
    let resp = http
        .get(idp.endpoint_url(mock_idp::Endpoint::Userinfo).unwrap())
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, resp.json().await.unwrap_or(Value::Null), challenge)
}

/// Decodes a JWT's header and claims without checking anything.
pub fn jwt_parts(jwt: &str) -> (Value, Value) {
    use base64::Engine;
    let mut it = jwt.split('.');
    let dec = |p: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap(),
        )
        .unwrap()
    };
    (dec(it.next().unwrap()), dec(it.next().unwrap()))
}
