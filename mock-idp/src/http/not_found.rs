//! Paths no endpoint serves: answered by the personality in its provider's own shape
//! ([`crate::personality::Hooks::not_found`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use crate::shared::Shared;

pub(super) async fn handle(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    shared.personality.not_found(uri.path())
}
