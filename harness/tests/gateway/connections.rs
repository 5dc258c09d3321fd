//! The connection level (security checklist 63, 65, 67, 68): bodies on GET, HEAD and OPTIONS
//! are refused before anything is forwarded, client connections live under `[limits]`,
//! WebSocket tunnels end with their session, and a second `Host` header is a 400.

use std::time::{Duration, Instant};

use gatecheck::raw::{RawRequest, Tunnel};
use gatecheck::upstream::Reading;
use ref_gateway::ProviderKind;
use ref_gateway::config::LimitsFile;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Env, env};

fn host(e: &Env) -> String {
    format!("app.localhost:{}", e.port)
}

fn cookies(e: &Env) -> String {
    e.ua.cookies("app.localhost")
        .into_iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ")
}

const SMUGGLED: &str =
    "GET /admin HTTP/1.1\r\nhost: localhost\r\nngrok-auth-user-email: bob@example.com\r\n\r\n";

#[tokio::test]
async fn bodies_on_get_head_and_options_are_refused_before_anything_is_forwarded() {
    let e = env(ProviderKind::Github)
        .oauth(|o| o.options_passthrough = true)
        .upstream_reading(Reading::IgnoresBodiesOnSafeMethods)
        .start()
        .await;
    e.logged_in("/").await;
    let before = e.upstream.count();
    let within = Duration::from_secs(10);
    // An unauthenticated CORS preflight (passthrough) with a body.
    let preflight = RawRequest::new("OPTIONS", "/api", &host(&e))
        .header("origin", "http://evil.test")
        .header("access-control-request-method", "GET")
        .header("connection", "close")
        .body(SMUGGLED)
        .send(e.port, within)
        .await
        .unwrap();
    assert_eq!(preflight.status, 400, "{}", preflight.body);
    assert_eq!(
        preflight.headers.get("x-gateway-error").unwrap(),
        "body_not_allowed"
    );
    // A logged-in GET, HEAD and OPTIONS with a body, by Content-Length or chunked.
    for method in ["GET", "HEAD", "OPTIONS"] {
        let r = RawRequest::new(method, "/mine", &host(&e))
            .header("cookie", &cookies(&e))
            .header("connection", "close")
            .body(SMUGGLED)
            .send(e.port, within)
            .await
            .unwrap();
        assert_eq!(r.status, 400, "{method} with a body");
    }
    let chunk = format!("{:x}\r\n{SMUGGLED}\r\n0\r\n\r\n", SMUGGLED.len());
    let chunked = RawRequest::new("GET", "/mine", &host(&e))
        .header("cookie", &cookies(&e))
        .header("transfer-encoding", "chunked")
        .header("connection", "close")
        .body(chunk)
        .send(e.port, within)
        .await
        .unwrap();
    assert_eq!(chunked.status, 400, "a chunked GET body");
    assert_eq!(e.upstream.count(), before, "nothing was forwarded");
    // An empty body is no body; other methods keep theirs.
    let empty = RawRequest::new("GET", "/empty", &host(&e))
        .header("cookie", &cookies(&e))
        .header("content-length", "0")
        .header("connection", "close")
        .send(e.port, within)
        .await
        .unwrap();
    assert_eq!(empty.status, 200);
    let post =
        e.ua.send(
            reqwest::Method::POST,
            &e.url("/submit"),
            &[],
            Some("a=1".to_owned()),
        )
        .await;
    assert_eq!(post.status, 200);
    assert_eq!(e.upstream.last().unwrap().body, "a=1");
    assert!(
        e.upstream.seen().iter().all(|s| s.path != "/admin"),
        "{:?}",
        e.upstream.seen()
    );
}

/// How long the gateway keeps a connection that does `what` with it (`None`: still open
/// after `patience`).
async fn open_for(port: u16, first: &[u8], trickle: bool, patience: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(first).await.unwrap();
    let mut buf = [0u8; 4096];
    while start.elapsed() < patience {
        match tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) if trickle => {
                if s.write_all(b"a").await.is_err() {
                    return Some(start.elapsed());
                }
            }
            Err(_) => {}
        }
    }
    None
}

#[tokio::test]
async fn a_request_head_must_arrive_within_the_header_read_timeout() {
    let e = env(ProviderKind::Github)
        .limits(LimitsFile {
            header_read_timeout: Some(Duration::from_secs(1)),
            ..Default::default()
        })
        .start()
        .await;
    let head = format!("GET / HTTP/1.1\r\nhost: {}\r\nx-slow: ", host(&e));
    let whole = format!("GET / HTTP/1.1\r\nhost: {}\r\n\r\n", host(&e));
    let patience = Duration::from_secs(8);
    let (silent, trickling, finished) = tokio::join!(
        open_for(e.port, b"", false, patience),
        open_for(e.port, head.as_bytes(), true, patience),
        // A client that sends its request and keeps the connection: answered, then closed
        // once it has sent no next request within the same timeout.
        open_for(e.port, whole.as_bytes(), false, patience),
    );
    assert!(silent.is_some(), "a connection that sends nothing is closed");
    assert!(trickling.is_some(), "a head trickled a byte at a time is cut off");
    assert!(finished.is_some(), "an idle keep-alive connection is closed");
    assert_eq!(e.upstream.count(), 0);
}

