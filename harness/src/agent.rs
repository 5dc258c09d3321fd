//! The HTTP user agent scenarios drive a gateway with: a browser-like cookie jar and
//! redirects followed one hop at a time, so every hop (the login redirect, the IdP, the
//! callback, the hand-off, the landing) can be asserted.
//!
//! Cookies are kept per host (ignoring the port, as browsers do), honour `Max-Age=0`
//! deletion, and are sent back to the same host; `*.localhost` names resolve to 127.0.0.1
//! so an IdP, a gateway endpoint and a callback origin can live on different host names.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// Resolves `localhost` and `*.localhost` to 127.0.0.1; everything else as usual.
struct LocalhostResolver;

impl Resolve for LocalhostResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if is_local_host(&host) {
                let addrs: Addrs = Box::new(std::iter::once(SocketAddr::from(([127, 0, 0, 1], 0))));
                return Ok(addrs);
            }
            // Tests only touch 127.0.0.0/8: no name is looked up anywhere else.
            Err(format!("{host} is not on the loopback network gatecheck tests on").into())
        })
    }
}

/// Whether `host` (a name or an IP literal, as in a URL) is on the loopback network the suite
/// runs on: `localhost`, `*.localhost`, 127.0.0.0/8 or `::1`.
pub fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost"),
    }
}

/// The `Accept` header of a browser navigation (Chromium's).
pub const NAVIGATION_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// One stored cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCookie {
    /// Host it belongs to.
    pub host: String,
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// The full `Set-Cookie` line it came from.
    pub raw: String,
}

/// One request and its answer.
#[derive(Clone, Debug)]
pub struct Hop {
    /// Method.
    pub method: Method,
    /// URL requested.
    pub url: Url,
    /// Status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// `Location`, resolved against the URL.
    pub location: Option<Url>,
    /// `Set-Cookie` lines.
    pub set_cookies: Vec<String>,
    /// Body text.
    pub body: String,
}

impl Hop {
    /// A response header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A browser-like HTTP client.
#[derive(Clone)]
pub struct UserAgent {
    http: reqwest::Client,
    jar: Arc<Mutex<Vec<StoredCookie>>>,
}

impl Default for UserAgent {
    fn default() -> Self {
        UserAgent::new()
    }
}

impl UserAgent {
    /// A fresh agent with an empty jar.
    pub fn new() -> UserAgent {
        UserAgent::build(true, None)
    }

    /// A fresh agent that also trusts the CA certificates in `ca_pem` (a mock IdP on https).
    pub fn trusting(ca_pem: &str) -> UserAgent {
        UserAgent::build(true, Some(ca_pem))
    }

    /// A fresh agent that opens a new connection for every request (so a round-robin
    /// balancer sends consecutive requests to different replicas).
    pub fn without_keep_alive() -> UserAgent {
        UserAgent::build(false, None)
    }

    fn build(keep_alive: bool, ca_pem: Option<&str>) -> UserAgent {
        UserAgent {
            http: UserAgent::client(keep_alive, ca_pem),
            jar: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn client(keep_alive: bool, ca_pem: Option<&str>) -> reqwest::Client {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(LocalhostResolver));
        if !keep_alive {
            b = b.pool_max_idle_per_host(0);
        }
        // Only loopback servers and a mock IdP's own CA: no system roots to load.
        let certs = ca_pem
            .map(|pem| reqwest::Certificate::from_pem_bundle(pem.as_bytes()).expect("a PEM CA bundle"))
            .unwrap_or_default();
        b = b.tls_certs_only(certs);
        b.build().expect("client")
    }

    /// The cookies held for `host`.
    pub fn cookies(&self, host: &str) -> Vec<StoredCookie> {
        self.jar
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.host == host)
            .cloned()
            .collect()
    }
    /// One cookie.
    pub fn cookie(&self, host: &str, name: &str) -> Option<StoredCookie> {
        self.cookies(host).into_iter().find(|c| c.name == name)
    }
    /// Plants a cookie (forgery scenarios).
    pub fn set_cookie(&self, host: &str, name: &str, value: &str) {
        let mut jar = self.jar.lock().unwrap();
        jar.retain(|c| !(c.host == host && c.name == name));
        jar.push(StoredCookie {
            host: host.into(),
            name: name.into(),
            value: value.into(),
            raw: String::new(),
        });
    }
    /// Forgets every cookie.
    pub fn clear_cookies(&self) {
        self.jar.lock().unwrap().clear();
    }

    fn cookie_header(&self, url: &Url) -> Option<String> {
        let host = url.host_str()?;
        let jar = self.jar.lock().unwrap();
        let pairs: Vec<String> = jar
            .iter()
            .filter(|c| c.host == host)
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// Takes the `Set-Cookie` lines of an answer from `url` into the jar, as a browser would
    /// (a request sent by other means, a raw one, still leaves its cookies here).
    pub fn store(&self, url: &Url, set_cookies: &[String]) {
        let Some(host) = url.host_str() else { return };
        let mut jar = self.jar.lock().unwrap();
        for raw in set_cookies {
            let Ok(c) = cookie::Cookie::parse(raw.clone()) else {
                continue;
            };
            jar.retain(|x| !(x.host == host && x.name == c.name()));
            let deleted = c.max_age().is_some_and(|m| m.is_zero() || m.is_negative()) || c.value().is_empty();
            if !deleted {
                jar.push(StoredCookie {
                    host: host.into(),
                    name: c.name().into(),
                    value: c.value().into(),
                    raw: raw.clone(),
                });
            }
        }
    }

    /// One request, with the jar's cookies and `extra` headers; stores `Set-Cookie`.
    pub async fn send(&self, method: Method, url: &str, extra: &[(&str, &str)], body: Option<String>) -> Hop {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
        let mut req = self.http.request(method.clone(), url.clone());
        if let Some(c) = self.cookie_header(&url) {
            req = req.header("cookie", c);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        // What a browser sends when it navigates, unless the step says otherwise (an API call).
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
            req = req.header("accept", NAVIGATION_ACCEPT);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        self.store(&url, &set_cookies);
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.join(l).ok());
        let body = resp.text().await.unwrap_or_default();
        Hop {
            method,
            url,
            status,
            headers,
            location,
            set_cookies,
            body,
        }
    }

    /// GET one hop.
    pub async fn get(&self, url: &str) -> Hop {
        self.send(Method::GET, url, &[], None).await
    }

    /// GETs `url` and follows redirects (up to 10), returning every hop.
    pub async fn follow(&self, url: &str) -> Vec<Hop> {
        let mut hops = Vec::new();
        let mut next = url.to_owned();
        for _ in 0..10 {
            let hop = self.get(&next).await;
            let loc = hop.location.clone();
            let redirect = (300..400).contains(&hop.status);
            hops.push(hop);
            match (redirect, loc) {
                // A redirect off the loopback network is where the browser would go (an open
                // redirect, a real IdP): recorded as the last hop's location, never followed.
                (true, Some(l)) if l.host_str().is_some_and(is_local_host) => next = l.to_string(),
                _ => break,
            }
        }
        hops
    }
}
