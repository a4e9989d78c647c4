//! The server's mail worker against a real SMTP server on loopback (aiosmtpd, through
//! urne-mail's tests/smtp_server.py): temporary refusals are retried until the mail goes
//! through, a permanent refusal is recorded as bounced at once, each voter gets their own
//! credential, and the delivery report says so. Skipped with a warning when aiosmtpd is
//! missing, unless URNE_REQUIRE_SMTP=1 (scripts/test.sh sets it).

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use support::{Server, Spec, Stage};
use urne_core::credential::Credential;

fn smtp_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("URNE_REQUIRE_SMTP").as_deref() != Ok("1"),
            "URNE_REQUIRE_SMTP=1 but python3 cannot import aiosmtpd"
        );
        eprintln!("warning: python3 cannot import aiosmtpd: SMTP test skipped");
    }
    ok
}

/// The SMTP server, stopped when dropped (its standard input closes).
struct Smtp {
    child: Child,
    port: u16,
    maildir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp(args: &[&str]) -> Smtp {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../urne-mail/tests/smtp_server.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .arg("--maildir")
        .arg(&maildir)
        .arg("--log")
        .arg(dir.path().join("log.jsonl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .strip_prefix("READY ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("the SMTP server said {line:?}"));
    Smtp {
        child,
        port,
        maildir,
        _dir: dir,
    }
}

#[test]
fn retries_until_delivered_and_records_bounces() {
    if !smtp_available() {
        return;
    }
    let smtp = start_smtp(&[
        "--fail-first",
        "2",
        "--reject",
        "v3@example.org",
        "--tls",
        "none",
    ]);
    let port = smtp.port;
    let server = Server::with_config(|c| {
        c.mail.outbox = urne_server::config::MailOutbox::Smtp;
        c.mail.smtp.host = "127.0.0.1".into();
        c.mail.smtp.port = Some(port);
        c.mail.smtp.security = "none".into();
        c.mail.smtp.timeout_seconds = 5;
        c.mail.max_attempts = 5;
        c.mail.first_retry_seconds = 1;
        c.mail.max_retry_seconds = 1;
        c.mail.per_second = 1000.0;
    });
    server.start_mailer();
    let e = server.election(Spec::new("smtp").with_roll().voters(6), Stage::Credentials);
    let entries: Vec<Value> = e
        .credentials
        .iter()
        .enumerate()
        .map(|(i, c)| json!({ "voter": format!("v{}", i + 1), "credential": c.display().as_str() }))
        .collect();
    server
        .admin_send(
            "POST",
            &e.admin_path("/credentials/private"),
            &json!({ "credentials": entries }),
        )
        .expect(200);
    let report = server.wait_mail_report(e.id(), |r| r["queued"] == 0);
    assert_eq!(
        (
            report["sent"].clone(),
            report["bounced"].clone(),
            report["failed"].clone()
        ),
        (json!(5), json!(1), json!(0)),
        "{report}"
    );
    let bounced = &report["problems"][0];
    assert_eq!(bounced["voter"], "v3");
    assert_eq!(bounced["status"], "bounced");
    assert_eq!(bounced["attempts"], 1);
    assert!(bounced["last_error"].as_str().unwrap().contains("550"));
    // Every delivered message went to its voter, with that voter's credential only.
    let mut delivered = 0;
    for entry in std::fs::read_dir(smtp.maildir.join("new"))
        .unwrap()
        .flatten()
    {
        let bytes = std::fs::read(entry.path()).unwrap();
        let mail = mailparse::parse_mail(&bytes).unwrap();
        let to = mail
            .headers
            .iter()
            .find(|h| h.get_key() == "X-Envelope-To")
            .map(|h| h.get_value())
            .unwrap();
        let v: usize = to
            .trim()
            .strip_prefix('v')
            .and_then(|r| r.strip_suffix("@example.org"))
            .unwrap()
            .parse()
            .unwrap();
        let text = mail
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == "text/plain")
            .unwrap()
            .get_body()
            .unwrap();
        let found: Vec<String> = text
            .lines()
            .filter_map(|l| Credential::parse(l.trim()).ok())
            .map(|c| c.display().to_string())
            .collect();
        assert_eq!(found, vec![e.credentials[v - 1].display().to_string()]);
        delivered += 1;
    }
    assert_eq!(delivered, 5);
    // Each delivered mail took three attempts (two refusals, then accepted).
    assert!(server.metric("urne_mail_attempts_total{outcome=\"queued\"}") >= 10.0);
    assert_eq!(
        server.metric("urne_mail_attempts_total{outcome=\"sent\"}"),
        5.0
    );
}
