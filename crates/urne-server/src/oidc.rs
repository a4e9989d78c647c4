//! OpenID Connect login for voters: the relying-party side of the authorization code flow.
//!
//! A voter proves who they are apart from the credential that makes a ballot eligible (issue #6).
//! Besides the one-time code sent by email, an election can let voters sign in with an OpenID
//! provider: a national identity provider or the organization's single sign-on. This module is
//! the client the voter routes call; it holds no session and knows nothing of the server's state.
//!
//! The flow, with the sections of the specifications it implements:
//!
//! 1. [`OidcClient::discover`] reads `{issuer}/.well-known/openid-configuration` and the key set
//!    it names (OpenID Connect Discovery 1.0 §4), and requires the document's `issuer` to equal
//!    the configured one exactly (§4.3). The issuer and every endpoint must use `https`, except
//!    on a loopback address (for tests and local providers).
//! 2. [`OidcClient::begin`] builds the authentication request of OpenID Connect Core 1.0 §3.1.2.1
//!    (`response_type=code`, `scope` with `openid`, `state`, `nonce`), with a PKCE challenge
//!    (RFC 7636 §4.2, method `S256`). The caller keeps the returned [`PendingLogin`] on the
//!    server, keyed by its `state`, and sends the browser to the URL.
//! 3. [`OidcClient::finish`] handles the callback (Core §3.1.2.5): it compares the returned
//!    `state` with the kept one in constant time (RFC 6749 §10.12), redeems the code at the
//!    token endpoint with the PKCE verifier (Core §3.1.3.1, RFC 7636 §4.5; client
//!    authentication `client_secret_basic` or `client_secret_post` as the provider advertises,
//!    or none for a public client), and validates the ID token as Core §3.1.3.7 says: signature
//!    by one of the provider's keys with an asymmetric algorithm the provider advertises (steps
//!    6–7; MAC algorithms and `none` are refused), `iss` (step 2), `aud` containing our client
//!    id and no other untrusted audience (step 3), `exp` and `iat` with [`CLOCK_LEEWAY`] of
//!    leeway and `iat` at most [`MAX_TOKEN_AGE`] old (steps 9–10), and the `nonce` (step 11).
//!    When the token carries `at_hash`, it must match the access token (§3.1.3.8). The value of
//!    the configured identity claim is returned; for `email`, a provider that sends
//!    `email_verified` must send `true` (Core §5.1).
//!
//! Key rotation (Core §10.1.1): when an ID token names a key the cached set lacks, the key set is
//! fetched again, at most once per [`JWKS_REFRESH_INTERVAL`], and the token checked once more.
//!
//! Secrets (client secret, authorization code, tokens, nonce, PKCE verifier) are never logged nor
//! shown by `Debug`, and error messages carry none of them. The nonce and the PKCE verifier kept
//! in a [`PendingLogin`] are zeroized when it is dropped; the copies that the `openidconnect`
//! crate makes for the duration of a request are not.
//!
//! The provider's `code_challenge_methods_supported` is not read: PKCE is always sent, and a
//! provider that ignored it would still be held to `state` and `nonce`.
//!
//! Not implemented: encrypted ID tokens (JWE), the implicit and hybrid flows, the UserInfo
//! endpoint (claims are read from the ID token only), `private_key_jwt` client authentication.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use openidconnect::OAuth2TokenResponse;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::url::{Host, Url};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthType, AuthorizationCode, ClaimsVerificationError,
    Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenClaims, IdTokenFields, IdTokenVerifier, IssuerUrl,
    JsonWebKeySetUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
    reqwest,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Clock difference tolerated between the provider and the server, for `exp` and `iat`.
