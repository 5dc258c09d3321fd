//! Request parameters as RFC 6749 reads them: query or form body, in arrival order,
//! repeated names detectable (§3.1), empty values counting as absent; and the form-encoding
//! check of token-style requests (with the JSON bodies GitHub also takes). Every endpoint
//! parses through here.

use axum::http::{HeaderMap, header};

/// Request parameters (query or form), kept in order, with the strict rules of RFC 6749
/// §3.1: repeated parameters are an error, and empty values count as absent.
#[derive(Clone, Debug, Default)]
pub(super) struct Params {
    pairs: Vec<(String, String)>,
    /// The body was a JSON object (accepted where the provider takes one).
    json: bool,
    /// Why a JSON body could not be read as parameters.
    problem: Option<String>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes.
    pub fn parse(raw: &[u8]) -> Params {
        Params {
            pairs: form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            ..Params::default()
        }
    }
    /// The parameters of a POST body: form-encoded, or — where the provider takes it
    /// (`json_ok`: GitHub, whose own libraries post JSON) — one flat JSON object.
    pub fn from_body(headers: &HeaderMap, body: &[u8], json_ok: bool) -> Params {
        if !(json_ok && mime_of(headers).eq_ignore_ascii_case("application/json")) {
            return Params::parse(body);
        }
        let flat = serde_json::from_slice::<FlatObject>(body)
            .map_err(|e| format!("the JSON body is not one object: {e}"))
            .and_then(|FlatObject(members)| {
                members
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => Ok((k, s)),
                        serde_json::Value::Number(n) => Ok((k, n.to_string())),
                        serde_json::Value::Bool(b) => Ok((k, b.to_string())),
                        _ => Err(format!("the JSON body's {k:?} is not a string")),
                    })
                    .collect::<Result<Vec<_>, String>>()
            });
        match flat {
            Ok(pairs) => Params {
                pairs,
                json: true,
                problem: None,
            },
            Err(problem) => Params {
                json: true,
                problem: Some(problem),
                ..Params::default()
            },
        }
    }
    /// Whether the parameters came as a JSON body.
    pub fn is_json(&self) -> bool {
        self.json
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
    check_body(headers, form).map_err(TokenFailure::InvalidRequest)?;
    match form.repeated().first() {
        Some(name) => Err(TokenFailure::InvalidRequest(format!(
            "parameter {name} is repeated (RFC 6749 §3.1)"
        ))),
        None => Ok(()),
    }
}

/// A JSON object's members in arrival order, a repeated name kept twice (serde_json's `Map`
/// would keep the last one silently), so [`Params::repeated`] sees it as in a form.
struct FlatObject(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for FlatObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FlatObject, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = FlatObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<FlatObject, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, serde_json::Value>()? {
                    members.push(member);
                }
                Ok(FlatObject(members))
            }
        }
        d.deserialize_map(Members)
    }
}

/// Checks the body `form` was read from: a JSON object where the provider takes one
/// ([`Params::from_body`]), else form-encoded.
pub(super) fn check_body(headers: &HeaderMap, form: &Params) -> Result<(), String> {
    match (&form.problem, form.json) {
        (Some(problem), _) => Err(problem.clone()),
        (None, true) => Ok(()),
        (None, false) => require_form(headers),
    }
}

fn mime_of(headers: &HeaderMap) -> &str {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ct.split(';').next().unwrap_or("").trim()
}

/// Checks the body is form-encoded, as RFC 6749 requires of token requests.
pub(super) fn require_form(headers: &HeaderMap) -> Result<(), String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if mime_of(headers).eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else if ct.is_empty() {
        Err("missing Content-Type: send the parameters as application/x-www-form-urlencoded".into())
    } else {
        Err(format!(
            "Content-Type {ct:?} is not accepted: send the parameters as application/x-www-form-urlencoded"
        ))
    }
}
