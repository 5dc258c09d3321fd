//! A TCP load balancer for replica scenarios: each new connection goes to the next backend
//! in turn, so a browser that opens a connection per request (see
//! [`UserAgent::without_keep_alive`](crate::UserAgent::without_keep_alive)) alternates
//! between gateway replicas on every hop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running balancer; stops when dropped.
#[derive(Debug)]
pub struct Balancer {
    addr: SocketAddr,
    hits: Arc<Vec<AtomicUsize>>,
    task: JoinHandle<()>,
}

impl Balancer {
    /// Listens on `listener` and spreads connections over `backends` round-robin.
    pub fn start(listener: TcpListener, backends: Vec<SocketAddr>) -> Balancer {
        let addr = listener.local_addr().expect("bound listener");
        let hits: Arc<Vec<AtomicUsize>> = Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let counters = hits.clone();
        let task = tokio::spawn(async move {
            let mut next = 0usize;
            while let Ok((mut inbound, _)) = listener.accept().await {
                let i = next % backends.len();
                next += 1;
                counters[i].fetch_add(1, Ordering::Relaxed);
                let backend = backends[i];
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Balancer { addr, hits, task }
    }

    /// Where browsers connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections sent to each backend so far.
    pub fn hits(&self) -> Vec<usize> {
        self.hits.iter().map(|h| h.load(Ordering::Relaxed)).collect()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
