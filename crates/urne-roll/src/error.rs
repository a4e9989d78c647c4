//! What can be wrong with a voter roll: errors (the roll is refused) and warnings (it is not).

use std::fmt;

use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Serialize, Serializer};

use crate::MAX_ERRORS;

/// Values quoted in messages are cut to this many characters, so that a runaway field (a quote
/// that is never closed swallows the rest of the file) does not make a huge message.
const SHOWN_CHARS: usize = 60;

/// One problem that makes the roll unusable, at a physical line of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollError {
    /// The physical line of the file, from 1, where the record (CSV) or the array element (JSON)
    /// starts; the header is line 1.
    pub line: u64,
    /// The column or key at fault (`id`, `email`, `weight`, `name`, `lang`, or an unknown
    /// column's name), when the error is about one.
    pub field: Option<String>,
    /// What is wrong.
    pub kind: RollErrorKind,
}

impl RollError {
    pub(crate) fn new(line: u64, field: Option<&str>, kind: RollErrorKind) -> RollError {
        RollError {
            line,
            field: field.map(str::to_owned),
            kind,
        }
    }
}

impl fmt::Display for RollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, {}: {}", self.line, field, self.kind),
            None => write!(f, "line {}: {}", self.line, self.kind),
        }
    }
}

/// Serialized as `{"line", "field", "code", "message"}`: `code` is [`RollErrorKind::code`] and
/// `message` the kind's sentence, without the line and field (a client shows them in columns).
impl Serialize for RollError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("RollError", 4)?;
        s.serialize_field("line", &self.line)?;
        s.serialize_field("field", &self.field)?;
        s.serialize_field("code", self.kind.code())?;
        s.serialize_field("message", &self.kind.to_string())?;
        s.end()
    }
}

/// A problem with the header line of a CSV roll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// A column that is none of `id`, `email`, `weight`, `name`, `lang`.
    Unknown(String),
    /// A column named twice.
    Repeated(String),
    /// A required column (`id` or `email`) is absent.
    Missing(&'static str),
}

