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
        Ok(config)
    }

    /// Whether cookies must carry the Secure attribute (the public address is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
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
