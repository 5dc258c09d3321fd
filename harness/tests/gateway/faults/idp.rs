//! IdP faults during a login and during an auth check: down, slow, hanging, 5xx, garbage
//! (the table of [`CASES`]); see the parent module for what each case asserts.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mock_idp::{Endpoint, MockIdp, Outcome};
use ref_gateway::ProviderKind;
use ref_gateway::events::Decision;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::support::{Env, describe, env, free_port};

const MIN: Duration = Duration::from_secs(60);
/// The gateway's `idp_timeout` in the IdP-fault cases (set by a reload right after start).
const IDP_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a slow IdP takes to answer: well past the timeout.
const SLOW: Duration = Duration::from_secs(3);
/// A gateway that has not answered by then hangs: a failure, not a measurement.
const HANG: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// A link to the IdP that can be cut
// ---------------------------------------------------------------------------------------

/// A TCP link from the gateway (and the browser) to the IdP. Cut, its port refuses
/// connections and the connections it carried are closed: the IdP is down as far as its
/// clients can tell, while its state (users, grants, refresh tokens) survives for when the
/// link is restored on the same port.
struct Link {
    port: u16,
    target: SocketAddr,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Link {
    async fn start(target: SocketAddr) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let link = Link {
            port: listener.local_addr().unwrap().port(),
            target,
            task: Mutex::new(None),
        };
        link.serve(listener);
        link
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let task = tokio::spawn(async move {
            // Dropping the set (when the task is aborted) closes every carried connection.
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut inbound, _)) = accepted else { continue };
                        conns.spawn(async move {
                            if let Ok(mut outbound) = TcpStream::connect(target).await {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            }
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The IdP goes down: connections refused, open ones closed.
    async fn cut(&self) {
        let task = self.task.lock().unwrap().take();
        if let Some(t) = task {
            t.abort();
            let _ = t.await;
        }
    }

    /// The IdP is reachable again, on the same port.
    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the link's port is free again");
        self.serve(listener);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(t) = self.task.lock().unwrap().take() {
            t.abort();
        }
    }
}

// ---------------------------------------------------------------------------------------
// IdP faults
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Connection refused (the [`Link`] is cut).
    Down,
    /// Answers normally, but only after [`SLOW`].
    Slow,
    /// Accepts the request and never answers.
    Stall,
    /// A 5xx in the provider's shape.
    ServerError,
    /// HTTP 200 with a truncated JSON body.
    Garbage,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Down => "down",
            Fault::Slow => "slow (3 s)",
            Fault::Stall => "never answers",
            Fault::ServerError => "5xx",
            Fault::Garbage => "garbage",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The callback: code exchange, then the profile fetch.
    Login,
    /// The auth check of an existing session.
    Check,
}

/// What the next attempt does once the IdP is healthy again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// Login: the error page's retry link logs the user in (lands on the upstream as them).
    RetryLogsIn,
    /// Check: the same session is forwarded again as its user, without a new login.
    SameSession,
    /// Check: the session is over; the browser is sent to the IdP.
    MustLogIn,
    /// Anything else (with the status).
    Broken(u16),
}

/// One IdP fault and the outcome the gateway must produce.
struct Case {
    provider: ProviderKind,
    phase: Phase,
    at: Endpoint,
    fault: Fault,
    /// Status and `x-gateway-error` of the answer to the request that met the fault.
    status: u16,
    code: Option<&'static str>,
    /// Login: a session was created. Check: the browser still holds its session.
    session: bool,
    after: After,
    /// Already asserted by another test file (run here only by the figures runner).
    covered_by: Option<&'static str>,
}

const fn login(
    provider: ProviderKind,
    at: Endpoint,
    fault: Fault,
    status: u16,
    code: &'static str,
    covered_by: Option<&'static str>,
) -> Case {
    Case {
        provider,
        phase: Phase::Login,
        at,
        fault,
        status,
        code: Some(code),
        session: false,
        after: After::RetryLogsIn,
        covered_by,
    }
}

const fn check(
    provider: ProviderKind,
    at: Endpoint,
    fault: Fault,
    status: u16,
    code: Option<&'static str>,
    after: After,
    covered_by: Option<&'static str>,
) -> Case {
    Case {
        provider,
        phase: Phase::Check,
        at,
        fault,
        status,
        code,
        session: matches!(after, After::SameSession),
        after,
        covered_by,
    }
}

use Fault::{Down, Garbage, ServerError, Slow, Stall};
use ProviderKind::{Github, Gitlab};

const UNAVAILABLE: &str = "idp_unavailable";
const INVALID: &str = "idp_invalid";

