//! Voters end to end, against a real server on a loopback port: the roll's import (every error
//! by line, nothing stored while one remains), logins with a mailed one-time code (read back
//! from the Maildir outbox), the link of an identity to one credential, who voted, a lost
//! credential replaced on the board before opening, the weaker mode where the server mails the
//! credentials (with resending and the delivery report), mail retried then recorded as failed
//! when the relay is down, and the deletion of personal data after publication.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Resp, Server, Spec, Stage, TestElection, verify_record};
use urne_core::credential::{Credential, PublicCredential};

fn put_roll(server: &Server, id: &str, query: &str, content_type: &str, body: &str) -> Resp {
    let auth = format!("Bearer {}", server.token);
    server.request(
        "PUT",
        &format!("/api/v1/admin/elections/{id}/roll{query}"),
        &[("authorization", &auth), ("content-type", content_type)],
        Some(body.as_bytes()),
    )
}

fn roll_size(server: &Server, id: &str) -> u64 {
    server
        .admin_get(&format!("/api/v1/admin/elections/{id}/roll"))
        .expect(200)
        .json()["voters_total"]
        .as_u64()
        .unwrap()
}

fn lines_of(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_roll_with_errors_is_reported_by_line_and_nothing_is_imported() {
    let server = Server::start();
    let e = server.draft(Spec::new("roll-errors"));
    let bad = "id,email,weight\n\
               alice,alice@example.org,1\n\
               bob,not-an-address,1\n\
               carol,carol@example.org,0\n\
               alice,alice2@example.org,1\n\
               dave,dave@example.org,-3\n";
    // The preview first: every error with its line, nothing stored.
    let r = put_roll(&server, e.id(), "?dry_run=true", "text/csv", bad);
    r.expect(200);
    let v = r.json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["imported"], false);
    assert_eq!(lines_of(&v["errors"]), vec![3, 4, 5, 6], "{v}");
    assert_eq!(roll_size(&server, e.id()), 0);
    // Importing it is refused with the same list, and still nothing is stored.
    let r = put_roll(&server, e.id(), "", "text/csv", bad);
    r.expect_error(422, "bad_roll");
    let v = r.json();
    assert_eq!(v["error"]["field"], "line 3");
    assert_eq!(lines_of(&v["error"]["details"]), vec![3, 4, 5, 6]);
    assert_eq!(roll_size(&server, e.id()), 0);
    // Bad encoding: a Latin-1 byte on line 2.
    let auth = format!("Bearer {}", server.token);
    let r = server.request(
        "PUT",
        &format!("/api/v1/admin/elections/{}/roll", e.id()),
        &[("authorization", &auth), ("content-type", "text/csv")],
        Some(b"id,email\nh\xe9lo,helo@example.org\n"),
    );
    r.expect_error(422, "bad_roll");
    assert_eq!(lines_of(&r.json()["error"]["details"]), vec![2]);
    // Weights other than 1 in an election of equal weights.
    let r = put_roll(
        &server,
        e.id(),
        "",
        "text/csv",
        "id,email,weight\na,a@example.org,3\n",
    );
    r.expect_error(422, "bad_roll");
    assert_eq!(r.json()["error"]["details"][0]["field"], "weight");
    assert_eq!(roll_size(&server, e.id()), 0);
    // Neither CSV nor JSON.
    put_roll(&server, e.id(), "", "text/plain", "id,email\n").expect_error(415, "bad_content_type");
    assert!(
        server
            .audit()
            .iter()
            .all(|a| a["action"] != "election.roll")
    );
}

