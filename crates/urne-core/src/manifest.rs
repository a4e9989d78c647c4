//! The election manifest: everything that defines an election, frozen before it opens.
//!
//! Its *fingerprint* is the first 32 bytes of H(MANIFEST, canonical items) and every proof and
//! signature of the election binds it, so a ballot or proof made for one manifest never verifies
//! under another, even one that differs only in an answer's wording.
//!
//! Spec: docs/spec.md §4.

use std::collections::HashSet;
use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{ParseError, parse_json};
use crate::group::{Point, b64_encode};
use crate::hash::{ItemHasher, tags};
use crate::proofs::schnorr::SchnorrProof;

/// Longest election id, in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Most questions in one election.
pub const MAX_QUESTIONS: usize = 256;
/// Most answers to one question.
pub const MAX_ANSWERS: usize = 256;
/// Most trustees.
pub const MAX_TRUSTEES: usize = 64;
/// Longest title, question or answer text, in bytes.
pub const MAX_TEXT_LEN: usize = 4096;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 65536;
/// Most answers to a ranked or graded question (each answer's value has its own range proof).
pub const MAX_MIXED_ANSWERS: usize = 64;
/// Most grades of a graded question.
pub const MAX_GRADES: usize = 16;

/// The format version of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ManifestFormat {
    /// This specification.
    #[serde(rename = "urne/manifest/v1")]
    V1,
}

/// How many votes each credential carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightPolicy {
    /// Every credential has weight 1.
    Equal,
    /// Each credential has the weight given in the public credential list (spec §5.4).
    Weighted,
}

/// What happens when one credential casts several ballots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevotePolicy {
    /// A later ballot replaces the earlier one; the last ballot cast counts.
    LastCounts,
    /// Only one ballot per credential is accepted.
    Forbidden,
}

/// How the trustees hold the election key (spec §8.1, §8.5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySharing {
    /// Each trustee has its own key; the election key is their sum; all n decrypt together.
    #[default]
    Independent,
    /// The key comes from the key-generation ceremony of §8.5; any `threshold` trustees decrypt.
    Threshold,
}

impl KeySharing {
    fn is_independent(&self) -> bool {
        *self == KeySharing::Independent
    }
}

/// How a question is counted.
///
/// Plurality questions are counted homomorphically: only the sums are decrypted. The others are
/// *mixed*: each ballot's values go through the trustees' verifiable shuffle and are decrypted
/// one ballot at a time, then counted in the clear (docs/counting.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counting {
    /// Homomorphic sum of each answer's selections (spec §8.2).
    Plurality,
    /// A ranking, counted by Condorcet–Schulze (docs/counting.md §2).
    Schulze,
    /// A ranking, counted by the single transferable vote for `seats` seats (docs/counting.md §3).
    Stv,
    /// A grade for every answer, counted by majority judgment (docs/counting.md §4).
    MajorityJudgment,
}

impl Counting {
    /// The name in the manifest and in its canonical items.
    pub fn as_str(self) -> &'static str {
        match self {
            Counting::Plurality => "plurality",
            Counting::Schulze => "schulze",
            Counting::Stv => "stv",
            Counting::MajorityJudgment => "majority_judgment",
        }
    }

    /// Whether ballots are shuffled and decrypted one by one for this counting (all but
    /// plurality).
    pub fn is_mixed(self) -> bool {
        self != Counting::Plurality
    }

    /// Whether the voter ranks the answers.
    pub fn is_ranking(self) -> bool {
        matches!(self, Counting::Schulze | Counting::Stv)
    }
}

/// A question: the voter selects between `min` and `max` of its answers, or votes blank when
/// `blank` is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The question as shown to voters.
    pub text: String,
    /// The possible answers, distinct, in display order.
    pub answers: Vec<String>,
    /// Fewest answers a non-blank vote selects.
    pub min: u32,
    /// Most answers a vote selects.
    pub max: u32,
    /// Whether a blank vote (no selection, counted apart) is allowed.
    pub blank: bool,
    /// How the question is counted.
    pub counting: Counting,
    /// Seats to fill, for the single transferable vote only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::group::some"
    )]
    pub seats: Option<u32>,
    /// The grades from the best to the worst, for majority judgment only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::group::some"
    )]
    pub grades: Option<Vec<String>>,
}

