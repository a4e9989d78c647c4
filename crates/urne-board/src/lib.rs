//! urne-board: where a urne server keeps its elections and their bulletin boards.
//!
//! One [`Store`] trait, two backends: embedded SQLite in WAL mode ([`SqliteStore`], the default,
//! nothing to install) and PostgreSQL ([`PostgresStore`]: large elections, several `urne serve`
//! instances sharing one database). Both pass the same conformance suite (the module
//! `conformance`, with the cargo feature of that name), and their schemas are built by numbered
//! migrations (`migrations/`), pinned by a test.
//!
//! The board of an election is its record (docs/record.md): an append-only list of lines, each
//! numbered by `seq` and hashed into a Merkle tree. The store assigns sequence numbers inside the
//! transaction that writes the lines, so that concurrent writers (tasks of one server, or several
//! servers) never interleave a batch, never leave a gap, and never write a ballot after the line
//! that closed the election. Each election keeps the compact frontier of its tree, so the root after
//! every append costs O(log n).
//!
//! Beside the public board, the store keeps each election's personal data: the voters' roll
//! (addresses, names, weights, the credential each identity is linked to, who voted), one-time
//! login codes with their rate limits, voter sessions, and the queue of mail to voters, which
//! several servers sharing a PostgreSQL database claim without sending a mail twice. Secrets
//! are stored hashed, except in the messages of queued mail, which are emptied once final.
//! [`Store::purge_personal_data`] deletes all of it and nothing else.
//!
//! The trait is synchronous: the server calls it from blocking threads (`spawn_blocking`) and
//! from its group-commit task; backends manage their own connections.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;

mod common;
mod pg;
mod sqlite;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use pg::{PostgresOptions, PostgresStore};
pub use sqlite::{DATABASE_FILE, SqliteStore};

/// A 32-byte hash (a Merkle root or leaf) or a 32-byte key (tracker, credential).
pub type Bytes32 = [u8; 32];

/// The stages of an election's life, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Being edited by its administrators; nothing public yet.
    Draft,
    /// Frozen: the trustees hold their ceremony and credentials are uploaded.
    Setup,
    /// Ballots are accepted.
    Open,
    /// No more ballots; the tally and the trustees' factors are being published.
    Closed,
    /// The result is on the board.
    Tallied,
    /// The result is announced on the public pages.
    Published,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 6] = [
        Phase::Draft,
        Phase::Setup,
        Phase::Open,
        Phase::Closed,
        Phase::Tallied,
        Phase::Published,
    ];

    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Draft => "draft",
            Phase::Setup => "setup",
            Phase::Open => "open",
            Phase::Closed => "closed",
            Phase::Tallied => "tallied",
            Phase::Published => "published",
        }
    }

    /// The phase of a stored name.
    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An election as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionRow {
    /// Its id (spec §4.1's rules for election ids).
    pub id: String,
    /// Its phase.
    pub phase: Phase,
    /// The administrators' configuration (a JSON document owned by the server).
    pub config: String,
    /// Number of lines on its board.
    pub log_size: u64,
    /// Merkle root of those lines (docs/record.md §4).
    pub root: Bytes32,
    /// The latest `at` given to an append (unix seconds); 0 before any.
    pub last_at: i64,
    /// When the election was created (unix seconds).
    pub created_at: i64,
    /// When its row last changed (unix seconds).
    pub updated_at: i64,
}

/// What one line of an append is, for the store's uniqueness rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Item {
    /// A ballot's tracker: the same tracker is never stored twice.
    pub tracker: Option<Bytes32>,
    /// A ballot's credential (kept with the tracker; see [`Append::unique_credentials`]).
    pub credential: Option<Bytes32>,
}

/// Builds the exact bytes of line `index` of an append once its `seq` and time are known
/// (without the final newline). Called inside the transaction, once per appended item, in order.
pub type Encode<'a> = dyn Fn(usize, u64, i64) -> Vec<u8> + Sync + 'a;

