//! RFC 7009 token revocation.
//!
//! The client authenticates as at the token endpoint. Revoking a refresh token revokes its
//! grant and so every access token issued for it; revoking an access token revokes only that
//! token. Unknown tokens, and tokens of other clients, get the same `200 OK` (§2.2): the
//! answer must not reveal whether a token exists.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::client_auth::authenticate_client;
use super::params::{Params, check_form_request};
use super::scripted::{infrastructure_response, scripted_error, take_infrastructure_fault};
use crate::log::Recorder;
use crate::personality::TokenFailure;
use crate::script::Request;
use crate::shared::Shared;
use crate::types::{ClientId, Endpoint};

/// `POST /revoke`.
pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    rec.endpoint(Endpoint::Revocation);
    let query = Params::from_query(uri.query());
    let form = Params::parse(&body);
    rec.params(form.pairs());
    let hint = form.get("client_id").map(ClientId::new);
    if let Some(fault) = take_infrastructure_fault(&shared, Request::to(Endpoint::Revocation, hint.as_ref()))
    {
        return infrastructure_response(&shared, Endpoint::Revocation, fault, &rec).await;
    }
    let result = async {
        check_form_request(&headers, &form)?;
        // Providers that revoke by token alone (Google) still check credentials when sent.
        let authenticate = shared.personality.profile().revocation_client_auth
            || headers.contains_key(header::AUTHORIZATION)
            || form.has("client_secret");
        let client = if authenticate {
            Some(authenticate_client(&shared, &headers, &form, &query, &rec)?.client)
        } else {
            None
        };
        let token = form
            .get("token")
            .or_else(|| query.get("token"))
            .ok_or_else(|| TokenFailure::InvalidRequest("token is missing".into()))?;
        match form.get("token_type_hint") {
            None | Some("access_token" | "refresh_token") => {}
            Some(other) => {
                return Err(TokenFailure::Scripted {
                    status: 400,
                    error: "unsupported_token_type".into(),
                    description: Some(format!(
                        "token_type_hint {other:?} is not supported; use access_token or refresh_token"
                    )),
                });
            }
        }
        let client_id = client.as_ref().map(|c| c.id.clone()).or(hint);
        scripted_error(&shared, &rec, Endpoint::Revocation, client_id.as_ref()).await?;
        shared
            .store
            .lock()
            .unwrap()
            .revoke_token(token, client.as_ref().map(|c| &c.id));
        Ok(StatusCode::OK.into_response())
    }
    .await;
    result.unwrap_or_else(|failure| {
        rec.error(failure.code().to_owned());
        shared.personality.token_error(&failure, &headers)
    })
}
