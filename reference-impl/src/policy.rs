//! Authorization decisions: allowed emails and allowed email domains.
//!
//! The rules, decided once and documented (docs/gateway.md):
//!
//! * An email satisfies a rule only if the provider says it is **verified** (see each provider
//!   for where that comes from); an unverified address never matches.
//! * Addresses must be plain ASCII `local@domain`: exactly one `@`, no quotes, comments,
//!   whitespace, control characters, ports or trailing dots. Anything else is refused (no
//!   normalisation that could turn a look-alike into an allowed address).
//! * Comparison is **case-insensitive** for the whole address: providers normalise case
//!   inconsistently, and no provider we support issues distinct mailboxes differing only by
//!   case.
//! * A domain rule is an exact match of the part after the `@`; subdomains must be listed one
//!   by one (the seed's "perfect match"). Wildcards are refused at start-up.
//! * With no rule at all, every authenticated user is allowed.

use serde::Serialize;

/// Why an address or domain is refused as syntax.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SyntaxError {
    /// Not `local@domain` with exactly one `@`.
    #[error("{0:?} is not an address of the form local@domain with exactly one @")]
    Shape(String),
    /// Non-ASCII, whitespace, control, quote or comment characters.
    #[error(
        "{0:?} contains characters that are not allowed in an address (non-ASCII, whitespace, quotes, comments)"
    )]
    Characters(String),
    /// The domain is not a plain DNS name.
    #[error("{0:?} is not a plain DNS domain (letters, digits, hyphens, dots; no port, no trailing dot)")]
    Domain(String),
}

/// Checks a domain: ASCII labels of letters, digits and hyphens, at least two labels, no
/// trailing dot, no port.
pub fn check_domain(domain: &str) -> Result<String, SyntaxError> {
    let d = domain.to_ascii_lowercase();
    let labels: Vec<&str> = d.split('.').collect();
    let ok = d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(d)
    } else {
        Err(SyntaxError::Domain(domain.to_owned()))
    }
}

/// Checks an address strictly and returns it lower-cased.
pub fn check_email(email: &str) -> Result<String, SyntaxError> {
    if !email.is_ascii()
        || email
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b"\"()<>[]\\,;:".contains(&b))
    {
        return Err(SyntaxError::Characters(email.to_owned()));
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SyntaxError::Shape(email.to_owned()));
    };
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err(SyntaxError::Shape(email.to_owned()));
    }
    let domain = check_domain(domain)?;
    Ok(format!("{}@{domain}", local.to_ascii_lowercase()))
}

/// The identity facts a decision needs.
#[derive(Clone, Debug)]
pub struct Subject<'a> {
    /// The email the provider reported, if any.
    pub email: Option<&'a str>,
    /// Whether the provider verified it.
    pub email_verified: bool,
}

/// The outcome of a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision", content = "reason")]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Refused, with the reason shown to the user.
    Deny(String),
}

/// Allowed emails and domains of one endpoint (already validated and lower-cased).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EmailPolicy {
    /// Exact addresses.
    pub emails: Vec<String>,
    /// Exact domains.
    pub domains: Vec<String>,
}

impl EmailPolicy {
    /// Whether there is any rule.
    pub fn is_open(&self) -> bool {
        self.emails.is_empty() && self.domains.is_empty()
    }

    /// Decides for `subject`.
    pub fn decide(&self, subject: &Subject<'_>) -> Decision {
        if self.is_open() {
            return Decision::Allow;
        }
        let Some(raw) = subject.email else {
            return Decision::Deny(
                "your account has no email address, and this site only admits listed addresses".into(),
            );
        };
        if !subject.email_verified {
            return Decision::Deny(format!(
                "the identity provider has not verified the email address {raw}"
            ));
        }
        let email = match check_email(raw) {
            Ok(e) => e,
            Err(e) => return Decision::Deny(format!("the email address cannot be accepted: {e}")),
        };
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        if self.emails.contains(&email) || self.domains.iter().any(|d| d == domain) {
            Decision::Allow
        } else {
            Decision::Deny(format!("{email} is not allowed to access this site"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> EmailPolicy {
        EmailPolicy {
            emails: vec!["alice@example.com".into()],
            domains: vec!["acme.org".into()],
        }
    }
    fn verified(email: &str) -> Subject<'_> {
        Subject {
            email: Some(email),
            email_verified: true,
        }
    }

    #[test]
    fn whole_address_and_exact_domain_matches_only() {
        let p = policy();
        for ok in [
            "alice@example.com",
            "ALICE@Example.COM",
            "bob@acme.org",
            "Bob@ACME.org",
        ] {
            assert_eq!(p.decide(&verified(ok)), Decision::Allow, "{ok}");
        }
        for bad in [
            "xalice@example.com",
            "alice@example.com.evil.test",
            "alice@example.community",
            "alice@example.com@evil.test",
            "u@evilacme.org",
            "u@sub.acme.org",
            "acme.org@gmail.com",
            "attacker@evil.test@acme.org",
            "\"a@b\"@acme.org",
            "a(comment)@acme.org",
            "a@acme.org ",
            "a@acme.org\n",
            "a@acme.org%00",
            "u@acme.org.",
            "u@ACME.ORG.",
            "u@acme.org:443",
            "u@\u{430}cme.org",
            "u@acme\u{2024}org",
            "u\u{ff20}acme.org",
        ] {
            assert!(
                matches!(p.decide(&verified(bad)), Decision::Deny(_)),
                "{bad:?} must be denied"
            );
        }
    }

    #[test]
    fn unverified_or_missing_email_never_matches() {
        let p = policy();
        assert!(matches!(
            p.decide(&Subject {
                email: Some("alice@example.com"),
                email_verified: false
            }),
            Decision::Deny(_)
        ));
        assert!(matches!(
            p.decide(&Subject {
                email: None,
                email_verified: true
            }),
            Decision::Deny(_)
        ));
        assert_eq!(
            EmailPolicy::default().decide(&Subject {
                email: None,
                email_verified: false
            }),
            Decision::Allow
        );
    }

    #[test]
    fn syntax_checks() {
        assert_eq!(
            check_email("Kate.Libby@Gmail.com").unwrap(),
            "kate.libby@gmail.com"
        );
        assert!(check_domain("*.acme.org").is_err());
        assert!(check_domain("localhost").is_err());
        assert!(check_domain("acme.org").is_ok());
    }
}
