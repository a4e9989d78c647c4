//! Test support for the server's integration tests: a real server (the router of
//! `urne_server::app` over a real SQLite store in a temporary directory, served by axum on a
//! loopback port), a blocking HTTP client (ureq), and an election driven through the API to any
//! phase the way `urne demo` drives one, with keys, dealings, credentials and ballots made by
//! urne-core on the "client" side.

#![allow(dead_code)]

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::board::BoardKey;
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing, vartime_judge_ceremony};
use urne_core::credential::{Credential, PublicCredential};
use urne_core::dkg::{Polynomial, Share};
use urne_core::election::Election;
use urne_core::group::Point;
use urne_core::manifest::{Counting, Manifest, Question, Timestamp};
use urne_core::tally::PartialDecryption;
use urne_core::trustee::TrusteeKey;
use urne_server::{AppState, ServerConfig};
use urne_verify::record::TallyEntry;

/// The administrator every test server has.
pub const ADMIN: &str = "admin";
/// Its password.
pub const PASSWORD: &str = "correct horse battery staple";

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics, showing it, when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("HTTP {}: not JSON ({e}): {}", self.status, self.text()))
    }

    /// The machine-readable `error.code` of an error answer.
    pub fn code(&self) -> String {
        let v = self.json();
        v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("HTTP {}: no error.code in {v}", self.status))
            .to_owned()
    }

    /// Every value of a header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Asserts the status, showing the body otherwise.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text());
        self
    }

    /// Asserts an error answer: its status and its `error.code`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.code().as_str()),
            (status, code),
            "unexpected answer: {}",
            self.text()
        );
        self
    }
}

