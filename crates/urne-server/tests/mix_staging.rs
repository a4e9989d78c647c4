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
            // The server keeps each chunk with its place in front of it.
            assert_eq!(body["place"]["offset"], body["chunk"]["offset"]);
            (m.idx, m.sender, body["place"]["offset"].as_u64().unwrap())
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

/// An election of two trustees with independent keys, a ranked question and `ballots` ballots
/// (at least one), tallied, with both trustees' factors of the tally: its mix phase begins.
fn mixing_election<'s>(server: &'s Server, id: &str, ballots: usize) -> TestElection<'s> {
    let spec = Spec::new(id).trustees(2, 2).voters(ballots.max(4));
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
    let mut e = TestElection::existing(server, spec);
    e.advance_to(Stage::Open);
    let ranks = [[1, 2, 3], [2, 1, 3], [1, 3, 2], [2, 1, 0]];
    for v in 0..ballots {
        let key = e.credentials[v].derive_key(e.id());
        let ballot = Ballot::create(
            &mut rand::rng(),
            e.election(),
            &key,
            &[QuestionVote::Ranked(ranks[v % ranks.len()].to_vec())],
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
    e
}

#[test]
fn staged_mix_chunks_are_deleted_when_an_upload_ends_or_starts_again() {
    let server = Server::start();
    let e = mixing_election(&server, "mix-staging", 4);
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

/// A whole shuffle by trustee `t` at `position`, in chunks of one row: accepted.
fn shuffle_all(e: &TestElection<'_>, t: u32, position: u32) {
    let (chunks, end) = shuffle_upload(e, t, position, |_| {});
    for c in &chunks {
        chunk(e, t, position, c);
    }
    let r = post(e, t, &format!("/mix/shuffles/{position}"), &end);
    assert!(r.get("status").is_none(), "shuffle of trustee {t}: {r}");
}

/// All of trustee `t`'s factors of the last list, a row at a time: the last answer.
fn decrypt_all(e: &TestElection<'_>, t: u32) -> Value {
    let mut last = Value::Null;
    for d in &factors(e, t) {
        last = post(e, t, "/mix/decryptions", d);
        assert!(last.get("status").is_none(), "{last}");
    }
    last
}

/// The position of the board's tally line.
fn tally_seq(e: &TestElection<'_>) -> u64 {
    let record = e.record();
    let lines: Vec<Value> = record
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    lines
        .iter()
        .find(|l| l["type"] == "tally")
        .map(|l| l["seq"].as_u64().unwrap())
        .unwrap()
}

#[test]
fn the_mix_state_brought_up_to_date_line_by_line_equals_a_full_read() {
    let server = Server::start();
    let e = mixing_election(&server, "mix-incremental", 4);
    let tally = tally_seq(&e);
    // The state the server keeps follows the board through the whole mix phase.
    shuffle_all(&e, 1, 0);
    assert_eq!(current_list(&e).len(), 4);
    shuffle_all(&e, 2, 1);
    decrypt_all(&e, 1);
    assert_eq!(decrypt_all(&e, 2)["result"], true);
    let view = server.get(&e.path("/mix?limit=0")).expect(200).json();
    assert_eq!(view["shufflers"], json!([1, 2]));
    assert_eq!(
        (view["decrypted"].clone(), view["result"].clone()),
        (json!(true), json!(true))
    );

    let size = e.board_size();
    let live = server.block_on(server.state.live(e.id())).unwrap();
    let steps = urne_server::mix::testing::full_and_incremental(
        server.state.store.as_ref(),
        e.id(),
        &live,
        tally,
        size,
    )
    .unwrap();
    assert_eq!(steps.len() as u64, size - tally - 1);
    for (kind, full, incremental) in &steps {
        assert_eq!(
            incremental.as_ref(),
            Some(full),
            "after a `{kind}` line at size {}",
            full.size
        );
    }
    // Every kind of line of the mix phase was among them, and the state moved with them.
    let mut kinds: Vec<&str> = steps.iter().map(|(k, _, _)| k.as_str()).collect();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "partial_decryption",
            "shuffle_chunk",
            "shuffle",
            "shuffle_chunk",
            "shuffle",
            "mix_decryption",
            "mixed_ballots",
            "result"
        ]
    );
    let first = &steps[0].1;
    let last = &steps[steps.len() - 1].1;
    assert!(first.shufflers.is_empty() && !first.result);
    assert_eq!(last.shufflers, [1, 2]);
    assert!(last.decrypted && last.result && last.building.is_empty());
    assert_ne!(first.list, last.list);
    assert!(steps.iter().any(|(_, f, _)| !f.building.is_empty()));
}

