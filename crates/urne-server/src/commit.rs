//! Group commit: ballots that arrive together are checked together and written in one
//! transaction, so a server under load pays one fsync per batch rather than one per ballot.
//!
//! Two stages run as tasks per open election. The checker takes every pending ballot (up to the
//! configured batch), verifies them in one batch (`urne_verify::batch`, with bisection to name a
//! bad ballot) on the blocking pool, answers the bad ones at once, and hands the rest to the
//! writer. The writer appends them to the board in one store transaction and only then answers
//! each with its acknowledgement: an acknowledged ballot is durably stored. While the writer
//! waits for the disk, the checker already verifies the next batch.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use urne_board::{Append, Item, ItemOutcome, Phase, Store};
use urne_core::ballot::{Ballot, Tracker};
use urne_core::board::{BoardKey, SignedTreeHead};
use urne_core::group::b64_encode;
use urne_core::manifest::{RevotePolicy, Timestamp};
use urne_verify::batch::vartime_check_ballots;

use crate::error::{ApiError, ApiResult};
use crate::live::Live;
use crate::metrics::Metrics;

/// A ballot waiting to be committed.
#[derive(Debug)]
pub struct Pending {
    /// The ballot, parsed.
    pub ballot: Ballot,
    /// Its tracker.
    pub tracker: Tracker,
    /// Its canonical JSON.
    pub json: String,
    /// When it arrived.
    pub arrived: Instant,
    /// The logged-in voter who cast it, when the election has logins: linked to the ballot's
    /// credential once the ballot passes its checks, and marked as having voted once it is
    /// stored.
    pub voter: Option<String>,
    /// Where the answer goes.
    pub reply: oneshot::Sender<ApiResult<Ack>>,
}

/// The acknowledgement of a ballot: it is on the board, durably.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ack {
    /// The ballot's tracker (base64url), to find it on the board.
    pub tracker: String,
    /// Its position on the board.
    pub seq: u64,
    /// Whether it had been submitted before (this acknowledges the earlier submission).
    pub duplicate: bool,
    /// The board's size after the ballot was written.
    pub board_size: u64,
    /// The board's Merkle root at that size (base64url).
    pub board_root: String,
    /// The server's signed tree head of that size and root (docs/record.md §4.4): the voter's
    /// receipt. With an inclusion proof of `seq` at `board_size`, it proves that the server
    /// put this ballot on the board; a later board without it would be inconsistent with a
    /// head the server signed.
    #[schema(value_type = Object)]
    pub receipt: SignedTreeHead,
}

/// The tasks' shared context.
#[derive(Debug, Clone)]
pub struct Committer {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Most ballots per batch.
    pub max_batch: usize,
    /// The key that signs the receipts' tree heads.
    pub board_key: BoardKey,
}

/// Starts the two stages for an election; returns the sender ballots go to.
pub fn start(
    ctx: Committer,
    live: std::sync::Weak<Live>,
    capacity: usize,
) -> mpsc::Sender<Pending> {
    let (tx, rx) = mpsc::channel::<Pending>(capacity);
    let (to_writer, from_checker) = mpsc::channel::<Vec<Pending>>(2);
    tokio::spawn(check_stage(ctx.clone(), live.clone(), rx, to_writer));
    tokio::spawn(write_stage(ctx, live, from_checker));
    tx
}

