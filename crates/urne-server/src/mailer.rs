//! The server's mail to voters: letters are written (`urne-mail`) when they are decided, kept
//! in the store's queue, and sent by [`run`], one worker per server: each mail is claimed
//! with a lease (so that servers sharing a database never send it twice at once), sent
//! within the configured rate, and its outcome recorded: sent, retried later with a growing
//! delay, failed after the last attempt, or bounced when the relay refuses it for good.
//! Nothing is dropped silently; `GET /api/v1/admin/elections/{id}/mail` reports it all.
//!
//! A queued message may carry a secret (a login code, or a credential in the weaker mode
//! where the credential authority hands credentials to the server): the store empties it
//! once the mail reaches a final state, and it is never logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use urne_board::{MailStatus, MailUpdate, NewMail, VoterRow};
use urne_mail::{Content, ElectionInfo, Lang, Letter, Outbox, Rendered, SendOutcome};
use zeroize::Zeroizing;

use crate::AppState;
use crate::config::{MailOutbox, ServerConfig};
use crate::draft::{Language, StoredConfig};
use crate::error::{ApiError, ApiResult};

/// The relayed-message kind under which the weaker mode keeps the private credentials the
/// authority handed over (for resending); deleted with the personal data.
pub const PRIVATE_CREDENTIALS: &str = "private_credentials";

/// How long a claimed mail is reserved for the server sending it.
const LEASE_SECONDS: i64 = 300;

/// Mails claimed at once.
const CLAIM: u64 = 32;

/// The sender of the server's mail.
pub fn sender(config: &ServerConfig) -> urne_mail::Sender {
    urne_mail::Sender {
        from: config.mail.from.clone(),
        reply_to: config.mail.reply_to.clone(),
    }
}

/// The bare address of a `Name <address>` sender.
fn envelope_address(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim().to_owned(),
        _ => from.trim().to_owned(),
    }
}

/// The outbox the configuration names.
pub fn outbox(config: &ServerConfig) -> Result<Outbox, String> {
    Ok(match config.mail.outbox {
        MailOutbox::Maildir => Outbox::Maildir(config.maildir_path()),
        MailOutbox::Smtp => {
            let s = &config.mail.smtp;
            let security = match s.security.as_str() {
                "starttls" => urne_mail::Security::Starttls,
                "tls" => urne_mail::Security::Tls,
                "none" => urne_mail::Security::None,
                other => {
                    return Err(format!(
                        "mail.smtp.security: `{other}` is not `starttls`, `tls` or `none`"
                    ));
                }
            };
            let port = s.port.unwrap_or(match security {
                urne_mail::Security::Tls => 465,
                urne_mail::Security::Starttls => 587,
                urne_mail::Security::None => 25,
            });
            Outbox::Smtp(urne_mail::SmtpConfig {
                host: s.host.clone(),
                port,
                security,
                username: s.username.clone(),
                password: s.password.clone(),
                timeout: Duration::from_secs(s.timeout_seconds.max(1)),
                extra_root_pem: None,
            })
        }
    })
}

/// The server's public address (where voters' links point).
pub fn public_url(config: &ServerConfig) -> String {
    config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen))
        .trim_end_matches('/')
        .to_owned()
}

/// What letters say about an election.
pub fn election_info(config: &ServerConfig, id: &str, stored: &StoredConfig) -> ElectionInfo {
    ElectionInfo {
        id: id.to_owned(),
        title: stored.draft.title.clone(),
        opens_at: stored.draft.opens_at.to_string(),
        closes_at: stored.draft.closes_at.to_string(),
        public_url: public_url(config),
    }
}

/// The language of a voter's letters: the roll's, else the election's.
pub fn language(lang: Option<&str>, stored: &StoredConfig) -> Lang {
    lang.and_then(Lang::parse)
        .unwrap_or(match stored.draft.language {
            Language::Fr => Lang::Fr,
            Language::En => Lang::En,
        })
}

