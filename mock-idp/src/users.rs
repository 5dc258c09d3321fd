//! Users of the mock IdP: who can log in, and what the IdP says about them.
//!
//! A [`User`] carries the standard OIDC claims the personalities map onto their own profile
//! shapes, plus free-form extra claims. Users can change between logins (email changed,
//! disabled, deleted) through [`crate::MockIdp::update_user`] or the admin API with a
//! [`UserPatch`]; userinfo always answers from the current data, ID tokens from the data at
//! the time they were issued — as real providers do.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::types::UserId;

/// A user account at the IdP.
///
/// ```
/// use mock_idp::{ScopeSet, User};
///
/// let mona = User::new("octocat")
///     .email("octo@example.com")
///     .name("Mona")
///     .claim("groups", vec!["admins"]);
/// let claims = mona.claims_for(&ScopeSet::parse("openid email", &[]));
/// assert_eq!(claims["sub"], "octocat");
/// assert_eq!(claims["email"], "octo@example.com");
/// assert_eq!(claims["groups"][0], "admins");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Stable identifier; becomes `sub`.
    pub id: UserId,
    /// Login name (`preferred_username`; GitHub `login`). Defaults to the id.
    #[serde(default)]
    pub username: Option<String>,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub family_name: Option<String>,
    /// Email address; `None` for accounts without one (phone-only, private).
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the IdP verified the email address.
    #[serde(default = "default_true")]
    pub email_verified: bool,
    /// Avatar URL.
    #[serde(default)]
    pub picture: Option<String>,
    /// A disabled user cannot log in, refresh or call userinfo.
    #[serde(default)]
    pub disabled: bool,
    /// Extra claims added to the ID token and userinfo (e.g. `groups`, `hd`).
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// Provider-specific attributes, keyed by provider id, that are not claims: GitHub's
    /// `{"id": 583231, "email_private": true}`, Microsoft's `{"tid": "…", "oid": "…"}`. Each
    /// personality documents the keys it reads.
    #[serde(default)]
    pub provider: Map<String, Value>,
    /// The password the resource-owner password grant checks (Entra's ROPC, the generic
    /// personality); `None`: the user cannot log in that way. Never shown (`***`).
    #[serde(default)]
    pub password: Option<crate::types::Secret>,
}

fn default_true() -> bool {
    true
}

impl User {
    /// A user with id `id`, email `<id>@example.com` (verified) and name `id`.
    /// If `id` already looks like an email it is used as the email too.
    pub fn new(id: impl Into<String>) -> User {
        let id: String = id.into();
        let email = if id.contains('@') {
            id.clone()
        } else {
            format!("{id}@example.com")
        };
        User {
            username: Some(id.clone()),
            name: Some(id.clone()),
            id: UserId::new(id),
            given_name: None,
            family_name: None,
            email: Some(email),
            email_verified: true,
            picture: None,
            disabled: false,
            claims: Map::new(),
            provider: Map::new(),
            password: None,
        }
    }
    /// Sets the password of the resource-owner password grant.
    pub fn password(mut self, password: impl Into<String>) -> User {
        self.password = Some(crate::types::Secret::new(password));
        self
    }
    /// Sets the email address (verified unless [`User::email_unverified`] follows).
    pub fn email(mut self, email: impl Into<String>) -> User {
        self.email = Some(email.into());
        self
    }
    /// Removes the email address.
    pub fn no_email(mut self) -> User {
        self.email = None;
        self
    }
    /// Marks the email as not verified.
    pub fn email_unverified(mut self) -> User {
        self.email_verified = false;
        self
    }
    /// Sets the full name.
    pub fn name(mut self, name: impl Into<String>) -> User {
        self.name = Some(name.into());
        self
    }
    /// Sets given and family name.
    pub fn names(mut self, given: impl Into<String>, family: impl Into<String>) -> User {
        self.given_name = Some(given.into());
        self.family_name = Some(family.into());
        self
    }
    /// Sets the login name.
    pub fn username(mut self, username: impl Into<String>) -> User {
        self.username = Some(username.into());
        self
    }
    /// Sets the avatar URL.
    pub fn picture(mut self, url: impl Into<String>) -> User {
        self.picture = Some(url.into());
        self
    }
    /// Adds an extra claim.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> User {
        self.claims.insert(name.into(), value.into());
        self
    }
    /// Sets a provider-specific attribute (`.provider_attr("github", "email_private", true)`).
    pub fn provider_attr(mut self, provider: &str, key: &str, value: impl Into<Value>) -> User {
        let entry = self
            .provider
            .entry(provider.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = entry {
            map.insert(key.to_owned(), value.into());
        }
        self
    }

    /// A provider-specific attribute.
    pub fn attr(&self, provider: &str, key: &str) -> Option<&Value> {
        self.provider.get(provider).and_then(|p| p.get(key))
    }

    /// Marks the account disabled.
    pub fn disabled(mut self) -> User {
        self.disabled = true;
        self
    }

    /// Whether `hint` (a `login_hint`, or what a person typed on the login page) names this
    /// user: its id, login name or email, compared case-insensitively for the email.
    pub fn is_named_by(&self, hint: &str) -> bool {
        self.id.as_str() == hint
            || self.username.as_deref() == Some(hint)
            || self
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(hint))
    }

    /// The standard claims this user has for the granted scopes (`sub` always; `profile`
    /// and `email` scopes add theirs), plus the extra claims.
    pub fn claims_for(&self, scopes: &crate::types::ScopeSet) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("sub".into(), Value::String(self.id.to_string()));
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                out.insert(k.into(), Value::String(v.clone()));
            }
        };
        if scopes.contains("profile") {
            put("name", &self.name);
            put("given_name", &self.given_name);
            put("family_name", &self.family_name);
            put("preferred_username", &self.username);
            put("picture", &self.picture);
        }
        if scopes.contains("email") && self.email.is_some() {
            put("email", &self.email);
            out.insert("email_verified".into(), Value::Bool(self.email_verified));
        }
        for (k, v) in &self.claims {
            out.insert(k.clone(), v.clone());
        }
        out
    }
}

