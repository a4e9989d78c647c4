//! The OpenAPI description: valid JSON whose references resolve, every route of the router
//! documented with its method (read from the router's source, so that a new route without
//! documentation fails here), every documented operation answered by the router, the error
//! body as documented, and the checked-in snapshot docs/openapi.json up to date.
//!
//! Regenerate the snapshot with `UPDATE_OPENAPI=1 cargo test -p urne-server --test openapi`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn document() -> Value {
    serde_json::to_value(urne_server::openapi::spec()).unwrap()
}

/// The document as checked in: pretty JSON with a final newline.
fn document_text() -> String {
    let mut text = urne_server::openapi::spec().to_pretty_json().unwrap();
    text.push('\n');
    text
}

/// The text of the call that starts at `open` (the index of its `(`), without the parentheses.
fn call_args(text: &str, open: usize) -> &str {
    let mut depth = 0;
    let mut in_string = false;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => in_string = !in_string,
            b'(' if !in_string => depth += 1,
            b')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced call at byte {open}");
}

/// The routes (method, path) of a piece of router-building source, with `prefix` before each
/// path: every `.route("PATH", METHOD(handler)...)`, with chained methods
/// (`get(a).post(b)`).
fn routes_in(source: &str, prefix: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut at = 0;
    while let Some(found) = source[at..].find(".route(") {
        let open = at + found + ".route".len();
        let args = call_args(source, open);
        at = open + args.len();
        let path = args
            .trim_start()
            .strip_prefix('"')
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("a route whose path is not a literal: {args}"));
        let handlers = &args[args.find(',').expect("a route without a handler") + 1..];
        let mut methods = 0;
        for (i, _) in handlers.match_indices('(') {
            let before = &handlers[..i];
            let word_start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |j| j + 1);
            let word = &before[word_start..];
            // A method router: `get(` at the start, or `.post(` chained; not `x::get(` nor
            // `max(`.
            let preceded_ok =
                before[..word_start].trim_end().is_empty() || before[..word_start].ends_with('.');
            if METHODS.contains(&word) && preceded_ok {
                out.insert((word.to_owned(), format!("{prefix}{path}")));
                methods += 1;
            }
        }
        assert!(
            methods > 0,
            "no method router found in route {path}: {args}"
        );
    }
    out
}

/// The body of the function `name` in `source` (from its signature to the next item).
fn fn_body<'a>(source: &'a str, name: &str) -> &'a str {
    let start = source
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name}"));
    let rest = &source[start..];
    let end = rest.find("\n}\n").map_or(rest.len(), |e| e + 3);
    &rest[..end]
}

/// Every route the router registers, read from lib.rs's `app()` (what comes before the
/// `.nest("/api/v1", ...)` is under /api/v1, what comes after is at the root) and admin.rs's
/// `routes()` (merged under /api/v1).
fn source_routes() -> BTreeSet<(String, String)> {
    let read = |f: &str| std::fs::read_to_string(crate_dir().join("src").join(f)).unwrap();
    let lib = read("lib.rs");
    let app = fn_body(&lib, "app");
    let nest = app
        .find(".nest(\"/api/v1\"")
        .expect("app() nests the API under /api/v1");
    let mut routes = routes_in(&app[..nest], "/api/v1");
    routes.extend(routes_in(&app[nest..], ""));
    let admin = read("admin.rs");
    assert!(
        app.contains("admin::routes()"),
        "app() merges admin::routes()"
    );
    routes.extend(routes_in(fn_body(&admin, "routes"), "/api/v1"));
    routes
}

