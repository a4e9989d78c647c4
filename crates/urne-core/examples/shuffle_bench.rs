//! Times one trustee's verifiable shuffle of N ballots of w ciphertexts (spec §8.7): the shuffle,
//! its proof, the proof's JSON size, and the verification.
//!
//! Run: `cargo run --release -p urne-core --example shuffle_bench -- 100000 5` (N and w default to
//! 1000 and 5). The dev-dependencies enable the `parallel` feature, so every phase uses all
//! cores. Figures are in docs/performance.md.

use std::time::Instant;

use curve25519_dalek::ristretto::RistrettoPoint;
use urne_core::elgamal::{Ciphertext, ElectionKey};
use urne_core::group::{Point, random_scalar};
use urne_core::proofs::shuffle::{prove_shuffle, shuffle, vartime_verify_shuffle};

fn arg(i: usize, default: usize) -> Result<usize, String> {
    match std::env::args().nth(i) {
        None => Ok(default),
        Some(a) => a
            .parse()
            .map_err(|_| format!("argument {i} must be a positive integer, found `{a}`")),
    }
}

fn main() -> Result<(), String> {
    let n = arg(1, 1000)?;
    let w = arg(2, 5)?;
    let mut rng = rand::rng();
    let s = random_scalar(&mut rng);
    let key = ElectionKey::new(Point::from_element(RistrettoPoint::mul_base(&s)))
        .map_err(|e| e.to_string())?;
    let fp = [1u8; 32];

    let t = Instant::now();
    // One-of-w ballots: ballot j selects candidate j mod w.
    let inputs: Vec<Vec<Ciphertext>> = (0..n)
        .map(|j| {
            (0..w)
                .map(|k| Ciphertext::encrypt(&key, u64::from(j % w == k), &random_scalar(&mut rng)))
                .collect()
        })
        .collect();
    println!(
        "encrypt inputs  {:8.3} s  ({n} ballots x {w} ciphertexts)",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let (outputs, witness) = shuffle(&mut rng, &key, &inputs).map_err(|e| e.to_string())?;
    let shuffled = t.elapsed().as_secs_f64();
    println!("shuffle         {shuffled:8.3} s");

    let t = Instant::now();
    let proof = prove_shuffle(&mut rng, &fp, &key, &inputs, &outputs, &witness)
        .map_err(|e| e.to_string())?;
    let proved = t.elapsed().as_secs_f64();
    println!("prove           {proved:8.3} s");
    println!("shuffle+prove   {:8.3} s", shuffled + proved);

    let json = serde_json::to_string(&proof).map_err(|e| e.to_string())?;
    println!("proof JSON      {:8.1} MB", json.len() as f64 / 1e6);

    let t = Instant::now();
    vartime_verify_shuffle(&mut rng, &fp, &key, &inputs, &outputs, &proof)
        .map_err(|e| e.to_string())?;
    println!("verify          {:8.3} s", t.elapsed().as_secs_f64());
    Ok(())
}
