//! Voters (docs/voters.md): the roll, voters' logins, the one credential each identity may use,
//! who voted, and the deletion of their personal data once the retention period is over.
//!
//! A voter proves two things, separately. Holding a credential makes a ballot eligible (the
//! signature, spec §7.3); the server never sees the credential. Logging in (a one-time code
//! mailed to the roll's address, or the organisation's OpenID Connect provider) says who the
//! voter is. When a logged-in voter's ballot passes its checks, the server links the identity
//! to the ballot's public credential: an identity votes with one credential only, and a
//! credential is used by one identity only. That link and the list of who voted are personal
//! data: they never go on the board, and they are deleted with the roll after the retention
//! period.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use urne_board::{Append, CodeCheck, Item, LinkOutcome, Phase, RollStats, VoterRow};
use urne_core::credential::{Credential, PublicCredential};
use urne_core::group::Point;
use urne_mail::{Content, Letter};
use urne_verify::record::{CredentialEntry, Entry, Revocation, encode_line};
use zeroize::Zeroizing;

use crate::AppState;
use crate::admin::record_audit;
use crate::auth::{self, Admin};
use crate::draft::{StoredConfig, VotedList, VoterAuth};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};

/// The voter session cookie's name.
pub const COOKIE: &str = "urne_voter";

/// The largest page of the roll an administrator gets at once.
const MAX_PAGE: u64 = 1000;

/// Errors listed in an answer about a roll (the first ones, in order of lines).
const MAX_LISTED_ERRORS: usize = 1000;

// --- the roll ---

/// How a roll upload is read and whether it is stored.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RollQuery {
    /// Check and preview only: nothing is stored.
    #[serde(default)]
    pub dry_run: bool,
    /// `csv` or `json`; by default from the `Content-Type` (`text/csv` or `application/json`).
    pub format: Option<String>,
}

/// One problem of a roll, with its line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RollProblem {
    /// The line of the file, from 1 (the header of a CSV file is line 1).
    pub line: u64,
    /// The column or key at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// What a roll upload found, and whether it was stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RollAnswer {
    /// Whether the roll has no error.
    pub valid: bool,
    /// Whether it was stored (never with an error, never on a dry run).
    pub imported: bool,
    /// Number of voters.
    pub voters: u64,
    /// Sum of their weights.
    pub total_weight: u64,
    /// Whether some weight differs from 1.
    pub weighted: bool,
    /// Voters per language named in the roll.
    pub languages: std::collections::BTreeMap<String, u64>,
    /// The first voters, to check the columns were read as meant.
    #[schema(value_type = Vec<Object>)]
    pub sample: Vec<urne_roll::Voter>,
    /// Things that do not stop the import but deserve a look (shared addresses).
    pub warnings: Vec<RollProblem>,
    /// Every error, by line (the first 1000).
    pub errors: Vec<RollProblem>,
    /// How many more errors there are beyond those listed.
    pub more_errors: u64,
}

fn roll_format(q: &RollQuery, headers: &HeaderMap) -> ApiResult<urne_roll::Format> {
    let named = match q.format.as_deref() {
        Some("csv") => return Ok(urne_roll::Format::Csv),
        Some("json") => return Ok(urne_roll::Format::Json),
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_query",
                format!("`{other}` is not a roll format: `csv` or `json`"),
            )
            .field("format"));
        }
        None => headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase(),
    };
    if named.starts_with("text/csv") {
        Ok(urne_roll::Format::Csv)
    } else if named.starts_with("application/json") {
        Ok(urne_roll::Format::Json)
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_content_type",
            "send the roll as text/csv or application/json, or say ?format=csv or ?format=json",
        ))
    }
}

/// Reads a roll and checks it against the election's draft; returns the answer and, when it
/// is valid, the rows to store.
fn read_roll(
    body: &[u8],
    format: urne_roll::Format,
    config: &StoredConfig,
) -> (RollAnswer, Option<Vec<VoterRow>>) {
    let problem = |line: u64, field: Option<String>, message: String| RollProblem {
        line,
        field,
        message,
    };
    match urne_roll::parse(body, format) {
        Err(e) => {
            let errors: Vec<RollProblem> = e
                .errors
                .iter()
                .take(MAX_LISTED_ERRORS)
                .map(|r| problem(r.line, r.field.clone(), r.kind.to_string()))
                .collect();
            let more = e.more + (e.errors.len().saturating_sub(errors.len())) as u64;
            (
                RollAnswer {
                    valid: false,
                    imported: false,
                    voters: 0,
                    total_weight: 0,
                    weighted: false,
                    languages: Default::default(),
                    sample: vec![],
                    warnings: vec![],
                    errors,
                    more_errors: more,
                },
                None,
            )
        }
        Ok(roll) => {
            let preview = roll.preview();
            let mut errors = vec![];
            if preview.weighted && config.draft.weights == urne_core::manifest::WeightPolicy::Equal
            {
                errors.push(problem(
                    1,
                    Some("weight".into()),
                    "the roll gives weights other than 1, but the election counts every vote \
                     equally: set the draft's `weights` to `weighted`, or remove the weights"
                        .into(),
                ));
            }
            let warnings = preview
                .warnings
                .iter()
                .map(|w| problem(w.line, w.field.clone(), w.message.clone()))
                .collect();
            let answer = RollAnswer {
                valid: errors.is_empty(),
                imported: false,
                voters: preview.voters,
                total_weight: preview.total_weight,
                weighted: preview.weighted,
                languages: preview.languages.clone(),
                sample: preview.sample.clone(),
                warnings,
                errors,
                more_errors: 0,
            };
            let rows = answer.valid.then(|| {
                roll.voters
                    .into_iter()
                    .map(|v| VoterRow {
                        voter: v.id,
                        email: v.email,
                        name: v.name,
                        weight: v.weight,
                        lang: v.lang.map(|l| l.as_str().to_owned()),
                        credential: None,
                        voted_at: None,
                    })
                    .collect()
            });
            (answer, rows)
        }
    }
}