#[test]
fn a_valid_roll_is_previewed_then_imported_while_the_election_is_a_draft() {
    let server = Server::start();
    let mut e = server.draft(Spec::new("roll-ok"));
    let csv = "id,email,name,lang\n\
               alice,alice@example.org,Alice,fr\n\
               bob,shared@example.org,,en\n\
               carol,shared@example.org,Carol,\n";
    let r = put_roll(&server, e.id(), "?dry_run=true", "text/csv", csv);
    r.expect(200);
    let v = r.json();
    assert_eq!(
        (v["valid"].clone(), v["voters"].clone()),
        (json!(true), json!(3))
    );
    assert_eq!(v["imported"], false);
    // The shared address is a warning naming its line, not an error.
    assert_eq!(lines_of(&v["warnings"]), vec![4]);
    assert_eq!(roll_size(&server, e.id()), 0);
    let r = put_roll(&server, e.id(), "", "text/csv", csv);
    r.expect(200);
    assert_eq!(r.json()["imported"], true);
    assert_eq!(roll_size(&server, e.id()), 3);
    // Replaced as a whole, from JSON this time.
    let json_roll = r#"[
      {"id": "dave", "email": "dave@example.org"},
      {"id": "erin", "email": "erin@example.org", "lang": "fr"}
    ]"#;
    put_roll(&server, e.id(), "", "application/json", json_roll).expect(200);
    let page = server.admin_get(&e.admin_path("/roll")).expect(200).json();
    let ids: Vec<&str> = page["voters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["voter"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["dave", "erin"]);
    // JSON errors carry lines too.
    let r = put_roll(
        &server,
        e.id(),
        "",
        "application/json",
        "[\n {\"id\": \"x\", \"email\": \"x@example.org\"},\n {\"id\": \"y\", \"email\": \"y@\"}\n]",
    );
    r.expect_error(422, "bad_roll");
    assert_eq!(lines_of(&r.json()["error"]["details"]), vec![3]);
    // Frozen once the election leaves its draft.
    e.setup();
    put_roll(&server, e.id(), "", "text/csv", csv).expect_error(409, "wrong_phase");
    assert_eq!(roll_size(&server, e.id()), 2);
}

/// The code mailed to `voter`, from the outbox (the latest of its messages).
fn code_for(server: &Server, voter: &str, expected: usize) -> String {
    let mails = server.outbox(expected, Duration::from_secs(20));
    let to = format!("{voter}@example.org");
    mails
        .iter()
        .filter(|(t, _)| t.contains(&to))
        .filter_map(|(_, text)| {
            text.lines()
                .map(str::trim)
                .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_owned)
        })
        .next_back()
        .unwrap_or_else(|| panic!("no code for {voter} in {mails:?}"))
}

fn login(e: &TestElection<'_>, voter: &str, code: &str) -> Resp {
    e.server.post_with(
        &e.path("/voter/login"),
        &[],
        &json!({ "voter": voter, "code": code }),
    )
}

fn cast_as(e: &TestElection<'_>, token: &str, v: usize, choice: usize) -> Resp {
    let auth = format!("Bearer {token}");
    e.server.request(
        "POST",
        &e.path("/ballots"),
        &[("authorization", &auth)],
        Some(e.ballot(v, choice).to_json().as_bytes()),
    )
}

#[test]
fn voters_log_in_with_a_mailed_code_and_each_identity_votes_with_one_credential() {
    let server = Server::start();
    server.start_mailer();
    let e = server.election(Spec::new("login").with_roll().voters(3), Stage::Open);
    // No login, no ballot.
    e.cast(&e.ballot(0, 1)).expect_error(401, "unauthorized");
    // A code for v1, mailed; an unknown identifier gets the same answer and no mail.
    let ask =
        |voter: &str| server.post_with(&e.path("/voter/code"), &[], &json!({ "voter": voter }));
    let a = ask("v1");
    a.expect(202);
    let b = ask("nobody");
    b.expect(202);
    assert_eq!(a.json(), b.json());
    let code = code_for(&server, "v1", 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.outbox(0, Duration::ZERO).len(), 1, "one mail only");
    // A wrong code counts as a try.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let r = login(&e, "v1", wrong);
    r.expect_error(401, "bad_code");
    let r = login(&e, "v1", &code);
    r.expect(200);
    assert!(
        r.header_all("set-cookie")[0].contains("HttpOnly; SameSite=Strict"),
        "{:?}",
        r.header_all("set-cookie")
    );
    let token = r.json()["token"].as_str().unwrap().to_owned();
    // The code is used up.
    login(&e, "v1", &code).expect_error(401, "no_code");
    // v1 votes with credential 0, and may vote again with it.
    cast_as(&e, &token, 0, 1).expect(201);
    cast_as(&e, &token, 0, 2).expect(201);
    // Not with another credential.
    cast_as(&e, &token, 1, 0).expect_error(403, "identity_has_credential");
    // v2 cannot use v1's credential.
    ask("v2").expect(202);
    let code2 = code_for(&server, "v2", 2);
    let token2 = login(&e, "v2", &code2).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    cast_as(&e, &token2, 0, 0).expect_error(403, "credential_of_another_voter");
    cast_as(&e, &token2, 1, 0).expect(201);
    // Who voted: for the administrators (by default), sorted, without ballots.
    let voted = server.admin_get(&e.admin_path("/voted")).expect(200).json();
    assert_eq!(voted["voters"], json!(["v1", "v2"]));
    server
        .get(&e.path("/voted"))
        .expect_error(403, "not_public");
    // A session of another election does not vote here; a bad token neither.
    cast_as(&e, "not-a-token", 2, 0).expect_error(401, "unauthorized");
    // The cookie works too, from this site; not from another one.
    let cookie = format!("urne_voter={token}");
    e.server
        .request(
            "POST",
            &e.path("/ballots"),
            &[("cookie", &cookie), ("origin", "https://evil.example")],
            Some(e.ballot(0, 0).to_json().as_bytes()),
        )
        .expect_error(403, "cross_site");
}

