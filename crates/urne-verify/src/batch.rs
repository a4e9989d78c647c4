//! Batch verification of ballots for a server: the same multiscalar check the verifier runs over
//! a record (spec §9), on the ballots of one group commit, with bisection to name the bad ones.

use rayon::prelude::*;
use urne_core::ballot::Ballot;
use urne_core::election::Election;
use urne_core::error::VerifyError;
use urne_core::msm::Msm;

/// Ballots per multiscalar multiplication; each runs on one core.
const GROUP: usize = 64;

/// Checks V-5, V-6, V-8, V-9 and V-10 of every ballot (V-7, membership of the credential, is
/// the caller's). Returns one entry per ballot: `None` if it verifies, else why not. Groups of
/// ballots are checked in parallel, each in one multiscalar multiplication; a failing group is
/// halved until the faulty ballots are found and diagnosed one by one.
pub fn vartime_check_ballots(election: &Election, ballots: &[&Ballot]) -> Vec<Option<VerifyError>> {
    let mut out: Vec<Option<VerifyError>> = vec![None; ballots.len()];
    out.par_chunks_mut(GROUP)
        .zip(ballots.par_chunks(GROUP))
        .for_each_init(rand::rng, |rng, (results, group)| {
            let members: Vec<usize> = (0..group.len()).collect();
            check_group(election, group, &members, results, rng);
        });
    out
}

fn check_group<R: rand::CryptoRng>(
    election: &Election,
    ballots: &[&Ballot],
    members: &[usize],
    results: &mut [Option<VerifyError>],
    rng: &mut R,
) {
    let mut msm = Msm::with_capacity(members.len() * 64);
    let mut collected = Vec::with_capacity(members.len());
    for &i in members {
        match ballots[i].vartime_collect(rng, election, &mut msm) {
            Ok(()) => collected.push(i),
            Err(e) => results[i] = Some(e),
        }
    }
    if collected.is_empty() || msm.vartime_is_identity(election.key().point().element()) {
        return;
    }
    drop(msm);
    if let [i] = collected[..] {
        results[i] = Some(ballots[i].vartime_diagnose(rng, election));
        return;
    }
    let (left, right) = collected.split_at(collected.len() / 2);
    check_group(election, ballots, left, results, rng);
    check_group(election, ballots, right, results, rng);
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use urne_core::ballot::QuestionVote;
    use urne_core::credential::Credential;
    use urne_core::testkit::{ElectionBuilder, rng_from_seed};

    use super::*;

    #[test]
    fn names_exactly_the_bad_ballots_of_a_batch() {
        let mut rng = rng_from_seed(7);
        let setup = ElectionBuilder::single_question("batch-test", 3, 1, 1).build(&mut rng);
        let e = &setup.election;
        let mut ballots: Vec<Ballot> = (0..150)
            .map(|i| {
                let key = Credential::generate(&mut rng).derive_key("batch-test");
                let vote = [QuestionVote::Selected(vec![i % 3])];
                Ballot::create(&mut rng, e, &key, &vote).unwrap()
            })
            .collect();
        // Ballot 5: a proof's response changed; ballot 97: the signature of another ballot.
        ballots[5].answers[0].count_proof = ballots[6].answers[0].count_proof.clone();
        ballots[97].signature = ballots[98].signature;
        let refs: Vec<&Ballot> = ballots.iter().collect();
        let results = vartime_check_ballots(e, &refs);
        let bad: Vec<usize> = (0..results.len())
            .filter(|&i| results[i].is_some())
            .collect();
        assert_eq!(bad, [5, 97]);
        assert_eq!(results[97].as_ref().unwrap().item, "signature");
    }
}
