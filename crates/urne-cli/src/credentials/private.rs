//! The credential authority's private file: one line per voter with its credential.
//!
//! `private-credentials.csv` is a CSV file (RFC 4180) with the header
//! `voter_id,email,name,lang,weight,credential`; `name` and `lang` may be empty and `credential`
//! is the dashed display form (spec §5.1). It is written owner-only (mode 0600), atomically, and
//! from a buffer that is wiped afterwards. Reading goes through the `csv` crate, whose own record
//! buffers are freed without being wiped: a limit of this tool, as of any program that reads the
//! file.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use urne_core::credential::Credential;
use zeroize::Zeroizing;

/// The header line of the private file.
pub const HEADER: [&str; 6] = ["voter_id", "email", "name", "lang", "weight", "credential"];

/// One voter's line of the private file.
#[derive(Debug)]
pub struct Entry {
    /// The voter's id on the roll.
    pub voter_id: String,
    /// Where the credential is mailed.
    pub email: String,
    /// The voter's name, if the roll gives one.
    pub name: Option<String>,
    /// The voter's language tag, if the roll gives one.
    pub lang: Option<String>,
    /// The number of votes the credential carries.
    pub weight: u64,
    /// The secret credential (its Debug output hides it).
    pub credential: Credential,
}

/// Appends `field` to `out` as one CSV field, quoted when it must be.
fn push_field(out: &mut Vec<u8>, field: &str) {
    if field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ') {
        out.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

/// Appends one line of the private file to `out`.
pub fn push_line(
    out: &mut Vec<u8>,
    voter_id: &str,
    email: &str,
    name: Option<&str>,
    lang: Option<&str>,
    weight: u64,
    credential: &Credential,
) {
    push_field(out, voter_id);
    out.push(b',');
    push_field(out, email);
    out.push(b',');
    push_field(out, name.unwrap_or_default());
    out.push(b',');
    push_field(out, lang.unwrap_or_default());
    out.push(b',');
    out.extend_from_slice(weight.to_string().as_bytes());
    out.push(b',');
    out.extend_from_slice(credential.display().as_bytes());
    out.push(b'\n');
}

/// A buffer holding the header line, to which lines are pushed; wiped when dropped.
pub fn buffer(capacity: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(capacity));
    out.extend_from_slice(HEADER.join(",").as_bytes());
    out.push(b'\n');
    out
}

/// Reads and checks the whole private file: the header, every field, every credential's
/// checksum, and that no voter id appears twice. Errors name the line.
pub fn read(path: &Path) -> anyhow::Result<Vec<Entry>> {
    let bytes =
        Zeroizing::new(fs::read(path).with_context(|| format!("cannot read {}", path.display()))?);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(&bytes[..]);
    let where_ = |line: u64| format!("{}, line {line}", path.display());
    let header = reader
        .headers()
        .with_context(|| format!("{}: not a CSV file", where_(1)))?;
    if header.iter().ne(HEADER) {
        bail!(
            "{}: the header must be `{}`: is this a private file written by `urne credentials \
             generate`?",
            where_(1),
            HEADER.join(",")
        );
    }
    let mut entries = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or_default();
        let optional = |i: usize| Some(field(i).to_owned()).filter(|s| !s.is_empty());
        let voter_id = field(0).to_owned();
        if voter_id.is_empty() {
            bail!("{}, voter_id: empty", where_(line));
        }
        if let Some(first) = seen.insert(voter_id.clone(), line) {
            bail!(
                "{}, voter_id: `{voter_id}` is already on line {first}",
                where_(line)
            );
        }
        let weight = field(4).parse::<u64>().ok().filter(|&w| w >= 1);
        let Some(weight) = weight else {
            bail!(
                "{}, weight: `{}` is not a whole number of at least 1",
                where_(line),
                field(4)
            );
        };
        let credential =
            Credential::parse(field(5)).with_context(|| format!("{}, credential", where_(line)))?;
        entries.push(Entry {
            voter_id,
            email: field(1).to_owned(),
            name: optional(2),
            lang: optional(3),
            weight,
            credential,
        });
    }
    Ok(entries)
}

/// Whether a file holds secrets (owner-only, mode 0600) or public data (mode 0644).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Readable by its owner only.
    Secret,
    /// Readable by all.
    Public,
}

/// Writes `bytes` to a file at `path`, atomically (a temporary owner-only file in the same
/// directory, synced, then renamed). With `replace`, an existing file is replaced; without, an
/// existing file is an error and is left untouched.
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    mode: Mode,
    replace: bool,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let context = || format!("cannot write {}", path.display());
    // tempfile makes its files owner-only (0600) on Unix; set it anyway, it is the contract.
    let mut tmp = tempfile::Builder::new()
        .prefix(".urne-credentials-")
        .tempfile_in(dir)
        .with_context(context)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o600))
            .with_context(context)?;
    }
    tmp.write_all(bytes).with_context(context)?;
    #[cfg(unix)]
    if mode == Mode::Public {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))
            .with_context(context)?;
    }
    tmp.as_file().sync_all().with_context(context)?;
    if replace {
        tmp.persist(path)
            .map_err(|e| e.error)
            .with_context(context)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} exists already: it is never overwritten (move it away first)",
                    path.display()
                )
            } else {
                anyhow::Error::new(e.error).context(context())
            }
        })?;
    }
    if let Ok(d) = fs::File::open(dir) {
        // Make the rename itself durable.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn lines_round_trip_through_the_reader() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand::rng();
        let a = Credential::generate(&mut rng);
        let b = Credential::generate(&mut rng);
        let mut out = buffer(0);
        push_line(
            &mut out,
            "v1",
            "a@example.org",
            Some("Doe, \"J\""),
            Some("fr"),
            3,
            &a,
        );
        push_line(&mut out, "v2", "b@example.org", None, None, 1, &b);
        let path = dir.path().join("p.csv");
        write_atomically(&path, &out, Mode::Secret, false).unwrap();
        let entries = read(&path).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name.as_deref(), Some("Doe, \"J\""));
        assert_eq!(entries[0].lang.as_deref(), Some("fr"));
        assert_eq!(entries[0].weight, 3);
        assert_eq!(entries[0].credential, a);
        assert_eq!(entries[1].name, None);
        assert_eq!(entries[1].credential, b);
        assert!(write_atomically(&path, &out, Mode::Secret, false).is_err());
    }

    #[test]
    fn rejects_private_file_with_bad_checksum_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand::rng();
        let mut out = buffer(0);
        push_line(
            &mut out,
            "v1",
            "a@x.org",
            None,
            None,
            1,
            &Credential::generate(&mut rng),
        );
        let mut text = String::from_utf8(out.to_vec()).unwrap();
        let last = text.pop();
        assert_eq!(last, Some('\n'));
        let c = text.pop().unwrap();
        text.push(if c == '2' { '3' } else { '2' });
        text.push('\n');
        let path = dir.path().join("p.csv");
        fs::write(&path, text).unwrap();
        let e = format!("{:#}", read(&path).unwrap_err());
        assert!(e.contains("line 2, credential"), "{e}");
    }
}
