//! Voter rolls: who may vote in an election, read from CSV or JSON and validated line by line.
//!
//! An organizer uploads the roll; [`parse`] reads it whole and either returns every voter (with
//! [`RollWarning`]s worth a look) or every error it found, each at the physical line of the
//! file where its record starts. Nothing is half-imported: one error anywhere and no [`Roll`]
//! comes back. [`Roll::preview`] is the dry run shown before the import is confirmed, and
//! [`write_csv`] writes a roll in the canonical CSV form that [`parse`] reads back identically.
//! docs/voters.md §1 says the same for organizers.
//!
//! # The rules
//!
//! **Encoding.** The file is UTF-8, with or without a byte-order mark. Other bytes (a Latin-1 or
//! UTF-16 file) give one [`RollErrorKind::Encoding`] error at the first line that holds them,
//! asking for the file to be saved as UTF-8; so do NUL bytes.
//!
//! **CSV** (RFC 4180, read with the `csv` crate). The first non-blank line is a header naming
//! the columns, in any order and any case: `id` and `email` are required, `weight`, `name` and
//! `lang` optional; an unknown or repeated column is an error on the header's line. Fields are
//! separated by commas, or by semicolons or tabs when the header has no comma and has those
//! (spreadsheets set to French write semicolons). Lines end in LF, CRLF or a lone CR; a field in double
//! quotes may hold commas, doubled quotes and line breaks (its error is reported on the line
//! where the record starts), and a quote left open or standing inside an unquoted field is an
//! error. Blank lines, and lines whose fields are all empty, are ignored. Every field is
//! trimmed of surrounding white space. A record with another number of fields than the header
//! is an error. Line numbers are physical lines of the file, from 1.
//!
//! **JSON.** One array of objects `{"id": …, "email": …, "weight": …, "name": …, "lang": …}`;
//! `weight`, `name` and `lang` may be left out or `null`. Another key, a key given twice, an
//! element that is not an object, or a value of the wrong type is an error at the line where
//! the element starts. `id` may be a string or a whole number, `weight` a number or a string;
//! the other values are strings. A syntax error gives serde_json's message and line.
//!
//! **Fields.**
//! - `id`: required, at most [`MAX_ID_CHARS`] characters, no control character. Two voters with
//!   the same identifier (compared exactly, after trimming) are an error naming the first line.
//! - `email`: required, one plain address `local@domain`, at most [`MAX_EMAIL_LEN`] bytes: no
//!   display name, comment, angle brackets, space, quoted local part or IP-address domain, and
//!   a domain with a dot. The syntax of each part is checked by the `email_address` crate (RFC
//!   5321 and 5322), and the domain is written in lower case. Two voters with the same address
//!   (compared without case) get a **warning**, not an error, naming the first line: they may
//!   share a mailbox, but then each can read the other's codes.
//! - `weight`: optional, 1 when absent or empty; a whole number from 1 to [`MAX_WEIGHT`]
//!   written in decimal digits. Zero, a negative number, a fractional one (`2.5`, `2,5`) and
//!   other text each have their own error.
//! - `name`: optional, at most [`MAX_NAME_CHARS`] characters, no control character.
//! - `lang`: optional, `fr` or `en` in any case.
//!
//! **Whole roll.** A roll without any voter is an error, and so is one with more than
//! [`MAX_VOTERS`] voters (reading stops there). Every error is collected, never only the
//! first: the first [`MAX_ERRORS`] are listed in line order and the rest counted.
//!
//! # Speed
//!
//! One pass over the text; fields are borrowed from the reader's buffer and the only
//! allocations per voter are the strings the [`Voter`] keeps. Duplicates are found with hash
//! tables of indices into the voter list, sized once and keeping each key's hash, so no key is
//! copied or hashed twice. A million voters in CSV parse in about a second on the development
//! machine in an optimized build (docs/voters.md §1.5).

mod check;
mod csv_roll;
mod error;
mod json_roll;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use error::{HeaderProblem, RollError, RollErrorKind, RollErrors, RollWarning};

/// The most voters a roll may hold.
pub const MAX_VOTERS: u64 = 10_000_000;
/// The largest weight of a voter.
pub const MAX_WEIGHT: u64 = 1_000_000_000;
/// The longest identifier, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// The longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest email address, in bytes (RFC 5321's limit on a path, less its angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// The most errors listed in [`RollErrors`]; the rest are counted in [`RollErrors::more`].
pub const MAX_ERRORS: usize = 1000;

/// How many voters [`Preview::sample`] shows.
const SAMPLE: usize = 5;

/// The format of a roll file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// A JSON array of voter objects.
    Json,
}

impl Format {
    /// The format named by a file's extension, `.csv` or `.json` in any case.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("csv") {
            Some(Format::Csv)
        } else if ext.eq_ignore_ascii_case("json") {
            Some(Format::Json)
        } else {
            None
        }
    }
}

/// The language a voter's mail is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// French.
    Fr,
    /// English.
    En,
}

impl Lang {
    /// `"fr"` or `"en"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// `fr` or `en` in any case, and nothing else (no surrounding space either).
    pub fn parse(s: &str) -> Option<Lang> {
        if s.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if s.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

/// One voter of the roll, as [`parse`] checked it: trimmed fields, the email's domain in lower
/// case, the weight 1 when the file gave none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Voter {
    /// The organizer's identifier of the voter (a membership number, say), unique in the roll.
    pub id: String,
    /// Where the voter's codes are sent.
    pub email: String,
    /// How many votes the voter's ballot counts for, from 1 to [`MAX_WEIGHT`].
    #[serde(default = "one")]
    pub weight: u64,
    /// The name shown to the voter and in the organizer's lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The language of the voter's mail; the election's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<Lang>,
}

fn one() -> u64 {
    1
}

/// A roll without errors: its voters in file order, and the warnings found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roll {
    /// The voters, in the order of the file.
    pub voters: Vec<Voter>,
    /// What deserves a look before importing (duplicate addresses), in line order.
    pub warnings: Vec<RollWarning>,
}