#[test]
fn two_elections_mixing_alternately_both_stay_cached() {
    let server = Server::start();
    let a = mixing_election(&server, "mix-cache-a", 4);
    let b = mixing_election(&server, "mix-cache-b", 4);
    assert_eq!(current_list(&a).len(), 4);
    assert_eq!(current_list(&b).len(), 4);
    let before = urne_server::mix::cache_stats(&server.state);
    let ids: Vec<&str> = before.elections.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(ids, ["mix-cache-a", "mix-cache-b"]);

    for (position, t) in [(0, 1), (1, 2)] {
        shuffle_all(&a, t, position);
        server.get(&a.path("/mix?limit=0")).expect(200);
        shuffle_all(&b, t, position);
        for e in [&a, &b, &a, &b] {
            let view = server.get(&e.path("/mix?limit=0")).expect(200).json();
            assert_eq!(view["next_shuffle"], position + 1);
            server.get(&e.path("")).expect(200);
        }
    }
    let after = urne_server::mix::cache_stats(&server.state);
    assert_eq!(
        after.full_reads, before.full_reads,
        "neither election was read again from its first line: {after:?}"
    );
    // One update per shuffle on the board, per election.
    assert_eq!(after.advances, before.advances + 4, "{after:?}");
    assert_eq!(
        after.elections,
        [
            ("mix-cache-a".to_owned(), a.board_size()),
            ("mix-cache-b".to_owned(), b.board_size())
        ]
    );
}

