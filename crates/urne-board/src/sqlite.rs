//! The embedded backend: one SQLite database file in WAL mode.
//!
//! One writer connection behind a mutex does every write (SQLite has one writer at a time
//! anyway, and holding the mutex keeps a second writer of this process from waiting on the
//! file lock); reads use a small pool of reader connections, which WAL lets run beside the
//! writer, each read method in one read transaction (one consistent snapshot).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::types::FromSql;
use rusqlite::{Connection, Row, Transaction, TransactionBehavior, params};
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

/// The SQLite migrations, in order (`migrations/sqlite/`).
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "voters",
        sql: include_str!("../migrations/sqlite/0002_voters.sql"),
    },
];

/// The database file's name inside a data directory.
pub const DATABASE_FILE: &str = "urne.sqlite3";

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reader connections kept open between reads (more are opened when reads overlap).
const IDLE_READERS: usize = 4;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

const ELECTION_COLUMNS: &str = "id, phase, config, log_size, root, last_at, created_at, updated_at";

/// A [`Store`] in one SQLite database file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if needed) the database at `path` and brings its schema up to date.
    ///
    /// `path` is a data directory (an existing directory, or a path without an extension: it is
    /// created, and the database is its file [`DATABASE_FILE`]) or a database file (an existing
    /// file, or a path with an extension such as `board.sqlite3`: its parent directories are
    /// created). A database whose schema is newer than this build's is refused with
    /// [`StoreError::Corrupt`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = database_file(path.as_ref())?;
        let mut writer = connect(&path, false)?;
        migrate(&mut writer)?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema as SQLite keeps it (`sqlite_master`: tables and indexes with their SQL, in a
    /// stable order), for the test that pins it and for diagnostics.
    pub fn schema(&self) -> Result<String, StoreError> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master \
                     WHERE name NOT LIKE 'sqlite_%' ORDER BY type DESC, name",
                )
                .map_err(db("schema"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .map_err(db("schema"))?;
            let mut out = String::new();
            for row in rows {
                let (kind, name, table, sql) = row.map_err(db("schema"))?;
                out.push_str(&format!("-- {kind} {name} on {table}\n"));
                out.push_str(sql.as_deref().unwrap_or("(no sql)"));
                out.push_str(";\n\n");
            }
            Ok(out)
        })
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while the writer was held (an encoder that panicked) rolled its transaction
        // back as it unwound, so the connection is still sound.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one write transaction (BEGIN IMMEDIATE: the write lock is taken first, so
    /// what `f` reads cannot change before it writes).
    fn write<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(what))?;
        let value = f(&tx)?;
        tx.commit().map_err(db(what))?;
        Ok(value)
    }

    /// Runs `f` in one read transaction on a reader connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => connect(&self.path, true)?,
        };
        let result = match conn.transaction() {
            Ok(tx) => f(&tx).and_then(|v| tx.commit().map(|()| v).map_err(db("read"))),
            Err(e) => Err(db("read")(e)),
        };
        let mut idle = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

/// Where the database file of `path` is; creates the directories it needs.
fn database_file(path: &Path) -> Result<PathBuf, StoreError> {
    let io = |e: std::io::Error| {
        StoreError::Backend(format!(
            "cannot create data directory {}: {e}",
            path.display()
        ))
    };
    if path.is_dir() {
        return Ok(path.join(DATABASE_FILE));
    }
    if path.exists() || path.extension().is_some() {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_dirs(parent).map_err(io)?;
        }
        return Ok(path.to_path_buf());
    }
    create_dirs(path).map_err(io)?;
    Ok(path.join(DATABASE_FILE))
}

/// Creates a directory and its parents; those it creates are private to the server's user on
/// Unix (the database holds password hashes and session tokens' hashes).
fn create_dirs(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Opens one connection with the store's settings.
fn connect(path: &Path, reader: bool) -> Result<Connection, StoreError> {
    let what = if reader { "open reader" } else { "open" };
    let conn = Connection::open(path).map_err(|e| {
        StoreError::Backend(format!("cannot open database {}: {e}", path.display()))
    })?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db(what))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if reader {
        conn.pragma_update(None, "query_only", true)
            .map_err(db(what))?;
    } else {
        // WAL: readers never block the writer nor the writer them, and a commit appends to
        // one file. The mode is a property of the database file, set once by the writer.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db(what))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "{}: cannot use WAL mode (journal mode is {mode})",
                path.display()
            )));
        }
        // Checkpoints (copying the WAL's pages into the database file) every 10,000 pages
        // (40 MB) rather than SQLite's 1,000: an index page changed by many commits in between
        // is copied once. Under `urne load` this writes 18% fewer bytes per ballot and keeps
        // the disk's queue short (docs/performance.md). Durability is the WAL's, synced at
        // every commit: a checkpoint only moves what is already durable.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)
            .map_err(db(what))?;
    }
    // synchronous = FULL: in WAL mode, the default NORMAL leaves the last transactions in the
    // WAL unsynced and a power loss can undo them. A ballot whose append has returned has been
    // acknowledged to its voter with its seq and the board's root: it must survive power loss,
    // so every commit waits for the WAL's fsync.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db(what))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(db(what))?;
    Ok(conn)
}

