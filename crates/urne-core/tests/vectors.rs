//! The JSON test vectors of test-vectors/, checked case by case against urne-core.
//!
//! Each file gets one test that reads every case and checks it the way another implementation
//! would: a valid case must be accepted with exactly the recorded outputs, an invalid one
//! rejected with the recorded error kind, check id and path. The hash inputs the vectors show
//! (proof prefixes, ballot items) are rebuilt here from the spec, independently of the generator,
//! and tied to urne-core's private ones through proofs that only verify if they agree.
//!
//! A last test renders every file with the generator (examples/gen_vectors.rs, included below as
//! a module) and compares it byte for byte with the committed file, so the files cannot drift
//! from the code. To regenerate after an intended change:
//!
//! ```text
//! cargo run --release -p urne-core --features testkit --example gen_vectors -- test-vectors
//! ```

#![allow(non_snake_case)] // A, B, R, X, Y are points, as in the spec.

use std::fmt;
use std::path::{Path, PathBuf};

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};
use subtle::Choice;

use urne_core::ballot::{Ballot, QuestionVote, count_allowed};
use urne_core::credential::{Credential, CredentialError, PublicCredential, check_credential_list};
use urne_core::election::Election;
use urne_core::elgamal::{Ciphertext, ElectionKey};
use urne_core::error::DecodeError;
use urne_core::group::{Point, b64_decode, b64_encode, scalar_decode};
use urne_core::hash::{ItemHasher, generator, tags};
use urne_core::manifest::{Counting, Manifest, Question, trustee_key_proof_prefix};
use urne_core::proofs::ProofError;
use urne_core::proofs::decryption::DecryptionFactor;
use urne_core::proofs::disjunctive::{Branch, DisjunctiveProof};
use urne_core::proofs::schnorr::SchnorrProof;
use urne_core::tally::{
    ElectionResult, EncryptedTally, PartialDecryption, TallyAccumulator, decrypt_result,
    vartime_verify_partial, vartime_verify_result,
};
use urne_core::testkit::rng_from_seed;

/// The generator, for the drift test. Its `main` and its binary-only helpers are unused here.
#[allow(dead_code)]
#[path = "../examples/gen_vectors.rs"]
mod gen_vectors;

// ------------------------------------------------------------------------------------------------
// Running cases.

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors")
}

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

/// Why a case was rejected: an error kind (or check id) and, where the vectors record one, the
/// field and value that locate it ("path", "item", "position", "found").
#[derive(Debug, Clone, PartialEq)]
struct Rejection {
    error: String,
    at: Option<(&'static str, Value)>,
}

impl Rejection {
    fn new(error: impl Into<String>) -> Self {
        Rejection {
            error: error.into(),
            at: None,
        }
    }
    fn at(error: impl Into<String>, key: &'static str, v: impl Into<Value>) -> Self {
        Rejection {
            error: error.into(),
            at: Some((key, v.into())),
        }
    }
    /// An output differs from the recorded one: never a recorded error kind.
    fn mismatch(what: impl fmt::Display) -> Self {
        Rejection::new(format!("MISMATCH: {what}"))
    }
}

type Outcome = Result<(), Rejection>;

fn same<T: PartialEq + fmt::Debug>(what: &str, recorded: T, computed: T) -> Outcome {
    if recorded == computed {
        Ok(())
    } else {
        Err(Rejection::mismatch(format!(
            "{what}: recorded {recorded:?}, computed {computed:?}"
        )))
    }
}

fn ensure(ok: bool, what: &str) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(Rejection::mismatch(what))
    }
}

