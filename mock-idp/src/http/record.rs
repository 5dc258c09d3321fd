//! The recording middleware: every request outside `/__admin` and the inspector opens a
//! record in the request log, which the handler annotates through the [`Recorder`] it finds
//! in the request's extensions (`Extension<Recorder>`), and which is closed with the status.
//! Token answers are read back to keep the JWTs the IdP issued, decoded, for the inspector.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::inspector;
use crate::log::{DecodedJwt, Recorder, RequestLog};
use crate::shared::Shared;
use crate::types::Endpoint;

/// Opens a log record for every non-admin request and closes it with the status.
pub(super) async fn record(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
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
                && let Some(decoded) = DecodedJwt::decode(name, t)
            {
                rec.issued(decoded);
            }
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
