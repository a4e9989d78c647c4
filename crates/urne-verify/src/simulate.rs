//! Simulated elections written as records: for the demo, the benchmarks and the tests.
//!
//! Simulated voters draw random valid votes and cast real ballots (encrypted, proved, signed);
//! some vote twice. Ballots are made in parallel, chunk by chunk, and their record lines are
//! written in order, so a record of millions of ballots streams to disk in bounded memory (the
//! credential keys aside). The honest tally, the trustees' factors and the result follow, and the
//! plaintext count of the counted votes is kept to compare with the decrypted result.
//!
//! An election with ranked or graded questions also goes through the mix phase (spec §8.8):
//! trustees shuffle the counted ballots' rows of mixed ciphertexts in turn, sign their
//! shuffles, decrypt the last list, and the decrypted rows are counted ([`mix_lines`]).

use std::io::{self, Write};
use std::time::{Duration, Instant as Clock};

use rand::{Rng, RngExt};
use rand_core::SeedableRng;
use rayon::prelude::*;
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::credential::{Credential, CredentialKey};
use urne_core::election::Election;
use urne_core::elgamal::Ciphertext;
use urne_core::manifest::{KeySharing, Question, Timestamp};
use urne_core::mix::{count_mixed, mix_row, mixed_questions, vartime_open_with_factors, width};
use urne_core::proofs::shuffle::{prove_shuffle, shuffle};
use urne_core::tally::{
    ElectionResult, MixedResult, QuestionResult, TallyAccumulator, decrypt_result,
    vartime_verify_partial,
};
use urne_core::testkit::Setup;

use crate::record::{
    BallotEntry, CredentialEntry, Entry, Instant, RecordWriter, Revocation, TallyEntry, TreeHead,
    encode_line, mix_decryption_lines, mixed_ballots_lines, shuffle_lines,
};

type ChaCha = rand_chacha::ChaCha20Rng;

/// Who shuffles and who decrypts in the mix phase, and how long its chunk lines are.
#[derive(Debug, Clone, Default)]
pub struct MixPlan {
    /// The shuffling trustees, in order (indices from 1); by default the trustees that decrypt.
    pub shufflers: Option<Vec<u32>>,
    /// The trustees that decrypt the last shuffle's output; by default every trustee under
    /// independent keys, the last `threshold` under threshold sharing (as for the tally).
    pub decryptors: Option<Vec<u32>>,
    /// Rows per chunk line; by default as many as fit in [`crate::record::CHUNK_BYTES`].
    pub chunk_rows: Option<usize>,
}

/// The mix phase's lines and what they decrypt to.
#[derive(Debug, Clone)]
pub struct MixOutput {
    /// The `shuffle_chunk`, `shuffle`, `mix_decryption` and `mixed_ballots` lines, in order.
    pub lines: Vec<Entry>,
    /// The decrypted rows, in the order of the last shuffle's output.
    pub values: Vec<Vec<u64>>,
    /// Their count: per question, the mixed result of a mixed question.
    pub results: Vec<Option<MixedResult>>,
}

/// The trustees that decrypt by default: all under independent keys, else the last
/// `threshold` (the first is absent, as trustees sometimes are).
fn default_decryptors(setup: &Setup) -> Vec<u32> {
    let m = setup.election.manifest();
    let n = m.trustees.len() as u32;
    match m.key_sharing {
        KeySharing::Independent => (1..=n).collect(),
        KeySharing::Threshold => (n + 1 - m.threshold.min(n)..=n).collect(),
    }
}

