//! The browser's pages: the voting booth at `GET /vote/{id}`, the independent check of an
//! opened ballot (the booth's Benaloh audit) at `GET /audit`, and their static files under
//! `GET /static/…` (docs/booth.md).
//!
//! The files come from web/ and are embedded into the binary when it is built (rust-embed, with
//! `debug-embed` so that debug builds and tests serve the same bytes as a release): the booth's
//! own files (web/booth/), the protocol modules (web/src/urne/) and the vendored @noble modules
//! (web/vendor/, written by web/tools/vendor.js and committed, so that building needs no node).
//! `/static/{path}` serves web/{path}, with two substitutions: web/src/urne/deps.js and
//! trustee-deps.js name their packages by bare specifiers, which a module worker cannot resolve,
//! so the browser gets web/booth/urne-deps.js and urne-trustee-deps.js in their place, which name
//! the vendored copies. Only the trustee's modules import trustee-deps.js, so the booth never
//! loads argon2id or ChaCha20-Poly1305.
//!
//! The public pages of an election are served the same way: its home page with the published
//! result at `GET /elections/{id}` and its bulletin board at `GET /elections/{id}/board`, also
//! at `GET /elections/{id}/ballots/{tracker}` (the address the voters' letters give), from
//! web/public/ with the pieces they share with other pages in web/common/.
//!
//! The trustees' page (docs/trustees.md), web/trustee/index.html at
//! `GET /elections/{id}/trustee`, takes a trustee through the key-generation ceremony and the
//! decryption of the tally in the browser, through the trustees' API with the invitation token
//! the page reads from its address's fragment; its worker makes and keeps the secrets.
//!
//! The administration pages (docs/admin.md) are one page, web/admin/index.html, served at
//! `GET /admin` (login and the list of elections), `GET /admin/new` (a new draft) and
//! `GET /admin/elections/{id}` (one election, from draft to publication); its script reads the
//! address and works through the admin API with the session cookie of
//! `POST /api/v1/admin/login`.
//!
//! These pages are not part of the API: they are merged at the root by [`routes`], outside
//! `/api/v1` and the OpenAPI description. Every answer carries a strict Content-Security-Policy
//! (this origin only, no inline script or style, no framing), `nosniff` and no referrer; files
//! are revalidated on each load (`no-cache`) against an ETag, their SHA-256.
//!
//! When an election opens, [`served_files`] lists every one of these addresses for it with the
//! SHA-256 of the bytes served there, for the board's `booth` line (spec §7.6): the server
//! declares the code it gives the voters, and observers fetch it and compare
//! (`urne audit booth`).

use std::borrow::Cow;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use urne_verify::record::BoothFile;

use crate::AppState;

/// The files the browser may load, from web/.
#[derive(rust_embed::Embed)]
#[folder = "../../web/"]
#[include = "booth/*"]
#[include = "src/urne/*.js"]
#[include = "vendor/**/*"]
#[include = "public/*"]
#[include = "common/*"]
#[include = "trustee/*"]
#[include = "admin/*"]
struct WebFiles;

/// The page of the booth, served for every election id (the page asks the API for the election).
const BOOTH_PAGE: &str = "booth/index.html";

/// The page that checks an opened ballot (the booth's Benaloh audit): its own page and script,
/// sharing no state with the booth.
const AUDIT_PAGE: &str = "booth/audit.html";

/// The public page of an election: its title, dates, phase and, once published, its result.
const ELECTION_PAGE: &str = "public/election.html";

/// The public page of an election's bulletin board, with its search by ballot tracker.
const BOARD_PAGE: &str = "public/board.html";

/// The administration pages: one page whose script shows the login, the list of elections, a
/// new draft or one election, after its address.
const ADMIN_PAGE: &str = "admin/index.html";

/// The trustees' page: the key-generation ceremony and the decryption, in the browser.
const TRUSTEE_PAGE: &str = "trustee/index.html";

/// The Content-Security-Policy of every page and file: scripts, styles, workers, images and
/// requests from this origin only; no inline code, plugins, framing or `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; worker-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The routes of the pages, merged at the root of the router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vote/{id}", get(booth))
        .route("/audit", get(audit))
        .route("/elections/{id}", get(election))
        .route("/elections/{id}/board", get(board))
        .route("/elections/{id}/ballots/{tracker}", get(ballot))
        .route("/elections/{id}/trustee", get(trustee))
        .route("/admin", get(admin))
        .route("/admin/new", get(admin))
        .route("/admin/elections/{id}", get(admin))
        .route("/static/{*path}", get(file))
}

/// `GET /vote/{id}`: the booth's page. The election id is read by the page from its address.
async fn booth(Path(_id): Path<String>, headers: HeaderMap) -> Response {
    serve(BOOTH_PAGE, &headers)
}

/// `GET /audit`: the page that checks an opened ballot (the election id may come in its query).
async fn audit(headers: HeaderMap) -> Response {
    serve(AUDIT_PAGE, &headers)
}

/// `GET /elections/{id}`: the election's public page (the page asks the API for the election).
async fn election(Path(_id): Path<String>, headers: HeaderMap) -> Response {
    serve(ELECTION_PAGE, &headers)
}

/// `GET /elections/{id}/board`: the election's bulletin board.
async fn board(Path(_id): Path<String>, headers: HeaderMap) -> Response {
    serve(BOARD_PAGE, &headers)
}

/// `GET /elections/{id}/ballots/{tracker}`: the bulletin board, looking the tracker up (the page
/// reads it from its address).
async fn ballot(Path(_ids): Path<(String, String)>, headers: HeaderMap) -> Response {
    serve(BOARD_PAGE, &headers)
}

