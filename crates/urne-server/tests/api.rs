//! The server's API end to end: a real server (`urne_server::app` over SQLite in a temporary
//! directory, on a loopback port) and real HTTP requests, for every ballot it must refuse and
//! why, the proofs a voter and an observer get, 300 ballots cast at once, the administrators'
//! protections, the election's lifecycle with its scheduler, and health and metrics.
//!
//! Every refused ballot is checked three ways: its status, its machine-readable `error.code`,
//! and that nothing was stored (the board's size and the accepted-ballot counter unchanged, the
//! refusal counted once under its reason).

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use curve25519_dalek::Scalar;
use serde_json::{Value, json};
use support::{Server, Spec, Stage, record_trackers, verify_record};
use urne_core::board::SignedTreeHead;
use urne_core::group::{b64_decode, b64_encode};
use urne_verify::merkle::{leaf_hash, verify_consistency, verify_inclusion};

fn hash32(text: &str) -> [u8; 32] {
    b64_decode(text).unwrap().try_into().unwrap()
}

fn hashes(v: &Value) -> Vec<[u8; 32]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| hash32(h.as_str().unwrap()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Ballots the server refuses

#[test]
fn rejects_malformed_json_as_bad_json() {
    let server = Server::start();
    let e = server.election(Spec::new("malformed"), Stage::Open);
    let valid = e.ballot(0, 0).to_json();
    for body in [
        b"{".as_slice(),
        b"not json at all",
        b"",
        // A ballot cut short, broken inside a field.
        &valid.as_bytes()[..valid.len() / 2],
        // Two documents.
        format!("{valid}{valid}").as_bytes(),
    ] {
        let before = e.snapshot();
        let r = e.cast_raw(body);
        e.assert_refused(&r, 400, "bad_json", &before);
    }
}

#[test]
fn rejects_json_that_is_not_a_ballot_as_bad_ballot() {
    let server = Server::start();
    let e = server.election(Spec::new("not-a-ballot"), Stage::Open);
    let mut extra: Value = serde_json::from_str(&e.ballot(0, 0).to_json()).unwrap();
    extra["extra"] = json!(1);
    for body in [
        "[]".to_owned(),
        "42".to_owned(),
        r#"{"format":"urne/ballot/v9"}"#.to_owned(),
        extra.to_string(),
    ] {
        let before = e.snapshot();
        let r = e.cast_raw(body.as_bytes());
        e.assert_refused(&r, 400, "bad_ballot", &before);
    }
}

#[test]
fn rejects_a_body_that_is_not_utf8_as_bad_json() {
    let server = Server::start();
    let e = server.election(Spec::new("not-utf8"), Stage::Open);
    let mut body = e.ballot(0, 0).to_json().into_bytes();
    // A lone continuation byte inside a string value.
    let at = body.iter().position(|&b| b == b'"').unwrap() + 1;
    body.insert(at, 0x80);
    for body in [body, vec![0xff, 0xfe, b'{', b'}']] {
        let before = e.snapshot();
        let r = e.cast_raw(&body);
        e.assert_refused(&r, 400, "bad_json", &before);
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("UTF-8")
        );
    }
}

#[test]
fn rejects_an_oversized_body_with_413_too_large() {
    let limit = 16 << 10;
    let server = Server::with_config(|c| c.max_ballot_bytes = limit);
    let e = server.election(Spec::new("oversized"), Stage::Open);
    let json = e.ballot(0, 0).to_json();
    assert!(json.len() < limit);
    // A valid ballot followed by spaces (still one JSON document), one byte over the limit.
    let mut body = json.clone().into_bytes();
    body.resize(limit + 1, b' ');
    let before = e.snapshot();
    let r = e.cast_raw(&body);
    e.assert_refused(&r, 413, "too_large", &before);
    // The limit is exact: the same ballot padded to exactly the limit is taken.
    body.truncate(limit);
    e.cast_raw(&body).expect(201);
    assert_eq!(e.snapshot().accepted, before.accepted + 1);
}

#[test]
fn rejects_an_invalid_point_in_a_ciphertext_as_bad_ballot() {
    let server = Server::start();
    let e = server.election(Spec::new("bad-point"), Stage::Open);
    let mut v: Value = serde_json::from_str(&e.ballot(0, 1).to_json()).unwrap();
    // 32 bytes above the field's modulus: not the encoding of any ristretto255 point.
    v["answers"][0]["choices"][0]["alpha"] = json!(b64_encode(&[0xff; 32]));
    let before = e.snapshot();
    let r = e.cast_raw(v.to_string().as_bytes());
    e.assert_refused(&r, 400, "bad_ballot", &before);
    assert_eq!(
        r.json()["error"]["field"],
        "answers[0].choices[0].alpha",
        "{}",
        r.text()
    );
}

#[test]
fn rejects_a_bad_proof_as_invalid_ballot() {
    let server = Server::start();
    let e = server.election(Spec::new("bad-proof"), Stage::Open);
    let mut ballot = e.ballot(0, 2);
    // Change one response of the first choice proof, then sign again with the voter's own
    // credential: the signature is valid, only the proof is wrong.
    ballot.answers[0].choice_proofs[0].branches[0].z[0] += Scalar::ONE;
    ballot.sign(&mut rand::rng(), &e.credentials[0].derive_key(e.id()));
    let before = e.snapshot();
    let r = e.cast(&ballot);
    e.assert_refused(&r, 422, "invalid_ballot", &before);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("V-9"), "{message}");
    // The honest ballot of the same voter is still taken.
    e.cast(&e.ballot(0, 2)).expect(201);
}

