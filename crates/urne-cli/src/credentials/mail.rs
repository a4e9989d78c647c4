//! `urne credentials mail`: the credential authority mails each voter its credential itself.
//!
//! The letters are written and sent by urne-mail, through an SMTP server (STARTTLS or implicit
//! TLS; a plain connection only to a relay on this machine) or into a Maildir folder (to check
//! the letters, or to hand them to another mailer). Every letter ends sent, failed (temporary
//! errors, retried first) or bounced (refused for good); the report says which, and is written
//! beside the private file. The credential travels only in the voting link's fragment, which
//! browsers never send to the server.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail, ensure};
use clap::{ArgGroup, Args, ValueEnum};
use serde::Serialize;
use urne_mail::{
    Content, DeliverOptions, DeliveryEvent, ElectionInfo, Lang, Letter, Outbox, Security, Sender,
    SmtpConfig,
};
use zeroize::Zeroizing;

use super::private;
use crate::progress;

/// How the SMTP connection is protected.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum SmtpSecurity {
    /// A plain connection upgraded with STARTTLS (RFC 3207), usually port 587.
    Starttls,
    /// TLS from the first byte (RFC 8314), usually port 465.
    Tls,
    /// No TLS: only to a relay on this machine (a loopback address).
    None,
}

/// The language of letters to voters the roll gives none for.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum DefaultLang {
    /// French.
    Fr,
    /// English.
    En,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("outbox").required(true).args(["smtp_host", "outbox_maildir"])))]
#[command(group(ArgGroup::new("about").required(true).args(["election_url", "election"])))]
pub(super) struct Mail {
    /// The private file written by `generate`.
    #[arg(long, value_name = "FILE")]
    private: PathBuf,
    /// The election's public address (`https://vote.example/api/v1/elections/ID`): its title
    /// and voting period are read from the server (once the setup is sealed).
    #[arg(long, value_name = "URL")]
    election_url: Option<String>,
    /// The election id, when the election is described by flags instead of --election-url.
    #[arg(long, value_name = "ID", requires_all = ["title", "opens_at", "closes_at", "public_url"])]
    election: Option<String>,
    /// The election's title, as voters know it (with --election).
    #[arg(long)]
    title: Option<String>,
    /// When voting opens, RFC 3339 (with --election).
    #[arg(long, value_name = "TIME")]
    opens_at: Option<String>,
    /// When voting closes, RFC 3339 (with --election).
    #[arg(long, value_name = "TIME")]
    closes_at: Option<String>,
    /// The server's base address, `https://vote.example` (with --election).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// The SMTP server to send through.
    #[arg(long, value_name = "HOST")]
    smtp_host: Option<String>,
    /// The SMTP server's port (default: 587 with STARTTLS, 465 with TLS, 25 without).
    #[arg(long, value_name = "PORT")]
    smtp_port: Option<u16>,
    /// How the SMTP connection is protected.
    #[arg(long, value_enum, default_value_t = SmtpSecurity::Starttls)]
    smtp_security: SmtpSecurity,
    /// The SMTP login; its password is read from the URNE_SMTP_PASSWORD environment variable.
    #[arg(long, value_name = "USER")]
    smtp_user: Option<String>,
    /// Put the messages into this Maildir folder instead of sending them.
    #[arg(long, value_name = "DIR")]
    outbox_maildir: Option<PathBuf>,
    /// The sender, `Name <address>` or `address`; bounces go to its address.
    #[arg(long, value_name = "ADDR")]
    from: String,
    /// A Reply-To mailbox (the organizers' help desk).
    #[arg(long, value_name = "ADDR")]
    reply_to: Option<String>,
    /// Only these voters (repeat the flag): to resend, or to mail a replaced credential.
    #[arg(long = "voter", value_name = "ID")]
    voters: Vec<String>,
    /// The letters say that the credential replaces a lost one (after `replace`).
    #[arg(long, requires = "voters")]
    replacement: bool,
    /// Messages a second at most.
    #[arg(long, value_name = "N", default_value_t = 10.0)]
    per_second: f64,
    /// Messages sent at once (SMTP connections).
    #[arg(long, value_name = "N", default_value_t = 4)]
    connections: usize,
    /// The language of letters to voters the roll gives none for.
    #[arg(long, value_enum, default_value_t = DefaultLang::En)]
    default_lang: DefaultLang,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// What `delivery-report.json` holds.
#[derive(Serialize)]
struct ReportFile<'a> {
    election: &'a str,
    outbox: String,
    sent: &'a [String],
    failed: Vec<Failure<'a>>,
    bounced: Vec<Failure<'a>>,
}

