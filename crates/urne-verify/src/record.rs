//! The election record: every public item of one election, as JSON Lines (docs/record.md).
//!
//! Each line is one JSON object whose first two members are `seq` (its position, from 0) and
//! `type`; the other members depend on the type. The lines follow the election's life:
//!
//! ```text
//! header, manifest, dealing*, complaint*, answer*, credential*, (revocation credential)*, booth?,
//! open, ballot*, close, tally, partial_decryption*,
//! (shuffle_chunk+ shuffle)*, mix_decryption*, mixed_ballots*, result
//! ```
//!
//! The mix lines (spec §8.8) appear only for an election with a ranked or graded question; the
//! lists of a shuffle, of a trustee's decryption factors and of the decrypted ballots are cut
//! into chunks of consecutive rows ([`CHUNK_BYTES`]), each on its own line.
//!
//! and the record ends with a `tree_head` line holding the number of lines before it and the
//! root of the Merkle tree over them ([`crate::merkle`]). A record of an election still under
//! way stops after any line and still ends with its tree head. Lines are read one at a time, so
//! a record of any size is checked in bounded memory.

use std::fmt;
use std::io::{self, BufRead, Read, Write};

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use urne_core::Scalar;
use urne_core::ballot::{Ballot, Tracker};
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing};
use urne_core::elgamal::Ciphertext;
use urne_core::group::{Point, bytes_b64, scalar_b64, scalar_vec_b64};
use urne_core::manifest::{Manifest, Timestamp};
use urne_core::proofs::decryption::DecryptionFactor;
use urne_core::proofs::schnorr::SchnorrProof;
use urne_core::proofs::shuffle::ShuffleProof;
use urne_core::tally::{ElectionResult, EncryptedTally, PartialDecryption};

use crate::merkle::{Hash, MerkleBuilder, leaf_hash};

/// The record format this verifier knows.
pub const RECORD_FORMAT: &str = "urne/record/v1";

/// One line's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// First line: the record's format version.
    Header(Header),
    /// The election manifest.
    Manifest(Box<Manifest>),
    /// Round 1 of the key-generation ceremony (threshold sharing, spec §8.5).
    Dealing(Box<Dealing>),
    /// Round 2 of the ceremony.
    Complaint(Box<ComplaintMessage>),
    /// Round 3 of the ceremony.
    Answer(Box<Answer>),
    /// One entry of the public credential list.
    Credential(CredentialEntry),
    /// A listed credential revoked before voting opened; the next line lists its replacement
    /// (spec §5.5).
    Revocation(Revocation),
    /// The files the server serves to voters, declared just before the election opens (spec
    /// §7.6).
    Booth(BoothEntry),
    /// The election opened.
    Open(Instant),
    /// A ballot, as cast.
    Ballot(Box<BallotEntry>),
    /// The election closed: no ballot after this line.
    Close(Instant),
    /// The encrypted tally.
    Tally(Box<TallyEntry>),
    /// One trustee's decryption factors.
    PartialDecryption(Box<PartialDecryption>),
    /// Consecutive rows of a shuffle's output and of its proof's per-row lists (spec §8.8.2).
    ShuffleChunk(Box<ShuffleChunk>),
    /// The end of a shuffle: the rest of its proof, and its trustee's signature.
    Shuffle(Box<ShuffleEntry>),
    /// Consecutive rows of one trustee's decryption factors of the last shuffle's output (spec
    /// §8.8.3).
    MixDecryption(Box<MixDecryptionEntry>),
    /// Consecutive rows of the decrypted mixed ballots (spec §8.8.4).
    MixedBallots(Box<MixedBallotsEntry>),
    /// The result.
    Result(Box<ElectionResult>),
    /// The last line: the Merkle tree head of all lines before it.
    TreeHead(TreeHead),
}

/// The `header` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The record format, `urne/record/v1`.
    pub format: String,
}

/// A `credential` line: a public credential and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialEntry {
    /// The public credential.
    pub credential: urne_core::group::Point,
    /// Its weight.
    pub weight: u64,
}

/// A `revocation` line: a credential listed earlier that may no longer vote (spec §5.5). It
/// is written before the `open` line, immediately followed by the `credential` line of the
/// replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// The public credential revoked: one listed on an earlier `credential` line.
    pub credential: urne_core::group::Point,
}

