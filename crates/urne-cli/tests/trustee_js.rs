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
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use urne_core::ceremony::{
    Answer, ComplaintMessage, Dealing, Disqualification, vartime_judge_ceremony,
};
use urne_core::dkg::vartime_combine_factors;
use urne_core::dkg_transport::{ShareContext, Verdict};
use urne_core::election::Election;
use urne_core::elgamal::{Ciphertext, ElectionKey};
use urne_core::group::{Point, random_scalar};
use urne_core::manifest::TrusteePublic;
use urne_core::tally::{
    DlogTable, EncryptedTally, PartialDecryption, QuestionTally, vartime_verify_partial,
};
use urne_core::testkit::{ElectionBuilder, rng_from_seed};
use urne_verify::record::TallyEntry;

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

/// The web/ directory, when `node` and the web dependencies are there to run it.
fn web() -> Option<PathBuf> {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let required = std::env::var("URNE_REQUIRE_NODE").is_ok_and(|v| v == "1");
    let node = Command::new("node").arg("--version").output();
    let missing = match node {
        Ok(out) if out.status.success() => {
            if web
                .join("node_modules/@noble/ciphers/package.json")
                .is_file()
            {
                return Some(web.canonicalize().unwrap());
            }
            "web/node_modules is missing (run `npm ci` in web/)"
        }
        _ => "`node` is not installed",
    };
    assert!(!required, "URNE_REQUIRE_NODE=1 but {missing}");
    eprintln!("skipped: {missing}; set URNE_REQUIRE_NODE=1 to make this an error");
    None
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
        let mut child = Command::new("node")
            .arg(&self.driver)
            .arg(&self.web)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(req.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            Ok(serde_json::from_slice(&out.stdout).expect("the driver writes JSON"))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
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
fn judge(b: &Bench) -> urne_core::ceremony::CeremonyOutcome {
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