/// One atomic append to an election's board.
pub struct Append<'a> {
    /// The election must be in one of these phases, or nothing is written.
    pub expect: &'a [Phase],
    /// The phase to move to when the append succeeds (the same transaction).
    pub set_phase: Option<Phase>,
    /// The server's clock (unix seconds). The time given to [`Append::encode`] is the larger of
    /// this and the election's `last_at`, so that times on the board never decrease even when
    /// several servers' clocks differ slightly.
    pub now: i64,
    /// The lines to append, in order.
    pub items: &'a [Item],
    /// When true, an item whose credential already has a ballot on the board (or earlier in this
    /// append) is refused with [`ItemOutcome::CredentialUsed`] (the revote policy `forbidden`).
    pub unique_credentials: bool,
    /// When set, the board must hold exactly this many lines, or nothing is written and the
    /// append fails with [`StoreError::BoardMoved`]: a compare-and-set for writers that decide
    /// what to append from what they read (sealing, a trustee's factors and the result), so
    /// that several servers sharing a database never both write a line meant to be written once.
    pub expect_size: Option<u64>,
    /// Makes each line's bytes.
    pub encode: &'a Encode<'a>,
}

impl fmt::Debug for Append<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Append")
            .field("expect", &self.expect)
            .field("set_phase", &self.set_phase)
            .field("now", &self.now)
            .field("items", &self.items.len())
            .field("unique_credentials", &self.unique_credentials)
            .field("expect_size", &self.expect_size)
            .finish_non_exhaustive()
    }
}

/// What became of one item of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Written at this `seq`.
    Appended {
        /// Its position on the board.
        seq: u64,
    },
    /// Not written: a line with the same tracker is already at `seq` (resubmission).
    Duplicate {
        /// The position of the earlier line.
        seq: u64,
    },
    /// Not written: the credential already cast the ballot at `seq` (unique credentials only).
    CredentialUsed {
        /// The position of the earlier ballot.
        seq: u64,
    },
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// One outcome per item, in order.
    pub items: Vec<ItemOutcome>,
    /// The board's size after the append.
    pub size: u64,
    /// Its Merkle root after the append.
    pub root: Bytes32,
    /// The time given to the encoder (unix seconds).
    pub at: i64,
}

/// A stored line of a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its position.
    pub seq: u64,
    /// Its exact bytes, without the newline.
    pub line: Vec<u8>,
}

/// A signed tree head, as the server made it (a JSON document owned by the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHeadRow {
    /// The tree size it signs.
    pub size: u64,
    /// The JSON document.
    pub body: String,
}

/// A message relayed through the server before it goes on a board (a trustee's ceremony message,
/// a trustee's registration, a chunk of the credential list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its position among the election's messages, from 0.
    pub idx: u64,
    /// What it is (`dealing`, `complaint`, `answer`, `trustee`, `credentials`, ...).
    pub kind: String,
    /// Who sent it (a trustee index; 0 for an administrator).
    pub sender: u32,
    /// The message (JSON).
    pub body: String,
    /// When it arrived (unix seconds).
    pub at: i64,
}

/// An administrator account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRow {
    /// Login name.
    pub name: String,
    /// The password's argon2id hash in PHC string form.
    pub password_hash: String,
    /// When it was created (unix seconds).
    pub created_at: i64,
}

/// One entry of the administrators' audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Its position, from 1, in the order written.
    pub id: u64,
    /// When (unix seconds).
    pub at: i64,
    /// Which administrator (or `system` for the server's scheduler).
    pub actor: String,
    /// The election concerned, if any.
    pub election: Option<String>,
    /// What was done (`election.create`, `election.open`, ...).
    pub action: String,
    /// Details (JSON).
    pub detail: String,
}

/// One voter of an election's roll, as stored. Personal data: deleted by
/// [`Store::purge_personal_data`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterRow {
    /// The roll's identifier of the voter (unique in the election; the roll is ordered by it,
    /// in byte order).
    pub voter: String,
    /// Where the voter's mail goes.
    pub email: String,
    /// The voter's name, if the roll gives one.
    pub name: Option<String>,
    /// The voter's weight (1 for one person, one vote).
    pub weight: u64,
    /// The language of the voter's mail and pages (`fr`, `en`), if the roll gives one.
    pub lang: Option<String>,
    /// The public credential this identity is linked to (see [`Store::link_credential`]).
    pub credential: Option<Bytes32>,
    /// When the voter's first ballot was recorded (unix seconds), if one was.
    pub voted_at: Option<i64>,
}

/// Counts over an election's roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RollStats {
    /// Voters on the roll.
    pub voters: u64,
    /// The sum of their weights.
    pub total_weight: u64,
    /// Voters linked to a credential.
    pub linked: u64,
    /// Voters marked as having voted.
    pub voted: u64,
}

