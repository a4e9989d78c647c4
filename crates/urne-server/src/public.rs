//! Public endpoints: elections, casting ballots, the bulletin board and its proofs, the record,
//! health and metrics. Nothing here needs an account: the board is public by design.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use urne_board::{ElectionRow, Phase};
use urne_core::ballot::{Ballot, Tracker};
use urne_core::board::SignedTreeHead;
use urne_core::group::{b64_decode, b64_encode};
use urne_core::manifest::{Manifest, Timestamp};
use urne_core::tally::ElectionResult;
use urne_verify::record::{Entry, TreeHead, encode_line, parse_line};

use crate::commit::{Ack, Pending};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::{AppState, PUBLIC_PHASES};

/// An election as the public sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ElectionView {
    /// Its id.
    pub id: String,
    /// Its phase.
    pub phase: String,
    /// Its title.
    pub title: String,
    /// The manifest, once sealed.
    #[schema(value_type = Option<Object>)]
    pub manifest: Option<Manifest>,
    /// The manifest's fingerprint (base64url), once sealed.
    pub fingerprint: Option<String>,
    /// Lines on the board.
    pub board_size: u64,
    /// How voters say who they are before casting (docs/voters.md §3): the booth logs the
    /// voter in accordingly.
    pub voter_auth: crate::draft::VoterAuth,
    /// The result, once published.
    #[schema(value_type = Option<Object>)]
    pub result: Option<ElectionResult>,
    /// The mix phase's progress, once tallied, for an election with a ranked or graded
    /// question (spec §8.8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<crate::mix::MixProgress>,
    /// The voters registered and, once tallied, the ballots counted.
    pub turnout: Turnout,
    /// The trustees' decryption of the tally, once tallied (shown by `GET …/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decryption: Option<crate::trustees::DecryptionProgress>,
}

/// The turnout of an election, from its sealed credential list and its tally line: what the
/// results page shows without reading the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Turnout {
    /// Credentials on the sealed list, revoked ones left out (spec §5.5): one per voter.
    pub credentials: u64,
    /// Their total weight (`credentials` under equal weights).
    pub credentials_weight: u64,
    /// Ballots counted by the tally (the last of each credential, spec §8.2); `null` until
    /// the election is tallied.
    #[schema(required = true)]
    pub ballots: Option<u64>,
    /// Their total weight (the tally line's `total_weight`); `null` until the election is
    /// tallied.
    #[schema(required = true)]
    pub ballots_weight: Option<u64>,
}

fn public_row(row: &ElectionRow) -> bool {
    PUBLIC_PHASES.contains(&row.phase) && row.log_size > 0
}

/// The row of an election whose board is public, or 404 `no_board`.
async fn board_row(state: &AppState, id: &str) -> ApiResult<ElectionRow> {
    let row = state.row(id).await?;
    if !public_row(&row) {
        return Err(ApiError::not_found(
            "no_board",
            "the election's board is empty",
        ));
    }
    Ok(row)
}

/// `GET /api/v1/elections`: every election whose board is public.
#[utoipa::path(
    get,
    path = "/api/v1/elections",
    tag = "public",
    operation_id = "list_elections",
    responses(
        (status = 200, description = "Every election whose board is public (sealed), without manifests", body = Vec<ElectionView>),
    )
)]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<ElectionView>>> {
    let rows = state.blocking(|s| Ok(s.elections()?)).await?;
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| public_row(r)) {
        out.push(view(&state, row, false).await?);
    }
    Ok(Json(out))
}