/// `PUT /api/v1/admin/elections/{id}/roll`: checks a voter roll and, unless it is a dry run
/// or has an error, replaces the election's roll with it (drafts only).
#[utoipa::path(
    put,
    path = "/api/v1/admin/elections/{id}/roll",
    tag = "voters",
    operation_id = "admin_upload_roll",
    summary = "Checks and imports the voter roll (CSV or JSON)",
    params(("id" = String, Path, description = "The election's id"), RollQuery),
    request_body(content = String, content_type = "text/csv", description = "The roll: a header line naming the columns `id`, `email` and optionally `weight`, `name`, `lang`, then one voter per line (docs/voters.md §1); or, as application/json, an array of objects with those keys"),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The roll's preview, its warnings and errors; `imported` says whether it was stored", body = RollAnswer),
        (status = 400, description = "A bad query (`bad_query`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The election is not a draft (`wrong_phase`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 415, description = "Neither CSV nor JSON (`bad_content_type`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "The roll has errors (`bad_roll`): `details` lists them by line, and nothing was stored", body = crate::openapi::ErrorBody),
    )
)]
pub async fn upload_roll(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<RollQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<RollAnswer>> {
    let format = roll_format(&q, &headers)?;
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    let row = state.row(&id).await?;
    let config = StoredConfig::from_json(&row.config)?;
    let (mut answer, rows) = tokio::task::spawn_blocking(move || read_roll(&body, format, &config))
        .await
        .map_err(ApiError::internal)?;
    if q.dry_run {
        return Ok(Json(answer));
    }
    let Some(rows) = rows else {
        let first = answer.errors.first().cloned();
        let total = answer.errors.len() as u64 + answer.more_errors;
        let mut e = ApiError::invalid(
            "bad_roll",
            match &first {
                Some(p) => format!(
                    "{total} error(s) in the roll, nothing imported; the first, on line {}: {}",
                    p.line, p.message
                ),
                None => "the roll has errors; nothing imported".to_owned(),
            },
        )
        .details(serde_json::to_value(&answer.errors).map_err(ApiError::internal)?);
        if let Some(p) = first {
            e = e.field(format!("line {}", p.line));
        }
        return Err(e);
    };
    if row.phase != Phase::Draft {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!(
                "the roll can be changed while the election is a draft; it is {}",
                row.phase
            ),
        ));
    }
    let key = id.clone();
    let count = state
        .blocking(move |s| Ok(s.replace_roll(&key, &[Phase::Draft], &rows, crate::clock::now())?))
        .await?;
    answer.imported = true;
    record_audit(
        &state,
        &admin.name,
        Some(&id),
        "election.roll",
        serde_json::json!({ "voters": count, "total_weight": answer.total_weight }),
    )
    .await?;
    Ok(Json(answer))
}

/// A page of the roll.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RollPageQuery {
    /// The last voter identifier of the previous page.
    pub after: Option<String>,
    /// At most this many voters (default and maximum 1000).
    pub limit: Option<u64>,
}

/// One voter, as administrators see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RollVoter {
    /// The roll's identifier.
    pub voter: String,
    /// Address.
    pub email: String,
    /// Name, if the roll gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Votes the voter's credential carries.
    pub weight: u64,
    /// Language of the messages, if the roll gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Whether the voter has voted.
    pub voted: bool,
}

/// A page of the roll, with the roll's counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RollPage {
    /// Voters in the roll.
    pub voters_total: u64,
    /// Sum of their weights.
    pub total_weight: u64,
    /// Voters who voted.
    pub voted: u64,
    /// The page.
    pub voters: Vec<RollVoter>,
    /// The `after` of the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /api/v1/admin/elections/{id}/roll`: the roll, page by page.
#[utoipa::path(
    get,
    path = "/api/v1/admin/elections/{id}/roll",
    tag = "voters",
    operation_id = "admin_get_roll",
    summary = "Shows the voter roll, page by page",
    params(("id" = String, Path, description = "The election's id"), RollPageQuery),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "A page of the roll", body = RollPage),
        (status = 400, description = "A bad query (`bad_query`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn roll_page(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<RollPageQuery>,
) -> ApiResult<Json<RollPage>> {
    state.row(&id).await?;
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    state
        .blocking(move |s| {
            let stats: RollStats = s.roll_stats(&id)?;
            let rows = s.roll(&id, q.after.as_deref(), limit)?;
            let next = (rows.len() as u64 == limit)
                .then(|| rows.last().map(|r| r.voter.clone()))
                .flatten();
            Ok(RollPage {
                voters_total: stats.voters,
                total_weight: stats.total_weight,
                voted: stats.voted,
                voters: rows
                    .into_iter()
                    .map(|r| RollVoter {
                        voted: r.voted_at.is_some(),
                        voter: r.voter,
                        email: r.email,
                        name: r.name,
                        weight: r.weight,
                        lang: r.lang,
                    })
                    .collect(),
                next,
            })
        })
        .await
        .map(Json)
}

// --- who voted ---

/// The voters who voted, by identifier (not in the order they voted).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VotedView {
    /// Their identifiers, sorted.
    pub voters: Vec<String>,
}

async fn voted_list(state: &AppState, id: String) -> ApiResult<VotedView> {
    state
        .blocking(move |s| {
            Ok(VotedView {
                voters: s.voted(&id)?,
            })
        })
        .await
}

/// `GET /api/v1/admin/elections/{id}/voted`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/elections/{id}/voted",
    tag = "voters",
    operation_id = "admin_voted",
    summary = "Lists the voters who voted",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Who voted, sorted by identifier; never linked to ballots", body = VotedView),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn admin_voted(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<VotedView>> {
    state.row(&id).await?;
    voted_list(&state, id).await.map(Json)
}