/// A `booth` line: the files the server declares it serves to voters for this election, each
/// with the SHA-256 digest of its bytes as served (spec §7.6). It is written in the same append
/// as the `open` line, just before it. Parsing checks the form only; the order and uniqueness of
/// the paths are checked by the verifier (V-18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoothEntry {
    /// The files, sorted by path, each path once.
    pub files: Vec<BoothFile>,
}

/// One file of a [`BoothEntry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoothFile {
    /// The absolute path the file is served under, on the server's origin (e.g. `/vote/{id}`).
    pub path: String,
    /// SHA-256 of the bytes served (FIPS 180-4), 32 bytes in base64url (spec §2.4).
    #[serde(with = "bytes_b64")]
    pub sha256: [u8; 32],
}

/// An `open` or `close` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instant {
    /// When it happened, by the server's clock.
    pub at: Timestamp,
}

/// A `ballot` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotEntry {
    /// When the server accepted it.
    pub cast_at: Timestamp,
    /// Its tracker, as given to the voter.
    pub tracker: Tracker,
    /// The ballot.
    pub ballot: Ballot,
}

/// A `tally` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyEntry {
    /// Number of ballots counted (after the revote rule).
    pub ballots: u64,
    /// Their total weight: the bound of every count.
    pub total_weight: u64,
    /// The encrypted tally.
    pub tally: EncryptedTally,
}

/// A `shuffle_chunk` line: rows `offset` to `offset + k − 1` of shuffle number `shuffle` (from
/// 0), made by trustee `trustee`: for each row i, the output vector E′ᵢ and the proof's Cᵢ, Ĉᵢ,
/// T̂ᵢ, ŝᵢ and s′ᵢ (spec §8.7). Every list has the same length k ≥ 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShuffleChunk {
    /// The shuffle's position in the sequence of shuffles, from 0.
    pub shuffle: u32,
    /// The shuffling trustee's index in the manifest, from 1.
    pub trustee: u32,
    /// The position of this chunk's first row.
    pub offset: u64,
    /// The output vectors, each of the mix width.
    pub outputs: Vec<Vec<Ciphertext>>,
    /// The permutation commitments Cᵢ of these positions.
    pub permutation_commitments: Vec<Point>,
    /// The chain commitments Ĉᵢ.
    pub chain_commitments: Vec<Point>,
    /// The commitments T̂ᵢ.
    pub t_hat: Vec<Point>,
    /// The responses ŝᵢ.
    #[serde(with = "scalar_vec_b64")]
    pub s_hat: Vec<Scalar>,
    /// The responses s′ᵢ.
    #[serde(with = "scalar_vec_b64")]
    pub s_prime: Vec<Scalar>,
}

impl ShuffleChunk {
    /// The proof's per-row lists with their lengths, by field name: each must have one entry
    /// per row of `outputs` (spec §8.7, docs/record.md).
    pub fn row_lists(&self) -> [(&'static str, usize); 5] {
        [
            (
                "permutation_commitments",
                self.permutation_commitments.len(),
            ),
            ("chain_commitments", self.chain_commitments.len()),
            ("t_hat", self.t_hat.len()),
            ("s_hat", self.s_hat.len()),
            ("s_prime", self.s_prime.len()),
        ]
    }
}

/// A `shuffle` line: the end of shuffle `shuffle`, after all its chunks: the number of rows, the
/// proof's other members, and the trustee's signature (spec §8.8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShuffleEntry {
    /// The shuffle's position, from 0.
    pub shuffle: u32,
    /// The shuffling trustee's index, from 1.
    pub trustee: u32,
    /// The number of rows N.
    pub ballots: u64,
    /// T₁.
    pub t1: Point,
    /// T₂.
    pub t2: Point,
    /// T₃.
    pub t3: Point,
    /// T₄,ₖ, one per column.
    pub t4: Vec<Ciphertext>,
    /// s₁.
    #[serde(with = "scalar_b64")]
    pub s1: Scalar,
    /// s₂.
    #[serde(with = "scalar_b64")]
    pub s2: Scalar,
    /// s₃.
    #[serde(with = "scalar_b64")]
    pub s3: Scalar,
    /// s₄,ₖ, one per column.
    #[serde(with = "scalar_vec_b64")]
    pub s4: Vec<Scalar>,
    /// The trustee's signature with its manifest key (`urne_core::mix`).
    pub signature: SchnorrProof,
}

