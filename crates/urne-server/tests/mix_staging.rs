//! The mix phase's staged chunks (relayed messages, not the board) are deleted once of no use:
//! a trustee's shuffle chunks after its refused end (and only its own), the older chunks when
//! an upload starts again at offset 0 (shuffles and factors), its chunks once its shuffle is on
//! the board, and every staged chunk once the result is on the board. Two trustees with
//! independent keys, a ranked question, four ballots.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Server, Spec, Stage, TestElection};
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::elgamal::Ciphertext;
use urne_core::manifest::Timestamp;
use urne_core::proofs::shuffle::{ShuffleProof, prove_shuffle, shuffle};
use urne_server::mix::kinds;
use urne_verify::record::{Entry, MixDecryptionEntry, ShuffleChunk, mix_decryption_lines};

/// The staged messages of `kind`: (idx, sender, offset).
fn staged(e: &TestElection<'_>, kind: &str) -> Vec<(u64, u32, u64)> {
    e.server
        .state
        .store
        .messages(e.id(), Some(kind), 0)
        .unwrap()
        .into_iter()
        .map(|m| {
            let body: Value = serde_json::from_str(&m.body).unwrap();
            (m.idx, m.sender, body["offset"].as_u64().unwrap())
        })
        .collect()
}

/// Trustee `t`'s shuffle of the current list at `position`, in chunks of one row, its proof
/// changed by `spoil`: its chunks and end.
fn shuffle_upload(
    e: &TestElection<'_>,
    t: u32,
    position: u32,
    spoil: impl Fn(&mut ShuffleProof),
) -> (Vec<ShuffleChunk>, urne_verify::record::ShuffleEntry) {
    let inputs = current_list(e);
    let election = e.election();
    let mut rng = rand::rng();
    let (outputs, witness) = shuffle(&mut rng, election.key(), &inputs).unwrap();
    let fp = election.fingerprint().0;
    let mut proof =
        prove_shuffle(&mut rng, &fp, election.key(), &inputs, &outputs, &witness).unwrap();
    spoil(&mut proof);
    let key = &e.trustees[t as usize - 1].key;
    let signature = key.sign_shuffle(&mut rng, election, t, position, &inputs, &outputs);
    let mut chunks = Vec::new();
    let mut end = None;
    for l in urne_verify::record::shuffle_lines(position, t, &outputs, &proof, signature, Some(1)) {
        match l {
            Entry::ShuffleChunk(c) => chunks.push(*c),
            Entry::Shuffle(s) => end = Some(*s),
            _ => unreachable!(),
        }
    }
    (chunks, end.unwrap())
}

fn current_list(e: &TestElection<'_>) -> Vec<Vec<Ciphertext>> {
    let view = e.server.get(&e.path("/mix?limit=4096")).expect(200).json();
    serde_json::from_value(view["rows"].clone()).unwrap()
}

fn post(e: &TestElection<'_>, t: u32, rest: &str, body: &impl serde::Serialize) -> Value {
    let token = &e.trustees[t as usize - 1].token;
    let r = e.server.post_bearer(&e.path(rest), token, body);
    if r.status != 201 {
        return json!({ "status": r.status, "body": r.json() });
    }
    r.json()
}

fn chunk(e: &TestElection<'_>, t: u32, position: u32, c: &ShuffleChunk) {
    let r = post(e, t, &format!("/mix/shuffles/{position}/chunks"), c);
    assert!(r.get("status").is_none(), "chunk of trustee {t}: {r}");
}

