//! `urne credentials hand-over` against a real `urne serve`: the weaker mode, where the
//! credential authority gives the private credentials to the server, which mails them. It must
//! be confirmed, and then every voter's letter, written by the server's mail worker into its
//! outbox, carries that voter's credential.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/server.rs"]
mod server;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use server::{Server, text, urne};
use urne_core::manifest::Timestamp;

const ID: &str = "hand-over-e2e";

#[test]
fn the_server_mails_the_credentials_it_is_handed() {
    let dir = tempfile::tempdir().unwrap();
    let (server, token) = Server::start(dir.path());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let draft = json!({
        "title": "Hand-over",
        "questions": [{ "text": "Yes?", "answers": ["Yes", "No"], "min": 1, "max": 1, "blank": true, "counting": "plurality" }],
        "opens_at": Timestamp::from_unix(now + 3600).unwrap(),
        "closes_at": Timestamp::from_unix(now + 7200).unwrap(),
        "trustees": ["T"],
        "threshold": 1,
        "language": "fr",
    });
    server.admin(
        "POST",
        "/elections",
        &token,
        &json!({ "id": ID, "draft": draft }),
    );
    let roll = "id,email,name\na1,a1@example.org,Ann\na2,a2@example.org,Bob\na3,a3@example.org,\n";
    std::fs::write(dir.path().join("roll.csv"), roll).unwrap();
    let r = server
        .agent
        .put(format!(
            "{}/api/v1/admin/elections/{ID}/roll?format=csv",
            server.base
        ))
        .header("authorization", format!("Bearer {token}"))
        .send(roll)
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    server.admin(
        "POST",
        &format!("/elections/{ID}/setup"),
        &token,
        &json!({}),
    );
    let auth = dir.path().join("authority");
    let o = urne()
        .args([
            "credentials",
            "generate",
            "--quiet",
            "--election",
            ID,
            "--roll",
        ])
        .arg(dir.path().join("roll.csv"))
        .arg("--out")
        .arg(&auth)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let public: Value =
        serde_json::from_slice(&std::fs::read(auth.join("public-credentials.json")).unwrap())
            .unwrap();
    server.admin(
        "PUT",
        &format!("/elections/{ID}/credentials"),
        &token,
        &public,
    );
    let private = auth.join("private-credentials.csv");
    let url = format!("{}/api/v1/elections/{ID}", server.base);
    let hand_over = |confirm: bool| {
        let mut c = urne();
        c.args(["credentials", "hand-over", "--private"])
            .arg(&private)
            .args(["--election-url", &url])
            .env("URNE_ADMIN_TOKEN", &token);
        if confirm {
            c.arg("--i-understand-the-server-sees-them");
        }
        c.output().unwrap()
    };
    // Not without saying that the operator will see them.
    let o = hand_over(false);
    assert!(!o.status.success());
    assert!(text(&o).contains("urne credentials mail"), "{}", text(&o));
    let o = hand_over(true);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("queued 3 letters"), "{}", text(&o));
    // The server's mail worker writes the letters into its outbox.
    let expected: Vec<(String, String)> = std::fs::read_to_string(&private)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].to_owned(), f[5].to_owned())
        })
        .collect();
    let outbox = dir.path().join("server").join("outbox").join("new");
    let started = Instant::now();
    let letters = loop {
        // Each letter as its recipient and its decoded plain-text part.
        let letters: Vec<(String, String)> = std::fs::read_dir(&outbox)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        let bytes = std::fs::read(e.path()).unwrap();
                        let mail = mailparse::parse_mail(&bytes).unwrap();
                        let to = mail
                            .headers
                            .iter()
                            .find(|h| h.get_key().eq_ignore_ascii_case("to"))
                            .map(|h| h.get_value())
                            .unwrap_or_default();
                        let body = mail
                            .subparts
                            .iter()
                            .find(|p| p.ctype.mimetype == "text/plain")
                            .map(|p| p.get_body().unwrap())
                            .unwrap_or_default();
                        (to, body)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if letters.len() >= 3 {
            break letters;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{letters:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(letters.len(), 3);
    for (email, credential) in &expected {
        let mine: Vec<&String> = letters
            .iter()
            .filter(|(to, _)| to.contains(email.as_str()))
            .map(|(_, body)| body)
            .collect();
        assert_eq!(mine.len(), 1, "{email}");
        assert!(
            mine[0].contains(&format!("#credential={credential}")),
            "{email}: {}",
            mine[0]
        );
        for (other, theirs) in &expected {
            if other != email {
                assert!(
                    !mine[0].contains(theirs.as_str()),
                    "{email} has {other}'s credential"
                );
            }
        }
    }
    // A second hand-over is refused: resending goes one voter at a time.
    let o = hand_over(true);
    assert!(!o.status.success());
    assert!(text(&o).contains("handed_over"), "{}", text(&o));
}
