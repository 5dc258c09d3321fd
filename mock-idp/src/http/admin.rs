//! The HTTP admin API under `/__admin/`: the Rust API over JSON, so a gateway written in any
//! language can be scripted. Documented with examples in the crate docs (`lib.rs`).
//!
//! Errors are JSON `{"error": "<code>", "message": "<what is wrong and what to do>"}` with
//! status 400 (bad input) or 404 (unknown id). Bodies are parsed strictly: an unknown field
//! is an error that names it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::clients::Client;
use crate::expect::Expectation;
use crate::keys::SigningAlg;
use crate::outcome::Outcome;
use crate::script::{ScriptEntry, Times};
use crate::settings::Settings;
use crate::shared::Shared;
use crate::types::{ClientId, Endpoint, GrantType, UserId};
use crate::users::{User, UserPatch};

type S = State<Arc<Shared>>;

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(index))
        .route("/config", get(config))
        .route("/settings", get(get_settings).put(put_settings))
        .route("/users", get(list_users).post(add_user))
        .route("/users/{id}", get(get_user).patch(patch_user).delete(delete_user))
        .route("/users/{id}/revoke", post(revoke_user))
        .route("/devices", get(list_devices))
        .route("/devices/{user_code}/approve", post(approve_device))
        .route("/devices/{user_code}/deny", post(deny_device))
        .route("/clients", get(list_clients).post(add_client))
        .route("/clients/{id}", delete(delete_client))
        .route(
            "/outcomes",
            get(list_outcomes).post(add_outcome).delete(clear_outcomes),
        )
        .route("/outcomes/{id}", delete(delete_outcome))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/clock/reset", post(reset_clock))
        .route("/keys", get(keys))
        .route("/keys/rotate", post(rotate_keys))
        .route("/keys/{kid}", delete(drop_key))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/findings", get(findings))
        .route("/expectations", get(list_expectations).post(add_expectation))
        .route("/verify", get(verify))
        .route("/reset", post(reset))
        .fallback(unknown_route)
}

struct AdminError(StatusCode, &'static str, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1, "message": self.2}))).into_response()
    }
}

fn bad(message: impl Into<String>) -> AdminError {
    AdminError(StatusCode::BAD_REQUEST, "bad_request", message.into())
}
fn not_found(message: impl Into<String>) -> AdminError {
    AdminError(StatusCode::NOT_FOUND, "not_found", message.into())
}

fn parse<T: DeserializeOwned>(body: &Bytes, what: &str) -> Result<T, AdminError> {
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid {what} JSON: {e}")))
}

/// An admin path or method that does not exist: said in the admin API's own JSON, not in the
/// personality's not-found shape (that is for the provider's URLs).
async fn unknown_route(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> AdminError {
    AdminError(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no admin route {method} {}: GET /__admin/ lists them", uri.path()),
    )
}

pub(super) async fn index() -> Json<Value> {
    Json(json!({
        "service": "gatecheck mock-idp admin API",
        "routes": [
            "GET /__admin/config", "GET|PUT /__admin/settings",
            "GET|POST /__admin/users", "GET|PATCH|DELETE /__admin/users/{id}", "POST /__admin/users/{id}/revoke",
            "GET /__admin/devices", "POST /__admin/devices/{user_code}/approve",
            "POST /__admin/devices/{user_code}/deny",
            "GET|POST /__admin/clients", "DELETE /__admin/clients/{id}",
            "GET|POST|DELETE /__admin/outcomes", "DELETE /__admin/outcomes/{id}",
            "GET /__admin/clock", "POST /__admin/clock/advance", "POST /__admin/clock/reset",
            "GET /__admin/keys", "POST /__admin/keys/rotate", "DELETE /__admin/keys/{kid}",
            "GET|DELETE /__admin/requests", "GET /__admin/findings",
            "GET|POST /__admin/expectations", "GET /__admin/verify", "POST /__admin/reset"
        ]
    }))
}

async fn config(State(s): S) -> Json<Value> {
    let profile = s.personality.profile();
    Json(json!({
        "provider": profile.id,
        "issuer": s.issuer,
        "base_url": s.base,
        "tls": s.tls,
        "discovery": s.discovery_document(&Default::default()),
        "paths": profile.paths,
        "default_client": s.default_client,
        "session_cookie": s.session_cookie_name(),
    }))
}

async fn get_settings(State(s): S) -> Json<Settings> {
    Json(s.settings())
}

async fn put_settings(State(s): S, body: Bytes) -> Result<Json<Settings>, AdminError> {
    let settings: Settings = parse(&body, "settings")?;
    *s.settings.write().unwrap() = settings.clone();
    Ok(Json(settings))
}

async fn list_users(State(s): S) -> Json<Vec<User>> {
    Json(s.users())
}

async fn add_user(State(s): S, body: Bytes) -> Result<(StatusCode, Json<User>), AdminError> {
    let user: User = parse(&body, "user")?;
    if user.id.as_str().is_empty() {
        return Err(bad("a user needs a non-empty id"));
    }
    s.add_user(user.clone());
    Ok((StatusCode::CREATED, Json(user)))
}

async fn get_user(State(s): S, Path(id): Path<String>) -> Result<Json<User>, AdminError> {
    let id = UserId::new(id);
    s.store
        .lock()
        .unwrap()
        .users
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| not_found(format!("no user {id}")))
}

