//! In the credential-authority mode, the server never stores or logs a private credential.
//!
//! The `urne` binary runs a whole election (`urne demo`: a roll, credentials made and mailed by
//! the authority's own tool, logins by mailed codes, ballots, tally, publication) with the most
//! verbose logging (`RUST_LOG=trace`), its output captured. The test then reads every private
//! credential from the authority's private file and looks for it, in every form a leak could
//! take, in every file of the server's data directory (the SQLite database and its -wal and
//! -shm files, the board key, the server's mail outbox, raw and MIME-decoded) and in the
//! captured logs. Only the authority's own folder may hold them. The demo's process also plays
//! the voters, who read their credentials in their mail, so its logs hold more than a lone
//! server's would: a clean result is the stronger for it.
//!
//! The forms: the dashed display form and the 30 characters without dashes, both in upper and
//! lower case, the 26 data characters alone (all that the signing key is derived from), and
//! the signing scalar x of spec §5.2 for this election, as its 32 bytes (either byte order), in
//! hex (either case), base64url and base64. The search is shown able to fail: the same test
//! finds credentials planted in the data directory in several of these forms, one inside a
//! base64-encoded mail, and finds every credential in the authority's folder.
//!
//! The public record must hold no voter's identifier, name or address either.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use urne_core::credential::Credential;
use urne_core::group::{Point, b64_encode};
use urne_core::hash::{ItemHasher, tags};

/// The demo's election id (the record's credential lines are checked against it below).
const ELECTION: &str = "demo-agm-2026";

/// A pattern to look for, and what it is.
struct Needle {
    /// Which credential (its line in the private file, from 0) or roll entry.
    owner: usize,
    /// The form, for the failure message.
    form: &'static str,
    bytes: Vec<u8>,
}

/// Finds many needles (each at least 8 bytes long) in one pass over a haystack.
struct Finder {
    needles: Vec<Needle>,
    by_prefix: HashMap<[u8; 8], Vec<usize>>,
}

/// One hit: the needle's index and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hit {
    needle: usize,
    place: String,
}

impl Finder {
    fn new(needles: Vec<Needle>) -> Self {
        let mut by_prefix: HashMap<[u8; 8], Vec<usize>> = HashMap::new();
        for (i, n) in needles.iter().enumerate() {
            assert!(
                n.bytes.len() >= 8,
                "needle {} ({}) too short",
                n.owner,
                n.form
            );
            by_prefix
                .entry(n.bytes[..8].try_into().unwrap())
                .or_default()
                .push(i);
        }
        Finder { needles, by_prefix }
    }

    fn find(&self, haystack: &[u8], place: &str, hits: &mut Vec<Hit>) {
        if haystack.len() < 8 {
            return;
        }
        for start in 0..=haystack.len() - 8 {
            let prefix: [u8; 8] = haystack[start..start + 8].try_into().unwrap();
            let Some(candidates) = self.by_prefix.get(&prefix) else {
                continue;
            };
            for &i in candidates {
                if haystack[start..].starts_with(&self.needles[i].bytes) {
                    hits.push(Hit {
                        needle: i,
                        place: format!("{place} at byte {start}"),
                    });
                }
            }
        }
    }

    fn describe(&self, hits: &[Hit]) -> String {
        hits.iter()
            .take(20)
            .map(|h| {
                let n = &self.needles[h.needle];
                format!("  #{} ({}) in {}\n", n.owner, n.form, h.place)
            })
            .collect()
    }
}

