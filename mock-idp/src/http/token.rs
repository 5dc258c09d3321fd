//! The token endpoint: the `authorization_code`, `refresh_token` and (where the provider has it)
//! `client_credentials` grants.
//!
//! Validate (form body, no repeated parameters, one client authentication method, the
//! grant's bindings: client, redirect_uri, PKCE, expiry, single use) → apply the scripted
//! outcome → mint → let the personality shape the answer. Requests with
//! `grant_type=refresh_token` are the [`Endpoint::Refresh`] endpoint for scripting and
//! expectations.
//!
//! Where a provider really accepts more (Facebook's GET, credentials in the query at
//! Amazon and Twitch), its profile says so; the standard personality accepts neither.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;

use super::client_auth::{
    authenticate_client, basic_client_id, device_flow_client, presents_credentials, token_audiences,
};
use super::params::{Params, check_body};
use super::scripted::{
    infrastructure_response, outcome, outcome_if, scripted_failure, take_infrastructure_fault,
};
use crate::assertion::{AssertionFault, AssertionProblem};
use crate::clients::{Client, RefreshRotation};
use crate::lint::Finding;
use crate::log::Recorder;
use crate::outcome::Outcome;
use crate::personality::{DEVICE_CODE_GRANT, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT};
use crate::personality::{PkceSupport, Profile, TokenContext, TokenFailure, TokenSuccess};
use crate::script::Request;
use crate::script::ScriptEntry;
use crate::shared::Shared;
use crate::store::{Grant, GrantProblem};
use crate::tokens::{MintRequest, mint};
use crate::types::{ClientId, Endpoint, GrantType, ScopeSet};

/// The parameters of a token request, wherever the provider lets them come from.
struct TokenRequest {
    /// Parameters that count as the request body.
    form: Params,
    /// The URL query (client credentials there are refused unless the provider allows).
    query: Params,
}

/// The grant a token request asks for, as script entries name it (`None` for a refresh,
/// which is [`Endpoint::Refresh`], and for grants the provider does not know).
fn grant_of(form: &Params, profile: &Profile) -> Option<GrantType> {
    match form.get("grant_type") {
        None if profile.grant_type_optional => Some(GrantType::AuthorizationCode),
        Some("authorization_code") => Some(GrantType::AuthorizationCode),
        Some("client_credentials") => Some(GrantType::ClientCredentials),
        Some("password") => Some(GrantType::Password),
        Some(g) if g == DEVICE_CODE_GRANT || profile.device_code_grant_alias == Some(g) => {
            Some(GrantType::DeviceCode)
        }
        Some(TOKEN_EXCHANGE_GRANT) => Some(GrantType::TokenExchange),
        Some(JWT_BEARER_GRANT) => Some(GrantType::JwtBearer),
        _ => None,
    }
}

/// `POST /token` (and `GET` where the provider allows it).
pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    Extension(rec): Extension<Recorder>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let profile = shared.personality.profile();
    let query = Params::from_query(uri.query());
    // GET (Facebook) and empty-bodied POSTs where the provider reads the query (Amazon, as
    // Auth.js calls it) carry every parameter in the URL.
    let from_query = method == Method::GET || (profile.client_auth_in_query && body.is_empty());
    let req = if from_query {
        TokenRequest {
            form: query.clone(),
            query: Params::default(),
        }
    } else {
        TokenRequest {
            form: Params::from_body(&headers, &body, profile.json_bodies),
            query,
        }
    };
    rec.params(req.query.pairs());
    rec.params(req.form.pairs());
    let endpoint = if req.form.get("grant_type") == Some("refresh_token") {
        Endpoint::Refresh
    } else {
        Endpoint::Token
    };
    rec.endpoint(endpoint);
    // Who the request says it is from, before anything is checked: for script entries of one
    // client, including one that authenticates by an assertion only (its unverified `iss`).
    let client_hint = req
        .form
        .get("client_id")
        .map(ClientId::new)
        .or_else(|| basic_client_id(&headers))
        .or_else(|| {
            let assertion = req.form.get("client_assertion").or(req.form.get("assertion"))?;
            crate::assertion::read_grant(assertion)
                .ok()
                .map(|a| ClientId::new(a.client_id))
        });
    let request = Request {
        endpoint,
        client: client_hint.as_ref(),
        grant: grant_of(&req.form, profile),
    };
    if let Some(fault) = take_infrastructure_fault(&shared, request) {
        return infrastructure_response(&shared, endpoint, fault, &rec).await;
    }
    match exchange(&shared, &rec, &headers, &req, from_query).await {
        Ok(resp) => resp,
        Err(failure) => {
            rec.error(format!(
                "{}: {}",
                failure.code(),
                failure.description().unwrap_or_default()
            ));
            shared.personality.token_error(&failure, &headers)
        }
    }
}