#[tokio::test]
async fn a_connection_without_requests_closes_after_the_idle_timeout() {
    // The header timer (HTTP/1.1 only) is longer here: the idle timeout closes it first.
    let e = env(ProviderKind::Github)
        .limits(LimitsFile {
            header_read_timeout: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(1)),
            ..Default::default()
        })
        .start()
        .await;
    let request = format!("GET / HTTP/1.1\r\nhost: {}\r\n\r\n", host(&e));
    let open = open_for(e.port, request.as_bytes(), false, Duration::from_secs(10)).await;
    let open = open.expect("the idle connection was closed");
    assert!(open < Duration::from_secs(10), "{open:?}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let e = env(ProviderKind::Github)
        .limits(LimitsFile {
            max_connections: Some(2),
            ..Default::default()
        })
        .start()
        .await;
    let held = [
        TcpStream::connect(("127.0.0.1", e.port)).await.unwrap(),
        TcpStream::connect(("127.0.0.1", e.port)).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let third = RawRequest::new("GET", "/", &host(&e)).header("connection", "close");
    let port = e.port;
    let answer = tokio::spawn(async move { third.send(port, Duration::from_secs(20)).await });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !answer.is_finished(),
        "a third connection is not served while two are open"
    );
    drop(held);
    let r = tokio::time::timeout(Duration::from_secs(10), answer)
        .await
        .expect("served once a slot is free")
        .unwrap()
        .unwrap();
    assert_eq!(r.status, 302, "the login redirect");
}

#[tokio::test]
async fn a_second_host_header_is_refused() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let before = e.upstream.count();
    for (one, two) in [
        (host(&e), "evil.test".to_owned()),
        ("evil.test".to_owned(), host(&e)),
    ] {
        let r = RawRequest::new("GET", "/two", &one)
            .header("host", &two)
            .header("cookie", &cookies(&e))
            .header("connection", "close")
            .send(e.port, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(r.status, 400, "Host {one} then {two}: {}", r.body);
    }
    assert_eq!(e.upstream.count(), before);
}

async fn tunnel(e: &Env) -> Tunnel {
    let mut t = Tunnel::open(e.port, &host(e), "/ws", Some(&cookies(e)))
        .await
        .unwrap();
    assert!(t.echoes().await, "the tunnel reaches the application");
    t
}

#[tokio::test]
async fn a_websocket_closes_when_its_session_logs_out_and_others_stay() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let mut mine = tunnel(&e).await;
    // Another browser of the same user keeps its own.
    let other = gatecheck::UserAgent::new();
    e.idp.on_authorize().respond(mock_idp::Outcome::approve("alice"));
    assert_eq!(other.follow(&e.url("/")).await.last().unwrap().status, 200);
    let other_cookie = other
        .cookies("app.localhost")
        .into_iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    let mut theirs = Tunnel::open(e.port, &host(&e), "/ws", Some(&other_cookie))
        .await
        .unwrap();
    assert_eq!(e.ua.get(&e.url("/auth/logout")).await.status, 200);
    assert!(
        mine.closed_within(Duration::from_secs(3)).await.is_some(),
        "the logged-out session's tunnel is closed at once"
    );
    assert!(theirs.echoes().await, "the other session's tunnel stays");
}

#[tokio::test]
async fn a_websocket_closes_when_its_user_is_revoked() {
    let e = env(ProviderKind::Github).admin().start().await;
    e.logged_in("/").await;
    let mut t = tunnel(&e).await;
    let (_, users) = e.admin(reqwest::Method::GET, "/app_users").await;
    let key = users[0]["key"].as_str().unwrap().to_owned();
    let (status, body) = e
        .admin(reqwest::Method::DELETE, &format!("/app_users/{key}/sessions"))
        .await;
    assert_eq!((status, body["revoked_sessions"].as_u64()), (200, Some(1)));
    assert!(t.closed_within(Duration::from_secs(3)).await.is_some());
}

