//! The mix phase of ranked and graded questions through the server (spec §8.8, issue #8).
//!
//! After the tally and the trustees' factors of it, an election with mixed questions goes on:
//! trustees shuffle in turn the list of the counted ballots' mixed ciphertexts (the **mix
//! input**, then each shuffle's output), each shuffle proved (spec §8.7) and signed with its
//! trustee's identity key; once `threshold` distinct trustees have shuffled, trustees send their
//! decryption factors of the last list; once `threshold` have (every trustee under independent
//! keys), the server combines them, writes the decrypted rows and the result, whose mixed
//! questions are counted from those rows.
//!
//! Uploads are big (a shuffle of 100,000 rows of width 5 carries 500,000 ciphertexts and a proof
//! of 23.0 MB as JSON, docs/performance.md; one trustee's factors are about 200 bytes each, 12 MB
//! measured for 20,000 rows of width 3 by tests/mix_staging.rs `mix_poll_timing`, so about
//! 100 MB at 100,000 × 5), so both go in chunks of consecutive rows, each a request
//! below `max_upload_bytes`: the chunks are checked for their form as they come and kept aside
//! (as relayed messages) until the upload's last request, which checks the whole (proof and
//! signature of a shuffle; each chunk of factors is checked against its rows as it arrives).
//! Only what passes goes on the board, in the record's lines (`shuffle_chunk`, `shuffle`,
//! `mix_decryption`, `mixed_ballots`), exactly as `urne_verify` reads them (V-19 to V-23).
//!
//! The staged chunks are relayed messages, not part of the board or the record: they are
//! deleted once they are of no more use (see [`forget_staged`]), so that a 100,000-ballot mix
//! does not keep its factors (about 100 MB per trustee, above) in the database for ever.
//!
//! A staged chunk is kept with its place in front of it (`{"place":{..},"chunk":{..}}`, see
//! [`Place`]): who is how far in an upload is then read from the first characters of each
//! chunk ([`urne_board::Store::message_heads`]), without moving the chunks' bodies out of the
//! database on every poll of the mix's state.
//!
//! The mix's state (the current list, who shuffled, whether the rows are decrypted) is kept per
//! election in a small cache of the server's state ([`MixCache`]) with the board size it covers.
//! The board only grows, and after the tally only with lines of the mix phase
//! (`partial_decryption` to `result`, docs/record.md §2): when the board has grown, only its
//! new lines are read and applied to the cached state, so that polling the mix during a
//! national election does not scan its millions of ballots each time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use urne_board::Phase;
use urne_core::elgamal::Ciphertext;
use urne_core::group::b64_encode;
use urne_core::manifest::KeySharing;
use urne_core::mix::{
    count_mixed, list_digest, vartime_open_with_factors, vartime_verify_mix_factors,
    vartime_verify_shuffle_signature, width,
};
use urne_core::proofs::shuffle::{ShuffleProof, vartime_verify_shuffle};
use urne_core::tally::decrypt_result;
use urne_verify::record::{
    Entry, MixDecryptionEntry, ShuffleChunk, ShuffleEntry, TallyEntry, mix_decryption_lines,
    mixed_ballots_lines, parse_line, shuffle_lines,
};

use crate::AppState;
use crate::auth::InvitedTrustee;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::live::Live;
use crate::trustees::line_kind;

/// Kinds of the relayed messages that hold uploads in progress.
pub mod kinds {
    /// A chunk of a shuffle being uploaded (a `ShuffleChunk`), by its trustee.
    pub const SHUFFLE_CHUNK: &str = "mix_shuffle_chunk";
    /// A chunk of a trustee's decryption factors of the last list (a `MixDecryptionEntry`).
    pub const FACTORS: &str = "mix_factors";
}

/// Most rows returned by one page of the current list.
const MAX_PAGE_ROWS: u64 = 4096;

/// What the board says about the mix phase.
#[derive(Debug, Default, Clone)]
pub struct MixBoard {
    /// The tally line.
    pub tally: Option<TallyEntry>,
    /// The tally's partial decryptions, in board order.
    pub partials: Vec<urne_core::tally::PartialDecryption>,
    /// The trustees whose shuffles are on the board, in order.
    pub shufflers: Vec<u32>,
    /// The list to shuffle next, or to decrypt once enough trustees have shuffled.
    pub list: Arc<Vec<Vec<Ciphertext>>>,
    /// The list digest of `list` (spec §8.8.2, base64url), computed once per list.
    pub list_digest: String,
    /// Whether the decrypted rows are on the board.
    pub decrypted: bool,
    /// Whether the result is on the board.
    pub result: bool,
}

/// The mix's state of one board at one size: what [`MixBoard`] says, and the rows of a shuffle
/// whose chunk lines are on the board without its end (none between two appends, as a
/// shuffle's lines go on the board in one append; kept so that any cut of the board is right).
#[derive(Debug, Default, Clone)]
struct MixState {
    /// Lines of the board this state covers (from 0).
    size: u64,
    board: Arc<MixBoard>,
    building: Vec<Vec<Ciphertext>>,
}

/// Most elections whose mix state the cache keeps (each may hold a list of millions of
/// ciphertexts); elections mixing at the same time are few.
const MIX_CACHE_ELECTIONS: usize = 8;

/// The server's cache of the mix phase's state, per election ([`MIX_CACHE_ELECTIONS`] at
/// most), freed with the server's state.
///
/// Several servers may share the database (docs/server.md §5), each with its own cache: an
/// entry is the state of the board's first `size` lines, which never change (the board only
/// grows), so it stays true whoever appends after it; a server brings its entry up to date by
/// reading the lines from `size` on, whichever server wrote them. When full, an election whose
/// result is on the board goes first (its state no longer changes and is rebuilt on demand),
/// then the one used least recently.
#[derive(Default)]
pub(crate) struct MixCache(Mutex<MixEntries>);

#[derive(Default)]
struct MixEntries {
    /// A counter of uses, for the least recently used.
    clock: u64,
    /// States read from the whole board, and states brought up to date from a cached one.
    full_reads: u64,
    advances: u64,
    /// By election: the last use and the state.
    by_election: HashMap<String, (u64, Arc<MixState>)>,
}

impl MixCache {
    /// The cached state of election `id`, marked as used.
    fn get(&self, id: &str) -> Option<Arc<MixState>> {
        let mut c = self.0.lock().ok()?;
        c.clock += 1;
        let now = c.clock;
        c.by_election.get_mut(id).map(|(used, st)| {
            *used = now;
            st.clone()
        })
    }

    /// Keeps `st` as election `id`'s state unless a state of a larger board is there already
    /// (another request brought it further meanwhile), making room when full.
    fn put(&self, id: &str, st: Arc<MixState>) {
        let Ok(mut c) = self.0.lock() else {
            return;
        };
        c.clock += 1;
        let now = c.clock;
        if let Some((used, old)) = c.by_election.get_mut(id) {
            *used = now;
            if old.size <= st.size {
                *old = st;
            }
            return;
        }
        if c.by_election.len() >= MIX_CACHE_ELECTIONS {
            let evict = c
                .by_election
                .iter()
                .min_by_key(|(_, (used, st))| (!st.board.result, *used))
                .map(|(k, _)| k.clone());
            if let Some(k) = evict {
                c.by_election.remove(&k);
            }
        }
        c.by_election.insert(id.to_owned(), (now, st));
    }

