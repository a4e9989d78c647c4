//! Times one trustee's verifiable shuffle of N ballots of w ciphertexts (spec §8.7): the shuffle,
//! its proof, the proof's JSON size, and the verification.
//!
//! Run: `cargo run --release -p urne-core --example shuffle_bench -- 100000 5` (N and w default to
//! 1000 and 5). The dev-dependencies enable the `parallel` feature, so every phase uses all
//! cores. Figures are in docs/performance.md.

use std::time::Instant;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;
use urne_core::elgamal::{Ciphertext, ElectionKey};
use urne_core::group::{G, Point, random_scalar};
use urne_core::proofs::shuffle::{prove_shuffle, shuffle, vartime_verify_shuffle};

fn arg(i: usize, default: usize) -> Result<usize, String> {
    match std::env::args().nth(i) {
        None => Ok(default),
        Some(a) => a
            .parse()
            .map_err(|_| format!("argument {i} must be a positive integer, found `{a}`")),
    }
}

/// This process's CPU time (user + system) in seconds, from /proc/self/stat (Linux; USER_HZ is
/// 100 there), or NaN elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which may hold spaces) start with field 3, the state;
    // utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    match (
        f.get(11).and_then(|x| x.parse::<f64>().ok()),
        f.get(12).and_then(|x| x.parse::<f64>().ok()),
    ) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => f64::NAN,
    }
}

/// Runs `f`, printing its wall and CPU time under `label`; returns its result and wall time.
fn timed<T>(label: &str, f: impl FnOnce() -> T) -> (T, f64) {
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let out = f();
    let wall = t.elapsed().as_secs_f64();
    println!(
        "{label:<15} {wall:8.3} s  (cpu {:.2} s)",
        cpu_seconds() - cpu
    );
    (out, wall)
}

fn main() -> Result<(), String> {
    let n = arg(1, 1000)?;
    let w = arg(2, 5)?;
    let mut rng = rand::rng();
    let s = random_scalar(&mut rng);
    let key = ElectionKey::new(Point::from_element(RistrettoPoint::mul_base(&s)))
        .map_err(|e| e.to_string())?;
    let fp = [1u8; 32];

    // One-of-w ballots (ballot j selects candidate j mod w), first with randomness zero, then
    // re-encrypted by a first shuffle so that they are ordinary ciphertexts.
    println!("{n} ballots x {w} ciphertexts");
    let one = Ciphertext::from_parts(RistrettoPoint::identity(), G);
    let zero = Ciphertext::from_parts(RistrettoPoint::identity(), RistrettoPoint::identity());
    let plain: Vec<Vec<Ciphertext>> = (0..n)
        .map(|j| {
            (0..w)
                .map(|k| if j % w == k { one } else { zero })
                .collect()
        })
        .collect();
    let (inputs, _) = timed("encrypt inputs", || shuffle(&mut rng, &key, &plain));
    let (inputs, _) = inputs.map_err(|e| e.to_string())?;

    let (shuffled, t_shuffle) = timed("shuffle", || shuffle(&mut rng, &key, &inputs));
    let (outputs, witness) = shuffled.map_err(|e| e.to_string())?;
    let (proof, t_prove) = timed("prove", || {
        prove_shuffle(&mut rng, &fp, &key, &inputs, &outputs, &witness)
    });
    let proof = proof.map_err(|e| e.to_string())?;
    println!("shuffle+prove   {:8.3} s", t_shuffle + t_prove);

    let json = serde_json::to_string(&proof).map_err(|e| e.to_string())?;
    println!("proof JSON      {:8.1} MB", json.len() as f64 / 1e6);

    let (verified, _) = timed("verify", || {
        vartime_verify_shuffle(&mut rng, &fp, &key, &inputs, &outputs, &proof)
    });
    verified.map_err(|e| e.to_string())?;
    Ok(())
}
