//! # mock-idp — a strict, scriptable OpenID Provider for tests
//!
//! `mock-idp` starts a real OpenID Provider (and plain OAuth2 server) on a free loopback port,
//! one per test, each with its own keys, users, clients and clock. It is strict about client
//! mistakes, lets a test script what each endpoint does next, records every request with
//! plain-words lint findings, and plays provider *personalities* (how Google, GitHub, … look on
//! the wire). It is the IdP half of the gatecheck conformance suite.
//!
//! ## A test, start to finish
//!
//! ```rust,no_run
//! use std::time::Duration;
//! use mock_idp::{Endpoint, IdTokenFault, MockIdp, Outcome, User};
//!
//! # async fn demo() {
//! let idp = MockIdp::builder()
//!     .redirect_uri("http://127.0.0.1:8080/oauth2/callback")  // for the default client
//!     .user(User::new("octocat").email("octo@example.com").name("Mona"))
//!     .start()
//!     .await;
//!
//! // Point the app under test at idp.discovery_url(), client idp.client().
//! idp.on_authorize().respond(Outcome::deny());                        // next login: Deny
//! idp.on_token().once().respond(Outcome::id_token(IdTokenFault::InvalidIss));
//! idp.on_refresh().always().respond(Outcome::RefreshRevoked);
//! idp.on_userinfo().after(Duration::from_secs(5)).respond(Outcome::Success); // slow
//! idp.clock().advance(Duration::from_secs(3600));                    // expire tokens, no sleep
//! idp.expect(Endpoint::Token).times(2);                               // checked on drop
//! # }
//! ```
//!
//! What a request does when something is scripted, and which outcomes exist: see
//! [`Outcome`]. Scripts are FIFO per endpoint, optionally per client, with `once()` (the
//! default), `times(n)` and `always()`; when nothing is queued the endpoint succeeds.
//!
//! ## The vocabulary
//!
//! - Running an IdP: [`MockIdp`], [`MockIdpBuilder`] (errors: [`StartError`]),
//!   [`ClientCredentials`], [`Interaction`], [`Lifetimes`], a personality from
//!   [`personality`] (or a [`ProviderId`]), keys from [`keys`], TLS helpers in [`tls`].
//! - Accounts: [`User`] and [`UserPatch`]; [`Client`] with [`TokenAuthMethod`],
//!   [`PkcePolicy`], [`RefreshRotation`] (errors: [`ClientError`]).
//! - Scripting: [`Outcome`] with [`IdTokenFault`], [`TokenResponseChange`],
//!   [`AuthorizeResponseChange`], per [`Endpoint`], mounted with a [`ScriptBuilder`] into a
//!   [`ScriptHandle`] or [`ScopedScript`] (errors: [`ScriptError`]).
//! - Checking: [`ExpectationBuilder`] → [`VerificationReport`] ([`FailedExpectation`],
//!   [`Expectation`]); the request log's [`RecordedRequest`] with [`DecodedJwt`]s and lint
//!   [`Finding`]s ([`LintCode`], [`Severity`]); the [`Clock`].
//! - Values: [`ClientId`], [`UserId`], [`Secret`], [`Scope`], [`ScopeSet`], [`SigningAlg`].
//!
//! ## Endpoints (personality `oidc`)
//!
//! | Endpoint | Path |
//! |---|---|
//! | Discovery | `GET /.well-known/openid-configuration` |
//! | JWKS | `GET /jwks` |
//! | Authorization | `GET|POST /authorize` (headless, or the login/consent page) |
//! | Token | `POST /token` (`authorization_code`, `refresh_token`, `client_credentials`, device code, token exchange, JWT bearer) |
//! | Userinfo | `GET|POST /userinfo` |
//! | Revocation (RFC 7009) | `POST /revoke` |
//! | Introspection (RFC 7662) | `POST /introspect` |
//! | Device authorization (RFC 8628) | `POST /device_authorization`, the page `GET /device` |
//! | End session | `GET|POST /logout` |
//!
//! The grants without a browser — client credentials, introspection, the device flow, the
//! password grant, token exchange, JWT bearer and on-behalf-of, `private_key_jwt` and
//! `client_secret_jwt`, RFC 9068 access tokens — each with a `mock-idp serve` and a Rust
//! example: `docs/grants.md` in the repository.
//!
//! ## Strictness
//!
//! Unknown client → error page at the IdP (authorize) or `401 invalid_client` (token, with
//! `WWW-Authenticate` when Basic was used). `redirect_uri` not an exact registered match →
//! error page, never a redirect. Repeated parameters, missing `response_type`, malformed PKCE
//! → `invalid_request`. Unsupported `response_type` → `unsupported_response_type`. Wrong
//! secret, two authentication methods at once, a method the client did not register, a secret
//! in the URL → refused. Codes are single-use, expire (60 s by default) and are bound to client,
//! `redirect_uri` and PKCE; a reused code revokes everything issued for it. PKCE `plain` only
//! when the client allows it; a `code_verifier` without a challenge is refused (downgrade).
//!
//! ## The HTTP admin API
//!
//! Everything above is reachable over JSON under `/__admin/` on the IdP's own port, for
//! gateways written in any language. Errors are `{"error", "message"}` with 400 or 404; bodies
//! are parsed strictly and an unknown field is named in the message.
//!
//! ```text
//! GET    /__admin/config                      issuer, paths, discovery, default client
//! GET    /__admin/settings                    lifetimes and interaction mode
//! PUT    /__admin/settings                    {"interaction":"login_page","lifetimes":{"code":"60s","access_token":"1h",
//!                                              "id_token":"1h","refresh_token":"30days","idp_session":"8h"},
//!                                              "jwt_access_token_audience":"https://api.example"}
//! GET    /__admin/users                       list
//! POST   /__admin/users                       {"id":"bob","email":"bob@example.com","email_verified":false,
//!                                              "claims":{"groups":["admins"]},"password":"for the password grant"}
//! GET    /__admin/users/bob
//! PATCH  /__admin/users/bob                   {"email":"new@example.com"}   ({"email":null} removes it,
//!                                              {"disabled":true} disables the account,
//!                                              {"password":"new"} or {"password":null})
//! DELETE /__admin/users/bob                   user gone: tokens and sessions stop working
//! POST   /__admin/users/bob/revoke            revoke all grants and IdP sessions of bob
//! GET    /__admin/devices                     device authorizations waiting: [{"user_code","client_id"}]
//! POST   /__admin/devices/WDJB-MJHT/approve   {"user":"alice"}: the device's next poll gets tokens
//! POST   /__admin/devices/WDJB-MJHT/deny      its polls get access_denied
//! GET    /__admin/clients
//! POST   /__admin/clients                     {"id":"app","secret":"s3cret",
//!                                              "redirect_uris":["http://127.0.0.1:8080/cb"],
//!                                              "post_logout_redirect_uris":[],
//!                                              "auth_methods":["client_secret_basic"],
//!                                              "pkce":"required","allow_plain_pkce":false,
//!                                              "refresh_tokens":true,"refresh_rotation":"rotate",
//!                                              "client_credentials":true}
//!                                             {"id":"job","auth_methods":["private_key_jwt"],
//!                                              "jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"…","y":"…"}]}}
//! DELETE /__admin/clients/app
//! POST   /__admin/outcomes                    {"endpoint":"token","outcome":{"kind":"invalid_grant"}}
//!                                             ("token": every grant at the token endpoint but refresh,
//!                                              device polls included; "grant":"device_code" (or
//!                                              authorization_code, client_credentials, password,
//!                                              token_exchange, jwt_bearer) for one of them)
//!                                             {"endpoint":"authorize","outcome":{"kind":"deny"},"client_id":"app"}
//!                                             {"endpoint":"token","outcome":{"kind":"id_token","fault":"invalid_iss"},
//!                                              "times":3}
//!                                             {"endpoint":"userinfo","outcome":{"kind":"success"},
//!                                              "delay_ms":5000,"times":"always"}
//!                                             → 201 {"id": 7}
//! GET    /__admin/outcomes                    the queue, with uses left
//! DELETE /__admin/outcomes/7 | /__admin/outcomes
//! GET    /__admin/clock                       {"now": 1700000000, "offset_seconds": 0}
//! POST   /__admin/clock/advance               {"seconds":3600} or {"by":"1h 30m"}
//! POST   /__admin/clock/reset
//! GET    /__admin/keys                        {"active": kid, "jwks": {...}}
//! POST   /__admin/keys/rotate                 {"alg":"ES256","keep_old":false}
//! DELETE /__admin/keys/{kid}                  unpublish an old key
//! GET    /__admin/requests[?endpoint=token]   the request log, secrets masked, with lint findings
//! DELETE /__admin/requests
//! GET    /__admin/findings                    every lint finding: code, severity, message, fix
//! POST   /__admin/expectations                {"endpoint":"refresh","times":1} or {"endpoint":"token","min":1}
//! GET    /__admin/verify                      200 {"ok":true} or 409 {"ok":false,"report":"…"}
//! POST   /__admin/reset                       clear script, expectations, log, sessions; clock to real time
//! ```
//!
//! ## How the crate is layered
//!
//! Dependencies point one way; a module uses only modules to its left. `types` `clock`
//! `keys` `lint` `tls` → `users` `clients` `log` → `outcome` `settings` `expect` →
//! `authorization` `script` → `store` (grants, codes, sessions) → `personality` (wire shapes)
//! → `shared` (one instance) → `ops` `tokens` → `http` `builders` → `server` ([`MockIdp`]) →
//! `fuzzing`. The store knows no HTTP and no personality; the personalities know no instance.