    /// Counts a state read from the whole board (`full`) or brought up to date.
    fn count(&self, full: bool) {
        if let Ok(mut c) = self.0.lock() {
            if full {
                c.full_reads += 1;
            } else {
                c.advances += 1;
            }
        }
    }
}

/// What the mix cache of a server holds and has done since it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixCacheStats {
    /// The elections cached, with the board size each state covers, by election id.
    pub elections: Vec<(String, u64)>,
    /// States read from the whole board (from the sealed setup on).
    pub full_reads: u64,
    /// States brought up to date by reading only the lines added since the cached one.
    pub advances: u64,
}

/// The mix cache's content and counts, for diagnostics and tests.
pub fn cache_stats(state: &AppState) -> MixCacheStats {
    state.mix_cache.0.lock().map_or_else(
        |_| MixCacheStats {
            elections: Vec::new(),
            full_reads: 0,
            advances: 0,
        },
        |c| {
            let mut elections: Vec<(String, u64)> = c
                .by_election
                .iter()
                .map(|(k, (_, st))| (k.clone(), st.size))
                .collect();
            elections.sort();
            MixCacheStats {
                elections,
                full_reads: c.full_reads,
                advances: c.advances,
            }
        },
    )
}

impl std::fmt::Debug for MixCache {
    // The lists may hold millions of ciphertexts: only say which boards they are of.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries: Vec<(String, u64)> = self.0.lock().map_or_else(
            |_| Vec::new(),
            |c| {
                c.by_election
                    .iter()
                    .map(|(k, (_, st))| (k.clone(), st.size))
                    .collect()
            },
        );
        f.debug_tuple("MixCache").field(&entries).finish()
    }
}

/// The ciphertexts of a ballot line that the mix reads: its credential and choices.
#[derive(Deserialize)]
struct MixLine {
    ballot: MixBallot,
}

#[derive(Deserialize)]
struct MixBallot {
    credential: String,
    answers: Vec<MixAnswer>,
}

#[derive(Deserialize)]
struct MixAnswer {
    choices: Vec<Ciphertext>,
}

/// Lines read from the board per request.
const PAGE_LINES: u64 = 4096;

/// The output rows of a `shuffle_chunk` line (its other members are skipped).
#[derive(Deserialize)]
struct ChunkRows {
    outputs: Vec<Vec<Ciphertext>>,
}

/// The trustee of a `shuffle` line (its other members are skipped).
#[derive(Deserialize)]
struct ShuffleBy {
    trustee: u32,
}

/// Reads the board from the sealed setup to its first `size` lines: the counted ballots' rows
/// (the last ballot of each credential, in board order), the counting lines and the shuffles'
/// outputs.
fn read_board(
    store: &dyn urne_board::Store,
    id: &str,
    live: &Live,
    size: u64,
) -> ApiResult<MixState> {
    let manifest = live.election.manifest();
    let mixed: Vec<(usize, usize)> = urne_core::mix::mixed_questions(manifest)
        .map(|(qi, q)| (qi, q.answers.len()))
        .collect();
    let mut last: HashMap<String, (u64, Vec<Ciphertext>)> = HashMap::new();
    let mut b = MixBoard::default();
    let mut list: Vec<Vec<Ciphertext>> = Vec::new();
    let mut building: Vec<Vec<Ciphertext>> = Vec::new();
    let mut at = live.sealed_size.min(size);
    while at < size {
        let page = store.lines(id, at, PAGE_LINES.min(size - at))?;
        if page.is_empty() {
            break;
        }
        at += page.len() as u64;
        for l in page {
            let kind = line_kind(&l.line);
            if kind == b"ballot" {
                let m: MixLine = serde_json::from_slice(&l.line)
                    .map_err(|e| ApiError::internal(format!("board line {}: {e}", l.seq)))?;
                let mut answers = m.ballot.answers;
                let mut row = Vec::new();
                for &(qi, n) in &mixed {
                    match answers.get_mut(qi) {
                        Some(a) if a.choices.len() == n => row.append(&mut a.choices),
                        _ => {
                            return Err(ApiError::internal(format!(
                                "board line {}: a ballot without the manifest's shape",
                                l.seq
                            )));
                        }
                    }
                }
                last.insert(m.ballot.credential, (l.seq, row));
                continue;
            }
            if kind == b"tally" {
                let line = parse_line(l.seq + 1, &l.line).map_err(ApiError::internal)?;
                if let Entry::Tally(t) = line.entry {
                    b.tally = Some(*t);
                }
                let mut rows: Vec<(u64, Vec<Ciphertext>)> =
                    std::mem::take(&mut last).into_values().collect();
                rows.sort_unstable_by_key(|(seq, _)| *seq);
                list = rows.into_iter().map(|(_, r)| r).collect();
                continue;
            }
            // Lines before the tally other than ballots say nothing of the mix (nor would a
            // line of another kind after it, which the record's order excludes).
            if b.tally.is_some() {
                apply_mix_line(&mut b, &mut list, &mut building, &l)?;
            }
        }
    }
    b.list_digest = b64_encode(&list_digest(&list));
    b.list = Arc::new(list);
    Ok(MixState {
        size: at,
        board: Arc::new(b),
        building,
    })
}

/// Applies a line that follows the tally to the mix's state: `list` is the current list and
/// `building` the rows of a shuffle whose end is not read yet. Returns `false`, changing
/// nothing, for a line of another kind (docs/record.md §2: after the tally come only the
/// tally's factors, the shuffles, the factors of the last list, its decrypted rows and the
/// result). The big lines the state does not use (factors, decrypted rows) are not decoded.
fn apply_mix_line(
    b: &mut MixBoard,
    list: &mut Vec<Vec<Ciphertext>>,
    building: &mut Vec<Vec<Ciphertext>>,
    l: &urne_board::LogLine,
) -> ApiResult<bool> {
    let kind = line_kind(&l.line);
    match kind {
        b"mix_decryption" => return Ok(true),
        b"mixed_ballots" => {
            b.decrypted = true;
            return Ok(true);
        }
        b"result" => {
            b.result = true;
            return Ok(true);
        }
        // Of a shuffle, its output rows and its trustee only: the proof was checked before the
        // lines went on the board (V-19), and decoding its points would double the cost.
        b"shuffle_chunk" => {
            let c: ChunkRows = serde_json::from_slice(&l.line)
                .map_err(|e| ApiError::internal(format!("board line {}: {e}", l.seq)))?;
            building.extend(c.outputs);
            return Ok(true);
        }
        b"shuffle" => {
            let s: ShuffleBy = serde_json::from_slice(&l.line)
                .map_err(|e| ApiError::internal(format!("board line {}: {e}", l.seq)))?;
            b.shufflers.push(s.trustee);
            *list = std::mem::take(building);
            return Ok(true);
        }
        b"partial_decryption" => {}
        _ => return Ok(false),
    }
    match parse_line(l.seq + 1, &l.line)
        .map_err(ApiError::internal)?
        .entry
    {
        Entry::PartialDecryption(p) => b.partials.push(*p),
        _ => {
            return Err(ApiError::internal(format!(
                "board line {}: its type and its content differ",
                l.seq
            )));
        }
    }
    Ok(true)
}

