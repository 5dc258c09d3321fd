//! `http_request_complete.v0` events: one JSON object per request to an endpoint, with the
//! seed's `oauth.*` fields, written as JSON lines to stdout or a file and offered to in-process
//! subscribers (the test harness).

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::config::EventsConfig;

/// One completed request.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Event {
    /// Always `http_request_complete.v0`.
    pub event_type: &'static str,
    /// Unix milliseconds (gateway clock).
    pub timestamp_ms: u64,
    /// Endpoint authority.
    pub endpoint: String,
    /// Method.
    #[serde(rename = "http.request.method")]
    pub method: String,
    /// Canonical path.
    #[serde(rename = "http.request.url.path")]
    pub path: String,
    /// Status sent to the client.
    #[serde(rename = "http.response.status_code")]
    pub status: u16,
    /// Client address.
    #[serde(rename = "conn.client_ip")]
    pub client_ip: String,
    /// The OAuth client id of the endpoint.
    #[serde(rename = "oauth.app_client_id")]
    pub app_client_id: String,
    /// `allow` when forwarded upstream (as an authenticated user, or without one for a
    /// passed-through preflight), `block` otherwise.
    #[serde(rename = "oauth.decision")]
    pub decision: Decision,
    /// The user's provider id, when known.
    #[serde(rename = "oauth.user.id", skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The user's name, when known.
    #[serde(rename = "oauth.user.name", skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// A user known to be behind a blocked request (a refused login, a session that ended),
/// attached to the response's extensions so the event can name them.
#[derive(Clone, Debug)]
pub struct KnownUser {
    /// The provider's user id.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
}

/// The gate's verdict for a request.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Forwarded upstream.
    Allow,
    /// Not forwarded (login redirect, error, special path).
    Block,
}

enum Out {
    None,
    Stdout,
    File(Mutex<std::fs::File>),
}

/// Where events go.
pub struct EventSink {
    out: Out,
    tx: broadcast::Sender<Event>,
}

impl EventSink {
    /// Opens the configured output. A file that cannot be opened is a start-up error.
    pub fn new(config: &EventsConfig) -> std::io::Result<EventSink> {
        let out = match config {
            EventsConfig::None => Out::None,
            EventsConfig::Stdout => Out::Stdout,
            EventsConfig::File(path) => Out::File(Mutex::new(
                std::fs::OpenOptions::new().create(true).append(true).open(path)?,
            )),
        };
        let (tx, _) = broadcast::channel(4096);
        Ok(EventSink { out, tx })
    }

    /// Subscribes to events (test harnesses).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Emits an event.
    pub fn emit(&self, event: Event) {
        let line = |e: &Event| serde_json::to_string(e).unwrap_or_default();
        match &self.out {
            Out::None => {}
            Out::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", line(&event));
            }
            Out::File(f) => {
                if let Ok(mut f) = f.lock() {
                    let _ = writeln!(f, "{}", line(&event));
                }
            }
        }
        let _ = self.tx.send(event);
    }
}
