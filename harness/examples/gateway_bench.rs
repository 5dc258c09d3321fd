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
//! Usage: gateway_bench [--bin PATH] [--requests N] [--concurrency N] [--rounds N] [--gateway-cpu N]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mock_idp::MockIdp;
use mock_idp::personality::GitHub;

struct Args {
    bin: String,
    requests: usize,
    concurrency: usize,
    rounds: usize,
    gateway_cpu: Option<usize>,
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
}

/// `n` GETs of `url` with `cookie`, `concurrency` at a time.
async fn load(url: &str, cookie: Option<&str>, n: usize, concurrency: usize) -> Run {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, next, url) = (http.clone(), next.clone(), url.to_owned());
        let cookie = cookie.map(str::to_owned);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t = Instant::now();
                let mut req = http.get(&url).header("accept", "text/html");
                if let Some(c) = &cookie {
                    req = req.header("cookie", c);
                }
                let resp = req.send().await.expect("request");
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
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let upstream = start_upstream();
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let idp = MockIdp::builder()
        .personality(GitHub::oauth_app())
        .redirect_uri(format!("{origin}/oauth2/callback"))
        .headless()
        .start()
        .await;
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
        .args(["--url", &origin, "--oauth", "github"])
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
    load(&direct_url, None, 2_000, a.concurrency).await;
    load(&bare_url, None, 2_000, a.concurrency).await;
    load(&gateway_url, Some(&cookie), 2_000, a.concurrency).await;
    let (mut direct, mut proxied, mut through) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=a.rounds {
        let d = load(&direct_url, None, a.requests, a.concurrency).await;
        let b = load(&bare_url, None, a.requests, a.concurrency).await;
        let g = load(&gateway_url, Some(&cookie), a.requests, a.concurrency).await;
        println!(
            "round {round}: direct {:.0}/s (p50 {:.2?}, p99 {:.2?}) | bare proxy {:.0}/s (p50 {:.2?}) | ref-gateway {:.0}/s (p50 {:.2?}, p99 {:.2?}) | gateway/direct {:.0}%",
            d.per_sec,
            d.p50,
            d.p99,
            b.per_sec,
            b.p50,
            g.per_sec,
            g.p50,
            g.p99,
            100.0 * g.per_sec / d.per_sec
        );
        direct.push(d.per_sec);
        proxied.push(b.per_sec);
        through.push(g.per_sec);
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
    drop(gw);
}
