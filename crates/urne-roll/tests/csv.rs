//! CSV rolls: one test per error kind, each asserting the exact line and field, and the
//! accepted forms (BOM, CRLF, quotes, blank lines, spaces, separators).

#![allow(clippy::unwrap_used)]

use urne_roll::{
    Format, HeaderProblem, Lang, MAX_ERRORS, Roll, RollError, RollErrorKind as K, RollErrors,
    Voter, parse,
};

fn ok(text: &str) -> Roll {
    parse(text.as_bytes(), Format::Csv).unwrap_or_else(|e| panic!("{e}: {:#?}", e.errors))
}

fn errors(text: &[u8]) -> RollErrors {
    match parse(text, Format::Csv) {
        Ok(roll) => panic!("accepted: {roll:#?}"),
        Err(e) => e,
    }
}

/// The only error of `text`: its line, field and kind.
fn only(text: &str) -> RollError {
    let e = errors(text.as_bytes());
    assert_eq!(e.errors.len(), 1, "{:#?}", e.errors);
    e.errors.into_iter().next().unwrap()
}

fn assert_error(text: &str, line: u64, field: Option<&str>, kind: K) {
    let e = only(text);
    assert_eq!(
        (e.line, e.field.as_deref(), &e.kind),
        (line, field, &kind),
        "{e}"
    );
}

/// A roll of `n` good voters after the header, on lines 2..=n+1.
fn good(n: usize) -> String {
    let mut s = String::from("id,email\n");
    for i in 0..n {
        s.push_str(&format!("v{i},v{i}@example.org\n"));
    }
    s
}

fn voter(id: &str, email: &str) -> Voter {
    Voter {
        id: id.into(),
        email: email.into(),
        weight: 1,
        name: None,
        lang: None,
    }
}

#[test]
fn reads_every_column() {
    let roll = ok("id,email,weight,name,lang\n\
                   v1,ada@example.org,3,Ada Lovelace,en\n\
                   v2,alan@example.org,,,FR\n");
    assert_eq!(
        roll.voters,
        vec![
            Voter {
                weight: 3,
                name: Some("Ada Lovelace".into()),
                lang: Some(Lang::En),
                ..voter("v1", "ada@example.org")
            },
            Voter {
                lang: Some(Lang::Fr),
                ..voter("v2", "alan@example.org")
            },
        ]
    );
    assert!(roll.warnings.is_empty());
    assert_eq!(roll.total_weight(), 4);
    assert!(roll.is_weighted());
}

#[test]
fn reads_columns_in_any_order_and_case() {
    let roll = ok("Lang, EMAIL ,Id\nen,ada@example.org,v1\n");
    assert_eq!(
        roll.voters,
        vec![Voter {
            lang: Some(Lang::En),
            ..voter("v1", "ada@example.org")
        }]
    );
    assert!(!roll.is_weighted());
}

#[test]
fn accepts_bom_crlf_blank_lines_spaces_and_quotes() {
    let text = "\u{feff}id,email,name\r\n\r\n  v1 , Ada@Example.ORG ,\"Lovelace, Ada\"\r\n\
                ,,\r\n   \r\nv2,\"alan@example.org\",\"Alan \"\"A.\"\" Turing\"\r\n";
    let roll = ok(text);
    assert_eq!(
        roll.voters,
        vec![
            Voter {
                name: Some("Lovelace, Ada".into()),
                ..voter("v1", "Ada@example.org")
            },
            Voter {
                name: Some("Alan \"A.\" Turing".into()),
                ..voter("v2", "alan@example.org")
            },
        ]
    );
}

#[test]
fn accepts_semicolons_and_tabs_when_the_header_has_no_comma() {
    for sep in [";", "\t"] {
        let text = format!("id{sep}email{sep}name\nv1{sep}ada@example.org{sep}Ada, Countess\n");
        let roll = ok(&text);
        assert_eq!(roll.voters[0].name.as_deref(), Some("Ada, Countess"));
    }
}

#[test]
fn rejects_a_latin1_file_at_its_first_bad_line() {
    let mut text = b"id,email,name\nv1,ada@example.org,Ada\nv2,elise@example.org,".to_vec();
    text.extend_from_slice(b"\xC9lise\nv3,zoe@example.org,Zo\xEB\n");
    let e = errors(&text);
    assert_eq!(e.errors.len(), 1);
    let e = &e.errors[0];
    assert_eq!(
        (e.line, e.field.as_deref(), &e.kind),
        (3, None, &K::Encoding)
    );
    assert!(e.to_string().contains("save the file as UTF-8"), "{e}");
}