/// A running server.
pub struct Server {
    runtime: Option<tokio::runtime::Runtime>,
    /// Its state, shared with the router.
    pub state: AppState,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    agent: ureq::Agent,
    /// An API token of [`ADMIN`].
    pub token: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Server {
    /// A server with the default configuration (ballots up to 16 KiB).
    pub fn start() -> Server {
        Server::with_config(|_| {})
    }

    /// A server whose configuration `tweak` changes; it has one administrator, logged in with an
    /// API token.
    pub fn with_config(tweak: impl FnOnce(&mut ServerConfig)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig {
            data_dir: dir.path().join("data"),
            max_ballot_bytes: 16 << 10,
            ..ServerConfig::default()
        };
        tweak(&mut config);
        let store: Arc<dyn urne_board::Store> =
            Arc::new(urne_board::SqliteStore::open(&config.data_dir).unwrap());
        let state = AppState::new(store, BoardKey::generate(&mut rand::rng()), config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = urne_server::app(state.clone());
        runtime.spawn(async move { axum::serve(listener, app).await });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are answers to check, not to follow.
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .max_idle_connections_per_host(64)
            .build()
            .into();
        urne_server::admin::create_admin(state.store.as_ref(), ADMIN, PASSWORD).unwrap();
        let mut server = Server {
            runtime: Some(runtime),
            state,
            base,
            agent,
            token: String::new(),
            _dir: dir,
        };
        let cookie = server.login(ADMIN, PASSWORD);
        let made = server.post_with(
            "/api/v1/admin/tokens",
            &[("cookie", &cookie)],
            &json!({ "label": "tests" }),
        );
        made.expect(201);
        server.token = made.json()["token"].as_str().unwrap().to_owned();
        server
    }

    /// Starts the mail worker (messages go to the Maildir outbox of the data directory, unless
    /// the configuration says otherwise).
    pub fn start_mailer(&self) {
        let state = self.state.clone();
        self.runtime
            .as_ref()
            .unwrap()
            .spawn(urne_server::mailer::run(state));
    }

    /// The messages in the Maildir outbox (`new/`), oldest first, as (recipient, text part), waiting up to
    /// `timeout` for at least `at_least` of them.
    pub fn outbox(&self, at_least: usize, timeout: Duration) -> Vec<(String, String)> {
        let dir = self.state.config.maildir_path().join("new");
        let start = std::time::Instant::now();
        loop {
            let mut out = vec![];
            if let Ok(entries) = std::fs::read_dir(&dir) {
                // Oldest first.
                let mut entries: Vec<_> = entries
                    .flatten()
                    .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
                    .collect();
                entries.sort();
                for (_, path) in entries {
                    let bytes = std::fs::read(path).unwrap();
                    let parsed = mailparse::parse_mail(&bytes).unwrap();
                    let to = parsed
                        .headers
                        .iter()
                        .find(|h| h.get_key().eq_ignore_ascii_case("to"))
                        .map(|h| h.get_value())
                        .unwrap_or_default();
                    let text = parsed
                        .subparts
                        .iter()
                        .find(|p| p.ctype.mimetype == "text/plain")
                        .map(|p| p.get_body().unwrap())
                        .unwrap_or_default();
                    out.push((to, text));
                }
            }
            if out.len() >= at_least || start.elapsed() > timeout {
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The election's mail report (`GET …/mail`), once `done` says it is what the test waits
    /// for (at most 60 s).
    pub fn wait_mail_report(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = std::time::Instant::now();
        loop {
            let r = self
                .admin_get(&format!("/api/v1/admin/elections/{id}/mail"))
                .expect(200)
                .json();
            if done(&r) {
                return r;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "mail report stuck at {r}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a future on the server's runtime (the scheduler's tick, say).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.as_ref().unwrap().block_on(f)
    }

    /// Any request: `method` GET, POST or PUT, extra headers, a body (POST and PUT only; `{}`
    /// when none is given).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let url = format!("{}{path}", self.base);
        let result = match method {
            "GET" => {
                let mut req = self.agent.get(&url);
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req.call()
            }
            "POST" | "PUT" => {
                let mut req = if method == "POST" {
                    self.agent.post(&url)
                } else {
                    self.agent.put(&url)
                };
                if !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    req = req.header("content-type", "application/json");
                }
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req.send(body.unwrap_or(b"{}"))
            }
            other => panic!("unsupported method {other}"),
        };
        let mut r = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status().as_u16();
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = r
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{method} {path}: reading the answer: {e}"));
        Resp {
            status,
            headers,
            body,
        }
    }

    /// GET without credentials.
    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], None)
    }

    /// POST JSON without credentials, with extra headers.
    pub fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Resp {
        self.request(
            "POST",
            path,
            headers,
            Some(serde_json::to_vec(body).unwrap().as_slice()),
        )
    }

    /// POST JSON with a bearer token.
    pub fn post_bearer(&self, path: &str, token: &str, body: &impl serde::Serialize) -> Resp {
        let auth = format!("Bearer {token}");
        self.request(
            "POST",
            path,
            &[("authorization", &auth)],
            Some(serde_json::to_vec(body).unwrap().as_slice()),
        )
    }

    /// GET as the administrator.
    pub fn admin_get(&self, path: &str) -> Resp {
        let auth = format!("Bearer {}", self.token);
        self.request("GET", path, &[("authorization", &auth)], None)
    }

    /// POST (or PUT) JSON as the administrator.
    pub fn admin_send(&self, method: &str, path: &str, body: &Value) -> Resp {
        let auth = format!("Bearer {}", self.token);
        self.request(
            method,
            path,
            &[("authorization", &auth)],
            Some(serde_json::to_vec(body).unwrap().as_slice()),
        )
    }

    /// POST `{}` as the administrator.
    pub fn admin_post(&self, path: &str) -> Resp {
        self.admin_send("POST", path, &json!({}))
    }

    /// Logs in and returns the session cookie (`urne_session=...`).
    pub fn login(&self, name: &str, password: &str) -> String {
        let r = self.post_with(
            "/api/v1/admin/login",
            &[],
            &json!({ "name": name, "password": password }),
        );
        r.expect(204);
        let set = r.header_all("set-cookie");
        assert_eq!(set.len(), 1, "one cookie: {set:?}");
        set[0].split(';').next().unwrap().to_owned()
    }

    /// The text of /metrics.
    pub fn metrics(&self) -> String {
        self.get("/metrics").expect(200).text()
    }

    /// The value of one sample of /metrics (0 when absent).
    pub fn metric(&self, sample: &str) -> f64 {
        metric_value(&self.metrics(), sample)
    }

    /// Ballots accepted, by /metrics.
    pub fn accepted(&self) -> u64 {
        self.metric("urne_ballots_accepted_total") as u64
    }

    /// The audit log's actions, in order, as `actor action election`.
    pub fn audit(&self) -> Vec<Value> {
        let r = self.admin_get("/api/v1/admin/audit");
        r.expect(200);
        r.json().as_array().unwrap().clone()
    }

    /// A draft election for `spec` (201).
    pub fn draft(&self, spec: Spec) -> TestElection<'_> {
        let r = self.admin_send(
            "POST",
            "/api/v1/admin/elections",
            &json!({ "id": spec.id, "draft": spec.draft() }),
        );
        r.expect(201);
        if spec.voter_auth != "none" {
            let auth = format!("Bearer {}", self.token);
            self.request(
                "PUT",
                &format!("/api/v1/admin/elections/{}/roll?format=csv", spec.id),
                &[("authorization", &auth)],
                Some(spec.roll_csv().as_bytes()),
            )
            .expect(200);
        }
        TestElection::existing(self, spec)
    }

    /// An election taken through the API up to `stage`.
    pub fn election(&self, spec: Spec, stage: Stage) -> TestElection<'_> {
        let mut e = self.draft(spec);
        e.advance_to(stage);
        e
    }
}