#[derive(Serialize)]
struct Failure<'a> {
    voter: &'a str,
    error: &'a str,
}

fn failures(list: &[(String, String)]) -> Vec<Failure<'_>> {
    list.iter()
        .map(|(voter, error)| Failure { voter, error })
        .collect()
}

/// The election as the letters describe it: from the server, or from the flags.
fn election_info(a: &Mail) -> anyhow::Result<ElectionInfo> {
    if let Some(url) = &a.election_url {
        let url = url.trim_end_matches('/');
        let Some((base, id)) = url.rsplit_once("/api/v1/elections/") else {
            bail!("--election-url: `{url}` is not an election's address (…/api/v1/elections/ID)");
        };
        let view: serde_json::Value = crate::client::Client::new(base)
            .get(&format!("/api/v1/elections/{id}"))
            .with_context(|| format!("reading the election at {url}"))?;
        let Some(manifest) = view.get("manifest").filter(|m| !m.is_null()) else {
            bail!(
                "{url}: the election's setup is not sealed yet. Check the credential list's \
                 fingerprint on its board once it is, before mailing"
            );
        };
        let text = |v: &serde_json::Value, what: &str| -> anyhow::Result<String> {
            v.as_str()
                .map(str::to_owned)
                .with_context(|| format!("{url}: the answer has no {what}"))
        };
        return Ok(ElectionInfo {
            id: text(&view["id"], "id")?,
            title: text(&manifest["title"], "title")?,
            opens_at: text(&manifest["opens_at"], "opens_at")?,
            closes_at: text(&manifest["closes_at"], "closes_at")?,
            public_url: base.to_owned(),
        });
    }
    let missing = |what: &str| format!("--{what} is missing");
    Ok(ElectionInfo {
        id: a.election.clone().with_context(|| missing("election"))?,
        title: a.title.clone().with_context(|| missing("title"))?,
        opens_at: a.opens_at.clone().with_context(|| missing("opens-at"))?,
        closes_at: a.closes_at.clone().with_context(|| missing("closes-at"))?,
        public_url: a
            .public_url
            .clone()
            .with_context(|| missing("public-url"))?
            .trim_end_matches('/')
            .to_owned(),
    })
}

fn outbox(a: &Mail) -> anyhow::Result<(Outbox, String)> {
    if let Some(dir) = &a.outbox_maildir {
        return Ok((
            Outbox::Maildir(dir.clone()),
            format!("maildir {}", dir.display()),
        ));
    }
    let host = a.smtp_host.clone().context("--smtp-host is missing")?;
    let (security, port) = match a.smtp_security {
        SmtpSecurity::Starttls => (Security::Starttls, 587),
        SmtpSecurity::Tls => (Security::Tls, 465),
        SmtpSecurity::None => (Security::None, 25),
    };
    let port = a.smtp_port.unwrap_or(port);
    let password = std::env::var("URNE_SMTP_PASSWORD").ok().map(Zeroizing::new);
    ensure!(
        password.is_none() || a.smtp_user.is_some(),
        "URNE_SMTP_PASSWORD is set but --smtp-user is not"
    );
    ensure!(
        a.smtp_user.is_none() || password.is_some(),
        "--smtp-user needs its password in the URNE_SMTP_PASSWORD environment variable"
    );
    let described = format!("smtp {host}:{port}");
    Ok((
        Outbox::Smtp(SmtpConfig {
            host,
            port,
            security,
            username: a.smtp_user.clone(),
            password,
            timeout: std::time::Duration::from_secs(30),
            extra_root_pem: None,
        }),
        described,
    ))
}

