//! Paths: one canonical form for deciding and forwarding, the gateway's reserved routes in
//! every spelling, and safe post-login destinations.
//!
//! Canonicalisation (security checklist 53, 56): percent-encoded unreserved characters are
//! decoded (`%61uth` is `auth`), dot segments are removed (`/x/../auth`), repeated slashes
//! collapse; an encoded `/` or `\`, a raw backslash, a control character or a broken escape
//! makes the path ambiguous and the request is refused with 400. The upstream receives exactly
//! the canonical path the decision was made on. Reserved routes (`/auth/…`, `/oauth2/callback`)
//! are matched case-insensitively and ignoring `;parameters`, so no spelling reaches upstream.

/// Why a path is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Control characters, backslashes, encoded separators or broken escapes.
    #[error(
        "the path is ambiguous ({0}); send it without encoded slashes, backslashes or control characters"
    )]
    Ambiguous(&'static str),
    /// Longer than 8 KiB.
    #[error("the path is too long")]
    TooLong,
}

/// The gateway's own routes on an endpoint host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// `/auth/authn`: start a (forced) login.
    Authn,
    /// `/auth/logout`.
    Logout,
    /// `/auth/handoff`: the end of a login that went through the central callback origin.
    Handoff,
    /// `/oauth2/callback`: the IdP's redirect back.
    Callback,
    /// Anything else under `/auth/`: answered by the gateway with 404, never forwarded.
    Unknown,
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The canonical form of a request path (without query).
pub fn canonicalize(raw: &str) -> Result<String, PathError> {
    if raw.len() > 8192 {
        return Err(PathError::TooLong);
    }
    let bytes = raw.as_bytes();
    // Bytes, not chars: a non-ASCII character passes through as its UTF-8 bytes (pushing
    // each byte as a char would re-encode it as Latin-1, and a second pass would change it again).
    let mut decoded: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_control() || b == b'\\' || b == b' ' {
            return Err(PathError::Ambiguous("control character, space or backslash"));
        }
        if b == b'%' {
            let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|x| hex(*x)),
                bytes.get(i + 2).and_then(|x| hex(*x)),
            ) else {
                return Err(PathError::Ambiguous("broken percent escape"));
            };
            let v = h * 16 + l;
            if v == b'/' || v == b'\\' || v.is_ascii_control() || v == b' ' {
                return Err(PathError::Ambiguous(
                    "encoded separator, space or control character",
                ));
            }
            if is_unreserved(v) {
                decoded.push(v);
            } else {
                decoded.push(b'%');
                decoded.push(b"0123456789ABCDEF"[usize::from(h)]);
                decoded.push(b"0123456789ABCDEF"[usize::from(l)]);
            }
            i += 3;
            continue;
        }
        decoded.push(b);
        i += 1;
    }
    // Only ASCII was replaced by ASCII, so this is the input's UTF-8.
    let decoded = String::from_utf8(decoded).map_err(|_| PathError::Ambiguous("not UTF-8"))?;
    if !decoded.starts_with('/') {
        return Err(PathError::Ambiguous("the path does not start with /"));
    }
    // RFC 3986 §5.2.4 on segments, repeated slashes collapsed.
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = decoded.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (n, seg) in segments.iter().enumerate() {
        match *seg {
            "" => trailing_slash = n == last,
            "." => trailing_slash = n == last,
            ".." => {
                out.pop();
                trailing_slash = n == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut path = format!("/{}", out.join("/"));
    if trailing_slash && path != "/" {
        path.push('/');
    }
    Ok(path)
}

fn percent_decode_all(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|x| hex(*x)),
                b.get(i + 2).and_then(|x| hex(*x)),
            )
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

/// Which reserved route, if any, a canonical path is.
pub fn reserved(canonical: &str) -> Option<Reserved> {
    let lower = canonical.to_ascii_lowercase();
    // Segment parameters (`/auth;x=1/logout`) do not hide a reserved route.
    let plain: Vec<&str> = lower
        .split('/')
        .map(|s| s.split(';').next().unwrap_or(""))
        .collect();
    let plain = plain.join("/");
    let plain = plain.trim_end_matches('/');
    if plain == "/oauth2/callback" {
        return Some(Reserved::Callback);
    }
    // A first segment that some upstream could read as `auth` — `auth%3B…`, `auth.`,
    // `auth%2E` — is reserved too (and never forwarded), even if it is no known route.
    let first = plain.trim_start_matches('/').split('/').next().unwrap_or("");
    let first_loose = percent_decode_all(first);
    let first_loose = first_loose
        .split(';')
        .next()
        .unwrap_or("")
        .trim_end_matches(['.', ' ']);
    if first != "auth" && first_loose == "auth" {
        return Some(Reserved::Unknown);
    }
    let rest = plain
        .strip_prefix("/auth")
        .filter(|r| r.is_empty() || r.starts_with('/'))?;
    Some(match rest {
        "/authn" => Reserved::Authn,
        "/logout" => Reserved::Logout,
        "/handoff" => Reserved::Handoff,
        _ => Reserved::Unknown,
    })
}

/// An origin-relative destination that cannot leave the origin: exactly one leading `/`, no
/// backslash, control character or whitespace (raw or percent-encoded). Anything else is `/`.
pub fn safe_return_path(candidate: &str) -> String {
    let lower = candidate.to_ascii_lowercase();
    let bad = !candidate.starts_with('/')
        || candidate.starts_with("//")
        || candidate.starts_with("/\\")
        || candidate
            .bytes()
            .any(|b| b.is_ascii_control() || b == b'\\' || b == b' ' || b >= 0x80)
        || ["%2f", "%5c", "%09", "%0a", "%0d", "%00", "%20"]
            .iter()
            .any(|enc| lower.starts_with(&format!("/{enc}")))
        || lower.contains("%0d")
        || lower.contains("%0a");
    if bad { "/".to_owned() } else { candidate.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (raw, want) in [
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a//b", "/a/b"),
            ("//a", "/a"),
            ("/a/./b/../c", "/a/c"),
            ("/%61uth/logout", "/auth/logout"),
            ("/public/%2e%2e/admin", "/admin"),
            ("/public/.%2e/admin", "/admin"),
            ("/x/../../../etc", "/etc"),
            ("/a/b/", "/a/b/"),
            ("/caf%C3%A9", "/caf%C3%A9"),
            ("/a%7e", "/a~"),
        ] {
            assert_eq!(canonicalize(raw).unwrap(), want, "{raw}");
        }
        for raw in [
            "/public/..%2fadmin",
            "/a%5cb",
            "/a\\b",
            "/a%00",
            "/a%zz",
            "/a%",
            "/a b",
            "no-slash",
        ] {
            assert!(canonicalize(raw).is_err(), "{raw} must be refused");
        }
    }

    #[test]
    fn non_ascii_paths_are_kept_and_canonical_twice() {
        // Found by fuzzing (fuzz target redirect_target): bytes pushed as chars turned
        // "/café" into "/cafÃ©", and canonicalising that again changed it once more.
        for raw in ["/café", "/x/../ü/./a", "/\u{fffd}x/..-../../etc", "/日本//語/"] {
            let once = canonicalize(raw).unwrap();
            assert_eq!(canonicalize(&once).unwrap(), once, "{raw}");
        }
        assert_eq!(canonicalize("/café").unwrap(), "/café");
        assert_eq!(canonicalize("/x/../ü/./a").unwrap(), "/ü/a");
        assert_eq!(canonicalize("/日本//語/").unwrap(), "/日本/語/");
    }

    #[test]
    fn reserved_in_every_spelling() {
        for raw in [
            "/auth/logout",
            "/AUTH/Logout",
            "/%61uth/logout",
            "/x/../auth/logout",
            "//auth/logout",
            "/auth;x=1/logout",
            "/auth/logout/",
        ] {
            assert_eq!(
                reserved(&canonicalize(raw).unwrap()),
                Some(Reserved::Logout),
                "{raw}"
            );
        }
        for raw in [
            "/oauth2/callback",
            "/OAUTH2/callback",
            "/oauth2/%63allback",
            "/oauth2/./callback",
            "/x/../oauth2/callback",
            "/oauth2/callback/",
        ] {
            assert_eq!(
                reserved(&canonicalize(raw).unwrap()),
                Some(Reserved::Callback),
                "{raw}"
            );
        }
        assert_eq!(reserved("/auth/anything"), Some(Reserved::Unknown));
        assert_eq!(reserved("/auth"), Some(Reserved::Unknown));
        assert_eq!(reserved("/authors"), None);
        assert_eq!(reserved("/api/auth/logout"), None);
    }

    #[test]
    fn return_paths_stay_on_the_origin() {
        assert_eq!(safe_return_path("/deep/link?x=1"), "/deep/link?x=1");
        for bad in [
            "//evil.test",
            "/\\evil.test",
            "/%2F%2Fevil.test",
            "/%09/evil.test",
            "https://evil.test",
            "javascript:alert(1)",
            "/%0d%0aSet-Cookie:x=y",
            "",
        ] {
            assert_eq!(safe_return_path(bad), "/", "{bad}");
        }
    }
}
