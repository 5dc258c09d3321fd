//! Side-by-side benchmark of the `mock-idp` binary and the mock identity providers people use
//! instead — axa's oauth2-mock-server (npm) and oidc-provider-mock (PyPI) — in one run, with
//! the same client driver: start-to-ready, idle RSS, complete authorize → token → userinfo
//! round trips per second with p50/p99 latency, and RSS after the logins; then the ratios.
//! Run through `bench/peers`, which installs the peers at pinned versions.
//!
//! Usage: peers_bench --axa BIN --opm BIN [--bin PATH] [--starts N] [--logins N]
//!                    [--slow-logins N] [--concurrency N] [--only NAME] [--new-connections yes]
//!                    [--threads N]
//!
//! oidc-provider-mock manages a few dozen logins a second: it gets `--slow-logins` (1,000)
//! instead of `--logins` (10,000), and its line says how many it did.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// How a provider's login is driven headlessly.
#[derive(Clone, Copy)]
enum Authorize {
    /// GET the authorize URL; the answer redirects with a code (mock-idp --headless, axa).
    Get,
    /// POST the authorize URL with a `sub` form field (oidc-provider-mock's login form).
    PostSub,
}

struct Target {
    name: &'static str,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    authorize: Authorize,
    /// Logins to measure, when fewer than `--logins` (a slow peer).
    logins: Option<usize>,
}

impl Target {
    fn spawn(&self, port: u16) -> Child {
        let argv: Vec<String> = self
            .argv
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect();
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c.spawn()
            .unwrap_or_else(|e| panic!("{}: cannot start {}: {e}", self.name, argv[0]))
    }
}

struct Args {
    bin: String,
    axa: String,
    opm: String,
    starts: usize,
    logins: usize,
    slow_logins: usize,
    concurrency: usize,
    only: Option<String>,
    /// Open a new connection for every request (no keep-alive), as many real clients do.
    new_connections: bool,
    /// `mock-idp serve --threads N` (its default, 1, when not given).
    threads: Option<u16>,
}