#[test]
fn rejects_a_utf16_file() {
    let text: Vec<u8> = "id,email\nv1,a@example.org\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let e = errors(&text);
    assert_eq!((e.errors[0].line, &e.errors[0].kind), (1, &K::Encoding));
    let mut with_bom = vec![0xFF, 0xFE];
    with_bom.extend_from_slice(&text);
    assert_eq!(errors(&with_bom).errors[0].kind, K::Encoding);
}

#[test]
fn rejects_unknown_repeated_and_missing_columns_on_line_1() {
    assert_error(
        "id,email,phone\nv1,a@example.org,555\n",
        1,
        Some("phone"),
        K::Header(HeaderProblem::Unknown("phone".into())),
    );
    assert_error(
        "id,email,Email\nv1,a@example.org,b@example.org\n",
        1,
        Some("email"),
        K::Header(HeaderProblem::Repeated("Email".into())),
    );
    assert_error(
        "id,name\nv1,Ada\n",
        1,
        Some("email"),
        K::Header(HeaderProblem::Missing("email")),
    );
    // A roll without a header: its first voter is read as one, and every name is wrong.
    let e = errors(b"v1,ada@example.org\nv2,alan@example.org\n");
    let kinds: Vec<(u64, &str)> = e.errors.iter().map(|e| (e.line, e.kind.code())).collect();
    assert_eq!(
        kinds,
        [
            (1, "unknown_column"),
            (1, "unknown_column"),
            (1, "missing_column"),
            (1, "missing_column")
        ]
    );
}

#[test]
fn rejects_a_record_with_another_number_of_fields() {
    assert_error(
        "id,email,name\nv1,a@example.org,Ada\nv2,b@example.org,Doe, John\n",
        3,
        None,
        K::Columns {
            expected: 3,
            found: 4,
        },
    );
    assert_error(
        "id,email,name\nv1,a@example.org\n",
        2,
        None,
        K::Columns {
            expected: 3,
            found: 2,
        },
    );
}

#[test]
fn rejects_an_unclosed_or_stray_quote() {
    assert_error(
        "id,email\nv1,a@example.org\nv2,\"b@example.org\nv3,c@example.org\n",
        3,
        None,
        K::Quote,
    );
    assert_error(
        "id,email,name\nv1,a@example.org,O\"Brien\nv2,b@example.org,\n",
        2,
        None,
        K::Quote,
    );
}

#[test]
fn rejects_a_missing_id() {
    assert_error(
        "id,email\nv1,a@example.org\n  ,b@example.org\n",
        3,
        Some("id"),
        K::MissingId,
    );
}

#[test]
fn rejects_a_bad_id() {
    let long = "x".repeat(129);
    let e = only(&format!("id,email\n{long},a@example.org\n"));
    assert_eq!(
        (e.line, e.field.as_deref(), e.kind.code()),
        (2, Some("id"), "bad_id")
    );
    assert!(e.to_string().contains("128"), "{e}");
    ok(&format!("id,email\n{},a@example.org\n", "é".repeat(128)));
    let e = only("id,email\n\"v\u{7}1\",a@example.org\n");
    assert_eq!(
        (e.line, e.field.as_deref(), e.kind.code()),
        (2, Some("id"), "bad_id")
    );
}

#[test]
fn rejects_a_duplicate_id_naming_the_first_line() {
    assert_error(
        "id,email\nv1,a@example.org\nv2,b@example.org\n\n v1 ,c@example.org\n",
        5,
        Some("id"),
        K::DuplicateId { first_line: 2 },
    );
    // Identifiers are compared exactly.
    assert_eq!(
        ok("id,email\nv1,a@example.org\nV1,b@example.org\n")
            .voters
            .len(),
        2
    );
}

#[test]
fn rejects_a_missing_email() {
    assert_error("id,email\nv1,\n", 2, Some("email"), K::MissingEmail);
    assert_error(
        "id,email,name\nv1,\"  \",Ada\n",
        2,
        Some("email"),
        K::MissingEmail,
    );
}

