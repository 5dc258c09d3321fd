//! The [`Facebook`] personality: Facebook Login for the web (manual flow) and the Graph API.
//!
//! One file, one provider: the type, its options, and the hooks where the provider differs
//! from the standard. What it emulates and simplifies is documented on the type.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::context::{ResourceContext, TokenContext, TokenSource};
use super::hooks::Hooks;
use super::profile::{Paths, PkceSupport, Profile, ProviderId, Resource};
use super::standard;
use super::wire::{
    AuthorizeFailure, BearerFailure, ClientProblem, TokenFailure, TokenSuccess, json_no_store, random_alnum,
    stable_digits,
};
use crate::clients::{Client, Lifetimes};
use crate::store::{Grant, GrantProblem, TokenProblem};
use crate::types::Endpoint;
use crate::users::User;

/// Facebook Login for the web (manual flow) and the Graph API.
///
/// Emulated: versioned paths (`/{version}/dialog/oauth`, `/{version}/oauth/access_token` by GET
/// or POST, `/{version}/me`, `/{version}/me/permissions`, and the unversioned `/me`); `#_=_`
/// appended to every redirect back to the app, successes included (quirk 9); comma-separated
/// scopes; token responses with no refresh token, no `scope`, no ID token; `/me` that returns
/// only `id` and `name` unless `fields=` asks for more, leaves `email` out when it was declined
/// or the account has none, nests `picture.data.url` (quirk 10); app-scoped string ids; the
/// denial redirect with `error_code=200&error_reason=user_denied`; Graph errors as
/// `{"error":{"message","type":"OAuthException","code","error_subcode","fbtrace_id"}}`, with
/// code 100 for a reused code ("This authorization code has been used.", quirk 18) and 190 for
/// dead tokens.
///
/// Simplifications: www.facebook.com and graph.facebook.com are one origin; any version
/// segment is accepted; `appsecret_proof` is not enforced; long-lived token exchange is not
/// emulated. Wording marked † in providers.md is unverified.
#[derive(Debug)]
pub struct Facebook {
    profile: Profile,
}

impl Facebook {
    /// Facebook Login with the current Graph API version.
    pub fn new() -> Facebook {
        let fields = Some("fields=id,name,email,picture");
        let profile = Profile {
            // The login dialog's response_type defaults to `code`.
            response_type_required: false,
            resources: vec![
                Resource {
                    path: "/me".into(),
                    name: "me",
                    post: false,
                    example_query: fields,
                },
                Resource::get("/{version}/me/permissions", "permissions"),
                Resource::get("/me/permissions", "permissions"),
            ],
            scope_separators: vec![','],
            scopes_supported: ["email", "public_profile", "user_friends", "user_birthday"]
                .map(String::from)
                .to_vec(),
            default_scopes: "email,public_profile".into(),
            token_type: "bearer".into(),
            access_token_prefix: "EAAB".into(),
            access_token_bytes: 140,
            pkce_methods_advertised: vec![],
            pkce: PkceSupport::Standard,
            token_endpoint_get: true,
            // Unversioned Graph calls run at the app's default version (Facebook's versioning
            // guide); Auth.js's Facebook provider redeems codes at `/oauth/access_token`.
            token_path_aliases: vec!["/oauth/access_token".into()],
            client_auth_in_query: true,
            grant_type_optional: true,
            default_path_params: vec![("version", "v19.0")],
            ..Profile::standard(
                ProviderId::Facebook,
                "Facebook",
                false,
                Paths {
                    discovery: None,
                    jwks: None,
                    authorize: "/{version}/dialog/oauth".into(),
                    token: "/{version}/oauth/access_token".into(),
                    userinfo: "/{version}/me".into(),
                    revocation: None,
                    end_session: None,
                    introspection: None,
                    device_authorization: None,
                    device_verification: None,
                },
            )
        };
        Facebook { profile }
    }

