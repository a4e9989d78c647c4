//! Trustees' endpoints: registering an identity key with an invitation, the key-generation
//! ceremony relayed through the server (spec §8.5), and decryption of the tally.
//!
//! The server is only a relay: every ceremony message is signed by its sender's identity key
//! and is judged again by every verifier once it is on the board. The server checks what it can
//! to refuse garbage early (the sender is the invited trustee, the message parses), and keeps
//! the messages aside until the administrators seal the setup.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use urne_board::Phase;
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing};
use urne_core::manifest::{TrusteePublic, trustee_key_proof_prefix};
use urne_core::tally::{PartialDecryption, decrypt_result, vartime_verify_partial};
use urne_verify::record::{Entry, TallyEntry, parse_line};

use crate::AppState;
use crate::auth::{Invitation, InvitedTrustee};
use crate::draft::StoredConfig;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};

/// Kinds of relayed messages.
pub mod kinds {
    /// A trustee's public identity (its `TrusteePublic`).
    pub const TRUSTEE: &str = "trustee";
    /// Round 1: one dealing.
    pub const DEALING: &str = "dealing";
    /// Round 2: a trustee's complaints (a list, possibly empty: "no complaint").
    pub const COMPLAINTS: &str = "complaints";
    /// Round 3: a trustee's answers (a list, possibly empty).
    pub const ANSWERS: &str = "answers";
    /// A chunk of the public credential list.
    pub const CREDENTIALS: &str = "credentials";
}

/// The election's configuration, once its phase is one of `phases`. The trustee's invitation
/// was checked by the [`InvitedTrustee`] extractor before the body was read; invitations are
/// made once, when the election is frozen, so only the phase needs reading again here, under
/// the election's lock.
async fn in_phase(state: &AppState, id: &str, phases: &[Phase]) -> ApiResult<StoredConfig> {
    let row = state.row(id).await?;
    if !phases.contains(&row.phase) {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!("the election is {}", row.phase),
        ));
    }
    StoredConfig::from_json(&row.config)
}

/// Every relayed message of one kind, parsed.
pub fn relayed<T: for<'de> Deserialize<'de>>(
    store: &dyn urne_board::Store,
    id: &str,
    kind: &str,
) -> Result<Vec<(u32, T)>, ApiError> {
    store
        .messages(id, Some(kind), 0)?
        .into_iter()
        .map(|m| {
            serde_json::from_str(&m.body)
                .map(|t| (m.sender, t))
                .map_err(|e| ApiError::internal(format!("relayed {kind} {}: {e}", m.idx)))
        })
        .collect()
}

/// The ceremony as it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CeremonyView {
    /// Number of trustees.
    pub trustees: u32,
    /// How many suffice to decrypt.
    pub threshold: u32,
    /// Whether the trustees hold a ceremony (threshold below the number of trustees).
    pub ceremony: bool,
    /// Registered identities by index − 1 (`null` for a trustee not yet registered).
    #[schema(value_type = Vec<Object>)]
    pub identities: Vec<Option<TrusteePublic>>,
    /// Round 1.
    #[schema(value_type = Vec<Object>)]
    pub dealings: Vec<Dealing>,
    /// Round 2: the trustees who have sent their complaints (possibly none), and the complaints.
    pub complained: Vec<u32>,
    /// The complaints.
    #[schema(value_type = Vec<Object>)]
    pub complaints: Vec<ComplaintMessage>,
    /// Round 3: the trustees who have answered, and the answers.
    pub answered: Vec<u32>,
    /// The answers.
    #[schema(value_type = Vec<Object>)]
    pub answers: Vec<Answer>,
}

/// Reads the ceremony's state from the relayed messages.
pub fn ceremony_view(
    store: &dyn urne_board::Store,
    id: &str,
    config: &StoredConfig,
) -> Result<CeremonyView, ApiError> {
    let n = config.draft.trustees.len();
    let mut identities = vec![None; n];
    for (sender, t) in relayed::<TrusteePublic>(store, id, kinds::TRUSTEE)? {
        if let Some(slot) = identities.get_mut(sender as usize - 1) {
            *slot = Some(t);
        }
    }
    let dealings = relayed::<Dealing>(store, id, kinds::DEALING)?
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    let mut complained = Vec::new();
    let mut complaints = Vec::new();
    for (sender, list) in relayed::<Vec<ComplaintMessage>>(store, id, kinds::COMPLAINTS)? {
        complained.push(sender);
        complaints.extend(list);
    }
    let mut answered = Vec::new();
    let mut answers = Vec::new();
    for (sender, list) in relayed::<Vec<Answer>>(store, id, kinds::ANSWERS)? {
        answered.push(sender);
        answers.extend(list);
    }
    Ok(CeremonyView {
        trustees: n as u32,
        threshold: config.draft.threshold,
        ceremony: (config.draft.threshold as usize) < n,
        identities,
        dealings,
        complained,
        complaints,
        answered,
        answers,
    })
}