/// Brings `from` (a state of the board's first `from.size` lines, with the tally) to the first
/// `size` lines by reading only the lines between. `None` when a line that is not of the mix
/// phase comes (then only a full read says the state).
fn advance(
    store: &dyn urne_board::Store,
    id: &str,
    from: &MixState,
    size: u64,
) -> ApiResult<Option<MixState>> {
    if from.board.tally.is_none() {
        return Ok(None);
    }
    let mut b = MixBoard::clone(&from.board);
    // The current list stays shared with the cached state unless a shuffle replaces it.
    let mut list: Vec<Vec<Ciphertext>> = Vec::new();
    let mut replaced = false;
    let mut building = from.building.clone();
    let mut at = from.size;
    while at < size {
        let page = store.lines(id, at, PAGE_LINES.min(size - at))?;
        if page.is_empty() {
            break;
        }
        at += page.len() as u64;
        for l in page {
            let before = b.shufflers.len();
            if !apply_mix_line(&mut b, &mut list, &mut building, &l)? {
                return Ok(None);
            }
            replaced |= b.shufflers.len() != before;
        }
    }
    if replaced {
        b.list_digest = b64_encode(&list_digest(&list));
        b.list = Arc::new(list);
    }
    Ok(Some(MixState {
        size: at,
        board: Arc::new(b),
        building,
    }))
}

/// The board's mix state at its current size: the cached state when the board has not moved,
/// brought up to date with the new lines when it has grown, read in full otherwise.
pub async fn mix_board(state: &AppState, id: &str) -> ApiResult<Arc<MixBoard>> {
    let row = state.row(id).await?;
    let size = row.log_size;
    let cached = state.mix_cache.get(id);
    if let Some(c) = &cached {
        // A state of more lines (cached by a request that read the row later) is as true.
        if c.size >= size {
            return Ok(c.board.clone());
        }
    }
    let live = state.live(id).await?;
    let key = id.to_owned();
    let (st, full) = state
        .blocking(move |s| {
            if let Some(c) = cached {
                if let Some(st) = advance(s, &key, &c, size)? {
                    return Ok((st, false));
                }
            }
            Ok((read_board(s, &key, &live, size)?, true))
        })
        .await?;
    state.mix_cache.count(full);
    let st = Arc::new(st);
    state.mix_cache.put(id, st.clone());
    Ok(st.board.clone())
}

/// How many trustees must shuffle, and how many must decrypt the last list.
fn needed(live: &Live) -> (usize, usize) {
    let m = live.election.manifest();
    let decrypt = match m.key_sharing {
        KeySharing::Independent => m.trustees.len(),
        KeySharing::Threshold => m.threshold as usize,
    };
    (m.threshold as usize, decrypt)
}

/// Where a staged chunk goes: the shuffle (0 for factors), its first row and its number of
/// rows. Stored in front of the chunk (`{"place":{..},"chunk":{..}}`) so that it is read from
/// the chunk's first characters alone ([`places`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Place {
    shuffle: u32,
    offset: u64,
    rows: u64,
}

/// What the body of a staged chunk starts with.
const PLACE_PREFIX: &str = "{\"place\":";

/// Characters of a staged chunk read to find its place: [`PLACE_PREFIX`] and a [`Place`] of
/// three numbers (at most 20 digits each) fit in far less.
const PLACE_CHARS: u32 = 160;

/// A staged chunk as stored, with its place in front.
#[derive(Serialize)]
struct StagedOut<'a, T> {
    place: Place,
    chunk: &'a T,
}

/// A staged chunk as read back.
#[derive(Deserialize)]
struct StagedIn<T> {
    #[allow(dead_code)]
    place: Place,
    chunk: T,
}

/// The body to store for a chunk at `place`.
fn staged_body<T: Serialize>(place: Place, chunk: &T) -> ApiResult<String> {
    serde_json::to_string(&StagedOut { place, chunk }).map_err(ApiError::internal)
}

/// A chunk of an older server (stored without its place), read for its place only: its rows
/// are counted, not decoded.
#[derive(Deserialize)]
struct Unplaced {
    #[serde(default)]
    shuffle: u32,
    offset: u64,
    #[serde(alias = "factors")]
    outputs: Vec<serde::de::IgnoredAny>,
}

/// The place of a staged chunk from the start of its body (`None` when the start is cut
/// before the place ends), or from a whole body stored without it.
fn place_of(body: &str) -> Result<Option<Place>, serde_json::Error> {
    match body.strip_prefix(PLACE_PREFIX) {
        // Only the first value is read: what follows it (the chunk, or nothing) is not.
        Some(rest) => match serde_json::Deserializer::from_str(rest)
            .into_iter::<Place>()
            .next()
        {
            Some(Ok(p)) => Ok(Some(p)),
            Some(Err(e)) if e.is_eof() => Ok(None),
            Some(Err(e)) => Err(e),
            None => Ok(None),
        },
        None if PLACE_PREFIX.starts_with(body) => Ok(None),
        None => match serde_json::from_str::<Unplaced>(body) {
            Ok(u) => Ok(Some(Place {
                shuffle: u.shuffle,
                offset: u.offset,
                rows: u.outputs.len() as u64,
            })),
            // A cut body: the whole one says.
            Err(e) if e.is_eof() => Ok(None),
            Err(e) => Err(e),
        },
    }
}

/// The places of every staged chunk of one kind, by sender, in the order they came: read from
/// the chunks' first characters, or (for chunks an older server stored) from their bodies.
fn places(store: &dyn urne_board::Store, id: &str, kind: &str) -> ApiResult<Vec<(u32, Place)>> {
    let bad = |idx: u64, e: &dyn std::fmt::Display| {
        ApiError::internal(format!("relayed {kind} {idx}: {e}"))
    };
    let heads = store.message_heads(id, kind, 0, PLACE_CHARS)?;
    let mut out = Vec::with_capacity(heads.len());
    let mut whole: Option<HashMap<u64, String>> = None;
    for m in heads {
        let place = match place_of(&m.body).map_err(|e| bad(m.idx, &e))? {
            Some(p) => p,
            None => {
                // Cut too early: only a chunk stored without its place (or a bad one).
                if whole.is_none() {
                    whole = Some(
                        store
                            .messages(id, Some(kind), m.idx)?
                            .into_iter()
                            .map(|w| (w.idx, w.body))
                            .collect(),
                    );
                }
                let body = whole
                    .as_ref()
                    .and_then(|w| w.get(&m.idx))
                    .ok_or_else(|| bad(m.idx, &"deleted while it was read"))?;
                place_of(body)
                    .map_err(|e| bad(m.idx, &e))?
                    .ok_or_else(|| bad(m.idx, &"no place"))?
            }
        };
        out.push((m.sender, place));
    }
    Ok(out)
}

/// Whether any chunk of `kind` is staged (no body is read).
fn any_staged(store: &dyn urne_board::Store, id: &str, kind: &str) -> ApiResult<bool> {
    Ok(!store.message_heads(id, kind, 0, 0)?.is_empty())
}

/// The chunk of a staged body, with its place in front or (an older server's) without.
fn chunk_of<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, serde_json::Error> {
    if body.starts_with(PLACE_PREFIX) {
        serde_json::from_str::<StagedIn<T>>(body).map(|s| s.chunk)
    } else {
        serde_json::from_str(body)
    }
}