impl Question {
    /// A plurality question (the common case), with no seats or grades.
    pub fn plurality(text: &str, answers: &[&str], min: u32, max: u32, blank: bool) -> Self {
        Question {
            text: text.to_owned(),
            answers: answers.iter().map(|a| (*a).to_owned()).collect(),
            min,
            max,
            blank,
            counting: Counting::Plurality,
            seats: None,
            grades: None,
        }
    }

    /// The values one answer's ciphertext may hold (spec §6.3): 0 or 1 for plurality (not
    /// selected, selected); 0 to `max` for a ranking (0 = not ranked, else the rank); 0 to g − 1
    /// for g grades (0 = the worst grade, g − 1 the best).
    pub fn value_bound(&self) -> u64 {
        match self.counting {
            Counting::Plurality => 1,
            Counting::Schulze | Counting::Stv => self.max.into(),
            Counting::MajorityJudgment => self
                .grades
                .as_ref()
                .map_or(0, |g| (g.len() as u64).saturating_sub(1)),
        }
    }
}

/// A UTC instant, written in RFC 3339 as `YYYY-MM-DDTHH:MM:SSZ` (that exact form, nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0
    }

    /// From seconds since the Unix epoch.
    pub fn from_unix(secs: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(secs)
            .ok()
            .filter(|t| (1..=9999).contains(&t.year()))
            .map(|_| Timestamp(secs))
    }

    /// Parses the canonical form.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t =
            OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("not an RFC 3339 time: {e}"))?;
        if !(1..=9999).contains(&t.year()) {
            return Err("the year must be between 0001 and 9999".into());
        }
        let ts = Timestamp(t.unix_timestamp());
        if ts.to_string() != s {
            return Err(format!(
                "must be written in UTC as YYYY-MM-DDTHH:MM:SSZ, such as {ts}"
            ));
        }
        Ok(ts)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            Err(_) => write!(f, "@{}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A trustee as the manifest lists it: name, public key and proof of knowledge of the secret key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrusteePublic {
    /// The trustee's name, as shown to observers.
    pub name: String,
    /// The trustee's public key, which is also its verification key for decryption factors.
    pub public_key: Point,
    /// Schnorr proof of knowledge of the secret key (spec §8.1).
    pub key_proof: SchnorrProof,
}

/// The election manifest (spec §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The format version.
    pub format: ManifestFormat,
    /// The election id: 1 to 64 characters among `A-Z a-z 0-9 . _ -`.
    pub id: String,
    /// The election's title.
    pub title: String,
    /// A longer description, possibly empty.
    pub description: String,
    /// The questions, in ballot order.
    pub questions: Vec<Question>,
    /// The weights policy.
    pub weights: WeightPolicy,
    /// The revote policy.
    pub revote: RevotePolicy,
    /// When voting opens.
    pub opens_at: Timestamp,
    /// When voting closes.
    pub closes_at: Timestamp,
    /// The trustees, in index order (the first has index 1).
    pub trustees: Vec<TrusteePublic>,
    /// How many trustees must take part in decryption.
    pub threshold: u32,
    /// How the trustees hold the key: absent for independent keys (the format's first form).
    #[serde(default, skip_serializing_if = "KeySharing::is_independent")]
    pub key_sharing: KeySharing,
    /// The joint election public key Y.
    pub public_key: Point,
    /// The server's board key, which signs the tree heads of the election's bulletin board
    /// (docs/record.md §4.4; spec §4.1): absent when the server publishes no signed tree heads,
    /// and then adding nothing to the fingerprint (spec §4.3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::group::some"
    )]
    pub board_key: Option<Point>,
}

/// The fingerprint of an election: 32 bytes, bound into every proof and signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(#[serde(with = "crate::group::bytes_b64")] pub [u8; 32]);

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", b64_encode(&self.0))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64_encode(&self.0))
    }
}

fn check_text(path: String, s: &str, max: usize, empty_ok: bool) -> Result<(), ParseError> {
    if !empty_ok && s.trim().is_empty() {
        return Err(ParseError::new("manifest", path, "must not be empty"));
    }
    if s.len() > max {
        return Err(ParseError::new(
            "manifest",
            path,
            format!("longer than {max} bytes"),
        ));
    }
    Ok(())
}

