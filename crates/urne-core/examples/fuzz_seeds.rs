//! Writes the seed inputs of the fuzz targets: valid documents of the fixed fuzzing election
//! (`urne_core::fuzzing::fixture`) and hand-made invalid variants of them, one file each, into
//! `fuzz/corpus/<target>/`.
//!
//! ```text
//! cargo run -p urne-core --features testkit --example fuzz_seeds [-- OUT_DIR]
//! ```
//!
//! Everything is derived from fixed seeds, so a run writes the same files every time. Valid
//! ballots and factors are made for the fixture's election, so that the fuzzer starts from inputs
//! that reach the verification equations rather than stopping at the fingerprint check.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use curve25519_dalek::ristretto::RistrettoPoint;
use serde::Serialize;
use serde_json::{Value, json};
use urne_core::Scalar;
use urne_core::credential::Credential;
use urne_core::fuzzing::fixture;
use urne_core::group::{G, Point, b64_encode};
use urne_core::manifest::WeightPolicy;
use urne_core::testkit::{ElectionBuilder, rng_from_seed};

/// Writes the seeds of one target.
struct Seeds {
    dir: PathBuf,
    count: usize,
}

impl Seeds {
    fn new(root: &Path, target: &str) -> io::Result<Self> {
        let dir = root.join(target);
        fs::create_dir_all(&dir)?;
        Ok(Seeds { dir, count: 0 })
    }

    fn put(&mut self, name: &str, data: impl AsRef<[u8]>) -> io::Result<()> {
        self.count += 1;
        fs::write(self.dir.join(format!("seed-{name}")), data)
    }

    /// Writes `v` as compact JSON.
    fn json(&mut self, name: &str, v: &Value) -> io::Result<()> {
        self.put(&format!("{name}.json"), v.to_string())
    }
}

fn to_value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("protocol objects serialize")
}

/// A copy of `v` with the value at JSON pointer `at` replaced (or added, in an object).
fn with(v: &Value, at: &str, new: Value) -> Value {
    let mut v = v.clone();
    let (parent, key) = at.rsplit_once('/').expect("pointers start with /");
    match v.pointer_mut(parent) {
        Some(Value::Object(o)) => {
            o.insert(key.to_owned(), new);
        }
        Some(Value::Array(a)) => {
            let i: usize = key.parse().expect("array index");
            a[i] = new;
        }
        _ => panic!("no container at {parent}"),
    }
    v
}

/// A copy of `v` without the field at `at`.
fn without(v: &Value, at: &str) -> Value {
    let mut v = v.clone();
    let (parent, key) = at.rsplit_once('/').expect("pointers start with /");
    if let Some(Value::Object(o)) = v.pointer_mut(parent) {
        o.remove(key);
    }
    v
}

/// The fields of `v` as a JSON array in the given order: the positional form that serde's
/// derived structs also accept.
fn positional(v: &Value, fields: &[&str]) -> Value {
    Value::Array(fields.iter().map(|f| v[*f].clone()).collect())
}

/// `text` with a second copy of its first field put in front: a duplicate key.
fn duplicate_first_key(text: &str) -> String {
    let end = text[1..].find(",\"").expect("an object with two fields") + 1;
    format!("{{{},{}", &text[1..end], &text[1..])
}

/// Writes the shared malformed documents: cut short, nested too deep, not JSON.
fn malformed(seeds: &mut Seeds, valid: &str) -> io::Result<()> {
    seeds.put("truncated-half.json", &valid[..valid.len() / 2])?;
    seeds.put("truncated-last.json", &valid[..valid.len() - 1])?;
    seeds.put("trailing-garbage.json", format!("{valid} x"))?;
    seeds.put("two-documents.json", format!("{valid}{valid}"))?;
    seeds.put("empty.json", "")?;
    seeds.put("null.json", "null")?;
    seeds.put("deep-arrays.json", "[".repeat(1000) + &"]".repeat(1000))?;
    seeds.put(
        "deep-objects.json",
        "{\"a\":".repeat(500) + "1" + &"}".repeat(500),
    )?;
    let mut bytes = valid.as_bytes().to_vec();
    bytes[valid.len() / 3] = 0xff;
    seeds.put("not-utf8.json", bytes)
}

