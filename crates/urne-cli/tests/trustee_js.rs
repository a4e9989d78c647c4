//! The browser's trustee modules (web/src/urne/trustee.js, dkg.js, vault.js) work with the Rust
//! trustee (issue #7): secret files open both ways between `urne trustee` and the JS; a whole
//! 2-of-3 ceremony held by JS trustees is accepted by urne-core's judge, and their factors verify
//! (V-15) and decrypt; a bad share dealt by a JS trustee is found by the JS `complain`, and Rust
//! judges the complaint justified; and a mixed ceremony (two trustees with `urne trustee`, one in
//! JS, messages carried in the offline ceremony directory) gives every trustee the same key.
//!
//! A small node driver (below) plays the JS trustee in the files of the CLI's offline mode:
//! `trustee-I.public.json` and `trustee-I.secret` (and `.polynomial.secret`, `.share.secret`),
//! and `dealing-I.json`, `complaints-I.json`, `answers-I.json` in the ceremony directory, from
//! which it builds the view the server would relay (GET /api/v1/elections/{id}/ceremony).
//!
//! The test needs `node` and web/node_modules (`npm ci` in web/). Without them it is skipped with
//! a message, unless URNE_REQUIRE_NODE=1, where it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests unwrap what must succeed.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};
use urne_core::ceremony::{
    Answer, CeremonyOutcome, ComplaintMessage, Dealing, Disqualification, Ignored,
    vartime_judge_ceremony,
};
use urne_core::dkg::{Share, vartime_combine_factors};
use urne_core::dkg_transport::{ShareContext, Verdict};
use urne_core::election::Election;
use urne_core::elgamal::{Ciphertext, ElectionKey};
use urne_core::group::{Point, b64_encode, random_scalar};
use urne_core::manifest::TrusteePublic;
use urne_core::tally::{
    DlogTable, EncryptedTally, PartialDecryption, QuestionTally, vartime_verify_partial,
};
use urne_core::testkit::{ElectionBuilder, rng_from_seed};
use urne_core::trustee::TrusteeKey;
use urne_verify::record::TallyEntry;

#[path = "support/node.rs"]
mod node;

use node::run_driver;

const PASSPHRASE: &str = "correct horse battery staple";
const N: u32 = 3;
const T: u32 = 2;

/// The JS trustee, one step per run: reads a JSON request on stdin, writes a JSON answer.
const DRIVER: &str = r#"
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const web = process.argv[2];
const load = (m) => import(pathToFileURL(join(web, 'src/urne', m)).href);
const T = await load('trustee.js');
const D = await load('dkg.js');
const E = await load('encoding.js');
const P = await load('proofs.js');
const R = await load('random.js');

const req = JSON.parse(readFileSync(0, 'utf8'));
const kdf = { memory_kib: 1024, iterations: 3, parallelism: 1 };
const { dir, election: electionId, index } = req;
const pw = req.passphrase;
const file = (name) => join(dir, name);
const secretFile = (what) => file(what ? `trustee-${index}.${what}.secret` : `trustee-${index}.secret`);
const writeNew = (path, text) => writeFileSync(path, text, { flag: 'wx' });
const writeJson = (path, value) => writeNew(path, JSON.stringify(value, null, 2) + '\n');
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

function view() {
  const v = { trustees: req.trustees, threshold: req.threshold, ceremony: true, identities: [],
    dealings: [], complained: [], complaints: [], answered: [], answers: [] };
  for (let k = 1; k <= req.trustees; k++) {
    const pub = file(`trustee-${k}.public.json`);
    v.identities.push(existsSync(pub) ? readJson(pub) : null);
    if (existsSync(file(`dealing-${k}.json`))) v.dealings.push(readJson(file(`dealing-${k}.json`)));
    if (existsSync(file(`complaints-${k}.json`))) {
      v.complained.push(k);
      v.complaints.push(...readJson(file(`complaints-${k}.json`)));
    }
    if (existsSync(file(`answers-${k}.json`))) {
      v.answered.push(k);
      v.answers.push(...readJson(file(`answers-${k}.json`)));
    }
  }
  return v;
}