/// Every IdP fault case. GitHub is plain OAuth 2.0 (token, then `/user` and `/user/emails`;
/// its auth check re-reads `/user` with the access token); GitLab is OIDC (token with an ID
/// token, then userinfo; its auth check refreshes — GitLab rotates refresh tokens — then
/// reads userinfo). "Down" needs the [`Link`], which only plain OAuth providers can use (an
/// OIDC discovery document names the IdP's own origin).
const CASES: &[Case] = &[
    login(Github, Endpoint::Token, Down, 502, UNAVAILABLE, None),
    login(Github, Endpoint::Token, Slow, 502, UNAVAILABLE, None),
    login(Github, Endpoint::Token, ServerError, 502, UNAVAILABLE, None),
    login(Github, Endpoint::Token, Garbage, 401, INVALID, None),
    login(Github, Endpoint::Userinfo, Slow, 502, UNAVAILABLE, None),
    login(Github, Endpoint::Userinfo, ServerError, 502, UNAVAILABLE, None),
    login(Github, Endpoint::Userinfo, Garbage, 401, INVALID, None),
    login(Gitlab, Endpoint::Token, Stall, 502, UNAVAILABLE, None),
    login(
        Gitlab,
        Endpoint::Token,
        ServerError,
        502,
        UNAVAILABLE,
        Some("errors.rs token_endpoint_failures_end_the_login_without_a_session"),
    ),
    login(
        Gitlab,
        Endpoint::Token,
        Garbage,
        401,
        INVALID,
        Some("errors.rs token_endpoint_failures_end_the_login_without_a_session"),
    ),
    login(Gitlab, Endpoint::Userinfo, Slow, 502, UNAVAILABLE, None),
    login(Gitlab, Endpoint::Userinfo, ServerError, 502, UNAVAILABLE, None),
    login(Gitlab, Endpoint::Userinfo, Garbage, 401, INVALID, None),
    check(
        Github,
        Endpoint::Userinfo,
        Down,
        503,
        Some(UNAVAILABLE),
        After::SameSession,
        None,
    ),
    check(
        Github,
        Endpoint::Userinfo,
        Slow,
        503,
        Some(UNAVAILABLE),
        After::SameSession,
        None,
    ),
    check(
        Github,
        Endpoint::Userinfo,
        ServerError,
        503,
        Some(UNAVAILABLE),
        After::SameSession,
        None,
    ),
    // An answer that cannot be understood is treated like a refused one (a dead grant): fail
    // closed, the session ends, the browser is sent to log in again.
    check(
        Github,
        Endpoint::Userinfo,
        Garbage,
        302,
        None,
        After::MustLogIn,
        None,
    ),
    check(
        Gitlab,
        Endpoint::Refresh,
        Stall,
        503,
        Some(UNAVAILABLE),
        After::SameSession,
        None,
    ),
    check(
        Gitlab,
        Endpoint::Refresh,
        ServerError,
        503,
        Some(UNAVAILABLE),
        After::SameSession,
        Some("continuous.rs an_idp_outage_during_the_auth_check_fails_closed_and_the_session_survives_it"),
    ),
    check(
        Gitlab,
        Endpoint::Refresh,
        Garbage,
        302,
        None,
        After::MustLogIn,
        None,
    ),
    // GitLab rotates the refresh token before the profile fetch fails: the gateway keeps the
    // new one, so the same session works once the IdP is back.
    check(
        Gitlab,
        Endpoint::Userinfo,
        ServerError,
        503,
        Some(UNAVAILABLE),
        After::SameSession,
        None,
    ),
];

/// What a case produced.
#[derive(Debug)]
struct Observed {
    status: u16,
    code: Option<String>,
    /// Requests the upstream received for the request that met the fault.
    forwarded: usize,
    session: bool,
    event: (Decision, u16),
    after: After,
    /// Figures only.
    answered_in: Duration,
    trace: String,
}

type Verdict = (u16, Option<String>, usize, bool, (Decision, u16), After);

impl Observed {
    fn verdict(&self) -> Verdict {
        (
            self.status,
            self.code.clone(),
            self.forwarded,
            self.session,
            self.event,
            self.after,
        )
    }
}

impl Case {
    fn expected(&self) -> Verdict {
        (
            self.status,
            self.code.map(str::to_owned),
            0,
            self.session,
            (Decision::Block, self.status),
            self.after,
        )
    }

    fn name(&self) -> String {
        let phase = match self.phase {
            Phase::Login => "login",
            Phase::Check => "auth check",
        };
        format!(
            "{phase}, {}, {} {}",
            self.provider.as_str(),
            self.at.name(),
            self.fault.name()
        )
    }

