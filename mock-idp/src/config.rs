//! The `mock-idp serve --config` file: a team commits its users and clients once.
//!
//! Part of the `mock-idp` binary (declared in `main.rs`), not of the library: it builds on
//! the library's public types only.
//!
//! TOML, parsed strictly: an unknown key is an error naming the key and its line, so a typo
//! never silently does nothing. Command-line flags override the file. Everything is checked
//! before the server starts (clients validated, CA files read), never on first use.
//!
//! ```toml
//! provider = "oidc"           # personality
//! port = 9090
//! host = "127.0.0.1"          # host name in URLs (e.g. "idp.localhost")
//! tls = false
//! signing_alg = "RS256"       # or "ES256"
//! interaction = "login_page"  # or "headless"
//! jwt_access_tokens = "https://api.example"  # RFC 9068 access tokens for this audience
//!
//! [lifetimes]
//! code = "60s"
//! access_token = "1h"
//!
//! [[clients]]
//! id = "my-app"
//! secret = "my-app-secret"
//! redirect_uris = ["http://localhost:3000/auth/callback"]
//!
//! [[clients]]
//! id = "reports-job"          # a service: private_key_jwt only, no browser
//! auth_methods = ["private_key_jwt"]
//! jwks = { keys = [{ kty = "EC", crv = "P-256", x = "…", y = "…" }] }
//!
//! [[users]]
//! id = "alice"
//! email = "alice@example.com"
//! name = "Alice Example"
//! password = "correct horse"  # for the password grant (Entra, generic)
//! claims = { groups = ["admins"] }
//! ```

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use mock_idp::{Client, Interaction, Lifetimes, ProviderId, SigningAlg, User};

/// The config file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Personality.
    pub provider: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// Bind address.
    pub bind: Option<IpAddr>,
    /// Host name in URLs.
    pub host: Option<String>,
    /// Serve https.
    pub tls: Option<bool>,
    /// Fixed CA certificate (PEM file), relative to the config file.
    pub ca_cert: Option<PathBuf>,
    /// Fixed CA key (PEM file), relative to the config file.
    pub ca_key: Option<PathBuf>,
    /// Issuer override.
    pub issuer: Option<String>,
    /// ID-token algorithm.
    pub signing_alg: Option<String>,
    /// Headless or login page.
    pub interaction: Option<Interaction>,
    /// The audience of RFC 9068 JWT access tokens (opaque tokens when absent).
    pub jwt_access_tokens: Option<String>,
    /// Lifetimes.
    pub lifetimes: Option<Lifetimes>,
    /// Clients.
    #[serde(default)]
    pub clients: Vec<Client>,
    /// Users.
    #[serde(default)]
    pub users: Vec<User>,
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Not valid TOML or unknown/mistyped key.
    #[error("config file {path}: {message}")]
    Parse {
        /// Path.
        path: PathBuf,
        /// The parser's message (names the key and line).
        message: String,
    },
    /// A value is wrong.
    #[error("config file {path}: `{field}`: {message}")]
    Field {
        /// Path.
        path: PathBuf,
        /// Key.
        field: String,
        /// What is wrong and what to write instead.
        message: String,
    },
}

