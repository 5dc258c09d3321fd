//! Integration tests of the reference gateway against the mock IdP, a recording upstream and a
//! browser-like user agent: every behaviour of the ngrok OAuth module and Authmonger's generic
//! provider, asserting status, what the upstream saw, cookies and events.

mod admin;
mod authorization;
mod callback;
mod connections;
mod continuous;
mod errors;
mod faults;
mod generic;
mod headers;
mod id_token;
mod login;
mod replicas;
mod special_paths;
mod support;
