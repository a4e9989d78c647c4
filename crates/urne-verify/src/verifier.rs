//! The universal verifier: every check of the spec's V-list over one record, streamed.
//!
//! Lines are read in order. Ballot lines are gathered into chunks that are checked in parallel:
//! each ballot is parsed (its points decompressed once), its tracker recomputed, its credential
//! looked up, and all its proof and signature equations collected with fresh random weights;
//! then the equations of many ballots are checked in one multiscalar multiplication per
//! sub-batch (spec §9). A failing sub-batch is bisected until the faulty ballots are found and
//! named. Everything that depends on order (sequence numbers, the Merkle tree, casting times,
//! revotes, repeated trackers) is then done in record order.
//!
//! Revotes: every ballot with a known credential is added to the running tally; when a later
//! ballot replaces it, its position is remembered, and before the tally is compared the replaced
//! ballots are read again and taken back out. Memory stays bounded by the credential list.
//!
//! Elections with ranked or graded questions also have a mix phase after the tally (spec §8.8,
//! checks V-19 to V-23, `src/mix.rs`): there the verifier holds one list of the counted
//! ballots' mixed ciphertexts and the decrypting trustees' factors of it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Seek, SeekFrom};
use std::time::Instant as Clock;

use rand::rngs::ThreadRng;
use rayon::prelude::*;
use serde::Serialize;
use urne_core::ballot::{Ballot, Tracker};
use urne_core::ceremony::{Transcript, vartime_judge_ceremony};
use urne_core::credential::{CredentialIndex, PublicCredential};
use urne_core::election::Election;
use urne_core::elgamal::Ciphertext;
use urne_core::error::{Check, VerifyError};
use urne_core::manifest::{KeySharing, RevotePolicy, Timestamp};
use urne_core::msm::Msm;
use urne_core::tally::{
    ElectionResult, PartialDecryption, TallyAccumulator, decrypt_result, vartime_verify_partial,
    vartime_verify_result,
};

use crate::merkle::{Hash, MerkleBuilder, leaf_hash};
use crate::mix::MixPhase;
use crate::record::{
    BallotEntry, BoothEntry, BoothFile, CredentialEntry, Entry, LineError, MAX_LINE_BYTES,
    RECORD_FORMAT, Revocation, TallyEntry, parse_line, read_line,
};

/// How to verify.
#[derive(Debug, Clone)]
pub struct Options {
    /// Combine the equations of many ballots into one multiscalar multiplication (default).
    /// When false, each ballot is checked alone.
    pub batch: bool,
    /// Ballots gathered before a parallel step.
    pub chunk: usize,
    /// Ballots per multiscalar multiplication.
    pub batch_size: usize,
    /// Failures kept in the report (all are counted).
    pub max_failures: usize,
    /// The longest line accepted; a longer one is reported (V-18) and skipped unread.
    pub max_line_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch: true,
            chunk: 4096,
            batch_size: 256,
            max_failures: 100,
            max_line_bytes: MAX_LINE_BYTES,
        }
    }
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The check's id, such as `V-9`.
    pub check: String,
    /// The record line, from 1, when the failure belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The ballot's tracker, for failures of a ballot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracker: Option<String>,
    /// Where, inside the line's object.
    pub item: String,
    /// What was expected.
    pub detail: String,
}

impl Failure {
    /// A failure of a check inside a ballot: its item is named within the ballot line's
    /// `ballot` member, and the ballot by its tracker.
    fn in_ballot(e: VerifyError, line: u64, tracker: &Tracker) -> Self {
        let mut f = Failure::from_verify(e, Some(line), None).with_tracker(tracker);
        f.item = format!("ballot.{}", f.item);
        f
    }

    /// Names the ballot the failure is about.
    fn with_tracker(mut self, tracker: &Tracker) -> Self {
        self.tracker = Some(tracker.to_string());
        self
    }

    pub(crate) fn from_verify(e: VerifyError, line: Option<u64>, tracker: Option<String>) -> Self {
        Failure {
            check: e.check.id().into(),
            line,
            tracker,
            item: e.item,
            detail: e.detail,
        }
    }

    pub(crate) fn new(
        check: Check,
        line: Option<u64>,
        item: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Failure {
            check: check.id().into(),
            line,
            tracker: None,
            item: item.into(),
            detail: detail.into(),
        }
    }
}

/// Whether a check passed, failed, or had nothing to check yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every item it applies to passed.
    Passed,
    /// At least one item failed.
    Failed,
    /// The record does not reach the stage this check is about (election not yet tallied).
    NotApplicable,
}

/// The verdict on one check of the V-list.
#[derive(Debug, Clone, Serialize)]
pub struct CheckStatus {
    /// The check's id.
    pub id: &'static str,
    /// What it checks.
    pub description: &'static str,
    /// The outcome.
    pub status: Status,
    /// Failures of this check.
    pub failures: u64,
}

/// The verifier's report on a record.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// True when every check passed.
    pub valid: bool,
    /// True when the record goes up to a verified result.
    pub complete: bool,
    /// The stage the record reaches: `setup`, `open`, `closed`, `tallied` or `published`.
    pub stage: &'static str,
    /// The election id, once the manifest is read.
    pub election_id: Option<String>,
    /// The election title.
    pub title: Option<String>,
    /// The fingerprint.
    pub fingerprint: Option<String>,
    /// Lines read, tree head included.
    pub lines: u64,
    /// Eligible credentials: those listed and not revoked.
    pub credentials: u64,
    /// Credentials listed and then revoked before voting opened, each replaced by the credential
    /// on the line after its revocation (spec §5.5). They are not among `credentials`.
    pub revoked: u64,
    /// The files the server declared it serves to voters, with their SHA-256 digests, from the
    /// record's `booth` line (spec §7.6); `None` when the record has none (records written
    /// before that line existed, or an election not yet open). Observers compare them with the
    /// files the server serves (`urne audit booth`).
    pub booth_files: Option<Vec<BoothFile>>,
    /// Ballots in the record.
    pub ballots_cast: u64,
    /// Ballots counted after the revote rule.
    pub ballots_counted: u64,
    /// Their total weight.
    pub total_weight: u64,
    /// Points decompressed per ballot, on average (the dominant cost).
    pub points_per_ballot: f64,
    /// The result, recomputed from the tally and the decryption factors.
    pub result: Option<ElectionResult>,
    /// The tree head's root.
    pub root: Option<String>,
    /// Every check of the V-list.
    pub checks: Vec<CheckStatus>,
    /// The first failures (at most `max_failures`).
    pub failures: Vec<Failure>,
    /// All failures.
    pub failures_total: u64,
    /// Seconds taken.
    pub seconds: f64,
    /// Number of trustees in the manifest.
    pub trustees: u64,
    /// Under threshold sharing, the outcome of the key-generation ceremony.
    pub ceremony: Option<CeremonySummary>,
    /// Whether ballots were batch-verified.
    pub batch: bool,
    /// The mix phase (spec §8.8), for an election with a ranked or graded question, once the
    /// tally is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<MixSummary>,
}