/// Creates `schema_migrations` and applies the migrations the database lacks, in one
/// transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let what = "migrate";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db(what))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT",
    )
    .map_err(db(what))?;
    let applied = {
        let mut stmt = tx
            .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
            .map_err(db(what))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(db(what))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(corrupt("schema_migrations"))?
    };
    for m in pending(MIGRATIONS, &applied)? {
        tx.execute_batch(m.sql).map_err(|e| {
            StoreError::Backend(format!("migration {} ({}): {e}", m.version, m.name))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, unix_now()],
        )
        .map_err(db(what))?;
    }
    tx.commit().map_err(db(what))
}

/// Maps a database error to [`StoreError::Backend`] with what was being done.
fn db(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::Backend(format!("sqlite: {what}: {e}"))
}

/// Maps an error reading a stored value to [`StoreError::Corrupt`] naming the column, unless it
/// is the database failing.
fn corrupt(column: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| match e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::Utf8Error(..) => StoreError::Corrupt(format!("{column}: {e}")),
        e => StoreError::Backend(format!("sqlite: reading {column}: {e}")),
    }
}

/// One column of a row, with [`corrupt`]'s mapping.
fn col<T: FromSql>(row: &Row<'_>, idx: usize, column: &'static str) -> Result<T, StoreError> {
    row.get(idx).map_err(corrupt(column))
}

fn election_row(row: &Row<'_>) -> Result<ElectionRow, StoreError> {
    let phase: String = col(row, 1, "elections.phase")?;
    let root: Vec<u8> = col(row, 4, "elections.root")?;
    Ok(ElectionRow {
        id: col(row, 0, "elections.id")?,
        phase: to_phase(&phase)?,
        config: col(row, 2, "elections.config")?,
        log_size: to_u64(col(row, 3, "elections.log_size")?, "elections.log_size")?,
        root: bytes32(&root, "elections.root")?,
        last_at: col(row, 5, "elections.last_at")?,
        created_at: col(row, 6, "elections.created_at")?,
        updated_at: col(row, 7, "elections.updated_at")?,
    })
}

/// Runs a query and decodes each row with `f`.
fn query_all<T>(
    tx: &Transaction<'_>,
    what: &'static str,
    sql: &str,
    params: impl rusqlite::Params,
    mut f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = tx.prepare_cached(sql).map_err(db(what))?;
    let mut rows = stmt.query(params).map_err(db(what))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db(what))? {
        out.push(f(row)?);
    }
    Ok(out)
}

/// Runs a query for at most one row and decodes it with `f`.
fn query_opt<T>(
    tx: &Transaction<'_>,
    what: &'static str,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = tx.prepare_cached(sql).map_err(db(what))?;
    let mut rows = stmt.query(params).map_err(db(what))?;
    match rows.next().map_err(db(what))? {
        Some(row) => f(row).map(Some),
        None => Ok(None),
    }
}

/// Runs a statement; returns the number of rows it changed.
fn exec(
    tx: &Transaction<'_>,
    what: &'static str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    tx.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map_err(db(what))
}

fn load_election(tx: &Transaction<'_>, id: &str) -> Result<Option<ElectionRow>, StoreError> {
    query_opt(
        tx,
        "election",
        &format!("SELECT {ELECTION_COLUMNS} FROM elections WHERE id = ?1"),
        [id],
        election_row,
    )
}

/// The phase of an election, or [`StoreError::NoElection`].
fn phase_of(tx: &Transaction<'_>, id: &str) -> Result<Phase, StoreError> {
    let phase = query_opt(
        tx,
        "election phase",
        "SELECT phase FROM elections WHERE id = ?1",
        [id],
        |r| col::<String>(r, 0, "elections.phase"),
    )?;
    match phase {
        Some(p) => to_phase(&p),
        None => Err(StoreError::NoElection(id.to_owned())),
    }
}

/// [`StoreError::NoElection`] unless the election exists.
fn require_election(tx: &Transaction<'_>, id: &str) -> Result<(), StoreError> {
    phase_of(tx, id).map(|_| ())
}

/// The election's row after a change, which must exist.
fn reload(tx: &Transaction<'_>, id: &str) -> Result<ElectionRow, StoreError> {
    load_election(tx, id)?.ok_or_else(|| StoreError::NoElection(id.to_owned()))
}

fn message_row(r: &Row<'_>) -> Result<Message, StoreError> {
    Ok(Message {
        idx: to_u64(col(r, 0, "messages.idx")?, "messages.idx")?,
        kind: col(r, 1, "messages.kind")?,
        sender: to_u32(col(r, 2, "messages.sender")?, "messages.sender")?,
        body: col(r, 3, "messages.body")?,
        at: col(r, 4, "messages.at")?,
    })
}