/// Runs the mix phase of spec §8.8 on `inputs` (the mix input: the counted ballots' rows, in
/// record order) with the setup's trustee secrets: each shuffler shuffles the previous list,
/// proves and signs; the decryptors publish their factors of the last list; the rows are
/// decrypted and counted. Fails when the plan names a trustee the setup has no secret for, or
/// when `inputs` is empty.
pub fn mix_lines(
    setup: &Setup,
    seed: Option<u64>,
    plan: &MixPlan,
    inputs: Vec<Vec<Ciphertext>>,
) -> io::Result<MixOutput> {
    let election = &setup.election;
    let m = election.manifest();
    let decryptors = plan
        .decryptors
        .clone()
        .unwrap_or_else(|| default_decryptors(setup));
    let shufflers = plan.shufflers.clone().unwrap_or_else(|| decryptors.clone());
    let identity = |i: u32| {
        setup
            .trustees
            .get((i as usize).wrapping_sub(1))
            .ok_or_else(|| io::Error::other(format!("no trustee {i} in the setup")))
    };
    let fp = &election.fingerprint().0;
    let mut lines = Vec::new();
    let mut list = inputs;
    for (position, &trustee) in shufflers.iter().enumerate() {
        let mut rng = rng_for(seed, (6 << 32) + position as u64);
        let (outputs, witness) =
            shuffle(&mut rng, election.key(), &list).map_err(io::Error::other)?;
        let proof = prove_shuffle(&mut rng, fp, election.key(), &list, &outputs, &witness)
            .map_err(io::Error::other)?;
        let position = position as u32;
        let signature =
            identity(trustee)?.sign_shuffle(&mut rng, election, trustee, position, &list, &outputs);
        lines.extend(shuffle_lines(
            position,
            trustee,
            &outputs,
            &proof,
            signature,
            plan.chunk_rows,
        ));
        list = outputs;
    }
    let mut factors = Vec::with_capacity(decryptors.len());
    for &trustee in &decryptors {
        let mut rng = rng_for(seed, (7 << 32) + u64::from(trustee));
        let f = match m.key_sharing {
            KeySharing::Independent => identity(trustee)?.decrypt_mix(&mut rng, election, &list),
            KeySharing::Threshold => setup
                .shares
                .iter()
                .find(|s| s.index() == trustee)
                .and_then(|s| s.decrypt_mix(&mut rng, election, &list))
                .ok_or_else(|| io::Error::other(format!("no share of trustee {trustee}")))?,
        };
        lines.extend(mix_decryption_lines(trustee, &f, plan.chunk_rows));
        factors.push(f);
    }
    let opened = vartime_open_with_factors(election, &decryptors, &list, &factors)
        .map_err(io::Error::other)?;
    let values: Vec<Vec<u64>> = opened
        .into_iter()
        .map(|row| row.into_iter().collect::<Option<Vec<u64>>>())
        .collect::<Option<_>>()
        .ok_or_else(|| io::Error::other("a mixed ciphertext does not decrypt to a value"))?;
    lines.extend(mixed_ballots_lines(&values, plan.chunk_rows));
    let results = count_mixed(m, &values).map_err(io::Error::other)?;
    Ok(MixOutput {
        lines,
        values,
        results,
    })
}

/// The values a plaintext vote puts in its mix row (spec §6.3): the ranks as given, and each
/// grade counted from the worst (0) up; plurality questions put none.
pub fn mix_values(questions: &[Question], vote: &[QuestionVote]) -> Vec<u64> {
    let mut row = Vec::new();
    for (q, v) in questions.iter().zip(vote) {
        match v {
            QuestionVote::Ranked(r) if q.counting.is_mixed() => {
                row.extend(r.iter().map(|&x| u64::from(x)));
            }
            QuestionVote::Graded(g) if q.counting.is_mixed() => {
                let top = q.grades.as_ref().map_or(0, Vec::len) as u64;
                row.extend(g.iter().map(|&x| top.saturating_sub(1 + u64::from(x))));
            }
            _ => {}
        }
    }
    row
}

/// A ballot line made in parallel: its bytes, its leaf hash, and the ballot and vote if it counts.
type Made = (
    Vec<u8>,
    crate::merkle::Hash,
    Option<(Ballot, Vec<QuestionVote>)>,
);

