//! `Given` steps that describe the identity provider, its users, and the gateway's settings.
//! They only record what the scenario wants; the environment starts at the first step that
//! needs it.

use cucumber::given;
use mock_idp::User;

use crate::provider::{Flavour, Provider};
use crate::world::GateWorld;

use super::duration;

#[given(expr = "the identity provider is {provider}")]
fn the_identity_provider_is(w: &mut GateWorld, provider: crate::provider::Provider) {
    w.configuring().provider = provider;
}

#[given(regex = r"^the identity provider is (GitHub|Amazon) with rotating refresh tokens$")]
fn rotating(w: &mut GateWorld, provider: Provider) {
    w.configuring().provider = provider;
    w.flavour = Flavour::Rotating;
}

#[given(regex = r"^the identity provider serves https with its own certificate authority$")]
fn idp_tls(w: &mut GateWorld) {
    w.configuring();
    w.idp_tls = true;
}

#[given(regex = r"^the identity provider serves https with a certificate the gateway was not told to trust$")]
fn idp_tls_untrusted(w: &mut GateWorld) {
    w.configuring();
    w.idp_tls = true;
    w.idp_ca_unrelated = true;
}

#[given(regex = r"^the identity provider promises the iss parameter in its callbacks$")]
fn promises_iss(w: &mut GateWorld) {
    w.configuring();
    w.advertise_iss = true;
}

#[given(regex = r"^the identity provider signs its tokens with ES256$")]
fn signs_es256(w: &mut GateWorld) {
    w.configuring();
    w.signing_alg = Some(mock_idp::SigningAlg::ES256);
}

/// `{LF}`, `{CR}`, `{TAB}`, `{NUL}` and `{QUOTE}` in a step's quoted text stand for those
/// characters (Gherkin tables cannot carry them).
fn unescape(text: &str) -> String {
    text.replace("{LF}", "\n")
        .replace("{CR}", "\r")
        .replace("{TAB}", "\t")
        .replace("{NUL}", "\0")
        .replace("{QUOTE}", "\"")
}

#[given(regex = r#"^a user (\w+) with email "([^"]*)"$"#)]
fn user_with_email(w: &mut GateWorld, name: String, email: String) {
    let email = unescape(&email);
    w.configuring();
    let full = capitalized(&name);
    w.add_user(User::new(name).name(full).email(email));
}

#[given(regex = r#"^a user (\w+) whose email "([^"]*)" is not verified$"#)]
fn user_unverified(w: &mut GateWorld, name: String, email: String) {
    w.configuring();
    let full = capitalized(&name);
    w.add_user(User::new(name).name(full).email(email).email_unverified());
}

#[given(regex = r"^a user (\w+) without an email address$")]
fn user_without_email(w: &mut GateWorld, name: String) {
    w.configuring();
    let full = capitalized(&name);
    w.add_user(User::new(name).name(full).no_email());
}

#[given(regex = r#"^a user (\w+) with the username "([^"]*)" and email "([^"]*)"$"#)]
fn user_with_username(w: &mut GateWorld, name: String, username: String, email: String) {
    w.configuring();
    let full = capitalized(&name);
    w.add_user(User::new(name).name(full).username(username).email(email));
}

fn capitalized(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => format!("{}{} Example", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

#[given(regex = r#"^the gateway allows the email "([^"]*)"$"#)]
fn allow_email(w: &mut GateWorld, email: String) {
    w.configuring().allow_emails.push(email);
}

#[given(regex = r#"^the gateway allows the email domain "([^"]*)"$"#)]
fn allow_domain(w: &mut GateWorld, domain: String) {
    w.configuring().allow_domains.push(domain);
}

#[given(regex = r#"^the gateway requests the extra scope "([^"]*)"$"#)]
fn extra_scope(w: &mut GateWorld, scope: String) {
    w.configuring().scopes.push(scope);
}

#[given(regex = r"^the auth check interval is (\d+ (?:seconds?|minutes?|hours?))$")]
fn auth_check_interval(w: &mut GateWorld, d: String) {
    w.configuring().auth_check_interval = duration(&d);
}

#[given(regex = r"^the inactivity timeout is (\d+ (?:seconds?|minutes?|hours?))$")]
fn inactivity_timeout(w: &mut GateWorld, d: String) {
    w.configuring().inactivity_timeout = duration(&d);
}

#[given(regex = r"^the maximum session duration is (\d+ (?:seconds?|minutes?|hours?|days?))$")]
fn max_duration(w: &mut GateWorld, d: String) {
    w.configuring().max_duration = duration(&d);
}

#[given(regex = r"^options passthrough is on$")]
fn options_passthrough(w: &mut GateWorld) {
    w.configuring().options_passthrough = true;
}

#[given(regex = r"^the gateway uses one central callback origin$")]
fn central_callback(w: &mut GateWorld) {
    w.configuring().central_callback = true;
}

#[given(regex = r"^the gateway uses its managed app for this provider$")]
fn managed_app(w: &mut GateWorld) {
    w.configuring().managed_app = true;
}

#[given(regex = r#"^the login attribute is "([^"]*)"$"#)]
fn login_attribute(w: &mut GateWorld, attr: String) {
    w.configuring().generic.login_attribute = Some(attr);
}

#[given(regex = r#"^the generic provider's scope is "([^"]*)"$"#)]
fn generic_scope(w: &mut GateWorld, scope: String) {
    w.configuring().generic.scope = Some(scope);
}

#[given(regex = r"^just-in-time provisioning is off$")]
fn jit_off(w: &mut GateWorld) {
    w.configuring().generic.jit_provisioning = Some(false);
}

#[given(regex = r#"^"([^"]*)" is a provisioned user$"#)]
fn provisioned(w: &mut GateWorld, id: String) {
    w.configuring().generic.provisioned_users.push(id);
}

#[given(regex = r"^the access token goes to the profile URL as a query parameter$")]
fn token_in_query(w: &mut GateWorld) {
    w.configuring().generic.access_token_as_auth_header = Some(false);
}

#[given(regex = r"^single logout through the identity provider is on$")]
fn single_logout(w: &mut GateWorld) {
    w.configuring().generic.single_logout = true;
}

#[given(regex = r"^the gateway runs as (\d+) replicas sharing sessions through Redis$")]
fn replicas(w: &mut GateWorld, n: usize) {
    let spec = w.configuring();
    spec.replicas = n;
    spec.redis = true;
}
