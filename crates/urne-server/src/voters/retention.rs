//! The deletion of voters' personal data after publication: at once, or by the scheduler once
//! the election's retention period is over (docs/voters.md §5).

use axum::extract::State;
use serde::Serialize;
use urne_board::Phase;

use crate::AppState;
use crate::admin::record_audit;
use crate::auth::Admin;
use crate::draft::StoredConfig;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};

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
    let (_guard, row) = state.lock_election(&id).await?;
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