pub const CLOCK_LEEWAY: Duration = Duration::from_secs(60);
/// Oldest `iat` accepted: the provider has just minted the token in this flow.
pub const MAX_TOKEN_AGE: Duration = Duration::from_secs(10 * 60);
/// How long a [`PendingLogin`] may wait for its callback.
pub const PENDING_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// Least time between two fetches of the key set prompted by unknown keys.
pub const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Time limit of each request to the provider.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Signature algorithms accepted for ID tokens, when the provider also advertises them.
/// Only asymmetric ones: a MAC keyed with the client secret proves nothing the server could
/// show a third party, and `none` proves nothing at all.
const ACCEPTED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

fn default_scopes() -> Vec<String> {
    vec!["openid".to_owned(), "email".to_owned()]
}

fn default_identity_claim() -> String {
    "email".to_owned()
}

/// The `[oidc]` section of the server's configuration: one OpenID provider.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer identifier, e.g. `https://id.example.org` (Discovery §2).
    pub issuer: String,
    /// The client id the provider registered for this server.
    pub client_id: String,
    /// The client secret, for a confidential client; `None` for a public client (PKCE only).
    #[serde(default)]
    pub client_secret: Option<Zeroizing<String>>,
    /// Where the provider sends the browser back, e.g.
    /// `https://vote.example.org/api/v1/voter/oidc/callback`; registered with the provider.
    pub redirect_url: String,
    /// Scopes requested; `openid` is always sent. Default `["openid", "email"]`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The ID token claim whose value names the voter in the roll: `email` (default), `sub`,
    /// or any other claim with a string value.
    #[serde(default = "default_identity_claim")]
    pub identity_claim: String,
    /// The provider's name for the login button; the issuer's host when absent.
    #[serde(default)]
    pub display_name: Option<String>,
}

impl fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .field("identity_claim", &self.identity_claim)
            .field("display_name", &self.display_name)
            .finish()
    }
}

/// Why a login through the provider failed. Messages name what failed and never carry a
/// secret (code, token, nonce, verifier, client secret), so they may be logged; the voter can be
/// shown them too, though a generic answer is kinder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The `[oidc]` configuration is unusable (bad URL, empty claim name...).
    #[error("OpenID Connect configuration: {0}")]
    Config(String),
    /// The provider's discovery document or key set could not be fetched or is invalid.
    #[error("cannot use the identity provider: {0}")]
    Discovery(String),
    /// The `state` of the callback is not the one of the login it claims to finish.
    #[error("the login's state does not match: start the login again")]
    State,
    /// The login waited longer than [`PENDING_MAX_AGE`] for its callback.
    #[error("the login took too long: start the login again")]
    LoginExpired,
    /// The token endpoint refused the code or could not be reached.
    #[error("the identity provider did not accept the login: {0}")]
    Exchange(String),
    /// The ID token is absent or fails validation.
    #[error("the identity provider's ID token is not valid: {0}")]
    Token(String),
    /// The ID token lacks the identity claim, or its value is not a non-empty string.
    #[error("the identity provider did not give the claim `{0}`")]
    MissingClaim(String),
    /// The identity claim is `email` and the provider says the address is not verified.
    #[error("the identity provider has not verified this email address")]
    EmailNotVerified,
}

/// What [`OidcClient::begin`] hands over and [`OidcClient::finish`] needs back: keep it on the
/// server (never in the browser), keyed by `state`, and use it once.
pub struct PendingLogin {
    /// The `state` parameter sent to the provider (RFC 6749 §10.12), random, 128 bits.
    pub state: String,
    /// The `nonce` bound into the ID token (Core §3.1.2.1).
    nonce: Zeroizing<String>,
    /// The PKCE code verifier (RFC 7636 §4.1).
    pkce_verifier: Zeroizing<String>,
    /// When the login began.
    pub created_at: Instant,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &self.state)
            .field("nonce", &"[redacted]")
            .field("pkce_verifier", &"[redacted]")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// The identity a provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The identity claim's value, e.g. the email address.
    pub value: String,
    /// The `sub` claim: the provider's stable identifier of the person.
    pub subject: String,
    /// The issuer that vouched.
    pub issuer: String,
}