/// One sample of a Prometheus text exposition: `name{labels} value`.
pub fn metric_value(text: &str, sample: &str) -> f64 {
    text.lines()
        .filter_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .filter_map(|v| v.split_whitespace().next()?.parse().ok())
        .next()
        .unwrap_or(0.0)
}

/// What an election is made of.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its id.
    pub id: String,
    /// Number of trustees.
    pub trustees: usize,
    /// How many decrypt (fewer than `trustees`: a key-generation ceremony).
    pub threshold: u32,
    /// Number of voters (credentials).
    pub voters: usize,
    /// `last_counts` or `forbidden`.
    pub revote: &'static str,
    /// Opening time, in seconds from now.
    pub opens_in: i64,
    /// Closing time, in seconds from now.
    pub closes_in: i64,
    /// Opened by the scheduler.
    pub auto_open: bool,
    /// How voters log in (`none`, `email_code`, `oidc`); with a login, the draft gets a roll of
    /// `voters` voters (`v1` .. `vN`, mailed at `vN@example.org`).
    pub voter_auth: &'static str,
}

impl Spec {
    /// One trustee, four voters, open from a minute ago for an hour, opened by hand.
    pub fn new(id: &str) -> Spec {
        Spec {
            id: id.to_owned(),
            trustees: 1,
            threshold: 1,
            voters: 4,
            revote: "last_counts",
            opens_in: -60,
            closes_in: 3600,
            auto_open: false,
            voter_auth: "none",
        }
    }

    /// Voters log in with a mailed code; the draft gets a roll.
    pub fn with_roll(mut self) -> Spec {
        self.voter_auth = "email_code";
        self
    }

    /// The roll of [`Spec::with_roll`], as CSV.
    pub fn roll_csv(&self) -> String {
        let mut out = String::from("id,email,name\n");
        for i in 1..=self.voters {
            out.push_str(&format!("v{i},v{i}@example.org,Voter {i}\n"));
        }
        out
    }

    /// `n` trustees of whom any `threshold` decrypt.
    pub fn trustees(mut self, n: usize, threshold: u32) -> Spec {
        self.trustees = n;
        self.threshold = threshold;
        self
    }

    /// `n` voters.
    pub fn voters(mut self, n: usize) -> Spec {
        self.voters = n;
        self
    }

