//! The HTTP face of the IdP: the router, the request-recording middleware, and the pieces
//! every endpoint shares (strict parameter parsing, client authentication, error pages,
//! scripted infrastructure faults).
//!
//! One file per endpoint, axum style: a handler reads validate → act → respond.

pub(crate) mod admin;
pub(crate) mod authorize;
pub(crate) mod discovery;
pub(crate) mod end_session;
pub(crate) mod inspector;
pub(crate) mod pages;
pub(crate) mod resource;
pub(crate) mod revoke;
pub(crate) mod token;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;

use crate::clients::{Client, TokenAuthMethod};
use crate::lint::Finding;
use crate::log::{Recorder, RequestLog};
use crate::outcome::Outcome;
use crate::personality::{ClientProblem, TokenFailure};
use crate::script::Taken;
use crate::shared::Shared;
use crate::types::{ClientId, Endpoint};

/// Builds the router for one IdP instance from its personality's paths.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let paths = shared.personality.profile().paths.clone();
    let profile = shared.personality.profile();
    let token = if profile.token_endpoint_get {
        get(token::handle).post(token::handle)
    } else {
        post(token::handle)
    };
    let mut r = Router::new()
        .route(&paths.authorize, get(authorize::get).post(authorize::post))
        .route(&paths.token, token)
        .route(&paths.userinfo, resource::route("userinfo", true))
        .route(authorize::DECISION_PATH, post(authorize::decision));
    for res in &profile.resources {
        r = r.route(&res.path, resource::route(res.name, res.post));
    }
    if let Some(p) = &paths.discovery {
        r = r.route(p, get(discovery::discovery));
    }
    if let Some(p) = &paths.jwks {
        r = r.route(p, get(discovery::jwks));
    }
    if let Some(p) = &paths.revocation {
        r = r.route(p, post(revoke::handle));
    }
    if let Some(p) = &paths.end_session {
        r = r.route(p, get(end_session::handle).post(end_session::handle));
    }
    r = r.route(crate::keys::ATTACKER_JWKS_PATH, get(discovery::attacker_jwks));
    r = r
        .route(inspector::PATH, get(inspector::page))
        .route("/__inspector/seq", get(inspector::seq))
        .route("/__inspector/queue", post(inspector::queue))
        .route("/__inspector/user", post(inspector::user))
        .route("/__inspector/unverify", post(inspector::unverify))
        .route("/__inspector/clear", post(inspector::clear));
    r.route("/__admin/", get(admin::index))
        .nest("/__admin", admin::router())
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .with_state(shared)
}

/// Opens a log record for every non-admin request and closes it with the status.
async fn record(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/__admin") || path.starts_with(inspector::PATH) {
        return next.run(req).await;
    }
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let rec = RequestLog::open(&shared.log, req.method().as_str(), &path, headers);
    req.extensions_mut().insert(rec.clone());
    let resp = next.run(req).await;
    let resp = keep_issued_tokens(&rec, resp).await;
    rec.finish(resp.status().as_u16());
    resp
}

