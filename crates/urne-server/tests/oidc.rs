//! OpenID Connect login against a real provider over HTTP (tests/oidc_support): the whole
//! authorization code flow with PKCE, then every way an answer must be refused.
//!
//! Run: `cargo test -p urne-server --test oidc`.

#![allow(clippy::unwrap_used, missing_docs)]

mod oidc_support;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey};
use oidc_support::{
    CLIENT_ID, CLIENT_SECRET, EMAIL, REDIRECT_URI, SUBJECT, SigningKey, TestProvider, ec_key,
    rsa_keys,
};
use serde_json::{Value, json};
use urne_server::oidc::{Identity, OidcClient, OidcConfig, OidcError, PENDING_MAX_AGE};
use zeroize::Zeroizing;

fn config(provider: &TestProvider) -> OidcConfig {
    OidcConfig {
        issuer: provider.base().to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Some(Zeroizing::new(CLIENT_SECRET.to_owned())),
        redirect_url: REDIRECT_URI.to_owned(),
        scopes: vec!["openid".to_owned(), "email".to_owned()],
        identity_claim: "email".to_owned(),
        display_name: None,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Follows the authorization URL as a browser would, without following the redirect back, and
/// returns the query of the redirect to our callback.
async fn authorize(url: String) -> HashMap<String, String> {
    let location = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent.get(&url).call().unwrap();
        assert_eq!(response.status(), 302, "authorize answered {response:?}");
        response
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    })
    .await
    .unwrap();
    let (callback, query) = location.split_once('?').unwrap();
    assert_eq!(callback, REDIRECT_URI);
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// begin → browser at the provider → callback → finish.
async fn login(client: &OidcClient) -> Result<Identity, OidcError> {
    let (url, pending) = client.begin();
    let callback = authorize(url).await;
    client
        .finish(pending, &callback["code"], &callback["state"])
        .await
}

async fn provider_and_client() -> (TestProvider, OidcClient) {
    let provider = TestProvider::start().await;
    let client = OidcClient::discover(config(&provider)).await.unwrap();
    (provider, client)
}

/// Starts a provider whose tokens get `change` applied to their claims, and logs in.
async fn login_with_claims(
    change: impl Fn(&mut serde_json::Map<String, Value>) + Send + Sync + 'static,
) -> (TestProvider, Result<Identity, OidcError>) {
    let (provider, client) = provider_and_client().await;
    provider.with(|b| b.claims_hook = Some(Box::new(change)));
    let result = login(&client).await;
    (provider, result)
}

fn token_error(result: Result<Identity, OidcError>) -> String {
    match result {
        Err(OidcError::Token(message)) => message,
        other => panic!("expected a Token error, got {other:?}"),
    }
}

#[tokio::test]
async fn logs_in_with_rs256_and_pkce() {
    let (provider, client) = provider_and_client().await;
    assert_eq!(client.issuer(), provider.base());
    assert_eq!(client.display_name(), "127.0.0.1");

    let (url, pending) = client.begin();
    assert!(url.starts_with(&format!("{}/authorize?", provider.base())));
    let callback = authorize(url).await;
    assert_eq!(callback["state"], pending.state);

    // What the provider received is a proper authentication request (Core §3.1.2.1).
    let requests = provider.authorize_requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.get("response_type"), Some("code"));
    assert_eq!(request.get("client_id"), Some(CLIENT_ID));
    assert_eq!(request.get("redirect_uri"), Some(REDIRECT_URI));
    assert_eq!(request.get("state"), Some(pending.state.as_str()));
    assert_eq!(request.get("code_challenge_method"), Some("S256"));
    assert_eq!(request.get("code_challenge").map(str::len), Some(43));
    let nonce = request.get("nonce").unwrap().to_owned();
    assert!(nonce.len() >= 22, "nonce too short: {nonce}");
    let scopes: Vec<&str> = request.get("scope").unwrap().split(' ').collect();
    assert_eq!(scopes.iter().filter(|s| **s == "openid").count(), 1);
    assert!(scopes.contains(&"email"));

    // The secrets of the pending login stay out of its Debug.
    let debug = format!("{pending:?}");
    assert!(!debug.contains(&nonce), "{debug}");
    assert!(debug.contains("[redacted]"));

    let identity = client
        .finish(pending, &callback["code"], &callback["state"])
        .await
        .unwrap();
    assert_eq!(
        identity,
        Identity {
            value: EMAIL.to_owned(),
            subject: SUBJECT.to_owned(),
            issuer: provider.base().to_owned(),
        }
    );
    assert_eq!(provider.token_requests(), 1);
    assert!(provider.token_errors().is_empty());
}