/// What the mix phase of a record did, as far as it was read (spec §8.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MixSummary {
    /// Rows of the mix: the counted ballots.
    pub ballots: u64,
    /// The trustees whose shuffles passed V-19 and V-20, in order.
    pub shufflers: Vec<u32>,
    /// The trustees whose decryption factors were combined (V-21).
    pub decryptors: Vec<u32>,
    /// Decrypted ballots published so far.
    pub decrypted: u64,
}

/// The mix phase's state at the end of the lines read (spec §8.8): what the next shuffle, or
/// the decryption once the shuffles end, works on. [`Verifier::finish_with_state`] hands it
/// over, moved out of the verifier, so that a trustee's tool (`urne trustee shuffle`, `urne
/// trustee mix-decrypt`) acts on exactly the list the checks V-19 to V-21 were made on, without
/// reading the record again.
///
/// It describes the record as it is: it is what a trustee should act on only when the
/// verification's report is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixState {
    /// The list to shuffle or decrypt next, one row of the mixed questions' ciphertexts per
    /// counted ballot: the output of the last shuffle ended on the record, or, before any
    /// shuffle, the mix input (the rows of the ballots the revote rule counts, in record order).
    pub list: Vec<Vec<Ciphertext>>,
    /// Shuffles ended on the record (by a `shuffle` line), passed or not: the position of the
    /// next one (from 0).
    pub shuffles: u32,
    /// The trustees whose shuffles passed V-19 and V-20, in order.
    pub shufflers: Vec<u32>,
    /// The trustees with decryption factors of the list on the record (`mix_decryption` lines),
    /// in the order of their first line, whether or not their factors passed V-21.
    pub factor_trustees: Vec<u32>,
    /// Decrypted ballots published so far (`mixed_ballots` rows that passed V-22).
    pub decrypted: u64,
}

/// A finished verification: the report, and the state the checks built that the next step of
/// the election works on, moved out of the verifier rather than copied (see
/// [`Verifier::finish_with_state`]).
#[derive(Debug)]
pub struct Verification {
    /// The report, as [`Verifier::finish`] gives it.
    pub report: Report,
    /// The election of the record's manifest, once read; under threshold sharing, with the
    /// trustees' verification keys from the key-generation ceremony as judged from the record
    /// (V-3), when it has an outcome.
    pub election: Option<Election>,
    /// The trustees whose decryption factors of the tally are on the record
    /// (`partial_decryption` lines), in record order, whether or not they passed V-15.
    pub tally_decryptors: Vec<u32>,
    /// The mix phase, for an election with a ranked or graded question, once the tally is read.
    pub mix: Option<MixState>,
    /// The record's `tally` line (the counted ballots, their total weight and the encrypted
    /// tally), once read, when no V-14 check failed: its tally is then the weighted sum of the
    /// counted ballots, the one a trustee decrypts. `None` before the tally line, and when V-14
    /// failed.
    pub tally: Option<TallyEntry>,
}

impl Report {
    /// Whether some failure has check `id`.
    pub fn has_failure(&self, id: &str) -> bool {
        self.checks
            .iter()
            .any(|c| c.id == id && c.status == Status::Failed)
    }

    /// The ids of the checks that failed.
    pub fn failed_checks(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Failed)
            .map(|c| c.id)
            .collect()
    }
}

/// The outcome of a key-generation ceremony, as judged from the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CeremonySummary {
    /// Qualified dealers.
    pub qualified: Vec<u32>,
    /// Disqualified dealers, with the reason.
    pub disqualified: Vec<String>,
    /// Messages set aside (forged, or unjustified complaints).
    pub ignored: usize,
}

/// A record that cannot be read at all (I/O), as opposed to one that fails checks.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Reading failed.
    #[error("reading the record: {0}")]
    Io(#[from] std::io::Error),
}

/// Stages of the record, in order: each line's stage may not go back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Start,
    Header,
    Manifest,
    Dealings,
    Complaints,
    Answers,
    Credentials,
    Booth,
    Open,
    Close,
    Tally,
    Partials,
    Shuffles,
    MixDecryption,
    MixedBallots,
    Result,
    TreeHead,
}

fn stage_of(kind: &str) -> Stage {
    match kind {
        "header" => Stage::Header,
        "manifest" => Stage::Manifest,
        "dealing" => Stage::Dealings,
        "complaint" => Stage::Complaints,
        "answer" => Stage::Answers,
        "credential" | "revocation" => Stage::Credentials,
        "booth" => Stage::Booth,
        "open" | "ballot" => Stage::Open,
        "close" => Stage::Close,
        "tally" => Stage::Tally,
        "partial_decryption" => Stage::Partials,
        "shuffle_chunk" | "shuffle" => Stage::Shuffles,
        "mix_decryption" => Stage::MixDecryption,
        "mixed_ballots" => Stage::MixedBallots,
        "result" => Stage::Result,
        _ => Stage::TreeHead,
    }
}

/// One ballot line after the parallel step.
struct BallotOutcome {
    number: u64,
    offset: u64,
    leaf: Hash,
    parsed: Option<(u64, BallotEntry)>,
    credential: Option<(u32, u64)>,
    /// Passed the checks made alone; its equations wait for its sub-batch.
    ready: bool,
    failure: Option<Failure>,
    points: u64,
}

impl BallotOutcome {
    /// Records the ballot's failure. A ballot that is not well formed for this election (V-5,
    /// V-6) or whose credential is not eligible (V-7: not on the list, or revoked) is not counted; any other is, so that
    /// the tally check (V-14) judges the tally the server should have computed.
    fn fail(&mut self, f: Failure) {
        if matches!(f.check.as_str(), "V-5" | "V-6" | "V-7") {
            self.credential = None;
        }
        self.failure = Some(f);
    }
}

/// Raw ballot lines waiting for the parallel step.
struct Pending {
    number: u64,
    offset: u64,
    bytes: Vec<u8>,
}