/// How to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of voters (credentials), each casting at least one ballot.
    pub voters: usize,
    /// Share of voters who vote a second time, in percent.
    pub revote_percent: u32,
    /// Seed for a reproducible run; `None` draws from the operating system.
    pub seed: Option<u64>,
    /// Ballots made per parallel step.
    pub chunk: usize,
}

/// A phase of the simulation with its duration.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Its name.
    pub name: &'static str,
    /// How long it took.
    pub time: Duration,
    /// What it did.
    pub what: String,
}

/// What a simulation did.
#[derive(Debug, Clone)]
pub struct SimOutcome {
    /// Phases with their times.
    pub phases: Vec<Phase>,
    /// The decrypted result.
    pub result: ElectionResult,
    /// The count of the plaintext votes that the revote rule keeps.
    pub expected: ElectionResult,
    /// Ballots cast, revotes included.
    pub ballots_cast: u64,
    /// The record's tree head.
    pub head: TreeHead,
    /// A few voters' credentials, for trying the election by hand.
    pub sample_credentials: Vec<String>,
}

/// A generator for one simulated party: from the seed and a label, or from the OS.
pub fn rng_for(seed: Option<u64>, label: u64) -> ChaCha {
    match seed {
        Some(s) => ChaCha::seed_from_u64(s.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ label),
        None => ChaCha::from_rng(&mut rand::rng()),
    }
}

/// A random valid vote.
pub fn random_vote(rng: &mut impl Rng, questions: &[Question]) -> Vec<QuestionVote> {
    questions
        .iter()
        .map(|q| {
            if q.blank && rng.random_ratio(1, 20) {
                return QuestionVote::Blank;
            }
            if let Some(grades) = &q.grades {
                let g = grades.len() as u32;
                return QuestionVote::Graded(
                    q.answers.iter().map(|_| rng.random_range(0..g)).collect(),
                );
            }
            let n = rng.random_range(q.min as usize..=q.max as usize);
            let mut answers: Vec<usize> = (0..q.answers.len()).collect();
            for i in 0..n {
                let j = rng.random_range(i..answers.len());
                answers.swap(i, j);
            }
            answers.truncate(n);
            if q.counting.is_ranking() {
                // The first drawn is ranked first.
                let mut ranks = vec![0; q.answers.len()];
                for (r, &a) in answers.iter().enumerate() {
                    ranks[a] = r as u32 + 1;
                }
                return QuestionVote::Ranked(ranks);
            }
            answers.sort_unstable();
            QuestionVote::Selected(answers)
        })
        .collect()
}

/// A result of zero votes for `questions`: what the plaintext count of votes starts from.
pub fn empty_result(questions: &[Question]) -> ElectionResult {
    ElectionResult {
        questions: questions
            .iter()
            .map(|q| QuestionResult {
                // A mixed question has no homomorphic count (spec §8.2).
                counts: match q.counting.is_mixed() {
                    true => Vec::new(),
                    false => vec![0; q.answers.len()],
                },
                blank: q.blank.then_some(0),
                mixed: None,
            })
            .collect(),
    }
}

/// Adds one plaintext vote to a count (the simulation's reference for the decrypted result).
pub fn count(result: &mut ElectionResult, vote: &[QuestionVote]) {
    for (qr, v) in result.questions.iter_mut().zip(vote) {
        match v {
            QuestionVote::Blank => *qr.blank.get_or_insert(0) += 1,
            QuestionVote::Selected(s) => s.iter().for_each(|&a| qr.counts[a] += 1),
            // Ranked and graded questions have no homomorphic count (spec §8.2).
            QuestionVote::Ranked(_) | QuestionVote::Graded(_) => {}
        }
    }
}

fn add_results(a: &mut ElectionResult, b: &ElectionResult) {
    for (qa, qb) in a.questions.iter_mut().zip(&b.questions) {
        qa.counts
            .iter_mut()
            .zip(&qb.counts)
            .for_each(|(x, y)| *x += y);
        if let (Some(x), Some(y)) = (qa.blank.as_mut(), qb.blank) {
            *x += y;
        }
    }
}