#[tokio::test]
async fn two_logins_get_different_state_nonce_and_challenge() {
    let (provider, client) = provider_and_client().await;
    login(&client).await.unwrap();
    login(&client).await.unwrap();
    let requests = provider.authorize_requests();
    for name in ["state", "nonce", "code_challenge"] {
        assert_ne!(
            requests[0].get(name),
            requests[1].get(name),
            "{name} repeated"
        );
    }
}

#[tokio::test]
async fn logs_in_with_es256() {
    let provider = TestProvider::start().await;
    let key = ec_key("ec-1");
    provider.with(|b| {
        b.published = vec![rsa_keys()[0].clone(), key.clone()];
        b.signer = key;
    });
    let client = OidcClient::discover(config(&provider)).await.unwrap();
    assert_eq!(login(&client).await.unwrap().value, EMAIL);
}

#[tokio::test]
async fn logs_in_as_a_public_client_with_pkce_only() {
    let provider = TestProvider::start().await;
    provider.with(|b| {
        b.confidential = false;
        b.auth_methods = vec!["none"];
    });
    let mut config = config(&provider);
    config.client_secret = None;
    let client = OidcClient::discover(config).await.unwrap();
    assert_eq!(login(&client).await.unwrap().value, EMAIL);
}

#[tokio::test]
async fn uses_client_secret_post_when_it_is_the_only_method_offered() {
    let provider = TestProvider::start().await;
    provider.with(|b| b.auth_methods = vec!["client_secret_post"]);
    let client = OidcClient::discover(config(&provider)).await.unwrap();
    assert_eq!(login(&client).await.unwrap().value, EMAIL);
}

#[tokio::test]
async fn identity_claim_can_be_sub_or_any_string_claim() {
    let provider = TestProvider::start().await;
    for (claim, expected) in [
        ("sub", SUBJECT),
        ("employee_id", "E-1001"),
        ("preferred_username", "ada"),
    ] {
        let mut config = config(&provider);
        config.identity_claim = claim.to_owned();
        let client = OidcClient::discover(config).await.unwrap();
        let identity = login(&client).await.unwrap();
        assert_eq!(identity.value, expected, "claim {claim}");
        assert_eq!(identity.subject, SUBJECT);
    }
}

#[tokio::test]
async fn accepts_a_token_without_email_verified() {
    let (_, result) = login_with_claims(|c| {
        c.remove("email_verified");
    })
    .await;
    assert_eq!(result.unwrap().value, EMAIL);
}

#[tokio::test]
async fn accepts_a_token_expired_within_the_leeway() {
    let (_, result) = login_with_claims(|c| {
        c.insert("exp".to_owned(), json!(now() - 10));
    })
    .await;
    assert_eq!(result.unwrap().value, EMAIL);
}

#[tokio::test]
async fn fetches_the_keys_again_when_the_provider_rotates_them() {
    let (provider, client) = provider_and_client().await;
    assert_eq!(provider.jwks_requests(), 1);
    let new_key = rsa_keys()[2].clone();
    provider.with(|b| {
        b.published = vec![new_key.clone()];
        b.signer = new_key;
    });
    assert_eq!(login(&client).await.unwrap().value, EMAIL);
    assert_eq!(provider.jwks_requests(), 2);
}

#[tokio::test]
async fn rejects_callback_with_wrong_state() {
    let (provider, client) = provider_and_client().await;
    let (url, pending) = client.begin();
    let callback = authorize(url).await;
    let mut wrong = callback["state"].clone();
    wrong.push('x');
    let result = client.finish(pending, &callback["code"], &wrong).await;
    assert!(matches!(result, Err(OidcError::State)), "{result:?}");
    // The code was not even redeemed.
    assert_eq!(provider.token_requests(), 0);
}

#[tokio::test]
async fn rejects_callback_of_another_login() {
    let (_, client) = provider_and_client().await;
    let (url_a, pending_a) = client.begin();
    let (url_b, _pending_b) = client.begin();
    let _ = authorize(url_a).await;
    let callback_b = authorize(url_b).await;
    let result = client
        .finish(pending_a, &callback_b["code"], &callback_b["state"])
        .await;
    assert!(matches!(result, Err(OidcError::State)), "{result:?}");
}

