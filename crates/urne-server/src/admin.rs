//! Administration: accounts and sessions, drafting an election, freezing it for setup (which
//! makes the trustees' invitations), the credential list, sealing the setup onto the board,
//! opening, closing, tallying and publishing. Every action is written to the audit log.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use urne_board::{Append, Item, Phase};
use urne_core::ceremony::vartime_judge_ceremony;
use urne_core::credential::{CredentialIndex, PublicCredential};
use urne_core::election::Election;
use urne_core::elgamal::Ciphertext;
use urne_core::group::{Point, b64_encode};
use urne_core::manifest::{KeySharing, Timestamp, TrusteePublic, valid_election_id};
use urne_core::tally::TallyAccumulator;
use urne_core::trustee::combine_public_keys;
use urne_verify::record::{
    BoothEntry, CredentialEntry, Entry, Header, Instant, RECORD_FORMAT, TallyEntry, encode_line,
};

use crate::AppState;
use crate::auth::{self, Admin};
use crate::draft::{ElectionDraft, StoredConfig, VoterAuth};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::trustees::{ceremony_view, kinds, line_kind, relayed};
use crate::voters;

/// The administration routes (under `/api/v1`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/login", post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/tokens", post(create_token))
        .route("/admin/audit", get(audit_log))
        .route("/admin/elections", get(list).post(create))
        .route("/admin/elections/{id}", get(show).put(edit))
        .route("/admin/elections/{id}/setup", post(setup))
        .route("/admin/elections/{id}/credentials", put(credentials))
        .route("/admin/elections/{id}/seal", post(seal_route))
        .route("/admin/elections/{id}/open", post(open_route))
        .route("/admin/elections/{id}/close", post(close_route))
        .route("/admin/elections/{id}/tally", post(tally_route))
        .route("/admin/elections/{id}/publish", post(publish))
        .route(
            "/admin/elections/{id}/roll",
            get(voters::roll_page).put(voters::upload_roll),
        )
        .route("/admin/elections/{id}/voted", get(voters::admin_voted))
        .route("/admin/elections/{id}/mail", get(mail_report))
        .route("/admin/elections/{id}/mail/resend", post(voters::resend))
        .route("/admin/mail/bounces", post(crate::mailer::bounce))
        .route(
            "/admin/elections/{id}/credentials/private",
            post(voters::hand_over),
        )
        .route(
            "/admin/elections/{id}/credentials/replace",
            post(voters::replace_credential),
        )
        .route("/admin/elections/{id}/purge", post(voters::purge_route))
}

pub(crate) async fn record_audit(
    state: &AppState,
    actor: &str,
    election: Option<&str>,
    action: &str,
    detail: serde_json::Value,
) -> ApiResult<()> {
    let (actor, election, action) = (
        actor.to_owned(),
        election.map(str::to_owned),
        action.to_owned(),
    );
    let detail = detail.to_string();
    state
        .blocking(move |s| {
            s.audit(
                &actor,
                election.as_deref(),
                &action,
                &detail,
                crate::clock::now(),
            )?;
            Ok(())
        })
        .await
}