pub(crate) struct State<'o> {
    pub(crate) options: &'o Options,
    stage: Stage,
    pub(crate) election: Option<Election>,
    credentials: Option<CredentialIndex>,
    credential_number: u64,
    /// Revoked credentials, by index in the list, with the line of their revocation.
    revoked: HashMap<u32, u64>,
    /// A revocation whose replacement must be the next line: its line, and the revoked
    /// credential's weight when it was on the list.
    replacing: Option<(u64, Option<u64>)>,
    /// Whether a revocation has been read: every later credential is a replacement.
    revocation_seen: bool,
    /// The files of the `booth` line, once read and well formed (spec §7.6).
    booth_files: Option<Vec<BoothFile>>,
    /// The line of a `booth` line whose `open` line must come next.
    booth_pending: Option<u64>,
    tree: MerkleBuilder,
    seq: u64,
    failures: Vec<Failure>,
    counts: [u64; Check::ALL.len()],
    fatal: bool,
    open_at: Option<Timestamp>,
    close_at: Option<Timestamp>,
    last_cast: Option<Timestamp>,
    trackers: HashSet<[u8; 32]>,
    last_ballot: Vec<u64>,
    replaced: Vec<(u64, u64)>,
    tally: Option<TallyAccumulator>,
    partials: Vec<PartialDecryption>,
    /// The tally line, once read: its tally is the one the factors (V-15) and the result
    /// (V-17) are checked against.
    tally_entry: Option<TallyEntry>,
    result: Option<ElectionResult>,
    result_seen: bool,
    tree_head_ok: Option<String>,
    ballots: u64,
    points: u64,
    pending: Vec<Pending>,
    ceremony: Transcript,
    ceremony_judged: bool,
    ceremony_summary: Option<CeremonySummary>,
    /// The mix phase, for an election with a mixed question (spec §8.8).
    pub(crate) mix: Option<MixPhase>,
}

impl<'o> State<'o> {
    pub(crate) fn fail(&mut self, f: Failure) {
        let i = Check::ALL
            .iter()
            .position(|c| c.id() == f.check)
            .unwrap_or(17);
        self.counts[i] += 1;
        if self.failures.len() < self.options.max_failures {
            self.failures.push(f);
        }
    }

    pub(crate) fn fail_at(
        &mut self,
        check: Check,
        line: u64,
        item: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.fail(Failure::new(check, Some(line), item, detail));
    }

    /// Stage order and sequence numbers (V-18), shared by every line.
    fn check_position(&mut self, number: u64, seq: u64, kind: &str) {
        if seq != self.seq {
            self.fail_at(
                Check::V18,
                number,
                "seq",
                format!("is {seq}, expected {}", self.seq),
            );
        }
        self.seq = seq.max(self.seq).saturating_add(1);
        if kind != "credential" {
            self.no_replacement(number);
        }
        let stage = stage_of(kind);
        let once = matches!(
            kind,
            "header" | "manifest" | "booth" | "open" | "close" | "tally" | "result"
        );
        if kind == "open" {
            self.booth_pending = None;
        } else {
            self.no_open(number);
        }
        if kind == "ballot" && self.stage >= Stage::Close {
            self.fail_at(
                Check::V12,
                number,
                "ballot",
                "a ballot after the election closed",
            );
        } else if stage < self.stage || (once && stage == self.stage) {
            let detail = format!("a `{kind}` line cannot follow the {:?} stage", self.stage);
            self.fail_at(Check::V18, number, "type", detail);
        } else {
            self.stage = stage;
        }
    }

    /// V-18: a `booth` line not immediately followed by the `open` line (spec §7.6), when line
    /// `number` is not `open`.
    fn no_open(&mut self, number: u64) {
        if let Some(at) = self.booth_pending.take() {
            let detail = format!("the booth line {at} is not immediately followed by `open`");
            self.fail_at(Check::V18, number, "type", detail);
        }
    }

    /// V-4: a revocation waiting for its replacement, when line `number` is not a credential.
    fn no_replacement(&mut self, number: u64) {
        if let Some((at, _)) = self.replacing.take() {
            let detail = format!(
                "the revocation of line {at} is not followed by the credential that replaces it"
            );
            self.fail_at(Check::V4, number, "type", detail);
        }
    }

    fn line_error(&mut self, e: LineError) {
        // The line that does not parse is reported for itself, even if a replacement was due.
        self.replacing = None;
        let check = match e.kind.as_str() {
            "header" => Check::V1,
            "manifest" => Check::V2,
            "credential" | "revocation" => Check::V4,
            "dealing" | "complaint" | "answer" => Check::V3,
            "ballot" => Check::V5,
            "tally" => Check::V14,
            "partial_decryption" => Check::V15,
            // A shuffle without a well-formed signature is not its trustee's.
            "shuffle" if e.path.starts_with("signature") || e.message.contains("`signature`") => {
                Check::V20
            }
            "shuffle_chunk" | "shuffle" => Check::V19,
            "mix_decryption" => Check::V21,
            "mixed_ballots" => Check::V22,
            "result" => Check::V17,
            _ => Check::V18,
        };
        if matches!(check, Check::V1 | Check::V2) {
            self.fatal = true;
        }
        self.fail_at(check, e.line, e.path, e.message);
    }
}

/// Verifies a record. `progress` is called with the number of bytes read so far.
pub fn verify<R: BufRead + Seek>(
    input: R,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, RecordError> {
    Ok(verify_with_state(input, options, progress)?.report)
}

/// Verifies a record as [`verify`] does, and hands over the state the checks built: the
/// election and the mix phase's current list (see [`Verifier::finish_with_state`]).
pub fn verify_with_state<R: BufRead + Seek>(
    mut input: R,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Verification, RecordError> {
    let mut v = Verifier::new(options);
    v.feed(&mut input, progress)?;
    Ok(v.finish_with_state())
}

/// The verifier fed a record in pieces, for an observer who watches a board grow
/// (`urne audit watch`): every line is checked once, when it arrives, and the running state
/// (the election, the credential list, the trackers seen, the running tally, the Merkle tree)
/// is kept between pieces. [`verify`] is one [`Verifier::feed`] of the whole record followed by
/// [`Verifier::finish`].
///
/// The lines are read from one growing input, the record from its start: each call of
/// [`Verifier::feed`] reads it from [`Verifier::offset`] to its end. The bytes fed before must
/// not change, because the `tally` line reads the ballots that revotes replaced again from
/// them. A board has no `tree_head` line: its heads are signed apart, and [`Verifier::tree_size`]
/// and [`Verifier::root`] give the tree of the lines fed to compare them with.
pub struct Verifier<'o> {
    st: State<'o>,
    started: Clock,
    offset: u64,
    number: u64,
    tree_head_line: Option<u64>,
}

impl std::fmt::Debug for Verifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("lines", &self.number)
            .field("offset", &self.offset)
            .field("failures", &self.failures_total())
            .finish_non_exhaustive()
    }
}

