//! The in-memory session store: the default, zero setup, one process.
//!
//! Expired entries are dropped when touched and by an occasional sweep; logins in flight,
//! finished logins and browser bindings are capped so a flood of unfinished logins cannot grow
//! memory without bound. At the cap the oldest entry goes, in constant time (each kind has one
//! lifetime, so insertion order is expiry order).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::session::{
    AppUser, FinishedLogin, LoginTx, Session, SessionStore, StoreError, StoreFuture, Ticket, merge_user,
    session_key,
};

/// Logins in flight kept at most (the oldest are dropped).
const MAX_PENDING_LOGINS: usize = 100_000;

/// Entries of one kind (one lifetime), capped: past `cap`, the oldest is dropped.
struct Expiring<T> {
    entries: HashMap<String, (T, Instant)>,
    /// Keys in insertion order with the expiry they were inserted with (an entry replaced or
    /// removed since leaves a stale pair here, skipped when it comes up).
    order: VecDeque<(String, Instant)>,
}

impl<T> Default for Expiring<T> {
    fn default() -> Self {
        Expiring {
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<T> Expiring<T> {
    fn insert(&mut self, key: &str, value: T, expires: Instant) {
        while self.entries.len() >= MAX_PENDING_LOGINS && !self.entries.contains_key(key) {
            self.pop_oldest();
        }
        self.entries.insert(key.to_owned(), (value, expires));
        self.order.push_back((key.to_owned(), expires));
    }
    fn pop_oldest(&mut self) {
        while let Some((key, at)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|(_, exp)| *exp == at) {
                self.entries.remove(&key);
                return;
            }
        }
    }
    fn get(&self, key: &str, now: Instant) -> Option<&T> {
        self.entries
            .get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(v, _)| v)
    }
    fn take(&mut self, key: &str, now: Instant) -> Option<T> {
        self.entries
            .remove(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(v, _)| v)
    }
    fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }
    fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }
    fn sweep(&mut self, now: Instant) {
        while let Some((key, at)) = self.order.front() {
            if *at > now {
                break;
            }
            if self.entries.get(key).is_some_and(|(_, exp)| exp == at) {
                self.entries.remove(key);
            }
            self.order.pop_front();
        }
        // Stale pairs of replaced or removed entries must not pile up either.
        if self.order.len() > 2 * self.entries.len() + 1024 {
            let entries = &self.entries;
            self.order
                .retain(|(k, at)| entries.get(k).is_some_and(|(_, exp)| exp == at));
        }
    }
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, (Session, Instant)>,
    by_user: HashMap<String, HashSet<String>>,
    txs: Expiring<LoginTx>,
    /// Per browser binding, its transaction keys oldest first (some may be finished already).
    txs_by_binding: HashMap<String, VecDeque<String>>,
    /// Browser bindings minted here, until their cookie expires.
    bindings: Expiring<()>,
    finished: Expiring<FinishedLogin>,
    tickets: HashMap<String, (Ticket, Instant)>,
    users: HashMap<String, AppUser>,
    mau: HashMap<String, HashSet<String>>,
    writes: u64,
}

impl Inner {
    fn sweep(&mut self) {
        let now = Instant::now();
        self.sessions.retain(|_, (_, exp)| *exp > now);
        self.txs.sweep(now);
        let txs = &self.txs;
        for q in self.txs_by_binding.values_mut() {
            q.retain(|k| txs.contains(k));
        }
        self.txs_by_binding.retain(|_, q| !q.is_empty());
        self.bindings.sweep(now);
        self.finished.sweep(now);
        self.tickets.retain(|_, (_, exp)| *exp > now);
        let live: HashSet<&String> = self.sessions.keys().collect();
        for set in self.by_user.values_mut() {
            set.retain(|k| live.contains(k));
        }
        self.by_user.retain(|_, s| !s.is_empty());
    }
}

/// Sessions in this process.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self.inner.lock().unwrap();
        inner.writes += 1;
        if inner.writes.is_multiple_of(1024) {
            inner.sweep();
        }
        f(&mut inner)
    }
}

fn ready<'a, T: Send + 'a>(v: T) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(Ok::<T, StoreError>(v)))
}