/// What [`Store::link_credential`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The voter is now linked to the credential (it was linked to none, and no other voter of
    /// the election was linked to it).
    Linked,
    /// Nothing changed: the voter was already linked to this credential.
    Already,
    /// Nothing changed: the voter is linked to another credential.
    VoterHasOther,
    /// Nothing changed: another voter of the election is linked to this credential.
    CredentialTaken,
}

/// What [`Store::check_code`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code matched; it is consumed (it will not match again).
    Valid,
    /// The code did not match; the attempt was counted.
    Wrong {
        /// Wrong attempts left before the code is dead (0: it is dead now).
        remaining: u32,
    },
    /// The pending code has expired (`expires_at <= now`); the attempt was not counted.
    Expired,
    /// The voter has no pending code (none was sent, or it was consumed).
    NoCode,
    /// The code is dead: `max_attempts` wrong attempts were made; a new code must be sent.
    TooManyAttempts,
}

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailStatus {
    /// Waiting to be sent, or to be tried again (see [`MailRow::next_attempt_at`]).
    Queued,
    /// Handed over to the mail server (final, unless a bounce report arrives later).
    Sent,
    /// Given up on (final).
    Failed,
    /// Refused by the recipient's side, at once or by a later report (final).
    Bounced,
}

impl MailStatus {
    /// Every status.
    pub const ALL: [MailStatus; 4] = [
        MailStatus::Queued,
        MailStatus::Sent,
        MailStatus::Failed,
        MailStatus::Bounced,
    ];

    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
            MailStatus::Bounced => "bounced",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<MailStatus> {
        MailStatus::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether nothing more will be tried (the message bytes are gone).
    pub fn is_final(self) -> bool {
        self != MailStatus::Queued
    }
}

impl fmt::Display for MailStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mail to queue (see [`Store::enqueue_mail`]).
#[derive(Clone, Copy)]
pub struct NewMail<'a> {
    /// The voter it is for.
    pub voter: &'a str,
    /// What it is (`credential`, `replacement`, `code`).
    pub kind: &'a str,
    /// The address it goes to.
    pub recipient: &'a str,
    /// Its Message-ID header (unique: a bounce report names it).
    pub message_id: &'a str,
    /// The whole message as sent (headers and body). May hold a secret (a credential, a login
    /// code): never printed by `Debug`, and emptied in the store once the mail is final.
    pub message: &'a [u8],
}

impl fmt::Debug for NewMail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewMail")
            .field("voter", &self.voter)
            .field("kind", &self.kind)
            .field("recipient", &self.recipient)
            .field("message_id", &self.message_id)
            .field("message_len", &self.message.len())
            .finish()
    }
}

/// A stored mail.
#[derive(Clone, PartialEq, Eq)]
pub struct MailRow {
    /// Its id: one sequence for every election, increasing in the order queued.
    pub id: u64,
    /// The election it is about.
    pub election: String,
    /// The voter it is for.
    pub voter: String,
    /// What it is (`credential`, `replacement`, `code`).
    pub kind: String,
    /// The address it goes to.
    pub recipient: String,
    /// Its Message-ID header.
    pub message_id: String,
    /// The message; empty once the mail is final, and in [`Store::mail_list`]'s answers. May
    /// hold a secret: never printed by `Debug`.
    pub message: Vec<u8>,
    /// Where it stands.
    pub status: MailStatus,
    /// Sending attempts made so far.
    pub attempts: u32,
    /// When it may next be tried (unix seconds); for a claimed mail, the end of its lease.
    pub next_attempt_at: i64,
    /// The last error met, if any.
    pub last_error: Option<String>,
    /// When it was queued or its status last changed (unix seconds).
    pub updated_at: i64,
}

impl fmt::Debug for MailRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailRow")
            .field("id", &self.id)
            .field("election", &self.election)
            .field("voter", &self.voter)
            .field("kind", &self.kind)
            .field("recipient", &self.recipient)
            .field("message_id", &self.message_id)
            .field("message_len", &self.message.len())
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .field("last_error", &self.last_error)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// What became of an attempt to send a mail (see [`Store::update_mail`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailUpdate<'a> {
    /// The mail server took it (final).
    Sent,
    /// A temporary failure: try again at `at`.
    Retry {
        /// When to try again (unix seconds).
        at: i64,
        /// What went wrong.
        error: &'a str,
    },
    /// A permanent failure, or too many temporary ones (final).
    Failed {
        /// What went wrong.
        error: &'a str,
    },
    /// The recipient's side refused it (final).
    Bounced {
        /// What it said.
        error: &'a str,
    },
}