/// Every staged chunk of one kind, parsed, by sender.
fn staged<T: for<'de> Deserialize<'de>>(
    store: &dyn urne_board::Store,
    id: &str,
    kind: &str,
) -> ApiResult<Vec<(u32, T)>> {
    staged_bounded(store, id, kind).map(|(chunks, _)| chunks)
}

/// Every staged chunk of one kind, parsed, with the bound of what was read: one more than the
/// largest `idx` read (0 when there was none), so that exactly these can be deleted later.
fn staged_bounded<T: for<'de> Deserialize<'de>>(
    store: &dyn urne_board::Store,
    id: &str,
    kind: &str,
) -> ApiResult<(Vec<(u32, T)>, u64)> {
    let messages = store.messages(id, Some(kind), 0)?;
    let before = messages.last().map_or(0, |m| m.idx + 1);
    let chunks = messages
        .into_iter()
        .map(|m| {
            chunk_of(&m.body)
                .map(|t| (m.sender, t))
                .map_err(|e| ApiError::internal(format!("relayed {kind} {}: {e}", m.idx)))
        })
        .collect::<ApiResult<_>>()?;
    Ok((chunks, before))
}

/// Deletes staged chunks of `kind`: those of `sender` (every sender's when `None`) with an
/// `idx` below `before` (all when `None`), once they are of no more use. Relayed messages are
/// not the board: the record keeps every line that was accepted, and a chunk is only a copy of
/// part of a line that went on the board, or of an upload that can no longer get there.
///
/// When it runs, and why several servers sharing the database (docs/server.md §5) lose no
/// acknowledged write through it (within one server the election's lock serializes uploads):
/// - a shuffle accepted, or the mix's result written: only after the board's append has
///   committed. What was acknowledged is then the board's lines, which no later step reads
///   from the staged chunks: the board itself refuses this trustee's shuffle again
///   (`already_shuffled`), or any upload (`decrypted`). A server that read the board before the
///   append and the chunks after the delete finds an incomplete upload and refuses it
///   (`bad_chunk`): the trustee's shuffle is on the board all the same.
/// - a shuffle's end refused (its rows, proof or signature): the chunks that this end read and
///   judged, and only those (`before` is the bound of that read), so that a chunk stored
///   meanwhile through another server, such as a new start at offset 0, stays.
/// - a new start (a chunk at offset 0): the sender's chunks stored before it, deleted after it
///   is stored. Every reader takes an upload from its sender's last chunk at offset 0
///   ([`progress`], [`by_trustee`], [`complete_trustees`]), so it finds the same upload
///   whether it reads before or after the delete, which is one statement in one transaction;
///   and the trustee never has nothing staged in between (no shuffle slips in while its
///   factors are being replaced).
///
/// The answer does not depend on it: a failed delete leaves chunks that every reader ignores
/// or that a later start, end or result deletes, so it is logged and the request goes on.
async fn forget_staged(
    state: &AppState,
    id: &str,
    kind: &'static str,
    sender: Option<u32>,
    before: Option<u64>,
) {
    let key = id.to_owned();
    if let Err(e) = state
        .blocking(move |s| Ok(s.delete_messages_from(&key, kind, sender, before)?))
        .await
    {
        tracing::warn!(election = %id, kind, error = %e, "deleting staged mix chunks");
    }
}

/// Each trustee's chunks of its upload in progress (those since its last chunk at offset 0).
fn by_trustee<T>(chunks: Vec<(u32, T)>, offset: impl Fn(&T) -> u64) -> HashMap<u32, Vec<T>> {
    let mut out: HashMap<u32, Vec<T>> = HashMap::new();
    for (sender, c) in chunks {
        let mine = out.entry(sender).or_default();
        if offset(&c) == 0 {
            mine.clear();
        }
        mine.push(c);
    }
    out
}

/// The rows of a trustee's upload in progress: the chunks since its last chunk at offset 0
/// (a new start), each with its offset and rows.
fn progress<T>(chunks: Vec<(u32, T)>, trustee: u32, offset: impl Fn(&T) -> u64) -> Vec<T> {
    let mut mine: Vec<T> = Vec::new();
    for (sender, c) in chunks {
        if sender != trustee {
            continue;
        }
        if offset(&c) == 0 {
            mine.clear();
        }
        mine.push(c);
    }
    mine
}

/// The mix phase as it stands, with a page of the current list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MixView {
    /// Rows of the mix input: the counted ballots.
    pub ballots: u64,
    /// Ciphertexts per row: the answers of every mixed question together.
    pub width: u32,
    /// Distinct trustees whose shuffles are needed (the threshold).
    pub shuffles_needed: u32,
    /// Trustees whose factors of the last list are needed.
    pub decryptions_needed: u32,
    /// Trustees whose factors of the tally are on the board.
    pub tally_decryptions: u32,
    /// Trustees whose shuffles are on the board, in order.
    pub shufflers: Vec<u32>,
    /// The position (from 0) of the next shuffle.
    pub next_shuffle: u32,
    /// Trustees who have sent all their factors of the last list.
    pub decryptors: Vec<u32>,
    /// Whether the decrypted rows are on the board.
    pub decrypted: bool,
    /// Whether the result is on the board.
    pub result: bool,
    /// The list digest (spec §8.8.2, base64url) of the current list.
    pub list_digest: String,
    /// The largest request body the server takes, in bytes: upload chunks must stay below it.
    pub max_upload_bytes: u64,
    /// The position of the first row of `rows`.
    pub from: u64,
    /// Rows `from` to `from + rows.len() - 1` of the current list: the list to shuffle next,
    /// or the last shuffle's output, which trustees decrypt.
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<Ciphertext>>,
}

/// A page of the current list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MixQuery {
    /// The first row (default 0).
    #[serde(default)]
    pub from: u64,
    /// How many rows (default and most 4096; 0 for the state only).
    pub limit: Option<u64>,
}

/// Refuses an election whose phase or questions have no mix phase now.
async fn mixed_tallied(state: &AppState, id: &str) -> ApiResult<()> {
    let row = state.row(id).await?;
    if row.phase < Phase::Tallied {
        return Err(ApiError::conflict(
            "no_tally",
            format!("the election is {}: no tally yet", row.phase),
        ));
    }
    let live = state.live(id).await?;
    if width(live.election.manifest()) == 0 {
        return Err(ApiError::conflict(
            "no_mix",
            "the election has no ranked or graded question: it has no mix phase",
        ));
    }
    Ok(())
}

