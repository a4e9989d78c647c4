//! A small blocking client of the server's JSON API, for the demo, trustees and observers.

use anyhow::{Context, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A client of one server.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

/// An error answer of the API, kept whole for callers that look at its code.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path}: HTTP {status}: {body}")]
pub struct HttpError {
    /// The method.
    pub method: &'static str,
    /// The path.
    pub path: String,
    /// The status.
    pub status: u16,
    /// The body (the API's JSON error).
    pub body: String,
}

impl Client {
    /// A client of the server at `base` (`http://host:port`).
    pub fn new(base: &str) -> Self {
        // A server that stops answering must not hang a trustee's step or an observer's poll
        // for ever; the answer's body may stream for long (a whole record), so only the
        // connection and the wait for the answer to start are bounded. Administrative steps on
        // very large elections (sealing a million credentials, tallying) take minutes.
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections_per_host(256)
            .timeout_connect(Some(std::time::Duration::from_secs(15)))
            .timeout_recv_response(Some(std::time::Duration::from_secs(900)))
            .build();
        Client {
            base: base.trim_end_matches('/').to_owned(),
            agent: config.into(),
            token: None,
        }
    }

    /// The same client, sending `Authorization: Bearer token`.
    pub fn with_token(&self, token: &str) -> Self {
        Client {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    fn finish(
        method: &'static str,
        path: &str,
        mut r: ureq::http::Response<ureq::Body>,
    ) -> anyhow::Result<(u16, String)> {
        let status = r.status().as_u16();
        let body = r
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .with_context(|| format!("{method} {path}: reading the answer"))?;
        if status >= 400 {
            return Err(HttpError {
                method,
                path: path.to_owned(),
                status,
                body,
            }
            .into());
        }
        Ok((status, body))
    }

    /// GET, answer as text.
    pub fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let r = req.call().with_context(|| format!("GET {path}"))?;
        Ok(Self::finish("GET", path, r)?.1)
    }

    /// GET, the answer copied to `out` as it arrives (for answers of any size, such as a
    /// record); returns its length in bytes.
    pub fn get_into(&self, path: &str, out: &mut dyn std::io::Write) -> anyhow::Result<u64> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let r = req.call().with_context(|| format!("GET {path}"))?;
        if r.status().as_u16() >= 400 {
            Self::finish("GET", path, r)?;
            bail!("GET {path}: refused");
        }
        let mut r = r;
        std::io::copy(&mut r.body_mut().as_reader(), out)
            .with_context(|| format!("GET {path}: reading the answer"))
    }

    /// GET, answer as JSON.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let text = self.get_text(path)?;
        serde_json::from_str(&text).with_context(|| format!("GET {path}: unexpected answer"))
    }

    /// POST or PUT a body, answer status and text.
    pub fn send_raw(
        &self,
        method: &'static str,
        path: &str,
        body: &[u8],
    ) -> anyhow::Result<(u16, String)> {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "PUT" => self.agent.put(url),
            "POST" => self.agent.post(url),
            other => bail!("unsupported method {other}"),
        };
        req = req.header("content-type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let r = req.send(body).with_context(|| format!("{method} {path}"))?;
        Self::finish(method, path, r)
    }

    /// POST JSON, answer as JSON (or `null` for an empty answer).
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.send("POST", path, body)
    }

    /// PUT JSON, answer as JSON.
    pub fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.send("PUT", path, body)
    }

    fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let bytes = serde_json::to_vec(body)?;
        let (_, text) = self.send_raw(method, path, &bytes)?;
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).with_context(|| format!("{method} {path}: unexpected answer"))
    }
}

/// A fresh random secret (base64url of 32 bytes), for generated passwords.
pub fn random_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
    Ok(urne_core::group::b64_encode(&bytes))
}

impl Client {
    /// Logs in with a password and returns a new API token for this client's later requests.
    pub fn login(&self, name: &str, password: &str) -> anyhow::Result<String> {
        let path = "/api/v1/admin/login";
        let body = serde_json::json!({ "name": name, "password": password });
        let r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .send(serde_json::to_vec(&body)?)
            .context("POST /api/v1/admin/login")?;
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        Self::finish("POST", path, r)?;
        let cookie = cookie.context("the login set no session cookie")?;
        let r = self
            .agent
            .post(format!("{}/api/v1/admin/tokens", self.base))
            .header("content-type", "application/json")
            .header("cookie", cookie)
            .send(br#"{"label":"urne command line"}"#.as_slice())
            .context("POST /api/v1/admin/tokens")?;
        #[derive(serde::Deserialize)]
        struct NewToken {
            token: String,
        }
        let (_, text) = Self::finish("POST", "/api/v1/admin/tokens", r)?;
        Ok(serde_json::from_str::<NewToken>(&text)?.token)
    }
}
