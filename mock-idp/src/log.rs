//! The request log: every request to the IdP's OAuth endpoints, with what the IdP made of
//! it and the lint findings about the client's mistakes.
//!
//! Handlers annotate the [`Recorder`] of the request they serve (endpoint, client,
//! parameters, scripted outcome, error, findings); the recording middleware in
//! [`crate::http`] opens it when the request arrives and closes it with the status. Secrets
//! and tokens are masked before they are stored. Full records are kept for the last
//! [`RequestLog::CAPACITY`] requests; a compact hit list (endpoint, client, status) is kept
//! for all of them, so expectations stay exact on long runs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::lint::Finding;
use crate::types::{ClientId, Endpoint, mask};

/// Parameter and header names whose values are secrets or bearer credentials.
const SECRET_NAMES: &[&str] = &[
    "client_secret",
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "token",
    "password",
    "authorization",
    "cookie",
    "set-cookie",
];

/// Masks the value if `name` names a secret.
pub fn masked(name: &str, value: &str) -> String {
    if SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        mask(value)
    } else {
        value.to_owned()
    }
}

/// One request as the IdP saw it, secrets masked; from
/// [`MockIdp::requests`](crate::MockIdp::requests) or `GET /__admin/requests`.
///
/// ```no_run
/// use mock_idp::{Endpoint, MockIdp, Severity};
///
/// # fn demo(idp: &MockIdp) {
/// for r in idp.requests_to(Endpoint::Authorize) {
///     for f in r.findings.iter().filter(|f| f.severity >= Severity::Warning) {
///         println!("#{} {}: {} (fix: {})", r.seq, r.path, f.message, f.fix);
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Sequence number, from 1.
    pub seq: u64,
    /// Arrival, Unix milliseconds (real time).
    pub at_unix_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Path (without query).
    pub path: String,
    /// Which endpoint handled it, if any.
    pub endpoint: Option<Endpoint>,
    /// The client it came from, when known.
    pub client_id: Option<ClientId>,
    /// Query and form parameters, secrets masked, in arrival order.
    pub params: Vec<(String, String)>,
    /// Request headers, secrets masked.
    pub headers: Vec<(String, String)>,
    /// Response status (0 while the IdP has not answered, e.g. a stalled request).
    pub status: u16,
    /// The scripted outcome applied, described.
    pub outcome: Option<String>,
    /// The OAuth error returned, if any (`invalid_grant`, …) with its description.
    pub error: Option<String>,
    /// The client mistakes noticed.
    pub findings: Vec<Finding>,
    /// Time to answer in milliseconds.
    pub duration_ms: u64,
    /// JWTs the IdP issued in its answer (token endpoint), decoded for the inspector: header
    /// and claims; the signature is not repeated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<DecodedJwt>,
}

/// A JWT decoded (not verified) for display.
///
/// Kept compactly — the header and claims as the JSON text the token carried, parsed only
/// when asked for — because the request log holds 2,000 records (BENCHMARKS.md, "Footprint
/// after 10,000 logins"). Serialized as `{"name": …, "header": {…}, "claims": {…}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DecodedJwt {
    name: String,
    header: Box<RawValue>,
    claims: Box<RawValue>,
}

impl DecodedJwt {
    /// Decodes `jwt` if it has the shape of a signed JWT whose header and claims are JSON
    /// objects.
    pub fn decode(name: &str, jwt: &str) -> Option<DecodedJwt> {
        use base64::Engine as _;
        let mut parts = jwt.split('.');
        let (h, c) = (parts.next()?, parts.next()?);
        parts.next()?;
        let object = |p: &str| -> Option<Box<RawValue>> {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok()?;
            let text = String::from_utf8(raw).ok()?;
            // `from_string` checks it is one JSON value; a header or claims set is an object.
            text.trim_start()
                .starts_with('{')
                .then(|| RawValue::from_string(text).ok())?
        };
        Some(DecodedJwt {
            name: name.to_owned(),
            header: object(h)?,
            claims: object(c)?,
        })
    }

    /// Where it was (`id_token`, `access_token`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The JOSE header.
    pub fn header(&self) -> serde_json::Value {
        serde_json::from_str(self.header.get()).unwrap_or_default()
    }