/// `GET /api/v1/elections/{id}/mix`: the mix phase's progress and a page of the current list.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/mix",
    tag = "trustees",
    operation_id = "mix_state",
    params(("id" = String, Path, description = "The election's id"), MixQuery),
    responses(
        (status = 200, description = "Who has shuffled and decrypted, how many are needed, and rows of the list to shuffle or decrypt next", body = MixView),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not tallied yet, or no mixed question (`no_tally`, `no_mix`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<MixQuery>,
) -> ApiResult<Json<MixView>> {
    mixed_tallied(&state, &id).await?;
    let live = state.live(&id).await?;
    let b = mix_board(&state, &id).await?;
    let key = id.clone();
    let factors = state
        .blocking(move |s| places(s, &key, kinds::FACTORS))
        .await?;
    let n = b.list.len() as u64;
    let decryptors = complete_trustees(&factors, n);
    let (shuffles_needed, decryptions_needed) = needed(&live);
    let limit = q.limit.unwrap_or(MAX_PAGE_ROWS).min(MAX_PAGE_ROWS);
    let from = q.from.min(n);
    let to = (from + limit).min(n);
    let rows = b.list[from as usize..to as usize].to_vec();
    Ok(Json(MixView {
        ballots: n,
        width: width(live.election.manifest()) as u32,
        shuffles_needed: shuffles_needed as u32,
        decryptions_needed: decryptions_needed as u32,
        tally_decryptions: b.partials.len() as u32,
        shufflers: b.shufflers.clone(),
        next_shuffle: b.shufflers.len() as u32,
        decryptors: if b.decrypted { Vec::new() } else { decryptors },
        decrypted: b.decrypted,
        result: b.result,
        list_digest: b.list_digest.clone(),
        max_upload_bytes: state.config.max_upload_bytes as u64,
        from,
        rows,
    }))
}

/// The mix phase's progress, as `GET /api/v1/elections/{id}` reports it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MixProgress {
    /// Rows of the mix input: the counted ballots.
    pub ballots: u64,
    /// Trustees whose shuffles are on the board, in order.
    pub shufflers: Vec<u32>,
    /// Distinct trustees whose shuffles are needed.
    pub shuffles_needed: u32,
    /// Trustees who have sent all their factors of the last list (until the decrypted rows
    /// are on the board).
    pub decryptors: Vec<u32>,
    /// Trustees whose factors of the last list are needed.
    pub decryptions_needed: u32,
    /// Whether the decrypted rows are on the board.
    pub decrypted: bool,
}

/// The mix phase's progress of a tallied election, `None` when it has no mixed question.
pub async fn progress_of(state: &AppState, id: &str) -> ApiResult<Option<MixProgress>> {
    let live = state.live(id).await?;
    if width(live.election.manifest()) == 0 {
        return Ok(None);
    }
    let b = mix_board(state, id).await?;
    let key = id.to_owned();
    let factors = state
        .blocking(move |s| places(s, &key, kinds::FACTORS))
        .await?;
    let n = b.list.len() as u64;
    let (shuffles_needed, decryptions_needed) = needed(&live);
    Ok(Some(MixProgress {
        ballots: n,
        shufflers: b.shufflers.clone(),
        shuffles_needed: shuffles_needed as u32,
        decryptors: if b.decrypted {
            Vec::new()
        } else {
            complete_trustees(&factors, n)
        },
        decryptions_needed: decryptions_needed as u32,
        decrypted: b.decrypted,
    }))
}

/// The trustees whose staged factors cover all `n` rows, in the order they completed.
fn complete_trustees(factors: &[(u32, Place)], n: u64) -> Vec<u32> {
    let mut have: HashMap<u32, u64> = HashMap::new();
    let mut done = Vec::new();
    for &(sender, ref f) in factors {
        if f.offset == 0 {
            have.insert(sender, 0);
            done.retain(|&t| t != sender);
        }
        let h = have.entry(sender).or_insert(0);
        if f.offset == *h {
            *h += f.rows;
            if *h == n && n > 0 {
                done.push(sender);
            }
        }
    }
    done
}

/// The answer to an upload's request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MixAck {
    /// Rows of this trustee's upload received so far.
    pub rows: u64,
    /// Rows of the list.
    pub ballots: u64,
    /// Trustees whose shuffles are on the board.
    pub shufflers: Vec<u32>,
    /// Trustees who have sent all their factors of the last list.
    pub decryptors: Vec<u32>,
    /// Whether the result is now on the board.
    pub result: bool,
}

/// Checks a request of a shuffle's upload (a chunk or its end), made by invited trustee `who`
/// for the shuffle at the path's `position`, whose body names `trustee` and `shuffle`: a trustee
/// shuffles only as itself, it may shuffle at `position` now ([`may_shuffle`]), and the body is
/// for that position. The caller holds the election's lock.
async fn shuffle_request(
    state: &AppState,
    id: &str,
    who: u32,
    position: u32,
    (trustee, shuffle): (u32, u32),
) -> ApiResult<(Arc<MixBoard>, Arc<Live>)> {
    if trustee != who {
        return Err(
            ApiError::forbidden("wrong_trustee", "a trustee shuffles only as itself")
                .field("trustee"),
        );
    }
    let allowed = may_shuffle(state, id, who, position).await?;
    if shuffle != position {
        return Err(ApiError::invalid(
            "bad_chunk",
            format!("is {shuffle}, the request is for {position}"),
        )
        .field("shuffle"));
    }
    Ok(allowed)
}

/// Checks that `who` may shuffle at `position` now: the tally's factors are complete, nobody
/// decrypts the last list yet, the position is the next one and `who` has not shuffled.
async fn may_shuffle(
    state: &AppState,
    id: &str,
    who: u32,
    position: u32,
) -> ApiResult<(Arc<MixBoard>, Arc<Live>)> {
    let row = state.row(id).await?;
    if row.phase != Phase::Tallied {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!("the election is {}, not tallied", row.phase),
        ));
    }
    mixed_tallied(state, id).await?;
    let live = state.live(id).await?;
    let b = mix_board(state, id).await?;
    let (_, decrypt) = needed(&live);
    if b.partials.len() < decrypt {
        return Err(ApiError::conflict(
            "tally_not_decrypted",
            format!(
                "{} of the {decrypt} trustees' factors of the tally are on the board: the \
                 shuffles follow them",
                b.partials.len()
            ),
        ));
    }
    let key = id.to_owned();
    let any_factor = state
        .blocking(move |s| any_staged(s, &key, kinds::FACTORS))
        .await?;
    if any_factor || b.decrypted {
        return Err(ApiError::conflict(
            "decrypting",
            "trustees are decrypting the last shuffle's output: no more shuffles",
        ));
    }
    if b.shufflers.contains(&who) {
        return Err(ApiError::conflict(
            "already_shuffled",
            format!("trustee {who} has shuffled already"),
        ));
    }
    let next = b.shufflers.len() as u32;
    if position != next {
        return Err(ApiError::conflict(
            "wrong_position",
            format!("the next shuffle is number {next} (from 0), not {position}"),
        ));
    }
    if b.list.is_empty() {
        return Err(ApiError::conflict(
            "no_ballot",
            "no ballot was counted: there is nothing to shuffle",
        ));
    }
    Ok((b, live))
}

