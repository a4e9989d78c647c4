//! The verifier's part of the mix phase (spec §8.8, checks V-19 to V-23).
//!
//! While ballots are read, the row of mixed ciphertexts of every ballot that may count is kept
//! with its position in the record; at the tally line, the rows of the ballots that the revote
//! rule replaced are dropped, and what is left, in record order, is the mix input. Each shuffle's
//! chunks are gathered until its `shuffle` line, which is checked (proof on the current list,
//! signature, position, trustee not seen before) and whose output becomes the current list. The
//! decryption factors are checked chunk by chunk against the current list and kept as points;
//! once the first decrypted row arrives, the trustee set is judged and its coefficients fixed,
//! and every decrypted row is compared with the combination of its factors. The result line's
//! mixed questions are compared with the recount of the published decrypted rows.
//!
//! Memory: the current list (N rows of w ciphertexts) and one factor point per ciphertext and
//! decrypting trustee are held, besides the ballots' rows before the tally. At the end, the
//! current list is moved into the [`MixState`] that `Verifier::finish_with_state` hands over, for
//! the trustee who shuffles or decrypts it next.

use std::collections::HashSet;

use rayon::prelude::*;
use urne_core::Scalar;
use urne_core::ballot::Ballot;
use urne_core::election::Election;
use urne_core::elgamal::Ciphertext;
use urne_core::error::Check;
use urne_core::group::Point;
use urne_core::mix::{
    column_bounds, count_mixed, mix_lambdas, mix_row, vartime_open_rows,
    vartime_verify_mix_factors, vartime_verify_shuffle_signature, width,
};
use urne_core::proofs::shuffle::{ShuffleProof, vartime_verify_shuffle};
use urne_core::tally::{ElectionResult, MixedResult};

use crate::record::{MixDecryptionEntry, MixedBallotsEntry, ShuffleChunk, ShuffleEntry};
use crate::verifier::{Failure, MixState, MixSummary, State};

/// Rows of factors or of decrypted values checked per parallel task.
const ROWS_PER_TASK: usize = 64;

/// A shuffle whose chunks are being gathered.
struct Building {
    shuffle: u32,
    trustee: u32,
    /// Line of its first chunk.
    line: u64,
    outputs: Vec<Vec<Ciphertext>>,
    permutation_commitments: Vec<Point>,
    chain_commitments: Vec<Point>,
    t_hat: Vec<Point>,
    s_hat: Vec<Scalar>,
    s_prime: Vec<Scalar>,
    /// No chunk of it failed a check of its form.
    ok: bool,
}

/// One trustee's decryption factors, as points, row by row.
struct TrusteeFactors {
    trustee: u32,
    rows: Vec<Vec<Point>>,
    /// Every chunk of it passed.
    ok: bool,
}

/// The mix phase's running state.
pub(crate) struct MixPhase {
    width: usize,
    bounds: Vec<u64>,
    /// Before the tally: the rows of the ballots that may count, with their line's offset.
    candidates: Vec<(u64, Vec<Ciphertext>)>,
    /// From the tally on: the mix input, then each shuffle's output.
    current: Option<Vec<Vec<Ciphertext>>>,
    /// The trustees of the shuffles ended so far, in order, whose shuffle passed every check.
    shufflers: Vec<u32>,
    /// Shuffles ended so far (passed or not): the next one's position.
    shuffles: u32,
    building: Option<Building>,
    shuffles_closed: bool,
    factors: Vec<TrusteeFactors>,
    /// Once the decryption is closed: the trustees combined and their coefficients.
    combination: Option<(Vec<usize>, Vec<Scalar>)>,
    decryption_closed: bool,
    /// The published decrypted rows, in order.
    plaintexts: Vec<Vec<u64>>,
}

impl MixPhase {
    /// The state for `election`, or `None` when it has no mixed question.
    pub(crate) fn new(election: &Election) -> Option<Self> {
        let m = election.manifest();
        let width = width(m);
        (width > 0).then(|| MixPhase {
            width,
            bounds: column_bounds(m),
            candidates: Vec::new(),
            current: None,
            shufflers: Vec::new(),
            shuffles: 0,
            building: None,
            shuffles_closed: false,
            factors: Vec::new(),
            combination: None,
            decryption_closed: false,
            plaintexts: Vec::new(),
        })
    }

    /// Keeps the row of a ballot that may count (its credential is eligible and it has the
    /// manifest's shape), read at byte `offset` of the record.
    pub(crate) fn candidate(&mut self, offset: u64, ballot: &Ballot, election: &Election) {
        if let Some(row) = mix_row(election.manifest(), ballot) {
            self.candidates.push((offset, row));
        }
    }

