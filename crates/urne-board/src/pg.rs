//! The PostgreSQL backend, for large elections and for several `urne serve` processes sharing
//! one database.
//!
//! A small pool of connections (the synchronous `postgres` client), each with its own cache of
//! prepared statements. Writes are transactions at READ COMMITTED; an append first locks its
//! election's row (`SELECT ... FOR UPDATE`), so the appends to one election are serialized across
//! every process sharing the database, and each statement after the lock sees what the previous
//! append committed. Reads that are one statement run without a transaction.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, NoTls, Row, Statement};
use urne_verify::merkle::empty_root;

use crate::common::{
    Board, Migration, bytes32, check_phase, pending, plan_append, stored_i64, to_i64, to_phase,
    to_u32, to_u64, unix_now,
};
use crate::{
    AdminRow, Append, Appended, AuditRow, Bytes32, CodeCheck, ElectionRow, LinkOutcome, LogLine,
    MailReport, MailRow, MailStatus, MailUpdate, Message, NewMail, Phase, PurgeCounts, RollStats,
    Store, StoreError, TreeHeadRow, VoterRow,
};

/// The PostgreSQL migrations, in order (`migrations/postgres/`).
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "voters",
        sql: include_str!("../migrations/postgres/0002_voters.sql"),
    },
];

/// The advisory lock that serializes migrations between processes ("urne" in ASCII).
const MIGRATION_LOCK: i64 = 0x7572_6e65;

/// How long a connection attempt may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a caller waits for a free connection when the pool is exhausted.
const POOL_WAIT: Duration = Duration::from_secs(30);

macro_rules! select_election {
    ($rest:literal) => {
        concat!(
            "SELECT id, phase, config, log_size, root, last_at, created_at, updated_at \
             FROM elections ",
            $rest
        )
    };
}

/// How to connect a [`PostgresStore`].
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// The most connections open at once (at least 1).
    pub pool_size: usize,
    /// A schema to keep the tables in instead of the connection's default (`public`): created if
    /// missing, and put first on each connection's `search_path`. Letters, digits and `_`
    /// only. Tests use one fresh schema each.
    pub schema: Option<String>,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 16,
            schema: None,
        }
    }
}