async fn exchange(
    shared: &Shared,
    rec: &Recorder,
    headers: &HeaderMap,
    req: &TokenRequest,
    from_query: bool,
) -> Result<Response, TokenFailure> {
    let form = &req.form;
    if !from_query {
        check_body(headers, form).map_err(TokenFailure::InvalidRequest)?;
    }
    if form.is_json() {
        rec.finding(Finding::json_body(&shared.personality.profile().display_name));
    }
    if let Some(name) = form.repeated().first() {
        return Err(TokenFailure::InvalidRequest(format!(
            "parameter {name} is repeated (RFC 6749 §3.1)"
        )));
    }
    let profile = shared.personality.profile();
    if form.get("grant_type") == Some(JWT_BEARER_GRANT)
        && profile.jwt_bearer
        && !presents_credentials(headers, form)
    {
        // RFC 7523 §3.1: the signed assertion is enough (Google's service accounts).
        return jwt_bearer_grant(shared, rec, headers, form).await;
    }
    let client = if grant_of(form, profile) == Some(GrantType::DeviceCode) {
        device_flow_client(shared, headers, form, &req.query, rec)?.client
    } else {
        authenticate_client(shared, headers, form, &req.query, rec)?.client
    };
    let call = Call {
        shared,
        rec,
        client: &client,
        headers,
        form,
    };
    let grant = grant_of(form, profile);
    match (grant, form.get("grant_type")) {
        (Some(GrantType::AuthorizationCode), _) => code_grant(&call).await,
        (_, Some("refresh_token")) => refresh_grant(&call).await,
        (Some(GrantType::ClientCredentials), _) if profile.client_credentials => {
            client_credentials_grant(&call).await
        }
        (Some(GrantType::DeviceCode), _) if profile.paths.device_authorization.is_some() => {
            device_code_grant(&call).await
        }
        (Some(GrantType::Password), _) if profile.password_grant => password_grant(&call).await,
        (Some(GrantType::TokenExchange), _) if profile.token_exchange => token_exchange_grant(&call).await,
        (Some(GrantType::JwtBearer), _)
            if profile.on_behalf_of && form.get("requested_token_use") == Some("on_behalf_of") =>
        {
            on_behalf_of_grant(&call).await
        }
        (Some(GrantType::JwtBearer), _) if profile.jwt_bearer => {
            jwt_bearer_grant(shared, rec, headers, form).await
        }
        (_, None) => Err(TokenFailure::InvalidRequest("grant_type is missing".into())),
        (_, Some(other)) => {
            let mut grants = shared.personality.profile().grant_types();
            let last = grants.pop().expect("two at least");
            Err(TokenFailure::UnsupportedGrantType(format!(
                "grant_type {other:?} is not supported; use {} or {last}",
                grants.join(", ")
            )))
        }
    }
}

/// A token request from an authenticated client: what every grant works with.
struct Call<'a> {
    shared: &'a Shared,
    rec: &'a Recorder,
    client: &'a Client,
    headers: &'a HeaderMap,
    form: &'a Params,
}