#[tokio::test]
async fn a_websocket_closes_when_another_replica_ends_its_session() {
    let Some(bin) = gatecheck::system::require("redis-server", "redis-server", "tunnels across replicas")
    else {
        return;
    };
    let redis = gatecheck::redis::RedisServer::start(&bin).expect("redis-server starts");
    let e = env(ProviderKind::Github)
        .redis(&redis.url())
        .replicas(2)
        .start()
        .await;
    e.logged_in("/").await;
    // The tunnel on one replica, the logout sent straight to the other: only the re-check of
    // the shared store can close it.
    let other = e.replicas[0].addr().port();
    let mut t = Tunnel::open(other, &host(&e), "/ws", Some(&cookies(&e)))
        .await
        .unwrap();
    assert!(t.echoes().await);
    let logout = RawRequest::new("GET", "/auth/logout", &host(&e))
        .header("cookie", &cookies(&e))
        .header("connection", "close")
        .send(e.gw.addr().port(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(logout.status, 200, "{}", logout.body);
    assert!(
        t.echoes().await,
        "still open right after: the other replica cannot know at once"
    );
    let closed = t
        .closed_within(ref_gateway::tunnels::RECHECK + Duration::from_secs(5))
        .await;
    assert!(closed.is_some(), "closed by the store re-check");
}

#[tokio::test]
async fn only_a_logged_in_websocket_upgrade_is_forwarded() {
    let e = env(ProviderKind::Github)
        .oauth(|o| o.options_passthrough = true)
        .start()
        .await;
    e.logged_in("/").await;
    // An h2c upgrade (or any other protocol) would hand the client a raw connection to the
    // application: it is forwarded as a plain request, without the upgrade.
    let h2c = RawRequest::new("GET", "/ws", &host(&e))
        .header("cookie", &cookies(&e))
        .header("connection", "Upgrade, HTTP2-Settings")
        .header("upgrade", "h2c")
        .header("http2-settings", "AAMAAABkAARAAAAAAAIAAAAA")
        .header("connection", "close")
        .send(e.port, Duration::from_secs(10))
        .await
        .unwrap();
    assert_ne!(h2c.status, 101);
    let seen = e.upstream.last().unwrap();
    assert!(seen.header("upgrade").is_none(), "{:?}", seen.headers);
    // A passthrough preflight never becomes a tunnel either.
    let preflight = RawRequest::new("OPTIONS", "/ws", &host(&e))
        .header("origin", "http://other.test")
        .header("access-control-request-method", "GET")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .send(e.port, Duration::from_secs(10))
        .await
        .unwrap();
    assert_ne!(preflight.status, 101);
    assert!(e.upstream.last().unwrap().header("upgrade").is_none());
    // The real thing still works.
    let mut t = tunnel(&e).await;
    assert!(t.echoes().await);
}

#[tokio::test]
async fn a_websocket_keeps_its_connection_slot() {
    let e = env(ProviderKind::Github)
        .limits(LimitsFile {
            max_connections: Some(1),
            header_read_timeout: Some(Duration::from_secs(1)),
            idle_timeout: Some(Duration::from_secs(1)),
        })
        .start()
        .await;
    e.logged_in("/").await;
    // The user agent's kept-alive connection is closed by the idle timeout…
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // …so the tunnel takes the only slot, and keeps it after its upgrade request is done.
    let t = tunnel(&e).await;
    let next = RawRequest::new("GET", "/", &host(&e)).header("connection", "close");
    let port = e.port;
    let answer = tokio::spawn(async move { next.send(port, Duration::from_secs(20)).await });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !answer.is_finished(),
        "while the tunnel is open, the cap of one connection is reached"
    );
    drop(t);
    let r = tokio::time::timeout(Duration::from_secs(10), answer)
        .await
        .expect("served once the tunnel closed")
        .unwrap()
        .unwrap();
    assert_eq!(r.status, 302);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_a_slow_stream_is_not() {
    let e = env(ProviderKind::Github)
        .limits(LimitsFile {
            idle_timeout: Some(Duration::from_secs(1)),
            ..Default::default()
        })
        .start()
        .await;
    e.logged_in("/").await;
    // 64 MB the client never reads: the gateway's writes block and it drops the connection.
    let size = 64 * 1024 * 1024;
    let mut s = TcpStream::connect(("127.0.0.1", e.port)).await.unwrap();
    let req = RawRequest::new("GET", &format!("/bytes/{size}"), &host(&e))
        .header("cookie", &cookies(&e))
        .to_bytes();
    s.write_all(&req).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n,
            Err(_) => panic!("neither data nor the end of the connection after {got} bytes"),
        }
    }
    assert!(
        got < size,
        "the whole body arrived ({got} bytes): the reader was never dropped"
    );
    // A response that streams longer than the idle timeout, to a client that reads it, is
    // an exchange in progress, not an idle connection.
    let hop = e.ua.get(&e.url("/drip?n=4&ms=600")).await;
    assert_eq!(hop.status, 200);
    assert_eq!(hop.body.lines().count(), 4, "{}", hop.body);
}

#[tokio::test]
async fn trace_with_a_body_is_refused_and_a_delete_body_closes_the_upstream_connection() {
    let e = env(ProviderKind::Github).start().await;
    e.logged_in("/").await;
    let trace = RawRequest::new("TRACE", "/t", &host(&e))
        .header("cookie", &cookies(&e))
        .header("connection", "close")
        .body("x=1")
        .send(e.port, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(trace.status, 400);
    let before = e.upstream.count();
    let delete =
        e.ua.send(
            reqwest::Method::DELETE,
            &e.url("/item/1"),
            &[],
            Some("reason=x".to_owned()),
        )
        .await;
    assert_eq!(delete.status, 200);
    assert_eq!(e.upstream.count(), before + 1);
    let seen = e.upstream.last().unwrap();
    assert_eq!(seen.body, "reason=x");
    assert_eq!(seen.header("connection"), Some("close"), "{:?}", seen.headers);
}
