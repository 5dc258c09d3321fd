//! The fidelity corpus: real client libraries, written against the real providers, logging in
//! against mock-idp's personalities with only URLs changed (`fixtures/fidelity/run.js`, pinned
//! in its `package-lock.json`). Every library × provider pair runs four cases — a login with the
//! profile calls the library makes, a refresh, a denial at the authorization endpoint and an
//! `invalid_grant` at the token endpoint — and each must pass or be explained in
//! `fixtures/fidelity/known.toml` with the real provider's documented behaviour. A failure no
//! entry explains, or an entry whose cell passes, fails the test. `docs/fidelity.md` is the
//! matrix this produces (`GATECHECK_BLESS=1` rewrites it), with the grant tests below it
//! (`GRANT_TESTS`): openid-client, `@azure/msal-node`, `@octokit/auth-oauth-device`,
//! `google-auth-library` and jose driving the grants beyond the browser login (`grants.js`,
//! `password.js`, `entra.js`, `github.js`, `google.js`).
//!
//! The Rust crates (`oauth2`, `openidconnect`) drive every personality in mock-idp's own tests
//! (`mock-idp/tests/it/providers/`); this corpus adds the npm libraries. Needs Node.js and
//! `npm ci` in `fixtures/fidelity`: locally a missing one skips with one line, in CI it fails.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Stdio;

use gatecheck::profile::workspace_root;
use gatecheck::provider::{Flavour, Provider};
use mock_idp::{MockIdp, Outcome, User};
use serde::Deserialize;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Library {
    Passport,
    OpenidClient,
}

impl Library {
    fn id(self) -> &'static str {
        match self {
            Library::Passport => "passport",
            Library::OpenidClient => "openid-client",
        }
    }

    /// The npm package that plays `provider` for this library.
    fn package(self, provider: Provider) -> &'static str {
        match (self, provider) {
            (Library::OpenidClient, _) => "openid-client",
            (Library::Passport, Provider::Google) => "passport-google-oauth20",
            (Library::Passport, Provider::Github) => "passport-github2",
            (Library::Passport, Provider::Microsoft) => "passport-microsoft",
            (Library::Passport, Provider::Gitlab) => "passport-gitlab2",
            (Library::Passport, Provider::Linkedin) => "passport-linkedin-oauth2",
            (Library::Passport, Provider::Twitch) => "passport-twitch-new",
            (Library::Passport, Provider::Amazon) => "passport-amazon",
            (Library::Passport, Provider::Facebook) => "passport-facebook",
            (Library::Passport, Provider::Generic) => "passport-oauth2",
        }
    }

    /// openid-client starts from discovery: only the OpenID Connect providers have it.
    fn plays(self, provider: Provider) -> bool {
        self == Library::Passport
            || matches!(
                provider,
                Provider::Google
                    | Provider::Microsoft
                    | Provider::Gitlab
                    | Provider::Linkedin
                    | Provider::Twitch
            )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Case {
    Login,
    Refresh,
    Denial,
    InvalidGrant,
}

impl Case {
    const ALL: [Case; 4] = [Case::Login, Case::Refresh, Case::Denial, Case::InvalidGrant];

    fn id(self) -> &'static str {
        match self {
            Case::Login => "login",
            Case::Refresh => "refresh",
            Case::Denial => "denial",
            Case::InvalidGrant => "invalid_grant",
        }
    }
}

/// What the library reported, and whether that is what it does against the real provider.
struct Cell {
    passed: bool,
    /// What happened, for the matrix.
    what: String,
}

/// Known cells that cannot pass, written by a person.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Known {
    #[serde(default)]
    cell: Vec<KnownCell>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownCell {
    /// `library/provider/case`, e.g. `passport/linkedin/login`.
    id: String,
    /// Why, citing the real provider's documented behaviour.
    why: String,
}

/// Alice's Entra tenant.
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn alice() -> User {
    User::new("alice")
        .name("Alice Example")
        .names("Alice", "Example")
        .email("alice@example.com")
        .provider_attr("microsoft", "tid", TENANT)
}

fn scope(provider: Provider) -> &'static str {
    match provider {
        Provider::Google | Provider::Gitlab | Provider::Linkedin => "openid profile email",
        Provider::Microsoft => "openid profile email offline_access",
        Provider::Twitch => "openid user:read:email",
        _ => "",
    }
}

