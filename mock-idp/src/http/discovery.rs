//! Discovery (`/.well-known/openid-configuration`) and the JWKS.

use std::sync::Arc;

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::scripted::{infrastructure_response, outcome, take_infrastructure_fault};
use crate::log::Recorder;
use crate::outcome::Outcome;
use crate::script::Request;
use crate::shared::Shared;
use crate::types::Endpoint;

/// `GET /.well-known/openid-configuration`.
pub(super) async fn discovery(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    path: Option<Path<HashMap<String, String>>>,
) -> Response {
    rec.endpoint(Endpoint::Discovery);
    if let Some(fault) = take_infrastructure_fault(&shared, Request::to(Endpoint::Discovery, None)) {
        return infrastructure_response(&shared, Endpoint::Discovery, fault, &rec).await;
    }
    let params = path.map(|Path(p)| p).unwrap_or_default();
    let Some(mut doc) = shared.discovery_document(&params) else {
        return (
            StatusCode::NOT_FOUND,
            "this provider publishes no discovery document",
        )
            .into_response();
    };
    // The document names the algorithm the IdP really signs with (a personality's default
    // list says RS256; a test that switches the keys to ES256 gets an honest document).
    let active_alg = shared.keys.read().unwrap().active().alg().as_str();
    if let Some(algs) = doc
        .get_mut("id_token_signing_alg_values_supported")
        .and_then(Value::as_array_mut)
        && !algs.iter().any(|a| a == active_alg)
    {
        algs.push(json!(active_alg));
    }
    if let Some(advertise) = shared.settings.read().unwrap().advertise_iss
        && let Some(o) = doc.as_object_mut()
    {
        if advertise {
            o.insert(
                "authorization_response_iss_parameter_supported".into(),
                json!(true),
            );
        } else {
            o.remove("authorization_response_iss_parameter_supported");
        }
    }
    if outcome(&shared, &rec, Request::to(Endpoint::Discovery, None)).await
        == Some(Outcome::DiscoveryIssuerMismatch)
    {
        let real = doc["issuer"].as_str().unwrap_or(&shared.issuer).to_owned();
        doc["issuer"] = json!(format!("{real}INVALID"));
    }
    cacheable_json(doc)
}

/// `GET /jwks`.
pub(super) async fn jwks(State(shared): State<Arc<Shared>>, Extension(rec): Extension<Recorder>) -> Response {
    rec.endpoint(Endpoint::Jwks);
    if let Some(fault) = take_infrastructure_fault(&shared, Request::to(Endpoint::Jwks, None)) {
        return infrastructure_response(&shared, Endpoint::Jwks, fault, &rec).await;
    }
    // Any outcome that is not a fault only delays the key set.
    let _ = outcome(&shared, &rec, Request::to(Endpoint::Jwks, None)).await;
    let doc = shared.keys.read().unwrap().jwks();
    cacheable_json(doc)
}

fn cacheable_json(doc: Value) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        doc.to_string(),
    )
        .into_response()
}

/// The attacker's key set named by the `foreign_jku` fault: served so that a gateway which
/// wrongly follows `jku` really is fooled, and recorded so the test can see that it did.
pub(super) async fn attacker_jwks(State(shared): State<Arc<Shared>>) -> Response {
    let stray = shared.keys.read().unwrap().stray();
    cacheable_json(serde_json::json!({ "keys": [stray.jwk()] }))
}