/// A [`Store`] in a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("hosts", &self.pool.config.get_hosts())
            .field("dbname", &self.pool.config.get_dbname())
            .field("schema", &self.pool.schema)
            .field("pool_size", &self.pool.max)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/dbname`, or a
    /// `key=value` connection string) with the default options, and brings its schema up to
    /// date. Connections are not encrypted: use a loopback address or a Unix socket (`host=` a
    /// directory). A database whose schema is newer than this build's is refused with
    /// [`StoreError::Corrupt`].
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with(url, PostgresOptions::default())
    }

    /// [`PostgresStore::connect`] with options.
    pub fn connect_with(url: &str, options: PostgresOptions) -> Result<PostgresStore, StoreError> {
        let mut config = Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("postgres: invalid database URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if let Some(schema) = &options.schema {
            let valid = !schema.is_empty()
                && schema.len() <= 63
                && !schema.starts_with(|c: char| c.is_ascii_digit())
                && schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(StoreError::Backend(format!(
                    "postgres: invalid schema name `{schema}`"
                )));
            }
        }
        let store = PostgresStore {
            pool: Pool {
                config,
                schema: options.schema,
                max: options.pool_size.max(1),
                state: Mutex::new(PoolState {
                    idle: Vec::new(),
                    open: 0,
                }),
                available: Condvar::new(),
            },
        };
        store
            .pool
            .with(|conn| migrate(conn, store.pool.schema.as_deref()))?;
        Ok(store)
    }

    /// The schema as the database describes it (columns, constraints and indexes of the
    /// store's tables, in a stable order, without the schema's name), for the test that pins it
    /// and for diagnostics.
    pub fn schema(&self) -> Result<String, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let schema: String = col(
                &q.query_one("schema", "SELECT current_schema()::text", &[])?,
                0,
                "current_schema",
            )?;
            let mut out = String::new();
            let columns = q.query(
                "schema",
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, \
                 coalesce(column_default::text, ''), is_identity::text \
                 FROM information_schema.columns WHERE table_schema = current_schema() \
                 ORDER BY table_name, ordinal_position",
                &[],
            )?;
            for r in &columns {
                let (table, column, ty): (String, String, String) = (
                    col(r, 0, "table")?,
                    col(r, 1, "column")?,
                    col(r, 2, "type")?,
                );
                let nullable: String = col(r, 3, "is_nullable")?;
                let default: String = col(r, 4, "column_default")?;
                let identity: String = col(r, 5, "is_identity")?;
                out.push_str(&format!("column {table}.{column} {ty}"));
                if nullable == "NO" {
                    out.push_str(" not null");
                }
                if !default.is_empty() {
                    out.push_str(&format!(" default {default}"));
                }
                if identity == "YES" {
                    out.push_str(" identity");
                }
                out.push('\n');
            }
            let constraints = q.query(
                "schema",
                "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) \
                 FROM pg_constraint c WHERE c.connamespace = current_schema()::regnamespace \
                 ORDER BY 1, 2",
                &[],
            )?;
            for r in &constraints {
                let (table, name, def): (String, String, String) = (
                    col(r, 0, "table")?,
                    col(r, 1, "name")?,
                    col(r, 2, "definition")?,
                );
                out.push_str(&format!("constraint {table}.{name} {def}\n"));
            }
            let indexes = q.query(
                "schema",
                "SELECT tablename::text, indexname::text, indexdef::text FROM pg_indexes \
                 WHERE schemaname = current_schema() ORDER BY tablename, indexname",
                &[],
            )?;
            for r in &indexes {
                let (table, name, def): (String, String, String) = (
                    col(r, 0, "table")?,
                    col(r, 1, "name")?,
                    col(r, 2, "definition")?,
                );
                let def = def.replace(&format!(" {schema}."), " ");
                out.push_str(&format!("index {table}.{name} {def}\n"));
            }
            Ok(out)
        })
    }
}

/// A connection and its prepared statements.
struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// Statements without a transaction (each is its own).
    fn autocommit(&mut self) -> Q<'_, Client> {
        Q {
            client: &mut self.client,
            statements: &mut self.statements,
        }
    }

    /// Runs `f` in one transaction, committed if `f` succeeds and rolled back otherwise.
    fn transaction<T>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&mut Q<'_, postgres::Transaction<'_>>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Conn { client, statements } = self;
        let mut tx = client.transaction().map_err(db(what))?;
        let value = f(&mut Q {
            client: &mut tx,
            statements,
        })?;
        tx.commit().map_err(db(what))?;
        Ok(value)
    }
}

/// Runs statements on a client or a transaction, preparing each SQL text once per connection.
struct Q<'a, C> {
    client: &'a mut C,
    statements: &'a mut HashMap<&'static str, Statement>,
}

impl<C: GenericClient> Q<'_, C> {
    fn statement(
        &mut self,
        what: &'static str,
        sql: &'static str,
    ) -> Result<Statement, StoreError> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).map_err(db(what))?;
        self.statements.insert(sql, st.clone());
        Ok(st)
    }

    fn query(
        &mut self,
        what: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let st = self.statement(what, sql)?;
        self.client.query(&st, params).map_err(db(what))
    }

    fn query_opt(
        &mut self,
        what: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let st = self.statement(what, sql)?;
        self.client.query_opt(&st, params).map_err(db(what))
    }

    fn query_one(
        &mut self,
        what: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StoreError> {
        self.query_opt(what, sql, params)?
            .ok_or_else(|| StoreError::Backend(format!("postgres: {what}: no row returned")))
    }

    fn execute(
        &mut self,
        what: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let st = self.statement(what, sql)?;
        self.client.execute(&st, params).map_err(db(what))
    }

    /// The phase of an election, locking its row when `lock`; [`StoreError::NoElection`] if it
    /// does not exist.
    fn phase_of(&mut self, id: &str, lock: bool) -> Result<Phase, StoreError> {
        let sql = if lock {
            "SELECT phase FROM elections WHERE id = $1 FOR UPDATE"
        } else {
            "SELECT phase FROM elections WHERE id = $1"
        };
        match self.query_opt("election phase", sql, &[&id])? {
            Some(r) => to_phase(&col::<String>(&r, 0, "elections.phase")?),
            None => Err(StoreError::NoElection(id.to_owned())),
        }
    }

    /// [`StoreError::NoElection`] unless the election exists.
    fn require_election(&mut self, id: &str) -> Result<(), StoreError> {
        self.phase_of(id, false).map(|_| ())
    }

    fn reload(&mut self, id: &str) -> Result<ElectionRow, StoreError> {
        match self.query_opt("election", select_election!("WHERE id = $1"), &[&id])? {
            Some(r) => election_row(&r),
            None => Err(StoreError::NoElection(id.to_owned())),
        }
    }

    fn require_admin(&mut self, name: &str) -> Result<(), StoreError> {
        match self.query_opt(
            "find admin",
            "SELECT 1 FROM admins WHERE name = $1",
            &[&name],
        )? {
            Some(_) => Ok(()),
            None => Err(StoreError::Backend(format!("no administrator `{name}`"))),
        }
    }
}

/// The connections: at most `max` open, idle ones kept for reuse.
struct Pool {
    config: Config,
    schema: Option<String>,
    max: usize,
    state: Mutex<PoolState>,
    available: Condvar,
}

struct PoolState {
    idle: Vec<Conn>,
    open: usize,
}

/// A connection taken from the pool; given back (or, if it broke, forgotten) when dropped.
struct Checkout<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.conn.take() {
            Some(conn) if !conn.client.is_closed() => state.idle.push(conn),
            _ => state.open = state.open.saturating_sub(1),
        }
        self.pool.available.notify_one();
    }
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on a pooled connection.
    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut checkout = self.checkout()?;
        match checkout.conn.as_mut() {
            Some(conn) => f(conn),
            None => Err(StoreError::Backend("postgres: no connection".into())),
        }
    }

    fn checkout(&self) -> Result<Checkout<'_>, StoreError> {
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Checkout {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                // From here the checkout owns one unit of `open`: dropping it without a
                // connection gives the unit back.
                let mut checkout = Checkout {
                    pool: self,
                    conn: None,
                };
                checkout.conn = Some(self.open_connection()?);
                return Ok(checkout);
            }
            let (next, timeout) = self
                .available
                .wait_timeout(state, POOL_WAIT)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.max {
                return Err(StoreError::Backend(format!(
                    "postgres: no connection free within {} s ({} open)",
                    POOL_WAIT.as_secs(),
                    state.open
                )));
            }
        }
    }

    fn open_connection(&self) -> Result<Conn, StoreError> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| StoreError::Backend(format!("postgres: cannot connect: {e}")))?;
        if let Some(schema) = &self.schema {
            // The name was checked to be letters, digits and underscores.
            client
                .batch_execute(&format!("SET search_path TO \"{schema}\""))
                .map_err(db("set search_path"))?;
        }
        // Plan every execution of the cached statements with its parameters. The generic plan
        // PostgreSQL settles on while a board is nearly empty finds an append's trackers by
        // reading every ballot of the election (index on `election` only, then a filter on
        // `tracker`), and is kept until autovacuum next analyzes the table: each append then
        // reads the whole board (1.9 ms at 10,000 ballots, under the election's row lock).
        // Under `urne load` this took the database's CPU per ballot from 270 to 100 µs
        // (docs/performance.md). PostgreSQL 12 or later.
        client
            .batch_execute("SET plan_cache_mode TO force_custom_plan")
            .map_err(db("set plan_cache_mode"))?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }
}

/// Creates the schema if asked, `schema_migrations`, and applies the migrations the database
/// lacks, in one transaction holding an advisory lock (so that servers starting together
/// migrate one after the other).
fn migrate(conn: &mut Conn, schema: Option<&str>) -> Result<(), StoreError> {
    let what = "migrate";
    let mut tx = conn.client.transaction().map_err(db(what))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db(what))?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .map_err(db(what))?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .map_err(db(what))?;
    let rows = tx
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .map_err(db(what))?;
    let applied = rows
        .iter()
        .map(|r| {
            Ok((
                col::<i64>(r, 0, "schema_migrations.version")?,
                col::<String>(r, 1, "schema_migrations.name")?,
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    for m in pending(MIGRATIONS, &applied)? {
        tx.batch_execute(m.sql).map_err(|e| {
            StoreError::Backend(format!(
                "postgres: migration {} ({}): {e}",
                m.version, m.name
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&m.version, &m.name, &unix_now()],
        )
        .map_err(db(what))?;
    }
    tx.commit().map_err(db(what))
}

/// Maps a database error to [`StoreError::Backend`] with what was being done.
fn db(what: &'static str) -> impl Fn(postgres::Error) -> StoreError {
    move |e| StoreError::Backend(format!("postgres: {what}: {e}"))
}

/// One column of a row; a value of the wrong type is [`StoreError::Corrupt`] naming it.
fn col<'r, T: postgres::types::FromSql<'r>>(
    row: &'r Row,
    idx: usize,
    column: &'static str,
) -> Result<T, StoreError> {
    row.try_get(idx)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn election_row(r: &Row) -> Result<ElectionRow, StoreError> {
    Ok(ElectionRow {
        id: col(r, 0, "elections.id")?,
        phase: to_phase(col(r, 1, "elections.phase")?)?,
        config: col(r, 2, "elections.config")?,
        log_size: to_u64(col(r, 3, "elections.log_size")?, "elections.log_size")?,
        root: bytes32(col(r, 4, "elections.root")?, "elections.root")?,
        last_at: col(r, 5, "elections.last_at")?,
        created_at: col(r, 6, "elections.created_at")?,
        updated_at: col(r, 7, "elections.updated_at")?,
    })
}

fn message_row(r: &Row) -> Result<Message, StoreError> {
    Ok(Message {
        idx: to_u64(col(r, 0, "messages.idx")?, "messages.idx")?,
        kind: col(r, 1, "messages.kind")?,
        sender: to_u32(col(r, 2, "messages.sender")?, "messages.sender")?,
        body: col(r, 3, "messages.body")?,
        at: col(r, 4, "messages.at")?,
    })
}

fn audit_row(r: &Row) -> Result<AuditRow, StoreError> {
    Ok(AuditRow {
        id: to_u64(col(r, 0, "audit_log.id")?, "audit_log.id")?,
        at: col(r, 1, "audit_log.at")?,
        actor: col(r, 2, "audit_log.actor")?,
        election: col(r, 3, "audit_log.election")?,
        action: col(r, 4, "audit_log.action")?,
        detail: col(r, 5, "audit_log.detail")?,
    })
}

fn tree_head_row(r: &Row) -> Result<TreeHeadRow, StoreError> {
    Ok(TreeHeadRow {
        size: to_u64(col(r, 0, "tree_heads.size")?, "tree_heads.size")?,
        body: col(r, 1, "tree_heads.body")?,
    })
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            conn.autocommit().query_one("ping", "SELECT 1", &[])?;
            Ok(())
        })
    }

    fn create_election(&self, id: &str, config: &str, now: i64) -> Result<ElectionRow, StoreError> {
        let root = empty_root();
        let empty: &[u8] = &[];
        self.pool.with(|conn| {
            let n = conn.autocommit().execute(
                "create election",
                "INSERT INTO elections (id, phase, config, log_size, frontier, root, last_at, \
                 next_message, created_at, updated_at) \
                 VALUES ($1, $2, $3, 0, $4, $5, 0, 0, $6, $6) ON CONFLICT (id) DO NOTHING",
                &[
                    &id,
                    &Phase::Draft.as_str(),
                    &config,
                    &empty,
                    &root.as_slice(),
                    &now,
                ],
            )?;
            if n == 0 {
                return Err(StoreError::ElectionExists(id.to_owned()));
            }
            Ok(ElectionRow {
                id: id.to_owned(),
                phase: Phase::Draft,
                config: config.to_owned(),
                log_size: 0,
                root,
                last_at: 0,
                created_at: now,
                updated_at: now,
            })
        })
    }

    fn election(&self, id: &str) -> Result<Option<ElectionRow>, StoreError> {
        self.pool.with(|conn| {
            conn.autocommit()
                .query_opt("election", select_election!("WHERE id = $1"), &[&id])?
                .map(|r| election_row(&r))
                .transpose()
        })
    }

    fn elections(&self) -> Result<Vec<ElectionRow>, StoreError> {
        self.pool.with(|conn| {
            conn.autocommit()
                .query(
                    "elections",
                    select_election!("ORDER BY id COLLATE \"C\""),
                    &[],
                )?
                .iter()
                .map(election_row)
                .collect()
        })
    }

    fn update_config(
        &self,
        id: &str,
        expect: &[Phase],
        config: &str,
        now: i64,
    ) -> Result<ElectionRow, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("update config", |q| {
                check_phase(q.phase_of(id, true)?, expect)?;
                q.execute(
                    "update config",
                    "UPDATE elections SET config = $2, updated_at = $3 WHERE id = $1",
                    &[&id, &config, &now],
                )?;
                q.reload(id)
            })
        })
    }

    fn set_phase(
        &self,
        id: &str,
        expect: &[Phase],
        to: Phase,
        config: Option<&str>,
        now: i64,
    ) -> Result<ElectionRow, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("set phase", |q| {
                check_phase(q.phase_of(id, true)?, expect)?;
                q.execute(
                    "set phase",
                    "UPDATE elections SET phase = $2, config = coalesce($3, config), \
                     updated_at = $4 WHERE id = $1",
                    &[&id, &to.as_str(), &config, &now],
                )?;
                q.reload(id)
            })
        })
    }

    fn append(&self, id: &str, append: &Append<'_>) -> Result<Appended, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("append", |q| {
                // The lock that serializes this election's appends, across processes.
                let r = q
                    .query_opt(
                        "append: lock election",
                        "SELECT phase, log_size, frontier, root, last_at FROM elections \
                         WHERE id = $1 FOR UPDATE",
                        &[&id],
                    )?
                    .ok_or_else(|| StoreError::NoElection(id.to_owned()))?;
                let board = Board {
                    phase: to_phase(col(&r, 0, "elections.phase")?)?,
                    log_size: to_u64(col(&r, 1, "elections.log_size")?, "elections.log_size")?,
                    frontier: col(&r, 2, "elections.frontier")?,
                    root: col(&r, 3, "elections.root")?,
                    last_at: col(&r, 4, "elections.last_at")?,
                };
                check_phase(board.phase, append.expect)?;

                // What the board already holds of this append's trackers and credentials, in
                // two statements rather than one per item.
                let trackers: Vec<&[u8]> = append
                    .items
                    .iter()
                    .filter_map(|i| i.tracker.as_ref().map(|t| t.as_slice()))
                    .collect();
                let mut known_trackers: HashMap<Bytes32, u64> = HashMap::new();
                if !trackers.is_empty() {
                    let rows = q.query(
                        "append: find trackers",
                        "SELECT tracker, seq FROM ballots \
                         WHERE election = $1 AND tracker = ANY($2::bytea[])",
                        &[&id, &trackers],
                    )?;
                    for r in &rows {
                        known_trackers.insert(
                            bytes32(col(r, 0, "ballots.tracker")?, "ballots.tracker")?,
                            to_u64(col(r, 1, "ballots.seq")?, "ballots.seq")?,
                        );
                    }
                }
                let mut known_credentials: HashMap<Bytes32, u64> = HashMap::new();
                if append.unique_credentials {
                    let credentials: Vec<&[u8]> = append
                        .items
                        .iter()
                        .filter_map(|i| i.credential.as_ref().map(|c| c.as_slice()))
                        .collect();
                    if !credentials.is_empty() {
                        let rows = q.query(
                            "append: find credentials",
                            "SELECT credential, min(seq) FROM ballots \
                             WHERE election = $1 AND credential = ANY($2::bytea[]) \
                             GROUP BY credential",
                            &[&id, &credentials],
                        )?;
                        for r in &rows {
                            known_credentials.insert(
                                bytes32(col(r, 0, "ballots.credential")?, "ballots.credential")?,
                                to_u64(col(r, 1, "ballots.seq")?, "ballots.seq")?,
                            );
                        }
                    }
                }

                let plan = plan_append(
                    &board,
                    append,
                    |t| Ok(known_trackers.get(t).copied()),
                    |c| Ok(known_credentials.get(c).copied()),
                )?;

                if !plan.lines.is_empty() {
                    let mut seqs = Vec::with_capacity(plan.lines.len());
                    for l in &plan.lines {
                        seqs.push(stored_i64(l.seq, "log.seq")?);
                    }
                    let kinds: Vec<Option<&str>> =
                        plan.lines.iter().map(|l| l.kind.as_deref()).collect();
                    let lines: Vec<&[u8]> = plan.lines.iter().map(|l| l.line.as_slice()).collect();
                    let leaves: Vec<&[u8]> = plan.lines.iter().map(|l| l.leaf.as_slice()).collect();
                    q.execute(
                        "append: insert lines",
                        "INSERT INTO log (election, seq, kind, line, leaf) \
                         SELECT $1, s, k, l, f \
                         FROM unnest($2::bigint[], $3::text[], $4::bytea[], $5::bytea[]) \
                         AS t (s, k, l, f)",
                        &[&id, &seqs, &kinds, &lines, &leaves],
                    )?;
                    let mut ballot_seqs = Vec::new();
                    let mut ballot_trackers: Vec<&[u8]> = Vec::new();
                    let mut ballot_credentials: Vec<Option<&[u8]>> = Vec::new();
                    for (l, &seq) in plan.lines.iter().zip(&seqs) {
                        if let Some(tracker) = &l.tracker {
                            ballot_seqs.push(seq);
                            ballot_trackers.push(tracker.as_slice());
                            ballot_credentials.push(l.credential.as_ref().map(|c| c.as_slice()));
                        }
                    }
                    if !ballot_seqs.is_empty() {
                        q.execute(
                            "append: insert ballots",
                            "INSERT INTO ballots (election, tracker, credential, seq) \
                             SELECT $1, t, c, s \
                             FROM unnest($2::bytea[], $3::bytea[], $4::bigint[]) AS b (t, c, s)",
                            &[&id, &ballot_trackers, &ballot_credentials, &ballot_seqs],
                        )?;
                    }
                }

                if !plan.lines.is_empty() || append.set_phase.is_some() {
                    let last_at = if plan.lines.is_empty() {
                        board.last_at
                    } else {
                        plan.at
                    };
                    let phase = append.set_phase.unwrap_or(board.phase);
                    q.execute(
                        "append: update election",
                        "UPDATE elections SET log_size = $2, frontier = $3, root = $4, \
                         last_at = $5, phase = $6, updated_at = $7 WHERE id = $1",
                        &[
                            &id,
                            &stored_i64(plan.size, "elections.log_size")?,
                            &plan.frontier,
                            &plan.root.as_slice(),
                            &last_at,
                            &phase.as_str(),
                            &append.now,
                        ],
                    )?;
                }
                Ok(Appended {
                    items: plan.outcomes,
                    size: plan.size,
                    root: plan.root,
                    at: plan.at,
                })
            })
        })
    }

    fn lines(&self, id: &str, from: u64, limit: u64) -> Result<Vec<LogLine>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = q.query(
                "lines",
                "SELECT seq, line FROM log WHERE election = $1 AND seq >= $2 ORDER BY seq \
                 LIMIT $3",
                &[&id, &to_i64(from), &to_i64(limit)],
            )?;
            if rows.is_empty() {
                q.require_election(id)?;
            }
            rows.iter()
                .map(|r| {
                    Ok(LogLine {
                        seq: to_u64(col(r, 0, "log.seq")?, "log.seq")?,
                        line: col(r, 1, "log.line")?,
                    })
                })
                .collect()
        })
    }

    fn leaves(&self, id: &str, from: u64, to: u64) -> Result<Vec<Bytes32>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = q.query(
                "leaves",
                "SELECT leaf FROM log WHERE election = $1 AND seq >= $2 AND seq < $3 \
                 ORDER BY seq",
                &[&id, &to_i64(from), &to_i64(to)],
            )?;
            if rows.is_empty() {
                q.require_election(id)?;
            }
            rows.iter()
                .map(|r| bytes32(col(r, 0, "log.leaf")?, "log.leaf"))
                .collect()
        })
    }

    fn tracker_seq(&self, id: &str, tracker: &Bytes32) -> Result<Option<u64>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let row = q.query_opt(
                "tracker",
                "SELECT seq FROM ballots WHERE election = $1 AND tracker = $2",
                &[&id, &tracker.as_slice()],
            )?;
            match row {
                Some(r) => Ok(Some(to_u64(col(&r, 0, "ballots.seq")?, "ballots.seq")?)),
                None => q.require_election(id).map(|()| None),
            }
        })
    }

    fn put_tree_head(&self, id: &str, head: &TreeHeadRow) -> Result<(), StoreError> {
        let size = stored_i64(head.size, "tree_heads.size")?;
        self.pool.with(|conn| {
            conn.transaction("put tree head", |q| {
                q.require_election(id)?;
                q.execute(
                    "put tree head",
                    "INSERT INTO tree_heads (election, size, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (election, size) DO NOTHING",
                    &[&id, &size, &head.body],
                )?;
                Ok(())
            })
        })
    }

    fn tree_head(&self, id: &str, size: Option<u64>) -> Result<Option<TreeHeadRow>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let row = match size {
                Some(size) => q.query_opt(
                    "tree head",
                    "SELECT size, body FROM tree_heads WHERE election = $1 AND size = $2",
                    &[&id, &to_i64(size)],
                )?,
                None => q.query_opt(
                    "latest tree head",
                    "SELECT size, body FROM tree_heads WHERE election = $1 \
                     ORDER BY size DESC LIMIT 1",
                    &[&id],
                )?,
            };
            match row {
                Some(r) => tree_head_row(&r).map(Some),
                None => q.require_election(id).map(|()| None),
            }
        })
    }

    fn put_message(
        &self,
        id: &str,
        kind: &str,
        sender: u32,
        body: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let sender = i64::from(sender);
        self.pool.with(|conn| {
            conn.transaction("put message", |q| {
                let r = q
                    .query_opt(
                        "put message: number",
                        "UPDATE elections SET next_message = next_message + 1 WHERE id = $1 \
                         RETURNING next_message - 1",
                        &[&id],
                    )?
                    .ok_or_else(|| StoreError::NoElection(id.to_owned()))?;
                let idx: i64 = col(&r, 0, "elections.next_message")?;
                q.execute(
                    "put message",
                    "INSERT INTO messages (election, idx, kind, sender, body, at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&id, &idx, &kind, &sender, &body, &now],
                )?;
                to_u64(idx, "elections.next_message")
            })
        })
    }

    fn messages(
        &self,
        id: &str,
        kind: Option<&str>,
        after: u64,
    ) -> Result<Vec<Message>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = match kind {
                Some(kind) => q.query(
                    "messages",
                    "SELECT idx, kind, sender, body, at FROM messages \
                     WHERE election = $1 AND kind = $2 AND idx >= $3 ORDER BY idx",
                    &[&id, &kind, &to_i64(after)],
                )?,
                None => q.query(
                    "messages",
                    "SELECT idx, kind, sender, body, at FROM messages \
                     WHERE election = $1 AND idx >= $2 ORDER BY idx",
                    &[&id, &to_i64(after)],
                )?,
            };
            if rows.is_empty() {
                q.require_election(id)?;
            }
            rows.iter().map(message_row).collect()
        })
    }

    fn delete_messages(&self, id: &str, kind: &str) -> Result<u64, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("delete messages", |q| {
                q.require_election(id)?;
                q.execute(
                    "delete messages",
                    "DELETE FROM messages WHERE election = $1 AND kind = $2",
                    &[&id, &kind],
                )
            })
        })
    }

    fn create_admin(&self, name: &str, password_hash: &str, now: i64) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            let n = conn.autocommit().execute(
                "create admin",
                "INSERT INTO admins (name, password_hash, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
                &[&name, &password_hash, &now],
            )?;
            if n == 0 {
                return Err(StoreError::Exists(format!("administrator `{name}`")));
            }
            Ok(())
        })
    }

    fn admin(&self, name: &str) -> Result<Option<AdminRow>, StoreError> {
        self.pool.with(|conn| {
            let row = conn.autocommit().query_opt(
                "admin",
                "SELECT name, password_hash, created_at FROM admins WHERE name = $1",
                &[&name],
            )?;
            row.map(|r| {
                Ok(AdminRow {
                    name: col(&r, 0, "admins.name")?,
                    password_hash: col(&r, 1, "admins.password_hash")?,
                    created_at: col(&r, 2, "admins.created_at")?,
                })
            })
            .transpose()
        })
    }

    fn admin_count(&self) -> Result<u64, StoreError> {
        self.pool.with(|conn| {
            let r =
                conn.autocommit()
                    .query_one("admin count", "SELECT count(*) FROM admins", &[])?;
            to_u64(col(&r, 0, "count(admins)")?, "count(admins)")
        })
    }

    fn create_session(
        &self,
        token_hash: &Bytes32,
        admin: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            conn.transaction("create session", |q| {
                q.require_admin(admin)?;
                let n = q.execute(
                    "create session",
                    "INSERT INTO sessions (token_hash, admin, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (token_hash) DO NOTHING",
                    &[&token_hash.as_slice(), &admin, &expires_at],
                )?;
                if n == 0 {
                    return Err(StoreError::Exists("a session with this token".into()));
                }
                Ok(())
            })
        })
    }

    fn session(&self, token_hash: &Bytes32, now: i64) -> Result<Option<String>, StoreError> {
        self.pool.with(|conn| {
            conn.autocommit()
                .query_opt(
                    "session",
                    "SELECT admin FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                    &[&token_hash.as_slice(), &now],
                )?
                .map(|r| col(&r, 0, "sessions.admin"))
                .transpose()
        })
    }

    fn delete_session(&self, token_hash: &Bytes32) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            conn.autocommit().execute(
                "delete session",
                "DELETE FROM sessions WHERE token_hash = $1",
                &[&token_hash.as_slice()],
            )?;
            Ok(())
        })
    }

    fn create_api_token(
        &self,
        token_hash: &Bytes32,
        admin: &str,
        label: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            conn.transaction("create API token", |q| {
                q.require_admin(admin)?;
                let n = q.execute(
                    "create API token",
                    "INSERT INTO api_tokens (token_hash, admin, label, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash) DO NOTHING",
                    &[&token_hash.as_slice(), &admin, &label, &now],
                )?;
                if n == 0 {
                    return Err(StoreError::Exists("an API token with this secret".into()));
                }
                Ok(())
            })
        })
    }

    fn api_token(&self, token_hash: &Bytes32) -> Result<Option<String>, StoreError> {
        self.pool.with(|conn| {
            conn.autocommit()
                .query_opt(
                    "API token",
                    "SELECT admin FROM api_tokens WHERE token_hash = $1",
                    &[&token_hash.as_slice()],
                )?
                .map(|r| col(&r, 0, "api_tokens.admin"))
                .transpose()
        })
    }

    fn audit(
        &self,
        actor: &str,
        election: Option<&str>,
        action: &str,
        detail: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        self.pool.with(|conn| {
            let r = conn.autocommit().query_one(
                "audit",
                "INSERT INTO audit_log (at, actor, election, action, detail) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&now, &actor, &election, &action, &detail],
            )?;
            to_u64(col(&r, 0, "audit_log.id")?, "audit_log.id")
        })
    }

    fn audit_log(&self, election: Option<&str>) -> Result<Vec<AuditRow>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = match election {
                Some(election) => q.query(
                    "audit log",
                    "SELECT id, at, actor, election, action, detail FROM audit_log \
                     WHERE election = $1 ORDER BY id",
                    &[&election],
                )?,
                None => q.query(
                    "audit log",
                    "SELECT id, at, actor, election, action, detail FROM audit_log ORDER BY id",
                    &[],
                )?,
            };
            rows.iter().map(audit_row).collect()
        })
    }

    fn purge_expired_sessions(&self, _now: i64) -> Result<u64, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn replace_roll(
        &self,
        _id: &str,
        _expect: &[Phase],
        _voters: &[VoterRow],
        _now: i64,
    ) -> Result<u64, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn roll(
        &self,
        _id: &str,
        _after: Option<&str>,
        _limit: u64,
    ) -> Result<Vec<VoterRow>, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn voter(&self, _id: &str, _voter: &str) -> Result<Option<VoterRow>, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn roll_stats(&self, _id: &str) -> Result<RollStats, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn link_credential(
        &self,
        _id: &str,
        _voter: &str,
        _credential: &Bytes32,
        _now: i64,
    ) -> Result<LinkOutcome, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn mark_voted(&self, _id: &str, _voters: &[&str], _now: i64) -> Result<(), StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn voted(&self, _id: &str) -> Result<Vec<String>, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn put_code(
        &self,
        _id: &str,
        _voter: &str,
        _code_hash: &Bytes32,
        _expires_at: i64,
        _now: i64,
        _max_per_hour: u32,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn check_code(
        &self,
        _id: &str,
        _voter: &str,
        _code_hash: &Bytes32,
        _now: i64,
        _max_attempts: u32,
    ) -> Result<CodeCheck, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn create_voter_session(
        &self,
        _token_hash: &Bytes32,
        _id: &str,
        _voter: &str,
        _expires_at: i64,
    ) -> Result<(), StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn voter_session(
        &self,
        _token_hash: &Bytes32,
        _now: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn delete_voter_session(&self, _token_hash: &Bytes32) -> Result<(), StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn enqueue_mail(
        &self,
        _id: &str,
        _mails: &[NewMail<'_>],
        _now: i64,
    ) -> Result<Vec<u64>, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn claim_mail(
        &self,
        _now: i64,
        _lease_until: i64,
        _limit: u64,
    ) -> Result<Vec<MailRow>, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn update_mail(
        &self,
        _mail_id: u64,
        _update: &MailUpdate<'_>,
        _now: i64,
    ) -> Result<(), StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn bounce_mail(&self, _message_id: &str, _error: &str, _now: i64) -> Result<bool, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn mail_report(&self, _id: &str) -> Result<MailReport, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn mail_list(
        &self,
        _id: &str,
        _status: Option<MailStatus>,
    ) -> Result<Vec<MailRow>, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }

    fn purge_personal_data(&self, _id: &str) -> Result<PurgeCounts, StoreError> {
        Err(StoreError::Backend("not yet".into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;

    /// Every file of migrations/postgres/ is in [`MIGRATIONS`], numbered as its name says.
    #[test]
    fn migrations_match_their_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let names: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, names);
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
    }

    #[test]
    fn bad_urls_and_schema_names_are_refused_before_connecting() {
        assert!(matches!(
            PostgresStore::connect("postgres://[bad"),
            Err(StoreError::Backend(_))
        ));
        let options = PostgresOptions {
            schema: Some("a\"; DROP TABLE x".into()),
            ..PostgresOptions::default()
        };
        assert!(matches!(
            PostgresStore::connect_with("postgres://u@127.0.0.1:1/db", options),
            Err(StoreError::Backend(m)) if m.contains("schema")
        ));
    }
}
