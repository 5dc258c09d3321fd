//! Redis killed and started again under load with two replicas: nobody is ever served as
//! someone else, and everyone recovers. It drives thousands of sessions, so it talks HTTP
//! with plain `reqwest` clients (one connection pool per task) rather than a browser-like
//! user agent per person, and it watches for panics on its own runtime threads.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use mock_idp::User;
use ref_gateway::ProviderKind;

use crate::support::env;

// ---------------------------------------------------------------------------------------
// Redis restart under load
// ---------------------------------------------------------------------------------------

/// The shape of a Redis-restart run.
struct RestartPlan {
    sessions: usize,
    /// Concurrent driver tasks sending authenticated requests.
    drivers: usize,
    /// Concurrent logins while the sessions are created.
    login_workers: usize,
    /// Before the outage: every session used at least once, and at least this long.
    warmup: Duration,
    /// redis-server stays down at least this long, and until `min_outage_errors` requests
    /// were answered with the outage error.
    outage: Duration,
    min_outage_errors: usize,
    /// Recovery (every session logged in again and served as its user) not done by then
    /// is a failure.
    recovery_cap: Duration,
}

const LIVE: u8 = 0;
const RELOGIN: u8 = 1;
const FRESH: u8 = 2;
const VERIFIED: u8 = 3;

/// One user's session, as the driver holds it.
struct Slot {
    user: String,
    email: String,
    /// The session cookie and its generation (0: the session from before the restart; +1
    /// for every login since), read and replaced together.
    session: Mutex<(String, usize)>,
    state: AtomicU8,
}

/// How one request was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    /// Forwarded, and the upstream saw the session's own user.
    Own,
    /// Forwarded with another identity, none, or for another request.
    Mixed(String),
    /// A fresh login: 302 to the IdP (navigation) or 401 (API call).
    Login,
    /// Anything else: status and `x-gateway-error`.
    Status(u16, Option<String>),
    /// No HTTP answer at all.
    Transport(String),
}

impl Answer {
    fn label(&self) -> String {
        match self {
            Answer::Own => "200 as its own user".into(),
            Answer::Mixed(_) => "200 AS ANOTHER USER".into(),
            Answer::Login => "fresh login (302 to the IdP / 401)".into(),
            Answer::Status(s, c) => format!("{s} {}", c.as_deref().unwrap_or("")).trim().to_owned(),
            Answer::Transport(_) => "transport error".into(),
        }
    }
}

struct Sent {
    sent: Instant,
    done: Instant,
    generation: usize,
    answer: Answer,
}

/// Shared by the driver tasks.
struct Ctx {
    origin: String,
    idp_base: String,
    slots: Vec<Slot>,
    next: AtomicUsize,
    stop: AtomicBool,
    /// Set when redis-server is stopped: from then on a fresh-login answer makes the task
    /// log that user in again.
    outage: AtomicBool,
    outage_errors: AtomicUsize,
    done: AtomicUsize,
    verified: AtomicUsize,
    login_failures: Mutex<Vec<String>>,
    /// Start and end of every login after the restart.
    relogins: Mutex<Vec<(Instant, Instant)>>,
    logins: reqwest::Client,
}

/// A client for `app.localhost` on loopback, no redirects followed.
fn http_client(keep_alive: bool) -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("app.localhost", SocketAddr::from(([127, 0, 0, 1], 0)))
        .tls_certs_only(Vec::new());
    if !keep_alive {
        b = b.pool_max_idle_per_host(0);
    }
    b.build().expect("client")
}

fn cookie_of(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|raw| raw.split(';').next()?.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

fn location_of(resp: &reqwest::Response) -> Result<url::Url, String> {
    let raw = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("{} {} has no Location", resp.url(), resp.status()))?;
    resp.url().join(raw).map_err(|e| e.to_string())
}

#[derive(serde::Deserialize)]
struct Echo {
    path: String,
    headers: Vec<(String, String)>,
}