async fn run_cell(library: Library, provider: Provider, case: Case) -> Cell {
    let idp = https_idp(provider)
        .redirect_uri(REDIRECT)
        .user(alice())
        .start()
        .await;
    match case {
        Case::Denial => drop(idp.on_authorize().respond(Outcome::deny())),
        Case::InvalidGrant => drop(idp.on_token().respond(Outcome::invalid_grant())),
        Case::Login | Case::Refresh => {}
    }
    let (_dir, ca) = ca_file(&idp);
    let url = |e| idp.endpoint_url(e).unwrap_or_default();
    let job = json!({
        "library": library.id(),
        "provider": provider.id(),
        "case": case.id(),
        "idp": {
            "base_url": idp.base_url(),
            "discovery_url": idp.discovery_url(),
            "tenant_discovery_url": (provider == Provider::Microsoft)
                .then(|| format!("{}/{TENANT}/v2.0/.well-known/openid-configuration", idp.base_url())),
            "authorize_url": url(mock_idp::Endpoint::Authorize),
            "token_url": url(mock_idp::Endpoint::Token),
            "userinfo_url": url(mock_idp::Endpoint::Userinfo),
        },
        "client_id": idp.client().id,
        "client_secret": idp.client().secret.map(|s| s.expose().to_owned()),
        "redirect_uri": REDIRECT,
        "scope": scope(provider),
    });
    let ran = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        run_node("run.js", ca, job.to_string()),
    )
    .await;
    let out = match ran {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            return Cell {
                passed: false,
                what: format!("node failed: {e}"),
            };
        }
        Err(_) => {
            return Cell {
                passed: false,
                what: "no answer within 60 s".into(),
            };
        }
    };
    let line = String::from_utf8_lossy(&out.stdout);
    let Ok(result) = serde_json::from_str::<Value>(line.trim()) else {
        let err = String::from_utf8_lossy(&out.stderr);
        return Cell {
            passed: false,
            what: format!(
                "no result: {}",
                err.lines().take(3).collect::<Vec<_>>().join(" / ")
            ),
        };
    };
    judge(provider, case, &result, &idp)
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn error_of(result: &Value) -> String {
    let e = &result["error"];
    let code = text(&e["code"]);
    let message = text(&e["message"]);
    let message: String = message.chars().take(160).collect();
    match (code.is_empty(), message.is_empty()) {
        (false, false) if message.contains(&code) => message,
        (false, false) => format!("{code}: {message}"),
        (false, true) => code,
        _ => message,
    }
}

fn judge(provider: Provider, case: Case, result: &Value, idp: &MockIdp) -> Cell {
    let outcome = result["outcome"].as_str().unwrap_or("");
    let user = &result["user"];
    match case {
        Case::Login => {
            let id = text(&user["id"]);
            if outcome == "user" && !id.is_empty() {
                let email = text(&user["email"]);
                let expected = idp.provider_user_id("alice").unwrap_or_default();
                let which = if id == expected {
                    "the provider's user id"
                } else {
                    "an id"
                };
                Cell {
                    passed: true,
                    what: format!(
                        "signed in: {which}{}",
                        if email.is_empty() {
                            String::new()
                        } else {
                            format!(", email {email}")
                        }
                    ),
                }
            } else {
                Cell {
                    passed: false,
                    what: format!("{outcome}: {}", error_of(result)),
                }
            }
        }
        Case::Refresh => {
            if outcome != "user" {
                return Cell {
                    passed: false,
                    what: format!("no login: {}", error_of(result)),
                };
            }
            let refreshed = &result["refreshed"];
            match (
                provider.refreshes(),
                result["refresh_token"].as_bool().unwrap_or(false),
            ) {
                (false, false) => Cell {
                    passed: true,
                    what: "no refresh token issued, as the provider issues none".into(),
                },
                (true, true) if refreshed["ok"].as_bool() == Some(true) => Cell {
                    passed: true,
                    what: "refreshed with the library's own code".into(),
                },
                (true, true) => Cell {
                    passed: false,
                    what: format!("refresh failed: {}", error_of(refreshed)),
                },
                (true, false) => Cell {
                    passed: false,
                    what: "no refresh token issued".into(),
                },
                (false, true) => Cell {
                    passed: false,
                    what: "a refresh token the provider never issues".into(),
                },
            }
        }
        Case::Denial => {
            let code = text(&result["callback_error"]);
            let surfaced = error_of(result);
            if matches!(outcome, "refused" | "error") && !code.is_empty() {
                Cell {
                    passed: true,
                    what: format!(
                        "refused ({code}): the library reports {}",
                        if surfaced.is_empty() {
                            "a failure without a message".into()
                        } else {
                            format!("\"{surfaced}\"")
                        }
                    ),
                }
            } else {
                Cell {
                    passed: false,
                    what: format!("{outcome}: {surfaced}"),
                }
            }
        }
        Case::InvalidGrant => {
            let surfaced = error_of(result);
            if outcome == "error" && !surfaced.is_empty() {
                Cell {
                    passed: true,
                    what: format!("error \"{surfaced}\""),
                }
            } else {
                Cell {
                    passed: false,
                    what: format!("{outcome}: {surfaced}"),
                }
            }
        }
    }
}

fn versions() -> BTreeMap<String, String> {
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("fixtures/fidelity/package-lock.json"))
            .expect("the lockfile"),
    )
    .expect("JSON");
    lock["packages"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(path, p)| {
            let name = path.strip_prefix("node_modules/")?;
            (!name.contains("/node_modules/")).then(|| (name.to_owned(), text(&p["version"])))
        })
        .collect()
}

/// The versions of the Rust client crates in `Cargo.lock`.
fn cargo_versions() -> BTreeMap<String, String> {
    let lock: toml::Value =
        toml::from_str(&std::fs::read_to_string(workspace_root().join("Cargo.lock")).expect("Cargo.lock"))
            .expect("TOML");
    lock["package"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["name"].as_str()?.to_owned(), p["version"].as_str()?.to_owned())))
        .filter(|(n, _)| n == "oauth2" || n == "openidconnect")
        .collect()
}

