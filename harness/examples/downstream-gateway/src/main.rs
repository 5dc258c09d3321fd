//! A tiny login gateway: GitHub OAuth in front of one application. A visitor without a session
//! is sent to GitHub (authorization code with PKCE S256 and a `state` bound to this browser by a
//! cookie); the callback redeems the code once, reads `/user` and `/user/emails`, and starts a
//! session; every request with a session is forwarded with `x-user-id` (GitHub's numeric id),
//! `x-user-name` and `x-user-email` (the primary address, only when GitHub verified it), and
//! client-sent `x-user-*` headers are dropped. Sessions live in memory.
//!
//! It stands for *your* gateway in gatecheck's downstream example: `tests/conformance.rs` runs
//! the conformance suite against it with `gatecheck.toml`. Configured by environment variables
//! (`DG_LISTEN`, `DG_ORIGIN`, `DG_UPSTREAM`, `DG_AUTHORIZE_URL`, `DG_TOKEN_URL`, `DG_API_URL`,
//! `DG_CLIENT_ID`, `DG_CLIENT_SECRET`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

const LOGIN_COOKIE: &str = "dg_login";
const SESSION_COOKIE: &str = "dg_session";
const CALLBACK: &str = "/callback";
const LOGOUT: &str = "/logout";
const MAX_BODY: usize = 10 * 1024 * 1024;

struct Config {
    listen: String,
    origin: String,
    upstream: String,
    authorize_url: String,
    token_url: String,
    api_url: String,
    client_id: String,
    client_secret: String,
}

impl Config {
    fn from_env() -> Result<Config, String> {
        let var =
            |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set (see src/main.rs)"));
        Ok(Config {
            listen: var("DG_LISTEN")?,
            origin: var("DG_ORIGIN")?,
            upstream: var("DG_UPSTREAM")?.trim_end_matches('/').to_owned(),
            authorize_url: var("DG_AUTHORIZE_URL")?,
            token_url: var("DG_TOKEN_URL")?,
            api_url: var("DG_API_URL")?.trim_end_matches('/').to_owned(),
            client_id: var("DG_CLIENT_ID")?,
            client_secret: var("DG_CLIENT_SECRET")?,
        })
    }

    fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK}", self.origin)
    }
}

/// A login in flight, keyed by the browser's login cookie.
struct Pending {
    state: String,
    verifier: String,
    return_to: String,
}

/// Who a session belongs to.
#[derive(Clone)]
struct User {
    id: String,
    name: String,
    email: Option<String>,
}

struct Gateway {
    config: Config,
    http: reqwest::Client,
    logins: Mutex<HashMap<String, Pending>>,
    sessions: Mutex<HashMap<String, User>>,
}

#[tokio::main]
async fn main() {
    let config = Config::from_env().unwrap_or_else(|e| {
        eprintln!("downstream-gateway: {e}");
        std::process::exit(2);
    });
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .unwrap_or_else(|e| {
            eprintln!("downstream-gateway: cannot listen on {}: {e}", config.listen);
            std::process::exit(2);
        });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let gw = Arc::new(Gateway {
        config,
        http,
        logins: Mutex::default(),
        sessions: Mutex::default(),
    });
    let app = axum::Router::new().fallback(handle).with_state(gw);
    serve(listener, app).await;
}

/// Serves HTTP/1.1 with the time limit axum's `serve` does not set: a client must send each
/// request head within 10 s, so slow clients cannot hold connections; no connection lasts
/// more than an hour.
async fn serve(listener: tokio::net::TcpListener, app: axum::Router) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                app.clone().oneshot(req.map(Body::new))
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3600), conn).await;
        });
    }
}

