//! The server's configuration: a TOML file, then `URNE_*` environment variables over it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `urne serve` needs to know.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on (`URNE_LISTEN`).
    pub listen: SocketAddr,
    /// Directory of the embedded database and the board key (`URNE_DATA_DIR`).
    pub data_dir: PathBuf,
    /// A PostgreSQL URL (`postgres://user@host:port/db`); when set, the data lives there instead
    /// of the embedded database (`URNE_DATABASE_URL`).
    pub database_url: Option<String>,
    /// The file of the key that signs the boards' tree heads; default `DATA_DIR/board-key`.
    /// Servers sharing one PostgreSQL database must share this key (`URNE_BOARD_KEY_FILE`).
    pub board_key_file: Option<PathBuf>,
    /// The address voters and administrators use, behind any proxy (`URNE_PUBLIC_URL`). When it
    /// starts with `https://`, cookies are marked Secure.
    pub public_url: Option<String>,
    /// Largest request body for a ballot, in bytes.
    pub max_ballot_bytes: usize,
    /// Largest request body for administrators' and trustees' uploads (credential lists), in
    /// bytes.
    pub max_upload_bytes: usize,
    /// Most ballots verified and written in one group commit.
    pub max_batch: usize,
    /// How long an administrator's login lasts, in hours.
    pub session_hours: u32,
    /// Seconds between the scheduler's checks of opening and closing times.
    pub scheduler_seconds: u64,
    /// How mail to voters leaves the server (`[mail]`).
    pub mail: MailConfig,
    /// Voters' logins (`[voters]`).
    pub voters: VoterLoginConfig,
    /// The OpenID Connect provider voters may log in with (`[oidc]`), for elections whose
    /// draft says `voter_auth = "oidc"`. Its `redirect_url` is this server's
    /// `{public_url}/api/v1/voter/oidc/callback`.
    pub oidc: Option<crate::oidc::OidcConfig>,
}

/// Where the server's mail goes and how fast (`[mail]` in the TOML file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `maildir` (the default: messages are written to a local folder, for development and for
    /// a separate mail system to pick up) or `smtp` (`URNE_MAIL_OUTBOX`).
    pub outbox: MailOutbox,
    /// The Maildir folder; default `DATA_DIR/outbox` (`URNE_MAIL_MAILDIR`).
    pub maildir: Option<PathBuf>,
    /// The sender, e.g. `Election office <elections@example.org>` (`URNE_MAIL_FROM`).
    pub from: String,
    /// Reply-To, where voters' answers go.
    pub reply_to: Option<String>,
    /// Most messages sent per second (all elections together).
    pub per_second: f64,
    /// Messages sent at the same time (SMTP connections).
    pub connections: usize,
    /// Most attempts per message before it is recorded as failed.
    pub max_attempts: u32,
    /// Delay before the first retry, in seconds; each retry waits about twice as long.
    pub first_retry_seconds: u64,
    /// Longest delay between retries, in seconds.
    pub max_retry_seconds: u64,
    /// The SMTP relay (`outbox = "smtp"`).
    pub smtp: SmtpSettings,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            outbox: MailOutbox::Maildir,
            maildir: None,
            from: "urne <noreply@localhost>".to_owned(),
            reply_to: None,
            per_second: 20.0,
            connections: 4,
            max_attempts: 6,
            first_retry_seconds: 30,
            max_retry_seconds: 3600,
            smtp: SmtpSettings::default(),
        }
    }
}

/// Where mail goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailOutbox {
    /// A local Maildir folder.
    Maildir,
    /// An SMTP relay.
    Smtp,
}

impl std::str::FromStr for MailOutbox {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "maildir" => Ok(MailOutbox::Maildir),
            "smtp" => Ok(MailOutbox::Smtp),
            _ => Err(format!("`{s}` is not `maildir` or `smtp`")),
        }
    }
}

