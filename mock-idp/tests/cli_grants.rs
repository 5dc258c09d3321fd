//! docs/grants.md's shell examples, run as written: each section's `mock-idp serve …` starts
//! the built binary with exactly those flags (on a free port), and its `curl` lines are sent
//! in order, `$VARIABLES` and `NAME=$(curl … | jq -r .field)` included. A test per section
//! checks what came back, so the guide cannot promise what the binary does not do. Also: the
//! grant flags' bad input ends with one message and exit code 2.
//!
//! The shell understood is the small subset the guide uses (see [`Step::parse`]); anything
//! else fails the test, naming the line, rather than being skipped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use mock_idp::keys::{SigningAlg, SigningKey};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mock-idp");
/// Where the guide's examples say the IdP listens; replaced by the real address.
const DOC_ORIGIN: &str = "localhost:9090";

fn guide() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grants.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The ```` ```sh ```` block of the section titled `title`.
fn shell_block(title: &str) -> String {
    let text = guide();
    let heading = format!("\n## {title}\n");
    let section = text
        .split_once(&heading)
        .unwrap_or_else(|| panic!("docs/grants.md has no section `## {title}`"))
        .1;
    let section = section.split("\n## ").next().unwrap();
    section
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .unwrap_or_else(|| panic!("section `{title}` has no sh block"))
        .0
        .to_owned()
}

/// The titles of the sections with a shell example.
fn sections_with_shell_examples() -> Vec<String> {
    guide()
        .split("\n## ")
        .skip(1)
        .filter(|s| s.contains("```sh\n"))
        .map(|s| s.lines().next().unwrap().to_owned())
        .collect()
}

/// One command of a shell block.
#[derive(Debug)]
enum Step {
    /// `mock-idp serve ARGS…`
    Serve(Vec<String>),
    /// `curl ARGS…`
    Curl(Vec<String>),
    /// `NAME=$(curl ARGS… | jq -r FILTER)`
    Capture {
        name: String,
        curl: Vec<String>,
        filter: String,
    },
    /// `NAME=…`: a value the reader makes (a signed JWT); the test supplies it.
    Placeholder(String),
}

impl Step {
    /// Parses one logical line (continuations joined, comments cut).
    fn parse(line: &str) -> Step {
        if let Some((name, value)) = line.split_once('=')
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            if let Some(inner) = value.strip_prefix("$(").and_then(|v| v.strip_suffix(')')) {
                let (curl, jq) = inner
                    .split_once(" | ")
                    .unwrap_or_else(|| panic!("expected `$(curl … | jq -r FILTER)`: {line}"));
                let jq = words(jq);
                assert!(
                    jq.len() == 3 && jq[0] == "jq" && jq[1] == "-r",
                    "only `jq -r FILTER` is understood: {line}"
                );
                let curl = words(curl);
                assert_eq!(curl[0], "curl", "{line}");
                return Step::Capture {
                    name: name.to_owned(),
                    curl: curl[1..].to_vec(),
                    filter: jq[2].clone(),
                };
            }
            assert_eq!(value, "…", "a literal assignment the test cannot supply: {line}");
            return Step::Placeholder(name.to_owned());
        }
        let w = words(line);
        match w.first().map(String::as_str) {
            Some("mock-idp") => {
                assert_eq!(w.get(1).map(String::as_str), Some("serve"), "{line}");
                Step::Serve(w[2..].to_vec())
            }
            Some("curl") => Step::Curl(w[1..].to_vec()),
            _ => panic!("not understood by tests/cli_grants.rs: {line}"),
        }
    }
}

/// The block's logical lines: `\` continuations joined, comment lines dropped, trailing
/// ` # comments` cut (outside quotes).
fn logical_lines(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for raw in block.lines() {
        let line = strip_comment(raw);
        let (line, continued) = match line.trim_end().strip_suffix('\\') {
            Some(l) => (l.to_owned(), true),
            None => (line.trim_end().to_owned(), false),
        };
        current.push_str(line.trim_start());
        current.push(' ');
        if !continued {
            let done = current.trim().to_owned();
            if !done.is_empty() {
                out.push(done);
            }
            current.clear();
        }
    }
    assert!(current.trim().is_empty(), "a `\\` continues past the block's end");
    out
}

fn strip_comment(line: &str) -> &str {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return &line[..i],
            _ => {}
        }
        prev = c;
    }
    line
}

