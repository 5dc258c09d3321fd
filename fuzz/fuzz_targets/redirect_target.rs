//! Fuzz target `redirect_target`: the gateway's post-login destination check
//! (`ref_gateway::paths::safe_return_path`) and path canonicalisation
//! (`ref_gateway::paths::canonicalize`), with their security invariants asserted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ref_gateway::paths::{canonicalize, safe_return_path};

fn check_return_path(input: &str) {
    let out = safe_return_path(input);
    assert!(out == "/" || out == input, "{input:?} was rewritten to {out:?}");
    let rest = out
        .strip_prefix('/')
        .unwrap_or_else(|| panic!("{out:?} does not start with /"));
    assert!(
        !rest.starts_with(['/', '\\']),
        "{out:?} starts with a scheme-relative prefix"
    );
    assert!(
        !out.chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\'),
        "{out:?} has a control character, whitespace or a backslash"
    );
    let lower = out.to_ascii_lowercase();
    assert!(
        !lower.contains("%0d") && !lower.contains("%0a"),
        "{out:?} has an encoded line break"
    );
    let base = url::Url::parse("https://app.test/").unwrap();
    let resolved = base
        .join(&out)
        .unwrap_or_else(|e| panic!("{out:?} does not resolve: {e}"));
    assert_eq!(resolved.scheme(), "https", "{out:?} -> {resolved}");
    assert_eq!(resolved.host_str(), Some("app.test"), "{out:?} -> {resolved}");
    assert_eq!(resolved.port(), None, "{out:?} -> {resolved}");
    assert_eq!(resolved.username(), "", "{out:?} -> {resolved}");
}

fn check_canonical(input: &str) {
    let Ok(c) = canonicalize(input) else { return };
    assert!(c.starts_with('/'), "{input:?} -> {c:?} does not start with /");
    assert!(!c.contains("//"), "{input:?} -> {c:?} has //");
    assert!(!c.contains("/../"), "{input:?} -> {c:?} has /../");
    assert!(
        !c.split('/').any(|s| s == "." || s == ".."),
        "{input:?} -> {c:?} has a dot segment"
    );
    assert!(
        !c.bytes().any(|b| b.is_ascii_control() || b == b' ' || b == b'\\'),
        "{input:?} -> {c:?} has a control character, space or backslash"
    );
    assert_eq!(
        canonicalize(&c).as_deref(),
        Ok(c.as_str()),
        "canonicalize is not idempotent on {input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    check_return_path(&input);
    check_canonical(&input);
});
