//! Loopback ports and the loopback HTTP client the harness hands to what it starts.

/// A free loopback port below the ephemeral range (32768+), for a gateway process to bind
/// itself: handed out once per process (a counter from a per-process offset), checked free,
/// and never what another scenario's `bind(0)` gets in the meantime.
pub fn private_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id() % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = u16::try_from(LOW + n % SPAN).expect("below 32768");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A client for loopback admin calls (no system roots to load).
pub fn loopback_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only(Vec::new())
        .build()
        .expect("a client")
}

/// A free port whose successor is also free (gateway + its admin listener).
pub fn free_port_pair() -> u16 {
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = a.local_addr().expect("bound").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}