impl SessionStore for MemoryStore {
    fn put_session<'a>(&'a self, id: &'a str, session: &'a Session, ttl: Duration) -> StoreFuture<'a, ()> {
        let key = session_key(id);
        self.with(|i| {
            i.by_user
                .entry(session.user_key.clone())
                .or_default()
                .insert(key.clone());
            i.sessions.insert(key, (session.clone(), Instant::now() + ttl));
        });
        ready(())
    }

    fn update_session<'a>(
        &'a self,
        id: &'a str,
        session: &'a Session,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let key = session_key(id);
        let updated = self.with(|i| match i.sessions.get_mut(&key) {
            Some((s, exp)) if *exp > Instant::now() => {
                *s = session.clone();
                *exp = Instant::now() + ttl;
                true
            }
            _ => false,
        });
        ready(updated)
    }

    fn get_session<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Session>> {
        let key = session_key(id);
        let found = self.with(|i| match i.sessions.get(&key) {
            Some((s, exp)) if *exp > Instant::now() => Some(s.clone()),
            Some(_) => {
                i.sessions.remove(&key);
                None
            }
            None => None,
        });
        ready(found)
    }

    fn delete_session<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        let key = session_key(id);
        self.with(|i| {
            if let Some((s, _)) = i.sessions.remove(&key)
                && let Some(set) = i.by_user.get_mut(&s.user_key)
            {
                set.remove(&key);
            }
        });
        ready(())
    }

    fn delete_user_sessions<'a>(&'a self, user_key: &'a str) -> StoreFuture<'a, usize> {
        let n = self.with(|i| {
            let keys = i.by_user.remove(user_key).unwrap_or_default();
            keys.iter().filter(|k| i.sessions.remove(*k).is_some()).count()
        });
        ready(n)
    }

    fn user_sessions<'a>(&'a self, user_key: &'a str) -> StoreFuture<'a, Vec<Session>> {
        let now = Instant::now();
        let list = self.with(|i| {
            i.by_user
                .get(user_key)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| i.sessions.get(k))
                        .filter(|(_, exp)| *exp > now)
                        .map(|(s, _)| s.clone())
                        .collect()
                })
                .unwrap_or_default()
        });
        ready(list)
    }

    fn put_finished<'a>(
        &'a self,
        state: &'a str,
        finished: &'a FinishedLogin,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        self.with(|i| i.finished.insert(state, finished.clone(), Instant::now() + ttl));
        ready(())
    }

    fn finished<'a>(&'a self, state: &'a str) -> StoreFuture<'a, Option<FinishedLogin>> {
        let now = Instant::now();
        ready(self.with(|i| i.finished.get(state, now).cloned()))
    }

    fn known_binding<'a>(&'a self, binding: &'a str) -> StoreFuture<'a, bool> {
        let now = Instant::now();
        ready(self.with(|i| i.bindings.get(binding, now).is_some()))
    }

    fn start_login<'a>(&'a self, state: &'a str, tx: &'a LoginTx, ttl: Duration) -> StoreFuture<'a, ()> {
        self.with(|i| {
            let expires = Instant::now() + ttl;
            i.txs.insert(state, tx.clone(), expires);
            i.bindings.insert(&tx.binding, (), expires);
            let q = i.txs_by_binding.entry(tx.binding.clone()).or_default();
            q.push_back(state.to_owned());
            while q.len() > crate::session::MAX_PENDING_LOGINS_PER_BROWSER {
                if let Some(oldest) = q.pop_front() {
                    i.txs.remove(&oldest);
                }
            }
        });
        ready(())
    }

    fn take_tx<'a>(&'a self, state: &'a str) -> StoreFuture<'a, Option<LoginTx>> {
        let now = Instant::now();
        ready(self.with(|i| i.txs.take(state, now)))
    }

    fn put_ticket<'a>(&'a self, id: &'a str, ticket: &'a Ticket, ttl: Duration) -> StoreFuture<'a, ()> {
        self.with(|i| {
            i.tickets
                .insert(id.to_owned(), (ticket.clone(), Instant::now() + ttl))
        });
        ready(())
    }

    fn take_ticket<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Ticket>> {
        let t = self
            .with(|i| i.tickets.remove(id))
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(t, _)| t);
        ready(t)
    }

    fn record_access<'a>(&'a self, user: &'a AppUser, month: &'a str) -> StoreFuture<'a, ()> {
        self.with(|i| {
            let merged = merge_user(i.users.remove(&user.key), user);
            i.users.insert(user.key.clone(), merged);
            i.mau
                .entry(month.to_owned())
                .or_default()
                .insert(user.key.clone());
        });
        ready(())
    }

    fn users<'a>(&'a self) -> StoreFuture<'a, Vec<AppUser>> {
        let mut list: Vec<AppUser> = self.with(|i| i.users.values().cloned().collect());
        list.sort_by(|a, b| a.key.cmp(&b.key));
        ready(list)
    }

    fn user<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<AppUser>> {
        ready(self.with(|i| i.users.get(key).cloned()))
    }

    fn mau<'a>(&'a self, month: &'a str) -> StoreFuture<'a, u64> {
        ready(self.with(|i| i.mau.get(month).map_or(0, |s| s.len() as u64)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_kind_drops_its_oldest_entry_and_skips_replaced_ones() {
        let mut e: Expiring<u32> = Expiring::default();
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(600 + s);
        for n in 0..MAX_PENDING_LOGINS as u32 {
            e.insert(&format!("k{n}"), n, at(u64::from(n)));
        }
        // k0 is replaced (a newer expiry): its old place in the queue is stale.
        e.insert("k0", 0, at(1_000_000));
        e.insert("new", 7, at(2_000_000));
        assert!(e.contains("k0"), "a replaced entry is not the oldest any more");
        assert!(!e.contains("k1"), "the oldest live entry was dropped");
        assert_eq!(e.entries.len(), MAX_PENDING_LOGINS);
        assert_eq!(e.get("new", start), Some(&7));
        // Expired entries go in a sweep, and so do stale queue pairs.
        e.sweep(at(MAX_PENDING_LOGINS as u64));
        assert_eq!(e.entries.len(), 2, "only k0 and new outlive the others");
        assert_eq!(e.take("k0", start), Some(0));
        assert_eq!(e.take("k0", start), None);
    }
}