/// Times `f` (median of `runs`), in milliseconds.
fn millis(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// What a poll of the mix costs on a board of many ballots (`URNE_MIX_BENCH_BALLOTS`, 20,000 by
/// default), printed, not asserted: a full read of the board (what every poll cost when the
/// cached state was of another size or election) against a state brought up to date after a
/// shuffle and a cache hit; the staged factors read whole or by their places.
/// `cargo test --release -p urne-server --test mix_staging -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, minutes long"]
fn mix_poll_timing() {
    let n: usize = std::env::var("URNE_MIX_BENCH_BALLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let server = Server::start();
    let t = std::time::Instant::now();
    let e = mixing_election(&server, "mix-bench", n);
    println!(
        "{n} ballots cast and tallied in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let view = |s: &Server| {
        s.get(&e.path("/mix?limit=0")).expect(200);
    };
    // A full read: what the single cached state cost whenever it was of another size or of
    // another election (here a server whose cache is new, on the same database).
    let fresh = || {
        let other = urne_server::AppState::new(
            server.state.store.clone(),
            urne_board_key(),
            server.state.config.clone(),
        );
        let t = std::time::Instant::now();
        server
            .block_on(urne_server::mix::mix_board(&other, e.id()))
            .unwrap();
        t.elapsed().as_secs_f64() * 1e3
    };
    let mut full: Vec<f64> = (0..3).map(|_| fresh()).collect();
    full.sort_by(f64::total_cmp);
    view(&server);
    let hit = millis(5, || view(&server));
    let t = std::time::Instant::now();
    shuffle_all_in(&e, 1, 0, 1000);
    println!("shuffle of trustee 1 in {:.1} s", t.elapsed().as_secs_f64());
    let before = urne_server::mix::cache_stats(&server.state);
    let advanced = millis(1, || view(&server));
    let after = urne_server::mix::cache_stats(&server.state);
    assert_eq!(after.full_reads, before.full_reads);
    assert_eq!(after.advances, before.advances + 1);
    let mut full_after: Vec<f64> = (0..3).map(|_| fresh()).collect();
    full_after.sort_by(f64::total_cmp);
    println!(
        "mix state, {n} ballots: full read {:.1} ms (median of 3); after a shuffle of {n} rows: \
         full read {:.1} ms, only its lines {advanced:.1} ms; cache hit (GET …/mix?limit=0) \
         {hit:.2} ms",
        full[1], full_after[1]
    );
    shuffle_all_in(&e, 2, 1, 1000);

    // Trustee 1's factors of the whole list staged (trustee 2's would write the result).
    let list = current_list_all(&e);
    let f = e.trustees[0]
        .key
        .decrypt_mix(&mut rand::rng(), e.election(), &list);
    for d in mix_decryption_lines(1, &f, Some(1000)) {
        let Entry::MixDecryption(d) = d else {
            unreachable!()
        };
        let r = post(&e, 1, "/mix/decryptions", &d);
        assert!(r.get("status").is_none(), "{r}");
    }
    let store = server.state.store.clone();
    let whole = millis(3, || {
        let m = store.messages(e.id(), Some(kinds::FACTORS), 0).unwrap();
        let rows: usize = m
            .iter()
            .map(|m| {
                let v: Value = serde_json::from_str(&m.body).unwrap();
                v["chunk"]["factors"].as_array().unwrap().len()
            })
            .sum();
        assert_eq!(rows, n);
    });
    let bytes: usize = store
        .messages(e.id(), Some(kinds::FACTORS), 0)
        .unwrap()
        .iter()
        .map(|m| m.body.len())
        .sum();
    let heads = millis(5, || {
        let m = store.message_heads(e.id(), kinds::FACTORS, 0, 160).unwrap();
        assert!(!m.is_empty());
    });
    let polled = millis(5, || view(&server));
    println!(
        "staged factors of one trustee ({} MB): read whole {whole:.1} ms, by their heads \
         {heads:.2} ms; GET …/mix?limit=0 with them staged {polled:.2} ms",
        bytes / 1_000_000
    );
}

fn urne_board_key() -> urne_core::board::BoardKey {
    urne_core::board::BoardKey::generate(&mut rand::rng())
}

/// The whole current list, in pages.
fn current_list_all(e: &TestElection<'_>) -> Vec<Vec<Ciphertext>> {
    let mut out = Vec::new();
    loop {
        let view = e
            .server
            .get(&e.path(&format!("/mix?from={}&limit=4096", out.len())))
            .expect(200)
            .json();
        let rows: Vec<Vec<Ciphertext>> = serde_json::from_value(view["rows"].clone()).unwrap();
        if rows.is_empty() {
            return out;
        }
        out.extend(rows);
    }
}

/// A whole shuffle of the current list by trustee `t` at `position`, in chunks of `rows`.
fn shuffle_all_in(e: &TestElection<'_>, t: u32, position: u32, rows: usize) {
    let inputs = current_list_all(e);
    let election = e.election();
    let mut rng = rand::rng();
    let (outputs, witness) = shuffle(&mut rng, election.key(), &inputs).unwrap();
    let fp = election.fingerprint().0;
    let proof = prove_shuffle(&mut rng, &fp, election.key(), &inputs, &outputs, &witness).unwrap();
    let key = &e.trustees[t as usize - 1].key;
    let signature = key.sign_shuffle(&mut rng, election, t, position, &inputs, &outputs);
    for l in
        urne_verify::record::shuffle_lines(position, t, &outputs, &proof, signature, Some(rows))
    {
        let r = match l {
            Entry::ShuffleChunk(c) => post(e, t, &format!("/mix/shuffles/{position}/chunks"), &c),
            Entry::Shuffle(s) => post(e, t, &format!("/mix/shuffles/{position}"), &s),
            _ => unreachable!(),
        };
        assert!(r.get("status").is_none(), "{r}");
    }
}

#[test]
fn factors_staged_without_their_place_by_an_older_server_are_still_read() {
    let server = Server::start();
    let e = mixing_election(&server, "mix-unplaced", 4);
    shuffle_all(&e, 1, 0);
    shuffle_all(&e, 2, 1);
    // Trustee 1's factors in one chunk, stored as a server before the places stored them.
    let f1 = factors(&e, 1);
    let rows: Vec<_> = f1.iter().flat_map(|d| d.factors.clone()).collect();
    let whole = MixDecryptionEntry {
        trustee: 1,
        offset: 0,
        factors: rows,
    };
    server
        .state
        .store
        .put_message(
            e.id(),
            kinds::FACTORS,
            1,
            &serde_json::to_string(&whole).unwrap(),
            urne_server::clock::now(),
        )
        .unwrap();
    let view = server.get(&e.path("/mix?limit=0")).expect(200).json();
    assert_eq!(view["decryptors"], json!([1]), "{view}");
    let r = post(&e, 1, "/mix/decryptions", &f1[0]);
    assert_eq!(r["status"], 409, "{r}");
    assert_eq!(r["body"]["error"]["code"], "already_sent", "{r}");
    // Trustee 2's factors complete the set with it: the result is on the board and verifies.
    assert_eq!(decrypt_all(&e, 2)["result"], true);
    let report = support::verify_record(&e.record());
    assert!(report.valid && report.complete, "{report:?}");
}
