//! Expectations: how many requests an endpoint should receive, checked when the IdP drops
//! (or on [`crate::MockIdp::verify`]), with a readable report of what actually arrived.
//!
//! `idp.expect(Endpoint::Refresh).times(1)` — like wiremock's `expect`, declared up front.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::log::Hit;
use crate::types::{ClientId, Endpoint};

/// How many requests are expected (inclusive bounds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Only requests from this client count.
    pub client_id: Option<ClientId>,
    /// At least this many.
    pub min: u64,
    /// At most this many (`None`: no upper bound).
    pub max: Option<u64>,
}

impl Expectation {
    fn describe_count(&self) -> String {
        match (self.min, self.max) {
            (0, Some(0)) => "no requests".to_owned(),
            (a, Some(b)) if a == b => format!("exactly {a} request{}", if a == 1 { "" } else { "s" }),
            (a, None) => format!("at least {a}"),
            (0, Some(b)) => format!("at most {b}"),
            (a, Some(b)) => format!("between {a} and {b}"),
        }
    }
    fn matching<'a>(&self, hits: &'a [Hit]) -> Vec<&'a Hit> {
        hits.iter()
            .filter(|h| h.endpoint == self.endpoint)
            .filter(|h| {
                self.client_id
                    .as_ref()
                    .is_none_or(|c| h.client_id.as_ref() == Some(c))
            })
            .collect()
    }
}

/// The expectations that did not hold, with what was received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// One entry per failed expectation.
    pub failures: Vec<FailedExpectation>,
    /// Requests per endpoint over the IdP's life, for context.
    pub received: Vec<(Endpoint, u64)>,
}

/// One failed expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedExpectation {
    /// What was expected.
    pub expectation: Expectation,
    /// How many matched.
    pub received: u64,
    /// The matching requests (`#seq METHOD path → status`).
    pub requests: Vec<String>,
}

impl fmt::Display for VerificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mock-idp: {} expectation(s) not met", self.failures.len())?;
        for fail in &self.failures {
            let e = &fail.expectation;
            let who = e
                .client_id
                .as_ref()
                .map(|c| format!(" from client {c}"))
                .unwrap_or_default();
            writeln!(
                f,
                "  ✗ {} endpoint{who}: expected {}, received {}",
                e.endpoint,
                e.describe_count(),
                fail.received
            )?;
            for r in &fail.requests {
                writeln!(f, "      {r}")?;
            }
        }
        let summary: Vec<String> = self.received.iter().map(|(e, n)| format!("{e}={n}")).collect();
        write!(
            f,
            "  all requests received: {}",
            if summary.is_empty() {
                "none".into()
            } else {
                summary.join(", ")
            }
        )
    }
}

impl std::error::Error for VerificationReport {}

/// Checks every expectation against the hits.
pub fn verify(expectations: &[Expectation], hits: &[Hit]) -> Result<(), VerificationReport> {
    let mut failures = Vec::new();
    for e in expectations {
        let matching = e.matching(hits);
        let n = matching.len() as u64;
        if n < e.min || e.max.is_some_and(|max| n > max) {
            failures.push(FailedExpectation {
                expectation: e.clone(),
                received: n,
                requests: matching
                    .iter()
                    .map(|h| {
                        let client = h
                            .client_id
                            .as_ref()
                            .map(|c| format!(" (client {c})"))
                            .unwrap_or_default();
                        format!("#{} {} → {}{client}", h.seq, h.line, h.status)
                    })
                    .collect(),
            });
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let received = Endpoint::ALL
        .iter()
        .map(|e| (*e, hits.iter().filter(|h| h.endpoint == *e).count() as u64))
        .filter(|(_, n)| *n > 0)
        .collect();
    Err(VerificationReport { failures, received })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(seq: u64, endpoint: Endpoint, client: &str) -> Hit {
        Hit {
            seq,
            endpoint,
            client_id: Some(ClientId::new(client)),
            status: 200,
            line: "POST /token".into(),
        }
    }

    #[test]
    fn report_is_readable() {
        let hits = vec![
            hit(1, Endpoint::Token, "a"),
            hit(2, Endpoint::Token, "b"),
            hit(3, Endpoint::Userinfo, "a"),
        ];
        let exp = vec![
            Expectation {
                endpoint: Endpoint::Token,
                client_id: None,
                min: 2,
                max: Some(2),
            },
            Expectation {
                endpoint: Endpoint::Token,
                client_id: Some(ClientId::new("a")),
                min: 2,
                max: Some(2),
            },
            Expectation {
                endpoint: Endpoint::Refresh,
                client_id: None,
                min: 0,
                max: Some(0),
            },
        ];
        let report = verify(&exp, &hits).unwrap_err();
        assert_eq!(
            report.to_string(),
            "mock-idp: 1 expectation(s) not met\n  ✗ token endpoint from client a: expected exactly 2 requests, received 1\n      #1 POST /token → 200 (client a)\n  all requests received: token=2, userinfo=1"
        );
    }
}