/// A `mix_decryption` line: rows `offset` to `offset + k − 1` of trustee `trustee`'s decryption
/// factors of the last shuffle's output, one factor per ciphertext (spec §8.8.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixDecryptionEntry {
    /// The trustee's index, from 1.
    pub trustee: u32,
    /// The position of this chunk's first row.
    pub offset: u64,
    /// The factors, k ≥ 1 rows of the mix width.
    pub factors: Vec<Vec<DecryptionFactor>>,
}

/// A `mixed_ballots` line: rows `offset` to `offset + k − 1` of the decrypted ballots, in the
/// order of the last shuffle's output, each the values of its row (spec §8.8.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixedBallotsEntry {
    /// The position of this chunk's first row.
    pub offset: u64,
    /// The values, k ≥ 1 rows of the mix width.
    pub ballots: Vec<Vec<u64>>,
}

/// The size a writer aims at for one chunk line of the mix phase: lines stay near it (a single
/// row may exceed it), far below [`MAX_LINE_BYTES`].
pub const CHUNK_BYTES: usize = 4 << 20;

/// Rows per chunk line for rows of about `row_bytes` bytes of JSON: at least one.
fn rows_per_chunk(row_bytes: usize) -> usize {
    (CHUNK_BYTES / row_bytes.max(1)).max(1)
}

/// The lines of one shuffle (spec §8.8.2): its `shuffle_chunk` lines, of at most `max_rows`
/// rows each (or as many as fit in [`CHUNK_BYTES`] when `None`), then its `shuffle` line.
/// The proof's per-row lists must have one entry per output row, as [`ShuffleProof`]s made by
/// `urne_core::proofs::shuffle::prove_shuffle` do.
pub fn shuffle_lines(
    position: u32,
    trustee: u32,
    outputs: &[Vec<Ciphertext>],
    proof: &ShuffleProof,
    signature: SchnorrProof,
    max_rows: Option<usize>,
) -> Vec<Entry> {
    let width = outputs.first().map_or(0, Vec::len);
    let rows = max_rows.unwrap_or_else(|| rows_per_chunk(110 * width + 240));
    let mut lines = Vec::new();
    let mut offset = 0;
    while offset < outputs.len() {
        let end = (offset + rows.max(1)).min(outputs.len());
        let part = |v: &[Point]| v.get(offset..end).unwrap_or_default().to_vec();
        let scalars = |v: &[Scalar]| v.get(offset..end).unwrap_or_default().to_vec();
        lines.push(Entry::ShuffleChunk(Box::new(ShuffleChunk {
            shuffle: position,
            trustee,
            offset: offset as u64,
            outputs: outputs[offset..end].to_vec(),
            permutation_commitments: part(&proof.permutation_commitments),
            chain_commitments: part(&proof.chain_commitments),
            t_hat: part(&proof.t_hat),
            s_hat: scalars(&proof.s_hat),
            s_prime: scalars(&proof.s_prime),
        })));
        offset = end;
    }
    lines.push(Entry::Shuffle(Box::new(ShuffleEntry {
        shuffle: position,
        trustee,
        ballots: outputs.len() as u64,
        t1: proof.t1,
        t2: proof.t2,
        t3: proof.t3,
        t4: proof.t4.clone(),
        s1: proof.s1,
        s2: proof.s2,
        s3: proof.s3,
        s4: proof.s4.clone(),
        signature,
    })));
    lines
}

/// One trustee's `mix_decryption` lines (spec §8.8.3), of at most `max_rows` rows each (or as
/// many as fit in [`CHUNK_BYTES`] when `None`).
pub fn mix_decryption_lines(
    trustee: u32,
    factors: &[Vec<DecryptionFactor>],
    max_rows: Option<usize>,
) -> Vec<Entry> {
    let width = factors.first().map_or(0, Vec::len);
    let rows = max_rows.unwrap_or_else(|| rows_per_chunk(220 * width + 8));
    factors
        .chunks(rows.max(1))
        .enumerate()
        .map(|(i, part)| {
            Entry::MixDecryption(Box::new(MixDecryptionEntry {
                trustee,
                offset: (i * rows.max(1)) as u64,
                factors: part.to_vec(),
            }))
        })
        .collect()
}

