//! Verification equations gathered into one variable-time multiscalar multiplication.
//!
//! Every proof urne checks reduces to equations of the form Σ sᵢ·Pᵢ = 0 over public points. A
//! verifier draws an independent random 128-bit weight ρ for each equation and checks the single
//! equation Σ ρ·(Σ sᵢ·Pᵢ) = 0. Terms on the generator G and on the election key Y are folded into
//! one scalar each, and a point shared by several equations (a ciphertext) appears once, with the
//! sum of its coefficients. If any equation is false, the combination is zero with probability at
//! most 2^-128 over the choice of one weight (spec §9).
//!
//! Everything here is public data, so the multiplication is variable-time.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};

use crate::group::{G, Point};

/// Index of a point in an [`Msm`], so several equations can add to its coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term(usize);

/// A state of an [`Msm`] to roll back to.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint {
    len: usize,
    g: Scalar,
    y: Scalar,
}

/// A growing linear combination Σ sᵢ·Pᵢ + g·G + y·Y, to be checked against the identity.
#[derive(Debug, Clone, Default)]
pub struct Msm {
    g: Scalar,
    y: Scalar,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
}

impl Msm {
    /// An empty combination with room for `n` points.
    pub fn with_capacity(n: usize) -> Self {
        Msm {
            g: Scalar::ZERO,
            y: Scalar::ZERO,
            scalars: Vec::with_capacity(n),
            points: Vec::with_capacity(n),
        }
    }

    /// Adds `p` with coefficient zero and returns its index.
    pub fn term(&mut self, p: &Point) -> Term {
        self.points.push(*p.element());
        self.scalars.push(Scalar::ZERO);
        Term(self.points.len() - 1)
    }

    /// Adds `s` to the coefficient of a term.
    pub fn add(&mut self, t: Term, s: Scalar) {
        self.scalars[t.0] += s;
    }

    /// Adds a new point with coefficient `s`.
    pub fn push(&mut self, s: Scalar, p: &Point) {
        self.points.push(*p.element());
        self.scalars.push(s);
    }

    /// Adds `s` to the coefficient of the generator G.
    pub fn add_g(&mut self, s: Scalar) {
        self.g += s;
    }

    /// Adds `s` to the coefficient of the election key Y.
    pub fn add_y(&mut self, s: Scalar) {
        self.y += s;
    }

    /// Number of points (besides G and Y) in the combination.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the combination has no points besides G and Y.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Marks the current state, to [`Msm::rollback`] to if what follows must be undone.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            len: self.points.len(),
            g: self.g,
            y: self.y,
        }
    }

    /// Removes every term added since `cp` and restores the G and Y coefficients. Exact as long
    /// as the terms added since `cp` were the only ones changed, which holds for a ballot's
    /// equations: they only add to their own terms.
    pub fn rollback(&mut self, cp: Checkpoint) {
        self.points.truncate(cp.len);
        self.scalars.truncate(cp.len);
        self.g = cp.g;
        self.y = cp.y;
    }

    /// Whether the combination is the identity, given the election key `y_point`.
    /// Variable time: only for public data.
    pub fn vartime_is_identity(&self, y_point: &RistrettoPoint) -> bool {
        let scalars = self.scalars.iter().chain([&self.g, &self.y]);
        let points = self.points.iter().chain([&G, y_point]);
        RistrettoPoint::vartime_multiscalar_mul(scalars, points).is_identity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::ristretto::RistrettoPoint;

    #[test]
    fn rollback_restores_the_combination() {
        let p = Point::from_element(RistrettoPoint::mul_base(&Scalar::from(5u64)));
        let mut m = Msm::default();
        m.push(Scalar::from(2u64), &p);
        m.add_g(-Scalar::from(10u64));
        assert!(m.vartime_is_identity(&G));
        let cp = m.checkpoint();
        let t = m.term(&p);
        m.add(t, Scalar::ONE);
        m.add_y(Scalar::ONE);
        assert!(!m.vartime_is_identity(&G));
        m.rollback(cp);
        assert_eq!(m.len(), 1);
        assert!(m.vartime_is_identity(&G));
    }
}
