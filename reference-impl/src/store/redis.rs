//! The Redis session store, shared by several gateway replicas.
//!
//! Keys (all under `gw:`): `gw:s:<hash of session id>` (JSON, expiring), `gw:us:<user key>`
//! (set of session keys), `gw:tx:<state>` and `gw:tk:<ticket>` (JSON, expiring, taken with
//! `GETDEL` so each is used once even with two replicas racing), `gw:txb:<binding>` (a
//! browser's logins, oldest first; its existence is what makes the binding one the gateway
//! minted), `gw:done:<state>` (a finished login, never read as a login in flight), `gw:users`
//! (hash of App Users), `gw:mau:<YYYY-MM>` (set of user keys). A failing Redis surfaces as [`StoreError`]:
//! requests get a clear 503, never an unauthenticated pass-through.

use std::time::Duration;

use deadpool_redis::redis::{self, AsyncCommands};
use deadpool_redis::{Config, Pool, Runtime};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::session::{
    AppUser, FinishedLogin, LoginTx, Session, SessionStore, StoreError, StoreFuture, Ticket, merge_user,
    session_key,
};

/// A Redis-backed store.
pub struct RedisStore {
    pool: Pool,
}

fn store_err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl RedisStore {
    /// Connects (lazily: the pool opens connections on demand) to `url`.
    pub fn new(url: &str) -> Result<RedisStore, StoreError> {
        let pool = Config::from_url(url)
            .create_pool(Some(Runtime::Tokio1))
            .map_err(store_err)?;
        Ok(RedisStore { pool })
    }

    /// Checks that Redis answers (start-up check).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.pool.get().await.map_err(store_err)?;
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection, StoreError> {
        self.pool.get().await.map_err(store_err)
    }

    async fn set_json<T: Serialize>(&self, key: &str, value: &T, ttl: Duration) -> Result<(), StoreError> {
        let json = serde_json::to_string(value).map_err(store_err)?;
        let mut c = self.conn().await?;
        let secs = ttl.as_secs().max(1);
        c.set_ex::<_, _, ()>(key, json, secs).await.map_err(store_err)
    }

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let mut c = self.conn().await?;
        let raw: Option<String> = c.get(key).await.map_err(store_err)?;
        raw.map(|r| serde_json::from_str(&r).map_err(store_err))
            .transpose()
    }

    async fn take_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let mut c = self.conn().await?;
        let raw: Option<String> = redis::cmd("GETDEL")
            .arg(key)
            .query_async(&mut c)
            .await
            .map_err(store_err)?;
        raw.map(|r| serde_json::from_str(&r).map_err(store_err))
            .transpose()
    }
}

