//! The gateway's two cookies, `session` and `nonce` (the seed's names), read with bounds and
//! written with safe attributes.
//!
//! Both hold only a random id (32 bytes, base64url); nothing in them is trusted without the
//! server-side record. Reading is bounded (security checklist 59): a `Cookie` header over
//! 8 KiB or with more than 64 pairs is refused, a value that is not a well-formed id is
//! ignored, and a gateway cookie present twice with different values counts as absent. Writing:
//! `HttpOnly`, `SameSite=Lax`, `Path=/`, host-only (no `Domain`), `Secure` unless disabled.
//! Neither cookie is ever forwarded upstream.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

/// The session cookie.
pub const SESSION: &str = "session";
/// The login-flow cookie (browser binding).
pub const NONCE: &str = "nonce";

/// Whether `name` is one of the gateway's cookies (never forwarded upstream, never set by
/// the upstream).
pub fn is_gateway_cookie(name: &str) -> bool {
    name == SESSION || name == NONCE
}

const MAX_COOKIE_BYTES: usize = 8192;
const MAX_PAIRS: usize = 64;

/// The `Cookie` header is too big to read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the Cookie header is too large (over 8 KiB or 64 cookies)")]
pub struct TooLarge;

/// The gateway cookies of a request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GatewayCookies {
    /// The session id, if exactly one well-formed value was sent.
    pub session: Option<String>,
    /// The browser binding, likewise.
    pub nonce: Option<String>,
}

/// Whether `v` has the shape of a random id the gateway mints (32 bytes, base64url: 43
/// characters).
pub fn well_formed(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Reads the gateway cookies.
pub fn read(headers: &HeaderMap) -> Result<GatewayCookies, TooLarge> {
    let mut total = 0;
    let mut pairs = 0;
    let mut sessions: Vec<String> = Vec::new();
    let mut nonces: Vec<String> = Vec::new();
    for v in headers.get_all(header::COOKIE) {
        total += v.len();
        if total > MAX_COOKIE_BYTES {
            return Err(TooLarge);
        }
        let Ok(s) = v.to_str() else { continue };
        for c in Cookie::split_parse(s).filter_map(Result::ok) {
            pairs += 1;
            if pairs > MAX_PAIRS {
                return Err(TooLarge);
            }
            match c.name() {
                SESSION => sessions.push(c.value().to_owned()),
                NONCE => nonces.push(c.value().to_owned()),
                _ => {}
            }
        }
    }
    let one = |mut v: Vec<String>| {
        v.dedup();
        match v.as_slice() {
            [only] if well_formed(only) => v.pop(),
            _ => None,
        }
    };
    Ok(GatewayCookies {
        session: one(sessions),
        nonce: one(nonces),
    })
}

/// The `Cookie` header to forward upstream: the request's cookies minus the gateway's.
pub fn forwardable(headers: &HeaderMap) -> Option<HeaderValue> {
    let kept: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(';'))
        .map(str::trim)
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("").trim();
            !pair.is_empty() && name != SESSION && name != NONCE
        })
        .map(str::to_owned)
        .collect();
    if kept.is_empty() {
        None
    } else {
        HeaderValue::from_str(&kept.join("; ")).ok()
    }
}

/// `Set-Cookie` for a gateway cookie (`max_age` seconds; `None` for a browser-session cookie).
pub fn set(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> HeaderValue {
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build();
    if let Some(secs) = max_age {
        c.set_max_age(cookie::time::Duration::seconds(
            i64::try_from(secs).unwrap_or(i64::MAX),
        ));
    }
    HeaderValue::from_str(&c.to_string()).expect("cookie values are base64url")
}

/// `Set-Cookie` that deletes a gateway cookie.
pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", secure, Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn reads_one_well_formed_value_only() {
        let id = "a".repeat(43);
        assert_eq!(
            read(&headers(&format!("session={id}; app=1"))).unwrap().session,
            Some(id.clone())
        );
        assert_eq!(read(&headers("session=short")).unwrap().session, None);
        let other = "b".repeat(43);
        assert_eq!(
            read(&headers(&format!("session={id}; session={other}")))
                .unwrap()
                .session,
            None,
            "ambiguous"
        );
        assert_eq!(read(&headers(&"x=1; ".repeat(100))), Err(TooLarge));
        assert_eq!(
            read(&headers(&format!("big={}", "x".repeat(9000)))),
            Err(TooLarge)
        );
    }

    #[test]
    fn gateway_cookies_are_not_forwarded() {
        let h = headers(&format!("session={}; app=1; nonce=x; theme=dark", "a".repeat(43)));
        assert_eq!(forwardable(&h).unwrap(), "app=1; theme=dark");
        assert_eq!(forwardable(&headers("session=x")), None);
    }

    #[test]
    fn attributes_are_safe() {
        let s = set(SESSION, "v", true, None).to_str().unwrap().to_owned();
        for a in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(s.contains(a), "{s}");
        }
        assert!(!s.contains("Domain"));
        assert!(clear(NONCE, false).to_str().unwrap().contains("Max-Age=0"));
    }
}