#[test]
fn rejects_a_bad_email() {
    let e = only("id,email\nv1,a@example.org\nv2,bob@\n");
    assert_eq!((e.line, e.field.as_deref()), (3, Some("email")));
    assert!(matches!(&e.kind, K::BadEmail(v, _) if v == "bob@"), "{e}");
    assert!(
        e.to_string()
            .starts_with("line 3, email: `bob@` is not an email address"),
        "{e}"
    );
    for bad in [
        "Bob <bob@example.org>",
        "bob@localhost",
        "bob(x)@example.org",
        "bob",
    ] {
        let e = only(&format!("id,email\nv1,\"{bad}\"\n"));
        assert_eq!((e.line, e.kind.code()), (2, "bad_email"), "{bad}");
    }
}

#[test]
fn rejects_weights_of_zero_or_less_fractional_too_large_and_not_numbers() {
    let cases: [(&str, K); 6] = [
        ("0", K::WeightNotPositive),
        ("-3", K::WeightNegative("-3".into())),
        ("2.5", K::WeightFractional("2.5".into())),
        ("\"2,5\"", K::WeightFractional("2,5".into())),
        ("1000000001", K::WeightTooLarge("1000000001".into())),
        ("two", K::BadWeight("two".into())),
    ];
    let mut messages = Vec::new();
    for (w, kind) in cases {
        let text = format!("id,email,weight\nv0,z@example.org,2\nv1,a@example.org,{w}\n");
        let e = only(&text);
        messages.push(e.to_string());
        assert_eq!(
            (e.line, e.field.as_deref(), &e.kind),
            (3, Some("weight"), &kind)
        );
    }
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), 6, "each weight error has its own message");
    assert_eq!(
        ok("id,email,weight\nv1,a@example.org,1000000000\n").total_weight(),
        1_000_000_000
    );
}

#[test]
fn rejects_a_bad_name() {
    let e = only(&format!(
        "id,email,name\nv1,a@example.org,{}\n",
        "n".repeat(201)
    ));
    assert_eq!(
        (e.line, e.field.as_deref(), e.kind.code()),
        (2, Some("name"), "bad_name")
    );
    let e = only("id,email,name\nv1,a@example.org,Ada\nv2,b@example.org,\"Alan\tTuring\"\n");
    assert_eq!(
        (e.line, e.field.as_deref(), e.kind.code()),
        (3, Some("name"), "bad_name")
    );
}

#[test]
fn rejects_a_bad_lang() {
    assert_error(
        "id,email,lang\nv1,a@example.org,fr\nv2,b@example.org,de\n",
        3,
        Some("lang"),
        K::BadLang("de".into()),
    );
}

#[test]
fn rejects_an_empty_roll() {
    assert_error("", 1, None, K::Empty);
    assert_error("\u{feff}\r\n\n", 1, None, K::Empty);
    assert_error("id,email\n\n,\n", 1, None, K::Empty);
}

#[test]
fn reports_an_error_on_line_1000_of_a_long_file() {
    let mut text = good(2000);
    text = text.replacen("v998@example.org", "v998@example", 1);
    // v998 is the 999th voter, on line 1000.
    let e = only(&text);
    assert_eq!(
        (e.line, e.field.as_deref(), e.kind.code()),
        (1000, Some("email"), "bad_email")
    );
}

#[test]
fn reports_an_error_inside_a_multi_line_record_at_its_first_line() {
    let text = "id,email,name\nv1,a@example.org,\"Ada\nLovelace\"\nv2,b@example.org,\"Alan\n\n\
                Turing\"\nv3,\"c@\nexample.org\",Grace\nv4,d@example.org,\n";
    let e = errors(text.as_bytes());
    let found: Vec<(u64, Option<&str>, &str)> = e
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_deref(), e.kind.code()))
        .collect();
    assert_eq!(
        found,
        [
            (2, Some("name"), "bad_name"),
            (4, Some("name"), "bad_name"),
            (7, Some("email"), "bad_email")
        ]
    );
    assert!(
        e.errors[2].to_string().contains("closing quote"),
        "{}",
        e.errors[2]
    );
}

