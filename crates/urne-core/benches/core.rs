//! Benchmarks of the protocol core, labelled by ballot shape and size.
//!
//! Run: `cargo bench -p urne-core --bench core` (add `-- <filter>` for one group). Figures and the
//! machine they come from are in docs/performance.md.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::credential::Credential;
use urne_core::tally::{TallyAccumulator, vartime_verify_partial};
use urne_core::testkit::{ElectionBuilder, rng_from_seed};

/// Ballot shapes: (label, answers, min, max, selected answers).
const SHAPES: [(&str, usize, u32, u32, &[usize]); 2] =
    [("1-of-5", 5, 1, 1, &[2]), ("3-of-10", 10, 3, 3, &[1, 4, 8])];

fn ballots(c: &mut Criterion) {
    let mut g = c.benchmark_group("ballot");
    for (label, answers, min, max, selected) in SHAPES {
        let mut rng = rng_from_seed(1);
        let setup = ElectionBuilder::single_question("bench", answers, min, max)
            .trustees(3)
            .build(&mut rng);
        let key = Credential::generate(&mut rng).derive_key("bench");
        let vote = [QuestionVote::Selected(selected.to_vec())];
        g.bench_function(BenchmarkId::new("create", label), |b| {
            b.iter(|| Ballot::create(&mut rng, &setup.election, &key, &vote).expect("valid vote"))
        });
        let ballot = Ballot::create(&mut rng, &setup.election, &key, &vote).expect("valid vote");
        g.bench_function(BenchmarkId::new("verify", label), |b| {
            b.iter(|| {
                ballot
                    .vartime_verify(&mut rng, &setup.election)
                    .expect("valid ballot")
            })
        });
        let json = ballot.to_json();
        g.bench_function(BenchmarkId::new("parse+verify", label), |b| {
            b.iter(|| {
                Ballot::from_json(&json)
                    .expect("parses")
                    .vartime_verify(&mut rng, &setup.election)
                    .expect("valid")
            })
        });
    }
    g.finish();
}

fn decryption(c: &mut Criterion) {
    let mut rng = rng_from_seed(2);
    let setup = ElectionBuilder::single_question("bench", 5, 1, 1)
        .trustees(1)
        .build(&mut rng);
    let trustee = &setup.trustees[0];
    let key = Credential::generate(&mut rng).derive_key("bench");
    let ballot = Ballot::create(
        &mut rng,
        &setup.election,
        &key,
        &[QuestionVote::Selected(vec![1])],
    )
    .expect("valid");
    let mut acc = TallyAccumulator::new(&setup.election);
    acc.add(&ballot, 1);
    let tally = acc.finish();
    let ct = tally.questions[0].choices[1];
    let fp = setup.election.fingerprint().0;
    let mut g = c.benchmark_group("decryption");
    g.bench_function("factor+proof-x5", |b| {
        b.iter(|| trustee.decrypt_tally(&mut rng, &setup.election, 1, &tally))
    });
    let pd = trustee.decrypt_tally(&mut rng, &setup.election, 1, &tally);
    g.bench_function("verify-factor", |b| {
        b.iter(|| {
            pd.factors[1]
                .vartime_verify(&mut rng, &fp, trustee.public(), &ct)
                .expect("valid")
        })
    });
    g.bench_function("verify-partial-5-factors", |b| {
        b.iter(|| vartime_verify_partial(&mut rng, &setup.election, &tally, &pd).expect("valid"))
    });
    g.finish();
}

fn tally(c: &mut Criterion) {
    let mut rng = rng_from_seed(3);
    let setup = ElectionBuilder::single_question("bench", 5, 1, 1)
        .trustees(1)
        .build(&mut rng);
    let key = Credential::generate(&mut rng).derive_key("bench");
    let mut g = c.benchmark_group("tally");
    g.sample_size(10);
    for n in [1_000usize, 10_000] {
        let ballots: Vec<Ballot> = (0..n)
            .map(|i| {
                Ballot::create(
                    &mut rng,
                    &setup.election,
                    &key,
                    &[QuestionVote::Selected(vec![i % 5])],
                )
                .expect("valid")
            })
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("1-of-5", n), |b| {
            b.iter(|| {
                let mut acc = TallyAccumulator::new(&setup.election);
                for ballot in &ballots {
                    acc.add(ballot, 1);
                }
                acc.finish()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, ballots, decryption, tally);
criterion_main!(benches, primitive_benches);

/// The unbatchable costs of verification: decoding points and hashing.
fn primitives(c: &mut Criterion) {
    use curve25519_dalek::ristretto::RistrettoPoint;
    use urne_core::group::{Point, random_scalar};
    let mut rng = rng_from_seed(4);
    let p = Point::from_element(RistrettoPoint::mul_base(&random_scalar(&mut rng)));
    let bytes = *p.as_bytes();
    let mut g = c.benchmark_group("primitive");
    g.bench_function("point-decode", |b| {
        b.iter(|| Point::decode(&bytes).expect("valid"))
    });
    g.bench_function("point-encode", |b| {
        b.iter(|| Point::from_element(*p.element()))
    });
    let s = random_scalar(&mut rng);
    g.bench_function("mul-base", |b| b.iter(|| RistrettoPoint::mul_base(&s)));
    let line = vec![7u8; 2600];
    g.bench_function("hash-2600-bytes", |b| {
        b.iter(|| {
            let mut h = urne_core::hash::ItemHasher::new("bench");
            h.bytes(&line);
            h.digest()
        })
    });
    g.finish();
}

criterion_group!(primitive_benches, primitives);