/// Checks an upstream echo: the request's own path and the slot's user.
fn identity_of(body: &[u8], path: &str, email: &str) -> Answer {
    let Ok(echo) = serde_json::from_slice::<Echo>(body) else {
        return Answer::Mixed("the upstream's echo is unreadable".into());
    };
    let seen: Vec<&str> = echo
        .headers
        .iter()
        .filter(|(k, _)| k == "ngrok-auth-user-email")
        .map(|(_, v)| v.as_str())
        .collect();
    if echo.path != path || seen != [email] {
        return Answer::Mixed(format!(
            "asked {path} as {email}, the upstream saw {} as {seen:?}",
            echo.path
        ));
    }
    Answer::Own
}

/// A login up to the IdP's redirect back: the callback URL and the browser's `nonce`.
struct Pending {
    callback: url::Url,
    nonce: String,
}

/// Starts a login for `user` from `path` and lets the (headless) IdP approve it as them.
async fn start_login(c: &reqwest::Client, origin: &str, path: &str, user: &str) -> Result<Pending, String> {
    let err = |e: reqwest::Error| e.to_string();
    let first = c
        .get(format!("{origin}{path}"))
        .header("accept", "text/html")
        .send()
        .await
        .map_err(err)?;
    if first.status() != 302 {
        return Err(format!("login start for {user}: {}", first.status()));
    }
    let nonce = cookie_of(&first, "nonce").ok_or("no nonce cookie")?;
    let mut authorize = location_of(&first)?;
    authorize.query_pairs_mut().append_pair("login_hint", user);
    let at_idp = c.get(authorize).send().await.map_err(err)?;
    Ok(Pending {
        callback: location_of(&at_idp)?,
        nonce,
    })
}

/// Finishes a login: the callback, then the landing page, which must reach the upstream as
/// `email`. Returns the session cookie.
async fn finish_login(c: &reqwest::Client, p: Pending, email: &str) -> Result<String, String> {
    let err = |e: reqwest::Error| e.to_string();
    let back = c
        .get(p.callback)
        .header("cookie", format!("nonce={}", p.nonce))
        .send()
        .await
        .map_err(err)?;
    let session = cookie_of(&back, "session")
        .ok_or_else(|| format!("callback for {email}: {} without a session", back.status()))?;
    let landing = location_of(&back)?;
    let path = landing.path().to_owned();
    let page = c
        .get(landing)
        .header("cookie", format!("session={session}"))
        .header("accept", "text/html")
        .send()
        .await
        .map_err(err)?;
    if page.status() != 200 {
        return Err(format!("landing for {email}: {}", page.status()));
    }
    let body = page.bytes().await.map_err(err)?;
    match identity_of(&body, &path, email) {
        Answer::Own => Ok(session),
        other => Err(format!("landing for {email}: {other:?}")),
    }
}

/// Logs slot `i`'s user in through the balancer (a new connection per hop, so the hops
/// alternate replicas) and returns the session cookie.
async fn log_in(ctx: &Ctx, i: usize) -> Result<String, String> {
    let slot = &ctx.slots[i];
    let p = start_login(&ctx.logins, &ctx.origin, &format!("/s/{i}/login"), &slot.user).await?;
    finish_login(&ctx.logins, p, &slot.email).await
}

/// One authenticated request for slot `i`, classified.
async fn request(
    client: &reqwest::Client,
    ctx: &Ctx,
    i: usize,
    path: &str,
    cookie: &str,
    api: bool,
) -> Answer {
    let resp = client
        .get(format!("{}{path}", ctx.origin))
        .header("cookie", format!("session={cookie}"))
        .header("accept", if api { "application/json" } else { "text/html" })
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return Answer::Transport(e.to_string()),
    };
    let status = resp.status().as_u16();
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (upstream, code, location, www) = (
        header("x-upstream"),
        header("x-gateway-error"),
        header("location"),
        header("www-authenticate"),
    );
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return Answer::Transport(e.to_string()),
    };
    match status {
        200 if upstream.as_deref() == Some("recording") => identity_of(&body, path, &ctx.slots[i].email),
        200 => Answer::Mixed("a 200 that is not the upstream's".into()),
        302 if !api && location.is_some_and(|l| l.starts_with(&ctx.idp_base)) => Answer::Login,
        401 if api && www.is_some() => Answer::Login,
        s => Answer::Status(s, code),
    }
}

