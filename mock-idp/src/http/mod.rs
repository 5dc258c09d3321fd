//! The HTTP face of the IdP: one router per instance, built from its personality's paths,
//! behind the request-recording middleware.
//!
//! One file per endpoint, axum style: a handler reads validate → act → respond. What they
//! share are siblings, never this file: `params` (strict parsing), `client_auth`, `scripted`
//! (the script at request time), `idp_session` (the IdP's cookie), `pages` (HTML) and
//! `record` (the request log's middleware). This file only assembles the router.

mod admin;
mod authorize;
mod client_auth;
mod device;
mod discovery;
mod end_session;
mod idp_session;
mod inspector;
mod introspect;
mod not_found;
mod pages;
mod params;
mod record;
mod resource;
mod revoke;
mod scripted;
mod token;
mod tokeninfo;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

use crate::shared::Shared;

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
        .route(&paths.token, token.clone())
        .route(&paths.userinfo, resource::route("userinfo", true))
        .route(authorize::DECISION_PATH, post(authorize::decision));
    for alias in &profile.token_path_aliases {
        r = r.route(alias, token.clone());
    }
    for res in &profile.resources {
        r = r.route(&res.path, resource::route(res.name, res.post));
        if profile.resources_with_trailing_slash {
            r = r.route(&format!("{}/", res.path), resource::route(res.name, res.post));
        }
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
    if let Some(p) = &paths.device_authorization {
        r = r.route(p, post(device::start));
    }
    if let Some(p) = &paths.device_verification {
        r = r.route(p, get(device::page).post(device::decide));
    }
    if let Some(p) = &paths.introspection {
        r = r.route(p, post(introspect::handle));
    }
    if let Some(p) = &profile.token_info {
        r = r.route(p, get(tokeninfo::handle).post(tokeninfo::handle));
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
        .route("/__inspector/device", post(inspector::device))
        .route("/__inspector/clear", post(inspector::clear));
    r.route("/__admin/", get(admin::index))
        .nest("/__admin", admin::router())
        .fallback(not_found::handle)
        .layer(middleware::from_fn_with_state(shared.clone(), record::record))
        .with_state(shared)
}