impl<'o> Verifier<'o> {
    /// A verifier that has read nothing yet.
    pub fn new(options: &'o Options) -> Self {
        Verifier {
            st: State {
                options,
                stage: Stage::Start,
                election: None,
                credentials: None,
                credential_number: 0,
                revoked: HashMap::new(),
                replacing: None,
                revocation_seen: false,
                booth_files: None,
                booth_pending: None,
                tree: MerkleBuilder::new(),
                seq: 0,
                failures: Vec::new(),
                counts: [0; Check::ALL.len()],
                fatal: false,
                open_at: None,
                close_at: None,
                last_cast: None,
                trackers: HashSet::new(),
                last_ballot: Vec::new(),
                replaced: Vec::new(),
                tally: None,
                partials: Vec::new(),
                tally_entry: None,
                result: None,
                result_seen: false,
                tree_head_ok: None,
                ballots: 0,
                points: 0,
                pending: Vec::new(),
                ceremony: Transcript::default(),
                ceremony_judged: false,
                ceremony_summary: None,
                mix: None,
            },
            started: Clock::now(),
            offset: 0,
            number: 0,
            tree_head_line: None,
        }
    }

    /// Reads and checks the lines of `input` from its current position, which must be
    /// [`Verifier::offset`] in the record fed so far, to its end. Every line read is judged on
    /// return (no ballot waits for a fuller batch), except a key-generation ceremony still
    /// without a later line, which is judged once one arrives or at [`Verifier::finish`].
    /// `progress` is called with the record's bytes read so far.
    pub fn feed<R: BufRead + Seek>(
        &mut self,
        input: &mut R,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), RecordError> {
        let st = &mut self.st;
        let options = st.options;
        let mut buf = Vec::with_capacity(1 << 16);
        let mut pending_bytes = 0usize;
        loop {
            buf.clear();
            let (n, complete) = read_line(input, &mut buf, options.max_line_bytes)?;
            if n == 0 {
                break;
            }
            self.number += 1;
            let number = self.number;
            let line_offset = self.offset;
            self.offset += n;
            let offset = self.offset;
            if !complete {
                let detail = format!("longer than {} bytes: skipped", options.max_line_bytes);
                st.fail_at(Check::V18, number, ".", detail);
                st.tree.push(leaf_hash(b""));
                st.seq = st.seq.saturating_add(1);
                continue;
            }
            if let Some(th) = self.tree_head_line {
                st.fail_at(
                    Check::V18,
                    number,
                    ".",
                    format!("a line after the tree head of line {th}"),
                );
                continue;
            }
            if st.fatal {
                continue;
            }
            if !st.ceremony_judged && st.election.is_some() && !is_ceremony_line(&buf) {
                judge_ceremony(st, number);
            }
            if is_ballot_line(&buf) && st.election.is_some() {
                st.pending.push(Pending {
                    number,
                    offset: line_offset,
                    bytes: std::mem::take(&mut buf),
                });
                pending_bytes += st.pending.last().map_or(0, |p| p.bytes.len());
                if st.pending.len() >= options.chunk || pending_bytes >= MAX_PENDING_BYTES {
                    pending_bytes = 0;
                    flush_ballots(st)?;
                    progress(offset);
                }
                continue;
            }
            flush_ballots(st)?;
            progress(offset);
            let leaf = leaf_hash(&buf);
            let line = match parse_line(number, &buf) {
                Ok(l) => l,
                Err(e) => {
                    st.line_error(e);
                    st.tree.push(leaf);
                    st.seq = st.seq.saturating_add(1);
                    continue;
                }
            };
            if let Entry::TreeHead(head) = &line.entry {
                self.tree_head_line = Some(number);
                check_tree_head(st, number, line.seq, head);
                continue;
            }
            st.check_position(number, line.seq, line.entry.kind());
            st.tree.push(leaf);
            other_line(st, input, number, line.entry, offset)?;
        }
        flush_ballots(st)?;
        progress(self.offset);
        Ok(())
    }

    /// The record's bytes read so far: where the next [`Verifier::feed`] starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.number
    }

    /// Leaves of the Merkle tree of the lines read so far (a `tree_head` line is not one).
    pub fn tree_size(&self) -> u64 {
        self.st.tree.size()
    }

    /// The Merkle root of the lines read so far (docs/record.md §4.1).
    pub fn root(&self) -> Hash {
        self.st.tree.root()
    }

    /// Ballot lines read so far.
    pub fn ballots(&self) -> u64 {
        self.st.ballots
    }

    /// The election of the record's manifest, once read: its fingerprint is the one the
    /// record's ballots and signed tree heads are bound to.
    pub fn election(&self) -> Option<&Election> {
        self.st.election.as_ref()
    }

    /// The failures found so far, in the order found: the first [`Options::max_failures`].
    pub fn failures(&self) -> &[Failure] {
        &self.st.failures
    }

    /// The number of failures found so far, all counted.
    pub fn failures_total(&self) -> u64 {
        self.st.counts.iter().sum()
    }

    /// The report on the lines read so far, as for a snapshot of the record but without the
    /// checks that only the record's end makes (a tree head present, a pending ceremony judged).
    pub fn report(&self) -> Report {
        report(&self.st, self.number, self.started)
    }

    /// Ends the record: judges a ceremony still pending, requires a non-empty record that ends
    /// with its tree head, and reports.
    pub fn finish(self) -> Report {
        self.finish_with_state().report
    }

    /// Ends the record as [`Verifier::finish`] does, and hands over, besides the report, the
    /// state the checks built that the next step works on: the election with its verification
    /// keys, the tally line once it passed V-14, the trustees who decrypted the tally, and the
    /// mix phase's current list. They are
    /// moved out of the verifier, not copied: this costs no memory beyond what verification
    /// held.
    pub fn finish_with_state(mut self) -> Verification {
        let st = &mut self.st;
        if !st.ceremony_judged && st.election.is_some() {
            judge_ceremony(st, self.number);
        }
        if st.stage == Stage::Start {
            st.fail(Failure::new(
                Check::V1,
                None,
                "record",
                "the record is empty",
            ));
        } else if self.tree_head_line.is_none() && !st.fatal {
            st.fail(Failure::new(
                Check::V18,
                None,
                "record",
                "no tree head: the record is truncated",
            ));
        }
        let report = report(&self.st, self.number, self.started);
        let st = self.st;
        let tally = st
            .tally_entry
            .filter(|_| !report.has_failure(Check::V14.id()));
        Verification {
            report,
            election: st.election,
            tally_decryptors: st.partials.iter().map(|p| p.trustee).collect(),
            mix: st.mix.and_then(MixPhase::into_state),
            tally,
        }
    }
}

/// Ballot lines held before a parallel step, in bytes (besides the count in [`Options::chunk`]).
const MAX_PENDING_BYTES: usize = 64 << 20;

