//! Shared by the tests: letters with real credentials, the loopback SMTP server
//! (tests/smtp_server.py, on aiosmtpd) and readers of what it stored.

// Test helpers: a failure here is a failed test, so unwrap is the right answer.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use urne_core::credential::Credential;
use urne_mail::{Content, ElectionInfo, Lang, Letter, Sender};
use zeroize::Zeroizing;

pub fn election(title: &str) -> ElectionInfo {
    ElectionInfo {
        id: "agm-2026".to_owned(),
        title: title.to_owned(),
        opens_at: "2026-11-29T09:00:00+01:00".to_owned(),
        closes_at: "2026-12-01T18:30:00Z".to_owned(),
        public_url: "https://vote.example.org".to_owned(),
    }
}

pub fn sender() -> Sender {
    Sender {
        from: "urne <noreply@example.org>".to_owned(),
        reply_to: None,
    }
}

pub fn fresh_credential() -> Zeroizing<String> {
    Credential::generate(&mut rand::rng()).display()
}

/// Letters to voters `v0 … v{n-1}` at `v{i}@example.org`, each with its own new credential.
pub fn credential_letters(n: usize) -> (Vec<(String, Letter)>, Vec<Zeroizing<String>>) {
    let mut letters = Vec::with_capacity(n);
    let mut credentials = Vec::with_capacity(n);
    for i in 0..n {
        let credential = fresh_credential();
        credentials.push(credential.clone());
        letters.push((
            format!("v{i}"),
            Letter {
                to: format!("v{i}@example.org"),
                lang: if i % 2 == 0 { Lang::En } else { Lang::Fr },
                election: election("Conseil d’administration 2026"),
                content: Content::Credential {
                    voter: format!("v{i}"),
                    name: Some(format!("Voter {i}")),
                    credential,
                    weight: 1,
                },
            },
        ));
    }
    (letters, credentials)
}

/// Every credential-shaped string in `text`: six dashed groups of five upper-case letters or
/// digits, and runs of exactly 30 of them (a credential without its dashes).
pub fn credential_shaped(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let cred_char = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let mut found = Vec::new();
    for start in 0..b.len() {
        if b.len() - start < 35 {
            break;
        }
        let window = &b[start..start + 35];
        let dashed = window
            .iter()
            .enumerate()
            .all(|(k, &c)| if k % 6 == 5 { c == b'-' } else { cred_char(c) });
        if dashed {
            found.push(String::from_utf8_lossy(window).into_owned());
        }
    }
    let mut run = 0;
    for (k, &c) in b.iter().chain(std::iter::once(&b' ')).enumerate() {
        if cred_char(c) {
            run += 1;
        } else {
            if run == 30 {
                found.push(String::from_utf8_lossy(&b[k - 30..k]).into_owned());
            }
            run = 0;
        }
    }
    found
}

/// A parsed message: headers we look at, and the decoded text and HTML parts.
pub struct Parsed {
    pub headers: HashMap<String, String>,
    pub content_type: String,
    pub text: String,
    pub html: String,
    pub part_types: Vec<String>,
}

pub fn parse(raw: &[u8]) -> Parsed {
    let mail = mailparse::parse_mail(raw).expect("the message parses");
    let headers = mail
        .headers
        .iter()
        .map(|h| (h.get_key().to_ascii_lowercase(), h.get_value()))
        .collect();
    let mut text = String::new();
    let mut html = String::new();
    let mut part_types = Vec::new();
    for part in &mail.subparts {
        let ct = part.ctype.mimetype.clone();
        assert_eq!(part.ctype.charset.to_ascii_lowercase(), "utf-8");
        let body = part.get_body().expect("the part decodes");
        match ct.as_str() {
            "text/plain" => text = body,
            "text/html" => html = body,
            other => panic!("unexpected part {other}"),
        }
        part_types.push(ct);
    }
    Parsed {
        headers,
        content_type: mail.ctype.mimetype.clone(),
        text,
        html,
        part_types,
    }
}

/// Whether aiosmtpd is there; without it the SMTP tests pass with a warning, unless
/// URNE_REQUIRE_SMTP=1 (scripts/test.sh sets it), where they fail.
pub fn smtp_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("URNE_REQUIRE_SMTP").as_deref() == Ok("1") {
            panic!("URNE_REQUIRE_SMTP=1 but python3 cannot import aiosmtpd");
        }
        eprintln!(
            "warning: python3 cannot import aiosmtpd: SMTP test skipped \
             (python3 -m pip install aiosmtpd)"
        );
    }
    ok
}

#[derive(Default, Clone)]
pub struct ServerOptions {
    pub fail_first: u32,
    pub drop_first: u32,
    pub reject: Vec<String>,
    /// "none", "starttls" or "implicit"; with `cert` (certificate chain, key), PEM.
    pub tls: Option<&'static str>,
    pub cert: Option<(String, String)>,
}

/// tests/smtp_server.py, running; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    pub maildir: PathBuf,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    pub fn start(options: &ServerOptions) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let log = dir.path().join("log.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_server.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg("--maildir")
            .arg(&maildir)
            .arg("--log")
            .arg(&log)
            .arg("--fail-first")
            .arg(options.fail_first.to_string())
            .arg("--drop-first")
            .arg(options.drop_first.to_string())
            .arg("--tls")
            .arg(options.tls.unwrap_or("none"));
        for r in &options.reject {
            cmd.arg("--reject").arg(r);
        }
        if let Some((cert, key)) = &options.cert {
            let c = dir.path().join("cert.pem");
            let k = dir.path().join("key.pem");
            std::fs::write(&c, cert).unwrap();
            std::fs::write(&k, key).unwrap();
            cmd.arg("--cert").arg(c).arg("--key").arg(k);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                panic!("the SMTP server did not start within 30 s");
            }
        };
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("the SMTP server said {line:?} instead of READY <port>")
            });
        let stdin = child.stdin.take();
        SmtpServer {
            child,
            stdin,
            port,
            maildir,
            log,
            _dir: dir,
        }
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// (recipient, result) for every RCPT TO and DATA the server answered, in order.
    pub fn log_entries(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["rcpt"].as_str().unwrap().to_owned(),
                    v["result"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The messages stored, raw.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        read_maildir(&self.maildir)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn read_maildir(dir: &Path) -> Vec<Vec<u8>> {
    let new = dir.join("new");
    let Ok(entries) = std::fs::read_dir(&new) else {
        return Vec::new();
    };
    entries
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect()
}

/// A test certificate authority and a server certificate for 127.0.0.1 and localhost:
/// (CA certificate, server certificate chain, server key), PEM.
pub fn test_pki() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "urne-mail test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    (ca.pem(), cert.pem() + &ca.pem(), key.serialize_pem())
}