/// The casting time of ballot `k` of `total`, spread over the voting period.
fn cast_time(election: &Election, k: u64, total: u64) -> Timestamp {
    let (o, c) = (
        election.manifest().opens_at.unix(),
        election.manifest().closes_at.unix(),
    );
    let span = (c - o - 1).max(0) as u128;
    let t = o + (span * u128::from(k) / u128::from(total.max(1))) as i64;
    Timestamp::from_unix(t).unwrap_or(election.manifest().opens_at)
}

/// The random generator label of the replacement credential of voter `v` (see
/// [`simulate_revoking`]): apart from every other party's labels.
pub fn replacement_label(v: usize) -> u64 {
    (5 << 32) + v as u64
}

/// Runs the election and writes its record to `out`. `progress(phase, done)` reports ballots.
pub fn simulate<W: Write>(
    setup: &Setup,
    cfg: &SimConfig,
    out: W,
    progress: &(dyn Fn(&'static str, u64) + Sync),
) -> io::Result<SimOutcome> {
    simulate_revoking(setup, cfg, 0, out, progress)
}

/// [`simulate`], with the credentials of the first `revoked` voters lost and replaced before
/// voting opens (spec §5.5): once the list is on the record, each of them gets a `revocation`
/// line for the old credential followed by a `credential` line for a new one, drawn with
/// [`rng_for`] and [`replacement_label`], and votes with the new one.
pub fn simulate_revoking<W: Write>(
    setup: &Setup,
    cfg: &SimConfig,
    revoked: usize,
    out: W,
    progress: &(dyn Fn(&'static str, u64) + Sync),
) -> io::Result<SimOutcome> {
    simulate_with(setup, cfg, revoked, &MixPlan::default(), out, progress)
}

/// [`simulate_revoking`], with the mix phase run by `plan` (for elections with ranked or graded
/// questions; ignored otherwise).
pub fn simulate_with<W: Write>(
    setup: &Setup,
    cfg: &SimConfig,
    revoked: usize,
    plan: &MixPlan,
    out: W,
    progress: &(dyn Fn(&'static str, u64) + Sync),
) -> io::Result<SimOutcome> {
    let mut phases = Vec::new();
    let election = &setup.election;
    let questions = &election.manifest().questions;
    let id = election.manifest().id.clone();

    // Credentials: drawn by the credential authority; the record gets the public list.
    let t = Clock::now();
    let revoked = revoked.min(cfg.voters);
    let credential = |v: usize, replaced: bool| {
        let label = if replaced {
            replacement_label(v)
        } else {
            v as u64
        };
        Credential::generate(&mut rng_for(cfg.seed, label))
    };
    let mut keys: Vec<CredentialKey> = (0..cfg.voters)
        .into_par_iter()
        .map(|v| credential(v, false).derive_key(&id))
        .collect();
    let sample_credentials = (0..cfg.voters.min(3))
        .map(|v| credential(v, v < revoked).display().to_string())
        .collect();
    let mut w = RecordWriter::new(io::BufWriter::with_capacity(1 << 20, out))?;
    w.append(&Entry::Manifest(Box::new(election.manifest().clone())))?;
    if let Some(t) = &setup.ceremony {
        // The key-generation ceremony that made the election key, round by round.
        for d in &t.dealings {
            w.append(&Entry::Dealing(Box::new(d.clone())))?;
        }
        for c in &t.complaints {
            w.append(&Entry::Complaint(Box::new(c.clone())))?;
        }
        for a in &t.answers {
            w.append(&Entry::Answer(Box::new(a.clone())))?;
        }
    }
    for k in &keys {
        w.append(&Entry::Credential(CredentialEntry {
            credential: *k.public(),
            weight: 1,
        }))?;
    }
    // Lost credentials, replaced after the list was sealed and before voting opens.
    for (v, key) in keys.iter_mut().enumerate().take(revoked) {
        let new = credential(v, true).derive_key(&id);
        w.append(&Entry::Revocation(Revocation {
            credential: *key.public(),
        }))?;
        w.append(&Entry::Credential(CredentialEntry {
            credential: *new.public(),
            weight: 1,
        }))?;
        *key = new;
    }
    w.append(&Entry::Open(Instant {
        at: election.manifest().opens_at,
    }))?;
    phases.push(Phase {
        name: "setup",
        time: t.elapsed(),
        what: format!(
            "{} credentials ({revoked} revoked and replaced), manifest {}",
            keys.len(),
            election.fingerprint()
        ),
    });

    // Who votes twice is decided up front, so the tally can skip replaced ballots as it goes.
    let revotes: Vec<bool> = (0..cfg.voters)
        .map(|v| rng_for(cfg.seed, (3 << 32) + v as u64).random_ratio(cfg.revote_percent, 100))
        .collect();
    let rounds: [Vec<usize>; 2] = [
        (0..cfg.voters).collect(),
        (0..cfg.voters).filter(|&v| revotes[v]).collect(),
    ];
    let total = (rounds[0].len() + rounds[1].len()) as u64;

    let t = Clock::now();
    let mut tally = TallyAccumulator::new(election);
    let mut expected = empty_result(questions);
    let mixed = width(election.manifest()) > 0;
    // The mix input (the counted ballots' rows, in record order) and the votes' plaintext rows.
    let mut mix_input: Vec<Vec<Ciphertext>> = Vec::new();
    let mut mix_votes: Vec<Vec<u64>> = Vec::new();
    let mut cast = 0u64;
    for (round, voters) in rounds.iter().enumerate() {
        for chunk in voters.chunks(cfg.chunk.max(1)) {
            let first_seq = w.size();
            // Each voter, on their own device: encrypt, prove, sign. A ballot counts unless its
            // voter will vote again.
            let made: Vec<Made> = chunk
                .par_iter()
                .enumerate()
                .map(|(i, &v)| {
                    let mut rng = rng_for(cfg.seed, ((1 + round as u64) << 32) + v as u64);
                    let vote = random_vote(&mut rng, questions);
                    let ballot = Ballot::create(&mut rng, election, &keys[v], &vote)
                        .expect("valid simulated vote");
                    let cast_at = cast_time(election, cast + i as u64, total);
                    let entry = Entry::Ballot(Box::new(BallotEntry {
                        cast_at,
                        tracker: ballot.tracker(),
                        ballot,
                    }));
                    let (line, leaf) = encode_line(first_seq + i as u64, &entry);
                    let Entry::Ballot(entry) = entry else {
                        unreachable!("built as a ballot")
                    };
                    let counts = round == 1 || !revotes[v];
                    (line, leaf, counts.then_some((entry.ballot, vote)))
                })
                .collect();
            for (line, leaf, counted) in &made {
                w.append_encoded(line, *leaf)?;
                if let (true, Some((ballot, vote))) = (mixed, counted) {
                    let row = mix_row(election.manifest(), ballot)
                        .ok_or_else(|| io::Error::other("a simulated ballot without its rows"))?;
                    mix_input.push(row);
                    mix_votes.push(mix_values(questions, vote));
                }
            }
            let (acc, votes) = made
                .par_chunks(256)
                .map(|part| {
                    let mut acc = TallyAccumulator::new(election);
                    let mut votes = empty_result(questions);
                    for (ballot, vote) in part.iter().filter_map(|m| m.2.as_ref()) {
                        acc.add(ballot, 1);
                        count(&mut votes, vote);
                    }
                    (acc, votes)
                })
                .reduce_with(|(mut a, mut va), (b, vb)| {
                    a.merge(&b);
                    add_results(&mut va, &vb);
                    (a, va)
                })
                .expect("chunks are not empty");
            tally.merge(&acc);
            add_results(&mut expected, &votes);
            cast += chunk.len() as u64;
            progress("voting", cast);
        }
    }
    let per_sec = cast as f64 / t.elapsed().as_secs_f64();
    phases.push(Phase {
        name: "voting",
        time: t.elapsed(),
        what: format!("{cast} ballots encrypted, proved, signed and recorded ({per_sec:.0}/s)"),
    });
    w.append(&Entry::Close(Instant {
        at: election.manifest().closes_at,
    }))?;

    // Tally: the sum of the counted ballots, without decrypting any.
    let t = Clock::now();
    let encrypted = tally.finish();
    w.append(&Entry::Tally(Box::new(TallyEntry {
        ballots: tally.ballots(),
        total_weight: tally.total_weight(),
        tally: encrypted.clone(),
    })))?;
    phases.push(Phase {
        name: "tally",
        time: t.elapsed(),
        what: format!(
            "{} ballots counted after revotes (summed as ballots arrived)",
            tally.ballots()
        ),
    });

    // Decryption: each trustee's factors with proofs, checked before use.
    let t = Clock::now();
    // Under threshold sharing only `threshold` trustees take part: the last ones, so that the
    // first is absent, as trustees sometimes are.
    let partials: Vec<_> = if setup.shares.is_empty() {
        setup
            .trustees
            .par_iter()
            .enumerate()
            .map(|(i, k)| {
                k.decrypt_tally(
                    &mut rng_for(cfg.seed, (4 << 32) + i as u64),
                    election,
                    i as u32 + 1,
                    &encrypted,
                )
            })
            .collect()
    } else {
        let t = election.manifest().threshold as usize;
        setup.shares[setup.shares.len() - t..]
            .par_iter()
            .map(|s| {
                s.decrypt_tally(
                    &mut rng_for(cfg.seed, (4 << 32) + u64::from(s.index())),
                    election,
                    &encrypted,
                )
                .ok_or_else(|| io::Error::other("no verification key for a trustee"))
            })
            .collect::<io::Result<_>>()?
    };
    for pd in &partials {
        vartime_verify_partial(&mut rand::rng(), election, &encrypted, pd)
            .map_err(io::Error::other)?;
        w.append(&Entry::PartialDecryption(Box::new(pd.clone())))?;
    }
    phases.push(Phase {
        name: "decryption",
        time: t.elapsed(),
        what: format!("{} trustees' factors, proofs checked", partials.len()),
    });

    // The mix phase: shuffles, decryption of the last list, the decrypted rows.
    let mut mixed_results = vec![None; questions.len()];
    if !mix_input.is_empty() {
        let t = Clock::now();
        let rows = mix_input.len();
        let out = mix_lines(setup, cfg.seed, plan, mix_input)?;
        for line in &out.lines {
            w.append(line)?;
        }
        mixed_results = out.results;
        for (e, r) in expected
            .questions
            .iter_mut()
            .zip(count_mixed(election.manifest(), &mix_votes).map_err(io::Error::other)?)
        {
            e.mixed = r;
        }
        phases.push(Phase {
            name: "mix",
            time: t.elapsed(),
            what: format!(
                "{rows} ballots of {} mixed questions shuffled, decrypted and counted",
                mixed_questions(election.manifest()).count()
            ),
        });
    }

    let t = Clock::now();
    let mut result = decrypt_result(election, &encrypted, &partials, tally.total_weight())
        .map_err(io::Error::other)?;
    for (q, m) in result.questions.iter_mut().zip(mixed_results) {
        q.mixed = m;
    }
    w.append(&Entry::Result(Box::new(result.clone())))?;
    let (_, head) = w.finish()?;
    phases.push(Phase {
        name: "result",
        time: t.elapsed(),
        what: "counts recovered, record written".into(),
    });
    progress("done", cast);
    Ok(SimOutcome {
        phases,
        result,
        expected,
        ballots_cast: cast,
        head,
        sample_credentials,
    })
}