/// Writes letters and queues them, in one transaction; returns how many.
pub async fn queue(
    state: &AppState,
    id: &str,
    kind: &'static str,
    letters: Vec<(String, Letter)>,
) -> ApiResult<u64> {
    let sender = sender(&state.config);
    let key = id.to_owned();
    state
        .blocking(move |s| {
            let rendered: Vec<(String, String, Rendered)> = letters
                .iter()
                .map(|(voter, l)| {
                    urne_mail::render(l, &sender)
                        .map(|r| (voter.clone(), l.to.clone(), r))
                        .map_err(|e| ApiError::invalid("bad_mail", format!("voter `{voter}`: {e}")))
                })
                .collect::<ApiResult<_>>()?;
            let mails: Vec<NewMail<'_>> = rendered
                .iter()
                .map(|(voter, to, r)| NewMail {
                    voter,
                    kind,
                    recipient: to,
                    message_id: &r.message_id,
                    message: &r.bytes,
                })
                .collect();
            Ok(s.enqueue_mail(&key, &mails, crate::clock::now())?.len() as u64)
        })
        .await
}

/// Queues a login code for a voter.
pub async fn queue_code(
    state: &AppState,
    id: &str,
    stored: &StoredConfig,
    voter: &VoterRow,
    code: Zeroizing<String>,
    minutes: u32,
) -> ApiResult<()> {
    let letter = Letter {
        to: voter.email.clone(),
        lang: language(voter.lang.as_deref(), stored),
        election: election_info(&state.config, id, stored),
        content: Content::Code {
            voter: voter.voter.clone(),
            code,
            minutes,
        },
    };
    queue(state, id, "code", vec![(voter.voter.clone(), letter)]).await?;
    Ok(())
}

/// Sends queued mail until the server stops.
pub async fn run(state: AppState) {
    let outbox = match outbox(&state.config) {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "mail: the outbox is misconfigured; no mail is sent");
            return;
        }
    };
    let connection = match tokio::task::spawn_blocking(move || outbox.connect()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "mail: cannot open the outbox; no mail is sent");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "mail: opening the outbox failed");
            return;
        }
    };
    let mail = &state.config.mail;
    let limiter = urne_mail::RateLimiter::new(mail.per_second, mail.per_second.ceil() as u32);
    let retry = urne_mail::RetryPolicy {
        max_attempts: mail.max_attempts.max(1),
        first_delay: Duration::from_secs(mail.first_retry_seconds),
        max_delay: Duration::from_secs(mail.max_retry_seconds.max(mail.first_retry_seconds)),
    };
    let envelope_from = envelope_address(&mail.from);
    let sending = Arc::new(tokio::sync::Semaphore::new(mail.connections.max(1)));
    loop {
        let now = crate::clock::now();
        let claimed = match state
            .blocking(move |s| Ok(s.claim_mail(now, now + LEASE_SECONDS, CLAIM)?))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "mail: claiming queued mail");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if claimed.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        for row in claimed {
            let Ok(permit) = sending.clone().acquire_owned().await else {
                return;
            };
            while let Some(wait) = limiter.try_take(Instant::now()) {
                tokio::time::sleep(wait).await;
            }
            let job = Job {
                state: state.clone(),
                connection: connection.clone(),
                retry,
                envelope_from: envelope_from.clone(),
            };
            tokio::spawn(async move {
                job.send(row).await;
                drop(permit);
            });
        }
    }
}

/// What sending one mail needs.
struct Job {
    state: AppState,
    connection: urne_mail::Connection,
    retry: urne_mail::RetryPolicy,
    envelope_from: String,
}