    async fn run(&self) -> Observed {
        match self.phase {
            Phase::Login => self.run_login().await,
            Phase::Check => self.run_check().await,
        }
    }

    /// An environment whose IdP a plain OAuth provider reaches through a [`Link`], with the
    /// gateway's `idp_timeout` shortened to [`IDP_TIMEOUT`] by a reload.
    async fn env(&self) -> (Env, Option<Link>) {
        let plain = self.provider != Gitlab;
        let mut builder = env(self.provider);
        let mut link = None;
        if plain {
            let idp_port = free_port();
            let l = Link::start(SocketAddr::from(([127, 0, 0, 1], idp_port))).await;
            let base = l.url();
            builder = builder
                .idp(move |b| b.port(idp_port))
                .oauth(|o| o.base_url = Some(base));
            link = Some(l);
        }
        if self.phase == Phase::Check {
            builder = builder.oauth(|o| o.auth_check_interval = Some(MIN));
        }
        assert!(
            self.fault != Down || link.is_some(),
            "{}: no link to cut",
            self.name()
        );
        let e = builder.start().await;
        let mut config = e.config.clone();
        config.idp_timeout = Some(IDP_TIMEOUT);
        let kept =
            e.gw.reload(ref_gateway::config::validate(config).expect("valid config"));
        assert!(kept.is_empty(), "{kept:?}");
        (e, link)
    }

    async fn inject(&self, idp: &MockIdp, link: Option<&Link>) {
        let on = idp.on(self.at).once();
        let (on, outcome) = match self.fault {
            Down => return link.expect("a link").cut().await,
            Slow => (on.after(SLOW), Outcome::Success),
            Stall => (on, Outcome::Stall),
            ServerError => (on, Outcome::ServerError),
            Garbage => (on, Outcome::Malformed),
        };
        on.respond(outcome);
    }

    async fn run_login(&self) -> Observed {
        let (e, link) = self.env().await;
        let start = e.ua.get(&e.url("/app")).await;
        assert_eq!(start.status, 302, "{}", self.name());
        let at_idp = e.ua.get(start.location.as_ref().unwrap().as_str()).await;
        let callback = at_idp.location.clone().expect("the IdP redirects back");
        assert!(
            callback.as_str().starts_with(&e.url("/oauth2/callback")),
            "{}: {}",
            self.name(),
            describe(&[start, at_idp.clone()])
        );
        self.inject(&e.idp, link.as_ref()).await;
        let started = Instant::now();
        let hop = tokio::time::timeout(HANG, e.ua.get(callback.as_str()))
            .await
            .unwrap_or_else(|_| panic!("{}: the callback hangs", self.name()));
        let answered_in = started.elapsed();
        let session = e.ua.cookie("app.localhost", "session").is_some();
        let forwarded = e.upstream.count();
        let event = e.event_for("/oauth2/callback").await;
        let retry = e.url("/auth/authn");
        let retry_link = hop.body.contains(&format!("href=\"{retry}\""));
        // The IdP is healthy again (a scripted fault answered once).
        if self.fault == Down {
            link.as_ref().unwrap().restore().await;
        }
        let hops = e.ua.follow(&retry).await;
        let last = hops.last().unwrap();
        let after = if retry_link
            && last.status == 200
            && e.upstream.count() == 1
            && e.upstream.last().unwrap().header("ngrok-auth-user-email") == Some("alice@example.com")
            && e.ua.cookie("app.localhost", "session").is_some()
        {
            After::RetryLogsIn
        } else {
            After::Broken(last.status)
        };
        Observed {
            status: hop.status,
            code: hop.header("x-gateway-error").map(str::to_owned),
            forwarded,
            session,
            event: (event.decision, event.status),
            after,
            answered_in,
            trace: format!(
                "{}\nretry:\n{}",
                describe(std::slice::from_ref(&hop)),
                describe(&hops)
            ),
        }
    }

