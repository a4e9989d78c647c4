//! What both backends share: the rules of an append (phase check, uniqueness, sequence numbers,
//! times, the Merkle frontier), conversions between Rust's and the databases' integers, and the
//! checks that turn a bad stored value into [`StoreError::Corrupt`] instead of a panic.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use subtle::ConstantTimeEq;
use urne_verify::merkle::{MerkleBuilder, leaf_hash};

use crate::{
    Append, Bytes32, CodeCheck, ItemOutcome, LinkOutcome, MailReport, MailStatus, Phase,
    StoreError, VoterRow,
};

/// The board state of an election that an append starts from, as read inside its transaction.
#[derive(Debug)]
pub(crate) struct Board {
    pub phase: Phase,
    pub log_size: u64,
    pub frontier: Vec<u8>,
    pub root: Vec<u8>,
    pub last_at: i64,
}

/// A line to write.
#[derive(Debug)]
pub(crate) struct NewLine {
    pub seq: u64,
    pub kind: Option<String>,
    pub line: Vec<u8>,
    pub leaf: Bytes32,
    pub tracker: Option<Bytes32>,
    pub credential: Option<Bytes32>,
}

/// Everything an append writes, decided before anything is written.
#[derive(Debug)]
pub(crate) struct Plan {
    pub outcomes: Vec<ItemOutcome>,
    pub lines: Vec<NewLine>,
    pub size: u64,
    pub root: Bytes32,
    /// The frontier after the append, concatenated.
    pub frontier: Vec<u8>,
    pub at: i64,
}

/// Checks the phase, applies the uniqueness rules and builds the lines of an append.
///
/// `tracker_seq` and `credential_seq` look up what the board already holds (the `seq` of the
/// ballot with a tracker; the smallest `seq` of a ballot with a credential); earlier items of the
/// same append are looked up here. `encode` is called once per appended item, in order.
pub(crate) fn plan_append(
    board: &Board,
    append: &Append<'_>,
    mut tracker_seq: impl FnMut(&Bytes32) -> Result<Option<u64>, StoreError>,
    mut credential_seq: impl FnMut(&Bytes32) -> Result<Option<u64>, StoreError>,
) -> Result<Plan, StoreError> {
    check_phase(board.phase, append.expect)?;
    if let Some(expected) = append.expect_size {
        if expected != board.log_size {
            return Err(StoreError::BoardMoved {
                expected,
                actual: board.log_size,
            });
        }
    }
    let mut tree = restore_tree(board.log_size, &board.frontier)?;
    if tree.root().as_slice() != board.root.as_slice() {
        return Err(StoreError::Corrupt(
            "elections.root does not match elections.frontier".into(),
        ));
    }
    let at = append.now.max(board.last_at);
    let mut outcomes = Vec::with_capacity(append.items.len());
    let mut lines = Vec::with_capacity(append.items.len());
    // Trackers and credentials of the items appended so far by this append.
    let mut new_trackers: HashMap<Bytes32, u64> = HashMap::new();
    let mut new_credentials: HashMap<Bytes32, u64> = HashMap::new();
    for (index, item) in append.items.iter().enumerate() {
        if let Some(tracker) = &item.tracker {
            let earlier = match new_trackers.get(tracker) {
                Some(&seq) => Some(seq),
                None => tracker_seq(tracker)?,
            };
            if let Some(seq) = earlier {
                outcomes.push(ItemOutcome::Duplicate { seq });
                continue;
            }
        }
        if let (true, Some(credential)) = (append.unique_credentials, &item.credential) {
            // The board's ballots come before this append's, so they win.
            let earlier = match credential_seq(credential)? {
                Some(seq) => Some(seq),
                None => new_credentials.get(credential).copied(),
            };
            if let Some(seq) = earlier {
                outcomes.push(ItemOutcome::CredentialUsed { seq });
                continue;
            }
        }
        let seq = tree.size();
        let line = (append.encode)(index, seq, at);
        let leaf = leaf_hash(&line);
        tree.push(leaf);
        if let Some(tracker) = item.tracker {
            new_trackers.insert(tracker, seq);
        }
        if let Some(credential) = item.credential {
            new_credentials.entry(credential).or_insert(seq);
        }
        lines.push(NewLine {
            seq,
            kind: line_kind(&line).map(str::to_owned),
            line,
            leaf,
            tracker: item.tracker,
            credential: item.credential,
        });
        outcomes.push(ItemOutcome::Appended { seq });
    }
    Ok(Plan {
        outcomes,
        lines,
        size: tree.size(),
        root: tree.root(),
        frontier: tree.frontier().concat(),
        at,
    })
}