impl ConfigFile {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut cfg: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let field = |field: &str, message: String| ConfigError::Field {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        if let Some(p) = &cfg.provider
            && ProviderId::parse(p).is_none()
        {
            let known: Vec<&str> = ProviderId::ALL.iter().map(|p| p.as_str()).collect();
            return Err(field(
                "provider",
                format!("unknown provider {p:?}; known: {}", known.join(", ")),
            ));
        }
        if let Some(a) = &cfg.signing_alg
            && SigningAlg::parse(a).is_none()
        {
            return Err(field(
                "signing_alg",
                format!("{a:?} is not supported; use \"RS256\" or \"ES256\""),
            ));
        }
        for (i, c) in cfg.clients.iter().enumerate() {
            c.validate()
                .map_err(|e| field(&format!("clients[{i}]"), e.to_string()))?;
        }
        for (i, u) in cfg.users.iter().enumerate() {
            if u.id.as_str().is_empty() {
                return Err(field(&format!("users[{i}].id"), "must not be empty".into()));
            }
        }
        if cfg
            .jwt_access_tokens
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(field(
                "jwt_access_tokens",
                "must name the API the tokens are for (their `aud`), e.g. \"https://api.example\"".into(),
            ));
        }
        if cfg.ca_cert.is_some() != cfg.ca_key.is_some() {
            return Err(field(
                "ca_cert",
                "ca_cert and ca_key go together: set both or neither".into(),
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.ca_cert, &mut cfg.ca_key].into_iter().flatten() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ConfigFile, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idp.toml");
        std::fs::write(&path, text).unwrap();
        ConfigFile::load(&path)
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = load("port = 1\n[[users]]\nid = \"a\"\nemial = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("emial"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn bad_values_name_the_field() {
        let err = load("signing_alg = \"HS256\"").unwrap_err().to_string();
        assert!(err.contains("`signing_alg`") && err.contains("RS256"), "{err}");
        let err = load("[[clients]]\nid = \"x\"\nsecret = \"s\"\nredirect_uris = [\"nope\"]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("clients[0]") && err.contains("nope"), "{err}");
        let err = load("[lifetimes]\ncode = \"soon\"").unwrap_err().to_string();
        assert!(err.contains("code"), "{err}");
    }

    #[test]
    fn the_committed_example_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/mock-idp/example.toml");
        let cfg = ConfigFile::load(&path).unwrap();
        assert_eq!(cfg.clients.len(), 3);
        assert!(cfg.clients[1].jwks.is_some(), "a private_key_jwt client");
        assert!(cfg.clients[2].is_public());
        assert!(cfg.users[0].password.is_some());
        assert!(cfg.users[2].disabled);
        assert_eq!(cfg.jwt_access_tokens.as_deref(), Some("https://api.example"));
    }

    #[test]
    fn a_full_file_loads() {
        let cfg = load(
            "provider = \"oidc\"\nport = 9000\ninteraction = \"headless\"\n[lifetimes]\ncode = \"30s\"\n\
             [[clients]]\nid = \"app\"\nsecret = \"s\"\nredirect_uris = [\"http://localhost:3000/cb\"]\n\
             [[users]]\nid = \"alice\"\nemail = \"a@x.org\"\nclaims = { groups = [\"admins\"] }\n",
        )
        .unwrap();
        assert_eq!(cfg.clients[0].redirect_uris, ["http://localhost:3000/cb"]);
        assert_eq!(cfg.users[0].claims["groups"][0], "admins");
        assert_eq!(cfg.lifetimes.unwrap().code.as_secs(), 30);
    }

    #[test]
    fn grants_are_configured_in_the_file() {
        let key = mock_idp::keys::SigningKey::generate(SigningAlg::ES256);
        let (x, y) = (key.jwk()["x"].as_str().unwrap(), key.jwk()["y"].as_str().unwrap());
        let cfg = load(&format!(
            "jwt_access_tokens = \"https://api.example\"\n\
             [[clients]]\nid = \"job\"\nauth_methods = [\"private_key_jwt\"]\nclient_credentials = true\n\
             jwks = {{ keys = [{{ kty = \"EC\", crv = \"P-256\", x = \"{x}\", y = \"{y}\" }}] }}\n\
             [[users]]\nid = \"alice\"\npassword = \"correct horse\"\n"
        ))
        .unwrap();
        assert_eq!(cfg.jwt_access_tokens.as_deref(), Some("https://api.example"));
        assert_eq!(cfg.clients[0].jwks.as_ref().unwrap()["keys"][0]["x"], x);
        assert!(cfg.users[0].password.as_ref().unwrap().matches("correct horse"));
        let err = load("[[clients]]\nid = \"job\"\nauth_methods = [\"private_key_jwt\"]\njwks = { keys = [{ kty = \"oct\" }] }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("clients[0]") && err.contains("jwks key 0"), "{err}");
        let err = load("jwt_access_tokens = \"\"").unwrap_err().to_string();
        assert!(err.contains("`jwt_access_tokens`"), "{err}");
    }
}