/// The 32-byte encoding of the group order ℓ: the smallest non-canonical scalar.
fn order_bytes() -> [u8; 32] {
    let mut l = (-Scalar::ONE).to_bytes();
    l[0] += 1;
    l
}

/// 32 bytes that are not a valid ristretto255 encoding (a negative field element).
fn bad_point() -> String {
    let mut b = [0u8; 32];
    b[0] = 1;
    b64_encode(&b)
}

fn point_of(n: u64) -> String {
    Point::from_element(RistrettoPoint::mul_base(&Scalar::from(n))).to_string()
}

fn ballots(root: &Path) -> io::Result<usize> {
    let fx = fixture();
    let mut s = Seeds::new(root, "ballot")?;
    for (i, b) in fx.ballots.iter().enumerate() {
        s.put(&format!("valid-{i}.json"), b.to_json())?;
    }
    let text = fx.ballots[0].to_json();
    let b = to_value(&fx.ballots[0]);
    let pretty = serde_json::to_string_pretty(&b).expect("serializes");
    s.put("valid-pretty.json", pretty)?;
    s.json("valid-sorted-keys", &b)?;
    s.put(
        "valid-escaped-strings.json",
        text.replace("urne/ballot/v1", "urne\\/ballot\\/v\\u0031"),
    )?;
    let fields = ["format", "election", "credential", "answers", "signature"];
    s.json("positional", &positional(&b, &fields))?;
    s.json("blank-null", &with(&b, "/answers/0/blank", Value::Null))?;
    s.put("duplicate-key.json", duplicate_first_key(&text))?;
    malformed(&mut s, &text)?;

    s.json(
        "wrong-format",
        &with(&b, "/format", json!("urne/ballot/v2")),
    )?;
    s.json("wrong-type-answers", &with(&b, "/answers", json!("x")))?;
    s.json("wrong-type-election", &with(&b, "/election", json!(7)))?;
    s.json("wrong-type-signature", &with(&b, "/signature", json!([])))?;
    s.json("missing-signature", &without(&b, "/signature"))?;
    s.json("extra-field", &with(&b, "/extra", json!(1)))?;
    s.json(
        "extra-field-answer",
        &with(&b, "/answers/0/extra", json!(1)),
    )?;
    s.json(
        "extra-field-branch",
        &with(&b, "/answers/0/count_proof/0/extra", json!(1)),
    )?;
    s.json(
        "extra-field-signature",
        &with(&b, "/signature/extra", json!(1)),
    )?;
    s.put(
        "huge-number.json",
        text.replacen(&format!("\"{}\"", fx.ballots[0].election), "1e400", 1),
    )?;
    s.put(
        "huge-integer.json",
        text.replacen(
            &format!("\"{}\"", fx.ballots[0].credential),
            "18446744073709551616",
            1,
        ),
    )?;

    s.json(
        "invalid-point-credential",
        &with(&b, "/credential", json!(bad_point())),
    )?;
    s.json(
        "identity-credential",
        &with(&b, "/credential", json!(b64_encode(&[0; 32]))),
    )?;
    s.json(
        "short-credential",
        &with(&b, "/credential", json!(b64_encode(&[7; 31]))),
    )?;
    s.json(
        "padded-base64-credential",
        &with(
            &b,
            "/credential",
            json!(format!("{}=", fx.ballots[0].credential)),
        ),
    )?;
    s.json(
        "noncanonical-scalar-signature",
        &with(&b, "/signature/s", json!(b64_encode(&order_bytes()))),
    )?;
    s.json(
        "other-election",
        &with(&b, "/election", json!(b64_encode(&[9; 32]))),
    )?;
    s.json(
        "tampered-signature",
        &with(
            &b,
            "/signature/s",
            json!(b64_encode(Scalar::from(5u64).as_bytes())),
        ),
    )?;
    s.json(
        "tampered-choice",
        &with(&b, "/answers/0/choices/0/alpha", json!(point_of(3))),
    )?;
    s.json(
        "tampered-count-challenge",
        &with(
            &b,
            "/answers/0/count_proof/0/c",
            json!(b64_encode(Scalar::ONE.as_bytes())),
        ),
    )?;
    s.json("missing-blank", &without(&b, "/answers/1/blank"))?;
    let q2 = b["answers"][1]["blank"].clone();
    s.json("unexpected-blank", &with(&b, "/answers/0/blank", q2))?;
    let a0 = b["answers"][0].clone();
    s.json("answers-swapped", &with(&b, "/answers/1", a0.clone()))?;
    s.json(
        "too-many-answers",
        &with(&b, "/answers", json!([a0.clone(), a0.clone(), a0])),
    )?;
    s.json("no-answers", &with(&b, "/answers", json!([])))?;
    s.json("choice-missing", &with(&b, "/answers/0/choices", json!([])))?;
    s.json(
        "branches-missing",
        &with(&b, "/answers/0/count_proof", json!([])),
    )?;
    Ok(s.count)
}

