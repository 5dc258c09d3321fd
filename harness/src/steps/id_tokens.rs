//! Judging forged ID tokens by what the specification asks, not by one mechanism.
//!
//! OpenID Connect Core 1.0 §3.1.3.7 (6): "If the ID Token is received via direct
//! communication between the Client and the Token Endpoint (which it is in this flow), the TLS
//! server validation MAY be used to validate the issuer in place of checking the token
//! signature." A code-flow gateway may therefore accept a token it never checked — *when* the
//! token came over TLS from an identity provider whose certificate it verified. So:
//!
//! - over plain http nothing but the signature authenticates a token: a forged one that lets
//!   someone in is a failure;
//! - over https, a gateway that read the key set checks signatures, and a forged token it
//!   accepted is a failure;
//! - over https, a gateway that never read the key set relies on TLS instead: allowed, and
//!   noted as an observation. That it really verifies the certificate is checked on its own
//!   ("An identity provider certificate the gateway was not told to trust stops every login").

use cucumber::then;
use mock_idp::Endpoint;

use crate::world::GateWorld;

use super::browse::describe;

/// `Ok(observation)` when the gateway relied on TLS to the token endpoint instead of the
/// signature (allowed); `Err(why not)` otherwise.
fn relied_on_tls(w: &GateWorld) -> Result<String, String> {
    let env = w.started();
    let https = env.idp.ca_pem().is_some() && env.idp_ca_pem.as_deref() == env.idp.ca_pem();
    let key_sets = env.idp.requests_to(Endpoint::Jwks).len();
    match (https, key_sets) {
        (false, _) => Err(
            "the identity provider serves plain http, so nothing but the token's own checks protects it on its way \
             (OIDC Core §3.1.3.7 (6) lets a client rely on the channel instead only when the token came over TLS)"
                .into(),
        ),
        (true, 0) => Ok(
            "the gateway took the ID token over TLS from the token endpoint without checking its signature (it never \
             read the key set): OIDC Core §3.1.3.7 (6) allows it"
                .into(),
        ),
        (true, n) => Err(format!(
            "the gateway read the key set ({n} requests), so it validates ID tokens itself — and accepted this one"
        )),
    }
}

fn app_paths(w: &GateWorld) -> Vec<String> {
    w.started()
        .upstream
        .seen()
        .iter()
        .map(|s| s.path.clone())
        .collect()
}

#[then(
    regex = r"^(\w+) is not let in, unless the gateway relies on TLS to the token endpoint instead of the signature$"
)]
fn not_let_in_unless_tls(w: &mut GateWorld, name: String) {
    let hops = w.person(&name).hops.clone();
    let let_in = hops.last().is_some_and(|h| h.header("x-upstream").is_some());
    let seen = app_paths(w);
    if !let_in && seen.is_empty() {
        return;
    }
    match relied_on_tls(w) {
        Ok(observation) => w.observe(observation),
        Err(why) => panic!(
            "{name} was let in with a forged ID token (the application received {seen:?}); {why}:\n{}",
            describe(&hops)
        ),
    }
}

#[then(
    regex = r"^the application receives nothing, unless the gateway relies on TLS to the token endpoint instead of the signature$"
)]
fn app_nothing_unless_tls(w: &mut GateWorld) {
    let seen = app_paths(w);
    if seen.is_empty() {
        return;
    }
    match relied_on_tls(w) {
        Ok(observation) => w.observe(observation),
        Err(why) => panic!("the application received {seen:?}; {why}"),
    }
}

#[then(
    regex = r"^the gateway read the key set, unless it relies on TLS to the token endpoint instead of the signature$"
)]
fn read_key_set_unless_tls(w: &mut GateWorld) {
    if w.started().idp.requests_to(Endpoint::Jwks).is_empty() {
        match relied_on_tls(w) {
            Ok(observation) => w.observe(observation),
            Err(why) => {
                panic!("the gateway never read the key set: no ID token signature was checked, and {why}")
            }
        }
    }
}

#[then(
    regex = r"^the identity provider received no userinfo requests, unless the gateway relies on TLS to the token endpoint instead of the signature$"
)]
fn no_userinfo_unless_tls(w: &mut GateWorld) {
    let asked = w.started().idp.requests_to(Endpoint::Userinfo).len();
    if asked == 0 {
        return;
    }
    match relied_on_tls(w) {
        Ok(observation) => w.observe(observation),
        Err(why) => panic!(
            "the gateway asked the userinfo endpoint {asked} times with a forged ID token in hand; {why}"
        ),
    }
}
