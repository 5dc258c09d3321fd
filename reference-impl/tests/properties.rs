//! Property tests (proptest) for the gateway's parsers, with the invariants of the fuzz targets
//! `redirect_target` and `callback_params` (fuzz/, docs/fuzzing.md): the post-login
//! destination never leaves the origin, path canonicalisation is idempotent and leaves no dot
//! segment or double slash, and the callback's strict query parsing refuses exactly the
//! repeated names and otherwise round-trips. Inputs are built from the pieces attacks are made
//! of, plus arbitrary strings; 256 cases each (PROPTEST_CASES overrides).

use proptest::prelude::*;
use ref_gateway::fuzzing::callback_params;
use ref_gateway::paths::{canonicalize, safe_return_path};
use url::form_urlencoded;

/// Pieces of paths and destinations: separators in every spelling, dot segments, escapes
/// (good and broken), whitespace, schemes, hosts and non-ASCII text.
fn path_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "/", "//", "\\", "/\\", "%2F", "%2f", "%5C", "%5c", "%09", "%0d", "%0a", "%0D%0A", "%00",
            "%20", "%2e", "%2E", ".", "..", "./", "../", "evil.test", "https:", "javascript:", "@",
            "?", "#", " ", "\t", "\n", "\r", "\u{7f}", "é", "日本", "\u{fffd}", "%", "%z", "%zz",
            "%C3%A9", "%61", "%7e", ";", "~", "auth", "x", "%252F",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z0-9._~%/-]{1,6}",
        1 => any::<String>(),
    ]
}

fn path_like() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["/", "//", "", "/\\", "https://", "/%2F"]),
        prop::collection::vec(path_piece(), 0..10),
    )
        .prop_map(|(start, pieces)| format!("{start}{}", pieces.concat()))
}

proptest! {
    #[test]
    fn return_paths_never_leave_the_origin(input in prop_oneof![3 => path_like(), 1 => any::<String>()]) {
        let out = safe_return_path(&input);
        prop_assert!(out == "/" || out == input, "{input:?} was rewritten to {out:?}");
        prop_assert!(out.starts_with('/'), "{out:?}");
        prop_assert!(!out[1..].starts_with(['/', '\\']), "{out:?} is scheme-relative");
        prop_assert!(
            !out.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\'),
            "{out:?} has a control character, whitespace or a backslash"
        );
        let lower = out.to_ascii_lowercase();
        prop_assert!(!lower.contains("%0d") && !lower.contains("%0a"), "{out:?}");
        let resolved = url::Url::parse("https://app.test/").unwrap().join(&out);
        prop_assert!(resolved.is_ok(), "{out:?} does not resolve");
        let resolved = resolved.unwrap();
        prop_assert_eq!(resolved.scheme(), "https");
        prop_assert_eq!(resolved.host_str(), Some("app.test"));
        prop_assert_eq!(resolved.port(), None);
        prop_assert_eq!(resolved.username(), "");
    }

    #[test]
    fn canonical_paths_are_idempotent_and_clean(input in prop_oneof![3 => path_like(), 1 => any::<String>()]) {
        if let Ok(c) = canonicalize(&input) {
            prop_assert!(c.starts_with('/'), "{input:?} -> {c:?}");
            prop_assert!(!c.contains("//"), "{input:?} -> {c:?}");
            prop_assert!(!c.contains("/../"), "{input:?} -> {c:?}");
            prop_assert!(!c.split('/').any(|s| s == "." || s == ".."), "{input:?} -> {c:?}");
            prop_assert!(
                !c.bytes().any(|b| b.is_ascii_control() || b == b' ' || b == b'\\'),
                "{input:?} -> {c:?}"
            );
            prop_assert_eq!(canonicalize(&c), Ok(c.clone()), "not idempotent on {:?}", input);
        }
    }

    #[test]
    fn callback_params_refuse_repeats_and_round_trip(query in query_like()) {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        let repeated = names.windows(2).any(|w| w[0] == w[1]);
        match callback_params(Some(&query)) {
            None => prop_assert!(repeated, "{query:?} refused without a repeated name"),
            Some(got) => {
                prop_assert!(!repeated, "{query:?} accepted with a repeated name");
                prop_assert_eq!(&got, &pairs);
                let again = form_urlencoded::Serializer::new(String::new()).extend_pairs(&got).finish();
                prop_assert_eq!(callback_params(Some(&again)), Some(got), "{:?} -> {:?}", query, again);
            }
        }
    }
}

/// Callback queries: a few names (so repeats are common, also in other spellings such as
/// `%63ode` for `code`), values with escapes and separators, stray `&` and `=`.
fn query_like() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => prop::sample::select(vec![
            "code", "state", "iss", "error", "error_description", "%63ode", "c%6Fde", "st%61te", "a+b",
            "a%20b", "a%2Bb", "", "%", "%zz", "é",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z%+=&]{0,6}",
    ];
    let value = prop_oneof![
        prop::sample::select(vec![
            "",
            "abc",
            "a%26b",
            "a+b",
            "%E2%9C%93",
            "%",
            "%zz",
            "=",
            "==",
            "é"
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9%+=._~-]{0,12}",
        any::<String>(),
    ];
    let pair = (name, prop::option::of(value)).prop_map(|(n, v)| match v {
        Some(v) => format!("{n}={v}"),
        None => n,
    });
    prop_oneof![
        4 => prop::collection::vec(pair, 0..6).prop_map(|p| p.join("&")),
        1 => any::<String>(),
    ]
}