fn manifests(root: &Path) -> io::Result<usize> {
    let fx = fixture();
    let mut s = Seeds::new(root, "manifest")?;
    let m = fx.election().manifest();
    let text = m.to_json();
    s.put("valid-fixture.json", &text)?;
    let mut rng = rng_from_seed(7);
    let others = [
        ElectionBuilder::single_question("weighted-3", 5, 1, 3)
            .weights(WeightPolicy::Weighted)
            .trustees(3),
        ElectionBuilder::single_question("one-trustee", 2, 0, 1),
        ElectionBuilder::single_question("many", 4, 2, 4)
            .question(3, 1, 1, true)
            .question(6, 0, 6, false)
            .trustees(2),
    ];
    for b in &others {
        let setup = b.build(&mut rng);
        let m = setup.election.manifest();
        s.put(&format!("valid-{}.json", m.id), m.to_json())?;
    }
    let v = to_value(m);
    s.put(
        "valid-pretty.json",
        serde_json::to_string_pretty(&v).expect("serializes"),
    )?;
    s.json("valid-sorted-keys", &v)?;
    s.json(
        "valid-unicode-text",
        &with(
            &v,
            "/title",
            json!("Wahl \u{e9}\u{2603} \"quoted\" \\ \u{1F5F3}"),
        ),
    )?;
    let fields = [
        "format",
        "id",
        "title",
        "description",
        "questions",
        "weights",
        "revote",
        "opens_at",
        "closes_at",
        "trustees",
        "threshold",
        "public_key",
    ];
    s.json("positional", &positional(&v, &fields))?;
    s.put("duplicate-key.json", duplicate_first_key(&text))?;
    malformed(&mut s, &text)?;

    s.json(
        "wrong-format",
        &with(&v, "/format", json!("urne/manifest/v2")),
    )?;
    s.json("extra-field", &with(&v, "/extra", json!(null)))?;
    s.json(
        "extra-field-question",
        &with(&v, "/questions/0/extra", json!(1)),
    )?;
    s.json(
        "extra-field-trustee",
        &with(&v, "/trustees/0/extra", json!(1)),
    )?;
    s.json("wrong-type-questions", &with(&v, "/questions", json!({})))?;
    s.json("wrong-type-threshold", &with(&v, "/threshold", json!("2")))?;
    s.json(
        "huge-threshold",
        &with(&v, "/threshold", json!(4_294_967_296u64)),
    )?;
    s.json("negative-threshold", &with(&v, "/threshold", json!(-1)))?;
    s.json("float-threshold", &with(&v, "/threshold", json!(2.0)))?;
    s.put(
        "huge-float-min.json",
        text.replacen("\"min\":1", "\"min\":1e400", 1),
    )?;
    s.json("wrong-threshold", &with(&v, "/threshold", json!(1)))?;
    s.json("min-above-max", &with(&v, "/questions/0/min", json!(3)))?;
    s.json("max-zero", &with(&v, "/questions/0/max", json!(0)))?;
    s.json("max-above-answers", &with(&v, "/questions/0/max", json!(4)))?;
    s.json("blank-min-zero", &with(&v, "/questions/1/min", json!(0)))?;
    s.json("no-questions", &with(&v, "/questions", json!([])))?;
    s.json("no-answers", &with(&v, "/questions/0/answers", json!([])))?;
    s.json(
        "duplicate-answer",
        &with(&v, "/questions/0/answers/1", json!("Answer 1")),
    )?;
    s.json(
        "blank-answer",
        &with(&v, "/questions/0/answers/1", json!("  ")),
    )?;
    s.json(
        "counting-unknown",
        &with(&v, "/questions/0/counting", json!("borda")),
    )?;
    s.json("weights-unknown", &with(&v, "/weights", json!("by-age")))?;
    s.json("revote-forbidden", &with(&v, "/revote", json!("forbidden")))?;
    s.json("id-bad-character", &with(&v, "/id", json!("fuzz fixture")))?;
    s.json("id-too-long", &with(&v, "/id", json!("x".repeat(65))))?;
    s.json("title-empty", &with(&v, "/title", json!("")))?;
    s.json(
        "closes-before-opens",
        &with(&v, "/closes_at", json!("2025-01-01T00:00:00Z")),
    )?;
    for (name, t) in [
        ("offset", "2026-01-02T21:00:00+01:00"),
        ("lowercase", "2026-01-02t20:00:00z"),
        ("fraction", "2026-01-02T20:00:00.5Z"),
        ("leap-second", "2026-12-31T23:59:60Z"),
        ("year-zero", "0000-01-01T00:00:00Z"),
        ("year-9999", "9999-12-31T23:59:59Z"),
        ("not-a-date", "2026-02-30T00:00:00Z"),
    ] {
        s.json(&format!("time-{name}"), &with(&v, "/closes_at", json!(t)))?;
    }
    s.json(
        "time-year-zero-opens",
        &with(&v, "/opens_at", json!("0000-01-01T00:00:00Z")),
    )?;
    s.json(
        "identity-key",
        &with(&v, "/public_key", json!(b64_encode(&[0; 32]))),
    )?;
    s.json(
        "invalid-point-key",
        &with(&v, "/public_key", json!(bad_point())),
    )?;
    s.json("key-not-sum", &with(&v, "/public_key", json!(point_of(5))))?;
    s.json(
        "trustee-identity-key",
        &with(&v, "/trustees/0/public_key", json!(b64_encode(&[0; 32]))),
    )?;
    let t0 = v["trustees"][0].clone();
    s.json("trustee-repeated", &with(&v, "/trustees/1", t0))?;
    let k0 = v["trustees"][0]["public_key"].clone();
    s.json(
        "trustee-key-repeated",
        &with(&v, "/trustees/1/public_key", k0),
    )?;
    s.json(
        "trustee-name-repeated",
        &with(&v, "/trustees/1/name", json!("Trustee 1")),
    )?;
    s.json(
        "trustee-renamed",
        &with(&v, "/trustees/1/name", json!("Mallory")),
    )?;
    s.json(
        "trustee-bad-proof",
        &with(
            &v,
            "/trustees/0/key_proof/s",
            json!(b64_encode(Scalar::from(9u64).as_bytes())),
        ),
    )?;
    Ok(s.count)
}