async fn view(state: &AppState, row: &ElectionRow, full: bool) -> ApiResult<ElectionView> {
    let live = state.live(&row.id).await?;
    let manifest = live.election.manifest();
    let counted = crate::trustees::tally_counts(state, row, &live).await?;
    let result = if full && row.phase == Phase::Published {
        find_result(state, &row.id, live.sealed_size).await?
    } else {
        None
    };
    Ok(ElectionView {
        id: row.id.clone(),
        phase: row.phase.to_string(),
        title: manifest.title.clone(),
        manifest: full.then(|| manifest.clone()),
        fingerprint: Some(live.election.fingerprint().to_string()),
        board_size: row.log_size,
        voter_auth: live.voter_auth,
        result,
        mix: if full && row.phase >= Phase::Tallied {
            crate::mix::progress_of(state, &row.id).await?
        } else {
            None
        },
        turnout: Turnout {
            credentials: live.credentials.len() as u64,
            credentials_weight: live.credentials.total_weight(),
            ballots: counted.map(|t| t.ballots),
            ballots_weight: counted.map(|t| t.total_weight),
        },
        decryption: if full {
            crate::trustees::decryption_of(state, row, &live).await?
        } else {
            None
        },
    })
}

/// The result line of a board, if any (it is near the end: read from the last lines).
async fn find_result(state: &AppState, id: &str, from: u64) -> ApiResult<Option<ElectionResult>> {
    let id = id.to_owned();
    state
        .blocking(move |s| {
            let size = s.election(&id)?.map_or(0, |r| r.log_size);
            let start = size.saturating_sub(256).max(from);
            // The result is the last line; the mix phase's chunk lines before it are big, so
            // only result lines are parsed.
            let last = s.lines(&id, size.saturating_sub(1).max(from), 1)?;
            let tail = match last.first() {
                Some(l) if crate::trustees::line_kind(&l.line) == b"result" => last,
                _ => s.lines(&id, start, 256)?,
            };
            for l in tail.into_iter().rev() {
                if crate::trustees::line_kind(&l.line) != b"result" {
                    continue;
                }
                let line = parse_line(l.seq + 1, &l.line).map_err(ApiError::internal)?;
                if let Entry::Result(r) = line.entry {
                    return Ok(Some(*r));
                }
            }
            Ok(None)
        })
        .await
}

/// `GET /api/v1/elections/{id}`: one election with its manifest.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}",
    tag = "public",
    operation_id = "get_election",
    params(("id" = String, Path, description = "The election's id")),
    responses(
        (status = 200, description = "The election, with its manifest, its turnout, once tallied the trustees' decryption of the tally and, once published, its result", body = ElectionView),
        (status = 404, description = "No such election, or its board is not public yet (`no_election`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn election(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ElectionView>> {
    let row = state.row(&id).await?;
    if !public_row(&row) {
        return Err(ApiError::not_found(
            "no_election",
            format!("no election `{id}`"),
        ));
    }
    Ok(Json(view(&state, &row, true).await?))
}

/// `POST /api/v1/elections/{id}/ballots`: casts a ballot. Answers 201 with the acknowledgement
/// once the ballot is durably on the board (200 for a ballot already there).
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/ballots",
    tag = "ballots",
    operation_id = "cast_ballot",
    params(("id" = String, Path, description = "The election's id")),
    request_body(
        content = Object,
        content_type = "application/json",
        description = "A ballot (docs/spec.md §7), encrypted, proved and signed on the voter's device; at most `max_ballot_bytes`"
    ),
    responses(
        (status = 201, description = "The ballot is durably on the board", body = Ack),
        (status = 200, description = "The same ballot was on the board already: its first acknowledgement", body = Ack),
        (status = 400, description = "The body is not a ballot (`bad_json`, `bad_ballot`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "The election wants voters to log in, and the request has no valid voter session (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "The logged-in voter voted with another credential, or the credential was used by another voter (`identity_has_credential`, `credential_of_another_voter`), or the voter's session cookie came with a request from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not accepting ballots (`election_not_open`, `election_closed`), or the credential has voted in an election without revoting (`credential_used`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_ballot_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "The ballot fails a check (`wrong_election`, `unknown_credential`, `invalid_ballot`); `field` names the part at fault", body = crate::openapi::ErrorBody),
        (status = 503, description = "The server is shutting down (`unavailable`): submit again", body = crate::openapi::ErrorBody),
    )
)]
pub async fn cast(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let arrived = Instant::now();
    let submitted = match body {
        Ok(body) => submit(&state, &id, body, arrived, &method, &headers).await,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "a ballot is at most {} bytes",
                state.config.max_ballot_bytes
            ),
        )),
        Err(r) => Err(ApiError::new(r.status(), "bad_body", r.body_text())),
    };
    let answer = match submitted {
        Ok(answer) => answer,
        Err(e) => {
            state.metrics.reject(e.code);
            return e.into_response();
        }
    };
    // The commit stages count their own rejections.
    match answer.await {
        Ok(Ok(ack)) => {
            let status = if ack.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (status, Json(ack)).into_response()
        }
        Ok(Err(e)) => e.into_response(),
        Err(_) => {
            let e = ApiError::unavailable("the server is shutting down; submit again");
            state.metrics.reject(e.code);
            e.into_response()
        }
    }
}

