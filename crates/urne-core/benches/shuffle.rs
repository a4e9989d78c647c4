//! Benchmarks of the verifiable shuffle (spec §8.7), labelled by ballots × ciphertexts per ballot.
//!
//! Run: `cargo bench -p urne-core --bench shuffle` (add `-- <filter>` for one group). The figure
//! for 100,000 ballots comes from `cargo run --release -p urne-core --example shuffle_bench --
//! 100000 5`; both are in docs/performance.md with the machine they come from.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use curve25519_dalek::ristretto::RistrettoPoint;
use urne_core::elgamal::{Ciphertext, ElectionKey};
use urne_core::group::{Point, random_scalar};
use urne_core::proofs::shuffle::{prove_shuffle, shuffle, vartime_verify_shuffle};

/// (ballots N, ciphertexts per ballot w).
const SIZES: [(usize, usize); 4] = [(100, 1), (100, 5), (1000, 1), (1000, 5)];

fn shuffles(c: &mut Criterion) {
    let mut rng = rand::rng();
    let key = ElectionKey::new(Point::from_element(RistrettoPoint::mul_base(
        &random_scalar(&mut rng),
    )))
    .expect("a random key is not the identity");
    let fp = [1u8; 32];
    let mut g = c.benchmark_group("shuffle");
    g.sample_size(10);
    for (n, w) in SIZES {
        let label = format!("{n}x{w}");
        let inputs: Vec<Vec<Ciphertext>> = (0..n)
            .map(|j| {
                (0..w)
                    .map(|k| {
                        Ciphertext::encrypt(&key, (j + k) as u64 % 2, &random_scalar(&mut rng))
                    })
                    .collect()
            })
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("shuffle", &label), |b| {
            b.iter(|| shuffle(&mut rng, &key, &inputs).expect("well-formed inputs"))
        });
        let (outputs, witness) = shuffle(&mut rng, &key, &inputs).expect("well-formed inputs");
        g.bench_function(BenchmarkId::new("prove", &label), |b| {
            b.iter(|| {
                prove_shuffle(&mut rng, &fp, &key, &inputs, &outputs, &witness)
                    .expect("matching witness")
            })
        });
        let proof = prove_shuffle(&mut rng, &fp, &key, &inputs, &outputs, &witness)
            .expect("matching witness");
        g.bench_function(BenchmarkId::new("verify", &label), |b| {
            b.iter(|| {
                vartime_verify_shuffle(&mut rng, &fp, &key, &inputs, &outputs, &proof)
                    .expect("honest proof")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, shuffles);
criterion_main!(benches);
