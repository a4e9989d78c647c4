//! Mail to voters: the messages (credentials, one-time codes) and their delivery.
//!
//! A voter's credential (spec §5) is the one secret that lets them vote, and the credential
//! authority hands it over by mail. This crate does three things:
//!
//! - [`render`] writes a [`Letter`] as an RFC 5322 message (RFC 2045–2049 MIME,
//!   `multipart/alternative` with a plain-text part readable on its own and an HTML part), in
//!   French or English. A credential travels only in the **fragment** of the voting link
//!   (`{public_url}/vote/{id}#credential=…`), which browsers never send to the server
//!   (RFC 3986 §3.5).
//! - [`Outbox`] is where messages go: a Maildir folder (development, `urne demo`: no mail
//!   server needed) or an SMTP server (RFC 5321) over STARTTLS (RFC 3207) or implicit TLS
//!   (RFC 8314), through lettre and rustls. [`Connection::send`] says whether a message was
//!   accepted, should be retried ([`SendOutcome::Transient`]: 4xx answers, timeouts, lost
//!   connections) or bounced ([`SendOutcome::Permanent`]: 5xx answers).
//! - [`deliver`] sends a batch with several connections, a [`RateLimiter`] and a
//!   [`RetryPolicy`], and returns a [`DeliveryReport`] in which every letter is sent, failed or
//!   bounced: none is lost silently. The server's persistent queue uses the same pieces one
//!   message at a time.
//!
//! Secrets (credentials, codes, rendered messages, SMTP passwords) are held in
//! [`Zeroizing`] buffers and never Debug-printed. lettre's own intermediate buffers, built
//! while a message is formatted, are freed without being wiped: a limit of this crate.

#![forbid(unsafe_code)]

mod deliver;
mod outbox;
mod render;

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use deliver::{
    DeliverOptions, DeliveryEvent, DeliveryReport, RateLimiter, RetryPolicy, deliver,
};
pub use outbox::{Connection, Outbox, Security, SendOutcome, SmtpConfig};
pub use render::{Rendered, render};

/// The language of a letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// French.
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The language's tag (BCP 47 primary subtag): `fr` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// Reads a language tag: `fr` or `en`, in any case, with or without a region
    /// (`fr-CA`, `en_GB`). Any other language is `None`.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a letter says about the election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionInfo {
    /// The election's id (spec §4.2: 1 to 64 of `A–Z a–z 0–9 . _ -`).
    pub id: String,
    /// The election's title, as voters know it.
    pub title: String,
    /// When voting opens, RFC 3339 (shown in UTC).
    pub opens_at: String,
    /// When voting closes, RFC 3339 (shown in UTC).
    pub closes_at: String,
    /// The server's base URL, `https://…` without a trailing slash (one is tolerated).
    pub public_url: String,
}

/// What a letter carries.
#[derive(Clone)]
pub enum Content {
    /// A voter's credential: the voting link is
    /// `{public_url}/vote/{election id}#credential={dashed credential}`.
    Credential {
        /// The voter's identifier on the roll (used to log in).
        voter: String,
        /// The voter's name, for the greeting.
        name: Option<String>,
        /// The credential in its dashed display form (spec §5.1).
        credential: Zeroizing<String>,
        /// The number of votes the credential carries.
        weight: u64,
    },
    /// The same after the administrator replaced a lost credential (the old one no longer
    /// works).
    Replacement {
        /// The voter's identifier on the roll (used to log in).
        voter: String,
        /// The voter's name, for the greeting.
        name: Option<String>,
        /// The new credential in its dashed display form (spec §5.1).
        credential: Zeroizing<String>,
        /// The number of votes the credential carries.
        weight: u64,
    },
    /// A one-time login code (6 digits), valid `minutes` minutes.
    Code {
        /// The voter's identifier on the roll.
        voter: String,
        /// The code.
        code: Zeroizing<String>,
        /// How long the code is valid, in minutes.
        minutes: u32,
    },
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Content::Credential {
                voter,
                name,
                weight,
                ..
            } => f
                .debug_struct("Credential")
                .field("voter", voter)
                .field("name", name)
                .field("credential", &"<secret>")
                .field("weight", weight)
                .finish(),
            Content::Replacement {
                voter,
                name,
                weight,
                ..
            } => f
                .debug_struct("Replacement")
                .field("voter", voter)
                .field("name", name)
                .field("credential", &"<secret>")
                .field("weight", weight)
                .finish(),
            Content::Code { voter, minutes, .. } => f
                .debug_struct("Code")
                .field("voter", voter)
                .field("code", &"<secret>")
                .field("minutes", minutes)
                .finish(),
        }
    }
}

/// One message to one voter. Its Debug output shows no secret.
#[derive(Debug, Clone)]
pub struct Letter {
    /// The recipient's address, `voter@example.org` or `Name <voter@example.org>`.
    pub to: String,
    /// The language the letter is written in.
    pub lang: Lang,
    /// The election the letter is about.
    pub election: ElectionInfo,
    /// What the letter carries.
    pub content: Content,
}

/// Who the messages come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// The `From` mailbox, such as `urne <noreply@example.org>`; its address is also the SMTP
    /// envelope's sender (where bounces go) and its domain names the Message-IDs.
    pub from: String,
    /// An optional `Reply-To` mailbox (the organizers' help desk).
    pub reply_to: Option<String>,
}

impl Sender {
    /// Checks that `from` and `reply_to` parse as mailboxes, so that a bad one is refused once,
    /// before any letter is written, rather than failing every letter of a batch.
    pub fn check(&self) -> Result<(), MailError> {
        render::mailbox("from", &self.from)?;
        if let Some(r) = &self.reply_to {
            render::mailbox("reply_to", r)?;
        }
        Ok(())
    }
}

/// Why a message could not be written, or an outbox not opened. No variant carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address or mailbox that does not parse.
    #[error("{field}: `{value}` is not a valid mail address ({reason})")]
    Address {
        /// The field: `to`, `from` or `reply_to`.
        field: &'static str,
        /// The text given.
        value: String,
        /// What the parser said.
        reason: String,
    },
    /// A field of the letter that is not acceptable.
    #[error("{field}: {reason}")]
    Field {
        /// The field, such as `election.opens_at`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// lettre refused to build the message.
    #[error("the message could not be built: {0}")]
    Build(String),
    /// An SMTP server without TLS that is not on this machine.
    #[error("smtp: refusing to send without TLS to `{host}`, which is not a loopback address")]
    Insecure {
        /// The configured host.
        host: String,
    },
    /// The SMTP configuration is unusable (bad certificate, credentials…).
    #[error("smtp: {0}")]
    Config(String),
    /// The Maildir folder could not be made or written.
    #[error("maildir {path}: {source}")]
    Maildir {
        /// The folder or file.
        path: std::path::PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The operating system's random generator failed.
    #[error("randomness: {0}")]
    Randomness(String),
}