fn credentials(root: &Path) -> io::Result<usize> {
    let mut s = Seeds::new(root, "credential")?;
    let mut rng = rng_from_seed(11);
    let creds: Vec<Credential> = (0..4).map(|_| Credential::generate(&mut rng)).collect();
    for (i, c) in creds.iter().enumerate() {
        s.put(&format!("valid-{i}.txt"), c.display().as_bytes())?;
    }
    let shown = creds[0].display().to_string();
    let plain = shown.replace('-', "");
    s.put("valid-lowercase.txt", shown.to_lowercase())?;
    s.put("valid-spaces.txt", shown.replace('-', " "))?;
    s.put("valid-no-dashes.txt", &plain)?;
    s.put(
        "valid-extra-separators.txt",
        format!(" -{}- ", shown.replace('-', "--")),
    )?;
    for (i, c) in creds.iter().enumerate() {
        let lookalikes = c.display().replace('0', "o").replace('1', "I");
        s.put(
            &format!("valid-lookalikes-{i}.txt"),
            lookalikes.replace('I', "l"),
        )?;
    }
    let mut typo = plain.clone().into_bytes();
    typo[3] = if typo[3] == b'2' { b'3' } else { b'2' };
    s.put("typo.txt", typo)?;
    s.put("too-short.txt", &plain[..29])?;
    s.put("too-long.txt", format!("{plain}0"))?;
    s.put("letter-u.txt", format!("U{}", &plain[1..]))?;
    s.put("non-ascii.txt", format!("\u{e9}{}", &plain[1..]))?;
    s.put("tab.txt", shown.replace('-', "\t"))?;
    s.put("empty.txt", "")?;
    s.put("dashes.txt", "-".repeat(40))?;
    s.put("repeated.txt", plain.repeat(100))?;
    s.put(
        "not-utf8.txt",
        [&plain.as_bytes()[..10], &[0xff], &plain.as_bytes()[11..]].concat(),
    )?;
    Ok(s.count)
}