impl Call<'_> {
    /// What script entries are matched against for this token request.
    fn script_request(&self) -> Request<'_> {
        Request {
            endpoint: Endpoint::Token,
            client: Some(&self.client.id),
            grant: grant_of(self.form, self.shared.personality.profile()),
        }
    }
    /// A parameter the grant cannot do without.
    fn required(&self, name: &str) -> Result<&str, TokenFailure> {
        self.form
            .get(name)
            .ok_or_else(|| TokenFailure::InvalidRequest(format!("{name} is missing")))
    }

    /// The success answer, in the personality's shape.
    fn success(&self, success: &TokenSuccess, grant: &Grant, refresh: bool) -> Response {
        let user = self.shared.store.lock().unwrap().users.get(&grant.user).cloned();
        let ctx = TokenContext {
            headers: self.headers,
            grant,
            user: user.as_ref(),
            params: self.form.pairs(),
            refresh,
        };
        self.shared.personality.token_success(success, &ctx)
    }
}

async fn code_grant(call: &Call<'_>) -> Result<Response, TokenFailure> {
    let (shared, rec, client, form) = (call.shared, call.rec, call.client, call.form);
    let code = call.required("code")?;
    let verifier = match shared.personality.profile().pkce {
        PkceSupport::Standard => form.get("code_verifier"),
        PkceSupport::Ignored => None,
    };
    if let Some(v) = verifier {
        let ok = (43..=128).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !ok {
            return Err(TokenFailure::InvalidRequest(
                "code_verifier is malformed: 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)".into(),
            ));
        }
    }
    let redirect_uri = form.get("redirect_uri");
    let now = shared.clock.now();
    let grant_id = {
        let mut store = shared.store.lock().unwrap();
        store
            .redeem_code(
                code,
                &client.id,
                redirect_uri,
                shared.personality.profile().redirect_uri_required_at_token,
                verifier,
                now,
            )
            .inspect_err(|p| match p {
                GrantProblem::CodeReused => rec.finding(Finding::code_reused()),
                GrantProblem::RedirectUriMismatch if redirect_uri.is_none() => {
                    rec.finding(Finding::redirect_uri_not_repeated())
                }
                _ => {}
            })
    }
    .map_err(TokenFailure::InvalidGrant)?;
    let grant = shared
        .store
        .lock()
        .unwrap()
        .grant(grant_id)
        .cloned()
        .expect("redeemed code has a grant");
    let user = shared.store.lock().unwrap().users.get(&grant.user).cloned();
    if let Some(user) = &user {
        shared
            .personality
            .check_code_exchange(form.pairs(), &grant, user)?;
    }

    // A scripted refusal spends the code's grant, as a real refused exchange would.
    let scripted = match scripted_change(call).await {
        Ok(scripted) => scripted,
        Err(failure) => {
            shared.store.lock().unwrap().revoke_grant(grant_id);
            return Err(failure);
        }
    };
    let refresh = shared.personality.issues_refresh_token(&grant, client);
    Ok(mint_answer(call, Some(grant_id), &grant, refresh, scripted))
}

/// Mints the tokens of `grant` (not a refresh) with what the script changes, and answers. A
/// grant made at the token endpoint itself (`grant_id` `None`) is stored under the same lock,
/// so no purge can come between it and its tokens.
fn mint_answer(
    call: &Call<'_>,
    grant_id: Option<u64>,
    grant: &Grant,
    refresh: bool,
    scripted: ScriptedMint,
) -> Response {
    let success = {
        let mut store = call.shared.store.lock().unwrap();
        let grant_id = grant_id.unwrap_or_else(|| store.create_grant(grant.clone()));
        mint(
            call.shared,
            &mut store,
            MintRequest {
                grant_id,
                grant,
                refresh,
                is_refresh: false,
                fault: scripted.fault,
                change: scripted.change,
            },
        )
    };
    call.success(&success, grant, false)
}