/// The `mixed_ballots` lines of the decrypted rows (spec §8.8.4), of at most `max_rows` rows
/// each (or as many as fit in [`CHUNK_BYTES`] when `None`).
pub fn mixed_ballots_lines(values: &[Vec<u64>], max_rows: Option<usize>) -> Vec<Entry> {
    let width = values.first().map_or(0, Vec::len);
    let rows = max_rows.unwrap_or_else(|| rows_per_chunk(3 * width + 8));
    values
        .chunks(rows.max(1))
        .enumerate()
        .map(|(i, part)| {
            Entry::MixedBallots(Box::new(MixedBallotsEntry {
                offset: (i * rows.max(1)) as u64,
                ballots: part.to_vec(),
            }))
        })
        .collect()
}

/// The `tree_head` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeHead {
    /// Number of lines before this one.
    pub size: u64,
    /// Merkle root of those lines.
    #[serde(with = "bytes_b64")]
    pub root: Hash,
}

impl Entry {
    /// The `type` of this entry.
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Header(_) => "header",
            Entry::Manifest(_) => "manifest",
            Entry::Dealing(_) => "dealing",
            Entry::Complaint(_) => "complaint",
            Entry::Answer(_) => "answer",
            Entry::Credential(_) => "credential",
            Entry::Revocation(_) => "revocation",
            Entry::Booth(_) => "booth",
            Entry::Open(_) => "open",
            Entry::Ballot(_) => "ballot",
            Entry::Close(_) => "close",
            Entry::Tally(_) => "tally",
            Entry::PartialDecryption(_) => "partial_decryption",
            Entry::ShuffleChunk(_) => "shuffle_chunk",
            Entry::Shuffle(_) => "shuffle",
            Entry::MixDecryption(_) => "mix_decryption",
            Entry::MixedBallots(_) => "mixed_ballots",
            Entry::Result(_) => "result",
            Entry::TreeHead(_) => "tree_head",
        }
    }
}

/// Writes `{"seq":N,"type":"T",` then the members of `body` (a JSON object).
fn write_line<W: Write, T: Serialize>(
    out: &mut W,
    seq: u64,
    kind: &str,
    body: &T,
) -> io::Result<Vec<u8>> {
    let mut line = format!("{{\"seq\":{seq},\"type\":\"{kind}\"").into_bytes();
    let body = serde_json::to_vec(body).map_err(io::Error::other)?;
    match body.as_slice() {
        [b'{', b'}'] => line.push(b'}'),
        [b'{', rest @ ..] => {
            line.push(b',');
            line.extend_from_slice(rest);
        }
        _ => return Err(io::Error::other("record bodies are JSON objects")),
    }
    out.write_all(&line)?;
    out.write_all(b"\n")?;
    Ok(line)
}

/// The JSON body of an entry (its members besides `seq` and `type`).
fn write_entry<W: Write>(out: &mut W, seq: u64, entry: &Entry) -> io::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct M<'a> {
        manifest: &'a Manifest,
    }
    #[derive(Serialize)]
    struct D<'a> {
        dealing: &'a Dealing,
    }
    #[derive(Serialize)]
    struct C<'a> {
        complaint: &'a ComplaintMessage,
    }
    #[derive(Serialize)]
    struct A<'a> {
        answer: &'a Answer,
    }
    #[derive(Serialize)]
    struct P<'a> {
        partial: &'a PartialDecryption,
    }
    #[derive(Serialize)]
    struct R<'a> {
        result: &'a ElectionResult,
    }
    let k = entry.kind();
    match entry {
        Entry::Header(h) => write_line(out, seq, k, h),
        Entry::Manifest(m) => write_line(out, seq, k, &M { manifest: m }),
        Entry::Dealing(d) => write_line(out, seq, k, &D { dealing: d }),
        Entry::Complaint(c) => write_line(out, seq, k, &C { complaint: c }),
        Entry::Answer(a) => write_line(out, seq, k, &A { answer: a }),
        Entry::Credential(c) => write_line(out, seq, k, c),
        Entry::Revocation(r) => write_line(out, seq, k, r),
        Entry::Booth(b) => write_line(out, seq, k, b),
        Entry::Open(i) | Entry::Close(i) => write_line(out, seq, k, i),
        Entry::Ballot(b) => write_line(out, seq, k, b),
        Entry::Tally(t) => write_line(out, seq, k, t),
        Entry::PartialDecryption(p) => write_line(out, seq, k, &P { partial: p }),
        Entry::ShuffleChunk(c) => write_line(out, seq, k, c),
        Entry::Shuffle(sh) => write_line(out, seq, k, sh),
        Entry::MixDecryption(d) => write_line(out, seq, k, d),
        Entry::MixedBallots(b) => write_line(out, seq, k, b),
        Entry::Result(r) => write_line(out, seq, k, &R { result: r }),
        Entry::TreeHead(t) => write_line(out, seq, k, t),
    }
}