/// `GET /api/v1/elections/{id}/ceremony`: the relayed ceremony, for trustees and observers.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/ceremony",
    tag = "trustees",
    operation_id = "ceremony",
    params(("id" = String, Path, description = "The election's id")),
    responses(
        (status = 200, description = "The relayed key-generation ceremony as it stands, for trustees and observers", body = CeremonyView),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The election is a draft (`wrong_phase`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn ceremony(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CeremonyView>> {
    let row = state.row(&id).await?;
    if row.phase == Phase::Draft {
        return Err(ApiError::conflict("wrong_phase", "the election is a draft"));
    }
    let config = StoredConfig::from_json(&row.config)?;
    Ok(Json(
        state
            .blocking(move |s| ceremony_view(s, &id, &config))
            .await?,
    ))
}

/// `POST /api/v1/elections/{id}/trustees/{index}`: a trustee registers its public identity
/// (from `urne trustee new-identity`), with its invitation token.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/trustees/{index}",
    tag = "trustees",
    operation_id = "register_trustee",
    params(
        ("id" = String, Path, description = "The election's id"),
        ("index" = u32, Path, description = "The trustee's index, from 1"),
    ),
    request_body(content = Object, content_type = "application/json", description = "The trustee's public identity, from `urne trustee new-identity`"),
    security(("trustee_invitation" = [])),
    responses(
        (status = 201, description = "Registered"),
        (status = 400, description = "The index is not a number, or the body is not JSON (`bad_path`, `bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No invitation token, or an unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "The invitation is another trustee's (`wrong_trustee`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not in setup, or registered already (`wrong_phase`, `already_registered`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a trustee identity (`bad_content`), another name than the election's, or a key proof that fails V-3 (`wrong_name`, `bad_proof`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    Path((id, index)): Path<(String, u32)>,
    InvitedTrustee(who): InvitedTrustee,
    Json(public): Json<TrusteePublic>,
) -> ApiResult<StatusCode> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    let config = in_phase(&state, &id, &[Phase::Setup]).await?;
    if who.index != index {
        return Err(ApiError::forbidden(
            "wrong_trustee",
            format!("this invitation is trustee {}'s", who.index),
        ));
    }
    let name = &config.draft.trustees[index as usize - 1];
    if public.name != *name {
        return Err(ApiError::invalid(
            "wrong_name",
            format!("trustee {index} is named `{name}` in this election"),
        )
        .field("name"));
    }
    let prefix = trustee_key_proof_prefix(&id, index, &public.name, &public.public_key);
    public
        .key_proof
        .vartime_verify(&public.public_key, prefix)
        .map_err(|e| ApiError::invalid("bad_proof", format!("V-3: {e}")).field("key_proof"))?;
    let body = serde_json::to_string(&public).map_err(ApiError::internal)?;
    let key = id.clone();
    state
        .blocking(move |s| {
            if s.messages(&key, Some(kinds::TRUSTEE), 0)?
                .iter()
                .any(|m| m.sender == index)
            {
                return Err(ApiError::conflict(
                    "already_registered",
                    format!("trustee {index} has registered already"),
                ));
            }
            s.put_message(&key, kinds::TRUSTEE, index, &body, crate::clock::now())?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::CREATED)
}

async fn relay(
    state: &AppState,
    id: &str,
    who: Invitation,
    kind: &'static str,
    body: String,
) -> ApiResult<StatusCode> {
    let key = id.to_owned();
    state
        .blocking(move |s| {
            if s.messages(&key, Some(kind), 0)?
                .iter()
                .any(|m| m.sender == who.index)
            {
                return Err(ApiError::conflict(
                    "already_sent",
                    format!("trustee {} has sent its {kind} already", who.index),
                ));
            }
            if s.election(&key)?.is_some_and(|r| r.log_size > 0) {
                return Err(ApiError::conflict("sealed", "the setup is sealed"));
            }
            s.put_message(&key, kind, who.index, &body, crate::clock::now())?;
            Ok(StatusCode::CREATED)
        })
        .await
}

/// `POST /api/v1/elections/{id}/ceremony/dealing`: round 1.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/ceremony/dealing",
    tag = "trustees",
    operation_id = "ceremony_dealing",
    params(("id" = String, Path, description = "The election's id")),
    request_body(content = Object, content_type = "application/json", description = "Round 1: the trustee's dealing"),
    security(("trustee_invitation" = [])),
    responses(
        (status = 201, description = "Relayed; it goes on the board when the administrators seal the setup"),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No invitation token, or an unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A trustee deals only as itself (`wrong_trustee`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not in setup, sealed already, or sent already (`wrong_phase`, `sealed`, `already_sent`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "The body is not a dealing (`bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn dealing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    InvitedTrustee(who): InvitedTrustee,
    Json(d): Json<Dealing>,
) -> ApiResult<StatusCode> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    in_phase(&state, &id, &[Phase::Setup]).await?;
    if d.dealer != who.index {
        return Err(
            ApiError::forbidden("wrong_trustee", "a trustee deals only as itself").field("dealer"),
        );
    }
    relay(
        &state,
        &id,
        who,
        kinds::DEALING,
        serde_json::to_string(&d).map_err(ApiError::internal)?,
    )
    .await
}

/// `POST /api/v1/elections/{id}/ceremony/complaints`: round 2, every complaint of one trustee
/// (an empty list says it has none).
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/ceremony/complaints",
    tag = "trustees",
    operation_id = "ceremony_complaints",
    params(("id" = String, Path, description = "The election's id")),
    request_body(content = Vec<Object>, content_type = "application/json", description = "Round 2: every complaint of the trustee (an empty list: none)"),
    security(("trustee_invitation" = [])),
    responses(
        (status = 201, description = "Relayed; it goes on the board when the administrators seal the setup"),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No invitation token, or an unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A trustee complains only as itself (`wrong_trustee`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not in setup, sealed already, or sent already (`wrong_phase`, `sealed`, `already_sent`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "The body is not a list of complaints (`bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn complaints(
    State(state): State<AppState>,
    Path(id): Path<String>,
    InvitedTrustee(who): InvitedTrustee,
    Json(list): Json<Vec<ComplaintMessage>>,
) -> ApiResult<StatusCode> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    in_phase(&state, &id, &[Phase::Setup]).await?;
    if let Some(i) = list.iter().position(|c| c.accuser != who.index) {
        return Err(
            ApiError::forbidden("wrong_trustee", "a trustee complains only as itself")
                .field(format!("[{i}].accuser")),
        );
    }
    relay(
        &state,
        &id,
        who,
        kinds::COMPLAINTS,
        serde_json::to_string(&list).map_err(ApiError::internal)?,
    )
    .await
}

/// `POST /api/v1/elections/{id}/ceremony/answers`: round 3, every answer of one trustee.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/ceremony/answers",
    tag = "trustees",
    operation_id = "ceremony_answers",
    params(("id" = String, Path, description = "The election's id")),
    request_body(content = Vec<Object>, content_type = "application/json", description = "Round 3: every answer of the trustee (an empty list: none)"),
    security(("trustee_invitation" = [])),
    responses(
        (status = 201, description = "Relayed; it goes on the board when the administrators seal the setup"),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No invitation token, or an unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A trustee answers only as itself (`wrong_trustee`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not in setup, sealed already, or sent already (`wrong_phase`, `sealed`, `already_sent`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "The body is not a list of answers (`bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn answers(
    State(state): State<AppState>,
    Path(id): Path<String>,
    InvitedTrustee(who): InvitedTrustee,
    Json(list): Json<Vec<Answer>>,
) -> ApiResult<StatusCode> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    in_phase(&state, &id, &[Phase::Setup]).await?;
    if let Some(i) = list.iter().position(|a| a.dealer != who.index) {
        return Err(
            ApiError::forbidden("wrong_trustee", "a trustee answers only as itself")
                .field(format!("[{i}].dealer")),
        );
    }
    relay(
        &state,
        &id,
        who,
        kinds::ANSWERS,
        serde_json::to_string(&list).map_err(ApiError::internal)?,
    )
    .await
}

/// What the board says after the close line.
#[derive(Debug, Default)]
pub struct Counting {
    /// The tally line.
    pub tally: Option<TallyEntry>,
    /// Partial decryptions, in board order.
    pub partials: Vec<PartialDecryption>,
    /// Whether the result is on the board.
    pub result: bool,
}

/// What the board says after the close line, for a board of `size` lines whose tally line is
/// at `tally` (kept by [`tally_counts`]): only the tally line, the trustees' factors right
/// after it (at most `needed` lines: the server takes no more, and nothing comes between) and
/// the board's last line (the result, when there) are read. The ballots before the tally and
/// the mix phase's lines after its factors are neither read nor parsed.
pub fn counting_at(
    store: &dyn urne_board::Store,
    id: &str,
    tally: u64,
    needed: usize,
    size: u64,
) -> Result<Counting, ApiError> {
    let mut c = Counting::default();
    let end = size.min(tally + 1 + needed as u64);
    for l in store.lines(id, tally, end.saturating_sub(tally))? {
        let kind = line_kind(&l.line);
        if l.seq == tally {
            if kind != b"tally" {
                return Err(ApiError::internal(format!(
                    "board line {tally}: not the tally"
                )));
            }
        } else if kind != b"partial_decryption" {
            break;
        }
        match parse_line(l.seq + 1, &l.line)
            .map_err(ApiError::internal)?
            .entry
        {
            Entry::Tally(t) => c.tally = Some(*t),
            Entry::PartialDecryption(p) => c.partials.push(*p),
            _ => {}
        }
    }
    if c.tally.is_none() {
        return Err(ApiError::internal(format!("board line {tally}: missing")));
    }
    c.result = size > tally + 1 && result_on_board(store, id, size)?;
    Ok(c)
}

/// Whether the last line of a board of `size` lines is the result, read without parsing it:
/// the result is the last line of a board (docs/record.md §2), and nothing follows it.
pub fn result_on_board(
    store: &dyn urne_board::Store,
    id: &str,
    size: u64,
) -> Result<bool, ApiError> {
    let Some(last) = size.checked_sub(1) else {
        return Ok(false);
    };
    Ok(store
        .lines(id, last, 1)?
        .first()
        .is_some_and(|l| line_kind(&l.line) == b"result"))
}

/// The `type` of a board line, read without parsing it (lines start with `{"seq":N,"type":"`).
pub fn line_kind(line: &[u8]) -> &[u8] {
    let Some(start) = line.iter().position(|&b| b == b',') else {
        return b"";
    };
    let rest = &line[start..];
    let Some(rest) = rest.strip_prefix(b",\"type\":\"") else {
        return b"";
    };
    let end = rest.iter().position(|&b| b == b'"').unwrap_or(0);
    &rest[..end]
}

/// The stage of a board line's type: its row in the table of docs/record.md §2, whose order the
/// lines of a board follow (V-18). `None` for a type this server does not know.
fn stage(kind: &[u8]) -> Option<u8> {
    const ORDER: [&[u8]; 17] = [
        b"header",
        b"manifest",
        b"dealing",
        b"complaint",
        b"answer",
        // A revocation is of the credentials' stage (docs/record.md §2).
        b"credential",
        b"booth",
        b"open",
        b"ballot",
        b"close",
        b"tally",
        b"partial_decryption",
        b"shuffle_chunk",
        b"shuffle",
        b"mix_decryption",
        b"mixed_ballots",
        b"result",
    ];
    if kind == b"revocation" {
        return stage(b"credential");
    }
    ORDER.iter().position(|k| *k == kind).map(|i| i as u8)
}

/// The stage of `tally` lines (see [`stage`]).
const TALLY_STAGE: u8 = 10;

/// The tally line's place on the board and its counts (docs/record.md, `TallyEntry`), without
/// the encrypted tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyCounts {
    /// The line's position.
    pub seq: u64,
    /// Ballots counted (the last of each credential).
    pub ballots: u64,
    /// Their total weight.
    pub total_weight: u64,
}

/// The tally line of a board of `size` lines whose sealed setup is `sealed` lines long, `None`
/// when there is none. Lines come in stage order (V-18), so "at or after the tally's stage" is
/// false and then true along the board: bisection finds the tally in about log₂(size) reads of
/// one line each, whatever the number of ballots and however big the mix phase's lines after
/// it. A line of an unknown type, or a first line past the ballots that is not the tally, makes
/// it read the board from `sealed` instead (only tally lines parsed).
pub fn find_tally(
    store: &dyn urne_board::Store,
    id: &str,
    sealed: u64,
    size: u64,
) -> Result<Option<TallyCounts>, ApiError> {
    let (mut lo, mut hi) = (sealed, size);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let Some(l) = store.lines(id, mid, 1)?.into_iter().next() else {
            return Err(ApiError::internal(format!(
                "board of `{id}`: no line {mid}"
            )));
        };
        match stage(line_kind(&l.line)) {
            None => return scan_tally(store, id, sealed),
            Some(s) if s >= TALLY_STAGE => hi = mid,
            Some(_) => lo = mid + 1,
        }
    }
    if lo >= size {
        return Ok(None);
    }
    match store.lines(id, lo, 1)?.into_iter().next() {
        Some(l) if line_kind(&l.line) == b"tally" => tally_counts_of(&l).map(Some),
        _ => scan_tally(store, id, sealed),
    }
}

/// [`find_tally`]'s fallback: the board read from `from`, only its tally line parsed.
fn scan_tally(
    store: &dyn urne_board::Store,
    id: &str,
    from: u64,
) -> Result<Option<TallyCounts>, ApiError> {
    let mut at = from;
    loop {
        let page = store.lines(id, at, 4096)?;
        if page.is_empty() {
            return Ok(None);
        }
        at += page.len() as u64;
        if let Some(l) = page.iter().find(|l| line_kind(&l.line) == b"tally") {
            return tally_counts_of(l).map(Some);
        }
    }
}

fn tally_counts_of(l: &urne_board::LogLine) -> Result<TallyCounts, ApiError> {
    let line = parse_line(l.seq + 1, &l.line).map_err(ApiError::internal)?;
    match line.entry {
        Entry::Tally(t) => Ok(TallyCounts {
            seq: l.seq,
            ballots: t.ballots,
            total_weight: t.total_weight,
        }),
        _ => Err(ApiError::internal(format!(
            "board line {}: not a tally",
            l.seq
        ))),
    }
}

/// The tally's counts of election `row`, `None` before it is tallied. Found on the board once
/// per server (by [`find_tally`]) and kept in the election's [`crate::live::Live`] state: a
/// line once on the board never changes, so every server sharing the database finds the same.
pub async fn tally_counts(
    state: &AppState,
    row: &urne_board::ElectionRow,
    live: &crate::live::LiveRef,
) -> ApiResult<Option<TallyCounts>> {
    if row.phase < Phase::Tallied {
        return Ok(None);
    }
    if let Some(t) = live.counting.tally.get() {
        return Ok(Some(*t));
    }
    let (id, sealed, size) = (row.id.clone(), live.sealed_size, row.log_size);
    let found = state
        .blocking(move |s| find_tally(s, &id, sealed, size))
        .await?
        .ok_or_else(|| ApiError::internal("tallied election without a tally line"))?;
    Ok(Some(*live.counting.tally.get_or_init(|| found)))
}

/// The decryption of the tally as the board shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DecryptionProgress {
    /// Trustees (by index, from 1) whose decryption factors of the tally (`partial_decryption`
    /// lines) are on the board, in board order.
    pub trustees: Vec<u32>,
    /// How many trustees' factors are needed: the manifest's threshold.
    pub needed: u32,
    /// Whether `needed` trustees have sent theirs: the tally is decrypted (an election with a
    /// ranked or graded question then goes on with its mix phase, see `mix`).
    pub threshold_reached: bool,
    /// Whether the result line is on the board (the election can be published).
    pub result: bool,
}

/// The trustees' factors of the tally at `tally` on a board of `size` lines, read without
/// parsing any big line: they are the lines right after the tally (the server takes no more
/// than `needed`, and nothing comes between), of which only the trustee's index is decoded;
/// the result is the board's last line once it is there. `published` says it is.
pub fn decryption_progress(
    store: &dyn urne_board::Store,
    id: &str,
    tally: u64,
    needed: u32,
    size: u64,
    published: bool,
) -> Result<DecryptionProgress, ApiError> {
    #[derive(Deserialize)]
    struct Factors {
        partial: Sender,
    }
    #[derive(Deserialize)]
    struct Sender {
        trustee: u32,
    }
    // Only the board as it was at `size`, so that what is kept for that size is what it held.
    let limit = u64::from(needed).min(size.saturating_sub(tally + 1));
    let window = if limit == 0 {
        Vec::new()
    } else {
        store.lines(id, tally + 1, limit)?
    };
    let mut trustees = Vec::new();
    let mut last_kind: Option<&[u8]> = None;
    for l in &window {
        let kind = line_kind(&l.line);
        if l.seq + 1 == size {
            last_kind = Some(kind);
        }
        if kind != b"partial_decryption" {
            break;
        }
        let f: Factors = serde_json::from_slice(&l.line)
            .map_err(|e| ApiError::internal(format!("board line {}: {e}", l.seq)))?;
        trustees.push(f.partial.trustee);
    }
    let result = if published {
        true
    } else if size == tally + 1 {
        false
    } else if let Some(kind) = last_kind {
        kind == b"result"
    } else {
        store
            .lines(id, size - 1, 1)?
            .first()
            .is_some_and(|l| line_kind(&l.line) == b"result")
    };
    Ok(DecryptionProgress {
        threshold_reached: trustees.len() >= needed as usize,
        trustees,
        needed,
        result,
    })
}

/// The decryption of election `row`'s tally, `None` before it is tallied. Kept in the
/// election's [`crate::live::Live`] state with the board's size it was read at, and read again
/// only when the board has grown (never again once the result is there).
pub async fn decryption_of(
    state: &AppState,
    row: &urne_board::ElectionRow,
    live: &crate::live::LiveRef,
) -> ApiResult<Option<DecryptionProgress>> {
    let Some(t) = tally_counts(state, row, live).await? else {
        return Ok(None);
    };
    let kept = live
        .counting
        .decryption
        .lock()
        .map_err(|_| ApiError::internal("decryption cache poisoned"))?
        .clone();
    if let Some((size, d)) = kept {
        if size == row.log_size || d.result {
            return Ok(Some(d));
        }
    }
    let (id, size) = (row.id.clone(), row.log_size);
    let needed = live.election.manifest().threshold;
    let published = row.phase == Phase::Published;
    let d = state
        .blocking(move |s| decryption_progress(s, &id, t.seq, needed, size, published))
        .await?;
    let mut cache = live
        .counting
        .decryption
        .lock()
        .map_err(|_| ApiError::internal("decryption cache poisoned"))?;
    if cache.as_ref().is_none_or(|(s, _)| *s < size) {
        *cache = Some((size, d.clone()));
    }
    Ok(Some(d))
}

/// `GET /api/v1/elections/{id}/tally`: the encrypted tally, for the trustees to decrypt.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/tally",
    tag = "trustees",
    operation_id = "encrypted_tally",
    params(("id" = String, Path, description = "The election's id")),
    responses(
        (status = 200, description = "The encrypted tally line (docs/record.md), for the trustees to decrypt", body = Object),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not tallied yet (`no_tally`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn tally(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let row = state.row(&id).await?;
    if row.phase < Phase::Tallied {
        return Err(ApiError::conflict(
            "no_tally",
            format!("the election is {}: no tally yet", row.phase),
        ));
    }
    let live = state.live(&id).await?;
    // The line's place is kept by the server: one line read, however long the mix phase.
    let at = tally_counts(&state, &row, &live)
        .await?
        .ok_or_else(|| ApiError::internal("tallied election without a tally line"))?;
    let line = state
        .blocking(move |s| Ok(s.lines(&id, at.seq, 1)?))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal(format!("no board line {}", at.seq)))?;
    match parse_line(line.seq + 1, &line.line)
        .map_err(ApiError::internal)?
        .entry
    {
        Entry::Tally(t) => serde_json::to_value(&t)
            .map(Json)
            .map_err(ApiError::internal),
        _ => Err(ApiError::internal(format!(
            "board line {}: not the tally",
            line.seq
        ))),
    }
}

/// `POST /api/v1/elections/{id}/decryptions`: a trustee's decryption factors of the tally, with
/// proofs. They are checked (V-15) before going on the board; once enough trustees have sent
/// theirs, the server combines them and publishes the result (V-16, V-17).
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/decryptions",
    tag = "trustees",
    operation_id = "decryption",
    params(("id" = String, Path, description = "The election's id")),
    request_body(content = Object, content_type = "application/json", description = "The trustee's decryption factors of the tally, with their proofs"),
    security(("trustee_invitation" = [])),
    responses(
        (status = 201, description = "Checked (V-15) and on the board; with enough trustees, the result is too", body = DecryptionAck),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No invitation token, or an unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A trustee decrypts only as itself (`wrong_trustee`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not tallied, decrypted already, or sent already (`wrong_phase`, `decrypted`, `already_sent`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a decryption (`bad_content`), or its proofs fail V-15 (`bad_decryption`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn decryption(
    State(state): State<AppState>,
    Path(id): Path<String>,
    InvitedTrustee(who): InvitedTrustee,
    Json(pd): Json<PartialDecryption>,
) -> ApiResult<(StatusCode, Json<DecryptionAck>)> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    in_phase(&state, &id, &[Phase::Tallied]).await?;
    if pd.trustee != who.index {
        return Err(
            ApiError::forbidden("wrong_trustee", "a trustee decrypts only as itself")
                .field("trustee"),
        );
    }
    // With several servers sharing the database, another trustee's factors may land between
    // reading the board and writing to it: the append then fails and is decided again.
    let mut attempt = 0;
    let (trustees, needed, done) = loop {
        match decrypt_once(&state, &id, &pd).await {
            Err(e) if e.code == "board_moved" && attempt < 8 => attempt += 1,
            other => break other?,
        }
    };
    let _ = state
        .blocking(move |s| {
            s.audit(
                &format!("trustee {}", who.index),
                Some(&id),
                "election.decrypt",
                "{}",
                crate::clock::now(),
            )?;
            Ok(())
        })
        .await;
    Ok((
        StatusCode::CREATED,
        Json(DecryptionAck {
            trustees: trustees as u32,
            needed: needed as u32,
            result: done,
        }),
    ))
}

/// The answer to a decryption.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecryptionAck {
    /// Trustees whose factors are on the board.
    pub trustees: u32,
    /// How many are needed.
    pub needed: u32,
    /// Whether the result is now on the board.
    pub result: bool,
}

/// Checks a trustee's factors against the board as it stands and appends them (with the result
/// when they complete the set), provided the board has not moved meanwhile. Returns the number
/// of trustees whose factors are on the board, how many are needed, and whether the result is.
async fn decrypt_once(
    state: &AppState,
    id: &str,
    pd: &PartialDecryption,
) -> ApiResult<(usize, usize, bool)> {
    let pd = pd.clone();
    let id = id.to_owned();
    let row = state.row(&id).await?;
    let size = row.log_size;
    let live = state.live(&id).await?;
    // The tally's place is kept by the server: the tally line, the factors right after it and
    // the board's last line are read, however long the board and its mix phase.
    let at = tally_counts(state, &row, &live)
        .await?
        .ok_or_else(|| ApiError::internal("tallied election without a tally line"))?;
    let key = id.clone();
    let needed = live.election.manifest().threshold as usize;
    let c = state
        .blocking(move |s| counting_at(s, &key, at.seq, needed, size))
        .await?;
    if c.result {
        return Err(ApiError::conflict(
            "decrypted",
            "the result is on the board already",
        ));
    }
    if c.partials.iter().any(|p| p.trustee == pd.trustee) {
        return Err(ApiError::conflict(
            "already_sent",
            format!("trustee {} has decrypted already", pd.trustee),
        ));
    }
    let tally = c
        .tally
        .ok_or_else(|| ApiError::internal("tallied election without a tally line"))?;
    vartime_verify_partial(&mut rand::rng(), &live.election, &tally.tally, &pd)
        .map_err(|e| ApiError::verify("bad_decryption", &e))?;
    // With ranked or graded questions, the result waits for the mix phase (spec §8.8), whose
    // lines follow the tally's factors: once enough are on the board, no more are taken.
    // With no counted ballot there is nothing to shuffle: the result comes at once.
    let mixed = urne_core::mix::width(live.election.manifest()) > 0 && tally.ballots > 0;
    if mixed && c.partials.len() >= needed {
        return Err(ApiError::conflict(
            "decrypted",
            "enough factors of the tally are on the board already; the mix phase follows",
        ));
    }
    let mut partials = c.partials;
    partials.push(pd.clone());
    let result = if partials.len() >= needed && !mixed {
        let used = &partials[..needed];
        Some(
            decrypt_result(&live.election, &tally.tally, used, tally.total_weight)
                .map_err(|e| ApiError::internal(format!("combining factors: {e}")))?,
        )
    } else {
        None
    };
    let partials_len = partials.len();
    let mut entries = vec![Entry::PartialDecryption(Box::new(pd))];
    let done = result.is_some();
    if let Some(r) = result {
        entries.push(Entry::Result(Box::new(r)));
    }
    let key = id.clone();
    state
        .blocking(move |s| {
            crate::append_lines(s, &key, &entries, Phase::Tallied, None, Some(size)).map(drop)
        })
        .await?;
    Ok((partials_len, needed, done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use urne_board::Store as _;

    #[test]
    fn stages_follow_the_record_table_with_the_tally_after_every_ballot() {
        assert_eq!(stage(b"tally"), Some(TALLY_STAGE));
        for before in [
            &b"header"[..],
            b"credential",
            b"revocation",
            b"booth",
            b"open",
            b"ballot",
            b"close",
        ] {
            assert!(
                stage(before).unwrap() < TALLY_STAGE,
                "{}",
                String::from_utf8_lossy(before)
            );
        }
        for after in [
            &b"partial_decryption"[..],
            b"shuffle_chunk",
            b"shuffle",
            b"mix_decryption",
            b"mixed_ballots",
            b"result",
        ] {
            assert!(
                stage(after).unwrap() > TALLY_STAGE,
                "{}",
                String::from_utf8_lossy(after)
            );
        }
        assert_eq!(stage(b"tree_head"), None);
        assert_eq!(stage(b""), None);
    }

    /// A board of `kinds` lines (each `{"seq":N,"type":KIND,…}`, a real tally line for `tally`,
    /// a trustee's index for `partial_decryption`) in a fresh SQLite store.
    fn board(kinds: &[(&str, u32)]) -> (tempfile::TempDir, urne_board::SqliteStore) {
        use urne_board::{Append, Item, Store};
        let dir = tempfile::tempdir().unwrap();
        let store = urne_board::SqliteStore::open(dir.path()).unwrap();
        store.create_election("e", "{}", 0).unwrap();
        let items = vec![Item::default(); kinds.len()];
        let encode = |i: usize, seq: u64, _at: i64| -> Vec<u8> {
            match kinds[i] {
                ("tally", _) => {
                    let t = TallyEntry {
                        ballots: 7,
                        total_weight: 9,
                        tally: urne_core::tally::EncryptedTally {
                            questions: Vec::new(),
                        },
                    };
                    urne_verify::record::encode_line(seq, &Entry::Tally(Box::new(t))).0
                }
                ("partial_decryption", t) => {
                    let p = PartialDecryption {
                        trustee: t,
                        factors: Vec::new(),
                    };
                    urne_verify::record::encode_line(seq, &Entry::PartialDecryption(Box::new(p))).0
                }
                (kind, _) => format!(
                    r#"{{"seq":{seq},"type":"{kind}","padding":"{}"}}"#,
                    "x".repeat(64)
                )
                .into_bytes(),
            }
        };
        store
            .append(
                "e",
                &Append {
                    expect: &[Phase::Draft],
                    set_phase: None,
                    now: 0,
                    items: &items,
                    unique_credentials: false,
                    expect_size: None,
                    encode: &encode,
                },
            )
            .unwrap();
        (dir, store)
    }

    /// Setup (3 lines), open, `ballots` ballots, close, the tally, factors of trustees 2 then 3,
    /// `mix` shuffle chunks and the result: the tally at `3 + 1 + ballots + 1`.
    fn election_kinds(ballots: usize, mix: usize) -> Vec<(&'static str, u32)> {
        let mut k = vec![
            ("header", 0),
            ("manifest", 0),
            ("credential", 0),
            ("open", 0),
        ];
        k.extend(std::iter::repeat_n(("ballot", 0), ballots));
        k.extend([
            ("close", 0),
            ("tally", 0),
            ("partial_decryption", 2),
            ("partial_decryption", 3),
        ]);
        k.extend(std::iter::repeat_n(("shuffle_chunk", 0), mix));
        k.push(("result", 0));
        k
    }

    #[test]
    fn finds_the_tally_and_its_factors_behind_ballots_and_mix_lines_at_every_board_size() {
        let (ballots, mix) = (1000, 300);
        let kinds = election_kinds(ballots, mix);
        let (_dir, store) = board(&kinds);
        let tally = (3 + 1 + ballots + 1) as u64;
        let full = kinds.len() as u64;
        let found = find_tally(&store, "e", 3, full).unwrap();
        assert_eq!(
            found,
            Some(TallyCounts {
                seq: tally,
                ballots: 7,
                total_weight: 9
            })
        );
        // The board as it stood before the tally, then right after it.
        assert_eq!(find_tally(&store, "e", 3, tally).unwrap(), None);
        assert_eq!(find_tally(&store, "e", 3, tally + 1).unwrap(), found);

        let progress = |size: u64, published: bool| {
            decryption_progress(&store, "e", tally, 2, size, published).unwrap()
        };
        let shown = |trustees: Vec<u32>, reached: bool, result: bool| DecryptionProgress {
            trustees,
            needed: 2,
            threshold_reached: reached,
            result,
        };
        assert_eq!(progress(tally + 1, false), shown(vec![], false, false));
        assert_eq!(progress(tally + 2, false), shown(vec![2], false, false));
        assert_eq!(progress(tally + 3, false), shown(vec![2, 3], true, false));
        assert_eq!(
            progress(tally + 3 + 10, false),
            shown(vec![2, 3], true, false)
        );
        assert_eq!(progress(full, false), shown(vec![2, 3], true, true));
        assert_eq!(progress(tally + 2, true), shown(vec![2], false, true));
    }

    #[test]
    fn finds_the_tally_on_a_board_with_a_line_of_unknown_type() {
        // A line of a later stage than this server knows, where the bisection reads first: past
        // the tally, which the bisection must not take for a line before it.
        let mut kinds = election_kinds(10, 200);
        let first_probe = 3 + (kinds.len() - 3) / 2;
        assert_eq!(kinds[first_probe].0, "shuffle_chunk");
        kinds[first_probe] = ("from_a_newer_server", 0);
        let (_dir, store) = board(&kinds);
        let found = find_tally(&store, "e", 3, kinds.len() as u64).unwrap();
        assert_eq!(found.map(|t| t.seq), Some(3 + 1 + 10 + 1));
        assert_eq!(scan_tally(&store, "e", 3).unwrap(), found);
    }

    #[test]
    fn counts_from_the_kept_tally_without_reading_the_ballots_or_the_mix_lines() {
        // Every line but the tally and its factors is unreadable as a record line: reading the
        // board from its setup, or a tail of it reaching into the ballots or the mix lines,
        // fails, so what follows is read only from the tally's place.
        let (ballots, mix) = (300, 200);
        let kinds = election_kinds(ballots, mix);
        let (_dir, store) = board(&kinds);
        let tally = (3 + 1 + ballots + 1) as u64;
        let full = kinds.len() as u64;
        for unreadable in [tally - 1, tally - 2, tally + 3, full - 1] {
            let l = store.lines("e", unreadable, 1).unwrap();
            assert!(
                parse_line(unreadable + 1, &l[0].line).is_err(),
                "{unreadable}"
            );
        }
        let trustees = |c: &Counting| c.partials.iter().map(|p| p.trustee).collect::<Vec<_>>();

        let c = counting_at(&store, "e", tally, 2, tally + 1).unwrap();
        assert_eq!(
            c.tally.as_ref().map(|t| (t.ballots, t.total_weight)),
            Some((7, 9))
        );
        assert_eq!((trustees(&c), c.result), (vec![], false));
        let c = counting_at(&store, "e", tally, 2, tally + 2).unwrap();
        assert_eq!((trustees(&c), c.result), (vec![2], false));
        // The mix phase under way, then over: its lines are not parsed.
        for size in [tally + 3, tally + 4, tally + 3 + mix as u64] {
            let c = counting_at(&store, "e", tally, 2, size).unwrap();
            assert_eq!((trustees(&c), c.result), (vec![2, 3], false), "{size}");
        }
        let c = counting_at(&store, "e", tally, 2, full).unwrap();
        assert_eq!((trustees(&c), c.result), (vec![2, 3], true));
        // A place that is not the tally's is refused, not taken for it.
        assert!(counting_at(&store, "e", tally - 1, 2, full).is_err());
        assert!(counting_at(&store, "e", tally + 1, 2, full).is_err());
    }

    #[test]
    fn the_result_is_read_from_the_last_line_without_parsing_it() {
        let kinds = election_kinds(20, 50);
        let (_dir, store) = board(&kinds);
        let full = kinds.len() as u64;
        assert!(result_on_board(&store, "e", full).unwrap());
        // Unparseable as a result: only its type was read.
        let last = store.lines("e", full - 1, 1).unwrap();
        assert!(parse_line(full, &last[0].line).is_err());
        for size in [0, 1, full - 1, full - 2, full - 51] {
            assert!(!result_on_board(&store, "e", size).unwrap(), "{size}");
        }
    }
}