fn tallies(root: &Path) -> io::Result<usize> {
    let fx = fixture();
    let mut s = Seeds::new(root, "tally")?;
    let t = to_value(&fx.tally);
    let p1 = to_value(&fx.partials[0]);
    let p2 = to_value(&fx.partials[1]);
    let r = to_value(&fx.result);
    s.json("valid-tally", &t)?;
    s.json("valid-partial-1", &p1)?;
    s.json("valid-partial-2", &p2)?;
    s.json("valid-result", &r)?;
    s.put(
        "valid-result-pretty.json",
        serde_json::to_string_pretty(&r).expect("serializes"),
    )?;
    s.json("positional-result", &json!([r["questions"]]))?;
    s.json("positional-partial", &json!([p1["trustee"], p1["factors"]]))?;
    malformed(&mut s, &t.to_string())?;
    s.put("duplicate-key.json", "{\"questions\":[],\"questions\":[]}")?;

    let count = r["questions"][0]["counts"][0].as_u64().expect("a count");
    s.json(
        "result-wrong-count",
        &with(&r, "/questions/0/counts/0", json!(count + 1)),
    )?;
    s.json(
        "result-max-count",
        &with(&r, "/questions/0/counts/0", json!(u64::MAX)),
    )?;
    s.put(
        "result-huge-count.json",
        r.to_string()
            .replacen(&format!("[{count},"), "[18446744073709551616,", 1),
    )?;
    s.json(
        "result-negative-count",
        &with(&r, "/questions/0/counts/0", json!(-1)),
    )?;
    s.json(
        "result-float-count",
        &with(&r, "/questions/0/counts/0", json!(1.0)),
    )?;
    s.json("result-missing-blank", &without(&r, "/questions/1/blank"))?;
    s.json(
        "result-blank-null",
        &with(&r, "/questions/1/blank", Value::Null),
    )?;
    s.json(
        "result-extra-blank",
        &with(&r, "/questions/0/blank", json!(0)),
    )?;
    s.json("result-no-questions", &json!({"questions": []}))?;
    s.json("result-extra-field", &with(&r, "/total", json!(3)))?;

    s.json("partial-trustee-0", &with(&p1, "/trustee", json!(0)))?;
    s.json("partial-trustee-3", &with(&p1, "/trustee", json!(3)))?;
    s.json(
        "partial-trustee-huge",
        &with(&p1, "/trustee", json!(4_294_967_296u64)),
    )?;
    s.json("partial-other-trustee", &with(&p1, "/trustee", json!(2)))?;
    let mut fewer = p1.clone();
    if let Some(Value::Array(f)) = fewer.pointer_mut("/factors") {
        f.pop();
    }
    s.json("partial-fewer-factors", &fewer)?;
    s.json("partial-factors-empty", &with(&p1, "/factors", json!([])))?;
    s.json(
        "partial-bad-factor",
        &with(&p1, "/factors/0/factor", json!(point_of(2))),
    )?;
    s.json(
        "partial-bad-response",
        &with(&p1, "/factors/0/z", json!(b64_encode(&order_bytes()))),
    )?;
    s.json(
        "partial-extra-field",
        &with(&p1, "/factors/0/extra", json!(1)),
    )?;

    s.json(
        "tally-extra-field",
        &with(&t, "/questions/0/extra", json!(1)),
    )?;
    s.json("tally-missing-blank", &without(&t, "/questions/1/blank"))?;
    let q0 = t["questions"][0].clone();
    s.json(
        "tally-extra-question",
        &json!({"questions": [q0.clone(), t["questions"][1], q0]}),
    )?;
    s.json(
        "tally-invalid-point",
        &with(&t, "/questions/0/choices/0/beta", json!(bad_point())),
    )?;
    s.json(
        "tally-other-ciphertext",
        &with(&t, "/questions/0/choices/0/beta", json!(point_of(1))),
    )?;
    Ok(s.count)
}

