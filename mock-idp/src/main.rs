//! The `mock-idp` command: run mock IdPs for local debugging or out-of-process tests.
//!
//! `mock-idp serve` prints what an app needs (issuer, discovery URL, client credentials, CA
//! file, admin URL) and runs until ctrl-c. `--provider all` runs every personality at once,
//! each on its own port, and prints them as a table. Bad flags or config end with one message
//! naming the problem and exit code 2, and nothing is left half-started.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod config;

use clap::{Parser, Subcommand};
use config::ConfigFile;
use mock_idp::{
    Client, Endpoint, Interaction, MockIdp, MockIdpBuilder, ProviderId, SigningAlg, TokenAuthMethod, User,
};

#[derive(Parser)]
#[command(
    name = "mock-idp",
    version,
    about = "A strict, scriptable mock OpenID Provider / OAuth2 server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an IdP (or one per provider with `--provider all`) until ctrl-c.
    Serve(Serve),
}

#[derive(clap::Args)]
struct Serve {
    /// Port to listen on (0 = any free port) [default: 9090]. With `--provider all`, the
    /// first of consecutive ports, one per provider.
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Host name used in the issuer and endpoint URLs (default: the bind address), e.g.
    /// `idp.localhost` to keep the IdP's browser cookies apart from your app's.
    #[arg(long)]
    host: Option<String>,
    /// Serve https with a CA generated at start-up; its certificate is written to --ca-out.
    #[arg(long)]
    tls: bool,
    /// With --tls: sign the server certificate with this CA certificate (PEM) instead.
    #[arg(long, requires = "ca_key")]
    ca_cert: Option<PathBuf>,
    /// The private key (PEM, PKCS#8) of --ca-cert.
    #[arg(long, requires = "ca_cert")]
    ca_key: Option<PathBuf>,
    /// Where to write the CA certificate clients must trust (with --tls).
    #[arg(long, default_value = "mock-idp-ca.pem")]
    ca_out: PathBuf,
    /// TOML file with users, clients and settings (flags override it).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Provider personality to play: oidc, google, github, microsoft, gitlab, linkedin,
    /// twitch, amazon, facebook, generic — or `all` [default: oidc].
    #[arg(long)]
    provider: Option<String>,
    /// Client id of the default client [default: mock-client].
    #[arg(long)]
    client_id: Option<String>,
    /// Client secret of the default client [default: mock-secret]. A client that
    /// authenticates only with `none` or `private_key_jwt` has no secret.
    #[arg(long)]
    client_secret: Option<String>,
    /// How the default client authenticates at the token, introspection, revocation and
    /// device endpoints; repeat for several [default: client_secret_basic and
    /// client_secret_post]. `none` alone makes a public client (PKCE required);
    /// `private_key_jwt` needs --client-jwks.
    #[arg(long = "auth-method", value_name = "METHOD", value_parser = auth_method_parser())]
    auth_methods: Vec<TokenAuthMethod>,
    /// The default client's public keys (a JWK Set file, `{"keys": [...]}`): they verify its
    /// `private_key_jwt` assertions and the JWT bearer grants it signs. Checked at start-up.
    #[arg(long, value_name = "FILE")]
    client_jwks: Option<PathBuf>,
    /// The default client may not use the client_credentials grant (`unauthorized_client`).
    #[arg(long)]
    no_client_credentials: bool,
    /// A user, instead of the default `alice`: ID, or ID:PASSWORD to let the password grant
    /// (Entra, generic) log in as them. Repeat for several. A user of the config file with the
    /// same id keeps its claims and gets the password; richer users go in the config file.
    #[arg(long = "user", value_name = "ID[:PASSWORD]")]
    users: Vec<UserArg>,
    /// Redirect URI(s) of the default client, matched exactly. Repeat for several
    /// [default: http://localhost:8080/oauth2/callback].
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Post-logout redirect URI(s) of the default client.
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Approve logins without showing the login page (as the login_hint user or the first user).
    #[arg(long)]
    headless: bool,
    /// ID-token signing algorithm: RS256 or ES256.
    #[arg(long)]
    signing_alg: Option<String>,
    /// Issuer identifier (default: the server's origin; not with `--provider all`).
    #[arg(long)]
    issuer: Option<String>,
    /// Issue access tokens as RFC 9068 JWTs (`typ: at+jwt`) for this API (their `aud`), so the
    /// API can validate bearer tokens with the IdP's keys.
    #[arg(long, value_name = "AUDIENCE")]
    jwt_access_tokens: Option<String>,
    /// Open the inspector (`/__inspector`: every request, decoded tokens, your client's
    /// mistakes, buttons for the next outcome) in a browser once the IdP is ready ($BROWSER,
    /// else xdg-open / open). With `--provider all`, the first provider's.
    #[arg(long)]
    open: bool,
    /// Where the signing key is kept across restarts (`rs256.pk8` / `es256.pk8`): tokens
    /// issued before a restart still verify, and start-up skips the RSA key generation
    /// [default: $XDG_CACHE_HOME/mock-idp, else ~/.cache/mock-idp].
    #[arg(long, conflicts_with = "fresh_keys")]
    keys_dir: Option<PathBuf>,
    /// Generate a new signing key at every start and keep it nowhere.
    #[arg(long)]
    fresh_keys: bool,
    /// Threads that serve requests. One (the default) answers thousands of logins a second
    /// and keeps memory lowest; more only help a load test on a many-core machine
    /// (BENCHMARKS.md, "Footprint after 10,000 logins").
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: u16,
}