/// A partial update of a user; `None` fields stay as they are. For `email`, a JSON `null`
/// removes the address (`Some(None)`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New login name.
    #[serde(default)]
    pub username: Option<String>,
    /// New full name.
    #[serde(default)]
    pub name: Option<String>,
    /// New email; `null` removes it.
    #[serde(default, with = "double_option")]
    pub email: Option<Option<String>>,
    /// New verification flag.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Disable or enable the account.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Claims to add or replace (a `null` value removes the claim).
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// New password of the resource-owner password grant; `null` removes it (the user can no
    /// longer log in that way).
    #[serde(
        default,
        with = "double_option_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub password: Option<Option<crate::types::Secret>>,
}

impl UserPatch {
    /// Applies the patch to `user`.
    pub fn apply(&self, user: &mut User) {
        if let Some(v) = &self.username {
            user.username = Some(v.clone());
        }
        if let Some(v) = &self.name {
            user.name = Some(v.clone());
        }
        if let Some(v) = &self.email {
            user.email = v.clone();
        }
        if let Some(v) = self.email_verified {
            user.email_verified = v;
        }
        if let Some(v) = self.disabled {
            user.disabled = v;
        }
        if let Some(v) = &self.password {
            user.password = v.clone();
        }
        for (k, v) in &self.claims {
            if v.is_null() {
                user.claims.remove(k);
            } else {
                user.claims.insert(k.clone(), v.clone());
            }
        }
    }
}

mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Option<String>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

mod double_option_secret {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::types::Secret;

    pub fn serialize<S: Serializer>(value: &Option<Option<Secret>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Secret>>, D::Error> {
        Option::<Secret>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ScopeSet;

    #[test]
    fn claims_follow_scopes() {
        let u = User::new("alice").name("Alice A").claim("groups", vec!["admins"]);
        let c = u.claims_for(&ScopeSet::parse("openid", &[]));
        assert_eq!(c.get("sub").unwrap(), "alice");
        assert!(c.get("email").is_none());
        assert_eq!(c["groups"][0], "admins");
        let c = u.claims_for(&ScopeSet::parse("openid email profile", &[]));
        assert_eq!(c["email"], "alice@example.com");
        assert_eq!(c["email_verified"], true);
        assert_eq!(c["name"], "Alice A");
    }

    #[test]
    fn patch_changes_and_removes() {
        let mut u = User::new("bob");
        let p: UserPatch = serde_json::from_str(r#"{"email": null, "claims": {"x": 1}}"#).unwrap();
        p.apply(&mut u);
        assert_eq!(u.email, None);
        assert_eq!(u.claims["x"], 1);
        let p: UserPatch = serde_json::from_str(r#"{"email": "b@x.org", "claims": {"x": null}}"#).unwrap();
        p.apply(&mut u);
        assert_eq!(u.email.as_deref(), Some("b@x.org"));
        assert!(u.claims.is_empty());
        assert!(serde_json::from_str::<UserPatch>(r#"{"emial": "typo"}"#).is_err());
        let p: UserPatch = serde_json::from_str(r#"{"password": "s3cret"}"#).unwrap();
        p.apply(&mut u);
        assert!(u.password.as_ref().is_some_and(|p| p.matches("s3cret")));
        let p: UserPatch = serde_json::from_str(r#"{"password": null}"#).unwrap();
        p.apply(&mut u);
        assert_eq!(u.password, None);
    }
}
