//! The script as the endpoints meet it: an infrastructure fault is taken before a request is
//! even looked at, any other outcome only by a request that passed validation; a scripted
//! delay sleeps (cut short at shutdown); a fault becomes its raw answer here, the same for
//! every endpoint.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::log::Recorder;
use crate::outcome::Outcome;
use crate::personality::TokenFailure;
use crate::script::{Request, ScriptEntry, Taken};
use crate::shared::Shared;
use crate::store::GrantProblem;
use crate::types::{ClientId, Endpoint};

/// Takes the next scripted outcome for this request if it is an infrastructure fault.
pub(super) fn take_infrastructure_fault(shared: &Shared, request: Request<'_>) -> Option<Taken> {
    shared
        .script
        .lock()
        .unwrap()
        .take_if(&request, |e| e.outcome.is_infrastructure_fault())
}

/// The next scripted outcome for a request that passed validation: taken from the script,
/// recorded in the request's log entry, and answered after its delay.
pub(super) async fn outcome(shared: &Shared, rec: &Recorder, request: Request<'_>) -> Option<Outcome> {
    outcome_if(shared, rec, request, |_| true).await
}

/// [`outcome`], only if the first matching entry is one `wanted` says to take now.
pub(super) async fn outcome_if(
    shared: &Shared,
    rec: &Recorder,
    request: Request<'_>,
    wanted: impl Fn(&ScriptEntry) -> bool,
) -> Option<Outcome> {
    let taken = shared.script.lock().unwrap().take_if(&request, wanted)?;
    rec.outcome(taken.outcome.describe());
    delay(shared, &taken).await;
    Some(taken.outcome)
}

/// The next scripted outcome where only a scripted OAuth error changes the answer (revocation,
/// introspection, device authorization): that error, or nothing to do.
pub(super) async fn scripted_error(
    shared: &Shared,
    rec: &Recorder,
    endpoint: Endpoint,
    client: Option<&ClientId>,
) -> Result<(), TokenFailure> {
    match outcome(shared, rec, Request::to(endpoint, client)).await {
        Some(scripted) => scripted_failure(scripted).map(|_| ()),
        None => Ok(()),
    }
}

/// A scripted outcome that is a refusal, as the failure every token-style endpoint answers
/// with (an OAuth error body, or the personality's "invalid grant"); any other outcome back.
pub(super) fn scripted_failure(scripted: Outcome) -> Result<Outcome, TokenFailure> {
    match scripted {
        Outcome::InvalidGrant => Err(TokenFailure::InvalidGrant(GrantProblem::ScriptedCode)),
        Outcome::OAuthError {
            status,
            error,
            description,
        } => Err(TokenFailure::Scripted {
            status,
            error,
            description,
        }),
        other => Ok(other),
    }
}

/// Sleeps for a scripted delay, cut short if the IdP shuts down.
async fn delay(shared: &Shared, taken: &Taken) {
    if !taken.delay.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(taken.delay) => {}
            _ = shared.shutdown.cancelled() => {}
        }
    }
}

/// Answers with an infrastructure fault.
pub(super) async fn infrastructure_response(
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