/// `--auth-method`: one of the registered names, listed by `--help` and in clap's error.
fn auth_method_parser() -> impl clap::builder::TypedValueParser<Value = TokenAuthMethod> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(TokenAuthMethod::ALL.map(TokenAuthMethod::as_str))
        .map(|name: String| TokenAuthMethod::parse(&name).expect("a possible value is a method"))
}

/// `--user ID[:PASSWORD]`.
#[derive(Clone, Debug)]
struct UserArg {
    id: String,
    password: Option<String>,
}

impl std::str::FromStr for UserArg {
    type Err = String;

    fn from_str(value: &str) -> Result<UserArg, String> {
        let (id, password) = match value.split_once(':') {
            Some((id, password)) => (id, Some(password.to_owned())),
            None => (value, None),
        };
        if id.is_empty() {
            return Err("a user needs an id: write ID or ID:PASSWORD, e.g. alice:correct-horse".into());
        }
        if password.as_deref() == Some("") {
            return Err(format!(
                "empty password for {id}: write {id}:PASSWORD, or {id} alone for a user without one"
            ));
        }
        Ok(UserArg {
            id: id.to_owned(),
            password,
        })
    }
}

/// The default client's redirect URI when `--redirect-uri` is not given.
const DEFAULT_REDIRECT_URI: &str = "http://localhost:8080/oauth2/callback";

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("mock-idp: {message}");
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "mock_idp=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve(args) = cli.command;
    // One thread: a connection's buffers are allocated and freed on the same thread, so
    // glibc keeps one malloc arena instead of one per worker (BENCHMARKS.md).
    let mut builder = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(usize::from(n));
            b
        }
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(1, format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(serve(args))
}

/// Everything resolved from flags and the config file, checked before anything starts.
struct Plan {
    providers: Vec<ProviderId>,
    port: u16,
    bind: IpAddr,
    alg: SigningAlg,
    interaction: Interaction,
    tls: Option<(String, String)>,
    file: ConfigFile,
    client: Option<Client>,
    /// The config file's users with `--user` applied.
    users: Vec<User>,
    jwt_access_tokens: Option<String>,
    key: Option<std::sync::Arc<mock_idp::keys::SigningKey>>,
}

/// The default place of kept keys, if the environment names one.
fn default_keys_dir() -> Option<PathBuf> {
    let non_empty = |v: &str| std::env::var_os(v).filter(|x| !x.is_empty()).map(PathBuf::from);
    non_empty("XDG_CACHE_HOME")
        .or_else(|| non_empty("HOME").map(|h| h.join(".cache")))
        .map(|d| d.join("mock-idp"))
}