/// The rules that depend on how question `qi` is counted (spec §4.2, rule 4.7 to 4.10).
fn check_counting(qi: usize, q: &Question) -> Result<(), ParseError> {
    let err = |f: &str, msg: String| {
        Err(ParseError::new(
            "manifest",
            format!("questions[{qi}].{f}"),
            msg,
        ))
    };
    let name = q.counting.as_str();
    match (q.counting, q.seats) {
        (Counting::Stv, None) => return err("seats", "is required with counting \"stv\"".into()),
        (Counting::Stv, Some(seats)) if seats == 0 || seats as usize >= q.answers.len() => {
            return err(
                "seats",
                format!(
                    "must be between 1 and one less than the number of answers ({})",
                    q.answers.len()
                ),
            );
        }
        (Counting::Stv, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return err(
                "seats",
                format!("is only for counting \"stv\", not \"{name}\""),
            );
        }
    }
    match (q.counting, &q.grades) {
        (Counting::MajorityJudgment, None) => {
            return err(
                "grades",
                "is required with counting \"majority_judgment\"".into(),
            );
        }
        (Counting::MajorityJudgment, Some(grades)) => {
            if grades.len() < 2 || grades.len() > MAX_GRADES {
                return err("grades", format!("must hold 2 to {MAX_GRADES} grades"));
            }
            let mut seen = HashSet::new();
            for (gi, g) in grades.iter().enumerate() {
                check_text(
                    format!("questions[{qi}].grades[{gi}]"),
                    g,
                    MAX_TEXT_LEN,
                    false,
                )?;
                if !seen.insert(g.as_str()) {
                    return err(&format!("grades[{gi}]"), "repeats an earlier grade".into());
                }
            }
        }
        (_, None) => {}
        (_, Some(_)) => {
            return err(
                "grades",
                format!("is only for counting \"majority_judgment\", not \"{name}\""),
            );
        }
    }
    if !q.counting.is_mixed() {
        return Ok(());
    }
    if q.answers.len() > MAX_MIXED_ANSWERS {
        return err(
            "answers",
            format!("must hold at most {MAX_MIXED_ANSWERS} answers with counting \"{name}\""),
        );
    }
    if q.blank {
        return err(
            "blank",
            format!(
                "must be false with counting \"{name}\" (a voter abstains by ranking nothing, \
                 where min is 0)"
            ),
        );
    }
    let n = q.answers.len() as u32;
    if q.counting == Counting::MajorityJudgment && (q.min != n || q.max != n) {
        return err(
            "min",
            format!("min and max must both be the number of answers ({n}): every answer is graded"),
        );
    }
    Ok(())
}

/// Whether `id` is a valid election id.
pub fn valid_election_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// The hash prefix of trustee `index`'s key proof (spec §8.1): it binds the election id, the
/// trustee's index and name, and its public key.
pub fn trustee_key_proof_prefix(
    election_id: &str,
    index: u32,
    name: &str,
    public_key: &Point,
) -> ItemHasher {
    let mut h = ItemHasher::new(tags::TRUSTEE_KEY_PROOF);
    h.str(election_id)
        .u64(index.into())
        .str(name)
        .point(public_key);
    h
}

