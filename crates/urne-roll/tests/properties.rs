//! Property tests: random valid voters survive `write_csv` and `parse`, and arbitrary bytes
//! never make `parse` panic in either format (and give answers that hold together, as the fuzz
//! target checks them). Also the cap on voters, and a timing check of a million voters.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use proptest::prelude::*;
use urne_roll::{Format, Lang, RollErrorKind, Voter, parse, parse_with_limit, write_csv};

#[path = "support/fuzz_roll.rs"]
mod check;

/// Text without surrounding space or control characters, quotes, commas and non-ASCII
/// included, as a trimmed field is.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9é漢 ,;\"'.\\-_@#]{{0,{max}}}"))
        .unwrap()
        .prop_map(|s| s.trim().to_owned())
}

fn voter() -> impl Strategy<Value = Voter> {
    (
        text(40).prop_filter("an id is not empty", |s| !s.is_empty()),
        "[a-zA-Z0-9._%+-]{1,20}",
        "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){1,3}",
        prop_oneof![Just(1u64), 1u64..=1_000_000_000],
        proptest::option::of(text(60).prop_filter("a name is not empty", |s| !s.is_empty())),
        proptest::option::of(prop_oneof![Just(Lang::Fr), Just(Lang::En)]),
    )
        .prop_filter("a valid local part", |(_, local, ..)| {
            !local.starts_with('.') && !local.ends_with('.') && !local.contains("..")
        })
        .prop_map(|(id, local, domain, weight, name, lang)| Voter {
            id,
            email: format!("{local}@{domain}"),
            weight,
            name,
            lang,
        })
}

/// Voters with distinct identifiers.
fn voters() -> impl Strategy<Value = Vec<Voter>> {
    proptest::collection::vec(voter(), 1..40).prop_map(|mut vs| {
        let mut seen = std::collections::HashSet::new();
        vs.retain(|v| seen.insert(v.id.clone()));
        vs
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn canonical_csv_reads_back_the_same_voters(voters in voters()) {
        let csv = write_csv(&voters);
        let roll = parse(csv.as_bytes(), Format::Csv).map_err(|e| TestCaseError::fail(format!("{e}\n{csv}")))?;
        prop_assert_eq!(&roll.voters, &voters);
        let json = serde_json::to_string(&voters).unwrap();
        let roll = parse(json.as_bytes(), Format::Json).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
        prop_assert_eq!(&roll.voters, &voters);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check::roll(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[\\[\\]{}\",:;\r\n a-z@.0-9\\\\\u{feff}-]{0,200}") {
        check::roll(text.as_bytes());
        let with_header = format!("id,email,weight,name,lang\n{text}");
        check::roll(with_header.as_bytes());
        let in_array = format!("[{{\"id\": \"v\", \"email\": \"a@b.org\"}}, {text}]");
        check::roll(in_array.as_bytes());
    }
}

#[test]
fn rejects_more_voters_than_the_limit_and_stops_there() {
    let mut text = String::from("id,email\n");
    for i in 0..10 {
        text.push_str(&format!("v{i},bad{i}\n"));
    }
    let e = parse_with_limit(text.as_bytes(), Format::Csv, 4).unwrap_err();
    let last = e.errors.last().unwrap();
    assert_eq!(
        (e.errors.len(), last.line, &last.kind),
        (5, 6, &RollErrorKind::TooMany { max: 4 })
    );
    assert!(parse_with_limit(text.as_bytes(), Format::Csv, 10).is_err());
    let json = "[{\"id\":\"a\",\"email\":\"a@b.org\"},\n{\"id\":\"b\",\"email\":\"b@b.org\"}]";
    let e = parse_with_limit(json.as_bytes(), Format::Json, 1).unwrap_err();
    assert_eq!((e.errors[0].line, e.errors[0].kind.code()), (2, "too_many"));
    assert_eq!(
        parse_with_limit(json.as_bytes(), Format::Json, 2)
            .unwrap()
            .voters
            .len(),
        2
    );
}

/// A million voters (named, weighted, with a language) parse in well under 2 s from CSV in an
/// optimized build (the test profile is); the pretty-printed JSON of the same voters, 2.3 times
/// the bytes, within 4 s. Ignored by default: timing on a shared machine is noisy. Run with
/// `cargo test -p urne-roll --release --test properties -- --ignored --nocapture`.
#[test]
#[ignore]
fn parses_a_million_voters_quickly() {
    let voters: Vec<Voter> = (0..1_000_000u64)
        .map(|i| Voter {
            id: format!("member-{i:07}"),
            email: format!("voter.{i}@example.org"),
            weight: 1 + i % 5,
            name: Some(format!("Voter number {i}")),
            lang: Some(if i % 2 == 0 { Lang::Fr } else { Lang::En }),
        })
        .collect();
    let csv = write_csv(&voters);
    let json = serde_json::to_string_pretty(&voters).unwrap();
    for (format, bytes) in [
        (Format::Csv, csv.as_bytes()),
        (Format::Json, json.as_bytes()),
    ] {
        let start = Instant::now();
        let roll = parse(bytes, format).unwrap();
        let took = start.elapsed();
        eprintln!(
            "{format:?}: {} voters, {} MB, {:.3} s",
            roll.voters.len(),
            bytes.len() / 1_000_000,
            took.as_secs_f64()
        );
        assert_eq!(roll.voters.len(), 1_000_000);
        let limit = if format == Format::Csv { 2.0 } else { 4.0 };
        assert!(took.as_secs_f64() < limit, "{format:?} took {took:?}");
    }
}
