//! Writes the seed inputs of the record fuzz targets into `fuzz/corpus/record_line/` and
//! `fuzz/corpus/record/`: the lines of the honest fuzzing record (`urne_verify::fuzzing::fixture`),
//! hand-made invalid and non-canonical lines, whole records, and splices of the honest record.
//! The `revocation` line (spec §5.5), which the honest record does not have, comes from the same
//! election with a credential replaced (`urne_verify::fuzzing::revoking_record`).
//!
//! ```text
//! cargo run -p urne-verify --features testkit --example record_fuzz_seeds [-- OUT_DIR]
//! ```
//!
//! Everything comes from fixed seeds, so a run writes the same files every time. A `record` input
//! is either a whole record or, read as a splice, two bytes that pick a line of the honest record
//! (little endian) followed by the line to put there; the splice seeds are meant to be read the
//! second way, so that the fuzzer starts from records that reach every check.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use urne_core::group::Point;
use urne_verify::fuzzing::{Fixture, fixture, revoking_record};
use urne_verify::merkle::{MerkleBuilder, leaf_hash};
use urne_verify::record::{Entry, TreeHead, encode_line, parse_line};

/// Writes the seeds of one target.
struct Seeds {
    dir: PathBuf,
    count: usize,
}

impl Seeds {
    fn new(root: &Path, target: &str) -> io::Result<Self> {
        let dir = root.join(target);
        fs::create_dir_all(&dir)?;
        Ok(Seeds { dir, count: 0 })
    }

    fn put(&mut self, name: &str, data: impl AsRef<[u8]>) -> io::Result<()> {
        self.count += 1;
        fs::write(self.dir.join(format!("seed-{name}")), data)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("record lines are UTF-8")
}

/// The `type` of each line of the honest record, in order.
fn kinds(fx: &Fixture) -> Vec<&'static str> {
    fx.lines
        .iter()
        .map(|l| {
            parse_line(1, l)
                .expect("the honest record's lines parse")
                .entry
                .kind()
        })
        .collect()
}

/// Index of the first line of type `kind` in the honest record.
fn first(fx: &Fixture, kind: &str) -> usize {
    kinds(fx)
        .iter()
        .position(|k| *k == kind)
        .expect("the honest record has every type of line")
}

/// `line` (canonical, `{...}`) with `member` added before its closing brace.
fn with_member(line: &str, member: &str) -> String {
    format!("{},{member}}}", &line[..line.len() - 1])
}

/// `line` with its first occurrence of `from` replaced.
fn swap(line: &str, from: &str, to: &str) -> String {
    assert!(line.contains(from), "`{from}` not in {line}");
    line.replacen(from, to, 1)
}

/// `line` with a space after every `:` and `,` outside strings and around the braces: the same
/// line, not in canonical form.
fn spaced(line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let (mut in_string, mut escaped) = (false, false);
    for c in line.chars() {
        out.push(c);
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if matches!(c, ':' | ',' | '{') {
            out.push(' ');
        }
    }
    out.insert(out.len() - 1, ' ');
    out
}

/// The honest lines `lines[..n]` as a record, ended by their tree head.
fn snapshot(fx: &Fixture, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut tree = MerkleBuilder::new();
    for line in &fx.lines[..n] {
        tree.push(leaf_hash(line));
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    let head = TreeHead {
        size: tree.size(),
        root: tree.root(),
    };
    out.extend_from_slice(&encode_line(n as u64, &Entry::TreeHead(head)).0);
    out.push(b'\n');
    out
}

/// A `record` input that splices `line` in place of line `at` of the honest record.
fn splice(at: usize, line: &[u8]) -> Vec<u8> {
    let at = u16::try_from(at).expect("the honest record is short");
    let mut out = at.to_le_bytes().to_vec();
    out.extend_from_slice(line);
    out
}

/// The entry of the first line of type `kind` in the honest record.
fn entry(fx: &Fixture, kind: &str) -> Entry {
    parse_line(1, &fx.lines[first(fx, kind)])
        .expect("the honest record's lines parse")
        .entry
}

/// The part of `line` before `at`.
fn before<'a>(line: &'a str, at: &str) -> &'a str {
    let end = line
        .find(at)
        .unwrap_or_else(|| panic!("`{at}` not in {line}"));
    &line[..end]
}

