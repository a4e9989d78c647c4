//! Secret files: a trustee's keys at rest, encrypted with a passphrase.
//!
//! The passphrase goes through argon2id (RFC 9106) with a fresh 16-byte salt to a 32-byte key,
//! which seals the secret with ChaCha20-Poly1305 (RFC 8439) under a fresh 12-byte nonce. The
//! associated data is the file's format, its KDF parameters and its *purpose* (what the secret
//! is, such as "urne trustee identity key"), so neither the parameters nor the purpose can be
//! changed without the tag failing. Without the passphrase the file shows nothing but its
//! purpose. Files are written atomically (a temporary file in the same directory, synced, then
//! renamed), readable and writable by their owner only, and never overwrite an existing file.
//!
//! File (JSON): `{"format":"urne/secret/v1","purpose":…,"kdf":{"algorithm":"argon2id",
//! "memory_kib":…,"iterations":…,"parallelism":…,"salt":…},"nonce":…,"ciphertext":…}`, bytes in
//! base64url without padding.

use std::fs;
use std::io::Write;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use urne_core::group::{b64_decode, b64_encode};
use zeroize::Zeroizing;

/// The format of secret files.
pub const FORMAT: &str = "urne/secret/v1";

/// Why a secret file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The passphrase is wrong, or the file was altered: the tag does not verify.
    #[error("wrong passphrase, or the file {0} was altered")]
    Passphrase(String),
    /// Not a secret file this version reads.
    #[error("{file}: {detail}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// The file holds a secret for another purpose.
    #[error("{file} holds a {found}, not a {expected}")]
    Purpose {
        /// The file.
        file: String,
        /// What it holds.
        found: String,
        /// What was asked for.
        expected: String,
    },
    /// An empty passphrase.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// Reading or writing failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The error.
        source: std::io::Error,
    },
}

/// argon2id costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// 16 random bytes.
    #[serde(with = "urne_core::group::bytes_b64")]
    pub salt: [u8; 16],
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFile {
    format: String,
    purpose: String,
    kdf: KdfParams,
    #[serde(with = "urne_core::group::bytes_b64")]
    nonce: [u8; 12],
    ciphertext: String,
}

/// The default costs: 64 MiB and 3 passes (RFC 9106's second recommended option).
pub const DEFAULT_MEMORY_KIB: u32 = 64 * 1024;
/// Passes of the default costs.
pub const DEFAULT_ITERATIONS: u32 = 3;

fn derive_key(
    passphrase: &[u8],
    kdf: &KdfParams,
    file: &str,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let bad = |detail: String| VaultError::Format {
        file: file.into(),
        detail,
    };
    if kdf.algorithm != "argon2id" {
        return Err(bad(format!("unknown key derivation `{}`", kdf.algorithm)));
    }
    if kdf.memory_kib > 4 * 1024 * 1024 || kdf.iterations > 100 || kdf.parallelism > 64 {
        return Err(bad(
            "key-derivation costs beyond what this tool accepts".into()
        ));
    }
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| bad(format!("key-derivation parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, &kdf.salt, &mut key[..])
        .map_err(|e| bad(format!("key derivation: {e}")))?;
    Ok(key)
}

fn associated_data(purpose: &str, kdf: &KdfParams) -> Vec<u8> {
    let text = format!(
        "{FORMAT}\n{purpose}\n{}\n{}\n{}\n{}\n{}",
        kdf.algorithm,
        kdf.memory_kib,
        kdf.iterations,
        kdf.parallelism,
        b64_encode(&kdf.salt)
    );
    text.into_bytes()
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random generator is available");
    b
}

/// Encrypts `secret` for `purpose` and writes it to `path`, which must not exist yet.
pub fn write(
    path: &Path,
    purpose: &str,
    secret: &[u8],
    passphrase: &[u8],
    memory_kib: u32,
) -> Result<(), VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    let file = path.display().to_string();
    let kdf = KdfParams {
        algorithm: "argon2id".into(),
        memory_kib,
        iterations: DEFAULT_ITERATIONS,
        parallelism: 1,
        salt: random(),
    };
    let key = derive_key(passphrase, &kdf, &file)?;
    let nonce: [u8; 12] = random();
    let aad = associated_data(purpose, &kdf);
    let sealed = ChaCha20Poly1305::new(&Key::from(*key))
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: secret,
                aad: &aad,
            },
        )
        .expect("a short secret always encrypts");
    let doc = SecretFile {
        format: FORMAT.into(),
        purpose: purpose.into(),
        kdf,
        nonce,
        ciphertext: b64_encode(&sealed),
    };
    let text = serde_json::to_string_pretty(&doc).expect("a secret file always serializes");
    write_atomically(path, text.as_bytes()).map_err(|source| VaultError::Io { file, source })
}

