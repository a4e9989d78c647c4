//! urne-server: the voting server.
//!
//! An HTTP server (axum on tokio) that takes elections from draft to published result and keeps
//! their bulletin boards: append-only Merkle-tree logs of every public event, with signed tree
//! heads, inclusion proofs for voters and consistency proofs for observers. Storage is the
//! `urne-board` crate (SQLite by default, PostgreSQL for scale).
//!
//! `app(state)` builds the router; `urne serve` (in urne-cli) runs it. One module per resource:
//! [`public`] (elections, ballots, boards), [`trustees`] (ceremony relay, decryption),
//! [`admin`] (administration), with [`commit`] (group commit) and [`scheduler`] behind them.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
pub mod auth;
pub mod clock;
pub mod commit;
pub mod config;
pub mod draft;
pub mod error;
pub mod extract;
pub mod live;
pub mod mailer;
pub mod metrics;
pub mod mix;
pub mod oidc;
pub mod openapi;
pub mod pages;
pub mod public;
pub mod scheduler;
pub mod trustees;
pub mod voters;

use std::collections::HashMap;
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use urne_board::{Phase, Store};
use urne_core::board::BoardKey;
use urne_verify::merkle::MerkleTree;

pub use config::ServerConfig;
use error::ApiError;
use live::{Live, LiveRef};
use metrics::Metrics;

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

/// The shared state.
#[derive(Debug)]
pub struct Inner {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The key that signs tree heads.
    pub board_key: BoardKey,
    /// The configuration.
    pub config: ServerConfig,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    live: Mutex<HashMap<String, LiveRef>>,
    admin_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    oidc: tokio::sync::OnceCell<oidc::OidcClient>,
    /// OpenID Connect logins waiting for their callback, by `state`: the election and what
    /// the callback needs.
    oidc_pending: Mutex<HashMap<String, (String, oidc::PendingLogin)>>,
    /// The mix phase's state of the last election read, at its board's size.
    pub(crate) mix_cache: mix::MixCache,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// A state over a store, with a board key and a configuration.
    pub fn new(store: Arc<dyn Store>, board_key: BoardKey, config: ServerConfig) -> Self {
        AppState(Arc::new(Inner {
            store,
            board_key,
            config,
            metrics: Arc::new(Metrics::default()),
            live: Mutex::new(HashMap::new()),
            admin_locks: Mutex::new(HashMap::new()),
            oidc: tokio::sync::OnceCell::new(),
            oidc_pending: Mutex::new(HashMap::new()),
            mix_cache: mix::MixCache::default(),
        }))
    }

