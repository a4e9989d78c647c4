//! `urne serve` and `urne admin`: run the voting server, manage its administrators.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use urne_server::{AppState, ServerConfig};
use zeroize::Zeroizing;

/// Options of `urne serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Configuration file (TOML); `URNE_*` environment variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file and URNE_LISTEN).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Data directory of the embedded database (overrides the file and URNE_DATA_DIR).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL instead of the embedded database (overrides URNE_DATABASE_URL).
    #[arg(long)]
    database_url: Option<String>,
}

/// Options of `urne admin`.
#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
    /// Configuration file of the server (to find its database).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory of the embedded database.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL.
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create an administrator account. The password is read from the terminal, or from
    /// URNE_ADMIN_PASSWORD for scripts.
    Add {
        /// Login name.
        name: String,
    },
}

fn load(
    file: Option<&std::path::Path>,
    data_dir: Option<&PathBuf>,
    database_url: Option<&String>,
) -> anyhow::Result<ServerConfig> {
    let mut config = ServerConfig::load(file, |k| std::env::var(k).ok())?;
    if let Some(d) = data_dir {
        config.data_dir = d.clone();
    }
    if let Some(u) = database_url {
        config.database_url = Some(u.clone());
    }
    Ok(config)
}

/// Opens the store and the board key of a configuration.
pub fn state_for(config: ServerConfig) -> anyhow::Result<AppState> {
    let store = urne_server::open_store(&config).context("opening the database")?;
    let key_path = config.board_key_path();
    let key = urne_server::load_board_key(&key_path)
        .with_context(|| format!("board key {}", key_path.display()))?;
    Ok(AppState::new(store, key, config))
}

/// Serves until SIGINT or SIGTERM, with the scheduler and the mail worker; in-flight ballots are
/// committed and answered first.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let app = urne_server::app(state.clone());
    let scheduler = tokio::spawn(urne_server::scheduler::run(state.clone()));
    // A mail being sent when the server stops stays claimed for its lease, then is sent
    // again: a voter may get it twice, never zero times.
    let mailer = tokio::spawn(urne_server::mailer::run(state));
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    scheduler.abort();
    mailer.abort();
    result.context("serving")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Runs `urne serve`.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let mut config = load(
        args.config.as_deref(),
        args.data_dir.as_ref(),
        args.database_url.as_ref(),
    )?;
    if let Some(l) = args.listen {
        config.listen = l;
    }
    init_tracing();
    let runtime = tokio::runtime::Runtime::new()?;
    let listen = config.listen;
    // The store is opened, queried and finally dropped outside the runtime's threads: the
    // PostgreSQL client is synchronous and runs a runtime of its own, which cannot start (nor
    // close its connections) on a thread that drives asynchronous tasks.
    let state = state_for(config)?;
    let admins = state.store.admin_count()?;
    if admins == 0 {
        tracing::warn!("no administrator account yet: create one with `urne admin add NAME`");
    }
    let served = state.clone();
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        tracing::info!(address = %listen, backend = served.store.backend(), "urne serving");
        serve(served, listener).await
    });
    drop(runtime);
    drop(state);
    result
}

/// Structured logs on standard error: `RUST_LOG` chooses what (default `info`), and
/// `URNE_LOG_FORMAT=json` writes one JSON object per event, for log collectors.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("URNE_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Runs `urne admin`.
pub fn admin(args: &AdminArgs) -> anyhow::Result<()> {
    let config = load(
        args.config.as_deref(),
        args.data_dir.as_ref(),
        args.database_url.as_ref(),
    )?;
    let store: Arc<dyn urne_board::Store> =
        urne_server::open_store(&config).context("opening the database")?;
    match &args.command {
        AdminCommand::Add { name } => {
            let password = match std::env::var("URNE_ADMIN_PASSWORD") {
                Ok(p) => Zeroizing::new(p),
                Err(_) => {
                    let p = Zeroizing::new(rpassword::prompt_password("password: ")?);
                    let again = Zeroizing::new(rpassword::prompt_password("again: ")?);
                    if p != again {
                        bail!("the two passwords differ");
                    }
                    p
                }
            };
            urne_server::admin::create_admin(store.as_ref(), name, &password)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            say!("administrator `{name}` created");
        }
    }
    Ok(())
}
