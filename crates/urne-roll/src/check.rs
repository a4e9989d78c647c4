//! The checks of each field, and the roll being built: duplicates, counts, errors and warnings.
//! Both formats hand each record's fields here as text.

use std::hash::{BuildHasher as _, Hasher as _, RandomState};

use email_address::EmailAddress;
use hashbrown::HashTable;

use crate::error::{RollError, RollErrorKind as K, RollErrors, RollWarning, shown};
use crate::{Lang, MAX_EMAIL_LEN, MAX_ID_CHARS, MAX_NAME_CHARS, MAX_WEIGHT, Roll, Voter};

/// The fields of one record, trimmed or not, as the file gives them; `None` for an absent
/// column or key (and for JSON `null`).
#[derive(Debug, Default)]
pub(crate) struct Fields<'a> {
    pub id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub weight: Option<&'a str>,
    pub name: Option<&'a str>,
    pub lang: Option<&'a str>,
    /// Fields already reported as wrong by the reader (a JSON value of the wrong type): not
    /// checked again, and the record gives no voter.
    pub reported: [bool; 5],
}

/// The roll being read. Records come in line order.
#[derive(Debug)]
pub(crate) struct Builder {
    /// Voters with a valid identifier, valid or not otherwise (kept to find later duplicates).
    voters: Vec<Voter>,
    /// The line of each of `voters`.
    lines: Vec<u64>,
    /// Indices into `voters` with the hash of their identifier (kept, so that growing the
    /// table does not hash every key again).
    ids: HashTable<(u64, u32)>,
    /// Indices into `voters` with the hash of their email address folded to lower case.
    emails: HashTable<(u64, u32)>,
    hasher: RandomState,
    /// Records seen, blank ones aside.
    records: u64,
    /// The most records allowed.
    max_voters: u64,
    pub errors: RollErrors,
    warnings: Vec<RollWarning>,
    /// Set when the cap on voters is passed: the caller stops reading.
    pub stopped: bool,
}

impl Builder {
    /// A builder for about `expected` voters (the number of lines, say), at most `max_voters`.
    pub fn new(max_voters: u64, expected: usize) -> Builder {
        let expected = expected.min(usize::try_from(max_voters).unwrap_or(usize::MAX));
        Builder {
            voters: Vec::with_capacity(expected),
            lines: Vec::with_capacity(expected),
            ids: HashTable::with_capacity(expected),
            emails: HashTable::with_capacity(expected),
            hasher: RandomState::new(),
            records: 0,
            max_voters,
            errors: RollErrors {
                errors: Vec::new(),
                more: 0,
            },
            warnings: Vec::new(),
            stopped: false,
        }
    }

    pub fn error(&mut self, line: u64, field: Option<&str>, kind: K) {
        self.errors.push(RollError::new(line, field, kind));
    }

    /// Counts a record that will not reach [`add`](Self::add) (a record with the wrong number
    /// of fields, say); returns false once past the cap, when reading must stop.
    pub fn count(&mut self, line: u64) -> bool {
        self.records += 1;
        if self.records > self.max_voters {
            let max = self.max_voters;
            self.error(line, None, K::TooMany { max });
            self.stopped = true;
            return false;
        }
        true
    }