impl Job {
    /// Sends one claimed mail and records what became of it.
    async fn send(self, row: urne_board::MailRow) {
        let rendered = Rendered {
            message_id: row.message_id.clone(),
            subject: String::new(),
            bytes: Zeroizing::new(row.message.clone()),
            envelope_from: self.envelope_from.clone(),
        };
        let to = row.recipient.clone();
        let conn = self.connection.clone();
        let outcome = tokio::task::spawn_blocking(move || conn.send(&to, &rendered))
            .await
            .unwrap_or_else(|e| SendOutcome::Transient(format!("sending task failed: {e}")));
        let attempts = row.attempts + 1;
        let now = crate::clock::now();
        let (status, error) = match &outcome {
            SendOutcome::Sent => (MailStatus::Sent, None),
            SendOutcome::Permanent(e) => (MailStatus::Bounced, Some(e.clone())),
            SendOutcome::Transient(e) => match self.retry.next_delay(attempts) {
                Some(_) => (MailStatus::Queued, Some(e.clone())),
                None => (MailStatus::Failed, Some(e.clone())),
            },
        };
        let delay = self.retry.next_delay(attempts).unwrap_or_default();
        let id = row.id;
        let stored = self
            .state
            .blocking(move |s| {
                let error = error.as_deref().unwrap_or_default();
                let update = match status {
                    MailStatus::Sent => MailUpdate::Sent,
                    MailStatus::Bounced => MailUpdate::Bounced { error },
                    MailStatus::Failed => MailUpdate::Failed { error },
                    MailStatus::Queued => MailUpdate::Retry {
                        at: now + delay.as_secs() as i64,
                        error,
                    },
                };
                Ok(s.update_mail(id, &update, now)?)
            })
            .await;
        self.state.metrics.mail(status.as_str());
        match (&outcome, stored) {
            (_, Err(e)) => {
                tracing::error!(mail = row.id, error = %e, "mail: recording an outcome")
            }
            (SendOutcome::Sent, Ok(())) => {
                tracing::debug!(mail = row.id, election = %row.election, kind = %row.kind, "mail sent")
            }
            (SendOutcome::Permanent(e) | SendOutcome::Transient(e), Ok(())) => {
                tracing::warn!(mail = row.id, election = %row.election, kind = %row.kind, attempts, status = status.as_str(), error = %e, "mail not delivered")
            }
        }
    }
}

/// The delivery report of an election's mail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailView {
    /// Waiting to be sent (first attempt or retry).
    pub queued: u64,
    /// Taken by the relay (or written to the outbox folder).
    pub sent: u64,
    /// Given up after the last attempt.
    pub failed: u64,
    /// Refused for good by the relay, or reported bounced later.
    pub bounced: u64,
    /// The mails that did not arrive, or not yet: failed, bounced, and queued ones after a
    /// failed attempt.
    pub problems: Vec<MailProblem>,
}

/// One mail that did not arrive.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailProblem {
    /// The voter.
    pub voter: String,
    /// `credential`, `replacement` or `code`.
    pub kind: String,
    /// The address.
    pub recipient: String,
    /// `queued`, `failed` or `bounced`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// The relay's last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The report of an election's mail.
pub async fn report(state: &AppState, id: &str) -> ApiResult<MailView> {
    let key = id.to_owned();
    state
        .blocking(move |s| {
            let r = s.mail_report(&key)?;
            let mut problems = vec![];
            for status in [MailStatus::Failed, MailStatus::Bounced, MailStatus::Queued] {
                for m in s.mail_list(&key, Some(status))? {
                    if status == MailStatus::Queued && m.attempts == 0 {
                        continue;
                    }
                    problems.push(MailProblem {
                        voter: m.voter,
                        kind: m.kind,
                        recipient: m.recipient,
                        status: status.as_str().to_owned(),
                        attempts: m.attempts,
                        last_error: m.last_error,
                    });
                }
            }
            Ok(MailView {
                queued: r.queued,
                sent: r.sent,
                failed: r.failed,
                bounced: r.bounced,
                problems,
            })
        })
        .await
}

/// What a bounce report says: the Message-ID of the mail that bounced, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// The bounced mail's Message-ID, `<…>`.
    pub message_id: String,
    /// The reason: the delivery status and diagnostic of RFC 3464 when there are some.
    pub reason: String,
}

/// Reads a bounce report (a delivery status notification, RFC 3464, as relays send back to the
/// envelope sender): the original message's Message-ID from its returned message or headers
/// (`message/rfc822`, `text/rfc822-headers`), and the `Status` and `Diagnostic-Code` of its
/// `message/delivery-status` part. `None` when it names no Message-ID.
pub fn read_bounce(raw: &[u8]) -> Option<Bounce> {
    let parsed = mailparse::parse_mail(raw).ok()?;
    let mut message_id = None;
    let mut status = Vec::new();
    let mut parts = vec![&parsed];
    while let Some(part) = parts.pop() {
        parts.extend(part.subparts.iter());
        let mime = part.ctype.mimetype.to_ascii_lowercase();
        if mime == "message/delivery-status" {
            let body = part.get_body_raw().unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            for line in text.lines() {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("status:") || lower.starts_with("diagnostic-code:") {
                    status.push(line.trim().to_owned());
                }
                if message_id.is_none() && lower.starts_with("original-message-id:") {
                    message_id = line.split_once(':').map(|(_, v)| v.trim().to_owned());
                }
            }
        }
        if mime == "message/rfc822" || mime == "text/rfc822-headers" {
            let body = part.get_body_raw().unwrap_or_default();
            if let Ok((headers, _)) = mailparse::parse_headers(&body) {
                for h in headers {
                    if h.get_key().eq_ignore_ascii_case("message-id") && message_id.is_none() {
                        message_id = Some(h.get_value().trim().to_owned());
                    }
                }
            }
        }
    }
    let message_id = message_id.filter(|m| m.starts_with('<') && m.ends_with('>'))?;
    let reason = if status.is_empty() {
        "reported bounced".to_owned()
    } else {
        status.join("; ").chars().take(500).collect()
    };
    Some(Bounce { message_id, reason })
}