fn ready() -> bool {
    gatecheck::system::node_project("fixtures/fidelity", "the fidelity corpus")
}

/// A `provider` personality served over https (the libraries keep their https URLs), not
/// verified on drop; the test adds its users and clients, then starts it.
fn https_idp(provider: Provider) -> mock_idp::MockIdpBuilder {
    provider
        .personality(MockIdp::builder(), Flavour::Standard)
        .tls()
        .no_verify_on_drop()
}

/// The mock's CA in a temporary file, for `NODE_EXTRA_CA_CERTS`.
fn ca_file(idp: &MockIdp) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, idp.ca_pem().expect("the mock serves https")).expect("writing the CA");
    (dir, ca)
}

/// Runs `script` of `fixtures/fidelity` with `job` on stdin and the mock's CA trusted, off the
/// async runtime.
async fn run_node(
    script: &'static str,
    ca: std::path::PathBuf,
    job: String,
) -> std::io::Result<std::process::Output> {
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut child = std::process::Command::new("node")
            .arg(script)
            .current_dir(workspace_root().join("fixtures/fidelity"))
            .env("NODE_EXTRA_CA_CERTS", &ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child.stdin.take().expect("stdin").write_all(job.as_bytes())?;
        child.wait_with_output()
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(format!("the runner panicked: {e}"))))
}

#[tokio::test(flavor = "multi_thread")]
async fn real_client_libraries_log_in_against_every_personality() {
    if !ready() {
        return;
    }
    let known: Known = toml::from_str(
        &std::fs::read_to_string(workspace_root().join("fixtures/fidelity/known.toml")).expect("known.toml"),
    )
    .unwrap_or_else(|e| panic!("fixtures/fidelity/known.toml: {e}"));
    let mut jobs = tokio::task::JoinSet::new();
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(6));
    for library in [Library::Passport, Library::OpenidClient] {
        for provider in Provider::ALL.into_iter().filter(|p| library.plays(*p)) {
            for case in Case::ALL {
                let limit = limit.clone();
                jobs.spawn(async move {
                    let _slot = limit.acquire_owned().await.expect("open");
                    ((library, provider, case), run_cell(library, provider, case).await)
                });
            }
        }
    }
    let mut cells = BTreeMap::new();
    while let Some(done) = jobs.join_next().await {
        let (key, cell) = done.expect("a cell ran");
        cells.insert(key, cell);
    }
    let id = |(l, p, c): &(Library, Provider, Case)| format!("{}/{}/{}", l.id(), p.id(), c.id());
    let mut problems = Vec::new();
    for (key, cell) in &cells {
        let explained = known.cell.iter().find(|k| k.id == id(key));
        match (cell.passed, explained) {
            (false, None) => problems.push(format!(
                "{}: {} (fix the mock, or explain it in known.toml)",
                id(key),
                cell.what
            )),
            (true, Some(_)) => problems.push(format!("{}: passes now; drop it from known.toml", id(key))),
            _ => {}
        }
    }
    for k in &known.cell {
        if !cells.keys().any(|key| id(key) == k.id) {
            problems.push(format!(
                "known.toml names {}, which the corpus does not run",
                k.id
            ));
        }
    }
    let doc = render(&cells, &known, &versions());
    let path = workspace_root().join("docs/fidelity.md");
    if std::env::var_os("GATECHECK_BLESS").is_some() {
        std::fs::write(&path, &doc).expect("writing docs/fidelity.md");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == doc,
        "docs/fidelity.md is stale: GATECHECK_BLESS=1 cargo test -p harness --test fidelity"
    );
}

/// The tests below that drive grants other than the browser login, for docs/fidelity.md:
/// (npm packages, personality, what they drive, test).
const GRANT_TESTS: &[(&[&str], &str, &str, &str)] = &[
    (
        &["openid-client", "jose"],
        "OIDC",
        "client credentials, introspection, device flow, token exchange, JWT bearer, \
`private_key_jwt`, `client_secret_jwt`, RFC 9068 access tokens validated by an API",
        "openid_client_uses_client_credentials_introspection_and_the_device_flow",
    ),
    (
        &["openid-client"],
        "Generic, Microsoft",
        "resource-owner password (right and wrong password)",
        "openid_client_uses_the_password_grant_at_generic_and_entra",
    ),
    (
        &["@azure/msal-node", "openid-client"],
        "Microsoft",
        "MSAL: client credentials (and its cache), username/password (right and wrong), \
on-behalf-of, device code with a refresh; openid-client: on-behalf-of (and a dead assertion)",
        "msal_node_and_openid_client_drive_entra_grants",
    ),
    (
        &["@octokit/auth-oauth-device"],
        "GitHub",
        "GitHub's device flow as GitHub's own library sends it (JSON bodies, the app named by \
`client_id` alone), the token used at `api.github.com/user`",
        "octokit_runs_githubs_device_flow",
    ),
    (
        &["google-auth-library"],
        "Google",
        "a service account's JWT bearer grant (RFC 7523 §2.1, `JWT` client, aud \
`https://oauth2.googleapis.com/token`) and its cache; domain-wide delegation, the token used at \
userinfo; another key and an unknown account refused in Google's words",
        "google_auth_library_signs_in_as_a_service_account",
    ),
];

