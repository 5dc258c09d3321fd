//! Integration tests of the mock IdP, in one binary (one link on a 2-core machine).
//!
//! `flow`: full code flows with the `openidconnect` crate as the client, over http and https.
//! `strictness`: one test per rule a client can break, asserting exact status and body.
//! `outcomes`: one test per scripted outcome. `snapshots`: insta snapshots of wire responses.
//! `admin`: the HTTP admin API. `login_page`: the browser-facing page, prompt and max_age.
//! `cli`: the `mock-idp` binary.

mod admin;
mod cli;
mod common;
mod device;
mod flow;
mod grants;
mod inspector;
mod login_page;
mod outcomes;
mod providers;
mod snapshots;
mod strictness;
