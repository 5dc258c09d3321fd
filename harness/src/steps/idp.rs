//! Scripting what the mock identity provider does next: denials, errors, narrowed scopes,
//! broken tokens, refresh outcomes, slowness, and changes to users.

use cucumber::{given, when};
use mock_idp::{AuthorizeResponseChange, Endpoint, IdTokenFault, Outcome, TokenResponseChange, UserPatch};

use crate::world::GateWorld;

fn parse<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> T {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .unwrap_or_else(|_| panic!("{name:?} is not a known {what}"))
}

#[given(regex = r"^the identity provider will deny the next login$")]
#[when(regex = r"^the identity provider denies the next login$")]
async fn deny(w: &mut GateWorld) {
    w.env().await.idp.on_authorize().respond(Outcome::deny());
}

#[given(
    regex = r#"^the identity provider will answer the next login with the error "([^"]*)"(?: described as "([^"]*)")?$"#
)]
async fn authorize_error(w: &mut GateWorld, error: String, description: String) {
    let d = (!description.is_empty()).then_some(description.as_str());
    w.env()
        .await
        .idp
        .on_authorize()
        .respond(Outcome::authorize_error(error, d));
}

#[given(regex = r#"^the identity provider will grant only the scope "([^"]*)"$"#)]
async fn narrow(w: &mut GateWorld, scope: String) {
    w.env()
        .await
        .idp
        .on_authorize()
        .respond(Outcome::narrow_scope(&scope));
}

#[given(regex = r"^the identity provider will spoil the callback: (\w+)$")]
async fn spoil_callback(w: &mut GateWorld, change: String) {
    let change: AuthorizeResponseChange = parse("callback change", &change);
    w.env()
        .await
        .idp
        .on_authorize()
        .respond(Outcome::AuthorizeResponse { change });
}

#[given(regex = r#"^the identity provider will answer the code exchange with (\d+) "([^"]*)"$"#)]
async fn token_error(w: &mut GateWorld, status: u16, error: String) {
    w.env()
        .await
        .idp
        .on_token()
        .respond(Outcome::oauth_error(status, error, None));
}

#[given(regex = r"^the identity provider will refuse the code as invalid_grant$")]
async fn invalid_grant(w: &mut GateWorld) {
    w.env().await.idp.on_token().respond(Outcome::invalid_grant());
}

#[given(regex = r"^the identity provider's token endpoint will fail with a server error$")]
async fn token_5xx(w: &mut GateWorld) {
    w.env().await.idp.on_token().respond(Outcome::ServerError);
}

#[given(regex = r"^the identity provider's token endpoint will answer with a malformed body$")]
async fn token_malformed(w: &mut GateWorld) {
    w.env().await.idp.on_token().respond(Outcome::Malformed);
}

#[given(regex = r"^the identity provider's token endpoint will hang$")]
async fn token_stall(w: &mut GateWorld) {
    w.env().await.idp.on_token().respond(Outcome::Stall);
}

#[given(regex = r"^the identity provider will sign an ID token with the fault (\w+)$")]
async fn id_token_fault(w: &mut GateWorld, fault: String) {
    let fault: IdTokenFault = parse("ID-token fault", &fault);
    w.env().await.idp.on_token().respond(Outcome::id_token(fault));
}

#[given(regex = r"^the identity provider will change the token response: (\w+)$")]
async fn token_change(w: &mut GateWorld, change: String) {
    let change: TokenResponseChange = parse("token-response change", &change);
    w.env()
        .await
        .idp
        .on_token()
        .respond(Outcome::token_response(change));
}

#[given(regex = r"^the identity provider will report the refresh token as (revoked|expired)$")]
#[when(regex = r"^the identity provider reports the refresh token as (revoked|expired)$")]
async fn refresh_dead(w: &mut GateWorld, how: String) {
    let outcome = if how == "revoked" {
        Outcome::RefreshRevoked
    } else {
        Outcome::RefreshExpired
    };
    w.env().await.idp.on_refresh().respond(outcome);
}

#[given(regex = r"^the identity provider will rotate the refresh token$")]
async fn refresh_rotated(w: &mut GateWorld) {
    w.env().await.idp.on_refresh().respond(Outcome::RefreshRotated);
}

#[when(regex = r"^the identity provider becomes unreachable$")]
async fn outage(w: &mut GateWorld) {
    let idp = &w.env().await.idp;
    for e in [Endpoint::Token, Endpoint::Refresh, Endpoint::Userinfo] {
        idp.on(e).always().respond(Outcome::ServerError);
    }
}

#[when(regex = r"^the identity provider answers again$")]
async fn recovered(w: &mut GateWorld) {
    w.env().await.idp.clear_script();
}