async fn patch_user(State(s): S, Path(id): Path<String>, body: Bytes) -> Result<Json<User>, AdminError> {
    let patch: UserPatch = parse(&body, "user patch")?;
    s.update_user(&UserId::new(id), &patch)
        .map(Json)
        .map_err(|e| not_found(e.to_string()))
}

async fn delete_user(State(s): S, Path(id): Path<String>) -> Result<StatusCode, AdminError> {
    if s.remove_user(&UserId::new(&id)) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(format!("no user {id}")))
    }
}

async fn revoke_user(State(s): S, Path(id): Path<String>) -> Json<Value> {
    Json(json!({"revoked_grants": s.revoke_user(&UserId::new(id))}))
}

/// Device authorizations waiting for a person.
async fn list_devices(State(s): S) -> Json<Value> {
    let waiting: Vec<Value> = s
        .waiting_devices()
        .into_iter()
        .map(|(code, client)| json!({"user_code": code, "client_id": client}))
        .collect();
    Json(json!(waiting))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceApproval {
    user: String,
}

/// Approves a device as a user: `{"user": "alice"}`.
async fn approve_device(
    State(s): S,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let approval: DeviceApproval = parse(&body, "device approval")?;
    s.decide_device(&code, Some(UserId::new(approval.user)))
        .map_err(bad)?;
    Ok(Json(json!({"approved": code})))
}

async fn deny_device(State(s): S, Path(code): Path<String>) -> Result<Json<Value>, AdminError> {
    s.decide_device(&code, None).map_err(bad)?;
    Ok(Json(json!({"denied": code})))
}

/// Clients as registered; secrets serialize as `***`.
async fn list_clients(State(s): S) -> Json<Vec<Client>> {
    Json(s.clients())
}

async fn add_client(State(s): S, body: Bytes) -> Result<(StatusCode, Json<Value>), AdminError> {
    let client: Client = parse(&body, "client")?;
    let id = client.id.clone();
    s.add_client(client).map_err(|e| bad(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

async fn delete_client(State(s): S, Path(id): Path<String>) -> Result<StatusCode, AdminError> {
    if s.remove_client(&ClientId::new(&id)) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(format!("no client {id}")))
    }
}

/// `POST /__admin/outcomes` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeRequest {
    endpoint: Endpoint,
    outcome: Outcome,
    #[serde(default)]
    client_id: Option<ClientId>,
    /// Only token requests of this grant (`"device_code"`, `"password"`, …).
    #[serde(default)]
    grant: Option<GrantType>,
    /// A number, or `"always"`. Default 1.
    #[serde(default)]
    times: Option<Value>,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    name: Option<String>,
}

async fn list_outcomes(State(s): S) -> Json<Value> {
    Json(json!(s.script_entries()))
}

async fn add_outcome(State(s): S, body: Bytes) -> Result<(StatusCode, Json<Value>), AdminError> {
    let req: OutcomeRequest = parse(&body, "outcome")?;
    let times = match &req.times {
        None => Times::N(1),
        Some(Value::String(a)) if a == "always" => Times::Always,
        Some(Value::Number(n)) => Times::N(
            n.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("times must be a positive integer or \"always\""))?,
        ),
        Some(other) => {
            return Err(bad(format!(
                "times must be a positive integer or \"always\", not {other}"
            )));
        }
    };
    let id = s
        .mount(ScriptEntry {
            id: 0,
            endpoint: req.endpoint,
            client_id: req.client_id,
            grant: req.grant,
            times,
            used: 0,
            delay: Duration::from_millis(req.delay_ms),
            name: req.name,
            outcome: req.outcome,
        })
        .map_err(|e| bad(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

async fn clear_outcomes(State(s): S) -> StatusCode {
    s.clear_script();
    StatusCode::NO_CONTENT
}

async fn delete_outcome(State(s): S, Path(id): Path<u64>) -> Result<StatusCode, AdminError> {
    if s.script.lock().unwrap().remove(id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(format!("no script entry {id}")))
    }
}

async fn clock(State(s): S) -> Json<Value> {
    Json(json!({"now": s.clock.unix(), "offset_seconds": s.clock.offset().as_secs()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    seconds: Option<u64>,
    /// Humantime, e.g. "1h 30m".
    #[serde(default, with = "humantime_serde")]
    by: Option<Duration>,
}

async fn advance_clock(State(s): S, body: Bytes) -> Result<Json<Value>, AdminError> {
    let a: Advance = parse(&body, "clock advance")?;
    let by = match (a.seconds, a.by) {
        (Some(secs), None) => Duration::from_secs(secs),
        (None, Some(d)) => d,
        _ => return Err(bad("send exactly one of {\"seconds\": 3600} or {\"by\": \"1h\"}")),
    };
    s.clock.advance(by);
    Ok(Json(
        json!({"now": s.clock.unix(), "offset_seconds": s.clock.offset().as_secs()}),
    ))
}

async fn reset_clock(State(s): S) -> Json<Value> {
    s.clock.reset();
    Json(json!({"now": s.clock.unix(), "offset_seconds": 0}))
}

async fn keys(State(s): S) -> Json<Value> {
    let keys = s.keys.read().unwrap();
    Json(json!({"active": keys.active().kid(), "jwks": keys.jwks()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotate {
    #[serde(default)]
    alg: Option<String>,
    #[serde(default = "yes")]
    keep_old: bool,
}
fn yes() -> bool {
    true
}

async fn rotate_keys(State(s): S, body: Bytes) -> Result<Json<Value>, AdminError> {
    let r: Rotate = if body.is_empty() {
        Rotate {
            alg: None,
            keep_old: true,
        }
    } else {
        parse(&body, "rotate")?
    };
    let alg = match r.alg.as_deref() {
        None => s.active_alg(),
        Some(a) => SigningAlg::parse(a)
            .ok_or_else(|| bad(format!("alg {a:?} is not supported; use RS256 or ES256")))?,
    };
    let kid = s.rotate_keys(alg, r.keep_old);
    Ok(Json(
        json!({"active": kid, "jwks": s.keys.read().unwrap().jwks()}),
    ))
}

async fn drop_key(State(s): S, Path(kid): Path<String>) -> Result<StatusCode, AdminError> {
    if s.keys.write().unwrap().drop_key(&kid) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(format!(
            "no published key {kid} other than the active one"
        )))
    }
}

#[derive(Deserialize)]
struct RequestFilter {
    endpoint: Option<String>,
}

async fn requests(State(s): S, Query(f): Query<RequestFilter>) -> Result<Json<Value>, AdminError> {
    let endpoint = match f.endpoint.as_deref() {
        None => None,
        Some(name) => {
            Some(Endpoint::from_name(name).ok_or_else(|| bad(format!("unknown endpoint {name:?}")))?)
        }
    };
    let list: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|r| endpoint.is_none() || r.endpoint == endpoint)
        .collect();
    Ok(Json(json!(list)))
}

async fn clear_requests(State(s): S) -> StatusCode {
    s.clear_requests();
    StatusCode::NO_CONTENT
}

async fn findings(State(s): S) -> Json<Value> {
    let list: Vec<Value> = s
        .findings()
        .into_iter()
        .map(|(seq, f)| json!({"request": seq, "code": f.code, "severity": f.severity, "message": f.message, "fix": f.fix}))
        .collect();
    Json(json!(list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationRequest {
    endpoint: Endpoint,
    #[serde(default)]
    client_id: Option<ClientId>,
    #[serde(default)]
    times: Option<u64>,
    #[serde(default)]
    min: Option<u64>,
    #[serde(default)]
    max: Option<u64>,
}

async fn list_expectations(State(s): S) -> Json<Vec<Expectation>> {
    Json(s.expectations.lock().unwrap().clone())
}

async fn add_expectation(State(s): S, body: Bytes) -> Result<StatusCode, AdminError> {
    let e: ExpectationRequest = parse(&body, "expectation")?;
    let (min, max) = match (e.times, e.min, e.max) {
        (Some(n), None, None) => (n, Some(n)),
        (None, min, max) if min.is_some() || max.is_some() => (min.unwrap_or(0), max),
        _ => {
            return Err(bad(
                "send either {\"times\": n} or {\"min\": a, \"max\": b} (one of them may be omitted)",
            ));
        }
    };
    if max.is_some_and(|m| m < min) {
        return Err(bad("max is below min"));
    }
    s.add_expectation(Expectation {
        endpoint: e.endpoint,
        client_id: e.client_id,
        min,
        max,
    });
    Ok(StatusCode::CREATED)
}

async fn verify(State(s): S) -> Response {
    match s.verify() {
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err(report) => (
            StatusCode::CONFLICT,
            Json(json!({"ok": false, "report": report.to_string(), "failures": report.failures})),
        )
            .into_response(),
    }
}

async fn reset(State(s): S) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}