    /// One ballot per credential.
    pub fn forbid_revotes(mut self) -> Spec {
        self.revote = "forbidden";
        self
    }

    /// The voting period, in seconds from now.
    pub fn period(mut self, opens_in: i64, closes_in: i64) -> Spec {
        self.opens_in = opens_in;
        self.closes_in = closes_in;
        self
    }

    /// Opened by the scheduler once the setup is complete.
    pub fn auto_open(mut self) -> Spec {
        self.auto_open = true;
        self
    }

    /// The one question.
    pub fn questions() -> Vec<Question> {
        vec![Question {
            text: "Which colour?".into(),
            answers: vec!["Red".into(), "Green".into(), "Blue".into()],
            min: 1,
            max: 1,
            blank: true,
            counting: Counting::Plurality,
            seats: None,
            grades: None,
        }]
    }

    /// The draft, as the API takes it.
    pub fn draft(&self) -> Value {
        let now = urne_server::clock::now();
        json!({
            "title": format!("Election {}", self.id),
            "questions": Spec::questions(),
            "revote": self.revote,
            "opens_at": Timestamp::from_unix(now + self.opens_in).unwrap(),
            "closes_at": Timestamp::from_unix(now + self.closes_in).unwrap(),
            "trustees": (1..=self.trustees).map(|i| format!("Trustee {i}")).collect::<Vec<_>>(),
            "threshold": self.threshold,
            "voter_auth": self.voter_auth,
            "auto_open": self.auto_open,
        })
    }
}

/// How far [`Server::election`] takes an election.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Created.
    Draft,
    /// Frozen for setup: the trustees are invited.
    Setup,
    /// The trustees registered and held their ceremony.
    Trustees,
    /// The credential list is uploaded: the setup is complete.
    Credentials,
    /// The setup is on the board.
    Sealed,
    /// Voting is open.
    Open,
    /// Voting is closed.
    Closed,
    /// The encrypted tally is on the board.
    Tallied,
    /// Enough trustees decrypted: the result is on the board.
    Decrypted,
    /// The result is published.
    Published,
}

/// A trustee, on its own side.
pub struct Trustee {
    /// From 1.
    pub index: u32,
    /// Its identity (or election) key.
    pub key: TrusteeKey,
    /// Its invitation token.
    pub token: String,
    /// Its polynomial, after dealing.
    pub poly: Option<Polynomial>,
    /// Its share, after the ceremony.
    pub share: Option<Share>,
}

/// An election being driven through the API.
pub struct TestElection<'s> {
    /// The server.
    pub server: &'s Server,
    /// What it is.
    pub spec: Spec,
    /// The trustees, after setup.
    pub trustees: Vec<Trustee>,
    /// The voters' credentials, after upload.
    pub credentials: Vec<Credential>,
    /// The election from the sealed manifest (with the ceremony's verification keys).
    pub election: Option<Election>,
    /// The encrypted tally, after tallying.
    pub tally: Option<TallyEntry>,
    /// How far it has come.
    pub stage: Stage,
}

#[derive(serde::Deserialize)]
struct CeremonyView {
    identities: Vec<Option<urne_core::manifest::TrusteePublic>>,
    dealings: Vec<Dealing>,
    complaints: Vec<ComplaintMessage>,
    answers: Vec<Answer>,
}

