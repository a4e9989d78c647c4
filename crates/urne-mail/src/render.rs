//! Writing a letter as a MIME message: the texts in French and English, plain and HTML.
//!
//! Both parts come from one list of blocks, so they say the same thing: the plain part is
//! wrapped at 72 columns with URLs left whole, the HTML part escapes every piece of text
//! (election titles and names come from administrators and voter rolls, not from us).

use std::fmt::Write as _;
use std::str::FromStr;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::{Zeroize, Zeroizing};

use crate::{Content, Lang, Letter, MailError, Sender};

/// A letter written as an RFC 5322 message, ready to send.
pub struct Rendered {
    /// The Message-ID header's value, `<…@sender's domain>`.
    pub message_id: String,
    /// The subject, decoded.
    pub subject: String,
    /// The message: headers and a `multipart/alternative` body (text and HTML).
    pub bytes: Zeroizing<Vec<u8>>,
    /// The SMTP envelope's sender: the `From` address, where bounces go.
    pub envelope_from: String,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("message_id", &self.message_id)
            .field("subject", &self.subject)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("envelope_from", &self.envelope_from)
            .finish()
    }
}

/// Writes `letter` as a message from `sender`.
///
/// Fails, naming the field, when an address does not parse, a date is not RFC 3339, the
/// election id is not one of spec §4.2 or the public URL is not an http(s) URL.
pub fn render(letter: &Letter, sender: &Sender) -> Result<Rendered, MailError> {
    let from = mailbox("from", &sender.from)?;
    let to = mailbox("to", &letter.to)?;
    let reply_to = sender
        .reply_to
        .as_deref()
        .map(|r| mailbox("reply_to", r))
        .transpose()?;
    let facts = Facts::new(letter)?;
    let (subject, blocks) = compose(letter, &facts, reply_to.is_some());
    let text = blocks.text();
    let html = blocks.html(letter.lang, &subject);

    let message_id = format!("<{}@{}>", random_hex()?, from.email.domain());
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject.as_str())
        .message_id(Some(message_id.clone()))
        .header(AutoSubmitted)
        .header(AutoResponseSuppress)
        .header(ContentLanguage(letter.lang));
    if let Some(r) = reply_to {
        builder = builder.reply_to(r);
    }
    let message = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text.to_string()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html.to_string()),
                ),
        )
        .map_err(|e| MailError::Build(e.to_string()))?;
    Ok(Rendered {
        message_id,
        subject,
        bytes: Zeroizing::new(message.formatted()),
        envelope_from: from.email.to_string(),
    })
}

pub(crate) fn mailbox(field: &'static str, value: &str) -> Result<Mailbox, MailError> {
    Mailbox::from_str(value.trim()).map_err(|e| MailError::Address {
        field,
        value: value.to_owned(),
        reason: e.to_string(),
    })
}

/// Checks an address the way [`render`] does, for callers that validate before sending.
pub(crate) fn address(field: &'static str, value: &str) -> Result<Address, MailError> {
    mailbox(field, value).map(|m| m.email)
}

/// 128 random bits in hex: the local part of a Message-ID (RFC 5322 §3.6.4 asks it be unique).
fn random_hex() -> Result<String, MailError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| MailError::Randomness(e.to_string()))?;
    let mut out = String::with_capacity(32);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    Ok(out)
}

// RFC 3834 §5: a message sent by a program, to which no automatic reply should be sent.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

// The same request in the form Microsoft Exchange reads (out-of-office and similar replies).
#[derive(Clone)]
struct AutoResponseSuppress;

impl Header for AutoResponseSuppress {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoResponseSuppress)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".to_owned())
    }
}

// RFC 3282.
#[derive(Clone)]
struct ContentLanguage(Lang);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Lang::parse(s)
            .map(ContentLanguage)
            .ok_or_else(|| format!("unknown language `{s}`").into())
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.as_str().to_owned())
    }
}

/// The letter's facts, checked and formatted for its language.
struct Facts {
    title: String,
    opens: String,
    closes: String,
    /// `{public_url}/vote/{id}`: the booth, without a credential.
    vote_page: String,
    /// `{public_url}/elections/{id}`: the election's public page and board.
    board_page: String,
    /// `{public_url}/elections/{id}/ballots/`: followed by a tracker, one ballot's page.
    ballot_prefix: String,
    /// `urne verify {public_url}/api/v1/elections/{id}` (README, docs/server.md).
    verify: String,
}

