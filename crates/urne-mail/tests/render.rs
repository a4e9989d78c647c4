//! The letters as voters read them: both languages, both parts, escaping, the credential in
//! the link's fragment only, no secret in Debug output.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

mod common;

use common::{credential_shaped, election, fresh_credential, parse, sender};
use urne_mail::{Content, Lang, Letter, MailError, Sender, render};
use zeroize::Zeroizing;

fn credential_letter(lang: Lang, title: &str, credential: &Zeroizing<String>) -> Letter {
    Letter {
        to: "Ada Lovelace <ada@example.net>".to_owned(),
        lang,
        election: election(title),
        content: Content::Credential {
            voter: "ada-1815".to_owned(),
            name: Some("Ada Lovelace".to_owned()),
            credential: credential.clone(),
            weight: 1,
        },
    }
}

/// `s` with no-break spaces and line breaks read as spaces, and runs of spaces as one: what a
/// reader sees, wherever the text part was wrapped.
fn norm(s: &str) -> String {
    s.split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every URL in a text: from `http://` or `https://` to the first space, quote or `<`.
fn urls(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find("http") {
        let tail = &rest[pos..];
        if tail.starts_with("https://") || tail.starts_with("http://") {
            let end = tail
                .find(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '\u{a0}')
                .unwrap_or(tail.len());
            out.push(&tail[..end]);
            rest = &tail[end..];
        } else {
            rest = &tail[4..];
        }
    }
    out
}

#[test]
fn english_credential_letter_says_everything() {
    let cred = fresh_credential();
    let r = render(&credential_letter(Lang::En, "AGM 2026", &cred), &sender()).unwrap();
    assert_eq!(r.subject, "Your voting credential: AGM 2026");
    assert!(r.message_id.starts_with('<') && r.message_id.ends_with("@example.org>"));
    assert_eq!(r.envelope_from, "noreply@example.org");
    let m = parse(&r.bytes);
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.part_types, ["text/plain", "text/html"]);
    assert_eq!(m.headers["auto-submitted"], "auto-generated");
    assert_eq!(m.headers["content-language"], "en");
    assert_eq!(m.headers["message-id"], r.message_id);
    assert_eq!(m.headers["subject"], r.subject);
    assert!(m.headers["to"].contains("ada@example.net"));
    for body in [&m.text, &m.html] {
        for needle in [
            "Hello Ada Lovelace,",
            "AGM 2026",
            "29 November 2026, 08:00 UTC",
            "1 December 2026, 18:30 UTC",
            "ada-1815",
            "https://vote.example.org/vote/agm-2026",
            &format!(
                "https://vote.example.org/vote/agm-2026#credential={}",
                *cred
            ),
            "https://vote.example.org/elections/agm-2026/ballots/",
            "https://vote.example.org/elections/agm-2026",
            "urne verify https://vote.example.org/api/v1/elections/agm-2026",
            "tracker",
            "Keep this credential secret",
            "Nobody from the organizers will ever ask you for it",
        ] {
            assert!(
                norm(body).contains(&norm(needle)),
                "missing {needle:?} in\n{body}"
            );
        }
    }
    // The text part stands on its own: the credential on its own line, lines short.
    assert!(m.text.lines().any(|l| l.trim() == cred.as_str()));
    assert!(
        m.text
            .lines()
            .all(|l| l.chars().count() <= 72 || !l.trim().contains(' ')),
        "{}",
        m.text
    );
    assert!(!m.text.contains('<'), "{}", m.text);
}

#[test]
fn french_credential_letter_says_everything() {
    let cred = fresh_credential();
    let r = render(
        &credential_letter(Lang::Fr, "Élection du conseil — 2026", &cred),
        &sender(),
    )
    .unwrap();
    assert_eq!(
        r.subject,
        "Votre clé de vote\u{a0}: Élection du conseil — 2026"
    );
    let m = parse(&r.bytes);
    assert_eq!(m.headers["subject"], r.subject, "UTF-8 subject round trip");
    assert_eq!(m.headers["content-language"], "fr");
    assert!(m.html.contains("<html lang=\"fr\">"));
    for body in [&m.text, &m.html] {
        for needle in [
            "Bonjour Ada Lovelace,",
            "«\u{a0}Élection du conseil — 2026\u{a0}»",
            "29\u{a0}novembre\u{a0}2026 à 08:00\u{a0}UTC",
            "1er\u{a0}décembre\u{a0}2026 à 18:30\u{a0}UTC",
            "ada-1815",
            &format!(
                "https://vote.example.org/vote/agm-2026#credential={}",
                *cred
            ),
            "Si le lien ne fonctionne pas, ouvrez",
            "https://vote.example.org/vote/agm-2026",
            "urne verify https://vote.example.org/api/v1/elections/agm-2026",
            "Gardez cette clé secrète",
            "Personne parmi les organisateurs ne vous la demandera jamais",
            "numéro de suivi",
        ] {
            assert!(
                norm(body).contains(&norm(needle)),
                "missing {needle:?} in\n{body}"
            );
        }
    }
}

