//! The App Users admin API, on its own listener, behind a bearer token:
//!
//! ```text
//! GET    /app_users                    users with last access, endpoints and live sessions
//! DELETE /app_users/{key}/sessions     revoke every session of a user (next request logs in again)
//! GET    /mau[?month=YYYY-MM]          monthly active users (IdP user id, across endpoints)
//! POST   /clock/advance {"seconds": n} move the gateway's clock (only with admin.test_clock)
//! GET    /healthz                      liveness (no token needed)
//! ```

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::runtime::Shared;
use crate::types::fingerprint;

type S = State<Arc<Shared>>;

/// The admin router.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/app_users", get(users))
        .route("/app_users/{key}/sessions", delete(revoke))
        .route("/mau", get(mau))
        .route("/clock/advance", post(advance))
        .layer(middleware::from_fn_with_state(shared.clone(), auth))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(shared)
}

async fn auth(State(s): S, req: Request, next: Next) -> Response {
    let rt = s.runtime();
    let Some(admin) = &rt.config.admin else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .unwrap_or("");
    if !admin.token.matches(presented) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({"error": "a valid admin token is required"})),
        )
            .into_response();
    }
    next.run(req).await
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"error": e.to_string()})),
    )
        .into_response()
}

async fn users(State(s): S) -> Response {
    let list = match s.store.users().await {
        Ok(l) => l,
        Err(e) => return unavailable(e),
    };
    let mut out = Vec::new();
    for u in list {
        let sessions = s.store.user_sessions(&u.key).await.unwrap_or_default();
        out.push(json!({
            "key": u.key, "provider": u.provider, "user_id": u.user_id, "name": u.name, "email": u.email,
            "first_seen": u.first_seen, "last_access": u.last_seen, "endpoints": u.endpoints,
            "sessions": sessions.iter().map(|x| json!({
                "endpoint": x.endpoint, "created_at": x.created_at, "last_seen": x.last_seen,
                "token": fingerprint(x.access_token.expose()),
            })).collect::<Vec<Value>>(),
        }));
    }
    Json(Value::Array(out)).into_response()
}

async fn revoke(State(s): S, Path(key): Path<String>) -> Response {
    match s.end_user_sessions(&key).await {
        Ok(n) => Json(json!({"user": key, "revoked_sessions": n})).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct MauQuery {
    month: Option<String>,
}

async fn mau(State(s): S, Query(q): Query<MauQuery>) -> Response {
    let month = q
        .month
        .unwrap_or_else(|| crate::app_users::month_of(s.clock.unix()));
    let ok = month.len() == 7
        && month.as_bytes()[4] == b'-'
        && month
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 4 || b.is_ascii_digit());
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "month must look like 2026-11"})),
        )
            .into_response();
    }
    match s.store.mau(&month).await {
        Ok(n) => Json(json!({"month": month, "monthly_active_users": n})).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: u64,
}

async fn advance(State(s): S, body: axum::body::Bytes) -> Response {
    let enabled = s.runtime().config.admin.as_ref().is_some_and(|a| a.test_clock);
    if !enabled {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "the test clock is off (admin.test_clock = false)"})),
        )
            .into_response();
    }
    match serde_json::from_slice::<Advance>(&body) {
        Ok(a) => {
            s.clock.advance(Duration::from_secs(a.seconds));
            Json(json!({"offset_seconds": s.clock.offset().as_secs()})).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("send {{\"seconds\": n}}: {e}")})),
        )
            .into_response(),
    }
}