/// A login.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Account name.
    pub name: String,
    /// Password.
    pub password: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/login",
    tag = "admin",
    operation_id = "admin_login",
    summary = "Logs an administrator in (a session cookie)",
    request_body = Login,
    responses(
        (status = 204, description = "Logged in: the session cookie is set (`Set-Cookie: urne_session=...; HttpOnly; SameSite=Strict`, `Secure` when `public_url` is https)"),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Wrong name or password (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A login from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a login: unknown or missing fields (`bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(l): Json<Login>,
) -> ApiResult<Response> {
    auth::check_same_site(&axum::http::Method::POST, &headers)?;
    let name = l.name.clone();
    let row = state.blocking(move |s| Ok(s.admin(&name)?)).await?;
    let password = l.password;
    let ok = tokio::task::spawn_blocking(move || {
        row.is_some_and(|r| auth::check_password(&password, &r.password_hash))
    })
    .await
    .map_err(ApiError::internal)?;
    if !ok {
        return Err(ApiError::unauthorized("wrong name or password"));
    }
    let token = auth::new_token()?;
    let hash = auth::token_hash(&token);
    let hours = i64::from(state.config.session_hours);
    let (who, expires) = (l.name.clone(), crate::clock::now() + hours * 3600);
    state
        .blocking(move |s| Ok(s.create_session(&hash, &who, expires)?))
        .await?;
    record_audit(&state, &l.name, None, "admin.login", serde_json::json!({})).await?;
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        auth::COOKIE,
        hours * 3600
    );
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(r)
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/logout",
    tag = "admin",
    operation_id = "admin_logout",
    summary = "Logs out, ending the session",
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 204, description = "Logged out: the session is deleted and the cookie cleared"),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
    )
)]
async fn logout(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = auth::session_cookie(&headers) {
        let hash = auth::token_hash(&token);
        state
            .blocking(move |s| Ok(s.delete_session(&hash)?))
            .await?;
    }
    record_audit(
        &state,
        &admin.name,
        None,
        "admin.logout",
        serde_json::json!({}),
    )
    .await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    let expired = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        auth::COOKIE
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&expired).map_err(ApiError::internal)?,
    );
    Ok(r)
}

/// A request for an API token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for.
    pub label: String,
}

/// A new API token, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    /// Send it as `Authorization: Bearer TOKEN`.
    pub token: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/tokens",
    tag = "admin",
    operation_id = "admin_create_token",
    summary = "Creates an API token for scripts",
    request_body = TokenRequest,
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 201, description = "A new API token, shown once", body = NewToken),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a token request (`bad_content`)", body = crate::openapi::ErrorBody),
    )
)]
async fn create_token(
    State(state): State<AppState>,
    admin: Admin,
    Json(t): Json<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    let token = auth::new_token()?;
    let hash = auth::token_hash(&token);
    let (who, label) = (admin.name.clone(), t.label.clone());
    state
        .blocking(move |s| Ok(s.create_api_token(&hash, &who, &label, crate::clock::now())?))
        .await?;
    record_audit(
        &state,
        &admin.name,
        None,
        "admin.token",
        serde_json::json!({ "label": t.label }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(NewToken { token })))
}

/// Creates an administrator account (for `urne admin add` and first runs).
pub fn create_admin(store: &dyn urne_board::Store, name: &str, password: &str) -> ApiResult<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(ApiError::invalid(
            "bad_name",
            "1 to 64 characters among A-Z a-z 0-9 . _ - @",
        ));
    }
    if password.chars().count() < 12 {
        return Err(ApiError::invalid(
            "weak_password",
            "a password has at least 12 characters",
        ));
    }
    let hash = auth::hash_password(password)?;
    store.create_admin(name, &hash, crate::clock::now())?;
    store.audit(name, None, "admin.create", "{}", crate::clock::now())?;
    Ok(())
}

/// An election as administrators see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminView {
    /// Its id.
    pub id: String,
    /// Its phase.
    pub phase: String,
    /// The draft.
    #[schema(value_type = Object)]
    pub draft: ElectionDraft,
    /// Lines on the board (0 until sealed).
    pub board_size: u64,
    /// Trustees registered, by index.
    pub registered: Vec<u32>,
    /// Credentials uploaded.
    pub credentials: u64,
    /// Once tallied, the mix phase's progress of an election with a ranked or graded question
    /// (shown by `GET …/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<crate::mix::MixProgress>,
}

fn admin_view(
    store: &dyn urne_board::Store,
    row: &urne_board::ElectionRow,
) -> ApiResult<AdminView> {
    let config = StoredConfig::from_json(&row.config)?;
    let registered = store
        .messages(&row.id, Some(kinds::TRUSTEE), 0)?
        .iter()
        .map(|m| m.sender)
        .collect();
    let credentials = relayed::<Vec<PublicCredential>>(store, &row.id, kinds::CREDENTIALS)?
        .iter()
        .map(|(_, c)| c.len() as u64)
        .sum();
    Ok(AdminView {
        id: row.id.clone(),
        phase: row.phase.to_string(),
        draft: config.draft,
        board_size: row.log_size,
        registered,
        credentials,
        mix: None,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/elections",
    tag = "admin",
    operation_id = "admin_list_elections",
    summary = "Lists every election",
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Every election, drafts included", body = Vec<AdminView>),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, _admin: Admin) -> ApiResult<Json<Vec<AdminView>>> {
    state
        .blocking(|s| {
            s.elections()?
                .iter()
                .map(|r| admin_view(s, r))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/elections/{id}",
    tag = "admin",
    operation_id = "admin_get_election",
    summary = "Shows one election",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The election", body = AdminView),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
    )
)]
async fn show(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminView>> {
    let row = state.row(&id).await?;
    let mix = if row.phase >= Phase::Tallied {
        crate::mix::progress_of(&state, &id).await?
    } else {
        None
    };
    let mut view = state.blocking(move |s| admin_view(s, &row)).await?;
    view.mix = mix;
    Ok(Json(view))
}

/// A new election.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewElection {
    /// Its id (1 to 64 characters among A-Z a-z 0-9 . _ -), unique on this server.
    pub id: String,
    /// Its draft.
    #[schema(value_type = Object)]
    pub draft: ElectionDraft,
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/elections",
    tag = "admin",
    operation_id = "admin_create_election",
    summary = "Creates an election as a draft",
    request_body = NewElection,
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 201, description = "The election, as a draft", body = AdminView),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "An election with this id exists already (`election_exists`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a new election (`bad_content`), or a bad id or draft (`bad_id`, `bad_draft`); `field` names the part at fault", body = crate::openapi::ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Json(n): Json<NewElection>,
) -> ApiResult<(StatusCode, Json<AdminView>)> {
    if !valid_election_id(&n.id) {
        return Err(
            ApiError::invalid("bad_id", "1 to 64 characters among A-Z a-z 0-9 . _ -").field("id"),
        );
    }
    n.draft.validate(&n.id)?;
    let config = StoredConfig::new(n.draft).to_json();
    let id = n.id.clone();
    let row = state
        .blocking(move |s| Ok(s.create_election(&id, &config, crate::clock::now())?))
        .await?;
    record_audit(
        &state,
        &admin.name,
        Some(&n.id),
        "election.create",
        serde_json::json!({}),
    )
    .await?;
    let view = state.blocking(move |s| admin_view(s, &row)).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    put,
    path = "/api/v1/admin/elections/{id}",
    tag = "admin",
    operation_id = "admin_edit_election",
    summary = "Replaces a draft",
    params(("id" = String, Path, description = "The election's id")),
    request_body(content = Object, content_type = "application/json", description = "The new draft of the election"),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The election with its new draft", body = AdminView),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The election is not in the right phase (`wrong_phase`: only drafts are edited)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a draft (`bad_content`), or a bad one (`bad_draft`); `field` names the part at fault", body = crate::openapi::ErrorBody),
    )
)]
async fn edit(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Json(draft): Json<ElectionDraft>,
) -> ApiResult<Json<AdminView>> {
    draft.validate(&id)?;
    let config = StoredConfig::new(draft).to_json();
    let key = id.clone();
    let row = state
        .blocking(move |s| {
            Ok(s.update_config(&key, &[Phase::Draft], &config, crate::clock::now())?)
        })
        .await?;
    record_audit(
        &state,
        &admin.name,
        Some(&id),
        "election.edit",
        serde_json::json!({}),
    )
    .await?;
    Ok(Json(state.blocking(move |s| admin_view(s, &row)).await?))
}