/// What is wrong, in [`RollError`]. Each kind has a stable snake_case [`code`](Self::code).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RollErrorKind {
    /// The file is not UTF-8 text (or holds NUL bytes, as UTF-16 text does).
    Encoding,
    /// The CSV header line is wrong.
    Header(HeaderProblem),
    /// A CSV record has another number of fields than the header.
    Columns {
        /// The number of columns of the header.
        expected: usize,
        /// The number of fields of the record.
        found: usize,
    },
    /// A CSV quote is opened and never closed, or stands inside an unquoted field.
    Quote,
    /// The identifier is empty.
    MissingId,
    /// The identifier is unusable: the value (cut short) and why.
    BadId(String, &'static str),
    /// The email address is empty.
    MissingEmail,
    /// The email address is not one plain address: the value (cut short) and why.
    BadEmail(String, &'static str),
    /// The weight is not a number at all.
    BadWeight(String),
    /// The weight is zero.
    WeightNotPositive,
    /// The weight is negative.
    WeightNegative(String),
    /// The weight has a fractional part (or a decimal point).
    WeightFractional(String),
    /// The weight is above [`MAX_WEIGHT`](crate::MAX_WEIGHT).
    WeightTooLarge(String),
    /// The identifier was already used by the voter on `first_line`.
    DuplicateId {
        /// The line of the first voter with this identifier.
        first_line: u64,
    },
    /// The display name is unusable: the value (cut short) and why.
    BadName(String, &'static str),
    /// The language is neither `fr` nor `en`.
    BadLang(String),
    /// The CSV reader failed (not expected with UTF-8 text: kept rather than lost).
    Csv(String),
    /// The JSON text is not well formed, or is not an array (serde_json's message).
    Json(String),
    /// A JSON array element is not an object; what it is instead.
    NotAnObject(&'static str),
    /// A JSON key that is none of `id`, `email`, `weight`, `name`, `lang`.
    UnknownKey(String),
    /// A JSON key given twice in one object.
    RepeatedKey(String),
    /// A JSON value of the wrong type.
    WrongType {
        /// What the key takes.
        expected: &'static str,
        /// What it was given.
        found: &'static str,
    },
    /// The roll has no voter.
    Empty,
    /// The roll has more voters than [`MAX_VOTERS`](crate::MAX_VOTERS); reading stopped here.
    TooMany {
        /// The maximum.
        max: u64,
    },
}

impl RollErrorKind {
    /// A stable, snake_case name of the kind, for programs (the `code` of the JSON form).
    pub fn code(&self) -> &'static str {
        match self {
            RollErrorKind::Encoding => "encoding",
            RollErrorKind::Header(HeaderProblem::Unknown(_)) => "unknown_column",
            RollErrorKind::Header(HeaderProblem::Repeated(_)) => "repeated_column",
            RollErrorKind::Header(HeaderProblem::Missing(_)) => "missing_column",
            RollErrorKind::Columns { .. } => "columns",
            RollErrorKind::Quote => "quote",
            RollErrorKind::MissingId => "missing_id",
            RollErrorKind::BadId(..) => "bad_id",
            RollErrorKind::MissingEmail => "missing_email",
            RollErrorKind::BadEmail(..) => "bad_email",
            RollErrorKind::BadWeight(_) => "bad_weight",
            RollErrorKind::WeightNotPositive => "weight_not_positive",
            RollErrorKind::WeightNegative(_) => "weight_negative",
            RollErrorKind::WeightFractional(_) => "weight_fractional",
            RollErrorKind::WeightTooLarge(_) => "weight_too_large",
            RollErrorKind::DuplicateId { .. } => "duplicate_id",
            RollErrorKind::BadName(..) => "bad_name",
            RollErrorKind::BadLang(_) => "bad_lang",
            RollErrorKind::Csv(_) => "csv",
            RollErrorKind::Json(_) => "json",
            RollErrorKind::NotAnObject(_) => "not_an_object",
            RollErrorKind::UnknownKey(_) => "unknown_key",
            RollErrorKind::RepeatedKey(_) => "repeated_key",
            RollErrorKind::WrongType { .. } => "wrong_type",
            RollErrorKind::Empty => "empty",
            RollErrorKind::TooMany { .. } => "too_many",
        }
    }
}

/// A value as quoted in a message: cut to [`SHOWN_CHARS`] characters, control characters escaped.
pub(crate) fn shown(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The hint added when a value holds a line break: most likely a quote left open.
fn line_break_hint(value: &str) -> &'static str {
    if value.contains("\\n") || value.contains("\\r") {
        " (it runs over several lines: is a closing quote missing?)"
    } else {
        ""
    }
}

impl fmt::Display for RollErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RollErrorKind as K;
        match self {
            K::Encoding => f.write_str(
                "the file is not UTF-8 text (bytes from another encoding, such as Latin-1 or \
                 UTF-16, start on this line): save the file as UTF-8",
            ),
            K::Header(HeaderProblem::Unknown(c)) if c.is_empty() => f.write_str(
                "a column has no name: the first line must name every column (id, email, and \
                 optionally weight, name, lang)",
            ),
            K::Header(HeaderProblem::Unknown(c)) => write!(
                f,
                "unknown column `{c}`: the columns are id, email, weight, name and lang"
            ),
            K::Header(HeaderProblem::Repeated(c)) => write!(f, "column `{c}` is named twice"),
            K::Header(HeaderProblem::Missing(c)) => write!(
                f,
                "the required column `{c}` is missing: the first line must name the columns \
                 (id, email, and optionally weight, name, lang)"
            ),
            K::Columns { expected, found } => write!(
                f,
                "this record has {found} fields where the header has {expected} (a field \
                 holding a comma must be put in double quotes)"
            ),
            K::Quote => f.write_str(
                "a double quote is not closed, or stands inside an unquoted field: put the \
                 whole field in double quotes and double every quote inside it",
            ),
            K::MissingId => f.write_str("the identifier is empty"),
            K::BadId(v, why) => write!(f, "`{v}` is not a usable identifier: {why}"),
            K::MissingEmail => f.write_str("the email address is empty"),
            K::BadEmail(v, why) => write!(
                f,
                "`{v}` is not an email address: {why}{}",
                line_break_hint(v)
            ),
            K::BadWeight(v) => write!(
                f,
                "`{v}` is not a weight: write a whole number of votes, such as 1 or 25{}",
                line_break_hint(v)
            ),
            K::WeightNotPositive => f.write_str(
                "the weight is 0: a voter's weight is at least 1 (leave out a voter who may not \
                 vote)",
            ),
            K::WeightNegative(v) => {
                write!(f, "the weight `{v}` is negative: a weight is at least 1")
            }
            K::WeightFractional(v) => write!(
                f,
                "the weight `{v}` is not a whole number: a weight counts whole votes"
            ),
            K::WeightTooLarge(v) => write!(
                f,
                "the weight `{v}` is too large: at most {}",
                crate::MAX_WEIGHT
            ),
            K::DuplicateId { first_line } => write!(
                f,
                "this identifier is already the identifier of the voter on line {first_line}"
            ),
            K::BadName(v, why) => write!(f, "`{v}` is not a usable name: {why}"),
            K::BadLang(v) => write!(
                f,
                "`{v}` is not a language: write fr or en, or leave it empty{}",
                line_break_hint(v)
            ),
            K::Csv(m) => write!(f, "unreadable CSV: {m}"),
            K::Json(m) => write!(f, "invalid JSON: {m}"),
            K::NotAnObject(found) => write!(
                f,
                "each element of the array must be an object {{\"id\": …, \"email\": …}}, not \
                 {found}"
            ),
            K::UnknownKey(k) => write!(
                f,
                "unknown key `{k}`: the keys are id, email, weight, name and lang"
            ),
            K::RepeatedKey(k) => write!(f, "the key `{k}` is given twice"),
            K::WrongType { expected, found } => write!(f, "expected {expected}, found {found}"),
            K::Empty => f.write_str("the roll has no voter"),
            K::TooMany { max } => write!(
                f,
                "the roll has more than {max} voters; reading stopped here"
            ),
        }
    }
}

