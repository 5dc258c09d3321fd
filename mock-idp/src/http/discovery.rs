//! Discovery (`/.well-known/openid-configuration`) and the JWKS.

use std::sync::Arc;

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{Extensions, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{infrastructure_response, recorder, take_infrastructure_fault, take_outcome};
use crate::outcome::Outcome;
use crate::shared::Shared;
use crate::types::Endpoint;

/// `GET /.well-known/openid-configuration`.
pub(crate) async fn discovery(
    State(shared): State<Arc<Shared>>,
    ext: Extensions,
    path: Option<Path<HashMap<String, String>>>,
) -> Response {
    let rec = recorder(&ext);
    rec.endpoint(Endpoint::Discovery);
    if let Some(fault) = take_infrastructure_fault(&shared, Endpoint::Discovery, None) {
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
    if let Some(taken) = take_outcome(&shared, Endpoint::Discovery, None) {
        rec.outcome(taken.outcome.describe());
        super::delay(&shared, &taken).await;
        if taken.outcome == Outcome::DiscoveryIssuerMismatch {
            let real = doc["issuer"].as_str().unwrap_or(&shared.issuer).to_owned();
            doc["issuer"] = json!(format!("{real}INVALID"));
        }
    }
    cacheable_json(doc)
}

/// `GET /jwks`.
pub(crate) async fn jwks(State(shared): State<Arc<Shared>>, ext: Extensions) -> Response {
    let rec = recorder(&ext);
    rec.endpoint(Endpoint::Jwks);
    if let Some(fault) = take_infrastructure_fault(&shared, Endpoint::Jwks, None) {
        return infrastructure_response(&shared, Endpoint::Jwks, fault, &rec).await;
    }
    if let Some(taken) = take_outcome(&shared, Endpoint::Jwks, None) {
        rec.outcome(taken.outcome.describe());
        super::delay(&shared, &taken).await;
    }
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
pub(crate) async fn attacker_jwks(State(shared): State<Arc<Shared>>) -> Response {
    let stray = shared.keys.read().unwrap().stray();
    cacheable_json(serde_json::json!({ "keys": [stray.jwk()] }))
}
