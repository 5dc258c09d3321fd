//! Integration tests of the reference gateway against the mock IdP, a recording upstream and a
//! browser-like user agent: every behaviour of the ngrok OAuth module and Authmonger's generic
//! provider, asserting status, what the upstream saw, cookies and events.

mod authorization;
mod callback;
mod continuous;
mod errors;
mod headers;
mod login;
mod special_paths;
mod support;