    /// Checks one record, starting on `line`, and adds its voter.
    pub fn add(&mut self, line: u64, f: &Fields<'_>) {
        if !self.count(line) {
            return;
        }
        let id = check_id(f.id.map(str::trim));
        let email = check_email(f.email.map(str::trim));
        let weight = check_weight(f.weight.map(str::trim));
        let name = check_name(f.name.map(str::trim));
        let lang = check_lang(f.lang.map(str::trim));
        let id = match id {
            _ if f.reported[0] => None,
            Ok(id) => Some(id),
            Err(kind) => {
                self.error(line, Some("id"), kind);
                None
            }
        };
        let email = if f.reported[1] {
            Ok(String::new())
        } else {
            email
        };
        let weight = if f.reported[2] { Ok(1) } else { weight };
        let name = if f.reported[3] { Ok(None) } else { name };
        let lang = if f.reported[4] { Ok(None) } else { lang };
        let email = email.unwrap_or_else(|kind| {
            self.error(line, Some("email"), kind);
            String::new()
        });
        let weight = weight.unwrap_or_else(|kind| {
            self.error(line, Some("weight"), kind);
            1
        });
        let name = name.unwrap_or_else(|kind| {
            self.error(line, Some("name"), kind);
            None
        });
        let lang = lang.unwrap_or_else(|kind| {
            self.error(line, Some("lang"), kind);
            None
        });
        let Some(id) = id else { return };

        let hash = self.hasher.hash_one(id);
        let voters = &self.voters;
        if let Some(&(_, first)) = self
            .ids
            .find(hash, |&(h, i)| h == hash && voters[i as usize].id == id)
        {
            let first_line = self.lines[first as usize];
            self.error(line, Some("id"), K::DuplicateId { first_line });
            return;
        }
        let index = self.voters.len() as u32;
        // Warnings only matter for a roll without errors: once there is one, addresses are no
        // longer compared.
        if self.errors.total() == 0 {
            let hash = caseless_hash(&self.hasher, &email);
            if let Some(&(_, first)) = self.emails.find(hash, |&(h, i)| {
                h == hash && caseless_eq(&voters[i as usize].email, &email)
            }) {
                let first_line = self.lines[first as usize];
                self.warnings.push(RollWarning {
                    line,
                    field: Some("email".to_owned()),
                    message: format!(
                        "`{}` is also the address of the voter on line {first_line}: two voters \
                         sharing a mailbox can receive each other's codes",
                        shown(&email)
                    ),
                });
            } else {
                self.emails.insert_unique(hash, (hash, index), |&(h, _)| h);
            }
        }
        self.ids.insert_unique(hash, (hash, index), |&(h, _)| h);
        self.voters.push(Voter {
            id: id.to_owned(),
            email,
            weight,
            name,
            lang,
        });
        self.lines.push(line);
    }

    /// The roll, or every error found. `empty_line` is where to report an empty roll.
    pub fn finish(mut self, empty_line: u64) -> Result<Roll, RollErrors> {
        if self.records == 0 && self.errors.total() == 0 {
            self.error(empty_line, None, K::Empty);
        }
        if self.errors.total() > 0 {
            return Err(self.errors);
        }
        Ok(Roll {
            voters: self.voters,
            warnings: self.warnings,
        })
    }
}

