//! # ref-gateway — the reference OAuth/OIDC login gateway
//!
//! A reverse proxy that puts a login in front of HTTP endpoints, as ngrok's OAuth module
//! does, plus Authmonger's generic OAuth 2.0 provider settings; secure by default (the
//! gatecheck security checklist). The conformance suite's reference implementation: every
//! behaviour the suite checks, this gateway does.
//!
//! Map: [`config`] (TOML + CLI, validated at start), [`server`] (listener, routing by Host,
//! reload), [`connection`] (one client connection under `[limits]`), [`gate`] (the per-request pipeline), [`login`] (start, callback, hand-off, logout),
//! [`admission`] (who is let in, at login and at every check), [`continuous`] (auth check
//! interval), [`app_users`] (App Users and MAU), [`providers`] (one file per provider; OIDC via
//! `openidconnect`), [`policy`] (allowed emails/domains), [`session`] + [`store`] (memory or
//! Redis), [`paths`], [`cookies`], [`headers`], [`proxy`], [`tunnels`] (WebSockets end with their
//! session), [`events`], [`admin`] (App Users, MAU), [`pages`].

pub mod admin;
pub mod admission;
pub mod app_users;
pub mod config;
pub mod connection;
pub mod continuous;
pub mod cookies;
pub mod events;
pub mod faults;
pub mod fuzzing;
pub mod gate;
pub mod headers;
pub mod login;
pub mod pages;
pub mod paths;
pub mod policy;
pub mod providers;
pub mod proxy;
pub mod runtime;
pub mod server;
pub mod session;
pub mod store;
pub mod tunnels;
pub mod types;

pub use config::{Config, ConfigError, ProviderKind};
pub use server::{RunningGateway, StartError, start, start_on};