#[test]
fn rejects_a_bad_signature_as_invalid_ballot() {
    let server = Server::start();
    let e = server.election(Spec::new("bad-signature"), Stage::Open);
    let mut ballot = e.ballot(1, 0);
    ballot.signature.s += Scalar::ONE;
    let before = e.snapshot();
    let r = e.cast(&ballot);
    e.assert_refused(&r, 422, "invalid_ballot", &before);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("V-8"), "{message}");
}

#[test]
fn rejects_a_ballot_for_another_election_as_wrong_election() {
    let server = Server::start();
    let e = server.election(Spec::new("this-one"), Stage::Open);
    let other = server.election(Spec::new("other-one"), Stage::Open);
    // A perfectly good ballot, for the other election's manifest.
    let ballot = other.ballot(0, 0);
    let before = e.snapshot();
    let r = e.cast(&ballot);
    e.assert_refused(&r, 422, "wrong_election", &before);
    assert_eq!(r.json()["error"]["field"], "election");
    other.cast(&ballot).expect(201);
}

#[test]
fn rejects_a_ballot_after_the_close_with_409_election_closed() {
    let server = Server::start();
    let mut e = server.election(Spec::new("closed"), Stage::Open);
    e.cast(&e.ballot(0, 0)).expect(201);
    let late = e.ballot(1, 1);
    e.close();
    let before = e.snapshot();
    let r = e.cast(&late);
    e.assert_refused(&r, 409, "election_closed", &before);
    // Still refused once tallied.
    e.tally();
    let before = e.snapshot();
    let r = e.cast(&late);
    e.assert_refused(&r, 409, "election_closed", &before);
}

#[test]
fn rejects_a_ballot_before_opening_with_409_election_not_open() {
    let server = Server::start();
    // Not sealed: the server has no manifest yet; any ballot is refused for that.
    let mut e = server.election(Spec::new("not-open"), Stage::Credentials);
    let elsewhere = server.election(Spec::new("elsewhere"), Stage::Open);
    let before = e.snapshot();
    let r = e.cast(&elsewhere.ballot(0, 0));
    e.assert_refused(&r, 409, "election_not_open", &before);
    // Sealed, but not opened: a ballot made for its manifest is refused too.
    e.seal();
    let ballot = e.ballot(0, 0);
    let before = e.snapshot();
    let r = e.cast(&ballot);
    e.assert_refused(&r, 409, "election_not_open", &before);
    e.open();
    e.cast(&ballot).expect(201);
}

#[test]
fn rejects_a_ballot_before_the_opening_time_with_409_election_not_open() {
    let server = Server::start();
    let e = server.election(Spec::new("early").period(3600, 7200), Stage::Sealed);
    let before = e.snapshot();
    let r = e.cast(&e.ballot(0, 0));
    e.assert_refused(&r, 409, "election_not_open", &before);
}

#[test]
fn rejects_an_unknown_credential_as_unknown_credential() {
    let server = Server::start();
    let e = server.election(Spec::new("unknown-credential"), Stage::Open);
    let stranger = urne_core::credential::Credential::generate(&mut rand::rng());
    let ballot = urne_core::ballot::Ballot::create(
        &mut rand::rng(),
        e.election(),
        &stranger.derive_key(e.id()),
        &[urne_core::ballot::QuestionVote::Blank],
    )
    .unwrap();
    let before = e.snapshot();
    let r = e.cast(&ballot);
    e.assert_refused(&r, 422, "unknown_credential", &before);
    assert_eq!(r.json()["error"]["field"], "credential");
}

#[test]
fn rejects_a_ballot_for_an_unknown_election_with_404() {
    let server = Server::start();
    let e = server.election(Spec::new("known"), Stage::Open);
    let r = server.request(
        "POST",
        "/api/v1/elections/no-such-election/ballots",
        &[],
        Some(e.ballot(0, 0).to_json().as_bytes()),
    );
    r.expect_error(404, "no_election");
    assert_eq!(server.accepted(), 0);
}

/// A *replay* is the very same ballot, byte for byte (so the same tracker), submitted again:
/// a voter's device retrying after it lost the answer, or anyone resending a ballot they saw on
/// the board. It is not a new vote. The server answers with the first acknowledgement (200,
/// `duplicate: true`, the same `seq`) and stores nothing, even after the voter has voted again
/// (an old ballot replayed after a newer one must not count again; docs/record.md §3).
#[test]
fn replayed_ballot_is_acknowledged_again_as_a_duplicate_and_nothing_is_stored() {
    let server = Server::start();
    let e = server.election(Spec::new("replay"), Stage::Open);
    let first = e.ballot(0, 0);
    let ack = e.cast(&first).expect(201).json();
    assert_eq!(ack["duplicate"], false);
    let duplicates = server.metric("urne_ballots_duplicate_total");
    let before = e.snapshot();
    let again = e.cast(&first).expect(200).json();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["seq"], ack["seq"]);
    assert_eq!(again["tracker"], ack["tracker"]);
    assert_eq!(e.board_size(), before.board_size);
    assert_eq!(server.accepted(), before.accepted);
    assert_eq!(
        server.metric("urne_ballots_duplicate_total"),
        duplicates + 1.0
    );
    // The voter votes again (the last ballot counts); replaying the first is still a duplicate.
    e.cast(&e.ballot(0, 1)).expect(201);
    let before = e.snapshot();
    let replay = e.cast(&first).expect(200).json();
    assert_eq!(
        (replay["duplicate"].clone(), replay["seq"].clone()),
        (json!(true), ack["seq"].clone())
    );
    assert_eq!(e.board_size(), before.board_size);
    assert_eq!(server.accepted(), before.accepted);
}