#[when(regex = r#"^the identity provider changes (\w+)'s email to "([^"]*)"$"#)]
async fn change_email(w: &mut GateWorld, name: String, email: String) {
    w.env().await.idp.update_user(
        &name,
        UserPatch {
            email: Some(Some(email)),
            ..Default::default()
        },
    );
}

#[when(regex = r"^the identity provider marks (\w+)'s email as unverified$")]
async fn unverify(w: &mut GateWorld, name: String) {
    w.env().await.idp.update_user(
        &name,
        UserPatch {
            email_verified: Some(false),
            ..Default::default()
        },
    );
}

#[when(regex = r"^the identity provider removes (\w+)$")]
async fn remove(w: &mut GateWorld, name: String) {
    assert!(w.env().await.idp.remove_user(&name), "{name} was not a user");
}

#[when(regex = r#"^the identity provider renames (\w+) to "([^"]*)"$"#)]
async fn rename(w: &mut GateWorld, name: String, new_name: String) {
    w.env().await.idp.update_user(
        &name,
        UserPatch {
            name: Some(new_name),
            ..Default::default()
        },
    );
}

#[given(regex = r"^the identity provider's discovery document will name another issuer$")]
async fn discovery_mismatch(w: &mut GateWorld) {
    w.env()
        .await
        .idp
        .on(Endpoint::Discovery)
        .always()
        .respond(Outcome::DiscoveryIssuerMismatch);
}

#[given(regex = r#"^the identity provider's token endpoint will answer (\d+) with "([^"]*)"$"#)]
async fn token_raw(w: &mut GateWorld, status: u16, body: String) {
    w.env()
        .await
        .idp
        .on_token()
        .respond(Outcome::status(status, body));
}

#[when(regex = r"^the identity provider's profile will name another subject$")]
async fn userinfo_invalid_sub(w: &mut GateWorld) {
    w.env()
        .await
        .idp
        .on_userinfo()
        .respond(Outcome::UserinfoInvalidSub);
}

#[when(regex = r#"^the identity provider's profile will show the email "([^"]*)" once$"#)]
async fn userinfo_user_changed(w: &mut GateWorld, email: String) {
    w.env()
        .await
        .idp
        .on_userinfo()
        .respond(Outcome::user_changed(UserPatch {
            email: Some(Some(email)),
            ..Default::default()
        }));
}

#[given(
    regex = r"^the identity provider will answer the next refresh with an ID token with the fault (\w+)$"
)]
async fn refresh_id_token_fault(w: &mut GateWorld, fault: String) {
    let fault: IdTokenFault = parse("ID-token fault", &fault);
    w.env().await.idp.on_refresh().respond(Outcome::id_token(fault));
}

#[when(regex = r"^the identity provider rotates its signing keys$")]
async fn rotate_keys(w: &mut GateWorld) {
    let idp = &w.env().await.idp;
    let alg = mock_idp::SigningAlg::parse(idp.jwks()["keys"][0]["alg"].as_str().unwrap_or("RS256"))
        .unwrap_or_default();
    idp.rotate_keys(alg, false);
}

#[given(regex = r"^the identity provider publishes (its key|two keys) without a key id$")]
async fn keys_without_kid(w: &mut GateWorld, which: String) {
    let idp = &w.env().await.idp;
    if which == "two keys" {
        idp.rotate_keys(mock_idp::SigningAlg::RS256, true);
    }
    idp.publish_keys_without_kid(true);
    idp.on_token().respond(Outcome::id_token(IdTokenFault::NoKid));
}

#[given(
    regex = r"^the identity provider's profile endpoint will (fail with a server error|answer with a malformed body)$"
)]
async fn userinfo_broken(w: &mut GateWorld, how: String) {
    let outcome = if how.starts_with("fail") {
        Outcome::ServerError
    } else {
        Outcome::Malformed
    };
    w.env().await.idp.on_userinfo().respond(outcome);
}

#[given(
    regex = r"^the identity provider's token endpoint will answer with an access token that is not a string$"
)]
async fn token_not_string(w: &mut GateWorld) {
    w.env().await.idp.on_token().respond(Outcome::status(
        200,
        r#"{"access_token":12345,"token_type":"Bearer","expires_in":3600,"id_token":42}"#,
    ));
}

#[given(regex = r"^the identity provider's token endpoint will answer with a (\d+) MB body$")]
async fn token_huge(w: &mut GateWorld, mb: usize) {
    // Valid JSON that never stops being a string: a gateway that reads it all holds `mb` MB
    // per login attempt before it can refuse it.
    let body = format!(
        r#"{{"access_token":"a","token_type":"Bearer","padding":"{}"}}"#,
        "x".repeat(mb * 1024 * 1024)
    );
    w.env().await.idp.on_token().respond(Outcome::status(200, body));
}