/// The signing scalar x of a credential for `ELECTION` (spec §5.2), as 32 bytes, checked
/// against the public credential the core library derives.
fn signing_scalar(c: &Credential) -> [u8; 32] {
    let canonical: String = c.display().chars().filter(|&ch| ch != '-').collect();
    let mut h = ItemHasher::new(tags::CREDENTIAL_KEY);
    h.str(ELECTION).bytes(&canonical.as_bytes()[..26]);
    let x = h.challenge();
    let public = Point::from_element(Point::generator().element() * x);
    assert_eq!(
        &public,
        c.derive_key(ELECTION).public(),
        "spec §5.2: x·G is the public credential"
    );
    x.to_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every form in which credential `owner` could leak.
fn credential_needles(owner: usize, c: &Credential) -> Vec<Needle> {
    let dashed = c.display().to_string();
    let undashed: String = dashed.chars().filter(|&ch| ch != '-').collect();
    let x = signing_scalar(c);
    let mut reversed = x;
    reversed.reverse();
    let url = b64_encode(&x);
    let standard = url.replace('-', "+").replace('_', "/") + "=";
    let text = [
        ("dashed", dashed.clone()),
        ("dashed, lower case", dashed.to_ascii_lowercase()),
        ("without dashes", undashed.clone()),
        ("without dashes, lower case", undashed.to_ascii_lowercase()),
        ("data characters", undashed[..26].to_owned()),
        (
            "data characters, lower case",
            undashed[..26].to_ascii_lowercase(),
        ),
        ("x in hex", hex(&x)),
        ("x in upper-case hex", hex(&x).to_ascii_uppercase()),
        ("x big-endian in hex", hex(&reversed)),
        ("x in base64url", url),
        ("x in base64", standard),
    ];
    let mut out: Vec<Needle> = text
        .into_iter()
        .map(|(form, s)| Needle {
            owner,
            form,
            bytes: s.into_bytes(),
        })
        .collect();
    out.push(Needle {
        owner,
        form: "x as bytes",
        bytes: x.to_vec(),
    });
    out.push(Needle {
        owner,
        form: "x as big-endian bytes",
        bytes: reversed.to_vec(),
    });
    out
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Searches every file under `dir`, and every part of each file that parses as a mail,
/// decoded (a body in base64 or quoted-printable hides its text from a search of the bytes).
fn search_dir(finder: &Finder, dir: &Path) -> Vec<Hit> {
    let mut hits = vec![];
    for path in files(dir) {
        let bytes = std::fs::read(&path).unwrap();
        let place = path.display().to_string();
        finder.find(&bytes, &place, &mut hits);
        if path.components().any(|c| c.as_os_str() == "outbox") {
            let mail = mailparse::parse_mail(&bytes).unwrap();
            for (i, part) in mail.parts().enumerate() {
                let body = part.get_body_raw().unwrap();
                finder.find(&body, &format!("{place}, part {i} decoded"), &mut hits);
            }
        }
    }
    hits
}

/// The authority's private file: each voter's line, with its credential.
struct Private {
    voter: String,
    email: String,
    name: String,
    credential: Credential,
}

fn read_private(path: &Path) -> Vec<Private> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, email, name, credential) = (
        col("voter_id"),
        col("email"),
        col("name"),
        col("credential"),
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Private {
                voter: r[id].to_owned(),
                email: r[email].to_owned(),
                name: r[name].to_owned(),
                credential: Credential::parse(&r[credential]).unwrap(),
            }
        })
        .collect()
}