/// Whether a line is a ceremony message (`dealing`, `complaint` or `answer`), by its head.
fn is_ceremony_line(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(48)];
    [
        b"\"type\":\"dealing\"".as_slice(),
        b"\"type\":\"complaint\"",
        b"\"type\":\"answer\"",
    ]
    .iter()
    .any(|needle| head.windows(needle.len()).any(|w| w == *needle))
}

/// V-3 under threshold sharing: judges the ceremony's messages (spec §8.5.6) with the manifest's
/// trustee keys as identity keys, checks its election key against the manifest, and installs the
/// verification keys that V-15 uses. Runs once, when the first line after the ceremony arrives.
fn judge_ceremony(st: &mut State<'_>, number: u64) {
    st.ceremony_judged = true;
    let Some(election) = st.election.as_mut() else {
        return;
    };
    let m = election.manifest();
    if m.key_sharing != KeySharing::Threshold {
        return;
    }
    let identities: Vec<_> = m.trustees.iter().map(|t| t.public_key).collect();
    let t = std::mem::take(&mut st.ceremony);
    let judged = vartime_judge_ceremony(
        &m.id,
        m.threshold,
        &identities,
        &t.dealings,
        &t.complaints,
        &t.answers,
    );
    let failure = match judged {
        Err(e) => Some(Failure::new(
            Check::V3,
            Some(number),
            "ceremony",
            format!("the key-generation ceremony has no outcome: {e}"),
        )),
        Ok(outcome) => {
            st.ceremony_summary = Some(CeremonySummary {
                qualified: outcome.qualified.clone(),
                disqualified: outcome
                    .disqualified
                    .iter()
                    .map(|(i, r)| format!("trustee {i}: {r:?}"))
                    .collect(),
                ignored: outcome.ignored.len(),
            });
            election
                .set_verification_keys(&outcome.keys)
                .err()
                .map(|e| Failure::from_verify(e, Some(number), None))
        }
    };
    if let Some(f) = failure {
        st.fail(f);
    }
}

fn is_ballot_line(bytes: &[u8]) -> bool {
    // `{"seq":N,"type":"ballot",...`: a cheap test to route the line to the parallel step, where
    // it is fully parsed; anything else goes through the general path.
    let head = &bytes[..bytes.len().min(48)];
    let needle = b"\"type\":\"ballot\"";
    head.starts_with(b"{\"seq\":") && head.windows(needle.len()).any(|w| w == needle)
}

fn check_tree_head(st: &mut State<'_>, number: u64, seq: u64, head: &crate::record::TreeHead) {
    st.no_replacement(number);
    st.no_open(number);
    if seq != st.seq {
        st.fail_at(
            Check::V18,
            number,
            "seq",
            format!("is {seq}, expected {}", st.seq),
        );
    }
    if head.size != st.tree.size() {
        let detail = format!(
            "covers {} lines, the record has {} before it",
            head.size,
            st.tree.size()
        );
        st.fail_at(Check::V18, number, "size", detail);
    } else if head.root != st.tree.root() {
        st.fail_at(
            Check::V18,
            number,
            "root",
            "is not the Merkle root of the lines before it",
        );
    } else {
        st.tree_head_ok = Some(urne_core::group::b64_encode(&head.root));
    }
    st.stage = Stage::TreeHead;
}

fn other_line<R: BufRead + Seek>(
    st: &mut State<'_>,
    input: &mut R,
    number: u64,
    entry: Entry,
    resume_at: u64,
) -> Result<(), RecordError> {
    match entry {
        Entry::Header(h) => {
            if h.format != RECORD_FORMAT {
                let detail = format!(
                    "`{}` is not a record format this verifier knows ({RECORD_FORMAT})",
                    h.format
                );
                st.fail_at(Check::V1, number, "format", detail);
                st.fatal = true;
            }
            if number != 1 {
                st.fail_at(
                    Check::V1,
                    number,
                    "header",
                    "the header must be the first line",
                );
            }
        }
        Entry::Manifest(m) => {
            if st.stage < Stage::Manifest || number == 1 {
                st.fail_at(Check::V1, number, "header", "the record has no header line");
                st.fatal = true;
                return Ok(());
            }
            let policy = m.weights;
            match Election::new(*m) {
                Ok(e) => {
                    if let Err(err) = e.manifest().vartime_verify_trustee_keys() {
                        st.fail(Failure::from_verify(err, Some(number), None));
                    }
                    // Ranked and graded questions are counted through the mix phase.
                    st.mix = MixPhase::new(&e);
                    st.tally = Some(TallyAccumulator::new(&e));
                    st.election = Some(e);
                    st.credentials = Some(CredentialIndex::new(policy));
                }
                Err(e) => {
                    st.fail_at(Check::V2, number, format!("manifest.{}", e.path), e.message);
                    st.fatal = true;
                }
            }
        }
        Entry::Credential(c) => credential_line(st, number, c),
        Entry::Revocation(r) => revocation_line(st, number, r),
        Entry::Booth(b) => booth_line(st, number, b),
        Entry::Open(i) => {
            if let Some(e) = &st.election {
                if i.at < e.manifest().opens_at || i.at >= e.manifest().closes_at {
                    st.fail_at(
                        Check::V12,
                        number,
                        "at",
                        "the election opened outside its voting period",
                    );
                }
            }
            st.open_at = Some(i.at);
        }
        Entry::Close(i) => {
            if st.open_at.is_none() {
                st.fail_at(
                    Check::V18,
                    number,
                    "close",
                    "the election closed without opening",
                );
            }
            if let Some(last) = st.last_cast {
                if i.at < last {
                    st.fail_at(Check::V12, number, "at", "closes before its last ballot");
                }
            }
            st.close_at = Some(i.at);
        }
        Entry::Dealing(_) | Entry::Complaint(_) | Entry::Answer(_)
            if st
                .election
                .as_ref()
                .is_some_and(|e| e.manifest().key_sharing != KeySharing::Threshold) =>
        {
            st.fail_at(
                Check::V18,
                number,
                "type",
                "ceremony messages in an election with independent trustee keys",
            );
        }
        Entry::Dealing(d) => st.ceremony.dealings.push(*d),
        Entry::Complaint(c) => st.ceremony.complaints.push(*c),
        Entry::Answer(a) => st.ceremony.answers.push(*a),
        Entry::Ballot(_) => {
            // Ballot lines before the manifest: nothing can be checked.
            st.fail_at(Check::V18, number, "ballot", "a ballot before the manifest");
        }
        Entry::Tally(t) => tally_line(st, input, number, *t, resume_at)?,
        Entry::PartialDecryption(pd) => {
            if let (Some(e), Some(t)) = (&st.election, &st.tally_entry) {
                if let Err(err) = vartime_verify_partial(&mut rand::rng(), e, &t.tally, &pd) {
                    st.fail(Failure::from_verify(err, Some(number), None));
                }
            }
            st.partials.push(*pd);
        }
        Entry::ShuffleChunk(c) => crate::mix::shuffle_chunk(st, number, *c),
        Entry::Shuffle(sh) => crate::mix::shuffle_end(st, number, *sh),
        Entry::MixDecryption(d) => crate::mix::mix_decryption(st, number, *d),
        Entry::MixedBallots(b) => crate::mix::mixed_ballots(st, number, *b),
        Entry::Result(r) => {
            st.result_seen = true;
            // The mixed questions' results: recounted from the decrypted ballots (V-23).
            let mixed = crate::mix::mixed_results(st, number, &r);
            let mut plurality = (*r).clone();
            plurality.questions.iter_mut().for_each(|q| q.mixed = None);
            if let (Some(e), Some(t)) = (&st.election, &st.tally_entry) {
                match vartime_verify_result(e, &t.tally, &st.partials, &plurality) {
                    Err(err) => st.fail(Failure::from_verify(err, Some(number), None)),
                    Ok(()) => {
                        // Recompute the counts by discrete logarithm: the same numbers, found
                        // from the factors alone.
                        match decrypt_result(e, &t.tally, &st.partials, t.total_weight) {
                            Ok(mut recomputed) if recomputed == plurality => {
                                for (q, m) in recomputed.questions.iter_mut().zip(mixed) {
                                    q.mixed = m;
                                }
                                st.result = Some(recomputed);
                            }
                            Ok(_) => st.fail_at(
                                Check::V17,
                                number,
                                "result",
                                "differs from the recomputed counts",
                            ),
                            Err(err) => st.fail_at(Check::V17, number, "result", err.to_string()),
                        }
                    }
                }
            } else {
                st.fail_at(
                    Check::V17,
                    number,
                    "result",
                    "a result without a verified tally",
                );
            }
        }
        Entry::TreeHead(_) => unreachable!("handled by the caller"),
    }
    Ok(())
}