async fn handle(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    if let Some(refusal) = malformed(&req) {
        return refusal;
    }
    let path = req.uri().path().to_owned();
    if path == CALLBACK {
        let (parts, _) = req.into_parts();
        return callback(&gw, &parts.headers, &parts.uri)
            .await
            .unwrap_or_else(|e| e);
    }
    if path == LOGOUT {
        if let Some(id) = cookie(req.headers(), SESSION_COOKIE) {
            gw.sessions.lock().unwrap().remove(&id);
        }
        let mut r = page(StatusCode::OK, "Signed out", "You are signed out.");
        clear_cookie(&mut r, SESSION_COOKIE);
        return r;
    }
    let user =
        cookie(req.headers(), SESSION_COOKIE).and_then(|id| gw.sessions.lock().unwrap().get(&id).cloned());
    match user {
        Some(user) => forward(&gw, req, &user).await,
        // Only a browser loading a page is sent to sign in; an API client gets a 401.
        None if (req.method() == Method::GET || req.method() == Method::HEAD)
            && wants_html(req.headers()) =>
        {
            start_login(&gw, &req)
        }
        None => page(StatusCode::UNAUTHORIZED, "Sign-in required", "Sign in first."),
    }
}

/// Requests refused before anything else: two `Host` headers (RFC 9112 §3.2), and a body on
/// GET, HEAD or OPTIONS, which an application that never reads one would run as a second
/// request (request smuggling).
fn malformed(req: &Request) -> Option<Response> {
    let headers = req.headers();
    if headers.get_all(header::HOST).iter().count() > 1 {
        return Some(page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "More than one Host header.",
        ));
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    (safe && has_body).then(|| {
        page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "A body is not allowed here.",
        )
    })
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|a| a.contains("text/html") || a.contains("*/*"))
}

