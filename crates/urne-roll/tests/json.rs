//! JSON rolls: line numbers of elements in pretty-printed and one-line JSON, each JSON-specific
//! error, and the same field checks as CSV.

#![allow(clippy::unwrap_used)]

use urne_roll::{Format, Lang, RollError, RollErrorKind as K, RollErrors, Voter, parse};

fn errors(text: &str) -> RollErrors {
    match parse(text.as_bytes(), Format::Json) {
        Ok(roll) => panic!("accepted: {roll:#?}"),
        Err(e) => e,
    }
}

fn found(e: &RollErrors) -> Vec<(u64, Option<&str>, &str)> {
    e.errors
        .iter()
        .map(|e| (e.line, e.field.as_deref(), e.kind.code()))
        .collect()
}

fn only(text: &str) -> RollError {
    let e = errors(text);
    assert_eq!(e.errors.len(), 1, "{:#?}", e.errors);
    e.errors.into_iter().next().unwrap()
}

#[test]
fn reads_voters() {
    let text = r#"[
  {"id": "v1", "email": "Ada@Example.org", "weight": 3, "name": "Ada", "lang": "EN"},
  {"id": 42, "email": "alan@example.org", "weight": "2", "name": null, "lang": null},
  {"id": "v\u0033", "email": "grace@example.org"}
]"#;
    let roll = parse(text.as_bytes(), Format::Json).unwrap();
    assert_eq!(
        roll.voters,
        vec![
            Voter {
                id: "v1".into(),
                email: "Ada@example.org".into(),
                weight: 3,
                name: Some("Ada".into()),
                lang: Some(Lang::En)
            },
            Voter {
                id: "42".into(),
                email: "alan@example.org".into(),
                weight: 2,
                name: None,
                lang: None
            },
            Voter {
                id: "v3".into(),
                email: "grace@example.org".into(),
                weight: 1,
                name: None,
                lang: None
            },
        ]
    );
}

/// The same roll, pretty-printed (as serde_json writes it) and on one line: each error is on the
/// line where its element starts.
#[test]
fn reports_the_line_where_each_element_starts() {
    let voters: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            let email = if i % 7 == 3 {
                format!("v{i}@")
            } else {
                format!("v{i}@example.org")
            };
            serde_json::json!({"id": format!("v{i}"), "email": email, "name": "N \"q\" [x] {y}, \\"})
        })
        .collect();
    let pretty = serde_json::to_string_pretty(&voters).unwrap();
    // Each element is 5 lines ("{", three keys, "}"), after the "[" on line 1.
    let e = errors(&pretty);
    assert_eq!(
        found(&e),
        [
            (2 + 3 * 5, Some("email"), "bad_email"),
            (2 + 10 * 5, Some("email"), "bad_email"),
            (2 + 17 * 5, Some("email"), "bad_email"),
        ]
    );
    let one_line = serde_json::to_string(&voters).unwrap();
    let e = errors(&one_line);
    assert_eq!(
        found(&e),
        [
            (1, Some("email"), "bad_email"),
            (1, Some("email"), "bad_email"),
            (1, Some("email"), "bad_email"),
        ]
    );
    // One element per line, with CRLF, blank lines and a BOM.
    let mut lines = String::from("\u{feff}[\r\n");
    for (i, v) in voters.iter().enumerate() {
        lines.push_str(&serde_json::to_string(v).unwrap());
        lines.push_str(if i + 1 < voters.len() {
            ",\r\n\r\n"
        } else {
            "\r\n"
        });
    }
    lines.push(']');
    let e = errors(&lines);
    let lines: Vec<u64> = e.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2 + 3 * 2, 2 + 10 * 2, 2 + 17 * 2]);
}

#[test]
fn reports_syntax_errors_at_their_line() {
    let e = only(
        "[\n  {\"id\": \"v1\", \"email\": \"a@example.org\"},\n  {\"id\": \"v2\" \"email\": 1}\n]",
    );
    assert_eq!(
        (e.line, e.field.as_deref(), e.kind.code()),
        (3, None, "json")
    );
    assert!(!e.to_string().contains(" at line "), "{e}");
    // Cut short: the end of the text is on line 3.
    let e = only("[\n  {\"id\": \"v1\", \"email\": \"a@example.org\"},\n");
    assert_eq!((e.line, e.kind.code()), (3, "json"));
    let e = only("\n\n{\"voters\": []}");
    assert_eq!((e.line, e.kind.code()), (3, "json"));
    let e = only("[{\"id\": \"v1\", \"email\": \"a@example.org\"}] x");
    assert_eq!((e.line, e.kind.code()), (1, "json"));
}