/// `line`, whose last two members are `a` then `b`, with `b` moved before `a`: a member order
/// that the parser accepts but that is not canonical.
fn last_member_first(line: &str, a: &str, b: &str) -> String {
    let head = before(line, &format!(",\"{a}\""));
    let tail = &line[head.len() + 1..line.len() - 1];
    let (first, second) = tail
        .split_once(&format!(",\"{b}\""))
        .unwrap_or_else(|| panic!("`{b}` does not follow `{a}` in {line}"));
    format!("{head},\"{b}\"{second},{first}}}")
}

/// Invalid and non-canonical variants of the honest line of each type, as `(name, line)`.
fn variants(fx: &Fixture) -> Vec<(&'static str, String)> {
    let line = |kind: &str| text(&fx.lines[first(fx, kind)]);
    let header = line("header");
    let manifest = line("manifest");
    let credential = line("credential");
    let open = line("open");
    let ballot = line("ballot");
    let tally = line("tally");
    let partial = line("partial_decryption");
    let result = line("result");
    let head = line("tree_head");
    let Entry::Tally(t) = entry(fx, "tally") else {
        unreachable!("a tally line")
    };
    let ballots = format!("\"ballots\":{}", t.ballots);
    let weight = format!("\"total_weight\":{}", t.total_weight);
    let Entry::TreeHead(h) = entry(fx, "tree_head") else {
        unreachable!("a tree head line")
    };
    let size = format!("\"size\":{}", h.size);
    let u64_max = u64::MAX.to_string();
    let u64_over = (u128::from(u64::MAX) + 1).to_string();
    vec![
        // The first two members must be `seq` then `type`.
        (
            "header-type-first",
            swap(
                &header,
                "\"seq\":0,\"type\":\"header\"",
                "\"type\":\"header\",\"seq\":0",
            ),
        ),
        ("header-no-seq", swap(&header, "\"seq\":0,", "")),
        ("header-no-type", swap(&header, "\"type\":\"header\",", "")),
        (
            "header-format-first",
            last_member_first(&header, "type", "format"),
        ),
        ("header-unknown-format", swap(&header, "v1", "v2")),
        ("header-extra-member", with_member(&header, "\"extra\":1")),
        (
            "header-duplicate-format",
            with_member(&header, "\"format\":\"urne/record/v1\""),
        ),
        (
            "header-duplicate-seq",
            swap(&header, "\"seq\":0,", "\"seq\":0,\"seq\":0,"),
        ),
        ("header-spaced", spaced(&header)),
        ("header-crlf", format!("{header}\r")),
        ("header-trailing", format!("{header} x")),
        ("header-twice", format!("{header}{header}")),
        (
            "header-escaped-type",
            swap(&header, "\"header\"", "\"\\u0068eader\""),
        ),
        // `seq`: a u64.
        ("seq-negative", swap(&open, "\"seq\":", "\"seq\":-")),
        ("seq-string", swap(&header, "\"seq\":0", "\"seq\":\"0\"")),
        ("seq-float", swap(&header, "\"seq\":0", "\"seq\":0.0")),
        ("seq-exponent", swap(&header, "\"seq\":0", "\"seq\":1e3")),
        ("seq-null", swap(&header, "\"seq\":0", "\"seq\":null")),
        (
            "seq-u64-max",
            swap(&header, "\"seq\":0", &format!("\"seq\":{u64_max}")),
        ),
        (
            "seq-u64-overflow",
            swap(&header, "\"seq\":0", &format!("\"seq\":{u64_over}")),
        ),
        (
            "seq-huge",
            swap(
                &header,
                "\"seq\":0",
                &format!("\"seq\":{}", "9".repeat(400)),
            ),
        ),
        // `type`.
        ("type-unknown", swap(&open, "\"open\"", "\"opened\"")),
        ("type-empty", swap(&open, "\"open\"", "\"\"")),
        ("type-number", swap(&open, "\"open\"", "7")),
        ("type-case", swap(&open, "\"open\"", "\"Open\"")),
        // The members of each type.
        ("open-no-at", swap(&open, ",\"at\":", ",\"when\":")),
        ("open-bad-time", swap(&open, "T", " ")),
        ("open-no-body", format!("{}}}", before(&open, ",\"at\""))),
        (
            "manifest-extra-member",
            with_member(&manifest, "\"extra\":{}"),
        ),
        (
            "manifest-null",
            format!("{},\"manifest\":null}}", before(&manifest, ",\"manifest\"")),
        ),
        (
            "manifest-renamed",
            swap(&manifest, "\"manifest\":{", "\"election\":{"),
        ),
        (
            "manifest-truncated",
            manifest[..manifest.len() / 2].to_owned(),
        ),
        (
            "credential-extra-member",
            with_member(&credential, "\"note\":\"x\""),
        ),
        (
            "credential-no-weight",
            format!("{}}}", before(&credential, ",\"weight\"")),
        ),
        (
            "credential-weight-first",
            last_member_first(&credential, "credential", "weight"),
        ),
        (
            "credential-weight-u64-max",
            swap(
                &credential,
                "\"weight\":1",
                &format!("\"weight\":{u64_max}"),
            ),
        ),
        (
            "credential-weight-overflow",
            swap(
                &credential,
                "\"weight\":1",
                &format!("\"weight\":{u64_over}"),
            ),
        ),
        (
            "credential-weight-negative",
            swap(&credential, "\"weight\":1", "\"weight\":-1"),
        ),
        ("credential-spaced", spaced(&credential)),
        ("ballot-extra-member", with_member(&ballot, "\"extra\":[]")),
        ("ballot-truncated", ballot[..ballot.len() - 1].to_owned()),
        (
            "ballot-escaped-type",
            swap(&ballot, "\"ballot\"", "\"\\u0062allot\""),
        ),
        ("ballot-spaced", spaced(&ballot)),
        (
            "ballot-no-tracker",
            swap(&ballot, "\"tracker\":\"", "\"trackers\":\""),
        ),
        (
            "tally-ballots-u64-max",
            swap(&tally, &ballots, &format!("\"ballots\":{u64_max}")),
        ),
        (
            "tally-weight-overflow",
            swap(&tally, &weight, &format!("\"total_weight\":{u64_over}")),
        ),
        (
            "tally-weight-first",
            swap(
                &tally,
                &format!("{ballots},{weight}"),
                &format!("{weight},{ballots}"),
            ),
        ),
        ("tally-truncated", tally[..tally.len() * 2 / 3].to_owned()),
        (
            "partial-renamed",
            swap(&partial, "\"partial\":", "\"partial_decryption\":"),
        ),
        (
            "partial-extra-member",
            with_member(&partial, "\"trustee\":1"),
        ),
        (
            "partial-trustee-huge",
            swap(&partial, "\"trustee\":", "\"trustee\":4294967296"),
        ),
        (
            "result-null",
            format!("{},\"result\":null}}", before(&result, ",\"result\"")),
        ),
        ("result-extra-member", with_member(&result, "\"counts\":[]")),
        (
            "result-count-u64-max",
            swap(&result, "\"counts\":[", &format!("\"counts\":[{u64_max},")),
        ),
        ("tree-head-spaced", spaced(&head)),
        (
            "tree-head-size-u64-max",
            swap(&head, &size, &format!("\"size\":{u64_max}")),
        ),
        (
            "tree-head-root-first",
            last_member_first(&head, "size", "root"),
        ),
        (
            "tree-head-root-long",
            swap(&head, "\"root\":\"", "\"root\":\"AAAA"),
        ),
        ("tree-head-root-short", {
            let at = before(&head, "\"root\":\"").len() + 8;
            format!("{}{}", &head[..at], &head[at + 1..])
        }),
        (
            "tree-head-extra-member",
            with_member(&head, "\"signature\":\"\""),
        ),
        // Not a record line at all.
        ("empty", String::new()),
        ("null", "null".into()),
        ("array", "[0,\"header\"]".into()),
        ("string", "\"header\"".into()),
        ("object-empty", "{}".into()),
        ("deep", "{\"seq\":".repeat(200) + "0" + &"}".repeat(200)),
    ]
}