/// An SMTP relay (`[mail.smtp]`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// Host name (`URNE_SMTP_HOST`).
    pub host: String,
    /// Port; default 587 for STARTTLS, 465 for implicit TLS (`URNE_SMTP_PORT`).
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS) or `none` (loopback relays only)
    /// (`URNE_SMTP_SECURITY`).
    pub security: String,
    /// User name, when the relay wants one (`URNE_SMTP_USER`).
    pub username: Option<String>,
    /// Password: only from the environment (`URNE_SMTP_PASSWORD`), never from the file.
    #[serde(skip)]
    pub password: Option<zeroize::Zeroizing<String>>,
    /// Seconds before a connection or command times out.
    pub timeout_seconds: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: "localhost".to_owned(),
            port: None,
            security: "starttls".to_owned(),
            username: None,
            password: None,
            timeout_seconds: 30,
        }
    }
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<secret>"))
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// Voters' logins by one-time code (`[voters]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoterLoginConfig {
    /// How long a one-time code is valid, in minutes.
    pub code_minutes: u32,
    /// Wrong tries before a code stops working.
    pub code_attempts: u32,
    /// Most codes mailed to one voter per hour.
    pub codes_per_hour: u32,
    /// How long a voter's login lasts, in minutes.
    pub session_minutes: u32,
}

impl Default for VoterLoginConfig {
    fn default() -> Self {
        VoterLoginConfig {
            code_minutes: 15,
            code_attempts: 5,
            codes_per_hour: 5,
            session_minutes: 60,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("urne-data"),
            database_url: None,
            board_key_file: None,
            public_url: None,
            max_ballot_bytes: 1 << 20,
            max_upload_bytes: 256 << 20,
            max_batch: 512,
            session_hours: 12,
            scheduler_seconds: 1,
            mail: MailConfig::default(),
            voters: VoterLoginConfig::default(),
            oidc: None,
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line.
        message: String,
    },
    /// An environment variable has a bad value.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl ServerConfig {
    /// Reads `file` (if any), then applies the `URNE_*` variables of `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            None => ServerConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
        };
        fn parse<T: std::str::FromStr>(name: &'static str, v: &str) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            v.parse().map_err(|e: T::Err| ConfigError::Env {
                name,
                message: e.to_string(),
            })
        }
        if let Some(v) = env("URNE_LISTEN") {
            config.listen = parse("URNE_LISTEN", &v)?;
        }
        if let Some(v) = env("URNE_DATA_DIR") {
            config.data_dir = v.into();
        }
        if let Some(v) = env("URNE_DATABASE_URL") {
            config.database_url = Some(v);
        }
        if let Some(v) = env("URNE_BOARD_KEY_FILE") {
            config.board_key_file = Some(v.into());
        }
        if let Some(v) = env("URNE_PUBLIC_URL") {
            config.public_url = Some(v);
        }
        if let Some(v) = env("URNE_MAX_BATCH") {
            config.max_batch = parse("URNE_MAX_BATCH", &v)?;
        }
        if let Some(v) = env("URNE_MAIL_OUTBOX") {
            config.mail.outbox = parse("URNE_MAIL_OUTBOX", &v)?;
        }
        if let Some(v) = env("URNE_MAIL_MAILDIR") {
            config.mail.maildir = Some(v.into());
        }
        if let Some(v) = env("URNE_MAIL_FROM") {
            config.mail.from = v;
        }
        if let Some(v) = env("URNE_SMTP_HOST") {
            config.mail.smtp.host = v;
        }
        if let Some(v) = env("URNE_SMTP_PORT") {
            config.mail.smtp.port = Some(parse("URNE_SMTP_PORT", &v)?);
        }
        if let Some(v) = env("URNE_SMTP_SECURITY") {
            config.mail.smtp.security = v;
        }
        if let Some(v) = env("URNE_SMTP_USER") {
            config.mail.smtp.username = Some(v);
        }
        if let Some(v) = env("URNE_SMTP_PASSWORD") {
            config.mail.smtp.password = Some(zeroize::Zeroizing::new(v));
        }
        Ok(config)
    }

    /// Whether cookies must carry the Secure attribute (the public address is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// The Maildir folder of the outbox.
    pub fn maildir_path(&self) -> PathBuf {
        self.mail
            .maildir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("outbox"))
    }

    /// The board key's file.
    pub fn board_key_path(&self) -> PathBuf {
        self.board_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("board-key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("urne.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\nmax_batch = 64\n").unwrap();
        let c = ServerConfig::load(Some(&path), |k| {
            (k == "URNE_LISTEN").then(|| "127.0.0.1:9100".to_owned())
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.max_batch, 64);
    }

    #[test]
    fn rejects_unknown_keys_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("urne.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\nlisten_port = 1\n").unwrap();
        let e = ServerConfig::load(Some(&path), |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen_port") && e.contains("line 2"), "{e}");
    }
}
