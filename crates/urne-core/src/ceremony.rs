//! The key-generation ceremony: its public messages and how anyone judges them.
//!
//! Every trustee has a long-term identity key, listed with a proof of knowledge in the
//! manifest's trustee list. The ceremony has three rounds, every message signed by its sender's
//! identity key and relayed by the server into the public record:
//!
//! 1. **Dealing.** Each trustee i publishes Feldman commitments to a random polynomial of degree
//!    t − 1, a proof of knowledge of its constant term, and one encrypted share for each trustee
//!    (crate::dkg, crate::dkg_transport).
//! 2. **Complaints.** A trustee whose share does not decrypt or does not match the commitments
//!    publishes a verifiable complaint.
//! 3. **Answers.** A dealer facing a justified complaint publishes that share in the clear.
//!
//! [`vartime_judge_ceremony`] is the public judgement, the same for every trustee and observer:
//! a dealer is disqualified for a malformed or unsigned dealing, a bad proof of knowledge, or a
//! justified complaint left without a valid answer. The election key and the verification keys
//! follow from the qualified dealers' commitments. [`TrusteeKey::assemble_share`] gives a trustee
//! its own share of the joint key from the same transcript.
//!
//! Spec: docs/spec.md §8.5.5 (messages and their signatures), §8.5.6 (public judgement),
//! §8.5.7 (a trustee's share).

use std::collections::{BTreeMap, BTreeSet};

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::dkg::{FeldmanCommitment, Polynomial, Share, ThresholdError, ThresholdKeys};
use crate::dkg_transport::{
    Complaint, EncryptedShare, ShareContext, ShareError, Verdict, vartime_check_answer,
};
use crate::group::{Point, scalar_b64};
use crate::hash::{ItemHasher, tags};
use crate::proofs::schnorr::SchnorrProof;
use crate::trustee::TrusteeKey;

/// Round 1: a dealer's commitments, proof and encrypted shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dealing {
    /// The dealer's trustee index, from 1.
    pub dealer: u32,
    /// Commitments to the dealer's coefficients (t points).
    pub commitment: FeldmanCommitment,
    /// Proof of knowledge of the constant term.
    pub coefficient_proof: SchnorrProof,
    /// The share of trustee j at position j − 1, encrypted to j's identity key.
    pub shares: Vec<EncryptedShare>,
    /// The dealer's signature with its identity key.
    pub signature: SchnorrProof,
}

/// Round 2: a complaint about the share a dealer sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintMessage {
    /// The complaining trustee (the share's recipient).
    pub accuser: u32,
    /// The dealer complained about.
    pub dealer: u32,
    /// The revealed KEM point and its proof.
    pub complaint: Complaint,
    /// The accuser's signature with its identity key.
    pub signature: SchnorrProof,
}

/// Round 3: a dealer's answer to a complaint, the share in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The dealer answering.
    pub dealer: u32,
    /// The trustee who complained.
    pub accuser: u32,
    /// The share f_dealer(accuser).
    #[serde(with = "scalar_b64")]
    pub share: Scalar,
    /// The dealer's signature with its identity key.
    pub signature: SchnorrProof,
}

/// The public messages of a key-generation ceremony, round by round, as the record holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Round 1.
    pub dealings: Vec<Dealing>,
    /// Round 2.
    pub complaints: Vec<ComplaintMessage>,
    /// Round 3.
    pub answers: Vec<Answer>,
}

/// Why a dealer was disqualified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disqualification {
    /// No dealing signed by the dealer.
    NoDealing,
    /// Two different dealings, both signed by the dealer.
    Equivocation,
    /// Commitments for another threshold, or not one share per trustee.
    Shape,
    /// The proof of knowledge of the constant term fails.
    CoefficientProof,
    /// A justified complaint by this trustee, with no valid answer.
    Unanswered(u32),
}