/// Every operation (method, path) of the document, with the operation itself.
fn documented(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn the_route_parser_reads_the_router_shapes_in_use() {
    let src = r#"
        Router::new()
            .route("/a", get(m::a))
            .route(
                "/b/{id}",
                post(m::b).layer(DefaultBodyLimit::max(limit)),
            )
            .route("/c", get(c).put(d))
    "#;
    let routes: Vec<_> = routes_in(src, "/p").into_iter().collect();
    let want = [
        ("get", "/p/a"),
        ("get", "/p/c"),
        ("post", "/p/b/{id}"),
        ("put", "/p/c"),
    ];
    assert_eq!(
        routes,
        want.map(|(m, p)| (m.to_owned(), p.to_owned())).to_vec()
    );
}

#[test]
fn every_route_is_documented_and_every_operation_routed() {
    let routes = source_routes();
    assert!(routes.len() >= 30, "found only {} routes", routes.len());
    let doc = document();
    let ops: BTreeSet<(String, String)> = documented(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let undocumented: Vec<_> = routes.difference(&ops).collect();
    assert!(
        undocumented.is_empty(),
        "routes without OpenAPI documentation (add #[utoipa::path] to the handler and list it \
         in openapi.rs paths(...)): {undocumented:?}"
    );
    let unrouted: Vec<_> = ops.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "documented operations that the router does not have: {unrouted:?}"
    );
}

#[test]
fn every_operation_is_described() {
    let doc = document();
    let tags: BTreeSet<&str> = ["public", "ballots", "board", "trustees", "admin", "voters"].into();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let mut ids = BTreeSet::new();
    for (method, path, op) in documented(&doc) {
        let what = format!("{} {path}", method.to_uppercase());
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(ids.insert(id.clone()), "{what}: operationId `{id}` twice");
        let op_tags = op["tags"].as_array().unwrap();
        assert!(
            op_tags.len() == 1 && tags.contains(op_tags[0].as_str().unwrap()),
            "{what}: one tag among {tags:?}, not {op_tags:?}"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            // A login's steps succeed with a redirect.
            responses.keys().any(|s| s.starts_with('2') || s == "303"),
            "{what}: no success response"
        );
        for (status, response) in responses {
            assert!(
                !response["description"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "{what} {status}: no description"
            );
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{what} {status}: errors answer the error body"
                );
            }
        }
        // Path parameters: each {name} of the path, once, required.
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let in_path: BTreeSet<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let placeholders: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(in_path, placeholders, "{what}: path parameters");
        let names: Vec<String> = params
            .iter()
            .map(|p| format!("{} {}", p["in"], p["name"]))
            .collect();
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{what}: a parameter twice");
        // Security: the administration's routes take a session or a token (except the login),
        // the trustees' uploads their invitation; the rest is public.
        let security: BTreeSet<String> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r.as_object().unwrap().keys().cloned())
            .collect();
        for name in &security {
            assert!(schemes.contains_key(name), "{what}: unknown scheme {name}");
        }
        let want: BTreeSet<String> = if path.starts_with("/api/v1/admin/") && id != "admin_login" {
            ["admin_session", "admin_token"].map(String::from).into()
        } else if op_tags[0] == "trustees" && method == "post" {
            ["trustee_invitation".to_owned()].into()
        } else {
            BTreeSet::new()
        };
        assert_eq!(security, want, "{what}: security");
        if !security.is_empty() {
            assert!(responses.contains_key("401"), "{what}: no 401");
        }
    }
}

/// Every `$ref` of the document names something it defines.
fn check_refs(doc: &Value, v: &Value, at: &str) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    let target = child.as_str().unwrap();
                    let pointer = target.strip_prefix('#').expect("a local reference");
                    assert!(
                        doc.pointer(pointer).is_some(),
                        "{at}: dangling reference {target}"
                    );
                } else {
                    check_refs(doc, child, &format!("{at}/{k}"));
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_refs(doc, child, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

#[test]
fn the_document_is_valid_json_with_resolved_references() {
    let text = document_text();
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["info"]["title"], "urne");
    check_refs(&doc, &doc, "");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let error = &schemas["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error"]));
    let detail = &schemas["ErrorDetail"];
    assert_eq!(detail["required"], serde_json::json!(["code", "message"]));
    assert_eq!(detail["properties"]["field"]["type"], "string");
}

#[test]
fn the_turnout_s_fields_are_all_required_and_the_ballots_nullable() {
    // Before the tally the ballots are `null`, never left out: every field the server writes is
    // required, and the ones it writes as `null` say so.
    let before = urne_server::public::Turnout {
        credentials: 3,
        credentials_weight: 5,
        ballots: None,
        ballots_weight: None,
    };
    let sent = serde_json::to_value(before).unwrap();
    let doc = document();
    let schema = &doc["components"]["schemas"]["Turnout"];
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for (name, value) in sent.as_object().unwrap() {
        assert!(required.contains(name.as_str()), "{name} is not required");
        let types = &schema["properties"][name]["type"];
        if value.is_null() {
            assert!(
                types
                    .as_array()
                    .is_some_and(|t| t.contains(&Value::from("null"))),
                "{name}: {types}"
            );
        }
    }
    assert_eq!(required.len(), sent.as_object().unwrap().len());
}