    /// At the tally line: the mix input is the rows of the ballots not `replaced`.
    pub(crate) fn start(&mut self, replaced: &HashSet<u64>) {
        let rows = std::mem::take(&mut self.candidates)
            .into_iter()
            .filter(|(offset, _)| !replaced.contains(offset))
            .map(|(_, row)| row)
            .collect();
        self.current = Some(rows);
    }

    fn rows(&self) -> usize {
        self.current.as_ref().map_or(0, Vec::len)
    }

    /// The report's summary, once the tally is read.
    pub(crate) fn summary(&self) -> Option<MixSummary> {
        self.current.as_ref()?;
        Some(MixSummary {
            ballots: self.rows() as u64,
            shufflers: self.shufflers.clone(),
            decryptors: self.combination.as_ref().map_or_else(Vec::new, |(set, _)| {
                set.iter().map(|&i| self.factors[i].trustee).collect()
            }),
            decrypted: self.plaintexts.len() as u64,
        })
    }

    /// The state handed over at the end of a verification, once the tally is read: the current
    /// list is moved out, not copied; the factors and decrypted rows are dropped.
    pub(crate) fn into_state(self) -> Option<MixState> {
        Some(MixState {
            list: self.current?,
            shuffles: self.shuffles,
            shufflers: self.shufflers,
            factor_trustees: self.factors.iter().map(|t| t.trustee).collect(),
            decrypted: self.plaintexts.len() as u64,
        })
    }
}

/// Runs `f` on the mix state and the election, then records its failures.
fn with_mix(
    st: &mut State<'_>,
    number: u64,
    f: impl FnOnce(&mut MixPhase, &Election, &mut Vec<Failure>),
) {
    let mut fails = Vec::new();
    match (st.mix.as_mut(), st.election.as_ref()) {
        (Some(mix), Some(e)) => f(mix, e, &mut fails),
        (None, Some(_)) => fails.push(Failure::new(
            Check::V18,
            Some(number),
            "type",
            "a line of the mix phase in an election without a ranked or graded question",
        )),
        _ => {}
    }
    for x in fails {
        st.fail(x);
    }
}

/// V-19 for a `shuffle_chunk` line: it continues the shuffle being gathered, or starts one.
pub(crate) fn shuffle_chunk(st: &mut State<'_>, number: u64, c: ShuffleChunk) {
    with_mix(st, number, |mix, _, fails| {
        let mut fail = |item: &str, detail: String| {
            fails.push(Failure::new(Check::V19, Some(number), item, detail));
        };
        let Some(n) = mix.current.as_ref().map(Vec::len) else {
            return; // before the tally: the stage order reports it
        };
        if let Some(b) = &mix.building {
            if b.shuffle != c.shuffle || b.trustee != c.trustee {
                let detail = format!(
                    "shuffle {} by trustee {} (from line {}) has no `shuffle` line before this \
                     chunk of shuffle {} by trustee {}",
                    b.shuffle, b.trustee, b.line, c.shuffle, c.trustee
                );
                fail("shuffle", detail);
                mix.building = None;
                mix.shuffles += 1;
            }
        }
        let b = mix.building.get_or_insert_with(|| Building {
            shuffle: c.shuffle,
            trustee: c.trustee,
            line: number,
            outputs: Vec::new(),
            permutation_commitments: Vec::new(),
            chain_commitments: Vec::new(),
            t_hat: Vec::new(),
            s_hat: Vec::new(),
            s_prime: Vec::new(),
            ok: true,
        });
        let k = c.outputs.len();
        let have = b.outputs.len() as u64;
        let mut ok = true;
        if c.offset != have {
            fail(
                "offset",
                format!("is {}, the shuffle has {have} rows before it", c.offset),
            );
            ok = false;
        }
        if k == 0 {
            fail("outputs", "a chunk has at least one row".into());
            ok = false;
        }
        if b.outputs.len() + k > n {
            let detail = format!(
                "the shuffle reaches {} rows, its input has {n}",
                have as usize + k
            );
            fail("outputs", detail);
            ok = false;
        }
        for (what, len) in c.row_lists() {
            if len != k {
                fail(what, format!("has {len} entries for {k} rows"));
                ok = false;
            }
        }
        if let Some(r) = c.outputs.iter().position(|row| row.len() != mix.width) {
            let detail = format!(
                "has {} ciphertexts, the mixed questions have {} answers",
                c.outputs[r].len(),
                mix.width
            );
            fail(&format!("outputs[{r}]"), detail);
            ok = false;
        }
        b.ok &= ok;
        if ok {
            b.outputs.extend(c.outputs);
            b.permutation_commitments.extend(c.permutation_commitments);
            b.chain_commitments.extend(c.chain_commitments);
            b.t_hat.extend(c.t_hat);
            b.s_hat.extend(c.s_hat);
            b.s_prime.extend(c.s_prime);
        }
    });
}