/// Writes a record line by line, numbering lines and keeping the Merkle tree.
#[derive(Debug)]
pub struct RecordWriter<W: Write> {
    out: W,
    tree: MerkleBuilder,
}

impl<W: Write> RecordWriter<W> {
    /// Starts a record with its header line.
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = RecordWriter {
            out,
            tree: MerkleBuilder::new(),
        };
        w.append(&Entry::Header(Header {
            format: RECORD_FORMAT.into(),
        }))?;
        Ok(w)
    }

    /// Appends one line.
    pub fn append(&mut self, entry: &Entry) -> io::Result<()> {
        let line = write_entry(&mut self.out, self.tree.size(), entry)?;
        self.tree.push(leaf_hash(&line));
        Ok(())
    }

    /// Appends a line whose bytes were made elsewhere (by [`encode_line`]), in order.
    pub fn append_encoded(&mut self, line: &[u8], leaf: Hash) -> io::Result<()> {
        self.out.write_all(line)?;
        self.out.write_all(b"\n")?;
        self.tree.push(leaf);
        Ok(())
    }

    /// Number of lines so far (the `seq` of the next line).
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// Writes the tree head and returns the output.
    pub fn finish(mut self) -> io::Result<(W, TreeHead)> {
        let head = TreeHead {
            size: self.tree.size(),
            root: self.tree.root(),
        };
        write_entry(&mut self.out, head.size, &Entry::TreeHead(head))?;
        self.out.flush()?;
        Ok((self.out, head))
    }
}

/// Encodes one line (without its newline) and its leaf hash, for writers that prepare lines in
/// parallel and append them in order.
pub fn encode_line(seq: u64, entry: &Entry) -> (Vec<u8>, Hash) {
    let mut sink = Vec::new();
    let line = write_entry(&mut sink, seq, entry).expect("writing to memory cannot fail");
    let leaf = leaf_hash(&line);
    (line, leaf)
}

/// Why a line does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}: at `{path}`: {message}")]
pub struct LineError {
    /// Line number, from 1.
    pub line: u64,
    /// The line's `type`, or `?` when unknown.
    pub kind: String,
    /// JSON path of the offending member.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A parsed line: its `seq` and its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line's `seq` member.
    pub seq: u64,
    /// Its content.
    pub entry: Entry,
}

struct LineVisitor;

fn rest<'de, A: MapAccess<'de>, T: DeserializeOwned>(map: A) -> Result<T, A::Error> {
    T::deserialize(de::value::MapAccessDeserializer::new(map))
}