/// [`StoreError::WrongPhase`] unless `actual` is one of `expect`.
pub(crate) fn check_phase(actual: Phase, expect: &[Phase]) -> Result<(), StoreError> {
    if expect.contains(&actual) {
        Ok(())
    } else {
        Err(StoreError::WrongPhase {
            actual,
            expected: expect.to_vec(),
        })
    }
}

/// The Merkle tree of a board from its stored size and frontier.
pub(crate) fn restore_tree(size: u64, frontier: &[u8]) -> Result<MerkleBuilder, StoreError> {
    let corrupt = || {
        StoreError::Corrupt(format!(
            "elections.frontier: {} bytes do not fit a board of {size} lines",
            frontier.len()
        ))
    };
    if frontier.len() % 32 != 0 {
        return Err(corrupt());
    }
    let hashes: Vec<Bytes32> = frontier
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect();
    MerkleBuilder::from_frontier(size, &hashes).ok_or_else(corrupt)
}

/// The `type` of a record line (docs/record.md §1: `{"seq":N,"type":"..."` opens every line),
/// or `None` when the line does not open that way.
pub(crate) fn line_kind(line: &[u8]) -> Option<&str> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = rest.get(digits..)?.strip_prefix(b",\"type\":\"")?;
    let end = rest.iter().take(64).position(|&b| b == b'"')?;
    let kind = rest.get(..end)?;
    if kind.is_empty()
        || !kind
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
    {
        return None;
    }
    std::str::from_utf8(kind).ok()
}

/// The length of a login-code rate-limit window (seconds).
pub(crate) const CODE_WINDOW: i64 = 3600;

/// A voter's stored login-code row, as read inside the transaction that checks it.
#[derive(Debug)]
pub(crate) struct CodeRow {
    /// The pending code's hash; `None` once consumed.
    pub code_hash: Option<Vec<u8>>,
    pub expires_at: i64,
    pub attempts: u32,
}

/// What a backend writes after [`judge_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeAction {
    /// Nothing changes.
    Nothing,
    /// The code is consumed (its hash removed; the rate-limit window stays).
    Consume,
    /// One more wrong attempt is counted.
    CountWrong,
}

/// The rules of [`crate::Store::check_code`] on the stored row: the answer and what to write.
/// The hashes are compared in constant time.
pub(crate) fn judge_code(
    row: Option<&CodeRow>,
    given: &Bytes32,
    now: i64,
    max_attempts: u32,
) -> Result<(CodeCheck, CodeAction), StoreError> {
    let Some((row, stored)) = row.and_then(|r| r.code_hash.as_deref().map(|h| (r, h))) else {
        return Ok((CodeCheck::NoCode, CodeAction::Nothing));
    };
    let stored = bytes32(stored, "voter_codes.code_hash")?;
    if row.expires_at <= now {
        return Ok((CodeCheck::Expired, CodeAction::Nothing));
    }
    if row.attempts >= max_attempts {
        return Ok((CodeCheck::TooManyAttempts, CodeAction::Nothing));
    }
    if bool::from(stored.ct_eq(given)) {
        Ok((CodeCheck::Valid, CodeAction::Consume))
    } else {
        let remaining = max_attempts.saturating_sub(row.attempts.saturating_add(1));
        Ok((CodeCheck::Wrong { remaining }, CodeAction::CountWrong))
    }
}

/// The rate-limit window (start, codes sent in it) after sending one more code at `now`, from
/// the stored window (if any); `None` when `max_per_hour` codes were sent in the current one.
pub(crate) fn next_code_window(
    stored: Option<(i64, u32)>,
    now: i64,
    max_per_hour: u32,
) -> Option<(i64, u32)> {
    let (start, count) = match stored {
        Some((start, count)) if now < start.saturating_add(CODE_WINDOW) => (start, count),
        _ => (now, 0),
    };
    (count < max_per_hour).then(|| (start, count.saturating_add(1)))
}

/// The rules of [`crate::Store::link_credential`], from the voter's current link and whether
/// another voter of the election holds the credential.
pub(crate) fn link_outcome(
    current: Option<&Bytes32>,
    wanted: &Bytes32,
    taken_by_other: bool,
) -> LinkOutcome {
    match current {
        Some(c) if c == wanted => LinkOutcome::Already,
        Some(_) => LinkOutcome::VoterHasOther,
        None if taken_by_other => LinkOutcome::CredentialTaken,
        None => LinkOutcome::Linked,
    }
}

