//! Fuzz target `cookie_read`: `ref_gateway::cookies::read` on arbitrary `Cookie` headers
//! (the input split on `\n` into several header lines). It must not panic, must refuse only
//! what is over its bounds, and may return only well-formed ids that were sent.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use ref_gateway::cookies::{self, TooLarge};

fn well_formed(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    let mut total = 0;
    let mut pieces = 0;
    for line in data.split(|b| *b == b'\n') {
        let Ok(v) = HeaderValue::from_bytes(line) else {
            continue;
        };
        total += v.len();
        pieces += line.split(|b| *b == b';').count();
        headers.append(header::COOKIE, v);
    }
    match cookies::read(&headers) {
        Err(TooLarge) => assert!(
            total > 8192 || pieces > 64,
            "refused a header of {total} bytes and {pieces} pieces"
        ),
        Ok(c) => {
            assert!(total <= 8192, "accepted {total} bytes");
            let sent = String::from_utf8_lossy(data);
            for v in [&c.session, &c.nonce].into_iter().flatten() {
                assert!(well_formed(v), "returned a malformed id {v:?}");
                assert!(sent.contains(v.as_str()), "returned {v:?}, never sent");
            }
        }
    }
});