/// A hash of the text folded to lower case, consistent with [`caseless_eq`].
fn caseless_hash(hasher: &RandomState, s: &str) -> u64 {
    let mut h = hasher.build_hasher();
    let mut buf = [0u8; MAX_EMAIL_LEN];
    match buf.get_mut(..s.len()) {
        // ASCII folds byte for byte: hash it in one write (addresses fit in the buffer).
        Some(b) if s.is_ascii() => {
            b.copy_from_slice(s.as_bytes());
            b.make_ascii_lowercase();
            h.write(b);
        }
        _ => {
            for c in s.chars().flat_map(char::to_lowercase) {
                // Every folded character as UTF-8, so that ASCII text hashes as above.
                h.write(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
    }
    h.finish()
}

/// Whether the text holds a control character (C0, DEL or C1), looking at bytes first.
fn has_control(s: &str) -> bool {
    // C1 controls are U+0080..U+009F, encoded 0xC2 0x80..=0x9F.
    s.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) && s.chars().any(char::is_control)
}

/// Whether the text has more than `max` characters, counting them only when it could.
fn longer_than(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().nth(max).is_some()
}

fn caseless_eq(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn check_id(id: Option<&str>) -> Result<&str, K> {
    let id = match id {
        None | Some("") => return Err(K::MissingId),
        Some(id) => id,
    };
    if has_control(id) {
        return Err(K::BadId(
            shown(id),
            "it holds a control character (a tab or a line break?)",
        ));
    }
    if longer_than(id, MAX_ID_CHARS) {
        return Err(K::BadId(shown(id), "it is longer than 128 characters"));
    }
    Ok(id)
}

/// One plain address `local@domain`, its domain in lower case. The local part and the domain
/// are checked by `email_address` (RFC 5321/5322 syntax); before it, the mistakes people make
/// get a message of their own, and after it the forms a mailer may not take (quoted local
/// parts, domain literals, domains without a dot) are refused.
fn check_email(email: Option<&str>) -> Result<String, K> {
    let email = match email {
        None | Some("") => return Err(K::MissingEmail),
        Some(e) => e,
    };
    let bad = |why| Err(K::BadEmail(shown(email), why));
    if email.len() > MAX_EMAIL_LEN {
        return bad("it is longer than 254 bytes");
    }
    // The usual mistakes, found in one pass over the bytes (all are ASCII but Unicode spaces
    // and controls, looked for only in non-ASCII text).
    let mut non_ascii = false;
    for b in email.bytes() {
        match b {
            b'<' | b'>' => return bad("write the address alone, without a name or angle brackets"),
            b'(' | b')' => return bad("comments in parentheses are not allowed"),
            b',' | b';' => return bad("write one address per voter"),
            b'"' => return bad("quoted local parts are not supported"),
            0..=b' ' | 0x7f => return bad("it contains a space or a control character"),
            0x80.. => non_ascii = true,
            _ => {}
        }
    }
    if non_ascii && email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains a space or a control character");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return bad("it has no @");
    };
    if local.is_empty() {
        return bad("nothing comes before the @");
    }
    if domain.is_empty() {
        return bad("the domain after the @ is empty");
    }
    if local.contains('@') {
        return bad("it has more than one @");
    }
    if !EmailAddress::is_valid_local_part(local) {
        return bad("the part before the @ is not valid");
    }
    if domain.starts_with('[') {
        return bad("an IP address is not accepted as the domain");
    }
    if !domain.contains('.') {
        return bad("the domain has no dot");
    }
    let label_ok = |l: &str| l.chars().all(|c| c.is_alphanumeric() || c == '-');
    if !EmailAddress::is_valid_domain(domain) || !domain.split('.').all(label_ok) {
        return bad("the domain after the @ is not valid");
    }
    let mut out = String::with_capacity(email.len());
    out.push_str(local);
    out.push('@');
    if domain.chars().any(char::is_uppercase) {
        out.extend(domain.chars().flat_map(char::to_lowercase));
    } else {
        out.push_str(domain);
    }
    Ok(out)
}

/// A decimal integer from 1 to [`MAX_WEIGHT`]; absent or empty means 1.
fn check_weight(weight: Option<&str>) -> Result<u64, K> {
    let w = match weight {
        None | Some("") => return Ok(1),
        Some(w) => w,
    };
    let (negative, digits) = match w.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, w.strip_prefix('+').unwrap_or(w)),
    };
    // A decimal point or a decimal comma (French spreadsheets write 2,5), digits around it.
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = match digits.split_once(['.', ',']) {
        Some((int, frac)) if is_digits(int) && (frac.is_empty() || is_digits(frac)) => {
            (int, Some(frac))
        }
        Some((int, frac)) if int.is_empty() && is_digits(frac) => ("0", Some(frac)),
        Some(_) => return Err(K::BadWeight(shown(w))),
        None if is_digits(digits) => (digits, None),
        None => return Err(K::BadWeight(shown(w))),
    };
    let zero = int.bytes().all(|b| b == b'0') && frac.is_none_or(|f| f.bytes().all(|b| b == b'0'));
    if zero {
        return Err(K::WeightNotPositive);
    }
    if negative {
        return Err(K::WeightNegative(shown(w)));
    }
    if frac.is_some() {
        return Err(K::WeightFractional(shown(w)));
    }
    let int = int.trim_start_matches('0');
    match int.parse::<u64>() {
        Ok(n) if n <= MAX_WEIGHT => Ok(n),
        // Only digits: the one failure left is overflow.
        _ => Err(K::WeightTooLarge(shown(w))),
    }
}