#[test]
fn too_many_wrong_codes_kill_the_code_and_codes_are_rate_limited() {
    let server = Server::with_config(|c| {
        c.voters.code_attempts = 2;
        c.voters.codes_per_hour = 2;
    });
    server.start_mailer();
    let e = server.election(Spec::new("attempts").with_roll().voters(1), Stage::Open);
    let ask = || server.post_with(&e.path("/voter/code"), &[], &json!({ "voter": "v1" }));
    ask().expect(202);
    let code = code_for(&server, "v1", 1);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    login(&e, "v1", wrong).expect_error(401, "bad_code");
    let last = login(&e, "v1", wrong);
    last.expect_error(401, "bad_code");
    assert!(
        last.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("last try")
    );
    // The right code comes too late.
    login(&e, "v1", &code).expect_error(401, "too_many_attempts");
    ask().expect(202);
    ask().expect_error(429, "too_many_codes");
}

#[test]
fn public_list_of_who_voted_when_the_election_says_so() {
    let server = Server::start();
    server.start_mailer();
    let spec = Spec::new("public-voted").with_roll().voters(2);
    let mut draft = spec.draft();
    draft["voted_list"] = json!("public");
    server
        .admin_send(
            "POST",
            "/api/v1/admin/elections",
            &json!({ "id": "public-voted", "draft": draft }),
        )
        .expect(201);
    put_roll(&server, "public-voted", "", "text/csv", &spec.roll_csv()).expect(200);
    let mut e = TestElection::existing(&server, spec);
    e.advance_to(Stage::Open);
    server
        .post_with(&e.path("/voter/code"), &[], &json!({ "voter": "v2" }))
        .expect(202);
    let code = code_for(&server, "v2", 1);
    let token = login(&e, "v2", &code).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    cast_as(&e, &token, 1, 0).expect(201);
    let voted = server.get(&e.path("/voted")).expect(200).json();
    assert_eq!(voted["voters"], json!(["v2"]));
}

#[test]
fn sealing_checks_the_roll_against_the_credential_list() {
    let server = Server::start();
    let mut e = server.election(Spec::new("mismatch").with_roll().voters(3), Stage::Trustees);
    // Two credentials for a roll of three.
    let list: Vec<PublicCredential> = (0..2)
        .map(|_| PublicCredential {
            credential: *Credential::generate(&mut rand::rng())
                .derive_key(e.id())
                .public(),
            weight: 1,
        })
        .collect();
    server
        .admin_send(
            "PUT",
            &e.admin_path("/credentials"),
            &json!({ "credentials": list }),
        )
        .expect(200);
    server
        .admin_post(&e.admin_path("/seal"))
        .expect_error(409, "roll_mismatch");
    e.upload_credentials();
    e.seal();
}