    /// App-scoped id: the same person has a different id in every app.
    fn app_scoped_id(user: &User, client: &str) -> String {
        user.attr("facebook", "id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| stable_digits(&format!("facebook:{}:{client}", user.id), 17))
    }
}

impl Default for Facebook {
    fn default() -> Self {
        Facebook::new()
    }
}

/// A Graph API error.
fn graph_error(status: StatusCode, message: &str, code: u32, subcode: Option<u32>) -> Response {
    let mut e =
        json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": random_alnum(11)});
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    json_no_store(status, &json!({"error": e}))
}

impl Hooks for Facebook {
    /// The Graph API: a path with segments after a node is 400 code 2500 "Unknown path
    /// components"; a single unknown segment is taken for an object alias, 404 code 803.
    fn not_found(&self, path: &str) -> Response {
        let segments: Vec<&str> = path
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .skip_while(|s| s.starts_with('v') && s[1..].contains('.'))
            .collect();
        if segments.len() > 1 {
            return json_no_store(
                StatusCode::BAD_REQUEST,
                &json!({"error": {"message": format!("Unknown path components: /{}", segments[1..].join("/")),
                                  "type": "OAuthException", "code": 2500, "fbtrace_id": random_alnum(11)}}),
            );
        }
        json_no_store(
            StatusCode::NOT_FOUND,
            &json!({"error": {"message": format!("(#803) Some of the aliases you requested do not exist: {}",
                                                 segments.first().copied().unwrap_or("")),
                              "type": "OAuthException", "code": 803, "fbtrace_id": random_alnum(11)}}),
        )
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn default_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: std::time::Duration::from_secs(5_183_944),
            code: std::time::Duration::from_secs(600),
            ..Lifetimes::default()
        }
    }

    fn subject_for_client(&self, user: &User, client: &crate::types::ClientId) -> String {
        Facebook::app_scoped_id(user, client.as_str())
    }