#[test]
fn rejects_a_second_ballot_under_forbidden_revotes_as_credential_used() {
    let server = Server::start();
    let e = server.election(Spec::new("no-revote").forbid_revotes(), Stage::Open);
    let first = e.ballot(0, 0);
    let ack = e.cast(&first).expect(201).json();
    let before = e.snapshot();
    let r = e.cast(&e.ballot(0, 1));
    e.assert_refused(&r, 409, "credential_used", &before);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("position {}", ack["seq"])),
        "{}",
        r.text()
    );
    // The first ballot replayed is a duplicate, not a second ballot.
    e.cast(&first).expect(200);
    // Another voter is not affected.
    e.cast(&e.ballot(1, 1)).expect(201);
}

// ---------------------------------------------------------------------------------------------
// A valid ballot, and the proofs voters and observers get

#[test]
fn accepts_a_valid_ballot_with_proofs_that_verify_against_signed_tree_heads() {
    let server = Server::start();
    let e = server.election(Spec::new("happy"), Stage::Open);
    let manifest = e.election().manifest();
    let board_key = manifest.board_key.expect("the server names its board key");
    assert_eq!(board_key, *server.state.board_key.public());
    let fingerprint = e.election().fingerprint();
    let head = |r: &support::Resp| -> SignedTreeHead {
        let h = SignedTreeHead::from_json(&r.text()).unwrap();
        h.vartime_verify(&board_key, fingerprint).unwrap();
        h
    };
    let head0 = head(server.get(&e.path("/board/head")).expect(200));
    assert_eq!(head0.size, e.board_size());

    let ballot = e.ballot(0, 1);
    let r = e.cast(&ballot);
    r.expect(201);
    let ack = r.json();
    assert_eq!(ack["tracker"], ballot.tracker().to_string());
    assert_eq!(ack["duplicate"], false);
    let seq = ack["seq"].as_u64().unwrap();
    assert_eq!(seq, head0.size, "the ballot follows the open line");
    assert_eq!(ack["board_size"], seq + 1);
    assert_eq!(e.board_size(), seq + 1);
    let ack_root = hash32(ack["board_root"].as_str().unwrap());
    // The acknowledgement's receipt is a signed head of the board with the ballot.
    let receipt: SignedTreeHead = serde_json::from_value(ack["receipt"].clone()).unwrap();
    receipt.vartime_verify(&board_key, fingerprint).unwrap();
    assert_eq!((receipt.size, receipt.root), (seq + 1, ack_root));

    // The voter finds the ballot by its tracker, with a proof against a signed head.
    let found = server
        .get(&e.path(&format!("/ballots/{}", ballot.tracker())))
        .expect(200)
        .json();
    assert_eq!(found["seq"], seq);
    let line = found["line"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(line).unwrap();
    assert_eq!(parsed["type"], "ballot");
    assert_eq!(parsed["tracker"], ballot.tracker().to_string());
    assert_eq!(
        parsed["ballot"],
        serde_json::from_str::<Value>(&ballot.to_json()).unwrap()
    );
    let leaf = leaf_hash(line.as_bytes());
    assert_eq!(found["leaf"], b64_encode(&leaf));
    let sth: SignedTreeHead = serde_json::from_value(found["head"].clone()).unwrap();
    sth.vartime_verify(&board_key, fingerprint).unwrap();
    assert_eq!((sth.size, sth.root), (seq + 1, ack_root));
    let proof = hashes(&found["inclusion"]);
    verify_inclusion(&leaf, seq, sth.size, &proof, &sth.root).unwrap();
    // The proof is bound to the leaf and to the root.
    assert!(verify_inclusion(&leaf_hash(b"x"), seq, sth.size, &proof, &sth.root).is_err());
    assert!(verify_inclusion(&leaf, seq, sth.size, &proof, &head0.root).is_err());

    // More ballots; the board only grows, which a consistency proof between the heads shows.
    for v in 1..4 {
        e.cast(&e.ballot(v, v % 3)).expect(201);
    }
    let head1 = head(server.get(&e.path("/board/head")).expect(200));
    assert_eq!(head1.size, seq + 4);
    for (old, new) in [(&head0, &head1), (&sth, &head1)] {
        let c = server
            .get(&e.path(&format!(
                "/board/consistency?from={}&to={}",
                old.size, new.size
            )))
            .expect(200)
            .json();
        let proof = hashes(&c["path"]);
        verify_consistency(old.size, new.size, &old.root, &new.root, &proof).unwrap();
        assert!(verify_consistency(old.size, new.size, &new.root, &new.root, &proof).is_err());
    }
    // The first ballot's inclusion in the newer head.
    let inc = server
        .get(&e.path(&format!("/board/inclusion/{seq}?size={}", head1.size)))
        .expect(200)
        .json();
    assert_eq!(inc["leaf"], b64_encode(&leaf));
    verify_inclusion(&leaf, seq, head1.size, &hashes(&inc["path"]), &head1.root).unwrap();
    // Out of range.
    server
        .get(&e.path(&format!(
            "/board/inclusion/{}?size={}",
            head1.size, head1.size
        )))
        .expect_error(400, "bad_range");
    server
        .get(&e.path(&format!(
            "/board/consistency?from={}&to={}",
            head1.size, head0.size
        )))
        .expect_error(400, "bad_range");
    // The same head is served again while the board does not grow.
    assert_eq!(head(server.get(&e.path("/board/head")).expect(200)), head1);
    // An unknown tracker, and one that is not a tracker.
    server
        .get(&e.path(&format!("/ballots/{}", b64_encode(&[7; 32]))))
        .expect_error(404, "no_ballot");
    server
        .get(&e.path("/ballots/not-a-tracker"))
        .expect_error(400, "bad_tracker");
}

// ---------------------------------------------------------------------------------------------
// Many voters at once

#[test]
fn concurrent_ballots_from_32_threads_are_all_on_a_record_that_verifies() {
    const BALLOTS: usize = 300;
    const THREADS: usize = 32;
    let server = Server::start();
    let mut e = server.election(
        Spec::new("concurrent").trustees(3, 2).voters(BALLOTS),
        Stage::Open,
    );
    let ballots: Vec<_> = (0..BALLOTS).map(|v| e.ballot(v, v % 3)).collect();
    let next = AtomicUsize::new(0);
    let acks = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(b) = ballots.get(i) else { break };
                    let r = e.cast(b);
                    acks.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let acks = acks.into_inner().unwrap();
    assert_eq!(acks.len(), BALLOTS);
    let mut seqs = HashSet::new();
    let mut trackers = HashSet::new();
    for (i, r) in &acks {
        r.expect(201);
        let ack = r.json();
        assert_eq!(ack["tracker"], ballots[*i].tracker().to_string());
        assert!(seqs.insert(ack["seq"].as_u64().unwrap()), "seq given twice");
        trackers.insert(ack["tracker"].as_str().unwrap().to_owned());
    }
    assert_eq!(server.accepted(), BALLOTS as u64);
    e.advance_to(Stage::Published);

    let record = e.record();
    let report = verify_record(&record);
    assert!(report.valid, "{:?}", report.failures);
    assert!(report.complete);
    assert_eq!(report.ballots_cast, BALLOTS as u64);
    let on_record: Vec<String> = record_trackers(&record);
    assert_eq!(on_record.len(), BALLOTS);
    let on_record: HashSet<String> = on_record.into_iter().collect();
    assert_eq!(
        on_record, trackers,
        "every acknowledged tracker is on the record"
    );
    // Each acknowledgement's seq is the line of its ballot.
    let lines: Vec<Value> = std::str::from_utf8(&record)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (_, r) in &acks {
        let ack = r.json();
        let seq = ack["seq"].as_u64().unwrap() as usize;
        assert_eq!(lines[seq]["tracker"], ack["tracker"]);
    }
    let result = report.result.unwrap();
    let mut expected = [0u64; 3];
    for v in 0..BALLOTS {
        expected[v % 3] += 1;
    }
    assert_eq!(result.questions[0].counts, expected);
    assert_eq!(result.questions[0].blank, Some(0));
    let view = server.get(&e.path("")).expect(200).json();
    assert_eq!(view["phase"], "published");
    assert_eq!(view["result"]["questions"][0]["counts"], json!(expected));
}

// ---------------------------------------------------------------------------------------------
// Administration

/// Every administration route, with an election id where it takes one.
fn admin_routes(id: &str) -> Vec<(&'static str, String)> {
    let e = |rest: &str| format!("/api/v1/admin/elections/{id}{rest}");
    vec![
        ("POST", "/api/v1/admin/logout".into()),
        ("POST", "/api/v1/admin/tokens".into()),
        ("GET", "/api/v1/admin/audit".into()),
        ("GET", "/api/v1/admin/elections".into()),
        ("POST", "/api/v1/admin/elections".into()),
        ("GET", e("")),
        ("PUT", e("")),
        ("POST", e("/setup")),
        ("PUT", e("/credentials")),
        ("POST", e("/seal")),
        ("POST", e("/open")),
        ("POST", e("/close")),
        ("POST", e("/tally")),
        ("POST", e("/publish")),
        ("GET", e("/roll")),
        ("PUT", e("/roll")),
        ("GET", e("/voted")),
        ("GET", e("/mail")),
        ("POST", e("/mail/resend")),
        ("POST", e("/credentials/private")),
        ("POST", e("/credentials/replace")),
        ("POST", e("/purge")),
        ("POST", "/api/v1/admin/mail/bounces".into()),
    ]
}

#[test]
fn admin_routes_refuse_requests_without_a_session_or_token() {
    let server = Server::start();
    let e = server.draft(Spec::new("guarded"));
    // The list is every administration operation the server documents, login aside.
    let spec = server.get("/api/v1/openapi.json").expect(200).json();
    let listed = admin_routes(e.id());
    for (path, operations) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/admin/") || path == "/api/v1/admin/login" {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            let route = (method.to_ascii_uppercase(), path.replace("{id}", e.id()));
            assert!(
                listed
                    .iter()
                    .any(|(m, p)| (m.to_string(), p.clone()) == route),
                "{route:?} is not tested"
            );
        }
    }
    let audit = server.audit().len();
    for (method, path) in admin_routes(e.id()) {
        for headers in [
            vec![],
            vec![("authorization", "Bearer not-a-token")],
            vec![("authorization", "Basic YWRtaW46YWRtaW4=")],
            vec![("cookie", "urne_session=not-a-session")],
        ] {
            let r = server.request(method, &path, &headers, None);
            assert_eq!(
                (r.status, r.code().as_str()),
                (401, "unauthorized"),
                "{method} {path} with {headers:?}: {}",
                r.text()
            );
        }
    }
    let view = server.admin_get(&e.admin_path("")).expect(200).json();
    assert_eq!(view["phase"], "draft");
    assert_eq!(server.audit().len(), audit, "nothing was done");
}

