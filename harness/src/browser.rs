//! A real Chromium for the `@browser` scenarios: one chromedriver per run (started on a free
//! port when the first browser scenario needs it, killed when the run ends), one browser
//! session per scenario with a fresh profile directory, at most two sessions at once (about
//! 380 MB each on this machine). The IdP (`127.0.0.1`), the gateway (`app.localhost`) and
//! its callback origin (`login.localhost`) are different host names to Chromium, so their
//! cookies stay apart as in production.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Sessions at once.
const MAX_SESSIONS: usize = 2;

/// Where Chromium and chromedriver are, or why they cannot be used.
pub fn locate() -> Result<(PathBuf, PathBuf), String> {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|b| crate::system::find(b));
    let driver = crate::system::find("chromedriver");
    match (chromium, driver) {
        (Some(c), Some(d)) => Ok((c, d)),
        _ => {
            Err("Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)".into())
        }
    }
}

/// A running chromedriver.
pub struct Chromedriver {
    child: Child,
    url: String,
    chromium: PathBuf,
    sessions: Arc<Semaphore>,
}

impl std::fmt::Debug for Chromedriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chromedriver at {}", self.url)
    }
}

impl Chromedriver {
    /// Starts chromedriver on a free loopback port and waits until it answers.
    pub async fn start() -> Result<Chromedriver, String> {
        let (chromium, driver) = locate()?;
        let port = crate::ports::private_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", driver.display()))?;
        let mut d = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            sessions: Arc::new(Semaphore::new(MAX_SESSIONS)),
        };
        let client = crate::ports::loopback_client();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client.get(format!("{}/status", d.url)).send().await
                && r.status().is_success()
            {
                return Ok(d);
            }
            if let Ok(Some(status)) = d.child.try_wait() {
                return Err(format!("chromedriver exited during start-up ({status})"));
            }
            if Instant::now() > deadline {
                return Err("chromedriver did not answer /status within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new browser session with a fresh profile (waits while two are open).
    pub async fn session(&self) -> Result<Browser, String> {
        let permit = self
            .sessions
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let profile = tempfile::Builder::new()
            .prefix("gatecheck-chromium-")
            .tempdir()
            .map_err(|e| format!("a profile directory: {e}"))?;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1024,768",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": self.chromium.display().to_string(), "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .map_err(|e| format!("a Chromium session did not start: {e}"))?;
        Ok(Browser {
            client,
            _permit: permit,
            _profile: profile,
        })
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One scenario's browser session.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    _permit: OwnedSemaphorePermit,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Navigates and waits for the page.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("the browser could not open {url}: {e}"));
    }

    /// The current URL.
    pub async fn url(&self) -> url::Url {
        self.client
            .current_url()
            .await
            .expect("the browser's current URL")
    }

    /// The page's HTML.
    pub async fn html(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    /// Waits (up to 10 s) for an element.
    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            if Instant::now() > deadline {
                let url = self.url().await;
                panic!("no {css} on the page at {url}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether an element is there now.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Waits (up to 10 s) until the URL satisfies `ok`.
    pub async fn wait_for_url(&self, what: &str, ok: impl Fn(&url::Url) -> bool) -> url::Url {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let u = self.url().await;
            if ok(&u) {
                return u;
            }
            if Instant::now() > deadline {
                panic!("the browser never reached {what}; it is at {u}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A PNG screenshot and the HTML, for a failed step.
    pub async fn evidence(&self) -> (Option<Vec<u8>>, String) {
        (self.client.screenshot().await.ok(), self.html().await)
    }

    /// Ends the session (the browser process exits).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
