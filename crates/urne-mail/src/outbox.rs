//! Where messages go: a Maildir folder or an SMTP server.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport as _};
use zeroize::Zeroizing;

use crate::MailError;
use crate::render::{Rendered, address};

/// Where messages are delivered.
#[derive(Debug, Clone)]
pub enum Outbox {
    /// A Maildir folder (its `tmp`, `new` and `cur` are made when missing): for development and
    /// `urne demo`, where no mail server is needed. Messages land in `new/`, readable by any mail
    /// client that opens Maildirs (mutt -f, Thunderbird, Python's `mailbox`).
    Maildir(PathBuf),
    /// An SMTP server.
    Smtp(SmtpConfig),
}

/// How to reach an SMTP server.
#[derive(Clone)]
pub struct SmtpConfig {
    /// The server's host name (checked against its certificate) or IP address.
    pub host: String,
    /// The port: usually 587 with STARTTLS, 465 with implicit TLS.
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
    /// The login, if the server asks for one.
    pub username: Option<String>,
    /// The password of `username`.
    pub password: Option<Zeroizing<String>>,
    /// How long to wait for the server at each step (connecting, each answer).
    pub timeout: Duration,
    /// Certificates (PEM) of a private certificate authority to trust besides the web PKI's
    /// roots: for an internal relay, and for tests.
    pub extra_root_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<secret>"))
            .field("timeout", &self.timeout)
            .field(
                "extra_root_pem",
                &self.extra_root_pem.as_ref().map(|p| p.len()),
            )
            .finish()
    }
}

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (RFC 3207), which must succeed.
    Starttls,
    /// TLS from the first byte (RFC 8314 "implicit TLS", port 465).
    Tls,
    /// No TLS at all: refused unless the host is a loopback address (a relay on this machine).
    None,
}

/// An open outbox, shared by threads: a Maildir folder, or an SMTP transport with its pool of
/// connections (reopened as needed).
#[derive(Clone)]
pub struct Connection(Inner);

#[derive(Clone)]
enum Inner {
    Maildir(PathBuf),
    Smtp(SmtpTransport),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::Maildir(p) => f.debug_tuple("Maildir").field(p).finish(),
            Inner::Smtp(_) => f.write_str("Smtp"),
        }
    }
}

/// What became of one attempt to send one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server (or the Maildir) took the message.
    Sent,
    /// A temporary failure (4xx answer, timeout, lost connection, unreachable server, full
    /// disk): try again later.
    Transient(String),
    /// A permanent refusal (5xx answer, invalid address): recorded as bounced, not retried.
    Permanent(String),
}

impl Outbox {
    /// Opens the outbox: makes the Maildir's folders, or prepares the SMTP transport (TLS
    /// settings, credentials). The SMTP server is only contacted when a message is sent.
    pub fn connect(&self) -> Result<Connection, MailError> {
        match self {
            Outbox::Maildir(dir) => {
                for sub in ["tmp", "new", "cur"] {
                    let path = dir.join(sub);
                    create_private_dir(&path)
                        .map_err(|source| MailError::Maildir { path, source })?;
                }
                Ok(Connection(Inner::Maildir(dir.clone())))
            }
            Outbox::Smtp(cfg) => smtp_transport(cfg).map(|t| Connection(Inner::Smtp(t))),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

fn smtp_transport(cfg: &SmtpConfig) -> Result<SmtpTransport, MailError> {
    let tls_parameters = || -> Result<TlsParameters, MailError> {
        let mut builder = TlsParameters::builder(cfg.host.clone());
        if let Some(pem) = &cfg.extra_root_pem {
            let cert = Certificate::from_pem(pem)
                .map_err(|e| MailError::Config(format!("extra_root_pem: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        builder
            .build_rustls()
            .map_err(|e| MailError::Config(format!("tls: {e}")))
    };
    let tls = match cfg.security {
        Security::Starttls => Tls::Required(tls_parameters()?),
        Security::Tls => Tls::Wrapper(tls_parameters()?),
        Security::None => {
            if !is_loopback(&cfg.host) {
                return Err(MailError::Insecure {
                    host: cfg.host.clone(),
                });
            }
            Tls::None
        }
    };
    let mut builder = SmtpTransport::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .tls(tls)
        .timeout(Some(cfg.timeout))
        .pool_config(PoolConfig::new().max_size(16));
    match (&cfg.username, &cfg.password) {
        (Some(user), Some(password)) => {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.as_str().to_owned()));
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(MailError::Config(
                "username: given without a password".to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(MailError::Config(
                "password: given without a username".to_owned(),
            ));
        }
    }
    Ok(builder.build())
}

impl Connection {
    /// Sends `rendered` to `to` (an address, or a mailbox `Name <address>`), once.
    ///
    /// A Maildir keeps the message as it is (its `To` header names the recipient).
    pub fn send(&self, to: &str, rendered: &Rendered) -> SendOutcome {
        let to = match address("to", to) {
            Ok(a) => a,
            Err(e) => return SendOutcome::Permanent(e.to_string()),
        };
        match &self.0 {
            Inner::Maildir(dir) => match maildir_deliver(dir, &rendered.bytes) {
                Ok(()) => SendOutcome::Sent,
                Err(e) => SendOutcome::Transient(e.to_string()),
            },
            Inner::Smtp(transport) => {
                let from = match address("from", &rendered.envelope_from) {
                    Ok(a) => a,
                    Err(e) => return SendOutcome::Permanent(e.to_string()),
                };
                let envelope = match Envelope::new(Some(from), vec![to]) {
                    Ok(e) => e,
                    Err(e) => return SendOutcome::Permanent(format!("envelope: {e}")),
                };
                match transport.send_raw(&envelope, &rendered.bytes) {
                    Ok(_) => SendOutcome::Sent,
                    Err(e) if e.is_permanent() => SendOutcome::Permanent(e.to_string()),
                    Err(e) => SendOutcome::Transient(e.to_string()),
                }
            }
        }
    }
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Delivers one message into a Maildir the way the format's description (D. J. Bernstein,
/// "Using maildir format", cr.yp.to/proto/maildir.html) asks: written under a unique name in
/// `tmp/`, synced, then renamed into `new/`, so a reader never sees half a message.
fn maildir_deliver(dir: &Path, bytes: &[u8]) -> Result<(), MailError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| MailError::Randomness(e.to_string()))?;
    // The host part may not hold `/` or `:` (the latter separates a name from its flags).
    let host = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".to_owned())
        .replace('/', "\\057")
        .replace(':', "\\072");
    let name = format!(
        "{}.M{}P{}Q{}R{}.{host}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        u64::from_be_bytes(random),
    );
    let tmp = dir.join("tmp").join(&name);
    let new = dir.join("new").join(&name);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MailError::Maildir { path, source }
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io(&tmp)(e));
    }
    if let Err(e) = fs::rename(&tmp, &new) {
        let _ = fs::remove_file(&tmp);
        return Err(io(&new)(e));
    }
    // The rename is durable once the folder itself is synced.
    File::open(dir.join("new"))
        .and_then(|d| d.sync_all())
        .map_err(io(&dir.join("new")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("mail.example.org"));
        assert!(!is_loopback("192.168.1.2"));
    }

    #[test]
    fn rejects_plain_smtp_to_remote_host() {
        let cfg = SmtpConfig {
            host: "mail.example.org".to_owned(),
            port: 25,
            security: Security::None,
            username: None,
            password: None,
            timeout: Duration::from_secs(5),
            extra_root_pem: None,
        };
        assert!(matches!(
            Outbox::Smtp(cfg).connect(),
            Err(MailError::Insecure { .. })
        ));
    }
}