#[test]
fn a_lost_credential_is_revoked_on_the_board_and_replaced_before_opening() {
    let server = Server::start();
    let mut e = server.election(Spec::new("replace").voters(3), Stage::Sealed);
    let before = e.board_size();
    let old = *e.credentials[1].derive_key(e.id()).public();
    let fresh = Credential::generate(&mut rand::rng());
    let new = *fresh.derive_key(e.id()).public();
    let body = json!({ "revoke": old, "credential": { "credential": new, "weight": 1 } });
    // Refused: an unknown credential, a credential listed already, another weight.
    let stranger = *Credential::generate(&mut rand::rng())
        .derive_key(e.id())
        .public();
    let path = e.admin_path("/credentials/replace");
    server
        .admin_send(
            "POST",
            &path,
            &json!({ "revoke": stranger, "credential": { "credential": new, "weight": 1 } }),
        )
        .expect_error(422, "bad_replacement");
    let listed = *e.credentials[2].derive_key(e.id()).public();
    server
        .admin_send(
            "POST",
            &path,
            &json!({ "revoke": old, "credential": { "credential": listed, "weight": 1 } }),
        )
        .expect_error(422, "bad_replacement");
    server
        .admin_send(
            "POST",
            &path,
            &json!({ "revoke": old, "credential": { "credential": new, "weight": 2 } }),
        )
        .expect_error(422, "bad_replacement");
    // Weak mode only: the server cannot mail in an authority-mailed election.
    server
        .admin_send("POST", &path, &json!({ "revoke": old, "credential": { "credential": new, "weight": 1 }, "mail": { "voter": "v2", "credential": fresh.display().as_str() } }))
        .expect_error(422, "bad_replacement");
    assert_eq!(e.board_size(), before);
    let r = server.admin_send("POST", &path, &body);
    r.expect(200);
    assert_eq!(r.json()["seq"], before);
    assert_eq!(e.board_size(), before + 2);
    // Revoking it again is refused: it is no longer listed.
    server
        .admin_send("POST", &path, &body)
        .expect_error(422, "bad_replacement");
    e.credentials[1] = fresh;
    e.open();
    // The new credential votes.
    e.cast(&e.ballot(1, 0)).expect(201);
    server
        .admin_send("POST", &path, &body)
        .expect_error(409, "wrong_phase");
    e.advance_to(Stage::Published);
    let report = verify_record(&e.record());
    assert_eq!(report.revoked, 1, "{report:?}");
}

#[test]
fn a_revoked_credential_is_refused_after_opening() {
    let server = Server::start();
    let mut e = server.election(Spec::new("revoked").voters(2), Stage::Sealed);
    let lost = e.credentials[0].clone();
    let fresh = Credential::generate(&mut rand::rng());
    let body = json!({
        "revoke": *lost.derive_key(e.id()).public(),
        "credential": { "credential": *fresh.derive_key(e.id()).public(), "weight": 1 },
    });
    server
        .admin_send("POST", &e.admin_path("/credentials/replace"), &body)
        .expect(200);
    e.open();
    e.cast(&e.ballot(0, 0))
        .expect_error(422, "unknown_credential");
    e.credentials[0] = fresh;
    e.cast(&e.ballot(0, 0)).expect(201);
}