fn start_login(gw: &Gateway, req: &Request) -> Response {
    let state = random();
    let verifier = random();
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    // Only a path on this site: never `//host` or `/\host`, which browsers read as another site.
    let asked = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let return_to = if asked.starts_with('/') && !asked.starts_with("//") && !asked.starts_with("/\\") {
        asked.to_owned()
    } else {
        "/".to_owned()
    };
    let login_id = random();
    gw.logins.lock().unwrap().insert(
        login_id.clone(),
        Pending {
            state: state.clone(),
            verifier,
            return_to,
        },
    );
    let c = &gw.config;
    let query: String = form(&[
        ("client_id", c.client_id.as_str()),
        ("redirect_uri", &c.redirect_uri()),
        ("scope", "read:user user:email"),
        ("state", &state),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let mut r = redirect(&format!("{}?{query}", c.authorize_url));
    set_cookie(&mut r, LOGIN_COOKIE, &login_id);
    r
}

async fn callback(gw: &Gateway, headers: &HeaderMap, uri: &Uri) -> Result<Response, Response> {
    let refused = |why: &str| page(StatusCode::BAD_REQUEST, "Sign-in failed", why);
    // The login this browser started, used once whatever happens next.
    let pending = cookie(headers, LOGIN_COOKIE).and_then(|id| gw.logins.lock().unwrap().remove(&id));
    let Some(pending) = pending else {
        // The back button onto a finished login: a signed-in user goes back to the site.
        let signed_in =
            cookie(headers, SESSION_COOKIE).is_some_and(|id| gw.sessions.lock().unwrap().contains_key(&id));
        return if signed_in {
            Ok(redirect("/"))
        } else {
            Err(refused(
                "No sign-in was in progress in this browser. Open the page again.",
            ))
        };
    };
    let params: HashMap<String, String> = uri.query().map(query_params).unwrap_or_default();
    if params.get("state") != Some(&pending.state) {
        return Err(refused(
            "This sign-in does not belong to this browser. Open the page again.",
        ));
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").map(String::as_str).unwrap_or("");
        return Err(page(
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            &format!("GitHub answered {error}. {description}"),
        ));
    }
    let code = params
        .get("code")
        .ok_or_else(|| refused("GitHub sent no code."))?;
    let c = &gw.config;
    let failed = |what: &str| page(StatusCode::BAD_GATEWAY, "Sign-in failed", what);
    let token: TokenAnswer = gw
        .http
        .post(&c.token_url)
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("client_id", c.client_id.as_str()),
            ("client_secret", &c.client_secret),
            ("code", code),
            ("redirect_uri", &c.redirect_uri()),
            ("code_verifier", &pending.verifier),
        ])
        .send()
        .await
        .map_err(|_| failed("GitHub could not be reached."))?
        .json()
        .await
        .map_err(|_| failed("GitHub's token answer was not understood."))?;
    let Some(access_token) = token.access_token else {
        let error = token.error.unwrap_or_else(|| "no access token".into());
        return Err(failed(&format!("GitHub refused the code: {error}.")));
    };
    let profile: GithubUser = api(gw, "/user", &access_token).await.map_err(|e| failed(&e))?;
    let emails: Vec<GithubEmail> = api(gw, "/user/emails", &access_token).await.unwrap_or_default();
    let email = emails
        .into_iter()
        .find(|e| e.primary && e.verified)
        .map(|e| e.email);
    let user = User {
        id: profile.id.to_string(),
        name: profile.name.unwrap_or(profile.login),
        email,
    };
    let session = random();
    gw.sessions.lock().unwrap().insert(session.clone(), user);
    let mut r = redirect(&pending.return_to);
    set_cookie(&mut r, SESSION_COOKIE, &session);
    clear_cookie(&mut r, LOGIN_COOKIE);
    Ok(r)
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct GithubUser {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

async fn api<T: serde::de::DeserializeOwned>(gw: &Gateway, path: &str, token: &str) -> Result<T, String> {
    let url = format!("{}{}", gw.config.api_url, path.trim_start_matches("/user"));
    let resp = gw
        .http
        .get(url)
        .bearer_auth(token)
        .header(header::ACCEPT, "application/vnd.github+json")
        .header(header::USER_AGENT, "downstream-gateway")
        .send()
        .await
        .map_err(|_| "GitHub could not be reached.".to_owned())?;
    if !resp.status().is_success() {
        return Err(format!("GitHub answered {} for {path}.", resp.status()));
    }
    resp.json()
        .await
        .map_err(|_| format!("GitHub's {path} answer was not understood."))
}

/// Forwards a request of a signed-in user, with who they are and without what the client
/// claimed about it or this gateway's own cookies.
async fn forward(gw: &Gateway, req: Request, user: &User) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The request body is too large.",
        );
    };
    let target = format!(
        "{}{}",
        gw.config.upstream,
        parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if n.starts_with("x-user-")
            || n.starts_with("x_user_")
            || is_hop_by_hop(n)
            || n == "host"
            || n == "cookie"
        {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    if let Some(cookies) = parts.headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) {
        let kept: Vec<&str> = cookies
            .split(';')
            .map(str::trim)
            .filter(|c| {
                !c.starts_with(&format!("{SESSION_COOKIE}=")) && !c.starts_with(&format!("{LOGIN_COOKIE}="))
            })
            .filter(|c| !c.is_empty())
            .collect();
        if let Ok(v) = HeaderValue::from_str(&kept.join("; "))
            && !kept.is_empty()
        {
            headers.insert(header::COOKIE, v);
        }
    }
    let mut identity = vec![
        ("x-user-id", user.id.as_str()),
        ("x-user-name", user.name.as_str()),
    ];
    if let Some(email) = &user.email {
        identity.push(("x-user-email", email));
    }
    for (name, value) in identity {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    let sent = gw
        .http
        .request(parts.method, target)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let Ok(answer) = sent else {
        return page(
            StatusCode::BAD_GATEWAY,
            "Unavailable",
            "The application did not answer.",
        );
    };
    let mut r = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !is_hop_by_hop(name.as_str()) {
            r = r.header(name, value);
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    r.body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(r: &mut Response, name: &str, value: &str) {
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    r.headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&c).expect("a cookie"));
}

fn clear_cookie(r: &mut Response, name: &str) {
    let c = format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    r.headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&c).expect("a cookie"));
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(to).expect("a URL"));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html><title>{}</title><h1>{}</h1><p>{}</p><p><a href=\"/\">Try again</a></p>",
        escape(title),
        escape(title),
        escape(text)
    );
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// 32 random bytes, base64url.
fn random() -> String {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).expect("randomness");
    URL_SAFE_NO_PAD.encode(b)
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The query's parameters; one given twice is kept as neither (RFC 6749 §3.1: ambiguous).
fn query_params(query: &str) -> HashMap<String, String> {
    let mut out: HashMap<String, Option<String>> = HashMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        out.entry(k.into_owned())
            .and_modify(|seen| *seen = None)
            .or_insert(Some(v.into_owned()));
    }
    out.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}