    /// Runs a store call on the blocking pool.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(ApiError::internal)?
    }

    /// The sealed election `id`, loaded from its board on first use.
    pub async fn live(&self, id: &str) -> Result<LiveRef, ApiError> {
        if let Some(l) = self.live_cached(id) {
            return Ok(l);
        }
        let key = id.to_owned();
        let sealed = self
            .blocking(move |s| live::read_sealed(s, &key))
            .await?
            .ok_or_else(|| {
                ApiError::conflict("not_sealed", "the election's setup is not on its board yet")
            })?;
        let voter_auth = draft::StoredConfig::from_json(&self.row(id).await?.config)?
            .draft
            .voter_auth;
        let mut map = self
            .live
            .lock()
            .map_err(|_| ApiError::internal("poisoned"))?;
        if let Some(l) = map.get(id) {
            return Ok(l.clone());
        }
        let ctx = commit::Committer {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            max_batch: self.config.max_batch.max(1),
            board_key: self.board_key.clone(),
        };
        let capacity = self.config.max_batch.max(1) * 8;
        let id_owned = id.to_owned();
        let live = Arc::new_cyclic(|weak| Live {
            id: id_owned,
            election: sealed.election,
            credentials: sealed.credentials,
            voter_auth,
            sealed_size: sealed.size,
            tree: std::sync::RwLock::new(MerkleTree::new()),
            committer: commit::start(ctx, weak.clone(), capacity),
            counting: live::CountingCache::default(),
        });
        map.insert(id.to_owned(), live.clone());
        Ok(live)
    }

    /// The OpenID Connect client, discovered at first use.
    pub async fn oidc(&self) -> Result<&oidc::OidcClient, ApiError> {
        let Some(config) = &self.config.oidc else {
            return Err(ApiError::conflict(
                "no_oidc",
                "this server has no OpenID Connect provider configured",
            ));
        };
        self.oidc
            .get_or_try_init(|| oidc::OidcClient::discover(config.clone()))
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "OpenID Connect discovery");
                ApiError::new(
                    axum::http::StatusCode::BAD_GATEWAY,
                    "oidc_unavailable",
                    "the identity provider cannot be reached; try again later",
                )
            })
    }

    /// Keeps a started OpenID Connect login until its callback (logins older than the
    /// client's limit are dropped; at most 100,000 wait at once).
    pub fn keep_oidc_login(&self, id: &str, pending: oidc::PendingLogin) -> Result<(), ApiError> {
        let mut map = self
            .oidc_pending
            .lock()
            .map_err(|_| ApiError::internal("poisoned"))?;
        map.retain(|_, (_, p)| p.created_at.elapsed() <= oidc::PENDING_MAX_AGE);
        if map.len() >= 100_000 {
            return Err(ApiError::unavailable("too many logins at once; try again"));
        }
        map.insert(pending.state.clone(), (id.to_owned(), pending));
        Ok(())
    }

    /// Takes the login a callback's `state` names.
    pub fn take_oidc_login(&self, state: &str) -> Option<(String, oidc::PendingLogin)> {
        self.oidc_pending.lock().ok()?.remove(state)
    }

    /// Drops the cached sealed election, so that the next use reads its board again (after a
    /// change to its setup lines: a credential replaced before opening).
    pub fn forget_live(&self, id: &str) {
        if let Ok(mut map) = self.live.lock() {
            map.remove(id);
        }
    }

    fn live_cached(&self, id: &str) -> Option<LiveRef> {
        self.live.lock().ok()?.get(id).cloned()
    }

    /// Serializes administrative changes to one election within this server.
    pub fn admin_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = match self.admin_locks.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(id.to_owned()).or_default().clone()
    }

    /// Takes the election's administration lock (see [`AppState::admin_lock`]) and reads its row
    /// under it: the guard must be kept while the change decided from the row is made.
    pub async fn lock_election(
        &self,
        id: &str,
    ) -> Result<(tokio::sync::OwnedMutexGuard<()>, urne_board::ElectionRow), ApiError> {
        let guard = self.admin_lock(id).lock_owned().await;
        Ok((guard, self.row(id).await?))
    }

    /// The election row, or 404.
    pub async fn row(&self, id: &str) -> Result<urne_board::ElectionRow, ApiError> {
        let key = id.to_owned();
        self.blocking(move |s| {
            s.election(&key)?
                .ok_or_else(|| ApiError::not_found("no_election", format!("no election `{key}`")))
        })
        .await
    }
}

/// Appends the record lines `entries` to election `id`'s board in one transaction, provided the
/// election is in phase `expect` (then moving it to `set_phase`, if any) and, with `expect_size`,
/// that its board has that many lines: the write of every line that is not a ballot (the sealed
/// setup, a revocation, the tally, the trustees' factors, the mix phase). Runs on a blocking
/// thread (inside [`AppState::blocking`]).
pub(crate) fn append_lines(
    store: &dyn Store,
    id: &str,
    entries: &[urne_verify::record::Entry],
    expect: Phase,
    set_phase: Option<Phase>,
    expect_size: Option<u64>,
) -> Result<urne_board::Appended, ApiError> {
    let items = vec![urne_board::Item::default(); entries.len()];
    let encode =
        |i: usize, seq: u64, _at: i64| urne_verify::record::encode_line(seq, &entries[i]).0;
    Ok(store.append(
        id,
        &urne_board::Append {
            expect: &[expect],
            set_phase,
            now: clock::now(),
            items: &items,
            unique_credentials: false,
            expect_size,
            encode: &encode,
        },
    )?)
}

