//! Voters' logins: one-time codes by mail, OpenID Connect, voter sessions, and the link of an
//! identity to the one credential it votes with (docs/voters.md §3).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use urne_board::{CodeCheck, LinkOutcome, Phase};

use crate::AppState;
use crate::auth::{self};
use crate::draft::{StoredConfig, VoterAuth};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};

/// The voter session cookie's name.
pub const COOKIE: &str = "urne_voter";

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
