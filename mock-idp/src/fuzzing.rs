//! Entry points for the fuzz targets in `fuzz/`: an IdP instance that is never bound to a
//! socket, only its axum [`Router`], to be called in-process (`tower::ServiceExt::oneshot`).
//! Not an API: hidden from the docs and free to change with the crate's internals.
#![doc(hidden)]

use std::sync::Arc;

use axum::Router;

use crate::clients::Client;
use crate::keys::{KeySet, SigningAlg};
use crate::personality::{ProviderId, personality_for};
use crate::server::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use crate::settings::Settings;
use crate::shared::{Parts, Shared};
use crate::store::Store;
use crate::types::ClientId;
use crate::users::User;

/// The issuer and origin of every fuzzing instance (nothing listens there).
pub const BASE: &str = "http://127.0.0.1:9";

/// The redirect URI registered for the default client.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/oauth2/callback";

/// An IdP with one confidential client ([`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`],
/// redirect URI [`REDIRECT_URI`]) and one user (`alice`), headless, with the process-wide
/// shared ES256 signing key (signing is not what is fuzzed; RSA would only slow it): cheap enough to make one per fuzz input, so runs are reproducible.
#[derive(Debug)]
pub struct FuzzIdp {
    shared: Arc<Shared>,
}

impl FuzzIdp {
    /// A fresh instance playing `provider`.
    pub fn new(provider: ProviderId) -> FuzzIdp {
        let mut store = Store::default();
        let client =
            Client::confidential(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET).redirect_uri(REDIRECT_URI);
        store.add_client(client).expect("the default client is valid");
        store.add_user(
            User::new("alice")
                .email("alice@example.com")
                .name("Alice Example"),
        );
        let personality = personality_for(provider);
        let settings = Settings {
            lifetimes: personality.default_lifetimes(),
            ..Settings::default()
        };
        let issuer = personality.issuer(BASE);
        let shared = Shared::new(Parts {
            instance: "fuzz".into(),
            issuer,
            base: BASE.into(),
            tls: false,
            personality,
            settings,
            keys: KeySet::shared(SigningAlg::ES256),
            store,
            default_client: ClientId::new(DEFAULT_CLIENT_ID),
        });
        FuzzIdp { shared }
    }

    /// The IdP's router, as the server would serve it.
    pub fn router(&self) -> Router {
        crate::http::router(self.shared.clone())
    }

    /// The authorization endpoint's path (path parameters filled in).
    pub fn authorize_path(&self) -> String {
        let profile = self.shared.personality.profile();
        profile.fill_path(&profile.paths.authorize)
    }

    /// The token endpoint's path (path parameters filled in).
    pub fn token_path(&self) -> String {
        let profile = self.shared.personality.profile();
        profile.fill_path(&profile.paths.token)
    }

    /// Whether the personality answers token errors as the RFC says (4xx with a JSON body
    /// carrying `error`); some providers answer 200 with the error in the body.
    pub fn rfc_token_errors(&self) -> bool {
        self.shared.personality.profile().id == ProviderId::Oidc
    }
}

impl Drop for FuzzIdp {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}