/// `POST /api/v1/elections/{id}/mix/shuffles/{position}/chunks`: consecutive rows of a shuffle
/// being uploaded (a `shuffle_chunk` line's content). A chunk at offset 0 starts the upload
/// again.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/mix/shuffles/{position}/chunks",
    tag = "trustees",
    operation_id = "mix_shuffle_chunk",
    params(
        ("id" = String, Path, description = "The election's id"),
        ("position" = u32, Path, description = "The shuffle's position, from 0"),
    ),
    request_body(content = Object, content_type = "application/json", description = "Rows of the shuffle's output and of its proof's per-row lists, as a `shuffle_chunk` line (docs/record.md)"),
    security(("trustee_invitation" = [])),
    responses(
        (status = 201, description = "Kept aside until the shuffle's last request", body = MixAck),
        (status = 400, description = "The body is not JSON (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No invitation token, or an unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A trustee shuffles only as itself (`wrong_trustee`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not the time for this shuffle (`wrong_phase`, `no_mix`, `tally_not_decrypted`, `decrypting`, `already_shuffled`, `wrong_position`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a chunk of this shuffle (`bad_content`, `bad_chunk`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn shuffle_chunk(
    State(state): State<AppState>,
    Path((id, position)): Path<(String, u32)>,
    InvitedTrustee(who): InvitedTrustee,
    Json(c): Json<ShuffleChunk>,
) -> ApiResult<(StatusCode, Json<MixAck>)> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    let (b, _) = shuffle_request(&state, &id, who.index, position, (c.trustee, c.shuffle)).await?;
    let bad = |field: &str, msg: String| ApiError::invalid("bad_chunk", msg).field(field);
    let k = c.outputs.len();
    if k == 0 {
        return Err(bad("outputs", "a chunk has at least one row".into()));
    }
    for (what, len) in c.row_lists() {
        if len != k {
            return Err(bad(what, format!("has {len} entries for {k} rows")));
        }
    }
    let w = b.list.first().map_or(0, Vec::len);
    if let Some(r) = c.outputs.iter().position(|row| row.len() != w) {
        return Err(bad(
            &format!("outputs[{r}]"),
            format!("has {} ciphertexts, the rows have {w}", c.outputs[r].len()),
        ));
    }
    let key = id.clone();
    let mine = state
        .blocking(move |s| places(s, &key, kinds::SHUFFLE_CHUNK))
        .await?;
    let mine = progress(mine, who.index, |c| c.offset);
    let have: u64 = mine
        .iter()
        .filter(|m| m.shuffle == position)
        .map(|m| m.rows)
        .sum();
    let expect = if c.offset == 0 { 0 } else { have };
    if c.offset != expect {
        return Err(bad(
            "offset",
            format!("is {}, {have} rows of this shuffle were received", c.offset),
        ));
    }
    let n = b.list.len() as u64;
    if c.offset + k as u64 > n {
        return Err(bad(
            "outputs",
            format!(
                "the shuffle would reach {} rows, the list has {n}",
                c.offset + k as u64
            ),
        ));
    }
    let rows = c.offset + k as u64;
    let place = Place {
        shuffle: position,
        offset: c.offset,
        rows: k as u64,
    };
    let body = staged_body(place, &c)?;
    let key = id.clone();
    let idx = state
        .blocking(move |s| {
            Ok(s.put_message(
                &key,
                kinds::SHUFFLE_CHUNK,
                who.index,
                &body,
                crate::clock::now(),
            )?)
        })
        .await?;
    if c.offset == 0 {
        // A new start: the trustee's older chunks are ignored from now on.
        forget_staged(
            &state,
            &id,
            kinds::SHUFFLE_CHUNK,
            Some(who.index),
            Some(idx),
        )
        .await;
    }
    Ok((
        StatusCode::CREATED,
        Json(MixAck {
            rows,
            ballots: n,
            shufflers: b.shufflers.clone(),
            decryptors: Vec::new(),
            result: false,
        }),
    ))
}

/// `POST /api/v1/elections/{id}/mix/shuffles/{position}`: the end of a shuffle (a `shuffle`
/// line's content: the rest of the proof and the trustee's signature). The whole shuffle is
/// checked (V-19, V-20) and, if it passes, written to the board.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/mix/shuffles/{position}",
    tag = "trustees",
    operation_id = "mix_shuffle",
    params(
        ("id" = String, Path, description = "The election's id"),
        ("position" = u32, Path, description = "The shuffle's position, from 0"),
    ),
    request_body(content = Object, content_type = "application/json", description = "The end of the shuffle, as a `shuffle` line (docs/record.md)"),
    security(("trustee_invitation" = [])),
    responses(
        (status = 201, description = "Checked and on the board", body = MixAck),
        (status = 400, description = "The body is not JSON (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No invitation token, or an unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A trustee shuffles only as itself (`wrong_trustee`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not the time for this shuffle (`wrong_phase`, `no_mix`, `tally_not_decrypted`, `decrypting`, `already_shuffled`, `wrong_position`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Incomplete chunks, or a proof or signature that fails V-19 or V-20 (`bad_content`, `bad_chunk`, `bad_shuffle`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn shuffle_end(
    State(state): State<AppState>,
    Path((id, position)): Path<(String, u32)>,
    InvitedTrustee(who): InvitedTrustee,
    Json(e): Json<ShuffleEntry>,
) -> ApiResult<(StatusCode, Json<MixAck>)> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    let (b, live) =
        shuffle_request(&state, &id, who.index, position, (e.trustee, e.shuffle)).await?;
    let key = id.clone();
    let (chunks, read) = state
        .blocking(move |s| staged_bounded::<ShuffleChunk>(s, &key, kinds::SHUFFLE_CHUNK))
        .await?;
    let chunks = progress(chunks, who.index, |c| c.offset);
    let n = b.list.len();
    let mut outputs = Vec::with_capacity(n);
    let mut proof = ShuffleProof {
        permutation_commitments: Vec::with_capacity(n),
        chain_commitments: Vec::with_capacity(n),
        t1: e.t1,
        t2: e.t2,
        t3: e.t3,
        t4: e.t4.clone(),
        t_hat: Vec::with_capacity(n),
        s1: e.s1,
        s2: e.s2,
        s3: e.s3,
        s4: e.s4.clone(),
        s_hat: Vec::with_capacity(n),
        s_prime: Vec::with_capacity(n),
    };
    for c in chunks.into_iter().filter(|c| c.shuffle == position) {
        outputs.extend(c.outputs);
        proof
            .permutation_commitments
            .extend(c.permutation_commitments);
        proof.chain_commitments.extend(c.chain_commitments);
        proof.t_hat.extend(c.t_hat);
        proof.s_hat.extend(c.s_hat);
        proof.s_prime.extend(c.s_prime);
    }
    let trustee = who.index;
    if outputs.len() != n || e.ballots != n as u64 {
        forget_staged(&state, &id, kinds::SHUFFLE_CHUNK, Some(trustee), Some(read)).await;
        return Err(ApiError::invalid(
            "bad_chunk",
            format!(
                "says {} rows and its chunks have {}, the list has {n}",
                e.ballots,
                outputs.len()
            ),
        )
        .field("ballots"));
    }
    let signature = e.signature;
    let l2 = live.clone();
    let list = b.list.clone();
    // Every error of this task is a refusal of the shuffle (V-19, V-20).
    let checked = tokio::task::spawn_blocking(move || -> ApiResult<Vec<Entry>> {
        let election = &l2.election;
        let fp = &election.fingerprint().0;
        vartime_verify_shuffle(
            &mut rand::rng(),
            fp,
            election.key(),
            &list,
            &outputs,
            &proof,
        )
        .map_err(|err| {
            ApiError::invalid(
                "bad_shuffle",
                format!(
                    "V-19: the proof of shuffle {position} by trustee {trustee} does not \
                     verify on its input: {err}"
                ),
            )
            .field("proof")
        })?;
        vartime_verify_shuffle_signature(election, trustee, position, &list, &outputs, &signature)
            .map_err(|err| ApiError::verify("bad_shuffle", &err))?;
        Ok(shuffle_lines(
            position, trustee, &outputs, &proof, signature, None,
        ))
    })
    .await
    .map_err(ApiError::internal)?;
    let entries = match checked {
        Ok(entries) => entries,
        Err(refused) => {
            forget_staged(&state, &id, kinds::SHUFFLE_CHUNK, Some(trustee), Some(read)).await;
            return Err(refused);
        }
    };
    let size = state.row(&id).await?.log_size;
    append(&state, &id, entries, size).await?;
    // On the board: the trustee cannot shuffle again, none of its chunks is of use.
    forget_staged(&state, &id, kinds::SHUFFLE_CHUNK, Some(trustee), None).await;
    let key = id.clone();
    let _ = state
        .blocking(move |s| {
            s.audit(
                &format!("trustee {trustee}"),
                Some(&key),
                "election.shuffle",
                &format!("{{\"position\":{position}}}"),
                crate::clock::now(),
            )?;
            Ok(())
        })
        .await;
    let mut shufflers = b.shufflers.clone();
    shufflers.push(trustee);
    Ok((
        StatusCode::CREATED,
        Json(MixAck {
            rows: n as u64,
            ballots: n as u64,
            shufflers,
            decryptors: Vec::new(),
            result: false,
        }),
    ))
}