/// Runs `urne credentials mail`: exit 0 when every letter was sent, 1 when any failed or
/// bounced.
pub(super) fn run(a: &Mail) -> anyhow::Result<ExitCode> {
    let sender = Sender {
        from: a.from.clone(),
        reply_to: a.reply_to.clone(),
    };
    sender.check()?;
    let entries = private::read(&a.private)?;
    for v in &a.voters {
        ensure!(
            entries.iter().any(|e| &e.voter_id == v),
            "{}: no voter `{v}`",
            a.private.display()
        );
    }
    let election = election_info(a)?;
    let (outbox, described) = outbox(a)?;
    let default_lang = match a.default_lang {
        DefaultLang::Fr => Lang::Fr,
        DefaultLang::En => Lang::En,
    };
    let letters: Vec<(String, Letter)> = entries
        .iter()
        .filter(|e| a.voters.is_empty() || a.voters.contains(&e.voter_id))
        .map(|e| {
            let voter = e.voter_id.clone();
            let name = e.name.clone();
            let credential = e.credential.display();
            let content = if a.replacement {
                Content::Replacement {
                    voter,
                    name,
                    credential,
                    weight: e.weight,
                }
            } else {
                Content::Credential {
                    voter,
                    name,
                    credential,
                    weight: e.weight,
                }
            };
            let letter = Letter {
                to: e.email.clone(),
                lang: e
                    .lang
                    .as_deref()
                    .and_then(Lang::parse)
                    .unwrap_or(default_lang),
                election: election.clone(),
                content,
            };
            (e.voter_id.clone(), letter)
        })
        .collect();
    drop(entries);
    let count = letters.len();

    let pb = progress::bar(a.quiet, count as u64, "mail", false);
    let options = DeliverOptions {
        per_second: a.per_second,
        connections: a.connections,
        ..DeliverOptions::default()
    };
    let report = urne_mail::deliver(letters, &sender, &outbox, &options, &|event| match event {
        DeliveryEvent::Sent { .. }
        | DeliveryEvent::Failed { .. }
        | DeliveryEvent::Bounced { .. } => pb.inc(1),
        DeliveryEvent::Retrying {
            voter,
            attempts,
            error,
            delay,
        } => pb.println(format!(
            "  voter {voter}: attempt {attempts} failed ({error}); again in {:.0} s",
            delay.as_secs_f64()
        )),
    });
    pb.finish_and_clear();

    let dir = match a.private.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let report_path = if a.voters.is_empty() {
        dir.join("delivery-report.json")
    } else {
        dir.join(format!(
            "delivery-report-{}.json",
            super::file_safe(&a.voters.join("+"))
        ))
    };
    let file = ReportFile {
        election: &election.id,
        outbox: described.clone(),
        sent: &report.sent,
        failed: failures(&report.failed),
        bounced: failures(&report.bounced),
    };
    let mut json = serde_json::to_vec_pretty(&file)?;
    json.push(b'\n');
    private::write_atomically(&report_path, &json, private::Mode::Public, true)?;

    say!(
        "urne credentials mail: {count} letter{} for election `{}` through {described}",
        if count == 1 { "" } else { "s" },
        election.id
    );
    say!("  sent        {}", report.sent.len());
    say!(
        "  failed      {} (temporary errors, retried)",
        report.failed.len()
    );
    say!("  bounced     {} (refused for good)", report.bounced.len());
    say!("  report      {}", report_path.display());
    for (voter, error) in &report.failed {
        say!("  FAILED  {voter}: {error}");
    }
    for (voter, error) in &report.bounced {
        say!("  BOUNCED {voter}: {error}");
    }
    if report.failed.is_empty() && report.bounced.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    say!("");
    say!("Not every voter has its credential. To send again:");
    say!("  - failed: once the mail server answers again, rerun the same command with --voter");
    say!("    for each failed voter (the report lists them);");
    say!("  - bounced: fix the voter's address in the private file (the email column), then");
    say!("    rerun with --voter for that voter.");
    Ok(ExitCode::from(1))
}
