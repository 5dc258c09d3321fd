//! Benchmark of the reference gateway's hot path: authenticated requests per second through
//! `ref-gateway` (the release binary, its own process) versus the same upstream directly, in
//! one run, rounds interleaved so machine noise hits both sides alike; the ratio is the
//! figure. Run through `bench/gateway` (release build); results go to BENCHMARKS.md from its
//! output, never edited.
//!
//! A third column, `bare_proxy` (a hyper proxy with no authentication, on the same stack and
//! pinned the same way), shows what any proxy hop costs, so the gateway's own overhead is the
//! ratio between the last two columns.
//!
//! The upstream is a minimal HTTP/1.1 server on its own thread answering `200 ok`; a mock
//! GitHub (in-process) serves the one login; the load generator keeps `--concurrency`
//! keep-alive connections busy. All share the machine's cores — on 2 cores the gateway's
//! process competes with the load generator and the upstream.
//!
//! With `--gateway-cpu N` the gateway runs pinned to CPU `N` (via `taskset`); start the bench
//! itself pinned to another CPU (`taskset -c 0 gateway_bench --gateway-cpu 1`) to model a
//! gateway with its own core in front of an app — how gateways are deployed.
//!
//! A fourth column, when Apache httpd with mod_auth_openidc is installed, is the same
//! authenticated GET through Apache + mod_auth_openidc (configured by gatecheck's own profile
//! for it, `fixtures/gateways/mod_auth_openidc.toml`), pinned like the gateway. Both
//! gateways log in against the same mock Google. After the rounds, complete logins per second
//! through each gateway (a fresh browser per login: redirect, IdP, callback, landing).
//!
//! Usage: gateway_bench [--bin PATH] [--requests N] [--concurrency N] [--rounds N]
//!                      [--gateway-cpu N] [--logins N]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mock_idp::MockIdp;
use mock_idp::personality::Google;

struct Args {
    bin: String,
    requests: usize,
    concurrency: usize,
    rounds: usize,
    gateway_cpu: Option<usize>,
    logins: usize,
}