async fn check_stage(
    ctx: Committer,
    live: std::sync::Weak<Live>,
    mut rx: mpsc::Receiver<Pending>,
    to_writer: mpsc::Sender<Vec<Pending>>,
) {
    let mut buf = Vec::with_capacity(ctx.max_batch);
    while rx.recv_many(&mut buf, ctx.max_batch).await > 0 {
        let batch = std::mem::take(&mut buf);
        let Some(live) = live.upgrade() else { return };
        let store = ctx.store.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let refs: Vec<&Ballot> = batch.iter().map(|p| &p.ballot).collect();
            let mut results: Vec<Option<ApiError>> = vartime_check_ballots(&live.election, &refs)
                .into_iter()
                .map(|r| {
                    r.map(|e| {
                        let code = if e.check.id() == "V-6" {
                            "wrong_election"
                        } else {
                            "invalid_ballot"
                        };
                        ApiError::verify(code, &e)
                    })
                })
                .collect();
            // The signatures proved that the logged-in voters hold their ballots' credentials:
            // link them, all in one transaction.
            let to_link: Vec<usize> = (0..batch.len())
                .filter(|&i| results[i].is_none() && batch[i].voter.is_some())
                .collect();
            if !to_link.is_empty() {
                let links: Vec<(&str, [u8; 32])> = to_link
                    .iter()
                    .map(|&i| {
                        let p = &batch[i];
                        (
                            p.voter.as_deref().unwrap_or_default(),
                            *p.ballot.credential.as_bytes(),
                        )
                    })
                    .collect();
                let linked = crate::voters::link_all(store.as_ref(), &live.id, &links);
                for (&i, r) in to_link.iter().zip(linked) {
                    results[i] = r.err();
                }
            }
            (batch, results)
        })
        .await;
        let Ok((batch, results)) = checked else {
            tracing::error!("ballot check task failed");
            continue;
        };
        let mut good = Vec::with_capacity(batch.len());
        for (p, r) in batch.into_iter().zip(results) {
            match r {
                None => good.push(p),
                Some(e) => {
                    ctx.metrics.reject(e.code);
                    let _ = p.reply.send(Err(e));
                }
            }
        }
        if !good.is_empty() && to_writer.send(good).await.is_err() {
            return;
        }
    }
}

