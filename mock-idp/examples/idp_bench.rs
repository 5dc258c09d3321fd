//! Benchmark of the `mock-idp` binary, out of process: start-to-ready time, idle RSS, and
//! complete authorize → token → userinfo round trips per second with latency percentiles,
//! then RSS after those logins. Run through `bench/run` (release build); results go to
//! BENCHMARKS.md by hand from its output, never edited.
//!
//! Usage: idp_bench [--bin PATH] [--starts N] [--logins N] [--concurrency N] [--alg RS256|ES256]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Args {
    bin: String,
    starts: usize,
    logins: usize,
    concurrency: usize,
    alg: String,
}

fn args() -> Args {
    let exe = std::env::current_exe().unwrap();
    let default_bin = exe.parent().unwrap().parent().unwrap().join("mock-idp");
    let mut a = Args {
        bin: default_bin.to_string_lossy().into_owned(),
        starts: 20,
        logins: 10_000,
        concurrency: 16,
        alg: "RS256".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => a.bin = v,
            "--starts" => a.starts = v.parse().expect("--starts N"),
            "--logins" => a.logins = v.parse().expect("--logins N"),
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency N"),
            "--alg" => a.alg = v,
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

fn spawn(bin: &str, port: u16, alg: &str) -> Child {
    Command::new(bin)
        .args([
            "serve",
            "--headless",
            "--port",
            &port.to_string(),
            "--signing-alg",
            alg,
        ])
        .args(["--redirect-uri", "http://127.0.0.1:9/callback"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mock-idp")
}

/// Polls discovery with raw HTTP/1.1 until it answers 200.
fn wait_ready(port: u16, started: Instant) -> Duration {
    use std::io::{Read, Write};
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(
                b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            let mut buf = [0u8; 12];
            if s.read_exact(&mut buf).is_ok() && &buf[9..12] == b"200" {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not ready after 10 s"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn login(http: &reqwest::Client, base: &str) -> Result<(), String> {
    let auth = format!(
        "{base}/authorize?response_type=code&client_id=mock-client&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&scope=openid%20email%20profile&state=bench-state-0123456789&nonce=bench-nonce"
    );
    let resp = http.get(auth).send().await.map_err(|e| e.to_string())?;
    let loc = resp
        .headers()
        .get("location")
        .ok_or("no redirect")?
        .to_str()
        .unwrap()
        .to_owned();
    let code = url::Url::parse(&loc)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or("no code")?;
    let token: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth("mock-client", Some("mock-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let at = token["access_token"].as_str().ok_or("no access token")?;
    let info = http
        .get(format!("{base}/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if info.status() != 200 {
        return Err(format!("userinfo {}", info.status()));
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let a = args();
    assert!(
        std::path::Path::new(&a.bin).exists(),
        "no binary at {} (build with --release first)",
        a.bin
    );
    println!(
        "mock-idp benchmark: bin {} alg {} cores {}",
        a.bin,
        a.alg,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. start-to-ready
    let mut ready = Vec::new();
    for _ in 0..a.starts {
        let port = free_port();
        let started = Instant::now();
        let mut child = spawn(&a.bin, port, &a.alg);
        ready.push(wait_ready(port, started));
        let _ = child.kill();
        let _ = child.wait();
    }
    ready.sort();
    println!(
        "start-to-ready (spawn → discovery 200), {} starts: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        a.starts,
        pct(&ready, 0.5).as_secs_f64() * 1e3,
        pct(&ready, 0.9).as_secs_f64() * 1e3,
        ready.last().unwrap().as_secs_f64() * 1e3
    );

    // 2. idle RSS
    let port = free_port();
    let mut child = spawn(&a.bin, port, &a.alg);
    wait_ready(port, Instant::now());
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("idle RSS: {:.1} MiB", rss_kib(child.id()) as f64 / 1024.0);

    // 3. round trips
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..200 {
        login(&http, &base).await.expect("warm-up login");
    }
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency {
        let (http, base, counter, total) = (http.clone(), base.clone(), counter.clone(), a.logins);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total {
                let t = Instant::now();
                login(&http, &base).await.expect("login");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    lat.sort();
    println!(
        "round trips (authorize → token → userinfo), {} logins, concurrency {}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        lat.len(),
        a.concurrency,
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(&lat, 0.5).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "RSS after {} logins: {:.1} MiB",
        lat.len() + 200,
        rss_kib(child.id()) as f64 / 1024.0
    );
    let _ = child.kill();
    let _ = child.wait();
}
