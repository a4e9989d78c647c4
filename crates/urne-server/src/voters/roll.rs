//! The voter roll: its import (CSV or JSON, previewed, every error by line, nothing stored
//! while one remains) and the list of who voted (docs/voters.md §1, §3).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use urne_board::{Phase, RollStats, VoterRow};

use crate::AppState;
use crate::admin::record_audit;
use crate::auth::Admin;
use crate::draft::{StoredConfig, VotedList};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};

/// The largest page of the roll an administrator gets at once.
const MAX_PAGE: u64 = 1000;

/// Errors listed in an answer about a roll (the first ones, in order of lines).
const MAX_LISTED_ERRORS: usize = 1000;

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
    let (_guard, row) = state.lock_election(&id).await?;
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