/// V-19 and V-20 for a `shuffle` line: the shuffle it ends is complete, at its position, its
/// proof valid on the current list and its signature its trustee's; its trustee has not
/// shuffled before. Its output becomes the current list.
pub(crate) fn shuffle_end(st: &mut State<'_>, number: u64, e: ShuffleEntry) {
    with_mix(st, number, |mix, election, fails| {
        let fail = |fails: &mut Vec<Failure>, check, item: &str, detail: String| {
            fails.push(Failure::new(check, Some(number), item, detail));
        };
        let Some(n) = mix.current.as_ref().map(Vec::len) else {
            return;
        };
        let position = mix.shuffles;
        mix.shuffles += 1;
        let Some(b) = mix.building.take() else {
            let detail = "a `shuffle` line without its `shuffle_chunk` lines".into();
            fail(fails, Check::V19, "shuffle", detail);
            return;
        };
        let mut ok = b.ok;
        if b.shuffle != e.shuffle || b.trustee != e.trustee {
            let detail = format!(
                "ends shuffle {} by trustee {}, its chunks are of shuffle {} by trustee {}",
                e.shuffle, e.trustee, b.shuffle, b.trustee
            );
            fail(fails, Check::V19, "shuffle", detail);
            ok = false;
        }
        if e.shuffle != position {
            let detail = format!("is {}, this is shuffle {position} (from 0)", e.shuffle);
            fail(fails, Check::V19, "shuffle", detail);
            ok = false;
        }
        if e.ballots != n as u64 || b.outputs.len() != n {
            let detail = format!(
                "says {} rows and its chunks have {}, the input has {n}",
                e.ballots,
                b.outputs.len()
            );
            fail(fails, Check::V19, "ballots", detail);
            ok = false;
        }
        if !ok {
            return;
        }
        let Some(inputs) = mix.current.as_ref() else {
            return;
        };
        let proof = ShuffleProof {
            permutation_commitments: b.permutation_commitments,
            chain_commitments: b.chain_commitments,
            t1: e.t1,
            t2: e.t2,
            t3: e.t3,
            t4: e.t4,
            t_hat: b.t_hat,
            s1: e.s1,
            s2: e.s2,
            s3: e.s3,
            s4: e.s4,
            s_hat: b.s_hat,
            s_prime: b.s_prime,
        };
        let fp = &election.fingerprint().0;
        if let Err(err) = vartime_verify_shuffle(
            &mut rand::rng(),
            fp,
            election.key(),
            inputs,
            &b.outputs,
            &proof,
        ) {
            let detail = format!(
                "the proof of shuffle {position} by trustee {} does not verify on its input: {err}",
                e.trustee
            );
            fail(fails, Check::V19, "proof", detail);
            ok = false;
        }
        if let Err(err) = vartime_verify_shuffle_signature(
            election,
            e.trustee,
            e.shuffle,
            inputs,
            &b.outputs,
            &e.signature,
        ) {
            fails.push(Failure::from_verify(err, Some(number), None));
        } else if mix.shufflers.contains(&e.trustee) {
            let detail = format!("trustee {} has already shuffled", e.trustee);
            fail(fails, Check::V20, "trustee", detail);
        } else if ok {
            mix.shufflers.push(e.trustee);
        }
        // The next shuffle, or the decryption, works on this output, as the record claims it.
        mix.current = Some(b.outputs);
    });
}

/// V-19 and V-20 when the shuffles end (the first line after them): no shuffle left unended,
/// and enough distinct trustees shuffled.
fn close_shuffles(mix: &mut MixPhase, election: &Election, number: u64, fails: &mut Vec<Failure>) {
    if mix.shuffles_closed || mix.current.is_none() {
        return;
    }
    mix.shuffles_closed = true;
    if let Some(b) = mix.building.take() {
        let detail = format!(
            "shuffle {} by trustee {} (from line {}) has no `shuffle` line",
            b.shuffle, b.trustee, b.line
        );
        fails.push(Failure::new(Check::V19, Some(number), "shuffle", detail));
    }
    let needed = election.manifest().threshold as usize;
    if mix.rows() > 0 && mix.shufflers.len() < needed {
        let detail = format!(
            "{} distinct trustees' shuffles verified, at least {needed} are needed",
            mix.shufflers.len()
        );
        fails.push(Failure::new(Check::V20, Some(number), "shuffles", detail));
    }
}

