//! The `mock-idp` binary: it starts, prints what an app needs, answers, stops cleanly on
//! ctrl-c, and refuses bad flags and config with one clear message and exit code 2.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mock-idp");

/// The binary, with its key cache in a directory of this test run (never the user's).
fn mock_idp() -> Command {
    let mut c = Command::new(BIN);
    c.env("XDG_CACHE_HOME", cache_home());
    c
}

fn cache_home() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temp dir"))
        .path()
}

struct Running {
    child: Child,
    banner: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = mock_idp()
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mock-idp");
    let mut banner = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Press ctrl-c");
        banner.push(line);
        if done {
            break;
        }
    }
    Running { child, banner }
}

fn field(banner: &[String], name: &str) -> String {
    banner
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(name).map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("no {name} in banner:\n{}", banner.join("\n")))
}

fn sigint(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
async fn serve_prints_the_banner_answers_discovery_and_stops_on_ctrl_c() {
    // One thread (the default) and a multi-threaded runtime serve and stop alike.
    for threads in ["1", "2"] {
        serves_and_stops(&["--headless", "--threads", threads]).await;
    }
}

async fn serves_and_stops(args: &[&str]) {
    let mut run = start(args);
    let issuer = field(&run.banner, "issuer");
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    assert_eq!(field(&run.banner, "client id"), "mock-client");
    assert_eq!(field(&run.banner, "client secret"), "mock-secret");
    assert_eq!(field(&run.banner, "admin API"), format!("{issuer}/__admin/"));
    assert_eq!(field(&run.banner, "inspector"), format!("{issuer}/__inspector"));
    let doc: serde_json::Value = crate::common::http(None)
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
    sigint(&run.child);
    let status = wait_exit(&mut run.child, Duration::from_secs(10)).expect("exits after ctrl-c");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn tls_writes_the_ca_and_serves_https() {
    let dir = std::env::temp_dir().join(format!("mockidp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_out = dir.join("ca.pem");
    let run = start(&["--tls", "--ca-out", ca_out.to_str().unwrap()]);
    let issuer = field(&run.banner, "issuer");
    assert!(issuer.starts_with("https://"));
    let ca = std::fs::read_to_string(field(&run.banner, "CA certificate")).unwrap();
    let resp = crate::common::http(Some(&ca))
        .get(format!("{issuer}/jwks"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn config_file_users_and_clients_are_served() {
    let dir = std::env::temp_dir().join(format!("mockidp-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("idp.toml");
    std::fs::write(
        &cfg,
        "interaction = \"headless\"\n[[clients]]\nid = \"team-app\"\nsecret = \"team-secret\"\n\
         redirect_uris = [\"http://127.0.0.1:9/callback\"]\n[[users]]\nid = \"zoe\"\nemail = \"zoe@team.example\"\n",
    )
    .unwrap();
    let run = start(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(field(&run.banner, "client id"), "team-app");
    let issuer = field(&run.banner, "issuer");
    let users = crate::common::get_json(&format!("{issuer}/__admin/users")).await;
    assert_eq!(users[0]["email"], "zoe@team.example");
    let _ = std::fs::remove_dir_all(&dir);
}

fn fails_with(args: &[&str], needle: &str) {
    let out = mock_idp().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected {needle:?} in:\n{stderr}"
    );
    assert_eq!(
        stderr
            .trim()
            .lines()
            .filter(|l| l.starts_with("mock-idp:"))
            .count()
            .max(1),
        1
    );
}

#[test]
fn bad_flags_and_config_exit_2_naming_the_problem() {
    fails_with(
        &["serve", "--port", "notaport"],
        "invalid value 'notaport' for '--port",
    );
    fails_with(
        &["serve", "--provider", "myspace", "--port", "0"],
        "--provider: unknown provider \"myspace\"; known: oidc",
    );
    fails_with(
        &["serve", "--signing-alg", "HS256", "--port", "0"],
        "--signing-alg: \"HS256\" is not supported",
    );
    fails_with(
        &["serve", "--redirect-uri", "not a url", "--port", "0"],
        "redirect URI \"not a url\" is not usable",
    );
    fails_with(
        &["serve", "--config", "/nonexistent/idp.toml"],
        "cannot read config file /nonexistent/idp.toml",
    );
    fails_with(
        &["serve", "--threads", "0", "--port", "0"],
        "invalid value '0' for '--threads <THREADS>': 0 is not in 1..=256",
    );
    let dir = std::env::temp_dir().join(format!("mockidp-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "[[users]]\nid = \"a\"\nemial = \"typo\"\n").unwrap();
    fails_with(
        &["serve", "--config", cfg.to_str().unwrap()],
        "unknown field `emial`",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    fails_with(&["serve", "--port", &port], "--port: cannot listen on 127.0.0.1:");
}

#[test]
fn help_explains_every_flag() {
    let out = mock_idp().args(["serve", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--port",
        "--bind",
        "--host",
        "--tls",
        "--ca-cert",
        "--ca-key",
        "--ca-out",
        "--config",
        "--provider",
        "--client-id",
        "--client-secret",
        "--redirect-uri",
        "--post-logout-redirect-uri",
        "--headless",
        "--signing-alg",
        "--issuer",
        "--open",
        "--keys-dir",
        "--fresh-keys",
        "--threads",
    ] {
        assert!(help.contains(flag), "{flag} undocumented:\n{help}");
    }
}

#[tokio::test]
async fn provider_all_runs_every_personality_and_prints_a_table() {
    let mut run = start(&["--provider", "all", "--headless"]);
    let rows: Vec<Vec<String>> = run
        .banner
        .iter()
        .skip_while(|l| !l.trim_start().starts_with("PROVIDER"))
        .skip(1)
        .take_while(|l| !l.starts_with("Press"))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        [
            "oidc",
            "google",
            "github",
            "microsoft",
            "gitlab",
            "linkedin",
            "twitch",
            "amazon",
            "facebook",
            "generic"
        ]
    );
    let http = crate::common::http(None);
    for row in &rows {
        // Column 2 is the provider's inspector.
        let inspector = http.get(&row[1]).send().await.unwrap();
        assert_eq!(inspector.status(), 200, "{}", row[1]);
        let page = inspector.text().await.unwrap();
        assert!(page.contains(&format!("inspector — {}", row[0])));
        // Each links to the others.
        assert_eq!(
            page.matches("/__inspector\">").count(),
            rows.len() - 1,
            "{}",
            row[0]
        );
        // Column 3 is the discovery URL (OIDC providers) or the authorize URL.
        let resp = http.get(&row[2]).send().await.unwrap();
        assert!(
            resp.status() == 200 || resp.status() == 302 || resp.status() == 400,
            "{}: {}",
            row[0],
            resp.status()
        );
    }
    assert!(
        run.banner
            .iter()
            .any(|l| l.contains("client id mock-client") && l.contains("client secret mock-secret"))
    );
    sigint(&run.child);
    assert!(
        wait_exit(&mut run.child, Duration::from_secs(10))
            .expect("exits")
            .success()
    );
}

#[test]
fn provider_github_is_served_without_discovery() {
    let run = start(&["--provider", "github"]);
    assert!(run.banner[0].contains("mock-idp (github) is ready"));
    assert!(field(&run.banner, "authorize").ends_with("/login/oauth/authorize"));
    assert!(!run.banner.iter().any(|l| l.trim_start().starts_with("discovery")));
}

#[test]
fn open_shows_the_inspector_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("opened.txt");
    let browser = dir.path().join("browser.sh");
    std::fs::write(&browser, format!("#!/bin/sh\necho \"$1\" > {}\n", out.display())).unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut child = mock_idp()
        .args(["serve", "--port", "0", "--provider", "github", "--open"])
        .env("BROWSER", &browser)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mock-idp");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Opened ");
        banner.push(line);
        if done {
            break;
        }
    }
    let inspector = field(&banner, "inspector");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !out.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let opened = std::fs::read_to_string(&out).expect("the browser was started");
    assert_eq!(opened.trim(), inspector);
    sigint(&child);
    assert!(
        wait_exit(&mut child, Duration::from_secs(10))
            .expect("exits")
            .success()
    );
}

async fn kid_of_a_run(args: &[&str]) -> String {
    let mut run = start(args);
    let issuer = field(&run.banner, "issuer");
    let jwks = crate::common::get_json(&format!("{issuer}/jwks")).await;
    sigint(&run.child);
    wait_exit(&mut run.child, Duration::from_secs(10)).expect("exits");
    jwks["keys"][0]["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_signing_key_is_kept_across_restarts_unless_fresh_keys() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().to_str().unwrap().to_owned();
    let first = kid_of_a_run(&["--keys-dir", &keys]).await;
    assert!(dir.path().join("rs256.pk8").is_file(), "the key is kept");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("rs256.pk8"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o077, 0, "only its owner can read the key");
    assert_eq!(
        kid_of_a_run(&["--keys-dir", &keys]).await,
        first,
        "the same key after a restart"
    );
    assert_ne!(
        kid_of_a_run(&["--keys-dir", &keys, "--signing-alg", "ES256"]).await,
        first
    );
    assert!(dir.path().join("es256.pk8").is_file());
    assert_ne!(kid_of_a_run(&["--fresh-keys"]).await, first);
    // A damaged key file is a start-up error naming it and the way out.
    std::fs::write(dir.path().join("rs256.pk8"), b"garbage").unwrap();
    fails_with(
        &["serve", "--port", "0", "--keys-dir", &keys],
        "rs256.pk8: not an RSA private key",
    );
}