/// `GET /admin`, `/admin/new` and `/admin/elections/{id}`: the administration page (its script
/// reads the address).
async fn admin(headers: HeaderMap) -> Response {
    serve(ADMIN_PAGE, &headers)
}

/// `GET /elections/{id}/trustee`: the trustees' page (it reads the election id from its address,
/// and the trustee's index and invitation from its fragment).
async fn trustee(Path(_id): Path<String>, headers: HeaderMap) -> Response {
    serve(TRUSTEE_PAGE, &headers)
}

/// `GET /static/{path}`: one of the embedded files.
async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(static_source(&path), &headers)
}

/// The embedded file served at `/static/{path}`: the file of that name, but for the two
/// substitutions of deps.js and trustee-deps.js (see the module's documentation).
fn static_source(path: &str) -> &str {
    match path {
        "src/urne/deps.js" => "booth/urne-deps.js",
        "src/urne/trustee-deps.js" => "booth/urne-trustee-deps.js",
        other => other,
    }
}

/// Every address at which the server serves an embedded file for election `id`, with the
/// SHA-256 (FIPS 180-4) of the exact bytes served there, sorted by path and each path once: the
/// pages (`/vote/{id}`, `/audit`, `/elections/{id}`, `/elections/{id}/board`,
/// `/elections/{id}/trustee`) and each file under
/// `/static/`, after the deps.js substitution. The board's addresses by tracker
/// (`/elections/{id}/ballots/{tracker}`) serve the board page's bytes and are not listed one by
/// one. This is the content of the `booth` line written when the election opens (spec §7.6).
pub fn served_files(id: &str) -> Vec<BoothFile> {
    let pages = [
        (format!("/vote/{id}"), BOOTH_PAGE),
        ("/audit".to_owned(), AUDIT_PAGE),
        (format!("/elections/{id}"), ELECTION_PAGE),
        (format!("/elections/{id}/board"), BOARD_PAGE),
        (format!("/elections/{id}/trustee"), TRUSTEE_PAGE),
    ];
    let statics: Vec<(String, String)> = WebFiles::iter()
        .map(|p| (format!("/static/{p}"), static_source(&p).to_owned()))
        .collect();
    let mut files: Vec<BoothFile> = pages
        .iter()
        .map(|(path, source)| (path.clone(), *source))
        .chain(
            statics
                .iter()
                .map(|(path, source)| (path.clone(), source.as_str())),
        )
        .filter_map(|(path, source)| {
            WebFiles::get(source).map(|f| BoothFile {
                path,
                sha256: f.metadata.sha256_hash(),
            })
        })
        .collect();
    files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    files.dedup_by(|a, b| a.path == b.path);
    files
}

/// An embedded file with its headers, 304 when the browser's copy is current, or 404.
fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = WebFiles::get(path) else {
        return with_policy(
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "not found\n",
            )
                .into_response(),
        );
    };
    let etag = format!(
        "\"{}\"",
        URL_SAFE_NO_PAD.encode(file.metadata.sha256_hash())
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match file.data {
            Cow::Borrowed(b) => axum::body::Body::from(b),
            Cow::Owned(b) => axum::body::Body::from(b),
        };
        let mut r = body.into_response();
        if let Ok(v) = HeaderValue::from_str(content_type(path)) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    with_policy(response)
}

/// Adds the security headers every page and file carries.
fn with_policy(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The media type of a served file, from its extension (JavaScript modules must be served as
/// JavaScript: browsers refuse a module of another type under `nosniff`).
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_booth_and_its_modules_are_embedded() {
        for path in [
            BOOTH_PAGE,
            AUDIT_PAGE,
            "booth/audit.js",
            "booth/booth.js",
            "booth/worker.js",
            "booth/urne-deps.js",
            "src/urne/index.js",
            "src/urne/ballot.js",
            "vendor/@noble/curves/ed25519.js",
            "vendor/@noble/hashes/sha2.js",
            ELECTION_PAGE,
            BOARD_PAGE,
            "public/election.js",
            "public/board.js",
            "public/words.js",
            "public/public.css",
            "common/dom.js",
            "common/lang.js",
            TRUSTEE_PAGE,
            "trustee/trustee.js",
            "trustee/worker.js",
            "trustee/words.js",
            "trustee/trustee.css",
            ADMIN_PAGE,
            "admin/admin.js",
            "admin/admin.css",
        ] {
            assert!(WebFiles::get(path).is_some(), "{path} is not embedded");
        }
        assert!(WebFiles::get("package.json").is_none());
        assert!(WebFiles::get("test/booth.test.js").is_none());
    }

    #[test]
    fn served_files_are_sorted_and_hash_the_substituted_bytes() {
        let files = served_files("e-1");
        assert!(files.windows(2).all(|w| w[0].path < w[1].path));
        let find = |p: &str| files.iter().find(|f| f.path == p).map(|f| f.sha256);
        let deps = WebFiles::get("booth/urne-deps.js").unwrap();
        assert_eq!(
            find("/static/src/urne/deps.js"),
            Some(deps.metadata.sha256_hash())
        );
        let trustee_deps = WebFiles::get("booth/urne-trustee-deps.js").unwrap();
        assert_eq!(
            find("/static/src/urne/trustee-deps.js"),
            Some(trustee_deps.metadata.sha256_hash())
        );
        let page = WebFiles::get(BOOTH_PAGE).unwrap();
        assert_eq!(find("/vote/e-1"), Some(page.metadata.sha256_hash()));
        assert!(find("/audit").is_some());
        assert!(find("/static/booth/booth.js").is_some());
        assert!(find("/static/package.json").is_none());
    }

    #[test]
    fn modules_are_javascript_and_unknown_files_are_text() {
        assert_eq!(
            content_type("src/urne/index.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("booth/index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("vendor/@noble/curves/LICENSE"),
            "text/plain; charset=utf-8"
        );
    }
}
