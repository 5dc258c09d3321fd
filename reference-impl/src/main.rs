//! `ref-gateway`: run the reference gateway from a config file (`run`) or from flags shaped
//! like the seed's (`http 3000 --oauth github --oauth-allow-email …`). Configuration is
//! validated before anything starts; a bad value prints one message naming the field and exits
//! with code 2. SIGHUP reloads the config file (sessions are re-evaluated on their next
//! request); ctrl-c or SIGTERM stops.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ref_gateway::config::{AdminFile, ConfigFile, EndpointFile, EventsFile, OAuthFile, StoreFile};
use ref_gateway::types::Secret;

#[derive(Parser)]
#[command(
    name = "ref-gateway",
    version,
    about = "The reference OAuth/OIDC login gateway (gatecheck)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run with a TOML config file (reloaded on SIGHUP).
    Run {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Protect one upstream, configured by flags (like `ngrok http 80 --oauth google`).
    Http(Box<HttpArgs>),
}

#[derive(Args)]
struct HttpArgs {
    /// The upstream: a port on 127.0.0.1 (`3000`), `host:port`, or a URL (`http://127.0.0.1:3000`).
    upstream: String,
    /// The endpoint's public origin [default: http://localhost:<listen port>].
    #[arg(long)]
    url: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Identity provider: amazon, facebook, github, gitlab, google, linkedin, microsoft, twitch, generic.
    #[arg(long)]
    oauth: String,
    /// Your OAuth app's client id (empty: the gateway's managed app).
    #[arg(long)]
    oauth_client_id: Option<String>,
    /// Your OAuth app's client secret.
    #[arg(long, env = "REF_GATEWAY_OAUTH_CLIENT_SECRET", hide_env_values = true)]
    oauth_client_secret: Option<String>,
    /// Allow this email (repeatable).
    #[arg(long)]
    oauth_allow_email: Vec<String>,
    /// Allow this email domain, exact match (repeatable; list subdomains one by one).
    #[arg(long)]
    oauth_allow_domain: Vec<String>,
    /// Request this additional scope (repeatable). For `generic`, the full scope list.
    #[arg(long)]
    oauth_scope: Vec<String>,
    /// Re-check authorization with the IdP after this long (e.g. `5m`; 0 = only at login).
    #[arg(long, value_parser = humantime::parse_duration)]
    oauth_auth_check_interval: Option<Duration>,
    /// Log out after this long without a request (0 = never).
    #[arg(long, value_parser = humantime::parse_duration)]
    oauth_inactivity_timeout: Option<Duration>,
    /// Log out after this long whatever happens (0 = never).
    #[arg(long, value_parser = humantime::parse_duration)]
    oauth_max_duration: Option<Duration>,
    /// Do not authenticate CORS preflight OPTIONS requests.
    #[arg(long)]
    oauth_options_passthrough: bool,
    /// Replace the provider's hosts by this origin (a mock IdP, a proxy).
    #[arg(long)]
    oauth_base_url: Option<String>,
    /// Microsoft tenant (common, organizations, consumers, a GUID).
    #[arg(long)]
    oauth_tenant: Option<String>,
    /// Generic: authorize URL.
    #[arg(long)]
    oauth_authorize_url: Option<String>,
    /// Generic: token URL.
    #[arg(long)]
    oauth_token_url: Option<String>,
    /// Generic: profile URL.
    #[arg(long)]
    oauth_profile_url: Option<String>,
    /// Generic: end-session URL (single logout on /auth/logout).
    #[arg(long)]
    oauth_end_session_url: Option<String>,
    /// Generic: where the IdP sends the browser after single logout.
    #[arg(long)]
    oauth_post_logout_redirect_url: Option<String>,
    /// Generic: profile field holding the email-verified flag [default: email_verified].
    #[arg(long)]
    oauth_email_verified_field: Option<String>,
    /// Timeout of every call to the IdP (e.g. `5s`) [default: 10s].
    #[arg(long, value_parser = humantime::parse_duration)]
    idp_timeout: Option<Duration>,
    /// Generic: profile field that becomes the user id [default: id].
    #[arg(long)]
    oauth_login_attribute: Option<String>,
    /// Generic: turn just-in-time provisioning off (only --oauth-provisioned-user may log in).
    #[arg(long)]
    oauth_no_jit_provisioning: bool,
    /// Generic: a user allowed when JIT provisioning is off (repeatable).
    #[arg(long)]
    oauth_provisioned_user: Vec<String>,
    /// Generic: send the access token to the profile URL as a query parameter, not a header.
    #[arg(long)]
    oauth_token_in_query: bool,
    /// Central callback URL the IdP returns to (`https://login.example.com/oauth2/callback`).
    #[arg(long)]
    callback_url: Option<String>,
    /// Share sessions through Redis (several replicas).
    #[arg(long)]
    redis: Option<String>,
    /// Events: stdout, none, or a file path.
    #[arg(long)]
    events: Option<String>,
    /// Admin API address (App Users, MAU).
    #[arg(long, requires = "admin_token")]
    admin_listen: Option<SocketAddr>,
    /// Admin API bearer token (32+ characters).
    #[arg(
        long,
        env = "REF_GATEWAY_ADMIN_TOKEN",
        hide_env_values = true,
        requires = "admin_listen"
    )]
    admin_token: Option<String>,
    /// Send cookies without `Secure` (plain-http deployments other than localhost).
    #[arg(long)]
    insecure_cookies: bool,
    /// Allow plain-http IdP URLs (local tests against a mock IdP). Never in production.
    #[arg(long)]
    allow_insecure_idp_http: bool,
    /// Trust the CA certificates in this PEM file for IdP connections (e.g. the `ca.pem` of
    /// `mock-idp serve --tls --ca-out ca.pem`).
    #[arg(long)]
    idp_ca_file: Option<PathBuf>,
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("ref-gateway: {message}");
    ExitCode::from(code)
}