/// The trustees' invitations, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Invitations {
    /// One token per trustee, in order: give each to its trustee, who sends it as
    /// `Authorization: Bearer TOKEN`.
    pub invitations: Vec<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/setup",
    tag = "admin",
    operation_id = "admin_setup_election",
    summary = "Freezes the draft for setup and makes the trustees' invitations",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The draft is frozen for setup: the trustees' invitations, shown once", body = Invitations),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The election is not in the right phase (`wrong_phase`: not a draft)", body = crate::openapi::ErrorBody),
        (status = 422, description = "A bad draft (`bad_draft`)", body = crate::openapi::ErrorBody),
    )
)]
async fn setup(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Invitations>)> {
    let row = state.row(&id).await?;
    let mut config = StoredConfig::from_json(&row.config)?;
    config.draft.validate(&id)?;
    let tokens = (0..config.draft.trustees.len())
        .map(|_| auth::new_token())
        .collect::<ApiResult<Vec<_>>>()?;
    config.invitations = tokens
        .iter()
        .map(|t| b64_encode(&auth::token_hash(t)))
        .collect();
    let text = config.to_json();
    let key = id.clone();
    state
        .blocking(move |s| {
            Ok(s.set_phase(
                &key,
                &[Phase::Draft],
                Phase::Setup,
                Some(&text),
                crate::clock::now(),
            )?)
        })
        .await?;
    record_audit(
        &state,
        &admin.name,
        Some(&id),
        "election.setup",
        serde_json::json!({ "trustees": tokens.len() }),
    )
    .await?;
    Ok((
        StatusCode::OK,
        Json(Invitations {
            invitations: tokens,
        }),
    ))
}