fn args() -> Args {
    let exe = std::env::current_exe().unwrap();
    let default_bin = exe.parent().unwrap().parent().unwrap().join("ref-gateway");
    let mut a = Args {
        bin: default_bin.to_string_lossy().into_owned(),
        requests: 20_000,
        concurrency: 32,
        rounds: 3,
        gateway_cpu: None,
        logins: 1_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => a.bin = v,
            "--requests" => a.requests = v.parse().expect("--requests N"),
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency N"),
            "--rounds" => a.rounds = v.parse().expect("--rounds N"),
            "--gateway-cpu" => a.gateway_cpu = Some(v.parse().expect("--gateway-cpu N")),
            "--logins" => a.logins = v.parse().expect("--logins N"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The upstream: axum on a current-thread runtime of its own thread.
fn start_upstream() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum::Router::new().fallback(|| async { "ok" });
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// A child process, killed when dropped.
struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Run {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    /// Requests sent again after the server closed their kept-alive connection.
    retried: usize,
}

/// `n` GETs of `url` with `cookie`, `concurrency` at a time.
async fn load(url: &str, host: Option<&str>, cookie: Option<&str>, n: usize, concurrency: usize) -> Run {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, next, url) = (http.clone(), next.clone(), url.to_owned());
        let cookie = cookie.map(str::to_owned);
        let host = host.map(str::to_owned);
        let retried = retried.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t = Instant::now();
                let mut req = http.get(&url).header("accept", "text/html");
                if let Some(c) = &cookie {
                    req = req.header("cookie", c);
                }
                if let Some(h) = &host {
                    req = req.header("host", h);
                }
                // A server may close a kept-alive connection just as a request goes out on
                // it (Apache after MaxKeepAliveRequests): send it again, and count it.
                let resp = match req.try_clone().expect("a plain GET").send().await {
                    Ok(r) => r,
                    Err(_) => {
                        retried.fetch_add(1, Ordering::Relaxed);
                        req.send().await.expect("request")
                    }
                };
                assert_eq!(resp.status(), 200, "{url}");
                let _ = resp.bytes().await.expect("body");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    Run {
        per_sec: n as f64 / elapsed.as_secs_f64(),
        p50: pct(&all, 0.5),
        p99: pct(&all, 0.99),
        retried: retried.load(Ordering::Relaxed),
    }
}

/// Complete logins per second through a gateway: each with a fresh browser (cookie jar),
/// from the first request through the IdP and the callback to the application's page.
async fn logins(origin: &str, n: usize, concurrency: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, origin) = (next.clone(), origin.to_owned());
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let ua = gatecheck::UserAgent::new();
                let hops = ua.follow(&format!("{origin}/landing")).await;
                let last = hops.last().expect("hops");
                assert_eq!(last.status, 200, "login through {origin}: {}", last.url);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Apache httpd + mod_auth_openidc, started from gatecheck's profile for it, in front of the
/// same upstream; `None` when it is not installed.
async fn start_mod_auth_openidc(
    idp: &MockIdp,
    upstream: SocketAddr,
    port: u16,
    work: &std::path::Path,
    cpu: Option<usize>,
) -> Option<gatecheck::launch::Launched> {
    gatecheck::system::find("apache2")?;
    let (mut profile, _) = gatecheck::profile::Profile::resolve("mod_auth_openidc").ok()?;
    if let Some(cpu) = cpu {
        profile.command.insert(0, cpu.to_string());
        profile.command.insert(0, "-c".into());
        profile.command.insert(0, "taskset".into());
    }
    // The profile keeps Apache to one small process for test isolation; measure it as Debian
    // ships it instead (mpm_event: 25 threads per child, up to 150 workers).
    for template in profile.files.values_mut() {
        *template = template
            .replace("StartServers 1\n", "StartServers 2\n")
            .replace("ServerLimit 1\n", "ServerLimit 16\n")
            .replace("ThreadsPerChild 16\n", "ThreadsPerChild 25\n")
            .replace("MaxRequestWorkers 16\n", "MaxRequestWorkers 150\n");
    }
    let spec = gatecheck::spec::GatewaySpec::new(gatecheck::provider::Provider::Google);
    let setting = gatecheck::launch::Setting {
        idp,
        upstream_url: format!("http://{upstream}"),
        port,
        front: None,
        work_dir: work,
        redis_url: None,
        idp_ca_pem: idp.ca_pem().map(str::to_owned),
    };
    match gatecheck::launch::Launched::start(&profile, &spec, setting).await {
        Ok(l) => Some(l),
        Err(e) => {
            eprintln!("mod_auth_openidc did not start: {e}");
            None
        }
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let upstream = start_upstream();
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    // One mock Google for both gateways (a signed ID token per login, as in production).
    let mod_port = gatecheck::ports::private_port();
    let mod_profile = gatecheck::profile::Profile::resolve("mod_auth_openidc")
        .ok()
        .map(|(p, _)| p);
    let mut idp = MockIdp::builder()
        .personality(Google::new())
        .redirect_uri(format!("{origin}/oauth2/callback"))
        .headless()
        .share_process_keys()
        .no_verify_on_drop();
    if let Some(p) = &mod_profile {
        let spec = gatecheck::spec::GatewaySpec::new(gatecheck::provider::Provider::Google);
        idp = idp.redirect_uri(gatecheck::launch::callback_url(p, &spec, mod_port));
    }
    let idp = idp.start().await;
    let mut cmd = match a.gateway_cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", &cpu.to_string(), &a.bin]);
            c
        }
        None => Command::new(&a.bin),
    };
    let gw = Gateway(
        cmd.args([
            "http",
            &upstream.to_string(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--url", &origin, "--oauth", "google"])
        .args([
            "--oauth-client-id",
            "mock-client",
            "--oauth-client-secret",
            "mock-secret",
        ])
        .args(["--oauth-base-url", idp.base_url(), "--allow-insecure-idp-http"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (build it: cargo build --release -p reference-impl)",
                a.bin
            )
        }),
    );
    let bare_port = free_port();
    let bare_bin = std::path::Path::new(&a.bin)
        .with_file_name("examples")
        .join("bare_proxy");
    let mut bare = match a.gateway_cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", &cpu.to_string()]).arg(&bare_bin);
            c
        }
        None => Command::new(&bare_bin),
    };
    let _bare = Gateway(
        bare.args([format!("127.0.0.1:{bare_port}"), upstream.to_string()])
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bare_bin.display())),
    );
    let ua = gatecheck::UserAgent::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let hops = loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break ua.follow(&format!("{origin}/")).await;
        }
        assert!(Instant::now() < deadline, "ref-gateway did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(hops.last().unwrap().status, 200, "login through the gateway");
    let session = ua.cookie("127.0.0.1", "session").expect("session cookie").value;
    let cookie = format!("session={session}");
    let work = tempfile::tempdir().unwrap();
    let apache = start_mod_auth_openidc(&idp, upstream, mod_port, work.path(), a.gateway_cpu).await;
    let mod_origin = gatecheck::launch::origin(mod_port);
    let mod_cookie = match &apache {
        Some(_) => {
            let ua = gatecheck::UserAgent::new();
            let hops = ua.follow(&format!("{mod_origin}/")).await;
            assert_eq!(hops.last().unwrap().status, 200, "login through mod_auth_openidc");
            let jar: Vec<String> = ua
                .cookies("app.localhost")
                .into_iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect();
            Some(jar.join("; "))
        }
        None => {
            println!(
                "mod_auth_openidc: not installed (apt-get install apache2 libapache2-mod-auth-openidc): its column is skipped"
            );
            None
        }
    };
    let mod_url = format!("http://127.0.0.1:{mod_port}/bench");
    let mod_host = format!("app.localhost:{mod_port}");
    let direct_url = format!("http://{upstream}/bench");
    let bare_url = format!("http://127.0.0.1:{bare_port}/bench");
    let gateway_url = format!("{origin}/bench");

    println!(
        "ref-gateway benchmark: bin {} cores {} (bench may use {}, gateway {}) requests {} concurrency {} rounds {}",
        a.bin,
        std::fs::read_to_string("/proc/cpuinfo").map_or(0, |c| c.matches("processor\t").count()),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        a.gateway_cpu
            .map_or("unpinned".to_owned(), |c| format!("pinned to CPU {c}")),
        a.requests,
        a.concurrency,
        a.rounds
    );
    // Warm-up both paths (connections, allocator, caches).
    load(&direct_url, None, None, 2_000, a.concurrency).await;
    load(&bare_url, None, None, 2_000, a.concurrency).await;
    load(&gateway_url, None, Some(&cookie), 2_000, a.concurrency).await;
    if let Some(c) = &mod_cookie {
        load(&mod_url, Some(&mod_host), Some(c), 2_000, a.concurrency).await;
    }
    let (mut direct, mut proxied, mut through, mut apache_runs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut p99s: Vec<(Duration, Duration)> = Vec::new();
    for round in 1..=a.rounds {
        let d = load(&direct_url, None, None, a.requests, a.concurrency).await;
        let b = load(&bare_url, None, None, a.requests, a.concurrency).await;
        let g = load(&gateway_url, None, Some(&cookie), a.requests, a.concurrency).await;
        let m = match &mod_cookie {
            Some(c) => Some(load(&mod_url, Some(&mod_host), Some(c), a.requests, a.concurrency).await),
            None => None,
        };
        println!(
            "round {round}: direct {:.0}/s (p50 {:.2?}, p99 {:.2?}) | bare proxy {:.0}/s (p50 {:.2?}) | ref-gateway {:.0}/s (p50 {:.2?}, p99 {:.2?}) | gateway/direct {:.0}%{}",
            d.per_sec,
            d.p50,
            d.p99,
            b.per_sec,
            b.p50,
            g.per_sec,
            g.p50,
            g.p99,
            100.0 * g.per_sec / d.per_sec,
            m.as_ref().map_or(String::new(), |m| format!(
                " | mod_auth_openidc {:.0}/s (p50 {:.2?}, p99 {:.2?}, {} resent) | gateway/mod_auth_openidc {:.1}×",
                m.per_sec,
                m.p50,
                m.p99,
                m.retried,
                g.per_sec / m.per_sec
            ))
        );
        direct.push(d.per_sec);
        proxied.push(b.per_sec);
        through.push(g.per_sec);
        if let Some(m) = &m {
            apache_runs.push(m.per_sec);
            p99s.push((g.p99, m.p99));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (d, b, g) = (median(&mut direct), median(&mut proxied), median(&mut through));
    println!(
        "median: direct {d:.0}/s, bare proxy {b:.0}/s, ref-gateway {g:.0}/s — gateway/direct {:.0}% (goal ≥ 85%), gateway/bare proxy {:.0}%",
        100.0 * g / d,
        100.0 * g / b
    );
    if !apache_runs.is_empty() {
        let m = median(&mut apache_runs);
        p99s.sort();
        let (gp, mp) = p99s[p99s.len() / 2];
        println!(
            "median: mod_auth_openidc {m:.0}/s — ref-gateway/mod_auth_openidc {:.1}× (goal ≥ 2×); p99 ref-gateway {gp:.2?}, mod_auth_openidc {mp:.2?}",
            g / m
        );
    }
    // Logins per second through each gateway (IdP, callback, session creation, landing).
    let ours = logins(&origin, a.logins, 8).await;
    let theirs = match &apache {
        Some(_) => Some(logins(&mod_origin, a.logins, 8).await),
        None => None,
    };
    println!(
        "logins/s ({} logins, 8 at a time, fresh browser each): ref-gateway {ours:.0}/s{}",
        a.logins,
        theirs.map_or(String::new(), |t| format!(
            ", mod_auth_openidc {t:.0}/s — {:.1}×",
            ours / t
        ))
    );
    drop(apache);
    drop(gw);
}