/// `client_credentials` (RFC 6749 §4.4): a confidential client allowed the grant, the scopes
/// the personality accepts (no `openid`: there is no user); an access token and nothing else.
async fn client_credentials_grant(call: &Call<'_>) -> Result<Response, TokenFailure> {
    let (shared, client, form) = (call.shared, call.client, call.form);
    if client.is_public() || !client.client_credentials {
        return Err(TokenFailure::UnauthorizedClient(format!(
            "client {} may not use the client_credentials grant{}",
            client.id,
            if client.is_public() {
                " (it is a public client)"
            } else {
                ""
            }
        )));
    }
    let separators = &shared.personality.profile().scope_separators;
    let requested = ScopeSet::parse(form.get("scope").unwrap_or(""), separators);
    let scopes = shared.personality.client_credentials_scopes(&requested)?;
    mint_direct(
        call,
        Grant::owner_for_client(&client.id),
        scopes,
        Direct::ForTheClient,
    )
    .await
}

/// A device polls (RFC 8628 §3.4–3.5): pending, too fast, denied or expired until a person
/// approves; then the tokens, once.
async fn device_code_grant(call: &Call<'_>) -> Result<Response, TokenFailure> {
    use crate::device::DeviceCodeProblem;
    let (shared, client) = (call.shared, call.client);
    let device_code = call.required("device_code")?;
    let refused = |problem| match problem {
        DeviceCodeProblem::Unknown => TokenFailure::InvalidGrant(GrantProblem::CodeUnknown),
        DeviceCodeProblem::OtherClient => TokenFailure::InvalidGrant(GrantProblem::CodeClientMismatch),
        DeviceCodeProblem::Redeemed => TokenFailure::InvalidGrant(GrantProblem::CodeReused),
    };
    let check = shared
        .store
        .lock()
        .unwrap()
        .devices
        .check(device_code, &client.id);
    check.map_err(refused)?;
    // An error scripted for device polls (`on_device_token()`) answers this poll whatever the
    // person decided, and the device may poll again: its code is not spent. Anything else
    // scripted — a changed answer, or an entry for every token request — waits for the poll
    // that gets tokens, so a device polling in the background does not use it up.
    let error_for_polls = |e: &ScriptEntry| {
        e.grant == Some(GrantType::DeviceCode)
            && matches!(e.outcome, Outcome::InvalidGrant | Outcome::OAuthError { .. })
    };
    if let Some(scripted) = outcome_if(shared, call.rec, call.script_request(), error_for_polls).await {
        scripted_failure(scripted)?;
    }
    let now = shared.clock.now();
    let polled = shared
        .store
        .lock()
        .unwrap()
        .devices
        .poll(device_code, &client.id, now);
    let (user, scopes) = match polled {
        Err(problem) => return Err(refused(problem)),
        Ok(Err(problem)) => return Err(TokenFailure::Device(problem)),
        Ok(Ok(approved)) => approved,
    };
    // The person approved on the verification page: a consent, as at Google.
    mint_direct(call, user, scopes, Direct::ForTheUser { consent_shown: true }).await
}

/// Whom a grant made at the token endpoint itself (no authorization code) is for.
#[derive(Clone, Copy)]
enum Direct {
    /// A user: refresh tokens as the personality issues them.
    ForTheUser {
        /// Whether the user approved it on a page of the IdP (Google then issues refresh tokens).
        consent_shown: bool,
    },
    /// The client itself (client credentials, a service account): an access token only.
    ForTheClient,
}

/// What a scripted outcome changes in a successful answer.
#[derive(Default)]
struct ScriptedMint {
    change: Option<crate::outcome::TokenResponseChange>,
    fault: Option<crate::outcome::IdTokenFault>,
}