#[test]
fn in_the_weaker_mode_the_server_mails_the_credentials_and_resends_them() {
    let server = Server::start();
    server.start_mailer();
    let mut e = server.election(
        Spec::new("hand-over").with_roll().voters(5),
        Stage::Credentials,
    );
    // In the authority's mode, resending is the authority's business.
    server
        .admin_send(
            "POST",
            &e.admin_path("/mail/resend"),
            &json!({ "voter": "v1" }),
        )
        .expect_error(409, "authority_mails");
    let entries = |creds: &[Credential]| -> Vec<Value> {
        creds
            .iter()
            .enumerate()
            .map(|(i, c)| json!({ "voter": format!("v{}", i + 1), "credential": c.display().as_str() }))
            .collect()
    };
    // A credential that is not in the list, a voter missing: refused, nothing queued.
    let mut wrong = entries(&e.credentials);
    wrong[2]["credential"] = json!(Credential::generate(&mut rand::rng()).display().as_str());
    let r = server.admin_send(
        "POST",
        &e.admin_path("/credentials/private"),
        &json!({ "credentials": wrong }),
    );
    r.expect_error(422, "bad_credentials");
    assert_eq!(r.json()["error"]["field"], "credentials[2].credential");
    let short = entries(&e.credentials[..4]);
    server
        .admin_send(
            "POST",
            &e.admin_path("/credentials/private"),
            &json!({ "credentials": short }),
        )
        .expect_error(422, "bad_credentials");
    let r = server.admin_send(
        "POST",
        &e.admin_path("/credentials/private"),
        &json!({ "credentials": entries(&e.credentials) }),
    );
    r.expect(200);
    assert_eq!(r.json()["queued"], 5);
    // Each voter's mail carries that voter's credential and no other.
    let mails = server.outbox(5, Duration::from_secs(20));
    assert_eq!(mails.len(), 5);
    for (i, c) in e.credentials.iter().enumerate() {
        let to = format!("v{}@example.org", i + 1);
        let (_, text) = mails.iter().find(|(t, _)| t.contains(&to)).unwrap();
        let found: Vec<String> = text
            .lines()
            .filter_map(|l| Credential::parse(l.trim()).ok())
            .map(|c| c.display().to_string())
            .collect();
        assert_eq!(found, vec![c.display().to_string()], "{to}");
        assert!(text.contains(&format!("#credential={}", c.display().as_str())));
    }
    // The report says five sent, nothing else.
    let report = server.wait_mail_report(e.id(), |r| r["sent"] == 5);
    assert_eq!(
        (report["failed"].clone(), report["bounced"].clone()),
        (json!(0), json!(0))
    );
    server
        .admin_send(
            "POST",
            &e.admin_path("/mail/resend"),
            &json!({ "voter": "v3" }),
        )
        .expect(200);
    let mails = server.outbox(6, Duration::from_secs(20));
    assert_eq!(
        mails
            .iter()
            .filter(|(t, _)| t.contains("v3@example.org"))
            .count(),
        2
    );
    server
        .admin_send(
            "POST",
            &e.admin_path("/mail/resend"),
            &json!({ "voter": "nobody" }),
        )
        .expect_error(404, "no_voter");
    // A relay that took v4's mail reports later that it could not deliver it.
    let id = message_id_to(&server, "v4@example.org");
    let dsn = format!(
        "From: MAILER-DAEMON@relay.example\r\nTo: noreply@localhost\r\nSubject: Undelivered\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\n\
         Final-Recipient: rfc822; v4@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\nTo: v4@example.org\r\nMessage-ID: {id}\r\n--b--\r\n"
    );
    let auth = format!("Bearer {}", server.token);
    let r = server.request(
        "POST",
        "/api/v1/admin/mail/bounces",
        &[("authorization", &auth), ("content-type", "message/rfc822")],
        Some(dsn.as_bytes()),
    );
    r.expect(200);
    assert_eq!(r.json()["found"], true);
    let report = server.admin_get(&e.admin_path("/mail")).expect(200).json();
    assert_eq!(report["bounced"], 1);
    let bounced: Vec<&Value> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "bounced")
        .collect();
    assert_eq!(bounced.len(), 1);
    assert_eq!(bounced[0]["voter"], "v4");
    assert!(bounced[0]["last_error"].as_str().unwrap().contains("5.1.1"));
    // Something that is not a bounce report.
    server
        .request(
            "POST",
            "/api/v1/admin/mail/bounces",
            &[("authorization", &auth), ("content-type", "message/rfc822")],
            Some(b"Subject: hello\r\n\r\nhi\r\n"),
        )
        .expect_error(422, "not_a_bounce");
    e.seal();
}

/// The Message-ID of the first message in the outbox to `to`.
fn message_id_to(server: &Server, to: &str) -> String {
    let dir = server.state.config.maildir_path().join("new");
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let (headers, _) = mailparse::parse_headers(&bytes).unwrap();
        let get = |k: &str| {
            headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case(k))
                .map(|h| h.get_value())
                .unwrap_or_default()
        };
        if get("To").contains(to) {
            return get("Message-ID");
        }
    }
    panic!("no message to {to}");
}

