//! Request parameters as RFC 6749 reads them: query or form body, in arrival order,
//! repeated names detectable (§3.1), empty values counting as absent; and the form-encoding
//! check of token-style requests. Every endpoint parses through here.

use axum::http::{HeaderMap, header};

/// Request parameters (query or form), kept in order, with the strict rules of RFC 6749
/// §3.1: repeated parameters are an error, and empty values count as absent.
#[derive(Clone, Debug, Default)]
pub(super) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes.
    pub fn parse(raw: &[u8]) -> Params {
        Params {
            pairs: form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }
    /// Parses a URL query (none: no parameters).
    pub fn from_query(query: Option<&str>) -> Params {
        Params::parse(query.unwrap_or("").as_bytes())
    }
    /// The value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    /// Whether `name` is present (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }
    /// Names given more than once.
    pub fn repeated(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (k, _) in &self.pairs {
            if !seen.insert(k.as_str()) && !out.contains(k) {
                out.push(k.clone());
            }
        }
        out
    }
    /// Every pair, in arrival order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// The checks every form-posted OAuth endpoint (token, revocation, introspection, device
/// authorization) makes first: a form-encoded body, no parameter given twice.
pub(super) fn check_form_request(
    headers: &HeaderMap,
    form: &Params,
) -> Result<(), crate::personality::TokenFailure> {
    use crate::personality::TokenFailure;
    require_form(headers).map_err(TokenFailure::InvalidRequest)?;
    match form.repeated().first() {
        Some(name) => Err(TokenFailure::InvalidRequest(format!(
            "parameter {name} is repeated (RFC 6749 §3.1)"
        ))),
        None => Ok(()),
    }
}

/// Checks the body is form-encoded, as RFC 6749 requires of token requests.
pub(super) fn require_form(headers: &HeaderMap) -> Result<(), String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else if ct.is_empty() {
        Err("missing Content-Type: send the parameters as application/x-www-form-urlencoded".into())
    } else {
        Err(format!(
            "Content-Type {ct:?} is not accepted: send the parameters as application/x-www-form-urlencoded"
        ))
    }
}