/// What a bounce report changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BounceAck {
    /// The bounced mail's Message-ID.
    pub message_id: String,
    /// Whether it is one of this server's mails (now recorded as bounced).
    pub found: bool,
}

/// `POST /api/v1/admin/mail/bounces`: records a bounce report that came back to the sender's
/// address later (a relay accepted the mail, then could not deliver it).
#[utoipa::path(
    post,
    path = "/api/v1/admin/mail/bounces",
    tag = "voters",
    operation_id = "admin_mail_bounce",
    summary = "Records a bounce report (a delivery status notification) about a sent mail",
    request_body(content = String, content_type = "message/rfc822", description = "The bounce report as received, headers and body (RFC 3464)"),
    security(("admin_session" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "Read: whether the bounced mail is one of this server's", body = BounceAck),
        (status = 401, description = "Not logged in: no session cookie or API token, or an expired or unknown one (`unauthorized`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "A request with the session cookie from another site (`cross_site`)", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than `max_upload_bytes` (`too_large`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not a bounce report naming a Message-ID (`not_a_bounce`)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn bounce(
    axum::extract::State(state): axum::extract::State<AppState>,
    _admin: crate::auth::Admin,
    body: axum::body::Bytes,
) -> ApiResult<crate::extract::Json<BounceAck>> {
    let b = read_bounce(&body).ok_or_else(|| {
        ApiError::invalid(
            "not_a_bounce",
            "no Message-ID of a returned message was found (RFC 3464 report expected)",
        )
    })?;
    let (id, reason) = (b.message_id.clone(), b.reason.clone());
    let found = state
        .blocking(move |s| Ok(s.bounce_mail(&id, &reason, crate::clock::now())?))
        .await?;
    if found {
        state.metrics.mail("bounced");
        tracing::info!(message_id = %b.message_id, "mail: bounce recorded");
    }
    Ok(crate::extract::Json(BounceAck {
        message_id: b.message_id,
        found,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DSN: &str = "From: MAILER-DAEMON@relay.example\r\n\
To: noreply@example.org\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\
\r\n\
Your message could not be delivered.\r\n\
--b1\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; relay.example\r\n\
\r\n\
Final-Recipient: rfc822; v1@example.org\r\n\
Action: failed\r\n\
Status: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\
--b1\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
From: urne <noreply@example.org>\r\n\
To: v1@example.org\r\n\
Message-ID: <abc.123@example.org>\r\n\
Subject: Your credential\r\n\
--b1--\r\n";

    #[test]
    fn reads_a_delivery_status_notification() {
        let b = read_bounce(DSN.as_bytes()).unwrap();
        assert_eq!(b.message_id, "<abc.123@example.org>");
        assert!(
            b.reason.contains("5.1.1") && b.reason.contains("no such user"),
            "{}",
            b.reason
        );
    }

    #[test]
    fn an_ordinary_message_is_not_a_bounce() {
        assert_eq!(
            read_bounce(b"From: a@b.org\r\nSubject: hi\r\n\r\nhello\r\n"),
            None
        );
        assert_eq!(read_bounce(b"\xff\xfe not mail at all"), None);
    }

    #[test]
    fn envelope_addresses() {
        assert_eq!(envelope_address("Office <a@b.org>"), "a@b.org");
        assert_eq!(envelope_address("a@b.org"), "a@b.org");
    }
}