    fn redirect_fragment(&self) -> Option<&'static str> {
        Some("_=_")
    }

    fn authorize_error_params(&self, failure: &AuthorizeFailure) -> Vec<(String, String)> {
        match failure {
            AuthorizeFailure::Denied => vec![
                ("error".into(), "access_denied".into()),
                ("error_code".into(), "200".into()),
                ("error_description".into(), "Permissions error".into()),
                ("error_reason".into(), "user_denied".into()),
            ],
            other => standard::authorize_error(other),
        }
    }

    fn issues_refresh_token(&self, _grant: &Grant, _client: &Client) -> bool {
        false
    }

    fn token_success(&self, success: &TokenSuccess, _ctx: &TokenContext<'_>) -> Response {
        let mut body = standard::token_body(success);
        for k in ["scope", "refresh_token", "id_token"] {
            body.remove(k);
        }
        json_no_store(StatusCode::OK, &Value::Object(body))
    }

    fn token_error(&self, failure: &TokenFailure, _headers: &HeaderMap) -> Response {
        use GrantProblem as G;
        let bad = StatusCode::BAD_REQUEST;
        match failure {
            TokenFailure::InvalidGrant(G::CodeReused) => {
                graph_error(bad, "This authorization code has been used.", 100, Some(36009))
            }
            TokenFailure::InvalidGrant(G::CodeExpired) => {
                graph_error(bad, "This authorization code has expired.", 100, Some(36007))
            }
            TokenFailure::InvalidGrant(G::RedirectUriMismatch) => graph_error(
                bad,
                "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
                100,
                Some(36008),
            ),
            TokenFailure::InvalidGrant(_) => graph_error(bad, "Invalid verification code format.", 100, None),
            TokenFailure::InvalidClient {
                problem: ClientProblem::Unknown,
                ..
            } => graph_error(
                bad,
                "Error validating application. Invalid application ID.",
                101,
                None,
            ),
            TokenFailure::InvalidClient { .. } => {
                graph_error(bad, "Error validating client secret.", 1, None)
            }
            TokenFailure::InvalidRequest(d) => graph_error(bad, d, 100, None),
            TokenFailure::UnsupportedGrantType(_) => graph_error(bad, "Unsupported grant_type", 100, None),
            TokenFailure::Scripted {
                status,
                error,
                description,
            } => graph_error(
                StatusCode::from_u16(*status).unwrap_or(bad),
                description.as_deref().unwrap_or(error),
                100,
                None,
            ),
            other => graph_error(bad, &other.description().unwrap_or_default(), 100, None),
        }
    }

    fn resource_token_sources(&self) -> &'static [TokenSource] {
        &[TokenSource::Bearer, TokenSource::Query]
    }

    fn resource_missing_scope(&self, _name: &str, _scopes: &crate::types::ScopeSet) -> Option<&'static str> {
        None
    }

    fn resource(&self, name: &str, ctx: &ResourceContext<'_>) -> Response {
        let user = ctx.user;
        if name == "permissions" {
            let mut data = vec![json!({"permission": "public_profile", "status": "granted"})];
            for s in ctx
                .grant
                .requested
                .iter()
                .filter(|s| s.as_str() != "public_profile")
            {
                let status = if ctx.scopes.contains(s.as_str()) {
                    "granted"
                } else {
                    "declined"
                };
                data.push(json!({"permission": s.as_str(), "status": status}));
            }
            return (StatusCode::OK, axum::Json(json!({"data": data}))).into_response();
        }
        let id = Facebook::app_scoped_id(user, ctx.client.id.as_str());
        let fields: Vec<String> = ctx
            .query("fields")
            .map(|f| {
                f.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec!["id".into(), "name".into()]);
        let mut me = serde_json::Map::new();
        for f in &fields {
            let base = f.split(['.', '{']).next().unwrap_or(f);
            let v = match base {
                "id" => Some(json!(id)),
                "name" => user.name.as_ref().map(|n| json!(n)),
                "first_name" => user.given_name.as_ref().map(|n| json!(n)),
                "last_name" => user.family_name.as_ref().map(|n| json!(n)),
                // Absent when declined, or for accounts without an email (phone sign-up).
                "email" if ctx.scopes.contains("email") => user.email.as_ref().map(|e| json!(e)),
                "email" => None,
                "picture" => Some(json!({"data": {
                    "height": 50, "is_silhouette": user.picture.is_none(),
                    "url": user.picture.clone().unwrap_or_else(|| format!("https://platform-lookaside.fbsbx.com/platform/profilepic/?asid={id}&height=50&width=50")),
                    "width": 50}})),
                _ => {
                    return graph_error(
                        StatusCode::BAD_REQUEST,
                        &format!("(#100) Tried accessing nonexisting field ({base}) on node type (User)"),
                        100,
                        None,
                    );
                }
            };
            if let Some(v) = v {
                me.insert(base.to_owned(), v);
            }
        }
        me.entry("id").or_insert(json!(id));
        (StatusCode::OK, axum::Json(Value::Object(me))).into_response()
    }

    fn bearer_error(&self, failure: &BearerFailure, _resource: &str) -> Response {
        match failure {
            BearerFailure::Missing => graph_error(
                StatusCode::BAD_REQUEST,
                "An active access token must be used to query information about the current user.",
                2500,
                None,
            ),
            BearerFailure::InvalidToken(TokenProblem::Expired) => graph_error(
                StatusCode::BAD_REQUEST,
                "Error validating access token: Session has expired on Thursday, 01-Jan-26 00:00:00 PST. The current time is Thursday, 01-Jan-26 01:00:00 PST.",
                190,
                Some(463),
            ),
            BearerFailure::InvalidToken(TokenProblem::Revoked | TokenProblem::UserGone) => graph_error(
                StatusCode::BAD_REQUEST,
                "Error validating access token: The user has not authorized application.",
                190,
                Some(458),
            ),
            _ => graph_error(
                StatusCode::BAD_REQUEST,
                "Invalid OAuth access token - Cannot parse access token",
                190,
                None,
            ),
        }
    }

    fn server_error(&self, endpoint: Endpoint) -> Response {
        match endpoint {
            Endpoint::Authorize | Endpoint::EndSession => standard::html_server_error(),
            _ => json_no_store(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": {"message": "An unknown error has occurred.", "type": "OAuthException", "code": 1,
                                  "is_transient": true, "fbtrace_id": random_alnum(11)}}),
            ),
        }
    }
}
