//! The `ref-gateway` binary: help, configuration errors (exit 2, naming the field, nothing
//! started), a live run from flags (redirect to the IdP, events on stdout, clean SIGTERM
//! stop) and SIGHUP reloads (a bad file is refused and the running config kept).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ref-gateway"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("ref-gateway runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A free port below the ephemeral range, for the binary to bind: a released `bind(0)` port
/// could be taken by a parallel test's client connection first.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id() % 10_000;
    loop {
        let port = 20_000 + (start + NEXT.fetch_add(1, Ordering::SeqCst)) % 12_000;
        let port = u16::try_from(port).expect("below 32768");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

#[test]
fn help_lists_both_ways_to_run_and_the_seed_shaped_flags() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("run") && out.contains("http"), "{out}");
    let o = run(&["http", "--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--oauth <OAUTH>",
        "--oauth-allow-email",
        "--oauth-allow-domain",
        "--oauth-scope",
        "--oauth-client-id",
        "--oauth-client-secret",
        "--allow-insecure-idp-http",
    ] {
        assert!(out.contains(flag), "{flag} in:\n{out}");
    }
}

#[test]
fn configuration_errors_exit_2_naming_the_field_and_what_to_do() {
    let dir = std::env::temp_dir().join(format!("ref-gateway-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[endpoints]]\nurl = \"http://app.localhost:8080\"\nupstream = \"http://127.0.0.1:3000\"\n[endpoints.oauth]\nprovider = \"myspace\"\n",
    )
    .unwrap();
    let typo = dir.join("typo.toml");
    std::fs::write(&typo, "listen = \"127.0.0.1:0\"\nsesion_store = \"memory\"\n").unwrap();
    let missing = dir.join("missing.toml");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["run".into(), "--config".into(), bad.display().to_string()],
            "endpoints[0].oauth.provider: unknown provider \"myspace\"",
        ),
        (
            vec!["run".into(), "--config".into(), typo.display().to_string()],
            "unknown field `sesion_store`",
        ),
        (
            vec!["run".into(), "--config".into(), missing.display().to_string()],
            "cannot read",
        ),
        (
            "http 3000 --oauth facebook".split(' ').map(String::from).collect(),
            "endpoints[0].oauth.client_id: facebook has no managed app",
        ),
        (
            "http 3000 --oauth amazon".split(' ').map(String::from).collect(),
            "endpoints[0].oauth.client_id: amazon has no managed app",
        ),
        (
            "http 3000 --oauth github --oauth-client-id a --oauth-client-secret s3cr3t --oauth-base-url http://127.0.0.1:9"
                .split(' ')
                .map(String::from)
                .collect(),
            "must use https (set allow_insecure_idp_http = true only for local tests)",
        ),
        (
            "http 3000 --oauth github --oauth-client-id a --oauth-client-secret s3cr3t --oauth-allow-domain *.acme.org"
                .split(' ')
                .map(String::from)
                .collect(),
            "wildcards are not supported",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}:\n{err}");
        assert!(!err.contains("s3cr3t"), "secrets never printed: {err}");
        assert!(
            o.stdout.is_empty(),
            "nothing started: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A running `ref-gateway` child; killed when dropped.
struct Gateway {
    child: Child,
    stdout: std::sync::mpsc::Receiver<String>,
}

impl Gateway {
    fn spawn(args: &[&str]) -> Gateway {
        let mut child = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Gateway { child, stdout: rx }
    }
    /// Waits for a stdout line containing `needle`.
    fn line(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.stdout.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no stdout line containing {needle:?}");
    }
    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    fn wait(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                return (status.code(), err);
            }
            assert!(Instant::now() < deadline, "ref-gateway did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(port: u16, path: &str, host: &str) -> (u16, String) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    (status, resp)
}

#[test]
fn a_live_run_from_flags_redirects_to_the_idp_emits_events_and_stops_on_sigterm() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let gw = Gateway::spawn(&[
        "http",
        "3000",
        "--listen",
        &listen,
        "--oauth",
        "github",
        "--oauth-client-id",
        "cli-client",
        "--oauth-client-secret",
        "s3cr3t",
        "--oauth-base-url",
        "http://127.0.0.1:9",
        "--allow-insecure-idp-http",
        "--events",
        "stdout",
    ]);
    gw.line("listening on");
    let (status, resp) = get(port, "/private?x=1", &format!("localhost:{port}"));
    assert_eq!(status, 302, "{resp}");
    let location = resp
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .unwrap_or_else(|| panic!("{resp}"));
    assert!(
        location.starts_with("http://127.0.0.1:9/login/oauth/authorize?"),
        "{location}"
    );
    assert!(location.contains("client_id=cli-client"), "{location}");
    let event = gw.line("http_request_complete.v0");
    let v: serde_json::Value = serde_json::from_str(&event).unwrap();
    assert_eq!(v["oauth.decision"], "block", "{event}");
    assert_eq!(v["oauth.app_client_id"], "cli-client", "{event}");
    gw.signal("-TERM");
    let (code, err) = gw.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("WARNING: allow_insecure_idp_http"),
        "the opt-out is loud: {err}"
    );
    assert!(!err.contains("s3cr3t"));
}

#[test]
fn sighup_reloads_the_file_and_a_broken_file_is_refused_keeping_the_running_config() {
    let dir = std::env::temp_dir().join(format!("ref-gateway-hup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gateway.toml");
    let port = free_port();
    let config = |client: &str| {
        format!(
            "listen = \"127.0.0.1:{port}\"\nallow_insecure_idp_http = true\n[[endpoints]]\nurl = \"http://app.localhost:{port}\"\nupstream = \"http://127.0.0.1:3000\"\n[endpoints.oauth]\nprovider = \"github\"\nclient_id = \"{client}\"\nclient_secret = \"x\"\nbase_url = \"http://127.0.0.1:9\"\n"
        )
    };
    std::fs::write(&file, config("before")).unwrap();
    let gw = Gateway::spawn(&["run", "--config", &file.display().to_string()]);
    gw.line("listening on");
    let host = format!("app.localhost:{port}");
    let client_in = |resp: &str, id: &str| resp.contains(&format!("client_id={id}&"));
    assert!(client_in(&get(port, "/", &host).1, "before"));

    std::fs::write(&file, config("after")).unwrap();
    gw.signal("-HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client_in(&get(port, "/", &host).1, "after") {
        assert!(Instant::now() < deadline, "the reload never took effect");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(&file, "[[endpoints]]\nurl = 1\n").unwrap();
    gw.signal("-HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        client_in(&get(port, "/", &host).1, "after"),
        "still running the last good config"
    );
    gw.signal("-TERM");
    let (code, err) = gw.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("configuration reloaded from"), "{err}");
    assert!(
        err.contains("reload refused, keeping the running configuration"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_example_config_in_fixtures_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/gateway/example.toml");
    let c = ref_gateway::config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.endpoints.len(), 2);
    let g = c.endpoints[1].oauth.generic.as_ref().unwrap();
    assert_eq!(
        (g.login_attribute.as_str(), g.jit_provisioning),
        ("username", false)
    );
}