/// `GET /api/v1/elections/{id}/voted`: who voted, when the election makes it public.
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/voted",
    tag = "voters",
    operation_id = "voted",
    params(("id" = String, Path, description = "The election's id")),
    responses(
        (status = 200, description = "Who voted, sorted by identifier; never linked to ballots", body = VotedView),
        (status = 403, description = "The election keeps this list for its administrators (`not_public`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn public_voted(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<VotedView>> {
    let row = state.row(&id).await?;
    let config = StoredConfig::from_json(&row.config)?;
    if row.phase == Phase::Draft || config.draft.voted_list != VotedList::Public {
        return Err(ApiError::forbidden(
            "not_public",
            "this election's list of who voted is for its administrators",
        ));
    }
    voted_list(&state, id).await.map(Json)
}

// --- logins ---

/// Which voter asks for a code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The voter's identifier, as in the mail that brought the credential.
    pub voter: String,
}

/// The answer to a code request: the same whether or not the identifier is in the roll.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CodeSent {
    /// What happens now.
    pub message: String,
    /// How long the code is valid, in minutes.
    pub minutes: u32,
}

fn login_config(config: &StoredConfig, wanted: VoterAuth) -> ApiResult<()> {
    if config.draft.voter_auth != wanted {
        let how = match config.draft.voter_auth {
            VoterAuth::EmailCode => "with a code sent by email",
            VoterAuth::Oidc => "through the organisation's identity provider",
            VoterAuth::None => "not at all: the credential is enough",
        };
        return Err(ApiError::conflict(
            "wrong_login",
            format!("voters of this election log in {how}"),
        ));
    }
    Ok(())
}

async fn open_for_login(state: &AppState, id: &str) -> ApiResult<StoredConfig> {
    let row = state.row(id).await?;
    if !matches!(row.phase, Phase::Setup | Phase::Open) || row.log_size == 0 {
        return Err(ApiError::conflict(
            "election_not_open",
            format!("the election is {}: voters cannot log in", row.phase),
        ));
    }
    StoredConfig::from_json(&row.config)
}

/// The stored form of a one-time code: bound to the election and the voter.
fn code_hash(id: &str, voter: &str, code: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"urne/v1/server/voter-code\0");
    for part in [id, voter, code] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// Six uniform decimal digits.
fn new_code() -> ApiResult<zeroize::Zeroizing<String>> {
    loop {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(|e| ApiError::internal(format!("randomness: {e}")))?;
        let v = u32::from_le_bytes(b);
        // Reject the top of the range so that every code is equally likely.
        if v < u32::MAX - u32::MAX % 1_000_000 {
            return Ok(zeroize::Zeroizing::new(format!("{:06}", v % 1_000_000)));
        }
    }
}

/// `POST /api/v1/elections/{id}/voter/code`: mails a one-time login code to a voter.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/voter/code",
    tag = "voters",
    operation_id = "voter_request_code",
    params(("id" = String, Path, description = "The election's id")),
    request_body = CodeRequest,
    responses(
        (status = 202, description = "If the identifier is in the roll, a code is on its way to the voter's address (the answer is the same either way)", body = CodeSent),
        (status = 400, description = "The body is not JSON (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not accepting logins, or logins of another kind (`election_not_open`, `wrong_login`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a code request (`bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn request_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<CodeRequest>,
) -> ApiResult<(StatusCode, Json<CodeSent>)> {
    let config = open_for_login(&state, &id).await?;
    login_config(&config, VoterAuth::EmailCode)?;
    let minutes = state.config.voters.code_minutes.max(1);
    let answer = CodeSent {
        message: "if this identifier is in the roll, a code was mailed to its address".into(),
        minutes,
    };
    let (key, voter) = (id.clone(), req.voter.clone());
    let Some(row) = state.blocking(move |s| Ok(s.voter(&key, &voter)?)).await? else {
        return Ok((StatusCode::ACCEPTED, Json(answer)));
    };
    let code = new_code()?;
    let hash = code_hash(&id, &row.voter, &code);
    let now = crate::clock::now();
    let (key, voter) = (id.clone(), row.voter.clone());
    let per_hour = state.config.voters.codes_per_hour.max(1);
    let stored = state
        .blocking(move |s| {
            Ok(s.put_code(
                &key,
                &voter,
                &hash,
                now + i64::from(minutes) * 60,
                now,
                per_hour,
            )?)
        })
        .await?;
    if !stored {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_codes",
            format!(
                "{per_hour} codes were sent to this voter in the last hour; use the latest one \
                 or wait"
            ),
        ));
    }
    crate::mailer::queue_code(&state, &id, &config, &row, code, minutes).await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// A voter's login with a code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeLogin {
    /// The voter's identifier.
    pub voter: String,
    /// The code from the mail.
    pub code: String,
}

/// A voter's session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VoterSession {
    /// The voter's identifier.
    pub voter: String,
    /// The session token: sent back as the `urne_voter` cookie, or as
    /// `Authorization: Bearer TOKEN` by programs.
    pub token: String,
    /// When the session ends (unix seconds).
    pub expires_at: i64,
}

/// Opens a voter's session; answers with its cookie.
pub async fn start_session(
    state: &AppState,
    id: &str,
    voter: &str,
) -> ApiResult<(HeaderMap, VoterSession)> {
    let token = auth::new_token()?;
    let hash = auth::token_hash(&token);
    let expires_at =
        crate::clock::now() + i64::from(state.config.voters.session_minutes.max(1)) * 60;
    let (key, who) = (id.to_owned(), voter.to_owned());
    state
        .blocking(move |s| Ok(s.create_voter_session(&hash, &key, &who, expires_at)?))
        .await?;
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/api/v1/elections/{id}; Max-Age={}{secure}",
        i64::from(state.config.voters.session_minutes.max(1)) * 60
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok((
        headers,
        VoterSession {
            voter: voter.to_owned(),
            token,
            expires_at,
        },
    ))
}

