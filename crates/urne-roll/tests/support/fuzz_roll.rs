//! The check of the `roll` fuzz target, included by path by `fuzz/fuzz_targets/roll.rs` and by
//! this crate's `tests/fuzz_corpus.rs` (urne-roll has no feature to hold test code).
//!
//! The input is read as a CSV roll and as a JSON roll. Each answer must hold together:
//! - a roll has voters, each as `parse` promises (trimmed, valid fields); its canonical CSV
//!   (`write_csv`) parses back to the same voters with as many warnings and is written again
//!   byte for byte, and its voters as a JSON array parse back to the same voters too;
//! - an error list is not empty, holds at most `MAX_ERRORS` errors in line order, each on a
//!   line of the file, and displays and serializes.

use urne_roll::{
    Format, MAX_ERRORS, MAX_ID_CHARS, MAX_NAME_CHARS, MAX_WEIGHT, Roll, RollErrors, parse,
    write_csv,
};

/// Panics when an answer of `parse` breaks a property above.
pub fn roll(data: &[u8]) {
    for format in [Format::Csv, Format::Json] {
        match parse(data, format) {
            Ok(roll) => check_roll(&roll),
            Err(errors) => check_errors(data, &errors),
        }
    }
}

fn check_roll(roll: &Roll) {
    assert!(
        !roll.voters.is_empty(),
        "a roll without voters was accepted"
    );
    for v in &roll.voters {
        assert!(!v.id.is_empty() && v.id.trim() == v.id, "id {:?}", v.id);
        assert!(v.id.chars().count() <= MAX_ID_CHARS);
        assert!(!v.id.chars().any(char::is_control));
        assert_eq!(v.email.trim(), v.email);
        assert_eq!(v.email.matches('@').count(), 1, "email {:?}", v.email);
        assert!((1..=MAX_WEIGHT).contains(&v.weight));
        if let Some(name) = &v.name {
            assert!(!name.is_empty() && name.trim() == name);
            assert!(name.chars().count() <= MAX_NAME_CHARS);
        }
    }
    let csv = write_csv(&roll.voters);
    let again = parse(csv.as_bytes(), Format::Csv)
        .unwrap_or_else(|e| panic!("the canonical CSV does not parse: {e}\n{csv}"));
    assert_eq!(
        again.voters, roll.voters,
        "the canonical CSV reads back otherwise"
    );
    assert_eq!(again.warnings.len(), roll.warnings.len());
    assert_eq!(
        write_csv(&again.voters),
        csv,
        "the canonical CSV is not canonical"
    );
    let json = serde_json::to_string_pretty(&roll.voters).expect("voters serialize");
    let from_json = parse(json.as_bytes(), Format::Json)
        .unwrap_or_else(|e| panic!("the voters' JSON does not parse: {e}\n{json}"));
    assert_eq!(
        from_json.voters, roll.voters,
        "the voters' JSON reads back otherwise"
    );
    let preview = roll.preview();
    assert_eq!(preview.voters, roll.voters.len() as u64);
    assert_eq!(preview.languages.values().sum::<u64>(), preview.voters);
    assert!(preview.total_weight >= preview.voters);
}

fn check_errors(data: &[u8], errors: &RollErrors) {
    assert!(!errors.errors.is_empty(), "an error list without errors");
    assert!(errors.errors.len() <= MAX_ERRORS);
    assert!(errors.more == 0 || errors.errors.len() == MAX_ERRORS);
    // Line ends: LF, or a CR not followed by LF (CSV counts lone CRs as line ends).
    let ends = (0..data.len())
        .filter(|&i| data[i] == b'\n' || (data[i] == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count();
    let lines = 1 + ends as u64;
    let mut last = 0;
    for e in &errors.errors {
        assert!(
            (1..=lines).contains(&e.line),
            "{e} is not on a line of the file ({lines} lines)"
        );
        assert!(
            e.line >= last,
            "errors out of line order: {e} after line {last}"
        );
        last = e.line;
        assert!(!e.to_string().is_empty());
        assert!(!e.kind.code().is_empty());
    }
    assert!(!errors.to_string().is_empty());
    serde_json::to_string(errors).expect("errors serialize");
}