impl SessionStore for RedisStore {
    fn put_session<'a>(&'a self, id: &'a str, session: &'a Session, ttl: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let key = session_key(id);
            self.set_json(&format!("gw:s:{key}"), session, ttl).await?;
            let mut c = self.conn().await?;
            c.sadd::<_, _, ()>(format!("gw:us:{}", session.user_key), &key)
                .await
                .map_err(store_err)
        })
    }

    fn update_session<'a>(
        &'a self,
        id: &'a str,
        session: &'a Session,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let json = serde_json::to_string(session).map_err(store_err)?;
            let mut c = self.conn().await?;
            // SET … XX: only when the key exists, atomically.
            let done: Option<String> = redis::cmd("SET")
                .arg(format!("gw:s:{}", session_key(id)))
                .arg(json)
                .arg("XX")
                .arg("EX")
                .arg(ttl.as_secs().max(1))
                .query_async(&mut c)
                .await
                .map_err(store_err)?;
            Ok(done.is_some())
        })
    }

    fn get_session<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Session>> {
        Box::pin(async move { self.get_json(&format!("gw:s:{}", session_key(id))).await })
    }

    fn delete_session<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let key = session_key(id);
            let mut c = self.conn().await?;
            c.del::<_, ()>(format!("gw:s:{key}")).await.map_err(store_err)
        })
    }

    fn delete_user_sessions<'a>(&'a self, user_key: &'a str) -> StoreFuture<'a, usize> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let keys: Vec<String> = c.smembers(format!("gw:us:{user_key}")).await.map_err(store_err)?;
            let mut n = 0;
            for k in &keys {
                let removed: usize = c.del(format!("gw:s:{k}")).await.map_err(store_err)?;
                n += removed;
            }
            c.del::<_, ()>(format!("gw:us:{user_key}"))
                .await
                .map_err(store_err)?;
            Ok(n)
        })
    }

    fn user_sessions<'a>(&'a self, user_key: &'a str) -> StoreFuture<'a, Vec<Session>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let keys: Vec<String> = c.smembers(format!("gw:us:{user_key}")).await.map_err(store_err)?;
            let mut out = Vec::new();
            for k in keys {
                let raw: Option<String> = c.get(format!("gw:s:{k}")).await.map_err(store_err)?;
                match raw {
                    Some(r) => out.push(serde_json::from_str(&r).map_err(store_err)?),
                    None => c
                        .srem::<_, _, ()>(format!("gw:us:{user_key}"), &k)
                        .await
                        .map_err(store_err)?,
                }
            }
            Ok(out)
        })
    }

    fn put_finished<'a>(
        &'a self,
        state: &'a str,
        finished: &'a FinishedLogin,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.set_json(&format!("gw:done:{state}"), finished, ttl).await })
    }

    fn finished<'a>(&'a self, state: &'a str) -> StoreFuture<'a, Option<FinishedLogin>> {
        Box::pin(async move { self.get_json(&format!("gw:done:{state}")).await })
    }

    fn known_binding<'a>(&'a self, binding: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            c.exists(format!("gw:txb:{binding}")).await.map_err(store_err)
        })
    }

    fn start_login<'a>(&'a self, state: &'a str, tx: &'a LoginTx, ttl: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            // The login and its place in the browser's list (oldest first) in one round trip;
            // beyond the cap the oldest are dropped (a key its callback took is simply gone).
            let json = serde_json::to_string(tx).map_err(store_err)?;
            let secs = ttl.as_secs().max(1);
            let list = format!("gw:txb:{}", tx.binding);
            let mut c = self.conn().await?;
            let (len,): (usize,) = redis::pipe()
                .set_ex(format!("gw:tx:{state}"), json, secs)
                .ignore()
                .rpush(&list, state)
                .expire(&list, secs as i64)
                .ignore()
                .query_async(&mut c)
                .await
                .map_err(store_err)?;
            let over = len.saturating_sub(crate::session::MAX_PENDING_LOGINS_PER_BROWSER);
            if over > 0 {
                let dropped: Vec<String> = c
                    .lpop(&list, std::num::NonZeroUsize::new(over))
                    .await
                    .map_err(store_err)?;
                let keys: Vec<String> = dropped.iter().map(|old| format!("gw:tx:{old}")).collect();
                if !keys.is_empty() {
                    c.del::<_, ()>(keys).await.map_err(store_err)?;
                }
            }
            Ok(())
        })
    }

    fn take_tx<'a>(&'a self, state: &'a str) -> StoreFuture<'a, Option<LoginTx>> {
        Box::pin(async move { self.take_json(&format!("gw:tx:{state}")).await })
    }

    fn put_ticket<'a>(&'a self, id: &'a str, ticket: &'a Ticket, ttl: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.set_json(&format!("gw:tk:{id}"), ticket, ttl).await })
    }

    fn take_ticket<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Ticket>> {
        Box::pin(async move { self.take_json(&format!("gw:tk:{id}")).await })
    }

    fn record_access<'a>(&'a self, user: &'a AppUser, month: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let raw: Option<String> = c.hget("gw:users", &user.key).await.map_err(store_err)?;
            let existing = raw.and_then(|r| serde_json::from_str(&r).ok());
            let merged = merge_user(existing, user);
            let json = serde_json::to_string(&merged).map_err(store_err)?;
            c.hset::<_, _, _, ()>("gw:users", &user.key, json)
                .await
                .map_err(store_err)?;
            c.sadd::<_, _, ()>(format!("gw:mau:{month}"), &user.key)
                .await
                .map_err(store_err)
        })
    }

    fn users<'a>(&'a self) -> StoreFuture<'a, Vec<AppUser>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let all: std::collections::BTreeMap<String, String> =
                c.hgetall("gw:users").await.map_err(store_err)?;
            all.values()
                .map(|r| serde_json::from_str(r).map_err(store_err))
                .collect()
        })
    }

    fn user<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<AppUser>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let raw: Option<String> = c.hget("gw:users", key).await.map_err(store_err)?;
            raw.map(|r| serde_json::from_str(&r).map_err(store_err))
                .transpose()
        })
    }

    fn mau<'a>(&'a self, month: &'a str) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            c.scard(format!("gw:mau:{month}")).await.map_err(store_err)
        })
    }
}