/// For the inspector: decodes the JWTs a token or refresh answer carries (`id_token`, and an
/// `access_token` shaped like a JWT) into the request's record. The body is buffered (token
/// answers are small; anything over 1 MB is passed on untouched).
async fn keep_issued_tokens(rec: &Recorder, resp: Response) -> Response {
    if !matches!(rec.current_endpoint(), Some(Endpoint::Token | Endpoint::Refresh)) {
        return resp;
    }
    let json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return resp;
    }
    use axum::body::HttpBody as _;
    const LIMIT: u64 = 1 << 20;
    if resp.body().size_hint().exact().is_none_or(|n| n > LIMIT) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, LIMIT as usize).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        for name in ["id_token", "access_token", "refresh_token"] {
            if let Some(t) = v.get(name).and_then(serde_json::Value::as_str)
                && let Some(decoded) = crate::log::DecodedJwt::decode(name, t)
            {
                rec.issued(decoded);
            }
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Request parameters (query or form), kept in order, with the strict rules of RFC 6749
/// §3.1: repeated parameters are an error, and empty values count as absent.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(raw: &[u8]) -> Params {
        Params {
            pairs: form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }
    pub fn from_query(query: Option<&str>) -> Params {
        Params::parse(query.unwrap_or("").as_bytes())
    }
    /// The value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    /// Whether `name` is present (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }
    /// Names given more than once.
    pub fn repeated(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (k, _) in &self.pairs {
            if !seen.insert(k.as_str()) && !out.contains(k) {
                out.push(k.clone());
            }
        }
        out
    }
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// The recorder of this request (always present: the middleware inserts it).
pub(crate) fn recorder(req_ext: &axum::http::Extensions) -> Recorder {
    req_ext
        .get::<Recorder>()
        .cloned()
        .expect("record middleware installed")
}

/// Checks the body is form-encoded, as RFC 6749 requires of token requests.
pub(crate) fn require_form(headers: &HeaderMap) -> Result<(), String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else if ct.is_empty() {
        Err("missing Content-Type: send the parameters as application/x-www-form-urlencoded".into())
    } else {
        Err(format!(
            "Content-Type {ct:?} is not accepted: send the parameters as application/x-www-form-urlencoded"
        ))
    }
}

/// A client that proved who it is.
pub(crate) struct AuthenticatedClient {
    pub client: Client,
}

/// Client authentication at the token and revocation endpoints (RFC 6749 §2.3).
///
/// Exactly one method; Basic credentials are form-urlencoded before base64 (§2.3.1); the
/// method must be one the client registered; a secret in the URL query is refused.
pub(crate) fn authenticate_client(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Params,
    query: &Params,
    rec: &Recorder,
) -> Result<AuthenticatedClient, TokenFailure> {
    let invalid = |problem: ClientProblem, d: &str, basic: bool| TokenFailure::InvalidClient {
        problem,
        description: d.to_owned(),
        basic,
    };
    let query_allowed = shared.personality.profile().client_auth_in_query;
    if query.has("client_secret") {
        rec.finding(Finding::secret_in_query());
    }
    if query.has("client_secret") && !query_allowed {
        return Err(TokenFailure::InvalidRequest(
            "client_secret must not be sent in the URL query; send it in the form body or an Authorization: Basic header"
                .into(),
        ));
    }
    let basic = match headers.get(header::AUTHORIZATION) {
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| invalid(ClientProblem::Malformed, "malformed Authorization header", true))?;
            let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(invalid(
                    ClientProblem::Malformed,
                    &format!(
                        "Authorization scheme {scheme:?} is not accepted here; use Basic client credentials"
                    ),
                    true,
                ));
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    invalid(
                        ClientProblem::Malformed,
                        "Authorization: Basic value is not valid base64 of id:secret",
                        true,
                    )
                })?;
            let (id, secret) = decoded.split_once(':').ok_or_else(|| {
                invalid(
                    ClientProblem::Malformed,
                    "Authorization: Basic value lacks the ':' between id and secret",
                    true,
                )
            })?;
            let unescape = |s: &str| {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((unescape(id), unescape(secret)))
        }
        None => None,
    };
    let from_query = |name: &str| if query_allowed { query.get(name) } else { None };
    let body_id = body.get("client_id").or_else(|| from_query("client_id"));
    let body_secret = body.get("client_secret").or_else(|| from_query("client_secret"));
    if basic.is_some() && body_secret.is_some() {
        rec.finding(Finding::multiple_client_auth());
        return Err(TokenFailure::InvalidRequest(
            "the client authenticated twice (Authorization header and client_secret in the body); use exactly one method"
                .into(),
        ));
    }
    let (id, secret, method) = match (&basic, body_id) {
        (Some((id, secret)), other) => {
            if let Some(other) = other
                && other != id
            {
                return Err(TokenFailure::InvalidRequest(format!(
                    "client_id {other:?} in the body differs from {id:?} in the Authorization header"
                )));
            }
            (
                id.clone(),
                Some(secret.clone()),
                TokenAuthMethod::ClientSecretBasic,
            )
        }
        (None, Some(id)) => match body_secret {
            Some(s) => (
                id.to_owned(),
                Some(s.to_owned()),
                TokenAuthMethod::ClientSecretPost,
            ),
            None => (id.to_owned(), None, TokenAuthMethod::None),
        },
        (None, None) => {
            return Err(invalid(
                ClientProblem::Missing,
                "client authentication is required: send Authorization: Basic or client_id (and client_secret) in the body",
                false,
            ));
        }
    };
    let client_id = ClientId::new(id);
    rec.client(&client_id);
    let is_basic = method == TokenAuthMethod::ClientSecretBasic;
    let client = shared
        .store
        .lock()
        .unwrap()
        .clients
        .get(&client_id)
        .cloned()
        .ok_or_else(|| {
            invalid(
                ClientProblem::Unknown,
                &format!("unknown client {client_id}"),
                is_basic,
            )
        })?;
    let accepted = &shared.personality.profile().client_auth_methods;
    if !accepted.contains(&method) {
        let names: Vec<&str> = accepted.iter().map(|m| m.as_str()).collect();
        return Err(invalid(
            ClientProblem::MethodRefused,
            &format!(
                "this provider does not accept {}; it accepts: {}",
                method.as_str(),
                names.join(", ")
            ),
            is_basic,
        ));
    }
    if !client.auth_methods.contains(&method) {
        let registered: Vec<&str> = client.auth_methods.iter().map(|m| m.as_str()).collect();
        return Err(invalid(
            ClientProblem::MethodRefused,
            &format!(
                "client {client_id} may not authenticate with {}; registered: {}",
                method.as_str(),
                registered.join(", ")
            ),
            is_basic,
        ));
    }
    match (&client.secret, secret) {
        (Some(expected), Some(presented)) if expected.matches(&presented) => {}
        (Some(_), Some(_)) => {
            return Err(invalid(
                ClientProblem::WrongSecret,
                "client authentication failed: wrong client_secret",
                is_basic,
            ));
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(invalid(
                ClientProblem::WrongSecret,
                "client_secret is required for this client",
                is_basic,
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                ClientProblem::WrongSecret,
                "this is a public client: it has no secret and must not send one",
                is_basic,
            ));
        }
    }
    Ok(AuthenticatedClient { client })
}

