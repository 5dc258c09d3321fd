//! OAuth providers: one file per provider behind one engine (oauth2-proxy's layout).
//!
//! Each provider file says what its provider is made of — a [`ProviderSpec`] (OIDC discovery
//! or plain authorize/token/profile URLs, login scopes, PKCE, client authentication, the
//! parameter that forces re-authentication) and a [`ProviderHooks`] implementation turning
//! verified claims and profile JSON into an [`Identity`]. [`Provider`] is the engine that does
//! the HTTP: authorization URLs (with the `oauth2` crate), token requests, ID-token
//! verification (with `openidconnect`, in [`oidc`]), userinfo and profile calls.
//!
//! Every provider's hosts can be replaced by one origin (`base_url`) so tests point them at a
//! mock IdP; paths stay the provider's own.

mod amazon;
mod facebook;
mod generic;
mod github;
mod gitlab;
mod google;
mod linkedin;
mod microsoft;
pub mod oidc;
pub mod token;
mod twitch;

use serde_json::Value;
use url::Url;

use crate::config::{OAuthPolicy, ProviderKind};
use crate::session::Identity;
use crate::types::{Clock, Secret};
use oidc::Oidc;
pub use token::{ClientAuth, ProviderError, TokenSet};

/// Where a provider's endpoints come from.
#[derive(Clone, Debug)]
pub enum Endpoints {
    /// OpenID Connect discovery.
    Oidc {
        /// The discovery document URL.
        discovery: Url,
        /// The `issuer` the document must contain (`None`: multi-tenant template, checked by
        /// the provider's hooks).
        expected_issuer: Option<String>,
    },
    /// Plain OAuth 2.0.
    Plain {
        /// Authorize URL.
        authorize: Url,
        /// Token URL.
        token: Url,
        /// Profile APIs, by name (the first is required, the hooks say about the others).
        profiles: Vec<(&'static str, Url)>,
    },
}

/// What a provider is made of.
#[derive(Clone, Debug)]
pub struct ProviderSpec {
    /// Endpoints.
    pub endpoints: Endpoints,
    /// Scopes requested to log a user in.
    pub login_scopes: Vec<String>,
    /// Separator of the scope parameter.
    pub scope_separator: &'static str,
    /// Whether to use PKCE (S256).
    pub pkce: bool,
    /// Token-endpoint client authentication.
    pub client_auth: ClientAuth,
    /// Parameters that make the IdP re-authenticate the user (`/auth/authn`); empty when the
    /// provider has no such switch.
    pub reauth_params: Vec<(&'static str, String)>,
    /// Parameters on every authorization request.
    pub extra_params: Vec<(&'static str, String)>,
    /// Send the access token to profile APIs as `Authorization: Bearer` (else as a query
    /// parameter).
    pub token_in_header: bool,
}

/// Everything an identity is built from.
#[derive(Debug)]
pub struct Sources<'a> {
    /// Verified ID-token claims (OIDC).
    pub claims: Option<&'a Value>,
    /// Userinfo (OIDC), already checked to name the same `sub`.
    pub userinfo: Option<&'a Value>,
    /// Profile API answers (plain OAuth 2.0), in spec order.
    pub profiles: &'a [(&'static str, Result<Value, ProviderError>)],
}