#[test]
fn the_server_never_stores_nor_logs_a_private_credential() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("election");
    let voters = 24;
    let o = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args([
            "demo",
            "--voters",
            &voters.to_string(),
            "--revote-percent",
            "25",
            "--quiet",
        ])
        .arg("--out")
        .arg(&out)
        // The most verbose logging, of every crate in the process.
        .env("RUST_LOG", "trace")
        .env_remove("URNE_LOG_FORMAT")
        .output()
        .unwrap();
    let logs = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
    let logs_text = String::from_utf8_lossy(&logs);
    assert!(
        o.status.success(),
        "the demo failed:\n{}",
        &logs_text[logs_text.len().saturating_sub(20_000)..]
    );
    // The logs are there and verbose: the server's request traces and its mail worker.
    for expected in ["TRACE", "DEBUG", "/voter/login", "/ballots", "mail sent"] {
        assert!(
            logs_text.contains(expected),
            "the logs never say `{expected}`"
        );
    }

    let server = out.join("server");
    let authority = out.join("authority");
    for f in ["board-key", "urne.sqlite"] {
        let present = files(&server)
            .iter()
            .any(|p| p.file_name().unwrap().to_string_lossy().starts_with(f));
        assert!(
            present,
            "no {f} in {}: {:?}",
            server.display(),
            files(&server)
        );
    }
    let private = read_private(&authority.join("private-credentials.csv"));
    assert_eq!(private.len(), voters);
    let needles: Vec<Needle> = private
        .iter()
        .enumerate()
        .flat_map(|(i, p)| credential_needles(i, &p.credential))
        .collect();
    let finder = Finder::new(needles);

    // The credentials are those of the election: each one's public credential is on the record.
    let record = std::fs::read_to_string(out.join("record.jsonl")).unwrap();
    for p in &private {
        let x = p.credential.derive_key(ELECTION).public().to_string();
        assert!(
            record.contains(&format!("\"credential\":\"{x}\"")),
            "{}'s X is not on the record",
            p.voter
        );
    }

    // The search finds them where they are: in the authority's private file, and in its
    // letters once decoded.
    let hits = search_dir(&finder, &authority);
    for (i, p) in private.iter().enumerate() {
        assert!(
            hits.iter().any(|h| {
                let n = &finder.needles[h.needle];
                n.owner == i && n.form == "dashed" && h.place.contains("private-credentials.csv")
            }),
            "{}'s credential not found in the private file",
            p.voter
        );
        assert!(
            hits.iter()
                .any(|h| finder.needles[h.needle].owner == i && h.place.contains("decoded")),
            "{}'s credential not found in the authority's letters",
            p.voter
        );
    }

    // The server's data directory and the logs hold none.
    let hits = search_dir(&finder, &server);
    assert!(
        hits.is_empty(),
        "private credentials in the server's data:\n{}",
        finder.describe(&hits)
    );
    let mut hits = vec![];
    finder.find(&logs, "the logs", &mut hits);
    assert!(
        hits.is_empty(),
        "private credentials in the logs:\n{}",
        finder.describe(&hits)
    );
    // The same search finds a scalar slipped into the logs in hex.
    let mut leaky = logs.clone();
    leaky.extend_from_slice(
        format!(
            "DEBUG key={}\n",
            hex(&signing_scalar(&private[5].credential))
        )
        .as_bytes(),
    );
    let mut hits = vec![];
    finder.find(&leaky, "the logs", &mut hits);
    let found: Vec<(usize, &str)> = hits
        .iter()
        .map(|h| {
            (
                finder.needles[h.needle].owner,
                finder.needles[h.needle].form,
            )
        })
        .collect();
    assert_eq!(found, vec![(5, "x in hex")]);

    // The server's own outbox holds login codes only, one per voter.
    let letters = files(&server.join("outbox"));
    assert_eq!(letters.len(), voters, "{letters:?}");
    for l in &letters {
        let bytes = std::fs::read(l).unwrap();
        let mail = mailparse::parse_mail(&bytes).unwrap();
        let text = mail
            .parts()
            .find(|p| p.ctype.mimetype == "text/plain")
            .unwrap()
            .get_body()
            .unwrap();
        assert!(
            text.contains("one-time login code") && !text.contains("credential="),
            "{text}"
        );
    }

    // The search can fail: credentials planted in the data directory are found, in the forms
    // planted, and nothing else is.
    let plant = |name: &str, bytes: &[u8]| std::fs::write(server.join(name), bytes).unwrap();
    let c0 = private[0].credential.display().to_ascii_lowercase();
    plant("planted-0.txt", format!("note: {c0}\n").as_bytes());
    let mut x1 = vec![0u8; 100];
    x1.extend_from_slice(&signing_scalar(&private[1].credential));
    x1.extend_from_slice(&[0xff; 100]);
    plant("planted-1.bin", &x1);
    let x2 = b64_encode(&signing_scalar(&private[2].credential));
    plant("planted-2.log", format!("{{\"x\":\"{x2}\"}}").as_bytes());
    // A letter whose body is in base64, as a server mailing credentials would write it.
    let body = format!(
        "Your credential: {}\n",
        private[3].credential.display().as_str()
    );
    let encoded = urne_core::group::b64_encode(body.as_bytes())
        .replace('-', "+")
        .replace('_', "/");
    let padded = format!("{encoded}{}", "=".repeat((4 - encoded.len() % 4) % 4));
    let mail = format!(
        "To: {}\r\nSubject: test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{padded}\r\n",
        private[3].email
    );
    std::fs::write(server.join("outbox/new/planted-3"), mail).unwrap();
    let undashed: String = private[4]
        .credential
        .display()
        .chars()
        .filter(|&c| c != '-')
        .collect();
    plant("planted-4.txt", undashed.as_bytes());
    let hits = search_dir(&finder, &server);
    let mut found: Vec<(usize, &str)> = hits
        .iter()
        .map(|h| {
            (
                finder.needles[h.needle].owner,
                finder.needles[h.needle].form,
            )
        })
        .collect();
    found.sort();
    found.dedup();
    assert_eq!(
        found,
        vec![
            (0, "dashed, lower case"),
            (1, "x as bytes"),
            (2, "x in base64url"),
            (3, "dashed"),
            (4, "data characters"),
            (4, "without dashes"),
        ],
        "{}",
        finder.describe(&hits)
    );
    assert!(
        hits.iter()
            .any(|h| h.place.contains("planted-3, part 0 decoded"))
    );
    assert!(!hits.iter().any(|h| h.place.contains("planted-3 at byte")));

    // The public record holds no voter's identifier, name or address; the server's database
    // holds them (the roll), which shows the search finds them.
    let people: Vec<Needle> = private
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            [
                ("voter id", &p.voter),
                ("email", &p.email),
                ("name", &p.name),
            ]
            .into_iter()
            .map(move |(form, s)| Needle {
                owner: i,
                form,
                bytes: s.as_bytes().to_vec(),
            })
        })
        .chain(std::iter::once(Needle {
            owner: 0,
            form: "the roll's mail domain",
            bytes: b"@example.org".to_vec(),
        }))
        .collect();
    let people = Finder::new(people);
    let mut hits = vec![];
    people.find(record.as_bytes(), "the record", &mut hits);
    assert!(
        hits.is_empty(),
        "personal data on the public record:\n{}",
        people.describe(&hits)
    );
    let mut hits = vec![];
    for p in files(&server) {
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("urne.sqlite")
        {
            people.find(
                &std::fs::read(&p).unwrap(),
                &p.display().to_string(),
                &mut hits,
            );
        }
    }
    for form in ["voter id", "email"] {
        assert!(
            hits.iter().any(|h| people.needles[h.needle].form == form),
            "the roll's {form}s are not in the server's database: the search is broken"
        );
    }
}
