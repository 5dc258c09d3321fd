//! Two gateway replicas sharing one Redis behind a round-robin balancer: a login that starts
//! on one replica finishes on the other, and the session works on both.

use ref_gateway::ProviderKind;
use ref_gateway::events::Decision;

use crate::support::{describe, env};

fn redis() -> Option<gatecheck::redis::RedisServer> {
    let bin = gatecheck::system::require("redis-server", "redis-server", "Redis replica test")?;
    Some(gatecheck::redis::RedisServer::start(&bin).expect("redis-server starts"))
}

#[tokio::test]
async fn two_replicas_sharing_redis_keep_a_user_logged_in_across_both() {
    let Some(redis) = redis() else { return };
    let e = env(ProviderKind::Google)
        .redis(&redis.url())
        .replicas(2)
        .admin()
        .start()
        .await;
    let mut events_b = e.replicas[0].events();
    // Every hop is a new connection, so the login alternates replicas: its transaction, the
    // callback and the session all live in Redis.
    let hops = e.logged_in("/first").await;
    for i in 0..6 {
        let hop = e.ua.get(&e.url(&format!("/page/{i}"))).await;
        assert_eq!(hop.status, 200, "request {i}: {}", describe(&hops));
    }
    let hits = e.balancer.as_ref().unwrap().hits();
    assert!(hits.iter().all(|&h| h >= 4), "both replicas served: {hits:?}");
    let users: Vec<_> = e
        .upstream
        .seen()
        .iter()
        .map(|s| s.header("ngrok-auth-user-email").map(str::to_owned))
        .collect();
    assert_eq!(users.len(), 7);
    assert!(users.iter().all(|u| u.as_deref() == Some("alice@example.com")));

    // Both replicas emitted allow events for the same user.
    let mut allowed_b = 0;
    while let Ok(ev) = events_b.try_recv() {
        if ev.decision == Decision::Allow {
            allowed_b += 1;
        }
    }
    let allowed_a = e
        .events()
        .await
        .iter()
        .filter(|ev| ev.decision == Decision::Allow)
        .count();
    assert!(
        allowed_a > 0 && allowed_b > 0,
        "allow events on both: {allowed_a} / {allowed_b}"
    );

    // Logging out on one replica ends the session on both.
    let session = e.ua.cookie("app.localhost", "session").unwrap().value;
    assert_eq!(e.ua.get(&e.url("/auth/logout")).await.status, 200);
    for _ in 0..2 {
        e.ua.set_cookie("app.localhost", "session", &session);
        assert_eq!(e.ua.get(&e.url("/after-logout")).await.status, 302);
    }
    // The App Users API of either replica sees the same user and one MAU.
    let (status, mau) = e.admin(reqwest::Method::GET, "/mau").await;
    assert_eq!((status, mau["monthly_active_users"].as_u64()), (200, Some(1)));
}

#[tokio::test]
async fn an_unreachable_redis_is_a_start_up_error_not_a_runtime_surprise() {
    let port = crate::support::free_port();
    let mut config = ref_gateway::config::ConfigFile {
        listen: Some(([127, 0, 0, 1], 0).into()),
        session_store: Some(ref_gateway::config::StoreFile::Redis {
            redis: format!("redis://:hunter2secret@127.0.0.1:{port}"),
        }),
        ..Default::default()
    };
    config.endpoints.push(ref_gateway::config::EndpointFile {
        url: "http://app.localhost:8080".into(),
        upstream: "http://127.0.0.1:9".into(),
        oauth: ref_gateway::config::OAuthFile {
            provider: "github".into(),
            client_id: Some("id".into()),
            client_secret: Some(ref_gateway::types::Secret::new("secret")),
            ..Default::default()
        },
    });
    let err = ref_gateway::start(ref_gateway::config::validate(config).unwrap())
        .await
        .err()
        .expect("start fails");
    let msg = err.to_string();
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(
        !msg.contains("hunter2secret"),
        "the Redis password is never printed: {msg}"
    );
}

#[tokio::test]
async fn a_session_ended_while_a_request_is_in_flight_is_not_written_back() {
    let redis = redis();
    let mut envs = vec![env(ProviderKind::Github).start().await];
    if let Some(r) = &redis {
        envs.push(env(ProviderKind::Github).redis(&r.url()).start().await);
    }
    for e in envs {
        e.logged_in("/").await;
        let id = e.ua.cookie("app.localhost", "session").unwrap().value;
        let store = e.gw.store();
        // What a request in flight holds…
        let held = store.get_session(&id).await.unwrap().expect("the session");
        // …while the user logs out (or an admin revokes them).
        store.delete_session(&id).await.unwrap();
        let ttl = std::time::Duration::from_secs(60);
        assert!(
            !store.update_session(&id, &held, ttl).await.unwrap(),
            "not resurrected"
        );
        assert!(store.get_session(&id).await.unwrap().is_none());
        assert_eq!(e.ua.get(&e.url("/after")).await.status, 302);
    }
}