/// Compares an outcome with what the case records.
fn judge(case: &Value, outcome: Outcome) -> Result<(), String> {
    let valid = case["valid"]
        .as_bool()
        .expect("every case says whether it is valid");
    match (valid, outcome) {
        (true, Ok(())) => Ok(()),
        (true, Err(r)) => Err(format!("valid case rejected: {r:?}")),
        (false, Ok(())) => Err("invalid case accepted".into()),
        (false, Err(r)) => {
            let error = case["error"]
                .as_str()
                .expect("invalid cases name their error");
            if r.error != error {
                return Err(format!("expected error {error}, got {r:?}"));
            }
            for key in ["path", "item", "position", "found"] {
                let recorded = case.get(key);
                let computed = r.at.as_ref().filter(|(k, _)| *k == key).map(|(_, v)| v);
                if recorded != computed {
                    return Err(format!(
                        "{error}: recorded {key} {recorded:?}, computed {computed:?}"
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Fields of a valid case that are outputs or secrets of that case, not inputs of the cases
/// derived from it by a patch.
const OUTPUTS: [&str; 7] = [
    "witness",
    "nonces",
    "nonce",
    "randomness",
    "tracker",
    "body_items",
    "fingerprint_items",
];

/// The inputs of a case: itself, or the case named by its `base` changed by its `patch`.
fn resolve(cases: &[Value], case: &Value) -> Value {
    let Some(base) = case.get("base") else {
        return case.clone();
    };
    let base = cases
        .iter()
        .find(|c| c["name"] == *base)
        .unwrap_or_else(|| panic!("no base case {base}"));
    assert!(
        base.get("base").is_none(),
        "bases are not patched themselves"
    );
    let mut inputs = apply_patch(base, &case["patch"]);
    inputs["name"] = case["name"].clone();
    // The base's outputs and secrets describe the base, not the changed inputs.
    let obj = inputs.as_object_mut().expect("a case is an object");
    for key in OUTPUTS {
        obj.remove(key);
    }
    inputs
}

/// RFC 6902 operations replace, add and remove.
fn apply_patch(doc: &Value, patch: &Value) -> Value {
    let mut doc = doc.clone();
    for op in patch.as_array().expect("a patch is an array") {
        let path = op["path"].as_str().expect("op path");
        let (parent, last) = path.rsplit_once('/').expect("a pointer below the root");
        let kind = op["op"].as_str().expect("op name");
        if kind == "replace" {
            *doc.pointer_mut(path).expect("replaced value exists") = op["value"].clone();
            continue;
        }
        let target = doc.pointer_mut(parent).expect("parent exists");
        match (kind, target) {
            ("add", Value::Object(m)) => {
                m.insert(last.to_owned(), op["value"].clone());
            }
            ("add", Value::Array(v)) => {
                let i = if last == "-" {
                    v.len()
                } else {
                    last.parse().expect("index")
                };
                v.insert(i, op["value"].clone());
            }
            ("remove", Value::Object(m)) => {
                m.remove(last).expect("removed key exists");
            }
            ("remove", Value::Array(v)) => {
                v.remove(last.parse::<usize>().expect("index"));
            }
            (k, _) => panic!("unsupported patch operation {k} at {path}"),
        }
    }
    doc
}

/// Checks every case of `file` with `check` and fails listing every case that misbehaves.
fn run_file(file: &str, check: impl Fn(&Value, &[Value], &Value) -> Outcome) {
    let root = load(file);
    assert_eq!(root["format"], "urne/test-vectors/v1", "{file}: format");
    assert!(
        root["description"].as_str().is_some_and(|d| d.len() > 100),
        "{file}: description"
    );
    assert_eq!(root["generator"], gen_vectors::COMMAND, "{file}: generator");
    let cases = root["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10, "{file}: too few cases");
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for case in cases {
        let name = case["name"].as_str().expect("named case");
        assert!(names.insert(name), "{file}: case name {name} repeats");
        assert!(
            case["comment"].as_str().is_some_and(|c| !c.is_empty()),
            "{file}: {name} has no comment"
        );
        let inputs = resolve(cases, case);
        let outcome = check(&inputs, cases, &root);
        if let Err(e) = judge(case, outcome) {
            failures.push(format!("{file}: {name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------------------------------------------
// Decoding JSON values, with decoding failures as error kinds.

fn decode_kind(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Base64 => "bad_base64",
        DecodeError::Length { .. } => "wrong_length",
        DecodeError::InvalidPoint => "non_canonical_point",
        DecodeError::IdentityPoint => "identity_point",
        DecodeError::NonCanonicalScalar => "non_canonical_scalar",
    }
}

fn rej(e: DecodeError) -> Rejection {
    Rejection::new(decode_kind(&e))
}

fn proof_rej(e: ProofError) -> Rejection {
    Rejection::new(match e {
        ProofError::Shape { .. } => "shape",
        ProofError::ChallengeSum => "challenge_sum",
        ProofError::Equation => "equation",
        ProofError::Decode(d) => decode_kind(&d),
    })
}

fn text(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {v}"))
}

fn uint(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected an integer, found {v}"))
}

fn bytes(v: &Value) -> Result<Vec<u8>, Rejection> {
    b64_decode(text(v)).map_err(rej)
}

fn bytes32(v: &Value) -> Result<[u8; 32], Rejection> {
    let b = bytes(v)?;
    let found = b.len();
    b.try_into().map_err(|_| {
        rej(DecodeError::Length {
            expected: 32,
            found,
        })
    })
}

fn point(v: &Value) -> Result<Point, Rejection> {
    Point::decode(&bytes(v)?).map_err(rej)
}

fn scalar(v: &Value) -> Result<Scalar, Rejection> {
    scalar_decode(&bytes(v)?).map_err(rej)
}

fn points(v: &Value) -> Result<Vec<Point>, Rejection> {
    v.as_array().expect("array").iter().map(point).collect()
}

fn scalars(v: &Value) -> Result<Vec<Scalar>, Rejection> {
    v.as_array().expect("array").iter().map(scalar).collect()
}

fn ciphertext(v: &Value) -> Result<Ciphertext, Rejection> {
    Ok(Ciphertext {
        alpha: point(&v["alpha"])?,
        beta: point(&v["beta"])?,
    })
}

fn ciphertexts(v: &Value) -> Result<Vec<Ciphertext>, Rejection> {
    v.as_array()
        .expect("array")
        .iter()
        .map(ciphertext)
        .collect()
}

fn disjunctive(v: &Value) -> Result<DisjunctiveProof, Rejection> {
    let branches = v
        .as_array()
        .expect("a proof is a list of branches")
        .iter()
        .map(|b| {
            Ok(Branch {
                c: scalar(&b["c"])?,
                a: points(&b["a"])?,
                b: points(&b["b"])?,
                z: scalars(&b["z"])?,
            })
        })
        .collect::<Result<_, Rejection>>()?;
    Ok(DisjunctiveProof { branches })
}

fn schnorr(v: &Value) -> Result<SchnorrProof, Rejection> {
    Ok(SchnorrProof {
        r: point(&v["r"])?,
        s: scalar(&v["s"])?,
    })
}

fn election_key(v: &Value) -> Result<ElectionKey, Rejection> {
    ElectionKey::new(point(v)?).map_err(rej)
}

fn mul_g(s: &Scalar) -> Point {
    Point::from_element(RistrettoPoint::mul_base(s))
}

fn from_json<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("does not parse: {e}: {v}"))
}

// ------------------------------------------------------------------------------------------------
// Hash items, rebuilt from the spec (§3): every item is its length (8 bytes, big-endian) and its
// bytes; the vectors type them as str, u64, bytes_b64, point and scalar.

#[derive(Debug, Clone, PartialEq)]
struct Items {
    tag: String,
    items: Vec<Value>,
}

impl Items {
    fn new(tag: &str) -> Self {
        Items {
            tag: tag.into(),
            items: Vec::new(),
        }
    }
    fn push(&mut self, v: Value) -> &mut Self {
        self.items.push(v);
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.push(json!({ "str": s }))
    }
    fn u64(&mut self, n: u64) -> &mut Self {
        self.push(json!({ "u64": n }))
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.push(json!({ "bytes_b64": b64_encode(b) }))
    }
    fn point(&mut self, p: &Point) -> &mut Self {
        self.push(json!({ "point": p.to_string() }))
    }
    fn scalar(&mut self, s: &Scalar) -> &mut Self {
        self.push(json!({ "scalar": b64_encode(s.as_bytes()) }))
    }
    fn ct(&mut self, c: &Ciphertext) -> &mut Self {
        self.point(&c.alpha).point(&c.beta)
    }

    /// Reads a recorded {"tag", "items"} object.
    fn read(v: &Value) -> Self {
        Items {
            tag: text(&v["tag"]).into(),
            items: v["items"].as_array().expect("items").clone(),
        }
    }

    fn json(&self) -> Value {
        json!({ "tag": self.tag, "items": self.items })
    }

    /// The raw bytes of one typed item.
    fn raw(item: &Value) -> Vec<u8> {
        let obj = item.as_object().expect("an item is an object");
        assert_eq!(obj.len(), 1, "an item has one type: {item}");
        let (ty, v) = obj.iter().next().expect("one entry");
        match ty.as_str() {
            "str" => text(v).as_bytes().to_vec(),
            "u64" => uint(v).to_be_bytes().to_vec(),
            "bytes_b64" | "point" | "scalar" => b64_decode(text(v)).expect("item bytes"),
            other => panic!("unknown item type {other}"),
        }
    }

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

    fn hasher(&self) -> ItemHasher {
        let mut h = ItemHasher::new(&self.tag);
        for item in &self.items {
            h.bytes(&Self::raw(item));
        }
        h
    }
}

fn choice_prefix(fp: &[u8], y: &Point, x: &Point, q: u64, a: u64, ct: &Ciphertext) -> Items {
    let mut h = Items::new("urne/v1/ballot/choice-proof");
    h.bytes(fp).point(y).point(x).u64(q).u64(a).ct(ct);
    h
}

fn count_prefix(
    fp: &[u8],
    y: &Point,
    x: &Point,
    qi: u64,
    q: &Question,
    choices: &[Ciphertext],
    blank: Option<&Ciphertext>,
) -> Items {
    let mut h = Items::new("urne/v1/ballot/count-proof");
    h.bytes(fp).point(y).point(x).u64(qi);
    h.u64(q.min.into())
        .u64(q.max.into())
        .u64(q.blank.into())
        .u64(choices.len() as u64);
    for c in choices {
        h.ct(c);
    }
    if let Some(b) = blank {
        h.ct(b);
    }
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

/// A question with the given bounds, for count-proof statements.
fn bounds(answers: usize, min: u32, max: u32, blank: bool) -> Question {
    Question {
        text: "q".into(),
        answers: (0..answers).map(|i| i.to_string()).collect(),
        min,
        max,
        blank,
        counting: Counting::Plurality,
        seats: None,
        grades: None,
    }
}

/// Checks that recorded nonces reproduce a disjunctive proof: per branch j and ciphertext i,
/// A = t·G, B = t·Y − c_j·(m_real,i − m_j,i)·G, z = t + c_j·r_i, and each simulated challenge is
/// the recorded one (null for the real branch).
fn check_nonces(
    y: &Point,
    allowed: &[Vec<u64>],
    real: usize,
    randomness: &[Scalar],
    nonces: &Value,
    proof: &DisjunctiveProof,
) -> Outcome {
    let nonces = nonces.as_array().expect("nonces per branch");
    same("nonce branches", nonces.len(), proof.branches.len())?;
    for (j, (n, br)) in nonces.iter().zip(&proof.branches).enumerate() {
        if j == real {
            ensure(
                n["c"].is_null(),
                "the real branch has no simulated challenge",
            )?;
        } else {
            same("simulated challenge", scalar(&n["c"])?, br.c)?;
        }
        let ts = scalars(&n["t"])?;
        same("nonces per branch", ts.len(), randomness.len())?;
        for (i, t) in ts.iter().enumerate() {
            let d = Scalar::from(allowed[real][i]) - Scalar::from(allowed[j][i]);
            same("A = t·G", br.a[i], mul_g(t))?;
            let B = y.element() * t - RistrettoPoint::mul_base(&(br.c * d));
            same("B = t·Y − c·d·G", br.b[i], Point::from_element(B))?;
            same("z = t + c·r", br.z[i], t + br.c * randomness[i])?;
        }
    }
    Ok(())
}

/// A decimal integer below 2^256, as 32 little-endian bytes.
fn decimal_to_le(d: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for ch in d.bytes() {
        assert!(ch.is_ascii_digit(), "decimal digits only");
        let mut carry = u32::from(ch - b'0');
        for b in out.iter_mut() {
            let v = u32::from(*b) * 10 + carry;
            *b = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0, "below 2^256");
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ------------------------------------------------------------------------------------------------
// encoding.json

#[test]
fn encoding_vectors() {
    run_file("encoding.json", |c, _, _| {
        let kind = text(&c["kind"]);
        if kind == "base64" {
            let b = b64_decode(text(&c["text"])).map_err(rej)?;
            return same("hex", text(&c["hex"]), &hex(&b));
        }
        let b = bytes(&c["encoding"])?;
        match kind {
            "point" | "point_nonidentity" => {
                let p = if kind == "point" {
                    Point::decode(&b)
                } else {
                    Point::decode_nonidentity(&b)
                }
                .map_err(rej)?;
                same("hex", text(&c["hex"]), &hex(p.as_bytes()))?;
                same("round trip", text(&c["encoding"]), &p.to_string())?;
                let k = Option::<Scalar>::from(Scalar::from_canonical_bytes(decimal_to_le(text(
                    &c["k"],
                ))))
                .expect("k < ℓ");
                same("k·G", p, mul_g(&k))
            }
            "scalar" => {
                let s = scalar_decode(&b).map_err(rej)?;
                same("hex", text(&c["hex"]), &hex(s.as_bytes()))?;
                same("decimal", decimal_to_le(text(&c["decimal"])), s.to_bytes())
            }
            other => panic!("unknown kind {other}"),
        }
    });
}

// ------------------------------------------------------------------------------------------------
// hash.json

#[test]
fn hash_vectors() {
    let root = load("hash.json");
    let expected = json!({
        "MANIFEST": tags::MANIFEST,
        "GENERATOR": tags::GENERATOR,
        "CHOICE_PROOF": tags::CHOICE_PROOF,
        "COUNT_PROOF": tags::COUNT_PROOF,
        "BALLOT_SIGNATURE": tags::BALLOT_SIGNATURE,
        "TRACKER": tags::TRACKER,
        "CREDENTIAL_KEY": tags::CREDENTIAL_KEY,
        "CREDENTIAL_CHECKSUM": tags::CREDENTIAL_CHECKSUM,
        "TRUSTEE_KEY_PROOF": tags::TRUSTEE_KEY_PROOF,
        "DECRYPTION_PROOF": tags::DECRYPTION_PROOF,
    });
    assert_eq!(root["context"]["tags"], expected, "the domain tags");
    run_file("hash.json", |c, _, _| match text(&c["kind"]) {
        "items" => {
            let items = Items::read(c);
            let pre = items.preimage();
            same("preimage", text(&c["preimage_hex"]), &hex(&pre))?;
            let digest: [u8; 64] = Sha512::digest(&pre).into();
            same("digest", bytes(&c["digest"])?, digest.to_vec())?;
            same("ItemHasher digest", digest, items.hasher().digest())?;
            same(
                "challenge",
                scalar(&c["challenge"])?,
                items.hasher().challenge(),
            )?;
            same(
                "challenge = digest mod ℓ",
                Scalar::from_bytes_mod_order_wide(&digest),
                items.hasher().challenge(),
            )
        }
        "generator" => {
            let purpose = text(&c["purpose"]);
            let index = uint(&c["index"]);
            let mut h = ItemHasher::new(tags::GENERATOR);
            h.str(purpose).u64(index);
            let uniform = h.digest();
            same(
                "uniform bytes",
                bytes(&c["uniform_bytes"])?,
                uniform.to_vec(),
            )?;
            let p = point(&c["point"])?;
            same(
                "generator",
                p,
                Point::from_element(generator(purpose, index)),
            )?;
            same(
                "one-way map",
                p,
                Point::from_element(RistrettoPoint::from_uniform_bytes(&uniform)),
            )
        }
        other => panic!("unknown kind {other}"),
    });
}

// ------------------------------------------------------------------------------------------------
// credential.json

/// The checksum characters of spec §5.1, computed here from the description.
fn spec_checksum(data: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut h = ItemHasher::new(tags::CREDENTIAL_CHECKSUM);
    h.bytes(data.as_bytes());
    let d = h.digest();
    let bits = (u32::from(d[0]) << 12) | (u32::from(d[1]) << 4) | (u32::from(d[2]) >> 4);
    (0..4)
        .map(|i| ALPHABET[((bits >> (15 - 5 * i)) & 31) as usize] as char)
        .collect()
}

fn credential_rejection(e: CredentialError) -> Rejection {
    match e {
        CredentialError::Checksum => Rejection::new("checksum"),
        CredentialError::Character { position } => {
            Rejection::at("bad_character", "position", position)
        }
        CredentialError::Length { found, .. } => Rejection::at("wrong_length", "found", found),
    }
}

#[test]
fn credential_vectors() {
    run_file("credential.json", |c, _, _| {
        if c["kind"] == "credential_list" {
            return check_list_fingerprint(c);
        }
        let cred = Credential::parse(text(&c["text"])).map_err(credential_rejection)?;
        let canonical = text(&c["canonical"]);
        same("canonical", canonical, cred.display().as_str())?;
        let chars: String = canonical.chars().filter(|&ch| ch != '-').collect();
        same(
            "checksum",
            &chars[26..],
            spec_checksum(&chars[..26]).as_str(),
        )?;
        for k in c["keys"].as_array().expect("keys") {
            let id = text(&k["election_id"]);
            let mut h = ItemHasher::new(tags::CREDENTIAL_KEY);
            h.str(id).bytes(&chars.as_bytes()[..26]);
            let x = h.challenge();
            same("secret key", scalar(&k["secret_key"])?, x)?;
            let X = point(&k["public_credential"])?;
            same("X = x·G", X, mul_g(&x))?;
            same("derive_key", X, *cred.derive_key(id).public())?;
        }
        Ok(())
    });
}

/// A credential list's fingerprint (spec §5.4), rebuilt here from the spec's description.
fn check_list_fingerprint(c: &Value) -> Outcome {
    let list: Vec<PublicCredential> = from_json(&c["credentials"]);
    let mut entries: Vec<([u8; 32], u64)> = list
        .iter()
        .map(|e| (*e.credential.as_bytes(), e.weight))
        .collect();
    entries.sort();
    let mut h = ItemHasher::new("urne/v1/credential/list");
    h.u64(entries.len() as u64);
    for (x, w) in &entries {
        h.bytes(x).u64(*w);
    }
    let recorded = bytes32(&c["fingerprint"])?;
    same(
        "fingerprint from the spec",
        &recorded[..],
        &h.digest()[..32],
    )?;
    same(
        "list_fingerprint",
        recorded,
        urne_core::credential::list_fingerprint(&list).0,
    )
}

// ------------------------------------------------------------------------------------------------
// manifest.json

fn check_manifest(c: &Value) -> Outcome {
    let text = match c.get("manifest_text") {
        Some(t) => text(t).to_owned(),
        None => c["manifest"].to_string(),
    };
    if serde_json::from_str::<Manifest>(&text).is_err() {
        let e = Manifest::from_json(&text).expect_err("fails to parse");
        return Err(Rejection::at("format", "path", e.path));
    }
    let m = Manifest::from_json(&text).map_err(|e| Rejection::at("rule", "path", e.path))?;
    m.vartime_verify_trustee_keys()
        .map_err(|e| Rejection::at(e.check.id(), "path", e.item))?;
    let fp = m.fingerprint();
    same("fingerprint", bytes32(&c["fingerprint"])?, fp.0)?;
    let items = Items::read(&c["fingerprint_items"]);
    same("fingerprint items tag", items.tag.as_str(), tags::MANIFEST)?;
    same(
        "H(fingerprint items)",
        &items.hasher().digest()[..32],
        &fp.0[..],
    )?;
    let canonical: Value = serde_json::from_str(&m.to_json()).expect("JSON");
    same("canonical form", &c["manifest"], &canonical)
}

#[test]
fn manifest_vectors() {
    run_file("manifest.json", |c, _, _| check_manifest(c));
}

// ------------------------------------------------------------------------------------------------
// proofs.json

fn check_encryption(c: &Value) -> Outcome {
    let key = election_key(&c["election_key"])?;
    let m = uint(&c["message"]);
    let r = scalar(&c["randomness"])?;
    let ct = Ciphertext::encrypt(&key, m, &r);
    same("ciphertext", ciphertext(&c["ciphertext"])?, ct)?;
    same("α = r·G", ct.alpha, mul_g(&r))?;
    if m <= 1 {
        let bit = Ciphertext::encrypt_bit(&key, Choice::from(m as u8), &r);
        same("encrypt_bit", bit, ct)?;
    }
    Ok(())
}

fn allowed_of(v: &Value) -> Vec<Vec<u64>> {
    from_json(v)
}

fn check_choice_proof(c: &Value) -> Outcome {
    let fp = bytes32(&c["fingerprint"])?;
    let key = election_key(&c["election_key"])?;
    let x = point(&c["credential"])?;
    let ct = ciphertext(&c["ciphertext"])?;
    let (q, a) = (uint(&c["question"]), uint(&c["answer"]));
    let allowed = vec![vec![0], vec![1]];
    same("allowed", allowed_of(&c["allowed"]), allowed.clone())?;
    let prefix = choice_prefix(&fp, key.point(), &x, q, a, &ct);
    same("prefix", &c["prefix"], &prefix.json())?;
    let proof = disjunctive(&c["proof"])?;
    proof
        .vartime_verify(
            &mut rng_from_seed(1),
            &key,
            prefix.hasher(),
            &allowed,
            &[ct],
        )
        .map_err(proof_rej)?;
    if let Some(w) = c.get("witness") {
        let r = scalars(&w["randomness"])?;
        let m = uint(&w["plaintext"]);
        same(
            "ciphertext from witness",
            ct,
            Ciphertext::encrypt(&key, m, &r[0]),
        )?;
        let real = uint(&w["branch"]) as usize;
        check_nonces(key.point(), &allowed, real, &r, &c["nonces"], &proof)?;
    }
    Ok(())
}

fn check_count_proof(c: &Value) -> Outcome {
    let fp = bytes32(&c["fingerprint"])?;
    let key = election_key(&c["election_key"])?;
    let x = point(&c["credential"])?;
    let choices = ciphertexts(&c["choices"])?;
    let blank = c.get("blank_ciphertext").map(ciphertext).transpose()?;
    let min = uint(&c["min"]) as u32;
    let max = uint(&c["max"]) as u32;
    let q = bounds(choices.len(), min, max, c["blank"] == true);
    same("blank flag present", q.blank, blank.is_some())?;
    let allowed = count_allowed(&q);
    same("allowed", allowed_of(&c["allowed"]), allowed.clone())?;
    let statement: Vec<Ciphertext> = blank
        .into_iter()
        .chain([Ciphertext::sum(&choices)])
        .collect();
    same(
        "statement",
        ciphertexts(&c["statement"])?,
        statement.clone(),
    )?;
    let qi = uint(&c["question"]);
    let prefix = count_prefix(&fp, key.point(), &x, qi, &q, &choices, blank.as_ref());
    same("prefix", &c["prefix"], &prefix.json())?;
    let proof = disjunctive(&c["proof"])?;
    proof
        .vartime_verify(
            &mut rng_from_seed(2),
            &key,
            prefix.hasher(),
            &allowed,
            &statement,
        )
        .map_err(proof_rej)?;
    if let Some(w) = c.get("witness") {
        let rs = scalars(&w["choice_randomness"])?;
        let plain: Vec<u64> = from_json(&w["choice_plaintexts"]);
        for ((ct, m), r) in choices.iter().zip(&plain).zip(&rs) {
            same("choice from witness", *ct, Ciphertext::encrypt(&key, *m, r))?;
        }
        let mut randomness = Vec::new();
        if let Some(b) = &blank {
            let r = scalar(&w["blank_randomness"])?;
            let m = uint(&w["blank_plaintext"]);
            same("blank from witness", *b, Ciphertext::encrypt(&key, m, &r))?;
            randomness.push(r);
        }
        randomness.push(rs.iter().sum());
        same(
            "witness randomness",
            scalars(&w["randomness"])?,
            randomness.clone(),
        )?;
        let real = uint(&w["branch"]) as usize;
        let count: u64 = plain.iter().sum();
        let blank_m = w.get("blank_plaintext").map_or(0, uint);
        same("real branch", allowed[real].clone(), {
            let mut t: Vec<u64> = blank.map(|_| blank_m).into_iter().collect();
            t.push(count);
            t
        })?;
        check_nonces(
            key.point(),
            &allowed,
            real,
            &randomness,
            &c["nonces"],
            &proof,
        )?;
    }
    Ok(())
}

fn check_key_proof(c: &Value) -> Outcome {
    let id = text(&c["election_id"]);
    let index = uint(&c["trustee_index"]) as u32;
    let name = text(&c["trustee_name"]);
    let pk = point(&c["public_key"])?;
    let mut prefix = Items::new(tags::TRUSTEE_KEY_PROOF);
    prefix.str(id).u64(index.into()).str(name).point(&pk);
    same("prefix", &c["prefix"], &prefix.json())?;
    same(
        "prefix as urne-core builds it",
        prefix.hasher().digest(),
        trustee_key_proof_prefix(id, index, name, &pk).digest(),
    )?;
    let proof = schnorr(&c["proof"])?;
    proof
        .vartime_verify(&pk, prefix.hasher())
        .map_err(proof_rej)?;
    if let Some(w) = c.get("witness") {
        let x = scalar(&w["secret_key"])?;
        let k = scalar(&c["nonce"])?;
        same("X = x·G", pk, mul_g(&x))?;
        same("R = k·G", proof.r, mul_g(&k))?;
        let mut h = prefix.hasher();
        h.point(&proof.r);
        same("s = k + c·x", proof.s, k + h.challenge() * x)?;
    }
    Ok(())
}

fn check_decryption_factor(c: &Value) -> Outcome {
    let fp = bytes32(&c["fingerprint"])?;
    let vk = point(&c["verification_key"])?;
    let ct = ciphertext(&c["ciphertext"])?;
    let f = &c["decryption_factor"];
    let f = DecryptionFactor {
        factor: point(&f["factor"])?,
        a: point(&f["a"])?,
        b: point(&f["b"])?,
        z: scalar(&f["z"])?,
    };
    let mut prefix = Items::new(tags::DECRYPTION_PROOF);
    prefix.bytes(&fp).point(&vk).ct(&ct).point(&f.factor);
    same("prefix", &c["prefix"], &prefix.json())?;
    f.vartime_verify(&mut rng_from_seed(3), &fp, &vk, &ct)
        .map_err(proof_rej)?;
    // The same equations from the recorded prefix: ties it to urne-core's private one.
    let mut h = prefix.hasher();
    h.point(&f.a).point(&f.b);
    let ch = h.challenge();
    same(
        "z·G = A + c·V",
        mul_g(&f.z),
        Point::from_element(f.a.element() + vk.element() * ch),
    )?;
    same(
        "z·α = B + c·D",
        Point::from_element(ct.alpha.element() * f.z),
        Point::from_element(f.b.element() + f.factor.element() * ch),
    )?;
    if let Some(w) = c.get("witness") {
        let s = scalar(&w["secret_key"])?;
        let n = scalar(&c["nonce"])?;
        same("V = s·G", vk, mul_g(&s))?;
        same(
            "D = s·α",
            f.factor,
            Point::from_element(ct.alpha.element() * s),
        )?;
        same("A = w·G", f.a, mul_g(&n))?;
        same("B = w·α", f.b, Point::from_element(ct.alpha.element() * n))?;
        same("z = w + c·s", f.z, n + ch * s)?;
    }
    Ok(())
}

#[test]
fn proof_vectors() {
    run_file("proofs.json", |c, _, _| match text(&c["kind"]) {
        "encryption" => check_encryption(c),
        "choice_proof" => check_choice_proof(c),
        "count_proof" => check_count_proof(c),
        "key_proof" => check_key_proof(c),
        "decryption_factor" => check_decryption_factor(c),
        other => panic!("unknown kind {other}"),
    });
}

// ------------------------------------------------------------------------------------------------
// ballot.json

/// The election of a file's context, checked against the recorded fingerprint.
fn context_election(root: &Value) -> Election {
    context_election_at(root, "context")
}

/// The election of the file's field `key` (ballot.json's `context` or `mixed_context`).
fn context_election_at(root: &Value, key: &str) -> Election {
    let ctx = &root[key];
    let m = Manifest::from_json(&ctx["manifest"].to_string()).expect("the manifest parses");
    m.vartime_verify_trustee_keys().expect("V-3");
    let e = Election::new(m).expect("a valid election");
    let fp = bytes32(&ctx["fingerprint"]).expect("fingerprint");
    assert_eq!(fp, e.fingerprint().0, "context fingerprint");
    e
}

fn vote_of(v: &Value) -> Vec<QuestionVote> {
    v.as_array()
        .expect("a vote per question")
        .iter()
        .map(|q| {
            if q.get("blank") == Some(&Value::Bool(true)) {
                QuestionVote::Blank
            } else if let Some(r) = q.get("ranks") {
                QuestionVote::Ranked(from_json(r))
            } else if let Some(g) = q.get("grades") {
                QuestionVote::Graded(from_json(g))
            } else {
                QuestionVote::Selected(from_json(&q["selected"]))
            }
        })
        .collect()
}

/// Checks a valid ballot beyond urne-core's verification: every proof against the prefixes
/// rebuilt from the spec, the signature and tracker against the rebuilt items, and the recorded
/// randomness against every ciphertext, proof and the signature.
fn check_ballot_details(c: &Value, e: &Election, b: &Ballot, voter: &Credential) -> Outcome {
    let fp = &e.fingerprint().0;
    let y = e.key().point();
    let x = &b.credential;
    let id = &e.manifest().id;
    let vote = vote_of(&c["vote"]);
    let rand = &c["randomness"];
    let mut rng = rng_from_seed(4);
    for (qi, (q, a)) in e.manifest().questions.iter().zip(&b.answers).enumerate() {
        let qr = &rand["questions"][qi];
        let rs = scalars(&qr["choice_randomness"])?;
        let bits = spec_values(q, &vote[qi]);
        let is_blank = vote[qi] == QuestionVote::Blank;
        let allowed01 = spec_choice_allowed(q);
        for (ai, (ct, p)) in a.choices.iter().zip(&a.choice_proofs).enumerate() {
            same(
                "choice",
                *ct,
                Ciphertext::encrypt(e.key(), bits[ai], &rs[ai]),
            )?;
            let prefix = choice_prefix(fp, y, x, qi as u64, ai as u64, ct);
            p.vartime_verify(&mut rng, e.key(), prefix.hasher(), &allowed01, &[*ct])
                .map_err(|err| Rejection::mismatch(format!("choice proof, spec prefix: {err}")))?;
            let nonces = &qr["choice_proof_nonces"][ai];
            check_nonces(y, &allowed01, bits[ai] as usize, &rs[ai..=ai], nonces, p)?;
        }
        if q.counting != Counting::Plurality {
            ensure(
                a.count_proof.is_none() && qr.get("count_proof_nonces").is_none(),
                "a mixed question has no count proof and no count proof nonces",
            )?;
            continue;
        }
        let mut randomness = Vec::new();
        if let Some(bl) = &a.blank {
            let r = scalar(&qr["blank_randomness"])?;
            same(
                "blank",
                *bl,
                Ciphertext::encrypt(e.key(), is_blank.into(), &r),
            )?;
            randomness.push(r);
        }
        randomness.push(rs.iter().sum());
        let prefix = count_prefix(fp, y, x, qi as u64, q, &a.choices, a.blank.as_ref());
        let allowed = count_allowed(q);
        let statement: Vec<Ciphertext> = a
            .blank
            .into_iter()
            .chain([Ciphertext::sum(&a.choices)])
            .collect();
        let count_proof = a
            .count_proof
            .as_ref()
            .expect("a plurality question's count proof");
        count_proof
            .vartime_verify(&mut rng, e.key(), prefix.hasher(), &allowed, &statement)
            .map_err(|err| Rejection::mismatch(format!("count proof, spec prefix: {err}")))?;
        let count: u64 = bits.iter().sum();
        let tuple: Vec<u64> = if q.blank {
            vec![is_blank.into(), count]
        } else {
            vec![count]
        };
        let real = allowed
            .iter()
            .position(|t| *t == tuple)
            .ok_or_else(|| Rejection::mismatch("the vote is not an allowed tuple"))?;
        check_nonces(
            y,
            &allowed,
            real,
            &randomness,
            &qr["count_proof_nonces"],
            count_proof,
        )?;
    }
    let mut body = Items::new(tags::TRACKER);
    body_items(b, &mut body);
    if let Some(recorded) = c.get("body_items") {
        same("body items", recorded, &json!(body.items))?;
    }
    let mut sig = Items::new(tags::BALLOT_SIGNATURE);
    sig.bytes(fp).point(x);
    sig.items.extend(body.items.iter().cloned());
    b.signature
        .vartime_verify(x, sig.hasher())
        .map_err(|err| Rejection::mismatch(format!("signature, spec prefix: {err}")))?;
    let k = scalar(&rand["signature_nonce"])?;
    same("R = k·G", b.signature.r, mul_g(&k))?;
    let chars: String = voter.display().chars().filter(|&ch| ch != '-').collect();
    let mut h = ItemHasher::new(tags::CREDENTIAL_KEY);
    h.str(id).bytes(&chars.as_bytes()[..26]);
    let secret = h.challenge();
    let mut h = sig.hasher();
    h.point(&b.signature.r);
    same("s = k + c·x", b.signature.s, k + h.challenge() * secret)?;
    let mut tracker = body.hasher();
    tracker.point(&b.signature.r).scalar(&b.signature.s);
    same("tracker items", &tracker.digest()[..32], &b.tracker().0[..])?;
    Ok(())
}

/// The values of spec §6.3 that question `q`'s ciphertexts hold for vote `v`, from the spec: 1
/// for a selected answer, a rank (0 = not ranked), or g − 1 − position for a grade named by its
/// position in `grades` (0 = the best).
fn spec_values(q: &Question, v: &QuestionVote) -> Vec<u64> {
    let n = q.answers.len();
    match v {
        QuestionVote::Blank => vec![0; n],
        QuestionVote::Selected(s) => (0..n).map(|a| u64::from(s.contains(&a))).collect(),
        QuestionVote::Ranked(r) => r.iter().map(|&x| u64::from(x)).collect(),
        QuestionVote::Graded(g) => {
            let grades = q.grades.as_ref().map_or(0, Vec::len) as u64;
            g.iter().map(|&x| grades - 1 - u64::from(x)).collect()
        }
    }
}

/// The allowed values of a choice proof (spec §6.3), from the spec: 0 to B, B being 1 for
/// plurality, `max` for a ranking, g − 1 for g grades.
fn spec_choice_allowed(q: &Question) -> Vec<Vec<u64>> {
    let bound = match q.counting {
        Counting::Plurality => 1,
        Counting::Schulze | Counting::Stv => u64::from(q.max),
        Counting::MajorityJudgment => q.grades.as_ref().map_or(0, Vec::len) as u64 - 1,
    };
    (0..=bound).map(|v| vec![v]).collect()
}

/// The invalid ballots that fail more than one check, by design (ballot.json's description).
const SEVERAL_FAILURES: [&str; 2] = ["rejects_other_credential", "rejects_replaced_choice"];

/// Every check a ballot that parses fails, found here from the spec rather than by urne-core:
/// V-5 and V-6 by their rules (V-8 to V-10 are not checked on a ballot of the wrong shape), V-8,
/// V-9 and V-10 with the prefixes rebuilt above. Sorted by check id, then in ballot order, so the
/// first is what an order-independent verifier reports.
fn failing_checks(e: &Election, b: &Ballot) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let qs = &e.manifest().questions;
    if b.credential.is_identity() {
        out.push(("V-5", "credential".to_owned()));
    }
    if b.answers.len() != qs.len() {
        out.push(("V-5", "answers".to_owned()));
    } else {
        for (qi, (q, a)) in qs.iter().zip(&b.answers).enumerate() {
            if a.choices.len() != q.answers.len() {
                out.push(("V-5", format!("answers[{qi}].choices")));
            }
            if a.choice_proofs.len() != q.answers.len() {
                out.push(("V-5", format!("answers[{qi}].choice_proofs")));
            }
            if a.blank.is_some() != q.blank {
                out.push(("V-5", format!("answers[{qi}].blank")));
            }
            if a.count_proof.is_some() != (q.counting == Counting::Plurality) {
                out.push(("V-5", format!("answers[{qi}].count_proof")));
            }
        }
    }
    if b.election != *e.fingerprint() {
        out.push(("V-6", "election".to_owned()));
    }
    if out.iter().any(|(id, _)| *id == "V-5") {
        return out;
    }
    let fp = &e.fingerprint().0;
    let (y, x) = (e.key().point(), &b.credential);
    let mut sig = Items::new(tags::BALLOT_SIGNATURE);
    sig.bytes(&b.election.0).point(x);
    body_items(b, &mut sig);
    if b.signature.vartime_verify(x, sig.hasher()).is_err() {
        out.push(("V-8", "signature".to_owned()));
    }
    let mut rng = rng_from_seed(8);
    for (qi, (q, a)) in qs.iter().zip(&b.answers).enumerate() {
        let allowed01 = spec_choice_allowed(q);
        for (ai, (ct, p)) in a.choices.iter().zip(&a.choice_proofs).enumerate() {
            let prefix = choice_prefix(fp, y, x, qi as u64, ai as u64, ct);
            if p.vartime_verify(&mut rng, e.key(), prefix.hasher(), &allowed01, &[*ct])
                .is_err()
            {
                out.push(("V-9", format!("answers[{qi}].choice_proofs[{ai}]")));
            }
        }
        let Some(count_proof) = &a.count_proof else {
            continue;
        };
        let prefix = count_prefix(fp, y, x, qi as u64, q, &a.choices, a.blank.as_ref());
        let statement: Vec<Ciphertext> = a
            .blank
            .into_iter()
            .chain([Ciphertext::sum(&a.choices)])
            .collect();
        if count_proof
            .vartime_verify(
                &mut rng,
                e.key(),
                prefix.hasher(),
                &count_allowed(q),
                &statement,
            )
            .is_err()
        {
            out.push(("V-10", format!("answers[{qi}].count_proof")));
        }
    }
    let rank = |id: &str| id[2..].parse::<u32>().expect("V-n");
    out.sort_by_key(|(id, _)| rank(id));
    out
}

#[test]
fn ballot_vectors() {
    let root = load("ballot.json");
    // The file's elections: `context` for the plurality cases, `mixed_context` for the cases
    // that name it.
    let contexts: Vec<(&str, Election, Voters)> = ["context", "mixed_context"]
        .into_iter()
        .map(|key| {
            let e = context_election_at(&root, key);
            same(
                "election key",
                text(&root[key]["election_key"]),
                e.key().point().to_string().as_str(),
            )
            .expect("context election key");
            let voters = root[key]["voters"]
                .as_array()
                .expect("voters")
                .iter()
                .map(|v| {
                    let c = Credential::parse(text(&v["credential"])).expect("credential");
                    let x = *c.derive_key(&e.manifest().id).public();
                    assert_eq!(point(&v["public_credential"]).expect("point"), x);
                    (c, x)
                })
                .collect();
            (key, e, voters)
        })
        .collect();
    run_file("ballot.json", |c, _, _| {
        let key = c.get("context").map_or("context", text);
        let (_, e, voters) = contexts
            .iter()
            .find(|(k, _, _)| *k == key)
            .unwrap_or_else(|| panic!("no election {key}"));
        if c["kind"] == "vote" {
            return check_refused_vote(c, e, voters);
        }
        same("kind", "ballot", text(&c["kind"]))?;
        let b = Ballot::from_json(&c["ballot"].to_string())
            .map_err(|err| Rejection::at("parse", "path", err.path))?;
        let failing = failing_checks(e, &b);
        let verdict = b.vartime_verify(&mut rng_from_seed(5), e);
        let tracker = match (verdict, failing.first()) {
            (Ok(t), None) => t,
            (Err(err), Some((id, item))) => {
                let name = text(&c["name"]);
                same(
                    "urne-core's report",
                    (err.check.id(), err.item.as_str()),
                    (id, item),
                )?;
                if failing.len() > 1 && !SEVERAL_FAILURES.contains(&name) {
                    return Err(Rejection::mismatch(format!(
                        "fails several checks, so its expected error depends on the order: \
                         {failing:?}"
                    )));
                }
                return Err(Rejection::at(*id, "path", item.as_str()));
            }
            (verdict, first) => {
                return Err(Rejection::mismatch(format!(
                    "urne-core says {verdict:?}, the spec's checks find {first:?}"
                )));
            }
        };
        same("tracker", bytes32(&c["tracker"])?, tracker.0)?;
        let canonical: Value = serde_json::from_str(&b.to_json()).expect("JSON");
        same("canonical form", &c["ballot"], &canonical)?;
        let (voter, x) = &voters[uint(&c["voter"]) as usize];
        same("credential", *x, b.credential)?;
        check_ballot_details(c, e, &b, voter)
    });
}

/// A file's voters: each credential and its public credential.
type Voters = Vec<(Credential, Point)>;

/// A vote case: urne-core must refuse to make a ballot from it, naming the recorded question.
fn check_refused_vote(c: &Value, e: &Election, voters: &[(Credential, Point)]) -> Outcome {
    let (voter, _) = &voters[uint(&c["voter"]) as usize];
    let key = voter.derive_key(&e.manifest().id);
    match Ballot::create(&mut rng_from_seed(9), e, &key, &vote_of(&c["vote"])) {
        Ok(_) => Ok(()),
        Err(err) => {
            let path = gen_vectors::vote_error_question(&err)
                .map_or_else(|| ".".to_owned(), |q| format!("[{q}]"));
            Err(Rejection::at("vote", "path", path))
        }
    }
}

// ------------------------------------------------------------------------------------------------
// tally.json

#[test]
fn tally_vectors() {
    let root = load("tally.json");
    let e = context_election(&root);
    let ctx = &root["context"];
    let credentials: Vec<(Point, u64)> = ctx["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| (point(&c["credential"]).expect("point"), uint(&c["weight"])))
        .collect();
    let mut acc = TallyAccumulator::new(&e);
    let mut expected = ElectionResult {
        questions: e
            .manifest()
            .questions
            .iter()
            .map(|q| urne_core::tally::QuestionResult {
                counts: vec![0; q.answers.len()],
                blank: q.blank.then_some(0),
                mixed: None,
            })
            .collect(),
    };
    let ballots = ctx["ballots"].as_array().expect("ballots");
    assert_eq!(ballots.len(), credentials.len());
    for (entry, (x, w)) in ballots.iter().zip(&credentials) {
        let b = Ballot::from_json(&entry["ballot"].to_string()).expect("ballot parses");
        b.vartime_verify(&mut rng_from_seed(6), &e)
            .expect("ballot verifies");
        assert_eq!(b.credential, *x, "V-7: ballots are in credential order");
        acc.add(&b, *w);
        for (r, v) in expected.questions.iter_mut().zip(vote_of(&entry["vote"])) {
            match v {
                QuestionVote::Blank => *r.blank.as_mut().expect("blank allowed") += w,
                QuestionVote::Selected(s) => s.iter().for_each(|&a| r.counts[a] += w),
                QuestionVote::Ranked(_) | QuestionVote::Graded(_) => {
                    unreachable!("the vectors' elections are plurality")
                }
            }
        }
    }
    let total = uint(&ctx["total_weight"]);
    assert_eq!(total, acc.total_weight());
    let list: Vec<PublicCredential> = from_json(&ctx["credentials"]);
    let v4_total = check_credential_list(&list, e.manifest().weights).expect("V-4");
    assert_eq!(total, v4_total);
    assert_eq!(total, credentials.iter().map(|(_, w)| w).sum::<u64>());
    let recomputed = acc.finish();
    run_file("tally.json", |c, _, _| {
        let tally: EncryptedTally = from_json(&c["encrypted_tally"]);
        let partials: Vec<PartialDecryption> = from_json(&c["partial_decryptions"]);
        let result: ElectionResult = from_json(&c["result"]);
        if tally != recomputed {
            return Err(Rejection::at("V-14", "item", "encrypted_tally"));
        }
        let mut rng = rng_from_seed(7);
        for pd in &partials {
            vartime_verify_partial(&mut rng, &e, &tally, pd)
                .map_err(|err| Rejection::at(err.check.id(), "item", err.item))?;
        }
        vartime_verify_result(&e, &tally, &partials, &result)
            .map_err(|err| Rejection::at(err.check.id(), "item", err.item))?;
        let decrypted = decrypt_result(&e, &tally, &partials, total)
            .map_err(|err| Rejection::mismatch(format!("decryption: {err}")))?;
        same("decrypted result", &decrypted, &result)?;
        same("result from the plaintext votes", &expected, &result)
    });
}

// ------------------------------------------------------------------------------------------------
// The files are the generator's output.

#[test]
fn files_match_the_generator() {
    let rendered = gen_vectors::render_all();
    assert_eq!(rendered.len(), gen_vectors::FILES.len());
    for (name, text) in rendered {
        let path = vectors_dir().join(name);
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        assert!(
            on_disk == text,
            "{name} differs from what the generator writes now. If the change is intended, \
             regenerate with `{}` and review the diff.",
            gen_vectors::COMMAND
        );
    }
}

#[test]
fn every_vector_file_is_checked() {
    let mut on_disk: Vec<String> = std::fs::read_dir(vectors_dir())
        .expect("test-vectors/ exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut known: Vec<String> = gen_vectors::FILES.iter().map(|s| s.to_string()).collect();
    known.sort();
    assert_eq!(
        on_disk, known,
        "every JSON file of test-vectors/ has a test here"
    );
    assert!(vectors_dir().join("README.md").exists());
}
