//! Fault tests for the reference gateway, and the runners that print their figures.
//!
//! * **IdP faults** ([`CASES`]): the IdP is down (connection refused: the [`Link`] between
//!   the gateway and the IdP is cut), slow (answers, but only after three times the gateway's
//!   `idp_timeout`), never answers, answers 5xx or answers garbage — while a user logs in
//!   (the callback's code exchange and profile fetch) or while an existing session is
//!   re-checked (auth check interval, gateway clock advanced). Each case asserts the status
//!   and error code, that nothing reached the upstream, what became of the session, the
//!   event, and what happens once the IdP is healthy again. Cases already covered by
//!   `errors.rs` or `continuous.rs` are in the table for the figures but not run twice.
//! * **Redis restart** ([`restart_run`]): two replicas sharing one redis-server, N sessions
//!   for distinct users created through real logins, a driver sending authenticated
//!   requests from several tasks while redis-server is killed and started again on the same
//!   port (empty: no persistence). Requests during the outage get a 503, afterwards each
//!   one is served as its own user or sent to log in again; sessions are logged in again and
//!   checked; every request the upstream saw carries the identity of its session's user.
//!
//! Tests assert outcomes only; timings are printed by the ignored runners
//! `redis_restart_10k` and `idp_fault_outcomes`, which `bench/faults` runs in a release
//! build (figures in BENCHMARKS.md).

mod idp;
mod redis_restart;