#![deny(missing_docs)]

mod assertion;
mod authorization;
mod builders;
mod clients;
mod clock;
mod device;
mod expect;
#[doc(hidden)]
pub mod fuzzing;
mod http;
pub mod keys;
mod lint;
mod log;
mod ops;
mod outcome;
pub mod personality;
mod script;
mod server;
mod settings;
mod shared;
mod store;
pub mod tls;
mod tokens;
mod types;
mod users;

pub use builders::{ExpectationBuilder, ScopedScript, ScriptBuilder, ScriptHandle};
pub use clients::{Client, ClientError, Lifetimes, PkcePolicy, RefreshRotation, TokenAuthMethod};
pub use clock::Clock;
pub use expect::{Expectation, FailedExpectation, VerificationReport};
pub use keys::SigningAlg;
pub use lint::{Finding, LintCode, Severity};
pub use log::{DecodedJwt, RecordedRequest};
pub use outcome::{AuthorizeResponseChange, IdTokenFault, Outcome, TokenResponseChange};
pub use personality::ProviderId;
pub use script::ScriptError;
pub use server::{
    ClientCredentials, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockIdp, MockIdpBuilder, StartError,
};
pub use settings::Interaction;
pub use types::{ClientId, Endpoint, GrantType, Scope, ScopeSet, Secret, UserId};
pub use users::{User, UserPatch};

/// The README's "mock-idp in a Rust test" example, extracted by `build.rs` and compiled
/// here as a doctest, so the README cannot drift from the API unnoticed.
#[cfg(doctest)]
#[doc = include_str!(concat!(env!("OUT_DIR"), "/readme_example.md"))]
pub struct ReadmeExample;

/// `docs/grants.md`, whose Rust examples run here as doctests (its shell examples run in
/// `tests/cli_grants.rs`), so the guide cannot drift from the API unnoticed.
#[cfg(doctest)]
#[doc = include_str!("../../docs/grants.md")]
pub struct GrantsGuide;