/// V-4 for a `credential` line: the entry itself (spec §5.4) and, once a revocation has been
/// read, its place as the replacement that follows a revocation (spec §5.5).
fn credential_line(st: &mut State<'_>, number: u64, c: CredentialEntry) {
    let idx = st.credential_number;
    st.credential_number += 1;
    let replacing = st.replacing.take();
    let Some(list) = st.credentials.as_mut() else {
        return;
    };
    let revoked_at = list
        .get(&c.credential)
        .and_then(|(i, _)| st.revoked.get(&i).copied());
    let mut failures = Vec::new();
    match replacing {
        None if st.revocation_seen => failures.push((
            "type",
            "after the first revocation, a credential line only follows a revocation, as its \
             replacement"
                .to_owned(),
        )),
        Some((at, Some(w))) if c.weight != w => failures.push((
            "weight",
            format!(
                "is {}, the credential it replaces (revoked on line {at}) has {w}",
                c.weight
            ),
        )),
        _ => {}
    }
    if let Some(at) = revoked_at {
        let detail = format!("was revoked on line {at}: a revoked credential is not listed again");
        failures.push(("credential", detail));
    } else {
        let pc = PublicCredential {
            credential: c.credential,
            weight: c.weight,
        };
        match list.push(&pc, || format!("credential {idx}")) {
            Err(e) => st.fail(Failure::from_verify(e, Some(number), None)),
            Ok(_) => st.last_ballot.push(u64::MAX),
        }
    }
    for (item, detail) in failures {
        st.fail_at(Check::V4, number, item, detail);
    }
}

/// V-18 for a `booth` line (spec §7.6): its paths are absolute, unique and sorted by their
/// bytes. Its place (once, just before `open`) is checked with the stage order. The digests are
/// not checked against anything: they are the server's declaration, which observers compare with
/// the files it serves.
fn booth_line(st: &mut State<'_>, number: u64, b: BoothEntry) {
    st.booth_pending = Some(number);
    let mut ok = true;
    if b.files.is_empty() {
        st.fail_at(Check::V18, number, "files", "lists no file");
        ok = false;
    }
    for (i, f) in b.files.iter().enumerate() {
        if !f.path.starts_with('/') {
            let detail = format!("{:?} is not an absolute path", f.path);
            st.fail_at(Check::V18, number, format!("files[{i}].path"), detail);
            ok = false;
        }
        if i > 0 && b.files[i - 1].path.as_bytes() >= f.path.as_bytes() {
            let detail = format!(
                "{:?} does not come after {:?}: paths are unique and sorted",
                f.path,
                b.files[i - 1].path
            );
            st.fail_at(Check::V18, number, format!("files[{i}].path"), detail);
            ok = false;
        }
    }
    if ok && st.booth_files.is_none() {
        st.booth_files = Some(b.files);
    }
}

/// V-4 for a `revocation` line (spec §5.5): it names a credential listed on an earlier line and
/// not yet revoked, and its replacement must be the next line. A revocation out of its place
/// (after `open`) is reported by the stage order (V-18) and has no effect.
fn revocation_line(st: &mut State<'_>, number: u64, r: Revocation) {
    if st.stage != Stage::Credentials {
        return;
    }
    let Some(list) = st.credentials.as_ref() else {
        st.fail_at(
            Check::V18,
            number,
            "type",
            "a revocation before the manifest",
        );
        return;
    };
    st.revocation_seen = true;
    let listed = list.get(&r.credential);
    st.replacing = Some((number, listed.map(|(_, w)| w)));
    match listed {
        None => st.fail_at(
            Check::V4,
            number,
            "credential",
            "is not listed on an earlier credential line",
        ),
        Some((i, _)) => {
            if let Some(at) = st.revoked.get(&i).copied() {
                let detail = format!("was already revoked on line {at}");
                st.fail_at(Check::V4, number, "credential", detail);
            } else {
                st.revoked.insert(i, number);
            }
        }
    }
}

