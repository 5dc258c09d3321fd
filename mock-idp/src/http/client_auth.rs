//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3): exactly
//! one method, Basic credentials form-urldecoded, a method both the provider and the client
//! registration accept, the right secret. Failures are [`TokenFailure::InvalidClient`] (or
//! `invalid_request` for a request that is malformed rather than wrong), in the
//! personality's shape once rendered.

use axum::http::{HeaderMap, header};
use base64::Engine;

use super::params::Params;
use crate::clients::{Client, TokenAuthMethod};
use crate::lint::Finding;
use crate::log::Recorder;
use crate::personality::{ClientProblem, TokenFailure};
use crate::shared::Shared;
use crate::types::ClientId;

/// A client that proved who it is.
pub(super) struct AuthenticatedClient {
    pub client: Client,
}

/// Client authentication at the token and revocation endpoints (RFC 6749 §2.3).
///
/// Exactly one method; Basic credentials are form-urlencoded before base64 (§2.3.1); the
/// method must be one the client registered; a secret in the URL query is refused.
pub(super) fn authenticate_client(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Params,
    query: &Params,
    rec: &Recorder,
) -> Result<AuthenticatedClient, TokenFailure> {
    let invalid = |problem: ClientProblem, d: &str, basic: bool| TokenFailure::InvalidClient {
        problem,
        description: d.to_owned(),
        basic,
    };
    if body.has("client_assertion") || body.has("client_assertion_type") {
        return assertion_client(shared, headers, body, rec);
    }
    let query_allowed = shared.personality.profile().client_auth_in_query;
    if query.has("client_secret") {
        rec.finding(Finding::secret_in_query());
    }
    if query.has("client_secret") && !query_allowed {
        return Err(TokenFailure::InvalidRequest(
            "client_secret must not be sent in the URL query; send it in the form body or an Authorization: Basic header"
                .into(),
        ));
    }
    let basic = match headers.get(header::AUTHORIZATION) {
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| invalid(ClientProblem::Malformed, "malformed Authorization header", true))?;
            let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(invalid(
                    ClientProblem::Malformed,
                    &format!(
                        "Authorization scheme {scheme:?} is not accepted here; use Basic client credentials"
                    ),
                    true,
                ));
            }
            Some(basic_credentials(rest).map_err(|why| invalid(ClientProblem::Malformed, why, true))?)
        }
        None => None,
    };
    let from_query = |name: &str| if query_allowed { query.get(name) } else { None };
    let body_id = body.get("client_id").or_else(|| from_query("client_id"));
    let body_secret = body.get("client_secret").or_else(|| from_query("client_secret"));
    if basic.is_some() && body_secret.is_some() {
        rec.finding(Finding::multiple_client_auth());
        return Err(TokenFailure::InvalidRequest(
            "the client authenticated twice (Authorization header and client_secret in the body); use exactly one method"
                .into(),
        ));
    }
    let (id, secret, method) = match (&basic, body_id) {
        (Some((id, secret)), other) => {
            if let Some(other) = other
                && other != id
            {
                return Err(TokenFailure::InvalidRequest(format!(
                    "client_id {other:?} in the body differs from {id:?} in the Authorization header"
                )));
            }
            (
                id.clone(),
                Some(secret.clone()),
                TokenAuthMethod::ClientSecretBasic,
            )
        }
        (None, Some(id)) => match body_secret {
            Some(s) => (
                id.to_owned(),
                Some(s.to_owned()),
                TokenAuthMethod::ClientSecretPost,
            ),
            None => (id.to_owned(), None, TokenAuthMethod::None),
        },
        (None, None) => {
            return Err(invalid(
                ClientProblem::Missing,
                "client authentication is required: send Authorization: Basic or client_id (and client_secret) in the body",
                false,
            ));
        }
    };
    let client_id = ClientId::new(id);
    rec.client(&client_id);
    let is_basic = method == TokenAuthMethod::ClientSecretBasic;
    let client = registered_client(shared, rec, &client_id, method)
        .map_err(|(problem, why)| invalid(problem, &why, is_basic))?;
    match (&client.secret, secret) {
        (Some(expected), Some(presented)) if expected.matches(&presented) => {}
        (Some(_), Some(_)) => {
            return Err(invalid(
                ClientProblem::WrongSecret,
                "client authentication failed: wrong client_secret",
                is_basic,
            ));
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(invalid(
                ClientProblem::WrongSecret,
                "client_secret is required for this client",
                is_basic,
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                ClientProblem::WrongSecret,
                "this is a public client: it has no secret and must not send one",
                is_basic,
            ));
        }
    }
    Ok(AuthenticatedClient { client })
}

/// The registered client `client_id`, whoever asks.
fn known_client(
    shared: &Shared,
    rec: &Recorder,
    client_id: &ClientId,
) -> Result<Client, (ClientProblem, String)> {
    let client = shared
        .store
        .lock()
        .unwrap()
        .clients
        .get(client_id)
        .cloned()
        .ok_or_else(|| (ClientProblem::Unknown, format!("unknown client {client_id}")))?;
    rec.client(&client.id);
    Ok(client)
}