/// The public credential list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialList {
    /// Each voter's public credential and weight.
    #[schema(value_type = Vec<Object>)]
    pub credentials: Vec<PublicCredential>,
}

/// What a credential upload did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialsAck {
    /// Number of credentials.
    pub credentials: u64,
    /// Their total weight.
    pub total_weight: u64,
}

#[utoipa::path(
    put,
    path = "/api/v1/admin/elections/{id}/credentials",
    tag = "admin",
    operation_id = "admin_upload_credentials",
    summary = "Uploads the public credential list",
    params(("id" = String, Path, description = "The election's id")),
    request_body = CredentialList,
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The credential list is stored (replacing any earlier one)", body = CredentialsAck),
        (status = 400, description = "The body is not JSON, or not all of it (`bad_json`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The election is not in the right phase (`wrong_phase`: credentials are uploaded during setup, before sealing)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a credential list (`bad_content`), or an empty or bad one (`no_credentials`, `bad_credentials`)", body = crate::openapi::ErrorBody),
    )
)]
async fn credentials(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Json(list): Json<CredentialList>,
) -> ApiResult<Json<CredentialsAck>> {
    let (_guard, row) = state.lock_election(&id).await?;
    if row.phase != Phase::Setup || row.log_size > 0 {
        return Err(ApiError::conflict(
            "wrong_phase",
            "credentials are uploaded during setup, before the setup is sealed",
        ));
    }
    let config = StoredConfig::from_json(&row.config)?;
    if list.credentials.is_empty() {
        return Err(ApiError::invalid("no_credentials", "the list is empty").field("credentials"));
    }
    let (count, total, body) = tokio::task::spawn_blocking(move || -> ApiResult<_> {
        let mut index = CredentialIndex::new(config.draft.weights);
        for (i, c) in list.credentials.iter().enumerate() {
            index
                .push(c, || format!("credentials[{i}]"))
                .map_err(|e| ApiError::verify("bad_credentials", &e))?;
        }
        let body = serde_json::to_string(&list.credentials).map_err(ApiError::internal)?;
        Ok((index.len() as u64, index.total_weight(), body))
    })
    .await
    .map_err(ApiError::internal)??;
    let key = id.clone();
    state
        .blocking(move |s| {
            s.delete_messages(&key, kinds::CREDENTIALS)?;
            s.put_message(&key, kinds::CREDENTIALS, 0, &body, crate::clock::now())?;
            Ok(())
        })
        .await?;
    record_audit(
        &state,
        &admin.name,
        Some(&id),
        "election.credentials",
        serde_json::json!({ "credentials": count, "total_weight": total }),
    )
    .await?;
    Ok(Json(CredentialsAck {
        credentials: count,
        total_weight: total,
    }))
}

/// Options of sealing.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct SealQuery {
    /// Judge the ceremony with the messages there are, disqualifying trustees who did not take
    /// part, instead of waiting for every trustee.
    #[serde(default)]
    pub force: bool,
}

/// What sealing put on the board.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Sealed {
    /// The manifest's fingerprint.
    pub fingerprint: String,
    /// Lines on the board.
    pub board_size: u64,
    /// Trustees whose dealings count (after a ceremony), by index.
    pub qualified: Vec<u32>,
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/seal",
    tag = "admin",
    operation_id = "admin_seal_election",
    summary = "Seals the setup onto the board",
    params(("id" = String, Path, description = "The election's id"), SealQuery),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The setup is on the board: header, manifest, ceremony and credentials", body = Sealed),
        (status = 400, description = "`force` is not `true` or `false` (`bad_query`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not in setup, sealed already, trustees or credentials missing, or the ceremony incomplete or failed (`wrong_phase`, `sealed`, `trustees_missing`, `no_credentials`, `ceremony_incomplete`, `ceremony_failed`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "The manifest or a trustee key is invalid (`bad_draft`, `bad_trustee_key`)", body = crate::openapi::ErrorBody),
    )
)]
async fn seal_route(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<SealQuery>,
) -> ApiResult<Json<Sealed>> {
    Ok(Json(seal(&state, &id, &admin.name, q.force).await?))
}