#[test]
fn the_error_body_is_what_the_server_answers() {
    use axum::response::IntoResponse;
    use urne_server::error::ApiError;
    use urne_server::openapi::ErrorBody;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (e, field) in [
        (
            ApiError::invalid("bad_proof", "V-3: no").field("key_proof"),
            Some("key_proof"),
        ),
        (ApiError::not_found("no_election", "no election `x`"), None),
    ] {
        let response = e.clone().into_response();
        assert_eq!(response.status(), e.status);
        let bytes = rt
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 16))
            .unwrap();
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body.error.code, e.code);
        assert_eq!(body.error.field.as_deref(), field);
        assert_eq!(body.error.message, e.message);
    }
}

/// A server on a free port of 127.0.0.1 over an empty SQLite store, for the test's duration.
async fn serve() -> (std::net::SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = urne_board::SqliteStore::open(dir.path()).unwrap();
    let key = urne_server::load_board_key(&dir.path().join("board-key")).unwrap();
    let state = urne_server::AppState::new(
        std::sync::Arc::new(store),
        key,
        urne_server::ServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, urne_server::app(state))
            .await
            .unwrap();
    });
    (addr, dir)
}

/// One HTTP/1.1 request without a body; the status, the content type and the body.
async fn request(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

/// Every documented operation, called on an empty server without credentials nor body, is
/// answered by its handler (not the router's 404 or 405) with one of its documented statuses,
/// and its errors are the error body.
#[tokio::test]
async fn every_operation_is_answered_by_its_handler_as_documented() {
    let (addr, _dir) = serve().await;
    let doc = document();
    for (method, path, op) in documented(&doc) {
        let concrete = path
            .replace("{id}", "no-such-election")
            .replace("{tracker}", &"A".repeat(43))
            .replace("{seq}", "1")
            .replace("{index}", "1");
        let what = format!("{} {concrete}", method.to_uppercase());
        let (status, content_type, body) = request(addr, &method.to_uppercase(), &concrete).await;
        assert!(
            op["responses"].get(status.to_string()).is_some(),
            "{what}: undocumented status {status}: {body}"
        );
        if status >= 400 {
            assert_eq!(content_type, "application/json", "{what}: {status} {body}");
            let e: urne_server::openapi::ErrorBody = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{what}: not the error body ({e}): {body}"));
            assert_ne!(e.error.code, "no_route", "{what}: not routed");
            assert_ne!(e.error.code, "method_not_allowed", "{what}: not routed");
        }
    }
}

/// What the router and axum's extractors refuse is answered as the error body too.
#[tokio::test]
async fn the_router_s_own_refusals_are_error_bodies() {
    let (addr, _dir) = serve().await;
    for (method, path, status, code) in [
        ("GET", "/nowhere", 404, "no_route"),
        ("GET", "/api/v1/nowhere", 404, "no_route"),
        ("DELETE", "/api/v1/elections", 405, "method_not_allowed"),
        (
            "GET",
            "/api/v1/elections/x/board/inclusion/notanumber",
            400,
            "bad_path",
        ),
        (
            "GET",
            "/api/v1/elections/x/board/lines?from=x",
            400,
            "bad_query",
        ),
        ("POST", "/api/v1/admin/login", 400, "bad_json"),
    ] {
        let (got, content_type, body) = request(addr, method, path).await;
        assert_eq!(got, status, "{method} {path}: {body}");
        assert_eq!(content_type, "application/json", "{method} {path}");
        let e: urne_server::openapi::ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(e.error.code, code, "{method} {path}: {body}");
    }
}

#[test]
fn the_snapshot_is_up_to_date() {
    let path: PathBuf = crate_dir().join("../../docs/openapi.json");
    let text = document_text();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == text,
        "{} differs from the generated description: check the change and regenerate it with \
         UPDATE_OPENAPI=1 cargo test -p urne-server --test openapi",
        Path::new("docs/openapi.json").display()
    );
}
