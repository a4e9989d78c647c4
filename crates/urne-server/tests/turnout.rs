//! The public view's turnout (credentials registered, ballots counted by the tally) and the
//! trustees' decryption of the tally, as `GET /api/v1/elections/{id}` reports them so that the
//! results and administration pages need not read the board: before and after the tally,
//! with weighted credentials, and answered alike by a second server over the same database
//! (whose state is read from the board, never told by the first).

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use axum::extract::State;
use serde_json::{Value, json};
use support::{Server, Spec, Stage};
use urne_core::credential::{Credential, PublicCredential};
use urne_server::AppState;

/// A second server over the first one's database, with its own (empty) state.
fn second_server(server: &Server) -> AppState {
    let config = server.state.config.clone();
    let store: Arc<dyn urne_board::Store> =
        Arc::new(urne_board::SqliteStore::open(&config.data_dir).unwrap());
    AppState::new(store, server.state.board_key.clone(), config)
}

/// The public view of election `id` as `state`'s server answers it.
fn view_of(server: &Server, state: &AppState, id: &str) -> Value {
    let view = server
        .block_on(urne_server::public::election(
            State(state.clone()),
            urne_server::extract::Path(id.to_owned()),
        ))
        .unwrap_or_else(|e| panic!("GET /api/v1/elections/{id}: {e:?}"));
    serde_json::to_value(view.0).unwrap()
}

/// The view's `turnout` and `decryption` members on both servers, which must agree.
fn counting_on_both(server: &Server, other: &AppState, id: &str) -> (Value, Value) {
    let here = server
        .get(&format!("/api/v1/elections/{id}"))
        .expect(200)
        .json();
    let there = view_of(server, other, id);
    for key in ["turnout", "decryption", "board_size", "phase"] {
        assert_eq!(here.get(key), there.get(key), "`{key}` on the two servers");
    }
    (
        here["turnout"].clone(),
        here.get("decryption").cloned().unwrap_or(Value::Null),
    )
}

#[test]
fn turnout_and_decryption_follow_the_board_on_every_server_sharing_it() {
    let server = Server::start();
    let mut e = server.election(Spec::new("turnout").trustees(3, 2).voters(4), Stage::Open);
    let other = second_server(&server);
    let id = e.id().to_owned();

    let (turnout, decryption) = counting_on_both(&server, &other, &id);
    assert_eq!(
        turnout,
        json!({ "credentials": 4, "credentials_weight": 4, "ballots": null, "ballots_weight": null })
    );
    assert_eq!(decryption, Value::Null, "no decryption before the tally");

    // Four ballots cast, one of them replacing an earlier one: three counted.
    e.cast(&e.ballot(0, 0)).expect(201);
    e.cast(&e.ballot(1, 1)).expect(201);
    e.cast(&e.ballot(1, 2)).expect(201);
    e.cast(&e.ballot(2, 0)).expect(201);
    e.advance_to(Stage::Closed);
    let (turnout, decryption) = counting_on_both(&server, &other, &id);
    assert_eq!(turnout["ballots"], Value::Null, "closed, not tallied");
    assert_eq!(decryption, Value::Null);

    e.advance_to(Stage::Tallied);
    let tally = e.tally.as_ref().unwrap();
    let (turnout, decryption) = counting_on_both(&server, &other, &id);
    assert_eq!(
        turnout,
        json!({
            "credentials": 4,
            "credentials_weight": 4,
            "ballots": tally.ballots,
            "ballots_weight": tally.total_weight,
        })
    );
    assert_eq!(turnout["ballots"], 3);
    assert_eq!(
        decryption,
        json!({ "trustees": [], "needed": 2, "threshold_reached": false, "result": false })
    );

    e.send_factors(3, &e.factors(3)).expect(201);
    let (_, decryption) = counting_on_both(&server, &other, &id);
    assert_eq!(
        decryption,
        json!({ "trustees": [3], "needed": 2, "threshold_reached": false, "result": false })
    );

    e.send_factors(1, &e.factors(1)).expect(201);
    let (turnout, decryption) = counting_on_both(&server, &other, &id);
    assert_eq!(
        decryption,
        json!({ "trustees": [3, 1], "needed": 2, "threshold_reached": true, "result": true })
    );
    assert_eq!(turnout["ballots"], 3);

    e.stage = Stage::Decrypted;
    e.advance_to(Stage::Published);
    let (turnout, decryption) = counting_on_both(&server, &other, &id);
    assert_eq!(decryption["trustees"], json!([3, 1]));
    assert_eq!(decryption["result"], true);
    assert_eq!(turnout["ballots_weight"], 3);
    let view = server.get(&e.path("")).expect(200).json();
    assert_eq!(view["result"]["questions"][0]["counts"], json!([2, 0, 1]));

    // The list of elections has the turnout too, without the decryption.
    let list = server.get("/api/v1/elections").expect(200).json();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap();
    assert_eq!(listed["turnout"], turnout);
    assert!(listed.get("decryption").is_none());
}

#[test]
fn turnout_weighs_the_credentials_and_the_counted_ballots() {
    let server = Server::start();
    let spec = Spec::new("weighted").voters(3);
    let mut draft = spec.draft();
    draft["weights"] = json!("weighted");
    server
        .admin_send(
            "POST",
            "/api/v1/admin/elections",
            &json!({ "id": spec.id, "draft": draft }),
        )
        .expect(201);
    let mut e = support::TestElection::existing(&server, spec);
    e.advance_to(Stage::Trustees);
    let weights = [5u64, 1, 3];
    e.credentials = weights
        .iter()
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    let list: Vec<PublicCredential> = e
        .credentials
        .iter()
        .zip(weights)
        .map(|(c, weight)| PublicCredential {
            credential: *c.derive_key(e.id()).public(),
            weight,
        })
        .collect();
    server
        .admin_send(
            "PUT",
            &e.admin_path("/credentials"),
            &json!({ "credentials": list }),
        )
        .expect(200);
    e.stage = Stage::Credentials;
    e.advance_to(Stage::Open);
    let view = server.get(&e.path("")).expect(200).json();
    assert_eq!(
        view["turnout"],
        json!({ "credentials": 3, "credentials_weight": 9, "ballots": null, "ballots_weight": null })
    );

    // Voters of weights 5 and 3 vote (the first twice), the voter of weight 1 does not.
    e.cast(&e.ballot(0, 1)).expect(201);
    e.cast(&e.ballot(2, 0)).expect(201);
    e.cast(&e.ballot(0, 2)).expect(201);
    e.advance_to(Stage::Published);
    let view = server.get(&e.path("")).expect(200).json();
    assert_eq!(
        view["turnout"],
        json!({ "credentials": 3, "credentials_weight": 9, "ballots": 2, "ballots_weight": 8 })
    );
    assert_eq!(view["result"]["questions"][0]["counts"], json!([3, 0, 5]));
    assert_eq!(
        view["decryption"],
        json!({ "trustees": [1], "needed": 1, "threshold_reached": true, "result": true })
    );
}