impl Manifest {
    /// Parses and validates a manifest from JSON. Errors name the offending field.
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        let m: Manifest = parse_json("manifest", text)?;
        m.validate()?;
        Ok(m)
    }

    /// The canonical JSON form (compact, fields in the order of this specification).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a manifest always serializes")
    }

    /// Checks every rule of spec §4.2 that does not involve proofs (those are V-3).
    pub fn validate(&self) -> Result<(), ParseError> {
        let err = |path: &str, msg: String| Err(ParseError::new("manifest", path, msg));
        if !valid_election_id(&self.id) {
            return err(
                "id",
                format!("must be 1 to {MAX_ID_LEN} characters among A-Z a-z 0-9 . _ -"),
            );
        }
        check_text("title".into(), &self.title, MAX_TEXT_LEN, false)?;
        check_text(
            "description".into(),
            &self.description,
            MAX_DESCRIPTION_LEN,
            true,
        )?;
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            return err(
                "questions",
                format!("must hold 1 to {MAX_QUESTIONS} questions"),
            );
        }
        for (qi, q) in self.questions.iter().enumerate() {
            let p = |f: &str| format!("questions[{qi}].{f}");
            check_text(p("text"), &q.text, MAX_TEXT_LEN, false)?;
            if q.answers.is_empty() || q.answers.len() > MAX_ANSWERS {
                return err(
                    &p("answers"),
                    format!("must hold 1 to {MAX_ANSWERS} answers"),
                );
            }
            let mut seen = HashSet::new();
            for (ai, a) in q.answers.iter().enumerate() {
                check_text(
                    format!("questions[{qi}].answers[{ai}]"),
                    a,
                    MAX_TEXT_LEN,
                    false,
                )?;
                if !seen.insert(a.as_str()) {
                    return err(
                        &format!("questions[{qi}].answers[{ai}]"),
                        "repeats an earlier answer".into(),
                    );
                }
            }
            if q.max == 0 || q.max as usize > q.answers.len() {
                return err(
                    &p("max"),
                    format!(
                        "must be between 1 and the number of answers ({})",
                        q.answers.len()
                    ),
                );
            }
            if q.min > q.max {
                return err(&p("min"), format!("must not exceed max ({})", q.max));
            }
            if q.blank && q.min == 0 {
                return err(
                    &p("blank"),
                    "a blank vote needs min ≥ 1, else it could not be told from an empty selection"
                        .into(),
                );
            }
            check_counting(qi, q)?;
        }
        if self.weights == WeightPolicy::Weighted
            && let Some(qi) = self.questions.iter().position(|q| q.counting.is_mixed())
        {
            return err(
                "weights",
                format!(
                    "must be \"equal\": question {qi} is counted by {}, whose ballots are \
                     shuffled, and a shuffled ballot can carry no weight",
                    self.questions[qi].counting.as_str()
                ),
            );
        }
        if self.opens_at >= self.closes_at {
            return err(
                "closes_at",
                format!("must be after opens_at ({})", self.opens_at),
            );
        }
        if self.trustees.is_empty() || self.trustees.len() > MAX_TRUSTEES {
            return err(
                "trustees",
                format!("must hold 1 to {MAX_TRUSTEES} trustees"),
            );
        }
        let mut names = HashSet::new();
        let mut keys = HashSet::new();
        for (i, t) in self.trustees.iter().enumerate() {
            check_text(format!("trustees[{i}].name"), &t.name, MAX_TEXT_LEN, false)?;
            if !names.insert(t.name.as_str()) {
                return err(
                    &format!("trustees[{i}].name"),
                    "repeats an earlier trustee's name".into(),
                );
            }
            if t.public_key.is_identity() {
                return err(
                    &format!("trustees[{i}].public_key"),
                    "must not be the identity".into(),
                );
            }
            if !keys.insert(t.public_key) {
                return err(
                    &format!("trustees[{i}].public_key"),
                    "repeats an earlier trustee's key".into(),
                );
            }
        }
        if self.key_sharing == KeySharing::Threshold {
            if self.threshold == 0 || self.threshold as usize > self.trustees.len() {
                return err(
                    "threshold",
                    format!(
                        "must be between 1 and the number of trustees ({})",
                        self.trustees.len()
                    ),
                );
            }
        } else if self.threshold as usize != self.trustees.len() {
            return err(
                "threshold",
                format!(
                    "with independent trustee keys, must equal the number of trustees ({})",
                    self.trustees.len()
                ),
            );
        }
        if self.public_key.is_identity() {
            return err("public_key", "must not be the identity".into());
        }
        if self.board_key.is_some_and(|k| k.is_identity()) {
            return err("board_key", "must not be the identity".into());
        }
        Ok(())
    }

    /// The canonical hash items of the manifest (spec §4.3), in a hasher started with `tag`.
    fn items(&self, tag: &str) -> ItemHasher {
        let mut h = ItemHasher::new(tag);
        h.str("urne/manifest/v1")
            .str(&self.id)
            .str(&self.title)
            .str(&self.description);
        h.len(self.questions.len());
        for q in &self.questions {
            h.str(&q.text).len(q.answers.len());
            for a in &q.answers {
                h.str(a);
            }
            h.u64(q.min.into())
                .u64(q.max.into())
                .u64(q.blank.into())
                .str(q.counting.as_str());
            if let Some(seats) = q.seats {
                h.str("seats").u64(seats.into());
            }
            if let Some(grades) = &q.grades {
                h.str("grades").len(grades.len());
                for g in grades {
                    h.str(g);
                }
            }
        }
        h.str(match self.weights {
            WeightPolicy::Equal => "equal",
            WeightPolicy::Weighted => "weighted",
        });
        h.str(match self.revote {
            RevotePolicy::LastCounts => "last_counts",
            RevotePolicy::Forbidden => "forbidden",
        });
        h.str(&self.opens_at.to_string())
            .str(&self.closes_at.to_string());
        h.len(self.trustees.len());
        for t in &self.trustees {
            h.str(&t.name).point(&t.public_key);
            t.key_proof.hash_into(&mut h);
        }
        h.u64(self.threshold.into()).point(&self.public_key);
        if self.key_sharing == KeySharing::Threshold {
            h.str("key_sharing").str("threshold");
        }
        if let Some(board_key) = &self.board_key {
            h.str("board_key").point(board_key);
        }
        h
    }

    /// The election fingerprint: the first 32 bytes of H(MANIFEST, canonical items).
    pub fn fingerprint(&self) -> Fingerprint {
        let d = self.items(tags::MANIFEST).digest();
        let mut f = [0u8; 32];
        f.copy_from_slice(&d[..32]);
        Fingerprint(f)
    }

    /// V-3: each trustee's key proof verifies, and under independent keys the election key is the
    /// sum of their keys (under threshold sharing, see [`crate::ceremony`]).
    pub fn vartime_verify_trustee_keys(&self) -> Result<(), crate::error::VerifyError> {
        use crate::error::{Check, VerifyError};
        let mut sum = RistrettoPoint::default();
        for (i, t) in self.trustees.iter().enumerate() {
            let prefix = trustee_key_proof_prefix(&self.id, i as u32 + 1, &t.name, &t.public_key);
            t.key_proof
                .vartime_verify(&t.public_key, prefix)
                .map_err(|e| {
                    VerifyError::new(Check::V3, format!("trustees[{i}].key_proof"), e.to_string())
                })?;
            sum += t.public_key.element();
        }
        // Under threshold sharing the key comes from the ceremony, checked against the record.
        if self.key_sharing == KeySharing::Independent
            && Point::from_element(sum) != self.public_key
        {
            return Err(VerifyError::new(
                Check::V3,
                "public_key",
                "is not the sum of the trustees' public keys",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::BoardKey;
    use crate::testkit::{ElectionBuilder, rng_from_seed};

    fn manifest() -> Manifest {
        let setup = ElectionBuilder::single_question("board-key", 3, 1, 1)
            .trustees(2)
            .build(&mut rng_from_seed(3));
        setup.election.manifest().clone()
    }

    #[test]
    fn absent_board_key_is_not_written_and_adds_nothing_to_the_fingerprint() {
        let m = manifest();
        assert_eq!(m.board_key, None);
        let json = m.to_json();
        assert!(!json.contains("board_key"));
        let back = Manifest::from_json(&json).unwrap();
        assert_eq!(back.fingerprint(), m.fingerprint());
        // The frozen fingerprints of test-vectors/ and of the frozen records are checked by
        // tests/vectors.rs and urne-verify's record tests.
    }

    #[test]
    fn board_key_is_written_last_and_bound_by_the_fingerprint() {
        let mut m = manifest();
        let without = m.fingerprint();
        let key = BoardKey::generate(&mut rng_from_seed(4));
        m.board_key = Some(*key.public());
        m.validate().unwrap();
        let json = m.to_json();
        assert!(json.ends_with(&format!(r#","board_key":"{}"}}"#, key.public())));
        let back = Manifest::from_json(&json).unwrap();
        assert_eq!(back, m);
        let with = m.fingerprint();
        assert_ne!(with, without);
        // The items are those of the manifest without it, then "board_key" and the point.
        let mut h = {
            let mut plain = m.clone();
            plain.board_key = None;
            plain.items(tags::MANIFEST)
        };
        h.str("board_key").point(key.public());
        assert_eq!(with.0[..], h.digest()[..32]);
        m.board_key = Some(*BoardKey::generate(&mut rng_from_seed(5)).public());
        assert_ne!(m.fingerprint(), with);
    }

    #[test]
    fn rejects_identity_board_key() {
        let mut m = manifest();
        m.board_key = Some(Point::identity());
        let e = m.validate().unwrap_err();
        assert_eq!(e.path, "board_key");
        assert!(Manifest::from_json(&m.to_json()).is_err());
    }

    #[test]
    fn rejects_null_or_malformed_board_key() {
        let json = manifest().to_json();
        let with = |v: &str| format!("{},\"board_key\":{v}}}", &json[..json.len() - 1]);
        let e = Manifest::from_json(&with("null")).unwrap_err();
        assert_eq!(e.path, "board_key");
        let e = Manifest::from_json(&with("\"AAAA\"")).unwrap_err();
        assert_eq!(e.path, "board_key");
        // 32 bytes that are not a canonical point encoding.
        let bad = crate::group::b64_encode(&[0xff; 32]);
        let e = Manifest::from_json(&with(&format!("\"{bad}\""))).unwrap_err();
        assert_eq!(e.path, "board_key");
    }
}