fn render(
    cells: &BTreeMap<(Library, Provider, Case), Cell>,
    known: &Known,
    versions: &BTreeMap<String, String>,
) -> String {
    let rust_versions = cargo_versions();
    let mut s = String::from(
        "# Fidelity: real client libraries against the personalities\n\n\
Generated by `GATECHECK_BLESS=1 cargo test -p harness --test fidelity` (`harness/tests/fidelity.rs`): each \
npm library below, written against the real provider, logs in against `mock-idp`'s personality with only \
URLs changed (`fixtures/fidelity/run.js`: the library keeps its own endpoint URLs; requests for the \
provider's hosts go to the mock, over https with the mock's CA). Every cell runs in CI; a cell that cannot \
pass is explained from the real provider's documentation in `fixtures/fidelity/known.toml`. The Rust \
crates `oauth2` and `openidconnect` drive every personality in `mock-idp/tests/it/providers/` as well.\n\n",
    );
    let pairs: Vec<(Library, Provider)> = {
        let mut v: Vec<_> = cells.keys().map(|(l, p, _)| (*l, *p)).collect();
        v.dedup();
        v
    };
    let passed = cells.values().filter(|c| c.passed).count();
    let _ = writeln!(
        s,
        "**{} library × provider pairs, {} cells: {passed} pass, {} explained below.**\n",
        pairs.len(),
        cells.len(),
        cells.len() - passed
    );
    let _ = writeln!(
        s,
        "| Library | Provider | Login + profile | Refresh | Denial | `invalid_grant` |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for (l, p) in &pairs {
        let package = l.package(*p);
        let version = versions.get(package).map(String::as_str).unwrap_or("?");
        let mut row = format!("| `{package}` {version} | {} |", p.display_name());
        for c in Case::ALL {
            let cell = &cells[&(*l, *p, c)];
            let mark = if cell.passed { "pass" } else { "**cannot pass**" };
            let _ = write!(row, " {mark}: {} |", cell.what.replace('|', "\\|"));
        }
        let _ = writeln!(s, "{row}");
    }
    let _ = writeln!(
        s,
        "\n## Grants beyond the browser login\n\nEach row is one test of `harness/tests/fidelity.rs` \
(they run in CI as well): the library drives the grants at the personality and the test judges the outcome \
(whose token it is, for which API, what a refusal looks like).\n"
    );
    let _ = writeln!(
        s,
        "| Library | Personality | Grants and endpoints | Test |\n|---|---|---|---|"
    );
    for (packages, personality, what, test) in GRANT_TESTS {
        let libs: Vec<String> = packages
            .iter()
            .map(|p| format!("`{p}` {}", versions.get(*p).map(String::as_str).unwrap_or("?")))
            .collect();
        let _ = writeln!(s, "| {} | {personality} | {what} | `{test}` |", libs.join(", "));
    }
    let _ = writeln!(
        s,
        "\n## The Rust crates\n\nmock-idp's own tests drive every personality with a Rust client crate \
(login with the profile calls, refresh where the provider issues refresh tokens, the provider's errors and \
quirks), in `cargo test -p mock-idp`:\n"
    );
    let _ = writeln!(s, "| Provider | Crates | Test file |\n|---|---|---|");
    for p in Provider::ALL {
        let file = format!("mock-idp/tests/it/providers/{}.rs", p.id());
        let code = std::fs::read_to_string(workspace_root().join(&file)).unwrap_or_default();
        let crates: Vec<String> = ["oauth2", "openidconnect"]
            .into_iter()
            .filter(|c| code.contains(&format!("{c}::")))
            .map(|c| {
                format!(
                    "`{c}` {}",
                    rust_versions.get(c).map(String::as_str).unwrap_or("?")
                )
            })
            .collect();
        let _ = writeln!(s, "| {} | {} | `{file}` |", p.display_name(), crates.join(", "));
    }
    if !known.cell.is_empty() {
        let _ = writeln!(s, "\n## Cells that cannot pass, and why\n");
        for k in &known.cell {
            let _ = writeln!(s, "- `{}`: {}", k.id, k.why.trim().replace('\n', " "));
        }
    }
    s
}