fn plan(args: &Serve) -> Result<Plan, String> {
    let file = match &args.config {
        Some(path) => ConfigFile::load(path).map_err(|e| e.to_string())?,
        None => ConfigFile::default(),
    };
    let provider_name = args
        .provider
        .clone()
        .or(file.provider.clone())
        .unwrap_or_else(|| "oidc".into());
    let providers = if provider_name == "all" {
        ProviderId::ALL.to_vec()
    } else {
        vec![ProviderId::parse(&provider_name).ok_or_else(|| {
            let known: Vec<&str> = ProviderId::ALL.iter().map(|p| p.as_str()).collect();
            format!(
                "--provider: unknown provider {provider_name:?}; known: {}, all",
                known.join(", ")
            )
        })?]
    };
    if providers.len() > 1 && args.issuer.is_some() {
        return Err(
            "--issuer: one issuer cannot serve every provider; drop --issuer or pick one --provider".into(),
        );
    }
    let alg_name = args
        .signing_alg
        .clone()
        .or(file.signing_alg.clone())
        .unwrap_or_else(|| "RS256".into());
    let alg = SigningAlg::parse(&alg_name)
        .ok_or_else(|| format!("--signing-alg: {alg_name:?} is not supported; use RS256 or ES256"))?;
    let interaction = if args.headless {
        Interaction::Headless
    } else {
        file.interaction.unwrap_or(Interaction::LoginPage)
    };
    let tls = if args.tls || file.tls.unwrap_or(false) {
        let ca = args
            .ca_cert
            .clone()
            .zip(args.ca_key.clone())
            .or(file.ca_cert.clone().zip(file.ca_key.clone()));
        Some(match ca {
            Some((cert, key)) => {
                let read = |p: &PathBuf| {
                    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
                };
                (
                    read(&cert).map_err(|e| format!("--ca-cert: {e}"))?,
                    read(&key).map_err(|e| format!("--ca-key: {e}"))?,
                )
            }
            // One CA for every instance, so a client trusts one file.
            None => mock_idp::tls::generate_ca().map_err(|e| e.to_string())?,
        })
    } else if args.ca_cert.is_some() {
        return Err("--ca-cert needs --tls".into());
    } else {
        None
    };
    let client = if file.clients.is_empty() {
        Some(default_client(args)?)
    } else {
        for (set, flag) in [
            (args.client_id.is_some(), "--client-id"),
            (args.client_secret.is_some(), "--client-secret"),
            (!args.redirect_uris.is_empty(), "--redirect-uri"),
            (
                !args.post_logout_redirect_uris.is_empty(),
                "--post-logout-redirect-uri",
            ),
            (!args.auth_methods.is_empty(), "--auth-method"),
            (args.client_jwks.is_some(), "--client-jwks"),
            (args.no_client_credentials, "--no-client-credentials"),
        ] {
            if set {
                return Err(format!(
                    "{flag} sets the default client, but the config file defines [[clients]]: \
                     set the same key (id, secret, redirect_uris, post_logout_redirect_uris, \
                     auth_methods, jwks, client_credentials) on a client there instead"
                ));
            }
        }
        None
    };
    let users = users(args, &file.users);
    let jwt_access_tokens = args.jwt_access_tokens.clone().or(file.jwt_access_tokens.clone());
    if jwt_access_tokens.as_deref().is_some_and(|a| a.trim().is_empty()) {
        return Err(
            "--jwt-access-tokens: name the API the tokens are for (their aud), e.g. https://api.example"
                .into(),
        );
    }
    if let Some(host) = args.host.as_deref().or(file.host.as_deref()) {
        let from = if args.host.is_some() {
            "--host"
        } else {
            "host (config file)"
        };
        let usable = url::Url::parse(&format!("http://{host}:1/"))
            .is_ok_and(|u| u.host_str().is_some() && u.path() == "/" && u.username().is_empty());
        if !usable || host.is_empty() {
            return Err(format!(
                "{from}: {host:?} is not a host name; give one such as idp.localhost or 127.0.0.1 (no scheme, port or path)"
            ));
        }
    }
    if let Some(issuer) = args.issuer.as_deref().or(file.issuer.as_deref()) {
        let from = if args.issuer.is_some() {
            "--issuer"
        } else {
            "issuer (config file)"
        };
        let usable = url::Url::parse(issuer).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.query().is_none()
        });
        if !usable {
            return Err(format!(
                "{from}: {issuer:?} is not an http(s) URL without a query; give one such as https://idp.example"
            ));
        }
    }
    let key = if args.fresh_keys {
        None
    } else {
        match args.keys_dir.clone().or_else(default_keys_dir) {
            Some(dir) => {
                Some(mock_idp::keys::load_or_create(&dir, alg).map_err(|e| format!("--keys-dir: {e}"))?)
            }
            None => None,
        }
    };
    Ok(Plan {
        key,
        providers,
        port: args.port.or(file.port).unwrap_or(9090),
        bind: args.bind.or(file.bind).unwrap_or(IpAddr::from([127, 0, 0, 1])),
        alg,
        interaction,
        tls,
        file,
        client,
        users,
        jwt_access_tokens,
    })
}