/// Takes the next scripted outcome for this request if it is an infrastructure fault.
pub(crate) fn take_infrastructure_fault(
    shared: &Shared,
    endpoint: Endpoint,
    client: Option<&ClientId>,
) -> Option<Taken> {
    let mut script = shared.script.lock().unwrap();
    let first = script.peek(endpoint, client)?;
    if first.outcome.is_infrastructure_fault() {
        script.take(endpoint, client)
    } else {
        None
    }
}

/// Takes the next scripted outcome for a request that passed validation.
pub(crate) fn take_outcome(shared: &Shared, endpoint: Endpoint, client: Option<&ClientId>) -> Option<Taken> {
    shared.script.lock().unwrap().take(endpoint, client)
}

/// Sleeps for a scripted delay, cut short if the IdP shuts down.
pub(crate) async fn delay(shared: &Shared, taken: &Taken) {
    if !taken.delay.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(taken.delay) => {}
            _ = shared.shutdown.cancelled() => {}
        }
    }
}

/// Answers with an infrastructure fault.
pub(crate) async fn infrastructure_response(
    shared: &Shared,
    endpoint: Endpoint,
    taken: Taken,
    rec: &Recorder,
) -> Response {
    rec.outcome(taken.outcome.describe());
    delay(shared, &taken).await;
    match taken.outcome {
        Outcome::ServerError => shared.personality.server_error(endpoint),
        Outcome::Status {
            status,
            body,
            content_type,
        } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(
                header::CONTENT_TYPE,
                content_type.unwrap_or_else(|| "application/json".into()),
            )],
            body,
        )
            .into_response(),
        Outcome::Malformed => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"access_token\":\"mat_trunc",
        )
            .into_response(),
        Outcome::Stall => {
            rec.count_now();
            shared.shutdown.cancelled().await;
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "mock-idp shut down while this request was stalled",
            )
                .into_response()
        }
        other => unreachable!("{other:?} is not an infrastructure fault"),
    }
}