async fn write_stage(
    ctx: Committer,
    live: std::sync::Weak<Live>,
    mut rx: mpsc::Receiver<Vec<Pending>>,
) {
    while let Some(mut batch) = rx.recv().await {
        // Group commit: the batches checked while the previous one was being written go into
        // this transaction too, so that a slow disk makes batches larger, not queues longer.
        while batch.len() < ctx.max_batch {
            match rx.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        let Some(live) = live.upgrade() else { return };
        let fingerprint = (
            *live.election.fingerprint(),
            live.election.manifest().opens_at,
        );
        let store = ctx.store.clone();
        let written = tokio::task::spawn_blocking(move || {
            let r = write_batch(store.as_ref(), &live, &batch);
            (batch, r)
        })
        .await;
        let Ok((batch, result)) = written else {
            tracing::error!("ballot write task failed");
            continue;
        };
        ctx.metrics.batch_size.observe(batch.len() as f64);
        match result {
            Err(e) => {
                let e = match e {
                    urne_board::StoreError::WrongPhase { actual, .. } => ApiError::conflict(
                        if actual > Phase::Open {
                            "election_closed"
                        } else {
                            "election_not_open"
                        },
                        format!("the election is {actual}: ballots are not accepted"),
                    ),
                    e => ApiError::from(e),
                };
                for p in batch {
                    ctx.metrics.reject(e.code);
                    let _ = p.reply.send(Err(e.clone()));
                }
            }
            Ok(appended) => {
                let root = b64_encode(&appended.root);
                let at = Timestamp::from_unix(appended.at).unwrap_or(fingerprint.1);
                let receipt = ctx.board_key.sign_tree_head(
                    &mut rand::rng(),
                    &fingerprint.0,
                    appended.size,
                    appended.root,
                    at,
                );
                for (p, outcome) in batch.into_iter().zip(appended.items) {
                    let ack = |seq, duplicate| Ack {
                        tracker: p.tracker.to_string(),
                        seq,
                        duplicate,
                        board_size: appended.size,
                        board_root: root.clone(),
                        receipt,
                    };
                    let answer = match outcome {
                        ItemOutcome::Appended { seq } => {
                            ctx.metrics.accepted.inc();
                            Ok(ack(seq, false))
                        }
                        ItemOutcome::Duplicate { seq } => {
                            ctx.metrics.duplicates.inc();
                            Ok(ack(seq, true))
                        }
                        ItemOutcome::CredentialUsed { seq } => {
                            ctx.metrics.reject("credential_used");
                            Err(ApiError::conflict(
                                "credential_used",
                                format!(
                                    "this election accepts one ballot per credential, and this \
                                     credential's ballot is at position {seq}"
                                ),
                            ))
                        }
                    };
                    ctx.metrics
                        .cast_latency
                        .observe(p.arrived.elapsed().as_secs_f64());
                    let _ = p.reply.send(answer);
                }
            }
        }
    }
}

/// Appends a batch of checked ballots in one transaction.
fn write_batch(
    store: &dyn Store,
    live: &Live,
    batch: &[Pending],
) -> Result<urne_board::Appended, urne_board::StoreError> {
    let manifest = live.election.manifest();
    let items: Vec<Item> = batch
        .iter()
        .map(|p| Item {
            tracker: Some(p.tracker.0),
            credential: Some(*p.ballot.credential.as_bytes()),
        })
        .collect();
    // A ballot that arrived in time is stamped at the latest with the closing time, so that a
    // batch written just after it never carries a casting time outside the voting period.
    let now = crate::clock::now().min(manifest.closes_at.unix());
    let encode = |i: usize, seq: u64, at: i64| ballot_line(seq, at, &batch[i]);
    let appended = store.append(
        &live.id,
        &Append {
            expect: &[Phase::Open],
            set_phase: None,
            now,
            items: &items,
            unique_credentials: manifest.revote == RevotePolicy::Forbidden,
            expect_size: None,
            encode: &encode,
        },
    )?;
    let voted: Vec<&str> = batch
        .iter()
        .zip(&appended.items)
        .filter(|(_, o)| !matches!(o, ItemOutcome::CredentialUsed { .. }))
        .filter_map(|(p, _)| p.voter.as_deref())
        .collect();
    if !voted.is_empty() {
        // The ballots are stored whatever happens here; the list of who voted is the
        // administrators' information, and a failure to update it is logged, not answered.
        if let Err(e) = store.mark_voted(&live.id, &voted, crate::clock::now()) {
            tracing::error!(election = %live.id, error = %e, "marking voters as having voted");
        }
    }
    Ok(appended)
}

/// The board line of a ballot, byte for byte what `urne_verify::record::encode_line` makes of a
/// `ballot` entry, built around the ballot's canonical JSON made before the transaction.
fn ballot_line(seq: u64, at: i64, p: &Pending) -> Vec<u8> {
    let at = Timestamp::from_unix(at).map_or_else(String::new, |t| t.to_string());
    format!(
        "{{\"seq\":{seq},\"type\":\"ballot\",\"cast_at\":\"{at}\",\"tracker\":\"{}\",\"ballot\":{}}}",
        p.tracker, p.json
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use urne_core::ballot::QuestionVote;
    use urne_core::credential::Credential;
    use urne_core::testkit::{ElectionBuilder, rng_from_seed};
    use urne_verify::record::{BallotEntry, Entry, encode_line};

    use super::*;

    #[test]
    fn ballot_lines_are_the_canonical_record_lines() {
        let mut rng = rng_from_seed(3);
        let setup = ElectionBuilder::single_question("line-test", 3, 1, 2).build(&mut rng);
        let key = Credential::generate(&mut rng).derive_key("line-test");
        let vote = [QuestionVote::Selected(vec![0, 2])];
        let ballot = Ballot::create(&mut rng, &setup.election, &key, &vote).unwrap();
        let (reply, _) = oneshot::channel();
        let p = Pending {
            tracker: ballot.tracker(),
            json: ballot.to_json(),
            ballot: ballot.clone(),
            arrived: Instant::now(),
            voter: None,
            reply,
        };
        let at = 1_780_000_000;
        let entry = Entry::Ballot(Box::new(BallotEntry {
            cast_at: Timestamp::from_unix(at).unwrap(),
            tracker: ballot.tracker(),
            ballot,
        }));
        assert_eq!(ballot_line(42, at, &p), encode_line(42, &entry).0);
    }
}
