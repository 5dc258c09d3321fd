//! Request and response headers between the client and the upstream.
//!
//! * Identity headers (`ngrok-auth-*`) are set only by the gateway: every client-sent copy is
//!   removed first, whatever its case or `_`/`-` spelling, on every route including OPTIONS
//!   passthrough (security checklist 47). So are the identity headers of other well-known
//!   gateways (`X-Forwarded-User/-Email`, `X-Auth-Request-*`, `Remote-User`, `OIDC_CLAIM_*`…),
//!   which an upstream may still trust.
//! * Hop-by-hop headers, and any header a `Connection` list names, are dropped — before the
//!   gateway adds its own, so a `Connection: ngrok-auth-user-email` cannot delete them (49).
//! * `X-Forwarded-For/-Proto/-Host` are written by the gateway, not trusted from the client;
//!   headers that let a client name another path (`X-Original-URL`, `X-Rewrite-URL`,
//!   `X-Forwarded-Uri`…) are removed (48).

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The identity headers the gateway sets.
pub const USER_ID: &str = "ngrok-auth-user-id";
/// Full name.
pub const USER_NAME: &str = "ngrok-auth-user-name";
/// Email.
pub const USER_EMAIL: &str = "ngrok-auth-user-email";
/// OAuth access token (not with managed apps).
pub const ACCESS_TOKEN: &str = "ngrok-auth-oauth-access-token";
/// OAuth refresh token (not with managed apps).
pub const REFRESH_TOKEN: &str = "ngrok-auth-oauth-refresh-token";

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
];

const CLIENT_CONTROLLED_ROUTING: &[&str] = &[
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-uri",
    "x-forwarded-path",
    "x-forwarded-prefix",
    "x-original-url",
    "x-original-uri",
    "x-rewrite-url",
    "x-real-ip",
    "forwarded",
];

