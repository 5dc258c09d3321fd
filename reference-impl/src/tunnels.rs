//! WebSocket tunnels, which outlive the request that opened them, tied to the session that
//! authorized them.
//!
//! A tunnel is authorized once, by the session of its upgrade request; it must not outlive
//! that session. Each one is registered here under its session before the upgrade is sent
//! upstream, and closed as soon as that session ends on this replica (logout, revocation
//! through the App Users API, time limits, a failed auth check). Sessions ended on another
//! replica, a maximum duration passing and a due auth check that fails are caught by the
//! watch the request pipeline gives the tunnel ([`Tunnel::ended`]), which looks at the
//! session every [`RECHECK`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::session::session_key;

/// How often an open tunnel checks that its session still exists in the store.
pub const RECHECK: Duration = Duration::from_secs(5);

struct Entry {
    user_key: String,
    id: u64,
    cancel: CancellationToken,
}

/// The open tunnels, by the store key of their session.
#[derive(Default)]
pub struct Tunnels {
    inner: Mutex<(u64, HashMap<String, Vec<Entry>>)>,
}

/// A tunnel about to open: its registration and the watch on its session.
pub struct Tunnel {
    /// Its place among the open tunnels.
    pub registration: Registration,
    /// Resolves when the session has ended in a way only the store or the IdP can tell.
    pub ended: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Tunnel {
    /// Resolves when the tunnel must close: its session ended here, or its watch says so.
    pub async fn closed(self) {
        let Tunnel { registration, ended } = self;
        tokio::select! {
            _ = registration.closed() => {}
            _ = ended => {}
        }
    }
}

/// An open tunnel's registration: `closed()` resolves when its session ends; dropping it
/// deregisters the tunnel.
pub struct Registration {
    tunnels: Arc<Tunnels>,
    key: String,
    id: u64,
    cancel: CancellationToken,
}

impl Registration {
    /// Resolves when the tunnel's session has ended on this replica.
    pub async fn closed(&self) {
        self.cancel.cancelled().await;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut inner = self.tunnels.inner.lock().unwrap();
        if let Some(list) = inner.1.get_mut(&self.key) {
            list.retain(|e| e.id != self.id);
            if list.is_empty() {
                inner.1.remove(&self.key);
            }
        }
    }
}

impl Tunnels {
    /// Registers a tunnel opened with session `session_id` of user `user_key`.
    pub fn register(self: &Arc<Self>, session_id: &str, user_key: &str) -> Registration {
        let key = session_key(session_id);
        let cancel = CancellationToken::new();
        let mut inner = self.inner.lock().unwrap();
        inner.0 += 1;
        let id = inner.0;
        inner.1.entry(key.clone()).or_default().push(Entry {
            user_key: user_key.to_owned(),
            id,
            cancel: cancel.clone(),
        });
        Registration {
            tunnels: self.clone(),
            key,
            id,
            cancel,
        }
    }

    /// Closes the tunnels of one session.
    pub fn close_session(&self, session_id: &str) {
        let inner = self.inner.lock().unwrap();
        for e in inner.1.get(&session_key(session_id)).into_iter().flatten() {
            e.cancel.cancel();
        }
    }

    /// Closes the tunnels of every session of a user.
    pub fn close_user(&self, user_key: &str) {
        let inner = self.inner.lock().unwrap();
        for e in inner.1.values().flatten().filter(|e| e.user_key == user_key) {
            e.cancel.cancel();
        }
    }

    /// How many tunnels are open.
    pub fn open(&self) -> usize {
        self.inner.lock().unwrap().1.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_or_user_closes_its_tunnels_only() {
        let t = Arc::new(Tunnels::default());
        let a = t.register("session-a", "github:1");
        let b = t.register("session-b", "github:2");
        let a2 = t.register("session-a2", "github:1");
        assert_eq!(t.open(), 3);
        t.close_session("session-a");
        tokio::time::timeout(Duration::from_secs(1), a.closed())
            .await
            .unwrap();
        assert!(!b.cancel.is_cancelled() && !a2.cancel.is_cancelled());
        t.close_user("github:1");
        tokio::time::timeout(Duration::from_secs(1), a2.closed())
            .await
            .unwrap();
        assert!(!b.cancel.is_cancelled());
        drop((a, a2));
        assert_eq!(t.open(), 1, "dropped registrations are gone");
    }
}