/// The scripted outcome of a token request that passed its checks: a refusal, a changed
/// successful answer, or nothing.
async fn scripted_change(call: &Call<'_>) -> Result<ScriptedMint, TokenFailure> {
    let scripted = outcome(call.shared, call.rec, call.script_request()).await;
    match scripted.map(scripted_failure).transpose()? {
        Some(Outcome::TokenResponse { change }) => Ok(ScriptedMint {
            change: Some(change),
            fault: None,
        }),
        Some(Outcome::IdToken { fault }) => Ok(ScriptedMint {
            change: None,
            fault: Some(fault),
        }),
        _ => Ok(ScriptedMint::default()),
    }
}

/// A grant made at the token endpoint itself (client credentials, device code, password, token
/// exchange, JWT bearer, on-behalf-of), minted now after the scripted outcome. It keeps no
/// request parameters: the token request carries credentials, and no hook reads it later.
async fn mint_direct(
    call: &Call<'_>,
    user: crate::types::UserId,
    scopes: ScopeSet,
    direct: Direct,
) -> Result<Response, TokenFailure> {
    let scripted = scripted_change(call).await?;
    let (shared, client) = (call.shared, call.client);
    let now = shared.clock.now();
    let grant = Grant {
        client: client.id.clone(),
        user,
        scopes: scopes.clone(),
        requested: scopes,
        request: Vec::new(),
        auth_time: now
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        nonce: None,
        consent_shown: matches!(direct, Direct::ForTheUser { consent_shown: true }),
        revoked: false,
    };
    let refresh = match direct {
        Direct::ForTheUser { .. } => shared.personality.issues_refresh_token(&grant, client),
        Direct::ForTheClient => false,
    };
    Ok(mint_answer(call, None, &grant, refresh, scripted))
}

/// The resource-owner password grant (RFC 6749 §4.3), where the provider still has it: the
/// user's configured password, a confidential client, an enabled user.
async fn password_grant(call: &Call<'_>) -> Result<Response, TokenFailure> {
    let (shared, client, form) = (call.shared, call.client, call.form);
    if client.is_public() {
        return Err(TokenFailure::UnauthorizedClient(format!(
            "client {} is public: the password grant needs a confidential client",
            client.id
        )));
    }
    let username = call.required("username")?;
    let password = call.required("password")?;
    let user = {
        let store = shared.store.lock().unwrap();
        store
            .users
            .values()
            .find(|u| {
                u.id.as_str() == username
                    || u.username.as_deref() == Some(username)
                    || u.email.as_deref() == Some(username)
            })
            .cloned()
    };
    let Some(user) =
        user.filter(|u| !u.disabled && u.password.as_ref().is_some_and(|p| p.expose() == password))
    else {
        return Err(TokenFailure::InvalidGrant(GrantProblem::BadCredentials));
    };
    let scopes = ScopeSet::parse(
        form.get("scope").unwrap_or(""),
        &shared.personality.profile().scope_separators,
    );
    mint_direct(call, user.id, scopes, Direct::ForTheUser { consent_shown: false }).await
}

/// RFC 8693 token exchange: an active access token of this IdP (`subject_token`) for a new one
/// issued to the calling client, scopes no wider than the subject's.
async fn token_exchange_grant(call: &Call<'_>) -> Result<Response, TokenFailure> {
    const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    let (shared, form) = (call.shared, call.form);
    let subject = call.required("subject_token")?;
    match call.required("subject_token_type")? {
        ACCESS_TOKEN => {}
        other => {
            return Err(TokenFailure::InvalidRequest(format!(
                "subject_token_type {other:?} is not supported; use {ACCESS_TOKEN}"
            )));
        }
    }
    if let Some(t) = form.get("requested_token_type")
        && t != ACCESS_TOKEN
    {
        return Err(TokenFailure::InvalidRequest(format!(
            "requested_token_type {t:?} is not supported; use {ACCESS_TOKEN}"
        )));
    }
    if form.has("actor_token") {
        return Err(TokenFailure::InvalidRequest(
            "actor_token (delegation) is not supported; send subject_token alone (impersonation)".into(),
        ));
    }
    let now = shared.clock.now();
    let info = shared
        .store
        .lock()
        .unwrap()
        .check_access_token(subject, now)
        .map_err(|_| TokenFailure::InvalidGrant(GrantProblem::SubjectTokenInactive))?;
    let scopes = match form.get("scope") {
        None => info.scopes.clone(),
        Some(s) => {
            let asked = ScopeSet::parse(s, &shared.personality.profile().scope_separators);
            if !asked.is_subset(&info.scopes) {
                return Err(TokenFailure::InvalidScope(format!(
                    "scope {s:?} exceeds the subject token's ({})",
                    info.scopes.join(" ")
                )));
            }
            asked
        }
    };
    let resp = mint_direct(
        call,
        info.grant.user.clone(),
        scopes,
        Direct::ForTheUser { consent_shown: false },
    )
    .await?;
    Ok(with_issued_token_type(resp, ACCESS_TOKEN).await)
}