/// Appends `entries` to the board, provided it still has `size` lines and is tallied.
async fn append(state: &AppState, id: &str, entries: Vec<Entry>, size: u64) -> ApiResult<()> {
    let key = id.to_owned();
    state
        .blocking(move |s| {
            crate::append_lines(s, &key, &entries, Phase::Tallied, None, Some(size)).map(drop)
        })
        .await
}

/// `POST /api/v1/elections/{id}/mix/decryptions`: consecutive rows of a trustee's decryption
/// factors of the last shuffle's output (a `mix_decryption` line's content), checked (V-21)
/// against those rows as they arrive. A chunk at offset 0 starts the trustee's upload again.
/// When enough trustees have sent all theirs, the server combines them and writes the
/// factors, the decrypted rows and the result to the board.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/mix/decryptions",
    tag = "trustees",
    operation_id = "mix_decryption",
    params(("id" = String, Path, description = "The election's id")),
    request_body(content = Object, content_type = "application/json", description = "Rows of the trustee's factors of the last list, as a `mix_decryption` line (docs/record.md)"),
    security(("trustee_invitation" = [])),
    responses(
        (status = 201, description = "Checked (V-21); with enough trustees, the decrypted rows and the result are on the board", body = MixAck),
        (status = 400, description = "The body is not JSON (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No invitation token, or an unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A trustee decrypts only as itself (`wrong_trustee`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not the time (`wrong_phase`, `no_mix`, `not_shuffled`, `decrypted`, `already_sent`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not factors of these rows (`bad_content`, `bad_chunk`), or a factor whose proof fails V-21 (`bad_factor`, naming it)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn decryption(
    State(state): State<AppState>,
    Path(id): Path<String>,
    InvitedTrustee(who): InvitedTrustee,
    Json(d): Json<MixDecryptionEntry>,
) -> ApiResult<(StatusCode, Json<MixAck>)> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    if d.trustee != who.index {
        return Err(
            ApiError::forbidden("wrong_trustee", "a trustee decrypts only as itself")
                .field("trustee"),
        );
    }
    let row = state.row(&id).await?;
    if row.phase != Phase::Tallied {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!("the election is {}, not tallied", row.phase),
        ));
    }
    mixed_tallied(&state, &id).await?;
    let live = state.live(&id).await?;
    let b = mix_board(&state, &id).await?;
    let (shuffles, decrypt) = needed(&live);
    if b.decrypted {
        return Err(ApiError::conflict(
            "decrypted",
            "the decrypted rows are on the board already",
        ));
    }
    if b.shufflers.len() < shuffles {
        return Err(ApiError::conflict(
            "not_shuffled",
            format!(
                "{} of the {shuffles} trustees needed have shuffled: the decryption follows",
                b.shufflers.len()
            ),
        ));
    }
    let key = id.clone();
    let all = state
        .blocking(move |s| places(s, &key, kinds::FACTORS))
        .await?;
    let n = b.list.len() as u64;
    let done = complete_trustees(&all, n);
    if done.contains(&who.index) {
        return Err(ApiError::conflict(
            "already_sent",
            format!("trustee {} has sent all its factors already", who.index),
        ));
    }
    let mine = progress(all, who.index, |f| f.offset);
    let have: u64 = mine.iter().map(|f| f.rows).sum();
    let expect = if d.offset == 0 { 0 } else { have };
    let bad = |field: &str, msg: String| ApiError::invalid("bad_chunk", msg).field(field);
    if d.offset != expect {
        return Err(bad(
            "offset",
            format!("is {}, {have} rows of factors were received", d.offset),
        ));
    }
    let k = d.factors.len() as u64;
    if k == 0 || d.offset + k > n {
        return Err(bad(
            "factors",
            format!(
                "{k} rows from row {}: the list has {n} rows (at least one per chunk)",
                d.offset
            ),
        ));
    }
    let l2 = live.clone();
    let list = b.list.clone();
    let d2 = d.clone();
    tokio::task::spawn_blocking(move || {
        let rows = &list[d2.offset as usize..(d2.offset + k) as usize];
        vartime_verify_mix_factors(
            &mut rand::rng(),
            &l2.election,
            d2.trustee,
            d2.offset,
            rows,
            &d2.factors,
        )
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::verify("bad_factor", &e))?;
    let rows = d.offset + k;
    let place = Place {
        shuffle: 0,
        offset: d.offset,
        rows: k,
    };
    let body = staged_body(place, &d)?;
    let key = id.clone();
    let trustee = who.index;
    let restart = d.offset == 0;
    let all = state
        .blocking(move |s| {
            let idx = s.put_message(&key, kinds::FACTORS, trustee, &body, crate::clock::now())?;
            if restart {
                // A new start: the trustee's older chunks are ignored from now on (see
                // `forget_staged`; here in the same blocking call, before reading back).
                if let Err(e) =
                    s.delete_messages_from(&key, kinds::FACTORS, Some(trustee), Some(idx))
                {
                    tracing::warn!(election = %key, error = %e, "deleting staged mix factors");
                }
            }
            places(s, &key, kinds::FACTORS)
        })
        .await?;
    let decryptors = complete_trustees(&all, n);
    let mut result = false;
    if decryptors.len() >= decrypt {
        finish(&state, &id, &live, &b, &decryptors[..decrypt], row.log_size).await?;
        result = true;
    }
    Ok((
        StatusCode::CREATED,
        Json(MixAck {
            rows,
            ballots: n,
            shufflers: b.shufflers.clone(),
            decryptors,
            result,
        }),
    ))
}