impl Roll {
    /// The sum of the voters' weights (at most 10^16, so it cannot overflow).
    pub fn total_weight(&self) -> u64 {
        self.voters
            .iter()
            .fold(0u64, |sum, v| sum.saturating_add(v.weight))
    }

    /// Whether any voter's weight is not 1.
    pub fn is_weighted(&self) -> bool {
        self.voters.iter().any(|v| v.weight != 1)
    }

    /// The dry run shown to the organizer before the import is confirmed.
    pub fn preview(&self) -> Preview {
        let mut languages = BTreeMap::new();
        for v in &self.voters {
            let key = v.lang.map_or(Preview::NO_LANG, Lang::as_str);
            *languages.entry(key.to_owned()).or_insert(0) += 1;
        }
        Preview {
            voters: self.voters.len() as u64,
            total_weight: self.total_weight(),
            weighted: self.is_weighted(),
            languages,
            warnings: self.warnings.clone(),
            sample: self.voters.iter().take(SAMPLE).cloned().collect(),
        }
    }
}

/// A summary of a roll, for the organizer to check before importing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// The number of voters.
    pub voters: u64,
    /// The sum of their weights.
    pub total_weight: u64,
    /// Whether any weight is not 1.
    pub weighted: bool,
    /// Voters by language: `fr`, `en`, and [`Preview::NO_LANG`] for those without one.
    pub languages: BTreeMap<String, u64>,
    /// The roll's warnings.
    pub warnings: Vec<RollWarning>,
    /// The first five voters.
    pub sample: Vec<Voter>,
}

impl Preview {
    /// The key of [`Preview::languages`] counting voters without a language.
    pub const NO_LANG: &'static str = "unset";
}

/// Reads and checks a roll. Returns every voter, or every error (see the crate's rules).
pub fn parse(bytes: &[u8], format: Format) -> Result<Roll, RollErrors> {
    parse_with_limit(bytes, format, MAX_VOTERS)
}

/// [`parse`] with a lower cap on the number of voters (a server's own limit, say): a roll with
/// more than `max_voters` voters is a [`RollErrorKind::TooMany`] error. The cap is never above
/// [`MAX_VOTERS`].
pub fn parse_with_limit(bytes: &[u8], format: Format, max_voters: u64) -> Result<Roll, RollErrors> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let line_of = |offset: usize| {
        1 + bytes
            .get(..offset)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) as u64
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = line_of(e.valid_up_to());
            return Err(RollErrors::one(line, None, RollErrorKind::Encoding));
        }
    };
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return Err(RollErrors::one(line_of(nul), None, RollErrorKind::Encoding));
    }
    let mut builder =
        check::Builder::new(max_voters.min(MAX_VOTERS), expected_records(text, format));
    let empty_line = match format {
        Format::Csv => csv_roll::read(text, &mut builder),
        Format::Json => json_roll::read(text, &mut builder),
    };
    builder.finish(empty_line)
}

/// About how many voters the text holds, to size the tables once: its lines for CSV, the
/// number of `{` (an overestimate past nested values) for JSON; capped so that a file of empty
/// lines does not reserve more than the voters it could hold.
fn expected_records(text: &str, format: Format) -> usize {
    let mark = match format {
        Format::Csv => b'\n',
        Format::Json => b'{',
    };
    let n = text.bytes().filter(|&b| b == mark).count();
    // A voter takes at least `a,b@c.d` (7 bytes) and its line end.
    n.min(text.len() / 8 + 1)
}

/// The canonical CSV form of a roll: the header `id,email,weight,name,lang`, one line per voter
/// ending in LF, the weight always written, an absent name or language left empty, and a field
/// put in double quotes (its quotes doubled) only when it holds a comma, a quote or a line
/// break. [`parse`] reads it back to the same voters, for any voters it produced (their fields
/// are trimmed and valid).
pub fn write_csv(voters: &[Voter]) -> String {
    let mut out = String::with_capacity(32 + voters.len() * 48);
    out.push_str("id,email,weight,name,lang\n");
    for v in voters {
        field(&mut out, &v.id);
        out.push(',');
        field(&mut out, &v.email);
        // Writing to a String cannot fail.
        let _ = write!(out, ",{},", v.weight);
        field(&mut out, v.name.as_deref().unwrap_or(""));
        out.push(',');
        out.push_str(v.lang.map_or("", Lang::as_str));
        out.push('\n');
    }
    out
}

/// One CSV field, quoted when RFC 4180 requires it.
fn field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        for c in value.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_paths() {
        assert_eq!(Format::from_path(Path::new("v.csv")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("a/V.JSON")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("v.txt")), None);
        assert_eq!(Format::from_path(Path::new("csv")), None);
    }

    #[test]
    fn languages() {
        assert_eq!(Lang::parse("FR"), Some(Lang::Fr));
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::parse(" fr"), None);
        assert_eq!(
            serde_json::to_string(&Lang::Fr).ok().as_deref(),
            Some("\"fr\"")
        );
    }
}
