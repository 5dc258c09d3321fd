//! An authorization request once validated, and a login page waiting for the user.
//!
//! The authorization endpoint validates a request into an [`AuthorizationRequest`]; when the
//! user has to decide on the login page, the request waits in the store as a
//! [`PendingAuthorization`] until the page's form comes back. Both are plain data, below the
//! store that keeps them and the HTTP layer that makes them, so neither has to reach the other.

use std::time::SystemTime;

use crate::outcome::AuthorizeResponseChange;
use crate::types::{ClientId, ScopeSet, UserId};

/// PKCE parameters of an authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkce {
    /// `code_challenge`.
    pub challenge: String,
    /// `S256` or `plain`.
    pub method: String,
}

impl Pkce {
    /// Whether `verifier` matches the challenge.
    pub fn verify(&self, verifier: &str) -> bool {
        let computed = if self.method == "S256" {
            use base64::Engine;
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
        } else {
            verifier.to_owned()
        };
        aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), self.challenge.as_bytes())
            .is_ok()
    }
}

/// How the authorization response is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query (the default).
    Query,
    /// Parameters in the redirect URI's fragment.
    Fragment,
    /// An auto-submitting form that posts the parameters.
    FormPost,
}

/// A validated authorization request.
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    /// The client, known and registered.
    pub client_id: ClientId,
    /// Where the answer goes: sent and registered, or the client's only registered one.
    pub redirect_uri: String,
    /// Whether the request carried `redirect_uri` (the token request must repeat it then).
    pub redirect_uri_sent: bool,
    /// How the answer is delivered.
    pub response_mode: ResponseMode,
    /// Scopes requested.
    pub scopes: ScopeSet,
    /// `state`, echoed back.
    pub state: Option<String>,
    /// `nonce`, for the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge, bound to the code.
    pub pkce: Option<Pkce>,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// `max_age` in seconds.
    pub max_age: Option<u64>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// Every parameter as sent, for provider hooks.
    pub params: Vec<(String, String)>,
}

/// A login page waiting for the user.
#[derive(Clone, Debug)]
pub struct PendingAuthorization {
    /// The request the page answers.
    pub request: AuthorizationRequest,
    /// When the page was shown (old pages are purged).
    pub created: SystemTime,
    /// Scripted: grant only these scopes.
    pub narrow: Option<ScopeSet>,
    /// Scripted: spoil the redirect back.
    pub change: Option<AuthorizeResponseChange>,
    /// The IdP session's user, when only consent is asked (no account choice).
    pub consent_only_for: Option<UserId>,
}