fn tally_line<R: BufRead + Seek>(
    st: &mut State<'_>,
    input: &mut R,
    number: u64,
    t: TallyEntry,
    resume_at: u64,
) -> Result<(), RecordError> {
    let Some(mut acc) = st.tally.take() else {
        st.fail_at(Check::V14, number, "tally", "a tally without a manifest");
        return Ok(());
    };
    // Take the replaced ballots back out: read them again from the record.
    let mut line = Vec::new();
    for &(offset, weight) in &st.replaced {
        input.seek(SeekFrom::Start(offset))?;
        read_line(input, &mut line, st.options.max_line_bytes)?;
        if let Ok(l) = parse_line(0, &line) {
            if let Entry::Ballot(b) = l.entry {
                acc.remove(&b.ballot, weight);
            }
        }
    }
    input.seek(SeekFrom::Start(resume_at))?;
    let computed = acc.finish();
    if t.ballots != acc.ballots() {
        let detail = format!(
            "says {} ballots counted, the revote rule gives {}",
            t.ballots,
            acc.ballots()
        );
        st.fail_at(Check::V14, number, "ballots", detail);
    }
    if t.total_weight != acc.total_weight() {
        let detail = format!(
            "says {}, the counted ballots weigh {}",
            t.total_weight,
            acc.total_weight()
        );
        st.fail_at(Check::V14, number, "total_weight", detail);
    }
    if t.tally != computed {
        st.fail_at(
            Check::V14,
            number,
            "tally",
            "is not the weighted sum of the counted ballots",
        );
    }
    st.tally_entry = Some(t);
    let replaced: HashSet<u64> = st.replaced.iter().map(|r| r.0).collect();
    if let Some(mix) = st.mix.as_mut() {
        mix.start(&replaced);
    }
    st.tally = Some(acc);
    Ok(())
}

/// Parses and checks one ballot line in the parallel step, collecting its equations.
fn ballot_outcome(
    p: &Pending,
    election: &Election,
    credentials: &CredentialIndex,
    revoked: &HashMap<u32, u64>,
    batch: bool,
    rng: &mut ThreadRng,
) -> BallotOutcome {
    let leaf = leaf_hash(&p.bytes);
    let mut out = BallotOutcome {
        number: p.number,
        offset: p.offset,
        leaf,
        parsed: None,
        credential: None,
        ready: false,
        failure: None,
        points: 0,
    };
    let line = match parse_line(p.number, &p.bytes) {
        Ok(l) => l,
        Err(e) => {
            let check = if e.kind == "ballot" {
                Check::V5
            } else {
                Check::V18
            };
            out.failure = Some(Failure::new(check, Some(p.number), e.path, e.message));
            return out;
        }
    };
    let Entry::Ballot(entry) = line.entry else {
        out.failure = Some(Failure::new(
            Check::V18,
            Some(p.number),
            "type",
            "expected a ballot line",
        ));
        return out;
    };
    let b = &entry.ballot;
    out.points = count_points(b);
    let tracker = b.tracker();
    out.credential = credentials.get(&b.credential);
    let revoked_at = out.credential.and_then(|(i, _)| revoked.get(&i).copied());
    let failure = if tracker != entry.tracker {
        let detail = format!("is {}, the ballot hashes to {tracker}", entry.tracker);
        Some(Failure::new(Check::V11, Some(p.number), "tracker", detail))
    } else if out.credential.is_none() {
        let detail = "not in the public credential list";
        Some(Failure::new(
            Check::V7,
            Some(p.number),
            "ballot.credential",
            detail,
        ))
    } else if let Some(at) = revoked_at {
        let detail = format!("was revoked on line {at}, before voting opened");
        Some(Failure::new(
            Check::V7,
            Some(p.number),
            "ballot.credential",
            detail,
        ))
    } else if batch {
        out.ready = true;
        None
    } else {
        b.vartime_verify(rng, election)
            .err()
            .map(|e| Failure::in_ballot(e, p.number, &tracker))
    };
    if let Some(f) = failure {
        out.fail(f.with_tracker(&tracker));
    }
    out.parsed = Some((line.seq, *entry));
    out
}

/// Number of points decoded from a ballot: the dominant cost of checking it.
fn count_points(b: &Ballot) -> u64 {
    let mut n = 2; // credential and signature commitment
    for a in &b.answers {
        n += 2 * (a.choices.len() + usize::from(a.blank.is_some()));
        for p in a.choice_proofs.iter().chain(a.count_proof.as_ref()) {
            n += p
                .branches
                .iter()
                .map(|br| br.a.len() + br.b.len())
                .sum::<usize>();
        }
    }
    n as u64
}

/// Checks the equations of a group of ballots in one multiscalar multiplication. Ballots that
/// fail a check of their own (shape, challenge sums) are named at once; if the combination fails,
/// the group is halved and each half collected and checked again, until the faulty ballots are
/// found and diagnosed.
fn vartime_check_group(
    group: &mut [BallotOutcome],
    members: &[usize],
    election: &Election,
    rng: &mut ThreadRng,
) {
    let y = election.key().point().element();
    let points: u64 = members.iter().map(|&i| group[i].points + 2).sum();
    let mut msm = Msm::with_capacity(points as usize);
    let mut collected = Vec::with_capacity(members.len());
    for &i in members {
        let o = &mut group[i];
        let Some((_, entry)) = &o.parsed else {
            continue;
        };
        match entry.ballot.vartime_collect(rng, election, &mut msm) {
            Ok(()) => collected.push(i),
            Err(e) => {
                let f = Failure::in_ballot(e, o.number, &entry.tracker);
                o.fail(f);
            }
        }
    }
    if collected.is_empty() || msm.vartime_is_identity(y) {
        return;
    }
    drop(msm);
    if let [i] = collected[..] {
        let o = &mut group[i];
        if let Some((_, entry)) = &o.parsed {
            let f = Failure::in_ballot(
                entry.ballot.vartime_diagnose(rng, election),
                o.number,
                &entry.tracker,
            );
            o.fail(f);
        }
        return;
    }
    let (left, right) = collected.split_at(collected.len() / 2);
    vartime_check_group(group, left, election, rng);
    vartime_check_group(group, right, election, rng);
}

fn flush_ballots(st: &mut State<'_>) -> Result<(), RecordError> {
    if st.pending.is_empty() {
        return Ok(());
    }
    let pending = std::mem::take(&mut st.pending);
    let (Some(election), Some(credentials)) = (st.election.as_ref(), st.credentials.as_ref())
    else {
        return Ok(());
    };
    let batch = st.options.batch;
    let revoked = &st.revoked;
    let mut outcomes: Vec<BallotOutcome> = pending
        .par_iter()
        .map_init(rand::rng, |rng, p| {
            ballot_outcome(p, election, credentials, revoked, batch, rng)
        })
        .collect();
    if batch {
        outcomes
            .par_chunks_mut(st.options.batch_size)
            .for_each_init(rand::rng, |rng, group| {
                let members: Vec<usize> = (0..group.len()).filter(|&i| group[i].ready).collect();
                vartime_check_group(group, &members, election, rng);
            });
    }
    // The running tally, in parallel over the ballots with a known credential.
    let partial = outcomes
        .par_chunks(256)
        .map(|chunk| {
            let mut acc = TallyAccumulator::new(election);
            for o in chunk {
                if let (Some((_, entry)), Some((_, weight))) = (&o.parsed, o.credential) {
                    acc.add(&entry.ballot, weight);
                }
            }
            acc
        })
        .reduce_with(|mut a, b| {
            a.merge(&b);
            a
        });
    if let (Some(acc), Some(p)) = (st.tally.as_mut(), partial) {
        acc.merge(&p);
    }
    // In record order: positions, the tree, times, trackers and revotes.
    for o in outcomes {
        st.ballots += 1;
        st.points += o.points;
        st.tree.push(o.leaf);
        let Some((seq, entry)) = o.parsed else {
            st.seq = st.seq.saturating_add(1);
            st.fail(o.failure.expect("an unparsed ballot has a failure"));
            continue;
        };
        st.check_position(o.number, seq, "ballot");
        if let Some(f) = o.failure {
            st.fail(f);
        }
        if let (Some(mix), Some(e), Some(_)) = (st.mix.as_mut(), st.election.as_ref(), o.credential)
        {
            mix.candidate(o.offset, &entry.ballot, e);
        }
        ballot_order(st, o.number, o.offset, &entry, o.credential);
    }
    Ok(())
}