impl<'s> TestElection<'s> {
    /// An election created as a draft already (by the test itself).
    pub fn existing(server: &'s Server, spec: Spec) -> TestElection<'s> {
        TestElection {
            server,
            spec,
            trustees: Vec::new(),
            credentials: Vec::new(),
            election: None,
            tally: None,
            stage: Stage::Draft,
        }
    }
}

impl TestElection<'_> {
    /// Its id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// `/api/v1/elections/{id}{rest}`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/elections/{}{rest}", self.spec.id)
    }

    /// `/api/v1/admin/elections/{id}{rest}`.
    pub fn admin_path(&self, rest: &str) -> String {
        format!("/api/v1/admin/elections/{}{rest}", self.spec.id)
    }

    /// The election (after sealing).
    pub fn election(&self) -> &Election {
        self.election.as_ref().expect("sealed")
    }

    /// Whether the trustees hold a ceremony.
    pub fn threshold_mode(&self) -> bool {
        (self.spec.threshold as usize) < self.spec.trustees
    }

    /// Takes the election through every step after the one it has reached, up to `stage`, each
    /// checked.
    pub fn advance_to(&mut self, stage: Stage) {
        type Step<'s> = fn(&mut TestElection<'s>);
        let steps: [(Stage, Step<'_>); 9] = [
            (Stage::Setup, Self::setup),
            (Stage::Trustees, Self::trustees_take_part),
            (Stage::Credentials, Self::upload_credentials),
            (Stage::Sealed, Self::seal),
            (Stage::Open, Self::open),
            (Stage::Closed, Self::close),
            (Stage::Tallied, Self::tally),
            (Stage::Decrypted, Self::decrypt),
            (Stage::Published, Self::publish),
        ];
        for (s, step) in steps {
            if self.stage < s && s <= stage {
                step(self);
                assert_eq!(self.stage, s);
            }
        }
    }

    /// Freezes the draft; the trustees make their keys.
    pub fn setup(&mut self) {
        let r = self.server.admin_post(&self.admin_path("/setup"));
        r.expect(200);
        let invitations = r.json()["invitations"].as_array().unwrap().clone();
        assert_eq!(invitations.len(), self.spec.trustees);
        self.trustees = invitations
            .iter()
            .enumerate()
            .map(|(i, t)| Trustee {
                index: i as u32 + 1,
                key: TrusteeKey::generate(&mut rand::rng()),
                token: t.as_str().unwrap().to_owned(),
                poly: None,
                share: None,
            })
            .collect();
        self.stage = Stage::Setup;
    }

    /// Trustee `index`'s public identity, as `urne trustee new-identity` makes it.
    pub fn identity(&self, index: u32) -> urne_core::manifest::TrusteePublic {
        let t = &self.trustees[index as usize - 1];
        t.key.publish(
            &mut rand::rng(),
            self.id(),
            index,
            &format!("Trustee {index}"),
        )
    }

    /// Every trustee registers; under threshold sharing they deal, complain and answer.
    pub fn trustees_take_part(&mut self) {
        self.register_trustees();
        if self.threshold_mode() {
            self.hold_ceremony();
        }
    }

    /// Every trustee registers its identity with its invitation.
    pub fn register_trustees(&mut self) {
        for t in &self.trustees {
            let public = self.identity(t.index);
            self.server
                .post_bearer(
                    &self.path(&format!("/trustees/{}", t.index)),
                    &t.token,
                    &public,
                )
                .expect(201);
        }
        if !self.threshold_mode() {
            self.stage = Stage::Trustees;
        }
    }

    /// The key-generation ceremony, each round through the server.
    pub fn hold_ceremony(&mut self) {
        let s = self.server;
        let id = self.spec.id.clone();
        let identities = self.identities();
        for t in &mut self.trustees {
            let (dealing, poly) = t.key.deal(
                &mut rand::rng(),
                &id,
                t.index,
                self.spec.threshold,
                &identities,
            );
            t.poly = Some(poly);
            s.post_bearer(
                &format!("/api/v1/elections/{id}/ceremony/dealing"),
                &t.token,
                &dealing,
            )
            .expect(201);
        }
        let view = self.ceremony();
        for t in &self.trustees {
            let c = t
                .key
                .complaints(&mut rand::rng(), &id, t.index, &identities, &view.dealings);
            s.post_bearer(&self.path("/ceremony/complaints"), &t.token, &c)
                .expect(201);
        }
        let view = self.ceremony();
        for t in &self.trustees {
            let a = t.key.answers(
                &mut rand::rng(),
                &id,
                t.index,
                t.poly.as_ref().unwrap(),
                &view.complaints,
            );
            s.post_bearer(&self.path("/ceremony/answers"), &t.token, &a)
                .expect(201);
        }
        self.stage = Stage::Trustees;
    }

    fn ceremony(&self) -> CeremonyView {
        serde_json::from_value(self.server.get(&self.path("/ceremony")).expect(200).json()).unwrap()
    }

    fn identities(&self) -> Vec<Point> {
        self.ceremony()
            .identities
            .iter()
            .map(|t| t.as_ref().expect("registered").public_key)
            .collect()
    }

    /// The credential authority makes one credential per voter and uploads the public list.
    pub fn upload_credentials(&mut self) {
        self.credentials = (0..self.spec.voters)
            .map(|_| Credential::generate(&mut rand::rng()))
            .collect();
        let list: Vec<PublicCredential> = self
            .credentials
            .iter()
            .map(|c| PublicCredential {
                credential: *c.derive_key(self.id()).public(),
                weight: 1,
            })
            .collect();
        self.server
            .admin_send(
                "PUT",
                &self.admin_path("/credentials"),
                &json!({ "credentials": list }),
            )
            .expect(200);
        self.stage = Stage::Credentials;
    }

    /// Seals the setup onto the board; reads the manifest back.
    pub fn seal(&mut self) {
        self.server
            .admin_post(&self.admin_path("/seal"))
            .expect(200);
        self.load_manifest();
        self.stage = Stage::Sealed;
    }

    /// Reads the sealed manifest from the public API (and the ceremony's verification keys).
    pub fn load_manifest(&mut self) {
        let view = self.server.get(&self.path("")).expect(200).json();
        let manifest: Manifest = serde_json::from_value(view["manifest"].clone()).unwrap();
        let mut election = Election::new(manifest).unwrap();
        assert_eq!(
            view["fingerprint"].as_str().unwrap(),
            election.fingerprint().to_string()
        );
        if self.threshold_mode() {
            let view = self.ceremony();
            let identities: Vec<Point> = election
                .manifest()
                .trustees
                .iter()
                .map(|t| t.public_key)
                .collect();
            let outcome = vartime_judge_ceremony(
                self.id(),
                self.spec.threshold,
                &identities,
                &view.dealings,
                &view.complaints,
                &view.answers,
            )
            .unwrap();
            election.set_verification_keys(&outcome.keys).unwrap();
            for t in &mut self.trustees {
                t.share = Some(
                    t.key
                        .assemble_share(
                            &self.spec.id,
                            t.index,
                            &identities,
                            &outcome,
                            &view.dealings,
                            &view.answers,
                        )
                        .unwrap(),
                );
            }
        }
        self.election = Some(election);
    }

    /// Opens voting.
    pub fn open(&mut self) {
        self.server
            .admin_post(&self.admin_path("/open"))
            .expect(200);
        if self.election.is_none() {
            self.load_manifest();
        }
        self.stage = Stage::Open;
    }

    /// Closes voting.
    pub fn close(&mut self) {
        self.server
            .admin_post(&self.admin_path("/close"))
            .expect(200);
        self.stage = Stage::Closed;
    }

    /// Tallies; reads the encrypted tally back.
    pub fn tally(&mut self) {
        self.server
            .admin_post(&self.admin_path("/tally"))
            .expect(200);
        let t: TallyEntry =
            serde_json::from_value(self.server.get(&self.path("/tally")).expect(200).json())
                .unwrap();
        self.tally = Some(t);
        self.stage = Stage::Tallied;
    }

    /// Trustee `index`'s honest decryption factors of the tally.
    pub fn factors(&self, index: u32) -> PartialDecryption {
        let t = &self.trustees[index as usize - 1];
        let tally = &self.tally.as_ref().expect("tallied").tally;
        match &t.share {
            Some(share) => share
                .decrypt_tally(&mut rand::rng(), self.election(), tally)
                .unwrap(),
            None => t
                .key
                .decrypt_tally(&mut rand::rng(), self.election(), index, tally),
        }
    }

    /// Sends trustee `index`'s factors (as that trustee).
    pub fn send_factors(&self, index: u32, pd: &PartialDecryption) -> Resp {
        let t = &self.trustees[index as usize - 1];
        self.server
            .post_bearer(&self.path("/decryptions"), &t.token, pd)
    }

    /// The first `threshold` trustees decrypt; the last answer says the result is on the board.
    pub fn decrypt(&mut self) {
        let needed = self.spec.threshold;
        for i in 1..=needed {
            let r = self.send_factors(i, &self.factors(i));
            r.expect(201);
            assert_eq!(r.json()["result"], i == needed);
        }
        self.stage = Stage::Decrypted;
    }

    /// Publishes the result.
    pub fn publish(&mut self) {
        self.server
            .admin_post(&self.admin_path("/publish"))
            .expect(200);
        self.stage = Stage::Published;
    }

    /// A ballot of voter `v` for answer `choice`, made on the voter's side.
    pub fn ballot(&self, v: usize, choice: usize) -> Ballot {
        let key = self.credentials[v].derive_key(self.id());
        Ballot::create(
            &mut rand::rng(),
            self.election(),
            &key,
            &[QuestionVote::Selected(vec![choice])],
        )
        .unwrap()
    }

    /// POSTs raw bytes as a ballot.
    pub fn cast_raw(&self, body: &[u8]) -> Resp {
        self.server
            .request("POST", &self.path("/ballots"), &[], Some(body))
    }

    /// POSTs a ballot.
    pub fn cast(&self, ballot: &Ballot) -> Resp {
        self.cast_raw(ballot.to_json().as_bytes())
    }

    /// The board's size: the public view's once sealed, the administrators' before.
    pub fn board_size(&self) -> u64 {
        let r = self.server.get(&self.path(""));
        let r = if r.status == 404 {
            self.server.admin_get(&self.admin_path(""))
        } else {
            r
        };
        r.expect(200).json()["board_size"].as_u64().unwrap()
    }

    /// The board's size and the ballots accepted, to show that a refusal stored nothing.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            board_size: self.board_size(),
            accepted: self.server.accepted(),
            metrics: self.server.metrics(),
        }
    }

    /// Asserts that `r` refuses a ballot with `status` and `code`, stored nothing since
    /// `before`, and was counted once under its reason.
    #[track_caller]
    pub fn assert_refused(&self, r: &Resp, status: u16, code: &str, before: &Snapshot) {
        r.expect_error(status, code);
        let after = self.snapshot();
        assert_eq!(after.board_size, before.board_size, "the board grew");
        assert_eq!(after.accepted, before.accepted, "a ballot was accepted");
        let sample = format!("urne_ballots_rejected_total{{reason=\"{code}\"}}");
        assert_eq!(
            metric_value(&after.metrics, &sample) - metric_value(&before.metrics, &sample),
            1.0,
            "the refusal is counted once under {code}"
        );
    }

    /// The record, as served.
    pub fn record(&self) -> Vec<u8> {
        let r = self.server.get(&self.path("/record"));
        r.expect(200);
        r.body
    }
}

/// What the board and the metrics said at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Lines on the board.
    pub board_size: u64,
    /// Ballots accepted.
    pub accepted: u64,
    /// The whole metrics text.
    pub metrics: String,
}

/// Verifies a record with the universal verifier, as `urne verify` does.
pub fn verify_record(record: &[u8]) -> urne_verify::Report {
    urne_verify::verify(
        Cursor::new(record),
        &urne_verify::Options::default(),
        &|_| {},
    )
    .unwrap()
}

/// The trackers of the ballot lines of a record.
pub fn record_trackers(record: &[u8]) -> Vec<String> {
    std::str::from_utf8(record)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["type"] == "ballot").then(|| v["tracker"].as_str().unwrap().to_owned())
        })
        .collect()
}