/// How many of an election's mails are in each status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailReport {
    /// Waiting to be sent or retried.
    pub queued: u64,
    /// Sent.
    pub sent: u64,
    /// Given up on.
    pub failed: u64,
    /// Bounced.
    pub bounced: u64,
}

/// What [`Store::purge_personal_data`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeCounts {
    /// Voters of the roll.
    pub voters: u64,
    /// Login-code rows (pending codes and their rate-limit windows).
    pub codes: u64,
    /// Voter sessions.
    pub sessions: u64,
    /// Mails.
    pub mail: u64,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No election with this id.
    #[error("no election `{0}`")]
    NoElection(String),
    /// An election with this id exists already.
    #[error("an election `{0}` exists already")]
    ElectionExists(String),
    /// The election is not in a phase that allows this.
    #[error("the election is {actual}, not {}", expected_list(.expected))]
    WrongPhase {
        /// Its phase.
        actual: Phase,
        /// The phases that would have allowed it.
        expected: Vec<Phase>,
    },
    /// The board does not have the size an append expected (another writer went first).
    #[error("the board has {actual} lines, not the {expected} this change was decided on")]
    BoardMoved {
        /// The size expected.
        expected: u64,
        /// The board's size.
        actual: u64,
    },
    /// A unique name (admin account, token) is taken.
    #[error("{0} exists already")]
    Exists(String),
    /// The database holds something this version cannot read (a corrupt row, a newer schema).
    #[error("stored data is corrupt or from a newer version: {0}")]
    Corrupt(String),
    /// The database itself failed (I/O, connection, constraint).
    #[error("database error: {0}")]
    Backend(String),
}

fn expected_list(phases: &[Phase]) -> String {
    let names: Vec<&str> = phases.iter().map(|p| p.as_str()).collect();
    names.join(" or ")
}

/// Storage for a urne server. Every method is one transaction.
pub trait Store: Send + Sync + fmt::Debug {
    /// The backend's name (`sqlite` or `postgres`), for logs and `/healthz`.
    fn backend(&self) -> &'static str;

    /// Checks that the database answers.
    fn ping(&self) -> Result<(), StoreError>;

    // --- elections ---

    /// Creates an election in [`Phase::Draft`] with its configuration.
    fn create_election(&self, id: &str, config: &str, now: i64) -> Result<ElectionRow, StoreError>;

    /// One election.
    fn election(&self, id: &str) -> Result<Option<ElectionRow>, StoreError>;

    /// Every election, by id (in byte order).
    fn elections(&self) -> Result<Vec<ElectionRow>, StoreError>;

    /// Replaces the configuration, if the election is in one of `expect`.
    fn update_config(
        &self,
        id: &str,
        expect: &[Phase],
        config: &str,
        now: i64,
    ) -> Result<ElectionRow, StoreError>;

    /// Moves the election to `to` if it is in one of `expect` (and optionally replaces its
    /// configuration in the same transaction).
    fn set_phase(
        &self,
        id: &str,
        expect: &[Phase],
        to: Phase,
        config: Option<&str>,
        now: i64,
    ) -> Result<ElectionRow, StoreError>;

    // --- the board ---