const identity = async () => T.openSecret(readFileSync(secretFile(), 'utf8'), T.SECRET_PURPOSE.identity, pw);
let out = {};
switch (req.step) {
  case 'identity': {
    const { secret, public: pub } = T.newIdentity({ electionId, index, name: req.name });
    writeNew(secretFile(), await T.sealSecret(T.SECRET_PURPOSE.identity, secret, pw, kdf));
    writeJson(file(`trustee-${index}.public.json`), pub);
    secret.fill(0);
    break;
  }
  case 'open': {
    const bytes = await T.openSecret(readFileSync(req.file, 'utf8'), req.purpose, pw);
    out = { hex: Buffer.from(bytes).toString('hex') };
    if (req.purpose === T.SECRET_PURPOSE.identity) {
      out.public = T.identityPublic(bytes, { electionId, index, name: req.name });
    }
    break;
  }
  case 'deal': {
    const secret = await identity();
    const v = view();
    const r = T.deal(v, { electionId, index, identitySecret: secret });
    if (req.bad) {
      // A dishonest dealer: the share for trustee `bad` is f(bad) + 1, and the dealing signed.
      const d = D.decodeDealing(r.dealing);
      const coefficients = D.polynomialFromBytes(r.polynomial);
      const j = req.bad;
      const Xj = E.decodePoint(v.identities[j - 1].public_key);
      const wrong = E.mod(D.evaluatePolynomial(coefficients, j) + 1n);
      d.shares[j - 1] = D.sealShare({ electionId, dealer: index, recipient: j }, wrong, Xj, R.randomScalar);
      const x = E.scalarFromBytes(secret);
      d.signature = P.proveSchnorr(D.dealingPrefix(electionId, E.mulSecret(E.G, x), d), x, R.randomScalar);
      r.dealing = D.encodeDealing(d);
    }
    writeNew(secretFile('polynomial'), await T.sealSecret(T.SECRET_PURPOSE.polynomial, r.polynomial, pw, kdf));
    writeJson(file(`dealing-${index}.json`), r.dealing);
    r.polynomial.fill(0);
    secret.fill(0);
    break;
  }
  case 'complain': {
    const secret = await identity();
    const r = T.complain(view(), { electionId, index, identitySecret: secret });
    writeJson(file(`complaints-${index}.json`), r.complaints);
    out = { report: r.report };
    secret.fill(0);
    break;
  }
  case 'answer': {
    const secret = await identity();
    const polynomial = await T.openSecret(readFileSync(secretFile('polynomial'), 'utf8'), T.SECRET_PURPOSE.polynomial, pw);
    const r = T.answer(view(), { electionId, index, identitySecret: secret, polynomial });
    writeJson(file(`answers-${index}.json`), r.answers);
    secret.fill(0);
    polynomial.fill(0);
    break;
  }
  case 'finalize': {
    const secret = await identity();
    const r = T.finalize(view(), { electionId, index, identitySecret: secret });
    writeNew(secretFile('share'), await T.sealSecret(T.SECRET_PURPOSE.share, r.share, pw, kdf));
    out = { outcome: r.outcome, status: T.ceremonyStatus(view(), index) };
    secret.fill(0);
    r.share.fill(0);
    break;
  }
  case 'decrypt': {
    const share = await T.openSecret(readFileSync(secretFile('share'), 'utf8'), T.SECRET_PURPOSE.share, pw);
    out = T.partialDecryption(readFileSync(req.tally, 'utf8'), {
      electionId, index, share, manifest: readFileSync(req.manifest, 'utf8'),
      verificationKey: req.verification_key,
    });
    share.fill(0);
    break;
  }
  default:
    throw new Error(`unknown step ${req.step}`);
}
process.stdout.write(JSON.stringify(out));
"#;

/// web/, when node and the JS dependencies are there (else the test is skipped, see above).
fn web() -> Option<PathBuf> {
    node::web("@noble/ciphers/package.json")
}

/// A ceremony directory, and the JS driver beside it.
struct Bench {
    web: PathBuf,
    dir: tempfile::TempDir,
    driver: PathBuf,
    election: String,
}