/// The record with a revocation, as lines without their line feeds.
fn revoking_lines() -> Vec<String> {
    text(&revoking_record())
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The index of the revocation line in [`revoking_lines`].
fn revocation_at(lines: &[String]) -> usize {
    lines
        .iter()
        .position(|l| l.contains("\"type\":\"revocation\""))
        .expect("the revoking record has a revocation line")
}

/// The public credential of a `credential` or `revocation` line, as written in it.
fn credential_of(line: &str) -> &str {
    let start = line
        .find(",\"credential\":\"")
        .unwrap_or_else(|| panic!("no credential in {line}"));
    before(&line[start + 15..], "\"")
}

/// Invalid and non-canonical variants of a revocation line.
fn revocation_variants(rev: &str) -> Vec<(&'static str, String)> {
    let point = credential_of(rev).to_owned();
    vec![
        ("revocation-spaced", spaced(rev)),
        (
            "revocation-extra-member",
            with_member(rev, "\"reason\":\"lost\""),
        ),
        ("revocation-with-weight", with_member(rev, "\"weight\":1")),
        (
            "revocation-no-credential",
            format!("{}}}", before(rev, ",\"credential\"")),
        ),
        (
            "revocation-credential-null",
            swap(rev, &format!("\"{point}\""), "null"),
        ),
        ("revocation-identity", swap(rev, &point, &"A".repeat(43))),
        (
            "revocation-credential-short",
            swap(rev, &point, &point[1..]),
        ),
        (
            "revocation-credential-twice",
            with_member(rev, &format!("\"credential\":\"{point}\"")),
        ),
        (
            "revocation-escaped-type",
            swap(rev, "\"revocation\"", "\"\\u0072evocation\""),
        ),
    ]
}

fn record_lines(root: &Path, fx: &Fixture) -> io::Result<usize> {
    let mut s = Seeds::new(root, "record_line")?;
    let kinds = kinds(fx);
    for (i, kind) in kinds.iter().enumerate() {
        if kinds[..i].contains(kind) {
            continue;
        }
        s.put(&format!("honest-{kind}.json"), &fx.lines[i])?;
    }
    for (name, line) in variants(fx) {
        s.put(&format!("{name}.json"), line)?;
    }
    let revoking = revoking_lines();
    let rev = &revoking[revocation_at(&revoking)];
    s.put("honest-revocation.json", rev)?;
    for (name, line) in revocation_variants(rev) {
        s.put(&format!("{name}.json"), line)?;
    }
    let mut bytes = fx.lines[first(fx, "credential")].clone();
    bytes[10] = 0xff;
    s.put("not-utf8.json", bytes)?;
    Ok(s.count)
}

fn records(root: &Path, fx: &Fixture) -> io::Result<usize> {
    let mut s = Seeds::new(root, "record")?;
    let n = fx.lines.len();
    let kinds = kinds(fx);
    let open = first(fx, "open");
    let close = first(fx, "close");

    // Whole records.
    s.put("record-honest.jsonl", &fx.record)?;
    s.put("record-setup-snapshot.jsonl", snapshot(fx, open))?;
    s.put("record-open-snapshot.jsonl", snapshot(fx, close))?;
    s.put("record-tallied-snapshot.jsonl", snapshot(fx, close + 2))?;
    s.put("record-no-tree-head.jsonl", fx.lines[..n - 1].join(&b'\n'))?;
    s.put("record-header-only.jsonl", snapshot(fx, 1))?;
    s.put("record-empty-snapshot.jsonl", snapshot(fx, 0))?;
    s.put("record-empty.jsonl", "")?;
    let mut crlf = fx.lines.join(&b"\r\n"[..]);
    crlf.extend_from_slice(b"\r\n");
    s.put("record-crlf.jsonl", crlf)?;
    let mut twice = fx.record.clone();
    twice.extend_from_slice(&fx.lines[n - 1]);
    s.put("record-two-tree-heads.jsonl", twice)?;
    let mut lines = fx.lines.clone();
    lines.swap(open + 1, open + 2);
    s.put("record-swapped-ballots.jsonl", lines.join(&b'\n'))?;

    // Whole records with a revocation: honest, then each rule broken (the tree head recomputed,
    // so that only the rule itself fails).
    let revoking = revoking_lines();
    let at = revocation_at(&revoking);
    let (rev, replacement) = (&revoking[at], &revoking[at + 1]);
    s.put("record-revoked.jsonl", revoking_record())?;
    let reheaded = |body: &[String]| {
        let mut out = Vec::new();
        let mut tree = MerkleBuilder::new();
        for (i, l) in body.iter().enumerate() {
            let seq = before(l, ",\"type\"");
            let l = l.replacen(seq, &format!("{{\"seq\":{i}"), 1);
            tree.push(leaf_hash(l.as_bytes()));
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
        let head = TreeHead {
            size: tree.size(),
            root: tree.root(),
        };
        out.extend_from_slice(&encode_line(body.len() as u64, &Entry::TreeHead(head)).0);
        out.push(b'\n');
        out
    };
    let body = &revoking[..revoking.len() - 1];
    let open_at = body
        .iter()
        .position(|l| l.contains("\"type\":\"open\""))
        .expect("an open line");
    s.put(
        "record-revoked-setup-snapshot.jsonl",
        reheaded(&body[..open_at]),
    )?;
    let edit = |f: &dyn Fn(&mut Vec<String>)| {
        let mut b = body.to_vec();
        f(&mut b);
        reheaded(&b)
    };
    s.put(
        "record-revoked-no-replacement.jsonl",
        edit(&|b| {
            b.remove(at + 1);
        }),
    )?;
    s.put(
        "record-revoked-twice.jsonl",
        edit(&|b| b.insert(at + 2, rev.clone())),
    )?;
    s.put(
        "record-revoked-listed-again.jsonl",
        edit(&|b| {
            b.insert(
                at + 2,
                swap(rev, "revocation", "credential").replacen('}', ",\"weight\":1}", 1),
            )
        }),
    )?;
    s.put(
        "record-revoked-after-open.jsonl",
        edit(&|b| {
            let pair: Vec<String> = b.drain(at..at + 2).collect();
            let open = b
                .iter()
                .position(|l| l.contains("\"type\":\"open\""))
                .expect("an open line");
            b.splice(open + 1..open + 1, pair);
        }),
    )?;
    s.put(
        "record-revoked-before-manifest.jsonl",
        edit(&|b| {
            let r = b.remove(at);
            b.insert(1, r);
        }),
    )?;
    s.put(
        "record-revoked-credential-added.jsonl",
        edit(&|b| {
            // A valid point listed nowhere else: the generator.
            let fresh = Point::generator().to_string();
            let listed = credential_of(replacement);
            b.insert(at + 2, swap(replacement, listed, &fresh))
        }),
    )?;

    // Splices: each line as it is (the record stays valid), then changed.
    for (i, kind) in kinds.iter().enumerate() {
        s.put(
            &format!("splice-{i:02}-{kind}-same"),
            splice(i, &fx.lines[i]),
        )?;
    }
    let line = |i: usize| text(&fx.lines[i]);
    let mut changed: Vec<(usize, &str, String)> = vec![
        (0, "header-v2", swap(&line(0), "v1", "v2")),
        (1, "manifest-spaced", spaced(&line(1))),
        (
            2,
            "credential-weight-2",
            swap(&line(2), "\"weight\":1", "\"weight\":2"),
        ),
        (
            2,
            "credential-seq",
            swap(&line(2), "\"seq\":2", "\"seq\":3"),
        ),
        (
            open,
            "open-early",
            swap(&line(open), "\"at\":\"2", "\"at\":\"1"),
        ),
        (
            open,
            "open-as-close",
            swap(&line(open), "\"open\"", "\"close\""),
        ),
        (open + 1, "ballot-truncated", {
            let l = line(open + 1);
            l[..l.len() / 2].to_owned()
        }),
        (open + 1, "ballot-escaped-type", {
            swap(&line(open + 1), "\"ballot\"", "\"\\u0062allot\"")
        }),
        (open + 1, "ballot-repeated", line(open + 2)),
        (close, "close-dropped", String::new()),
        (
            close + 1,
            "tally-ballots",
            swap(&line(close + 1), "\"ballots\":", "\"ballots\":1"),
        ),
        (
            close + 2,
            "partial-twice",
            format!("{}\n{}", line(close + 2), line(close + 2)),
        ),
        (
            n - 2,
            "result-first-count",
            swap(&line(n - 2), "\"counts\":[", "\"counts\":[9"),
        ),
        (n - 1, "tree-head-spaced", spaced(&line(n - 1))),
        (
            n - 1,
            "tree-head-size",
            swap(&line(n - 1), "\"size\":", "\"size\":1"),
        ),
        (n, "appended", line(n - 1)),
        (
            open + 1,
            "ballot-seq-spaced",
            swap(&line(open + 1), "\"seq\":", "\"seq\": "),
        ),
    ];
    // Extreme numbers. Not in `seq` before the tree head: that overflows the verifier's line
    // counter, an open bug (fuzz/README.md, "Open: `seq` near 2^64 − 1").
    let max = u64::MAX;
    let Entry::Tally(t) = entry(fx, "tally") else {
        unreachable!("a tally line")
    };
    let weight = format!("\"total_weight\":{}", t.total_weight);
    let ballots = format!("\"ballots\":{}", t.ballots);
    let size = format!("\"size\":{}", n - 1);
    let head_seq = format!("\"seq\":{}", n - 1);
    let trustee = |i: usize| format!("\"trustee\":{}", i - close - 1);
    changed.extend([
        (
            2,
            "credential-weight-max",
            swap(&line(2), "\"weight\":1", &format!("\"weight\":{max}")),
        ),
        (
            2,
            "credential-weight-0",
            swap(&line(2), "\"weight\":1", "\"weight\":0"),
        ),
        (
            open,
            "open-year-9999",
            swap(&line(open), "\"at\":\"2026", "\"at\":\"9999"),
        ),
        (
            open,
            "open-year-0001",
            swap(&line(open), "\"at\":\"2026", "\"at\":\"0001"),
        ),
        (
            close + 1,
            "tally-weight-max",
            swap(
                &line(close + 1),
                &weight,
                &format!("\"total_weight\":{max}"),
            ),
        ),
        (
            close + 1,
            "tally-ballots-max",
            swap(&line(close + 1), &ballots, &format!("\"ballots\":{max}")),
        ),
        (
            close + 2,
            "partial-trustee-0",
            swap(&line(close + 2), &trustee(close + 2), "\"trustee\":0"),
        ),
        (
            close + 2,
            "partial-trustee-max",
            swap(
                &line(close + 2),
                &trustee(close + 2),
                &format!("\"trustee\":{}", u32::MAX),
            ),
        ),
        (
            close + 3,
            "partial-trustee-repeated",
            swap(&line(close + 3), &trustee(close + 3), &trustee(close + 2)),
        ),
        (
            n - 2,
            "result-count-max",
            swap(&line(n - 2), "\"counts\":[", &format!("\"counts\":[{max},")),
        ),
        (
            n - 1,
            "tree-head-size-max",
            swap(&line(n - 1), &size, &format!("\"size\":{max}")),
        ),
        (
            n - 1,
            "tree-head-seq-max",
            swap(&line(n - 1), &head_seq, &format!("\"seq\":{max}")),
        ),
    ]);
    // A revocation and its replacement spliced into the honest record, before `open` (where it
    // belongs) and after it (where it does not).
    changed.extend([
        (
            open,
            "revocation-before-open",
            format!("{rev}\n{replacement}\n{}", line(open)),
        ),
        (
            open + 1,
            "revocation-after-open",
            format!("{rev}\n{replacement}\n{}", line(open + 1)),
        ),
        (
            open,
            "revocation-without-replacement",
            format!("{rev}\n{}", line(open)),
        ),
    ]);
    for (at, name, l) in changed {
        s.put(&format!("splice-{at:02}-{name}"), splice(at, l.as_bytes()))?;
    }
    Ok(s.count)
}

fn main() -> io::Result<()> {
    let root = std::env::args_os().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus"),
        PathBuf::from,
    );
    let fx = fixture();
    for (target, write) in [
        (
            "record_line",
            record_lines as fn(&Path, &Fixture) -> io::Result<usize>,
        ),
        ("record", records),
    ] {
        let n = write(&root, fx)?;
        println!("{target}: {n} seeds in {}", root.join(target).display());
    }
    Ok(())
}