    /// The claims.
    pub fn claims(&self) -> serde_json::Value {
        serde_json::from_str(self.claims.get()).unwrap_or_default()
    }
}

impl PartialEq for DecodedJwt {
    fn eq(&self, other: &DecodedJwt) -> bool {
        self.name == other.name && self.header() == other.header() && self.claims() == other.claims()
    }
}

/// Handle through which a handler annotates the request it serves.
#[derive(Clone, Debug)]
pub struct Recorder {
    inner: Arc<Mutex<RecordedRequest>>,
    log: Arc<Mutex<RequestLog>>,
    started: std::time::Instant,
    counted: Arc<AtomicBool>,
}

impl Recorder {
    /// Sets the endpoint.
    pub fn endpoint(&self, endpoint: Endpoint) {
        self.inner.lock().unwrap().endpoint = Some(endpoint);
    }
    /// Sets the client.
    pub fn client(&self, client: &ClientId) {
        self.inner.lock().unwrap().client_id = Some(client.clone());
    }
    /// Records parameters (masked here).
    pub fn params(&self, params: &[(String, String)]) {
        let mut r = self.inner.lock().unwrap();
        r.params
            .extend(params.iter().map(|(k, v)| (k.clone(), masked(k, v))));
    }
    /// Records the scripted outcome applied.
    pub fn outcome(&self, description: String) {
        self.inner.lock().unwrap().outcome = Some(description);
    }
    /// Records the error returned.
    pub fn error(&self, error: impl Into<String>) {
        self.inner.lock().unwrap().error = Some(error.into());
    }
    /// Records a token the IdP issued (decoded for display).
    pub fn issued(&self, token: DecodedJwt) {
        self.inner.lock().unwrap().tokens.push(token);
    }
    /// Adds a lint finding.
    pub fn finding(&self, finding: Finding) {
        let mut r = self.inner.lock().unwrap();
        if !r.findings.iter().any(|f| f.code == finding.code) {
            r.findings.push(finding);
        }
    }
    /// The endpoint recorded so far.
    pub fn current_endpoint(&self) -> Option<Endpoint> {
        self.inner.lock().unwrap().endpoint
    }
    /// Counts the request for expectations now, before it is answered (stalled requests).
    pub fn count_now(&self) {
        if !self.counted.swap(true, Ordering::SeqCst) {
            // What a hit keeps, copied out so the record's lock is not held with the log's
            // (`RequestLog::records` takes them in the other order).
            let hit = {
                let r = self.inner.lock().unwrap();
                r.endpoint.map(|endpoint| {
                    (
                        r.seq,
                        endpoint,
                        r.client_id.clone(),
                        r.status,
                        format!("{} {}", r.method, r.path),
                    )
                })
            };
            if let Some((seq, endpoint, client_id, status, line)) = hit {
                self.log
                    .lock()
                    .unwrap()
                    .count(seq, endpoint, client_id, status, line);
            }
        }
    }
    /// Closes the record with the response status.
    pub fn finish(&self, status: u16) {
        {
            let mut r = self.inner.lock().unwrap();
            r.status = status;
            r.duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        }
        self.count_now();
    }
}

/// A compact record of one answered request, kept for every request.
#[derive(Clone, Debug)]
pub struct Hit {
    /// Sequence number.
    pub seq: u64,
    /// Endpoint.
    pub endpoint: Endpoint,
    /// Client, when known.
    pub client_id: Option<ClientId>,
    /// Status (0 = never answered).
    pub status: u16,
    /// Method and path, for reports (shared: a run repeats a handful of them).
    pub line: Arc<str>,
}

/// The log of one IdP instance.
#[derive(Debug, Default)]
pub struct RequestLog {
    records: VecDeque<Arc<Mutex<RecordedRequest>>>,
    hits: Vec<Hit>,
    next_seq: u64,
    /// The distinct `method path` lines of the hits, shared by every hit that repeats one.
    lines: std::collections::HashMap<String, Arc<str>>,
}

impl RequestLog {
    /// Full records kept (older ones are dropped; hits are kept).
    pub const CAPACITY: usize = 2000;