fn check_name(name: Option<&str>) -> Result<Option<String>, K> {
    let name = match name {
        None | Some("") => return Ok(None),
        Some(n) => n,
    };
    if has_control(name) {
        return Err(K::BadName(
            shown(name),
            "it holds a control character (a tab or a line break?)",
        ));
    }
    if longer_than(name, MAX_NAME_CHARS) {
        return Err(K::BadName(shown(name), "it is longer than 200 characters"));
    }
    Ok(Some(name.to_owned()))
}

fn check_lang(lang: Option<&str>) -> Result<Option<Lang>, K> {
    match lang {
        None | Some("") => Ok(None),
        Some(l) => Lang::parse(l).map(Some).ok_or_else(|| K::BadLang(shown(l))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        assert_eq!(check_weight(None), Ok(1));
        assert_eq!(check_weight(Some("")), Ok(1));
        assert_eq!(check_weight(Some("7")), Ok(7));
        assert_eq!(check_weight(Some("007")), Ok(7));
        assert_eq!(check_weight(Some("+7")), Ok(7));
        assert_eq!(check_weight(Some("1000000000")), Ok(MAX_WEIGHT));
        assert_eq!(
            check_weight(Some("1000000001")),
            Err(K::WeightTooLarge("1000000001".into()))
        );
        assert_eq!(
            check_weight(Some("99999999999999999999999")),
            Err(K::WeightTooLarge("99999999999999999999999".into()))
        );
        assert_eq!(check_weight(Some("0")), Err(K::WeightNotPositive));
        assert_eq!(check_weight(Some("-0")), Err(K::WeightNotPositive));
        assert_eq!(check_weight(Some("0.0")), Err(K::WeightNotPositive));
        assert_eq!(
            check_weight(Some("-2")),
            Err(K::WeightNegative("-2".into()))
        );
        assert_eq!(
            check_weight(Some("-2.5")),
            Err(K::WeightNegative("-2.5".into()))
        );
        assert_eq!(
            check_weight(Some("2.5")),
            Err(K::WeightFractional("2.5".into()))
        );
        assert_eq!(
            check_weight(Some("2,5")),
            Err(K::WeightFractional("2,5".into()))
        );
        assert_eq!(
            check_weight(Some(".5")),
            Err(K::WeightFractional(".5".into()))
        );
        assert_eq!(
            check_weight(Some("2.")),
            Err(K::WeightFractional("2.".into()))
        );
        for bad in [
            "abc", "1e3", "1 000", "--1", "+-1", ".", "1.2.3", "0x10", "١٢",
        ] {
            assert_eq!(
                check_weight(Some(bad)),
                Err(K::BadWeight(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn emails() {
        let ok = |e: &str| check_email(Some(e));
        assert_eq!(ok("bob@example.org"), Ok("bob@example.org".into()));
        assert_eq!(
            ok("Bob.Smith+vote@Example.ORG"),
            Ok("Bob.Smith+vote@example.org".into())
        );
        assert_eq!(ok("élise@exemple.fr"), Ok("élise@exemple.fr".into()));
        for bad in [
            "bob@",
            "@example.org",
            "bob",
            "bob@localhost",
            "Bob <bob@example.org>",
            "bob@example.org (Bob)",
            "bob@example.org, ann@example.org",
            "bob @example.org",
            "\"bob smith\"@example.org",
            "bob@[192.0.2.1]",
            "bob..smith@example.org",
            ".bob@example.org",
            "bob@example..org",
            "bob@-example.org",
            "bob@exa_mple.org",
            "bob@exa!mple.org",
            "a@b@example.org",
        ] {
            assert!(
                matches!(ok(bad), Err(K::BadEmail(..))),
                "{bad}: {:?}",
                ok(bad)
            );
        }
        let long = format!("{}@{}.org", "a".repeat(64), "b".repeat(200));
        assert!(matches!(ok(&long), Err(K::BadEmail(_, why)) if why.contains("254")));
        assert_eq!(ok(""), Err(K::MissingEmail));
    }
}