/// The default client from `--client-id`, `--client-secret`, `--auth-method`, `--client-jwks`,
/// `--no-client-credentials` and the redirect URIs; every mismatch named by its flag.
fn default_client(args: &Serve) -> Result<Client, String> {
    let mut methods: Vec<TokenAuthMethod> = Vec::new();
    for m in &args.auth_methods {
        if !methods.contains(m) {
            methods.push(*m);
        }
    }
    if methods.is_empty() {
        methods = vec![
            TokenAuthMethod::ClientSecretBasic,
            TokenAuthMethod::ClientSecretPost,
        ];
    }
    let names = |ms: &[TokenAuthMethod]| ms.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
    let with_secret: Vec<TokenAuthMethod> = methods.iter().copied().filter(|m| m.uses_secret()).collect();
    if methods.contains(&TokenAuthMethod::None) && !with_secret.is_empty() {
        return Err(format!(
            "--auth-method: none (a public client, no secret) cannot go with {}; pick one kind",
            names(&with_secret)
        ));
    }
    let secret = match (&args.client_secret, with_secret.is_empty()) {
        (Some(_), true) => {
            return Err(format!(
                "--client-secret: the client authenticates with {} only, so it has no secret; \
                 drop --client-secret or add --auth-method client_secret_basic",
                names(&methods)
            ));
        }
        (Some(s), false) if s.is_empty() => {
            return Err(
                "--client-secret: must not be empty; give a secret, or make a public client \
                 with --auth-method none"
                    .into(),
            );
        }
        (Some(s), false) => Some(s.clone()),
        (None, false) => Some(mock_idp::DEFAULT_CLIENT_SECRET.to_owned()),
        (None, true) => None,
    };
    let id = args.client_id.as_deref().unwrap_or(mock_idp::DEFAULT_CLIENT_ID);
    let mut c = match secret {
        Some(secret) => Client::confidential(id, secret),
        None if methods == [TokenAuthMethod::None] => Client::public(id),
        None => {
            let mut c = Client::confidential(id, "");
            c.secret = None;
            c
        }
    };
    c = c.auth_methods(methods.iter().copied());
    c.redirect_uris = if args.redirect_uris.is_empty() {
        vec![DEFAULT_REDIRECT_URI.to_owned()]
    } else {
        args.redirect_uris.clone()
    };
    c.post_logout_redirect_uris = args.post_logout_redirect_uris.clone();
    c.client_credentials = !args.no_client_credentials;
    match &args.client_jwks {
        Some(path) => c.jwks = Some(read_jwks(path)?),
        None if methods.contains(&TokenAuthMethod::PrivateKeyJwt) => {
            return Err(
                "--auth-method private_key_jwt needs the client's public keys: add --client-jwks FILE \
                 (a JWK Set, {\"keys\": [...]})"
                    .into(),
            );
        }
        None => {}
    }
    c.validate().map_err(|e| match e {
        mock_idp::ClientError::BadRedirectUri { .. } => format!("--redirect-uri: {e}"),
        mock_idp::ClientError::BadKey { .. } => format!(
            "--client-jwks {}: {e}",
            args.client_jwks.as_deref().unwrap_or(Path::new("")).display()
        ),
        e => format!("--auth-method: {e}"),
    })?;
    Ok(c)
}