fn args() -> Args {
    let exe = std::env::current_exe().unwrap();
    let default_bin = exe.parent().unwrap().parent().unwrap().join("mock-idp");
    let mut a = Args {
        bin: default_bin.to_string_lossy().into_owned(),
        axa: String::new(),
        opm: String::new(),
        starts: 10,
        logins: 10_000,
        slow_logins: 1_000,
        concurrency: 16,
        only: None,
        new_connections: false,
        threads: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => a.bin = v,
            "--axa" => a.axa = v,
            "--opm" => a.opm = v,
            "--starts" => a.starts = v.parse().expect("--starts N"),
            "--logins" => a.logins = v.parse().expect("--logins N"),
            "--slow-logins" => a.slow_logins = v.parse().expect("--slow-logins N"),
            "--only" => a.only = Some(v),
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency N"),
            "--new-connections" => a.new_connections = v == "yes",
            "--threads" => a.threads = Some(v.parse().expect("--threads N")),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !a.axa.is_empty() && !a.opm.is_empty(),
        "--axa and --opm are required (bench/peers passes them)"
    );
    a
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls discovery with raw HTTP/1.1 until it answers 200.
fn wait_ready(port: u16, started: Instant) -> Duration {
    use std::io::{Read, Write};
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(
                format!(
                    "GET /.well-known/openid-configuration HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
            let mut buf = [0u8; 12];
            if s.read_exact(&mut buf).is_ok() && &buf[9..12] == b"200" {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not ready after 30 s"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// CPU time (user + system) the process has used, from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime (field 14) and stime (15) are at 11 and 12.
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Endpoint paths, read from the provider's own discovery document.
#[derive(Clone)]
struct Endpoints {
    authorize: String,
    token: String,
    userinfo: String,
}

async fn endpoints(http: &reqwest::Client, base: &str) -> Endpoints {
    let doc: serde_json::Value = http
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("discovery JSON");
    // Some peers name "localhost" in their URLs; keep only the paths and use the loopback
    // address the driver already talks to.
    let path = |k: &str| {
        let u = url::Url::parse(doc[k].as_str().unwrap_or_else(|| panic!("no {k} in {doc}"))).unwrap();
        format!("{base}{}", u.path())
    };
    Endpoints {
        authorize: path("authorization_endpoint"),
        token: path("token_endpoint"),
        userinfo: path("userinfo_endpoint"),
    }
}

async fn login(http: &reqwest::Client, ep: &Endpoints, how: Authorize) -> Result<(), String> {
    let q = format!(
        "response_type=code&client_id=mock-client&redirect_uri={}&scope=openid%20email%20profile&state=bench-state-0123456789&nonce=bench-nonce-0123456789",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let url = format!("{}?{q}", ep.authorize);
    let resp = match how {
        Authorize::Get => http.get(url).send().await,
        Authorize::PostSub => http.post(url).form(&[("sub", "alice")]).send().await,
    }
    .map_err(|e| e.to_string())?;
    let loc = resp
        .headers()
        .get("location")
        .ok_or_else(|| format!("authorize answered {} without a redirect", resp.status()))?
        .to_str()
        .unwrap()
        .to_owned();
    let code = url::Url::parse(&loc)
        .map_err(|e| e.to_string())?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("no code in {loc}"))?;
    let token: serde_json::Value = http
        .post(&ep.token)
        .basic_auth("mock-client", Some("mock-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let at = token["access_token"]
        .as_str()
        .ok_or_else(|| format!("no access token in {token}"))?;
    let info = http
        .get(&ep.userinfo)
        .bearer_auth(at)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if info.status() != 200 {
        return Err(format!("userinfo {}", info.status()));
    }
    Ok(())
}

struct Figures {
    ready_p50: Duration,
    ready_max: Duration,
    idle_rss: f64,
    rate: f64,
    p50: Duration,
    p99: Duration,
    rss_after: f64,
    logins: usize,
    cpu_per_login: Duration,
}

async fn measure(t: &Target, a: &Args) -> Figures {
    // 1. start-to-ready
    let mut ready = Vec::new();
    for _ in 0..a.starts {
        let port = free_port();
        let started = Instant::now();
        let mut child = t.spawn(port);
        ready.push(wait_ready(port, started));
        let _ = child.kill();
        let _ = child.wait();
    }
    ready.sort();
    // 2. idle RSS
    let port = free_port();
    let mut child = t.spawn(port);
    wait_ready(port, Instant::now());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_mib(child.id());
    // 3. round trips, same driver for everyone
    let base = format!("http://127.0.0.1:{port}");
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if a.new_connections {
        builder = builder.pool_max_idle_per_host(0);
    }
    let http = builder.build().unwrap();
    let ep = endpoints(&http, &base).await;
    for _ in 0..200 {
        login(&http, &ep, t.authorize)
            .await
            .unwrap_or_else(|e| panic!("{}: warm-up login: {e}", t.name));
    }
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cpu_before = cpu_time(child.id());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency {
        let (http, ep, counter, total, how, name) = (
            http.clone(),
            ep.clone(),
            counter.clone(),
            t.logins.unwrap_or(a.logins),
            t.authorize,
            t.name,
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total {
                let s = Instant::now();
                login(&http, &ep, how)
                    .await
                    .unwrap_or_else(|e| panic!("{name}: login: {e}"));
                lat.push(s.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for task in tasks {
        lat.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let cpu_per_login = (cpu_time(child.id()) - cpu_before) / lat.len().max(1) as u32;
    lat.sort();
    let rss_after = rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    Figures {
        ready_p50: pct(&ready, 0.5),
        ready_max: *ready.last().unwrap(),
        idle_rss,
        rate: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(&lat, 0.5),
        p99: pct(&lat, 0.99),
        rss_after,
        logins: lat.len() + 200,
        cpu_per_login,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let a = args();
    let keys = tempfile::tempdir().expect("a temp dir for mock-idp's kept key");
    let ours = |name: &'static str, alg: &str, keep: bool| {
        let mut argv = vec![
            a.bin.clone(),
            "serve".into(),
            "--headless".into(),
            "--port".into(),
            "{port}".into(),
            "--signing-alg".into(),
            alg.into(),
            "--redirect-uri".into(),
            REDIRECT.into(),
        ];
        if let Some(n) = a.threads {
            argv.extend(["--threads".into(), n.to_string()]);
        }
        if keep {
            argv.extend(["--keys-dir".into(), keys.path().to_string_lossy().into_owned()]);
        } else {
            argv.push("--fresh-keys".into());
        }
        Target {
            name,
            argv,
            env: vec![],
            authorize: Authorize::Get,
            logins: None,
        }
    };
    let targets = vec![
        // Its default: RS256 with the key kept from an earlier start (the first start made it).
        ours("mock-idp", "RS256", true),
        ours("mock-idp (fresh RS256 key)", "RS256", false),
        ours("mock-idp (ES256)", "ES256", true),
        Target {
            name: "axa oauth2-mock-server",
            argv: vec![
                a.axa.clone(),
                "-a".into(),
                "127.0.0.1".into(),
                "-p".into(),
                "{port}".into(),
            ],
            env: vec![],
            authorize: Authorize::Get,
            logins: None,
        },
        Target {
            name: "oidc-provider-mock",
            argv: vec![
                a.opm.clone(),
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                "{port}".into(),
            ],
            env: vec![("PYTHONWARNINGS".into(), "ignore".into())],
            authorize: Authorize::PostSub,
            logins: Some(a.slow_logins.min(a.logins)),
        },
    ];
    // The kept key exists before the measured starts, as on any start but the first.
    let mut first = targets[0].spawn(free_port());
    std::thread::sleep(Duration::from_millis(300));
    let _ = first.kill();
    let _ = first.wait();

    println!(
        "peers benchmark: {} starts each, {} logins each at concurrency {}, cores {}",
        a.starts,
        a.logins,
        a.concurrency,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results = Vec::new();
    for t in &targets {
        if a.only.as_ref().is_some_and(|o| t.name != o.as_str()) {
            continue;
        }
        let f = measure(t, &a).await;
        println!(
            "{:<28} ready p50 {:>7.1} ms (max {:>7.1}) | idle RSS {:>6.1} MiB | {:>6.0} logins/s p50 {:>6.2} ms p99 {:>7.2} ms, server CPU {:>6.0} µs/login | RSS after {} logins {:>6.1} MiB",
            t.name,
            ms(f.ready_p50),
            ms(f.ready_max),
            f.idle_rss,
            f.rate,
            ms(f.p50),
            ms(f.p99),
            f.cpu_per_login.as_secs_f64() * 1e6,
            f.logins,
            f.rss_after
        );
        results.push((t.name, f));
    }
    // What bounds the RS256 figure: one RSA-2048 signature per login (the ID token).
    for alg in [mock_idp::SigningAlg::RS256, mock_idp::SigningAlg::ES256] {
        let key = mock_idp::keys::SigningKey::generate(alg);
        let claims = serde_json::json!({"iss": "http://127.0.0.1:9090", "sub": "alice", "aud": "mock-client", "exp": 2_000_000_000u64, "iat": 1_700_000_000u64});
        let n = 2_000;
        let started = Instant::now();
        for _ in 0..n {
            std::hint::black_box(key.sign(&claims));
        }
        let each = started.elapsed() / n;
        println!(
            "signing one ID token ({alg}, aws-lc, one core): {:.0} µs — at most {:.0} logins/s per core from signing alone",
            each.as_secs_f64() * 1e6,
            1.0 / each.as_secs_f64()
        );
    }
    if results.len() < targets.len() {
        return;
    }
    let ours = &results[0].1;
    for (name, f) in &results[3..] {
        println!(
            "mock-idp vs {name}: ready {:.1}× sooner, idle RSS {:.1}× smaller, {:.1}× the logins/s ({:.1}× less server CPU per login), p99 {:.1}× lower, RSS after logins {:.1}× smaller",
            ms(f.ready_p50) / ms(ours.ready_p50),
            f.idle_rss / ours.idle_rss,
            ours.rate / f.rate,
            f.cpu_per_login.as_secs_f64() / ours.cpu_per_login.as_secs_f64(),
            ms(f.p99) / ms(ours.p99),
            f.rss_after / ours.rss_after
        );
    }
}