/// V-21 for a `mix_decryption` line: the factors continue their trustee's rows and are proved
/// for the current list.
pub(crate) fn mix_decryption(st: &mut State<'_>, number: u64, d: MixDecryptionEntry) {
    with_mix(st, number, |mix, election, fails| {
        close_shuffles(mix, election, number, fails);
        let Some(rows) = mix.current.as_ref() else {
            return;
        };
        let n = rows.len();
        let mut fail = |item: &str, detail: String| {
            fails.push(Failure::new(Check::V21, Some(number), item, detail));
        };
        let i = match mix.factors.iter().position(|t| t.trustee == d.trustee) {
            Some(i) => i,
            None => {
                mix.factors.push(TrusteeFactors {
                    trustee: d.trustee,
                    rows: Vec::new(),
                    ok: true,
                });
                mix.factors.len() - 1
            }
        };
        let t = &mut mix.factors[i];
        let have = t.rows.len();
        let k = d.factors.len();
        if d.offset != have as u64 {
            let detail = format!(
                "is {}, trustee {} has {have} rows before it",
                d.offset, d.trustee
            );
            fail("offset", detail);
            t.ok = false;
            return;
        }
        if k == 0 || have + k > n {
            let detail = format!("{k} rows after {have}, the list to decrypt has {n}");
            fail("factors", detail);
            t.ok = false;
            return;
        }
        let part = &rows[have..have + k];
        let first_error = d
            .factors
            .par_chunks(ROWS_PER_TASK)
            .zip(part.par_chunks(ROWS_PER_TASK))
            .enumerate()
            .map_init(rand::rng, |rng, (c, (f, r))| {
                let at = (c * ROWS_PER_TASK) as u64;
                vartime_verify_mix_factors(rng, election, d.trustee, d.offset + at, r, f)
                    .map_err(|mut e| {
                        // Name the row within this line.
                        if let Some(rest) = e.item.strip_prefix("factors[") {
                            if let Some((row, tail)) = rest.split_once(']') {
                                if let Ok(row) = row.parse::<u64>() {
                                    e.item = format!("factors[{}]{tail}", row + at);
                                }
                            }
                        }
                        e
                    })
                    .err()
            })
            .find_first(Option::is_some)
            .flatten();
        if let Some(err) = first_error {
            fails.push(Failure::from_verify(err, Some(number), None));
            t.ok = false;
        }
        t.rows.extend(
            d.factors
                .iter()
                .map(|row| row.iter().map(|f| f.factor).collect()),
        );
    });
}

/// V-21 when the decryption ends (the first line after it): every trustee's factors cover the
/// list and the trustees can decrypt together; fixes their coefficients.
fn close_decryption(
    mix: &mut MixPhase,
    election: &Election,
    number: u64,
    fails: &mut Vec<Failure>,
) {
    close_shuffles(mix, election, number, fails);
    if mix.decryption_closed || mix.current.is_none() {
        return;
    }
    mix.decryption_closed = true;
    let n = mix.rows();
    if n == 0 {
        if !mix.factors.is_empty() {
            let detail = "decryption factors, but no ballot to decrypt";
            fails.push(Failure::new(Check::V21, Some(number), "factors", detail));
        }
        return;
    }
    let mut set = Vec::new();
    for (i, t) in mix.factors.iter().enumerate() {
        if t.rows.len() != n {
            let detail = format!(
                "trustee {}'s factors cover {} of the {n} rows",
                t.trustee,
                t.rows.len()
            );
            fails.push(Failure::new(Check::V21, Some(number), "factors", detail));
        } else if t.ok {
            set.push(i);
        }
    }
    let trustees: Vec<u32> = set.iter().map(|&i| mix.factors[i].trustee).collect();
    match mix_lambdas(election, &trustees) {
        Ok(lambdas) => mix.combination = Some((set, lambdas)),
        Err(err) => {
            let mut f = Failure::from_verify(err, Some(number), None);
            f.detail = format!("the verified factors cannot be combined: {}", f.detail);
            fails.push(f);
        }
    }
}