/// Reads `--client-jwks`: a JSON JWK Set with at least one key (each key is checked by
/// `Client::validate`).
fn read_jwks(path: &Path) -> Result<serde_json::Value, String> {
    let flag = format!("--client-jwks {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{flag}: cannot read it: {e}"))?;
    let jwks: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{flag}: not JSON: {e}"))?;
    match jwks.get("keys").and_then(|k| k.as_array()) {
        Some(keys) if !keys.is_empty() => Ok(jwks),
        _ => Err(format!(
            "{flag}: expected a JWK Set with public keys, {{\"keys\": [{{\"kty\": \"EC\", …}}]}}"
        )),
    }
}

/// The config file's users with `--user` applied: a user named there gets the password, any
/// other is added (email `<id>@example.com`).
fn users(args: &Serve, from_file: &[User]) -> Vec<User> {
    let mut users = from_file.to_vec();
    for arg in &args.users {
        let existing = users.iter_mut().find(|u| u.id.as_str() == arg.id);
        let user = match existing {
            Some(u) => u,
            None => {
                users.push(User::new(&arg.id));
                users.last_mut().expect("just pushed")
            }
        };
        if let Some(p) = &arg.password {
            *user = user.clone().password(p);
        }
    }
    users
}

fn builder(args: &Serve, plan: &Plan, provider: ProviderId, port: u16) -> MockIdpBuilder {
    let mut b = MockIdp::builder()
        .provider(provider)
        .signing_alg(plan.alg)
        .bind(plan.bind)
        .port(port)
        .no_verify_on_drop();
    if let Some(key) = &plan.key {
        b = b.signing_key(key.clone());
    }
    if let Some(host) = args.host.clone().or(plan.file.host.clone()) {
        b = b.host(host);
    }
    if let Some(audience) = &plan.jwt_access_tokens {
        b = b.jwt_access_tokens(audience.clone());
    }
    if let Some(issuer) = args.issuer.clone().or(plan.file.issuer.clone()) {
        b = b.issuer(issuer);
    }
    if let Some(l) = plan.file.lifetimes.clone() {
        b = b.lifetimes(l);
    }
    b = if plan.interaction == Interaction::Headless {
        b.headless()
    } else {
        b.login_page()
    };
    if let Some((cert, key)) = &plan.tls {
        b = b.tls_with_ca(cert.clone(), key.clone());
    }
    match &plan.client {
        Some(c) => b = b.client(c.clone()),
        None => {
            for c in plan.file.clients.clone() {
                b = b.client(c);
            }
        }
    }
    for u in plan.users.clone() {
        b = b.user(u);
    }
    b
}

async fn serve(args: Serve) -> ExitCode {
    let plan = match plan(&args) {
        Ok(p) => p,
        Err(e) => return fail(2, e),
    };
    let mut started: Vec<MockIdp> = Vec::new();
    for (i, provider) in plan.providers.iter().enumerate() {
        let port = if plan.port == 0 {
            0
        } else {
            plan.port.saturating_add(i as u16)
        };
        match builder(&args, &plan, *provider, port).try_start().await {
            Ok(idp) => started.push(idp),
            Err(e) => {
                // Nothing half-started: stop what is already running.
                for idp in started {
                    idp.shutdown().await;
                }
                return match e {
                    e @ mock_idp::StartError::Bind { .. } => fail(2, format!("--port: {e}")),
                    e => fail(2, e),
                };
            }
        }
    }
    let ca_path = match &plan.tls {
        Some((cert, _)) => match std::fs::write(&args.ca_out, cert) {
            Ok(()) => Some(std::fs::canonicalize(&args.ca_out).unwrap_or(args.ca_out.clone())),
            Err(e) => {
                for idp in started {
                    idp.shutdown().await;
                }
                return fail(
                    2,
                    format!("--ca-out: cannot write {}: {e}", args.ca_out.display()),
                );
            }
        },
        None => None,
    };
    if started.len() > 1 {
        let all: Vec<(String, String)> = started
            .iter()
            .map(|i| (i.provider().as_str().to_owned(), i.url("/__inspector")))
            .collect();
        for idp in &started {
            let me = idp.provider().as_str();
            idp.set_sibling_inspectors(all.iter().filter(|(n, _)| n != me).cloned().collect());
        }
    }
    if let [one] = started.as_slice() {
        print_banner(one, &plan, ca_path.as_deref());
    } else {
        print_table(&started, &plan, ca_path.as_deref());
    }
    if args.open {
        open_in_browser(&started[0].url("/__inspector"));
    }
    wait_for_stop().await;
    eprintln!("mock-idp: stopping");
    for idp in started {
        idp.shutdown().await;
    }
    ExitCode::SUCCESS
}