/// [`StoreError::Exists`] if a roll gives a voter identifier or a credential twice.
pub(crate) fn check_roll(voters: &[VoterRow]) -> Result<(), StoreError> {
    let mut ids = HashSet::with_capacity(voters.len());
    let mut credentials = HashSet::new();
    for (i, v) in voters.iter().enumerate() {
        if !ids.insert(v.voter.as_str()) {
            return Err(StoreError::Exists(format!(
                "voter `{}` (twice in the roll, again at index {i})",
                v.voter
            )));
        }
        if let Some(c) = &v.credential {
            if !credentials.insert(c) {
                return Err(StoreError::Exists(format!(
                    "the credential of voter `{}` (linked to an earlier voter of the roll)",
                    v.voter
                )));
            }
        }
    }
    Ok(())
}

/// The error for a voter that is not on the roll.
pub(crate) fn no_voter(id: &str, voter: &str) -> StoreError {
    StoreError::Backend(format!("no voter `{voter}` on the roll of election `{id}`"))
}

/// The report of an election's mail from (status, count) pairs.
pub(crate) fn mail_report(counts: &[(MailStatus, u64)]) -> MailReport {
    let mut report = MailReport::default();
    for &(status, n) in counts {
        let slot = match status {
            MailStatus::Queued => &mut report.queued,
            MailStatus::Sent => &mut report.sent,
            MailStatus::Failed => &mut report.failed,
            MailStatus::Bounced => &mut report.bounced,
        };
        *slot += n;
    }
    report
}

/// A stored mail status, or [`StoreError::Corrupt`].
pub(crate) fn to_mail_status(v: &str) -> Result<MailStatus, StoreError> {
    MailStatus::parse(v).ok_or_else(|| StoreError::Corrupt(format!("mail.status: unknown `{v}`")))
}

/// A stored 32-byte value, or [`StoreError::Corrupt`] naming `what` (`table.column`).
pub(crate) fn bytes32(v: &[u8], what: &str) -> Result<Bytes32, StoreError> {
    <Bytes32>::try_from(v).map_err(|_| {
        StoreError::Corrupt(format!("{what}: {} bytes where 32 were expected", v.len()))
    })
}

/// A stored non-negative integer, or [`StoreError::Corrupt`] naming `what`.
pub(crate) fn to_u64(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what}: negative value {v}")))
}

/// A stored `u32`, or [`StoreError::Corrupt`] naming `what`.
pub(crate) fn to_u32(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what}: {v} is out of range")))
}

/// A stored phase, or [`StoreError::Corrupt`].
pub(crate) fn to_phase(v: &str) -> Result<Phase, StoreError> {
    Phase::parse(v).ok_or_else(|| StoreError::Corrupt(format!("elections.phase: unknown `{v}`")))
}

/// A `u64` argument as the databases' signed 64-bit integer. Values past `i64::MAX` (no board
/// gets there) are clamped, so that `u64::MAX` means "no limit" in ranges.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A `u64` to be stored, or [`StoreError::Backend`] if it does not fit the database's integers.
pub(crate) fn stored_i64(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("{what}: {v} is too large to store")))
}

/// Seconds since the Unix epoch by this machine's clock (for `schema_migrations.applied_at`).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// One numbered migration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Its number, from 1, in the order applied.
    pub version: i64,
    /// Its name (the file name without number and extension).
    pub name: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