/// openid-client (a certified RP library) uses the grants beyond the browser login:
/// `client_credentials`, RFC 7662 introspection, the RFC 8628 device flow, RFC 8693 token
/// exchange, an RFC 7523 JWT bearer grant, and `private_key_jwt` and `client_secret_jwt` client
/// authentication, against the OIDC personality over https.
#[tokio::test(flavor = "multi_thread")]
async fn openid_client_uses_client_credentials_introspection_and_the_device_flow() {
    if !ready() {
        return;
    }
    let (ca_cert, ca_key) = mock_idp::tls::generate_ca().expect("a CA");
    let idp = MockIdp::builder()
        .tls_with_ca(ca_cert.clone(), ca_key.clone())
        .user(alice())
        .no_verify_on_drop()
        .start()
        .await;
    let (_dir, ca) = ca_file(&idp);
    // A second IdP issuing RFC 9068 access tokens for an API, under the same CA.
    let jwt_idp = MockIdp::builder()
        .jwt_access_tokens("https://api.example")
        .tls_with_ca(ca_cert.clone(), ca_key.clone())
        .no_verify_on_drop()
        .start()
        .await;
    let job = json!({
        "jwt_idp": {"discovery_url": jwt_idp.discovery_url()},
        "discovery_url": idp.discovery_url(),
        "base_url": idp.base_url(),
        "user": "alice",
        "client_id": idp.client().id,
        "client_secret": idp.client().secret.map(|s| s.expose().to_owned()),
        "scope": "reports.read",
    })
    .to_string();
    let out = run_node("grants.js", ca, job).await.expect("node runs grants.js");
    let result: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert!(result.get("error").is_none(), "{result}");
    assert_eq!(result["client_credentials"]["token_type"], "bearer", "{result}");
    assert_eq!(result["client_credentials"]["refresh_token"], false);
    assert_eq!(result["introspection"]["active"], true, "{result}");
    assert_eq!(result["introspection"]["sub"], idp.client().id.to_string());
    assert_eq!(result["introspection"]["scope"], "reports.read");
    assert_eq!(result["introspection_unknown"]["active"], false);
    assert_eq!(result["device_codes"]["interval"], 5, "{result}");
    assert_eq!(result["device"]["id_token"], true, "{result}");
    assert_eq!(
        result["device"]["sub"],
        idp.provider_user_id("alice").unwrap().as_str()
    );
    assert_eq!(
        result["token_exchange"]["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token",
        "{result}"
    );
    assert_eq!(result["token_exchange"]["scope"], "email");
    assert_eq!(
        result["token_exchange"]["sub"],
        idp.provider_user_id("alice").unwrap().as_str()
    );
    assert_eq!(result["private_key_jwt"]["access_token"], true, "{result}");
    assert_eq!(
        result["jwt_bearer"]["sub"],
        idp.provider_user_id("alice").unwrap().as_str(),
        "{result}"
    );
    assert_eq!(result["jwt_bearer"]["scope"], "profile");
    assert_eq!(result["client_secret_jwt"]["access_token"], true, "{result}");
    assert_eq!(result["rfc9068"]["typ"], "at+jwt", "{result}");
    assert_eq!(result["rfc9068"]["client_id"], "mock-client");
    assert_eq!(result["rfc9068"]["scope"], "reports.read");
}

/// Runs `script` and reads its one JSON line; a run without one fails the test with what the
/// script printed.
async fn run_json(script: &'static str, ca: std::path::PathBuf, job: Value) -> Value {
    let ran = tokio::time::timeout(
        std::time::Duration::from_secs(90),
        run_node(script, ca, job.to_string()),
    )
    .await
    .unwrap_or_else(|_| panic!("{script}: no answer within 90 s"))
    .unwrap_or_else(|e| panic!("node runs {script}: {e}"));
    serde_json::from_slice(&out_line(&ran.stdout)).unwrap_or_else(|_| {
        panic!(
            "{script} printed no JSON line: {}\n{}",
            String::from_utf8_lossy(&ran.stdout),
            String::from_utf8_lossy(&ran.stderr)
        )
    })
}

/// The last non-empty line a script printed.
fn out_line(stdout: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(stdout)
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .as_bytes()
        .to_vec()
}

/// The password alice types; anything else is wrong.
const PASSWORD: &str = "correct horse battery staple";

/// Alice's Entra object id (`oid`): Graph's `id` for her, the same in every app.
const ALICE_OID: &str = "5e2a6f0c-1b7d-4c39-9a44-0f6de1a3b8c2";

/// Alice with a password, and her object id in Entra.
fn alice_with_password() -> User {
    alice()
        .password(PASSWORD)
        .provider_attr("microsoft", "oid", ALICE_OID)
}

/// openid-client drives the resource-owner password grant (RFC 6749 §4.3) through its generic
/// grant at the generic personality (no discovery: the server metadata written by hand) and at
/// Entra (the tenant's discovery): alice's password gets a token the provider's profile API
/// answers for her; a wrong one gets no token but `invalid_grant` (Entra: AADSTS50126).
#[tokio::test(flavor = "multi_thread")]
async fn openid_client_uses_the_password_grant_at_generic_and_entra() {
    if !ready() {
        return;
    }
    for provider in [Provider::Generic, Provider::Microsoft] {
        let idp = https_idp(provider).user(alice_with_password()).start().await;
        let (_dir, ca) = ca_file(&idp);
        let entra = provider == Provider::Microsoft;
        let job = json!({
            "base_url": idp.base_url(),
            "discovery_url": entra
                .then(|| format!("{}/{TENANT}/v2.0/.well-known/openid-configuration", idp.base_url())),
            "server": {
                "issuer": idp.issuer(),
                "token_endpoint": idp.endpoint_url(mock_idp::Endpoint::Token),
            },
            "client_id": idp.client().id,
            "client_secret": idp.client().secret.map(|s| s.expose().to_owned()),
            "username": "alice@example.com",
            "password": PASSWORD,
            "wrong_password": "Tr0ub4dor&3",
            "scope": if entra { "openid profile email offline_access User.Read" } else { "read" },
            // Entra's users are read from Graph (the library's own URL, sent to the mock).
            "profile_url": if entra {
                "https://graph.microsoft.com/v1.0/me".to_owned()
            } else {
                idp.endpoint_url(mock_idp::Endpoint::Userinfo).expect("a profile endpoint")
            },
        });
        let result = run_json("password.js", ca, job).await;
        let p = provider.id();
        assert!(result.get("error").is_none(), "{p}: {result}");
        // Entra's users are Graph's ids (`oid`); the generic provider's its own.
        let alice_id = if entra {
            ALICE_OID.to_owned()
        } else {
            idp.provider_user_id("alice").expect("alice")
        };
        assert_eq!(result["token"]["profile_status"], 200, "{p}: {result}");
        assert_eq!(result["token"]["profile_id"], alice_id.as_str(), "{p}: {result}");
        let wrong = &result["wrong_password"];
        assert_eq!(
            wrong["name"], "ResponseBodyError",
            "{p}: no token for a wrong password: {result}"
        );
        assert_eq!(wrong["code"], "invalid_grant", "{p}: {result}");
        assert_eq!(wrong["status"], 400, "{p}: {result}");
        if entra {
            // The ID token names alice in her tenant: oid = Graph's id, her tid.
            assert_eq!(result["token"]["id_token"]["oid"], alice_id.as_str(), "{result}");
            assert_eq!(result["token"]["id_token"]["tid"], TENANT, "{result}");
            assert_eq!(result["token"]["refresh_token"], true, "offline_access: {result}");
            assert!(
                text(&wrong["description"]).starts_with("AADSTS50126:"),
                "Entra's code for bad credentials: {result}"
            );
        }
    }
}

/// Entra at the microsoft personality, driven by openid-client (on-behalf-of) and by
/// Microsoft's own `@azure/msal-node` (client credentials, username/password, on-behalf-of,
/// the device code flow and a refresh), with MSAL's own authority and Graph URLs.
#[tokio::test(flavor = "multi_thread")]
async fn msal_node_and_openid_client_drive_entra_grants() {
    if !ready() {
        return;
    }
    let idp = https_idp(Provider::Microsoft)
        .user(alice_with_password())
        .client(mock_idp::Client::confidential(API_CLIENT, API_SECRET))
        .client(mock_idp::Client::public(PUBLIC_CLIENT))
        .start()
        .await;
    let (_dir, ca) = ca_file(&idp);
    let job = json!({
        "base_url": idp.base_url(),
        "tenant": TENANT,
        "client_id": API_CLIENT,
        "client_secret": API_SECRET,
        "public_client_id": PUBLIC_CLIENT,
        "user": "alice",
        "username": "alice@example.com",
        "password": PASSWORD,
        "wrong_password": "Tr0ub4dor&3",
        "api_scope": format!("api://{API_CLIENT}/access_as_user"),
    });
    let result = run_json("entra.js", ca, job).await;
    assert!(result.get("error").is_none(), "{result}");
    // MSAL's account for alice: home account `oid.tid` (from `client_info`), her object id and
    // tenant, her sign-in name; Graph answers each user token for her.
    let home = format!("{ALICE_OID}.{TENANT}");
    let alice_account = |step: &str| {
        // MSAL warns of what it misses in a user's token response (before the fix: "No client
        // info in response"). Client credentials are app-only: MSAL sends no `client_info=1`
        // and warns the same against Entra, so that step's warnings are not judged.
        assert_eq!(
            result[step]["warnings"],
            json!([]),
            "{step}: MSAL warned: {result:#}"
        );
        let a = &result[step]["account"];
        assert_eq!(a["homeAccountId"], home.as_str(), "{step}: {result:#}");
        assert_eq!(a["localAccountId"], ALICE_OID, "{step}: {result:#}");
        assert_eq!(a["tenantId"], TENANT, "{step}: {result:#}");
        assert_eq!(a["username"], "alice@example.com", "{step}: {result:#}");
    };
    let graph_says_alice = |me: &Value, step: &str| {
        assert_eq!(me["status"], 200, "{step}: Graph refused the token: {result:#}");
        assert_eq!(me["id"], ALICE_OID, "{step}: {result:#}");
    };

    // openid-client: on-behalf-of gets a Graph token for alice; a dead assertion gets none.
    let obo = &result["openid_client_obo"];
    assert!(obo.get("error").is_none(), "{result:#}");
    graph_says_alice(&obo["me"], "openid_client_obo");
    assert_eq!(obo["dead_assertion"]["name"], "ResponseBodyError", "{result:#}");
    assert_eq!(obo["dead_assertion"]["code"], "invalid_grant", "{result:#}");

    // MSAL client credentials: an app token for Graph, no account; the second from its cache.
    let cc = &result["msal_client_credentials"];
    assert_eq!(cc["tokenType"], "Bearer", "{result:#}");
    assert_eq!(cc["account"], Value::Null, "{result:#}");
    assert_eq!(
        cc["scopes"],
        json!(["https://graph.microsoft.com/.default"]),
        "{result:#}"
    );
    assert_eq!(cc["second_from_cache"], true, "{result:#}");
    assert_eq!(cc["same_token"], true, "{result:#}");

    // MSAL username/password: alice's account; a wrong password: Entra's AADSTS50126, no token.
    alice_account("msal_password");
    assert_eq!(result["msal_password"]["id_token"], true, "{result:#}");
    let wrong = &result["msal_wrong_password"]["error"];
    assert_eq!(wrong["name"], "ServerError", "{result:#}");
    assert_eq!(wrong["code"], "invalid_grant", "{result:#}");
    assert!(text(&wrong["description"]).contains("AADSTS50126"), "{result:#}");

    // MSAL on-behalf-of: alice's password token traded for a Graph token for her.
    alice_account("msal_obo");
    graph_says_alice(&result["msal_obo"]["me"], "msal_obo");

    // MSAL device code: the message shown, alice approves, her account; a forced refresh
    // gets a new token for her from the network.
    let device = &result["msal_device_code"];
    assert!(device.get("error").is_none(), "{result:#}");
    assert!(
        text(&device["shown"]["message"]).contains("enter the code"),
        "{result:#}"
    );
    alice_account("msal_device_code");
    graph_says_alice(&device["me"], "msal_device_code");
    assert_eq!(device["refreshed"]["fromCache"], false, "{result:#}");
    assert_eq!(device["refreshed"]["new_token"], true, "{result:#}");
    graph_says_alice(&device["refreshed"]["me"], "msal_device_code refresh");

    // The libraries kept their own URLs (openid-client its discovery at the mock).
    assert_eq!(
        result["origins"],
        json!([
            idp.base_url(),
            "https://graph.microsoft.com",
            "https://login.microsoftonline.com"
        ]),
        "{result:#}"
    );
}

/// A public client of Entra (no secret): MSAL's PublicClientApplication for the device flow.
const PUBLIC_CLIENT: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
/// The middle-tier API: a confidential client (Entra's application ids are GUIDs).
const API_CLIENT: &str = "b6f2e1c4-8d3a-4f5e-9c7b-2a1d0e3f4a5b";
const API_SECRET: &str = "Xy8Q~mock.secret-value_0123456789abcdefgh";

/// GitHub's own `@octokit/auth-oauth-device` runs the device flow at the github personality
/// with its own URLs (`https://github.com/login/device/code`, `…/login/oauth/access_token`,
/// `https://api.github.com/user`): codes shown, alice approves on "another device" (the admin
/// API), and the token it polls for is one GitHub's `/user` answers for her. Before the mock
/// took JSON bodies and a device flow named by `client_id` alone, this failed at the first
/// request.
#[tokio::test(flavor = "multi_thread")]
async fn octokit_runs_githubs_device_flow() {
    if !ready() {
        return;
    }
    let idp = https_idp(Provider::Github).user(alice()).start().await;
    let (_dir, ca) = ca_file(&idp);
    let job = json!({
        "base_url": idp.base_url(),
        "client_id": idp.client().id,
        "user": "alice",
        "scopes": ["read:user", "user:email"],
    });
    let result = run_json("github.js", ca, job).await;
    assert!(result.get("error").is_none(), "{result:#}");
    // The page a person opens is the mock's own `/login/device` (GitHub's path).
    assert_eq!(
        result["shown"]["verification_uri"],
        format!("{}/login/device", idp.base_url()),
        "{result:#}"
    );
    assert_eq!(result["token"]["tokenType"], "oauth", "{result:#}");
    // GitHub grants scopes comma-separated (`scope=read:user,user:email`) and octokit splits
    // on whitespace, so it reports one entry, as it does against GitHub itself.
    assert_eq!(
        result["token"]["scopes"],
        json!(["read:user,user:email"]),
        "{result:#}"
    );
    assert_eq!(
        result["user"]["status"], 200,
        "GitHub refused the token: {result:#}"
    );
    assert_eq!(result["user"]["login"], "alice", "{result:#}");
    assert_eq!(
        result["origins"],
        json!(["https://api.github.com", "https://github.com"]),
        "{result:#}"
    );
}

/// A Google service account: its address, as Google's IAM names them.
const SERVICE_ACCOUNT: &str = "reports@gatecheck-fidelity.iam.gserviceaccount.com";

/// A key as a service account's JSON key file carries it (`private_key`: PKCS#8 PEM).
fn pkcs8_pem(key: &mock_idp::keys::SigningKey) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.to_pkcs8());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem + "-----END PRIVATE KEY-----\n"
}