/// Every error found in a roll: the first [`MAX_ERRORS`] in line order, and how many more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", summary(self))]
pub struct RollErrors {
    /// The errors, in line order (at most [`MAX_ERRORS`]).
    pub errors: Vec<RollError>,
    /// How many more errors were found and not listed.
    pub more: u64,
}

/// "the voter roll has 3 errors; the first: line 2, email: …".
fn summary(e: &RollErrors) -> String {
    let total = e.total();
    let noun = if total == 1 { "error" } else { "errors" };
    match e.errors.first() {
        Some(first) => format!("the voter roll has {total} {noun}; the first: {first}"),
        None => format!("the voter roll has {total} {noun}"),
    }
}

impl RollErrors {
    /// How many errors were found, listed or not.
    pub fn total(&self) -> u64 {
        self.errors.len() as u64 + self.more
    }

    /// Adds an error, or counts it past the cap.
    pub(crate) fn push(&mut self, e: RollError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        } else {
            self.more += 1;
        }
    }

    /// One error and no other.
    pub(crate) fn one(line: u64, field: Option<&str>, kind: RollErrorKind) -> RollErrors {
        RollErrors {
            errors: vec![RollError::new(line, field, kind)],
            more: 0,
        }
    }
}

/// Something worth the organizer's attention that does not stop the import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollWarning {
    /// The physical line of the file where the record or element starts.
    pub line: u64,
    /// The column or key concerned.
    pub field: Option<String>,
    /// The sentence to show.
    pub message: String,
}

impl fmt::Display for RollWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, {}: {}", self.line, field, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}
