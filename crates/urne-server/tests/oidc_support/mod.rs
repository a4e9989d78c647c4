//! A small OpenID provider for the tests of `urne_server::oidc`: a real HTTP server on
//! 127.0.0.1 with discovery, a key set, an authorization endpoint that redirects back at once,
//! and a token endpoint that checks what a real provider checks (client authentication, single
//! use code, redirect URI, PKCE S256) before signing an ID token with keys made at test time.
//!
//! Each test can bend the provider (issuer advertised, claims, signing key, tampering) to show
//! that the client refuses what it must refuse.

#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "urne-test-client";
pub const CLIENT_SECRET: &str = "s3cret-for-tests-only";
pub const REDIRECT_URI: &str = "https://vote.example.org/api/v1/voter/oidc/callback";
pub const SUBJECT: &str = "voter-42";
pub const EMAIL: &str = "ada@example.org";

/// A signing key with its key id, and its public half as a JWK.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
}

fn rsa_key(kid: &str) -> SigningKey {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let der = private.to_pkcs1_der().unwrap();
    let jwk = json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
    });
    SigningKey {
        kid: kid.to_owned(),
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk,
    }
}

/// RSA key generation takes a moment: each test process makes its keys once.
pub fn rsa_keys() -> &'static [SigningKey; 3] {
    static KEYS: OnceLock<[SigningKey; 3]> = OnceLock::new();
    KEYS.get_or_init(|| [rsa_key("rsa-1"), rsa_key("rsa-2"), rsa_key("rsa-3")])
}

pub fn ec_key(kid: &str) -> SigningKey {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::EncodePrivateKey;
    let secret = p256::SecretKey::random(&mut rsa::rand_core::OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let jwk = json!({
        "kty": "EC",
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
    });
    SigningKey {
        kid: kid.to_owned(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes()),
        jwk,
    }
}

/// What `/authorize` received.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub params: HashMap<String, String>,
}

impl AuthorizeRequest {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

type ClaimsHook = Box<dyn Fn(&mut Map<String, Value>) + Send + Sync>;

/// How the provider behaves; tests change it through [`TestProvider::with`].
pub struct Behaviour {
    /// The issuer the discovery document and the tokens state; `None`: the real base URL.
    pub issuer: Option<String>,
    /// The keys published at `/jwks`.
    pub published: Vec<SigningKey>,
    /// The key that signs ID tokens.
    pub signer: SigningKey,
    /// Changes the claims before signing.
    pub claims_hook: Option<ClaimsHook>,
    /// Flip a claim after signing, keeping the signature.
    pub tamper: bool,
    /// `token_endpoint_auth_methods_supported`.
    pub auth_methods: Vec<&'static str>,
    /// Algorithms advertised.
    pub algs: Vec<&'static str>,
    /// Whether the client must authenticate with the secret (else: a public client).
    pub confidential: bool,
    /// Whether to add `at_hash`.
    pub at_hash: bool,
}

struct AuthCode {
    request: AuthorizeRequest,
}

#[derive(Default)]
struct Log {
    authorize: Vec<AuthorizeRequest>,
    codes: HashMap<String, AuthCode>,
    token_requests: usize,
    jwks_requests: usize,
    token_errors: Vec<String>,
}

struct Shared {
    base: String,
    behaviour: Mutex<Behaviour>,
    log: Mutex<Log>,
}

/// A running provider; it stops when the test's runtime ends.
#[derive(Clone)]
pub struct TestProvider {
    shared: Arc<Shared>,
}

impl TestProvider {
    /// Starts a provider signing with RS256 (key `rsa-1`), for a confidential client using
    /// `client_secret_basic`.
    pub async fn start() -> TestProvider {
        let key = rsa_keys()[0].clone();
        Self::start_with(Behaviour {
            issuer: None,
            published: vec![key.clone()],
            signer: key,
            claims_hook: None,
            tamper: false,
            auth_methods: vec!["client_secret_basic"],
            algs: vec!["RS256", "ES256"],
            confidential: true,
            at_hash: true,
        })
        .await
    }

    pub async fn start_with(behaviour: Behaviour) -> TestProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            base: format!("http://{addr}"),
            behaviour: Mutex::new(behaviour),
            log: Mutex::new(Log::default()),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(shared.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestProvider { shared }
    }

    /// The provider's base URL, which is also its issuer unless changed.
    pub fn base(&self) -> &str {
        &self.shared.base
    }

    pub fn with(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.shared.behaviour.lock().unwrap());
    }

    pub fn authorize_requests(&self) -> Vec<AuthorizeRequest> {
        self.shared.log.lock().unwrap().authorize.clone()
    }

    pub fn token_requests(&self) -> usize {
        self.shared.log.lock().unwrap().token_requests
    }

    pub fn jwks_requests(&self) -> usize {
        self.shared.log.lock().unwrap().jwks_requests
    }