fn audit_row(r: &Row<'_>) -> Result<AuditRow, StoreError> {
    Ok(AuditRow {
        id: to_u64(col(r, 0, "audit_log.id")?, "audit_log.id")?,
        at: col(r, 1, "audit_log.at")?,
        actor: col(r, 2, "audit_log.actor")?,
        election: col(r, 3, "audit_log.election")?,
        action: col(r, 4, "audit_log.action")?,
        detail: col(r, 5, "audit_log.detail")?,
    })
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.read(|tx| tx.query_row("SELECT 1", [], |_| Ok(())).map_err(db("ping")))
    }

    fn create_election(&self, id: &str, config: &str, now: i64) -> Result<ElectionRow, StoreError> {
        let root = empty_root();
        self.write("create election", |tx| {
            let n = exec(
                tx,
                "create election",
                "INSERT INTO elections (id, phase, config, log_size, frontier, root, last_at, \
                 next_message, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, 0, x'', ?4, 0, 0, ?5, ?5) ON CONFLICT (id) DO NOTHING",
                params![id, Phase::Draft.as_str(), config, root.as_slice(), now],
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
        self.read(|tx| load_election(tx, id))
    }

    fn elections(&self) -> Result<Vec<ElectionRow>, StoreError> {
        self.read(|tx| {
            query_all(
                tx,
                "elections",
                &format!("SELECT {ELECTION_COLUMNS} FROM elections ORDER BY id"),
                [],
                election_row,
            )
        })
    }

    fn update_config(
        &self,
        id: &str,
        expect: &[Phase],
        config: &str,
        now: i64,
    ) -> Result<ElectionRow, StoreError> {
        self.write("update config", |tx| {
            check_phase(phase_of(tx, id)?, expect)?;
            exec(
                tx,
                "update config",
                "UPDATE elections SET config = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, config, now],
            )?;
            reload(tx, id)
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
        self.write("set phase", |tx| {
            check_phase(phase_of(tx, id)?, expect)?;
            exec(
                tx,
                "set phase",
                "UPDATE elections SET phase = ?2, config = coalesce(?3, config), updated_at = ?4 \
                 WHERE id = ?1",
                params![id, to.as_str(), config, now],
            )?;
            reload(tx, id)
        })
    }

    fn append(&self, id: &str, append: &Append<'_>) -> Result<Appended, StoreError> {
        self.write("append", |tx| {
            let board = query_opt(
                tx,
                "append: read election",
                "SELECT phase, log_size, frontier, root, last_at FROM elections WHERE id = ?1",
                [id],
                |r| {
                    let phase: String = col(r, 0, "elections.phase")?;
                    Ok(Board {
                        phase: to_phase(&phase)?,
                        log_size: to_u64(col(r, 1, "elections.log_size")?, "elections.log_size")?,
                        frontier: col(r, 2, "elections.frontier")?,
                        root: col(r, 3, "elections.root")?,
                        last_at: col(r, 4, "elections.last_at")?,
                    })
                },
            )?
            .ok_or_else(|| StoreError::NoElection(id.to_owned()))?;

            let seq_of = |r: &Row<'_>| to_u64(col(r, 0, "ballots.seq")?, "ballots.seq");
            let plan = plan_append(
                &board,
                append,
                |tracker| {
                    query_opt(
                        tx,
                        "append: find tracker",
                        "SELECT seq FROM ballots WHERE election = ?1 AND tracker = ?2",
                        params![id, tracker.as_slice()],
                        seq_of,
                    )
                },
                |credential| {
                    query_opt(
                        tx,
                        "append: find credential",
                        "SELECT seq FROM ballots WHERE election = ?1 AND credential = ?2 \
                         ORDER BY seq LIMIT 1",
                        params![id, credential.as_slice()],
                        seq_of,
                    )
                },
            )?;

            {
                let mut insert_line = tx
                    .prepare_cached(
                        "INSERT INTO log (election, seq, kind, line, leaf) \
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(db("append: insert line"))?;
                let mut insert_ballot = tx
                    .prepare_cached(
                        "INSERT INTO ballots (election, tracker, credential, seq) \
                         VALUES (?1, ?2, ?3, ?4)",
                    )
                    .map_err(db("append: insert ballot"))?;
                for line in &plan.lines {
                    let seq = stored_i64(line.seq, "log.seq")?;
                    insert_line
                        .execute(params![id, seq, line.kind, line.line, line.leaf.as_slice()])
                        .map_err(db("append: insert line"))?;
                    if let Some(tracker) = &line.tracker {
                        insert_ballot
                            .execute(params![
                                id,
                                tracker.as_slice(),
                                line.credential.as_ref().map(|c| c.as_slice()),
                                seq
                            ])
                            .map_err(db("append: insert ballot"))?;
                    }
                }
            }

            if !plan.lines.is_empty() || append.set_phase.is_some() {
                let last_at = if plan.lines.is_empty() {
                    board.last_at
                } else {
                    plan.at
                };
                let phase = append.set_phase.unwrap_or(board.phase);
                exec(
                    tx,
                    "append: update election",
                    "UPDATE elections SET log_size = ?2, frontier = ?3, root = ?4, last_at = ?5, \
                     phase = ?6, updated_at = ?7 WHERE id = ?1",
                    params![
                        id,
                        stored_i64(plan.size, "elections.log_size")?,
                        plan.frontier,
                        plan.root.as_slice(),
                        last_at,
                        phase.as_str(),
                        append.now
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
    }

    fn lines(&self, id: &str, from: u64, limit: u64) -> Result<Vec<LogLine>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            query_all(
                tx,
                "lines",
                "SELECT seq, line FROM log WHERE election = ?1 AND seq >= ?2 ORDER BY seq \
                 LIMIT ?3",
                params![id, to_i64(from), to_i64(limit)],
                |r| {
                    Ok(LogLine {
                        seq: to_u64(col(r, 0, "log.seq")?, "log.seq")?,
                        line: col(r, 1, "log.line")?,
                    })
                },
            )
        })
    }

    fn leaves(&self, id: &str, from: u64, to: u64) -> Result<Vec<Bytes32>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            query_all(
                tx,
                "leaves",
                "SELECT leaf FROM log WHERE election = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq",
                params![id, to_i64(from), to_i64(to)],
                |r| bytes32(&col::<Vec<u8>>(r, 0, "log.leaf")?, "log.leaf"),
            )
        })
    }

    fn tracker_seq(&self, id: &str, tracker: &Bytes32) -> Result<Option<u64>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            query_opt(
                tx,
                "tracker",
                "SELECT seq FROM ballots WHERE election = ?1 AND tracker = ?2",
                params![id, tracker.as_slice()],
                |r| to_u64(col(r, 0, "ballots.seq")?, "ballots.seq"),
            )
        })
    }

    fn put_tree_head(&self, id: &str, head: &TreeHeadRow) -> Result<(), StoreError> {
        self.write("put tree head", |tx| {
            require_election(tx, id)?;
            exec(
                tx,
                "put tree head",
                "INSERT INTO tree_heads (election, size, body) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (election, size) DO NOTHING",
                params![id, stored_i64(head.size, "tree_heads.size")?, head.body],
            )?;
            Ok(())
        })
    }

    fn tree_head(&self, id: &str, size: Option<u64>) -> Result<Option<TreeHeadRow>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            let decode = |r: &Row<'_>| {
                Ok(TreeHeadRow {
                    size: to_u64(col(r, 0, "tree_heads.size")?, "tree_heads.size")?,
                    body: col(r, 1, "tree_heads.body")?,
                })
            };
            match size {
                Some(size) => query_opt(
                    tx,
                    "tree head",
                    "SELECT size, body FROM tree_heads WHERE election = ?1 AND size = ?2",
                    params![id, to_i64(size)],
                    decode,
                ),
                None => query_opt(
                    tx,
                    "latest tree head",
                    "SELECT size, body FROM tree_heads WHERE election = ?1 \
                     ORDER BY size DESC LIMIT 1",
                    [id],
                    decode,
                ),
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
        self.write("put message", |tx| {
            let idx = query_opt(
                tx,
                "put message: number",
                "UPDATE elections SET next_message = next_message + 1 WHERE id = ?1 \
                 RETURNING next_message - 1",
                [id],
                |r| col::<i64>(r, 0, "elections.next_message"),
            )?
            .ok_or_else(|| StoreError::NoElection(id.to_owned()))?;
            exec(
                tx,
                "put message",
                "INSERT INTO messages (election, idx, kind, sender, body, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, idx, kind, sender, body, now],
            )?;
            to_u64(idx, "elections.next_message")
        })
    }

    fn messages(
        &self,
        id: &str,
        kind: Option<&str>,
        after: u64,
    ) -> Result<Vec<Message>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            match kind {
                Some(kind) => query_all(
                    tx,
                    "messages",
                    "SELECT idx, kind, sender, body, at FROM messages \
                     WHERE election = ?1 AND kind = ?2 AND idx >= ?3 ORDER BY idx",
                    params![id, kind, to_i64(after)],
                    message_row,
                ),
                None => query_all(
                    tx,
                    "messages",
                    "SELECT idx, kind, sender, body, at FROM messages \
                     WHERE election = ?1 AND idx >= ?2 ORDER BY idx",
                    params![id, to_i64(after)],
                    message_row,
                ),
            }
        })
    }

    fn message_heads(
        &self,
        id: &str,
        kind: &str,
        after: u64,
        head_chars: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            // substr counts characters of TEXT, so a cut never splits one.
            query_all(
                tx,
                "message heads",
                "SELECT idx, kind, sender, substr(body, 1, ?4), at FROM messages \
                 WHERE election = ?1 AND kind = ?2 AND idx >= ?3 ORDER BY idx",
                params![id, kind, to_i64(after), i64::from(head_chars)],
                message_row,
            )
        })
    }

    fn delete_messages(&self, id: &str, kind: &str) -> Result<u64, StoreError> {
        self.write("delete messages", |tx| {
            require_election(tx, id)?;
            let n = exec(
                tx,
                "delete messages",
                "DELETE FROM messages WHERE election = ?1 AND kind = ?2",
                params![id, kind],
            )?;
            Ok(n as u64)
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
        self.write("delete messages from", |tx| {
            require_election(tx, id)?;
            let n = exec(
                tx,
                "delete messages from",
                "DELETE FROM messages WHERE election = ?1 AND kind = ?2 \
                 AND (?3 IS NULL OR sender = ?3) AND (?4 IS NULL OR idx < ?4)",
                params![id, kind, sender, before],
            )?;
            Ok(n as u64)
        })
    }

    fn create_admin(&self, name: &str, password_hash: &str, now: i64) -> Result<(), StoreError> {
        self.write("create admin", |tx| {
            let n = exec(
                tx,
                "create admin",
                "INSERT INTO admins (name, password_hash, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO NOTHING",
                params![name, password_hash, now],
            )?;
            if n == 0 {
                return Err(StoreError::Exists(format!("administrator `{name}`")));
            }
            Ok(())
        })
    }

    fn admin(&self, name: &str) -> Result<Option<AdminRow>, StoreError> {
        self.read(|tx| {
            query_opt(
                tx,
                "admin",
                "SELECT name, password_hash, created_at FROM admins WHERE name = ?1",
                [name],
                |r| {
                    Ok(AdminRow {
                        name: col(r, 0, "admins.name")?,
                        password_hash: col(r, 1, "admins.password_hash")?,
                        created_at: col(r, 2, "admins.created_at")?,
                    })
                },
            )
        })
    }

    fn admin_count(&self) -> Result<u64, StoreError> {
        self.read(|tx| {
            let n = query_opt(tx, "admin count", "SELECT count(*) FROM admins", [], |r| {
                col::<i64>(r, 0, "count(admins)")
            })?;
            to_u64(n.unwrap_or(0), "count(admins)")
        })
    }

    fn create_session(
        &self,
        token_hash: &Bytes32,
        admin: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write("create session", |tx| {
            require_admin(tx, admin)?;
            let n = exec(
                tx,
                "create session",
                "INSERT INTO sessions (token_hash, admin, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (token_hash) DO NOTHING",
                params![token_hash.as_slice(), admin, expires_at],
            )?;
            if n == 0 {
                return Err(StoreError::Exists("a session with this token".into()));
            }
            Ok(())
        })
    }

    fn session(&self, token_hash: &Bytes32, now: i64) -> Result<Option<String>, StoreError> {
        self.read(|tx| {
            query_opt(
                tx,
                "session",
                "SELECT admin FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash.as_slice(), now],
                |r| col(r, 0, "sessions.admin"),
            )
        })
    }

    fn delete_session(&self, token_hash: &Bytes32) -> Result<(), StoreError> {
        self.write("delete session", |tx| {
            exec(
                tx,
                "delete session",
                "DELETE FROM sessions WHERE token_hash = ?1",
                [token_hash.as_slice()],
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
        self.write("create API token", |tx| {
            require_admin(tx, admin)?;
            let n = exec(
                tx,
                "create API token",
                "INSERT INTO api_tokens (token_hash, admin, label, created_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (token_hash) DO NOTHING",
                params![token_hash.as_slice(), admin, label, now],
            )?;
            if n == 0 {
                return Err(StoreError::Exists("an API token with this secret".into()));
            }
            Ok(())
        })
    }

    fn api_token(&self, token_hash: &Bytes32) -> Result<Option<String>, StoreError> {
        self.read(|tx| {
            query_opt(
                tx,
                "API token",
                "SELECT admin FROM api_tokens WHERE token_hash = ?1",
                [token_hash.as_slice()],
                |r| col(r, 0, "api_tokens.admin"),
            )
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
        self.write("audit", |tx| {
            let id = query_opt(
                tx,
                "audit",
                "INSERT INTO audit_log (at, actor, election, action, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![now, actor, election, action, detail],
                |r| col::<i64>(r, 0, "audit_log.id"),
            )?
            .ok_or_else(|| StoreError::Backend("sqlite: audit: no id returned".into()))?;
            to_u64(id, "audit_log.id")
        })
    }

    fn audit_log(&self, election: Option<&str>) -> Result<Vec<AuditRow>, StoreError> {
        self.read(|tx| match election {
            Some(election) => query_all(
                tx,
                "audit log",
                "SELECT id, at, actor, election, action, detail FROM audit_log \
                 WHERE election = ?1 ORDER BY id",
                [election],
                audit_row,
            ),
            None => query_all(
                tx,
                "audit log",
                "SELECT id, at, actor, election, action, detail FROM audit_log ORDER BY id",
                [],
                audit_row,
            ),
        })
    }

    fn purge_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        self.write("purge expired sessions", |tx| {
            let admins = exec(
                tx,
                "purge expired sessions",
                "DELETE FROM sessions WHERE expires_at <= ?1",
                [now],
            )?;
            let voters = exec(
                tx,
                "purge expired voter sessions",
                "DELETE FROM voter_sessions WHERE expires_at <= ?1",
                [now],
            )?;
            Ok((admins + voters) as u64)
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
        self.write("replace roll", |tx| {
            check_phase(phase_of(tx, id)?, expect)?;
            exec(
                tx,
                "replace roll: delete",
                "DELETE FROM voters WHERE election = ?1",
                [id],
            )?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO voters (election, voter, email, name, weight, lang, \
                         credential, voted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )
                    .map_err(db("replace roll: insert"))?;
                for v in voters {
                    insert
                        .execute(params![
                            id,
                            v.voter,
                            v.email,
                            v.name,
                            stored_i64(v.weight, "voters.weight")?,
                            v.lang,
                            v.credential.as_ref().map(|c| c.as_slice()),
                            v.voted_at
                        ])
                        .map_err(db("replace roll: insert"))?;
                }
            }
            exec(
                tx,
                "replace roll: codes",
                "DELETE FROM voter_codes WHERE election = ?1 \
                 AND voter NOT IN (SELECT voter FROM voters WHERE election = ?1)",
                [id],
            )?;
            exec(
                tx,
                "replace roll: sessions",
                "DELETE FROM voter_sessions WHERE election = ?1 \
                 AND voter NOT IN (SELECT voter FROM voters WHERE election = ?1)",
                [id],
            )?;
            exec(
                tx,
                "replace roll: election",
                "UPDATE elections SET updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            Ok(voters.len() as u64)
        })
    }

    fn roll(&self, id: &str, after: Option<&str>, limit: u64) -> Result<Vec<VoterRow>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            match after {
                Some(after) => query_all(
                    tx,
                    "roll",
                    "SELECT voter, email, name, weight, lang, credential, voted_at FROM voters \
                     WHERE election = ?1 AND voter > ?2 ORDER BY voter LIMIT ?3",
                    params![id, after, to_i64(limit)],
                    voter_row,
                ),
                None => query_all(
                    tx,
                    "roll",
                    "SELECT voter, email, name, weight, lang, credential, voted_at FROM voters \
                     WHERE election = ?1 ORDER BY voter LIMIT ?2",
                    params![id, to_i64(limit)],
                    voter_row,
                ),
            }
        })
    }

    fn voter(&self, id: &str, voter: &str) -> Result<Option<VoterRow>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            query_opt(
                tx,
                "voter",
                "SELECT voter, email, name, weight, lang, credential, voted_at FROM voters \
                 WHERE election = ?1 AND voter = ?2",
                params![id, voter],
                voter_row,
            )
        })
    }

    fn roll_stats(&self, id: &str) -> Result<RollStats, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            query_opt(
                tx,
                "roll stats",
                "SELECT count(*), coalesce(sum(weight), 0), count(credential), count(voted_at) \
                 FROM voters WHERE election = ?1",
                [id],
                |r| {
                    Ok(RollStats {
                        voters: to_u64(col(r, 0, "count(voters)")?, "count(voters)")?,
                        total_weight: to_u64(col(r, 1, "sum(voters.weight)")?, "sum(weight)")?,
                        linked: to_u64(col(r, 2, "count(voters.credential)")?, "linked")?,
                        voted: to_u64(col(r, 3, "count(voters.voted_at)")?, "voted")?,
                    })
                },
            )
            .map(Option::unwrap_or_default)
        })
    }

    fn link_credentials(
        &self,
        id: &str,
        links: &[(&str, Bytes32)],
        _now: i64,
    ) -> Result<Vec<LinkOutcome>, StoreError> {
        let mut order: Vec<usize> = (0..links.len()).collect();
        order.sort_by(|&a, &b| links[a].0.cmp(links[b].0));
        self.write("link credential", |tx| {
            require_election(tx, id)?;
            let mut outcomes = vec![LinkOutcome::Already; links.len()];
            for &i in &order {
                let (voter, credential) = (links[i].0, &links[i].1);
                let current = query_opt(
                    tx,
                    "link credential: voter",
                    "SELECT credential FROM voters WHERE election = ?1 AND voter = ?2",
                    params![id, voter],
                    |r| {
                        col::<Option<Vec<u8>>>(r, 0, "voters.credential")?
                            .map(|c| bytes32(&c, "voters.credential"))
                            .transpose()
                    },
                )?
                .ok_or_else(|| no_voter(id, voter))?;
                let taken = current.is_none()
                    && query_opt(
                        tx,
                        "link credential: holder",
                        "SELECT 1 FROM voters WHERE election = ?1 AND credential = ?2",
                        params![id, credential.as_slice()],
                        |_| Ok(()),
                    )?
                    .is_some();
                let outcome = link_outcome(current.as_ref(), credential, taken);
                if outcome == LinkOutcome::Linked {
                    exec(
                        tx,
                        "link credential",
                        "UPDATE voters SET credential = ?3 WHERE election = ?1 AND voter = ?2",
                        params![id, voter, credential.as_slice()],
                    )?;
                }
                outcomes[i] = outcome;
            }
            Ok(outcomes)
        })
    }

    fn mark_voted(&self, id: &str, voters: &[&str], now: i64) -> Result<(), StoreError> {
        self.write("mark voted", |tx| {
            require_election(tx, id)?;
            for voter in voters {
                let n = exec(
                    tx,
                    "mark voted",
                    "UPDATE voters SET voted_at = coalesce(voted_at, ?3) \
                     WHERE election = ?1 AND voter = ?2",
                    params![id, voter, now],
                )?;
                if n == 0 {
                    return Err(no_voter(id, voter));
                }
            }
            Ok(())
        })
    }

    fn voted(&self, id: &str) -> Result<Vec<String>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            query_all(
                tx,
                "voted",
                "SELECT voter FROM voters WHERE election = ?1 AND voted_at IS NOT NULL \
                 ORDER BY voter",
                [id],
                |r| col(r, 0, "voters.voter"),
            )
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
        self.write("put code", |tx| {
            require_voter(tx, id, voter)?;
            let window = query_opt(
                tx,
                "put code: window",
                "SELECT window_start, window_count FROM voter_codes \
                 WHERE election = ?1 AND voter = ?2",
                params![id, voter],
                |r| {
                    Ok((
                        col::<i64>(r, 0, "voter_codes.window_start")?,
                        to_u32(
                            col(r, 1, "voter_codes.window_count")?,
                            "voter_codes.window_count",
                        )?,
                    ))
                },
            )?;
            let Some((start, count)) = next_code_window(window, now, max_per_hour) else {
                return Ok(false);
            };
            exec(
                tx,
                "put code",
                "INSERT INTO voter_codes (election, voter, code_hash, expires_at, attempts, \
                 sent_at, window_start, window_count) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7) \
                 ON CONFLICT (election, voter) DO UPDATE SET code_hash = excluded.code_hash, \
                 expires_at = excluded.expires_at, attempts = 0, sent_at = excluded.sent_at, \
                 window_start = excluded.window_start, window_count = excluded.window_count",
                params![
                    id,
                    voter,
                    code_hash.as_slice(),
                    expires_at,
                    now,
                    start,
                    count
                ],
            )?;
            Ok(true)
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
        self.write("check code", |tx| {
            require_election(tx, id)?;
            let row = query_opt(
                tx,
                "check code: read",
                "SELECT code_hash, expires_at, attempts FROM voter_codes \
                 WHERE election = ?1 AND voter = ?2",
                params![id, voter],
                |r| {
                    Ok(CodeRow {
                        code_hash: col(r, 0, "voter_codes.code_hash")?,
                        expires_at: col(r, 1, "voter_codes.expires_at")?,
                        attempts: to_u32(
                            col(r, 2, "voter_codes.attempts")?,
                            "voter_codes.attempts",
                        )?,
                    })
                },
            )?;
            let (check, action) = judge_code(row.as_ref(), code_hash, now, max_attempts)?;
            let sql = match action {
                CodeAction::Nothing => return Ok(check),
                CodeAction::Consume => {
                    "UPDATE voter_codes SET code_hash = NULL WHERE election = ?1 AND voter = ?2"
                }
                CodeAction::CountWrong => {
                    "UPDATE voter_codes SET attempts = attempts + 1 \
                     WHERE election = ?1 AND voter = ?2"
                }
            };
            exec(tx, "check code: write", sql, params![id, voter])?;
            Ok(check)
        })
    }

    fn create_voter_session(
        &self,
        token_hash: &Bytes32,
        id: &str,
        voter: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write("create voter session", |tx| {
            require_voter(tx, id, voter)?;
            let n = exec(
                tx,
                "create voter session",
                "INSERT INTO voter_sessions (token_hash, election, voter, expires_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (token_hash) DO NOTHING",
                params![token_hash.as_slice(), id, voter, expires_at],
            )?;
            if n == 0 {
                return Err(StoreError::Exists("a voter session with this token".into()));
            }
            Ok(())
        })
    }

    fn voter_session(
        &self,
        token_hash: &Bytes32,
        now: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.read(|tx| {
            query_opt(
                tx,
                "voter session",
                "SELECT election, voter FROM voter_sessions \
                 WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash.as_slice(), now],
                |r| {
                    Ok((
                        col(r, 0, "voter_sessions.election")?,
                        col(r, 1, "voter_sessions.voter")?,
                    ))
                },
            )
        })
    }

    fn delete_voter_session(&self, token_hash: &Bytes32) -> Result<(), StoreError> {
        self.write("delete voter session", |tx| {
            exec(
                tx,
                "delete voter session",
                "DELETE FROM voter_sessions WHERE token_hash = ?1",
                [token_hash.as_slice()],
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
        self.write("enqueue mail", |tx| {
            require_election(tx, id)?;
            let mut ids = Vec::with_capacity(mails.len());
            for m in mails {
                let mail_id = query_opt(
                    tx,
                    "enqueue mail",
                    "INSERT INTO mail (election, voter, kind, recipient, message_id, message, \
                     status, attempts, next_attempt_at, last_error, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', 0, ?7, NULL, ?7) \
                     ON CONFLICT (message_id) DO NOTHING RETURNING id",
                    params![
                        id,
                        m.voter,
                        m.kind,
                        m.recipient,
                        m.message_id,
                        m.message,
                        now
                    ],
                    |r| col::<i64>(r, 0, "mail.id"),
                )?
                .ok_or_else(|| {
                    StoreError::Exists(format!("a mail with Message-ID `{}`", m.message_id))
                })?;
                ids.push(to_u64(mail_id, "mail.id")?);
            }
            Ok(ids)
        })
    }

    fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: u64,
    ) -> Result<Vec<MailRow>, StoreError> {
        self.write("claim mail", |tx| {
            let mut due = query_all(
                tx,
                "claim mail: due",
                "SELECT id, election, voter, kind, recipient, message_id, message, status, \
                 attempts, next_attempt_at, last_error, updated_at FROM mail \
                 WHERE status = 'queued' AND next_attempt_at <= ?1 \
                 ORDER BY next_attempt_at, id LIMIT ?2",
                params![now, to_i64(limit)],
                mail_row,
            )?;
            for m in &mut due {
                exec(
                    tx,
                    "claim mail: lease",
                    "UPDATE mail SET next_attempt_at = ?2 WHERE id = ?1",
                    params![to_i64(m.id), lease_until],
                )?;
                m.next_attempt_at = lease_until;
            }
            Ok(due)
        })
    }

    fn update_mail(
        &self,
        mail_id: u64,
        update: &MailUpdate<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mail_id = to_i64(mail_id);
        self.write("update mail", |tx| {
            let (status, error) = match *update {
                MailUpdate::Retry { at, error } => {
                    exec(
                        tx,
                        "update mail: retry",
                        "UPDATE mail SET attempts = attempts + 1, next_attempt_at = ?2, \
                         last_error = ?3, updated_at = ?4 WHERE id = ?1 AND status = 'queued'",
                        params![mail_id, at, error, now],
                    )?;
                    return Ok(());
                }
                MailUpdate::Sent => (MailStatus::Sent, None),
                MailUpdate::Failed { error } => (MailStatus::Failed, Some(error)),
                MailUpdate::Bounced { error } => (MailStatus::Bounced, Some(error)),
            };
            exec(
                tx,
                "update mail: final",
                "UPDATE mail SET status = ?2, message = x'', attempts = attempts + 1, \
                 last_error = coalesce(?3, last_error), updated_at = ?4 \
                 WHERE id = ?1 AND status = 'queued'",
                params![mail_id, status.as_str(), error, now],
            )?;
            Ok(())
        })
    }

    fn bounce_mail(&self, message_id: &str, error: &str, now: i64) -> Result<bool, StoreError> {
        self.write("bounce mail", |tx| {
            let n = exec(
                tx,
                "bounce mail",
                "UPDATE mail SET status = 'bounced', message = x'', last_error = ?2, \
                 updated_at = ?3 WHERE message_id = ?1 AND status IN ('queued', 'sent')",
                params![message_id, error, now],
            )?;
            if n > 0 {
                return Ok(true);
            }
            let found = query_opt(
                tx,
                "bounce mail: find",
                "SELECT 1 FROM mail WHERE message_id = ?1",
                [message_id],
                |_| Ok(()),
            )?;
            Ok(found.is_some())
        })
    }

    fn mail(&self, mail_id: u64) -> Result<Option<MailRow>, StoreError> {
        self.read(|tx| {
            query_opt(
                tx,
                "mail",
                "SELECT id, election, voter, kind, recipient, message_id, message, status, \
                 attempts, next_attempt_at, last_error, updated_at FROM mail WHERE id = ?1",
                [to_i64(mail_id)],
                mail_row,
            )
        })
    }

    fn mail_report(&self, id: &str) -> Result<MailReport, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            let counts = query_all(
                tx,
                "mail report",
                "SELECT status, count(*) FROM mail WHERE election = ?1 GROUP BY status",
                [id],
                |r| {
                    Ok((
                        to_mail_status(&col::<String>(r, 0, "mail.status")?)?,
                        to_u64(col(r, 1, "count(mail)")?, "count(mail)")?,
                    ))
                },
            )?;
            Ok(mail_report(&counts))
        })
    }

    fn mail_list(&self, id: &str, status: Option<MailStatus>) -> Result<Vec<MailRow>, StoreError> {
        self.read(|tx| {
            require_election(tx, id)?;
            match status {
                Some(status) => query_all(
                    tx,
                    "mail list",
                    "SELECT id, election, voter, kind, recipient, message_id, x'', status, \
                     attempts, next_attempt_at, last_error, updated_at FROM mail \
                     WHERE election = ?1 AND status = ?2 ORDER BY id",
                    params![id, status.as_str()],
                    mail_row,
                ),
                None => query_all(
                    tx,
                    "mail list",
                    "SELECT id, election, voter, kind, recipient, message_id, x'', status, \
                     attempts, next_attempt_at, last_error, updated_at FROM mail \
                     WHERE election = ?1 ORDER BY id",
                    [id],
                    mail_row,
                ),
            }
        })
    }

    fn purge_personal_data(&self, id: &str) -> Result<PurgeCounts, StoreError> {
        self.write("purge personal data", |tx| {
            require_election(tx, id)?;
            let delete =
                |what: &'static str, sql: &str| exec(tx, what, sql, [id]).map(|n| n as u64);
            Ok(PurgeCounts {
                codes: delete(
                    "purge: codes",
                    "DELETE FROM voter_codes WHERE election = ?1",
                )?,
                sessions: delete(
                    "purge: sessions",
                    "DELETE FROM voter_sessions WHERE election = ?1",
                )?,
                mail: delete("purge: mail", "DELETE FROM mail WHERE election = ?1")?,
                voters: delete("purge: voters", "DELETE FROM voters WHERE election = ?1")?,
            })
        })
    }
}