#[test]
fn rejects_elements_that_are_not_objects() {
    let e = errors("[\n{\"id\": \"v1\", \"email\": \"a@example.org\"},\n\"v2\",\n[1, 2],\nnull\n]");
    assert_eq!(
        found(&e),
        [
            (3, None, "not_an_object"),
            (4, None, "not_an_object"),
            (5, None, "not_an_object")
        ]
    );
    assert_eq!(e.errors[1].kind, K::NotAnObject("an array"));
}

#[test]
fn rejects_unknown_and_repeated_keys_and_checks_the_rest() {
    let e = errors(
        "[\n{\"id\": \"v1\", \"email\": \"a@example.org\", \"phone\": \"555\"},\n\
         {\"id\": \"v2\", \"email\": \"b@example.org\", \"email\": \"c@example.org\", \"weight\": 0}\n]",
    );
    assert_eq!(
        found(&e),
        [
            (2, Some("phone"), "unknown_key"),
            (3, Some("email"), "repeated_key"),
            (3, Some("weight"), "weight_not_positive"),
        ]
    );
}

#[test]
fn rejects_values_of_the_wrong_type_once() {
    let e = errors(
        "[{\"id\": true, \"email\": [\"a@example.org\"], \"weight\": {}, \"name\": 5, \"lang\": 1.5}]",
    );
    assert_eq!(
        found(&e),
        [
            (1, Some("id"), "wrong_type"),
            (1, Some("email"), "wrong_type"),
            (1, Some("weight"), "wrong_type"),
            (1, Some("name"), "wrong_type"),
            (1, Some("lang"), "wrong_type"),
        ]
    );
    assert_eq!(
        e.errors[0].kind,
        K::WrongType {
            expected: "a string or a whole number",
            found: "a boolean"
        }
    );
    // A fractional id is not an identifier.
    let e = only("[{\"id\": 1.5, \"email\": \"a@example.org\"}]");
    assert_eq!(
        (e.field.as_deref(), e.kind.code()),
        (Some("id"), "wrong_type")
    );
}

#[test]
fn checks_numeric_weights() {
    let weight = |w: &str| {
        let text = format!("[{{\"id\": \"v1\", \"email\": \"a@example.org\", \"weight\": {w}}}]");
        parse(text.as_bytes(), Format::Json).map(|r| r.voters[0].weight)
    };
    assert_eq!(weight("7"), Ok(7));
    assert_eq!(weight("2.0"), Ok(2));
    assert_eq!(weight("null"), Ok(1));
    let code = |w: &str| weight(w).unwrap_err().errors[0].kind.code();
    assert_eq!(code("0"), "weight_not_positive");
    assert_eq!(code("-0.0"), "weight_not_positive");
    assert_eq!(code("-4"), "weight_negative");
    assert_eq!(code("2.5"), "weight_fractional");
    assert_eq!(code("1e10"), "weight_too_large");
    assert_eq!(code("18446744073709551616"), "weight_too_large");
    assert_eq!(code("\"lots\""), "bad_weight");
}

#[test]
fn rejects_missing_ids_and_emails() {
    let e = errors("[{\"email\": \"a@example.org\"}, {\"id\": \"v2\", \"email\": null}]");
    assert_eq!(
        found(&e),
        [
            (1, Some("id"), "missing_id"),
            (1, Some("email"), "missing_email")
        ]
    );
}

#[test]
fn rejects_duplicate_ids_and_warns_of_duplicate_emails() {
    let e = errors(
        "[\n {\"id\": \"v1\", \"email\": \"a@example.org\"},\n {\"id\": \"v1\", \"email\": \"b@example.org\"}\n]",
    );
    assert_eq!(e.errors[0].kind, K::DuplicateId { first_line: 2 });
    assert_eq!(e.errors[0].line, 3);
    let roll = parse(
        b"[\n {\"id\": \"v1\", \"email\": \"a@example.org\"},\n {\"id\": \"v2\", \"email\": \"A@EXAMPLE.ORG\"}\n]",
        Format::Json,
    )
    .unwrap();
    assert_eq!(roll.warnings.len(), 1);
    assert_eq!(roll.warnings[0].line, 3);
    assert!(roll.warnings[0].message.contains("line 2"));
}

#[test]
fn rejects_empty_rolls() {
    for text in ["", "  \n ", "[]", "\n[\n]\n"] {
        let e = only(text);
        assert_eq!(e.kind, K::Empty, "{text:?}");
    }
}

#[test]
fn rejects_a_latin1_file() {
    let mut text = b"[\n{\"id\": \"v1\", \"email\": \"a@example.org\", \"name\": \"".to_vec();
    text.extend_from_slice(b"\xC9lise\"}\n]");
    let e = parse(&text, Format::Json).unwrap_err();
    assert_eq!((e.errors[0].line, &e.errors[0].kind), (2, &K::Encoding));
}