/// The client of a device flow request: where the provider identifies it by `client_id`
/// alone (`Profile::device_flow_by_client_id`: GitHub, whose device flow takes no secret), a
/// request with nothing but a `client_id` names a registered client; any credentials that
/// are sent are checked as [`authenticate_client`] does, and so is every other provider's
/// device flow (RFC 8628 §3.1, §3.4: client authentication per RFC 6749 §2.3.1).
pub(super) fn device_flow_client(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Params,
    query: &Params,
    rec: &Recorder,
) -> Result<AuthenticatedClient, TokenFailure> {
    let by_id = shared.personality.profile().device_flow_by_client_id
        && !headers.contains_key(header::AUTHORIZATION)
        && !["client_secret", "client_assertion", "client_assertion_type"]
            .iter()
            .any(|p| body.has(p))
        && !query.has("client_secret");
    match body.get("client_id") {
        Some(id) if by_id => known_client(shared, rec, &ClientId::new(id))
            .map(|client| AuthenticatedClient { client })
            .map_err(|(problem, description)| TokenFailure::InvalidClient {
                problem,
                description,
                basic: false,
            }),
        _ => authenticate_client(shared, headers, body, query, rec),
    }
}

/// `client_secret_jwt` / `private_key_jwt` (RFC 7523 §2.2): one assertion, no other
/// credentials, a method the provider and the client accept, then every check of
/// [`crate::assertion`].
fn assertion_client(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Params,
    rec: &Recorder,
) -> Result<AuthenticatedClient, TokenFailure> {
    use crate::assertion::{JWT_BEARER, read};
    let invalid = |problem: ClientProblem, d: String| TokenFailure::InvalidClient {
        problem,
        description: d,
        basic: false,
    };
    if headers.contains_key(header::AUTHORIZATION) || body.has("client_secret") {
        rec.finding(Finding::multiple_client_auth());
        return Err(TokenFailure::InvalidRequest(
            "the client authenticated twice (a client_assertion and a secret); use exactly one method".into(),
        ));
    }
    match body.get("client_assertion_type") {
        Some(JWT_BEARER) => {}
        other => {
            return Err(TokenFailure::InvalidRequest(format!(
                "client_assertion_type must be {JWT_BEARER}, not {other:?}"
            )));
        }
    }
    let jwt = body
        .get("client_assertion")
        .ok_or_else(|| TokenFailure::InvalidRequest("client_assertion is missing".into()))?;
    let assertion = read(jwt).map_err(|why| invalid(ClientProblem::Malformed, why.description))?;
    if let Some(id) = body.get("client_id")
        && id != assertion.client_id
    {
        return Err(TokenFailure::InvalidRequest(format!(
            "client_id {id:?} differs from the client_assertion's iss {:?}",
            assertion.client_id
        )));
    }
    let client_id = ClientId::new(&assertion.client_id);
    rec.client(&client_id);
    let client = registered_client(shared, rec, &client_id, assertion.method)
        .map_err(|(problem, why)| invalid(problem, why))?;
    let audiences = token_audiences(shared);
    let now = shared.clock.now();
    let mut store = shared.store.lock().unwrap();
    store.purge(now);
    assertion
        .verify(&client, &audiences, now, &mut store.assertions)
        .map_err(|why| invalid(ClientProblem::WrongSecret, why.description))?;
    Ok(AuthenticatedClient { client })
}

/// The registered client `client_id` names, if it may authenticate with `method` here: a method
/// the provider accepts and the client registered. Records the registered id (shared by the
/// log's hits instead of a copy per request).
fn registered_client(
    shared: &Shared,
    rec: &Recorder,
    client_id: &ClientId,
    method: TokenAuthMethod,
) -> Result<Client, (ClientProblem, String)> {
    let client = known_client(shared, rec, client_id)?;
    let accepted = &shared.personality.profile().client_auth_methods;
    if !accepted.contains(&method) {
        let names: Vec<&str> = accepted.iter().map(|m| m.as_str()).collect();
        return Err((
            ClientProblem::MethodRefused,
            format!(
                "this provider does not accept {}; it accepts: {}",
                method.as_str(),
                names.join(", ")
            ),
        ));
    }
    if !client.auth_methods.contains(&method) {
        let registered: Vec<&str> = client.auth_methods.iter().map(|m| m.as_str()).collect();
        return Err((
            ClientProblem::MethodRefused,
            format!(
                "client {client_id} may not authenticate with {}; registered: {}",
                method.as_str(),
                registered.join(", ")
            ),
        ));
    }
    Ok(client)
}

/// What an assertion sent to the token endpoint may name as its `aud`: the issuer or the
/// token endpoint's URL (any of its paths).
pub(super) fn token_audiences(shared: &Shared) -> Vec<String> {
    let profile = shared.personality.profile();
    let mut audiences = vec![
        shared.issuer.clone(),
        format!("{}{}", shared.base, profile.paths.token),
    ];
    audiences.extend(
        profile
            .token_path_aliases
            .iter()
            .map(|p| format!("{}{p}", shared.base)),
    );
    audiences
}

/// Whether a request carries any client credentials at all.
pub(super) fn presents_credentials(headers: &HeaderMap, body: &Params) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || ["client_id", "client_secret", "client_assertion"]
            .iter()
            .any(|p| body.has(p))
}

/// The id and secret of an `Authorization: Basic` value (what follows the scheme), each
/// form-urldecoded as RFC 6749 §2.3.1 asks; the error says what is malformed.
fn basic_credentials(encoded: &str) -> Result<(String, String), &'static str> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("Authorization: Basic value is not valid base64 of id:secret")?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or("Authorization: Basic value lacks the ':' between id and secret")?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok((unescape(id), unescape(secret)))
}

/// The client id an `Authorization` header carries, whatever its scheme and nothing else
/// checked: only to match client-specific script entries before the request is
/// authenticated.
pub(super) fn basic_client_id(headers: &HeaderMap) -> Option<ClientId> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (_, encoded) = value.split_once(' ')?;
    basic_credentials(encoded).ok().map(|(id, _)| ClientId::new(id))
}
