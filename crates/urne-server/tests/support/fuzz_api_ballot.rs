//! The check of the `api_ballot` fuzz target, shared by `fuzz/fuzz_targets/api_ballot.rs` and
//! `tests/fuzz_corpus.rs` (each includes this file by path).
//!
//! It feeds arbitrary bytes to the exact parsing path of `POST /api/v1/elections/{id}/ballots`
//! (`urne_server::public::parse_ballot_body`, which the handler calls on the request body) and
//! checks, beyond "no panic":
//! - it accepts exactly what `Ballot::from_json` accepts on the same text, and the same ballot;
//! - an accepted ballot's canonical form is accepted again as an equal ballot, byte-identical
//!   when written again, with the same tracker;
//! - a refusal is a 400 `bad_json` when the body is not UTF-8 or not well-formed JSON, and a 400
//!   `bad_ballot` when it is JSON of the wrong shape; it has a message, and a field only when
//!   one is named.

use urne_core::ballot::Ballot;
use urne_server::public::parse_ballot_body;

/// Panics when the property above fails for `data`.
pub fn api_ballot(data: &[u8]) {
    let direct = std::str::from_utf8(data).ok().map(Ballot::from_json);
    match parse_ballot_body(data) {
        Ok(ballot) => {
            assert!(
                matches!(&direct, Some(Ok(b)) if *b == ballot),
                "api_ballot: the handler reads another ballot than Ballot::from_json"
            );
            let json = ballot.to_json();
            let again = parse_ballot_body(json.as_bytes())
                .unwrap_or_else(|e| panic!("api_ballot: the canonical form is refused: {e}"));
            assert_eq!(
                again, ballot,
                "api_ballot: the round trip changed the ballot"
            );
            assert_eq!(
                again.to_json(),
                json,
                "api_ballot: the canonical form is unstable"
            );
            assert_eq!(
                again.tracker(),
                ballot.tracker(),
                "api_ballot: the tracker changed in a round trip"
            );
        }
        Err(e) => {
            assert!(
                matches!(direct, None | Some(Err(_))),
                "api_ballot: the handler refuses a ballot Ballot::from_json reads: {e}"
            );
            assert_eq!(e.status.as_u16(), 400, "api_ballot: {e}");
            let json = serde_json::from_slice::<serde_json::Value>(data).is_ok();
            match e.code {
                "bad_json" => assert!(!json, "api_ballot: well-formed JSON called bad_json: {e}"),
                "bad_ballot" => assert!(json, "api_ballot: broken JSON called bad_ballot: {e}"),
                other => panic!("api_ballot: unexpected code {other}: {e}"),
            }
            assert!(
                !e.message.is_empty(),
                "api_ballot: an error without a message"
            );
            if let Some(field) = &e.field {
                assert!(
                    !matches!(field.as_str(), "" | "." | "?"),
                    "api_ballot: a field that names nothing: {e}"
                );
            }
        }
    }
}