impl Facts {
    fn new(letter: &Letter) -> Result<Self, MailError> {
        let e = &letter.election;
        let id = &e.id;
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(MailError::Field {
                field: "election.id",
                reason: format!(
                    "`{id}` is not an election id (1 to 64 of A-Z a-z 0-9 . _ -, spec §4.2)"
                ),
            });
        }
        let base = e.public_url.trim().trim_end_matches('/');
        let scheme_ok = base.starts_with("https://") || base.starts_with("http://");
        let host_part = base.split_once("://").map_or("", |(_, rest)| rest);
        if !scheme_ok
            || host_part.is_empty()
            || base
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"'<>#?`\\".contains(c))
        {
            return Err(MailError::Field {
                field: "election.public_url",
                reason: format!(
                    "`{}` is not a base URL (http:// or https://, no query or fragment)",
                    e.public_url
                ),
            });
        }
        if e.title.trim().is_empty() {
            return Err(MailError::Field {
                field: "election.title",
                reason: "the title is empty".to_owned(),
            });
        }
        Ok(Facts {
            title: e.title.trim().to_owned(),
            opens: date("election.opens_at", &e.opens_at, letter.lang)?,
            closes: date("election.closes_at", &e.closes_at, letter.lang)?,
            vote_page: format!("{base}/vote/{id}"),
            board_page: format!("{base}/elections/{id}"),
            ballot_prefix: format!("{base}/elections/{id}/ballots/"),
            verify: format!("urne verify {base}/api/v1/elections/{id}"),
        })
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// An RFC 3339 time shown in UTC, said so: "29 November 2026, 08:00 UTC",
/// "29 novembre 2026 à 08:00 UTC", with no-break spaces so that a date is never cut in two.
fn date(field: &'static str, value: &str, lang: Lang) -> Result<String, MailError> {
    let t = OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map_err(|e| MailError::Field {
            field,
            reason: format!("`{value}` is not an RFC 3339 time ({e})"),
        })?
        .to_offset(time::UtcOffset::UTC);
    let month = usize::from(u8::from(t.month())) - 1;
    Ok(match lang {
        Lang::En => format!(
            "{}\u{a0}{}\u{a0}{},\u{a0}{:02}:{:02}\u{a0}UTC",
            t.day(),
            MONTHS_EN[month],
            t.year(),
            t.hour(),
            t.minute()
        ),
        Lang::Fr => {
            let day = if t.day() == 1 {
                "1er".to_owned()
            } else {
                t.day().to_string()
            };
            format!(
                "{day}\u{a0}{}\u{a0}{}\u{a0}à\u{a0}{:02}:{:02}\u{a0}UTC",
                MONTHS_FR[month],
                t.year(),
                t.hour(),
                t.minute()
            )
        }
    })
}

/// A piece of running text.
enum Span {
    Text(String),
    /// A URL shown as itself, linked in HTML.
    Url(String),
    /// Text in bold.
    Strong(String),
}

/// A paragraph-level element, shown the same way in both parts.
enum Block {
    Para(Vec<Span>),
    /// A secret (credential or code) on its own line, large in HTML.
    Secret(String),
    /// A link on its own line; HTML shows it as a button with a label.
    Button {
        url: String,
        label: String,
    },
    /// A command on its own line.
    Command(String),
}

/// The body; every string is wiped when it is dropped, as some hold the secret.
struct Blocks(Vec<Block>);

impl Drop for Blocks {
    fn drop(&mut self) {
        for block in &mut self.0 {
            match block {
                Block::Para(spans) => {
                    for s in spans {
                        match s {
                            Span::Text(t) | Span::Url(t) | Span::Strong(t) => t.zeroize(),
                        }
                    }
                }
                Block::Secret(s) | Block::Command(s) => s.zeroize(),
                Block::Button { url, label } => {
                    url.zeroize();
                    label.zeroize();
                }
            }
        }
    }
}

fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}
fn url(s: impl Into<String>) -> Span {
    Span::Url(s.into())
}
fn strong(s: impl Into<String>) -> Span {
    Span::Strong(s.into())
}
fn para(spans: Vec<Span>) -> Block {
    Block::Para(spans)
}

/// The subject and the blocks of a letter.
fn compose(letter: &Letter, f: &Facts, can_reply: bool) -> (String, Blocks) {
    let fr = letter.lang == Lang::Fr;
    // French quotes and the no-break spaces French typography puts before : ; ? ! and inside « ».
    let quoted = if fr {
        format!("«\u{a0}{}\u{a0}»", f.title)
    } else {
        format!("“{}”", f.title)
    };
    let colon = if fr { "\u{a0}:" } else { ":" };
    let mut b = Vec::new();
    let subject;
    match &letter.content {
        Content::Credential {
            voter,
            name,
            credential,
            weight,
        }
        | Content::Replacement {
            voter,
            name,
            credential,
            weight,
        } => {
            let replacement = matches!(letter.content, Content::Replacement { .. });
            subject = match (fr, replacement) {
                (false, false) => format!("Your voting credential: {}", f.title),
                (false, true) => format!("Your new voting credential: {}", f.title),
                (true, false) => format!("Votre clé de vote{colon} {}", f.title),
                (true, true) => format!("Votre nouvelle clé de vote{colon} {}", f.title),
            };
            b.push(greeting(fr, name.as_deref()));
            if replacement {
                b.push(para(if fr {
                    vec![
                        t(format!(
                            "Votre clé de vote pour l’élection {quoted} a été remplacée, \
                             comme demandé. "
                        )),
                        strong("L’ancienne clé ne fonctionne plus"),
                        t(format!(
                            "\u{a0}: utilisez uniquement celle ci-dessous. Si vous n’avez rien \
                             demandé, prévenez sans attendre les organisateurs. Le vote est \
                             ouvert du {} au {}.",
                            f.opens, f.closes
                        )),
                    ]
                } else {
                    vec![
                        t(format!(
                            "Your credential for the election {quoted} has been replaced, as \
                             was asked. "
                        )),
                        strong("The old credential no longer works"),
                        t(format!(
                            ": use only the one below. If you did not ask for this, tell the \
                             organizers at once. Voting is open from {}, until {}.",
                            f.opens, f.closes
                        )),
                    ]
                }));
            } else {
                b.push(para(vec![t(if fr {
                    format!(
                        "Vous pouvez voter à l’élection {quoted}. Le vote est ouvert du {} au {}.",
                        f.opens, f.closes
                    )
                } else {
                    format!(
                        "You may vote in the election {quoted}. Voting is open from {}, until {}.",
                        f.opens, f.closes
                    )
                })]));
            }
            let mut who = vec![
                t(if fr {
                    "Votre identifiant, pour vous connecter\u{a0}: "
                } else {
                    "Your voter identifier, to log in: "
                }),
                strong(voter.as_str()),
                t("."),
            ];
            if *weight != 1 {
                who.push(t(if fr {
                    format!(" Votre clé de vote compte pour {weight}\u{a0}voix.")
                } else {
                    format!(" Your credential carries {weight} votes.")
                }));
            }
            b.push(para(who));
            let link = format!("{}#credential={}", f.vote_page, credential.as_str());
            b.push(para(vec![t(if fr {
                "Pour voter, ouvrez ce lien personnel pendant la période de vote\u{a0}:"
            } else {
                "To vote, open this personal link during the voting period:"
            })]));
            b.push(Block::Button {
                url: link,
                label: if fr { "Voter" } else { "Vote" }.to_owned(),
            });
            b.push(para(vec![
                t(if fr {
                    "Si le lien ne fonctionne pas, ouvrez "
                } else {
                    "If the link does not work, open "
                }),
                url(f.vote_page.as_str()),
                t(if fr {
                    " et saisissez cette clé de vote\u{a0}:"
                } else {
                    " and type this credential:"
                }),
            ]));
            b.push(Block::Secret(credential.as_str().to_owned()));
            b.push(para(if fr {
                vec![
                    strong("Gardez cette clé secrète"),
                    t(
                        "\u{a0}: quiconque la détient peut voter à votre place. Personne parmi \
                         les organisateurs ne vous la demandera jamais, ni par courriel, ni par \
                         téléphone, ni autrement. Elle reste sur votre appareil\u{a0}: la partie \
                         du lien qui suit «\u{a0}#\u{a0}» n’est jamais envoyée au serveur.",
                    ),
                ]
            } else {
                vec![
                    strong("Keep this credential secret"),
                    t(
                        ": whoever has it can vote in your place. Nobody from the organizers \
                         will ever ask you for it, by mail, telephone or otherwise. It stays on \
                         your device: the part of the link after “#” is never sent to the \
                         server.",
                    ),
                ]
            }));
            b.push(para(if fr {
                vec![
                    strong("Vérifier votre bulletin."),
                    t(
                        " Après votre vote, l’isoloir affiche le numéro de suivi de votre \
                         bulletin, une suite de 43\u{a0}caractères\u{a0}; notez-le. Vous \
                         retrouverez votre bulletin à l’adresse ",
                    ),
                    url(f.ballot_prefix.as_str()),
                    t(" suivie de ce numéro, et sur le tableau public de l’élection, "),
                    url(f.board_page.as_str()),
                    t(
                        ". Chacun peut aussi vérifier l’élection entière, chaque bulletin et le \
                         décompte, avec le programme urne\u{a0}:",
                    ),
                ]
            } else {
                vec![
                    strong("Checking your ballot."),
                    t(
                        " After you vote, the booth shows your ballot’s tracker, a string of 43 \
                         characters; write it down. You will find your ballot at ",
                    ),
                    url(f.ballot_prefix.as_str()),
                    t(" followed by the tracker, and on the election’s public board, "),
                    url(f.board_page.as_str()),
                    t(
                        ". Anyone can also check the whole election, every ballot and the \
                         count, with the urne program:",
                    ),
                ]
            }));
            b.push(Block::Command(f.verify.clone()));
        }
        Content::Code {
            voter,
            code,
            minutes,
        } => {
            subject = if fr {
                format!("Code de connexion{colon} {}", f.title)
            } else {
                format!("Your login code: {}", f.title)
            };
            b.push(greeting(fr, None));
            b.push(para(vec![t(if fr {
                format!(
                    "Voici votre code de connexion à usage unique pour l’élection {quoted} \
                     (identifiant {voter})\u{a0}:"
                )
            } else {
                format!(
                    "Here is your one-time login code for the election {quoted} (identifier \
                     {voter}):"
                )
            })]));
            b.push(Block::Secret(code.as_str().to_owned()));
            let unit = match (fr, *minutes == 1) {
                (true, _) if *minutes <= 1 => "minute",
                (true, _) => "minutes",
                (false, true) => "minute",
                (false, false) => "minutes",
            };
            b.push(para(vec![t(if fr {
                format!(
                    "Il est valable {minutes}\u{a0}{unit} et ne sert qu’une fois. Ne le \
                     communiquez à personne. Si vous ne l’avez pas demandé, ignorez simplement \
                     ce message."
                )
            } else {
                format!(
                    "It is valid for {minutes} {unit} and works only once. Do not give it to \
                     anyone. If you did not ask for it, simply ignore this message."
                )
            })]));
        }
    }
    b.push(para(vec![t(match (fr, can_reply) {
        (true, true) => {
            "Une question\u{a0}? Répondez à ce message\u{a0}: votre réponse parviendra aux \
             organisateurs."
        }
        (true, false) => {
            "Ce message a été envoyé automatiquement\u{a0}; les réponses ne sont pas lues."
        }
        (false, true) => "A question? Reply to this message: it reaches the organizers.",
        (false, false) => "This message was sent automatically; replies are not read.",
    })]));
    (subject, Blocks(b))
}