/// Seals the setup: judges the ceremony, builds the manifest with the election key, and puts
/// the header, manifest, ceremony transcript and credential list on the board, in one append.
pub async fn seal(state: &AppState, id: &str, actor: &str, force: bool) -> ApiResult<Sealed> {
    let (_guard, row) = state.lock_election(id).await?;
    if row.phase != Phase::Setup {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!("the election is {}, not setup", row.phase),
        ));
    }
    if row.log_size > 0 {
        return Err(ApiError::conflict("sealed", "the setup is sealed already"));
    }
    let config = StoredConfig::from_json(&row.config)?;
    let board_key = *state.board_key.public();
    let key = id.to_owned();
    let (entries, fingerprint, qualified) = state
        .blocking(move |s| {
            let view = ceremony_view(s, &key, &config)?;
            let missing: Vec<usize> = (1..=view.identities.len()).filter(|i| view.identities[i - 1].is_none()).collect();
            if !missing.is_empty() {
                return Err(ApiError::conflict("trustees_missing", format!("trustees {missing:?} have not registered")));
            }
            let trustees: Vec<TrusteePublic> = view.identities.iter().flatten().cloned().collect();
            let identities: Vec<Point> = trustees.iter().map(|t| t.public_key).collect();
            let threshold = config.draft.threshold;
            let (public_key, qualified) = if config.draft.key_sharing() == KeySharing::Threshold {
                let n = trustees.len() as u32;
                let incomplete = |done: &[u32]| (1..=n).filter(|i| !done.contains(i)).collect::<Vec<_>>();
                let dealt: Vec<u32> = view.dealings.iter().map(|d| d.dealer).collect();
                for (round, waiting) in [("dealings", incomplete(&dealt)), ("complaints", incomplete(&view.complained)), ("answers", incomplete(&view.answered))] {
                    if !waiting.is_empty() && !force {
                        return Err(ApiError::conflict("ceremony_incomplete", format!("waiting for the {round} of trustees {waiting:?} (seal with ?force=true to disqualify them)")));
                    }
                }
                let outcome = vartime_judge_ceremony(&key, threshold, &identities, &view.dealings, &view.complaints, &view.answers)
                    .map_err(|e| ApiError::conflict("ceremony_failed", format!("the ceremony has no outcome: {e}")))?;
                (outcome.keys.election_key, outcome.qualified)
            } else {
                (combine_public_keys(&identities), (1..=trustees.len() as u32).collect())
            };
            let credentials: Vec<PublicCredential> = relayed::<Vec<PublicCredential>>(s, &key, kinds::CREDENTIALS)?.into_iter().flat_map(|(_, c)| c).collect();
            if credentials.is_empty() {
                return Err(ApiError::conflict("no_credentials", "upload the credential list first"));
            }
            if config.draft.voter_auth != VoterAuth::None {
                // The authority made one credential per voter of this roll: the counts and
                // weights must agree (the server cannot see which credential is whose).
                let roll = s.roll_stats(&key)?;
                if roll.voters == 0 {
                    return Err(ApiError::conflict("no_roll", "voters of this election log in: import the voter roll first (or set the draft's voter_auth to none)"));
                }
                let total: u64 = credentials.iter().map(|c| c.weight).sum();
                if roll.voters != credentials.len() as u64 || roll.total_weight != total {
                    return Err(ApiError::conflict("roll_mismatch", format!("the roll has {} voters of total weight {}, but the credential list {} credentials of total weight {}: generate the credentials from this roll", roll.voters, roll.total_weight, credentials.len(), total)));
                }
            }
            let manifest = config.draft.manifest(&key, trustees, public_key, board_key);
            let election = Election::new(manifest.clone()).map_err(|e| ApiError::invalid("bad_draft", e.message.clone()).field(e.path.clone()))?;
            manifest.vartime_verify_trustee_keys().map_err(|e| ApiError::verify("bad_trustee_key", &e))?;
            let mut entries = vec![Entry::Header(Header { format: RECORD_FORMAT.into() }), Entry::Manifest(Box::new(manifest))];
            entries.extend(view.dealings.into_iter().map(|d| Entry::Dealing(Box::new(d))));
            entries.extend(view.complaints.into_iter().map(|c| Entry::Complaint(Box::new(c))));
            entries.extend(view.answers.into_iter().map(|a| Entry::Answer(Box::new(a))));
            entries.extend(credentials.into_iter().map(|c| Entry::Credential(CredentialEntry { credential: c.credential, weight: c.weight })));
            Ok((entries, election.fingerprint().to_string(), qualified))
        })
        .await?;
    let key = id.to_owned();
    let appended = state
        .blocking(move |s| crate::append_lines(s, &key, &entries, Phase::Setup, None, Some(0)))
        .await?;
    record_audit(state, actor, Some(id), "election.seal", serde_json::json!({ "fingerprint": fingerprint, "board_size": appended.size, "qualified": qualified })).await?;
    Ok(Sealed {
        fingerprint,
        board_size: appended.size,
        qualified,
    })
}

