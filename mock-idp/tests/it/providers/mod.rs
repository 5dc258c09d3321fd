//! Provider personalities: a shared driver that walks every personality through the same
//! cases (login, tokens, profile APIs, refresh, and each scripted failure) and snapshots what
//! each one puts on the wire; plus one file per provider with the client crate a Rust user
//! would pick (`openidconnect` or `oauth2`) and the provider's quirks, named after them.

mod amazon;
mod facebook;
mod generic;
mod github;
mod gitlab;
mod google;
mod linkedin;
mod microsoft;
mod twitch;

use mock_idp::personality::{
    Amazon, Facebook, Generic, GitHub, GitLab, Google, LinkedIn, Microsoft, Oidc, Personality, Twitch,
};
use mock_idp::{Endpoint, MockIdp, Outcome, User, UserPatch};
use serde_json::{Map, Value, json};

use crate::common::{self, REDIRECT, http};

/// A user with every attribute filled, so every personality has something to show.
pub fn alice() -> User {
    User::new("alice")
        .name("Alice Example")
        .names("Alice", "Example")
        .email("alice@example.com")
        .picture("https://pictures.example/alice.png")
        .provider_attr("amazon", "postal_code", "98101")
}

/// An IdP playing `personality` with the default client registered for [`REDIRECT`].
pub async fn start(personality: impl Personality) -> MockIdp {
    MockIdp::builder()
        .personality(personality)
        .redirect_uri(REDIRECT)
        .post_logout_redirect_uri(common::POST_LOGOUT)
        .user(alice())
        .user(
            User::new("unverified")
                .email("unverified@example.com")
                .email_unverified(),
        )
        .start()
        .await
}

/// Authorization parameters a well-behaved client of this provider sends, so that every
/// feature shows (Google's offline access, Twitch's claims request…).
pub fn login_extras(idp: &MockIdp) -> Vec<(&'static str, String)> {
    let p = idp.profile();
    let mut extra = vec![("scope", p.default_scopes.clone())];
    match idp.provider() {
        mock_idp::ProviderId::Google => {
            extra.push(("access_type", "offline".into()));
            extra.push(("prompt", "consent".into()));
        }
        mock_idp::ProviderId::Twitch => {
            let want =
                json!({"email": null, "email_verified": null, "picture": null, "preferred_username": null});
            extra.push(("claims", json!({"id_token": want, "userinfo": want}).to_string()));
        }
        _ => {}
    }
    if !p.oidc {
        extra.push(("nonce", String::new()));
    }
    extra
}

/// The authorization URL for the default client.
pub fn auth_url(idp: &MockIdp, more: &[(&str, &str)]) -> String {
    let mut extra: Vec<(&str, String)> = login_extras(idp);
    for (k, v) in more {
        extra.retain(|(ek, _)| ek != k);
        extra.push((k, (*v).to_owned()));
    }
    let borrowed: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::authorize_url(idp, &borrowed)
}

/// Logs in (headless) and returns the redirect back.
pub async fn login(idp: &MockIdp, more: &[(&str, &str)]) -> String {
    common::follow(&http(None), &auth_url(idp, more)).await
}

/// A raw HTTP exchange, as snapshotted.
pub async fn capture(idp: &MockIdp, resp: reqwest::Response) -> Value {
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    for name in ["content-type", "www-authenticate", "location", "x-oauth-scopes"] {
        if let Some(v) = resp.headers().get(name) {
            headers.insert(name.into(), json!(v.to_str().unwrap()));
        }
    }
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    normalize(idp, json!({"status": status, "headers": headers, "body": body}))
}