impl Sources<'_> {
    /// A claim from userinfo, else the ID token.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.userinfo
            .and_then(|u| u.get(name))
            .or_else(|| self.claims.and_then(|c| c.get(name)))
    }
    /// A string claim.
    pub fn string(&self, name: &str) -> Option<String> {
        self.claim(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }
    /// `email_verified` as a real boolean `true` (a string "true" does not count).
    pub fn verified(&self) -> bool {
        self.claim("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
    /// A profile API answer by name.
    pub fn profile(&self, name: &str) -> Result<&Value, ProviderError> {
        match self.profiles.iter().find(|(n, _)| *n == name) {
            Some((_, Ok(v))) => Ok(v),
            Some((_, Err(e))) => Err(e.clone()),
            None => Err(ProviderError::Invalid(format!("no {name} profile"))),
        }
    }
}

/// Provider-specific logic.
pub trait ProviderHooks: Send + Sync {
    /// The identity.
    fn identity(&self, sources: &Sources<'_>) -> Result<Identity, ProviderError>;
    /// The exact `iss` values accepted in ID tokens, given the discovered issuer and the
    /// token's claims.
    fn accepted_issuers(&self, metadata_issuer: &str, _claims: &Value) -> Vec<String> {
        vec![metadata_issuer.to_owned()]
    }
    /// Whether a failing profile API (other than the first) can be tolerated.
    fn profile_optional(&self, _name: &str) -> bool {
        false
    }
}

/// The standard OIDC identity: `sub`, `name`, `email`, `email_verified`.
pub fn oidc_identity(s: &Sources<'_>, name_claims: &[&str]) -> Result<Identity, ProviderError> {
    let sub = s
        .claims
        .and_then(|c| c.get("sub"))
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::Invalid("no sub".into()))?;
    Ok(Identity {
        user_id: sub.to_owned(),
        name: name_claims.iter().find_map(|c| s.string(c)),
        email: s.string("email"),
        email_verified: s.verified(),
        subject: Some(sub.to_owned()),
        issuer: s
            .claims
            .and_then(|c| c.get("iss"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// `base` (when set) with `path`, else `default_origin` with `path`.
pub fn at(base: Option<&Url>, default_origin: &str, path: &str) -> Url {
    let origin = base
        .map(|b| b.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| default_origin.to_owned());
    Url::parse(&format!("{origin}{path}")).expect("provider URLs are valid")
}

fn build(policy: &OAuthPolicy) -> (ProviderSpec, Box<dyn ProviderHooks>) {
    let base = policy.base_url.as_ref();
    match policy.provider {
        ProviderKind::Amazon => amazon::build(base),
        ProviderKind::Facebook => facebook::build(base),
        ProviderKind::Github => github::build(base),
        ProviderKind::Gitlab => gitlab::build(base),
        ProviderKind::Google => google::build(base),
        ProviderKind::Linkedin => linkedin::build(base),
        ProviderKind::Microsoft => microsoft::build(base, &policy.tenant),
        ProviderKind::Twitch => twitch::build(base),
        ProviderKind::Generic => generic::build(
            policy
                .generic
                .as_ref()
                .expect("validated: generic settings present"),
        ),
    }
}

/// The engine for one endpoint's provider.
pub struct Provider {
    /// Which provider.
    pub kind: ProviderKind,
    spec: ProviderSpec,
    hooks: Box<dyn ProviderHooks>,
    client_id: String,
    client_secret: Secret,
    extra_scopes: Vec<String>,
    redirect_uri: Url,
    http: reqwest::Client,
    oidc: Option<Oidc>,
}

/// What a login or refresh produced.
#[derive(Clone, Debug)]
pub struct Grant {
    /// Tokens.
    pub tokens: TokenSet,
    /// Identity.
    pub identity: Identity,
}

impl From<ProviderError> for RefreshError {
    fn from(error: ProviderError) -> Self {
        RefreshError { error, tokens: None }
    }
}

/// A failed refresh; `tokens` holds what the IdP issued when only the step after the token
/// request (the profile fetch, the identity checks) failed.
#[derive(Debug)]
pub struct RefreshError {
    /// What went wrong.
    pub error: ProviderError,
    /// Tokens the refresh already yielded.
    pub tokens: Option<TokenSet>,
}

impl Provider {
    /// The engine for `policy`, returning logins to `redirect_uri`.
    pub fn new(
        policy: &OAuthPolicy,
        redirect_uri: Url,
        http: reqwest::Client,
        clock: Clock,
        insecure_http_ok: bool,
    ) -> Provider {
        let (spec, hooks) = build(policy);
        let oidc = match &spec.endpoints {
            Endpoints::Oidc {
                discovery,
                expected_issuer,
            } => Some(Oidc::new(
                discovery.clone(),
                expected_issuer.clone(),
                http.clone(),
                clock,
                insecure_http_ok,
            )),
            Endpoints::Plain { .. } => None,
        };
        Provider {
            kind: policy.provider,
            spec,
            hooks,
            client_id: policy.client_id.clone(),
            client_secret: policy.client_secret.clone(),
            extra_scopes: policy.scopes.clone(),
            redirect_uri,
            http,
            oidc,
        }
    }

    /// Test-only ([`crate::faults::Fault::ExpiryLeewayInWrongUnit`]): the ID token's `exp`
    /// leeway, 60 s, read as milliseconds-turned-seconds (60,000 s).
    pub(crate) fn misread_expiry_leeway(&mut self) {
        if let Some(o) = &mut self.oidc {
            o.set_expiry_leeway(60_000);
        }
    }

    /// Test-only ([`crate::faults::Fault::SkipSignatureCheck`]): ID token signatures are
    /// not checked (the key set is still read).
    pub(crate) fn skip_signature_check(&mut self) {
        if let Some(o) = &mut self.oidc {
            o.skip_signature_check();
        }
    }

    /// Whether logins carry (and ID tokens must return) a nonce.
    pub fn is_oidc(&self) -> bool {
        self.oidc.is_some()
    }
    /// Whether logins use PKCE.
    pub fn uses_pkce(&self) -> bool {
        self.spec.pkce
    }
    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    async fn authorize_endpoint(&self) -> Result<Url, ProviderError> {
        match (&self.spec.endpoints, &self.oidc) {
            (_, Some(o)) => Ok(o.metadata().await?.authorization_endpoint.clone()),
            (Endpoints::Plain { authorize, .. }, None) => Ok(authorize.clone()),
            _ => unreachable!("OIDC providers have discovery"),
        }
    }

    async fn token_endpoint(&self) -> Result<Url, ProviderError> {
        match (&self.spec.endpoints, &self.oidc) {
            (_, Some(o)) => Ok(o.metadata().await?.token_endpoint.clone()),
            (Endpoints::Plain { token, .. }, None) => Ok(token.clone()),
            _ => unreachable!("OIDC providers have discovery"),
        }
    }

    /// The authorization URL for a login.
    pub async fn authorize_url(
        &self,
        state: &str,
        nonce: Option<&str>,
        verifier: Option<&Secret>,
        force_reauth: bool,
    ) -> Result<Url, ProviderError> {
        use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
        let auth = self.authorize_endpoint().await?;
        let client = oauth2::basic::BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(auth))
            .set_redirect_uri(RedirectUrl::from_url(self.redirect_uri.clone()));
        let state = state.to_owned();
        let mut req = client.authorize_url(move || CsrfToken::new(state));
        let mut scopes: Vec<String> = self.spec.login_scopes.clone();
        for s in &self.extra_scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        req = req.add_extra_param("scope", scopes.join(self.spec.scope_separator));
        if let Some(n) = nonce {
            req = req.add_extra_param("nonce", n.to_owned());
        }
        if let Some(v) = verifier {
            let challenge =
                PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(v.expose().to_owned()));
            req = req.set_pkce_challenge(challenge);
        }
        for (k, v) in &self.spec.extra_params {
            req = req.add_extra_param(*k, v.clone());
        }
        if force_reauth {
            for (k, v) in &self.spec.reauth_params {
                req = req.add_extra_param(*k, v.clone());
            }
        }
        Ok(req.url().0)
    }

    /// Checks the callback's RFC 9207 `iss` (mix-up defence): when present it must be the
    /// issuer; when the provider advertises the parameter it must be present.
    pub async fn check_callback_iss(&self, iss: Option<&str>) -> Result<(), ProviderError> {
        let Some(o) = &self.oidc else {
            return match iss {
                None => Ok(()),
                Some(i) => Err(ProviderError::Invalid(format!(
                    "unexpected iss {i:?} on the callback"
                ))),
            };
        };
        let meta = o.metadata().await?;
        match iss {
            Some(i) if i == meta.issuer => Ok(()),
            Some(i) => Err(ProviderError::Invalid(format!(
                "the callback comes from issuer {i:?}, not {:?}",
                meta.issuer
            ))),
            None if meta.iss_parameter_supported => Err(ProviderError::Invalid(
                "the provider advertises RFC 9207 but the callback has no iss".into(),
            )),
            None => Ok(()),
        }
    }

    /// Redeems a code: token request, ID-token verification, profile calls.
    pub async fn redeem(
        &self,
        code: &str,
        verifier: &Secret,
        nonce: Option<&str>,
    ) -> Result<Grant, ProviderError> {
        let url = self.token_endpoint().await?;
        let mut params = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
        ];
        if self.spec.pkce {
            params.push(("code_verifier", verifier.expose()));
        }
        let tokens = token::token_request(
            &self.http,
            &url,
            self.spec.client_auth,
            &self.client_id,
            &self.client_secret,
            &params,
        )
        .await?;
        let identity = self.identify(&tokens, nonce, None, true).await?;
        Ok(Grant { tokens, identity })
    }

    /// Refreshes with the refresh token, re-reads the profile, and checks the subject is the
    /// same user.
    pub async fn refresh(&self, refresh_token: &Secret, previous: &Identity) -> Result<Grant, RefreshError> {
        let url = self.token_endpoint().await?;
        let params = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let mut tokens = token::token_request(
            &self.http,
            &url,
            self.spec.client_auth,
            &self.client_id,
            &self.client_secret,
            &params,
        )
        .await
        .map_err(|error| RefreshError { error, tokens: None })?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.clone());
        }
        match self.identify(&tokens, None, Some(previous), false).await {
            Ok(identity) => Ok(Grant { tokens, identity }),
            // The refresh itself succeeded: a rotating IdP has already spent the old refresh
            // token, so the new ones must not be lost with this error.
            Err(error) => Err(RefreshError {
                error,
                tokens: Some(tokens),
            }),
        }
    }

    /// Re-reads the profile with the current access token (providers without refresh).
    pub async fn recheck(
        &self,
        access_token: &Secret,
        previous: &Identity,
    ) -> Result<Identity, ProviderError> {
        let tokens = TokenSet {
            access_token: access_token.clone(),
            refresh_token: None,
            expires_in: None,
            id_token: None,
        };
        self.identify(&tokens, None, Some(previous), false).await
    }

    async fn identify(
        &self,
        tokens: &TokenSet,
        nonce: Option<&str>,
        previous: Option<&Identity>,
        id_token_required: bool,
    ) -> Result<Identity, ProviderError> {
        let mut claims: Option<Value> = None;
        let mut userinfo: Option<Value> = None;
        let mut profiles = Vec::new();
        match (&self.oidc, &self.spec.endpoints) {
            (Some(o), _) => {
                let meta = o.metadata().await?;
                match &tokens.id_token {
                    Some(jwt) => {
                        let hooks = &self.hooks;
                        let issuers = |c: &Value| hooks.accepted_issuers(&meta.issuer, c);
                        let v = o
                            .verify(
                                jwt,
                                &self.client_id,
                                &self.client_secret,
                                &issuers,
                                nonce,
                                Some(tokens.access_token.expose()),
                            )
                            .await?;
                        claims = Some(v.claims);
                    }
                    None if id_token_required => {
                        return Err(ProviderError::Invalid(
                            "the token response has no id_token".into(),
                        ));
                    }
                    None => {
                        claims = previous
                            .and_then(|p| p.subject.as_ref())
                            .map(|s| serde_json::json!({"sub": s, "iss": p_iss(previous)}))
                    }
                }
                let sub = claims
                    .as_ref()
                    .and_then(|c| c.get("sub"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                // A refreshed ID token about another subject ends here, before any further
                // call to the IdP (OIDC Core §12.2; the OIDF refresh-token-invalid-sub module
                // fails a client that calls userinfo after it).
                if let Some(prev) = previous.and_then(|p| p.subject.as_deref())
                    && tokens.id_token.is_some()
                    && sub.as_deref() != Some(prev)
                {
                    return Err(ProviderError::Invalid(format!(
                        "the refreshed ID token names subject {sub:?}, the session {prev:?}"
                    )));
                }
                if let Some(url) = &meta.userinfo_endpoint {
                    let info = token::get_json(&self.http, url, &tokens.access_token, true).await?;
                    let info_sub = info.get("sub").and_then(Value::as_str);
                    if info_sub != sub.as_deref() {
                        return Err(ProviderError::Invalid(format!(
                            "userinfo names subject {info_sub:?}, the ID token {sub:?}"
                        )));
                    }
                    userinfo = Some(info);
                }
            }
            (None, Endpoints::Plain { profiles: urls, .. }) => {
                for (i, (name, url)) in urls.iter().enumerate() {
                    let r = token::get_json(&self.http, url, &tokens.access_token, self.spec.token_in_header)
                        .await;
                    if let Err(e) = &r
                        && (i == 0 || !self.hooks.profile_optional(name))
                    {
                        return Err(e.clone());
                    }
                    profiles.push((*name, r));
                }
            }
            (None, Endpoints::Oidc { .. }) => unreachable!("OIDC endpoints always build an Oidc engine"),
        }
        let identity = self.hooks.identity(&Sources {
            claims: claims.as_ref(),
            userinfo: userinfo.as_ref(),
            profiles: &profiles,
        })?;
        if let Some(prev) = previous {
            if prev.user_id != identity.user_id || prev.subject != identity.subject {
                return Err(ProviderError::Invalid(format!(
                    "the provider now reports another user ({:?} instead of {:?})",
                    identity.user_id, prev.user_id
                )));
            }
            if prev.issuer.is_some() && identity.issuer.is_some() && prev.issuer != identity.issuer {
                return Err(ProviderError::Invalid(
                    "the provider now reports another issuer".into(),
                ));
            }
        }
        Ok(identity)
    }

    /// The IdP's end-session URL (single logout), when it has one.
    pub async fn end_session_url(&self) -> Option<Url> {
        match &self.oidc {
            Some(o) => o
                .metadata()
                .await
                .ok()
                .and_then(|m| m.end_session_endpoint.clone()),
            None => None,
        }
    }
}

fn p_iss(previous: Option<&Identity>) -> Option<String> {
    previous.and_then(|p| p.issuer.clone())
}
