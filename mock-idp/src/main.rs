//! The `mock-idp` command: run a mock IdP for local debugging or out-of-process tests.
//!
//! `mock-idp serve` prints what an app needs (issuer, discovery URL, client credentials, CA
//! file, admin URL) and runs until ctrl-c. Bad flags or config end with one message naming
//! the problem and exit code 2.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mock_idp::config::ConfigFile;
use mock_idp::{Client, Interaction, MockIdp, ProviderId, SigningAlg};

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
    /// Run an IdP until ctrl-c.
    Serve(Serve),
}

#[derive(clap::Args)]
struct Serve {
    /// Port to listen on (0 = any free port) [default: 9090].
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
    /// Provider personality to play [default: oidc].
    #[arg(long)]
    provider: Option<String>,
    /// Client id of the default client (ignored when the config file defines clients).
    #[arg(long, default_value = mock_idp::DEFAULT_CLIENT_ID)]
    client_id: String,
    /// Client secret of the default client.
    #[arg(long, default_value = mock_idp::DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    /// Redirect URI(s) of the default client, matched exactly. Repeat for several.
    #[arg(
        long = "redirect-uri",
        default_value = "http://localhost:8080/oauth2/callback"
    )]
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
    /// Issuer identifier (default: the server's origin).
    #[arg(long)]
    issuer: Option<String>,
}

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
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(1, format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(serve(args))
}

async fn serve(args: Serve) -> ExitCode {
    let file = match &args.config {
        Some(path) => match ConfigFile::load(path) {
            Ok(f) => f,
            Err(e) => return fail(2, e),
        },
        None => ConfigFile::default(),
    };
    let provider_name = args
        .provider
        .clone()
        .or(file.provider.clone())
        .unwrap_or_else(|| "oidc".into());
    let Some(provider) = ProviderId::parse(&provider_name) else {
        let known: Vec<&str> = ProviderId::ALL.iter().map(|p| p.as_str()).collect();
        return fail(
            2,
            format!(
                "--provider: unknown provider {provider_name:?}; known: {}",
                known.join(", ")
            ),
        );
    };
    let alg_name = args
        .signing_alg
        .clone()
        .or(file.signing_alg.clone())
        .unwrap_or_else(|| "RS256".into());
    let Some(alg) = SigningAlg::parse(&alg_name) else {
        return fail(
            2,
            format!("--signing-alg: {alg_name:?} is not supported; use RS256 or ES256"),
        );
    };

    let bind = args.bind.or(file.bind).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let port = args.port.or(file.port).unwrap_or(9090);
    let mut b = MockIdp::builder()
        .provider(provider)
        .signing_alg(alg)
        .bind(bind)
        .port(port)
        .no_verify_on_drop();
    if let Some(host) = args.host.clone().or(file.host.clone()) {
        b = b.host(host);
    }
    if let Some(issuer) = args.issuer.clone().or(file.issuer.clone()) {
        b = b.issuer(issuer);
    }
    if let Some(l) = file.lifetimes.clone() {
        b = b.lifetimes(l);
    }
    let interaction = if args.headless {
        Interaction::Headless
    } else {
        file.interaction.unwrap_or(Interaction::LoginPage)
    };
    b = if interaction == Interaction::Headless {
        b.headless()
    } else {
        b.login_page()
    };
    let tls = args.tls || file.tls.unwrap_or(false);
    if tls {
        let ca = args
            .ca_cert
            .clone()
            .zip(args.ca_key.clone())
            .or(file.ca_cert.clone().zip(file.ca_key.clone()));
        b = match ca {
            Some((cert, key)) => {
                let read = |p: &PathBuf| {
                    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
                };
                match (read(&cert), read(&key)) {
                    (Ok(c), Ok(k)) => b.tls_with_ca(c, k),
                    (Err(e), _) | (_, Err(e)) => return fail(2, format!("--ca-cert/--ca-key: {e}")),
                }
            }
            None => b.tls(),
        };
    } else if args.ca_cert.is_some() {
        return fail(2, "--ca-cert needs --tls");
    }
    if file.clients.is_empty() {
        let mut c = Client::confidential(&args.client_id, &args.client_secret);
        c.redirect_uris = args.redirect_uris.clone();
        c.post_logout_redirect_uris = args.post_logout_redirect_uris.clone();
        if let Err(e) = c.validate() {
            return fail(2, format!("--redirect-uri: {e}"));
        }
        b = b.client(c);
    } else {
        for c in file.clients.clone() {
            b = b.client(c);
        }
    }
    for u in file.users.clone() {
        b = b.user(u);
    }

    let idp = match b.try_start().await {
        Ok(idp) => idp,
        Err(e @ mock_idp::StartError::Bind { .. }) => return fail(2, format!("--port: {e}")),
        Err(e) => return fail(2, e),
    };
    let ca_path = match idp.ca_pem() {
        Some(pem) => match std::fs::write(&args.ca_out, pem) {
            Ok(()) => Some(std::fs::canonicalize(&args.ca_out).unwrap_or(args.ca_out.clone())),
            Err(e) => {
                return fail(
                    2,
                    format!("--ca-out: cannot write {}: {e}", args.ca_out.display()),
                );
            }
        },
        None => None,
    };
    print_banner(&idp, interaction, ca_path.as_deref(), &file);

    wait_for_stop().await;
    eprintln!("mock-idp: stopping");
    idp.shutdown().await;
    ExitCode::SUCCESS
}

fn print_banner(idp: &MockIdp, interaction: Interaction, ca: Option<&std::path::Path>, file: &ConfigFile) {
    let client = idp.client();
    println!("mock-idp ({}) is ready", idp.provider());
    println!("  issuer         {}", idp.issuer());
    if idp.discovery().is_some() {
        println!("  discovery      {}", idp.discovery_url());
    }
    for (name, endpoint) in [
        ("authorize", mock_idp::Endpoint::Authorize),
        ("token", mock_idp::Endpoint::Token),
        ("userinfo", mock_idp::Endpoint::Userinfo),
    ] {
        if let Some(url) = idp.endpoint_url(endpoint) {
            println!("  {name:<14} {url}");
        }
    }
    println!("  client id      {}", client.id);
    match &client.secret {
        Some(s) => println!("  client secret  {}", s.expose()),
        None => println!("  client secret  (public client: use PKCE)"),
    }
    let redirect = if file.clients.is_empty() {
        "see --redirect-uri".to_owned()
    } else {
        format!("{} client(s) from the config file", file.clients.len())
    };
    println!("  redirect URIs  {redirect}");
    if let Some(ca) = ca {
        println!("  CA certificate {}", ca.display());
    }
    println!(
        "  login          {}",
        match interaction {
            Interaction::Headless => "headless (approves as login_hint or the first user)",
            Interaction::LoginPage => "login page",
        }
    );
    println!("  admin API      {}", idp.url("/__admin/"));
    println!("  request log    {}", idp.url("/__admin/requests"));
    println!("Press ctrl-c to stop.");
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