/// A message that is ignored, and why (it does not affect who is qualified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// A dealing, complaint or answer whose signature fails, or that names unknown trustees.
    Invalid {
        /// Who sent it (claimed).
        from: u32,
        /// What kind of message.
        kind: &'static str,
    },
    /// A complaint whose proof fails or whose share was in fact valid: the accuser was wrong.
    UnjustifiedComplaint {
        /// The accuser.
        accuser: u32,
        /// The dealer.
        dealer: u32,
    },
}

/// The public outcome of a ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyOutcome {
    /// Qualified dealers, in index order.
    pub qualified: Vec<u32>,
    /// Disqualified dealers with the reason.
    pub disqualified: BTreeMap<u32, Disqualification>,
    /// Messages set aside.
    pub ignored: Vec<Ignored>,
    /// The election key and each trustee's verification key.
    pub keys: ThresholdKeys,
}

/// Why a ceremony has no outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CeremonyError {
    /// The threshold does not fit the number of trustees.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    /// Every dealer was disqualified.
    #[error("no dealer is qualified")]
    NoQualifiedDealer,
    /// A trustee could not obtain a valid share from a qualified dealer.
    #[error("no valid share from qualified dealer {0}")]
    MissingShare(u32),
    /// A share read from the transcript does not decrypt or match.
    #[error(transparent)]
    Share(#[from] ShareError),
}

fn dealing_prefix(election_id: &str, signer: &Point, d: &Dealing) -> ItemHasher {
    let mut h = ItemHasher::new(tags::DKG_DEALING);
    h.str(election_id)
        .point(signer)
        .u64(d.dealer.into())
        .len(d.commitment.coefficients.len());
    for c in &d.commitment.coefficients {
        h.point(c);
    }
    d.coefficient_proof.hash_into(&mut h);
    h.len(d.shares.len());
    for s in &d.shares {
        h.point(&s.ephemeral).bytes(&s.ciphertext);
    }
    h
}

fn complaint_prefix(election_id: &str, signer: &Point, m: &ComplaintMessage) -> ItemHasher {
    let mut h = ItemHasher::new(tags::DKG_COMPLAINT);
    h.str(election_id)
        .point(signer)
        .u64(m.accuser.into())
        .u64(m.dealer.into());
    h.point(&m.complaint.shared)
        .point(&m.complaint.proof.a)
        .point(&m.complaint.proof.b)
        .scalar(&m.complaint.proof.z);
    h
}

fn answer_prefix(election_id: &str, signer: &Point, a: &Answer) -> ItemHasher {
    let mut h = ItemHasher::new(tags::DKG_ANSWER);
    h.str(election_id)
        .point(signer)
        .u64(a.dealer.into())
        .u64(a.accuser.into())
        .scalar(&a.share);
    h
}

