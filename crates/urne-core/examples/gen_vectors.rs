//! Writes urne's JSON test vectors, the contract other implementations (the JavaScript booth
//! first) must meet:
//!
//! ```text
//! cargo run --release -p urne-core --features testkit --example gen_vectors -- test-vectors
//! ```
//!
//! Every value comes from fixed seeds, so two runs write byte-identical files.
//! `tests/vectors.rs` includes this file as a module and compares [`render_all`] with the
//! committed files, so the files cannot drift from the code; it also checks every case on its own,
//! without this file's logic. test-vectors/README.md describes the format.
//!
//! Where a value is produced with randomness that another implementation should be able to
//! reproduce (encryption randomness, proof nonces, signature nonces), the generator draws it
//! itself and hands it to urne-core through [`Replay`], a byte source that replays exactly the
//! chosen values, and records it in the vector.
//!
//! Several hash inputs are private to urne-core (the prefixes of choice, count and decryption
//! proofs, the ballot's signed items). They are rebuilt here from spec §3 to §8 as [`Items`], so
//! the vectors can show them; the test checks that they agree with urne-core's own, through
//! proofs that only verify if they do.

use std::convert::Infallible;
use std::path::Path;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_chacha::ChaCha20Rng;
use rand_core::{TryCryptoRng, TryRng};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use subtle::Choice;

use urne_core::ballot::{Ballot, EncryptedAnswer, QuestionVote, count_allowed};
use urne_core::credential::Credential;
use urne_core::election::Election;
use urne_core::elgamal::{Ciphertext, ElectionKey};
use urne_core::group::{G, Point, b64_decode, b64_encode, random_scalar};
use urne_core::hash::{ItemHasher, generator, tags};
use urne_core::manifest::{
    Counting, KeySharing, Manifest, ManifestFormat, Question, RevotePolicy, Timestamp,
    WeightPolicy, trustee_key_proof_prefix,
};
use urne_core::proofs::decryption::DecryptionFactor;
use urne_core::proofs::disjunctive::{Branch, DisjunctiveProof, Witness};
use urne_core::proofs::schnorr::SchnorrProof;
use urne_core::tally::{EncryptedTally, TallyAccumulator, decrypt_result};
use urne_core::testkit::rng_from_seed;
use urne_core::trustee::{TrusteeKey, combine_public_keys};

/// The command that regenerates the files, recorded in each of them.
pub const COMMAND: &str =
    "cargo run --release -p urne-core --features testkit --example gen_vectors -- test-vectors";

/// The format of the vector files themselves.
pub const FORMAT: &str = "urne/test-vectors/v1";

/// The files, in the order they are written.
pub const FILES: [&str; 7] = [
    "encoding.json",
    "hash.json",
    "credential.json",
    "manifest.json",
    "proofs.json",
    "ballot.json",
    "tally.json",
];

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "test-vectors".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).expect("cannot create the output directory");
    for (name, text) in render_all() {
        let path = dir.join(name);
        std::fs::write(&path, &text).expect("cannot write a vector file");
        println!("{} ({} bytes)", path.display(), text.len());
    }
}