#[test]
fn replacement_letter_says_the_old_credential_is_dead() {
    let cred = fresh_credential();
    for (lang, subject, needle) in [
        (
            Lang::En,
            "Your new voting credential: AGM",
            "The old credential no longer works",
        ),
        (
            Lang::Fr,
            "Votre nouvelle clé de vote\u{a0}: AGM",
            "L’ancienne clé ne fonctionne plus",
        ),
    ] {
        let mut letter = credential_letter(lang, "AGM", &cred);
        letter.content = Content::Replacement {
            voter: "ada-1815".to_owned(),
            name: None,
            credential: cred.clone(),
            weight: 3,
        };
        let r = render(&letter, &sender()).unwrap();
        assert_eq!(r.subject, subject);
        let m = parse(&r.bytes);
        assert!(norm(&m.text).contains(needle) && norm(&m.html).contains(needle));
        assert!(m.text.starts_with(if lang == Lang::En {
            "Hello,"
        } else {
            "Bonjour,"
        }));
        assert!(m.text.contains(&format!("#credential={}", *cred)));
        assert!(norm(&m.text).contains(if lang == Lang::En {
            " 3 votes."
        } else {
            " 3 voix."
        }));
    }
}

#[test]
fn login_code_letter() {
    for (lang, needle) in [
        (Lang::En, "valid for 10 minutes"),
        (Lang::Fr, "valable 10\u{a0}minutes"),
    ] {
        let letter = Letter {
            to: "ada@example.net".to_owned(),
            lang,
            election: election("AGM"),
            content: Content::Code {
                voter: "ada-1815".to_owned(),
                code: Zeroizing::new("402913".to_owned()),
                minutes: 10,
            },
        };
        let r = render(&letter, &sender()).unwrap();
        assert!(
            !r.subject.contains("402913"),
            "the code stays out of the subject"
        );
        let m = parse(&r.bytes);
        assert!(m.text.lines().any(|l| l.trim() == "402913"));
        assert!(m.html.contains("402913"));
        assert!(
            m.text.contains(needle) && m.html.contains(needle),
            "{}",
            m.text
        );
        assert!(m.text.contains("ada-1815"));
        assert!(
            !m.text.contains("/vote/"),
            "a login code is not a voting link"
        );
    }
}

