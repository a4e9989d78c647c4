//! The PostgreSQL backend, for large elections and for several `urne serve` processes sharing
//! one database.
//!
//! A small pool of connections (the synchronous `postgres` client), each with its own cache of
//! prepared statements. Writes are transactions at READ COMMITTED; an append first locks its
//! election's row (`SELECT ... FOR UPDATE`), so the appends to one election are serialized across
//! every process sharing the database, and each statement after the lock sees what the previous
//! append committed. Reads that are one statement run without a transaction.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, NoTls, Row, Statement};
use urne_verify::merkle::empty_root;

use crate::common::{
    Board, CodeAction, CodeRow, Migration, bytes32, check_phase, check_roll, judge_code,
    link_outcome, mail_report, next_code_window, no_voter, pending, plan_append, stored_i64,
    to_i64, to_mail_status, to_phase, to_u32, to_u64, unix_now,
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

    /// [`StoreError::NoElection`] unless the election exists, then [`no_voter`] unless the
    /// voter is on its roll; locks the voter's row when `lock`.
    fn require_voter(&mut self, id: &str, voter: &str, lock: bool) -> Result<(), StoreError> {
        self.require_election(id)?;
        let sql = if lock {
            "SELECT 1 FROM voters WHERE election = $1 AND voter = $2 FOR UPDATE"
        } else {
            "SELECT 1 FROM voters WHERE election = $1 AND voter = $2"
        };
        match self.query_opt("find voter", sql, &[&id, &voter])? {
            Some(_) => Ok(()),
            None => Err(no_voter(id, voter)),
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

/// A row of `voters` (voter, email, name, weight, lang, credential, voted_at).
fn voter_row(r: &Row) -> Result<VoterRow, StoreError> {
    Ok(VoterRow {
        voter: col(r, 0, "voters.voter")?,
        email: col(r, 1, "voters.email")?,
        name: col(r, 2, "voters.name")?,
        weight: to_u64(col(r, 3, "voters.weight")?, "voters.weight")?,
        lang: col(r, 4, "voters.lang")?,
        credential: col::<Option<&[u8]>>(r, 5, "voters.credential")?
            .map(|c| bytes32(c, "voters.credential"))
            .transpose()?,
        voted_at: col(r, 6, "voters.voted_at")?,
    })
}

/// A row of `mail`, its columns in the table's order.
fn mail_row(r: &Row) -> Result<MailRow, StoreError> {
    Ok(MailRow {
        id: to_u64(col(r, 0, "mail.id")?, "mail.id")?,
        election: col(r, 1, "mail.election")?,
        voter: col(r, 2, "mail.voter")?,
        kind: col(r, 3, "mail.kind")?,
        recipient: col(r, 4, "mail.recipient")?,
        message_id: col(r, 5, "mail.message_id")?,
        message: col(r, 6, "mail.message")?,
        status: to_mail_status(col(r, 7, "mail.status")?)?,
        attempts: to_u32(col(r, 8, "mail.attempts")?, "mail.attempts")?,
        next_attempt_at: col(r, 9, "mail.next_attempt_at")?,
        last_error: col(r, 10, "mail.last_error")?,
        updated_at: col(r, 11, "mail.updated_at")?,
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

    fn message_heads(
        &self,
        id: &str,
        kind: &str,
        after: u64,
        head_chars: u32,
    ) -> Result<Vec<Message>, StoreError> {
        // left() counts characters, so a cut never splits one; `int` is its argument's type.
        let head = i32::try_from(head_chars).unwrap_or(i32::MAX);
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = q.query(
                "message heads",
                "SELECT idx, kind, sender, left(body, $4), at FROM messages \
                 WHERE election = $1 AND kind = $2 AND idx >= $3 ORDER BY idx",
                &[&id, &kind, &to_i64(after), &head],
            )?;
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

    fn delete_messages_from(
        &self,
        id: &str,
        kind: &str,
        sender: Option<u32>,
        before: Option<u64>,
    ) -> Result<u64, StoreError> {
        let sender = sender.map(i64::from);
        let before = before.map(to_i64);
        self.pool.with(|conn| {
            conn.transaction("delete messages from", |q| {
                q.require_election(id)?;
                q.execute(
                    "delete messages from",
                    "DELETE FROM messages WHERE election = $1 AND kind = $2 \
                     AND ($3::BIGINT IS NULL OR sender = $3) \
                     AND ($4::BIGINT IS NULL OR idx < $4)",
                    &[&id, &kind, &sender, &before],
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

    fn purge_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("purge expired sessions", |q| {
                let admins = q.execute(
                    "purge expired sessions",
                    "DELETE FROM sessions WHERE expires_at <= $1",
                    &[&now],
                )?;
                let voters = q.execute(
                    "purge expired voter sessions",
                    "DELETE FROM voter_sessions WHERE expires_at <= $1",
                    &[&now],
                )?;
                Ok(admins + voters)
            })
        })
    }

    fn replace_roll(
        &self,
        id: &str,
        expect: &[Phase],
        voters: &[VoterRow],
        now: i64,
    ) -> Result<u64, StoreError> {
        check_roll(voters)?;
        let ids: Vec<&str> = voters.iter().map(|v| v.voter.as_str()).collect();
        let emails: Vec<&str> = voters.iter().map(|v| v.email.as_str()).collect();
        let names: Vec<Option<&str>> = voters.iter().map(|v| v.name.as_deref()).collect();
        let weights = voters
            .iter()
            .map(|v| stored_i64(v.weight, "voters.weight"))
            .collect::<Result<Vec<i64>, StoreError>>()?;
        let langs: Vec<Option<&str>> = voters.iter().map(|v| v.lang.as_deref()).collect();
        let credentials: Vec<Option<&[u8]>> = voters
            .iter()
            .map(|v| v.credential.as_ref().map(|c| c.as_slice()))
            .collect();
        let voted: Vec<Option<i64>> = voters.iter().map(|v| v.voted_at).collect();
        self.pool.with(|conn| {
            conn.transaction("replace roll", |q| {
                // The election's row lock: no phase change while the roll is replaced.
                check_phase(q.phase_of(id, true)?, expect)?;
                q.execute(
                    "replace roll: delete",
                    "DELETE FROM voters WHERE election = $1",
                    &[&id],
                )?;
                if !voters.is_empty() {
                    q.execute(
                        "replace roll: insert",
                        "INSERT INTO voters (election, voter, email, name, weight, lang, \
                         credential, voted_at) \
                         SELECT $1, v, e, n, w, l, c, t FROM unnest($2::text[], $3::text[], \
                         $4::text[], $5::bigint[], $6::text[], $7::bytea[], $8::bigint[]) \
                         AS r (v, e, n, w, l, c, t)",
                        &[
                            &id,
                            &ids,
                            &emails,
                            &names,
                            &weights,
                            &langs,
                            &credentials,
                            &voted,
                        ],
                    )?;
                }
                q.execute(
                    "replace roll: codes",
                    "DELETE FROM voter_codes c WHERE c.election = $1 AND NOT EXISTS \
                     (SELECT 1 FROM voters v WHERE v.election = $1 AND v.voter = c.voter)",
                    &[&id],
                )?;
                q.execute(
                    "replace roll: sessions",
                    "DELETE FROM voter_sessions s WHERE s.election = $1 AND NOT EXISTS \
                     (SELECT 1 FROM voters v WHERE v.election = $1 AND v.voter = s.voter)",
                    &[&id],
                )?;
                q.execute(
                    "replace roll: election",
                    "UPDATE elections SET updated_at = $2 WHERE id = $1",
                    &[&id, &now],
                )?;
                Ok(voters.len() as u64)
            })
        })
    }

    fn roll(&self, id: &str, after: Option<&str>, limit: u64) -> Result<Vec<VoterRow>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = match after {
                Some(after) => q.query(
                    "roll",
                    "SELECT voter, email, name, weight, lang, credential, voted_at FROM voters \
                     WHERE election = $1 AND voter > $2 ORDER BY voter LIMIT $3",
                    &[&id, &after, &to_i64(limit)],
                )?,
                None => q.query(
                    "roll",
                    "SELECT voter, email, name, weight, lang, credential, voted_at FROM voters \
                     WHERE election = $1 ORDER BY voter LIMIT $2",
                    &[&id, &to_i64(limit)],
                )?,
            };
            if rows.is_empty() {
                q.require_election(id)?;
            }
            rows.iter().map(voter_row).collect()
        })
    }

    fn voter(&self, id: &str, voter: &str) -> Result<Option<VoterRow>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let row = q.query_opt(
                "voter",
                "SELECT voter, email, name, weight, lang, credential, voted_at FROM voters \
                 WHERE election = $1 AND voter = $2",
                &[&id, &voter],
            )?;
            match row {
                Some(r) => voter_row(&r).map(Some),
                None => q.require_election(id).map(|()| None),
            }
        })
    }

    fn roll_stats(&self, id: &str) -> Result<RollStats, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            q.require_election(id)?;
            let r = q.query_one(
                "roll stats",
                "SELECT count(*), coalesce(sum(weight), 0)::bigint, count(credential), \
                 count(voted_at) FROM voters WHERE election = $1",
                &[&id],
            )?;
            Ok(RollStats {
                voters: to_u64(col(&r, 0, "count(voters)")?, "count(voters)")?,
                total_weight: to_u64(col(&r, 1, "sum(voters.weight)")?, "sum(weight)")?,
                linked: to_u64(col(&r, 2, "count(voters.credential)")?, "linked")?,
                voted: to_u64(col(&r, 3, "count(voters.voted_at)")?, "voted")?,
            })
        })
    }

    fn link_credentials(
        &self,
        id: &str,
        links: &[(&str, Bytes32)],
        _now: i64,
    ) -> Result<Vec<LinkOutcome>, StoreError> {
        // Voters' rows are locked in the order of their identifiers (see the trait).
        let mut order: Vec<usize> = (0..links.len()).collect();
        order.sort_by(|&a, &b| links[a].0.cmp(links[b].0));
        self.pool.with(|conn| {
            conn.transaction("link credential", |q| {
                q.require_election(id)?;
                let mut outcomes = vec![LinkOutcome::Already; links.len()];
                for &i in &order {
                    let (voter, credential) = (links[i].0, &links[i].1);
                    let credential_bytes = credential.as_slice();
                    // The voter's row lock serializes the links of one voter.
                    let r = q
                        .query_opt(
                            "link credential: voter",
                            "SELECT credential FROM voters WHERE election = $1 AND voter = $2 \
                             FOR UPDATE",
                            &[&id, &voter],
                        )?
                        .ok_or_else(|| no_voter(id, voter))?;
                    let current = col::<Option<&[u8]>>(&r, 0, "voters.credential")?
                        .map(|c| bytes32(c, "voters.credential"))
                        .transpose()?;
                    let taken = current.is_none()
                        && q.query_opt(
                            "link credential: holder",
                            "SELECT 1 FROM voters WHERE election = $1 AND credential = $2",
                            &[&id, &credential_bytes],
                        )?
                        .is_some();
                    let outcome = link_outcome(current.as_ref(), credential, taken);
                    if outcome != LinkOutcome::Linked {
                        outcomes[i] = outcome;
                        continue;
                    }
                    // Another voter may be linking the same credential in a transaction this
                    // one cannot see yet: the unique index makes this update wait for it, and
                    // fail if it committed. The savepoint keeps the transaction usable after
                    // that failure.
                    let st = q.statement(
                        "link credential",
                        "UPDATE voters SET credential = $3 WHERE election = $1 AND voter = $2",
                    )?;
                    let mut savepoint = q.client.transaction().map_err(db("link credential"))?;
                    outcomes[i] = match savepoint.execute(&st, &[&id, &voter, &credential_bytes]) {
                        Ok(_) => {
                            savepoint.commit().map_err(db("link credential"))?;
                            LinkOutcome::Linked
                        }
                        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                            drop(savepoint);
                            LinkOutcome::CredentialTaken
                        }
                        Err(e) => return Err(db("link credential")(e)),
                    };
                }
                Ok(outcomes)
            })
        })
    }

    fn mark_voted(&self, id: &str, voters: &[&str], now: i64) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            conn.transaction("mark voted", |q| {
                q.require_election(id)?;
                if voters.is_empty() {
                    return Ok(());
                }
                let rows = q.query(
                    "mark voted",
                    "UPDATE voters SET voted_at = coalesce(voted_at, $3) \
                     WHERE election = $1 AND voter = ANY($2::text[]) RETURNING voter",
                    &[&id, &voters, &now],
                )?;
                let marked = rows
                    .iter()
                    .map(|r| col::<String>(r, 0, "voters.voter"))
                    .collect::<Result<HashSet<String>, StoreError>>()?;
                match voters.iter().find(|v| !marked.contains(**v)) {
                    Some(missing) => Err(no_voter(id, missing)),
                    None => Ok(()),
                }
            })
        })
    }

    fn voted(&self, id: &str) -> Result<Vec<String>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = q.query(
                "voted",
                "SELECT voter FROM voters WHERE election = $1 AND voted_at IS NOT NULL \
                 ORDER BY voter",
                &[&id],
            )?;
            if rows.is_empty() {
                q.require_election(id)?;
            }
            rows.iter().map(|r| col(r, 0, "voters.voter")).collect()
        })
    }

    fn put_code(
        &self,
        id: &str,
        voter: &str,
        code_hash: &Bytes32,
        expires_at: i64,
        now: i64,
        max_per_hour: u32,
    ) -> Result<bool, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("put code", |q| {
                // Locking the voter's row serializes this voter's codes.
                q.require_voter(id, voter, true)?;
                let window = q
                    .query_opt(
                        "put code: window",
                        "SELECT window_start, window_count FROM voter_codes \
                         WHERE election = $1 AND voter = $2",
                        &[&id, &voter],
                    )?
                    .map(|r| {
                        Ok::<_, StoreError>((
                            col::<i64>(&r, 0, "voter_codes.window_start")?,
                            to_u32(
                                col(&r, 1, "voter_codes.window_count")?,
                                "voter_codes.window_count",
                            )?,
                        ))
                    })
                    .transpose()?;
                let Some((start, count)) = next_code_window(window, now, max_per_hour) else {
                    return Ok(false);
                };
                q.execute(
                    "put code",
                    "INSERT INTO voter_codes (election, voter, code_hash, expires_at, attempts, \
                     sent_at, window_start, window_count) VALUES ($1, $2, $3, $4, 0, $5, $6, $7) \
                     ON CONFLICT (election, voter) DO UPDATE SET code_hash = excluded.code_hash, \
                     expires_at = excluded.expires_at, attempts = 0, sent_at = excluded.sent_at, \
                     window_start = excluded.window_start, window_count = excluded.window_count",
                    &[
                        &id,
                        &voter,
                        &code_hash.as_slice(),
                        &expires_at,
                        &now,
                        &start,
                        &i64::from(count),
                    ],
                )?;
                Ok(true)
            })
        })
    }

    fn check_code(
        &self,
        id: &str,
        voter: &str,
        code_hash: &Bytes32,
        now: i64,
        max_attempts: u32,
    ) -> Result<CodeCheck, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("check code", |q| {
                q.require_election(id)?;
                // The code's row lock: concurrent guesses are counted one after the other.
                let row = q
                    .query_opt(
                        "check code: read",
                        "SELECT code_hash, expires_at, attempts FROM voter_codes \
                         WHERE election = $1 AND voter = $2 FOR UPDATE",
                        &[&id, &voter],
                    )?
                    .map(|r| {
                        Ok::<_, StoreError>(CodeRow {
                            code_hash: col::<Option<Vec<u8>>>(&r, 0, "voter_codes.code_hash")?,
                            expires_at: col(&r, 1, "voter_codes.expires_at")?,
                            attempts: to_u32(
                                col(&r, 2, "voter_codes.attempts")?,
                                "voter_codes.attempts",
                            )?,
                        })
                    })
                    .transpose()?;
                let (check, action) = judge_code(row.as_ref(), code_hash, now, max_attempts)?;
                match action {
                    CodeAction::Nothing => {}
                    CodeAction::Consume => {
                        q.execute(
                            "check code: consume",
                            "UPDATE voter_codes SET code_hash = NULL \
                             WHERE election = $1 AND voter = $2",
                            &[&id, &voter],
                        )?;
                    }
                    CodeAction::CountWrong => {
                        q.execute(
                            "check code: count",
                            "UPDATE voter_codes SET attempts = attempts + 1 \
                             WHERE election = $1 AND voter = $2",
                            &[&id, &voter],
                        )?;
                    }
                }
                Ok(check)
            })
        })
    }

    fn create_voter_session(
        &self,
        token_hash: &Bytes32,
        id: &str,
        voter: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            conn.transaction("create voter session", |q| {
                q.require_voter(id, voter, false)?;
                let n = q.execute(
                    "create voter session",
                    "INSERT INTO voter_sessions (token_hash, election, voter, expires_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash) DO NOTHING",
                    &[&token_hash.as_slice(), &id, &voter, &expires_at],
                )?;
                if n == 0 {
                    return Err(StoreError::Exists("a voter session with this token".into()));
                }
                Ok(())
            })
        })
    }

    fn voter_session(
        &self,
        token_hash: &Bytes32,
        now: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.pool.with(|conn| {
            conn.autocommit()
                .query_opt(
                    "voter session",
                    "SELECT election, voter FROM voter_sessions \
                     WHERE token_hash = $1 AND expires_at > $2",
                    &[&token_hash.as_slice(), &now],
                )?
                .map(|r| {
                    Ok((
                        col(&r, 0, "voter_sessions.election")?,
                        col(&r, 1, "voter_sessions.voter")?,
                    ))
                })
                .transpose()
        })
    }

    fn delete_voter_session(&self, token_hash: &Bytes32) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            conn.autocommit().execute(
                "delete voter session",
                "DELETE FROM voter_sessions WHERE token_hash = $1",
                &[&token_hash.as_slice()],
            )?;
            Ok(())
        })
    }

    fn enqueue_mail(
        &self,
        id: &str,
        mails: &[NewMail<'_>],
        now: i64,
    ) -> Result<Vec<u64>, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("enqueue mail", |q| {
                q.require_election(id)?;
                let mut ids = Vec::with_capacity(mails.len());
                for m in mails {
                    let r = q
                        .query_opt(
                            "enqueue mail",
                            "INSERT INTO mail (election, voter, kind, recipient, message_id, \
                             message, status, attempts, next_attempt_at, last_error, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, NULL, $7) \
                             ON CONFLICT (message_id) DO NOTHING RETURNING id",
                            &[
                                &id,
                                &m.voter,
                                &m.kind,
                                &m.recipient,
                                &m.message_id,
                                &m.message,
                                &now,
                            ],
                        )?
                        .ok_or_else(|| {
                            StoreError::Exists(format!("a mail with Message-ID `{}`", m.message_id))
                        })?;
                    ids.push(to_u64(col(&r, 0, "mail.id")?, "mail.id")?);
                }
                Ok(ids)
            })
        })
    }

    fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: u64,
    ) -> Result<Vec<MailRow>, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("claim mail", |q| {
                // SKIP LOCKED: rows another claimer has locked are left to it; once it commits
                // they are no longer due (re-checked on the newest row version).
                let rows = q.query(
                    "claim mail",
                    "WITH due AS (SELECT id, next_attempt_at AS due_at FROM mail \
                     WHERE status = 'queued' AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     UPDATE mail m SET next_attempt_at = $2 FROM due WHERE m.id = due.id \
                     RETURNING m.id, m.election, m.voter, m.kind, m.recipient, m.message_id, \
                     m.message, m.status, m.attempts, m.next_attempt_at, m.last_error, \
                     m.updated_at, due.due_at",
                    &[&now, &lease_until, &to_i64(limit)],
                )?;
                let mut claimed = rows
                    .iter()
                    .map(|r| Ok((col::<i64>(r, 12, "mail.next_attempt_at")?, mail_row(r)?)))
                    .collect::<Result<Vec<(i64, MailRow)>, StoreError>>()?;
                claimed.sort_by_key(|(due, m)| (*due, m.id));
                Ok(claimed.into_iter().map(|(_, m)| m).collect())
            })
        })
    }

    fn update_mail(
        &self,
        mail_id: u64,
        update: &MailUpdate<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mail_id = to_i64(mail_id);
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let (status, error) = match *update {
                MailUpdate::Retry { at, error } => {
                    q.execute(
                        "update mail: retry",
                        "UPDATE mail SET attempts = attempts + 1, next_attempt_at = $2, \
                         last_error = $3, updated_at = $4 WHERE id = $1 AND status = 'queued'",
                        &[&mail_id, &at, &error, &now],
                    )?;
                    return Ok(());
                }
                MailUpdate::Sent => (MailStatus::Sent, None),
                MailUpdate::Failed { error } => (MailStatus::Failed, Some(error)),
                MailUpdate::Bounced { error } => (MailStatus::Bounced, Some(error)),
            };
            q.execute(
                "update mail: final",
                "UPDATE mail SET status = $2, message = ''::bytea, attempts = attempts + 1, \
                 last_error = coalesce($3, last_error), updated_at = $4 \
                 WHERE id = $1 AND status = 'queued'",
                &[&mail_id, &status.as_str(), &error, &now],
            )?;
            Ok(())
        })
    }

    fn bounce_mail(&self, message_id: &str, error: &str, now: i64) -> Result<bool, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("bounce mail", |q| {
                let n = q.execute(
                    "bounce mail",
                    "UPDATE mail SET status = 'bounced', message = ''::bytea, last_error = $2, \
                     updated_at = $3 WHERE message_id = $1 AND status IN ('queued', 'sent')",
                    &[&message_id, &error, &now],
                )?;
                if n > 0 {
                    return Ok(true);
                }
                let found = q.query_opt(
                    "bounce mail: find",
                    "SELECT 1 FROM mail WHERE message_id = $1",
                    &[&message_id],
                )?;
                Ok(found.is_some())
            })
        })
    }

    fn mail(&self, mail_id: u64) -> Result<Option<MailRow>, StoreError> {
        self.pool.with(|conn| {
            conn.autocommit()
                .query_opt(
                    "mail",
                    "SELECT id, election, voter, kind, recipient, message_id, message, status, \
                     attempts, next_attempt_at, last_error, updated_at FROM mail WHERE id = $1",
                    &[&to_i64(mail_id)],
                )?
                .map(|r| mail_row(&r))
                .transpose()
        })
    }

    fn mail_report(&self, id: &str) -> Result<MailReport, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = q.query(
                "mail report",
                "SELECT status, count(*) FROM mail WHERE election = $1 GROUP BY status",
                &[&id],
            )?;
            if rows.is_empty() {
                q.require_election(id)?;
            }
            let counts = rows
                .iter()
                .map(|r| {
                    Ok((
                        to_mail_status(col(r, 0, "mail.status")?)?,
                        to_u64(col(r, 1, "count(mail)")?, "count(mail)")?,
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(mail_report(&counts))
        })
    }

    fn mail_list(&self, id: &str, status: Option<MailStatus>) -> Result<Vec<MailRow>, StoreError> {
        self.pool.with(|conn| {
            let mut q = conn.autocommit();
            let rows = match status {
                Some(status) => q.query(
                    "mail list",
                    "SELECT id, election, voter, kind, recipient, message_id, ''::bytea, status, \
                     attempts, next_attempt_at, last_error, updated_at FROM mail \
                     WHERE election = $1 AND status = $2 ORDER BY id",
                    &[&id, &status.as_str()],
                )?,
                None => q.query(
                    "mail list",
                    "SELECT id, election, voter, kind, recipient, message_id, ''::bytea, status, \
                     attempts, next_attempt_at, last_error, updated_at FROM mail \
                     WHERE election = $1 ORDER BY id",
                    &[&id],
                )?,
            };
            if rows.is_empty() {
                q.require_election(id)?;
            }
            rows.iter().map(mail_row).collect()
        })
    }

    fn purge_personal_data(&self, id: &str) -> Result<PurgeCounts, StoreError> {
        self.pool.with(|conn| {
            conn.transaction("purge personal data", |q| {
                q.require_election(id)?;
                Ok(PurgeCounts {
                    codes: q.execute(
                        "purge: codes",
                        "DELETE FROM voter_codes WHERE election = $1",
                        &[&id],
                    )?,
                    sessions: q.execute(
                        "purge: sessions",
                        "DELETE FROM voter_sessions WHERE election = $1",
                        &[&id],
                    )?,
                    mail: q.execute(
                        "purge: mail",
                        "DELETE FROM mail WHERE election = $1",
                        &[&id],
                    )?,
                    voters: q.execute(
                        "purge: voters",
                        "DELETE FROM voters WHERE election = $1",
                        &[&id],
                    )?,
                })
            })
        })
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