fn login_mode(interaction: Interaction) -> &'static str {
    match interaction {
        Interaction::Headless => "headless (approves as login_hint or the first user)",
        Interaction::LoginPage => "login page",
    }
}

fn print_banner(idp: &MockIdp, plan: &Plan, ca: Option<&Path>) {
    let (interaction, file) = (plan.interaction, &plan.file);
    let client = idp.client();
    println!("mock-idp ({}) is ready", idp.provider());
    println!("  issuer         {}", idp.issuer());
    if idp.discovery().is_some() {
        println!("  discovery      {}", idp.discovery_url());
    }
    for (name, endpoint) in [
        ("authorize", Endpoint::Authorize),
        ("token", Endpoint::Token),
        ("userinfo", Endpoint::Userinfo),
    ] {
        if let Some(url) = idp.endpoint_url(endpoint) {
            println!("  {name:<14} {url}");
        }
    }
    println!("  client id      {}", client.id);
    println!("  client secret  {}", secret_text(&client, plan));
    let redirect = if file.clients.is_empty() {
        "see --redirect-uri".to_owned()
    } else {
        format!("{} client(s) from the config file", file.clients.len())
    };
    println!("  redirect URIs  {redirect}");
    if let Some(ca) = ca {
        println!("  CA certificate {}", ca.display());
    }
    println!("  login          {}", login_mode(interaction));
    println!("  inspector      {}", idp.url("/__inspector"));
    println!("  admin API      {}", idp.url("/__admin/"));
    println!("  request log    {}", idp.url("/__admin/requests"));
    println!("Press ctrl-c to stop.");
}

/// The default client's secret for the banner, or how it authenticates without one.
fn secret_text(client: &mock_idp::ClientCredentials, plan: &Plan) -> String {
    // How the default client authenticates, when the flags made it (the config file's first
    // client otherwise).
    let registered = plan.client.as_ref().or(plan.file.clients.first());
    match &client.secret {
        Some(s) => s.expose().to_owned(),
        None => match registered.filter(|c| !c.is_public()) {
            Some(c) => {
                let methods: Vec<&str> = c.auth_methods.iter().map(|m| m.as_str()).collect();
                format!("(none: authenticates with {})", methods.join(", "))
            }
            None => "(public client: use PKCE)".to_owned(),
        },
    }
}

fn print_table(idps: &[MockIdp], plan: &Plan, ca: Option<&Path>) {
    let interaction = plan.interaction;
    let client = idps[0].client();
    println!("mock-idp: {} providers are ready", idps.len());
    println!(
        "  client id {}   client secret {}",
        client.id,
        secret_text(&client, plan)
    );
    println!("  login     {}", login_mode(interaction));
    if let Some(ca) = ca {
        println!("  CA        {}", ca.display());
    }
    println!();
    println!(
        "  {:<10} {:<36} {:<58} TOKEN",
        "PROVIDER", "INSPECTOR", "DISCOVERY / AUTHORIZE"
    );
    for idp in idps {
        let first = match idp.discovery() {
            Some(_) => idp.discovery_url(),
            None => idp.endpoint_url(Endpoint::Authorize).unwrap_or_default(),
        };
        println!(
            "  {:<10} {:<36} {:<58} {}",
            idp.provider().as_str(),
            idp.url("/__inspector"),
            first,
            idp.endpoint_url(Endpoint::Token).unwrap_or_default()
        );
    }
    println!("Press ctrl-c to stop.");
}

/// Opens `url` in the user's browser; a failure is a note, not an error (the URL is printed).
fn open_in_browser(url: &str) {
    let opener = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".into()
            } else {
                "xdg-open".into()
            }
        });
    let spawned = std::process::Command::new(&opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(_) => println!("Opened {url} with {opener}."),
        Err(e) => eprintln!("mock-idp: --open: cannot start {opener} ({e}); open {url} yourself"),
    }
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