/// `POST /api/v1/elections/{id}/voter/login`: logs a voter in with a mailed code.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/voter/login",
    tag = "voters",
    operation_id = "voter_login",
    params(("id" = String, Path, description = "The election's id")),
    request_body = CodeLogin,
    responses(
        (status = 200, description = "Logged in: the session (also set as the `urne_voter` cookie)", body = VoterSession),
        (status = 400, description = "The body is not JSON (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "The code is wrong, expired, used, or was tried too often (`bad_code`, `code_expired`, `no_code`, `too_many_attempts`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not accepting logins, or logins of another kind (`election_not_open`, `wrong_login`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a login (`bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<CodeLogin>,
) -> ApiResult<Response> {
    let config = open_for_login(&state, &id).await?;
    login_config(&config, VoterAuth::EmailCode)?;
    let code = zeroize::Zeroizing::new(req.code.trim().to_owned());
    let hash = code_hash(&id, &req.voter, &code);
    let (key, voter) = (id.clone(), req.voter.clone());
    let attempts = state.config.voters.code_attempts.max(1);
    let check = state
        .blocking(move |s| Ok(s.check_code(&key, &voter, &hash, crate::clock::now(), attempts)?))
        .await?;
    let refuse = |code, message: &str| Err(ApiError::new(StatusCode::UNAUTHORIZED, code, message));
    match check {
        CodeCheck::Valid => {}
        CodeCheck::Wrong { remaining: 0 } => {
            return refuse(
                "bad_code",
                "the code is wrong, and it was the last try: ask another code",
            );
        }
        CodeCheck::Wrong { remaining } => {
            return refuse(
                "bad_code",
                &format!("the code is wrong; {remaining} tries left"),
            );
        }
        CodeCheck::Expired => return refuse("code_expired", "the code has expired; ask another"),
        CodeCheck::NoCode => return refuse("no_code", "no code is waiting: ask one first"),
        CodeCheck::TooManyAttempts => {
            return refuse(
                "too_many_attempts",
                "too many wrong tries; ask another code",
            );
        }
    }
    let (headers, session) = start_session(&state, &id, &req.voter).await?;
    Ok((headers, Json(session)).into_response())
}

/// `POST /api/v1/elections/{id}/voter/logout`.
#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/voter/logout",
    tag = "voters",
    operation_id = "voter_logout",
    params(("id" = String, Path, description = "The election's id")),
    responses(
        (status = 204, description = "Logged out (also when there was no session)"),
    )
)]
pub async fn logout(
    Path(id): Path<String>,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = voter_token(&headers) {
        let hash = auth::token_hash(&token);
        state
            .blocking(move |s| Ok(s.delete_voter_session(&hash)?))
            .await?;
    }
    let cookie =
        format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/api/v1/elections/{id}; Max-Age=0");
    let mut out = StatusCode::NO_CONTENT.into_response();
    out.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(out)
}

/// `GET /api/v1/elections/{id}/voter/oidc`: starts a login with the server's OpenID Connect
/// provider (a redirect to it).
#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/voter/oidc",
    tag = "voters",
    operation_id = "voter_oidc_start",
    params(("id" = String, Path, description = "The election's id")),
    responses(
        (status = 303, description = "To the identity provider, which sends the voter back to /api/v1/voter/oidc/callback"),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not accepting logins, logins of another kind, or no provider configured (`election_not_open`, `wrong_login`, `no_oidc`)", body = crate::openapi::ErrorBody),
        (status = 502, description = "The provider cannot be reached (`oidc_unavailable`)", body = crate::openapi::ErrorBody),
        (status = 503, description = "Too many logins at once (`unavailable`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn oidc_start(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let config = open_for_login(&state, &id).await?;
    login_config(&config, VoterAuth::Oidc)?;
    let client = state.oidc().await?;
    let (url, pending) = client.begin();
    state.keep_oidc_login(&id, pending)?;
    let mut out = StatusCode::SEE_OTHER.into_response();
    out.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&url).map_err(ApiError::internal)?,
    );
    Ok(out)
}

/// What the provider sends back.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OidcCallback {
    /// The authorization code.
    pub code: Option<String>,
    /// The login's state.
    pub state: Option<String>,
    /// The provider's refusal (`access_denied`, ...), instead of a code.
    pub error: Option<String>,
    /// Its explanation.
    pub error_description: Option<String>,
}

/// `GET /api/v1/voter/oidc/callback`: the provider sends the voter back here; the voter's
/// session starts, and the browser goes to the voting booth.
#[utoipa::path(
    get,
    path = "/api/v1/voter/oidc/callback",
    tag = "voters",
    operation_id = "voter_oidc_callback",
    params(OidcCallback),
    responses(
        (status = 303, description = "Logged in (the `urne_voter` cookie is set): to the election's booth"),
        (status = 401, description = "The provider refused, or the login is unknown, expired or does not check out (`oidc_refused`, `oidc_state`, `oidc_failed`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "The identity is not in the election's roll (`not_on_roll`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The election stopped accepting logins (`election_not_open`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn oidc_callback(
    State(state): State<AppState>,
    Query(q): Query<OidcCallback>,
) -> ApiResult<Response> {
    let unauthorized =
        |code, message: String| ApiError::new(StatusCode::UNAUTHORIZED, code, message);
    if let Some(error) = &q.error {
        // The provider's own words, cut short: they are shown, not trusted.
        let said: String = q
            .error_description
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let error: String = error
            .chars()
            .filter(char::is_ascii_graphic)
            .take(64)
            .collect();
        return Err(unauthorized(
            "oidc_refused",
            format!("the identity provider refused the login ({error}) {said}"),
        ));
    }
    let (Some(code), Some(login_state)) = (q.code.as_deref(), q.state.as_deref()) else {
        return Err(unauthorized(
            "oidc_failed",
            "the callback has no code or no state".into(),
        ));
    };
    let Some((id, pending)) = state.take_oidc_login(login_state) else {
        return Err(unauthorized(
            "oidc_state",
            "unknown or expired login: start again".into(),
        ));
    };
    let client = state.oidc().await?;
    let identity = client
        .finish(pending, code, login_state)
        .await
        .map_err(|e| unauthorized("oidc_failed", e.to_string()))?;
    let config = open_for_login(&state, &id).await?;
    login_config(&config, VoterAuth::Oidc)?;
    let key = id.clone();
    let value = identity.value.clone();
    let row = state
        .blocking(move |s| {
            if let Some(row) = s.voter(&key, &value)? {
                return Ok(Some(row));
            }
            // Addresses are compared without their case.
            let lower = value.to_lowercase();
            Ok(if lower != value {
                s.voter(&key, &lower)?
            } else {
                None
            })
        })
        .await?
        .ok_or_else(|| {
            ApiError::forbidden(
                "not_on_roll",
                "you are not on this election's roll of voters",
            )
        })?;
    let (headers, _) = start_session(&state, &id, &row.voter).await?;
    let mut out = StatusCode::SEE_OTHER.into_response();
    out.headers_mut().extend(headers);
    let booth = format!("{}/vote/{id}", crate::mailer::public_url(&state.config));
    out.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&booth).map_err(ApiError::internal)?,
    );
    Ok(out)
}

/// The voter token of a request: the `urne_voter` cookie or a bearer token.
fn voter_token(headers: &HeaderMap) -> Option<String> {
    if let Some(t) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(t.trim().to_owned());
    }
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some(v) = pair.trim().strip_prefix("urne_voter=") {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// The logged-in voter of a ballot submission, when the election wants one: `Ok(None)` for an
/// election without logins, the voter's identifier otherwise, or 401.
pub async fn voter_of(
    state: &AppState,
    id: &str,
    auth: VoterAuth,
    method: &axum::http::Method,
    headers: &HeaderMap,
) -> ApiResult<Option<String>> {
    if auth == VoterAuth::None {
        return Ok(None);
    }
    let Some(token) = voter_token(headers) else {
        return Err(ApiError::unauthorized(
            "log in first: this election wants voters to say who they are before casting",
        ));
    };
    if headers.get(header::AUTHORIZATION).is_none() {
        // The cookie travels by itself: refuse it on a request sent from another site.
        auth::check_same_site(method, headers)?;
    }
    let hash = auth::token_hash(&token);
    let now = crate::clock::now();
    let found = state
        .blocking(move |s| Ok(s.voter_session(&hash, now)?))
        .await?;
    match found {
        Some((election, voter)) if election == id => Ok(Some(voter)),
        Some(_) => Err(ApiError::unauthorized("this login is for another election")),
        None => Err(ApiError::unauthorized(
            "the login has expired; log in again",
        )),
    }
}

/// Links logged-in voters to the credentials of ballots that passed their checks (so each
/// voter proved to hold it), in one transaction: refuses a second credential for one
/// identity, or a second identity for one credential. One answer per link, in order.
pub fn link_all(
    store: &dyn urne_board::Store,
    id: &str,
    links: &[(&str, [u8; 32])],
) -> Vec<ApiResult<()>> {
    let outcomes = match store.link_credentials(id, links, crate::clock::now()) {
        Ok(o) => o,
        Err(e) => {
            let e = ApiError::from(e);
            return links.iter().map(|_| Err(e.clone())).collect();
        }
    };
    outcomes
        .into_iter()
        .map(|o| match o {
            LinkOutcome::Linked | LinkOutcome::Already => Ok(()),
            LinkOutcome::VoterHasOther => Err(ApiError::forbidden(
                "identity_has_credential",
                "you have already voted with another credential: each voter votes with the \
                 credential mailed to them only",
            )
            .field("credential")),
            LinkOutcome::CredentialTaken => Err(ApiError::forbidden(
                "credential_of_another_voter",
                "this credential was used by another voter",
            )
            .field("credential")),
        })
        .collect()
}

// --- credentials: replacement, and the weaker mode where the server mails them ---

/// A lost credential's replacement, as `urne credentials replace` writes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    /// The public credential revoked (the lost one).
    #[schema(value_type = String)]
    pub revoke: Point,
    /// The new public credential, with the same weight.
    #[schema(value_type = Object)]
    pub credential: PublicCredential,
    /// In the mode where the server mails credentials: the voter and the new credential's
    /// string, to mail it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub mail: Option<PrivateEntry>,
}

/// What a replacement wrote on the board.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Replaced {
    /// The `revocation` line's position; the replacement's `credential` line follows it.
    pub seq: u64,
    /// The board's size after them.
    pub board_size: u64,
    /// Whether the new credential was queued for mailing.
    pub mailed: bool,
}

/// `POST /api/v1/admin/elections/{id}/credentials/replace`: revokes a lost credential and lists
/// its replacement, on the board (spec §5.5), between sealing and opening.
#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/credentials/replace",
    tag = "voters",
    operation_id = "admin_replace_credential",
    summary = "Replaces a lost credential before voting opens",
    params(("id" = String, Path, description = "The election's id")),
    request_body = Replacement,
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The revocation and the replacement are on the board", body = Replaced),
        (status = 400, description = "The body is not JSON (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not between sealing and opening (`wrong_phase`, `not_sealed`), or another change went first (`board_moved`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "The revoked credential is not listed, the new one is listed already or has another weight, or the mailed string does not match (`bad_replacement`, `bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn replace_credential(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Json(r): Json<Replacement>,
) -> ApiResult<Json<Replaced>> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    let row = state.row(&id).await?;
    if row.phase != Phase::Setup {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!(
                "the election is {}: credentials are replaced between sealing and opening \
                 (docs/voters.md §6 says what to do once voting is open)",
                row.phase
            ),
        ));
    }
    if row.log_size == 0 {
        return Err(ApiError::conflict(
            "not_sealed",
            "seal the setup first: a replacement goes on the board, where everyone sees it",
        ));
    }
    let config = StoredConfig::from_json(&row.config)?;
    let bad = |m: String| ApiError::invalid("bad_replacement", m);
    if let Some(m) = &r.mail {
        if !config.server_mailing {
            return Err(bad(
                "the credential authority mails the credentials of this election: send the \
                 replacement without `mail`, and let the authority mail it"
                    .into(),
            )
            .field("mail"));
        }
        let c = Credential::parse(&m.credential)
            .map_err(|e| bad(format!("the new credential: {e}")).field("mail.credential"))?;
        if *c.derive_key(&id).public() != r.credential.credential {
            return Err(bad(format!(
                "the mailed credential does not give the new public credential in election `{id}`"
            ))
            .field("mail.credential"));
        }
    }
    let key = id.clone();
    let size = row.log_size;
    let (revoke, new) = (r.revoke, r.credential);
    let appended = state
        .blocking(move |s| {
            let sealed = crate::live::read_sealed(s, &key)?
                .ok_or_else(|| ApiError::conflict("not_sealed", "the setup is not on the board"))?;
            if sealed.size != size {
                return Err(ApiError::conflict(
                    "wrong_phase",
                    "the board has lines after its setup: voting has opened",
                ));
            }
            let Some((_, weight)) = sealed.credentials.get(&revoke) else {
                return Err(bad(
                    "the revoked credential is not in the election's list (or was revoked already)"
                        .into(),
                )
                .field("revoke"));
            };
            if sealed.revoked.contains(&new.credential)
                || sealed.credentials.get(&new.credential).is_some()
            {
                return Err(
                    bad("the new credential was listed before: make a new one".into())
                        .field("credential.credential"),
                );
            }
            if new.weight != weight {
                return Err(bad(format!(
                    "the new credential must have the revoked one's weight, {weight}"
                ))
                .field("credential.weight"));
            }
            let entries = [
                Entry::Revocation(Revocation { credential: revoke }),
                Entry::Credential(CredentialEntry {
                    credential: new.credential,
                    weight: new.weight,
                }),
            ];
            let items = [Item::default(), Item::default()];
            let encode = |i: usize, seq: u64, _at: i64| encode_line(seq, &entries[i]).0;
            Ok(s.append(
                &key,
                &Append {
                    expect: &[Phase::Setup],
                    set_phase: None,
                    now: crate::clock::now(),
                    items: &items,
                    unique_credentials: false,
                    expect_size: Some(size),
                    encode: &encode,
                },
            )?)
        })
        .await?;
    // The cached election has the old list.
    state.forget_live(&id);
    let mut mailed = false;
    if let Some(m) = r.mail {
        let entry = m.clone();
        let key = id.clone();
        state
            .blocking(move |s| {
                let mut list: Vec<PrivateEntry> = crate::trustees::relayed::<Vec<PrivateEntry>>(
                    s,
                    &key,
                    crate::mailer::PRIVATE_CREDENTIALS,
                )?
                .into_iter()
                .flat_map(|(_, l)| l)
                .filter(|e| e.voter != entry.voter)
                .collect();
                list.push(entry);
                let body = serde_json::to_string(&list).map_err(ApiError::internal)?;
                s.delete_messages(&key, crate::mailer::PRIVATE_CREDENTIALS)?;
                s.put_message(
                    &key,
                    crate::mailer::PRIVATE_CREDENTIALS,
                    0,
                    &body,
                    crate::clock::now(),
                )?;
                Ok(())
            })
            .await?;
        mail_credentials(&state, &id, &config, vec![m], "replacement").await?;
        mailed = true;
    }
    record_audit(
        &state,
        &admin.name,
        Some(&id),
        "election.replace_credential",
        serde_json::json!({ "revoked": revoke.to_string(), "new": new.credential.to_string(), "seq": size }),
    )
    .await?;
    Ok(Json(Replaced {
        seq: size,
        board_size: appended.size,
        mailed,
    }))
}

/// One private credential handed to the server for mailing.
#[derive(Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateEntry {
    /// The voter's identifier in the roll.
    pub voter: String,
    /// The voter's credential (spec §5.1).
    #[schema(value_type = String)]
    pub credential: Zeroizing<String>,
}

impl std::fmt::Debug for PrivateEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateEntry")
            .field("voter", &self.voter)
            .field("credential", &"<secret>")
            .finish()
    }
}