/// A phase change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhaseChange {
    /// The new phase.
    pub phase: String,
    /// Lines on the board.
    pub board_size: u64,
    /// The time on the board.
    pub at: String,
}

/// Appends `before` and then the line `make` builds with the board's time, in one append, and
/// moves the election from phase `expect` to `to`.
async fn line_append(
    state: &AppState,
    id: &str,
    expect: Phase,
    to: Phase,
    before: Vec<Entry>,
    make: fn(Timestamp) -> Entry,
) -> ApiResult<PhaseChange> {
    let key = id.to_owned();
    let appended = state
        .blocking(move |s| {
            let encode = |i: usize, seq: u64, at: i64| match before.get(i) {
                Some(entry) => encode_line(seq, entry).0,
                None => {
                    let t = Timestamp::from_unix(at).unwrap_or_else(|| {
                        Timestamp::from_unix(0).expect("the epoch is a valid time")
                    });
                    encode_line(seq, &make(t)).0
                }
            };
            let items = vec![Item::default(); before.len() + 1];
            Ok(s.append(
                &key,
                &Append {
                    expect: &[expect],
                    set_phase: Some(to),
                    now: crate::clock::now(),
                    items: &items,
                    unique_credentials: false,
                    expect_size: None,
                    encode: &encode,
                },
            )?)
        })
        .await?;
    let at = Timestamp::from_unix(appended.at)
        .map(|t| t.to_string())
        .unwrap_or_default();
    Ok(PhaseChange {
        phase: to.to_string(),
        board_size: appended.size,
        at,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/open",
    tag = "admin",
    operation_id = "admin_open_election",
    summary = "Opens voting",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Open: the open line is on the board (the setup is sealed first if needed)", body = PhaseChange),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not in setup, before the opening time or after the closing time, or the setup cannot be sealed (`wrong_phase`, `too_early`, `too_late`, and the codes of sealing)", body = crate::openapi::ErrorBody),
        (status = 422, description = "The manifest or a trustee key is invalid (`bad_draft`, `bad_trustee_key`)", body = crate::openapi::ErrorBody),
    )
)]
async fn open_route(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<PhaseChange>> {
    Ok(Json(open(&state, &id, &admin.name).await?))
}

/// Opens the election (sealing the setup first if needed). Refused before the manifest's
/// opening time: ballots cast before it would not verify (V-12).
pub async fn open(state: &AppState, id: &str, actor: &str) -> ApiResult<PhaseChange> {
    let row = state.row(id).await?;
    if row.phase == Phase::Setup && row.log_size == 0 {
        seal(state, id, actor, false).await?;
    }
    let live = state.live(id).await?;
    let m = live.election.manifest();
    let now = crate::clock::now();
    if now < m.opens_at.unix() {
        return Err(ApiError::conflict(
            "too_early",
            format!(
                "the manifest opens voting at {}; edit the draft to open earlier",
                m.opens_at
            ),
        ));
    }
    if now >= m.closes_at.unix() {
        return Err(ApiError::conflict(
            "too_late",
            format!("the voting period ended at {}", m.closes_at),
        ));
    }
    let lock = state.admin_lock(id);
    let _guard = lock.lock().await;
    // Sealing (spec §7.6): the files served to voters, declared with the open line.
    let booth = Entry::Booth(BoothEntry {
        files: crate::pages::served_files(id),
    });
    let change = line_append(state, id, Phase::Setup, Phase::Open, vec![booth], |at| {
        Entry::Open(Instant { at })
    })
    .await?;
    record_audit(
        state,
        actor,
        Some(id),
        "election.open",
        serde_json::json!({ "at": change.at }),
    )
    .await?;
    Ok(change)
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/close",
    tag = "admin",
    operation_id = "admin_close_election",
    summary = "Closes voting",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Closed: no ballot is accepted after the close line", body = PhaseChange),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The election is not in the right phase (`wrong_phase`: not open)", body = crate::openapi::ErrorBody),
    )
)]
async fn close_route(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<PhaseChange>> {
    Ok(Json(close(&state, &id, &admin.name).await?))
}

/// Closes the election: no ballot is accepted after the close line.
pub async fn close(state: &AppState, id: &str, actor: &str) -> ApiResult<PhaseChange> {
    let lock = state.admin_lock(id);
    let _guard = lock.lock().await;
    let change = line_append(state, id, Phase::Open, Phase::Closed, Vec::new(), |at| {
        Entry::Close(Instant { at })
    })
    .await?;
    record_audit(
        state,
        actor,
        Some(id),
        "election.close",
        serde_json::json!({ "at": change.at }),
    )
    .await?;
    Ok(change)
}

/// What tallying did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TallyAck {
    /// Ballots counted (the last of each credential).
    pub ballots: u64,
    /// Their total weight.
    pub total_weight: u64,
    /// Ballots cast, replaced ones included.
    pub cast: u64,
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/tally",
    tag = "admin",
    operation_id = "admin_tally_election",
    summary = "Computes the encrypted tally",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The encrypted tally is on the board, for the trustees to decrypt", body = TallyAck),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "The election is not in the right phase (`wrong_phase`: not closed)", body = crate::openapi::ErrorBody),
    )
)]
async fn tally_route(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<TallyAck>> {
    let (_guard, row) = state.lock_election(&id).await?;
    if row.phase != Phase::Closed {
        return Err(ApiError::conflict(
            "wrong_phase",
            format!("the election is {}, not closed", row.phase),
        ));
    }
    let live = state.live(&id).await?;
    let key = id.clone();
    let l2 = live.clone();
    let (entry, cast) = state
        .blocking(move |s| encrypted_tally(s, &key, &l2, row.log_size))
        .await?;
    let ack = TallyAck {
        ballots: entry.ballots,
        total_weight: entry.total_weight,
        cast,
    };
    let key = id.clone();
    let line = Entry::Tally(Box::new(entry));
    let appended = state
        .blocking(move |s| {
            crate::append_lines(s, &key, &[line], Phase::Closed, Some(Phase::Tallied), None)
        })
        .await?;
    // The views' turnout need not look for the line this server has just written.
    let _ = live.counting.tally.set(crate::trustees::TallyCounts {
        seq: appended.size.saturating_sub(1),
        ballots: ack.ballots,
        total_weight: ack.total_weight,
    });
    record_audit(&state, &admin.name, Some(&id), "election.tally", serde_json::json!({ "ballots": ack.ballots, "total_weight": ack.total_weight, "cast": ack.cast })).await?;
    Ok(Json(ack))
}

/// The encrypted tally of the ballots on a closed board: the last ballot of each credential,
/// weighted (spec §8.2). Two passes: the first finds each credential's last ballot by reading
/// only credentials, the second parses the counted ballots in parallel.
fn encrypted_tally(
    store: &dyn urne_board::Store,
    id: &str,
    live: &crate::live::Live,
    size: u64,
) -> ApiResult<(TallyEntry, u64)> {
    #[derive(Deserialize)]
    struct Light {
        ballot: LightBallot,
    }
    #[derive(Deserialize)]
    struct LightBallot {
        credential: String,
    }
    #[derive(Deserialize)]
    struct TallyLine {
        ballot: TallyBallot,
    }
    #[derive(Deserialize)]
    struct TallyBallot {
        credential: Point,
        answers: Vec<TallyAnswer>,
    }
    #[derive(Deserialize)]
    struct TallyAnswer {
        choices: Vec<Ciphertext>,
        #[serde(default)]
        blank: Option<Ciphertext>,
    }
    const PAGE: u64 = 8192;
    let mut last: HashMap<String, u64> = HashMap::new();
    let mut cast = 0;
    let mut from = live.sealed_size;
    while from < size {
        let page = store.lines(id, from, PAGE)?;
        if page.is_empty() {
            break;
        }
        from += page.len() as u64;
        for l in page.iter().filter(|l| line_kind(&l.line) == b"ballot") {
            let light: Light = serde_json::from_slice(&l.line)
                .map_err(|e| ApiError::internal(format!("board line {}: {e}", l.seq)))?;
            last.insert(light.ballot.credential, l.seq);
            cast += 1;
        }
    }
    let counted: std::collections::HashSet<u64> = last.into_values().collect();
    let mut acc = TallyAccumulator::new(&live.election);
    let mut from = live.sealed_size;
    while from < size {
        let page = store.lines(id, from, PAGE)?;
        if page.is_empty() {
            break;
        }
        from += page.len() as u64;
        let part = page
            .par_iter()
            .filter(|l| counted.contains(&l.seq))
            .try_fold(
                || TallyAccumulator::new(&live.election),
                |mut acc, l| -> ApiResult<TallyAccumulator> {
                    // The ballots were verified before they were acknowledged: only their
                    // ciphertexts and credential are decoded, not their proofs.
                    let b: TallyLine = serde_json::from_slice(&l.line)
                        .map_err(|e| ApiError::internal(format!("board line {}: {e}", l.seq)))?;
                    let (_, weight) =
                        live.credentials.get(&b.ballot.credential).ok_or_else(|| {
                            ApiError::internal(format!("board line {}: unknown credential", l.seq))
                        })?;
                    let answers = b
                        .ballot
                        .answers
                        .iter()
                        .map(|a| (&a.choices[..], a.blank.as_ref()));
                    acc.add_ciphertexts(answers, weight);
                    Ok(acc)
                },
            )
            .try_reduce(
                || TallyAccumulator::new(&live.election),
                |mut a, b| {
                    a.merge(&b);
                    Ok(a)
                },
            )?;
        acc.merge(&part);
    }
    Ok((
        TallyEntry {
            ballots: acc.ballots(),
            total_weight: acc.total_weight(),
            tally: acc.finish(),
        },
        cast,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/elections/{id}/publish",
    tag = "admin",
    operation_id = "admin_publish_election",
    summary = "Publishes the result",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Published: the result is public", body = PhaseChange),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not tallied, or the trustees have not decrypted yet (`wrong_phase`, `no_result`, `not_sealed`)", body = crate::openapi::ErrorBody),
    )
)]
async fn publish(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<PhaseChange>> {
    let (_guard, row) = state.lock_election(&id).await?;
    let live = state.live(&id).await?;
    let key = id.clone();
    // The result is the board's last line: that line's type is read, nothing is parsed.
    let size = row.log_size;
    let result = row.phase >= Phase::Tallied
        && state
            .blocking(move |s| crate::trustees::result_on_board(s, &key, size))
            .await?;
    if !result {
        let what = if urne_core::mix::width(live.election.manifest()) > 0 {
            "the trustees have not finished decrypting the tally, shuffling and decrypting the \
             ranked and graded ballots (mix phase) yet"
        } else {
            "the trustees have not decrypted the tally yet"
        };
        return Err(ApiError::conflict("no_result", what));
    }
    let key = id.clone();
    // The retention period of the voters' personal data starts now.
    let mut config = StoredConfig::from_json(&row.config)?;
    let now = crate::clock::now();
    config.published_at = Some(now);
    let text = config.to_json();
    let row = state
        .blocking(move |s| {
            Ok(s.set_phase(&key, &[Phase::Tallied], Phase::Published, Some(&text), now)?)
        })
        .await?;
    record_audit(
        &state,
        &admin.name,
        Some(&id),
        "election.publish",
        serde_json::json!({}),
    )
    .await?;
    Ok(Json(PhaseChange {
        phase: row.phase.to_string(),
        board_size: row.log_size,
        at: Timestamp::from_unix(row.updated_at)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/elections/{id}/mail",
    tag = "voters",
    operation_id = "admin_mail_report",
    summary = "Reports the delivery of the election's mail",
    params(("id" = String, Path, description = "The election's id")),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Mails queued, sent, failed and bounced, with each one that did not arrive", body = crate::mailer::MailView),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such election (`no_election`)", body = crate::openapi::ErrorBody),
    )
)]
async fn mail_report(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<crate::mailer::MailView>> {
    state.row(&id).await?;
    crate::mailer::report(&state, &id).await.map(Json)
}

/// Query of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Only the entries about this election.
    pub election: Option<String>,
}

/// An audit log entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position.
    pub id: u64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// About which election.
    pub election: Option<String>,
    /// What.
    pub action: String,
    /// Details.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "admin",
    operation_id = "admin_audit_log",
    summary = "Reads the audit log",
    params(AuditQuery),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The audit log, oldest first", body = Vec<AuditEntry>),
        (status = 400, description = "A query that does not parse (`bad_query`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
    )
)]
async fn audit_log(
    State(state): State<AppState>,
    _admin: Admin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let rows = state
        .blocking(move |s| Ok(s.audit_log(q.election.as_deref())?))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: Timestamp::from_unix(r.at)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                actor: r.actor,
                election: r.election,
                action: r.action,
                detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}