/// `X_Forwarded_Email` → `x-forwarded-email`.
fn normalized(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Whether a client-sent header would impersonate a gateway identity header.
pub fn is_identity(name: &str) -> bool {
    let n = normalized(name);
    n.starts_with("ngrok-auth-")
        || OTHER_GATEWAYS_IDENTITY.contains(&n.as_str())
        || n.starts_with("x-auth-request-")
        || n.starts_with("oidc-claim-")
        || n.starts_with("x-forwarded-access-token")
}

/// Identity headers other login gateways set (oauth2-proxy, mod_auth_openidc, Pomerium,
/// Authelia…). An upstream that once sat behind one of them may still trust them, so a
/// client must not be able to send them through this gateway either (checklist 47).
const OTHER_GATEWAYS_IDENTITY: &[&str] = &[
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-preferred-username",
    "remote-user",
    "x-remote-user",
    "remote-email",
    "remote-groups",
    "remote-name",
    "x-pomerium-jwt-assertion",
    "x-pomerium-claim-email",
];

/// Whether a request asks for a WebSocket (the only upgrade the gateway forwards): `GET` with
/// `Upgrade: websocket` and `Connection: upgrade`. Any other upgrade (`h2c`, say) would hand
/// the client a raw connection to the application, past every check the gateway makes.
pub fn is_websocket_upgrade(method: &axum::http::Method, h: &HeaderMap) -> bool {
    method == axum::http::Method::GET
        && h.get_all(axum::http::header::UPGRADE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("websocket")))
        && h.get_all(axum::http::header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
}

/// Cleans request headers for the upstream. `keep_upgrade` keeps `Connection`/`Upgrade` for
/// a WebSocket handshake.
pub fn clean_request(headers: &HeaderMap, keep_upgrade: bool, keep_forged: bool) -> HeaderMap {
    let named_by_connection: Vec<String> = headers
        .get_all(axum::http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| normalized(s.trim()))
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = normalized(name.as_str());
        let hop = HOP_BY_HOP.contains(&n.as_str()) || named_by_connection.contains(&n);
        let upgrade_pair = keep_upgrade && (n == "connection" || n == "upgrade");
        if (is_identity(&n) && !keep_forged)
            || CLIENT_CONTROLLED_ROUTING.contains(&n.as_str())
            || n == "cookie"
            || n == "host"
        {
            continue;
        }
        if hop && !upgrade_pair {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    if keep_upgrade {
        out.insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("upgrade"),
        );
    }
    out
}

/// Cleans response headers for the client (hop-by-hop only; upgrades keep theirs).
pub fn clean_response(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<String> = headers
        .get_all(axum::http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| normalized(s.trim()))
        .collect();
    let drop: Vec<HeaderName> = headers
        .keys()
        .filter(|k| {
            let n = k.as_str();
            let pair = upgrade && (n == "connection" || n == "upgrade");
            !pair && (HOP_BY_HOP.contains(&n) || named.iter().any(|x| x == n))
        })
        .cloned()
        .collect();
    for k in drop {
        headers.remove(k);
    }
    // The gateway's cookies are not the upstream's to set: a `Set-Cookie` for `session` or
    // `nonce` would overwrite the gateway's own and break the login.
    let set_cookies: Vec<HeaderValue> = headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter(|v| {
            let name = v
                .to_str()
                .ok()
                .and_then(|s| s.split_once('=').map(|(n, _)| n.trim().to_owned()))
                .unwrap_or_default();
            if crate::cookies::is_gateway_cookie(&name) {
                tracing::warn!("dropped the upstream's Set-Cookie for {name}: that name is the gateway's");
                false
            } else {
                true
            }
        })
        .cloned()
        .collect();
    headers.remove(axum::http::header::SET_COOKIE);
    for v in set_cookies {
        headers.append(axum::http::header::SET_COOKIE, v);
    }
}

/// Adds `X-Forwarded-*` as the gateway sees the request.
pub fn add_forwarded(headers: &mut HeaderMap, client: IpAddr, proto: &str, host: &str) {
    if let Ok(v) = HeaderValue::from_str(&client.to_string()) {
        headers.insert("x-forwarded-for", v);
    }
    if let Ok(v) = HeaderValue::from_str(proto) {
        headers.insert("x-forwarded-proto", v);
    }
    if let Ok(v) = HeaderValue::from_str(host) {
        headers.insert("x-forwarded-host", v);
    }
}

/// Sets an identity header; values that cannot be a header (control characters) are dropped.
pub fn set_identity(headers: &mut HeaderMap, name: &'static str, value: Option<&str>) {
    if let Some(v) = value
        && let Ok(hv) = HeaderValue::from_bytes(v.as_bytes())
    {
        headers.insert(name, hv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_identity_headers_go_in_every_spelling() {
        let mut h = HeaderMap::new();
        for name in [
            "ngrok-auth-user-email",
            "NGROK-AUTH-USER-ID",
            "ngrok_auth_user_name",
            "Ngrok-Auth_Oauth-Access-Token",
        ] {
            h.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static("forged"),
            );
        }
        h.append("ngrok-auth-user-email", HeaderValue::from_static("second"));
        h.insert("x-app", HeaderValue::from_static("kept"));
        let out = clean_request(&h, false, false);
        assert_eq!(out.len(), 1);
        assert_eq!(out["x-app"], "kept");
    }

    #[test]
    fn connection_cannot_remove_gateway_headers_and_hop_by_hop_go() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("close, x-app, ngrok-auth-user-email"),
        );
        h.insert("x-app", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-original-url", HeaderValue::from_static("/public"));
        let mut out = clean_request(&h, false, false);
        assert!(out.is_empty(), "{out:?}");
        set_identity(&mut out, USER_EMAIL, Some("a@b.c"));
        assert_eq!(out[USER_EMAIL], "a@b.c");
        set_identity(&mut out, USER_NAME, Some("evil\r\nx: y"));
        assert!(out.get(USER_NAME).is_none());
    }
}