    /// Appends lines atomically (see [`Append`]): either every item gets an outcome and the
    /// appended ones are durably stored when this returns, or nothing is written.
    ///
    /// In detail, in one transaction that no other append to the election interleaves with:
    /// - the election must be in one of `expect`, or [`StoreError::WrongPhase`] and nothing is
    ///   written (the encoder is not called);
    /// - each item, in order, is refused as [`ItemOutcome::Duplicate`] if its tracker is on the
    ///   board or was appended earlier in this append, else as [`ItemOutcome::CredentialUsed`]
    ///   (with `unique_credentials`) if its credential has a ballot on the board (the earliest)
    ///   or was appended earlier in this append; a refused item writes nothing and the encoder
    ///   is not called for it;
    /// - the others get consecutive `seq`s from the board's size and the time
    ///   `max(now, last_at)`, and are written with their leaf hashes; the board's size, frontier,
    ///   root and `last_at` follow;
    /// - `set_phase` applies whenever the phase check passed, even when every item was refused
    ///   or there were none;
    /// - when no item is appended, the board and its `last_at` are unchanged ([`Appended::at`]
    ///   still says the time that would have been given).
    fn append(&self, id: &str, append: &Append<'_>) -> Result<Appended, StoreError>;

    /// Up to `limit` lines from `from` on, in order. Like every method about one election, fails
    /// with [`StoreError::NoElection`] when it does not exist.
    fn lines(&self, id: &str, from: u64, limit: u64) -> Result<Vec<LogLine>, StoreError>;

    /// The leaf hashes of lines `from..to`, in order (fewer if the board is shorter).
    fn leaves(&self, id: &str, from: u64, to: u64) -> Result<Vec<Bytes32>, StoreError>;

    /// The `seq` of the ballot line with this tracker.
    fn tracker_seq(&self, id: &str, tracker: &Bytes32) -> Result<Option<u64>, StoreError>;

    /// Stores a signed tree head (keeping the first one made for a given size).
    fn put_tree_head(&self, id: &str, head: &TreeHeadRow) -> Result<(), StoreError>;

    /// The signed tree head for `size`, or the largest one when `size` is `None`.
    fn tree_head(&self, id: &str, size: Option<u64>) -> Result<Option<TreeHeadRow>, StoreError>;

    // --- relayed messages ---

    /// Stores a message; returns its `idx`: one more than the last one given for the election,
    /// from 0 (an idx is never given twice, even after [`Store::delete_messages`]).
    fn put_message(
        &self,
        id: &str,
        kind: &str,
        sender: u32,
        body: &str,
        now: i64,
    ) -> Result<u64, StoreError>;

    /// The messages from `after` on (`idx >= after`, by `idx`), of one kind or of every kind.
    fn messages(
        &self,
        id: &str,
        kind: Option<&str>,
        after: u64,
    ) -> Result<Vec<Message>, StoreError>;

    /// The messages of one kind from `after` on (`idx >= after`, by `idx`), each `body` cut to
    /// its first `head_chars` characters (whole when shorter): what a reader needs to know who
    /// sent what and where, without moving big bodies (staged chunks of the mix phase, about
    /// 4 MB each) out of the database.
    fn message_heads(
        &self,
        id: &str,
        kind: &str,
        after: u64,
        head_chars: u32,
    ) -> Result<Vec<Message>, StoreError>;

    /// Deletes the messages of one kind (a replaced credential list); returns how many.
    fn delete_messages(&self, id: &str, kind: &str) -> Result<u64, StoreError>;

    /// Deletes the messages of one kind sent by `sender` (every sender when `None`) whose `idx`
    /// is below `before` (every one when `None`), in one transaction; returns how many. The
    /// bound lets a caller delete exactly the messages it has read (those it judged), not one
    /// stored meanwhile by another server sharing the database.
    fn delete_messages_from(
        &self,
        id: &str,
        kind: &str,
        sender: Option<u32>,
        before: Option<u64>,
    ) -> Result<u64, StoreError>;

    // --- administrators ---

    /// Creates an administrator account ([`StoreError::Exists`] if the name is taken).
    fn create_admin(&self, name: &str, password_hash: &str, now: i64) -> Result<(), StoreError>;

    /// One administrator account.
    fn admin(&self, name: &str) -> Result<Option<AdminRow>, StoreError>;

    /// Number of administrator accounts.
    fn admin_count(&self) -> Result<u64, StoreError>;

    /// Stores a login session under the hash of its secret token ([`StoreError::Exists`] if the
    /// hash is taken).
    fn create_session(
        &self,
        token_hash: &Bytes32,
        admin: &str,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// The administrator of an unexpired session (one with `expires_at > now`).
    fn session(&self, token_hash: &Bytes32, now: i64) -> Result<Option<String>, StoreError>;

    /// Ends a session.
    fn delete_session(&self, token_hash: &Bytes32) -> Result<(), StoreError>;

    /// Stores an API token under the hash of its secret ([`StoreError::Exists`] if the hash is
    /// taken).
    fn create_api_token(
        &self,
        token_hash: &Bytes32,
        admin: &str,
        label: &str,
        now: i64,
    ) -> Result<(), StoreError>;

    /// The administrator of an API token.
    fn api_token(&self, token_hash: &Bytes32) -> Result<Option<String>, StoreError>;

    /// Appends to the audit log; returns the entry's id.
    fn audit(
        &self,
        actor: &str,
        election: Option<&str>,
        action: &str,
        detail: &str,
        now: i64,
    ) -> Result<u64, StoreError>;

    /// The audit log, oldest first: every entry, or those about one election.
    fn audit_log(&self, election: Option<&str>) -> Result<Vec<AuditRow>, StoreError>;

    /// Deletes the expired administrator sessions and voter sessions (`expires_at <= now`), in
    /// one transaction; returns how many were deleted in all.
    fn purge_expired_sessions(&self, now: i64) -> Result<u64, StoreError>;

    // --- voters: the roll ---
    //
    // Every method about one election fails with [`StoreError::NoElection`] when it does not
    // exist. A voter that is not on the roll, where one is needed, is
    // [`StoreError::Backend`] (as an unknown administrator is): the server looks voters up
    // before it acts for them, so this is a caller's bug or a race with a roll replacement.

    /// Replaces the election's whole roll by `voters`, in one transaction, only while the
    /// election is in one of `expect` (else [`StoreError::WrongPhase`] and nothing changes).
    /// The roll becomes exactly `voters`, their credential links and `voted_at` as given (a
    /// caller that keeps them reads them first, under its own phase rules); the login codes and
    /// voter sessions of voters no longer on the roll are deleted with them; mail is kept. The
    /// election's `updated_at` becomes `now`. A voter identifier or a credential given twice is
    /// [`StoreError::Exists`] and changes nothing. Returns the number of voters.
    fn replace_roll(
        &self,
        id: &str,
        expect: &[Phase],
        voters: &[VoterRow],
        now: i64,
    ) -> Result<u64, StoreError>;

    /// A page of the roll in voter order (byte order of the identifiers), those after `after`
    /// (exclusive) when given, at most `limit`. One consistent read.
    fn roll(&self, id: &str, after: Option<&str>, limit: u64) -> Result<Vec<VoterRow>, StoreError>;

    /// One voter of the roll.
    fn voter(&self, id: &str, voter: &str) -> Result<Option<VoterRow>, StoreError>;

    /// Counts over the roll, from one consistent read.
    fn roll_stats(&self, id: &str) -> Result<RollStats, StoreError>;

    /// Links a voter to a credential, once the voter has proved to hold it: see
    /// [`LinkOutcome`]. One transaction; concurrent calls for the same voter, or for the same
    /// credential in the election, never both link (the voter's row is locked, and a unique
    /// index holds one voter per credential). An unknown voter is [`StoreError::Backend`].
    /// `now` is not stored (the link's time is not kept).
    fn link_credential(
        &self,
        id: &str,
        voter: &str,
        credential: &Bytes32,
        now: i64,
    ) -> Result<LinkOutcome, StoreError> {
        let outcomes = self.link_credentials(id, &[(voter, *credential)], now)?;
        outcomes
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt("link credential: no outcome".into()))
    }

    /// [`Store::link_credential`] for many links in one transaction (a group commit's
    /// ballots): one outcome per link, in the order given, each decided as if the links were
    /// made one after the other in the order of their voters' identifiers (stable: one voter's
    /// links in the order given). That is also the order in which voters' rows are locked, so
    /// that two batches never wait for each other's locks in a cycle. An unknown voter fails
    /// the whole call, and nothing is linked.
    fn link_credentials(
        &self,
        id: &str,
        links: &[(&str, Bytes32)],
        now: i64,
    ) -> Result<Vec<LinkOutcome>, StoreError>;

    /// Marks voters as having voted, in one transaction: sets `voted_at = now` for those that
    /// have none yet (idempotent: an earlier time is kept). A voter that is not on the roll is
    /// [`StoreError::Backend`] and marks nobody.
    fn mark_voted(&self, id: &str, voters: &[&str], now: i64) -> Result<(), StoreError>;

    /// The identifiers of the voters who voted, sorted by identifier (byte order), never by
    /// time: the order of voting could be matched with the order of ballots on the board.
    fn voted(&self, id: &str) -> Result<Vec<String>, StoreError>;

    // --- voters: login codes and sessions ---

    /// Stores a new one-time login code (its hash) for a voter, replacing any pending one
    /// (its wrong attempts forgotten), unless the voter already received `max_per_hour` codes
    /// in the current window: then returns `Ok(false)` and stores nothing. A window is one
    /// hour from the first code sent after the previous window ended (`now >= window_start +
    /// 3600` starts a new one). One transaction, serialized per voter. An unknown voter is
    /// [`StoreError::Backend`].
    fn put_code(
        &self,
        id: &str,
        voter: &str,
        code_hash: &Bytes32,
        expires_at: i64,
        now: i64,
        max_per_hour: u32,
    ) -> Result<bool, StoreError>;

    /// Checks a login code's hash against the voter's pending code, in one transaction
    /// serialized per voter (so that concurrent guesses are all counted): [`CodeCheck::NoCode`]
    /// without a pending code, [`CodeCheck::Expired`] once `expires_at <= now`,
    /// [`CodeCheck::TooManyAttempts`] once `max_attempts` wrong attempts were counted (even
    /// for the right code), else a constant-time comparison of the hashes:
    /// [`CodeCheck::Valid`] consumes the code, [`CodeCheck::Wrong`] counts the attempt. The
    /// rate-limit window survives the code.
    fn check_code(
        &self,
        id: &str,
        voter: &str,
        code_hash: &Bytes32,
        now: i64,
        max_attempts: u32,
    ) -> Result<CodeCheck, StoreError>;

    /// Stores a voter's session under the hash of its secret token ([`StoreError::Exists`] if
    /// the hash is taken; [`StoreError::Backend`] for a voter not on the roll).
    fn create_voter_session(
        &self,
        token_hash: &Bytes32,
        id: &str,
        voter: &str,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// The (election, voter) of an unexpired voter session (one with `expires_at > now`).
    fn voter_session(
        &self,
        token_hash: &Bytes32,
        now: i64,
    ) -> Result<Option<(String, String)>, StoreError>;

    /// Ends a voter session (nothing happens if there is none).
    fn delete_voter_session(&self, token_hash: &Bytes32) -> Result<(), StoreError>;

    // --- mail to voters ---

    /// Queues mails for the election, in one transaction: each is `queued`, due at `now`, with
    /// no attempt yet. Returns their ids, in order. A Message-ID already stored is
    /// [`StoreError::Exists`] and queues nothing.
    fn enqueue_mail(
        &self,
        id: &str,
        mails: &[NewMail<'_>],
        now: i64,
    ) -> Result<Vec<u64>, StoreError>;

    /// Claims up to `limit` queued mails due at `now` (`next_attempt_at <= now`, of any
    /// election), most overdue first (then by id), by moving their `next_attempt_at` to
    /// `lease_until` in the same transaction: until then no other claim returns them, so two
    /// servers sharing a database never send the same mail at the same time (PostgreSQL skips
    /// the rows another claim has locked). A claimer that dies leaves its mails due again at
    /// `lease_until`. Returned in that order, with their messages.
    fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: u64,
    ) -> Result<Vec<MailRow>, StoreError>;

    /// Records what became of an attempt to send a queued mail, counting the attempt:
    /// [`MailUpdate::Retry`] keeps it queued until `at` with the error; the others are final
    /// and empty its message. A mail that is not queued any more (final already, or deleted by
    /// a purge) is left as it is.
    fn update_mail(
        &self,
        mail_id: u64,
        update: &MailUpdate<'_>,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Marks the mail with this Message-ID as bounced (a bounce report that came later),
    /// emptying its message, unless it is already failed or bounced (then unchanged). Returns
    /// whether a mail with this Message-ID exists.
    fn bounce_mail(&self, message_id: &str, error: &str, now: i64) -> Result<bool, StoreError>;

    /// One mail by id, with its message (empty once the mail is final).
    fn mail(&self, mail_id: u64) -> Result<Option<MailRow>, StoreError>;

    /// How many of the election's mails are in each status (one consistent read).
    fn mail_report(&self, id: &str) -> Result<MailReport, StoreError>;

    /// The election's mails without their message bytes (`message` empty), all or of one
    /// status, by id.
    fn mail_list(&self, id: &str, status: Option<MailStatus>) -> Result<Vec<MailRow>, StoreError>;

    /// Deletes the election's personal data in one transaction: the roll (emails, names,
    /// identity–credential links, who voted), login codes, voter sessions and mail. The board,
    /// the election and everything else stay. Returns what was deleted.
    fn purge_personal_data(&self, id: &str) -> Result<PurgeCounts, StoreError>;
}