/// Combines the factors of `set`, writes their lines, the decrypted rows and the result.
async fn finish(
    state: &AppState,
    id: &str,
    live: &Arc<Live>,
    b: &Arc<MixBoard>,
    set: &[u32],
    size: u64,
) -> ApiResult<()> {
    let key = id.to_owned();
    let all = state
        .blocking(move |s| staged::<MixDecryptionEntry>(s, &key, kinds::FACTORS))
        .await?;
    let l2 = live.clone();
    let b2 = b.clone();
    let set = set.to_vec();
    let entries = tokio::task::spawn_blocking(move || -> ApiResult<Vec<Entry>> {
        let election = &l2.election;
        let m = election.manifest();
        let mut chunks = by_trustee(all, |f| f.offset);
        let factors: Vec<Vec<Vec<urne_core::proofs::decryption::DecryptionFactor>>> = set
            .iter()
            .map(|t| {
                chunks
                    .remove(t)
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|f| f.factors)
                    .collect()
            })
            .collect();
        let opened = vartime_open_with_factors(election, &set, &b2.list, &factors)
            .map_err(|e| ApiError::internal(format!("combining mix factors: {e}")))?;
        let values: Vec<Vec<u64>> = opened
            .into_iter()
            .enumerate()
            .map(|(r, row)| {
                row.into_iter()
                    .collect::<Option<Vec<u64>>>()
                    .ok_or_else(|| {
                        ApiError::internal(format!("row {r} of the mix does not decrypt to values"))
                    })
            })
            .collect::<ApiResult<_>>()?;
        let mixed = count_mixed(m, &values)
            .map_err(|e| ApiError::internal(format!("counting the mixed ballots: {e}")))?;
        let tally = b2
            .tally
            .as_ref()
            .ok_or_else(|| ApiError::internal("tallied election without a tally line"))?;
        let used = &b2.partials[..m.threshold.min(b2.partials.len() as u32) as usize];
        let mut result = decrypt_result(election, &tally.tally, used, tally.total_weight)
            .map_err(|e| ApiError::internal(format!("combining factors: {e}")))?;
        for (q, r) in result.questions.iter_mut().zip(mixed) {
            q.mixed = r;
        }
        let mut entries = Vec::new();
        for (&t, f) in set.iter().zip(&factors) {
            entries.extend(mix_decryption_lines(t, f, None));
        }
        entries.extend(mixed_ballots_lines(&values, None));
        entries.push(Entry::Result(Box::new(result)));
        Ok(entries)
    })
    .await
    .map_err(ApiError::internal)??;
    append(state, id, entries, size).await?;
    // The decrypted rows and the result are on the board: no upload is taken any more, every
    // trustee's staged factors and any shuffle chunks left (of trustees who did not shuffle,
    // or of uploads abandoned) are of no use.
    forget_staged(state, id, kinds::FACTORS, None, None).await;
    forget_staged(state, id, kinds::SHUFFLE_CHUNK, None, None).await;
    Ok(())
}

/// A comparable summary of a mix state (for [`testing`]).
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixSnapshot {
    /// Lines of the board covered.
    pub size: u64,
    /// Whether the tally line was read.
    pub tally: bool,
    /// Trustees of the tally's factors, in order.
    pub partials: Vec<u32>,
    /// Trustees who shuffled, in order.
    pub shufflers: Vec<u32>,
    /// The current list.
    pub list: Vec<Vec<Ciphertext>>,
    /// Its digest, as kept.
    pub list_digest: String,
    /// Rows of a shuffle whose end is not read yet.
    pub building: Vec<Vec<Ciphertext>>,
    /// Whether the decrypted rows are on the board.
    pub decrypted: bool,
    /// Whether the result is on the board.
    pub result: bool,
}

impl MixSnapshot {
    fn of(st: &MixState) -> MixSnapshot {
        let b = &st.board;
        MixSnapshot {
            size: st.size,
            tally: b.tally.is_some(),
            partials: b.partials.iter().map(|p| p.trustee).collect(),
            shufflers: b.shufflers.clone(),
            list: b.list.to_vec(),
            list_digest: b.list_digest.clone(),
            building: st.building.clone(),
            decrypted: b.decrypted,
            result: b.result,
        }
    }
}

/// Hooks for the server's tests: not an API.
#[doc(hidden)]
pub mod testing {
    use super::{ApiResult, MixSnapshot, advance, read_board};
    use crate::live::Live;

    /// For every size of the board from its tally line to `size`, the state read from the whole
    /// board and the state brought there one line at a time from the state at the tally:
    /// `(line type, full, incremental)` for each line added.
    pub fn full_and_incremental(
        store: &dyn urne_board::Store,
        id: &str,
        live: &Live,
        tally_seq: u64,
        size: u64,
    ) -> ApiResult<Vec<(String, MixSnapshot, Option<MixSnapshot>)>> {
        let mut st = read_board(store, id, live, tally_seq + 1)?;
        let mut out = Vec::new();
        for k in tally_seq + 2..=size {
            let line = store.lines(id, k - 1, 1)?;
            let kind = line
                .first()
                .map(|l| String::from_utf8_lossy(crate::trustees::line_kind(&l.line)).into_owned())
                .unwrap_or_default();
            let full = MixSnapshot::of(&read_board(store, id, live, k)?);
            let next = advance(store, id, &st, k)?;
            out.push((kind, full, next.as_ref().map(MixSnapshot::of)));
            match next {
                Some(n) => st = n,
                None => st = read_board(store, id, live, k)?,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_place_is_read_from_the_start_of_a_chunk() {
        let place = Place {
            shuffle: 3,
            offset: 4096,
            rows: 17,
        };
        let chunk = serde_json::json!({ "offset": 4096, "outputs": vec![[0u8; 3]; 17] });
        let body = staged_body(place, &chunk).unwrap();
        assert!(body.starts_with(PLACE_PREFIX));
        assert_eq!(place_of(&body).unwrap(), Some(place));
        let head: String = body.chars().take(PLACE_CHARS as usize).collect();
        assert!(head.len() < body.len());
        assert_eq!(place_of(&head).unwrap(), Some(place));
        // The largest place fits in the characters read.
        let big = Place {
            shuffle: u32::MAX,
            offset: u64::MAX,
            rows: u64::MAX,
        };
        let body = staged_body(big, &chunk).unwrap();
        let head: String = body.chars().take(PLACE_CHARS as usize).collect();
        assert_eq!(place_of(&head).unwrap(), Some(big));
        // Cut inside the place (or before it): the whole body is needed.
        assert_eq!(place_of(&body[..20]).unwrap(), None);
        assert_eq!(place_of("{\"pla").unwrap(), None);
        // The chunk comes back whole.
        let back: serde_json::Value = chunk_of(&staged_body(place, &chunk).unwrap()).unwrap();
        assert_eq!(back, chunk);
    }

    #[test]
    fn a_chunk_stored_without_its_place_is_still_read() {
        let old = r#"{"shuffle":1,"trustee":2,"offset":5,"outputs":[[],[],[]]}"#;
        let place = Place {
            shuffle: 1,
            offset: 5,
            rows: 3,
        };
        assert_eq!(place_of(old).unwrap(), Some(place));
        assert_eq!(place_of(&old[..30]).unwrap(), None);
        let factors = r#"{"trustee":2,"offset":0,"factors":[[]]}"#;
        assert_eq!(
            place_of(factors).unwrap(),
            Some(Place {
                shuffle: 0,
                offset: 0,
                rows: 1
            })
        );
        let back: serde_json::Value = chunk_of(old).unwrap();
        assert_eq!(back["offset"], 5);
        assert!(place_of("[1,2]").is_err());
        assert!(place_of("{\"place\":[1]}").is_err());
    }
}
