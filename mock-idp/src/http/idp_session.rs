//! The IdP's own login session as the browser carries it: one cookie per instance, named
//! after it (instances on one host must not collide), `HttpOnly`, `SameSite=Lax`, `Secure`
//! when the IdP serves https. The authorization endpoint reads and sets it; RP-initiated
//! logout clears it.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use cookie::{Cookie, CookieBuilder, SameSite};

use crate::shared::Shared;
use crate::store::IdpSession;

/// The value of the session cookie the request carries.
fn cookie_value(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let name = shared.session_cookie_name();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The IdP session behind the request's cookie, if it is still valid (IdP clock).
pub(super) fn current(shared: &Shared, headers: &HeaderMap) -> Option<IdpSession> {
    let id = cookie_value(shared, headers)?;
    let now = shared.clock.now();
    shared.store.lock().unwrap().session(&id, now).cloned()
}

fn cookie(shared: &Shared, value: String) -> CookieBuilder<'static> {
    Cookie::build((shared.session_cookie_name(), value))
        .path("/")
        .http_only(true)
        .secure(shared.tls)
        .same_site(SameSite::Lax)
}

/// Sets the cookie of a new IdP session on `resp`.
pub(super) fn set(shared: &Shared, resp: &mut Response, id: &str) {
    if let Ok(v) = HeaderValue::from_str(&cookie(shared, id.to_owned()).build().to_string()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Ends the IdP session behind the request's cookie (end-session endpoint) and returns the
/// `Set-Cookie` that clears it.
pub(super) fn end(shared: &Shared, headers: &HeaderMap) -> Option<HeaderValue> {
    let id = cookie_value(shared, headers)?;
    shared.store.lock().unwrap().sessions.remove(&id);
    let clear = cookie(shared, String::new())
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&clear.to_string()).ok()
}
