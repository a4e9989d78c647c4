//! Prometheus metrics: ballots accepted and rejected (by reason), the latency of casting a
//! ballot from arrival to durable acknowledgement, and the size of group commits.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of the rejection counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// The API error code.
    pub reason: String,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Ballots durably stored.
    pub accepted: Counter,
    /// Resubmitted ballots answered with their earlier acknowledgement.
    pub duplicates: Counter,
    /// Ballots refused, by reason.
    pub rejected: Family<Reason, Counter>,
    /// Seconds from a ballot's arrival to its acknowledgement.
    pub cast_latency: Histogram,
    /// Ballots per group commit.
    pub batch_size: Histogram,
    /// Attempts to send mail, by outcome (`sent`, `queued` for a retry, `failed`, `bounced`).
    pub mail: Family<Outcome, Counter>,
}

/// Labels of the mail counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// What became of the attempt.
    pub outcome: String,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("urne");
        let accepted = Counter::default();
        let duplicates = Counter::default();
        let rejected = Family::<Reason, Counter>::default();
        let cast_latency = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        registry.register(
            "ballots_accepted",
            "Ballots checked and durably stored",
            accepted.clone(),
        );
        registry.register(
            "ballots_duplicate",
            "Ballots submitted again, answered with their first acknowledgement",
            duplicates.clone(),
        );
        registry.register(
            "ballots_rejected",
            "Ballots refused, by reason",
            rejected.clone(),
        );
        registry.register(
            "ballot_cast_seconds",
            "Time from a ballot's arrival to its durable acknowledgement",
            cast_latency.clone(),
        );
        registry.register(
            "group_commit_ballots",
            "Ballots written per group commit",
            batch_size.clone(),
        );
        let mail = Family::<Outcome, Counter>::default();
        registry.register(
            "mail_attempts",
            "Attempts to send mail to voters, by outcome",
            mail.clone(),
        );
        Metrics {
            registry,
            mail,
            accepted,
            duplicates,
            rejected,
            cast_latency,
            batch_size,
        }
    }
}

impl Metrics {
    /// Counts a rejected ballot.
    pub fn reject(&self, code: &str) {
        self.rejected
            .get_or_create(&Reason {
                reason: code.to_owned(),
            })
            .inc();
    }

    /// Counts an attempt to send a mail.
    pub fn mail(&self, outcome: &str) {
        self.mail
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