#[test]
fn html_is_escaped() {
    let cred = fresh_credential();
    let title = "<b>&\"'</b> <script>alert(1)</script>";
    let mut letter = credential_letter(Lang::En, title, &cred);
    if let Content::Credential { name, voter, .. } = &mut letter.content {
        *name = Some("<img src=x onerror=alert(1)>".to_owned());
        *voter = "a\"b<c>".to_owned();
    }
    let r = render(&letter, &sender()).unwrap();
    let m = parse(&r.bytes);
    assert!(!m.html.contains("<b>"), "{}", m.html);
    assert!(!m.html.contains("<script>"));
    assert!(!m.html.contains("<img"));
    assert!(m.html.contains("&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;"));
    assert!(m.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(m.html.contains("a&quot;b&lt;c&gt;"));
    // The text part shows them as typed, and the subject too.
    assert!(m.text.contains(title));
    assert_eq!(
        m.headers["subject"],
        format!("Your voting credential: {title}")
    );
}

#[test]
fn credential_only_in_the_fragment() {
    let cred = fresh_credential();
    let canonical: String = cred.chars().filter(|&c| c != '-').collect();
    for lang in [Lang::En, Lang::Fr] {
        let r = render(&credential_letter(lang, "AGM", &cred), &sender()).unwrap();
        let raw = String::from_utf8_lossy(&r.bytes).into_owned();
        // Not in any header (the subject, for one).
        let head_end = raw.find("\r\n\r\n").unwrap();
        assert!(!raw[..head_end].contains(cred.as_str()));
        let m = parse(&r.bytes);
        for body in [&m.text, &m.html] {
            let mut in_links = 0;
            for u in urls(body) {
                let (before, fragment) = u.split_once('#').unwrap_or((u, ""));
                assert!(
                    !before.contains(cred.as_str()) && !before.contains(&canonical),
                    "credential before the fragment in {u}"
                );
                if fragment.contains(cred.as_str()) {
                    assert_eq!(fragment, format!("credential={}", *cred));
                    in_links += 1;
                }
            }
            assert!(in_links >= 1, "{body}");
            // Only this credential is there, and no undashed copy.
            assert!(credential_shaped(body).iter().all(|c| c == cred.as_str()));
        }
    }
}

#[test]
fn debug_output_shows_no_secret() {
    let cred = fresh_credential();
    let letter = credential_letter(Lang::En, "AGM", &cred);
    let code = Letter {
        content: Content::Code {
            voter: "v".to_owned(),
            code: Zeroizing::new("402913".to_owned()),
            minutes: 5,
        },
        ..letter.clone()
    };
    let r = render(&letter, &sender()).unwrap();
    let password = urne_mail::SmtpConfig {
        host: "smtp.example.org".to_owned(),
        port: 587,
        security: urne_mail::Security::Starttls,
        username: Some("urne".to_owned()),
        password: Some(Zeroizing::new("hunter2-password".to_owned())),
        timeout: std::time::Duration::from_secs(5),
        extra_root_pem: None,
    };
    let shown = format!(
        "{letter:?} {:?} {code:?} {r:?} {password:?} {:?}",
        letter.content,
        urne_mail::Outbox::Smtp(password.clone())
    );
    assert!(!shown.contains(cred.as_str()), "{shown}");
    assert!(!shown.contains("402913"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("ada-1815"),
        "the rest is still shown: {shown}"
    );
}

#[test]
fn rejects_bad_fields_naming_them() {
    let cred = fresh_credential();
    let good = credential_letter(Lang::En, "AGM", &cred);
    let field = |letter: &Letter, sender: &Sender| match render(letter, sender) {
        Err(MailError::Address { field, .. }) | Err(MailError::Field { field, .. }) => field,
        other => panic!("{:?}", other.map(|r| r.subject)),
    };
    let mut l = good.clone();
    l.to = "not an address".to_owned();
    assert_eq!(field(&l, &sender()), "to");
    let bad_from = Sender {
        from: "urne".to_owned(),
        reply_to: None,
    };
    assert_eq!(field(&good, &bad_from), "from");
    let bad_reply = Sender {
        reply_to: Some("help@".to_owned()),
        ..sender()
    };
    assert_eq!(field(&good, &bad_reply), "reply_to");
    let mut l = good.clone();
    l.election.opens_at = "29/11/2026 08:00".to_owned();
    assert_eq!(field(&l, &sender()), "election.opens_at");
    let mut l = good.clone();
    l.election.closes_at = String::new();
    assert_eq!(field(&l, &sender()), "election.closes_at");
    let mut l = good.clone();
    l.election.id = "agm/../x".to_owned();
    assert_eq!(field(&l, &sender()), "election.id");
    for url in [
        "vote.example.org",
        "https://",
        "https://x.org/?a",
        "javascript:alert(1)",
    ] {
        let mut l = good.clone();
        l.election.public_url = url.to_owned();
        assert_eq!(field(&l, &sender()), "election.public_url", "{url}");
    }
    // A trailing slash is tolerated.
    let mut l = good.clone();
    l.election.public_url = "https://vote.example.org/".to_owned();
    let m = parse(&render(&l, &sender()).unwrap().bytes);
    assert!(m.text.contains("https://vote.example.org/vote/agm-2026#"));
}

#[test]
fn reply_to_changes_the_closing_line() {
    let cred = fresh_credential();
    let s = Sender {
        reply_to: Some("Help desk <help@example.org>".to_owned()),
        ..sender()
    };
    let m = parse(
        &render(&credential_letter(Lang::En, "AGM", &cred), &s)
            .unwrap()
            .bytes,
    );
    assert!(m.headers["reply-to"].contains("help@example.org"));
    assert!(m.text.contains("Reply to this message"));
    let m = parse(
        &render(&credential_letter(Lang::En, "AGM", &cred), &sender())
            .unwrap()
            .bytes,
    );
    assert!(m.text.contains("replies are not read"));
}

#[test]
fn message_ids_are_unique() {
    let cred = fresh_credential();
    let letter = credential_letter(Lang::En, "AGM", &cred);
    let a = render(&letter, &sender()).unwrap();
    let b = render(&letter, &sender()).unwrap();
    assert_ne!(a.message_id, b.message_id);
}

#[test]
fn lang_tags() {
    assert_eq!(Lang::parse("fr"), Some(Lang::Fr));
    assert_eq!(Lang::parse("EN-gb"), Some(Lang::En));
    assert_eq!(Lang::parse("fr_CA"), Some(Lang::Fr));
    assert_eq!(Lang::parse("de"), None);
    assert_eq!(Lang::parse(""), None);
    assert_eq!(serde_json::to_string(&Lang::Fr).unwrap(), "\"fr\"");
    assert_eq!(serde_json::from_str::<Lang>("\"en\"").unwrap(), Lang::En);
    assert_eq!(Lang::En.as_str(), "en");
}