/// [`StoreError::Backend`] unless the administrator exists (sessions and tokens belong to one).
fn require_admin(tx: &Transaction<'_>, name: &str) -> Result<(), StoreError> {
    let found = query_opt(
        tx,
        "find admin",
        "SELECT 1 FROM admins WHERE name = ?1",
        [name],
        |_| Ok(()),
    )?;
    found.ok_or_else(|| StoreError::Backend(format!("no administrator `{name}`")))
}

/// [`StoreError::NoElection`] unless the election exists, then [`no_voter`] unless the voter
/// is on its roll.
fn require_voter(tx: &Transaction<'_>, id: &str, voter: &str) -> Result<(), StoreError> {
    require_election(tx, id)?;
    let found = query_opt(
        tx,
        "find voter",
        "SELECT 1 FROM voters WHERE election = ?1 AND voter = ?2",
        params![id, voter],
        |_| Ok(()),
    )?;
    found.ok_or_else(|| no_voter(id, voter))
}

/// A row of `voters` (voter, email, name, weight, lang, credential, voted_at).
fn voter_row(r: &Row<'_>) -> Result<VoterRow, StoreError> {
    let credential: Option<Vec<u8>> = col(r, 5, "voters.credential")?;
    Ok(VoterRow {
        voter: col(r, 0, "voters.voter")?,
        email: col(r, 1, "voters.email")?,
        name: col(r, 2, "voters.name")?,
        weight: to_u64(col(r, 3, "voters.weight")?, "voters.weight")?,
        lang: col(r, 4, "voters.lang")?,
        credential: credential
            .map(|c| bytes32(&c, "voters.credential"))
            .transpose()?,
        voted_at: col(r, 6, "voters.voted_at")?,
    })
}

/// A row of `mail`, its columns in the table's order.
fn mail_row(r: &Row<'_>) -> Result<MailRow, StoreError> {
    Ok(MailRow {
        id: to_u64(col(r, 0, "mail.id")?, "mail.id")?,
        election: col(r, 1, "mail.election")?,
        voter: col(r, 2, "mail.voter")?,
        kind: col(r, 3, "mail.kind")?,
        recipient: col(r, 4, "mail.recipient")?,
        message_id: col(r, 5, "mail.message_id")?,
        message: col(r, 6, "mail.message")?,
        status: to_mail_status(&col::<String>(r, 7, "mail.status")?)?,
        attempts: to_u32(col(r, 8, "mail.attempts")?, "mail.attempts")?,
        next_attempt_at: col(r, 9, "mail.next_attempt_at")?,
        last_error: col(r, 10, "mail.last_error")?,
        updated_at: col(r, 11, "mail.updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Every file of migrations/sqlite/ is in [`MIGRATIONS`], numbered as its name says.
    #[test]
    fn migrations_match_their_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
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
}
