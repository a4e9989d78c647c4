//! Test support shared by urne-cli's tests that run the `urne` binary against a real server:
//! the binary with a clean environment, and `urne serve` on a free loopback port with its own
//! data directory and an administrator's API token.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The `urne` binary, with nothing from the caller's environment choosing for the test.
pub fn urne() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_urne"));
    // Nothing from the caller's environment chooses for the test.
    for var in [
        "URNE_PASSPHRASE",
        "URNE_INVITATION",
        "URNE_ADMIN_PASSWORD",
        "URNE_CONFIG",
        "URNE_LISTEN",
        "URNE_DATA_DIR",
        "URNE_DATABASE_URL",
    ] {
        c.env_remove(var);
    }
    c
}

/// A command's stdout and stderr.
pub fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// `urne serve` on a free loopback port with its own data directory; stopped on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its HTTP client.
    pub agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer: status and body.
pub type Answer = (u16, String);

impl Server {
    pub fn start(dir: &Path) -> (Server, String) {
        let data = dir.join("server");
        let password = "administrator's password";
        let o = urne()
            .args(["admin", "add", "root", "--data-dir", data.to_str().unwrap()])
            .env("URNE_ADMIN_PASSWORD", password)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = urne()
            .args(["serve", "--listen", &listen, "--data-dir"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let server = Server {
            child,
            base: format!("http://{listen}"),
            agent,
        };
        let started = Instant::now();
        while server.get("/healthz", None).0 != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not start: {}",
                std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let token = server.login("root", password);
        (server, token)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        match req.call() {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut()
                    .with_config()
                    .limit(1 << 30)
                    .read_to_string()
                    .unwrap(),
            ),
            Err(_) => (0, String::new()),
        }
    }

    pub fn send(&self, method: &str, path: &str, token: &str, body: &Value) -> Answer {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "PUT" => self.agent.put(url),
            _ => self.agent.post(url),
        };
        let mut r = req
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .send(serde_json::to_vec(body).unwrap())
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    }

    /// The administrator's call, which must succeed; its JSON answer.
    pub fn admin(&self, method: &str, path: &str, token: &str, body: &Value) -> Value {
        let (status, body) = self.send(method, &format!("/api/v1/admin{path}"), token, body);
        assert!(status < 300, "{method} {path}: HTTP {status}: {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    pub fn login(&self, name: &str, password: &str) -> String {
        let mut r = self
            .agent
            .post(format!("{}/api/v1/admin/login", self.base))
            .header("content-type", "application/json")
            .send(serde_json::to_vec(&json!({ "name": name, "password": password })).unwrap())
            .unwrap();
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let status = r.status().as_u16();
        assert!(
            status < 300,
            "{status}: {}",
            r.body_mut().read_to_string().unwrap()
        );
        let mut r = self
            .agent
            .post(format!("{}/api/v1/admin/tokens", self.base))
            .header("content-type", "application/json")
            .header("cookie", cookie)
            .send(br#"{"label":"test"}"#.as_slice())
            .unwrap();
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    pub fn election(&self, id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/elections/{id}"), None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    pub fn board_size(&self, id: &str) -> u64 {
        self.election(id)["board_size"].as_u64().unwrap()
    }

    pub fn export(&self, id: &str, to: &Path) {
        let (status, body) = self.get(&format!("/api/v1/elections/{id}/record"), None);
        assert_eq!(status, 200, "{body}");
        std::fs::write(to, body).unwrap();
    }
}