    /// Opens a record for an arriving request.
    pub fn open(
        log: &Arc<Mutex<RequestLog>>,
        method: &str,
        path: &str,
        headers: Vec<(String, String)>,
    ) -> Recorder {
        let mut l = log.lock().unwrap();
        l.next_seq += 1;
        let record = RecordedRequest {
            seq: l.next_seq,
            at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            method: method.to_owned(),
            path: path.to_owned(),
            endpoint: None,
            client_id: None,
            params: Vec::new(),
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.clone(), masked(&k, &v)))
                .collect(),
            status: 0,
            outcome: None,
            error: None,
            findings: Vec::new(),
            duration_ms: 0,
            tokens: Vec::new(),
        };
        let inner = Arc::new(Mutex::new(record));
        l.records.push_back(inner.clone());
        if l.records.len() > Self::CAPACITY {
            l.records.pop_front();
        }
        Recorder {
            inner,
            log: log.clone(),
            started: std::time::Instant::now(),
            counted: Arc::default(),
        }
    }

    fn count(
        &mut self,
        seq: u64,
        endpoint: Endpoint,
        client_id: Option<ClientId>,
        status: u16,
        text: String,
    ) {
        let line = match self.lines.get(&text) {
            Some(shared) => shared.clone(),
            None => {
                let shared: Arc<str> = Arc::from(text.as_str());
                // Paths are few in a run; a client that invents them gets its own copies.
                if self.lines.len() < 1024 {
                    self.lines.insert(text, shared.clone());
                }
                shared
            }
        };
        self.hits.push(Hit {
            seq,
            endpoint,
            client_id,
            status,
            line,
        });
    }

    /// Snapshots of the kept records, oldest first.
    pub fn records(&self) -> Vec<RecordedRequest> {
        self.records.iter().map(|r| r.lock().unwrap().clone()).collect()
    }

    /// Every counted request.
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }

    /// Forgets everything (sequence numbers keep counting).
    pub fn clear(&mut self) {
        self.records.clear();
        self.hits.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_hits_counted_once() {
        let log = Arc::new(Mutex::new(RequestLog::default()));
        let rec = RequestLog::open(
            &log,
            "POST",
            "/token",
            vec![("authorization".into(), "Basic abcdefgh".into())],
        );
        rec.endpoint(Endpoint::Token);
        rec.params(&[
            ("client_secret".into(), "supersecret".into()),
            ("grant_type".into(), "x".into()),
        ]);
        rec.count_now();
        rec.finish(200);
        let l = log.lock().unwrap();
        let r = &l.records()[0];
        assert!(!format!("{r:?}").contains("supersecret"));
        assert!(!format!("{r:?}").contains("abcdefgh"));
        assert_eq!(r.params[1], ("grant_type".into(), "x".into()));
        assert_eq!(l.hits().len(), 1);
    }

    #[test]
    fn decoded_tokens_keep_their_json_and_serialize_as_objects() {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256","kid":"k1"}"#),
            b64(r#"{"sub":"alice","n":1}"#)
        );
        let t = DecodedJwt::decode("id_token", &jwt).unwrap();
        assert_eq!(t.name(), "id_token");
        assert_eq!(t.header()["kid"], "k1");
        assert_eq!(t.claims()["sub"], "alice");
        let wire = serde_json::to_value(&t).unwrap();
        assert_eq!(
            wire,
            serde_json::json!({"name": "id_token", "header": {"alg": "RS256", "kid": "k1"}, "claims": {"sub": "alice", "n": 1}})
        );
        let back: DecodedJwt = serde_json::from_value(wire).unwrap();
        assert_eq!(back, t);
        // Not a JWT with JSON objects: nothing to show.
        for bad in [
            "opaque-token".to_owned(),
            format!("{}.{}.sig", b64("[1]"), b64("{}")),
            format!("{}.{}.sig", b64("{}"), b64("{\"sub\":")),
            format!("{}.{}", b64("{}"), b64("{}")),
        ] {
            assert!(DecodedJwt::decode("access_token", &bad).is_none(), "{bad}");
        }
    }
}
