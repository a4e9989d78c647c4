//! Benchmarks of the verifier's stages on a 1-of-5 ballot, and of whole records.
//!
//! Run: `cargo bench -p urne-verify --bench verify`. The 1,000,000-ballot figure comes from
//! `scripts/bench-verify.sh`; see docs/performance.md.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::io::Cursor;
use urne_core::msm::Msm;
use urne_core::testkit::ElectionBuilder;
use urne_verify::record::{Entry, parse_line};
use urne_verify::simulate::{SimConfig, rng_for, simulate};
use urne_verify::{Options, verify};

fn record(voters: usize) -> (urne_core::testkit::Setup, Vec<u8>) {
    let setup = ElectionBuilder::single_question("bench", 5, 1, 1)
        .trustees(3)
        .build(&mut rng_for(Some(1), 0));
    let cfg = SimConfig {
        voters,
        revote_percent: 0,
        seed: Some(1),
        chunk: 1024,
    };
    let mut bytes = Vec::new();
    simulate(&setup, &cfg, &mut bytes, &|_, _| {}).expect("simulated");
    (setup, bytes)
}

fn stages(c: &mut Criterion) {
    let (setup, bytes) = record(1024);
    let e = &setup.election;
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| l.windows(8).any(|w| w == b"\"ballot\""))
        .collect();
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse-line-1-of-5", |b| {
        b.iter(|| parse_line(1, lines[7]).expect("parses"))
    });
    let Entry::Ballot(entry) = parse_line(1, lines[7]).expect("parses").entry else {
        unreachable!()
    };
    let mut rng = rand::rng();
    g.bench_function("tracker-1-of-5", |b| b.iter(|| entry.ballot.tracker()));
    g.bench_function("collect-1-of-5", |b| {
        b.iter(|| {
            let mut msm = Msm::with_capacity(40);
            entry
                .ballot
                .vartime_collect(&mut rng, e, &mut msm)
                .expect("valid");
            msm
        })
    });
    g.finish();

    let mut g = c.benchmark_group("batch-msm");
    let ballots: Vec<_> = lines
        .iter()
        .map(|l| match parse_line(1, l).expect("parses").entry {
            Entry::Ballot(b) => b.ballot,
            _ => unreachable!(),
        })
        .collect();
    for n in [1usize, 16, 64, 256, 1024] {
        let mut msm = Msm::default();
        for b in &ballots[..n] {
            b.vartime_collect(&mut rng, e, &mut msm).expect("valid");
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("ballots", n), |b| {
            b.iter(|| assert!(msm.vartime_is_identity(e.key().point().element())))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("record");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1024));
    g.bench_function("verify-1024-1-of-5", |b| {
        b.iter(|| {
            let r = verify(Cursor::new(&bytes), &Options::default(), &|_| {}).expect("reads");
            assert!(r.valid);
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