fn greeting(fr: bool, name: Option<&str>) -> Block {
    let hello = if fr { "Bonjour" } else { "Hello" };
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => para(vec![t(format!("{hello} {n},"))]),
        None => para(vec![t(format!("{hello},"))]),
    }
}

impl Blocks {
    /// The plain-text part: paragraphs wrapped at 72 columns, secrets and commands indented.
    fn text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        for block in &self.0 {
            match block {
                Block::Para(spans) => {
                    let mut whole = Zeroizing::new(String::new());
                    for s in spans {
                        match s {
                            Span::Text(x) | Span::Url(x) | Span::Strong(x) => whole.push_str(x),
                        }
                    }
                    wrap(&whole, 72, &mut out);
                }
                Block::Secret(s) | Block::Command(s) => {
                    out.push_str("    ");
                    out.push_str(s);
                    out.push('\n');
                }
                Block::Button { url, .. } => {
                    out.push_str(url);
                    out.push('\n');
                }
            }
            out.push('\n');
        }
        out
    }

    /// The HTML part: a small document with inline styles, every text escaped.
    fn html(&self, lang: Lang, subject: &str) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        out.push_str("<!DOCTYPE html>\n<html lang=\"");
        out.push_str(lang.as_str());
        out.push_str(
            "\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
        );
        escape(subject, &mut out);
        out.push_str(
            "</title>\n</head>\n<body style=\"font-family: sans-serif; line-height: 1.5; \
             color: #1a1a1a; max-width: 40em; margin: 0 auto; padding: 1em;\">\n",
        );
        for block in &self.0 {
            match block {
                Block::Para(spans) => {
                    out.push_str("<p>");
                    for s in spans {
                        match s {
                            Span::Text(x) => escape(x, &mut out),
                            Span::Strong(x) => {
                                out.push_str("<strong>");
                                escape(x, &mut out);
                                out.push_str("</strong>");
                            }
                            Span::Url(x) => {
                                out.push_str("<a href=\"");
                                escape(x, &mut out);
                                out.push_str("\">");
                                escape(x, &mut out);
                                out.push_str("</a>");
                            }
                        }
                    }
                    out.push_str("</p>\n");
                }
                Block::Secret(s) => {
                    out.push_str(
                        "<p style=\"font-family: monospace; font-size: 1.3em; letter-spacing: \
                         0.05em; background: #f2f2f2; padding: 0.5em 1em; display: \
                         inline-block;\">",
                    );
                    escape(s, &mut out);
                    out.push_str("</p>\n");
                }
                Block::Command(s) => {
                    out.push_str(
                        "<pre style=\"background: #f2f2f2; padding: 0.5em 1em; white-space: \
                         pre-wrap;\">",
                    );
                    escape(s, &mut out);
                    out.push_str("</pre>\n");
                }
                Block::Button { url, label } => {
                    out.push_str(
                        "<p><a style=\"display: inline-block; background: #1f4e8c; color: \
                         #ffffff; padding: 0.6em 1.4em; border-radius: 0.3em; \
                         text-decoration: none; font-weight: bold;\" href=\"",
                    );
                    escape(url, &mut out);
                    out.push_str("\">");
                    escape(label, &mut out);
                    out.push_str("</a></p>\n");
                }
            }
        }
        out.push_str("</body>\n</html>\n");
        out
    }
}

/// HTML-escapes `s` for text and double- or single-quoted attribute values.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Appends `s` wrapped at `width` columns (characters), breaking only at spaces, so that URLs
/// and no-break spaces stay whole; a word longer than the width gets a line of its own.
fn wrap(s: &str, width: usize, out: &mut String) {
    let mut col = 0;
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if col > 0 && col + 1 + len > width {
            out.push('\n');
            col = 0;
        }
        if col > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_long_words_whole() {
        let mut out = String::new();
        wrap("a bb https://very.long/url/that/is/long ccc", 10, &mut out);
        assert_eq!(out, "a bb\nhttps://very.long/url/that/is/long\nccc\n");
    }

    #[test]
    fn dates_are_shown_in_utc() {
        assert_eq!(
            date("d", "2026-11-29T09:00:00+01:00", Lang::En).unwrap(),
            "29\u{a0}November\u{a0}2026,\u{a0}08:00\u{a0}UTC"
        );
        assert_eq!(
            date("d", "2026-12-01T08:05:00Z", Lang::Fr).unwrap(),
            "1er\u{a0}décembre\u{a0}2026\u{a0}à\u{a0}08:05\u{a0}UTC"
        );
        assert!(date("d", "29/11/2026", Lang::En).is_err());
    }
}