/// Reads the body of `POST /api/v1/elections/{id}/ballots` as a ballot, exactly as the handler
/// does: UTF-8 text holding one ballot in JSON. A body that is not UTF-8 or not well-formed JSON
/// is `bad_json` (400); well-formed JSON that is not a ballot is `bad_ballot` (400). Either names
/// the field where it went wrong, when there is one. The size limit (`max_ballot_bytes`) is
/// enforced before, by the router.
pub fn parse_ballot_body(body: &[u8]) -> Result<Ballot, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("the body is not UTF-8: {e}")))?;
    Ballot::from_json(text).map_err(|e| {
        // Only a failing body is read again, to tell broken JSON from JSON of the wrong shape.
        let code = if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            "bad_ballot"
        } else {
            "bad_json"
        };
        let err = ApiError::bad_request(code, e.message.clone());
        if matches!(e.path.as_str(), "" | "." | "?") {
            err
        } else {
            err.field(e.path.clone())
        }
    })
}

/// Checks what can be checked before the group commit and hands the ballot to it; the answer
/// comes on the returned channel.
async fn submit(
    state: &AppState,
    id: &str,
    body: Bytes,
    arrived: Instant,
    method: &axum::http::Method,
    headers: &axum::http::HeaderMap,
) -> ApiResult<oneshot::Receiver<ApiResult<Ack>>> {
    let ballot = parse_ballot_body(&body)?;
    let live = match state.live(id).await {
        Ok(l) => l,
        Err(e) if e.code == "not_sealed" => {
            return Err(ApiError::conflict(
                "election_not_open",
                "the election is not open",
            ));
        }
        Err(e) => return Err(e),
    };
    let manifest = live.election.manifest();
    let now = crate::clock::now();
    if now < manifest.opens_at.unix() {
        return Err(ApiError::conflict(
            "election_not_open",
            format!("voting opens at {}", manifest.opens_at),
        ));
    }
    if now > manifest.closes_at.unix() {
        return Err(ApiError::conflict(
            "election_closed",
            format!("voting closed at {}", manifest.closes_at),
        ));
    }
    if ballot.election != *live.election.fingerprint() {
        return Err(ApiError::invalid(
            "wrong_election",
            "V-6: the ballot is for another election (its fingerprint differs)",
        )
        .field("election"));
    }
    if live.credentials.get(&ballot.credential).is_none() {
        return Err(ApiError::invalid(
            "unknown_credential",
            "V-7: the ballot's credential is not in the election's credential list",
        )
        .field("credential"));
    }
    let voter = crate::voters::voter_of(state, id, live.voter_auth, method, headers).await?;
    let (reply, answer) = oneshot::channel();
    let pending = Pending {
        tracker: ballot.tracker(),
        json: ballot.to_json(),
        ballot,
        arrived,
        voter,
        reply,
    };
    live.committer
        .send(pending)
        .await
        .map_err(|_| ApiError::unavailable("the server is shutting down; submit again"))?;
    Ok(answer)
}

/// Where a ballot is on the board, with a proof against a signed tree head.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BallotLocation {
    /// The tracker.
    pub tracker: String,
    /// The line's position.
    pub seq: u64,
    /// The line's leaf hash (base64url).
    pub leaf: String,
    /// The line itself.
    pub line: String,
    /// The proof that the line is in the tree of `head`.
    pub inclusion: Vec<String>,
    /// The signed tree head the proof is for.
    #[schema(value_type = Object)]
    pub head: SignedTreeHead,
}

