//! Administrators: argon2id passwords, login sessions in HttpOnly SameSite=Strict cookies
//! (Secure behind https), API tokens for scripts, and refusal of cross-site requests.
//!
//! Secrets (session cookies, API tokens, trustee invitations) are 32 random bytes shown once;
//! the store keeps only their SHA-256, so a copy of the database opens no session.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};
use urne_core::group::{b64_decode, b64_encode};

use crate::AppState;
use crate::error::ApiError;

/// The session cookie's name.
pub const COOKIE: &str = "urne_session";

/// A fresh secret token (base64url of 32 random bytes).
pub fn new_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("randomness: {e}")))?;
    Ok(b64_encode(&bytes))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The argon2id hash of a password, in PHC string form.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::internal(format!("randomness: {e}")))?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Whether `password` matches the stored hash (in constant time, by argon2).
pub fn check_password(password: &str, stored: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

/// An authenticated administrator, extracted from a session cookie or an API token.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The administrator's login name.
    pub name: String,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// The session token of the request's cookie.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some(v) = pair.trim().strip_prefix("urne_session=") {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// Refuses a state-changing request that a browser sent from another site: the cookie would
/// travel with it (SameSite aside), so its origin must be this server's own.
pub fn check_same_site(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let refuse = || {
        ApiError::forbidden(
            "cross_site",
            "administration requests from another site are refused",
        )
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err(refuse());
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .unwrap_or("");
        if origin_host != host {
            return Err(refuse());
        }
    }
    Ok(())
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let store = state.store.clone();
        if let Some(token) = bearer(&parts.headers) {
            // Scripts send their token themselves; no browser attaches it to a cross-site form.
            let hash = token_hash(token);
            let name = tokio::task::spawn_blocking(move || store.api_token(&hash))
                .await
                .map_err(ApiError::internal)??;
            return name
                .map(|name| Admin { name })
                .ok_or_else(|| ApiError::unauthorized("unknown API token"));
        }
        let Some(cookie) = session_cookie(&parts.headers) else {
            return Err(ApiError::unauthorized(
                "log in first (POST /api/v1/admin/login) or send an API token",
            ));
        };
        check_same_site(&parts.method, &parts.headers)?;
        let hash = token_hash(&cookie);
        let now = crate::clock::now();
        let name = tokio::task::spawn_blocking(move || store.session(&hash, now))
            .await
            .map_err(ApiError::internal)??;
        name.map(|name| Admin { name })
            .ok_or_else(|| ApiError::unauthorized("the session has expired; log in again"))
    }
}

/// A trustee, authenticated by the invitation token the administrators gave it.
#[derive(Debug, Clone, Copy)]
pub struct Invitation {
    /// The trustee's index, from 1.
    pub index: u32,
}

/// Finds which trustee an invitation token belongs to.
pub fn trustee_of(headers: &HeaderMap, invitations: &[String]) -> Result<Invitation, ApiError> {
    let token = bearer(headers).ok_or_else(|| {
        ApiError::unauthorized("send the trustee's invitation token as `Authorization: Bearer`")
    })?;
    let hash = token_hash(token);
    for (i, stored) in invitations.iter().enumerate() {
        if b64_decode(stored).is_ok_and(|h| subtle_eq(&h, &hash)) {
            return Ok(Invitation {
                index: i as u32 + 1,
            });
        }
    }
    Err(ApiError::unauthorized("unknown invitation token"))
}

/// A trustee whose invitation token is checked before the request's body is read, so that a
/// request without a valid invitation for the election of its path is refused (401) without its
/// body being parsed. Invitations never change once made, so the handlers only check the
/// election's phase again, under the election's lock.
#[derive(Debug, Clone, Copy)]
pub struct InvitedTrustee(pub Invitation);

impl FromRequestParts<AppState> for InvitedTrustee {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        type Params = crate::extract::Path<std::collections::HashMap<String, String>>;
        let crate::extract::Path(params) = Params::from_request_parts(parts, state).await?;
        let id = params
            .get("id")
            .ok_or_else(|| ApiError::internal("a trustee's route without an election id"))?;
        let row = state.row(id).await?;
        let config = crate::draft::StoredConfig::from_json(&row.config)?;
        trustee_of(&parts.headers, &config.invitations).map(InvitedTrustee)
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_check() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(check_password("correct horse", &h));
        assert!(!check_password("wrong horse", &h));
        assert!(!check_password("correct horse", "not a hash"));
    }

    #[test]
    fn rejects_cross_site_posts() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "vote.example.org".parse().unwrap());
        h.insert(header::ORIGIN, "https://evil.example.com".parse().unwrap());
        assert!(check_same_site(&Method::POST, &h).is_err());
        assert!(check_same_site(&Method::GET, &h).is_ok());
        h.insert(header::ORIGIN, "https://vote.example.org".parse().unwrap());
        assert!(check_same_site(&Method::POST, &h).is_ok());
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(check_same_site(&Method::POST, &h).is_err());
    }
}