fn file_from_flags(a: HttpArgs) -> ConfigFile {
    // `3000`, `localhost:3000` or a URL, as ngrok accepts.
    let upstream = if a.upstream.bytes().all(|b| b.is_ascii_digit()) {
        format!("http://127.0.0.1:{}", a.upstream)
    } else if !a.upstream.contains("://") {
        format!("http://{}", a.upstream)
    } else {
        a.upstream
    };
    let url = a
        .url
        .unwrap_or_else(|| format!("http://localhost:{}", a.listen.port()));
    let generic = a.oauth == "generic";
    let (scopes, scope) = if generic {
        (
            vec![],
            (!a.oauth_scope.is_empty()).then(|| a.oauth_scope.join(" ")),
        )
    } else {
        (a.oauth_scope, None)
    };
    ConfigFile {
        listen: Some(a.listen),
        callback_url: a.callback_url,
        session_store: a.redis.map(|redis| StoreFile::Redis { redis }),
        cookie_secure: Some(!a.insecure_cookies),
        events: a.events.map(|e| match e.as_str() {
            "stdout" | "none" => EventsFile::Named(e),
            _ => EventsFile::File { file: e },
        }),
        idp_timeout: a.idp_timeout,
        allow_insecure_idp_http: Some(a.allow_insecure_idp_http),
        idp_ca_file: a.idp_ca_file,
        admin: a
            .admin_listen
            .zip(a.admin_token)
            .map(|(listen, token)| AdminFile {
                listen,
                token: Secret::new(token),
                test_clock: false,
            }),
        limits: None,
        managed_apps: Default::default(),
        endpoints: vec![EndpointFile {
            url,
            upstream,
            oauth: OAuthFile {
                provider: a.oauth,
                client_id: a.oauth_client_id,
                client_secret: a.oauth_client_secret.map(Secret::new),
                scopes,
                allow_emails: a.oauth_allow_email,
                allow_domains: a.oauth_allow_domain,
                auth_check_interval: a.oauth_auth_check_interval,
                inactivity_timeout: a.oauth_inactivity_timeout,
                max_duration: a.oauth_max_duration,
                options_passthrough: a.oauth_options_passthrough,
                base_url: a.oauth_base_url,
                tenant: a.oauth_tenant,
                authorize_url: a.oauth_authorize_url,
                token_url: a.oauth_token_url,
                profile_url: a.oauth_profile_url,
                scope,
                end_session_url: a.oauth_end_session_url,
                post_logout_redirect_url: a.oauth_post_logout_redirect_url,
                login_attribute: a.oauth_login_attribute,
                jit_provisioning: a.oauth_no_jit_provisioning.then_some(false),
                provisioned_users: a.oauth_provisioned_user,
                access_token_as_auth_header: a.oauth_token_in_query.then_some(false),
                email_verified_field: a.oauth_email_verified_field,
            },
        }],
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "ref_gateway=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let (config, path) = match cli.command {
        Command::Run { config } => match ref_gateway::config::load(&config) {
            Ok(c) => (c, Some(config)),
            Err(e) => return fail(2, e),
        },
        Command::Http(a) => match ref_gateway::config::validate(file_from_flags(*a)) {
            Ok(c) => (c, None),
            Err(e) => return fail(2, e),
        },
    };
    if config.allow_insecure_idp_http {
        eprintln!(
            "ref-gateway: WARNING: allow_insecure_idp_http is on — identity provider traffic may travel unencrypted"
        );
    }
    if config.test_faults.any() {
        eprintln!("ref-gateway: WARNING: test faults are on — this gateway is deliberately broken");
    }
    if !config.cookie_secure {
        eprintln!("ref-gateway: WARNING: cookies are sent without Secure");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(1, format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        let banner = banner(&config);
        let gw = match ref_gateway::start(config).await {
            Ok(g) => g,
            Err(e) => return fail(2, e),
        };
        println!("ref-gateway listening on {}", gw.addr());
        println!("{banner}");
        if let Some(a) = gw.admin_addr() {
            println!("  admin API  http://{a}/app_users");
        }
        wait(&gw, path).await;
        eprintln!("ref-gateway: stopping");
        gw.shutdown().await;
        ExitCode::SUCCESS
    })
}