/// The private credentials the authority hands to the server, for it to mail them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOver {
    /// One entry per voter of the roll.
    pub credentials: Vec<PrivateEntry>,
}

/// What the server will mail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandedOver {
    /// Mails queued.
    pub queued: u64,
}

/// Queues credential letters (kind `credential` or `replacement`) for these voters.
async fn mail_credentials(
    state: &AppState,
    id: &str,
    config: &StoredConfig,
    entries: Vec<PrivateEntry>,
    kind: &'static str,
) -> ApiResult<u64> {
    let info = crate::mailer::election_info(&state.config, id, config);
    let mut queued = 0;
    for chunk in entries.chunks(1000) {
        let key = id.to_owned();
        let voters: Vec<String> = chunk.iter().map(|e| e.voter.clone()).collect();
        let rows = state
            .blocking(move |s| {
                voters
                    .iter()
                    .map(|v| {
                        s.voter(&key, v)?.ok_or_else(|| {
                            ApiError::invalid(
                                "bad_credentials",
                                format!("voter `{v}` is not in the roll"),
                            )
                        })
                    })
                    .collect::<ApiResult<Vec<VoterRow>>>()
            })
            .await?;
        let letters = chunk
            .iter()
            .zip(rows)
            .map(|(e, row)| {
                let credential = Credential::parse(&e.credential)
                    .map(|c| c.display())
                    .map_err(|err| {
                        ApiError::invalid("bad_credentials", format!("voter `{}`: {err}", e.voter))
                    })?;
                let content = if kind == "replacement" {
                    Content::Replacement {
                        voter: row.voter.clone(),
                        name: row.name.clone(),
                        credential,
                        weight: row.weight,
                    }
                } else {
                    Content::Credential {
                        voter: row.voter.clone(),
                        name: row.name.clone(),
                        credential,
                        weight: row.weight,
                    }
                };
                Ok((
                    row.voter.clone(),
                    Letter {
                        to: row.email.clone(),
                        lang: crate::mailer::language(row.lang.as_deref(), config),
                        election: info.clone(),
                        content,
                    },
                ))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        queued += crate::mailer::queue(state, id, kind, letters).await?;
    }
    Ok(queued)
}

/// `POST /api/v1/admin/elections/{id}/credentials/private`: the weaker mode, where the credential
/// authority hands the private credentials to the server, which mails them (docs/voters.md §2).
#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/credentials/private",
    tag = "voters",
    operation_id = "admin_hand_over_credentials",
    summary = "Hands the private credentials to the server for mailing (the weaker mode)",
    params(("id" = String, Path, description = "The election's id")),
    request_body = HandOver,
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Every voter's mail is queued", body = HandedOver),
        (status = 400, description = "The body is not JSON (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not in setup, or no public credential list or roll yet, or handed over already (`wrong_phase`, `no_credentials`, `no_roll`, `handed_over`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "A credential that does not parse, that is not in the public list, with another weight than its voter's, a voter not in the roll or twice, or voters missing (`bad_credentials`, `bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn hand_over(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Json(h): Json<HandOver>,
) -> ApiResult<Json<HandedOver>> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    let row = state.row(&id).await?;
    if row.phase != Phase::Setup {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!(
                "the election is {}: credentials are handed over during setup",
                row.phase
            ),
        ));
    }
    let mut config = StoredConfig::from_json(&row.config)?;
    if config.server_mailing {
        return Err(ApiError::conflict(
            "handed_over",
            "the credentials were handed over already; resend to one voter with /mail/resend",
        ));
    }
    let key = id.clone();
    let sealed = row.log_size > 0;
    let entries = h.credentials;
    let entries = state
        .blocking(move |s| {
            let list: Vec<PublicCredential> = if sealed {
                let sealed = crate::live::read_sealed(s, &key)?
                    .ok_or_else(|| ApiError::conflict("not_sealed", "the setup is not on the board"))?;
                sealed.list
            } else {
                crate::trustees::relayed::<Vec<PublicCredential>>(s, &key, crate::trustees::kinds::CREDENTIALS)?
                    .into_iter()
                    .flat_map(|(_, c)| c)
                    .collect()
            };
            if list.is_empty() {
                return Err(ApiError::conflict("no_credentials", "upload the public credential list first"));
            }
            let public: std::collections::HashMap<Point, u64> =
                list.iter().map(|c| (c.credential, c.weight)).collect();
            let mut roll = std::collections::HashMap::new();
            let mut after: Option<String> = None;
            loop {
                let page = s.roll(&key, after.as_deref(), 10_000)?;
                let Some(last) = page.last() else { break };
                after = Some(last.voter.clone());
                roll.extend(page.into_iter().map(|r| (r.voter.clone(), r.weight)));
            }
            if roll.is_empty() {
                return Err(ApiError::conflict("no_roll", "import the voter roll first"));
            }
            let mut seen = std::collections::HashSet::new();
            for (i, e) in entries.iter().enumerate() {
                let at = |f: &str| format!("credentials[{i}].{f}");
                let bad = |m: String| ApiError::invalid("bad_credentials", m);
                let Some(&weight) = roll.get(&e.voter) else {
                    return Err(bad(format!("voter `{}` is not in the roll", e.voter)).field(at("voter")));
                };
                if !seen.insert(e.voter.clone()) {
                    return Err(bad(format!("voter `{}` comes twice", e.voter)).field(at("voter")));
                }
                let c = Credential::parse(&e.credential)
                    .map_err(|err| bad(format!("voter `{}`: {err}", e.voter)).field(at("credential")))?;
                match public.get(c.derive_key(&key).public()) {
                    Some(&w) if w == weight => {}
                    Some(&w) => {
                        return Err(bad(format!("voter `{}` has weight {weight} in the roll but {w} in the credential list", e.voter)).field(at("credential")));
                    }
                    None => {
                        return Err(bad(format!("voter `{}`'s credential is not in the public credential list of `{key}`", e.voter)).field(at("credential")));
                    }
                }
            }
            if seen.len() != roll.len() {
                return Err(ApiError::invalid(
                    "bad_credentials",
                    format!("{} of the roll's {} voters have no credential here", roll.len() - seen.len(), roll.len()),
                )
                .field("credentials"));
            }
            let body = serde_json::to_string(&entries).map_err(ApiError::internal)?;
            s.delete_messages(&key, crate::mailer::PRIVATE_CREDENTIALS)?;
            s.put_message(&key, crate::mailer::PRIVATE_CREDENTIALS, 0, &body, crate::clock::now())?;
            Ok(entries)
        })
        .await?;
    config.server_mailing = true;
    let text = config.to_json();
    let key = id.clone();
    state
        .blocking(move |s| {
            Ok(s.update_config(&key, &[Phase::Setup], &text, crate::clock::now())?)
        })
        .await?;
    let queued = mail_credentials(&state, &id, &config, entries, "credential").await?;
    record_audit(
        &state,
        &admin.name,
        Some(&id),
        "election.hand_over_credentials",
        serde_json::json!({ "queued": queued }),
    )
    .await?;
    Ok(Json(HandedOver { queued }))
}

