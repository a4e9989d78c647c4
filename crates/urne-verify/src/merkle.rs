//! The bulletin board's Merkle tree over the record's lines, in the manner of Certificate
//! Transparency (RFC 9162 §2.1.1), with urne's own hashes:
//!
//! - leaf hash: the first 32 bytes of H(LOG_LEAF, line), where `line` is the line's exact bytes
//!   without its final newline;
//! - node hash: the first 32 bytes of H(LOG_NODE, left, right);
//! - the root of n leaves: for n = 1 the leaf hash; for n > 1, with k the largest power of two
//!   below n, the node hash of the root of the first k leaves and the root of the other n − k.
//!   The root of no leaves is the first 32 bytes of H(LOG_LEAF) over no line item at all.
//!
//! [`MerkleBuilder`] computes the root of a stream of leaves in O(log n) memory.

use urne_core::hash::{ItemHasher, tags};

/// A 32-byte hash of the log.
pub type Hash = [u8; 32];

fn first32(d: [u8; 64]) -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(&d[..32]);
    h
}

/// The leaf hash of one record line.
pub fn leaf_hash(line: &[u8]) -> Hash {
    let mut h = ItemHasher::new(tags::LOG_LEAF);
    h.bytes(line);
    first32(h.digest())
}

/// The hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = ItemHasher::new(tags::LOG_NODE);
    h.bytes(left).bytes(right);
    first32(h.digest())
}

/// The root of an empty log.
pub fn empty_root() -> Hash {
    first32(ItemHasher::new(tags::LOG_LEAF).digest())
}

/// Streaming root computation: a stack of the roots of perfect subtrees, largest first.
#[derive(Debug, Clone, Default)]
pub struct MerkleBuilder {
    stack: Vec<(u64, Hash)>,
    size: u64,
}

impl MerkleBuilder {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (1u64, leaf);
        while let Some(&(size, top)) = self.stack.last() {
            if size != node.0 {
                break;
            }
            self.stack.pop();
            node = (size * 2, node_hash(&top, &node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The compact frontier: the roots of the perfect subtrees that make up the tree, largest
    /// first (one per set bit of the size). With the size, it is all a log needs to keep to go on
    /// appending.
    pub fn frontier(&self) -> Vec<Hash> {
        self.stack.iter().map(|&(_, h)| h).collect()
    }

    /// A builder that goes on from a tree of `size` leaves with this frontier; `None` if the
    /// frontier does not have one hash per set bit of `size`.
    pub fn from_frontier(size: u64, frontier: &[Hash]) -> Option<Self> {
        if frontier.len() != size.count_ones() as usize {
            return None;
        }
        let sizes = (0..64).rev().map(|b| 1u64 << b).filter(|s| size & s != 0);
        let stack = sizes.zip(frontier.iter().copied()).collect();
        Some(MerkleBuilder { stack, size })
    }

    /// The root of the leaves so far. Folding the perfect subtrees from the right gives exactly
    /// RFC 9162's split at the largest power of two.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(&(_, last)) => it.fold(last, |acc, (_, left)| node_hash(left, &acc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, recursively.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn streaming_root_matches_the_recursive_definition() {
        let leaves: Vec<Hash> = (0..70u8).map(|i| leaf_hash(&[i])).collect();
        let mut b = MerkleBuilder::new();
        assert_eq!(b.root(), reference_root(&[]));
        for n in 1..=leaves.len() {
            b.push(leaves[n - 1]);
            assert_eq!(b.root(), reference_root(&leaves[..n]), "size {n}");
        }
    }

    #[test]
    fn frontier_round_trip_goes_on_appending() {
        let leaves: Vec<Hash> = (0..40u8).map(|i| leaf_hash(&[i])).collect();
        for cut in 0..leaves.len() {
            let mut a = MerkleBuilder::new();
            leaves[..cut].iter().for_each(|l| a.push(*l));
            let mut b = MerkleBuilder::from_frontier(a.size(), &a.frontier()).unwrap();
            leaves[cut..].iter().for_each(|l| b.push(*l));
            assert_eq!(b.root(), reference_root(&leaves), "cut {cut}");
        }
        assert!(MerkleBuilder::from_frontier(3, &[[0; 32]]).is_none());
    }

    #[test]
    fn largest_power_of_two_below() {
        // The split used by reference_root: 2→1, 3→2, 4→2, 5→4, 8→4, 9→8.
        for (n, k) in [(2usize, 1usize), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8)] {
            let leaves: Vec<Hash> = (0..n as u8).map(|i| leaf_hash(&[i])).collect();
            let expect = node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]));
            assert_eq!(reference_root(&leaves), expect);
        }
    }
}