/// Every file's name and exact text (pretty-printed JSON and a final newline).
pub fn render_all() -> Vec<(&'static str, String)> {
    let files = [
        encoding(),
        hash(),
        credential(),
        manifest(),
        proofs(),
        ballot(),
        tally(),
    ];
    FILES
        .iter()
        .zip(files)
        .map(|(name, j)| {
            let mut text = serde_json::to_string_pretty(&j).expect("JSON always serializes");
            text.push('\n');
            (*name, text)
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// An ordered JSON tree. serde_json's own `Value` sorts object keys (without its preserve_order
// feature), which would put "cases" before "description" and scramble the canonical field order
// of ballots and manifests; this keeps keys in insertion (or document) order.

/// A JSON value whose objects keep their key order.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    /// null
    Null,
    /// true or false
    Bool(bool),
    /// A non-negative integer.
    Num(u64),
    /// A negative integer.
    Neg(i64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<J>),
    /// An object, in key order.
    Obj(Vec<(String, J)>),
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Null => s.serialize_unit(),
            J::Bool(b) => s.serialize_bool(*b),
            J::Num(n) => s.serialize_u64(*n),
            J::Neg(n) => s.serialize_i64(*n),
            J::Str(t) => s.serialize_str(t),
            J::Arr(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for x in v {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            J::Obj(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

struct JVisitor;

impl<'de> Visitor<'de> for JVisitor {
    type Value = J;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON without fractional numbers")
    }
    fn visit_unit<E: de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<J, E> {
        Ok(J::Bool(b))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<J, E> {
        Ok(J::Num(n))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<J, E> {
        Ok(u64::try_from(n).map_or(J::Neg(n), J::Num))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<J, E> {
        Ok(J::Str(s.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(J::Arr(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = map.next_entry()? {
            v.push((k, x));
        }
        Ok(J::Obj(v))
    }
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        d.deserialize_any(JVisitor)
    }
}

impl From<&str> for J {
    fn from(s: &str) -> J {
        J::Str(s.to_owned())
    }
}
impl From<String> for J {
    fn from(s: String) -> J {
        J::Str(s)
    }
}
impl From<u64> for J {
    fn from(n: u64) -> J {
        J::Num(n)
    }
}
impl From<u32> for J {
    fn from(n: u32) -> J {
        J::Num(n.into())
    }
}
impl From<usize> for J {
    fn from(n: usize) -> J {
        J::Num(n as u64)
    }
}
impl From<bool> for J {
    fn from(b: bool) -> J {
        J::Bool(b)
    }
}
impl From<Vec<J>> for J {
    fn from(v: Vec<J>) -> J {
        J::Arr(v)
    }
}
impl From<Option<J>> for J {
    fn from(v: Option<J>) -> J {
        v.unwrap_or(J::Null)
    }
}

macro_rules! obj {
    ($($k:expr => $v:expr),* $(,)?) => {
        J::Obj(vec![$(($k.to_string(), J::from($v))),*])
    };
}

impl J {
    /// The tree of any serializable value, keeping its field order.
    pub fn of<T: Serialize>(t: &T) -> J {
        let text = serde_json::to_string(t).expect("serializes");
        serde_json::from_str(&text).expect("reparses")
    }

    fn get_mut(&mut self, pointer: &str) -> &mut J {
        let mut at = self;
        for token in pointer.split('/').skip(1) {
            at = match at {
                J::Obj(m) => {
                    &mut m
                        .iter_mut()
                        .find(|(k, _)| k == token)
                        .unwrap_or_else(|| panic!("no key {token} in {pointer}"))
                        .1
                }
                J::Arr(v) => {
                    let i: usize = token.parse().expect("array index");
                    &mut v[i]
                }
                _ => panic!("{pointer} goes through a scalar"),
            };
        }
        at
    }

    /// Replaces the value at a JSON pointer (RFC 6901).
    pub fn set(&mut self, pointer: &str, v: J) {
        *self.get_mut(pointer) = v;
    }

    /// Adds a key to the object at `pointer`.
    pub fn insert(&mut self, pointer: &str, key: &str, v: J) {
        match self.get_mut(pointer) {
            J::Obj(m) => m.push((key.to_owned(), v)),
            _ => panic!("{pointer} is not an object"),
        }
    }

    /// Removes a key from the object at `pointer`.
    pub fn remove_key(&mut self, pointer: &str, key: &str) {
        match self.get_mut(pointer) {
            J::Obj(m) => m.retain(|(k, _)| k != key),
            _ => panic!("{pointer} is not an object"),
        }
    }

    fn extend(&mut self, fields: J) {
        match (self, fields) {
            (J::Obj(m), J::Obj(f)) => m.extend(f),
            _ => panic!("extend takes objects"),
        }
    }
}

/// An RFC 6902 patch (operations replace, add, remove) that turns `base` into `new`.
pub fn diff(base: &J, new: &J) -> J {
    fn walk(base: &J, new: &J, path: &str, ops: &mut Vec<J>) {
        match (base, new) {
            (J::Obj(a), J::Obj(b)) => {
                for (k, _) in a {
                    if !b.iter().any(|(k2, _)| k2 == k) {
                        ops.push(obj! {"op" => "remove", "path" => format!("{path}/{k}")});
                    }
                }
                for (k, v) in b {
                    match a.iter().find(|(k2, _)| k2 == k) {
                        Some((_, va)) => walk(va, v, &format!("{path}/{k}"), ops),
                        None => ops.push(obj! {
                            "op" => "add", "path" => format!("{path}/{k}"), "value" => v.clone()
                        }),
                    }
                }
            }
            (J::Arr(a), J::Arr(b)) => {
                let n = a.len().min(b.len());
                for i in 0..n {
                    walk(&a[i], &b[i], &format!("{path}/{i}"), ops);
                }
                for i in (n..a.len()).rev() {
                    ops.push(obj! {"op" => "remove", "path" => format!("{path}/{i}")});
                }
                for (i, v) in b.iter().enumerate().skip(n) {
                    ops.push(obj! {
                        "op" => "add", "path" => format!("{path}/{i}"), "value" => v.clone()
                    });
                }
            }
            _ => {
                if base != new {
                    ops.push(obj! {"op" => "replace", "path" => path, "value" => new.clone()});
                }
            }
        }
    }
    let mut ops = Vec::new();
    walk(base, new, "", &mut ops);
    assert!(!ops.is_empty(), "a patch must change something");
    J::Arr(ops)
}

// ------------------------------------------------------------------------------------------------
// Cases and files.

fn case(kind: &str, name: &str, comment: &str, valid: bool, fields: J) -> J {
    let mut c = obj! {"name" => name, "kind" => kind, "comment" => comment, "valid" => valid};
    c.extend(fields);
    c
}

fn file(description: &str, context: Option<J>, cases: Vec<J>) -> J {
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        if let J::Obj(m) = c {
            let name = m.iter().find(|(k, _)| k == "name").expect("named");
            assert!(names.insert(format!("{:?}", name.1)), "duplicate case name");
        }
    }
    let mut f = obj! {
        "format" => FORMAT,
        "description" => description,
        "generator" => COMMAND,
    };
    if let Some(c) = context {
        f.extend(obj! {"context" => c});
    }
    f.extend(obj! {"cases" => cases});
    f
}

/// The fields of an invalid case given as the valid case `base` changed by a patch.
fn patched(base: &str, base_fields: &J, fields: &J, error: &str) -> J {
    obj! {"base" => base, "patch" => diff(base_fields, fields), "error" => error}
}

fn b64(bytes: &[u8]) -> J {
    J::Str(b64_encode(bytes))
}
fn pt(p: &Point) -> J {
    b64(p.as_bytes())
}
fn sc(s: &Scalar) -> J {
    b64(s.as_bytes())
}
fn hex(bytes: &[u8]) -> J {
    J::Str(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
fn scalars(v: &[Scalar]) -> J {
    J::Arr(v.iter().map(sc).collect())
}
fn point_of(p: RistrettoPoint) -> Point {
    Point::from_element(p)
}
fn times_g(k: u64) -> Point {
    point_of(RistrettoPoint::mul_base(&Scalar::from(k)))
}
fn add_g(p: &Point) -> Point {
    point_of(p.element() + G)
}
fn bump(s: &Scalar) -> Scalar {
    s + Scalar::ONE
}

// ------------------------------------------------------------------------------------------------
// Hash items, as spec §3 defines them: every item is (8-byte big-endian length, bytes).

/// One hash item, with the type it was written as.
#[derive(Debug, Clone)]
pub enum Item {
    /// UTF-8 text.
    Str(String),
    /// An integer, as 8 bytes big-endian.
    U64(u64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A point's canonical encoding.
    Point(Point),
    /// A scalar's canonical encoding.
    Scalar(Scalar),
}

/// A domain tag and the items that follow it.
#[derive(Debug, Clone)]
pub struct Items {
    tag: String,
    items: Vec<Item>,
}

impl Items {
    fn new(tag: &str) -> Self {
        Items {
            tag: tag.to_owned(),
            items: Vec::new(),
        }
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.items.push(Item::Str(s.to_owned()));
        self
    }
    fn u64(&mut self, n: u64) -> &mut Self {
        self.items.push(Item::U64(n));
        self
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.items.push(Item::Bytes(b.to_vec()));
        self
    }
    fn point(&mut self, p: &Point) -> &mut Self {
        self.items.push(Item::Point(*p));
        self
    }
    fn scalar(&mut self, s: &Scalar) -> &mut Self {
        self.items.push(Item::Scalar(*s));
        self
    }
    fn ct(&mut self, c: &Ciphertext) -> &mut Self {
        self.point(&c.alpha).point(&c.beta)
    }

    fn raw(item: &Item) -> Vec<u8> {
        match item {
            Item::Str(s) => s.as_bytes().to_vec(),
            Item::U64(n) => n.to_be_bytes().to_vec(),
            Item::Bytes(b) => b.clone(),
            Item::Point(p) => p.as_bytes().to_vec(),
            Item::Scalar(s) => s.as_bytes().to_vec(),
        }
    }

    /// The hasher urne-core would hold after these items.
    fn hasher(&self) -> ItemHasher {
        let mut h = ItemHasher::new(&self.tag);
        for item in &self.items {
            h.bytes(&Self::raw(item));
        }
        h
    }

    /// The exact bytes that are hashed.
    fn preimage(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for b in
            std::iter::once(self.tag.as_bytes().to_vec()).chain(self.items.iter().map(Self::raw))
        {
            out.extend((b.len() as u64).to_be_bytes());
            out.extend(b);
        }
        out
    }

    fn json(&self) -> J {
        obj! {"tag" => self.tag.as_str(), "items" => self.items_json()}
    }

    fn items_json(&self) -> J {
        let items = self
            .items
            .iter()
            .map(|item| match item {
                Item::Str(s) => obj! {"str" => s.as_str()},
                Item::U64(n) => {
                    // JSON numbers above 2^53 - 1 lose precision in JavaScript.
                    assert!(*n < 1 << 53, "u64 items in vectors stay below 2^53");
                    obj! {"u64" => *n}
                }
                Item::Bytes(b) => obj! {"bytes_b64" => b64(b)},
                Item::Point(p) => obj! {"point" => pt(p)},
                Item::Scalar(s) => obj! {"scalar" => sc(s)},
            })
            .collect::<Vec<_>>();
        J::Arr(items)
    }
}

fn choice_items(fp: &[u8; 32], y: &Point, x: &Point, q: u64, a: u64, ct: &Ciphertext) -> Items {
    let mut h = Items::new(tags::CHOICE_PROOF);
    h.bytes(fp).point(y).point(x).u64(q).u64(a).ct(ct);
    h
}

struct CountStatement<'a> {
    fp: &'a [u8; 32],
    y: &'a Point,
    x: &'a Point,
    q: u64,
    question: &'a Question,
    choices: &'a [Ciphertext],
    blank: Option<&'a Ciphertext>,
}

impl CountStatement<'_> {
    fn items(&self) -> Items {
        let mut h = Items::new(tags::COUNT_PROOF);
        h.bytes(self.fp).point(self.y).point(self.x).u64(self.q);
        h.u64(self.question.min.into())
            .u64(self.question.max.into())
            .u64(self.question.blank.into())
            .u64(self.choices.len() as u64);
        for c in self.choices {
            h.ct(c);
        }
        if let Some(b) = self.blank {
            h.ct(b);
        }
        h
    }

    /// The ciphertexts the count proof is about: (blank flag,) sum of the choices.
    fn ciphertexts(&self) -> Vec<Ciphertext> {
        let sum = Ciphertext::sum(self.choices);
        match self.blank {
            Some(b) => vec![*b, sum],
            None => vec![sum],
        }
    }
}

fn key_proof_items(id: &str, index: u32, name: &str, pk: &Point) -> Items {
    let mut h = Items::new(tags::TRUSTEE_KEY_PROOF);
    h.str(id).u64(index.into()).str(name).point(pk);
    h
}

fn decryption_items(fp: &[u8; 32], vk: &Point, ct: &Ciphertext, factor: &Point) -> Items {
    let mut h = Items::new(tags::DECRYPTION_PROOF);
    h.bytes(fp).point(vk).ct(ct).point(factor);
    h
}

fn manifest_items(m: &Manifest) -> Items {
    let mut h = Items::new(tags::MANIFEST);
    h.str("urne/manifest/v1")
        .str(&m.id)
        .str(&m.title)
        .str(&m.description);
    h.u64(m.questions.len() as u64);
    for q in &m.questions {
        h.str(&q.text).u64(q.answers.len() as u64);
        for a in &q.answers {
            h.str(a);
        }
        h.u64(q.min.into())
            .u64(q.max.into())
            .u64(q.blank.into())
            .str(match q.counting {
                Counting::Plurality => "plurality",
                Counting::Schulze => "schulze",
                Counting::Stv => "stv",
                Counting::MajorityJudgment => "majority_judgment",
            });
        if let Some(seats) = q.seats {
            h.str("seats").u64(seats.into());
        }
        if let Some(grades) = &q.grades {
            h.str("grades").u64(grades.len() as u64);
            for g in grades {
                h.str(g);
            }
        }
    }
    h.str(match m.weights {
        WeightPolicy::Equal => "equal",
        WeightPolicy::Weighted => "weighted",
    });
    h.str(match m.revote {
        RevotePolicy::LastCounts => "last_counts",
        RevotePolicy::Forbidden => "forbidden",
    });
    h.str(&m.opens_at.to_string()).str(&m.closes_at.to_string());
    h.u64(m.trustees.len() as u64);
    for t in &m.trustees {
        h.str(&t.name)
            .point(&t.public_key)
            .point(&t.key_proof.r)
            .scalar(&t.key_proof.s);
    }
    h.u64(m.threshold.into()).point(&m.public_key);
    h
}

fn proof_items(p: &DisjunctiveProof, h: &mut Items) {
    h.u64(p.branches.len() as u64);
    for br in &p.branches {
        h.scalar(&br.c).u64(br.a.len() as u64);
        for ((a, b), z) in br.a.iter().zip(&br.b).zip(&br.z) {
            h.point(a).point(b).scalar(z);
        }
    }
}

/// The ballot's canonical items without its signature (spec §7.2), appended to `h`.
fn body_items(b: &Ballot, h: &mut Items) {
    h.str("urne/ballot/v1")
        .bytes(&b.election.0)
        .point(&b.credential)
        .u64(b.answers.len() as u64);
    for a in &b.answers {
        h.u64(a.choices.len() as u64);
        for c in &a.choices {
            h.ct(c);
        }
        h.u64(a.choice_proofs.len() as u64);
        for p in &a.choice_proofs {
            proof_items(p, h);
        }
        match &a.blank {
            Some(c) => h.u64(1).ct(c),
            None => h.u64(0),
        };
        if let Some(p) = &a.count_proof {
            proof_items(p, h);
        }
    }
}

fn signature_items(b: &Ballot) -> Items {
    let mut h = Items::new(tags::BALLOT_SIGNATURE);
    h.bytes(&b.election.0).point(&b.credential);
    body_items(b, &mut h);
    h
}

// ------------------------------------------------------------------------------------------------
// Chosen randomness.

/// A byte source that yields exactly the bytes queued in it, and panics when they run out. Each
/// queued scalar s is written as the 64 bytes s ‖ 0^32, which urne-core's `random_scalar` reduces
/// mod ℓ back to s.
#[derive(Debug, Default)]
pub struct Replay {
    bytes: Vec<u8>,
    pos: usize,
}

impl Replay {
    fn scalar(&mut self, s: &Scalar) {
        self.bytes.extend(s.as_bytes());
        self.bytes.extend([0u8; 32]);
    }
    fn raw(&mut self, b: &[u8]) {
        self.bytes.extend(b);
    }
    fn done(&self) {
        assert_eq!(
            self.pos,
            self.bytes.len(),
            "not every queued value was used"
        );
    }
}

impl TryRng for Replay {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let end = self.pos + dst.len();
        assert!(end <= self.bytes.len(), "the replayed randomness ran out");
        dst.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(())
    }
}

impl TryCryptoRng for Replay {}

/// The nonces of a disjunctive proof: per branch, the simulated challenge (none for the real
/// branch) and one t per ciphertext.
#[derive(Debug, Clone)]
struct Nonces {
    c: Vec<Option<Scalar>>,
    t: Vec<Vec<Scalar>>,
}

impl Nonces {
    fn draw(rng: &mut ChaCha20Rng, branches: usize, m: usize, real: usize) -> Self {
        let mut c = Vec::new();
        let mut t = Vec::new();
        for j in 0..branches {
            let cj = random_scalar(rng);
            c.push((j != real).then_some(cj));
            t.push((0..m).map(|_| random_scalar(rng)).collect());
        }
        Nonces { c, t }
    }

    /// Queues the nonces in the order `DisjunctiveProof::prove` draws them. It also draws a
    /// challenge for the real branch and discards it: zero is queued there.
    fn feed(&self, r: &mut Replay) {
        for (c, t) in self.c.iter().zip(&self.t) {
            r.scalar(&c.unwrap_or(Scalar::ZERO));
            for t in t {
                r.scalar(t);
            }
        }
    }

    fn json(&self) -> J {
        J::Arr(
            self.c
                .iter()
                .zip(&self.t)
                .map(|(c, t)| obj! {"c" => c.as_ref().map(sc), "t" => scalars(t)})
                .collect(),
        )
    }
}

fn prove_with(
    key: &ElectionKey,
    prefix: &Items,
    allowed: &[Vec<u64>],
    branch: usize,
    randomness: &[Scalar],
    nonces: &Nonces,
) -> DisjunctiveProof {
    let mut replay = Replay::default();
    nonces.feed(&mut replay);
    let w = Witness { branch, randomness };
    let p = DisjunctiveProof::prove(
        &mut replay,
        key,
        prefix.hasher(),
        allowed,
        &w,
        randomness.len(),
    );
    replay.done();
    p
}

fn schnorr_with(x: &Scalar, prefix: ItemHasher, k: &Scalar) -> SchnorrProof {
    let mut replay = Replay::default();
    replay.scalar(k);
    let p = SchnorrProof::prove(&mut replay, x, prefix);
    replay.done();
    p
}

// ------------------------------------------------------------------------------------------------
// Elections, credentials, votes.

fn question(text: &str, answers: &[&str], min: u32, max: u32, blank: bool) -> Question {
    Question {
        text: text.into(),
        answers: answers.iter().map(|a| (*a).to_owned()).collect(),
        min,
        max,
        blank,
        counting: Counting::Plurality,
        seats: None,
        grades: None,
    }
}

/// A ranked question (`schulze` or `stv`, with `seats` for STV).
fn ranked(
    counting: Counting,
    text: &str,
    answers: &[&str],
    min: u32,
    max: u32,
    seats: Option<u32>,
) -> Question {
    Question {
        counting,
        seats,
        ..question(text, answers, min, max, false)
    }
}

/// A graded question (`majority_judgment`): every answer is graded, the grades best first.
fn graded(text: &str, answers: &[&str], grades: &[&str]) -> Question {
    let n = answers.len() as u32;
    Question {
        counting: Counting::MajorityJudgment,
        grades: Some(grades.iter().map(|g| (*g).to_owned()).collect()),
        ..question(text, answers, n, n, false)
    }
}

struct Built {
    election: Election,
    trustees: Vec<TrusteeKey>,
}

#[allow(clippy::too_many_arguments)] // one call per election; a builder would not read better
fn build_election(
    rng: &mut ChaCha20Rng,
    id: &str,
    title: &str,
    description: &str,
    questions: Vec<Question>,
    trustee_names: &[&str],
    weights: WeightPolicy,
    revote: RevotePolicy,
) -> Built {
    let keys: Vec<TrusteeKey> = trustee_names
        .iter()
        .map(|_| TrusteeKey::generate(rng))
        .collect();
    let trustees = keys
        .iter()
        .zip(trustee_names)
        .enumerate()
        .map(|(i, (k, name))| k.publish(rng, id, i as u32 + 1, name))
        .collect();
    let manifest = Manifest {
        format: ManifestFormat::V1,
        id: id.into(),
        title: title.into(),
        description: description.into(),
        questions,
        weights,
        revote,
        opens_at: Timestamp::parse("2026-03-01T08:00:00Z").expect("valid time"),
        closes_at: Timestamp::parse("2026-03-08T18:00:00Z").expect("valid time"),
        public_key: combine_public_keys(keys.iter().map(|k| k.public())),
        trustees,
        threshold: trustee_names.len() as u32,
        key_sharing: KeySharing::Independent,
        board_key: None,
    };
    let election = Election::new(manifest).expect("valid manifest");
    election
        .manifest()
        .vartime_verify_trustee_keys()
        .expect("V-3 holds");
    Built {
        election,
        trustees: keys,
    }
}

/// A credential drawn from 26 given bytes, as `Credential::generate` draws it.
fn credential_from(bytes: &[u8; 26]) -> Credential {
    let mut replay = Replay::default();
    replay.raw(bytes);
    let c = Credential::generate(&mut replay);
    replay.done();
    c
}

fn random_credential(rng: &mut ChaCha20Rng) -> Credential {
    let mut b = [0u8; 26];
    rand_core::Rng::fill_bytes(rng, &mut b);
    credential_from(&b)
}

/// The signing key of a credential (spec §5.2), which urne-core keeps private.
fn credential_secret(c: &Credential, election_id: &str) -> Scalar {
    let shown = c.display();
    let data: String = shown.chars().filter(|&ch| ch != '-').take(26).collect();
    let mut h = ItemHasher::new(tags::CREDENTIAL_KEY);
    h.str(election_id).bytes(data.as_bytes());
    let x = h.challenge();
    assert_eq!(
        point_of(RistrettoPoint::mul_base(&x)),
        *c.derive_key(election_id).public()
    );
    x
}

fn vote_json(vote: &[QuestionVote]) -> J {
    J::Arr(
        vote.iter()
            .map(|v| match v {
                QuestionVote::Blank => obj! {"blank" => true},
                QuestionVote::Selected(s) => {
                    obj! {"selected" => J::Arr(s.iter().map(|&a| J::from(a)).collect())}
                }
                QuestionVote::Ranked(r) => {
                    obj! {"ranks" => J::Arr(r.iter().map(|&x| J::from(x as usize)).collect())}
                }
                QuestionVote::Graded(g) => {
                    obj! {"grades" => J::Arr(g.iter().map(|&x| J::from(x as usize)).collect())}
                }
            })
            .collect(),
    )
}

fn bits_of(q: &Question, v: &QuestionVote) -> Vec<u64> {
    let mut bits = vec![0u64; q.answers.len()];
    if let QuestionVote::Selected(s) = v {
        for &a in s {
            bits[a] = 1;
        }
    }
    bits
}

/// The real branch of a count proof (spec §6.4): blank is branch 0, a count k is 1 + k − min
/// when blank votes are allowed, else k − min.
fn count_branch(q: &Question, count: u64, is_blank: bool) -> usize {
    if is_blank {
        return 0;
    }
    let k = (count - u64::from(q.min)) as usize;
    if q.blank { 1 + k } else { k }
}

/// All randomness of one ballot, in a structure another implementation can consume.
struct BallotRandomness {
    questions: Vec<QuestionRandomness>,
    signature: Scalar,
}

struct QuestionRandomness {
    r: Vec<Scalar>,
    choice_nonces: Vec<Nonces>,
    blank_r: Option<Scalar>,
    /// None for a mixed question, which has no count proof.
    count_nonces: Option<Nonces>,
}

/// The values question `q`'s ciphertexts encrypt for vote `v` (spec §6.3): selection bits, ranks,
/// or grades from the worst (0) to the best (g − 1), the vote naming grades best first.
fn values_of(q: &Question, v: &QuestionVote) -> Vec<u64> {
    match v {
        QuestionVote::Ranked(r) => r.iter().map(|&x| u64::from(x)).collect(),
        QuestionVote::Graded(g) => g.iter().map(|&x| q.value_bound() - u64::from(x)).collect(),
        _ => bits_of(q, v),
    }
}

impl BallotRandomness {
    fn draw(rng: &mut ChaCha20Rng, e: &Election, vote: &[QuestionVote]) -> Self {
        let questions = e
            .manifest()
            .questions
            .iter()
            .zip(vote)
            .map(|(q, v)| {
                let bits = values_of(q, v);
                let r = bits.iter().map(|_| random_scalar(rng)).collect();
                let branches = q.value_bound() as usize + 1;
                let choice_nonces = bits
                    .iter()
                    .map(|&b| Nonces::draw(rng, branches, 1, b as usize))
                    .collect();
                if q.counting.is_mixed() {
                    return QuestionRandomness {
                        r,
                        choice_nonces,
                        blank_r: None,
                        count_nonces: None,
                    };
                }
                let blank_r = q.blank.then(|| random_scalar(rng));
                let is_blank = matches!(v, QuestionVote::Blank);
                let real = count_branch(q, bits.iter().sum(), is_blank);
                let m = 1 + usize::from(q.blank);
                let count_nonces = Some(Nonces::draw(rng, count_allowed(q).len(), m, real));
                QuestionRandomness {
                    r,
                    choice_nonces,
                    blank_r,
                    count_nonces,
                }
            })
            .collect();
        BallotRandomness {
            questions,
            signature: random_scalar(rng),
        }
    }

    /// Queues everything in the order `Ballot::create` draws it.
    fn feed(&self, replay: &mut Replay) {
        for q in &self.questions {
            for r in &q.r {
                replay.scalar(r);
            }
            for n in &q.choice_nonces {
                n.feed(replay);
            }
            if let Some(r) = &q.blank_r {
                replay.scalar(r);
            }
            if let Some(n) = &q.count_nonces {
                n.feed(replay);
            }
        }
        replay.scalar(&self.signature);
    }

    fn json(&self) -> J {
        let qs = self
            .questions
            .iter()
            .map(|q| {
                let mut o = obj! {
                    "choice_randomness" => scalars(&q.r),
                    "choice_proof_nonces" => J::Arr(q.choice_nonces.iter().map(Nonces::json).collect()),
                };
                if let Some(r) = &q.blank_r {
                    o.extend(obj! {"blank_randomness" => sc(r)});
                }
                if let Some(n) = &q.count_nonces {
                    o.extend(obj! {"count_proof_nonces" => n.json()});
                }
                o
            })
            .collect::<Vec<_>>();
        obj! {"questions" => qs, "signature_nonce" => sc(&self.signature)}
    }
}

fn create_ballot(
    e: &Election,
    c: &Credential,
    vote: &[QuestionVote],
    rand: &BallotRandomness,
) -> Ballot {
    let mut replay = Replay::default();
    rand.feed(&mut replay);
    let key = c.derive_key(&e.manifest().id);
    let b = Ballot::create(&mut replay, e, &key, vote).expect("valid vote");
    replay.done();
    b.vartime_verify(&mut rng_from_seed(0), e)
        .expect("honest ballots verify");
    b
}

/// Signs `b` again with secret `x` after it was changed.
fn resign(rng: &mut ChaCha20Rng, b: &mut Ballot, x: &Scalar) {
    b.signature = SchnorrProof::prove(rng, x, signature_items(b).hasher());
}

/// An encrypted answer built by hand, for dishonest ballots: `plain` are the choices'
/// plaintexts, `claims` the branch each choice proof claims, `count_claim` the count proof's.
struct Forge<'a> {
    e: &'a Election,
    x: &'a Point,
    qi: usize,
}

impl Forge<'_> {
    fn answer(
        &self,
        rng: &mut ChaCha20Rng,
        plain: &[u64],
        claims: &[usize],
        blank: Option<u64>,
        count_claim: usize,
    ) -> EncryptedAnswer {
        let e = self.e;
        let q = &e.manifest().questions[self.qi];
        let fp = &e.fingerprint().0;
        let y = e.key().point();
        let rs: Vec<Scalar> = plain.iter().map(|_| random_scalar(rng)).collect();
        let choices: Vec<Ciphertext> = plain
            .iter()
            .zip(&rs)
            .map(|(&m, r)| Ciphertext::encrypt(e.key(), m, r))
            .collect();
        let choice_proofs = choices
            .iter()
            .zip(&rs)
            .zip(claims)
            .enumerate()
            .map(|(ai, ((ct, r), &claim))| {
                let prefix = choice_items(fp, y, self.x, self.qi as u64, ai as u64, ct);
                DisjunctiveProof::prove(
                    rng,
                    e.key(),
                    prefix.hasher(),
                    &[vec![0], vec![1]],
                    &Witness {
                        branch: claim,
                        randomness: std::slice::from_ref(r),
                    },
                    1,
                )
            })
            .collect();
        let r_sum: Scalar = rs.iter().sum();
        let blank_ct = blank.map(|m| {
            let r = random_scalar(rng);
            (Ciphertext::encrypt(e.key(), m, &r), r)
        });
        let stmt = CountStatement {
            fp,
            y,
            x: self.x,
            q: self.qi as u64,
            question: q,
            choices: &choices,
            blank: blank_ct.as_ref().map(|(c, _)| c),
        };
        let randomness = match &blank_ct {
            Some((_, r)) => vec![*r, r_sum],
            None => vec![r_sum],
        };
        let count_proof = DisjunctiveProof::prove(
            rng,
            e.key(),
            stmt.items().hasher(),
            &count_allowed(q),
            &Witness {
                branch: count_claim,
                randomness: &randomness,
            },
            randomness.len(),
        );
        EncryptedAnswer {
            choices,
            choice_proofs,
            blank: blank_ct.map(|(c, _)| c),
            count_proof: Some(count_proof),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Little-endian 256-bit integers, for encodings that are not canonical.

fn le_add(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    out
}

fn le_sub(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in 0..32 {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    assert_eq!(borrow, 0, "a - b with b > a");
    out
}

fn le_small(n: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..8].copy_from_slice(&n.to_le_bytes());
    out
}

fn le_pow2(k: usize) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[k / 8] = 1 << (k % 8);
    out
}

/// The field prime p = 2^255 − 19.
fn field_p() -> [u8; 32] {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
}

/// The group order ℓ.
fn group_order() -> [u8; 32] {
    le_add(&(-Scalar::ONE).to_bytes(), &le_small(1))
}

/// A little-endian integer in decimal.
pub fn le_to_decimal(le: &[u8]) -> String {
    let mut be: Vec<u8> = le.iter().rev().copied().collect();
    let mut digits = Vec::new();
    while be.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for b in be.iter_mut() {
            let cur = rem * 256 + u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits.reverse();
    String::from_utf8(digits).expect("ASCII digits")
}

// ------------------------------------------------------------------------------------------------
// encoding.json

fn encoding() -> J {
    let mut rng = rng_from_seed(0x5EED_0001);
    let mut cases = Vec::new();

    let b64_valid: [(&str, &str, &str); 6] = [
        ("base64_empty", "", "the empty string encodes zero bytes"),
        (
            "base64_one_byte",
            "AA",
            "one byte: two characters, no padding",
        ),
        (
            "base64_two_bytes",
            "AAE",
            "two bytes: three characters, no padding",
        ),
        ("base64_three_bytes", "AAEC", "three bytes: four characters"),
        (
            "base64_url_alphabet",
            "-_8",
            "the URL-safe alphabet: '-' is 62 and '_' is 63",
        ),
        (
            "base64_all_values",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "bytes 0 to 31",
        ),
    ];
    for (name, text, comment) in b64_valid {
        let bytes = b64_decode(text).expect("valid base64url");
        cases.push(case(
            "base64",
            name,
            comment,
            true,
            obj! {"text" => text, "hex" => hex(&bytes)},
        ));
    }
    let b64_invalid: [(&str, &str, &str); 8] = [
        ("base64_padding", "AA==", "padding is refused"),
        ("base64_single_padding", "AAE=", "padding is refused"),
        (
            "base64_trailing_bits",
            "AB",
            "one byte in two characters leaves 4 unused bits, which must be zero",
        ),
        (
            "base64_trailing_bits_two_bytes",
            "AAF",
            "two bytes in three characters leave 2 unused bits, which must be zero",
        ),
        (
            "base64_lone_character",
            "A",
            "one character cannot encode a whole byte",
        ),
        (
            "base64_standard_alphabet",
            "+/8",
            "'+' and '/' belong to standard base64, not base64url",
        ),
        ("base64_whitespace", "AA AA", "whitespace is refused"),
        ("base64_newline", "AAEC\n", "a trailing newline is refused"),
    ];
    for (name, text, comment) in b64_invalid {
        assert!(b64_decode(text).is_err());
        cases.push(case(
            "base64",
            name,
            comment,
            false,
            obj! {"text" => text, "error" => "bad_base64"},
        ));
    }

    // Valid points: k·G. Small multiples are those of RFC 9496 Appendix A.1.
    let mut multiples: Vec<(String, Scalar, String)> = (0..16u64)
        .map(|k| {
            let comment = match k {
                0 => "the identity (0·G) encodes as 32 zero bytes".to_owned(),
                1 => "the generator G".to_owned(),
                _ => format!("{k}·G"),
            };
            (format!("point_{k}g"), Scalar::from(k), comment)
        })
        .collect();
    multiples.push((
        "point_minus_g".into(),
        -Scalar::ONE,
        "(ℓ − 1)·G = −G".into(),
    ));
    multiples.push((
        "point_random_multiple".into(),
        random_scalar(&mut rng),
        "k·G for a random k".into(),
    ));
    for (name, k, comment) in &multiples {
        let p = point_of(RistrettoPoint::mul_base(k));
        cases.push(case(
            "point",
            name,
            comment,
            true,
            obj! {
                "encoding" => pt(&p),
                "hex" => hex(p.as_bytes()),
                "k" => le_to_decimal(k.as_bytes()),
            },
        ));
    }

    let g = *Point::generator().as_bytes();
    let p = field_p();
    let mut bad: Vec<(String, [u8; 32], String)> = vec![
        (
            "point_field_p".into(),
            p,
            "s = p, a non-canonical encoding of the field element 0".into(),
        ),
        (
            "point_field_p_plus_1".into(),
            le_add(&p, &le_small(1)),
            "s = p + 1, a non-canonical encoding of the field element 1".into(),
        ),
        (
            "point_field_2_255_minus_1".into(),
            le_sub(&le_pow2(255), &le_small(1)),
            "s = 2^255 − 1 ≥ p: not reduced".into(),
        ),
        (
            "point_identity_high_bit".into(),
            le_pow2(255),
            "the identity's encoding with bit 255 set: the top bit must be zero".into(),
        ),
        (
            "point_generator_high_bit".into(),
            le_add(&g, &le_pow2(255)),
            "G's encoding with bit 255 set".into(),
        ),
        (
            "point_negative_one".into(),
            le_small(1),
            "s = 1 is odd, i.e. negative: canonical encodings are non-negative".into(),
        ),
        (
            "point_generator_negated".into(),
            le_sub(&p, &g),
            "p − s for G's encoding s: the negative square root, refused".into(),
        ),
    ];
    // Small even s that are no point's encoding.
    let mut found = 0;
    for s in (2u64..).step_by(2) {
        if Point::decode(&le_small(s)).is_err() {
            bad.push((
                format!("point_no_point_{s}"),
                le_small(s),
                format!(
                    "s = {s}: canonical and non-negative, but decoding fails (no point has this encoding)"
                ),
            ));
            found += 1;
            if found == 3 {
                break;
            }
        }
    }
    for (name, bytes, comment) in &bad {
        assert!(Point::decode(bytes).is_err());
        cases.push(case(
            "point",
            name,
            comment,
            false,
            obj! {"encoding" => b64(bytes), "hex" => hex(bytes), "error" => "non_canonical_point"},
        ));
    }
    let g_text = b64_encode(&g);
    let mut g_bits = g_text.clone();
    // 32 bytes take 43 characters; the last one carries 4 bits and 2 unused bits.
    let last = g_bits.pop().expect("non-empty");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let v = alphabet
        .iter()
        .position(|&a| a == last as u8)
        .expect("in alphabet");
    g_bits.push(alphabet[v | 1] as char);
    let with_plus = multiples
        .iter()
        .map(|(_, k, _)| b64_encode(point_of(RistrettoPoint::mul_base(k)).as_bytes()))
        .find(|t| t.contains('-') || t.contains('_'))
        .expect("some encoding uses - or _")
        .replace('-', "+")
        .replace('_', "/");
    let text_bad: Vec<(&str, String, &str, &str)> = vec![
        (
            "point_base64_padding",
            format!("{g_text}="),
            "G's encoding with a padding character",
            "bad_base64",
        ),
        (
            "point_base64_trailing_bits",
            g_bits,
            "G's encoding with a non-zero unused bit in the last character",
            "bad_base64",
        ),
        (
            "point_base64_standard_alphabet",
            with_plus,
            "a point's encoding written with '+' and '/' instead of '-' and '_'",
            "bad_base64",
        ),
        (
            "point_too_short",
            b64_encode(&g[..31]),
            "31 bytes: G's encoding without its last byte",
            "wrong_length",
        ),
        (
            "point_too_long",
            b64_encode(&[&g[..], &[0u8]].concat()),
            "33 bytes: G's encoding and a zero byte",
            "wrong_length",
        ),
        ("point_empty", String::new(), "zero bytes", "wrong_length"),
    ];
    for (name, text, comment, error) in text_bad {
        cases.push(case(
            "point",
            name,
            comment,
            false,
            obj! {"encoding" => text, "error" => error},
        ));
    }
    cases.push(case(
        "point_nonidentity",
        "nonidentity_generator",
        "where the identity is refused (keys, credentials), G is accepted",
        true,
        obj! {"encoding" => pt(&Point::generator()), "hex" => hex(&g), "k" => "1"},
    ));
    cases.push(case(
        "point_nonidentity",
        "nonidentity_rejects_identity",
        "the identity, where the protocol forbids it (election and trustee keys, credentials)",
        false,
        obj! {"encoding" => pt(&Point::identity()), "error" => "identity_point"},
    ));

    let l = group_order();
    let valid_scalars: Vec<(&str, [u8; 32], &str)> = vec![
        ("scalar_zero", [0u8; 32], "zero"),
        ("scalar_one", le_small(1), "one"),
        (
            "scalar_2_64",
            le_pow2(64),
            "2^64: little-endian, byte 8 is 1",
        ),
        ("scalar_2_252", le_pow2(252), "2^252 < ℓ"),
        (
            "scalar_order_minus_1",
            le_sub(&l, &le_small(1)),
            "ℓ − 1, the largest canonical scalar",
        ),
        (
            "scalar_random",
            random_scalar(&mut rng).to_bytes(),
            "a random scalar",
        ),
    ];
    for (name, bytes, comment) in valid_scalars {
        cases.push(case(
            "scalar",
            name,
            comment,
            true,
            obj! {
                "encoding" => b64(&bytes),
                "hex" => hex(&bytes),
                "decimal" => le_to_decimal(&bytes),
            },
        ));
    }
    let invalid_scalars: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "scalar_order",
            l.to_vec(),
            "ℓ itself is not reduced",
            "non_canonical_scalar",
        ),
        (
            "scalar_order_plus_1",
            le_add(&l, &le_small(1)).to_vec(),
            "ℓ + 1, which would reduce to 1",
            "non_canonical_scalar",
        ),
        (
            "scalar_2_253",
            le_pow2(253).to_vec(),
            "2^253 > ℓ",
            "non_canonical_scalar",
        ),
        (
            "scalar_2_255",
            le_pow2(255).to_vec(),
            "bit 255 set",
            "non_canonical_scalar",
        ),
        (
            "scalar_2_256_minus_1",
            [0xffu8; 32].to_vec(),
            "2^256 − 1, all bits set",
            "non_canonical_scalar",
        ),
        (
            "scalar_too_short",
            vec![1u8; 31],
            "31 bytes",
            "wrong_length",
        ),
        (
            "scalar_wide",
            [le_small(1), [0u8; 32]].concat(),
            "64 bytes: a wide value is not a scalar encoding",
            "wrong_length",
        ),
    ];
    for (name, bytes, comment, error) in invalid_scalars {
        cases.push(case(
            "scalar",
            name,
            comment,
            false,
            obj! {"encoding" => b64(&bytes), "hex" => hex(&bytes), "error" => error},
        ));
    }
    cases.push(case(
        "scalar",
        "scalar_base64_padding",
        "the scalar 1 with padding",
        false,
        obj! {"encoding" => format!("{}=", b64_encode(&le_small(1))), "error" => "bad_base64"},
    ));

    file(
        "Encodings of bytes, points and scalars (spec §2). Bytes are written as base64url without \
         padding (RFC 4648 §5); decoders refuse padding, characters outside the URL-safe alphabet \
         and non-zero unused bits. A point is the 32-byte ristretto255 encoding (RFC 9496 §4.3); \
         a scalar is 32 bytes little-endian, strictly below the group order ℓ. Kinds: `base64` \
         (text → hex), `point` (encoding → hex, and k with encoding = k·G), `point_nonidentity` \
         (the same decoding where the identity is refused), `scalar` (encoding → hex and \
         decimal). Decode each `encoding` (or `text`) in this order: base64url, then length, then \
         the point or scalar; a valid case must give exactly the recorded values, an invalid one \
         must fail with the recorded `error`.",
        None,
        cases,
    )
}

// ------------------------------------------------------------------------------------------------
// hash.json

fn hash() -> J {
    let mut rng = rng_from_seed(0x5EED_0002);
    let mut cases = Vec::new();
    let mut long = vec![0u8; 300];
    rand_core::Rng::fill_bytes(&mut rng, &mut long);
    let r = random_scalar(&mut rng);
    let mut fp = [0u8; 32];
    rand_core::Rng::fill_bytes(&mut rng, &mut fp);

    let mut list: Vec<(&str, &str, Items)> = Vec::new();
    list.push((
        "tag_only",
        "no items: only the domain tag is hashed",
        Items::new("urne/test"),
    ));
    let mut h = Items::new("t");
    h.u64(5);
    list.push((
        "one_u64",
        "a one-byte tag and the integer 5 as 8 bytes big-endian",
        h,
    ));
    let mut h = Items::new("urne/test");
    h.str("");
    list.push(("empty_string", "an empty item is its length 0 alone", h));
    let mut h = Items::new("urne/test");
    h.bytes(&[]);
    list.push((
        "empty_bytes",
        "items carry no type: empty bytes hash like the empty string",
        h,
    ));
    let mut h = Items::new("urne/test");
    h.str("ab").str("c");
    list.push(("split_ab_c", "(\"ab\", \"c\"): compare with split_a_bc", h));
    let mut h = Items::new("urne/test");
    h.str("a").str("bc");
    list.push((
        "split_a_bc",
        "(\"a\", \"bc\"): the length prefixes keep it apart from split_ab_c",
        h,
    ));
    let mut h = Items::new("urne/test");
    h.str("Élection — vote ✓");
    list.push(("utf8_string", "strings are hashed as their UTF-8 bytes", h));
    let mut h = Items::new("urne/test");
    h.u64(0).u64((1 << 53) - 1).u64(256);
    list.push((
        "integers",
        "0, 2^53 − 1 and 256, each 8 bytes big-endian",
        h,
    ));
    let mut h = Items::new("urne/test");
    h.point(&Point::generator())
        .point(&Point::identity())
        .scalar(&Scalar::ONE)
        .scalar(&-Scalar::ONE);
    list.push((
        "points_and_scalars",
        "points and scalars are items of their 32-byte canonical encodings",
        h,
    ));
    let mut h = Items::new("urne/test");
    h.bytes(&long);
    list.push((
        "long_bytes",
        "a 300-byte item: its length prefix is 00..01 2c",
        h,
    ));
    let mut h = Items::new(tags::CHOICE_PROOF);
    let ct = Ciphertext::from_parts(RistrettoPoint::mul_base(&r), G);
    h.bytes(&fp)
        .point(&times_g(7))
        .point(&times_g(11))
        .u64(0)
        .u64(2)
        .ct(&ct);
    list.push((
        "choice_proof_shape",
        "items shaped like a choice proof's prefix: bytes, points and integers mixed",
        h,
    ));
    for (name, comment, items) in list {
        let pre = items.preimage();
        let digest = items.hasher().digest();
        let challenge = items.hasher().challenge();
        cases.push(case(
            "items",
            name,
            comment,
            true,
            obj! {
                "tag" => items.tag.as_str(),
                "items" => items.items_json(),
                "preimage_hex" => hex(&pre),
                "digest" => b64(&digest),
                "challenge" => sc(&challenge),
            },
        ));
    }

    for (name, purpose, index, comment) in [
        (
            "generator_test_0",
            "urne/test",
            0u64,
            "the first generator for a purpose",
        ),
        (
            "generator_test_1",
            "urne/test",
            1,
            "the next index gives an independent point",
        ),
        ("generator_empty_purpose", "", 0, "an empty purpose string"),
        (
            "generator_large_index",
            "urne/test",
            (1 << 53) - 1,
            "index 2^53 − 1",
        ),
        (
            "generator_utf8_purpose",
            "Wahl/Überprüfung",
            3,
            "a UTF-8 purpose",
        ),
    ] {
        let mut h = Items::new(tags::GENERATOR);
        h.str(purpose).u64(index);
        let uniform = h.hasher().digest();
        let p = point_of(generator(purpose, index));
        assert_eq!(p, point_of(RistrettoPoint::from_uniform_bytes(&uniform)));
        cases.push(case(
            "generator",
            name,
            comment,
            true,
            obj! {
                "purpose" => purpose,
                "index" => index,
                "uniform_bytes" => b64(&uniform),
                "point" => pt(&p),
            },
        ));
    }

    let tag_list = [
        ("MANIFEST", tags::MANIFEST),
        ("GENERATOR", tags::GENERATOR),
        ("CHOICE_PROOF", tags::CHOICE_PROOF),
        ("COUNT_PROOF", tags::COUNT_PROOF),
        ("BALLOT_SIGNATURE", tags::BALLOT_SIGNATURE),
        ("TRACKER", tags::TRACKER),
        ("CREDENTIAL_KEY", tags::CREDENTIAL_KEY),
        ("CREDENTIAL_CHECKSUM", tags::CREDENTIAL_CHECKSUM),
        ("TRUSTEE_KEY_PROOF", tags::TRUSTEE_KEY_PROOF),
        ("DECRYPTION_PROOF", tags::DECRYPTION_PROOF),
    ];
    let context = obj! {
        "tags" => J::Obj(tag_list.iter().map(|(k, v)| ((*k).to_owned(), J::from(*v))).collect()),
    };
    file(
        "Hashing (spec §3). H(tag, items) is SHA-512 over the tag and the items, each written as \
         its length (8 bytes, big-endian) and its bytes. Item types in the vectors: {\"str\": \
         text} (UTF-8 bytes), {\"u64\": n} (8 bytes big-endian; list lengths are u64 items too), \
         {\"bytes_b64\": b}, {\"point\": p} and {\"scalar\": s} (their 32-byte encodings). Kind \
         `items`: tag and items → preimage (hex), digest (64 bytes) and challenge (the digest \
         read little-endian, reduced mod ℓ). Kind `generator`: generator(purpose, index) is the \
         RFC 9496 one-way map (from_uniform_bytes) of H(GENERATOR, purpose, index). The context \
         lists every domain tag of the protocol.",
        Some(context),
        cases,
    )
}

// ------------------------------------------------------------------------------------------------
// credential.json

fn credential() -> J {
    let mut rng = rng_from_seed(0x5EED_0003);
    let ids = ["vectors-2026", "x"];
    let keys = |c: &Credential| -> J {
        J::Arr(
            ids.iter()
                .map(|id| {
                    obj! {
                        "election_id" => *id,
                        "secret_key" => sc(&credential_secret(c, id)),
                        "public_credential" => pt(c.derive_key(id).public()),
                    }
                })
                .collect(),
        )
    };
    let zeros = credential_from(&[0u8; 26]);
    let top = credential_from(&[31u8; 26]);
    let random1 = random_credential(&mut rng);
    // A credential with both 0 and 1 among its characters, for the forgiving spellings.
    let sloppy_base = loop {
        let c = random_credential(&mut rng);
        let s = c.display().to_string();
        if s.contains('0') && s.contains('1') && s.chars().any(|ch| ch.is_ascii_alphabetic()) {
            break c;
        }
    };
    let mut cases = Vec::new();
    for (name, c, comment) in [
        (
            "canonical_all_zero",
            &zeros,
            "26 data characters '0' and their checksum",
        ),
        ("canonical_all_z", &top, "26 data characters 'Z' (value 31)"),
        ("canonical_random", &random1, "a random credential"),
        (
            "canonical_with_0_and_1",
            &sloppy_base,
            "a random credential with the characters 0 and 1",
        ),
    ] {
        let shown = c.display().to_string();
        cases.push(case(
            "credential",
            name,
            comment,
            true,
            obj! {"text" => shown.as_str(), "canonical" => shown.as_str(), "keys" => keys(c)},
        ));
    }
    let shown = sloppy_base.display().to_string();
    let plain: String = shown.chars().filter(|&ch| ch != '-').collect();
    let spaced = plain
        .as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let sloppy: Vec<(&str, String, &str)> = vec![
        (
            "reads_lower_case",
            shown.to_lowercase(),
            "lower case is read as upper case",
        ),
        ("reads_spaces", spaced, "groups separated by spaces"),
        (
            "reads_no_separators",
            plain.clone(),
            "30 characters without separators",
        ),
        (
            "reads_o_as_0",
            shown.replace('0', "O"),
            "the letter O is read as the digit 0",
        ),
        (
            "reads_lower_o_i_l",
            shown
                .replacen('0', "o", 1)
                .replacen('1', "i", 1)
                .replace('1', "l"),
            "o reads as 0, i and l as 1",
        ),
        (
            "reads_upper_i_and_l",
            shown.replacen('1', "I", 1).replace('1', "L"),
            "I and L read as 1",
        ),
        (
            "reads_stray_separators",
            format!(" -{}- ", shown.replace('-', "--  ")),
            "dashes and spaces anywhere, repeated, leading or trailing, are ignored",
        ),
    ];
    for (name, text, comment) in sloppy {
        let c = Credential::parse(&text).expect("forgiving reading");
        assert_eq!(c, sloppy_base);
        cases.push(case(
            "credential",
            name,
            comment,
            true,
            obj! {"text" => text, "canonical" => shown.as_str(), "keys" => keys(&c)},
        ));
    }

    let r1 = random1.display().to_string();
    let replace_at = |s: &str, i: usize, ch: char| -> String {
        s.chars()
            .enumerate()
            .map(|(k, c)| if k == i { ch } else { c })
            .collect()
    };
    let first = r1.chars().next().expect("non-empty");
    let typo = replace_at(&r1, 0, if first == '2' { '3' } else { '2' });
    let last = r1.chars().last().expect("non-empty");
    let typo_sum = replace_at(&r1, 34, if last == '2' { '3' } else { '2' });
    // Swap two adjacent, different data characters.
    let chars: Vec<char> = r1.chars().collect();
    let i = (0..4)
        .find(|&i| chars[i] != chars[i + 1])
        .expect("two different characters");
    let mut swapped = chars.clone();
    swapped.swap(i, i + 1);
    let swapped: String = swapped.into_iter().collect();
    let checksum_cases = [
        (
            "rejects_typo_in_data",
            typo,
            "the first data character changed",
        ),
        (
            "rejects_typo_in_checksum",
            typo_sum,
            "the last checksum character changed",
        ),
        (
            "rejects_swapped_characters",
            swapped,
            "two adjacent characters swapped",
        ),
    ];
    for (name, text, comment) in checksum_cases {
        assert_eq!(
            Credential::parse(&text),
            Err(urne_core::credential::CredentialError::Checksum)
        );
        cases.push(case(
            "credential",
            name,
            comment,
            false,
            obj! {"text" => text, "error" => "checksum"},
        ));
    }
    // Positions count credential characters only, from 1, without separators.
    let bad_chars: Vec<(&str, String, usize, &str)> = vec![
        (
            "rejects_letter_u",
            replace_at(&r1, 0, 'U'),
            1,
            "U is not in the alphabet (Crockford base 32 leaves out I, L, O and U; only U has no reading)",
        ),
        (
            "rejects_bad_character_after_dash",
            replace_at(&r1, 14, '!'),
            13,
            "'!' at character 13 (the 15th of the text, counting two dashes)",
        ),
        (
            "rejects_non_ascii",
            format!("{}é{}", &r1[..4], &r1[5..]),
            5,
            "a non-ASCII letter at character 5",
        ),
        (
            "rejects_underscore_separator",
            r1.replace('-', "_"),
            6,
            "'_' is not a separator: only '-' and ' ' are",
        ),
        (
            "rejects_bad_character_before_length",
            format!("{r1}-U"),
            31,
            "a bad 31st character is reported before the length",
        ),
    ];
    for (name, text, position, comment) in bad_chars {
        assert_eq!(
            Credential::parse(&text),
            Err(urne_core::credential::CredentialError::Character { position })
        );
        cases.push(case(
            "credential",
            name,
            comment,
            false,
            obj! {"text" => text, "error" => "bad_character", "position" => position},
        ));
    }
    let short = r1[..r1.len() - 1].to_owned();
    let long = format!("{r1}0");
    let lengths: Vec<(&str, String, usize, &str)> = vec![
        (
            "rejects_29_characters",
            short,
            29,
            "the last character missing",
        ),
        ("rejects_31_characters", long, 31, "one character too many"),
        ("rejects_empty", String::new(), 0, "the empty string"),
        (
            "rejects_only_separators",
            "-- - --".into(),
            0,
            "separators only",
        ),
    ];
    for (name, text, found, comment) in lengths {
        assert_eq!(
            Credential::parse(&text),
            Err(urne_core::credential::CredentialError::Length {
                expected: 30,
                found
            })
        );
        cases.push(case(
            "credential",
            name,
            comment,
            false,
            obj! {"text" => text, "error" => "wrong_length", "found" => found},
        ));
    }

    // The fingerprint of a public credential list (spec §5.4), on the same list in two orders.
    let list: Vec<urne_core::credential::PublicCredential> = [1u64, 3, 1, 7]
        .into_iter()
        .map(|weight| urne_core::credential::PublicCredential {
            credential: *random_credential(&mut rng)
                .derive_key("vectors-2026")
                .public(),
            weight,
        })
        .collect();
    let mut reordered = list.clone();
    reordered.reverse();
    reordered.swap(0, 1);
    let list_json = |l: &[urne_core::credential::PublicCredential]| -> J {
        J::Arr(
            l.iter()
                .map(|c| obj! {"credential" => pt(&c.credential), "weight" => c.weight})
                .collect(),
        )
    };
    for (name, l, comment) in [
        (
            "list_fingerprint",
            &list[..],
            "the fingerprint of a weighted public credential list: entries hashed in ascending \
             order of X's encoding",
        ),
        (
            "list_fingerprint_other_order",
            &reordered[..],
            "the same list in another order has the same fingerprint",
        ),
        (
            "list_fingerprint_empty",
            &[][..],
            "the empty list: the tag and the count 0",
        ),
    ] {
        let fingerprint = urne_core::credential::list_fingerprint(l);
        cases.push(case(
            "credential_list",
            name,
            comment,
            true,
            obj! {"credentials" => list_json(l), "fingerprint" => b64(&fingerprint.0)},
        ));
    }

    file(
        "Voter credentials (spec §5). A credential is 26 data characters and 4 checksum \
         characters of the alphabet 0123456789ABCDEFGHJKMNPQRSTVWXYZ (value = position), shown \
         as six groups of five joined by '-'. Reading ignores '-' and ' ', accepts lower case, \
         and reads O as 0 and I, L as 1. The checksum is the first 20 bits of \
         H(CREDENTIAL_CHECKSUM, data characters as ASCII bytes), as four 5-bit characters, most \
         significant first. For an election id, the secret key is x = H(CREDENTIAL_KEY, id, data \
         characters) read as a challenge (mod ℓ) and the public credential is X = x·G. A valid \
         case gives the typed `text`, its `canonical` display and, per election id, x and X. An \
         invalid case gives the `error` (`checksum`, `bad_character` with the 1-based `position` \
         among credential characters, `wrong_length` with the number `found`); characters are \
         checked one by one before the length, and the checksum last. A `credential_list` case \
         gives a public credential list (`credentials`, each X and weight) and its `fingerprint`, \
         the first 32 bytes of H(CREDENTIAL_LIST, count, then X and weight of each entry in \
         ascending order of X's 32-byte encoding).",
        None,
        cases,
    )
}

// ------------------------------------------------------------------------------------------------
// manifest.json

fn manifest() -> J {
    let mut rng = rng_from_seed(0x5EED_0004);
    let simple = build_election(
        &mut rng,
        "vectors-simple",
        "Board election",
        "",
        vec![question(
            "Who chairs the board?",
            &["Ada", "Grace", "Edsger"],
            1,
            1,
            false,
        )],
        &["Trustee 1"],
        WeightPolicy::Equal,
        RevotePolicy::LastCounts,
    );
    let full = build_election(
        &mut rng,
        "vectors.full_2026",
        "Élection du conseil — 2026",
        "Three questions.\nOne allows a blank vote; one allows an empty selection.",
        vec![
            question("Président·e ?", &["Alice", "Bob", "Chloé"], 1, 1, false),
            question(
                "Up to two members",
                &["Dana", "Emil", "Farah", "Gus"],
                0,
                2,
                false,
            ),
            question("Budget", &["Yes", "No"], 1, 1, true),
        ],
        &["Trustee Nord", "Trustee Süd", "Trustee 3"],
        WeightPolicy::Weighted,
        RevotePolicy::Forbidden,
    );
    let mut cases = Vec::new();
    for (name, b, comment) in [
        (
            "simple",
            &simple,
            "one question, one trustee, equal weights, empty description",
        ),
        (
            "full",
            &full,
            "three questions (one with min 0, one with a blank vote), three trustees, weighted, \
             revotes forbidden, UTF-8 text",
        ),
    ] {
        let m = b.election.manifest();
        cases.push(case(
            "manifest",
            name,
            comment,
            true,
            obj! {
                "manifest" => J::of(m),
                "fingerprint" => b64(&b.election.fingerprint().0),
                "fingerprint_items" => manifest_items(m).json(),
            },
        ));
    }

    let base_m = full.election.manifest().clone();
    let base = J::of(&base_m);
    let mut invalid: Vec<(&str, &str, J, &str, &str)> = Vec::new();
    let mut rule = |name: &'static str,
                    comment: &'static str,
                    f: &dyn Fn(&mut Manifest),
                    path: &'static str| {
        let mut m = base_m.clone();
        f(&mut m);
        invalid.push((name, comment, J::of(&m), "rule", path));
    };
    rule(
        "rejects_empty_id",
        "the id is empty",
        &|m| m.id.clear(),
        "id",
    );
    rule(
        "rejects_id_with_space",
        "a space is not an id character",
        &|m| m.id = "vectors full".into(),
        "id",
    );
    rule(
        "rejects_id_too_long",
        "65 characters; at most 64",
        &|m| m.id = "a".repeat(65),
        "id",
    );
    rule(
        "rejects_blank_title",
        "a title of spaces only",
        &|m| m.title = "   ".into(),
        "title",
    );
    rule(
        "rejects_no_questions",
        "no question",
        &|m| m.questions.clear(),
        "questions",
    );
    rule(
        "rejects_empty_question_text",
        "the second question's text is empty",
        &|m| m.questions[1].text.clear(),
        "questions[1].text",
    );
    rule(
        "rejects_no_answers",
        "the first question has no answer",
        &|m| {
            m.questions[0].answers.clear();
        },
        "questions[0].answers",
    );
    rule(
        "rejects_empty_answer",
        "an empty answer",
        &|m| m.questions[1].answers[2].clear(),
        "questions[1].answers[2]",
    );
    rule(
        "rejects_repeated_answer",
        "the third answer repeats the first",
        &|m| m.questions[0].answers[2] = m.questions[0].answers[0].clone(),
        "questions[0].answers[2]",
    );
    rule(
        "rejects_max_zero",
        "max must be at least 1",
        &|m| {
            m.questions[1].max = 0;
        },
        "questions[1].max",
    );
    rule(
        "rejects_max_above_answers",
        "max 4 with 3 answers",
        &|m| m.questions[0].max = 4,
        "questions[0].max",
    );
    rule(
        "rejects_min_above_max",
        "min 2 with max 1",
        &|m| m.questions[0].min = 2,
        "questions[0].min",
    );
    rule(
        "rejects_blank_with_min_0",
        "a blank vote with min 0 could not be told from an empty selection",
        &|m| m.questions[1].blank = true,
        "questions[1].blank",
    );
    rule(
        "rejects_closes_at_opens",
        "closes_at equal to opens_at",
        &|m| m.closes_at = m.opens_at,
        "closes_at",
    );
    rule(
        "rejects_no_trustees",
        "no trustee (threshold 0)",
        &|m| {
            m.trustees.clear();
            m.threshold = 0;
        },
        "trustees",
    );
    rule(
        "rejects_repeated_trustee_name",
        "the second trustee has the first one's name",
        &|m| m.trustees[1].name = m.trustees[0].name.clone(),
        "trustees[1].name",
    );
    rule(
        "rejects_identity_trustee_key",
        "a trustee key is the identity",
        &|m| m.trustees[2].public_key = Point::identity(),
        "trustees[2].public_key",
    );
    rule(
        "rejects_repeated_trustee_key",
        "the third trustee has the first one's key",
        &|m| m.trustees[2].public_key = m.trustees[0].public_key,
        "trustees[2].public_key",
    );
    rule(
        "rejects_threshold_below_trustees",
        "with independent keys the threshold must equal the number of trustees",
        &|m| m.threshold = 2,
        "threshold",
    );
    rule(
        "rejects_identity_election_key",
        "the election key is the identity",
        &|m| m.public_key = Point::identity(),
        "public_key",
    );

    let mut format =
        |name: &'static str, comment: &'static str, f: &dyn Fn(&mut J), path: &'static str| {
            let mut j = base.clone();
            f(&mut j);
            invalid.push((name, comment, j, "format", path));
        };
    format(
        "rejects_unknown_format",
        "format urne/manifest/v2",
        &|j| j.set("/format", "urne/manifest/v2".into()),
        "format",
    );
    format(
        "rejects_unknown_field",
        "an extra top-level field",
        &|j| j.insert("", "extra", J::Num(1)),
        "extra",
    );
    format(
        "rejects_unknown_question_field",
        "an extra field in a question",
        &|j| j.insert("/questions/0", "note", "x".into()),
        "questions[0].note",
    );
    format(
        "rejects_missing_field",
        "no threshold",
        &|j| j.remove_key("", "threshold"),
        ".",
    );
    format(
        "rejects_offset_time",
        "+00:00 instead of Z",
        &|j| j.set("/opens_at", "2026-03-01T08:00:00+00:00".into()),
        "opens_at",
    );
    format(
        "rejects_fractional_seconds",
        "fractional seconds",
        &|j| j.set("/closes_at", "2026-03-08T18:00:00.5Z".into()),
        "closes_at",
    );
    format(
        "rejects_year_0000",
        "the year 0000: years run from 0001 to 9999",
        &|j| j.set("/opens_at", "0000-12-31T23:59:59Z".into()),
        "opens_at",
    );
    format(
        "rejects_unknown_counting",
        "counting borda",
        &|j| j.set("/questions/2/counting", "borda".into()),
        "questions[2].counting",
    );
    format(
        "rejects_negative_min",
        "min −1",
        &|j| j.set("/questions/1/min", J::Neg(-1)),
        "questions[1].min",
    );
    format(
        "rejects_weights_case",
        "\"Weighted\": values are lower case",
        &|j| j.set("/weights", "Weighted".into()),
        "weights",
    );
    format(
        "rejects_non_canonical_trustee_key",
        "a trustee key that is not a canonical point encoding (the field prime p)",
        &|j| j.set("/trustees/1/public_key", b64(&field_p())),
        "trustees[1].public_key",
    );
    format(
        "rejects_padded_election_key",
        "the election key with base64 padding",
        &|j| {
            let text = b64_encode(base_m.public_key.as_bytes());
            j.set("/public_key", J::Str(format!("{text}=")));
        },
        "public_key",
    );
    format(
        "rejects_unreduced_key_proof_scalar",
        "a key proof response equal to ℓ",
        &|j| j.set("/trustees/0/key_proof/s", b64(&group_order())),
        "trustees[0].key_proof.s",
    );

    let mut v3 = |name: &'static str,
                  comment: &'static str,
                  f: &dyn Fn(&mut Manifest),
                  path: &'static str| {
        let mut m = base_m.clone();
        f(&mut m);
        invalid.push((name, comment, J::of(&m), "V-3", path));
    };
    v3(
        "rejects_bad_key_proof",
        "the second trustee's key proof response plus one",
        &|m| m.trustees[1].key_proof.s = bump(&m.trustees[1].key_proof.s),
        "trustees[1].key_proof",
    );
    v3(
        "rejects_renamed_trustee",
        "a trustee renamed after its key proof: the proof binds the name",
        &|m| m.trustees[0].name = "Trustee North".into(),
        "trustees[0].key_proof",
    );
    v3(
        "rejects_key_proof_of_other_election",
        "the id changed after the key proofs: they bind the election id",
        &|m| m.id = "vectors.full_2027".into(),
        "trustees[0].key_proof",
    );
    v3(
        "rejects_election_key_not_sum",
        "the election key is not the sum of the trustee keys",
        &|m| m.public_key = add_g(&m.public_key),
        "public_key",
    );

    let base_fields = obj! {"manifest" => base};
    for (name, comment, j, error, path) in invalid {
        let mut fields = patched("full", &base_fields, &obj! {"manifest" => j}, error);
        fields.extend(obj! {"path" => path});
        cases.push(case("manifest", name, comment, false, fields));
    }
    let text = format!("{} {{}}", base_m.to_json());
    cases.push(case(
        "manifest",
        "rejects_trailing_characters",
        "a second JSON value after the manifest",
        false,
        obj! {"manifest_text" => text, "error" => "format", "path" => "."},
    ));
    cases.extend(mixed_manifest_cases());

    file(
        "Election manifests (spec §4). A valid case gives the manifest, its fingerprint (the \
         first 32 bytes of H(MANIFEST, fingerprint_items)) and the items themselves; its trustee \
         key proofs verify (V-3). An invalid case is either a `manifest_text`, or the manifest \
         of the valid case named by `base` changed by `patch` (RFC 6902 operations replace, add \
         and remove on JSON pointers). Its `error` is `format` (the JSON is not a manifest: \
         unknown or missing field, bad value, bad encoding), `rule` (it parses but breaks a rule \
         of spec §4.2) or `V-3` (a key proof fails, or the election key is not the sum of the \
         trustee keys), and `path` names the offending field as urne reports it (`.` for the \
         document itself).",
        None,
        cases,
    )
}

/// The mixed election of manifest.json (issue #8; spec §4.1 to §4.3): a plurality question beside
/// a Schulze, an STV and a majority-judgment one; its fingerprint, and the rules of spec §4.2
/// that only ranked and graded questions have. Drawn from its own seed, so that the cases before
/// it keep their bytes.
fn mixed_manifest_cases() -> Vec<J> {
    let mut rng = rng_from_seed(0x5EED_0014);
    let mixed = build_election(
        &mut rng,
        "vectors-mixed",
        "Élection mixte",
        "A plurality question, a Schulze ranking, an STV ranking for two seats and a \
         majority judgment.",
        vec![
            question("Adopt the budget?", &["Yes", "No"], 1, 1, true),
            ranked(
                Counting::Schulze,
                "Rank the logos",
                &["Owl", "Fox", "Heron", "Lynx"],
                1,
                4,
                None,
            ),
            ranked(
                Counting::Stv,
                "Elect two delegates",
                &["Ana", "Bo", "Chen", "Dia", "Eli"],
                0,
                3,
                Some(2),
            ),
            graded(
                "Grade the projects",
                &["Library", "Garden", "Bridge"],
                &["Très bien", "Bien", "Passable", "Insuffisant"],
            ),
        ],
        &["Trustee 1", "Trustee 2"],
        WeightPolicy::Equal,
        RevotePolicy::LastCounts,
    );
    let m = mixed.election.manifest();
    let mut cases = vec![case(
        "manifest",
        "mixed",
        "four questions: plurality with a blank vote, Schulze (rank 1 to 4 of 4), STV (2 seats, \
         rank 0 to 3 of 5) and majority judgment (3 answers, 4 grades best first); seats and \
         grades enter the fingerprint items after counting",
        true,
        obj! {
            "manifest" => J::of(m),
            "fingerprint" => b64(&mixed.election.fingerprint().0),
            "fingerprint_items" => manifest_items(m).json(),
        },
    )];
    let base_m = m.clone();
    let base = J::of(&base_m);
    let mut invalid: Vec<(&str, &str, J, &str, &str)> = Vec::new();
    let mut rule = |name: &'static str,
                    comment: &'static str,
                    f: &dyn Fn(&mut Manifest),
                    path: &'static str| {
        let mut m = base_m.clone();
        f(&mut m);
        invalid.push((name, comment, J::of(&m), "rule", path));
    };
    rule(
        "rejects_stv_without_seats",
        "an STV question without seats",
        &|m| m.questions[2].seats = None,
        "questions[2].seats",
    );
    rule(
        "rejects_stv_zero_seats",
        "seats 0",
        &|m| m.questions[2].seats = Some(0),
        "questions[2].seats",
    );
    rule(
        "rejects_stv_seats_for_every_answer",
        "5 seats for 5 answers: at most one less than the number of answers",
        &|m| m.questions[2].seats = Some(5),
        "questions[2].seats",
    );
    rule(
        "rejects_seats_on_schulze",
        "seats on a Schulze question",
        &|m| m.questions[1].seats = Some(1),
        "questions[1].seats",
    );
    rule(
        "rejects_seats_on_plurality",
        "seats on a plurality question",
        &|m| m.questions[0].seats = Some(1),
        "questions[0].seats",
    );
    rule(
        "rejects_majority_judgment_without_grades",
        "a majority-judgment question without grades",
        &|m| m.questions[3].grades = None,
        "questions[3].grades",
    );
    rule(
        "rejects_one_grade",
        "a single grade: at least 2",
        &|m| m.questions[3].grades = Some(vec!["Bien".into()]),
        "questions[3].grades",
    );
    rule(
        "rejects_seventeen_grades",
        "17 grades: at most 16",
        &|m| m.questions[3].grades = Some((1..=17).map(|g| format!("Grade {g}")).collect()),
        "questions[3].grades",
    );
    rule(
        "rejects_empty_grade",
        "a grade of white space only",
        &|m| {
            if let Some(g) = m.questions[3].grades.as_mut() {
                g[1] = " \t".into();
            }
        },
        "questions[3].grades[1]",
    );
    rule(
        "rejects_repeated_grade",
        "the third grade repeats the first",
        &|m| {
            if let Some(g) = m.questions[3].grades.as_mut() {
                g[2] = g[0].clone();
            }
        },
        "questions[3].grades[2]",
    );
    rule(
        "rejects_grades_on_schulze",
        "grades on a Schulze question",
        &|m| m.questions[1].grades = Some(vec!["Good".into(), "Bad".into()]),
        "questions[1].grades",
    );
    rule(
        "rejects_grades_on_plurality",
        "grades on a plurality question",
        &|m| m.questions[0].grades = Some(vec!["Good".into(), "Bad".into()]),
        "questions[0].grades",
    );
    rule(
        "rejects_blank_on_ranking",
        "a blank vote on a Schulze question (min 1): mixed questions have none",
        &|m| m.questions[1].blank = true,
        "questions[1].blank",
    );
    rule(
        "rejects_ranking_of_65",
        "a Schulze question of 65 answers: at most 64 for a mixed question",
        &|m| {
            let q = &mut m.questions[1];
            q.answers = (1..=65).map(|a| format!("Logo {a}")).collect();
        },
        "questions[1].answers",
    );
    rule(
        "rejects_majority_judgment_partial",
        "majority judgment with max 3 but min 2: every answer is graded",
        &|m| m.questions[3].min = 2,
        "questions[3].min",
    );
    rule(
        "rejects_weighted_mixed",
        "weighted credentials with a mixed question: a shuffled ballot carries no weight (checked \
         right after the questions, before the voting period)",
        &|m| m.weights = WeightPolicy::Weighted,
        "weights",
    );
    let mut format =
        |name: &'static str, comment: &'static str, f: &dyn Fn(&mut J), path: &'static str| {
            let mut j = base.clone();
            f(&mut j);
            invalid.push((name, comment, j, "format", path));
        };
    format(
        "rejects_null_seats",
        "\"seats\": null: an absent value is left out, never null",
        &|j| j.insert("/questions/1", "seats", J::Null),
        "questions[1].seats",
    );
    format(
        "rejects_seats_as_text",
        "seats written as a string",
        &|j| j.set("/questions/2/seats", "2".into()),
        "questions[2].seats",
    );
    format(
        "rejects_grade_not_text",
        "a grade written as a number",
        &|j| j.set("/questions/3/grades/0", J::Num(5)),
        "questions[3].grades[0]",
    );
    format(
        "rejects_counting_case",
        "\"Schulze\": values are lower case",
        &|j| j.set("/questions/1/counting", "Schulze".into()),
        "questions[1].counting",
    );
    let base_fields = obj! {"manifest" => base};
    for (name, comment, j, error, path) in invalid {
        let mut fields = patched("mixed", &base_fields, &obj! {"manifest" => j}, error);
        fields.extend(obj! {"path" => path});
        cases.push(case("manifest", name, comment, false, fields));
    }
    cases
}

// ------------------------------------------------------------------------------------------------
// proofs.json

fn ct_json(c: &Ciphertext) -> J {
    J::of(c)
}

struct ChoiceCase {
    fp: [u8; 32],
    y: Point,
    x: Point,
    q: u64,
    a: u64,
    ct: Ciphertext,
    proof: DisjunctiveProof,
}

impl ChoiceCase {
    fn fields(&self) -> J {
        obj! {
            "fingerprint" => b64(&self.fp),
            "election_key" => pt(&self.y),
            "credential" => pt(&self.x),
            "question" => self.q,
            "answer" => self.a,
            "ciphertext" => ct_json(&self.ct),
            "allowed" => J::of(&vec![vec![0u64], vec![1]]),
            "prefix" => choice_items(&self.fp, &self.y, &self.x, self.q, self.a, &self.ct).json(),
            "proof" => J::of(&self.proof),
        }
    }
}

struct CountCase {
    fp: [u8; 32],
    y: Point,
    x: Point,
    qi: u64,
    question: Question,
    choices: Vec<Ciphertext>,
    blank: Option<Ciphertext>,
    proof: DisjunctiveProof,
}

impl CountCase {
    fn stmt(&self) -> CountStatement<'_> {
        CountStatement {
            fp: &self.fp,
            y: &self.y,
            x: &self.x,
            q: self.qi,
            question: &self.question,
            choices: &self.choices,
            blank: self.blank.as_ref(),
        }
    }

    fn fields(&self) -> J {
        let s = self.stmt();
        let mut o = obj! {
            "fingerprint" => b64(&self.fp),
            "election_key" => pt(&self.y),
            "credential" => pt(&self.x),
            "question" => self.qi,
            "min" => self.question.min,
            "max" => self.question.max,
            "blank" => self.question.blank,
            "choices" => J::Arr(self.choices.iter().map(ct_json).collect()),
        };
        if let Some(b) = &self.blank {
            o.extend(obj! {"blank_ciphertext" => ct_json(b)});
        }
        o.extend(obj! {
            "allowed" => J::of(&count_allowed(&self.question)),
            "statement" => J::Arr(s.ciphertexts().iter().map(ct_json).collect()),
            "prefix" => s.items().json(),
            "proof" => J::of(&self.proof),
        });
        o
    }
}

fn proofs() -> J {
    let mut rng = rng_from_seed(0x5EED_0005);
    let built = build_election(
        &mut rng,
        "vectors-proofs",
        "Proof vectors",
        "",
        vec![
            question("Pick one or two", &["A", "B", "C", "D"], 1, 2, false),
            question(
                "Pick one, or vote blank",
                &["Yes", "No", "Later"],
                1,
                1,
                true,
            ),
        ],
        &["Trustee 1"],
        WeightPolicy::Equal,
        RevotePolicy::LastCounts,
    );
    let e = &built.election;
    let key = e.key();
    let y = *key.point();
    let fp = e.fingerprint().0;
    let voter = random_credential(&mut rng);
    let x = *voter.derive_key(&e.manifest().id).public();
    let other_x = *random_credential(&mut rng)
        .derive_key(&e.manifest().id)
        .public();
    let mut other_fp = fp;
    other_fp[31] ^= 1;
    let mut cases = Vec::new();

    // ElGamal encryptions with given randomness.
    let r_rand = random_scalar(&mut rng);
    for (name, m, r, comment) in [
        ("encrypt_0", 0u64, r_rand, "m = 0: β = r·Y"),
        ("encrypt_1", 1, random_scalar(&mut rng), "m = 1"),
        ("encrypt_5", 5, random_scalar(&mut rng), "m = 5"),
        (
            "encrypt_1000000",
            1_000_000,
            random_scalar(&mut rng),
            "a larger message",
        ),
        (
            "encrypt_r_1",
            3,
            Scalar::ONE,
            "r = 1: α = G and β = 3·G + Y",
        ),
    ] {
        let c = Ciphertext::encrypt(key, m, &r);
        cases.push(case(
            "encryption",
            name,
            comment,
            true,
            obj! {
                "election_key" => pt(&y),
                "message" => m,
                "randomness" => sc(&r),
                "ciphertext" => ct_json(&c),
            },
        ));
    }
    cases.push(case(
        "encryption",
        "rejects_identity_key",
        "an election key that is the identity would show every message in the clear",
        false,
        obj! {
            "election_key" => pt(&Point::identity()),
            "message" => 1u64,
            "randomness" => sc(&r_rand),
            "error" => "identity_point",
        },
    ));

    // Choice proofs.
    let allowed01 = vec![vec![0u64], vec![1]];
    let mut honest_choice = None;
    for (name, bit, q, a, comment) in [
        (
            "choice_encrypts_0",
            0u64,
            0u64,
            1u64,
            "an unselected answer: the ciphertext encrypts 0",
        ),
        (
            "choice_encrypts_1",
            1,
            0,
            2,
            "a selected answer: the ciphertext encrypts 1",
        ),
        (
            "choice_blank_question",
            1,
            1,
            0,
            "an answer of the question that allows blank",
        ),
    ] {
        let r = random_scalar(&mut rng);
        let ct = Ciphertext::encrypt_bit(key, Choice::from(bit as u8), &r);
        let nonces = Nonces::draw(&mut rng, 2, 1, bit as usize);
        let prefix = choice_items(&fp, &y, &x, q, a, &ct);
        let proof = prove_with(key, &prefix, &allowed01, bit as usize, &[r], &nonces);
        proof
            .vartime_verify(
                &mut rng_from_seed(0),
                key,
                prefix.hasher(),
                &allowed01,
                &[ct],
            )
            .expect("honest proof");
        let c = ChoiceCase {
            fp,
            y,
            x,
            q,
            a,
            ct,
            proof,
        };
        let mut fields = c.fields();
        fields.extend(obj! {
            "witness" => obj! {"plaintext" => bit, "branch" => bit, "randomness" => scalars(&[r])},
            "nonces" => nonces.json(),
        });
        cases.push(case("choice_proof", name, comment, true, fields));
        if bit == 1 && q == 0 {
            honest_choice = Some(c);
        }
    }
    let hc = honest_choice.expect("made above");
    let hc_fields = hc.fields();
    let mut tamper_choice =
        |name: &str, comment: &str, error: &str, f: &dyn Fn(&mut ChoiceCase)| {
            let mut c = ChoiceCase {
                proof: hc.proof.clone(),
                ..hc
            };
            f(&mut c);
            let fields = patched("choice_encrypts_1", &hc_fields, &c.fields(), error);
            cases.push(case("choice_proof", name, comment, false, fields));
        };
    tamper_choice(
        "choice_rejects_changed_commitment_a",
        "branch 0's commitment A replaced by A + G: the challenge changes",
        "challenge_sum",
        &|c| c.proof.branches[0].a[0] = add_g(&c.proof.branches[0].a[0]),
    );
    tamper_choice(
        "choice_rejects_changed_commitment_b",
        "branch 1's commitment B replaced by B + G",
        "challenge_sum",
        &|c| c.proof.branches[1].b[0] = add_g(&c.proof.branches[1].b[0]),
    );
    tamper_choice(
        "choice_rejects_changed_response",
        "branch 1's response z plus one",
        "equation",
        &|c| c.proof.branches[1].z[0] = bump(&c.proof.branches[1].z[0]),
    );
    tamper_choice(
        "choice_rejects_changed_challenge",
        "branch 0's challenge plus one: the branch challenges no longer add up",
        "challenge_sum",
        &|c| c.proof.branches[0].c = bump(&c.proof.branches[0].c),
    );
    tamper_choice(
        "choice_rejects_shifted_challenges",
        "branch 0's challenge plus one and branch 1's minus one: the sum holds, the equations fail",
        "equation",
        &|c| {
            c.proof.branches[0].c = bump(&c.proof.branches[0].c);
            c.proof.branches[1].c -= Scalar::ONE;
        },
    );
    tamper_choice(
        "choice_rejects_swapped_branches",
        "the two branches swapped",
        "challenge_sum",
        &|c| c.proof.branches.swap(0, 1),
    );
    tamper_choice(
        "choice_rejects_changed_ciphertext",
        "the statement's β replaced by β + G (now an encryption of 2)",
        "challenge_sum",
        &|c| c.ct.beta = add_g(&c.ct.beta),
    );
    tamper_choice(
        "choice_rejects_other_credential",
        "the proof moved to another voter's credential",
        "challenge_sum",
        &|c| c.x = other_x,
    );
    tamper_choice(
        "choice_rejects_other_fingerprint",
        "the proof moved to another election's fingerprint",
        "challenge_sum",
        &|c| c.fp = other_fp,
    );
    tamper_choice(
        "choice_rejects_other_answer",
        "the proof moved to another answer index",
        "challenge_sum",
        &|c| c.a = 3,
    );
    tamper_choice(
        "choice_rejects_other_election_key",
        "a different election key in the statement",
        "challenge_sum",
        &|c| c.y = add_g(&c.y),
    );
    tamper_choice(
        "choice_rejects_extra_branch",
        "a third branch: the statement has two allowed values",
        "shape",
        &|c| {
            let b = c.proof.branches[0].clone();
            c.proof.branches.push(b);
        },
    );
    tamper_choice(
        "choice_rejects_missing_response",
        "branch 0 has no response",
        "shape",
        &|c| c.proof.branches[0].z.clear(),
    );
    // A dishonest prover: the ciphertext encrypts 2, the proof claims 1.
    let r2 = random_scalar(&mut rng);
    let ct2 = Ciphertext::encrypt(key, 2, &r2);
    let prefix2 = choice_items(&fp, &y, &x, 0, 2, &ct2);
    let p2 = DisjunctiveProof::prove(
        &mut rng,
        key,
        prefix2.hasher(),
        &allowed01,
        &Witness {
            branch: 1,
            randomness: &[r2],
        },
        1,
    );
    let forged = ChoiceCase {
        fp,
        y,
        x,
        q: 0,
        a: 2,
        ct: ct2,
        proof: p2,
    };
    let mut fields = forged.fields();
    fields.extend(obj! {"error" => "equation"});
    cases.push(case(
        "choice_proof",
        "choice_rejects_encryption_of_2",
        "a dishonest prover: the ciphertext encrypts 2 and the proof claims 1",
        false,
        fields,
    ));
    let mut j = hc.fields();
    j.set("/proof/0/a/0", b64(&field_p()));
    let j = patched("choice_encrypts_1", &hc_fields, &j, "non_canonical_point");
    cases.push(case(
        "choice_proof",
        "choice_rejects_non_canonical_commitment",
        "a commitment that is not a canonical point encoding",
        false,
        j,
    ));
    let mut j = hc.fields();
    j.set("/proof/1/z/0", b64(&group_order()));
    let j = patched("choice_encrypts_1", &hc_fields, &j, "non_canonical_scalar");
    cases.push(case(
        "choice_proof",
        "choice_rejects_unreduced_response",
        "a response equal to ℓ",
        false,
        j,
    ));

    // Count proofs.
    let qs = e.manifest().questions.clone();
    let mut honest_counts = Vec::new();
    for (name, qi, vote, comment) in [
        (
            "count_one_selected",
            0usize,
            QuestionVote::Selected(vec![2]),
            "one of four selected, 1 ≤ count ≤ 2: allowed tuples (1), (2)",
        ),
        (
            "count_two_selected",
            0,
            QuestionVote::Selected(vec![0, 3]),
            "two of four selected",
        ),
        (
            "count_blank_vote",
            1,
            QuestionVote::Blank,
            "a blank vote: (blank, sum) = (1, 0); allowed tuples (1, 0), (0, 1)",
        ),
        (
            "count_with_blank_allowed",
            1,
            QuestionVote::Selected(vec![1]),
            "one selection where blank is allowed: (blank, sum) = (0, 1)",
        ),
    ] {
        let q = &qs[qi];
        let bits = bits_of(q, &vote);
        let rs: Vec<Scalar> = bits.iter().map(|_| random_scalar(&mut rng)).collect();
        let choices: Vec<Ciphertext> = bits
            .iter()
            .zip(&rs)
            .map(|(&b, r)| Ciphertext::encrypt(key, b, r))
            .collect();
        let is_blank = matches!(vote, QuestionVote::Blank);
        let blank_r = q.blank.then(|| random_scalar(&mut rng));
        let blank = blank_r.map(|r| Ciphertext::encrypt(key, u64::from(is_blank), &r));
        let r_sum: Scalar = rs.iter().sum();
        let witness_r: Vec<Scalar> = blank_r.into_iter().chain([r_sum]).collect();
        let real = count_branch(q, bits.iter().sum(), is_blank);
        let allowed = count_allowed(q);
        let nonces = Nonces::draw(&mut rng, allowed.len(), witness_r.len(), real);
        let mut c = CountCase {
            fp,
            y,
            x,
            qi: qi as u64,
            question: q.clone(),
            choices,
            blank,
            proof: DisjunctiveProof { branches: vec![] },
        };
        c.proof = prove_with(key, &c.stmt().items(), &allowed, real, &witness_r, &nonces);
        c.proof
            .vartime_verify(
                &mut rng_from_seed(0),
                key,
                c.stmt().items().hasher(),
                &allowed,
                &c.stmt().ciphertexts(),
            )
            .expect("honest proof");
        let mut fields = c.fields();
        let mut witness = obj! {
            "choice_plaintexts" => J::Arr(bits.iter().map(|&b| J::from(b)).collect()),
            "choice_randomness" => scalars(&rs),
        };
        if let Some(r) = &blank_r {
            witness.extend(
                obj! {"blank_plaintext" => u64::from(is_blank), "blank_randomness" => sc(r)},
            );
        }
        witness.extend(obj! {"branch" => real, "randomness" => scalars(&witness_r)});
        fields.extend(obj! {"witness" => witness, "nonces" => nonces.json()});
        cases.push(case("count_proof", name, comment, true, fields));
        honest_counts.push((name, c));
    }
    let mut tamper_count =
        |base: usize, name: &str, comment: &str, error: &str, f: &dyn Fn(&mut CountCase)| {
            let (base_name, h) = &honest_counts[base];
            let mut c = CountCase {
                question: h.question.clone(),
                choices: h.choices.clone(),
                proof: h.proof.clone(),
                ..*h
            };
            f(&mut c);
            let fields = patched(base_name, &h.fields(), &c.fields(), error);
            cases.push(case("count_proof", name, comment, false, fields));
        };
    tamper_count(
        1,
        "count_rejects_changed_commitment",
        "branch 0's commitment A replaced by A + G",
        "challenge_sum",
        &|c| c.proof.branches[0].a[0] = add_g(&c.proof.branches[0].a[0]),
    );
    tamper_count(
        1,
        "count_rejects_changed_response",
        "branch 1's response plus one",
        "equation",
        &|c| c.proof.branches[1].z[0] = bump(&c.proof.branches[1].z[0]),
    );
    tamper_count(
        1,
        "count_rejects_changed_challenge",
        "branch 1's challenge plus one",
        "challenge_sum",
        &|c| c.proof.branches[1].c = bump(&c.proof.branches[1].c),
    );
    tamper_count(
        1,
        "count_rejects_changed_choice",
        "one choice ciphertext replaced by α + G, β: the prefix binds every choice",
        "challenge_sum",
        &|c| c.choices[1].alpha = add_g(&c.choices[1].alpha),
    );
    tamper_count(
        1,
        "count_rejects_other_credential",
        "the proof moved to another voter's credential",
        "challenge_sum",
        &|c| c.x = other_x,
    );
    tamper_count(
        1,
        "count_rejects_other_fingerprint",
        "the proof moved to another election's fingerprint",
        "challenge_sum",
        &|c| c.fp = other_fp,
    );
    tamper_count(
        1,
        "count_rejects_other_question",
        "the proof moved to another question index",
        "challenge_sum",
        &|c| c.qi = 5,
    );
    tamper_count(
        1,
        "count_rejects_wider_range",
        "max raised to 3: three allowed tuples, the proof has two branches",
        "shape",
        &|c| c.question.max = 3,
    );
    tamper_count(
        1,
        "count_rejects_missing_branch",
        "the last branch removed",
        "shape",
        &|c| {
            c.proof.branches.pop();
        },
    );
    tamper_count(
        2,
        "count_rejects_changed_blank_ciphertext",
        "the blank flag's β replaced by β + G",
        "challenge_sum",
        &|c| {
            if let Some(b) = &mut c.blank {
                b.beta = add_g(&b.beta);
            }
        },
    );
    tamper_count(
        3,
        "count_rejects_changed_blank_response",
        "a response for the blank flag (ciphertext 0) plus one",
        "equation",
        &|c| c.proof.branches[0].z[0] = bump(&c.proof.branches[0].z[0]),
    );
    // Dishonest provers: three selections where at most two are allowed, and a blank vote that
    // also selects an answer.
    for (name, qi, plain, blank, claim, comment) in [
        (
            "count_rejects_overvote",
            0usize,
            vec![1u64, 1, 1, 0],
            None,
            1usize,
            "three of four selected, max 2: the proof claims a count of 2",
        ),
        (
            "count_rejects_undervote",
            0,
            vec![0, 0, 0, 0],
            None,
            0,
            "nothing selected, min 1: the proof claims a count of 1",
        ),
        (
            "count_rejects_blank_and_selection",
            1,
            vec![0, 1, 0],
            Some(1u64),
            0,
            "blank flag 1 and one selection, (1, 1): the proof claims (1, 0)",
        ),
    ] {
        let q = &qs[qi];
        let rs: Vec<Scalar> = plain.iter().map(|_| random_scalar(&mut rng)).collect();
        let choices: Vec<Ciphertext> = plain
            .iter()
            .zip(&rs)
            .map(|(&m, r)| Ciphertext::encrypt(key, m, r))
            .collect();
        let blank_r = blank.map(|_| random_scalar(&mut rng));
        let blank_ct = blank
            .zip(blank_r)
            .map(|(m, r)| Ciphertext::encrypt(key, m, &r));
        let witness_r: Vec<Scalar> = blank_r
            .into_iter()
            .chain([rs.iter().sum::<Scalar>()])
            .collect();
        let mut c = CountCase {
            fp,
            y,
            x,
            qi: qi as u64,
            question: q.clone(),
            choices,
            blank: blank_ct,
            proof: DisjunctiveProof { branches: vec![] },
        };
        c.proof = DisjunctiveProof::prove(
            &mut rng,
            key,
            c.stmt().items().hasher(),
            &count_allowed(q),
            &Witness {
                branch: claim,
                randomness: &witness_r,
            },
            witness_r.len(),
        );
        let mut fields = c.fields();
        fields.extend(obj! {"error" => "equation"});
        cases.push(case("count_proof", name, comment, false, fields));
    }

    // Trustee key proofs (Schnorr).
    struct KeyCase {
        id: String,
        index: u32,
        name: String,
        pk: Point,
        proof: SchnorrProof,
    }
    impl KeyCase {
        fn fields(&self) -> J {
            obj! {
                "election_id" => self.id.as_str(),
                "trustee_index" => self.index,
                "trustee_name" => self.name.as_str(),
                "public_key" => pt(&self.pk),
                "prefix" => key_proof_items(&self.id, self.index, &self.name, &self.pk).json(),
                "proof" => J::of(&self.proof),
            }
        }
    }
    let mut honest_key = None;
    for (case_name, index, name, comment) in [
        ("key_proof_first_trustee", 1u32, "Trustee 1", "trustee 1"),
        (
            "key_proof_utf8_name",
            2,
            "Zoë Ångström",
            "trustee 2, a UTF-8 name",
        ),
    ] {
        let s = random_scalar(&mut rng);
        let k = random_scalar(&mut rng);
        let pk = point_of(RistrettoPoint::mul_base(&s));
        let id = "vectors-proofs";
        let proof = schnorr_with(&s, trustee_key_proof_prefix(id, index, name, &pk), &k);
        proof
            .vartime_verify(&pk, key_proof_items(id, index, name, &pk).hasher())
            .expect("honest key proof");
        let kc = KeyCase {
            id: id.into(),
            index,
            name: name.into(),
            pk,
            proof,
        };
        let mut fields = kc.fields();
        fields.extend(obj! {"witness" => obj! {"secret_key" => sc(&s)}, "nonce" => sc(&k)});
        cases.push(case("key_proof", case_name, comment, true, fields));
        if index == 1 {
            honest_key = Some(kc);
        }
    }
    let hk = honest_key.expect("made above");
    let hk_fields = hk.fields();
    let mut tamper_key = |name: &str, comment: &str, f: &dyn Fn(&mut KeyCase)| {
        let mut k = KeyCase {
            id: hk.id.clone(),
            name: hk.name.clone(),
            ..hk
        };
        f(&mut k);
        let fields = patched(
            "key_proof_first_trustee",
            &hk_fields,
            &k.fields(),
            "equation",
        );
        cases.push(case("key_proof", name, comment, false, fields));
    };
    tamper_key(
        "key_proof_rejects_changed_commitment",
        "R replaced by R + G",
        &|k| k.proof.r = add_g(&k.proof.r),
    );
    tamper_key("key_proof_rejects_changed_response", "s plus one", &|k| {
        k.proof.s = bump(&k.proof.s)
    });
    tamper_key(
        "key_proof_rejects_other_name",
        "the proof moved to another trustee name",
        &|k| k.name = "Trustee 2".into(),
    );
    tamper_key(
        "key_proof_rejects_other_index",
        "the proof moved to trustee index 2",
        &|k| k.index = 2,
    );
    tamper_key(
        "key_proof_rejects_other_election",
        "the proof moved to another election id",
        &|k| k.id = "vectors-proofs-2".into(),
    );
    tamper_key(
        "key_proof_rejects_other_key",
        "the proof presented for another public key",
        &|k| k.pk = add_g(&k.pk),
    );

    // Decryption factors (Chaum–Pedersen).
    #[derive(Clone, Copy)]
    struct FactorCase {
        fp: [u8; 32],
        vk: Point,
        ct: Ciphertext,
        f: DecryptionFactor,
    }
    impl FactorCase {
        fn fields(&self) -> J {
            obj! {
                "fingerprint" => b64(&self.fp),
                "verification_key" => pt(&self.vk),
                "ciphertext" => ct_json(&self.ct),
                "prefix" => decryption_items(&self.fp, &self.vk, &self.ct, &self.f.factor).json(),
                "decryption_factor" => J::of(&self.f),
            }
        }
    }
    let s = random_scalar(&mut rng);
    let w = random_scalar(&mut rng);
    let vk = point_of(RistrettoPoint::mul_base(&s));
    let ct = Ciphertext::encrypt(key, 3, &random_scalar(&mut rng));
    let mut replay = Replay::default();
    replay.scalar(&w);
    let f = DecryptionFactor::prove(&mut replay, &fp, &s, &vk, &ct);
    replay.done();
    f.vartime_verify(&mut rng_from_seed(0), &fp, &vk, &ct)
        .expect("honest factor");
    let hf = FactorCase { fp, vk, ct, f };
    let mut fields = hf.fields();
    fields.extend(obj! {"witness" => obj! {"secret_key" => sc(&s)}, "nonce" => sc(&w)});
    cases.push(case(
        "decryption_factor",
        "factor_honest",
        "D = s·α with its proof; A = w·G, B = w·α, z = w + c·s",
        true,
        fields,
    ));
    let mut tamper_factor = |name: &str, comment: &str, f: &dyn Fn(&mut FactorCase)| {
        let mut c = hf;
        f(&mut c);
        let fields = patched("factor_honest", &hf.fields(), &c.fields(), "equation");
        cases.push(case("decryption_factor", name, comment, false, fields));
    };
    tamper_factor(
        "factor_rejects_changed_factor",
        "D replaced by D + G, which would shift the count by one",
        &|c| c.f.factor = add_g(&c.f.factor),
    );
    tamper_factor(
        "factor_rejects_changed_commitment_a",
        "A replaced by A + G",
        &|c| c.f.a = add_g(&c.f.a),
    );
    tamper_factor(
        "factor_rejects_changed_commitment_b",
        "B replaced by B + G",
        &|c| c.f.b = add_g(&c.f.b),
    );
    tamper_factor("factor_rejects_changed_response", "z plus one", &|c| {
        c.f.z = bump(&c.f.z)
    });
    tamper_factor(
        "factor_rejects_other_fingerprint",
        "the factor moved to another election's fingerprint",
        &|c| c.fp = other_fp,
    );
    tamper_factor(
        "factor_rejects_other_trustee",
        "presented for another verification key",
        &|c| c.vk = add_g(&c.vk),
    );
    tamper_factor(
        "factor_rejects_other_alpha",
        "the statement's α replaced by α + G",
        &|c| c.ct.alpha = add_g(&c.ct.alpha),
    );
    tamper_factor(
        "factor_rejects_other_beta",
        "the statement's β replaced by β + G: β is bound too",
        &|c| c.ct.beta = add_g(&c.ct.beta),
    );

    file(
        "ElGamal encryption (spec §6.1) and the zero-knowledge proofs (spec §6.2–6.4, §8.1, \
         §8.3), each with its whole statement and its hash `prefix` (tag and items, in the item \
         format of hash.json), to which the prover's commitments are appended. Kinds: \
         `encryption` ((α, β) = (r·G, m·G + r·Y)); `choice_proof` (the ciphertext encrypts 0 or \
         1); `count_proof` (the `statement` ciphertexts, [sum of choices] or [blank flag, sum of \
         choices], encrypt one of the `allowed` tuples); `key_proof` (Schnorr: knowledge of the \
         trustee's secret key); `decryption_factor` (Chaum–Pedersen: D = s·α for V = s·G). \
         Disjunctive proofs are lists of branches {c, a, b, z}, one per allowed tuple, with one \
         commitment pair and response per statement ciphertext; the challenge is H(prefix, then \
         A and B of every branch in order) and the branch challenges must add up to it. Valid \
         cases carry the `witness` and the `nonces` that reproduce the proof exactly: per branch \
         the simulated challenge c (null for the real branch) and one t per ciphertext, with \
         A = t·G, B = t·Y − c·(m_real − m_branch)·G, c_real = challenge − Σ other c, \
         z = t + c·r. Invalid cases change one element; `error` is `shape` (number of branches \
         or of values per branch), `challenge_sum`, `equation`, or a decoding error of \
         encoding.json.",
        None,
        cases,
    )
}

// ------------------------------------------------------------------------------------------------
// ballot.json

fn ballot() -> J {
    let mut rng = rng_from_seed(0x5EED_0006);
    let built = build_election(
        &mut rng,
        "vectors-ballot",
        "Ballot vectors",
        "A 1-of-3 question, a question with up to 2 of 4, and one that allows a blank vote.",
        vec![
            question("One of three", &["Red", "Green", "Blue"], 1, 1, false),
            question(
                "Up to two of four",
                &["North", "East", "South", "West"],
                0,
                2,
                false,
            ),
            question(
                "One or two of three, or blank",
                &["Tea", "Coffee", "Water"],
                1,
                2,
                true,
            ),
        ],
        &["Trustee 1", "Trustee 2"],
        WeightPolicy::Equal,
        RevotePolicy::LastCounts,
    );
    let e = &built.election;
    let id = e.manifest().id.clone();
    let voters: Vec<Credential> = (0..3).map(|_| random_credential(&mut rng)).collect();
    let secrets: Vec<Scalar> = voters.iter().map(|c| credential_secret(c, &id)).collect();
    let publics: Vec<Point> = voters.iter().map(|c| *c.derive_key(&id).public()).collect();
    let context = obj! {
        "manifest" => J::of(e.manifest()),
        "fingerprint" => b64(&e.fingerprint().0),
        "election_key" => pt(e.key().point()),
        "voters" => J::Arr(voters.iter().zip(&publics).map(|(c, x)| obj! {
            "credential" => c.display().to_string(),
            "public_credential" => pt(x),
        }).collect()),
    };

    use QuestionVote::{Blank, Selected};
    let votes: Vec<(&str, usize, Vec<QuestionVote>, &str)> = vec![
        (
            "ballot_a",
            0,
            vec![Selected(vec![0]), Selected(vec![1, 3]), Blank],
            "answer 0; answers 1 and 3; a blank vote",
        ),
        (
            "ballot_b",
            1,
            vec![Selected(vec![2]), Selected(vec![]), Selected(vec![0, 2])],
            "answer 2; an empty selection (min 0); two selections where blank is allowed",
        ),
        (
            "ballot_c",
            2,
            vec![Selected(vec![1]), Selected(vec![2]), Selected(vec![1])],
            "one selection in each question",
        ),
    ];
    let mut cases = Vec::new();
    let mut bases = Vec::new();
    for (i, (name, voter, vote, comment)) in votes.iter().enumerate() {
        let rand = BallotRandomness::draw(&mut rng, e, vote);
        let b = create_ballot(e, &voters[*voter], vote, &rand);
        let mut fields = obj! {
            "voter" => *voter,
            "vote" => vote_json(vote),
            "randomness" => rand.json(),
            "ballot" => J::of(&b),
            "tracker" => b64(&b.tracker().0),
        };
        if i == 0 {
            let mut body = Items::new(tags::TRACKER);
            body_items(&b, &mut body);
            fields.extend(obj! {"body_items" => body.items_json()});
        }
        cases.push(case("ballot", name, comment, true, fields));
        bases.push((b, rand));
    }

    let (base, base_rand) = &bases[0];
    let base_j = J::of(base);
    let mut invalid: Vec<(&str, &str, J, &str, &str)> = Vec::new();
    // Every tampered ballot is signed again (with `Sign::Voter`), so that it fails one check
    // only, whatever order a verifier checks in; the V-8 cases are the exceptions, by design.
    enum Sign {
        Keep,
        Voter(usize),
        Key(Scalar),
    }
    let mut typed = |name: &'static str,
                     comment: &'static str,
                     error: &'static str,
                     path: &'static str,
                     sign: Sign,
                     f: &mut dyn FnMut(&mut Ballot, &mut ChaCha20Rng)| {
        let mut b = base.clone();
        f(&mut b, &mut rng);
        match sign {
            Sign::Keep => {}
            Sign::Voter(v) => resign(&mut rng, &mut b, &secrets[v]),
            Sign::Key(x) => resign(&mut rng, &mut b, &x),
        }
        invalid.push((name, comment, J::of(&b), error, path));
    };
    let identity = Point::identity();
    let forge = |x: &Point,
                 qi: usize,
                 rng: &mut ChaCha20Rng,
                 plain: &[u64],
                 claims: &[usize],
                 count_claim: usize| {
        Forge { e, x, qi }.answer(rng, plain, claims, None, count_claim)
    };
    typed(
        "rejects_other_election",
        "the fingerprint's first byte changed (and the ballot signed again)",
        "V-6",
        "election",
        Sign::Voter(0),
        &mut |b, _| b.election.0[0] ^= 1,
    );
    typed(
        "rejects_identity_credential",
        "a ballot made in full for the identity as credential (secret key 0): its proofs and \
         signature verify, but the identity is not a credential",
        "V-5",
        "credential",
        Sign::Key(Scalar::ZERO),
        &mut |b, rng| {
            b.credential = identity;
            let f = |qi| Forge {
                e,
                x: &identity,
                qi,
            };
            b.answers[0] = f(0).answer(rng, &[1, 0, 0], &[1, 0, 0], None, 0);
            b.answers[1] = f(1).answer(rng, &[0, 1, 0, 1], &[0, 1, 0, 1], None, 2);
            b.answers[2] = f(2).answer(rng, &[0, 0, 0], &[0, 0, 0], Some(1), 0);
        },
    );
    typed(
        "rejects_missing_answer",
        "no answer to the third question",
        "V-5",
        "answers",
        Sign::Voter(0),
        &mut |b, _| {
            b.answers.pop();
        },
    );
    typed(
        "rejects_missing_choice",
        "two ciphertexts for a question of three answers",
        "V-5",
        "answers[0].choices",
        Sign::Voter(0),
        &mut |b, _| {
            b.answers[0].choices.pop();
        },
    );
    typed(
        "rejects_missing_choice_proof",
        "three choice proofs for a question of four answers",
        "V-5",
        "answers[1].choice_proofs",
        Sign::Voter(0),
        &mut |b, _| {
            b.answers[1].choice_proofs.pop();
        },
    );
    typed(
        "rejects_missing_blank",
        "no blank flag where the question allows a blank vote",
        "V-5",
        "answers[2].blank",
        Sign::Voter(0),
        &mut |b, _| b.answers[2].blank = None,
    );
    typed(
        "rejects_unexpected_blank",
        "a blank flag where the question allows no blank vote",
        "V-5",
        "answers[0].blank",
        Sign::Voter(0),
        &mut |b, _| b.answers[0].blank = b.answers[2].blank,
    );
    typed(
        "rejects_changed_signature_response",
        "the signature's s plus one",
        "V-8",
        "signature",
        Sign::Keep,
        &mut |b, _| b.signature.s = bump(&b.signature.s),
    );
    typed(
        "rejects_changed_signature_commitment",
        "the signature's R replaced by R + G",
        "V-8",
        "signature",
        Sign::Keep,
        &mut |b, _| b.signature.r = add_g(&b.signature.r),
    );
    typed(
        "rejects_signature_by_other_voter",
        "signed with another voter's key, the credential unchanged",
        "V-8",
        "signature",
        Sign::Voter(1),
        &mut |_, _| {},
    );
    typed(
        "rejects_changed_body",
        "a choice proof replaced by a fresh, valid proof for the same ciphertext, not signed \
         again: every proof verifies, but the signature covers the proofs",
        "V-8",
        "signature",
        Sign::Keep,
        &mut |b, rng| {
            let ct = b.answers[0].choices[1];
            let prefix = choice_items(&e.fingerprint().0, e.key().point(), &publics[0], 0, 1, &ct);
            b.answers[0].choice_proofs[1] = DisjunctiveProof::prove(
                rng,
                e.key(),
                prefix.hasher(),
                &[vec![0], vec![1]],
                &Witness {
                    branch: 0,
                    randomness: &[base_rand.questions[0].r[1]],
                },
                1,
            );
        },
    );
    typed(
        "rejects_other_credential",
        "the credential replaced by another voter's, who signs: every proof binds the \
         credential, so every choice and count proof fails; the first is reported",
        "V-9",
        "answers[0].choice_proofs[0]",
        Sign::Voter(1),
        &mut |b, _| b.credential = publics[1],
    );
    typed(
        "rejects_changed_choice_challenge",
        "a choice proof's branch challenge plus one",
        "V-9",
        "answers[0].choice_proofs[1]",
        Sign::Voter(0),
        &mut |b, _| {
            let c = &mut b.answers[0].choice_proofs[1].branches[0].c;
            *c = bump(c);
        },
    );
    typed(
        "rejects_changed_choice_response",
        "a choice proof's response plus one",
        "V-9",
        "answers[1].choice_proofs[2]",
        Sign::Voter(0),
        &mut |b, _| {
            let z = &mut b.answers[1].choice_proofs[2].branches[1].z[0];
            *z = bump(z);
        },
    );
    typed(
        "rejects_choice_proof_extra_branch",
        "a choice proof with three branches",
        "V-9",
        "answers[2].choice_proofs[0]",
        Sign::Voter(0),
        &mut |b, _| {
            let br: Branch = b.answers[2].choice_proofs[0].branches[0].clone();
            b.answers[2].choice_proofs[0].branches.push(br);
        },
    );
    typed(
        "rejects_choice_of_2",
        "a choice encrypts 2 with a proof claiming 1 (a dishonest booth); the count proof is \
         honest for the sum 2",
        "V-9",
        "answers[1].choice_proofs[1]",
        Sign::Voter(0),
        &mut |b, rng| b.answers[1] = forge(&publics[0], 1, rng, &[0, 2, 0, 0], &[0, 1, 0, 0], 2),
    );
    typed(
        "rejects_replaced_choice",
        "a choice ciphertext replaced by a fresh encryption of 1: its choice proof and the \
         question's count proof were made for the old one; the choice proof is reported",
        "V-9",
        "answers[0].choice_proofs[2]",
        Sign::Voter(0),
        &mut |b, rng| {
            let r = random_scalar(rng);
            b.answers[0].choices[2] = Ciphertext::encrypt(e.key(), 1, &r);
        },
    );
    typed(
        "rejects_changed_count_challenge",
        "a count proof's branch challenge plus one",
        "V-10",
        "answers[1].count_proof",
        Sign::Voter(0),
        &mut |b, _| {
            let c = &mut b.answers[1]
                .count_proof
                .as_mut()
                .expect("a plurality question")
                .branches[2]
                .c;
            *c = bump(c);
        },
    );
    typed(
        "rejects_changed_count_response",
        "a count proof's response plus one",
        "V-10",
        "answers[2].count_proof",
        Sign::Voter(0),
        &mut |b, _| {
            let z = &mut b.answers[2]
                .count_proof
                .as_mut()
                .expect("a plurality question")
                .branches[0]
                .z[1];
            *z = bump(z);
        },
    );
    typed(
        "rejects_count_proof_missing_branch",
        "a count proof without its last branch",
        "V-10",
        "answers[1].count_proof",
        Sign::Voter(0),
        &mut |b, _| {
            b.answers[1]
                .count_proof
                .as_mut()
                .expect("a plurality question")
                .branches
                .pop();
        },
    );
    typed(
        "rejects_replaced_blank",
        "the blank flag replaced by a fresh encryption of 1",
        "V-10",
        "answers[2].count_proof",
        Sign::Voter(0),
        &mut |b, rng| {
            let r = random_scalar(rng);
            b.answers[2].blank = Some(Ciphertext::encrypt(e.key(), 1, &r));
        },
    );
    typed(
        "rejects_overvote",
        "three of four selected where at most two are allowed: honest choice proofs, a count \
         proof claiming 2",
        "V-10",
        "answers[1].count_proof",
        Sign::Voter(0),
        &mut |b, rng| b.answers[1] = forge(&publics[0], 1, rng, &[1, 1, 1, 0], &[1, 1, 1, 0], 2),
    );
    typed(
        "rejects_undervote",
        "nothing selected where one selection is required: a count proof claiming 1",
        "V-10",
        "answers[0].count_proof",
        Sign::Voter(0),
        &mut |b, rng| b.answers[0] = forge(&publics[0], 0, rng, &[0, 0, 0], &[0, 0, 0], 0),
    );
    typed(
        "rejects_blank_and_selection",
        "the blank flag set and an answer selected: a count proof claiming a blank vote",
        "V-10",
        "answers[2].count_proof",
        Sign::Voter(0),
        &mut |b, rng| {
            b.answers[2] = Forge {
                e,
                x: &publics[0],
                qi: 2,
            }
            .answer(rng, &[0, 0, 1], &[0, 0, 1], Some(1), 0);
        },
    );
    let mut text =
        |name: &'static str, comment: &'static str, path: &'static str, f: &dyn Fn(&mut J)| {
            let mut j = base_j.clone();
            f(&mut j);
            invalid.push((name, comment, j, "parse", path));
        };
    text(
        "rejects_non_canonical_alpha",
        "a choice's α is not a canonical point encoding (the field prime p)",
        "answers[0].choices[1].alpha",
        &|j| j.set("/answers/0/choices/1/alpha", b64(&field_p())),
    );
    text(
        "rejects_unreduced_signature",
        "the signature's s is ℓ",
        "signature.s",
        &|j| j.set("/signature/s", b64(&group_order())),
    );
    text(
        "rejects_unknown_format",
        "format urne/ballot/v2",
        "format",
        &|j| j.set("/format", "urne/ballot/v2".into()),
    );
    text(
        "rejects_unknown_field",
        "an extra field in an answer",
        "answers[2].note",
        &|j| j.insert("/answers/2", "note", "x".into()),
    );
    text(
        "rejects_null_blank",
        "\"blank\": null where the question allows no blank vote: an absent value is omitted, \
         never null",
        "answers[0].blank",
        &|j| j.insert("/answers/0", "blank", J::Null),
    );
    text(
        "rejects_uneven_branch",
        "a choice proof branch with one commitment pair and no response: a, b and z must be \
         as long as each other",
        "answers[1].choice_proofs[0][1]",
        &|j| j.set("/answers/1/choice_proofs/0/1/z", J::Arr(vec![])),
    );
    text(
        "rejects_short_fingerprint",
        "a fingerprint of 31 bytes",
        "election",
        &|j| j.set("/election", b64(&[7u8; 31])),
    );

    let base_fields = obj! {"ballot" => base_j};
    for (name, comment, j, error, path) in invalid {
        let mut fields = patched("ballot_a", &base_fields, &obj! {"ballot" => j}, error);
        fields.extend(obj! {"path" => path});
        cases.push(case("ballot", name, comment, false, fields));
    }

    let (mixed_context, mixed_cases) = mixed_ballot_cases();
    cases.extend(mixed_cases);
    let mut f = file(
        "Ballots (spec §6, §7) for the election in `context` (its manifest, fingerprint, \
         election key, and three voters' credentials), or, for a case whose own `context` says \
         `mixed_context`, for the election of that field (a plurality question beside a Schulze \
         ranking, an STV ranking and a majority judgment; two voters). A valid case gives the \
         `vote` (per question {\"selected\": [answer indices]} or {\"blank\": true}; \
         {\"ranks\": [a rank or 0 per answer]} for a ranking; {\"grades\": [per answer, the \
         grade's position in `grades`, 0 for the best]} for a majority judgment, whose \
         ciphertexts hold g − 1 − position), all the `randomness` \
         that reproduces the ballot exactly (per question: each choice's encryption randomness, \
         each choice proof's nonces, the blank flag's randomness, the count proof's nonces, in \
         the format of proofs.json; then the signature nonce), the `ballot` and its `tracker`. \
         The first case also lists its `body_items`: the signature is a Schnorr proof for the \
         credential with prefix H(BALLOT_SIGNATURE, fingerprint, credential, body items), and the \
         tracker is the first 32 bytes of H(TRACKER, body items, R, s). An invalid case is the \
         ballot of `base` changed by `patch` (RFC 6902: replace, add, remove); `error` is the \
         check that fails (`V-5` shape, `V-6` fingerprint, `V-8` signature, `V-9` choice proof, \
         `V-10` count proof) or `parse` (the JSON is not a ballot), and `path` where. Every \
         tampered ballot was signed again unless the signature is what the case breaks, so each \
         invalid case fails one check only, whatever order a verifier checks in; the two \
         exceptions (rejects_other_credential, rejects_replaced_choice) record the lowest check \
         id at its first item in ballot order (questions in order; per question its choice \
         proofs, then its count proof). A mixed question's choice proofs have B + 1 branches \
         (values 0 to B, spec §6.3) and it has no count proof, so its randomness has no \
         `count_proof_nonces`. A case of kind `vote` is a vote that a booth must refuse before \
         encrypting anything (spec §7.1, \"Creating a ballot\"): `error` is `vote` and `path` \
         names the question as `[q]`.",
        Some(context),
        cases,
    );
    if let J::Obj(m) = &mut f {
        let at = m.iter().position(|(k, _)| k == "cases").unwrap_or(m.len());
        m.insert(at, ("mixed_context".to_owned(), mixed_context));
    }
    f
}

/// The mixed election of ballot.json (issue #8): its context, valid ballots, broken ballots and
/// refused votes. Drawn from its own seed, so that the plurality cases keep their bytes.
fn mixed_ballot_cases() -> (J, Vec<J>) {
    let mut rng = rng_from_seed(0x5EED_0016);
    let built = build_election(
        &mut rng,
        "vectors-mixed-ballot",
        "Mixed ballot vectors",
        "Plurality with a blank vote, Schulze 1 to 4 of 4, STV 0 to 3 of 5, majority judgment of \
         3 on 4 grades.",
        vec![
            question("Adopt the budget?", &["Yes", "No"], 1, 1, true),
            ranked(
                Counting::Schulze,
                "Rank the logos",
                &["Owl", "Fox", "Heron", "Lynx"],
                1,
                4,
                None,
            ),
            ranked(
                Counting::Stv,
                "Elect two delegates",
                &["Ana", "Bo", "Chen", "Dia", "Eli"],
                0,
                3,
                Some(2),
            ),
            graded(
                "Grade the projects",
                &["Library", "Garden", "Bridge"],
                &["Excellent", "Good", "Fair", "Poor"],
            ),
        ],
        &["Trustee 1", "Trustee 2"],
        WeightPolicy::Equal,
        RevotePolicy::LastCounts,
    );
    let e = &built.election;
    let id = e.manifest().id.clone();
    let voters: Vec<Credential> = (0..2).map(|_| random_credential(&mut rng)).collect();
    let secrets: Vec<Scalar> = voters.iter().map(|c| credential_secret(c, &id)).collect();
    let publics: Vec<Point> = voters.iter().map(|c| *c.derive_key(&id).public()).collect();
    let context = obj! {
        "manifest" => J::of(e.manifest()),
        "fingerprint" => b64(&e.fingerprint().0),
        "election_key" => pt(e.key().point()),
        "voters" => J::Arr(voters.iter().zip(&publics).map(|(c, x)| obj! {
            "credential" => c.display().to_string(),
            "public_credential" => pt(x),
        }).collect()),
    };
    use QuestionVote::{Blank, Graded, Ranked, Selected};
    let votes: Vec<(&str, usize, Vec<QuestionVote>, &str)> = vec![
        (
            "mixed_a",
            0,
            vec![
                Selected(vec![0]),
                Ranked(vec![2, 1, 4, 3]),
                Ranked(vec![0, 1, 0, 2, 0]),
                Graded(vec![0, 3, 1]),
            ],
            "Yes; the logos ranked Fox, Owl, Lynx, Heron; Bo then Dia; Library excellent, \
             Garden poor, Bridge good",
        ),
        (
            "mixed_b",
            1,
            vec![
                Blank,
                Ranked(vec![0, 0, 1, 0]),
                Ranked(vec![0, 0, 0, 0, 0]),
                Graded(vec![2, 2, 2]),
            ],
            "a blank vote; only Heron ranked (min 1); no delegate ranked (min 0: an abstention \
             on that question); every project fair",
        ),
        (
            "mixed_c",
            0,
            vec![
                Selected(vec![1]),
                Ranked(vec![4, 3, 2, 1]),
                Ranked(vec![3, 0, 1, 0, 2]),
                Graded(vec![3, 0, 0]),
            ],
            "No; the logos in reverse; three delegates ranked, the most allowed; the first \
             project poor, the others excellent",
        ),
    ];
    let mut cases = Vec::new();
    let mut bases = Vec::new();
    for (i, (name, voter, vote, comment)) in votes.iter().enumerate() {
        let rand = BallotRandomness::draw(&mut rng, e, vote);
        let b = create_ballot(e, &voters[*voter], vote, &rand);
        let mut fields = obj! {
            "context" => "mixed_context",
            "voter" => *voter,
            "vote" => vote_json(vote),
            "randomness" => rand.json(),
            "ballot" => J::of(&b),
            "tracker" => b64(&b.tracker().0),
        };
        if i == 0 {
            let mut body = Items::new(tags::TRACKER);
            body_items(&b, &mut body);
            fields.extend(obj! {"body_items" => body.items_json()});
        }
        cases.push(case("ballot", name, comment, true, fields));
        bases.push(b);
    }

    let base = &bases[0];
    let base_j = J::of(base);
    let mut invalid: Vec<(&str, &str, J, &str, &str)> = Vec::new();
    let mut typed = |name: &'static str,
                     comment: &'static str,
                     error: &'static str,
                     path: &'static str,
                     resign_it: bool,
                     f: &mut dyn FnMut(&mut Ballot, &mut ChaCha20Rng)| {
        let mut b = base.clone();
        f(&mut b, &mut rng);
        if resign_it {
            resign(&mut rng, &mut b, &secrets[0]);
        }
        invalid.push((name, comment, J::of(&b), error, path));
    };
    // A mixed answer whose ciphertexts encrypt `plain` and whose range proofs claim `claims`,
    // over `allowed`, except answer `narrow`'s, over 0 and 1 only (a dishonest booth).
    let forge = |rng: &mut ChaCha20Rng,
                 qi: usize,
                 plain: &[u64],
                 claims: &[usize],
                 allowed: &[Vec<u64>],
                 narrow: Option<usize>| {
        let fp = &e.fingerprint().0;
        let y = e.key().point();
        let choices: Vec<(Ciphertext, Scalar)> = plain
            .iter()
            .map(|&m| {
                let r = random_scalar(rng);
                (Ciphertext::encrypt(e.key(), m, &r), r)
            })
            .collect();
        let choice_proofs = choices
            .iter()
            .zip(claims)
            .enumerate()
            .map(|(ai, ((ct, r), &claim))| {
                let prefix = choice_items(fp, y, &publics[0], qi as u64, ai as u64, ct);
                DisjunctiveProof::prove(
                    rng,
                    e.key(),
                    prefix.hasher(),
                    if narrow == Some(ai) {
                        &allowed[..2]
                    } else {
                        allowed
                    },
                    &Witness {
                        branch: claim,
                        randomness: std::slice::from_ref(r),
                    },
                    1,
                )
            })
            .collect();
        EncryptedAnswer {
            choices: choices.iter().map(|(c, _)| *c).collect(),
            choice_proofs,
            blank: None,
            count_proof: None,
        }
    };
    let range = |b: u64| (0..=b).map(|v| vec![v]).collect::<Vec<_>>();
    typed(
        "rejects_count_proof_on_ranking",
        "the plurality question's count proof copied onto the Schulze question, which has none",
        "V-5",
        "answers[1].count_proof",
        true,
        &mut |b, _| b.answers[1].count_proof = b.answers[0].count_proof.clone(),
    );
    typed(
        "rejects_count_proof_on_grades",
        "a count proof on the majority-judgment question",
        "V-5",
        "answers[3].count_proof",
        true,
        &mut |b, _| b.answers[3].count_proof = b.answers[0].count_proof.clone(),
    );
    typed(
        "rejects_missing_count_proof_beside_rankings",
        "the plurality question without its count proof: mixed questions beside it change \
         nothing for it",
        "V-5",
        "answers[0].count_proof",
        true,
        &mut |b, _| b.answers[0].count_proof = None,
    );
    typed(
        "rejects_blank_on_ranking",
        "a blank flag on the STV question, which allows no blank vote",
        "V-5",
        "answers[2].blank",
        true,
        &mut |b, _| b.answers[2].blank = b.answers[0].blank,
    );
    typed(
        "rejects_rank_above_max",
        "the Schulze question's third answer encrypts 5 (max 4) under a range proof claiming 4; \
         the other answers are honest",
        "V-9",
        "answers[1].choice_proofs[2]",
        true,
        &mut |b, rng| b.answers[1] = forge(rng, 1, &[2, 1, 5, 3], &[2, 1, 4, 3], &range(4), None),
    );
    typed(
        "rejects_grade_above_best",
        "the first project's grade encrypts 4 where the best is 3, under a range proof claiming 3",
        "V-9",
        "answers[3].choice_proofs[0]",
        true,
        &mut |b, rng| b.answers[3] = forge(rng, 3, &[4, 0, 2], &[3, 0, 2], &range(3), None),
    );
    typed(
        "rejects_plurality_proof_on_ranking",
        "an STV answer ranked 1 with a proof over 0 and 1 only, as for plurality: the range \
         proof of a ranking has max + 1 branches",
        "V-9",
        "answers[2].choice_proofs[1]",
        true,
        &mut |b, rng| {
            b.answers[2] = forge(
                rng,
                2,
                &[0, 1, 0, 2, 0],
                &[0, 1, 0, 2, 0],
                &range(3),
                Some(1),
            )
        },
    );
    typed(
        "rejects_grade_proof_missing_branch",
        "a grade's range proof without its last branch",
        "V-9",
        "answers[3].choice_proofs[1]",
        true,
        &mut |b, _| {
            b.answers[3].choice_proofs[1].branches.pop();
        },
    );
    typed(
        "rejects_changed_rank_response",
        "a ranking's range proof response plus one",
        "V-9",
        "answers[1].choice_proofs[3]",
        true,
        &mut |b, _| {
            let z = &mut b.answers[1].choice_proofs[3].branches[2].z[0];
            *z = bump(z);
        },
    );
    typed(
        "rejects_changed_mixed_body",
        "a grade's ciphertext and range proof replaced by a fresh honest pair, not signed again: \
         every proof verifies, but the signature covers the mixed answers too",
        "V-8",
        "signature",
        false,
        &mut |b, rng| {
            let fresh = forge(rng, 3, &[3, 0, 2], &[3, 0, 2], &range(3), None);
            b.answers[3].choices[0] = fresh.choices[0];
            b.answers[3].choice_proofs[0] = fresh.choice_proofs[0].clone();
        },
    );
    let base_fields = obj! {"ballot" => base_j};
    for (name, comment, j, error, path) in invalid {
        let mut fields = patched("mixed_a", &base_fields, &obj! {"ballot" => j}, error);
        fields.extend(obj! {"path" => path});
        cases.push(case("ballot", name, comment, false, fields));
    }

    // Votes a booth refuses before encrypting: each is mixed_a's vote with one question changed.
    let refused: Vec<(&str, &str, usize, QuestionVote)> = vec![
        (
            "rejects_vote_repeated_rank",
            "rank 1 given twice",
            1,
            Ranked(vec![1, 1, 2, 0]),
        ),
        (
            "rejects_vote_rank_gap",
            "ranks 1 and 3 without 2",
            1,
            Ranked(vec![1, 3, 0, 0]),
        ),
        (
            "rejects_vote_rank_above_answers",
            "rank 5 of 4 answers",
            1,
            Ranked(vec![1, 2, 3, 5]),
        ),
        (
            "rejects_vote_nothing_ranked",
            "no answer ranked where min is 1",
            1,
            Ranked(vec![0; 4]),
        ),
        (
            "rejects_vote_too_many_ranked",
            "4 answers ranked where max is 3",
            2,
            Ranked(vec![1, 2, 3, 4, 0]),
        ),
        (
            "rejects_vote_short_ranking",
            "3 ranks for 4 answers",
            1,
            Ranked(vec![1, 2, 3]),
        ),
        (
            "rejects_vote_selection_on_ranking",
            "a selection on a ranked question",
            1,
            Selected(vec![0]),
        ),
        (
            "rejects_vote_blank_on_ranking",
            "a blank vote on a ranked question",
            2,
            Blank,
        ),
        (
            "rejects_vote_grades_on_ranking",
            "grades on a ranked question",
            1,
            Graded(vec![0, 0, 0, 0]),
        ),
        (
            "rejects_vote_ranks_on_plurality",
            "ranks on a plurality question",
            0,
            Ranked(vec![1, 0]),
        ),
        (
            "rejects_vote_missing_grade",
            "2 grades for 3 answers",
            3,
            Graded(vec![0, 1]),
        ),
        (
            "rejects_vote_grade_out_of_range",
            "grade position 4 of 4 grades",
            3,
            Graded(vec![0, 4, 1]),
        ),
        (
            "rejects_vote_ranks_on_grades",
            "ranks on a graded question",
            3,
            Ranked(vec![1, 2, 3]),
        ),
    ];
    for (name, comment, qi, v) in refused {
        let mut vote = votes[0].2.clone();
        vote[qi] = v;
        let key = voters[0].derive_key(&id);
        match Ballot::create(&mut rng, e, &key, &vote) {
            Err(err) => assert_eq!(vote_error_question(&err), Some(qi), "{name}: {err}"),
            Ok(_) => panic!("{name}: the vote was not refused"),
        }
        cases.push(case(
            "vote",
            name,
            comment,
            false,
            obj! {
                "context" => "mixed_context",
                "voter" => 0usize,
                "vote" => vote_json(&vote),
                "error" => "vote",
                "path" => format!("[{qi}]"),
            },
        ));
    }
    (context, cases)
}

/// The question a refused vote names (None when the vote has the wrong number of questions).
pub fn vote_error_question(e: &urne_core::ballot::VoteError) -> Option<usize> {
    use urne_core::ballot::VoteError;
    match e {
        VoteError::Questions { .. } => None,
        VoteError::Answer { question, .. }
        | VoteError::Count { question, .. }
        | VoteError::Blank { question }
        | VoteError::Kind { question, .. }
        | VoteError::Values { question, .. } => Some(*question),
    }
}

// ------------------------------------------------------------------------------------------------
// tally.json

fn tally() -> J {
    let mut rng = rng_from_seed(0x5EED_0007);
    let built = build_election(
        &mut rng,
        "vectors-tally",
        "Tally vectors",
        "",
        vec![
            question("One of three", &["Oak", "Elm", "Ash"], 1, 1, false),
            question("One of two, or blank", &["Yes", "No"], 1, 1, true),
        ],
        &["Trustee 1", "Trustee 2"],
        WeightPolicy::Weighted,
        RevotePolicy::LastCounts,
    );
    let e = &built.election;
    let id = e.manifest().id.clone();
    use QuestionVote::{Blank, Selected};
    let votes: Vec<(u64, Vec<QuestionVote>)> = vec![
        (1, vec![Selected(vec![0]), Selected(vec![1])]),
        (2, vec![Selected(vec![2]), Blank]),
        (5, vec![Selected(vec![0]), Selected(vec![0])]),
        (1, vec![Selected(vec![1]), Blank]),
    ];
    let mut ballots = Vec::new();
    let mut credentials = Vec::new();
    for (w, vote) in &votes {
        let c = random_credential(&mut rng);
        let key = c.derive_key(&id);
        let b = Ballot::create(&mut rng, e, &key, vote).expect("valid vote");
        credentials.push(obj! {"credential" => pt(key.public()), "weight" => *w});
        ballots.push(b);
    }
    let accumulate = |weights: &[u64]| -> (EncryptedTally, u64) {
        let mut acc = TallyAccumulator::new(e);
        for (b, w) in ballots.iter().zip(weights) {
            acc.add(b, *w);
        }
        (acc.finish(), acc.total_weight())
    };
    let weights: Vec<u64> = votes.iter().map(|(w, _)| *w).collect();
    let (tally, total) = accumulate(&weights);
    let partials: Vec<_> = built
        .trustees
        .iter()
        .enumerate()
        .map(|(i, t)| t.decrypt_tally(&mut rng, e, i as u32 + 1, &tally))
        .collect();
    let result = decrypt_result(e, &tally, &partials, total).expect("decrypts");
    let context = obj! {
        "manifest" => J::of(e.manifest()),
        "fingerprint" => b64(&e.fingerprint().0),
        "credentials" => J::Arr(credentials),
        "ballots" => J::Arr(ballots.iter().zip(&votes).map(|(b, (_, v))| obj! {
            "vote" => vote_json(v),
            "ballot" => J::of(b),
        }).collect()),
        "total_weight" => total,
    };
    let fields = |t: &EncryptedTally,
                  p: &[urne_core::tally::PartialDecryption],
                  r: &urne_core::tally::ElectionResult| {
        obj! {
            "encrypted_tally" => J::of(t),
            "partial_decryptions" => J::of(&p),
            "result" => J::of(r),
        }
    };
    let base = fields(&tally, &partials, &result);
    let mut cases = vec![case(
        "tally",
        "tally_valid",
        "the weighted tally, both trustees' factors and the result",
        true,
        base.clone(),
    )];
    let mut bad = |name: &str,
                   comment: &str,
                   error: &str,
                   item: &str,
                   f: &dyn Fn(
        &mut EncryptedTally,
        &mut Vec<urne_core::tally::PartialDecryption>,
        &mut urne_core::tally::ElectionResult,
    )| {
        let (mut t, mut p, mut r) = (tally.clone(), partials.clone(), result.clone());
        f(&mut t, &mut p, &mut r);
        let mut j = patched("tally_valid", &base, &fields(&t, &p[..], &r), error);
        j.extend(obj! {"item" => item});
        cases.push(case("tally", name, comment, false, j));
    };
    let (wrong_weight_tally, _) = accumulate(&[1, 2, 4, 1]);
    bad(
        "rejects_tally_with_wrong_weight",
        "the encrypted tally counts the third ballot with weight 4 instead of 5",
        "V-14",
        "encrypted_tally",
        &|t, _, _| *t = wrong_weight_tally.clone(),
    );
    bad(
        "rejects_wrong_factor",
        "trustee 2's second factor replaced by D + G",
        "V-15",
        "trustee 2 factor 1",
        &|_, p, _| p[1].factors[1].factor = add_g(&p[1].factors[1].factor),
    );
    bad(
        "rejects_wrong_factor_response",
        "trustee 1's last factor's response plus one",
        "V-15",
        "trustee 1 factor 4",
        &|_, p, _| p[0].factors[4].z = bump(&p[0].factors[4].z),
    );
    bad(
        "rejects_swapped_factors",
        "trustee 1's first two factors swapped: each proof binds its ciphertext",
        "V-15",
        "trustee 1 factor 0",
        &|_, p, _| p[0].factors.swap(0, 1),
    );
    bad(
        "rejects_missing_factor",
        "trustee 2 gives one factor fewer than there are tally ciphertexts",
        "V-15",
        "trustee 2",
        &|_, p, _| {
            p[1].factors.pop();
        },
    );
    bad(
        "rejects_unknown_trustee",
        "factors from a trustee index the manifest does not have",
        "V-15",
        "trustee 3",
        &|_, p, _| p[1].trustee = 3,
    );
    bad(
        "rejects_missing_trustee",
        "only trustee 1's factors: every trustee is needed",
        "V-16",
        "trustee 2",
        &|_, p, _| {
            p.pop();
        },
    );
    bad(
        "rejects_repeated_trustee",
        "trustee 1's factors twice, trustee 2's missing",
        "V-16",
        "trustee 1",
        &|_, p, _| p[1] = p[0].clone(),
    );
    bad(
        "rejects_wrong_count",
        "the first answer's count plus one",
        "V-17",
        "result value 0",
        &|_, _, r| r.questions[0].counts[0] += 1,
    );
    bad(
        "rejects_wrong_blank_count",
        "the blank count minus one",
        "V-17",
        "result value 5",
        &|_, _, r| {
            if let Some(b) = &mut r.questions[1].blank {
                *b -= 1;
            }
        },
    );
    bad(
        "rejects_swapped_counts",
        "two counts swapped: the totals still add up",
        "V-17",
        "result value 0",
        &|_, _, r| r.questions[0].counts.swap(0, 2),
    );
    bad(
        "rejects_result_without_blank",
        "the result omits the blank count of a question that allows blank votes",
        "V-17",
        "result",
        &|_, _, r| r.questions[1].blank = None,
    );

    file(
        "The tally (spec §8) of the election in `context`: its manifest, the public credentials \
         with their weights, four verified ballots (in credential order) and the total weight. \
         The encrypted tally holds, per question, the weighted sum Σ w·C of each answer's choice \
         ciphertexts and, where blank votes are allowed, of the blank flags. Each trustee's \
         partial decryption gives one factor D = s·α with its Chaum–Pedersen proof (as in \
         proofs.json) per tally ciphertext, in the order: per question, its choices then its \
         blank flag. The result is the counts with count·G = β − Σ D. Each case gives \
         `encrypted_tally`, `partial_decryptions` and `result`; an invalid one gives the `error` \
         (`V-14` the tally is not the weighted sum of the ballots, `V-15` a factor or its proof \
         is wrong, `V-16` the set of trustees is wrong, `V-17` the result is not the decryption) \
         and the `item` urne names. Where several checks fail (a tally with a wrong weight also \
         fails V-15, an unknown trustee index also V-16), the lowest check id is recorded.",
        Some(context),
        cases,
    )
}