/// A driver task: round-robin over the sessions (a shared counter, so consecutive requests
/// of one session come from different tasks and connections, hence replicas), navigation
/// and API requests alternating. After the restart it logs in again the users whose session
/// is gone.
async fn drive(ctx: Arc<Ctx>, task: usize) -> Vec<Sent> {
    let client = http_client(true);
    let mut out = Vec::new();
    let mut seq = 0u64;
    while !ctx.stop.load(Ordering::Acquire) {
        let i = ctx.next.fetch_add(1, Ordering::Relaxed) % ctx.slots.len();
        let slot = &ctx.slots[i];
        let state = slot.state.load(Ordering::Acquire);
        if state == RELOGIN {
            tokio::task::yield_now().await;
            continue;
        }
        let (cookie, generation) = slot.session.lock().unwrap().clone();
        seq += 1;
        let path = format!("/s/{i}/{generation}/{task}-{seq}");
        let sent = Instant::now();
        let answer = request(&client, &ctx, i, &path, &cookie, seq.is_multiple_of(2)).await;
        let done = Instant::now();
        ctx.done.fetch_add(1, Ordering::Relaxed);
        match &answer {
            Answer::Status(503, Some(c)) if c == "store_unavailable" => {
                ctx.outage_errors.fetch_add(1, Ordering::Relaxed);
            }
            Answer::Own
                if state == FRESH
                    && slot
                        .state
                        .compare_exchange(FRESH, VERIFIED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok() =>
            {
                ctx.verified.fetch_add(1, Ordering::AcqRel);
            }
            Answer::Login
                if ctx.outage.load(Ordering::Acquire)
                    && slot
                        .state
                        .compare_exchange(state, RELOGIN, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok() =>
            {
                if state == VERIFIED {
                    ctx.verified.fetch_sub(1, Ordering::AcqRel);
                }
                let started = Instant::now();
                let result = log_in(&ctx, i).await;
                ctx.relogins.lock().unwrap().push((started, Instant::now()));
                match result {
                    Ok(c) => {
                        let mut held = slot.session.lock().unwrap();
                        *held = (c, held.1 + 1);
                        drop(held);
                        slot.state.store(FRESH, Ordering::Release);
                    }
                    Err(e) => {
                        ctx.login_failures.lock().unwrap().push(e);
                        slot.state.store(state, Ordering::Release);
                    }
                }
            }
            _ => {}
        }
        out.push(Sent {
            sent,
            done,
            generation,
            answer,
        });
    }
    out
}

/// What a Redis-restart run measured.
struct RestartReport {
    sessions: usize,
    drivers: usize,
    login_time: Duration,
    requests: Vec<Sent>,
    stopped: Instant,
    back: Instant,
    all_verified: Option<Instant>,
    login_failures: Vec<String>,
    relogins: Vec<(Instant, Instant)>,
    /// Single requests made by the scenario itself: what, status, `x-gateway-error`,
    /// whether a session cookie was set.
    probes: Vec<(&'static str, u16, Option<String>, bool)>,
    /// A login for alice started and finished after the restart.
    login_after_restart: Result<(), String>,
    upstream_records: usize,
    upstream_mixed: Vec<String>,
    panics: usize,
    hits: Vec<usize>,
}

impl RestartReport {
    fn in_outage(&self, r: &Sent) -> bool {
        r.sent <= self.back && r.done >= self.stopped
    }
    fn count(&self, f: impl Fn(&Sent) -> bool) -> usize {
        self.requests.iter().filter(|r| f(r)).count()
    }
    fn during(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in self.requests.iter().filter(|r| self.in_outage(r)) {
            *m.entry(r.answer.label()).or_default() += 1;
        }
        m
    }
    fn outside(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in self.requests.iter().filter(|r| !self.in_outage(r)) {
            *m.entry(r.answer.label()).or_default() += 1;
        }
        m
    }
    fn server_errors_outside(&self) -> usize {
        self.count(|r| !self.in_outage(r) && matches!(r.answer, Answer::Status(s, _) if s >= 500))
    }
    fn mixed(&self) -> Vec<&str> {
        self.requests
            .iter()
            .filter_map(|r| match &r.answer {
                Answer::Mixed(why) => Some(why.as_str()),
                _ => None,
            })
            .collect()
    }
    fn transport(&self) -> Vec<&str> {
        self.requests
            .iter()
            .filter_map(|r| match &r.answer {
                Answer::Transport(why) => Some(why.as_str()),
                _ => None,
            })
            .collect()
    }
    /// Milliseconds from redis-server answering PING again to `t` (negative: before).
    fn since_back(&self, t: Instant) -> f64 {
        if t >= self.back {
            (t - self.back).as_secs_f64() * 1e3
        } else {
            -(self.back - t).as_secs_f64() * 1e3
        }
    }
    /// The first clean answer (own user or fresh login) to a request sent after the kill.
    fn first_clean(&self) -> Option<Instant> {
        self.requests
            .iter()
            .filter(|r| r.sent >= self.stopped && matches!(r.answer, Answer::Own | Answer::Login))
            .map(|r| r.done)
            .min()
    }
    fn last_outage_error(&self) -> Option<Instant> {
        self.requests
            .iter()
            .filter(|r| matches!(r.answer, Answer::Status(503, _)))
            .map(|r| r.done)
            .max()
    }
    /// Everything the run must satisfy (no timings).
    fn assert_clean(&self) {
        assert!(
            self.login_failures.is_empty(),
            "logins failed: {:?}",
            self.login_failures
        );
        assert_eq!(
            self.mixed(),
            Vec::<&str>::new(),
            "requests forwarded as another user"
        );
        assert_eq!(
            self.upstream_mixed,
            Vec::<String>::new(),
            "the upstream saw a request with another user's identity"
        );
        assert_eq!(self.transport(), Vec::<&str>::new(), "requests without an answer");
        assert_eq!(self.panics, 0, "gateway tasks panicked");
        let before = self.count(|r| r.done < self.stopped);
        assert_eq!(
            self.count(|r| r.done < self.stopped && r.answer == Answer::Own),
            before,
            "before the outage every request is served as its user: {:?}",
            self.outside()
        );
        assert!(
            before >= self.sessions,
            "every session was used before the outage"
        );
        for (label, n) in self.during() {
            assert!(
                [
                    "200 as its own user",
                    "fresh login (302 to the IdP / 401)",
                    "503 store_unavailable"
                ]
                .contains(&label.as_str()),
                "during the outage: {n} × {label}"
            );
        }
        assert!(
            self.during().contains_key("503 store_unavailable"),
            "{:?}",
            self.during()
        );
        assert_eq!(
            self.server_errors_outside(),
            0,
            "5xx outside the outage: {:?}",
            self.outside()
        );
        for (label, n) in self.outside() {
            assert!(
                ["200 as its own user", "fresh login (302 to the IdP / 401)"].contains(&label.as_str()),
                "outside the outage: {n} × {label}"
            );
        }
        assert_eq!(
            self.count(|r| r.generation > 0 && r.answer == Answer::Login),
            0,
            "a session created after the restart was lost"
        );
        assert_eq!(
            self.count(|r| r.sent > self.back && r.generation == 0 && r.answer == Answer::Own),
            0,
            "a session from before the restart was accepted after it (no persistence)"
        );
        assert!(
            self.all_verified.is_some(),
            "not every user got a working session back"
        );
        let probes: Vec<_> = self
            .probes
            .iter()
            .map(|(what, s, c, set)| (*what, *s, c.as_deref(), *set))
            .collect();
        assert_eq!(
            probes,
            [
                // A store outage is temporary: 503, whatever the request.
                (
                    "callback during the outage",
                    503,
                    Some("store_unavailable"),
                    false
                ),
                (
                    "navigation without a session during the outage",
                    503,
                    Some("store_unavailable"),
                    false
                ),
                // The login transaction was lost with Redis's data.
                (
                    "the same callback after the restart",
                    400,
                    Some("login_expired"),
                    false
                ),
            ]
        );
        assert_eq!(self.login_after_restart, Ok(()), "a new login after the restart");
        assert!(
            self.hits.iter().all(|&h| h > 0),
            "both replicas served: {:?}",
            self.hits
        );
    }

    fn print(&self) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let outage = self.back - self.stopped;
        let total = self.requests.len();
        println!(
            "Redis restart — 2 gateway replicas behind a round-robin balancer, one redis-server \
             (no persistence), {} driver tasks",
            self.drivers
        );
        println!(
            "sessions created: {} (distinct users, real logins) in {:.2} s = {:.0} logins/s",
            self.sessions,
            self.login_time.as_secs_f64(),
            self.sessions as f64 / self.login_time.as_secs_f64()
        );
        println!(
            "requests sent: {total} (before the outage {}, overlapping it {}, after it {}); replica connections {:?}",
            self.count(|r| r.done < self.stopped),
            self.count(|r| self.in_outage(r)),
            self.count(|r| r.sent > self.back),
            self.hits
        );
        println!(
            "outage: {:.0} ms (redis-server killed → answering PING again on the same port)",
            ms(outage)
        );
        let during: Vec<String> = self.during().iter().map(|(k, v)| format!("{k}: {v}")).collect();
        println!("answers overlapping the outage: {}", during.join(", "));
        println!("5xx outside the outage: {}", self.server_errors_outside());
        println!(
            "mixed-up users: {} in answers, {} of {} upstream records",
            self.mixed().len(),
            self.upstream_mixed.len(),
            self.upstream_records
        );
        println!(
            "transport errors: {}, gateway panics: {}, failed logins: {}",
            self.transport().len(),
            self.panics,
            self.login_failures.len()
        );
        let fmt = |t: Option<Instant>| t.map_or("never".into(), |t| format!("{:+.1} ms", self.since_back(t)));
        println!(
            "recovery, from redis-server answering PING again (polled every 5 ms): first clean \
             answer (own user or fresh login) {}, last 503 {}",
            fmt(self.first_clean()),
            fmt(self.last_outage_error()),
        );
        for (what, s, c, set) in &self.probes {
            println!(
                "{what}: {s} {}{}",
                c.as_deref().unwrap_or(""),
                if *set { " — SESSION SET" } else { ", no session" }
            );
        }
        if let (Some(first), Some(last)) = (
            self.relogins.iter().map(|r| r.1).min(),
            self.relogins.iter().map(|r| r.1).max(),
        ) {
            let from = self.relogins.iter().map(|r| r.0).min().unwrap_or(first);
            println!(
                "logins again after the restart: {} by the driver, first done {}, {:.0} logins/s",
                self.relogins.len(),
                fmt(Some(first)),
                self.relogins.len() as f64 / (last - from).as_secs_f64()
            );
        }
        if let Some(t) = self.all_verified {
            println!(
                "all {} users logged in again and served as themselves: {}",
                self.sessions,
                fmt(Some(t)),
            );
        } else {
            println!("NOT every user got a working session back");
        }
    }
}

/// One GET with an optional cookie: status, `x-gateway-error`, whether a session cookie
/// was set.
async fn probe(c: &reqwest::Client, url: &str, cookie: Option<String>) -> (u16, Option<String>, bool) {
    let mut req = c.get(url).header("accept", "text/html");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let code = resp
        .headers()
        .get("x-gateway-error")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        resp.status().as_u16(),
        code,
        cookie_of(&resp, "session").is_some(),
    )
}

/// Panics on this test binary's threads named `faults-…` (the restart runs' runtimes,
/// where the gateways' tasks run).
static PANICKED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn watch_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(name) = std::thread::current().name()
                && name.starts_with("faults-")
            {
                PANICKED
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(name.to_owned());
            }
            previous(info);
        }));
    });
}

