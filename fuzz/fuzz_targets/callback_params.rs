//! Fuzz target `callback_params`: the gateway's strict callback query parsing
//! (`ref_gateway::fuzzing::callback_params`, i.e. `login::strict_params`). A repeated
//! parameter name is refused; anything else parses into pairs that round-trip through
//! form-urlencoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ref_gateway::fuzzing::callback_params;
use url::form_urlencoded;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let parsed = callback_params(Some(&query));
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    let repeated = names.windows(2).any(|w| w[0] == w[1]);
    match parsed {
        None => assert!(repeated, "{query:?} refused without a repeated name"),
        Some(got) => {
            assert!(!repeated, "{query:?} accepted with a repeated name: {got:?}");
            assert_eq!(got, pairs, "{query:?}");
            let again = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&got)
                .finish();
            assert_eq!(
                callback_params(Some(&again)).as_ref(),
                Some(&got),
                "{query:?} -> {again:?} does not round-trip"
            );
        }
    }
    assert_eq!(callback_params(None), Some(Vec::new()));
});
