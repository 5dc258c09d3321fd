//! Small value types shared by the whole crate: identifiers, secrets, scopes and endpoints.
//!
//! Strings that mean something different are different types, so a client id cannot be
//! passed where a user id is expected and a secret never ends up in a `Debug` dump or a log
//! line by accident ([`Secret`] prints as `Secret(***)`).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Cheap to clone: the text is shared (`Arc<str>`), so the grants, sessions and log hits
        /// that name the same client or user do not each hold a copy.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(std::sync::Arc<str>);

        impl $name {
            /// Wraps a string.
            pub fn new(value: impl Into<String>) -> Self {
                Self(std::sync::Arc::from(value.into()))
            }
            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::new)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(std::sync::Arc::from(value))
            }
        }
        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// An OAuth client identifier (`client_id`).
    ClientId
);
string_id!(
    /// A user's stable identifier at the IdP (becomes the `sub` claim).
    UserId
);

/// A secret value (client secret, token). `Debug`, `Display` and `Serialize` never show it;
/// call [`Secret::expose`] where the value really has to go on the wire.
///
/// ```
/// use mock_idp::Secret;
///
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
/// assert!(s.matches("hunter2") && s.expose() == "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl Secret {
    /// Wraps a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself. Use only to put it on the wire or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Constant-time comparison with a presented value.
    pub fn matches(&self, presented: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(self.0.as_bytes(), presented.as_bytes()).is_ok()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}
impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// One OAuth scope value, such as `openid` or `read:user`. Cheap to clone (shared text): a
/// grant, its tokens and its log records name the same scopes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(std::sync::Arc<str>);

impl Scope {
    /// Wraps a scope value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(std::sync::Arc::from(value.into()))
    }
    /// The scope as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl From<&str> for Scope {
    fn from(value: &str) -> Self {
        Self(std::sync::Arc::from(value))
    }
}

/// An ordered set of scopes: keeps the order in which they were requested (providers echo
/// them back in that order) and drops duplicates.
///
/// ```
/// use mock_idp::ScopeSet;
///
/// let s = ScopeSet::parse("openid email openid", &[]);
/// assert_eq!(s.join(" "), "openid email");
/// assert_eq!(ScopeSet::parse("email,public_profile", &[',']).len(), 2); // Facebook's commas
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses a scope parameter. Space is the separator of RFC 6749; `separators` lists
    /// the characters a provider also accepts (Facebook: comma).
    pub fn parse(value: &str, separators: &[char]) -> Self {
        let mut set = ScopeSet::default();
        for part in value.split(|c: char| c == ' ' || separators.contains(&c)) {
            if !part.is_empty() {
                set.insert(Scope::new(part));
            }
        }
        set
    }
    /// Builds a set from anything that yields scope-like strings.
    pub fn from_iter_str<I, S>(items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = ScopeSet::default();
        for item in items {
            set.insert(Scope::new(item.as_ref()));
        }
        set
    }
    /// Adds a scope unless already present.
    pub fn insert(&mut self, scope: Scope) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }
    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }
    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.iter().all(|s| other.contains(s.as_str()))
    }
    /// The scopes of `self` that are also in `other`, in `self`'s order.
    pub fn intersect(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(
            self.0
                .iter()
                .filter(|s| other.contains(s.as_str()))
                .cloned()
                .collect(),
        )
    }
    /// Iterates over the scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
    /// Number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Joins the scopes with `separator` (space for RFC 6749, comma for GitHub's report).
    pub fn join(&self, separator: &str) -> String {
        self.0
            .iter()
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(separator)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.join(" "))
    }
}

/// A grant at the token endpoint, for script entries that answer only one kind of token
/// request (`idp.on_device_token()`, `"grant": "device_code"` in the admin API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// `authorization_code`: the code exchange.
    AuthorizationCode,
    /// `client_credentials`.
    ClientCredentials,
    /// RFC 8628's device code (a device polling).
    DeviceCode,
    /// `password`: the resource-owner password grant.
    Password,
    /// RFC 8693 token exchange.
    TokenExchange,
    /// RFC 7523 JWT bearer (and Entra's on-behalf-of).
    JwtBearer,
}

impl GrantType {
    /// The snake_case name used in the admin API and in messages.
    pub fn name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::DeviceCode => "device_code",
            GrantType::Password => "password",
            GrantType::TokenExchange => "token_exchange",
            GrantType::JwtBearer => "jwt_bearer",
        }
    }
}

impl std::fmt::Display for GrantType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The endpoints of the IdP that tests can script and count.
///
/// `Refresh` is the token endpoint called with `grant_type=refresh_token`; it is scripted
/// separately from `Token` (the authorization-code redemption) because tests almost always
/// want to break one and not the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/.well-known/openid-configuration`
    Discovery,
    /// The JSON Web Key Set.
    Jwks,
    /// The authorization endpoint (browser redirect, login page).
    Authorize,
    /// The token endpoint, `grant_type=authorization_code`.
    Token,
    /// The token endpoint, `grant_type=refresh_token`.
    Refresh,
    /// The userinfo / profile endpoint.
    Userinfo,
    /// RFC 7009 token revocation.
    Revocation,
    /// RP-initiated logout.
    EndSession,
    /// RFC 7662 token introspection.
    Introspection,
    /// RFC 8628 device authorization (the codes a device shows; its polls are [`Endpoint::Token`]).
    DeviceAuthorization,
}

impl Endpoint {
    /// Every endpoint, in flow order.
    pub const ALL: [Endpoint; 10] = [
        Endpoint::Discovery,
        Endpoint::Jwks,
        Endpoint::Authorize,
        Endpoint::Token,
        Endpoint::Refresh,
        Endpoint::Userinfo,
        Endpoint::Revocation,
        Endpoint::EndSession,
        Endpoint::Introspection,
        Endpoint::DeviceAuthorization,
    ];

    /// The snake_case name used in the admin API and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Discovery => "discovery",
            Endpoint::Jwks => "jwks",
            Endpoint::Authorize => "authorize",
            Endpoint::Token => "token",
            Endpoint::Refresh => "refresh",
            Endpoint::Userinfo => "userinfo",
            Endpoint::Revocation => "revocation",
            Endpoint::EndSession => "end_session",
            Endpoint::Introspection => "introspection",
            Endpoint::DeviceAuthorization => "device_authorization",
        }
    }

    /// Parses the snake_case name.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Random URL-safe token of `bytes` random bytes, base64url without padding.
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("system random number generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Masks a secret for display: keeps a short prefix so a person can tell two values apart.
pub(crate) fn mask(value: &str) -> String {
    let keep: String = value.chars().take(4).collect();
    if value.chars().count() <= 4 {
        "***".to_owned()
    } else {
        format!("{keep}…(masked, {} chars)", value.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert!(s.matches("hunter2"));
        assert!(!s.matches("hunter3"));
    }

    #[test]
    fn scope_set_keeps_order_and_drops_duplicates() {
        let s = ScopeSet::parse("openid  email openid profile", &[]);
        assert_eq!(s.join(" "), "openid email profile");
        let comma = ScopeSet::parse("email,public_profile", &[',']);
        assert_eq!(comma.len(), 2);
        assert!(ScopeSet::parse("email", &[]).is_subset(&s));
        assert!(!ScopeSet::parse("email phone", &[]).is_subset(&s));
    }
}