/// Which voter to mail again.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    /// The voter's identifier.
    pub voter: String,
}

/// `POST /api/v1/admin/elections/{id}/mail/resend`: mails a voter's credential again (in the
/// mode where the server mails credentials).
#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/mail/resend",
    tag = "voters",
    operation_id = "admin_resend",
    summary = "Mails a voter's credential again",
    params(("id" = String, Path, description = "The election's id")),
    request_body = Resend,
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The mail is queued", body = HandedOver),
        (status = 400, description = "The body is not JSON (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election, or no such voter (`no_election`, `no_voter`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The credential authority mails this election's credentials, not the server (`authority_mails`), or the voters' data was deleted (`purged`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn resend(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Json(r): Json<Resend>,
) -> ApiResult<Json<HandedOver>> {
    let row = state.row(&id).await?;
    let config = StoredConfig::from_json(&row.config)?;
    if config.purged_at.is_some() {
        return Err(ApiError::conflict(
            "purged",
            "the voters' personal data was deleted",
        ));
    }
    if !config.server_mailing {
        return Err(ApiError::conflict(
            "authority_mails",
            format!(
                "the credential authority mails this election's credentials: it resends with \
                 `urne credentials mail --voter {}`",
                r.voter
            ),
        ));
    }
    let key = id.clone();
    let voter = r.voter.clone();
    let entry = state
        .blocking(move |s| {
            Ok(crate::trustees::relayed::<Vec<PrivateEntry>>(
                s,
                &key,
                crate::mailer::PRIVATE_CREDENTIALS,
            )?
            .into_iter()
            .flat_map(|(_, l)| l)
            .find(|e| e.voter == voter))
        })
        .await?
        .ok_or_else(|| {
            ApiError::not_found("no_voter", format!("no voter `{}` in the roll", r.voter))
        })?;
    let queued = mail_credentials(&state, &id, &config, vec![entry], "credential").await?;
    record_audit(
        &state,
        &admin.name,
        Some(&id),
        "election.resend",
        serde_json::json!({ "voter": r.voter }),
    )
    .await?;
    Ok(Json(HandedOver { queued }))
}