/// Google's own `google-auth-library` (its `JWT` client, with its own URLs) signs a service
/// account's RFC 7523 §2.1 assertion with the account's RSA key and trades it at
/// `https://oauth2.googleapis.com/token` without client authentication: the google personality
/// mints a token for the account with the requested scopes, which Google's userinfo answers
/// for (as the account, and as alice through domain-wide delegation, `subject`). A key the mock
/// does not know — another key of the same account, another account — gets no token, and the
/// library reports Google's `invalid_grant` as Google words it.
#[tokio::test(flavor = "multi_thread")]
async fn google_auth_library_signs_in_as_a_service_account() {
    use mock_idp::keys::SigningKey;
    if !ready() {
        return;
    }
    let idp = https_idp(Provider::Google).user(alice()).start().await;
    let key = SigningKey::generate(mock_idp::SigningAlg::RS256);
    idp.add_client(mock_idp::Client::private_key_jwt(
        SERVICE_ACCOUNT,
        json!({"keys": [key.jwk()]}),
    ))
    .expect("the service account registers");
    let other = SigningKey::generate(mock_idp::SigningAlg::RS256);
    let (_dir, ca) = ca_file(&idp);
    let scopes = [
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/cloud-platform",
    ];
    let job = json!({
        "base_url": idp.base_url(),
        "email": SERVICE_ACCOUNT,
        "key": pkcs8_pem(&key),
        "other_key": pkcs8_pem(&other),
        "scopes": scopes,
        "subject": "alice@example.com",
        "stranger": "intruder@elsewhere.iam.gserviceaccount.com",
    });
    let result = run_json("google.js", ca, job).await;
    assert!(result.get("error").is_none(), "{result:#}");
    // The library kept its own URLs, and reached them through node's https (gaxios' node-fetch).
    assert_eq!(
        result["layers"],
        json!({
            "https://oauth2.googleapis.com": ["https.request"],
            "https://openidconnect.googleapis.com": ["https.request"],
        }),
        "{result:#}"
    );
    // The service account: a token for the scopes it asked, a second call from the cache.
    let sa = &result["service_account"];
    assert!(text(&sa["access_token"]).starts_with("ya29."), "{result:#}");
    assert_eq!(sa["token_type"], "Bearer", "{result:#}");
    assert!(
        (3590..=3600).contains(&sa["expires_in_s"].as_i64().unwrap_or(0)),
        "{result:#}"
    );
    assert_eq!(sa["scope"], scopes.join(" "), "{result:#}");
    assert_eq!(sa["cached_same_token"], true, "{result:#}");
    // An API checks the token with getTokenInfo (Google's /tokeninfo): the account's token,
    // its scopes, no person behind it; a made-up token is refused with Google's 400.
    let info = &sa["token_info"];
    assert_eq!(info["azp"], SERVICE_ACCOUNT, "{result:#}");
    assert_eq!(info["aud"], SERVICE_ACCOUNT, "{result:#}");
    assert_eq!(info["scopes"], json!(scopes), "{result:#}");
    assert!(info.get("sub").is_none(), "{result:#}");
    assert!(info["expiry_date"].as_f64().is_some(), "{result:#}");
    let dead = &result["dead_token_info"];
    assert_eq!(dead["response"]["status"], 400, "{result:#}");
    assert_eq!(dead["response"]["data"]["error"], "invalid_token", "{result:#}");
    // What the library signed: Google's service-account assertion, no client authentication.
    let sent: Vec<(u16, Value, Vec<String>)> = idp
        .requests_to(mock_idp::Endpoint::Token)
        .into_iter()
        .map(|r| {
            let assertion = r
                .params
                .iter()
                .find(|(k, _)| k == "assertion")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let names = r.params.into_iter().map(|(k, _)| k).collect();
            (r.status, jwt_claims(&assertion), names)
        })
        .collect();
    assert_eq!(
        sent.iter().map(|(status, _, _)| *status).collect::<Vec<_>>(),
        [200, 200, 400, 401],
        "one token each (getAccessToken answered from the cache), then the two refusals: {sent:#?}"
    );
    let (_, claims, names) = &sent[0];
    assert_eq!(names, &["grant_type", "assertion"], "{sent:#?}");
    assert_eq!(claims["iss"], SERVICE_ACCOUNT, "{claims}");
    assert_eq!(claims["aud"], "https://oauth2.googleapis.com/token", "{claims}");
    assert_eq!(claims["scope"], scopes.join(" "), "{claims}");
    assert!(claims.get("sub").is_none(), "{claims}");
    assert_eq!(sent[1].1["sub"], "alice@example.com", "{sent:#?}");
    // Acting for alice, Google's userinfo answers for her, with what the email scope releases.
    let me = &result["delegated"]["userinfo"];
    assert_eq!(me["status"], 200, "{result:#}");
    assert_eq!(
        me["data"],
        json!({
            "sub": idp.provider_user_id("alice").expect("alice"),
            "email": "alice@example.com",
            "email_verified": true,
        }),
        "{result:#}"
    );
    let info = &result["delegated"]["token_info"];
    assert_eq!(info["sub"], me["data"]["sub"], "{result:#}");
    assert_eq!(info["email"], "alice@example.com", "{result:#}");
    assert_eq!(info["azp"], SERVICE_ACCOUNT, "{result:#}");
    // Keys the mock does not know get no token, refused in Google's words.
    for (case, status, error, description) in [
        ("wrong_key", 400, "invalid_grant", "Invalid JWT Signature."),
        (
            "stranger",
            401,
            "invalid_client",
            "The OAuth client was not found.",
        ),
    ] {
        let refused = &result[case];
        assert!(refused.get("access_token").is_none(), "{case}: {result:#}");
        assert_eq!(
            refused["error"]["response"],
            json!({"status": status, "data": {"error": error, "error_description": description}}),
            "{case}: {result:#}"
        );
        assert_eq!(
            refused["error"]["message"],
            format!("{error}: {description}"),
            "{case}: {result:#}"
        );
    }
}

/// The claims of a JWT, unverified; `null` when it is not one.
fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine as _;
    jwt.split('.')
        .nth(1)
        .and_then(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|c| serde_json::from_slice(&c).ok())
        .unwrap_or(Value::Null)
}