    async fn run_check(&self) -> Observed {
        let (e, link) = self.env().await;
        e.logged_in("/").await;
        let cookie = e.ua.cookie("app.localhost", "session").unwrap().value;
        let logins = e.idp.requests_to(Endpoint::Authorize).len();
        e.advance(2 * MIN);
        self.inject(&e.idp, link.as_ref()).await;
        let started = Instant::now();
        let hop = tokio::time::timeout(HANG, e.ua.get(&e.url("/during")))
            .await
            .unwrap_or_else(|_| panic!("{}: the request hangs", self.name()));
        let answered_in = started.elapsed();
        let forwarded = e.upstream.seen().iter().filter(|s| s.path == "/during").count();
        let session =
            e.ua.cookie("app.localhost", "session")
                .is_some_and(|c| c.value == cookie);
        let event = e.event_for("/during").await;
        if self.fault == Down {
            link.as_ref().unwrap().restore().await;
        }
        let next = e.ua.get(&e.url("/after")).await;
        let after = match next.status {
            200 if e.upstream.last().is_some_and(|s| {
                s.path == "/after" && s.header("ngrok-auth-user-email") == Some("alice@example.com")
            }) && e.idp.requests_to(Endpoint::Authorize).len() == logins
                && e.ua
                    .cookie("app.localhost", "session")
                    .is_some_and(|c| c.value == cookie) =>
            {
                After::SameSession
            }
            302 if next
                .location
                .as_ref()
                .is_some_and(|l| !l.as_str().starts_with(&e.origin)) =>
            {
                After::MustLogIn
            }
            s => After::Broken(s),
        };
        Observed {
            status: hop.status,
            code: hop.header("x-gateway-error").map(str::to_owned),
            forwarded,
            session,
            event: (event.decision, event.status),
            after,
            answered_in,
            trace: describe(&[hop, next]),
        }
    }
}

/// Runs the cases `pick` selects that no other file covers, asserting each.
async fn assert_cases(pick: impl Fn(&Case) -> bool) {
    let mut ran = 0;
    for case in CASES.iter().filter(|c| pick(c) && c.covered_by.is_none()) {
        let seen = case.run().await;
        assert_eq!(
            seen.verdict(),
            case.expected(),
            "{} — (status, code, forwarded, session, event, after):\n{}",
            case.name(),
            seen.trace
        );
        ran += 1;
    }
    assert!(ran > 0, "no case selected");
}

#[tokio::test]
async fn login_fails_cleanly_when_the_idp_is_down_slow_broken_or_garbled_at_the_code_exchange() {
    assert_cases(|c| c.phase == Phase::Login && c.at == Endpoint::Token).await;
}

#[tokio::test]
async fn login_fails_cleanly_when_the_profile_fetch_after_the_code_exchange_fails() {
    assert_cases(|c| c.phase == Phase::Login && c.at == Endpoint::Userinfo).await;
}

#[tokio::test]
async fn an_auth_check_against_an_idp_that_is_down_slow_or_failing_is_a_503_and_the_session_survives() {
    assert_cases(|c| c.phase == Phase::Check && c.after == After::SameSession).await;
}

#[tokio::test]
async fn an_auth_check_answered_with_garbage_ends_the_session_and_forwards_nothing() {
    assert_cases(|c| c.phase == Phase::Check && c.fault == Garbage).await;
}

/// Figures: every case (including those asserted elsewhere) with the time the gateway took
/// to answer. `bench/faults` runs it.
#[tokio::test]
#[ignore = "figures runner: bench/faults"]
async fn idp_fault_outcomes() {
    println!(
        "IdP faults — gateway idp_timeout {} s; slow = the IdP answers after {} s; GitHub's \
         userinfo is /user; \"answer\" = time to the gateway's answer",
        IDP_TIMEOUT.as_secs(),
        SLOW.as_secs()
    );
    println!(
        "{:<11} {:<7} {:<9} {:<14} {:>6} {:<16} {:>9} {:<8} {:>9}  then",
        "phase", "idp", "endpoint", "fault", "status", "code", "upstream", "session", "answer"
    );
    let mut wrong = Vec::new();
    for case in CASES {
        let seen = case.run().await;
        let session = match (case.phase, seen.session) {
            (Phase::Login, false) => "none",
            (Phase::Login, true) => "CREATED",
            (Phase::Check, true) => "kept",
            (Phase::Check, false) => "ended",
        };
        let then = match seen.after {
            After::RetryLogsIn => "retry link logs in".to_owned(),
            After::SameSession => "same session works again".to_owned(),
            After::MustLogIn => "must log in again".to_owned(),
            After::Broken(s) => format!("BROKEN ({s})"),
        };
        let ok = seen.verdict() == case.expected();
        let mark = if ok { "" } else { "  ← UNEXPECTED" };
        println!(
            "{:<11} {:<7} {:<9} {:<14} {:>6} {:<16} {:>9} {:<8} {:>6} ms  {then}{}",
            match case.phase {
                Phase::Login => "login",
                Phase::Check => "auth check",
            },
            case.provider.as_str(),
            case.at.name(),
            case.fault.name(),
            seen.status,
            seen.code.as_deref().unwrap_or("-"),
            seen.forwarded,
            session,
            seen.answered_in.as_millis(),
            mark
        );
        if !ok {
            wrong.push(format!(
                "{}: {:?} ≠ {:?}\n{}",
                case.name(),
                seen.verdict(),
                case.expected(),
                seen.trace
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