impl Bench {
    fn new(web: PathBuf, election: &str) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let driver = dir.path().join("driver.mjs");
        fs::write(&driver, DRIVER).unwrap();
        Bench {
            web,
            dir,
            driver,
            election: election.into(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs one step of JS trustee `index`; returns its answer, or stderr on failure.
    fn try_js(&self, step: &str, index: u32, extra: Value) -> Result<Value, String> {
        let mut req = json!({
            "step": step,
            "dir": self.dir.path(),
            "election": self.election,
            "index": index,
            "trustees": N,
            "threshold": T,
            "passphrase": PASSPHRASE,
        });
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        run_driver(&self.driver, &self.web, &req)
    }

    fn js(&self, step: &str, index: u32, extra: Value) -> Value {
        self.try_js(step, index, extra)
            .unwrap_or_else(|e| panic!("JS trustee {index}, step {step}: {e}"))
    }

    /// Runs `urne trustee CMD` for trustee `index` with the offline ceremony options.
    fn cli_with(&self, cmd: &str, index: u32, passphrase: &str, extra: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_urne"));
        c.args(["trustee", cmd, "--election", &self.election])
            .args(["--index", &index.to_string()])
            .env("URNE_PASSPHRASE", passphrase)
            .args(extra);
        c.output().unwrap()
    }

    fn cli(&self, cmd: &str, index: u32, extra: &[&str]) -> String {
        let out = self.cli_with(cmd, index, PASSPHRASE, extra);
        assert!(
            out.status.success(),
            "urne trustee {cmd} (trustee {index}) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A ceremony step of CLI trustee `index` in the offline mode.
    fn cli_step(&self, cmd: &str, index: u32) -> String {
        let secret = self.path(&format!("trustee-{index}.secret"));
        let publics: Vec<String> = (1..=N)
            .map(|k| {
                self.path(&format!("trustee-{k}.public.json"))
                    .display()
                    .to_string()
            })
            .collect();
        let mut args = vec![
            "--threshold".to_owned(),
            T.to_string(),
            "--secret".to_owned(),
            secret.display().to_string(),
            "--dir".to_owned(),
            self.dir.path().display().to_string(),
            "--kdf-memory-kib".to_owned(),
            "1024".to_owned(),
            "--trustees".to_owned(),
        ];
        args.extend(publics);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.cli(cmd, index, &args)
    }

    fn cli_identity(&self, index: u32) {
        let out = self.dir.path().display().to_string();
        self.cli(
            "new-identity",
            index,
            &[
                "--name",
                &format!("Trustee {index}"),
                "--out",
                &out,
                "--kdf-memory-kib",
                "1024",
            ],
        );
    }

    fn read<T: serde::de::DeserializeOwned>(&self, name: &str) -> T {
        let text = fs::read_to_string(self.path(name)).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn identities(&self) -> Vec<TrusteePublic> {
        (1..=N)
            .map(|k| self.read(&format!("trustee-{k}.public.json")))
            .collect()
    }

    /// The transcript in the directory, parsed by urne-core (which refuses unknown fields).
    fn transcript(&self) -> (Vec<Dealing>, Vec<ComplaintMessage>, Vec<Answer>) {
        let mut dealings = Vec::new();
        let mut complaints = Vec::new();
        let mut answers = Vec::new();
        for k in 1..=N {
            if self.path(&format!("dealing-{k}.json")).exists() {
                dealings.push(self.read(&format!("dealing-{k}.json")));
            }
            if self.path(&format!("complaints-{k}.json")).exists() {
                complaints
                    .extend(self.read::<Vec<ComplaintMessage>>(&format!("complaints-{k}.json")));
            }
            if self.path(&format!("answers-{k}.json")).exists() {
                answers.extend(self.read::<Vec<Answer>>(&format!("answers-{k}.json")));
            }
        }
        (dealings, complaints, answers)
    }
}

/// Judges the directory's ceremony with urne-core.
fn judge(b: &Bench) -> CeremonyOutcome {
    let ids: Vec<Point> = b.identities().iter().map(|t| t.public_key).collect();
    let (d, c, a) = b.transcript();
    vartime_judge_ceremony(&b.election, T, &ids, &d, &c, &a).expect("the ceremony has an outcome")
}

/// Checks that a JS outcome is urne-core's.
fn assert_same_outcome(js: &Value, rust: &urne_core::ceremony::CeremonyOutcome) {
    assert_eq!(js["publicKey"], rust.keys.election_key.to_string());
    let vks: Vec<String> = rust
        .keys
        .verification_keys
        .iter()
        .map(Point::to_string)
        .collect();
    assert_eq!(js["verificationKeys"], json!(vks));
    assert_eq!(js["qualified"], json!(rust.qualified));
}

/// Rust makes a threshold election whose key is the ceremony's and a tally of known counts;
/// `decryptors` decrypt it with `decrypt` (JS), and Rust checks every factor (V-15) and the
/// combined counts.
fn decrypt_and_check(
    b: &Bench,
    outcome: &urne_core::ceremony::CeremonyOutcome,
    decryptors: &[u32],
) {
    let mut rng = rng_from_seed(11);
    let mut manifest = ElectionBuilder::single_question(&b.election, 3, 1, 1)
        .trustees(N as usize)
        .threshold(T)
        .build(&mut rng)
        .election
        .manifest()
        .clone();
    manifest.trustees = b.identities();
    manifest.public_key = outcome.keys.election_key;
    let mut election = Election::new(manifest.clone()).unwrap();
    election.set_verification_keys(&outcome.keys).unwrap();
    let key = ElectionKey::new(outcome.keys.election_key).unwrap();
    let counts = [4u64, 0, 9];
    let tally = EncryptedTally {
        questions: vec![QuestionTally {
            choices: counts
                .iter()
                .map(|&m| Ciphertext::encrypt(&key, m, &random_scalar(&mut rng)))
                .collect(),
            blank: None,
        }],
    };
    fs::write(
        b.path("manifest.json"),
        serde_json::to_string(&manifest).unwrap(),
    )
    .unwrap();
    let entry = TallyEntry {
        ballots: 13,
        total_weight: 13,
        tally: tally.clone(),
    };
    fs::write(b.path("tally.json"), serde_json::to_string(&entry).unwrap()).unwrap();
    let mut partials = Vec::new();
    for &j in decryptors {
        let vk = outcome.keys.verification_keys[j as usize - 1].to_string();
        let value = b.js(
            "decrypt",
            j,
            json!({
                "manifest": b.path("manifest.json"),
                "tally": b.path("tally.json"),
                "verification_key": vk,
            }),
        );
        let pd: PartialDecryption = serde_json::from_value(value).unwrap();
        assert_eq!(pd.trustee, j);
        vartime_verify_partial(&mut rng, &election, &tally, &pd)
            .unwrap_or_else(|e| panic!("trustee {j}'s JS factors: {e}"));
        partials.push(pd);
    }
    // A factor altered after the fact fails V-15, so the check above can fail.
    let mut bad = partials[0].clone();
    bad.factors[1].factor = bad.factors[0].factor;
    assert!(vartime_verify_partial(&mut rng, &election, &tally, &bad).is_err());
    let table = DlogTable::new(100);
    for (k, ct) in tally.ciphertexts().enumerate() {
        let factors: Vec<(u32, &Point)> = partials
            .iter()
            .map(|pd| (pd.trustee, &pd.factors[k].factor))
            .collect();
        let combined = vartime_combine_factors(&factors, T, N).unwrap();
        let m = ct.beta.element() - combined;
        assert_eq!(table.vartime_dlog(&m), Some(counts[k]), "count {k}");
    }
}

#[test]
fn secret_files_open_both_ways_between_the_cli_and_js() {
    let Some(web) = web() else { return };
    let b = Bench::new(web, "vault-js");
    // Written by `urne trustee new-identity`, opened by the JS: the same key.
    b.cli_identity(1);
    let opened = b.js(
        "open",
        1,
        json!({"file": b.path("trustee-1.secret"), "purpose": "urne trustee key", "name": "Trustee 1"}),
    );
    let public: TrusteePublic = b.read("trustee-1.public.json");
    assert_eq!(
        opened["public"]["public_key"],
        public.public_key.to_string()
    );
    let again: TrusteePublic = serde_json::from_value(opened["public"].clone()).unwrap();
    let prefix = urne_core::manifest::trustee_key_proof_prefix(
        &b.election,
        1,
        &again.name,
        &again.public_key,
    );
    again
        .key_proof
        .vartime_verify(&again.public_key, prefix)
        .unwrap();
    // The JS refuses a wrong passphrase and another purpose, with their kinds.
    let wrong = b.try_js(
        "open",
        1,
        json!({"file": b.path("trustee-1.secret"), "purpose": "urne trustee key", "passphrase": "wrong"}),
    );
    assert!(wrong.unwrap_err().contains("passphrase"));
    let purpose = b.try_js(
        "open",
        1,
        json!({"file": b.path("trustee-1.secret"), "purpose": "urne trustee share"}),
    );
    assert!(purpose.unwrap_err().contains("purpose"));

    // Sealed by the JS, checked by `urne trustee check-identity`.
    b.js("identity", 2, json!({"name": "Trustee 2"}));
    let secret = b.path("trustee-2.secret").display().to_string();
    let public = b.path("trustee-2.public.json").display().to_string();
    let args = ["--secret", secret.as_str(), "--public", public.as_str()];
    let said = b.cli("check-identity", 2, &args);
    assert!(said.contains("Checked"), "{said}");
    let refused = b.cli_with("check-identity", 2, "not the passphrase", &args);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wrong passphrase"));
}

#[test]
fn a_ceremony_of_js_trustees_is_accepted_by_rust_and_their_factors_decrypt() {
    let Some(web) = web() else { return };
    let b = Bench::new(web, "ceremony-js");
    for i in 1..=N {
        b.js("identity", i, json!({"name": format!("Trustee {i}")}));
    }
    for i in 1..=N {
        b.js("deal", i, json!({}));
    }
    for i in 1..=N {
        let r = b.js("complain", i, json!({}));
        assert!(
            r["report"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["ok"] == true)
        );
    }
    for i in 1..=N {
        b.js("answer", i, json!({}));
    }
    let outcome = judge(&b);
    assert_eq!(outcome.qualified, vec![1, 2, 3]);
    assert!(outcome.disqualified.is_empty() && outcome.ignored.is_empty());
    for i in 1..=N {
        let r = b.js("finalize", i, json!({}));
        assert_same_outcome(&r["outcome"], &outcome);
        assert_eq!(r["status"]["stage"], "done");
    }
    decrypt_and_check(&b, &outcome, &[1, 3]);
}

#[test]
fn a_bad_share_is_found_by_js_and_the_complaint_is_justified_in_rust() {
    let Some(web) = web() else { return };
    let b = Bench::new(web, "bad-share-js");
    for i in 1..=N {
        b.js("identity", i, json!({"name": format!("Trustee {i}")}));
    }
    b.js("deal", 1, json!({}));
    b.js("deal", 2, json!({"bad": 3}));
    b.js("deal", 3, json!({}));
    for i in 1..=N {
        let r = b.js("complain", i, json!({}));
        let report = r["report"].as_array().unwrap();
        for e in report {
            let wrong = i == 3 && e["dealer"] == 2;
            assert_eq!(e["ok"], !wrong, "trustee {i}: {e}");
            if wrong {
                assert_eq!(e["reason"], "commitment");
            }
        }
    }
    let (dealings, complaints, _) = b.transcript();
    assert_eq!(complaints.len(), 1);
    let m = &complaints[0];
    assert_eq!((m.accuser, m.dealer), (3, 2));
    let ids: Vec<Point> = b.identities().iter().map(|t| t.public_key).collect();
    let d = dealings.iter().find(|d| d.dealer == 2).unwrap();
    let ctx = ShareContext {
        election_id: &b.election,
        dealer: 2,
        recipient: 3,
    };
    let verdict = m
        .complaint
        .vartime_judge(&ctx, &ids[2], &d.shares[2], &d.commitment)
        .unwrap();
    assert_eq!(verdict, Verdict::Justified);
    // Unanswered, the complaint disqualifies dealer 2.
    let outcome = judge(&b);
    assert_eq!(outcome.qualified, vec![1, 3]);
    assert_eq!(
        outcome.disqualified.get(&2),
        Some(&Disqualification::Unanswered(3))
    );
    // Answered (with the right share in the clear), dealer 2 stays qualified, and trustee 3
    // takes its share from the answer.
    for i in 1..=N {
        b.js("answer", i, json!({}));
    }
    let outcome = judge(&b);
    assert_eq!(outcome.qualified, vec![1, 2, 3]);
    for i in 1..=N {
        let r = b.js("finalize", i, json!({}));
        assert_same_outcome(&r["outcome"], &outcome);
    }
    decrypt_and_check(&b, &outcome, &[2, 3]);
}

#[test]
fn a_mixed_ceremony_of_cli_and_js_trustees_gives_everyone_the_same_key() {
    let Some(web) = web() else { return };
    let b = Bench::new(web, "mixed-js");
    b.cli_identity(1);
    b.cli_identity(2);
    b.js("identity", 3, json!({"name": "Trustee 3"}));
    for (step, cmd) in [
        ("deal", "deal"),
        ("complain", "complain"),
        ("answer", "answer"),
    ] {
        b.cli_step(cmd, 1);
        b.cli_step(cmd, 2);
        b.js(step, 3, json!({}));
    }
    // Every share opened on both sides: nobody complained, so no share went in the clear.
    let (_, complaints, answers) = b.transcript();
    assert!(complaints.is_empty() && answers.is_empty());
    let outcome = judge(&b);
    assert_eq!(outcome.qualified, vec![1, 2, 3]);
    assert!(outcome.ignored.is_empty());
    let said = b.cli_step("finalize", 1);
    assert!(
        said.contains(&outcome.keys.election_key.to_string()),
        "{said}"
    );
    b.cli_step("finalize", 2);
    let r = b.js("finalize", 3, json!({}));
    assert_same_outcome(&r["outcome"], &outcome);
    // Trustee 1's share, kept by the CLI, decrypts in the JS with trustee 3's.
    decrypt_and_check(&b, &outcome, &[1, 3]);
}

#[test]
fn a_bad_share_from_a_js_dealer_is_answered_in_js_and_used_by_the_cli() {
    let Some(web) = web() else { return };
    let b = Bench::new(web, "mixed-bad-js");
    b.cli_identity(1);
    b.cli_identity(2);
    b.js("identity", 3, json!({"name": "Trustee 3"}));
    b.cli_step("deal", 1);
    b.cli_step("deal", 2);
    b.js("deal", 3, json!({"bad": 1}));
    let said = b.cli_step("complain", 1);
    assert!(said.contains("the share from trustee 3 is wrong"), "{said}");
    b.cli_step("complain", 2);
    b.js("complain", 3, json!({}));
    let (_, complaints, _) = b.transcript();
    assert_eq!(complaints.len(), 1);
    assert_eq!((complaints[0].accuser, complaints[0].dealer), (1, 3));
    b.cli_step("answer", 1);
    b.cli_step("answer", 2);
    b.js("answer", 3, json!({}));
    let (_, _, answers) = b.transcript();
    assert_eq!(answers.len(), 1);
    assert_eq!((answers[0].dealer, answers[0].accuser), (3, 1));
    // The JS answer keeps dealer 3 qualified, and the CLI's trustee 1 takes its share from it.
    let outcome = judge(&b);
    assert_eq!(outcome.qualified, vec![1, 2, 3]);
    assert!(outcome.ignored.is_empty());
    b.cli_step("finalize", 1);
    b.cli_step("finalize", 2);
    let r = b.js("finalize", 3, json!({}));
    assert_same_outcome(&r["outcome"], &outcome);
    decrypt_and_check(&b, &outcome, &[1, 2]);
}

// ---------------------------------------------------------------------------------------------
// test-vectors/trustee/trustee.json: urne-core's trustee steps with recorded randomness, which
// web/test/trustee.test.js replays through the JS API and must reproduce byte for byte. It lives
// in a directory of its own because the files at the top of test-vectors/ are the ones
// urne-core's generator writes (crates/urne-core/tests/vectors.rs checks that list).

const VECTORS: &str = "../../test-vectors/trustee/trustee.json";
const VECTOR_ELECTION: &str = "trustee-vectors";

/// Replays queued scalars as urne-core's `random_scalar` reads them: s as the 64 bytes s ‖ 0^32,
/// which it reduces mod ℓ back to s. Counts how many were drawn.
struct Replay {
    scalars: Vec<[u8; 32]>,
    bytes: Vec<u8>,
    pos: usize,
}

impl Replay {
    /// `k` fresh scalars from the seeded generator, queued.
    fn fresh(seed: &mut Seeded, k: usize) -> Replay {
        let scalars: Vec<[u8; 32]> = (0..k).map(|_| seed.scalar()).collect();
        let mut bytes = Vec::with_capacity(64 * k);
        for s in &scalars {
            bytes.extend(s);
            bytes.extend([0u8; 32]);
        }
        Replay {
            scalars,
            bytes,
            pos: 0,
        }
    }

    /// The scalars drawn so far, as base64url: what the JS replays.
    fn drawn(&self) -> Value {
        assert_eq!(self.pos % 64, 0, "only whole scalars are drawn");
        let used = &self.scalars[..self.pos / 64];
        json!(used.iter().map(|s| b64_encode(s)).collect::<Vec<_>>())
    }
}

impl rand::TryRng for Replay {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let end = self.pos + dst.len();
        assert!(end <= self.bytes.len(), "the replayed randomness ran out");
        dst.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(())
    }
}

impl rand::TryCryptoRng for Replay {}

/// A seeded source of scalars to queue, drawn as the protocol draws them.
struct Seeded(Box<dyn FnMut() -> [u8; 32]>);

impl Seeded {
    fn new(seed: u64) -> Seeded {
        let mut rng = rng_from_seed(seed);
        Seeded(Box::new(move || random_scalar(&mut rng).to_bytes()))
    }
    fn scalar(&mut self) -> [u8; 32] {
        (self.0)()
    }
}

/// A ceremony outcome in the form of the JS `finalize` (web/src/urne/trustee.js).
fn outcome_json(o: &CeremonyOutcome) -> Value {
    let disqualified: Vec<Value> = o
        .disqualified
        .iter()
        .map(|(dealer, reason)| match reason {
            Disqualification::NoDealing => json!({"dealer": dealer, "reason": "no_dealing"}),
            Disqualification::Equivocation => json!({"dealer": dealer, "reason": "equivocation"}),
            Disqualification::Shape => json!({"dealer": dealer, "reason": "shape"}),
            Disqualification::CoefficientProof => {
                json!({"dealer": dealer, "reason": "coefficient_proof"})
            }
            Disqualification::Unanswered(accuser) => {
                json!({"dealer": dealer, "reason": "unanswered", "accuser": accuser})
            }
        })
        .collect();
    let ignored: Vec<Value> = o
        .ignored
        .iter()
        .map(|i| match i {
            Ignored::Invalid { from, kind } => {
                json!({"kind": "invalid", "from": from, "message": kind})
            }
            Ignored::UnjustifiedComplaint { accuser, dealer } => {
                json!({"kind": "unjustified_complaint", "accuser": accuser, "dealer": dealer})
            }
        })
        .collect();
    json!({
        "publicKey": o.keys.election_key,
        "verificationKeys": o.keys.verification_keys,
        "qualified": o.qualified,
        "disqualified": disqualified,
        "ignored": ignored,
        "threshold": o.keys.threshold,
    })
}

/// The three rounds and the shares of a ceremony among `keys`, recorded. With `bad`, dealer 2
/// seals trustee 3's share to trustee 1's key, so that trustee 3 cannot decrypt it.
fn recorded_ceremony(
    seed: &mut Seeded,
    keys: &[TrusteeKey],
    bad: bool,
) -> (Value, CeremonyOutcome, Vec<Share>) {
    let ids: Vec<Point> = keys.iter().map(|k| *k.public()).collect();
    let (mut dealings, mut polys, mut rec_d) = (Vec::new(), Vec::new(), Vec::new());
    for (i, k) in keys.iter().enumerate() {
        let dealer = i as u32 + 1;
        let mut recipients = ids.clone();
        if bad && dealer == 2 {
            recipients[2] = ids[0];
        }
        let mut r = Replay::fresh(seed, (T + N + 2) as usize);
        let (d, p) = k.deal(&mut r, VECTOR_ELECTION, dealer, T, &recipients);
        rec_d.push(json!({
            "dealer": dealer,
            "draws": r.drawn(),
            "dealing": d,
            "polynomial": b64_encode(&p.to_secret_bytes()),
        }));
        dealings.push(d);
        polys.push(p);
    }
    let (mut complaints, mut rec_c) = (Vec::new(), Vec::new());
    for (j, k) in keys.iter().enumerate() {
        let mut r = Replay::fresh(seed, 2 * N as usize);
        let c = k.complaints(&mut r, VECTOR_ELECTION, j as u32 + 1, &ids, &dealings);
        rec_c.push(json!({"accuser": j + 1, "draws": r.drawn(), "complaints": c}));
        complaints.extend(c);
    }
    let unanswered =
        vartime_judge_ceremony(VECTOR_ELECTION, T, &ids, &dealings, &complaints, &[]).unwrap();
    let (mut answers, mut rec_a) = (Vec::new(), Vec::new());
    for (i, k) in keys.iter().enumerate() {
        let mut r = Replay::fresh(seed, N as usize);
        let a = k.answers(
            &mut r,
            VECTOR_ELECTION,
            i as u32 + 1,
            &polys[i],
            &complaints,
        );
        rec_a.push(json!({"dealer": i + 1, "draws": r.drawn(), "answers": a}));
        answers.extend(a);
    }
    let outcome =
        vartime_judge_ceremony(VECTOR_ELECTION, T, &ids, &dealings, &complaints, &answers).unwrap();
    let shares: Vec<Share> = keys
        .iter()
        .enumerate()
        .map(|(j, k)| {
            k.assemble_share(
                VECTOR_ELECTION,
                j as u32 + 1,
                &ids,
                &outcome,
                &dealings,
                &answers,
            )
            .unwrap()
        })
        .collect();
    let record = json!({
        "dealings": rec_d,
        "complaints": rec_c,
        "answers": rec_a,
        "outcome_unanswered": outcome_json(&unanswered),
        "outcome": outcome_json(&outcome),
        "shares": shares
            .iter()
            .map(|s| b64_encode(&s.to_secret_bytes()))
            .collect::<Vec<_>>(),
    });
    (record, outcome, shares)
}

/// Every vector of test-vectors/trustee/trustee.json but the secret file, from urne-core.
fn vectors(secret_file: Value) -> Value {
    let mut seed = Seeded::new(2026);
    let (mut keys, mut identities) = (Vec::new(), Vec::new());
    for i in 1..=N {
        let name = format!("Trustee {i}");
        let mut r = Replay::fresh(&mut seed, 2);
        let key = TrusteeKey::generate(&mut r);
        let public = key.publish(&mut r, VECTOR_ELECTION, i, &name);
        identities.push(json!({
            "index": i,
            "name": name,
            "draws": r.drawn(),
            "secret": b64_encode(&key.to_secret_bytes()[..]),
            "public": public,
        }));
        keys.push(key);
    }
    let (honest, outcome, shares) = recorded_ceremony(&mut seed, &keys, false);
    let (bad, _, _) = recorded_ceremony(&mut seed, &keys, true);

    let mut rng = rng_from_seed(7);
    let setup = ElectionBuilder::single_question(VECTOR_ELECTION, 3, 1, 1)
        .question(2, 1, 1, true)
        .trustees(N as usize)
        .threshold(T)
        .build(&mut rng);
    let mut manifest = setup.election.manifest().clone();
    manifest.trustees = identities
        .iter()
        .map(|t| serde_json::from_value(t["public"].clone()).unwrap())
        .collect();
    manifest.public_key = outcome.keys.election_key;
    let mut election = Election::new(manifest.clone()).unwrap();
    election.set_verification_keys(&outcome.keys).unwrap();
    let key = ElectionKey::new(outcome.keys.election_key).unwrap();
    let mut enc = |m: u64| Ciphertext::encrypt(&key, m, &random_scalar(&mut rng));
    let tally = EncryptedTally {
        questions: vec![
            QuestionTally {
                choices: vec![enc(3), enc(0), enc(5)],
                blank: None,
            },
            QuestionTally {
                choices: vec![enc(2), enc(4)],
                blank: Some(enc(1)),
            },
        ],
    };
    let entry = TallyEntry {
        ballots: 8,
        total_weight: 8,
        tally: tally.clone(),
    };
    let mut partials = Vec::new();
    for j in [1u32, 3] {
        let share = &shares[j as usize - 1];
        let mut r = Replay::fresh(&mut seed, 6);
        let pd = share.decrypt_tally(&mut r, &election, &tally).unwrap();
        vartime_verify_partial(&mut rng, &election, &tally, &pd).unwrap();
        partials.push(json!({
            "trustee": j,
            "draws": r.drawn(),
            "verification_key": outcome.keys.verification_keys[j as usize - 1],
            "partial": pd,
        }));
    }
    json!({
        "description": "A trustee's steps (docs/spec.md 8.1, 8.3, 8.5) as urne-core computes them, with \
    the randomness they drew: each `draws` lists the scalars drawn, in order, which the JS API replays \
    through its `draw` option. `honest` is a 2-of-3 ceremony; in `bad_share`, dealer 2 sealed trustee 3's \
    share to trustee 1's key, trustee 3 complains, and `outcome_unanswered` is the judgement before the \
    answers. `decryption` holds the partial decryptions of trustees 1 and 3 with their shares from \
    `honest`. `secret_file` is a urne/secret/v1 file written by `urne trustee new-identity` (argon2id with \
    1024 KiB). Written by crates/urne-cli/tests/trustee_js.rs (URNE_UPDATE_VECTORS=1).",
        "election": VECTOR_ELECTION,
        "trustees": N,
        "threshold": T,
        "identities": identities,
        "honest": honest,
        "bad_share": bad,
        "decryption": {
            "manifest": manifest,
            "tally": entry,
            "partials": partials,
        },
        "secret_file": secret_file,
    })
}

/// A secret file written by `urne trustee new-identity`, with its public file and passphrase.
fn cli_secret_file() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(["trustee", "new-identity", "--election", VECTOR_ELECTION])
        .args([
            "--index",
            "1",
            "--name",
            "Trustee 1",
            "--kdf-memory-kib",
            "1024",
        ])
        .arg("--out")
        .arg(dir.path())
        .env("URNE_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(out.status.success());
    let file = fs::read_to_string(dir.path().join("trustee-1.secret")).unwrap();
    let public: Value = serde_json::from_str(
        &fs::read_to_string(dir.path().join("trustee-1.public.json")).unwrap(),
    )
    .unwrap();
    json!({
        "index": 1,
        "name": "Trustee 1",
        "purpose": "urne trustee key",
        "passphrase": PASSPHRASE,
        "file": file,
        "public": public,
    })
}

#[test]
fn vectors_are_what_urne_core_computes_and_the_frozen_secret_file_opens() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(VECTORS);
    let update = std::env::var("URNE_UPDATE_VECTORS").is_ok_and(|v| v == "1");
    let committed = fs::read_to_string(&path).ok();
    let secret_file = match (&committed, update) {
        (Some(text), false) => serde_json::from_str::<Value>(text).unwrap()["secret_file"].clone(),
        _ => cli_secret_file(),
    };
    let text = serde_json::to_string_pretty(&vectors(secret_file.clone())).unwrap() + "\n";
    if update {
        fs::write(&path, &text).unwrap();
    } else {
        let committed =
            committed.expect("test-vectors/trustee/trustee.json (URNE_UPDATE_VECTORS=1 writes it)");
        assert!(
            committed == text,
            "test-vectors/trustee/trustee.json is not what urne-core computes: regenerate it with \
             URNE_UPDATE_VECTORS=1 and review the diff"
        );
    }
    // The frozen secret file still opens with `urne trustee`, and holds its public file's key.
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("trustee-1.secret");
    let public = dir.path().join("trustee-1.public.json");
    fs::write(&secret, secret_file["file"].as_str().unwrap()).unwrap();
    fs::write(&public, secret_file["public"].to_string()).unwrap();
    let check = |passphrase: &str| {
        Command::new(env!("CARGO_BIN_EXE_urne"))
            .args([
                "trustee",
                "check-identity",
                "--election",
                VECTOR_ELECTION,
                "--index",
                "1",
            ])
            .arg("--secret")
            .arg(&secret)
            .arg("--public")
            .arg(&public)
            .env("URNE_PASSPHRASE", passphrase)
            .output()
            .unwrap()
    };
    assert!(check(PASSPHRASE).status.success());
    assert!(!check("another passphrase").status.success());
}