/// V-12 and V-13 for one ballot, in record order.
fn ballot_order(
    st: &mut State<'_>,
    number: u64,
    offset: u64,
    entry: &BallotEntry,
    credential: Option<(u32, u64)>,
) {
    let Some(e) = st.election.as_ref() else {
        return;
    };
    let (opens, closes, revote) = (
        e.manifest().opens_at,
        e.manifest().closes_at,
        e.manifest().revote,
    );
    let t = entry.cast_at;
    if st.open_at.is_none() {
        st.fail(
            Failure::new(
                Check::V12,
                Some(number),
                "cast_at",
                "cast before the election opened",
            )
            .with_tracker(&entry.tracker),
        );
    } else if t < opens || t >= closes || st.open_at.is_some_and(|o| t < o) {
        let detail = format!("{t} is outside the voting period {opens} to {closes}");
        st.fail(
            Failure::new(Check::V12, Some(number), "cast_at", detail).with_tracker(&entry.tracker),
        );
    }
    if st.last_cast.is_some_and(|last| t < last) {
        st.fail(
            Failure::new(
                Check::V18,
                Some(number),
                "cast_at",
                "earlier than the ballot before it",
            )
            .with_tracker(&entry.tracker),
        );
    }
    st.last_cast = Some(st.last_cast.map_or(t, |l| l.max(t)));
    if !st.trackers.insert(entry.tracker.0) {
        st.fail(
            Failure::new(
                Check::V13,
                Some(number),
                "tracker",
                "this ballot is already in the record",
            )
            .with_tracker(&entry.tracker),
        );
        if let Some((_, w)) = credential {
            // Counted once: the duplicate was added to the running tally, take it back.
            st.replaced.push((offset, w));
        }
        return;
    }
    if let Some((i, w)) = credential {
        let prev = std::mem::replace(&mut st.last_ballot[i as usize], offset);
        if prev != u64::MAX {
            match revote {
                RevotePolicy::LastCounts => st.replaced.push((prev, w)),
                RevotePolicy::Forbidden => {
                    let detail = "a second ballot under a policy that forbids revoting";
                    let f = Failure::new(Check::V13, Some(number), "ballot.credential", detail);
                    st.fail(f.with_tracker(&entry.tracker));
                    st.last_ballot[i as usize] = prev;
                    st.replaced.push((offset, w));
                }
            }
        }
    }
}

fn report(st: &State<'_>, lines: u64, started: Clock) -> Report {
    // Told by the lines read, not by `st.stage`: the tree head line of a snapshot moves that to
    // the end, and a setup snapshot would read as open.
    let stage = if st.result.is_some() {
        "published"
    } else if st.tally_entry.is_some() {
        "tallied"
    } else if st.close_at.is_some() {
        "closed"
    } else if st.open_at.is_some() {
        "open"
    } else {
        "setup"
    };
    let tallied = st.tally_entry.is_some();
    let mixed = st.mix.is_some();
    let applies = |c: Check| match c {
        Check::V14 | Check::V15 | Check::V16 => tallied,
        Check::V17 => st.result_seen,
        Check::V19 | Check::V20 | Check::V21 | Check::V22 => mixed && tallied,
        Check::V23 => mixed && st.result_seen,
        Check::V5
        | Check::V6
        | Check::V7
        | Check::V8
        | Check::V9
        | Check::V10
        | Check::V11
        | Check::V12
        | Check::V13 => st.ballots > 0 || st.open_at.is_some(),
        _ => st.election.is_some() || matches!(c, Check::V1 | Check::V18),
    };
    let checks: Vec<CheckStatus> = Check::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| CheckStatus {
            id: c.id(),
            description: c.description(),
            failures: st.counts[i],
            status: if st.counts[i] > 0 {
                Status::Failed
            } else if applies(*c) {
                Status::Passed
            } else {
                Status::NotApplicable
            },
        })
        .collect();
    let failures_total: u64 = st.counts.iter().sum();
    // Before the tally line, the running tally still holds the replaced ballots.
    let (ballots_counted, total_weight) = match (&st.tally, tallied) {
        (Some(t), true) => (t.ballots(), t.total_weight()),
        (Some(t), false) => {
            let w: u64 = st.replaced.iter().map(|r| r.1).sum();
            (
                t.ballots().saturating_sub(st.replaced.len() as u64),
                t.total_weight().saturating_sub(w),
            )
        }
        (None, _) => (0, 0),
    };
    let m = st.election.as_ref().map(|e| e.manifest());
    Report {
        valid: failures_total == 0,
        complete: st.result.is_some() && failures_total == 0,
        stage,
        election_id: m.map(|m| m.id.clone()),
        title: m.map(|m| m.title.clone()),
        fingerprint: st.election.as_ref().map(|e| e.fingerprint().to_string()),
        lines,
        credentials: st
            .credentials
            .as_ref()
            .map_or(0, |c| c.len() as u64)
            .saturating_sub(st.revoked.len() as u64),
        revoked: st.revoked.len() as u64,
        booth_files: st.booth_files.clone(),
        ballots_cast: st.ballots,
        ballots_counted,
        total_weight,
        points_per_ballot: if st.ballots == 0 {
            0.0
        } else {
            st.points as f64 / st.ballots as f64
        },
        result: st.result.clone(),
        root: st.tree_head_ok.clone(),
        checks,
        failures: st.failures.clone(),
        failures_total,
        seconds: started.elapsed().as_secs_f64(),
        batch: st.options.batch,
        ceremony: st.ceremony_summary.clone(),
        trustees: m.map_or(0, |m| m.trustees.len() as u64),
        mix: st.mix.as_ref().and_then(crate::mix::MixPhase::summary),
    }
}