#[test]
fn when_the_relay_is_down_mail_is_retried_then_recorded_as_failed() {
    // A port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server::with_config(|c| {
        c.mail.outbox = urne_server::config::MailOutbox::Smtp;
        c.mail.smtp.host = "127.0.0.1".into();
        c.mail.smtp.port = Some(port);
        c.mail.smtp.security = "none".into();
        c.mail.smtp.timeout_seconds = 2;
        c.mail.max_attempts = 3;
        c.mail.first_retry_seconds = 0;
        c.mail.max_retry_seconds = 0;
    });
    server.start_mailer();
    let e = server.election(Spec::new("relay-down").with_roll().voters(2), Stage::Open);
    server
        .post_with(&e.path("/voter/code"), &[], &json!({ "voter": "v1" }))
        .expect(202);
    let report = server.wait_mail_report(e.id(), |r| r["failed"] == 1);
    assert_eq!(report["sent"], 0);
    let problem = &report["problems"][0];
    assert_eq!(problem["voter"], "v1");
    assert_eq!(problem["status"], "failed");
    assert_eq!(problem["attempts"], 3);
    assert!(!problem["last_error"].as_str().unwrap().is_empty());
    assert!(server.metric("urne_mail_attempts_total{outcome=\"failed\"}") >= 1.0);
    assert!(server.metric("urne_mail_attempts_total{outcome=\"queued\"}") >= 2.0);
}

#[test]
fn personal_data_is_deleted_after_publication_and_the_record_still_verifies() {
    let server = Server::start();
    server.start_mailer();
    let mut e = server.election(Spec::new("purge").with_roll().voters(2), Stage::Open);
    server
        .post_with(&e.path("/voter/code"), &[], &json!({ "voter": "v1" }))
        .expect(202);
    let code = code_for(&server, "v1", 1);
    let token = login(&e, "v1", &code).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    cast_as(&e, &token, 0, 1).expect(201);
    server
        .admin_post(&e.admin_path("/purge"))
        .expect_error(409, "wrong_phase");
    e.advance_to(Stage::Published);
    let record = e.record();
    // Nothing personal on the board.
    let text = String::from_utf8(record.clone()).unwrap();
    assert!(!text.contains("example.org") && !text.contains("\"v1\""));
    // The retention period (90 days by default) is not over: the scheduler keeps the data.
    server.block_on(urne_server::voters::purge_due(&server.state));
    assert_eq!(roll_size(&server, e.id()), 2);
    let r = server.admin_post(&e.admin_path("/purge"));
    r.expect(200);
    assert_eq!(r.json()["voters"], 2);
    assert_eq!(roll_size(&server, e.id()), 0);
    let voted = server.admin_get(&e.admin_path("/voted")).expect(200).json();
    assert_eq!(voted["voters"], json!([]));
    let mail = server.admin_get(&e.admin_path("/mail")).expect(200).json();
    assert_eq!(mail["sent"], 0);
    // The board is untouched and still verifies.
    assert_eq!(e.record(), record);
    verify_record(&record);
    assert!(
        server
            .audit()
            .iter()
            .any(|a| a["action"] == "election.purge")
    );
}

#[test]
fn the_scheduler_deletes_personal_data_once_the_retention_period_is_over() {
    let server = Server::start();
    let spec = Spec::new("retention").with_roll().voters(2);
    let mut draft = spec.draft();
    draft["retention_days"] = json!(0);
    server
        .admin_send(
            "POST",
            "/api/v1/admin/elections",
            &json!({ "id": "retention", "draft": draft }),
        )
        .expect(201);
    put_roll(&server, "retention", "", "text/csv", &spec.roll_csv()).expect(200);
    let mut e = TestElection::existing(&server, spec);
    e.advance_to(Stage::Published);
    assert_eq!(roll_size(&server, e.id()), 2);
    server.block_on(urne_server::voters::purge_due(&server.state));
    assert_eq!(roll_size(&server, e.id()), 0);
}