#[test]
fn rejects_cross_site_admin_posts_with_a_valid_session_as_cross_site() {
    let server = Server::start();
    let e = server.draft(Spec::new("csrf"));
    let cookie = server.login(support::ADMIN, support::PASSWORD);
    let audit = server.audit().len();
    let create = json!({ "id": "forged", "draft": Spec::new("forged").draft() });
    let body = serde_json::to_vec(&create).unwrap();
    for cross in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let headers = [("cookie", cookie.as_str()), cross];
        for (method, path, body) in [
            (
                "POST",
                "/api/v1/admin/elections".to_owned(),
                Some(body.as_slice()),
            ),
            ("POST", e.admin_path("/setup"), None),
            ("PUT", e.admin_path(""), Some(body.as_slice())),
            (
                "POST",
                "/api/v1/admin/tokens".to_owned(),
                Some(br#"{"label":"x"}"#.as_slice()),
            ),
            ("POST", "/api/v1/admin/logout".to_owned(), None),
        ] {
            let r = server.request(method, &path, &headers, body);
            assert_eq!(
                (r.status, r.code().as_str()),
                (403, "cross_site"),
                "{method} {path} with {cross:?}: {}",
                r.text()
            );
        }
    }
    // Nothing changed: no election made, the draft not frozen, the session still valid.
    server
        .admin_get("/api/v1/admin/elections/forged")
        .expect_error(404, "no_election");
    let view = server.admin_get(&e.admin_path("")).expect(200).json();
    assert_eq!(view["phase"], "draft");
    assert_eq!(server.audit().len(), audit);
    // Reading is allowed from anywhere (a GET changes nothing) ...
    let r = server.request(
        "GET",
        "/api/v1/admin/elections",
        &[("cookie", &cookie), ("origin", "https://evil.example")],
        None,
    );
    r.expect(200);
    // ... and the same session may change things from its own origin.
    let own = server.base.clone();
    server
        .request(
            "POST",
            "/api/v1/admin/tokens",
            &[("cookie", &cookie), ("origin", &own)],
            Some(br#"{"label":"same origin"}"#.as_slice()),
        )
        .expect(201);
    server
        .request(
            "POST",
            &e.admin_path("/setup"),
            &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
            None,
        )
        .expect(200);
    let view = server.admin_get(&e.admin_path("")).expect(200).json();
    assert_eq!(view["phase"], "setup");
    // A login form posted from another site is refused as well.
    let r = server.post_with(
        "/api/v1/admin/login",
        &[("origin", "https://evil.example")],
        &json!({ "name": support::ADMIN, "password": support::PASSWORD }),
    );
    r.expect_error(403, "cross_site");
    assert!(r.header_all("set-cookie").is_empty());
}

#[test]
fn rejects_a_login_with_a_wrong_password_with_401() {
    let server = Server::start();
    let audit = server.audit().len();
    for (name, password) in [
        (support::ADMIN, "wrong password, long enough"),
        (support::ADMIN, ""),
        ("nobody", support::PASSWORD),
    ] {
        let r = server.post_with(
            "/api/v1/admin/login",
            &[],
            &json!({ "name": name, "password": password }),
        );
        r.expect_error(401, "unauthorized");
        assert!(r.header_all("set-cookie").is_empty(), "no session");
    }
    assert_eq!(server.audit().len(), audit);
}

#[test]
fn login_cookie_is_http_only_and_same_site_strict_and_secure_behind_https() {
    for (public_url, secure) in [
        (None, false),
        (Some("http://vote.example.org"), false),
        (Some("https://vote.example.org"), true),
    ] {
        let server = Server::with_config(|c| c.public_url = public_url.map(str::to_owned));
        let r = server.post_with(
            "/api/v1/admin/login",
            &[],
            &json!({ "name": support::ADMIN, "password": support::PASSWORD }),
        );
        r.expect(204);
        let cookie = r.header_all("set-cookie")[0].to_owned();
        let attributes: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(cookie.starts_with("urne_session="), "{cookie}");
        assert!(attributes.contains(&"httponly".into()), "{cookie}");
        assert!(attributes.contains(&"samesite=strict".into()), "{cookie}");
        assert!(attributes.contains(&"path=/".into()), "{cookie}");
        assert_eq!(attributes.contains(&"secure".into()), secure, "{cookie}");
        // The session works, then logging out ends it.
        let session = cookie.split(';').next().unwrap();
        server
            .request(
                "GET",
                "/api/v1/admin/elections",
                &[("cookie", session)],
                None,
            )
            .expect(200);
        server
            .request("POST", "/api/v1/admin/logout", &[("cookie", session)], None)
            .expect(204);
        server
            .request(
                "GET",
                "/api/v1/admin/elections",
                &[("cookie", session)],
                None,
            )
            .expect_error(401, "unauthorized");
    }
}

#[test]
fn every_admin_action_is_in_the_audit_log() {
    let server = Server::start();
    let mut e = server.draft(Spec::new("audited"));
    let mut edited = Spec::new("audited").draft();
    edited["title"] = json!("Audited election");
    server
        .admin_send("PUT", &e.admin_path(""), &edited)
        .expect(200);
    e.advance_to(Stage::Open);
    e.cast(&e.ballot(0, 0)).expect(201);
    e.advance_to(Stage::Published);
    let cookie = server.login(support::ADMIN, support::PASSWORD);
    server
        .request("POST", "/api/v1/admin/logout", &[("cookie", &cookie)], None)
        .expect(204);

    let log = server.audit();
    let entries: Vec<(String, String, Option<String>)> = log
        .iter()
        .map(|a| {
            (
                a["actor"].as_str().unwrap().to_owned(),
                a["action"].as_str().unwrap().to_owned(),
                a["election"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let has = |actor: &str, action: &str, election: Option<&str>| {
        assert!(
            entries
                .iter()
                .any(|(a, b, c)| a == actor && b == action && c.as_deref() == election),
            "no `{action}` by `{actor}` on {election:?} in the audit log: {entries:?}"
        );
    };
    for action in ["admin.create", "admin.login", "admin.token", "admin.logout"] {
        has(support::ADMIN, action, None);
    }
    for action in [
        "election.create",
        "election.edit",
        "election.setup",
        "election.credentials",
        "election.seal",
        "election.open",
        "election.close",
        "election.tally",
        "election.publish",
    ] {
        has(support::ADMIN, action, Some("audited"));
    }
    has("trustee 1", "election.decrypt", Some("audited"));
    // Entries are numbered in order and timed; the filter keeps one election's.
    let ids: Vec<u64> = log.iter().map(|a| a["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(log.iter().all(|a| a["at"].as_str().unwrap().ends_with('Z')));
    let only = server
        .admin_get("/api/v1/admin/audit?election=audited")
        .expect(200)
        .json();
    let only = only.as_array().unwrap();
    assert!(!only.is_empty());
    assert!(only.iter().all(|a| a["election"] == "audited"));
}

// ---------------------------------------------------------------------------------------------
// The election's lifecycle

#[test]
fn draft_is_editable_only_in_draft() {
    let server = Server::start();
    let mut e = server.draft(Spec::new("editable"));
    let mut draft = Spec::new("editable").draft();
    draft["title"] = json!("Renamed");
    let view = server
        .admin_send("PUT", &e.admin_path(""), &draft)
        .expect(200)
        .json();
    assert_eq!(view["draft"]["title"], "Renamed");
    // An invalid draft is refused with the field at fault.
    let mut bad = draft.clone();
    bad["threshold"] = json!(5);
    let r = server.admin_send("PUT", &e.admin_path(""), &bad);
    r.expect_error(422, "bad_draft");
    assert_eq!(r.json()["error"]["field"], "threshold");
    // A ranked question is accepted (the server runs the mix phase); one that breaks the
    // manifest's rules is refused with the field at fault.
    let mut ranked = draft.clone();
    ranked["questions"][0]["counting"] = json!("schulze");
    ranked["questions"][0]["blank"] = json!(false);
    let view = server
        .admin_send("PUT", &e.admin_path(""), &ranked)
        .expect(200)
        .json();
    assert_eq!(view["draft"]["questions"][0]["counting"], "schulze");
    ranked["questions"][0]["counting"] = json!("stv");
    let r = server.admin_send("PUT", &e.admin_path(""), &ranked);
    r.expect_error(422, "bad_draft");
    assert_eq!(r.json()["error"]["field"], "questions[0].seats");
    server
        .admin_send("PUT", &e.admin_path(""), &draft)
        .expect(200);
    e.setup();
    draft["title"] = json!("Too late");
    server
        .admin_send("PUT", &e.admin_path(""), &draft)
        .expect_error(409, "wrong_phase");
    let view = server.admin_get(&e.admin_path("")).expect(200).json();
    assert_eq!(view["draft"]["title"], "Renamed");
    assert_eq!(view["phase"], "setup");
    // Nor can it be frozen twice.
    server
        .admin_post(&e.admin_path("/setup"))
        .expect_error(409, "wrong_phase");
}

#[test]
fn rejects_opening_before_the_opening_time_as_too_early() {
    let server = Server::start();
    let e = server.election(
        Spec::new("too-early").period(3600, 7200),
        Stage::Credentials,
    );
    let r = server.admin_post(&e.admin_path("/open"));
    r.expect_error(409, "too_early");
    let view = server.admin_get(&e.admin_path("")).expect(200).json();
    assert_eq!(view["phase"], "setup");
    let record = e.record();
    assert!(
        !String::from_utf8(record)
            .unwrap()
            .contains("\"type\":\"open\""),
        "no open line"
    );
    // The scheduler does not open it either.
    server.block_on(urne_server::scheduler::tick(&server.state));
    let view = server.admin_get(&e.admin_path("")).expect(200).json();
    assert_eq!(view["phase"], "setup");
}

#[test]
fn scheduler_opens_an_auto_open_election_once_its_setup_is_complete() {
    let server = Server::start();
    let tick = || server.block_on(urne_server::scheduler::tick(&server.state));
    let phase = |id: &str| {
        server
            .admin_get(&format!("/api/v1/admin/elections/{id}"))
            .expect(200)
            .json()["phase"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut auto = server.election(
        Spec::new("auto").trustees(3, 2).auto_open(),
        Stage::Trustees,
    );
    let _manual = server.election(Spec::new("manual"), Stage::Credentials);
    // No credential list yet: the setup is not complete, so it stays in setup.
    tick();
    assert_eq!(phase("auto"), "setup");
    assert_eq!(auto.board_size(), 0);
    auto.upload_credentials();
    tick();
    assert_eq!(phase("auto"), "open");
    assert_eq!(
        phase("manual"),
        "setup",
        "only auto_open elections are opened"
    );
    // The scheduler's opening declares the booth's files too, just before the open line.
    let report = verify_record(&auto.record());
    assert!(report.valid, "{:#?}", report.failures);
    assert!(report.booth_files.is_some_and(|f| !f.is_empty()));
    // It takes ballots, and the scheduler's action is audited.
    auto.load_manifest();
    auto.cast(&auto.ballot(0, 2)).expect(201);
    let log = server.audit();
    assert!(
        log.iter().any(|a| a["actor"] == "system"
            && a["action"] == "election.open"
            && a["election"] == "auto"),
        "{log:?}"
    );
    // Another tick changes nothing.
    let size = auto.board_size();
    tick();
    assert_eq!(
        (phase("auto"), auto.board_size()),
        ("open".to_owned(), size)
    );
}

#[test]
fn scheduler_closes_an_election_past_its_closing_time() {
    let server = Server::start();
    let tick = || server.block_on(urne_server::scheduler::tick(&server.state));
    let e = server.election(Spec::new("closing").period(-60, 6), Stage::Open);
    let closes_at = e.election().manifest().closes_at.unix();
    let ballot = e.ballot(1, 1);
    e.cast(&e.ballot(0, 0)).expect(201);
    tick();
    if urne_server::clock::now() <= closes_at {
        let view = server.admin_get(&e.admin_path("")).expect(200).json();
        assert_eq!(view["phase"], "open", "not closed before its time");
    }
    while urne_server::clock::now() <= closes_at {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Past the closing time a ballot is refused even before the close line is written.
    let before = e.snapshot();
    let r = e.cast(&ballot);
    e.assert_refused(&r, 409, "election_closed", &before);
    tick();
    let view = server.admin_get(&e.admin_path("")).expect(200).json();
    assert_eq!(view["phase"], "closed");
    let log = server.audit();
    assert!(
        log.iter().any(|a| a["actor"] == "system"
            && a["action"] == "election.close"
            && a["election"] == "closing"),
        "{log:?}"
    );
    // The snapshot of a closed board verifies.
    let report = verify_record(&e.record());
    assert!(report.valid, "{:?}", report.failures);
    assert_eq!((report.stage, report.ballots_cast), ("closed", 1));
}

#[test]
fn trustee_endpoints_refuse_a_wrong_invitation_and_a_trustee_acting_for_another() {
    let server = Server::start();
    let mut e = server.election(Spec::new("trustees").trustees(3, 2), Stage::Setup);
    let public1 = e.identity(1);
    let path1 = e.path("/trustees/1");
    for token in [
        "not-an-invitation",
        e.trustees[0].token.as_str().split_at(10).0,
    ] {
        server
            .post_bearer(&path1, token, &public1)
            .expect_error(401, "unauthorized");
    }
    server
        .request(
            "POST",
            &path1,
            &[],
            Some(serde_json::to_vec(&public1).unwrap().as_slice()),
        )
        .expect_error(401, "unauthorized");
    // Trustee 2's invitation cannot register trustee 1.
    server
        .post_bearer(&path1, &e.trustees[1].token, &public1)
        .expect_error(403, "wrong_trustee");
    // Another election's invitation is not valid here.
    let mut other = server.draft(Spec::new("other-trustees").trustees(3, 2));
    other.setup();
    server
        .post_bearer(&path1, &other.trustees[0].token, &public1)
        .expect_error(401, "unauthorized");
    let view = server.get(&e.path("/ceremony")).expect(200).json();
    assert_eq!(
        view["identities"],
        json!([null, null, null]),
        "nothing registered"
    );

    // The honest registrations; then a dealing sent with another trustee's invitation.
    e.register_trustees();
    server
        .post_bearer(&path1, &e.trustees[0].token, &public1)
        .expect_error(409, "already_registered");
    let identities: Vec<urne_core::group::Point> =
        e.trustees.iter().map(|t| *t.key.public()).collect();
    let (dealing, _) = e.trustees[0]
        .key
        .deal(&mut rand::rng(), e.id(), 1, 2, &identities);
    server
        .post_bearer(&e.path("/ceremony/dealing"), &e.trustees[1].token, &dealing)
        .expect_error(403, "wrong_trustee");
    server
        .post_bearer(&e.path("/ceremony/dealing"), "not-an-invitation", &dealing)
        .expect_error(401, "unauthorized");
    // An answer in another dealer's name.
    let forged = [urne_core::ceremony::Answer {
        dealer: 1,
        accuser: 2,
        share: Scalar::ONE,
        signature: dealing.signature,
    }];
    server
        .post_bearer(&e.path("/ceremony/answers"), &e.trustees[1].token, &forged)
        .expect_error(403, "wrong_trustee");
    let view = server.get(&e.path("/ceremony")).expect(200).json();
    assert_eq!(
        (&view["dealings"], &view["answered"]),
        (&json!([]), &json!([])),
        "nothing relayed"
    );
    // The ceremony then runs normally to a verified result.
    e.hold_ceremony();
    e.advance_to(Stage::Open);
    e.cast(&e.ballot(0, 0)).expect(201);
    e.advance_to(Stage::Published);
    let report = verify_record(&e.record());
    assert!(report.valid && report.complete, "{:?}", report.failures);
}

#[test]
fn rejects_a_wrong_decryption_factor_then_the_honest_trustees_complete_the_result() {
    let server = Server::start();
    let mut e = server.election(Spec::new("decrypt").trustees(3, 2).voters(3), Stage::Open);
    for v in 0..3 {
        e.cast(&e.ballot(v, [2, 0, 2][v])).expect(201);
    }
    e.advance_to(Stage::Tallied);
    let size = e.board_size();
    // A changed response in trustee 1's proof.
    let mut bad = e.factors(1);
    bad.factors[0].z += Scalar::ONE;
    let r = e.send_factors(1, &bad);
    r.expect_error(422, "bad_decryption");
    assert_eq!(e.board_size(), size, "nothing stored");
    // A wrong factor with a proof made for it would need the trustee's secret: trustee 2's
    // honest factors sent as trustee 1's are refused as well.
    let mut swapped = e.factors(2);
    swapped.trustee = 1;
    e.send_factors(1, &swapped)
        .expect_error(422, "bad_decryption");
    // Trustee 2 cannot decrypt in trustee 1's name.
    e.send_factors(2, &e.factors(1))
        .expect_error(403, "wrong_trustee");
    assert_eq!(e.board_size(), size, "nothing stored");
    // Not yet published: there is no result.
    server
        .admin_post(&e.admin_path("/publish"))
        .expect_error(409, "no_result");

    let r = e.send_factors(1, &e.factors(1));
    r.expect(201);
    assert_eq!(r.json()["result"], false);
    e.send_factors(1, &e.factors(1))
        .expect_error(409, "already_sent");
    let r = e.send_factors(3, &e.factors(3));
    r.expect(201);
    assert_eq!(r.json()["result"], true);
    // The absent trustee 2 is not needed any more.
    e.send_factors(2, &e.factors(2))
        .expect_error(409, "decrypted");
    e.publish();
    let view = server.get(&e.path("")).expect(200).json();
    assert_eq!(view["result"]["questions"][0]["counts"], json!([1, 0, 2]));
    let report = verify_record(&e.record());
    assert!(report.valid && report.complete, "{:?}", report.failures);
}

#[test]
fn one_of_one_trustee_election_runs_to_a_verified_result() {
    let server = Server::start();
    let mut e = server.election(Spec::new("single").voters(2), Stage::Open);
    e.cast(&e.ballot(0, 1)).expect(201);
    e.cast(&e.ballot(1, 1)).expect(201);
    e.cast(&e.ballot(1, 0)).expect(201);
    e.advance_to(Stage::Published);
    let report = verify_record(&e.record());
    assert!(report.valid && report.complete, "{:?}", report.failures);
    assert_eq!((report.ballots_cast, report.ballots_counted), (3, 2));
    assert_eq!(report.result.unwrap().questions[0].counts, vec![1, 1, 0]);
}

// ---------------------------------------------------------------------------------------------
// Health and metrics

#[test]
fn healthz_answers_200_with_the_backend_name() {
    let server = Server::start();
    let r = server.get("/healthz");
    r.expect(200);
    assert_eq!(
        r.json(),
        json!({ "status": "ok", "backend": server.state.store.backend() })
    );
    assert_eq!(server.state.store.backend(), "sqlite");
}

#[test]
fn metrics_count_accepted_duplicate_and_rejected_ballots() {
    let server = Server::start();
    let e = server.election(Spec::new("metrics"), Stage::Open);
    let ballot = e.ballot(0, 0);
    e.cast(&ballot).expect(201);
    e.cast(&ballot).expect(200);
    e.cast_raw(b"{").expect(400);
    let r = server.get("/metrics");
    r.expect(200);
    let content_type = r.header_all("content-type").join(",");
    assert!(content_type.contains("openmetrics-text"), "{content_type}");
    let text = r.text();
    for (sample, value) in [
        ("urne_ballots_accepted_total", 1.0),
        ("urne_ballots_duplicate_total", 1.0),
        ("urne_ballots_rejected_total{reason=\"bad_json\"}", 1.0),
        ("urne_ballot_cast_seconds_count", 2.0),
    ] {
        assert_eq!(
            support::metric_value(&text, sample),
            value,
            "{sample} in\n{text}"
        );
    }
    for family in ["urne_ballot_cast_seconds", "urne_group_commit_ballots"] {
        assert!(
            text.contains(&format!("# TYPE {family} histogram")),
            "{text}"
        );
    }
    assert!(text.trim_end().ends_with("# EOF"));
}

#[test]
fn rejects_bad_administration_and_trustee_bodies_with_the_api_error() {
    let server = Server::start();
    let auth = format!("Bearer {}", server.token);
    let headers = [("authorization", auth.as_str())];
    // Not JSON: 400 bad_json with the JSON error body, nothing created.
    let r = server.request(
        "POST",
        "/api/v1/admin/elections",
        &headers,
        Some(b"{\"id\":".as_slice()),
    );
    assert_eq!(
        (r.status, r.code()),
        (400, "bad_json".to_owned()),
        "{}",
        r.text()
    );
    // JSON of the wrong shape: 422 bad_content naming the field.
    let body = br#"{"id":"x","draft":{"title":"T","questions":[],"opens_at":42}}"#;
    let r = server.request(
        "POST",
        "/api/v1/admin/elections",
        &headers,
        Some(body.as_slice()),
    );
    assert_eq!(
        (r.status, r.code()),
        (422, "bad_content".to_owned()),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["error"]["field"], "draft.opens_at", "{}", r.text());
    // A path segment that is not a trustee index.
    let r = server.request(
        "POST",
        "/api/v1/elections/x/trustees/first",
        &headers,
        Some(b"{}".as_slice()),
    );
    assert_eq!(
        (r.status, r.code()),
        (400, "bad_path".to_owned()),
        "{}",
        r.text()
    );
    // A query that does not parse.
    let r = server.get("/api/v1/elections/x/board/consistency?from=minus-one");
    assert_eq!(
        (r.status, r.code()),
        (400, "bad_query".to_owned()),
        "{}",
        r.text()
    );
    assert_eq!(
        server.admin_get("/api/v1/admin/elections").json(),
        serde_json::json!([])
    );
}

#[test]
fn opening_declares_the_served_files_on_the_board_with_their_digests() {
    use sha2::{Digest, Sha256};
    let server = Server::start();
    let e = server.election(Spec::new("sealed-booth"), Stage::Open);
    let record = e.record();
    let text = String::from_utf8(record.clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let booth = lines.iter().position(|l| l["type"] == "booth").unwrap();
    assert_eq!(
        lines[booth + 1]["type"],
        "open",
        "booth is just before open"
    );
    assert_eq!(lines.iter().filter(|l| l["type"] == "booth").count(), 1);
    let report = verify_record(&record);
    assert!(report.valid, "{:#?}", report.failures);
    let files = report.booth_files.unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for p in [
        "/vote/sealed-booth",
        "/audit",
        "/static/booth/booth.js",
        "/static/src/urne/deps.js",
    ] {
        assert!(paths.contains(&p), "{p} is not declared: {paths:?}");
    }
    // Each digest is that of the bytes the running server serves at its path.
    for f in &files {
        let r = server.get(&f.path);
        r.expect(200);
        let got: [u8; 32] = Sha256::digest(&r.body).into();
        assert_eq!(got, f.sha256, "{} differs from its declaration", f.path);
    }
    // deps.js is declared as served (the substituted file), not as it is in web/src/urne/.
    let deps = files
        .iter()
        .find(|f| f.path == "/static/src/urne/deps.js")
        .unwrap();
    let substitute = files
        .iter()
        .find(|f| f.path == "/static/booth/urne-deps.js")
        .unwrap();
    assert_eq!(deps.sha256, substitute.sha256);
}