impl TrusteeKey {
    /// Round 1 for trustee `dealer`: a fresh polynomial, its commitments and proof, one share
    /// encrypted to each identity key, signed. Returns the polynomial too, which the dealer keeps
    /// secret until the ceremony ends, to answer complaints.
    pub fn deal<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election_id: &str,
        dealer: u32,
        threshold: u32,
        identities: &[Point],
    ) -> (Dealing, Polynomial) {
        let poly = Polynomial::random(rng, threshold);
        let commitment = poly.commit();
        let coefficient_proof = poly.prove_constant_term(rng, election_id, dealer, &commitment);
        let shares = identities
            .iter()
            .enumerate()
            .map(|(j, id)| {
                let recipient = j as u32 + 1;
                let ctx = ShareContext {
                    election_id,
                    dealer,
                    recipient,
                };
                EncryptedShare::seal(rng, &poly.share(recipient), id, &ctx)
            })
            .collect();
        let mut d = Dealing {
            dealer,
            commitment,
            coefficient_proof,
            shares,
            signature: SchnorrProof {
                r: Point::identity(),
                s: Scalar::ZERO,
            },
        };
        d.signature = SchnorrProof::prove(
            rng,
            self.secret(),
            dealing_prefix(election_id, self.public(), &d),
        );
        (d, poly)
    }

    /// Round 2 for trustee `me`: a signed complaint about every dealing, signed by its dealer,
    /// whose share for `me` does not decrypt or does not match its commitments. Dealings not
    /// signed by their dealer are not the dealer's and are left to the public judgement.
    pub fn complaints<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election_id: &str,
        me: u32,
        identities: &[Point],
        dealings: &[Dealing],
    ) -> Vec<ComplaintMessage> {
        let mut out = Vec::new();
        if me == 0 {
            return out;
        }
        for d in dealings.iter().filter(|d| d.dealer != me) {
            let Some(dealer_key) = (d.dealer as usize)
                .checked_sub(1)
                .and_then(|i| identities.get(i))
            else {
                continue;
            };
            if d.signature
                .vartime_verify(dealer_key, dealing_prefix(election_id, dealer_key, d))
                .is_err()
            {
                continue;
            }
            let Some(share) = d.shares.get(me as usize - 1) else {
                continue;
            };
            let ctx = ShareContext {
                election_id,
                dealer: d.dealer,
                recipient: me,
            };
            if share.open(self, &ctx, &d.commitment).is_err() {
                let mut m = ComplaintMessage {
                    accuser: me,
                    dealer: d.dealer,
                    complaint: share.complain(rng, self, &ctx),
                    signature: SchnorrProof {
                        r: Point::identity(),
                        s: Scalar::ZERO,
                    },
                };
                m.signature = SchnorrProof::prove(
                    rng,
                    self.secret(),
                    complaint_prefix(election_id, self.public(), &m),
                );
                out.push(m);
            }
        }
        out
    }

    /// Round 3 for dealer `dealer`: a signed answer to every complaint against it.
    pub fn answers<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election_id: &str,
        dealer: u32,
        poly: &Polynomial,
        complaints: &[ComplaintMessage],
    ) -> Vec<Answer> {
        complaints
            .iter()
            .filter(|c| c.dealer == dealer)
            .map(|c| {
                let mut a = Answer {
                    dealer,
                    accuser: c.accuser,
                    share: *poly.share(c.accuser).secret(),
                    signature: SchnorrProof {
                        r: Point::identity(),
                        s: Scalar::ZERO,
                    },
                };
                a.signature = SchnorrProof::prove(
                    rng,
                    self.secret(),
                    answer_prefix(election_id, self.public(), &a),
                );
                a
            })
            .collect()
    }

    /// Trustee `me`'s share of the joint key: the sum of the shares of every qualified dealer,
    /// each read from its dealing (the one signed by the dealer) or, after a complaint, from the
    /// dealer's answer. The result is checked against `me`'s verification key.
    pub fn assemble_share(
        &self,
        election_id: &str,
        me: u32,
        identities: &[Point],
        outcome: &CeremonyOutcome,
        dealings: &[Dealing],
        answers: &[Answer],
    ) -> Result<Share, CeremonyError> {
        if me == 0 {
            return Err(CeremonyError::MissingShare(me));
        }
        let mut parts = Vec::with_capacity(outcome.qualified.len());
        for &i in &outcome.qualified {
            let key = identities
                .get(i as usize - 1)
                .ok_or(CeremonyError::MissingShare(i))?;
            let d = dealings
                .iter()
                .find(|d| {
                    d.dealer == i
                        && d.signature
                            .vartime_verify(key, dealing_prefix(election_id, key, d))
                            .is_ok()
                })
                .ok_or(CeremonyError::MissingShare(i))?;
            let ctx = ShareContext {
                election_id,
                dealer: i,
                recipient: me,
            };
            let from_dealing = d
                .shares
                .get(me as usize - 1)
                .map(|s| s.open(self, &ctx, &d.commitment));
            let share = match from_dealing {
                Some(Ok(s)) => s,
                _ => answers
                    .iter()
                    .find(|a| {
                        a.dealer == i
                            && a.accuser == me
                            && vartime_check_answer(&d.commitment, me, &a.share)
                    })
                    .map(|a| Share::from_parts(me, a.share))
                    .ok_or(CeremonyError::MissingShare(i))?,
            };
            parts.push(share);
        }
        let share = Share::sum(&parts).ok_or(CeremonyError::NoQualifiedDealer)?;
        let vk = outcome
            .keys
            .verification_keys
            .get(me as usize - 1)
            .ok_or(CeremonyError::MissingShare(me))?;
        if Point::from_element(curve25519_dalek::RistrettoPoint::mul_base(share.secret())) != *vk {
            return Err(CeremonyError::MissingShare(me));
        }
        Ok(share)
    }
}