// --- retention ---

/// Deletes an election's personal data (roll, logins, links, who voted, mail, the private
/// credentials handed to the server) and notes when.
pub async fn purge(state: &AppState, id: &str, actor: &str) -> ApiResult<urne_board::PurgeCounts> {
    let key = id.to_owned();
    let counts = state
        .blocking(move |s| {
            let counts = s.purge_personal_data(&key)?;
            s.delete_messages(&key, crate::mailer::PRIVATE_CREDENTIALS)?;
            Ok(counts)
        })
        .await?;
    let row = state.row(id).await?;
    let mut config = StoredConfig::from_json(&row.config)?;
    config.purged_at = Some(crate::clock::now());
    let text = config.to_json();
    let key = id.to_owned();
    state
        .blocking(move |s| {
            Ok(s.update_config(&key, &[Phase::Published], &text, crate::clock::now())?)
        })
        .await?;
    record_audit(
        state,
        actor,
        Some(id),
        "election.purge",
        serde_json::json!({
            "voters": counts.voters,
            "codes": counts.codes,
            "sessions": counts.sessions,
            "mail": counts.mail,
        }),
    )
    .await?;
    Ok(counts)
}

/// What a purge deleted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Purged {
    /// Voters of the roll.
    pub voters: u64,
    /// Pending login codes.
    pub codes: u64,
    /// Voters' sessions.
    pub sessions: u64,
    /// Mails.
    pub mail: u64,
}