fn redis_binary() -> Option<std::path::PathBuf> {
    gatecheck::system::require("redis-server", "redis-server", "Redis restart test")
}

/// Runs a Redis-restart scenario on its own runtime (two worker threads with their own
/// name, so a panic in any gateway task is counted).
fn restart_run(bin: &std::path::Path, plan: RestartPlan) -> RestartReport {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    watch_panics();
    let name = format!("faults-redis-{}", RUN.fetch_add(1, Ordering::Relaxed));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name.clone())
        .enable_all()
        .build()
        .unwrap();
    let mut report = rt.block_on(restart_scenario(bin, plan));
    rt.shutdown_timeout(Duration::from_secs(5));
    report.panics = PANICKED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|n| **n == name)
        .count();
    report
}

async fn wait_until(cap: Duration, what: &str, done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > cap {
            eprintln!("gave up waiting: {what}");
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}

async fn restart_scenario(bin: &std::path::Path, plan: RestartPlan) -> RestartReport {
    let redis = Arc::new(Mutex::new(
        gatecheck::redis::RedisServer::start(bin).expect("redis-server starts"),
    ));
    let url = redis.lock().unwrap().url();
    let mut builder = env(ProviderKind::Github).redis(&url).replicas(2);
    let users: Vec<(String, String)> = (0..plan.sessions)
        .map(|i| (format!("u{i}"), format!("u{i}@example.com")))
        .collect();
    for (user, email) in &users {
        builder = builder.user(User::new(user.as_str()).email(email.as_str()));
    }
    let e = builder.start().await;
    let ctx = Arc::new(Ctx {
        origin: e.origin.clone(),
        idp_base: e.idp.base_url().to_owned(),
        slots: users
            .into_iter()
            .map(|(user, email)| Slot {
                user,
                email,
                session: Mutex::new((String::new(), 0)),
                state: AtomicU8::new(LIVE),
            })
            .collect(),
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        outage: AtomicBool::new(false),
        outage_errors: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        verified: AtomicUsize::new(0),
        login_failures: Mutex::new(Vec::new()),
        relogins: Mutex::new(Vec::new()),
        logins: http_client(false),
    });

    // N real logins, through both replicas.
    let started = Instant::now();
    let cookies: Vec<(usize, Result<String, String>)> = futures::stream::iter(0..plan.sessions)
        .map(|i| {
            let ctx = ctx.clone();
            async move { (i, log_in(&ctx, i).await) }
        })
        .buffer_unordered(plan.login_workers)
        .collect()
        .await;
    let login_time = started.elapsed();
    for (i, c) in cookies {
        match c {
            Ok(c) => ctx.slots[i].session.lock().unwrap().0 = c,
            Err(e) => panic!("initial login {i}: {e}"),
        }
    }

    let drivers: Vec<_> = (0..plan.drivers)
        .map(|t| tokio::spawn(drive(ctx.clone(), t)))
        .collect();
    let warm = Instant::now();
    let used = wait_until(plan.recovery_cap, "warm-up", || {
        ctx.done.load(Ordering::Relaxed) >= plan.sessions && warm.elapsed() >= plan.warmup
    })
    .await;
    assert!(used, "the driver did not get through every session");

    // A login that reaches the IdP before the outage and comes back during it.
    let pending = start_login(&ctx.logins, &ctx.origin, "/anon/started-before", "alice")
        .await
        .expect("alice's login starts");
    let callback = pending.callback.to_string();
    let nonce = format!("nonce={}", pending.nonce);
    let mut probes = Vec::new();

    // redis-server dies…
    ctx.outage.store(true, Ordering::Release);
    let r = redis.clone();
    let stopped = tokio::task::spawn_blocking(move || {
        let mut r = r.lock().unwrap();
        let t = Instant::now();
        r.stop();
        t
    })
    .await
    .unwrap();
    let (s, c, set) = probe(&ctx.logins, &callback, Some(nonce.clone())).await;
    probes.push(("callback during the outage", s, c, set));
    let (s, c, set) = probe(&ctx.logins, &format!("{}/anon/new-visitor", ctx.origin), None).await;
    probes.push(("navigation without a session during the outage", s, c, set));
    wait_until(plan.recovery_cap, "outage errors", || {
        ctx.outage_errors.load(Ordering::Relaxed) >= plan.min_outage_errors
            && stopped.elapsed() >= plan.outage
    })
    .await;
    // …and comes back, empty, on the same port.
    let r = redis.clone();
    let back = tokio::task::spawn_blocking(move || {
        r.lock()
            .unwrap()
            .restart()
            .expect("redis-server restarts on its port");
        Instant::now()
    })
    .await
    .unwrap();
    let (s, c, set) = probe(&ctx.logins, &callback, Some(nonce)).await;
    probes.push(("the same callback after the restart", s, c, set));
    let login_after_restart = async {
        let p = start_login(&ctx.logins, &ctx.origin, "/anon/after-restart", "alice").await?;
        finish_login(&ctx.logins, p, "alice@example.com").await.map(drop)
    }
    .await;
    let recovered = wait_until(plan.recovery_cap, "every user served again", || {
        ctx.verified.load(Ordering::Acquire) == plan.sessions
    })
    .await;
    let all_verified = recovered.then(Instant::now);
    ctx.stop.store(true, Ordering::Release);
    let mut requests = Vec::new();
    for d in drivers {
        requests.extend(d.await.expect("a driver task"));
    }

    // What the upstream itself saw: every request under /s/{i}/ carries user i.
    let seen = e.upstream.seen();
    let upstream_mixed = seen
        .iter()
        .filter_map(|s| {
            let expected = match s.path.strip_prefix("/s/") {
                Some(rest) => {
                    let i: usize = rest.split('/').next()?.parse().ok()?;
                    ctx.slots.get(i).map(|s| s.email.as_str())
                }
                None => Some("alice@example.com"),
            };
            let got = s.header_all("ngrok-auth-user-email");
            (got.len() != 1 || expected != Some(got[0])).then(|| format!("{}: {got:?}", s.path))
        })
        .collect();
    let hits = e.balancer.as_ref().unwrap().hits();
    let login_failures = ctx.login_failures.lock().unwrap().clone();
    let relogins = ctx.relogins.lock().unwrap().clone();
    drop(e);
    RestartReport {
        sessions: plan.sessions,
        drivers: plan.drivers,
        login_time,
        requests,
        stopped,
        back,
        all_verified,
        login_failures,
        relogins,
        probes,
        login_after_restart,
        upstream_records: seen.len(),
        upstream_mixed,
        panics: 0,
        hits,
    }
}

/// 300 sessions, redis-server killed and restarted under load: a 503 during the outage,
/// afterwards only "served as its own user" or "log in again", never another user's
/// identity, no 5xx outside the outage, no panics, every user back in.
#[test]
fn redis_restart_under_load_never_mixes_users_up_and_recovers() {
    let Some(bin) = redis_binary() else { return };
    let report = restart_run(
        &bin,
        RestartPlan {
            sessions: 300,
            drivers: 6,
            login_workers: 8,
            warmup: Duration::from_millis(200),
            outage: Duration::from_millis(200),
            min_outage_errors: 20,
            recovery_cap: Duration::from_secs(120),
        },
    );
    report.print();
    report.assert_clean();
}

/// The same with 10,000 sessions, printing the figures: `bench/faults` runs it in a release
/// build.
#[test]
#[ignore = "figures runner: bench/faults"]
fn redis_restart_10k() {
    let Some(bin) = redis_binary() else {
        panic!("redis-server is required")
    };
    let report = restart_run(
        &bin,
        RestartPlan {
            sessions: 10_000,
            drivers: 16,
            login_workers: 16,
            warmup: Duration::from_secs(2),
            outage: Duration::from_secs(1),
            min_outage_errors: 100,
            recovery_cap: Duration::from_secs(300),
        },
    );
    report.print();
    report.assert_clean();
}
