//! A lost credential's replacement on the board (spec §5.5), and the weaker mode where the
//! credential authority hands the private credentials to the server for mailing
//! (docs/voters.md §2, §6).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use urne_board::{Phase, VoterRow};
use urne_core::credential::{Credential, PublicCredential};
use urne_core::group::Point;
use urne_mail::{Content, Letter};
use urne_verify::record::{CredentialEntry, Entry, Revocation};
use zeroize::Zeroizing;

use crate::AppState;
use crate::admin::record_audit;
use crate::auth::Admin;
use crate::draft::StoredConfig;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};

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
    let (_guard, row) = state.lock_election(&id).await?;
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
    // Checked before the board changes: the voter on the roll and their new credential's text.
    let mut to_mail = None;
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
        let voter = roll_row(&state, &id, &m.voter).await?.ok_or_else(|| {
            bad(format!("voter `{}` is not in the roll", m.voter)).field("mail.voter")
        })?;
        to_mail = Some((voter, c.display()));
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
            crate::append_lines(s, &key, &entries, Phase::Setup, None, Some(size))
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
        if let Some(voter) = to_mail {
            mail_credentials(&state, &id, &config, vec![voter], "replacement").await?;
            mailed = true;
        }
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

/// Queues credential letters (kind `credential` or `replacement`): each voter of the roll with
/// the display form of their credential, already checked by the caller.
async fn mail_credentials(
    state: &AppState,
    id: &str,
    config: &StoredConfig,
    voters: Vec<(VoterRow, Zeroizing<String>)>,
    kind: &'static str,
) -> ApiResult<u64> {
    let info = crate::mailer::election_info(&state.config, id, config);
    let mut queued = 0;
    let mut voters = voters.into_iter().peekable();
    while voters.peek().is_some() {
        let letters = voters
            .by_ref()
            .take(1000)
            .map(|(row, credential)| {
                let (voter, name, weight) = (row.voter.clone(), row.name.clone(), row.weight);
                let content = if kind == "replacement" {
                    Content::Replacement {
                        voter,
                        name,
                        credential,
                        weight,
                    }
                } else {
                    Content::Credential {
                        voter,
                        name,
                        credential,
                        weight,
                    }
                };
                (
                    row.voter,
                    Letter {
                        to: row.email,
                        lang: crate::mailer::language(row.lang.as_deref(), config),
                        election: info.clone(),
                        content,
                    },
                )
            })
            .collect();
        queued += crate::mailer::queue(state, id, kind, letters).await?;
    }
    Ok(queued)
}

/// The roll's row of a voter, or `bad` naming them.
async fn roll_row(state: &AppState, id: &str, voter: &str) -> ApiResult<Option<VoterRow>> {
    let (key, who) = (id.to_owned(), voter.to_owned());
    state.blocking(move |s| Ok(s.voter(&key, &who)?)).await
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
    let (_guard, row) = state.lock_election(&id).await?;
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
    let to_mail = state
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
                roll.extend(page.into_iter().map(|r| (r.voter.clone(), r)));
            }
            if roll.is_empty() {
                return Err(ApiError::conflict("no_roll", "import the voter roll first"));
            }
            let mut seen = std::collections::HashSet::new();
            let mut to_mail = Vec::with_capacity(entries.len());
            for (i, e) in entries.iter().enumerate() {
                let at = |f: &str| format!("credentials[{i}].{f}");
                let bad = |m: String| ApiError::invalid("bad_credentials", m);
                let Some(row) = roll.get(&e.voter) else {
                    return Err(bad(format!("voter `{}` is not in the roll", e.voter)).field(at("voter")));
                };
                if !seen.insert(e.voter.clone()) {
                    return Err(bad(format!("voter `{}` comes twice", e.voter)).field(at("voter")));
                }
                let c = Credential::parse(&e.credential)
                    .map_err(|err| bad(format!("voter `{}`: {err}", e.voter)).field(at("credential")))?;
                let weight = row.weight;
                match public.get(c.derive_key(&key).public()) {
                    Some(&w) if w == weight => to_mail.push((row.clone(), c.display())),
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
            Ok(to_mail)
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
    let queued = mail_credentials(&state, &id, &config, to_mail, "credential").await?;
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
    let credential = Credential::parse(&entry.credential)
        .map_err(|e| ApiError::internal(format!("stored credential of `{}`: {e}", r.voter)))?
        .display();
    let voter = roll_row(&state, &id, &r.voter).await?.ok_or_else(|| {
        ApiError::not_found("no_voter", format!("no voter `{}` in the roll", r.voter))
    })?;
    let queued = mail_credentials(
        &state,
        &id,
        &config,
        vec![(voter, credential)],
        "credential",
    )
    .await?;
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