/// V-22 for a `mixed_ballots` line: its rows continue the decrypted rows, and each value is the
/// combination of its ciphertext's factors.
pub(crate) fn mixed_ballots(st: &mut State<'_>, number: u64, b: MixedBallotsEntry) {
    with_mix(st, number, |mix, election, fails| {
        close_decryption(mix, election, number, fails);
        let Some(rows) = mix.current.as_ref() else {
            return;
        };
        let n = rows.len();
        let have = mix.plaintexts.len();
        let k = b.ballots.len();
        let mut fail = |item: String, detail: String| {
            fails.push(Failure::new(Check::V22, Some(number), item, detail));
        };
        if b.offset != have as u64 {
            fail(
                "offset".into(),
                format!("is {}, {have} rows come before it", b.offset),
            );
            return;
        }
        if k == 0 || have + k > n {
            fail(
                "ballots".into(),
                format!("{k} rows after {have}, the mix has {n}"),
            );
            return;
        }
        if let Some(r) = b.ballots.iter().position(|row| row.len() != mix.width) {
            let detail = format!(
                "has {} values for {} answers",
                b.ballots[r].len(),
                mix.width
            );
            fail(format!("ballots[{r}]"), detail);
            return;
        }
        if let Some((set, lambdas)) = &mix.combination {
            let part = &rows[have..have + k];
            let bounds = &mix.bounds;
            let factors = &mix.factors;
            let bad: Vec<(usize, usize, Option<u64>)> = part
                .par_chunks(ROWS_PER_TASK)
                .zip(b.ballots.par_chunks(ROWS_PER_TASK))
                .enumerate()
                .flat_map_iter(|(c, (cts, values))| {
                    let from = have + c * ROWS_PER_TASK;
                    let slices: Vec<&[Vec<Point>]> = set
                        .iter()
                        .map(|&i| &factors[i].rows[from..from + cts.len()])
                        .collect();
                    let opened = vartime_open_rows(cts, bounds, lambdas, &slices);
                    let mut bad = Vec::new();
                    for (r, (o, v)) in opened.iter().zip(values).enumerate() {
                        for (col, (o, v)) in o.iter().zip(v).enumerate() {
                            if *o != Some(*v) {
                                bad.push((c * ROWS_PER_TASK + r, col, *o));
                            }
                        }
                    }
                    bad
                })
                .collect();
            for (r, col, found) in bad {
                let detail = match found {
                    Some(v) => format!("the factors decrypt this ciphertext to {v}"),
                    None => format!(
                        "the factors decrypt this ciphertext to no value between 0 and {}",
                        mix.bounds[col]
                    ),
                };
                fail(format!("ballots[{r}][{col}]"), detail);
            }
        }
        mix.plaintexts.extend(b.ballots);
    });
}

/// V-22 and V-23 at the result line: the decrypted rows cover the mix, and each question's
/// `mixed` member is their recount (absent for plurality questions and when no ballot counted).
/// Returns the recount, one entry per question, to go into the verified result.
pub(crate) fn mixed_results(
    st: &mut State<'_>,
    number: u64,
    result: &ElectionResult,
) -> Vec<Option<MixedResult>> {
    let Some(e) = st.election.as_ref() else {
        return Vec::new();
    };
    let m = e.manifest();
    let mut fails = Vec::new();
    // `None` when the decrypted ballots cannot be counted (V-22 or V-23 says why): the
    // published results are then not compared.
    let mut recount = Some(vec![None; m.questions.len()]);
    if let Some(mix) = st.mix.as_mut() {
        close_decryption(mix, e, number, &mut fails);
        let n = mix.rows();
        if mix.plaintexts.len() != n {
            let detail = format!(
                "the decrypted ballots cover {} of the {n} rows of the mix",
                mix.plaintexts.len()
            );
            fails.push(Failure::new(Check::V22, Some(number), "result", detail));
            recount = None;
        } else {
            match count_mixed(m, &mix.plaintexts) {
                Ok(r) => recount = Some(r),
                Err(err) => {
                    let detail = format!("the decrypted ballots cannot be counted: {err}");
                    fails.push(Failure::new(Check::V23, Some(number), "result", detail));
                    recount = None;
                }
            }
        }
    }
    let compared = recount.as_deref().unwrap_or_default();
    for (qi, (published, counted)) in result.questions.iter().zip(compared).enumerate() {
        if published.mixed != *counted {
            let detail = match (&published.mixed, counted) {
                (Some(_), None) => "a mixed result where the recount has none".to_owned(),
                (None, Some(_)) => "no mixed result, the recount has one".to_owned(),
                _ => "differs from the recount of the decrypted ballots".to_owned(),
            };
            let item = format!("result.questions[{qi}].mixed");
            fails.push(Failure::new(Check::V23, Some(number), item, detail));
        }
    }
    for f in fails {
        st.fail(f);
    }
    let questions = result.questions.len();
    recount.unwrap_or_else(|| vec![None; questions])
}