    /// Why `/token` refused requests, in order.
    pub fn token_errors(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().token_errors.clone()
    }
}

fn issuer(shared: &Shared) -> String {
    let behaviour = shared.behaviour.lock().unwrap();
    behaviour
        .issuer
        .clone()
        .unwrap_or_else(|| shared.base.clone())
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let base = &shared.base;
    let issuer = issuer(&shared);
    let behaviour = shared.behaviour.lock().unwrap();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": behaviour.algs,
        "token_endpoint_auth_methods_supported": behaviour.auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile"],
    }))
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.log.lock().unwrap().jwks_requests += 1;
    let behaviour = shared.behaviour.lock().unwrap();
    let keys: Vec<Value> = behaviour.published.iter().map(|k| k.jwk.clone()).collect();
    Json(json!({ "keys": keys }))
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let request = AuthorizeRequest { params };
    shared.log.lock().unwrap().authorize.push(request.clone());
    let Some(redirect_uri) = request.get("redirect_uri").map(str::to_owned) else {
        return (StatusCode::BAD_REQUEST, "no redirect_uri").into_response();
    };
    if request.get("client_id") != Some(CLIENT_ID) || request.get("response_type") != Some("code") {
        return (StatusCode::BAD_REQUEST, "bad client_id or response_type").into_response();
    }
    let code = random_token();
    let state = request.get("state").unwrap_or_default().to_owned();
    shared
        .log
        .lock()
        .unwrap()
        .codes
        .insert(code.clone(), AuthCode { request });
    let location = format!("{redirect_uri}?code={code}&state={state}");
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn refuse(shared: &Shared, status: StatusCode, error: &str, why: &str) -> Response {
    shared.log.lock().unwrap().token_errors.push(why.to_owned());
    (
        status,
        Json(json!({ "error": error, "error_description": why })),
    )
        .into_response()
}

/// The client id and secret of an `Authorization: Basic` header (RFC 6749 §2.3.1; our test
/// values need no form-decoding).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    shared.log.lock().unwrap().token_requests += 1;
    let (confidential, auth_methods) = {
        let b = shared.behaviour.lock().unwrap();
        (b.confidential, b.auth_methods.clone())
    };
    if form.grant_type != "authorization_code" {
        return refuse(
            &shared,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant",
        );
    }

    // Client authentication, by the method the provider advertised.
    let client_ok = if !confidential {
        form.client_id.as_deref() == Some(CLIENT_ID)
            && form.client_secret.is_none()
            && headers.get(header::AUTHORIZATION).is_none()
    } else if auth_methods.contains(&"client_secret_basic") {
        basic_credentials(&headers) == Some((CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned()))
    } else {
        form.client_id.as_deref() == Some(CLIENT_ID)
            && form.client_secret.as_deref() == Some(CLIENT_SECRET)
            && headers.get(header::AUTHORIZATION).is_none()
    };
    if !client_ok {
        return refuse(
            &shared,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }

    // The code is single use: removed whatever follows.
    let Some(AuthCode { request }) = shared.log.lock().unwrap().codes.remove(&form.code) else {
        return refuse(
            &shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown code",
        );
    };
    if form.redirect_uri.as_deref() != request.get("redirect_uri") {
        return refuse(
            &shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri differs",
        );
    }
    // RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge.
    let Some(verifier) = form.code_verifier.as_deref() else {
        return refuse(
            &shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "no code_verifier",
        );
    };
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if request.get("code_challenge_method") != Some("S256")
        || request.get("code_challenge") != Some(computed.as_str())
    {
        return refuse(
            &shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE check failed",
        );
    }

    let access_token = random_token();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut claims = json!({
        "iss": issuer(&shared),
        "sub": SUBJECT,
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "email": EMAIL,
        "email_verified": true,
        "preferred_username": "ada",
        "employee_id": "E-1001",
        "member_number": 1001,
    });
    let claims_map = claims.as_object_mut().unwrap();
    if let Some(nonce) = request.get("nonce") {
        claims_map.insert("nonce".to_owned(), json!(nonce));
    }
    let behaviour = shared.behaviour.lock().unwrap();
    if behaviour.at_hash {
        // SHA-256 for RS256 and ES256: the left half, base64url (Core §3.1.3.6).
        let digest = Sha256::digest(access_token.as_bytes());
        claims_map.insert(
            "at_hash".to_owned(),
            json!(URL_SAFE_NO_PAD.encode(&digest[..16])),
        );
    }
    if let Some(hook) = &behaviour.claims_hook {
        hook(claims_map);
    }
    let signer = &behaviour.signer;
    let mut jwt_header = Header::new(signer.alg);
    jwt_header.kid = Some(signer.kid.clone());
    let mut id_token = jsonwebtoken::encode(&jwt_header, &claims, &signer.encoding).unwrap();
    if behaviour.tamper {
        let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        payload["email"] = json!("mallory@example.org");
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
        id_token = parts.join(".");
    }
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}
