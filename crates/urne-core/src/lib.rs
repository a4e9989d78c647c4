//! urne-core: the protocol objects of urne, an end-to-end verifiable online voting system.
//!
//! This crate implements docs/spec.md: the group (ristretto255), hashing, the election manifest
//! and its fingerprint, exponential ElGamal, the zero-knowledge proofs, credentials, ballots, the
//! homomorphic tally and its decryption. It is pure: no I/O, no async, no global state. Secrets
//! are zeroized and never printed; code on secrets is constant-time, and functions that are not
//! are named `vartime_*` and only take public data.
//!
//! ```
//! use urne_core::testkit::{ElectionBuilder, rng_from_seed};
//! use urne_core::ballot::{Ballot, QuestionVote};
//! use urne_core::credential::Credential;
//!
//! let mut rng = rng_from_seed(1);
//! let setup = ElectionBuilder::single_question("demo", 5, 1, 1).trustees(2).build(&mut rng);
//! let credential = Credential::generate(&mut rng);
//! let key = credential.derive_key(&setup.election.manifest().id);
//! let ballot = Ballot::create(&mut rng, &setup.election, &key, &[QuestionVote::Selected(vec![3])]).unwrap();
//! let tracker = ballot.vartime_verify(&mut rng, &setup.election).unwrap();
//! assert_eq!(tracker, ballot.tracker());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ballot;
pub mod board;
pub mod ceremony;
pub mod count;
pub mod credential;
pub mod dkg;
pub mod dkg_transport;
pub mod election;
pub mod elgamal;
pub mod error;
#[cfg(feature = "testkit")]
pub mod fuzzing;
pub mod group;
pub mod hash;
pub mod manifest;
pub mod mix;
pub mod msm;
pub mod proofs;
pub mod tally;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod trustee;

pub use curve25519_dalek::scalar::Scalar;