/// Every claim of the ID token that is not a standard one, kept so that any string claim can be
/// the identity claim.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type OidcIdTokenFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcTokenResponse = StandardTokenResponse<OidcIdTokenFields, CoreTokenType>;
type OidcIdTokenClaims = IdTokenClaims<OtherClaims, CoreGenderClaim>;

/// The `openidconnect` client once its authorization and token endpoints are known.
type ProviderClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    OidcTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointMaybeSet,
>;

/// A relying party of one OpenID provider. Cheap to clone (shared inside); `Send + Sync`.
#[derive(Clone)]
pub struct OidcClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: ProviderClient,
    http: reqwest::Client,
    issuer: IssuerUrl,
    client_id: ClientId,
    jwks_url: JsonWebKeySetUrl,
    keys: RwLock<CoreJsonWebKeySet>,
    refresh_lock: tokio::sync::Mutex<()>,
    allowed_algs: Vec<CoreJwsSigningAlgorithm>,
    scopes: Vec<String>,
    identity_claim: String,
    display_name: String,
    last_refresh_attempt: Mutex<Option<Instant>>,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.inner.issuer.as_str())
            .field("client_id", &self.inner.client_id.as_str())
            .field("identity_claim", &self.inner.identity_claim)
            .field("display_name", &self.inner.display_name)
            .finish_non_exhaustive()
    }
}

/// `https`, or plain `http` to a loopback address only.
fn is_secure(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// An error and its sources, joined: the crates' top-level messages are often too vague alone.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let message = s.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = s.source();
    }
    text
}

impl OidcClient {
    /// Fetches the provider's discovery document
    /// (`{issuer}/.well-known/openid-configuration`) and key set, checks that the document's
    /// issuer equals `config.issuer` exactly and that its endpoints are secure, and builds the
    /// client. Fails with [`OidcError::Config`] for a bad configuration and
    /// [`OidcError::Discovery`] when the provider cannot be reached or answers wrongly.
    pub async fn discover(config: OidcConfig) -> Result<OidcClient, OidcError> {
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| OidcError::Config(format!("issuer `{}`: {e}", config.issuer)))?;
        if !is_secure(issuer.url()) {
            return Err(OidcError::Config(format!(
                "issuer `{}` must use https",
                config.issuer
            )));
        }
        let redirect = RedirectUrl::new(config.redirect_url.clone()).map_err(|e| {
            OidcError::Config(format!("redirect_url `{}`: {e}", config.redirect_url))
        })?;
        if config.client_id.is_empty() {
            return Err(OidcError::Config("client_id is empty".to_owned()));
        }
        if config.identity_claim.is_empty() {
            return Err(OidcError::Config("identity_claim is empty".to_owned()));
        }

        // No redirects: the library's advice against SSRF, and a provider has no reason to.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| OidcError::Discovery(format!("HTTP client: {}", chain(&e))))?;