fn banner(c: &ref_gateway::Config) -> String {
    let mut out = String::new();
    for e in &c.endpoints {
        let callback = c
            .callback_url
            .clone()
            .unwrap_or_else(|| e.origin.join("/oauth2/callback").expect("joins"));
        out.push_str(&format!(
            "  endpoint   {} → {} ({}{})\n  callback   {} (register it at the provider)\n",
            e.origin,
            e.upstream,
            e.oauth.provider,
            if e.oauth.managed { ", managed app" } else { "" },
            callback
        ));
    }
    out.trim_end().to_owned()
}

async fn wait(gw: &ref_gateway::RunningGateway, path: Option<PathBuf>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup()).ok();
        let mut term = signal(SignalKind::terminate()).ok();
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return,
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => return,
                _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending().await } } => {
                    match &path {
                        Some(p) => match ref_gateway::config::load(p) {
                            Ok(c) => {
                                let kept = gw.reload(c);
                                eprintln!("ref-gateway: configuration reloaded from {}", p.display());
                                if !kept.is_empty() {
                                    eprintln!(
                                        "ref-gateway: changed {} take effect only after a restart",
                                        kept.join(", ")
                                    );
                                }
                            }
                            Err(e) => eprintln!("ref-gateway: reload refused, keeping the running configuration: {e}"),
                        },
                        None => eprintln!("ref-gateway: SIGHUP ignored: started from flags, nothing to reload"),
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (gw, path);
        let _ = tokio::signal::ctrl_c().await;
    }
}