/// Judges a ceremony from its public transcript: for `identities` (trustee j's identity key at
/// position j − 1) and threshold t. Every observer computes the same outcome.
pub fn vartime_judge_ceremony(
    election_id: &str,
    threshold: u32,
    identities: &[Point],
    dealings: &[Dealing],
    complaints: &[ComplaintMessage],
    answers: &[Answer],
) -> Result<CeremonyOutcome, CeremonyError> {
    let n = identities.len() as u32;
    if threshold == 0 || threshold > n {
        return Err(ThresholdError::Threshold {
            threshold,
            trustees: n,
        }
        .into());
    }
    let known = |i: u32| i >= 1 && i <= n;
    let mut disqualified = BTreeMap::new();
    let mut ignored = Vec::new();
    let mut valid: BTreeMap<u32, &Dealing> = BTreeMap::new();
    // Only a dealing signed by its dealer speaks for it: anyone relaying or appending messages
    // could forge the others, so they are set aside and never count against the dealer.
    let mut signed: BTreeMap<u32, Vec<&Dealing>> = BTreeMap::new();
    for d in dealings {
        let ok = known(d.dealer)
            && d.signature
                .vartime_verify(
                    &identities[d.dealer as usize - 1],
                    dealing_prefix(election_id, &identities[d.dealer as usize - 1], d),
                )
                .is_ok();
        if ok {
            let list = signed.entry(d.dealer).or_default();
            if !list.contains(&d) {
                list.push(d);
            }
        } else {
            ignored.push(Ignored::Invalid {
                from: d.dealer,
                kind: "dealing",
            });
        }
    }
    for i in 1..=n {
        let mine = signed.remove(&i).unwrap_or_default();
        let d = match mine[..] {
            [d] => d,
            [] => {
                disqualified.insert(i, Disqualification::NoDealing);
                continue;
            }
            _ => {
                // Two different dealings, both signed: the dealer equivocated.
                disqualified.insert(i, Disqualification::Equivocation);
                continue;
            }
        };
        let reason = if d.commitment.threshold() != threshold || d.shares.len() != n as usize {
            Some(Disqualification::Shape)
        } else if d
            .commitment
            .vartime_verify_constant_term(election_id, i, &d.coefficient_proof)
            .is_err()
        {
            Some(Disqualification::CoefficientProof)
        } else {
            None
        };
        match reason {
            Some(r) => {
                disqualified.insert(i, r);
            }
            None => {
                valid.insert(i, d);
            }
        }
    }
    let mut justified: BTreeSet<(u32, u32)> = BTreeSet::new();
    for m in complaints {
        let ok = known(m.accuser) && m.accuser != m.dealer && valid.contains_key(&m.dealer);
        let id = ok.then(|| &identities[m.accuser as usize - 1]);
        if !id.is_some_and(|id| {
            m.signature
                .vartime_verify(id, complaint_prefix(election_id, id, m))
                .is_ok()
        }) {
            ignored.push(Ignored::Invalid {
                from: m.accuser,
                kind: "complaint",
            });
            continue;
        }
        let d = valid[&m.dealer];
        let ctx = ShareContext {
            election_id,
            dealer: m.dealer,
            recipient: m.accuser,
        };
        let recipient_key = &identities[m.accuser as usize - 1];
        let share = &d.shares[m.accuser as usize - 1];
        match m
            .complaint
            .vartime_judge(&ctx, recipient_key, share, &d.commitment)
        {
            Ok(Verdict::Justified) => {
                justified.insert((m.dealer, m.accuser));
            }
            _ => ignored.push(Ignored::UnjustifiedComplaint {
                accuser: m.accuser,
                dealer: m.dealer,
            }),
        }
    }
    let mut answered: BTreeSet<(u32, u32)> = BTreeSet::new();
    for a in answers {
        let signed = known(a.dealer)
            && a.signature
                .vartime_verify(
                    &identities[a.dealer as usize - 1],
                    answer_prefix(election_id, &identities[a.dealer as usize - 1], a),
                )
                .is_ok();
        match (signed, valid.get(&a.dealer)) {
            (true, Some(d)) if vartime_check_answer(&d.commitment, a.accuser, &a.share) => {
                answered.insert((a.dealer, a.accuser));
            }
            (true, Some(_)) => {}
            _ => ignored.push(Ignored::Invalid {
                from: a.dealer,
                kind: "answer",
            }),
        }
    }
    for &(dealer, accuser) in &justified {
        if !answered.contains(&(dealer, accuser)) && valid.remove(&dealer).is_some() {
            disqualified.insert(dealer, Disqualification::Unanswered(accuser));
        }
    }
    if valid.is_empty() {
        return Err(CeremonyError::NoQualifiedDealer);
    }
    let commitments: Vec<&FeldmanCommitment> = valid.values().map(|d| &d.commitment).collect();
    let keys = ThresholdKeys::vartime_from_commitments(&commitments, n)?;
    Ok(CeremonyOutcome {
        qualified: valid.keys().copied().collect(),
        disqualified,
        ignored,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkg::vartime_combine_factors;
    use crate::elgamal::{Ciphertext, ElectionKey};
    use crate::group::random_scalar;
    use crate::testkit::rng_from_seed;

    const ID: &str = "ceremony";

    struct Run {
        keys: Vec<TrusteeKey>,
        identities: Vec<Point>,
        dealings: Vec<Dealing>,
        polys: Vec<Polynomial>,
    }

    fn start(t: u32, n: u32, seed: u64) -> Run {
        let mut rng = rng_from_seed(seed);
        let keys: Vec<TrusteeKey> = (0..n).map(|_| TrusteeKey::generate(&mut rng)).collect();
        let identities: Vec<Point> = keys.iter().map(|k| *k.public()).collect();
        let (dealings, polys) = keys
            .iter()
            .enumerate()
            .map(|(i, k)| k.deal(&mut rng, ID, i as u32 + 1, t, &identities))
            .unzip();
        Run {
            keys,
            identities,
            dealings,
            polys,
        }
    }

    /// Complaints from everyone, answers from the dealers listed in `answering`.
    fn finish(run: &Run, t: u32, answering: &[u32], seed: u64) -> (CeremonyOutcome, Vec<Answer>) {
        let mut rng = rng_from_seed(seed);
        let complaints: Vec<ComplaintMessage> = run
            .keys
            .iter()
            .enumerate()
            .flat_map(|(j, k)| {
                k.complaints(&mut rng, ID, j as u32 + 1, &run.identities, &run.dealings)
            })
            .collect();
        let answers: Vec<Answer> = answering
            .iter()
            .flat_map(|&i| {
                run.keys[i as usize - 1].answers(
                    &mut rng,
                    ID,
                    i,
                    &run.polys[i as usize - 1],
                    &complaints,
                )
            })
            .collect();
        let outcome =
            vartime_judge_ceremony(ID, t, &run.identities, &run.dealings, &complaints, &answers)
                .unwrap();
        (outcome, answers)
    }

    /// Decrypts with the trustees in `set`, each assembling its share from the transcript and
    /// proving its factor.
    fn decrypt(
        run: &Run,
        outcome: &CeremonyOutcome,
        answers: &[Answer],
        set: &[u32],
        m: u64,
    ) -> bool {
        let mut rng = rng_from_seed(77);
        let key = ElectionKey::new(outcome.keys.election_key).unwrap();
        let ct = Ciphertext::encrypt(&key, m, &random_scalar(&mut rng));
        let fp = [3u8; 32];
        let factors: Vec<(u32, Point)> = set
            .iter()
            .map(|&j| {
                let share = run.keys[j as usize - 1]
                    .assemble_share(ID, j, &run.identities, outcome, &run.dealings, answers)
                    .unwrap();
                let vk = &outcome.keys.verification_keys[j as usize - 1];
                let f = share.decryption_factor(&mut rng, &fp, vk, &ct);
                f.vartime_verify(&mut rng, &fp, vk, &ct).unwrap();
                (j, f.factor)
            })
            .collect();
        let refs: Vec<(u32, &Point)> = factors.iter().map(|(j, d)| (*j, d)).collect();
        let n = run.keys.len() as u32;
        let s_alpha = vartime_combine_factors(&refs, outcome.keys.threshold, n).unwrap();
        ct.beta.element() - s_alpha == curve25519_dalek::RistrettoPoint::mul_base(&Scalar::from(m))
    }

    #[test]
    fn honest_ceremonies_of_1_of_1_2_of_3_and_3_of_5() {
        for (t, n) in [(1u32, 1u32), (2, 3), (3, 5)] {
            let run = start(t, n, u64::from(t * 10 + n));
            let (outcome, answers) = finish(&run, t, &[], 1);
            assert_eq!(outcome.qualified, (1..=n).collect::<Vec<_>>());
            assert!(outcome.disqualified.is_empty() && outcome.ignored.is_empty());
            let all: Vec<u32> = (1..=n).collect();
            assert!(decrypt(&run, &outcome, &answers, &all, 9));
            assert!(decrypt(
                &run,
                &outcome,
                &answers,
                &all[n as usize - t as usize..],
                9
            ));
        }
    }

    /// Dealer 2 encrypts a wrong share for trustee 3.
    fn with_bad_share(seed: u64) -> Run {
        let mut run = start(2, 3, seed);
        let mut rng = rng_from_seed(seed + 1);
        let ctx = ShareContext {
            election_id: ID,
            dealer: 2,
            recipient: 3,
        };
        run.dealings[1].shares[2] =
            EncryptedShare::seal(&mut rng, &run.polys[1].share(1), &run.identities[2], &ctx);
        let d = run.dealings[1].clone();
        run.dealings[1].signature = SchnorrProof::prove(
            &mut rng,
            run.keys[1].secret(),
            dealing_prefix(ID, run.keys[1].public(), &d),
        );
        run
    }

    #[test]
    fn bad_share_answered_keeps_the_dealer() {
        let run = with_bad_share(40);
        let (outcome, answers) = finish(&run, 2, &[2], 2);
        assert_eq!(outcome.qualified, vec![1, 2, 3]);
        assert!(decrypt(&run, &outcome, &answers, &[2, 3], 4));
    }

    #[test]
    fn bad_share_unanswered_disqualifies_the_dealer_and_the_others_finish() {
        let run = with_bad_share(50);
        let (outcome, answers) = finish(&run, 2, &[], 3);
        assert_eq!(outcome.qualified, vec![1, 3]);
        assert_eq!(outcome.disqualified[&2], Disqualification::Unanswered(3));
        assert!(decrypt(&run, &outcome, &answers, &[1, 3], 5));
        assert!(
            decrypt(&run, &outcome, &answers, &[2, 3], 5),
            "a disqualified dealer still holds a share"
        );
    }

    #[test]
    fn bad_coefficient_proof_or_signature_disqualifies() {
        let mut run = start(2, 3, 60);
        run.dealings[0].coefficient_proof = run.dealings[1].coefficient_proof;
        let mut rng = rng_from_seed(61);
        let d = run.dealings[0].clone();
        run.dealings[0].signature = SchnorrProof::prove(
            &mut rng,
            run.keys[0].secret(),
            dealing_prefix(ID, run.keys[0].public(), &d),
        );
        run.dealings[2].signature.s += Scalar::ONE;
        let (outcome, answers) = finish(&run, 2, &[], 4);
        assert_eq!(outcome.qualified, vec![2]);
        assert_eq!(outcome.disqualified[&1], Disqualification::CoefficientProof);
        assert_eq!(outcome.disqualified[&3], Disqualification::NoDealing);
        assert!(outcome.ignored.contains(&Ignored::Invalid {
            from: 3,
            kind: "dealing"
        }));
        assert!(decrypt(&run, &outcome, &answers, &[1, 3], 6));
    }

    #[test]
    fn false_complaint_is_set_aside() {
        let run = start(2, 3, 70);
        let mut rng = rng_from_seed(71);
        // Trustee 3 complains about dealer 1 although its share is fine.
        let ctx = ShareContext {
            election_id: ID,
            dealer: 1,
            recipient: 3,
        };
        let mut m = ComplaintMessage {
            accuser: 3,
            dealer: 1,
            complaint: run.dealings[0].shares[2].complain(&mut rng, &run.keys[2], &ctx),
            signature: SchnorrProof {
                r: Point::identity(),
                s: Scalar::ZERO,
            },
        };
        m.signature = SchnorrProof::prove(
            &mut rng,
            run.keys[2].secret(),
            complaint_prefix(ID, run.keys[2].public(), &m),
        );
        let outcome =
            vartime_judge_ceremony(ID, 2, &run.identities, &run.dealings, &[m], &[]).unwrap();
        assert_eq!(outcome.qualified, vec![1, 2, 3]);
        assert_eq!(
            outcome.ignored,
            vec![Ignored::UnjustifiedComplaint {
                accuser: 3,
                dealer: 1
            }]
        );
    }

    #[test]
    fn wrong_decryption_factor_is_detected_and_replaced() {
        let run = start(2, 3, 80);
        let (outcome, answers) = finish(&run, 2, &[], 5);
        let mut rng = rng_from_seed(81);
        let key = ElectionKey::new(outcome.keys.election_key).unwrap();
        let ct = Ciphertext::encrypt(&key, 12, &random_scalar(&mut rng));
        let fp = [4u8; 32];
        let share = |j: u32| {
            run.keys[j as usize - 1]
                .assemble_share(ID, j, &run.identities, &outcome, &run.dealings, &answers)
                .unwrap()
        };
        let vk = |j: u32| outcome.keys.verification_keys[j as usize - 1];
        // Trustee 1 publishes trustee 2's factor as its own: its proof fails against V₁.
        let f2 = share(2).decryption_factor(&mut rng, &fp, &vk(2), &ct);
        assert!(f2.vartime_verify(&mut rng, &fp, &vk(1), &ct).is_err());
        // Trustee 3 steps in: {2, 3} decrypt.
        assert!(decrypt(&run, &outcome, &answers, &[2, 3], 12));
    }

    #[test]
    fn forged_or_replayed_dealings_do_not_disqualify_an_honest_dealer() {
        let mut run = start(2, 3, 90);
        // A replay of dealer 1's dealing, and a forgery in dealer 2's name, are appended.
        let replay = run.dealings[0].clone();
        let mut forged = run.dealings[1].clone();
        forged.shares.swap(0, 1);
        run.dealings.insert(0, forged);
        run.dealings.push(replay);
        let (outcome, answers) = finish(&run, 2, &[], 6);
        assert_eq!(outcome.qualified, vec![1, 2, 3]);
        assert_eq!(
            outcome.ignored,
            vec![Ignored::Invalid {
                from: 2,
                kind: "dealing"
            }]
        );
        assert!(decrypt(&run, &outcome, &answers, &[1, 2], 7));
    }

    #[test]
    fn two_different_signed_dealings_are_equivocation() {
        let mut run = start(2, 3, 100);
        let mut rng = rng_from_seed(101);
        let (second, _) = run.keys[2].deal(&mut rng, ID, 3, 2, &run.identities);
        run.dealings.push(second);
        let (outcome, _) = finish(&run, 2, &[], 8);
        assert_eq!(outcome.qualified, vec![1, 2]);
        assert_eq!(outcome.disqualified[&3], Disqualification::Equivocation);
    }
}