        let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &http)
            .await
            .map_err(|e| {
                OidcError::Discovery(format!(
                    "discovery document of `{}`: {}",
                    issuer.as_str(),
                    chain(&e)
                ))
            })?;

        let token_url = metadata.token_endpoint().cloned().ok_or_else(|| {
            OidcError::Discovery("the discovery document has no token_endpoint".to_owned())
        })?;
        for (name, url) in [
            (
                "authorization_endpoint",
                metadata.authorization_endpoint().url(),
            ),
            ("token_endpoint", token_url.url()),
            ("jwks_uri", metadata.jwks_uri().url()),
        ] {
            if !is_secure(url) {
                return Err(OidcError::Discovery(format!(
                    "{name} `{url}` must use https"
                )));
            }
        }
        let allowed_algs: Vec<CoreJwsSigningAlgorithm> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|alg| ACCEPTED_ALGS.contains(alg))
            .cloned()
            .collect();
        if allowed_algs.is_empty() {
            return Err(OidcError::Discovery(
                "the provider signs ID tokens with no asymmetric algorithm this server accepts"
                    .to_owned(),
            ));
        }
        // Discovery §3: `client_secret_basic` when the provider lists no method.
        let auth_type = match metadata.token_endpoint_auth_methods_supported() {
            Some(methods)
                if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                    && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
            {
                AuthType::RequestBody
            }
            _ => AuthType::BasicAuth,
        };

        let jwks_url = metadata.jwks_uri().clone();
        let keys = metadata.jwks().clone();
        let client_id = ClientId::new(config.client_id.clone());
        let secret = config
            .client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.as_str().to_owned()));
        let client: ProviderClient =
            Client::from_provider_metadata(metadata, client_id.clone(), secret)
                .set_token_uri(token_url)
                .set_redirect_uri(redirect)
                .set_auth_type(auth_type);

        let display_name = config
            .display_name
            .clone()
            .or_else(|| issuer.url().host_str().map(str::to_owned))
            .unwrap_or_else(|| issuer.as_str().to_owned());
        let scopes = config
            .scopes
            .iter()
            .filter(|s| s.as_str() != "openid" && !s.is_empty())
            .cloned()
            .collect();

        Ok(OidcClient {
            inner: Arc::new(Inner {
                client,
                http,
                issuer,
                client_id,
                jwks_url,
                keys: RwLock::new(keys),
                refresh_lock: tokio::sync::Mutex::new(()),
                allowed_algs,
                scopes,
                identity_claim: config.identity_claim.clone(),
                display_name,
                last_refresh_attempt: Mutex::new(None),
            }),
        })
    }

    /// The issuer identifier, as configured and confirmed by discovery.
    pub fn issuer(&self) -> &str {
        self.inner.issuer.as_str()
    }

    /// The name to show on the login button: `display_name`, or the issuer's host.
    pub fn display_name(&self) -> &str {
        &self.inner.display_name
    }

    /// Starts a login: the provider's authorization URL to send the browser to, and what must be
    /// kept on the server, keyed by [`PendingLogin::state`], until the callback.
    pub fn begin(&self) -> (String, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self.inner.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.inner.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: Zeroizing::new(nonce.secret().clone()),
            pkce_verifier: Zeroizing::new(verifier.secret().clone()),
            created_at: Instant::now(),
        };
        (url.to_string(), pending)
    }

    /// Finishes a login from the callback's `code` and `state`: checks the state, redeems the code
    /// with the PKCE verifier, validates the ID token and returns the identity it vouches for.
    pub async fn finish(
        &self,
        pending: PendingLogin,
        code: &str,
        state: &str,
    ) -> Result<Identity, OidcError> {
        if !bool::from(pending.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(OidcError::State);
        }
        if pending.created_at.elapsed() > PENDING_MAX_AGE {
            return Err(OidcError::LoginExpired);
        }

        let response = self
            .inner
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.to_string()))
            .request_async(&self.inner.http)
            .await
            .map_err(|e| OidcError::Exchange(exchange_error(&e)))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Token("the token response has no id_token".to_owned()))?;
        let nonce = Nonce::new(pending.nonce.to_string());

        let mut verifier = self.verifier();
        let mut checked = id_token.claims(&verifier, &nonce);
        if matches!(
            checked,
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey
            ))
        ) && self.refresh_keys().await
        {
            verifier = self.verifier();
            checked = id_token.claims(&verifier, &nonce);
        }
        let claims = checked.map_err(|e| OidcError::Token(chain(&e)))?;

        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|e| OidcError::Token(chain(&e)))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| OidcError::Token(chain(&e)))?;
            let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
                .map_err(|e| OidcError::Token(format!("at_hash: {}", chain(&e))))?;
            if !bool::from(actual.as_bytes().ct_eq(expected.as_bytes())) {
                return Err(OidcError::Token(
                    "at_hash does not match the access token".to_owned(),
                ));
            }
        }

        Ok(Identity {
            value: self.identity_value(claims)?,
            subject: claims.subject().as_str().to_owned(),
            issuer: claims.issuer().as_str().to_owned(),
        })
    }

    /// The configured claim's value from validated claims.
    fn identity_value(&self, claims: &OidcIdTokenClaims) -> Result<String, OidcError> {
        let name = self.inner.identity_claim.as_str();
        let value = match name {
            "sub" => claims.subject().as_str().to_owned(),
            "email" => {
                let email = claims
                    .email()
                    .ok_or_else(|| OidcError::MissingClaim(name.to_owned()))?;
                if claims.email_verified() == Some(false) {
                    return Err(OidcError::EmailNotVerified);
                }
                email.as_str().to_owned()
            }
            _ => {
                // Standard claims are parsed into typed fields: serializing the claims back gives
                // one JSON object in which any claim can be looked up by name.
                let all = serde_json::to_value(claims)
                    .map_err(|e| OidcError::Token(format!("claims: {e}")))?;
                all.get(name)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| OidcError::MissingClaim(name.to_owned()))?
            }
        };
        if value.is_empty() {
            return Err(OidcError::MissingClaim(name.to_owned()));
        }
        Ok(value)
    }

    /// An ID token verifier over the current key set, with this module's time checks.
    fn verifier(&self) -> IdTokenVerifier<'static, CoreJsonWebKey> {
        let keys = self
            .inner
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let leeway = chrono::Duration::from_std(CLOCK_LEEWAY).unwrap_or_default();
        let max_age = chrono::Duration::from_std(MAX_TOKEN_AGE).unwrap_or_default();
        IdTokenVerifier::new_public_client(
            self.inner.client_id.clone(),
            self.inner.issuer.clone(),
            keys,
        )
        .set_allowed_algs(self.inner.allowed_algs.clone())
        // `exp` is compared with this clock: running it behind by the leeway grants the leeway
        // (so an "expired" message shows as current time the clock minus the leeway).
        .set_time_fn(move || chrono::Utc::now() - leeway)
        .set_issue_time_verifier_fn(move |iat| {
            let now = chrono::Utc::now();
            if iat > now + leeway {
                Err(format!("ID token issued in the future ({iat})"))
            } else if iat < now - max_age - leeway {
                Err(format!("ID token issued too long ago ({iat})"))
            } else {
                Ok(())
            }
        })
    }

    /// Fetches the key set again, unless that was tried less than [`JWKS_REFRESH_INTERVAL`]
    /// ago. Returns whether the keys were refreshed; a failure is logged, and the token is then
    /// judged with the keys at hand.
    async fn refresh_keys(&self) -> bool {
        let _one_at_a_time = self.inner.refresh_lock.lock().await;
        {
            let mut last = self
                .inner
                .last_refresh_attempt
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < JWKS_REFRESH_INTERVAL) {
                return false;
            }
            *last = Some(Instant::now());
        }
        match CoreJsonWebKeySet::fetch_async(&self.inner.jwks_url, &self.inner.http).await {
            Ok(set) => {
                *self
                    .inner
                    .keys
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = set;
                tracing::info!(
                    issuer = self.issuer(),
                    "OpenID provider's key set fetched again"
                );
                true
            }
            Err(e) => {
                tracing::warn!(
                    issuer = self.issuer(),
                    "cannot fetch the OpenID provider's key set again: {}",
                    chain(&e)
                );
                false
            }
        }
    }
}

/// A token endpoint failure, described without the response body (it may hold tokens).
fn exchange_error<RE: std::error::Error + 'static>(
    err: &RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
) -> String {
    match err {
        RequestTokenError::ServerResponse(response) => {
            let mut text = format!("error `{}`", response.error().as_ref());
            if let Some(description) = response.error_description() {
                text.push_str(": ");
                text.push_str(description);
            }
            text
        }
        RequestTokenError::Request(e) => format!("request to the token endpoint: {}", chain(e)),
        RequestTokenError::Parse(e, _body) => {
            format!("token response does not parse at `{}`", e.path())
        }
        RequestTokenError::Other(e) => e.clone(),
    }
}
