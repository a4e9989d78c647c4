//! urne-verify: the universal verifier of urne election records.
//!
//! Anyone can check a whole election from its public record, without trusting the server: this
//! crate reads a record (docs/record.md) line by line and runs every check of the spec's V-list
//! (docs/spec.md §10), batching the proofs of many ballots into a few large multiscalar
//! multiplications over every core. It depends on urne-core only.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
#[cfg(feature = "testkit")]
pub mod fuzzing;
pub mod merkle;
mod mix;
pub mod record;
#[cfg(feature = "testkit")]
pub mod simulate;
pub mod since;
pub mod verifier;

pub use since::{SinceReport, verify_since};
pub use verifier::{
    CheckStatus, Failure, MixState, MixSummary, Options, RecordError, Report, Status, Verification,
    Verifier, verify, verify_with_state,
};