/// Adds RFC 8693 §2.2.1's `issued_token_type` to a JSON token response.
async fn with_issued_token_type(resp: Response, token_type: &str) -> Response {
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let mut json: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => return Response::from_parts(parts, axum::body::Body::from(bytes)),
    };
    json["issued_token_type"] = serde_json::Value::String(token_type.to_owned());
    let mut parts = parts;
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(json.to_string()))
}

/// RFC 7523 §2.1: an assertion signed by a registered client (its `iss`) with its keys or
/// secret, for the user it names (`sub`) or, without one, for the client itself (a Google
/// service account); scopes from the request or the assertion's `scope` claim (Google's).
async fn jwt_bearer_grant(
    shared: &Shared,
    rec: &Recorder,
    headers: &HeaderMap,
    form: &Params,
) -> Result<Response, TokenFailure> {
    let jwt = form
        .get("assertion")
        .ok_or_else(|| TokenFailure::InvalidRequest("assertion is missing (RFC 7523 §2.1)".into()))?;
    let assertion = crate::assertion::read_grant(jwt).map_err(TokenFailure::BadAssertion)?;
    let issuer = ClientId::new(&assertion.client_id);
    rec.client(&issuer);
    let client = shared
        .store
        .lock()
        .unwrap()
        .clients
        .get(&issuer)
        .cloned()
        .ok_or_else(|| {
            TokenFailure::BadAssertion(AssertionProblem::new(
                AssertionFault::UnknownIssuer,
                format!("the assertion's iss {issuer} is not a registered client"),
            ))
        })?;
    let now = shared.clock.now();
    // The mock's own URLs, and the real provider's token URL its libraries sign.
    let mut audiences = token_audiences(shared);
    audiences.extend(
        shared
            .personality
            .profile()
            .grant_assertion_audiences
            .iter()
            .cloned(),
    );
    {
        let mut store = shared.store.lock().unwrap();
        assertion
            .verify_with(&client, &audiences, now, &mut store.assertions, true)
            .map_err(TokenFailure::BadAssertion)?;
    }
    let (user, direct) = match assertion.subject() {
        None => (Grant::owner_for_client(&client.id), Direct::ForTheClient),
        Some(sub) => {
            let store = shared.store.lock().unwrap();
            let user = store
                .users
                .values()
                .find(|u| u.id.as_str() == sub || u.email.as_deref() == Some(sub))
                .filter(|u| !u.disabled)
                .ok_or_else(|| {
                    TokenFailure::BadAssertion(AssertionProblem::new(
                        AssertionFault::UnknownSubject,
                        format!("the assertion's sub {sub:?} is not a user of this IdP"),
                    ))
                })?;
            (user.id.clone(), Direct::ForTheUser { consent_shown: false })
        }
    };
    let separators = &shared.personality.profile().scope_separators;
    let scopes = ScopeSet::parse(
        form.get("scope").or(assertion.claim("scope")).unwrap_or(""),
        separators,
    );
    let call = Call {
        shared,
        rec,
        client: &client,
        headers,
        form,
    };
    mint_direct(&call, user, scopes, direct).await
}