/// Checks what `schema_migrations` says against what this build knows, and returns the
/// migrations still to apply.
pub(crate) fn pending<'m>(
    known: &'m [Migration],
    applied: &[(i64, String)],
) -> Result<&'m [Migration], StoreError> {
    let newest_known = known.last().map_or(0, |m| m.version);
    for (version, name) in applied {
        match known.iter().find(|m| m.version == *version) {
            Some(m) if m.name == name => {}
            Some(m) => {
                return Err(StoreError::Corrupt(format!(
                    "schema_migrations: version {version} is `{name}` in the database but `{}` \
                     in this build",
                    m.name
                )));
            }
            None if *version > newest_known => {
                return Err(StoreError::Corrupt(format!(
                    "schema_migrations: the database is at schema version {version}, newer than \
                     this build's {newest_known}; upgrade urne"
                )));
            }
            None => {
                return Err(StoreError::Corrupt(format!(
                    "schema_migrations: unknown version {version} (`{name}`)"
                )));
            }
        }
    }
    let current = applied.iter().map(|(v, _)| *v).max().unwrap_or(0);
    let done = known.iter().take_while(|m| m.version <= current).count();
    if applied.len() != done {
        return Err(StoreError::Corrupt(format!(
            "schema_migrations: {} versions recorded up to version {current}, expected {done}",
            applied.len()
        )));
    }
    Ok(known.get(done..).unwrap_or(&[]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn line_kind_reads_the_second_member() {
        assert_eq!(
            line_kind(br#"{"seq":12,"type":"ballot","cast_at":"x"}"#),
            Some("ballot")
        );
        assert_eq!(
            line_kind(br#"{"seq":0,"type":"partial_decryption"}"#),
            Some("partial_decryption")
        );
        assert_eq!(line_kind(br#"{"type":"ballot"}"#), None);
        assert_eq!(line_kind(br#"{"seq":1,"type":"a\"b"}"#), None);
        assert_eq!(line_kind(br#"{"seq":1,"type":""}"#), None);
        assert_eq!(line_kind(b"not json"), None);
        assert_eq!(line_kind(b""), None);
    }

    #[test]
    fn a_bad_frontier_is_corrupt_not_a_panic() {
        assert!(matches!(
            restore_tree(3, &[0u8; 32]),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            restore_tree(1, &[0u8; 31]),
            Err(StoreError::Corrupt(_))
        ));
        assert!(restore_tree(3, &[0u8; 64]).is_ok());
    }

    fn code(hash: u8, expires_at: i64, attempts: u32) -> CodeRow {
        CodeRow {
            code_hash: Some(vec![hash; 32]),
            expires_at,
            attempts,
        }
    }

    #[test]
    fn code_rules() {
        let right = [7u8; 32];
        let wrong = [8u8; 32];
        let judge =
            |row: Option<&CodeRow>, given: &Bytes32, now| judge_code(row, given, now, 3).unwrap();
        assert_eq!(judge(None, &right, 0).0, CodeCheck::NoCode);
        let consumed = CodeRow {
            code_hash: None,
            expires_at: 100,
            attempts: 0,
        };
        assert_eq!(judge(Some(&consumed), &right, 0).0, CodeCheck::NoCode);
        let fresh = code(7, 100, 0);
        assert_eq!(
            judge(Some(&fresh), &right, 99),
            (CodeCheck::Valid, CodeAction::Consume)
        );
        assert_eq!(
            judge(Some(&fresh), &right, 100),
            (CodeCheck::Expired, CodeAction::Nothing)
        );
        assert_eq!(
            judge(Some(&fresh), &wrong, 10),
            (CodeCheck::Wrong { remaining: 2 }, CodeAction::CountWrong)
        );
        assert_eq!(
            judge(Some(&code(7, 100, 2)), &wrong, 10),
            (CodeCheck::Wrong { remaining: 0 }, CodeAction::CountWrong)
        );
        assert_eq!(
            judge(Some(&code(7, 100, 3)), &right, 10),
            (CodeCheck::TooManyAttempts, CodeAction::Nothing)
        );
        let short = CodeRow {
            code_hash: Some(vec![7; 31]),
            expires_at: 100,
            attempts: 0,
        };
        assert!(matches!(
            judge_code(Some(&short), &right, 0, 3),
            Err(StoreError::Corrupt(m)) if m.contains("code_hash")
        ));
    }

    #[test]
    fn code_windows() {
        assert_eq!(next_code_window(None, 50, 2), Some((50, 1)));
        assert_eq!(next_code_window(Some((50, 1)), 60, 2), Some((50, 2)));
        assert_eq!(next_code_window(Some((50, 2)), 3649, 2), None);
        assert_eq!(next_code_window(Some((50, 2)), 3650, 2), Some((3650, 1)));
        assert_eq!(next_code_window(None, 50, 0), None);
    }

    #[test]
    fn link_rules() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        assert_eq!(link_outcome(None, &a, false), LinkOutcome::Linked);
        assert_eq!(link_outcome(None, &a, true), LinkOutcome::CredentialTaken);
        assert_eq!(link_outcome(Some(&a), &a, false), LinkOutcome::Already);
        assert_eq!(link_outcome(Some(&b), &a, true), LinkOutcome::VoterHasOther);
    }

    const KNOWN: &[Migration] = &[
        Migration {
            version: 1,
            name: "init",
            sql: "",
        },
        Migration {
            version: 2,
            name: "more",
            sql: "",
        },
    ];

    #[test]
    fn pending_migrations() {
        assert_eq!(pending(KNOWN, &[]).unwrap().len(), 2);
        assert_eq!(pending(KNOWN, &[(1, "init".into())]).unwrap().len(), 1);
        let both = [(1, "init".into()), (2, "more".into())];
        assert!(pending(KNOWN, &both).unwrap().is_empty());
        assert!(matches!(
            pending(KNOWN, &[(3, "future".into())]),
            Err(StoreError::Corrupt(m)) if m.contains("newer")
        ));
        assert!(matches!(
            pending(KNOWN, &[(1, "other".into())]),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            pending(KNOWN, &[(2, "more".into())]),
            Err(StoreError::Corrupt(_))
        ));
    }
}