/// Shell words: single quotes literal, double quotes grouping; `$NAME` is kept for
/// [`expand`] (outside single quotes only, which the guide never mixes).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unclosed quote: {line}");
    if in_word {
        out.push(word);
    }
    out
}

/// Replaces `$NAME` / `${NAME}` with the variables' values; an unknown one fails.
fn expand(word: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, tail) = match after.strip_prefix('{') {
            Some(braced) => braced.split_once('}').expect("closed ${…}"),
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                after.split_at(end)
            }
        };
        let value = vars
            .get(name)
            .unwrap_or_else(|| panic!("${name} is used before it is set: {word}"));
        out.push_str(value);
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// `jq -r` for the paths the guide uses: `.a`, `.a.b`, `.[0].a`.
fn jq(value: &Value, filter: &str) -> String {
    let mut v = value;
    let mut rest = filter
        .strip_prefix('.')
        .unwrap_or_else(|| panic!("jq filter {filter:?}"));
    while !rest.is_empty() {
        if let Some(indexed) = rest.strip_prefix('[') {
            let (index, tail) = indexed.split_once(']').expect("closed [n]");
            v = &v[index.parse::<usize>().expect("a numeric index")];
            rest = tail;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            v = &v[&rest[..end]];
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Null => panic!("jq {filter}: null in {value}"),
        other => other.to_string(),
    }
}

/// What one `curl` got.
#[derive(Debug)]
struct Answer {
    /// The command as written in the guide.
    command: String,
    /// Its curl arguments, variables expanded (to send it again).
    args: Vec<String>,
    status: u16,
    body: Value,
}

/// A running `mock-idp serve` and the answers of the block's `curl`s.
struct Run {
    child: Child,
    base: String,
    /// What `mock-idp serve` printed before it was ready.
    banner: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `args` (plus `--port 0`) in `dir`; the base URL from the banner.
fn serve(args: &[String], dir: tempfile::TempDir) -> Run {
    assert!(
        !args.iter().any(|a| a == "--port"),
        "the guide's examples use the default port; the test picks a free one"
    );
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .args(["--port", "0"])
        .current_dir(dir.path())
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mock-idp");
    let mut base = None;
    let mut banner = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        banner.push(line.clone());
        if let Some(admin) = line.trim_start().strip_prefix("admin API") {
            base = Some(admin.trim().trim_end_matches("/__admin/").to_owned());
        }
        if line.starts_with("Press ctrl-c") {
            break;
        }
    }
    let Some(base) = base else {
        let out = child.wait_with_output().unwrap();
        panic!(
            "mock-idp serve {args:?} did not start ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    Run {
        child,
        base,
        banner,
        _dir: dir,
    }
}

/// Sends one `curl` as curl would: `-u` Basic credentials, `-d` fields joined with `&` as an
/// `application/x-www-form-urlencoded` body (POST), `-X` method, `-H` headers, `-s` ignored.
async fn curl(args: &[String], base: &str) -> (u16, Value) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (mut method, mut url, mut user, mut data, mut headers) = (None, None, None, Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{a} needs a value")).clone();
        match a.as_str() {
            "-s" | "--silent" => {}
            "-u" => user = Some(value()),
            "-d" | "--data" => data.push(value()),
            "-X" => method = Some(value()),
            "-H" => headers.push(value()),
            flag if flag.starts_with('-') => panic!("curl {flag} is not understood by the test"),
            _ => url = Some(a.clone()),
        }
    }
    let url = url.expect("curl without a URL");
    let url = url.strip_prefix("http://").unwrap_or(&url);
    let path = url
        .strip_prefix(DOC_ORIGIN)
        .unwrap_or_else(|| panic!("the guide's URLs start with {DOC_ORIGIN}: {url}"));
    let method = method.unwrap_or_else(|| if data.is_empty() { "GET" } else { "POST" }.into());
    let mut req = http.request(method.parse().unwrap(), format!("{base}{path}"));
    if let Some(u) = user {
        let (id, secret) = u.split_once(':').expect("-u ID:SECRET");
        req = req.basic_auth(id, Some(secret));
    }
    if !data.is_empty() {
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(data.join("&"));
    }
    for h in headers {
        let (name, value) = h.split_once(':').expect("-H 'Name: value'");
        req = req.header(name.trim(), value.trim());
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("curl {args:?}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Runs the shell example of section `title`: `files` are written to the working directory
/// first, `supplied` gives the placeholders' values (`base` → the IdP's origin). Returns the
/// running IdP and every `curl`'s answer (captures included), in order.
async fn run_section(
    title: &str,
    files: &[(&str, String)],
    supplied: impl Fn(&str, &str) -> String,
) -> (Run, Vec<Answer>) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let mut dir = Some(dir);
    let mut run: Option<Run> = None;
    let mut vars = HashMap::new();
    let mut answers = Vec::new();
    for line in logical_lines(&shell_block(title)) {
        let base = || run.as_ref().expect("`mock-idp serve` comes first").base.clone();
        match Step::parse(&line) {
            Step::Serve(args) => {
                assert!(run.is_none(), "one `mock-idp serve` per section");
                let args: Vec<String> = args.iter().map(|a| expand(a, &vars)).collect();
                run = Some(serve(&args, dir.take().unwrap()));
            }
            Step::Placeholder(name) => {
                let value = supplied(&name, &base());
                vars.insert(name, value);
            }
            Step::Curl(args) | Step::Capture { curl: args, .. } if run.is_none() => {
                panic!("curl before `mock-idp serve`: {args:?}")
            }
            Step::Curl(args) => {
                let args: Vec<String> = args.iter().map(|a| expand(a, &vars)).collect();
                let (status, body) = curl(&args, &base()).await;
                answers.push(Answer {
                    command: line.clone(),
                    args,
                    status,
                    body,
                });
            }
            Step::Capture {
                name,
                curl: args,
                filter,
            } => {
                let args: Vec<String> = args.iter().map(|a| expand(a, &vars)).collect();
                let (status, body) = curl(&args, &base()).await;
                vars.insert(name, jq(&body, &filter));
                answers.push(Answer {
                    command: line.clone(),
                    args,
                    status,
                    body,
                });
            }
        }
    }
    (run.expect("the section starts mock-idp"), answers)
}

fn no_placeholders(name: &str, _: &str) -> String {
    panic!("the test supplies no value for {name}")
}

/// The claims of a JWT, unverified.
fn claims(jwt: &str) -> (Value, Value) {
    use base64::Engine;
    let part = |i: usize| -> Value {
        let raw = jwt.split('.').nth(i).expect("a JWT");
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(raw)
                .unwrap(),
        )
        .unwrap()
    };
    (part(0), part(1))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ok(answer: &Answer) -> &Value {
    assert_eq!(answer.status, 200, "{}\n→ {}", answer.command, answer.body);
    &answer.body
}

#[tokio::test]
async fn client_credentials_as_documented() {
    let (_run, answers) = run_section("Client credentials", &[], no_placeholders).await;
    let token = ok(&answers[0]);
    assert!(token["access_token"].is_string(), "{token}");
    assert_eq!(token["scope"], "reports.read");
    assert!(
        token.get("refresh_token").is_none() && token.get("id_token").is_none(),
        "{token}"
    );
}

#[tokio::test]
async fn introspection_as_documented() {
    let (_run, answers) = run_section("Introspection (RFC 7662)", &[], no_placeholders).await;
    let about = ok(&answers[1]);
    assert_eq!(about["active"], true, "{about}");
    assert_eq!(about["sub"], "mock-client", "{about}");
    assert_eq!(about["scope"], "reports.read", "{about}");
}

#[tokio::test]
async fn device_flow_as_documented() {
    let (_run, answers) = run_section("Device flow (RFC 8628)", &[], no_placeholders).await;
    let [codes, pending, waiting, approved, advanced, tokens] = answers.as_slice() else {
        panic!("six requests: {answers:#?}");
    };
    assert!(ok(codes)["verification_uri"].is_string(), "{}", codes.body);
    assert_eq!(
        (pending.status, pending.body["error"].as_str()),
        (400, Some("authorization_pending")),
        "{}",
        pending.body
    );
    assert_eq!(ok(waiting)[0]["client_id"], "mock-client");
    ok(approved);
    ok(advanced);
    let tokens = ok(tokens);
    let (_, id) = claims(tokens["id_token"].as_str().expect("an ID token for scope openid"));
    assert_eq!(id["sub"], "alice", "approved as alice: {id}");
}

#[tokio::test]
async fn password_grant_as_documented() {
    let (_run, answers) = run_section("Password grant", &[], no_placeholders).await;
    assert!(ok(&answers[0])["access_token"].is_string());
    assert_eq!(
        (answers[1].status, answers[1].body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a wrong password: {}",
        answers[1].body
    );
}

#[tokio::test]
async fn token_exchange_as_documented() {
    let (_run, answers) = run_section("Token exchange (RFC 8693)", &[], no_placeholders).await;
    assert_eq!(ok(&answers[0])["scope"], "read write");
    let exchanged = ok(&answers[1]);
    assert_eq!(
        exchanged["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let about = ok(&answers[2]);
    assert_eq!(
        (
            about["active"].as_bool(),
            about["sub"].as_str(),
            about["scope"].as_str()
        ),
        (Some(true), Some("alice"), Some("read")),
        "{about}"
    );
}

#[tokio::test]
async fn jwt_bearer_grant_as_documented() {
    let key = SigningKey::generate(SigningAlg::ES256);
    let jwks = json!({"keys": [key.jwk()]}).to_string();
    let (run, answers) = run_section(
        "JWT bearer grant (RFC 7523)",
        &[("mock-client.jwks.json", jwks)],
        |name, base| {
            assert_eq!(name, "ASSERTION");
            key.sign(
                &json!({"iss": "mock-client", "sub": "alice", "aud": base, "iat": now(), "exp": now() + 300}),
            )
        },
    )
    .await;
    let token = ok(&answers[0])["access_token"].as_str().unwrap().to_owned();
    let about = introspect(&run, &token).await;
    assert_eq!(about["sub"], "alice", "{about}");
}

async fn introspect(run: &Run, token: &str) -> Value {
    curl(
        &[
            "-u".into(),
            "mock-client:mock-secret".into(),
            format!("{DOC_ORIGIN}/introspect"),
            "-d".into(),
            format!("token={token}"),
        ],
        &run.base,
    )
    .await
    .1
}

#[tokio::test]
async fn entra_on_behalf_of_as_documented() {
    let (_run, answers) = run_section("Entra on-behalf-of", &[], no_placeholders).await;
    let obo = ok(&answers[1]);
    assert!(obo["access_token"].is_string(), "{obo}");
    assert_eq!(
        obo["scope"], "api://downstream/.default",
        "a token for the downstream API: {obo}"
    );
}

#[tokio::test]
async fn private_key_jwt_client_as_documented() {
    let key = SigningKey::generate(SigningAlg::RS256);
    let jwks = json!({"keys": [key.jwk()]}).to_string();
    let (run, answers) = run_section(
        "Client assertions: `private_key_jwt` and `client_secret_jwt`",
        &[("reports-job.jwks.json", jwks)],
        |name, base| {
            assert_eq!(name, "CLIENT_ASSERTION");
            key.sign(
                &json!({"iss": "reports-job", "sub": "reports-job", "aud": format!("{base}/token"),
                "jti": "doc-1", "iat": now(), "exp": now() + 60}),
            )
        },
    )
    .await;
    assert!(ok(&answers[0])["access_token"].is_string());
    // The banner says how the client authenticates (it has no secret, but is not public).
    assert!(
        run.banner
            .iter()
            .any(|l| l.trim() == "client secret  (none: authenticates with private_key_jwt)"),
        "{:#?}",
        run.banner
    );
    // What the comment says: the same assertion again is a replay.
    let (status, body) = curl(&answers[0].args, &run.base).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
}

#[tokio::test]
async fn jwt_access_tokens_as_documented() {
    let (_run, answers) = run_section("JWT access tokens (RFC 9068)", &[], no_placeholders).await;
    let (header, claims) = claims(ok(&answers[0])["access_token"].as_str().unwrap());
    assert_eq!(header["typ"], "at+jwt", "{header}");
    assert_eq!(claims["aud"], "https://api.example", "{claims}");
    assert_eq!(claims["client_id"], "mock-client", "{claims}");
}

#[tokio::test]
async fn scripted_outcomes_as_documented() {
    let (_run, answers) = run_section("Scripting what an endpoint answers", &[], no_placeholders).await;
    assert_eq!(answers[0].status, 201, "{}", answers[0].body);
    assert_eq!(
        (answers[1].status, answers[1].body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{}",
        answers[1].body
    );
    assert!(ok(&answers[2])["access_token"].is_string(), "only once");
}

/// Every shell example of the guide has a test above.
#[test]
fn every_shell_example_of_the_guide_is_run() {
    const TESTED: [&str; 10] = [
        "Client credentials",
        "Introspection (RFC 7662)",
        "Device flow (RFC 8628)",
        "Password grant",
        "Token exchange (RFC 8693)",
        "JWT bearer grant (RFC 7523)",
        "Entra on-behalf-of",
        "Client assertions: `private_key_jwt` and `client_secret_jwt`",
        "JWT access tokens (RFC 9068)",
        "Scripting what an endpoint answers",
    ];
    let documented = sections_with_shell_examples();
    for title in &documented {
        assert!(
            TESTED.contains(&title.as_str()),
            "docs/grants.md section `{title}` has a shell example no test runs"
        );
    }
    assert_eq!(documented.len(), TESTED.len(), "{documented:?}");
}

/// `mock-idp serve ARGS` ends at once with exit code 2 and one message containing `needle`.
fn refused(args: &[&str], needle: &str, dir: &Path) {
    let out = Command::new(BIN)
        .arg("serve")
        .args(args)
        .args(["--port", "0"])
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected {needle:?} in:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing started: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn bad_grant_flags_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, text: &str| -> PathBuf {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let key = SigningKey::generate(SigningAlg::ES256);
    let mut private = key.jwk().clone();
    private["d"] = json!("c2VjcmV0");
    let private = write("private.json", &json!({"keys": [private]}).to_string());
    let not_json = write("not.json", "{keys: nope");
    let empty = write("empty.json", r#"{"keys": []}"#);
    let config = write(
        "idp.toml",
        "[[clients]]\nid = \"app\"\nsecret = \"s\"\nredirect_uris = [\"http://127.0.0.1:9/cb\"]\n",
    );

    refused(
        &["--auth-method", "client_secret_magic"],
        "invalid value 'client_secret_magic' for '--auth-method <METHOD>'",
        d,
    );
    refused(
        &["--auth-method", "private_key_jwt"],
        "--auth-method private_key_jwt needs the client's public keys: add --client-jwks FILE",
        d,
    );
    refused(
        &["--auth-method", "none", "--auth-method", "client_secret_basic"],
        "--auth-method: none (a public client, no secret) cannot go with client_secret_basic",
        d,
    );
    refused(
        &["--auth-method", "none", "--client-secret", "s3cret"],
        "--client-secret: the client authenticates with none only",
        d,
    );
    refused(
        &["--client-jwks", "missing.json"],
        "--client-jwks missing.json: cannot read it",
        d,
    );
    refused(&["--client-jwks", not_json.to_str().unwrap()], "not JSON", d);
    refused(
        &["--client-jwks", empty.to_str().unwrap()],
        "expected a JWK Set with public keys",
        d,
    );
    refused(
        &[
            "--client-jwks",
            private.to_str().unwrap(),
            "--auth-method",
            "private_key_jwt",
        ],
        "jwks key 0 is not usable: it contains the private key",
        d,
    );
    refused(
        &["--config", config.to_str().unwrap(), "--no-client-credentials"],
        "--no-client-credentials sets the default client, but the config file defines [[clients]]",
        d,
    );
    // The older default-client flags too: they used to be ignored without a word.
    for flag in [
        &["--client-id", "other"][..],
        &["--client-secret", "s"],
        &["--redirect-uri", "http://127.0.0.1:9/cb"],
        &["--post-logout-redirect-uri", "http://127.0.0.1:9/"],
    ] {
        let args = [&["--config", config.to_str().unwrap()][..], flag].concat();
        refused(
            &args,
            &format!(
                "{} sets the default client, but the config file defines [[clients]]",
                flag[0]
            ),
            d,
        );
    }
    refused(&["--user", ":pw"], "a user needs an id", d);
    refused(&["--client-secret", ""], "--client-secret: must not be empty", d);
    refused(
        &["--host", "exa mple"],
        "--host: \"exa mple\" is not a host name",
        d,
    );
    refused(&["--host", "idp.localhost/x"], "is not a host name", d);
    refused(
        &["--issuer", "not a url"],
        "--issuer: \"not a url\" is not an http(s) URL",
        d,
    );
    refused(
        &["--jwt-access-tokens", " "],
        "--jwt-access-tokens: name the API",
        d,
    );
}

#[test]
fn help_explains_the_grant_flags() {
    let out = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--auth-method <METHOD>",
        "client_secret_jwt",
        "--client-jwks <FILE>",
        "--no-client-credentials",
        "--user <ID[:PASSWORD]>",
        "--jwt-access-tokens <AUDIENCE>",
    ] {
        assert!(help.contains(flag), "{flag} undocumented:\n{help}");
    }
}

/// The config file's grant settings: a user's password (a `--user` adds another), RFC 9068
/// tokens, a `private_key_jwt` client with inline keys.
#[tokio::test]
async fn the_config_file_configures_the_grants() {
    let key = SigningKey::generate(SigningAlg::ES256);
    let (x, y) = (key.jwk()["x"].as_str().unwrap(), key.jwk()["y"].as_str().unwrap());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("idp.toml"),
        format!(
            "provider = \"generic\"\njwt_access_tokens = \"https://api.example\"\n\
             [[clients]]\nid = \"app\"\nsecret = \"app-secret\"\n\
             [[clients]]\nid = \"job\"\nauth_methods = [\"private_key_jwt\"]\n\
             jwks = {{ keys = [{{ kty = \"EC\", crv = \"P-256\", x = \"{x}\", y = \"{y}\" }}] }}\n\
             [[users]]\nid = \"alice\"\nemail = \"alice@team.example\"\npassword = \"from-the-file\"\n"
        ),
    )
    .unwrap();
    let run = serve(
        &[
            "--config".into(),
            "idp.toml".into(),
            "--user".into(),
            "bob:from-the-flag".into(),
        ],
        dir,
    );
    for (user, password) in [("alice", "from-the-file"), ("bob", "from-the-flag")] {
        let (status, body) = curl(
            &words(&format!(
                "-u app:app-secret {DOC_ORIGIN}/oauth/token -d grant_type=password -d username={user} -d password={password}"
            )),
            &run.base,
        )
        .await;
        assert_eq!(status, 200, "{user}: {body}");
        let (header, claims) = claims(body["access_token"].as_str().unwrap());
        assert_eq!(
            (header["typ"].as_str(), claims["sub"].as_str()),
            (Some("at+jwt"), Some(user))
        );
    }
    let (_, users) = curl(&[format!("{DOC_ORIGIN}/__admin/users")], &run.base).await;
    assert_eq!(
        users[0]["email"], "alice@team.example",
        "the file's alice kept: {users}"
    );
    let (_, clients) = curl(&[format!("{DOC_ORIGIN}/__admin/clients")], &run.base).await;
    assert_eq!(clients[1]["jwks"]["keys"][0]["x"], x, "{clients}");
}

/// `--auth-method` and `--no-client-credentials` shape the default client: a method it did
/// not register is refused, and a client not allowed the grant gets `unauthorized_client`.
#[tokio::test]
async fn the_default_client_flags_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let run = serve(
        &words(
            "--client-id web --client-secret s3cret --auth-method client_secret_post --no-client-credentials",
        ),
        dir,
    );
    let basic = curl(
        &words(&format!(
            "-u web:s3cret {DOC_ORIGIN}/token -d grant_type=client_credentials"
        )),
        &run.base,
    )
    .await;
    assert_eq!(
        (basic.0, basic.1["error"].as_str()),
        (401, Some("invalid_client")),
        "{}",
        basic.1
    );
    let post = curl(
        &words(&format!(
            "{DOC_ORIGIN}/token -d grant_type=client_credentials -d client_id=web -d client_secret=s3cret"
        )),
        &run.base,
    )
    .await;
    assert_eq!(post.1["error"], "unauthorized_client", "{}", post.1);
}

/// The admin API gives a user a password and takes it away (`PATCH /__admin/users/{id}`), and
/// its index lists the device routes.
#[tokio::test]
async fn the_admin_api_sets_and_removes_a_password() {
    let run = serve(&words("--provider generic"), tempfile::tempdir().unwrap());
    let base = run.base.clone();
    let send = move |args: Vec<String>| {
        let base = base.clone();
        async move { curl(&args, &base).await }
    };
    let login = || {
        send(words(&format!(
            "-u mock-client:mock-secret {DOC_ORIGIN}/oauth/token -d grant_type=password -d username=alice -d password=new-one"
        )))
    };
    assert_eq!(login().await.1["error"], "invalid_grant", "no password yet");
    let patch = |body: &str| {
        send(vec![
            "-X".into(),
            "PATCH".into(),
            format!("{DOC_ORIGIN}/__admin/users/alice"),
            "-d".into(),
            body.into(),
        ])
    };
    let (status, user) = patch(r#"{"password":"new-one"}"#).await;
    assert_eq!((status, user["password"].as_str()), (200, Some("***")), "{user}");
    assert_eq!(login().await.0, 200);
    patch(r#"{"password":null}"#).await;
    assert_eq!(login().await.1["error"], "invalid_grant", "removed");
    let (_, index) = curl(&[format!("{DOC_ORIGIN}/__admin/")], &run.base).await;
    assert!(
        index
            .to_string()
            .contains("POST /__admin/devices/{user_code}/approve"),
        "{index}"
    );
}
