//! The gateway's own pages: errors (with the IdP's error when there is one, and a retry link to
//! `/auth/authn`) and "logged out". Every value is HTML-escaped; every page is uncacheable,
//! unframeable and sends no referrer (security checklist 51, 62).

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Adds the headers every gateway page carries.
pub fn secure(resp: &mut Response<Body>) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// What an error page says.
#[derive(Debug, Clone)]
pub struct ErrorPage<'a> {
    /// Status.
    pub status: StatusCode,
    /// Short title ("Access denied").
    pub title: &'a str,
    /// What happened, in plain words.
    pub message: &'a str,
    /// The IdP's `error` and `error_description`, when the IdP reported one.
    pub idp_error: Option<(&'a str, Option<&'a str>)>,
    /// Where "Try again" goes (an `/auth/authn` URL), if retrying makes sense.
    pub retry: Option<&'a str>,
    /// A machine-readable code for tests and logs (`x-gateway-error`).
    pub code: &'a str,
}

impl<'a> ErrorPage<'a> {
    /// A page with `status`, its machine-readable `code`, a short title and what happened; no
    /// IdP error, no retry link.
    pub fn new(status: StatusCode, code: &'a str, title: &'a str, message: &'a str) -> ErrorPage<'a> {
        ErrorPage {
            status,
            title,
            message,
            idp_error: None,
            retry: None,
            code,
        }
    }

    /// With a "Try again" link to `url`.
    pub fn retry(self, url: &'a str) -> ErrorPage<'a> {
        self.retry_if(Some(url))
    }

    /// With a "Try again" link when there is a `url`.
    pub fn retry_if(mut self, url: Option<&'a str>) -> ErrorPage<'a> {
        self.retry = url;
        self
    }

    /// Showing the IdP's `error` and `error_description`.
    pub fn idp_error(mut self, error: (&'a str, Option<&'a str>)) -> ErrorPage<'a> {
        self.idp_error = Some(error);
        self
    }

    /// The page.
    pub fn render(&self) -> Response<Body> {
        error(self)
    }
}

/// The session store cannot be reached: a temporary condition, 503 (never a 400 blaming the
/// request), with the way to try again when there is one.
pub fn store_unavailable(message: &str, retry: Option<&str>) -> Response<Body> {
    ErrorPage::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        "Temporarily unavailable",
        message,
    )
    .retry_if(retry)
    .render()
}

/// Renders an error page.
pub fn error(p: &ErrorPage<'_>) -> Response<Body> {
    let idp = p
        .idp_error
        .map(|(e, d)| {
            format!(
                "<p id=\"idp-error\">The identity provider said: <code>{}</code>{}</p>",
                esc(e),
                d.map(|d| format!(" — {}", esc(d))).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let retry = p
        .retry
        .map(|r| {
            format!(
                "<p><a id=\"retry\" href=\"{}\">Try logging in again</a></p>",
                esc(r)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}</style></head>\
         <body><h1 id=\"title\">{title}</h1><p id=\"message\">{message}</p>{idp}{retry}</body></html>",
        title = esc(p.title),
        message = esc(p.message),
    );
    let mut resp = Response::builder()
        .status(p.status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header("x-gateway-error", p.code)
        .body(Body::from(html))
        .expect("valid response");
    secure(&mut resp);
    resp
}

/// The page after `/auth/logout`.
pub fn logged_out(login_again: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Logged out</title></head>\
         <body><h1 id=\"title\">You are logged out</h1><p><a id=\"login\" href=\"{}\">Log in again</a></p></body></html>",
        esc(login_again)
    );
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(html))
        .expect("valid response");
    secure(&mut resp);
    resp
}

/// A 302 to `location`, with the page headers (the callback's URL holds a code: no referrer).
pub fn redirect(location: &str) -> Response<Body> {
    let mut resp = Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()));
    secure(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idp_errors_are_escaped() {
        let resp = error(&ErrorPage {
            status: StatusCode::FORBIDDEN,
            title: "Access denied",
            message: "no",
            idp_error: Some(("access_denied", Some("<script>alert(1)</script>"))),
            retry: Some("/auth/authn"),
            code: "idp_error",
        });
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
        assert_eq!(resp.headers()["cache-control"], "no-store");
    }
}