/// Reads and decrypts a secret file written for `purpose`.
pub fn read(
    path: &Path,
    purpose: &str,
    passphrase: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let file = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|source| VaultError::Io {
        file: file.clone(),
        source,
    })?;
    let doc: SecretFile = serde_json::from_str(&text).map_err(|e| VaultError::Format {
        file: file.clone(),
        detail: format!("not a secret file: {e}"),
    })?;
    if doc.format != FORMAT {
        return Err(VaultError::Format {
            file,
            detail: format!("unknown format `{}`", doc.format),
        });
    }
    if doc.purpose != purpose {
        return Err(VaultError::Purpose {
            file,
            found: doc.purpose,
            expected: purpose.into(),
        });
    }
    let sealed = b64_decode(&doc.ciphertext).map_err(|e| VaultError::Format {
        file: file.clone(),
        detail: format!("ciphertext: {e}"),
    })?;
    let key = derive_key(passphrase, &doc.kdf, &file)?;
    let aad = associated_data(&doc.purpose, &doc.kdf);
    ChaCha20Poly1305::new(&Key::from(*key))
        .decrypt(
            &Nonce::from(doc.nonce),
            Payload {
                msg: &sealed,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Passphrase(file))
}

/// Writes `bytes` to `path` atomically, owner-only, refusing to replace an existing file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".urne-secret-")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    if let Ok(d) = fs::File::open(dir) {
        // Make the rename itself durable.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Small costs keep the tests fast; the format records them.
    const TEST_MEMORY_KIB: u32 = 1024;

    #[test]
    fn round_trip_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.secret");
        write(
            &path,
            "test key",
            b"secret bytes",
            b"correct horse",
            TEST_MEMORY_KIB,
        )
        .unwrap();
        assert_eq!(
            read(&path, "test key", b"correct horse")
                .unwrap()
                .as_slice(),
            b"secret bytes"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&b64_encode(b"secret bytes")));
    }

    #[test]
    fn rejects_wrong_passphrase_other_purpose_and_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.secret");
        write(
            &path,
            "test key",
            b"secret bytes",
            b"correct horse",
            TEST_MEMORY_KIB,
        )
        .unwrap();
        assert!(matches!(
            read(&path, "test key", b"wrong"),
            Err(VaultError::Passphrase(_))
        ));
        assert!(matches!(
            read(&path, "other key", b"correct horse"),
            Err(VaultError::Purpose { .. })
        ));
        // Lowering the stored cost, or relabelling the purpose, breaks the tag.
        let text = fs::read_to_string(&path).unwrap();
        let cheaper = text.replace("\"iterations\": 3", "\"iterations\": 2");
        assert_ne!(cheaper, text);
        let p2 = dir.path().join("cheaper.secret");
        fs::write(&p2, cheaper).unwrap();
        assert!(matches!(
            read(&p2, "test key", b"correct horse"),
            Err(VaultError::Passphrase(_))
        ));
        let relabelled = text.replace("\"test key\"", "\"other key\"");
        let p3 = dir.path().join("relabelled.secret");
        fs::write(&p3, relabelled).unwrap();
        assert!(matches!(
            read(&p3, "other key", b"correct horse"),
            Err(VaultError::Passphrase(_))
        ));
    }

    #[test]
    fn never_overwrites_and_refuses_empty_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.secret");
        write(&path, "k", b"one", b"pw", TEST_MEMORY_KIB).unwrap();
        assert!(matches!(
            write(&path, "k", b"two", b"pw", TEST_MEMORY_KIB),
            Err(VaultError::Io { .. })
        ));
        assert_eq!(read(&path, "k", b"pw").unwrap().as_slice(), b"one");
        assert!(matches!(
            write(&dir.path().join("e"), "k", b"x", b"", TEST_MEMORY_KIB),
            Err(VaultError::EmptyPassphrase)
        ));
    }
}