/// `GET /api/v1/elections/{id}/ballots/{tracker}`: finds a ballot by its tracker, with its
/// inclusion proof in the latest signed tree head.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/ballots/{tracker}",
    tag = "ballots",
    operation_id = "find_ballot",
    params(
        ("id" = String, Path, description = "The election's id"),
        ("tracker" = String, Path, description = "The ballot's tracker (base64url of 32 bytes)", pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"),
    ),
    responses(
        (status = 200, description = "Where the ballot is, with its inclusion proof in the latest signed tree head", body = BallotLocation),
        (status = 400, description = "Not a tracker (`bad_tracker`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election or ballot (`no_election`, `no_ballot`, `no_board`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn ballot(
    State(state): State<AppState>,
    Path((id, tracker)): Path<(String, String)>,
) -> ApiResult<Json<BallotLocation>> {
    let bytes = b64_decode(&tracker)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            ApiError::bad_request("bad_tracker", "a tracker is 32 bytes in base64url")
                .field("tracker")
        })?;
    let key = id.clone();
    let seq = state
        .blocking(move |s| Ok(s.tracker_seq(&key, &bytes)?))
        .await?
        .ok_or_else(|| ApiError::not_found("no_ballot", "no ballot with this tracker"))?;
    let head = signed_head(&state, &id).await?;
    let (leaf, line, path) = inclusion_at(&state, &id, seq, head.size).await?;
    Ok(Json(BallotLocation {
        tracker: Tracker(bytes).to_string(),
        seq,
        leaf,
        line,
        inclusion: path,
        head,
    }))
}

async fn inclusion_at(
    state: &AppState,
    id: &str,
    seq: u64,
    size: u64,
) -> ApiResult<(String, String, Vec<String>)> {
    let live = state.live(id).await?;
    let key = id.to_owned();
    let l2 = live.clone();
    let line = state
        .blocking(move |s| {
            l2.sync_tree(s, size)?;
            Ok(s.lines(&key, seq, 1)?)
        })
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("no_line", format!("no line {seq}")))?;
    let tree = live
        .tree
        .read()
        .map_err(|_| ApiError::internal("tree lock poisoned"))?;
    let path = tree.inclusion(seq, size).ok_or_else(|| {
        ApiError::bad_request(
            "bad_range",
            format!("line {seq} is not in a tree of {size}"),
        )
    })?;
    let leaf = urne_verify::merkle::leaf_hash(&line.line);
    Ok((
        b64_encode(&leaf),
        String::from_utf8_lossy(&line.line).into_owned(),
        path.iter().map(|h| b64_encode(h)).collect(),
    ))
}

/// The latest signed tree head of a board, signing a new one when the board has grown.
pub async fn signed_head(state: &AppState, id: &str) -> ApiResult<SignedTreeHead> {
    let row = board_row(state, id).await?;
    let live = state.live(id).await?;
    let key = id.to_owned();
    let latest = state
        .blocking(move |s| Ok(s.tree_head(&key, None)?))
        .await?;
    if let Some(h) = latest.filter(|h| h.size >= row.log_size) {
        return SignedTreeHead::from_json(&h.body).map_err(ApiError::internal);
    }
    let at = Timestamp::from_unix(crate::clock::now().max(row.last_at))
        .ok_or_else(|| ApiError::internal("clock out of range"))?;
    let head = state.board_key.sign_tree_head(
        &mut rand::rng(),
        live.election.fingerprint(),
        row.log_size,
        row.root,
        at,
    );
    let stored = urne_board::TreeHeadRow {
        size: head.size,
        body: head.to_json(),
    };
    let key = id.to_owned();
    // The store keeps the first head signed for a size: answer with what it holds.
    let kept = state
        .blocking(move |s| {
            s.put_tree_head(&key, &stored)?;
            Ok(s.tree_head(&key, Some(stored.size))?)
        })
        .await?;
    match kept {
        Some(h) => SignedTreeHead::from_json(&h.body).map_err(ApiError::internal),
        None => Ok(head),
    }
}

