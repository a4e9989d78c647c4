//! Voters logging in with the server's OpenID Connect provider, end to end: a real server and
//! a test provider (tests/oidc_support), both on loopback ports; the browser's part is played
//! by plain HTTP requests without following redirects.

#![allow(clippy::unwrap_used, missing_docs)]

mod oidc_support;
mod support;

use oidc_support::{CLIENT_ID, CLIENT_SECRET, EMAIL, TestProvider};
use serde_json::json;
use support::{Resp, Server, Spec, Stage, TestElection};
use urne_server::oidc::OidcConfig;
use zeroize::Zeroizing;

fn location(r: &Resp) -> String {
    assert_eq!(r.status, 303, "{}", r.text());
    r.header_all("location")[0].to_owned()
}

fn server_with_provider() -> (Server, TestProvider, tokio::runtime::Runtime) {
    // The provider runs on a runtime of its own, kept by the caller for the test's duration.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let provider = rt.block_on(TestProvider::start());
    let base = provider.base().to_owned();
    let server = Server::with_config(|c| {
        c.oidc = Some(OidcConfig {
            issuer: base.clone(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: Some(Zeroizing::new(CLIENT_SECRET.to_owned())),
            redirect_url: oidc_support::REDIRECT_URI.to_owned(),
            scopes: vec!["openid".to_owned(), "email".to_owned()],
            identity_claim: "email".to_owned(),
            display_name: Some("Test SSO".to_owned()),
        });
    });
    (server, provider, rt)
}

fn oidc_election<'s>(server: &'s Server, id: &str, roll: &str) -> TestElection<'s> {
    let spec = Spec::new(id).voters(roll.lines().count() - 1);
    let mut draft = spec.draft();
    draft["voter_auth"] = json!("oidc");
    server
        .admin_send(
            "POST",
            "/api/v1/admin/elections",
            &json!({ "id": id, "draft": draft }),
        )
        .expect(201);
    let auth = format!("Bearer {}", server.token);
    server
        .request(
            "PUT",
            &format!("/api/v1/admin/elections/{id}/roll"),
            &[("authorization", &auth), ("content-type", "text/csv")],
            Some(roll.as_bytes()),
        )
        .expect(200);
    let mut e = TestElection::existing(server, spec);
    e.advance_to(Stage::Open);
    e
}

/// start → provider → callback; returns the callback's answer.
fn log_in(server: &Server, e: &TestElection<'_>) -> Resp {
    let to_provider = location(&server.get(&e.path("/voter/oidc")));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let back = agent.get(&to_provider).call().unwrap();
    let back = back
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (_, query) = back.split_once('?').unwrap();
    server.get(&format!("/api/v1/voter/oidc/callback?{query}"))
}

#[test]
fn a_voter_on_the_roll_logs_in_with_the_provider_and_votes() {
    let (server, _provider, _rt) = server_with_provider();
    let roll = format!("id,email\n{EMAIL},{EMAIL}\nother@example.org,other@example.org\n");
    let e = oidc_election(&server, "sso", &roll);
    // Code logins are not this election's.
    server
        .post_with(&e.path("/voter/code"), &[], &json!({ "voter": EMAIL }))
        .expect_error(409, "wrong_login");
    let r = log_in(&server, &e);
    assert!(location(&r).ends_with("/vote/sso"), "{}", location(&r));
    let cookie = r.header_all("set-cookie")[0]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("urne_voter="));
    e.cast(&e.ballot(0, 1)).expect_error(401, "unauthorized");
    let r = server.request(
        "POST",
        &e.path("/ballots"),
        &[("cookie", &cookie)],
        Some(e.ballot(0, 1).to_json().as_bytes()),
    );
    r.expect(201);
    let voted = server.admin_get(&e.admin_path("/voted")).expect(200).json();
    assert_eq!(voted["voters"], json!([EMAIL]));
    // The same state cannot be used twice.
    let to_provider = location(&server.get(&e.path("/voter/oidc")));
    assert!(to_provider.contains("state="));
    server
        .get("/api/v1/voter/oidc/callback?code=x&state=never-issued")
        .expect_error(401, "oidc_state");
    server
        .get("/api/v1/voter/oidc/callback?error=access_denied&error_description=no")
        .expect_error(401, "oidc_refused");
}

#[test]
fn an_identity_not_on_the_roll_is_refused() {
    let (server, _provider, _rt) = server_with_provider();
    let e = oidc_election(
        &server,
        "sso-roll",
        "id,email\nsomeone@example.org,someone@example.org\n",
    );
    log_in(&server, &e).expect_error(403, "not_on_roll");
}

#[test]
fn without_a_provider_configured_oidc_elections_cannot_log_voters_in() {
    let server = Server::start();
    let e = oidc_election(&server, "no-sso", "id,email\na@example.org,a@example.org\n");
    server
        .get(&e.path("/voter/oidc"))
        .expect_error(409, "no_oidc");
}