/// Entra's on-behalf-of flow: a middle-tier API trades the user's access token (the
/// `assertion`) for one to another API (`scope`), for the same user.
async fn on_behalf_of_grant(call: &Call<'_>) -> Result<Response, TokenFailure> {
    let shared = call.shared;
    let assertion = call.required("assertion")?;
    let scope = call.required("scope")?;
    let now = shared.clock.now();
    let info = shared
        .store
        .lock()
        .unwrap()
        .check_access_token(assertion, now)
        .map_err(|_| TokenFailure::InvalidGrant(GrantProblem::SubjectTokenInactive))?;
    let scopes = ScopeSet::parse(scope, &shared.personality.profile().scope_separators);
    mint_direct(
        call,
        info.grant.user.clone(),
        scopes,
        Direct::ForTheUser { consent_shown: false },
    )
    .await
}

async fn refresh_grant(call: &Call<'_>) -> Result<Response, TokenFailure> {
    let (shared, rec, client, form) = (call.shared, call.rec, call.client, call.form);
    let token = call.required("refresh_token")?;
    let now = shared.clock.now();
    let used = shared
        .store
        .lock()
        .unwrap()
        .check_refresh_token(token, &client.id, now)
        .inspect_err(|p| {
            if *p == GrantProblem::RefreshReused {
                rec.finding(Finding::refresh_token_reused());
            }
        })
        .map_err(TokenFailure::InvalidGrant)?;
    let mut grant = used.grant.clone();
    if let Some(scope) = form.get("scope") {
        let asked = ScopeSet::parse(scope, &shared.personality.profile().scope_separators);
        if !asked.is_subset(&grant.scopes) {
            return Err(TokenFailure::InvalidScope(format!(
                "scope {scope:?} exceeds the original grant ({})",
                grant.scopes.join(" ")
            )));
        }
        grant.scopes = asked;
    }
    let mut rotation = shared.personality.refresh_rotation(client);
    let mut fault = None;
    let mut change = None;
    if let Some(scripted) = outcome(shared, rec, Request::to(Endpoint::Refresh, Some(&client.id))).await {
        match scripted {
            Outcome::RefreshRevoked => {
                shared.store.lock().unwrap().revoke_token(token, Some(&client.id));
                return Err(TokenFailure::InvalidGrant(GrantProblem::RefreshRevoked));
            }
            Outcome::RefreshExpired => {
                shared.store.lock().unwrap().expire_refresh_token(token, now);
                return Err(TokenFailure::InvalidGrant(GrantProblem::RefreshExpired));
            }
            Outcome::InvalidGrant => return Err(TokenFailure::InvalidGrant(GrantProblem::ScriptedRefresh)),
            Outcome::OAuthError {
                status,
                error,
                description,
            } => {
                return Err(TokenFailure::Scripted {
                    status,
                    error,
                    description,
                });
            }
            Outcome::RefreshRotated => rotation = RefreshRotation::Rotate,
            Outcome::IdToken { fault: f } => fault = Some(f),
            Outcome::TokenResponse { change: c } => change = Some(c),
            _ => {}
        }
    }
    let success = {
        let mut store = shared.store.lock().unwrap();
        if shared.personality.profile().refresh_revokes_access_tokens {
            store.revoke_access_tokens_of(used.grant_id);
        }
        let refresh = rotation != RefreshRotation::Never;
        let success = mint(
            shared,
            &mut store,
            MintRequest {
                grant_id: used.grant_id,
                grant: &grant,
                refresh,
                is_refresh: true,
                fault,
                change,
            },
        );
        if rotation == RefreshRotation::Rotate {
            store.rotate_out_refresh_token(token);
        }
        success
    };
    Ok(call.success(&success, &grant, true))
}
