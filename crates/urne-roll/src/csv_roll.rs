//! Reading a CSV roll (RFC 4180) with the `csv` crate, keeping physical line numbers.

use csv::{ReaderBuilder, StringRecord};

use crate::check::{Builder, Fields};
use crate::error::{HeaderProblem, RollErrorKind as K};

/// The columns a roll may have, in canonical order; the first two are required.
const COLUMNS: [&str; 5] = ["id", "email", "weight", "name", "lang"];

/// The separator: a comma, unless the first line has none and has semicolons (what spreadsheets
/// set to French write) or tabs.
fn delimiter(text: &str) -> u8 {
    let first = text
        .split('\n')
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    if first.contains(',') {
        b','
    } else if first.contains(';') {
        b';'
    } else if first.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

/// The physical line where a record starts. The `csv` crate reports the position where it began
/// reading the record, before the line ends (and blank lines) it skips: count those too.
fn start_line(bytes: &[u8], pos: &csv::Position) -> (u64, usize) {
    let mut line = pos.line();
    let mut at = pos.byte() as usize;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
        at += 1;
    }
    (line, at)
}

/// Column indices of the known columns, by [`COLUMNS`] order.
type Layout = [Option<usize>; 5];

/// Reads the header; `None` when a required column is missing (rows cannot be read then).
fn header(b: &mut Builder, line: u64, record: &StringRecord) -> Option<Layout> {
    let mut layout: Layout = [None; 5];
    for (i, name) in record.iter().enumerate() {
        let name = name.trim();
        match COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name)) {
            Some(c) if layout[c].is_some() => {
                let p = HeaderProblem::Repeated(name.to_owned());
                b.error(line, Some(COLUMNS[c]), K::Header(p));
            }
            Some(c) => layout[c] = Some(i),
            None => {
                let shown = crate::error::shown(name);
                let p = HeaderProblem::Unknown(shown.clone());
                b.error(line, Some(&shown), K::Header(p));
            }
        }
    }
    let mut complete = true;
    for (c, column) in COLUMNS.iter().enumerate().take(2) {
        if layout[c].is_none() {
            b.error(
                line,
                Some(column),
                K::Header(HeaderProblem::Missing(column)),
            );
            complete = false;
        }
    }
    complete.then_some(layout)
}

/// `text` with each lone CR (a line end of old Mac files) made an LF, when it has any.
///
/// The reader ends a record at a lone CR but counts lines at LF only, so without this every
/// error of such a file would be on line 1. The two have the same length, so byte offsets into
/// the text stay those of the file. A CR inside a quoted field becomes a line break too, as an
/// editor shows it.
fn lone_cr_as_lf(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    (0..bytes.len()).any(lone).then(|| {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            out.push(if c == '\r' && chars.peek() != Some(&'\n') {
                '\n'
            } else {
                c
            });
        }
        out
    })
}

pub(crate) fn read(text: &str, b: &mut Builder) -> u64 {
    let normalized = lone_cr_as_lf(text);
    let text = normalized.as_deref().unwrap_or(text);
    let bytes = text.as_bytes();
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(bytes);
    let mut record = StringRecord::new();
    let mut layout: Option<Option<Layout>> = None;
    let mut width = 0;
    let mut header_line = 1;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // The text is UTF-8 and the reader takes any number of fields: only a bug of
                // the reader leads here. Report it rather than lose it.
                let line = e.position().map_or(1, |p| start_line(bytes, p).0);
                b.error(line, None, K::Csv(e.to_string()));
                break;
            }
        }
        // Set by the reader when it starts the record.
        let (line, start) = record.position().map_or((1, 0), |p| start_line(bytes, p));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let end = (reader.position().byte() as usize).min(bytes.len());
        let quotes = bytes
            .get(start..end)
            .map_or(0, |raw| raw.iter().filter(|&&c| c == b'"').count());
        let Some(layout) = layout else {
            header_line = line;
            width = record.len();
            if quotes % 2 == 1 {
                b.error(line, None, K::Quote);
            }
            layout = Some(header(b, line, &record));
            continue;
        };
        let Some(layout) = layout else {
            // No usable header: the rows are only counted, for the cap.
            if !b.count(line) {
                break;
            }
            continue;
        };
        if quotes % 2 == 1 {
            b.error(line, None, K::Quote);
            if !b.count(line) {
                break;
            }
            continue;
        }
        if record.len() != width {
            b.error(
                line,
                None,
                K::Columns {
                    expected: width,
                    found: record.len(),
                },
            );
            if !b.count(line) {
                break;
            }
            continue;
        }
        let get = |c: usize| layout[c].and_then(|i| record.get(i));
        let fields = Fields {
            id: get(0),
            email: get(1),
            weight: get(2),
            name: get(3),
            lang: get(4),
            reported: [false; 5],
        };
        b.add(line, &fields);
        if b.stopped {
            break;
        }
    }
    header_line
}