/// Opens the store the configuration names: PostgreSQL when `database_url` is set, else SQLite
/// in the data directory.
pub fn open_store(config: &ServerConfig) -> Result<Arc<dyn Store>, urne_board::StoreError> {
    Ok(match &config.database_url {
        Some(url) => Arc::new(urne_board::PostgresStore::connect(url)?),
        None => Arc::new(urne_board::SqliteStore::open(&config.data_dir)?),
    })
}

/// Reads the board key from its file, creating it (owner-only) when absent.
pub fn load_board_key(path: &Path) -> std::io::Result<BoardKey> {
    use std::io::Write;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = urne_core::group::b64_decode(text.trim())
                .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
            BoardKey::from_secret_bytes(&bytes)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let key = BoardKey::generate(&mut rand::rng());
            let secret = key.to_secret_bytes();
            let text = zeroize::Zeroizing::new(urne_core::group::b64_encode(&secret[..]));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(path)?;
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

/// The router of the whole API.
pub fn app(state: AppState) -> Router {
    let ballot_limit = state.config.max_ballot_bytes;
    let upload_limit = state.config.max_upload_bytes;
    let api = Router::new()
        .route("/elections", get(public::list))
        .route("/elections/{id}", get(public::election))
        .route(
            "/elections/{id}/ballots",
            post(public::cast).layer(DefaultBodyLimit::max(ballot_limit)),
        )
        .route("/elections/{id}/ballots/{tracker}", get(public::ballot))
        .route("/elections/{id}/board/head", get(public::head))
        .route("/elections/{id}/board/lines", get(public::lines))
        .route(
            "/elections/{id}/board/consistency",
            get(public::consistency),
        )
        .route(
            "/elections/{id}/board/inclusion/{seq}",
            get(public::inclusion),
        )
        .route("/elections/{id}/record", get(public::record))
        .route("/elections/{id}/tally", get(trustees::tally))
        .route("/elections/{id}/ceremony", get(trustees::ceremony))
        .route("/elections/{id}/trustees/{index}", post(trustees::register))
        .route("/elections/{id}/ceremony/dealing", post(trustees::dealing))
        .route(
            "/elections/{id}/ceremony/complaints",
            post(trustees::complaints),
        )
        .route("/elections/{id}/ceremony/answers", post(trustees::answers))
        .route("/elections/{id}/decryptions", post(trustees::decryption))
        .route("/elections/{id}/mix", get(mix::view))
        .route(
            "/elections/{id}/mix/shuffles/{position}/chunks",
            post(mix::shuffle_chunk),
        )
        .route(
            "/elections/{id}/mix/shuffles/{position}",
            post(mix::shuffle_end),
        )
        .route("/elections/{id}/mix/decryptions", post(mix::decryption))
        .route("/elections/{id}/voted", get(voters::public_voted))
        .route("/elections/{id}/voter/code", post(voters::request_code))
        .route("/elections/{id}/voter/login", post(voters::login))
        .route("/elections/{id}/voter/logout", post(voters::logout))
        .route("/elections/{id}/voter/oidc", get(voters::oidc_start))
        .route("/voter/oidc/callback", get(voters::oidc_callback))
        .merge(admin::routes().layer(DefaultBodyLimit::max(upload_limit)))
        .route("/openapi.json", get(public::openapi));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(public::healthz))
        .route("/metrics", get(public::metrics))
        // The browser's pages (the booth) and their files: not API, so not in OpenAPI.
        .merge(pages::routes())
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(axum::middleware::map_response(error::json_rejections))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The phases in which an election's board is public.
pub const PUBLIC_PHASES: [Phase; 5] = [
    Phase::Setup,
    Phase::Open,
    Phase::Closed,
    Phase::Tallied,
    Phase::Published,
];