fn points_and_scalars(root: &Path) -> io::Result<usize> {
    let mut s = Seeds::new(root, "point_scalar")?;
    let g = Point::from_element(G);
    let multiples: Vec<u8> = (1..=3u64)
        .flat_map(|n| {
            Point::from_element(RistrettoPoint::mul_base(&Scalar::from(n)))
                .as_bytes()
                .to_vec()
        })
        .collect();
    // 2^255 − 19 = p: a field element that is not reduced.
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let mut negative = [0u8; 32];
    negative[0] = 1;
    s.put("generator.bin", g.as_bytes())?;
    s.put("identity.bin", [0u8; 32])?;
    s.put("multiples.bin", &multiples)?;
    s.put("order.bin", order_bytes())?;
    s.put("order-minus-one.bin", (-Scalar::ONE).to_bytes())?;
    s.put("field-modulus.bin", p)?;
    s.put("negative-field-element.bin", negative)?;
    s.put("all-ones.bin", [0xffu8; 32])?;
    s.put("short.bin", [7u8; 31])?;
    s.put("long.bin", [7u8; 33])?;
    s.put("text-generator.txt", g.to_string())?;
    s.put("text-padded.txt", format!("{g}="))?;
    s.put("text-standard-alphabet.txt", "ab+/")?;
    s.put("text-trailing-bits.txt", "AB")?;
    s.put("text-one-byte.txt", "AA")?;
    s.put("text-order.txt", b64_encode(&order_bytes()))?;
    s.put(
        "text-order-minus-one.txt",
        b64_encode(&(-Scalar::ONE).to_bytes()),
    )?;
    s.put("text-invalid-point.txt", bad_point())?;
    s.put("text-whitespace.txt", format!(" {g}\n"))?;
    s.put("text-short.txt", b64_encode(&[7u8; 31]))?;
    Ok(s.count)
}

fn shuffles(root: &Path) -> io::Result<usize> {
    let sf = urne_core::fuzzing::shuffle_fixture();
    let mut s = Seeds::new(root, "shuffle")?;
    let p = to_value(&sf.proof);
    s.json("valid-proof", &p)?;
    s.put(
        "valid-proof-pretty.json",
        serde_json::to_string_pretty(&p).expect("serializes"),
    )?;
    s.json("extra-field", &with(&p, "/extra", json!(1)))?;
    s.json("missing-s1", &without(&p, "/s1"))?;
    s.json("short-commitments", &{
        let mut q = p.clone();
        q["permutation_commitments"]
            .as_array_mut()
            .expect("an array")
            .pop();
        q
    })?;
    s.json("long-responses", &{
        let mut q = p.clone();
        let first = q["s_hat"][0].clone();
        q["s_hat"].as_array_mut().expect("an array").push(first);
        q
    })?;
    s.json("empty-vectors", &{
        let mut q = p.clone();
        for k in [
            "permutation_commitments",
            "chain_commitments",
            "t_hat",
            "s_hat",
            "s_prime",
            "t4",
            "s4",
        ] {
            q[k] = json!([]);
        }
        q
    })?;
    s.json("swapped-t", &{
        let mut q = p.clone();
        let t1 = q["t1"].clone();
        q["t1"] = q["t2"].clone();
        q["t2"] = t1;
        q
    })?;
    s.json("bad-point", &with(&p, "/t3", json!(bad_point())))?;
    s.json(
        "unreduced-scalar",
        &with(&p, "/s1", json!(b64_encode(&[0xff; 32]))),
    )?;
    malformed(&mut s, &p.to_string())?;
    Ok(s.count)
}

fn main() -> io::Result<()> {
    let root = std::env::args_os().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus"),
        PathBuf::from,
    );
    for (target, write) in [
        ("ballot", ballots as fn(&Path) -> io::Result<usize>),
        ("manifest", manifests),
        ("credential", credentials),
        ("tally", tallies),
        ("point_scalar", points_and_scalars),
        ("shuffle", shuffles),
    ] {
        let n = write(&root)?;
        println!("{target}: {n} seeds in {}", root.join(target).display());
    }
    Ok(())
}