fn single<'de, A: MapAccess<'de>, T: DeserializeOwned>(
    mut map: A,
    key: &'static str,
) -> Result<T, A::Error> {
    match map.next_key::<String>()? {
        Some(k) if k == key => {}
        Some(k) => {
            return Err(de::Error::custom(format!(
                "unknown member `{k}`, expected `{key}`"
            )));
        }
        None => return Err(de::Error::missing_field(key)),
    }
    let v = map.next_value()?;
    if let Some(k) = map.next_key::<String>()? {
        return Err(de::Error::custom(format!("unknown member `{k}`")));
    }
    Ok(v)
}

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Line;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record line: an object starting with `seq` and `type`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line, A::Error> {
        if map.next_key::<String>()?.as_deref() != Some("seq") {
            return Err(de::Error::custom("a record line starts with `seq`"));
        }
        let seq: u64 = map.next_value()?;
        if map.next_key::<String>()?.as_deref() != Some("type") {
            return Err(de::Error::custom("a record line's second member is `type`"));
        }
        let kind: String = map.next_value()?;
        let entry = match kind.as_str() {
            "header" => Entry::Header(rest(map)?),
            "manifest" => Entry::Manifest(Box::new(single(map, "manifest")?)),
            "dealing" => Entry::Dealing(Box::new(single(map, "dealing")?)),
            "complaint" => Entry::Complaint(Box::new(single(map, "complaint")?)),
            "answer" => Entry::Answer(Box::new(single(map, "answer")?)),
            "credential" => Entry::Credential(rest(map)?),
            "revocation" => Entry::Revocation(rest(map)?),
            "booth" => Entry::Booth(rest(map)?),
            "open" => Entry::Open(rest(map)?),
            "ballot" => Entry::Ballot(Box::new(rest(map)?)),
            "close" => Entry::Close(rest(map)?),
            "tally" => Entry::Tally(Box::new(rest(map)?)),
            "partial_decryption" => Entry::PartialDecryption(Box::new(single(map, "partial")?)),
            "shuffle_chunk" => Entry::ShuffleChunk(Box::new(rest(map)?)),
            "shuffle" => Entry::Shuffle(Box::new(rest(map)?)),
            "mix_decryption" => Entry::MixDecryption(Box::new(rest(map)?)),
            "mixed_ballots" => Entry::MixedBallots(Box::new(rest(map)?)),
            "result" => Entry::Result(Box::new(single(map, "result")?)),
            "tree_head" => Entry::TreeHead(rest(map)?),
            other => return Err(de::Error::custom(format!("unknown line type `{other}`"))),
        };
        Ok(Line { seq, entry })
    }
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(LineVisitor)
    }
}

/// The `type` of a line, read cheaply, for error messages.
fn peek_kind(text: &str) -> String {
    #[derive(Deserialize)]
    struct K {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<K>(text)
        .map(|k| k.kind)
        .unwrap_or_else(|_| "?".into())
}

/// Parses one line (without its newline). `number` is its line number, from 1.
pub fn parse_line(number: u64, bytes: &[u8]) -> Result<Line, LineError> {
    let err = |path: String, message: String, kind: String| LineError {
        line: number,
        kind,
        path,
        message,
    };
    let text =
        std::str::from_utf8(bytes).map_err(|e| err(".".into(), e.to_string(), "?".into()))?;
    // Fast path without path tracking; a line that fails is parsed again to say where.
    if let Ok(line) = serde_json::from_str::<Line>(text) {
        return Ok(line);
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let line: Line = serde_path_to_error::deserialize(&mut *de)
        .map_err(|e| err(e.path().to_string(), e.inner().to_string(), peek_kind(text)))?;
    de.end()
        .map_err(|e| err(".".into(), e.to_string(), line.entry.kind().into()))?;
    Ok(line)
}

/// Re-encodes a parsed line in canonical form.
pub fn canonical_line(line: &Line) -> Vec<u8> {
    encode_line(line.seq, &line.entry).0
}

/// The longest line a record may have: room for the largest manifest or ballot the limits of
/// spec §4.2 allow. A reader reports a longer line (V-18) and skips it, never holding it in memory.
pub const MAX_LINE_BYTES: u64 = 256 << 20;

/// Reads one line into `buf` without its newline, at most `max` bytes of it. Returns the bytes
/// consumed (0 at the end) and whether the line was complete; the rest of a longer line is
/// consumed and dropped.
pub fn read_line<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    max: u64,
) -> std::io::Result<(u64, bool)> {
    buf.clear();
    let n = input.by_ref().take(max + 1).read_until(b'\n', buf)? as u64;
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok((n, true));
    }
    if n <= max {
        return Ok((n, true)); // the last line, without a final newline
    }
    buf.clear();
    let mut skipped = n;
    loop {
        let (done, used) = {
            let chunk = input.fill_buf()?;
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (true, i + 1),
                None => (chunk.is_empty(), chunk.len()),
            }
        };
        input.consume(used);
        skipped += used as u64;
        if done {
            return Ok((skipped, false));
        }
    }
}
