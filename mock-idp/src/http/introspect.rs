//! RFC 7662 token introspection (the OIDC and generic personalities).
//!
//! The caller authenticates as at the token endpoint (§2.1: "the protected resource MUST be
//! authenticated"); an unauthenticated caller gets `401 invalid_client`. An active access
//! token is described (`active`, `scope`, `client_id`, `sub`, `exp`, `iss`, `token_type`,
//! `aud`); anything else — unknown, expired, revoked, a refresh token — is `{"active": false}`
//! and nothing more (§2.2: an inactive token's answer reveals nothing).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use super::client_auth::authenticate_client;
use super::params::{Params, check_form_request};
use super::scripted::{infrastructure_response, scripted_error, take_infrastructure_fault};
use crate::log::Recorder;
use crate::personality::TokenFailure;
use crate::script::Request;
use crate::shared::Shared;
use crate::types::{ClientId, Endpoint};

/// `POST /introspect`.
pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rec.endpoint(Endpoint::Introspection);
    let form = Params::parse(&body);
    rec.params(form.pairs());
    let hint = form.get("client_id").map(ClientId::new);
    if let Some(fault) =
        take_infrastructure_fault(&shared, Request::to(Endpoint::Introspection, hint.as_ref()))
    {
        return infrastructure_response(&shared, Endpoint::Introspection, fault, &rec).await;
    }
    let result = async {
        check_form_request(&headers, &form)?;
        let client = authenticate_client(&shared, &headers, &form, &Params::default(), &rec)?.client;
        let token = form
            .get("token")
            .ok_or_else(|| TokenFailure::InvalidRequest("token is missing (RFC 7662 §2.1)".into()))?;
        scripted_error(&shared, &rec, Endpoint::Introspection, Some(&client.id)).await?;
        let now = shared.clock.now();
        let store = shared.store.lock().unwrap();
        let Ok(info) = store.check_access_token(token, now) else {
            return Ok(Json(json!({"active": false})).into_response());
        };
        let sub = if info.grant.is_for_the_client() {
            // A client_credentials token stands for the client.
            info.grant.client.to_string()
        } else {
            match store.active_user(&info.grant.user) {
                Some(user) => shared.personality.subject_for_client(user, &info.grant.client),
                // A disabled or deleted user's token is no longer active (as at userinfo).
                None => return Ok(Json(json!({"active": false})).into_response()),
            }
        };
        let exp = info
            .expires_at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(Json(json!({
            "active": true,
            "scope": info.scopes.join(" "),
            "client_id": info.grant.client.to_string(),
            "sub": sub,
            "aud": info.grant.client.to_string(),
            "iss": shared.issuer,
            "exp": exp,
            "token_type": "Bearer",
        }))
        .into_response())
    }
    .await;
    result.unwrap_or_else(|failure: TokenFailure| {
        rec.error(failure.code().to_owned());
        shared.personality.token_error(&failure, &headers)
    })
}
