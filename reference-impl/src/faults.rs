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
    /// GET, HEAD and OPTIONS requests (a passthrough CORS preflight included) are forwarded
    /// with their body, on a pooled upstream connection (request desync).
    ForwardBodiesOnSafeMethods,
    /// A finished login's replay marker is kept where logins in flight are, under
    /// `done:<state>`, so the callback takes it as a login (state confusion).
    FinishedLoginsAsTransactions,
    /// No header-read or idle timeout and no connection cap (slow clients hold connections).
    NoSlowClientLimits,
    /// An email the provider did not verify is forwarded as the user's email.
    ForwardUnverifiedEmails,
    /// A WebSocket tunnel stays open after its session ends (logout, revocation).
    KeepTunnelsAfterLogout,
    /// A request with two `Host` headers is served (the first one is used).
    AcceptRepeatedHost,
    /// The ID token's `exp` leeway is read in the wrong unit (60 s taken as 60,000 s).
    ExpiryLeewayInWrongUnit,
    /// The ID token's signature is not checked, though the key set is still read (the
    /// "decoded instead of verified" bug).
    SkipSignatureCheck,
    /// Any certificate the IdP presents is accepted (TLS without verification).
    AcceptAnyIdpCertificate,
}

impl Fault {
    /// Every fault with its kebab-case name.
    pub const ALL: [(Fault, &'static str); 13] = [
        (Fault::KeepForgedIdentityHeaders, "keep-forged-identity-headers"),
        (Fault::IgnoreBrowserBinding, "ignore-browser-binding"),
        (Fault::TrustUnverifiedEmails, "trust-unverified-emails"),
        (Fault::DropOriginalPath, "drop-original-path"),
        (
            Fault::ForwardBodiesOnSafeMethods,
            "forward-bodies-on-safe-methods",
        ),
        (
            Fault::FinishedLoginsAsTransactions,
            "finished-logins-as-transactions",
        ),
        (Fault::NoSlowClientLimits, "no-slow-client-limits"),
        (Fault::ForwardUnverifiedEmails, "forward-unverified-emails"),
        (Fault::KeepTunnelsAfterLogout, "keep-tunnels-after-logout"),
        (Fault::AcceptRepeatedHost, "accept-repeated-host"),
        (Fault::ExpiryLeewayInWrongUnit, "expiry-leeway-in-wrong-unit"),
        (Fault::SkipSignatureCheck, "skip-signature-check"),
        (Fault::AcceptAnyIdpCertificate, "accept-any-idp-certificate"),
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
