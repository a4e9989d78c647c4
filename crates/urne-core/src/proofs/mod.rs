//! Zero-knowledge proofs, all non-interactive by strong Fiat–Shamir: each challenge hashes the
//! election fingerprint, the whole statement and the prover's commitments (spec §3.2). Proofs
//! carry their commitments, so verifiers recompute challenges from bytes and fold the equations
//! of many proofs into one multiscalar multiplication ([`crate::msm`]).
//!
//! - [`disjunctive`]: ciphertexts encrypt one of several allowed plaintext tuples
//!   (Cramer–Damgård–Schoenmakers OR-composition of Chaum–Pedersen proofs).
//! - [`schnorr`]: knowledge of a discrete logarithm; as a signature on ballots and as the
//!   trustees' key proofs.
//! - [`decryption`]: a decryption factor is correct (Chaum–Pedersen equality of discrete logs).
//! - [`dleq`]: equality of two discrete logarithms, for the key ceremony's complaints.
//! - [`shuffle`]: a list of ciphertext vectors was re-encrypted and permuted
//!   (Terelius–Wikström, for the mix phase of ranked and graded questions).

pub mod decryption;
pub mod disjunctive;
pub mod dleq;
pub mod schnorr;
pub mod shuffle;

use crate::error::DecodeError;

/// Why a proof does not verify (before any check id is attached by the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof's shape does not match its statement (number of branches or of ciphertexts).
    #[error("proof has {found} {what}, the statement needs {expected}")]
    Shape {
        /// What was counted.
        what: &'static str,
        /// The number the statement requires.
        expected: usize,
        /// The number in the proof.
        found: usize,
    },
    /// The branch challenges do not add up to the Fiat–Shamir challenge.
    #[error("branch challenges do not add up to the Fiat–Shamir challenge")]
    ChallengeSum,
    /// The verification equations do not hold.
    #[error("verification equations do not hold")]
    Equation,
    /// A statement element is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}