fn factors(e: &TestElection<'_>, t: u32) -> Vec<MixDecryptionEntry> {
    let list = current_list(e);
    let f = e.trustees[t as usize - 1]
        .key
        .decrypt_mix(&mut rand::rng(), e.election(), &list);
    mix_decryption_lines(t, &f, Some(1))
        .into_iter()
        .map(|l| match l {
            Entry::MixDecryption(d) => *d,
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn staged_mix_chunks_are_deleted_when_an_upload_ends_or_starts_again() {
    let server = Server::start();
    let spec = Spec::new("mix-staging").trustees(2, 2);
    let now = urne_server::clock::now();
    let draft = json!({
        "title": "Staged chunks",
        "questions": [
            { "text": "Rank the logos", "answers": ["Owl", "Fox", "Heron"], "min": 1, "max": 3,
              "blank": false, "counting": "schulze" },
        ],
        "revote": "last_counts",
        "opens_at": Timestamp::from_unix(now - 60).unwrap(),
        "closes_at": Timestamp::from_unix(now + 3600).unwrap(),
        "trustees": ["Trustee 1", "Trustee 2"],
        "threshold": 2,
        "voter_auth": "none",
        "auto_open": false,
    });
    server
        .admin_send(
            "POST",
            "/api/v1/admin/elections",
            &json!({ "id": spec.id, "draft": draft }),
        )
        .expect(201);
    let mut e = TestElection::existing(&server, spec);
    e.advance_to(Stage::Open);
    for (v, rank) in [[1, 2, 3], [2, 1, 3], [1, 3, 2], [2, 1, 0]]
        .iter()
        .enumerate()
    {
        let key = e.credentials[v].derive_key(e.id());
        let ballot = Ballot::create(
            &mut rand::rng(),
            e.election(),
            &key,
            &[QuestionVote::Ranked(rank.to_vec())],
        )
        .unwrap();
        e.cast(&ballot).expect(201);
    }
    e.advance_to(Stage::Tallied);
    for t in 1..=2 {
        let r = e.send_factors(t, &e.factors(t));
        r.expect(201);
        assert_eq!(r.json()["result"], false, "the mix phase comes first");
    }
    assert_eq!(current_list(&e).len(), 4);

    // Trustee 2 starts an upload at position 0 (two rows) and leaves it there.
    let (t2_chunks, _) = shuffle_upload(&e, 2, 0, |_| {});
    chunk(&e, 2, 0, &t2_chunks[0]);
    chunk(&e, 2, 0, &t2_chunks[1]);
    let t2_staged = staged(&e, kinds::SHUFFLE_CHUNK);
    assert_eq!(t2_staged.len(), 2);

    // Trustee 1's shuffle with a wrong proof: refused at its end, its chunks are gone and
    // trustee 2's stay.
    let size = e.board_size();
    let (chunks, end) = shuffle_upload(&e, 1, 0, |p| std::mem::swap(&mut p.s1, &mut p.s2));
    for c in &chunks {
        chunk(&e, 1, 0, c);
    }
    assert_eq!(staged(&e, kinds::SHUFFLE_CHUNK).len(), 2 + chunks.len());
    let r = post(&e, 1, "/mix/shuffles/0", &end);
    assert_eq!(r["status"], 422, "{r}");
    assert_eq!(r["body"]["error"]["code"], "bad_shuffle", "{r}");
    assert_eq!(staged(&e, kinds::SHUFFLE_CHUNK), t2_staged);
    assert_eq!(e.board_size(), size);

    // An end that finds too few rows is refused too, and its chunks deleted.
    let (chunks, end) = shuffle_upload(&e, 1, 0, |_| {});
    chunk(&e, 1, 0, &chunks[0]);
    let r = post(&e, 1, "/mix/shuffles/0", &end);
    assert_eq!(r["status"], 422, "{r}");
    assert_eq!(r["body"]["error"]["code"], "bad_chunk", "{r}");
    assert_eq!(staged(&e, kinds::SHUFFLE_CHUNK), t2_staged);

    // Trustee 1 sends two chunks, then starts again at offset 0: only the new chunk is kept.
    chunk(&e, 1, 0, &chunks[0]);
    chunk(&e, 1, 0, &chunks[1]);
    let before = staged(&e, kinds::SHUFFLE_CHUNK);
    assert_eq!(before.len(), 4);
    chunk(&e, 1, 0, &chunks[0]);
    let after = staged(&e, kinds::SHUFFLE_CHUNK);
    let mine: Vec<_> = after.iter().filter(|m| m.1 == 1).collect();
    assert_eq!(mine.len(), 1, "{after:?}");
    assert_eq!(mine[0].2, 0);
    assert!(mine[0].0 > before.iter().map(|m| m.0).max().unwrap());
    assert_eq!(
        after
            .iter()
            .filter(|m| m.1 == 2)
            .copied()
            .collect::<Vec<_>>(),
        t2_staged
    );

    // The rest of it and its end: accepted, on the board, and its chunks are gone.
    for c in &chunks[1..] {
        chunk(&e, 1, 0, c);
    }
    let r = post(&e, 1, "/mix/shuffles/0", &end);
    assert!(r.get("status").is_none(), "{r}");
    assert_eq!(r["shufflers"], json!([1]));
    assert_eq!(staged(&e, kinds::SHUFFLE_CHUNK), t2_staged);

    // Trustee 2 shuffles at position 1: its start drops its stale chunks of position 0, and
    // its accepted shuffle leaves nothing staged.
    let (chunks, end) = shuffle_upload(&e, 2, 1, |_| {});
    chunk(&e, 2, 1, &chunks[0]);
    let left = staged(&e, kinds::SHUFFLE_CHUNK);
    assert_eq!(left.len(), 1, "{left:?}");
    for c in &chunks[1..] {
        chunk(&e, 2, 1, c);
    }
    let r = post(&e, 2, "/mix/shuffles/1", &end);
    assert!(r.get("status").is_none(), "{r}");
    assert!(staged(&e, kinds::SHUFFLE_CHUNK).is_empty());

    // Factors: trustee 1 sends two rows, starts again: only the new start is kept.
    let f1 = factors(&e, 1);
    for d in &f1[..2] {
        let r = post(&e, 1, "/mix/decryptions", d);
        assert!(r.get("status").is_none(), "{r}");
    }
    assert_eq!(staged(&e, kinds::FACTORS).len(), 2);
    let r = post(&e, 1, "/mix/decryptions", &f1[0]);
    assert_eq!(r["rows"], 1, "{r}");
    let left = staged(&e, kinds::FACTORS);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!((left[0].1, left[0].2), (1, 0));
    for d in &f1[1..] {
        let r = post(&e, 1, "/mix/decryptions", d);
        assert!(r.get("status").is_none(), "{r}");
    }
    assert_eq!(staged(&e, kinds::FACTORS).len(), f1.len());

    // Trustee 2's factors complete the set: the result is on the board, nothing is staged.
    let f2 = factors(&e, 2);
    let mut last = Value::Null;
    for d in &f2 {
        last = post(&e, 2, "/mix/decryptions", d);
        assert!(last.get("status").is_none(), "{last}");
    }
    assert_eq!(last["result"], true, "{last}");
    assert!(staged(&e, kinds::FACTORS).is_empty());
    assert!(staged(&e, kinds::SHUFFLE_CHUNK).is_empty());
    let report = support::verify_record(&e.record());
    assert!(report.valid && report.complete, "{report:?}");
}