/// POSTs to the token endpoint with `client_secret_post` (which every provider accepts) and
/// `Accept: application/json`.
pub async fn token_request(idp: &MockIdp, form: &[(&str, &str)]) -> reqwest::Response {
    let mut all = vec![("client_id", "mock-client"), ("client_secret", "mock-secret")];
    all.extend_from_slice(form);
    http(None)
        .post(idp.endpoint_url(Endpoint::Token).unwrap())
        .header("accept", "application/json")
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// Logs in and redeems the code; returns the token response JSON.
pub async fn tokens(idp: &MockIdp, more: &[(&str, &str)]) -> Value {
    let loc = login(idp, more).await;
    let code = common::param(&loc, "code").unwrap_or_else(|| panic!("no code in {loc}"));
    let resp = token_request(
        idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// GET a profile API the way a well-behaved client does (User-Agent, Client-Id, Bearer).
pub async fn get_resource(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = http(None)
        .get(url)
        .header("user-agent", "gatecheck-tests")
        .header("client-id", "mock-client");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// Userinfo and every other profile API of the personality.
pub fn resource_urls(idp: &MockIdp) -> Vec<(String, String)> {
    let mut urls = vec![(
        "userinfo".to_owned(),
        idp.endpoint_url(Endpoint::Userinfo).unwrap(),
    )];
    if idp.provider() == mock_idp::ProviderId::Facebook {
        urls[0].1.push_str("?fields=id,name,email,picture");
    }
    urls.extend(idp.resource_urls().into_iter().map(|(n, u)| (n.to_owned(), u)));
    urls
}

/// Replaces per-run values (ports, tokens, ids of traces, timestamps) with placeholders.
pub fn normalize(idp: &MockIdp, v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(scrub(idp, &s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| normalize(idp, x)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "iat" | "exp" | "nbf" | "auth_time" | "created_at" | "timestamp" | "date" => {
                            json!("[time]")
                        }
                        "trace_id" | "correlation_id" | "fbtrace_id" | "request-id" | "client-request-id"
                        | "uti" => {
                            json!("[random]")
                        }
                        "access_token" | "refresh_token" | "id_token" => match v.as_str() {
                            Some(t) => json!(redact(t)),
                            None => v,
                        },
                        "kid" | "n" | "e" | "x" | "y" | "at_hash" | "sub_legacy" => json!(format!("[{k}]")),
                        _ => normalize(idp, v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// Token prefixes the personalities use, longest first.
const PREFIXES: &[&str] = &[
    "eyJ0eXAiOiJKV1QiLCJub25jZSI6Im1vY2sifQ.",
    "Atza|IwEBI",
    "Atzr|IwEBI",
    "ya29.a0",
    "1//0g",
    "1.AXwA",
    "gho_",
    "ghu_",
    "ghr_",
    "EAAB",
    "mat_",
    "mrt_",
    "gat_",
    "grt_",
    "eyJ",
    "AQ",
];

/// `ya29.a0AbC…` → `ya29.a0…[167 chars]`: keeps the provider's prefix and the length.
pub fn redact(token: &str) -> String {
    let prefix = PREFIXES
        .iter()
        .find(|p| token.starts_with(**p))
        .copied()
        .unwrap_or("");
    format!("{prefix}…[{} chars]", token.len())
}

fn scrub(idp: &MockIdp, s: &str) -> String {
    let mut out = s.replace(idp.base_url(), "http://[idp]");
    // GUIDs (trace ids) and timestamps inside free text.
    let bytes: Vec<char> = out.chars().collect();
    let mut result = String::with_capacity(out.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 36 <= bytes.len() && is_guid(&bytes[i..i + 36]) {
            result.push_str("[guid]");
            i += 36;
        } else if i + 20 <= bytes.len() && is_timestamp(&bytes[i..i + 20]) {
            result.push_str("[timestamp]");
            i += 20;
        } else {
            result.push(bytes[i]);
            i += 1;
        }
    }
    out = result;
    out
}

fn is_guid(c: &[char]) -> bool {
    c.iter().enumerate().all(|(i, ch)| {
        if [8, 13, 18, 23].contains(&i) {
            *ch == '-'
        } else {
            ch.is_ascii_hexdigit()
        }
    })
}

fn is_timestamp(c: &[char]) -> bool {
    let pattern = "dddd-dd-dd dd:dd:ddZ";
    c.iter().zip(pattern.chars()).all(|(ch, p)| {
        if p == 'd' {
            ch.is_ascii_digit()
        } else {
            *ch == p || (p == ' ' && *ch == 'T')
        }
    })
}

/// The redirect back, as snapshotted: path and parameters, tokens redacted.
fn redirect_view(idp: &MockIdp, location: &str) -> Value {
    let (before_fragment, fragment) = location
        .split_once('#')
        .map_or((location, None), |(a, b)| (a, Some(b)));
    let params: Vec<Value> = common::params_of(before_fragment)
        .into_iter()
        .map(|(k, v)| {
            json!([
                k,
                if k == "code" {
                    format!("[code, {} chars]", v.len())
                } else {
                    v
                }
            ])
        })
        .collect();
    normalize(
        idp,
        json!({"to": before_fragment.split('?').next().unwrap(), "params": params, "fragment": fragment}),
    )
}

/// Runs the standard cases against `idp` and returns `(case, snapshot value)`.
pub async fn standard_cases(idp: &MockIdp) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let http = http(None);
    if let Some(url) = idp.endpoint_url(Endpoint::Discovery) {
        out.push((
            "discovery",
            capture(idp, http.get(url).send().await.unwrap()).await,
        ));
    }

    // Success: the redirect back, the token response, the ID token, every profile API.
    let loc = login(idp, &[]).await;
    out.push(("authorize_success", redirect_view(idp, &loc)));
    let code = common::param(&loc, "code").unwrap();
    let resp = token_request(
        idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let token_snapshot = capture(idp, resp).await;
    out.push(("token_success", token_snapshot));
    let body = tokens(idp, &[]).await;
    if let Some(jwt) = body["id_token"].as_str() {
        let (h, c) = common::jwt_parts(jwt);
        out.push(("id_token", normalize(idp, json!({"header": h, "claims": c}))));
    }
    let access = body["access_token"].as_str().unwrap().to_owned();
    for (name, url) in resource_urls(idp) {
        let v = capture(idp, get_resource(&url, Some(&access)).await).await;
        out.push((leak(format!("profile_{name}")), v));
    }
    if let Some(rt) = body["refresh_token"].as_str() {
        let resp = token_request(idp, &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
        out.push(("refresh_success", capture(idp, resp).await));
        idp.on_refresh().respond(Outcome::RefreshRevoked);
        let resp = token_request(idp, &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
        out.push(("refresh_revoked", capture(idp, resp).await));
    }

    // Failures.
    idp.on_authorize().respond(Outcome::deny());
    out.push(("deny", redirect_view(idp, &login(idp, &[]).await)));
    let resp = token_request(
        idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", "made-up-code"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    out.push(("invalid_code", capture(idp, resp).await));
    let code = common::param(&login(idp, &[]).await, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    token_request(idp, &form).await;
    out.push(("code_reused", capture(idp, token_request(idp, &form).await).await));
    let resp = http
        .post(idp.endpoint_url(Endpoint::Token).unwrap())
        .header("accept", "application/json")
        .form(&[
            ("client_id", "mock-client"),
            ("client_secret", "wrong"),
            ("grant_type", "authorization_code"),
            ("code", "x"),
        ])
        .send()
        .await
        .unwrap();
    out.push(("wrong_client_secret", capture(idp, resp).await));

    // Scope narrowed by the user: email unticked.
    let narrowed: Vec<&str> = idp
        .profile()
        .default_scopes
        .split([' ', ','])
        .filter(|s| !s.is_empty() && !s.contains("email"))
        .collect();
    idp.on_authorize().respond(Outcome::NarrowScope {
        granted: mock_idp::ScopeSet::from_iter_str(narrowed),
    });
    let body = tokens(idp, &[]).await;
    let at = body["access_token"].as_str().unwrap().to_owned();
    let mut narrowed_view = Map::new();
    narrowed_view.insert("token".into(), normalize(idp, body));
    for (name, url) in resource_urls(idp) {
        narrowed_view.insert(name, capture(idp, get_resource(&url, Some(&at)).await).await);
    }
    out.push(("scope_narrowed", Value::Object(narrowed_view)));

    // Unverified email, and an email changed at the IdP.
    let code = common::param(&login(idp, &[("login_hint", "unverified")]).await, "code").unwrap();
    let resp = token_request(
        idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let body: Value = resp.json().await.unwrap();
    let mut view = Map::new();
    match body["access_token"].as_str() {
        Some(at) => {
            for (name, url) in resource_urls(idp) {
                view.insert(name, capture(idp, get_resource(&url, Some(at)).await).await);
            }
        }
        // GitHub Apps refuse the token exchange itself.
        None => drop(view.insert("token".into(), normalize(idp, body))),
    }
    out.push(("unverified_email", Value::Object(view)));
    let body = tokens(idp, &[]).await;
    let at = body["access_token"].as_str().unwrap().to_owned();
    idp.update_user(
        "alice",
        UserPatch {
            email: Some(Some("alice@new.example".into())),
            ..Default::default()
        },
    );
    let url = resource_urls(idp).remove(0).1;
    out.push((
        "email_changed",
        capture(idp, get_resource(&url, Some(&at)).await).await,
    ));
    idp.update_user(
        "alice",
        UserPatch {
            email: Some(Some("alice@example.com".into())),
            ..Default::default()
        },
    );

    // Dead tokens and broken IdPs.
    out.push((
        "profile_invalid_token",
        capture(idp, get_resource(&url, Some("not-a-token")).await).await,
    ));
    out.push((
        "profile_no_token",
        capture(idp, get_resource(&url, None).await).await,
    ));
    idp.on_token().respond(Outcome::ServerError);
    out.push((
        "server_error_token",
        capture(idp, token_request(idp, &form).await).await,
    ));
    idp.on_userinfo().respond(Outcome::ServerError);
    out.push((
        "server_error_profile",
        capture(idp, get_resource(&url, Some(&at)).await).await,
    ));

    // Paths the provider does not serve: a web path, and an API path a client might call
    // (LinkedIn's retired profile API), each in the provider's own not-found shape.
    let base = idp.base_url().trim_end_matches('/').to_owned();
    out.push((
        "not_found",
        capture(
            idp,
            get_resource(&format!("{base}/no/such/path"), Some(&at)).await,
        )
        .await,
    ));
    let api = match idp.provider() {
        mock_idp::ProviderId::Linkedin => "/v2/me",
        mock_idp::ProviderId::Microsoft => "/v1.0/me/nothing",
        mock_idp::ProviderId::Gitlab => "/api/v4/nothing",
        mock_idp::ProviderId::Twitch => "/helix/nothing",
        mock_idp::ProviderId::Facebook => "/v19.0/me/nothing",
        mock_idp::ProviderId::Google => "/oauth2/v9/nothing",
        _ => "/api/nothing",
    };
    out.push((
        "not_found_api",
        capture(idp, get_resource(&format!("{base}{api}"), Some(&at)).await).await,
    ));
    out
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Snapshots every standard case of one personality.
async fn snapshot_personality(name: &str, idp: MockIdp) {
    for (case, value) in standard_cases(&idp).await {
        insta::assert_json_snapshot!(format!("{name}__{case}"), value);
    }
}

#[tokio::test]
async fn snapshots_oidc() {
    snapshot_personality("oidc", start(Oidc::new()).await).await;
}
#[tokio::test]
async fn snapshots_google() {
    snapshot_personality("google", start(Google::new()).await).await;
}
#[tokio::test]
async fn snapshots_github_oauth_app() {
    snapshot_personality("github", start(GitHub::oauth_app()).await).await;
}
#[tokio::test]
async fn snapshots_github_app() {
    snapshot_personality("github_app", start(GitHub::app()).await).await;
}
#[tokio::test]
async fn snapshots_microsoft() {
    snapshot_personality("microsoft", start(Microsoft::new()).await).await;
}
#[tokio::test]
async fn snapshots_gitlab() {
    snapshot_personality("gitlab", start(GitLab::new()).await).await;
}
#[tokio::test]
async fn snapshots_linkedin() {
    snapshot_personality("linkedin", start(LinkedIn::new()).await).await;
}
#[tokio::test]
async fn snapshots_twitch() {
    snapshot_personality("twitch", start(Twitch::new()).await).await;
}
#[tokio::test]
async fn snapshots_amazon() {
    snapshot_personality("amazon", start(Amazon::new()).await).await;
}
#[tokio::test]
async fn snapshots_facebook() {
    snapshot_personality("facebook", start(Facebook::new()).await).await;
}
#[tokio::test]
async fn snapshots_generic() {
    snapshot_personality("generic", start(Generic::new()).await).await;
}

/// What an `openidconnect` login returned.
pub struct OidcLogin {
    pub client: openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    pub token: openidconnect::core::CoreTokenResponse,
    pub claims: openidconnect::core::CoreIdTokenClaims,
}

/// A full login with `openidconnect`: discovery from `issuer`, authorize (headless, PKCE when
/// `pkce`), code exchange with the given client authentication, ID-token verification.
pub async fn oidc_login(
    idp: &MockIdp,
    issuer: &str,
    post_auth: bool,
    pkce: bool,
    extra: &[(&str, &str)],
) -> OidcLogin {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse,
    };
    let http = common::oidc_http(http(None));
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.into()).unwrap(), &http)
        .await
        .unwrap_or_else(|e| panic!("discovery of {issuer}: {e:?}"));
    let mut client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new("mock-client".into()),
        Some(ClientSecret::new("mock-secret".into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    if post_auth {
        client = client.set_auth_type(AuthType::RequestBody);
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for s in idp.profile().default_scopes.split(' ').filter(|s| *s != "openid") {
        req = req.add_scope(Scope::new(s.into()));
    }
    for (k, v) in extra {
        req = req.add_extra_param(*k, *v);
    }
    if pkce {
        req = req.set_pkce_challenge(challenge);
    }
    let (url, _csrf, nonce) = req.url();
    let location = common::follow(&crate::common::http(None), url.as_str()).await;
    let code = common::param(&location, "code").unwrap_or_else(|| panic!("no code: {location}"));
    let mut exchange = client.exchange_code(AuthorizationCode::new(code)).unwrap();
    if pkce {
        exchange = exchange.set_pkce_verifier(verifier);
    }
    let token = exchange
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange: {e:?}"));
    let claims = token
        .id_token()
        .expect("an ID token")
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("ID token rejected: {e:?}"))
        .clone();
    OidcLogin {
        client,
        token,
        claims,
    }
}

/// An `oauth2` client for a plain OAuth 2.0 personality.
pub fn oauth2_client(
    idp: &MockIdp,
    post_auth: bool,
) -> oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    use oauth2::{AuthUrl, ClientId, ClientSecret, RedirectUrl, TokenUrl};
    let mut c = oauth2::basic::BasicClient::new(ClientId::new("mock-client".into()))
        .set_client_secret(ClientSecret::new("mock-secret".into()))
        .set_auth_uri(AuthUrl::new(idp.endpoint_url(Endpoint::Authorize).unwrap()).unwrap())
        .set_token_uri(TokenUrl::new(idp.endpoint_url(Endpoint::Token).unwrap()).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    if post_auth {
        c = c.set_auth_type(oauth2::AuthType::RequestBody);
    }
    c
}

/// Authorize with an `oauth2` client (headless) and return the code from the redirect.
pub async fn oauth2_code(
    idp: &MockIdp,
    client: &oauth2::basic::BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    scopes: &[&str],
    extra: &[(&str, &str)],
) -> (String, String) {
    let mut req = client.authorize_url(oauth2::CsrfToken::new_random);
    for s in scopes {
        req = req.add_scope(oauth2::Scope::new((*s).into()));
    }
    for (k, v) in extra {
        req = req.add_extra_param(*k, *v);
    }
    let (url, _) = req.url();
    let location = common::follow(&http(None), url.as_str()).await;
    let _ = idp;
    (
        common::param(&location, "code").unwrap_or_else(|| panic!("no code: {location}")),
        location,
    )
}

/// The response body behind an `oauth2` token error, whatever its kind (providers that answer
/// errors with HTTP 200 make `oauth2` report a parse failure carrying the body).
pub fn error_body<E, T>(err: &oauth2::RequestTokenError<E, T>) -> String
where
    E: std::error::Error + 'static,
    T: oauth2::ErrorResponse + serde::Serialize + 'static,
{
    match err {
        oauth2::RequestTokenError::ServerResponse(r) => serde_json::to_string(r).unwrap(),
        oauth2::RequestTokenError::Parse(_, body) => String::from_utf8_lossy(body).into_owned(),
        other => format!("{other:?}"),
    }
}