#[tokio::test]
async fn rejects_login_that_waited_too_long() {
    let (provider, client) = provider_and_client().await;
    let (url, mut pending) = client.begin();
    let callback = authorize(url).await;
    let Some(old) = Instant::now().checked_sub(PENDING_MAX_AGE + Duration::from_secs(1)) else {
        return; // the monotonic clock started too recently to go back that far
    };
    pending.created_at = old;
    let result = client
        .finish(pending, &callback["code"], &callback["state"])
        .await;
    assert!(matches!(result, Err(OidcError::LoginExpired)), "{result:?}");
    assert_eq!(provider.token_requests(), 0);
}

#[tokio::test]
async fn rejects_code_refused_by_the_provider() {
    let (provider, client) = provider_and_client().await;
    let (url, pending) = client.begin();
    let callback = authorize(url).await;
    let result = client
        .finish(pending, "not-the-code", &callback["state"])
        .await;
    match result {
        Err(OidcError::Exchange(message)) => {
            assert!(message.contains("invalid_grant"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(provider.token_errors(), ["unknown code"]);
}

#[tokio::test]
async fn rejects_wrong_client_secret_without_showing_it_or_the_code() {
    let provider = TestProvider::start().await;
    let mut config = config(&provider);
    config.client_secret = Some(Zeroizing::new("wrong-secret".to_owned()));
    let client = OidcClient::discover(config).await.unwrap();
    let (url, pending) = client.begin();
    let callback = authorize(url).await;
    let err = client
        .finish(pending, &callback["code"], &callback["state"])
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, OidcError::Exchange(_)), "{err:?}");
    assert!(message.contains("invalid_client"), "{message}");
    assert!(!message.contains("wrong-secret"), "{message}");
    assert!(!message.contains(&callback["code"]), "{message}");
}

#[tokio::test]
async fn rejects_token_for_another_audience() {
    let (_, result) = login_with_claims(|c| {
        c.insert("aud".to_owned(), json!("another-client"));
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("audience"), "{message}");
}

#[tokio::test]
async fn rejects_token_shared_with_an_untrusted_audience() {
    let (_, result) = login_with_claims(|c| {
        c.insert("aud".to_owned(), json!([CLIENT_ID, "another-client"]));
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("another-client"), "{message}");
}

#[tokio::test]
async fn rejects_expired_token() {
    let (_, result) = login_with_claims(|c| {
        c.insert("exp".to_owned(), json!(now() - 3600));
        c.insert("iat".to_owned(), json!(now() - 3900));
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test]
async fn rejects_token_issued_in_the_future() {
    let (_, result) = login_with_claims(|c| {
        c.insert("iat".to_owned(), json!(now() + 600));
        c.insert("exp".to_owned(), json!(now() + 900));
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("future"), "{message}");
}

#[tokio::test]
async fn rejects_token_issued_long_ago() {
    let (_, result) = login_with_claims(|c| {
        c.insert("iat".to_owned(), json!(now() - 86_400));
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("too long ago"), "{message}");
}

#[tokio::test]
async fn rejects_token_with_wrong_nonce() {
    let (_, result) = login_with_claims(|c| {
        c.insert("nonce".to_owned(), json!("a-nonce-from-another-login"));
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("nonce"), "{message}");
}

#[tokio::test]
async fn rejects_token_without_nonce() {
    let (_, result) = login_with_claims(|c| {
        c.remove("nonce");
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("nonce"), "{message}");
}

#[tokio::test]
async fn rejects_token_with_another_issuer() {
    let (_, result) = login_with_claims(|c| {
        c.insert("iss".to_owned(), json!("https://impostor.example.org"));
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("issuer"), "{message}");
}

#[tokio::test]
async fn rejects_signature_by_another_key_under_the_same_kid() {
    let (provider, client) = provider_and_client().await;
    let mut impostor = rsa_keys()[1].clone();
    impostor.kid = rsa_keys()[0].kid.clone();
    provider.with(|b| b.signer = impostor);
    let message = token_error(login(&client).await);
    assert!(
        message.contains("Signature verification failed"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_signature_by_an_unknown_key_after_fetching_the_keys_again() {
    let (provider, client) = provider_and_client().await;
    provider.with(|b| b.signer = rsa_keys()[1].clone());
    let message = token_error(login(&client).await);
    assert!(message.contains("No matching key"), "{message}");
    assert_eq!(provider.jwks_requests(), 2);
    // A second bad token within the refresh interval does not make the server fetch again.
    let _ = login(&client).await.unwrap_err();
    assert_eq!(provider.jwks_requests(), 2);
}

#[tokio::test]
async fn rejects_tampered_payload() {
    let (provider, client) = provider_and_client().await;
    provider.with(|b| b.tamper = true);
    let message = token_error(login(&client).await);
    assert!(
        message.contains("Signature verification failed"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_token_signed_with_the_client_secret() {
    let provider = TestProvider::start().await;
    let hs = SigningKey {
        kid: "hs-1".to_owned(),
        alg: Algorithm::HS256,
        encoding: EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
        jwk: json!({}),
    };
    provider.with(|b| {
        b.algs = vec!["RS256", "HS256"];
        b.signer = hs;
    });
    let client = OidcClient::discover(config(&provider)).await.unwrap();
    let message = token_error(login(&client).await);
    assert!(message.contains("HS256"), "{message}");
}

#[tokio::test]
async fn rejects_token_with_wrong_at_hash() {
    let (_, result) = login_with_claims(|c| {
        c.insert("at_hash".to_owned(), json!("AAAAAAAAAAAAAAAAAAAAAA"));
    })
    .await;
    let message = token_error(result);
    assert!(message.contains("at_hash"), "{message}");
}

#[tokio::test]
async fn rejects_token_without_the_identity_claim() {
    let (_, result) = login_with_claims(|c| {
        c.remove("email");
    })
    .await;
    assert!(
        matches!(&result, Err(OidcError::MissingClaim(name)) if name == "email"),
        "{result:?}"
    );
}

#[tokio::test]
async fn rejects_identity_claim_that_is_not_a_string() {
    let provider = TestProvider::start().await;
    let mut config = config(&provider);
    config.identity_claim = "member_number".to_owned();
    let client = OidcClient::discover(config).await.unwrap();
    let result = login(&client).await;
    assert!(
        matches!(&result, Err(OidcError::MissingClaim(name)) if name == "member_number"),
        "{result:?}"
    );
}

#[tokio::test]
async fn rejects_unverified_email() {
    let (_, result) = login_with_claims(|c| {
        c.insert("email_verified".to_owned(), json!(false));
    })
    .await;
    assert!(
        matches!(result, Err(OidcError::EmailNotVerified)),
        "{result:?}"
    );
}

#[tokio::test]
async fn rejects_discovery_with_another_issuer() {
    let provider = TestProvider::start().await;
    let other = format!("{}/someone-else", provider.base());
    provider.with(|b| b.issuer = Some(other));
    let err = OidcClient::discover(config(&provider)).await.unwrap_err();
    match err {
        OidcError::Discovery(message) => assert!(message.contains("issuer"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rejects_provider_without_an_accepted_algorithm() {
    let provider = TestProvider::start().await;
    provider.with(|b| b.algs = vec!["HS256"]);
    let err = OidcClient::discover(config(&provider)).await.unwrap_err();
    assert!(matches!(err, OidcError::Discovery(_)), "{err:?}");
}

#[tokio::test]
async fn rejects_unreachable_provider() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = config(&TestProvider::start().await);
    config.issuer = format!("http://127.0.0.1:{port}");
    let err = OidcClient::discover(config).await.unwrap_err();
    match err {
        OidcError::Discovery(message) => {
            assert!(message.contains(&port.to_string()), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rejects_plain_http_issuer_off_loopback() {
    let provider = TestProvider::start().await;
    let mut config = config(&provider);
    config.issuer = "http://id.example.org".to_owned();
    let err = OidcClient::discover(config).await.unwrap_err();
    assert!(matches!(err, OidcError::Config(_)), "{err:?}");
}

#[test]
fn config_reads_toml_with_defaults_and_hides_the_secret() {
    let config: OidcConfig = toml::from_str(
        r#"
        issuer = "https://id.example.org"
        client_id = "urne"
        client_secret = "very-secret-value"
        redirect_url = "https://vote.example.org/api/v1/voter/oidc/callback"
        "#,
    )
    .unwrap();
    assert_eq!(config.scopes, ["openid", "email"]);
    assert_eq!(config.identity_claim, "email");
    assert_eq!(config.display_name, None);
    assert_eq!(
        config.client_secret.as_deref().map(String::as_str),
        Some("very-secret-value")
    );
    let debug = format!("{config:?}");
    assert!(!debug.contains("very-secret-value"), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
}

#[test]
fn config_rejects_unknown_fields() {
    let err = toml::from_str::<OidcConfig>(
        r#"
        issuer = "https://id.example.org"
        client_id = "urne"
        redirect_url = "https://vote.example.org/cb"
        identity_clam = "sub"
        "#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("identity_clam"), "{err}");
}