/// `GET /api/v1/elections/{id}/board/head`: the latest signed tree head.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/board/head",
    tag = "board",
    operation_id = "board_head",
    params(("id" = String, Path, description = "The election's id")),
    responses(
        (status = 200, description = "The latest signed tree head (a new one is signed when the board has grown)", body = crate::openapi::SignedTreeHeadDoc),
        (status = 404, description = "No such election, or its board is empty (`no_election`, `no_board`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn head(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SignedTreeHead>> {
    Ok(Json(signed_head(&state, &id).await?))
}

/// Query of an inclusion proof.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SizeQuery {
    /// The tree size (default: the latest signed head's).
    pub size: Option<u64>,
}

/// An inclusion proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InclusionView {
    /// The line's position.
    pub seq: u64,
    /// The tree size.
    pub size: u64,
    /// The line's leaf hash.
    pub leaf: String,
    /// The line.
    pub line: String,
    /// The audit path, leaf to root (base64url hashes).
    pub path: Vec<String>,
}

/// `GET /api/v1/elections/{id}/board/inclusion/{seq}?size=N`: proof that line `seq` is in the
/// tree of size N.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/board/inclusion/{seq}",
    tag = "board",
    operation_id = "board_inclusion",
    params(
        ("id" = String, Path, description = "The election's id"),
        ("seq" = u64, Path, description = "The line's position, from 0"),
        SizeQuery,
    ),
    responses(
        (status = 200, description = "Proof that line `seq` is in the tree of `size` lines", body = InclusionView),
        (status = 400, description = "Not `seq < size ≤` the board's size (`bad_range`), or not numbers (`bad_path`, `bad_query`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election, or its board is empty (`no_election`, `no_board`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn inclusion(
    State(state): State<AppState>,
    Path((id, seq)): Path<(String, u64)>,
    Query(q): Query<SizeQuery>,
) -> ApiResult<Json<InclusionView>> {
    let size = match q.size {
        Some(s) => s,
        None => signed_head(&state, &id).await?.size,
    };
    let row = state.row(&id).await?;
    if size > row.log_size || seq >= size {
        return Err(ApiError::bad_request(
            "bad_range",
            format!("need seq < size ≤ {} (the board's size)", row.log_size),
        ));
    }
    let (leaf, line, path) = inclusion_at(&state, &id, seq, size).await?;
    Ok(Json(InclusionView {
        seq,
        size,
        leaf,
        line,
        path,
    }))
}

/// Query of a consistency proof.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConsistencyQuery {
    /// The older size.
    pub from: u64,
    /// The newer size (default: the latest signed head's).
    pub to: Option<u64>,
}

/// A consistency proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsistencyView {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// The proof (base64url hashes).
    pub path: Vec<String>,
}

/// `GET /api/v1/elections/{id}/board/consistency?from=M&to=N`: proof that the tree of size N
/// extends the tree of size M.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/board/consistency",
    tag = "board",
    operation_id = "board_consistency",
    params(
        ("id" = String, Path, description = "The election's id"),
        ConsistencyQuery,
    ),
    responses(
        (status = 200, description = "Proof that the tree of `to` lines extends the tree of `from` lines", body = ConsistencyView),
        (status = 400, description = "Not `from ≤ to ≤` the board's size (`bad_range`), or not numbers (`bad_path`, `bad_query`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election, or its board is empty (`no_election`, `no_board`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn consistency(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyView>> {
    let to = match q.to {
        Some(t) => t,
        None => signed_head(&state, &id).await?.size,
    };
    let row = state.row(&id).await?;
    if to > row.log_size || q.from > to {
        return Err(ApiError::bad_request(
            "bad_range",
            format!("need from ≤ to ≤ {} (the board's size)", row.log_size),
        ));
    }
    let live = state.live(&id).await?;
    let l2 = live.clone();
    state.blocking(move |s| l2.sync_tree(s, to)).await?;
    let tree = live
        .tree
        .read()
        .map_err(|_| ApiError::internal("tree lock poisoned"))?;
    let path = tree
        .consistency(q.from, to)
        .ok_or_else(|| ApiError::bad_request("bad_range", "no proof between these sizes"))?;
    Ok(Json(ConsistencyView {
        from: q.from,
        to,
        path: path.iter().map(|h| b64_encode(h)).collect(),
    }))
}

/// Query of a range of lines.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LinesQuery {
    /// First line (default 0).
    #[serde(default)]
    pub from: u64,
    /// Most lines (default and maximum 10,000).
    pub limit: Option<u64>,
}

