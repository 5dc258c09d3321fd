//! Test-only faults: checks the gateway can be told to skip, so the conformance suite can
//! prove it fails against a broken gateway ("a deliberately broken gateway makes the
//! matching scenarios fail"). They are set only through the Rust API
//! ([`Config::test_faults`](crate::Config)) — no config file key or flag reaches them — and
//! `ref-gateway` warns loudly if any is on.

use std::collections::BTreeSet;

/// A check that can be turned off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Client-sent copies of the identity headers are forwarded (no stripping).
    KeepForgedIdentityHeaders,
    /// The callback is accepted from any browser (the `nonce` cookie binding is not checked:
    /// login CSRF).
    IgnoreBrowserBinding,
    /// Unverified emails satisfy the email rules.
    TrustUnverifiedEmails,
    /// After login the browser lands on `/`, not on the page it asked for.
    DropOriginalPath,
}

impl Fault {
    /// Every fault with its kebab-case name.
    pub const ALL: [(Fault, &'static str); 4] = [
        (Fault::KeepForgedIdentityHeaders, "keep-forged-identity-headers"),
        (Fault::IgnoreBrowserBinding, "ignore-browser-binding"),
        (Fault::TrustUnverifiedEmails, "trust-unverified-emails"),
        (Fault::DropOriginalPath, "drop-original-path"),
    ];

    /// Parses a kebab-case name.
    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }
}

/// The faults in force (empty in every real deployment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults(BTreeSet<Fault>);

impl Faults {
    /// Turns `fault` on.
    pub fn with(mut self, fault: Fault) -> Faults {
        self.0.insert(fault);
        self
    }
    /// Whether `fault` is on.
    pub fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }
    /// Whether any is on.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}