/// `POST /api/v1/admin/elections/{id}/purge`: deletes the voters' personal data now, without
/// waiting for the retention period (published elections only).
#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/purge",
    tag = "voters",
    operation_id = "admin_purge",
    summary = "Deletes the voters' personal data of a published election now",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Deleted: the counts", body = Purged),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The result is not published yet (`wrong_phase`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn purge_route(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Purged>> {
    let lock = state.admin_lock(&id);
    let _guard = lock.lock().await;
    let row = state.row(&id).await?;
    if row.phase != Phase::Published {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!(
                "the election is {}; personal data is deleted after publication",
                row.phase
            ),
        ));
    }
    let c = purge(&state, &id, &admin.name).await?;
    Ok(Json(Purged {
        voters: c.voters,
        codes: c.codes,
        sessions: c.sessions,
        mail: c.mail,
    }))
}

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Deletes the personal data of every published election whose retention period is over
/// (called by the scheduler).
pub async fn purge_due(state: &AppState) {
    let rows = match state.blocking(|s| Ok(s.elections()?)).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "retention: listing elections");
            return;
        }
    };
    let now = crate::clock::now();
    for row in rows.into_iter().filter(|r| r.phase == Phase::Published) {
        let Ok(config) = StoredConfig::from_json(&row.config) else {
            continue;
        };
        let Some(published) = config.published_at else {
            continue;
        };
        if config.purged_at.is_some()
            || now < published + i64::from(config.draft.retention_days) * DAY
        {
            continue;
        }
        let lock = state.admin_lock(&row.id);
        let _guard = lock.lock().await;
        match purge(state, &row.id, crate::scheduler::ACTOR).await {
            Ok(c) => {
                tracing::info!(election = %row.id, voters = c.voters, "retention: personal data deleted")
            }
            Err(e) => tracing::warn!(election = %row.id, error = %e, "retention: purge failed"),
        }
    }
    let now = crate::clock::now();
    if let Err(e) = state
        .blocking(move |s| Ok(s.purge_expired_sessions(now)?))
        .await
    {
        tracing::warn!(error = %e, "purging expired sessions");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let c = new_code().unwrap();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn code_hashes_bind_election_and_voter() {
        let h = code_hash("e", "alice", "123456");
        assert_ne!(h, code_hash("e", "bob", "123456"));
        assert_ne!(h, code_hash("f", "alice", "123456"));
        assert_ne!(h, code_hash("e", "alice", "123457"));
        // Lengths are in the input: moving a character between parts changes the hash.
        assert_ne!(code_hash("ea", "lice", "1"), code_hash("e", "alice", "1"));
    }
}