/// `GET /api/v1/elections/{id}/board/lines?from=&limit=`: lines of the board, as JSON Lines.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/board/lines",
    tag = "board",
    operation_id = "board_lines",
    params(
        ("id" = String, Path, description = "The election's id"),
        LinesQuery,
    ),
    responses(
        (status = 200, description = "Lines of the board, one JSON object per line (docs/record.md)", content_type = "application/jsonl", body = String),
        (status = 400, description = "A query parameter that is not a number (`bad_query`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election, or its board is empty (`no_election`, `no_board`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn lines(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LinesQuery>,
) -> ApiResult<Response> {
    board_row(&state, &id).await?;
    let limit = q.limit.unwrap_or(10_000).min(10_000);
    let from = q.from;
    let lines = state
        .blocking(move |s| Ok(s.lines(&id, from, limit)?))
        .await?;
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(&l.line);
        out.push(b'\n');
    }
    Ok(jsonl(Body::from(out)))
}

fn jsonl(body: Body) -> Response {
    let mut r = Response::new(body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jsonl; charset=utf-8"),
    );
    r
}

/// `GET /api/v1/elections/{id}/record`: the whole record (docs/record.md) as it stands, ending
/// with its tree head. Streamed page by page.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/record",
    tag = "board",
    operation_id = "election_record",
    params(("id" = String, Path, description = "The election's id")),
    responses(
        (status = 200, description = "The whole election record as it stands (docs/record.md), ending with its tree head; `urne verify` checks it", content_type = "application/jsonl", body = String),
        (status = 404, description = "No such election, or its board is empty (`no_election`, `no_board`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn record(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let row = board_row(&state, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut from = 0;
        while from < row.log_size {
            let page = match store.lines(&row.id, from, 4096.min(row.log_size - from)) {
                Ok(p) if !p.is_empty() => p,
                Ok(_) => break,
                Err(e) => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
            };
            from += page.len() as u64;
            let mut buf = Vec::with_capacity(page.iter().map(|l| l.line.len() + 1).sum());
            for l in page {
                buf.extend_from_slice(&l.line);
                buf.push(b'\n');
            }
            if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                return;
            }
        }
        let head = Entry::TreeHead(TreeHead {
            size: row.log_size,
            root: row.root,
        });
        let mut last = encode_line(row.log_size, &head).0;
        last.push(b'\n');
        let _ = tx.blocking_send(Ok(Bytes::from(last)));
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok(jsonl(Body::from_stream(stream)))
}

/// Health of the server and its database.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// The storage backend.
    pub backend: &'static str,
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "public",
    operation_id = "healthz",
    responses(
        (status = 200, description = "The server and its database answer", body = Health),
        (status = 503, description = "The database does not answer (`unavailable`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let backend = state.store.backend();
    match state.blocking(|s| Ok(s.ping()?)).await {
        Ok(()) => Json(Health {
            status: "ok",
            backend,
        })
        .into_response(),
        Err(_) => ApiError::unavailable("the database does not answer").into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "public",
    operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus metrics in the OpenMetrics text format", content_type = "application/openmetrics-text", body = String),
    )
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut r = Response::new(Body::from(state.metrics.render()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// `GET /api/v1/openapi.json`: this API's description.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "public",
    operation_id = "openapi",
    responses(
        (status = 200, description = "This API's OpenAPI 3.1 description (docs/openapi.json)", body = Object),
    )
)]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::spec())
}