#[test]
fn counts_lines_of_crlf_files() {
    let text = "id,email\r\nv1,a@example.org\r\n\r\nv2,b@example\r\n";
    assert_error(
        text,
        4,
        Some("email"),
        K::BadEmail("b@example".into(), "the domain has no dot"),
    );
    let text = "\u{feff}id,email\r\nv1,a@example.org\r\nv2,\"b@\r\nexample.org\"\r\nv3,c@\r\n";
    let e = errors(text.as_bytes());
    let lines: Vec<u64> = e.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 5]);
}

#[test]
fn returns_nothing_when_one_error_is_among_valid_lines() {
    let mut text = good(500);
    text.push_str("v500,v500@example.org,\n");
    let e = errors(text.as_bytes());
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].line, 502);
}

#[test]
fn collects_every_error_and_caps_the_list() {
    let text = "id,email,weight,lang\nv1,a@,0,de\n,b@example.org,x,\nv1,c@example.org,1,en\n";
    let e = errors(text.as_bytes());
    let found: Vec<(u64, Option<&str>, &str)> = e
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_deref(), e.kind.code()))
        .collect();
    assert_eq!(
        found,
        [
            (2, Some("email"), "bad_email"),
            (2, Some("weight"), "weight_not_positive"),
            (2, Some("lang"), "bad_lang"),
            (3, Some("id"), "missing_id"),
            (3, Some("weight"), "bad_weight"),
            (4, Some("id"), "duplicate_id"),
        ]
    );
    let mut text = String::from("id,email\n");
    for i in 0..1500 {
        text.push_str(&format!("v{i},bad\n"));
    }
    let e = errors(text.as_bytes());
    assert_eq!((e.errors.len(), e.more, e.total()), (MAX_ERRORS, 500, 1500));
    assert_eq!(e.errors.last().unwrap().line, 1001);
    assert!(
        e.to_string()
            .starts_with("the voter roll has 1500 errors; the first: line 2")
    );
}

#[test]
fn warns_of_duplicate_emails_naming_the_first_line() {
    let roll = ok("id,email\nv1,ada@example.org\nv2,alan@example.org\nv3,ADA@Example.org\n");
    assert_eq!(roll.voters.len(), 3);
    assert_eq!(roll.warnings.len(), 1);
    let w = &roll.warnings[0];
    assert_eq!((w.line, w.field.as_deref()), (4, Some("email")));
    assert!(w.message.contains("line 2"), "{}", w.message);
    assert!(w.message.contains("each other's codes"), "{}", w.message);
}

#[test]
fn serializes_errors_with_code_and_message() {
    let e = errors(b"id,email\nv1,bob@\n");
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["more"], 0);
    assert_eq!(json["errors"][0]["line"], 2);
    assert_eq!(json["errors"][0]["field"], "email");
    assert_eq!(json["errors"][0]["code"], "bad_email");
    let message = json["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("`bob@` is not an email address"),
        "{message}"
    );
}

#[test]
fn previews_a_roll() {
    let mut text = String::from("id,email,weight,lang\n");
    for i in 0..8 {
        let lang = ["fr", "en", ""][i % 3];
        text.push_str(&format!("v{i},v{i}@example.org,{},{lang}\n", i + 1));
    }
    text.push_str("v8,V0@example.org,1,\n");
    let p = ok(&text).preview();
    assert_eq!((p.voters, p.total_weight, p.weighted), (9, 37, true));
    let langs: Vec<(&str, u64)> = p.languages.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(langs, [("en", 3), ("fr", 3), ("unset", 3)]);
    assert_eq!(p.sample.len(), 5);
    assert_eq!(p.sample[4].id, "v4");
    assert_eq!(p.warnings.len(), 1);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["sample"][0]["lang"], "fr");
}

#[test]
fn lone_cr_line_ends_count_as_lines() {
    // Old Mac files: every error must still name its own line.
    let roll = ok("id,email\rv1,ada@example.org\rv2,alan@example.org\r");
    assert_eq!(roll.voters.len(), 2);
    let e = only("id,email\rv1,ada@example.org\r\rv2,not-an-address\r");
    assert_eq!((e.line, e.field.as_deref()), (4, Some("email")), "{e}");
    // Mixed with CRLF, and a CR followed by LF is one line end, not two.
    let e = only("id,email\r\nv1,ada@example.org\rv2,not-an-address\r\n");
    assert_eq!((e.line, e.field.as_deref()), (3, Some("email")), "{e}");
}
