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
//!
//! Proofs (docs/record.md §4.2, §4.3), as in RFC 9162 §2.1.3 and §2.1.4 with these hashes:
//!
//! - an *inclusion proof* shows that a leaf is the `index`-th of the tree of `size` leaves with a
//!   given root: [`inclusion_proof`] makes it from the leaves, [`verify_inclusion`] checks it;
//! - a *consistency proof* shows that the tree of `old_size` leaves is a prefix of the tree of
//!   `new_size` leaves: [`consistency_proof`] and [`verify_consistency`].
//!
//! [`MerkleTree`] keeps every complete subtree of a server's board in memory and answers the
//! same proofs, and the root of any earlier size, in O(log n) hashes and lookups.
//!
//! Proofs, roots and leaves are public data: nothing here is constant-time, and nothing needs to
//! be.

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

/// Why a Merkle proof does not verify (docs/record.md §4.2, §4.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// An inclusion proof for a leaf index that is not in the tree.
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange {
        /// The leaf index of the proof.
        index: u64,
        /// The tree size of the proof.
        size: u64,
    },
    /// A consistency proof whose old tree is larger than its new tree.
    #[error("the old tree size {old_size} exceeds the new tree size {new_size}")]
    SizesOutOfOrder {
        /// The size of the older tree.
        old_size: u64,
        /// The size of the newer tree.
        new_size: u64,
    },
    /// The proof has the wrong number of hashes for its sizes (and index).
    #[error("the proof holds {found} hashes, its sizes and index need exactly {expected}")]
    Length {
        /// The number of hashes these sizes and index determine.
        expected: usize,
        /// The number of hashes in the proof.
        found: usize,
    },
    /// The inclusion proof and leaf hash lead to another root than the tree head's.
    #[error("the leaf and its inclusion proof lead to another root than the tree head's")]
    RootMismatch,
    /// The consistency proof does not lead to the old tree head's root (for an old size of 0:
    /// the old root is not the root of the empty tree).
    #[error("the consistency proof does not lead to the old tree head's root")]
    OldRootMismatch,
    /// The consistency proof does not lead to the new tree head's root (for equal sizes: the two
    /// roots differ).
    #[error("the consistency proof does not lead to the new tree head's root")]
    NewRootMismatch,
}

/// The largest power of two smaller than `n`, for n ≥ 2 (RFC 9162's split point).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The number of hashes in the inclusion proof of leaf `index` in a tree of `size` leaves
/// (index < size): one per level of the recursion of docs/record.md §4.2.
fn inclusion_len(index: u64, size: u64) -> usize {
    let (mut m, mut n, mut len) = (index, size, 0);
    while n > 1 {
        let k = split(n);
        if m < k {
            n = k;
        } else {
            m -= k;
            n -= k;
        }
        len += 1;
    }
    len
}

/// The number of hashes in the consistency proof from `old_size` to `new_size` leaves
/// (old_size ≤ new_size), by the recursion of docs/record.md §4.3.
fn consistency_len(old_size: u64, new_size: u64) -> usize {
    if old_size == 0 || old_size == new_size {
        return 0;
    }
    let (mut m, mut n, mut whole, mut len) = (old_size, new_size, true, 0);
    while m != n {
        let k = split(n);
        if m <= k {
            n = k;
        } else {
            m -= k;
            n -= k;
            whole = false;
        }
        len += 1;
    }
    len + usize::from(!whole)
}

/// The root of a slice of leaf hashes, by the recursive definition.
fn slice_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&slice_root(&leaves[..k]), &slice_root(&leaves[k..]))
        }
    }
}

/// RFC 9162's PATH(m, D[n]), appended to `out` deepest sibling first.
fn slice_path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n as u64) as usize;
    if m < k {
        slice_path(m, &leaves[..k], out);
        out.push(slice_root(&leaves[k..]));
    } else {
        slice_path(m - k, &leaves[k..], out);
        out.push(slice_root(&leaves[..k]));
    }
}

/// RFC 9162's SUBPROOF(m, D[n], whole), appended to `out` deepest first.
fn slice_subproof(m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(slice_root(leaves));
        }
        return;
    }
    let k = split(n as u64) as usize;
    if m <= k {
        slice_subproof(m, &leaves[..k], whole, out);
        out.push(slice_root(&leaves[k..]));
    } else {
        slice_subproof(m - k, &leaves[k..], false, out);
        out.push(slice_root(&leaves[..k]));
    }
}

/// The first `size` of `leaves`, or `None` if there are fewer.
fn prefix(leaves: &[Hash], size: u64) -> Option<&[Hash]> {
    leaves.get(..usize::try_from(size).ok()?)
}

/// The inclusion proof (docs/record.md §4.2; RFC 9162 §2.1.3.1) of leaf `index` in the tree of
/// the first `size` of `leaves`, computed from the leaf hashes; `None` unless
/// index < size ≤ `leaves.len()`.
pub fn inclusion_proof(leaves: &[Hash], index: u64, size: u64) -> Option<Vec<Hash>> {
    let tree = prefix(leaves, size)?;
    if index >= size {
        return None;
    }
    let mut out = Vec::new();
    slice_path(usize::try_from(index).ok()?, tree, &mut out);
    Some(out)
}

/// Checks that `leaf` is leaf number `index` (from 0) of the tree of `size` leaves whose root is
/// `root`, by the algorithm of RFC 9162 §2.1.3.2 (docs/record.md §4.2). The proof binds the index
/// but not the size: take `size` and `root` from the same signed tree head.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_len(index, size);
    let length = ProofError::Length {
        expected,
        found: proof.len(),
    };
    if proof.len() != expected {
        return Err(length);
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(length);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The consistency proof (docs/record.md §4.3; RFC 9162 §2.1.4.1) from the tree of the first
/// `old_size` of `leaves` to the tree of the first `new_size`; `None` unless
/// old_size ≤ new_size ≤ `leaves.len()`. It is empty when old_size is 0 or equals new_size.
pub fn consistency_proof(leaves: &[Hash], old_size: u64, new_size: u64) -> Option<Vec<Hash>> {
    let tree = prefix(leaves, new_size)?;
    if old_size > new_size {
        return None;
    }
    let mut out = Vec::new();
    if old_size != 0 && old_size != new_size {
        slice_subproof(usize::try_from(old_size).ok()?, tree, true, &mut out);
    }
    Some(out)
}

/// Checks that the tree of `old_size` leaves with root `old_root` is the prefix of the tree of
/// `new_size` leaves with root `new_root`, by the algorithm of RFC 9162 §2.1.4.2
/// (docs/record.md §4.3). When old_size is 0 the proof must be empty and `old_root` the root of
/// the empty tree; when the sizes are equal the proof must be empty and the roots equal.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    let expected = consistency_len(old_size, new_size);
    let length = ProofError::Length {
        expected,
        found: proof.len(),
    };
    if proof.len() != expected {
        return Err(length);
    }
    if old_size == 0 {
        if *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        if new_size == 0 && new_root != old_root {
            return Err(ProofError::NewRootMismatch);
        }
        return Ok(());
    }
    if old_size == new_size {
        if new_root != old_root {
            return Err(ProofError::NewRootMismatch);
        }
        return Ok(());
    }
    // When the old tree is a perfect subtree, its root is the path's implicit first hash.
    let (first, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(length),
        }
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if s == 0 {
            return Err(length);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(length);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// A whole Merkle tree in memory, for a server that answers proofs (docs/record.md §4).
///
/// It keeps every level: the leaf hashes, and at level h the root of every complete subtree of
/// 2^h leaves (the one over leaves i·2^h … (i+1)·2^h − 1 at position i), about two hashes per
/// leaf in all. Any root of an earlier size and every proof then take O(log n) lookups and
/// node hashes: a proof names at most one subtree that is not complete, whose root is folded from
/// at most 64 complete ones.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash (see [`leaf_hash`]), completing the subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        let mut h = 0;
        loop {
            if self.levels.len() == h {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[h];
            level.push(node);
            let n = level.len();
            if n % 2 == 1 {
                return;
            }
            node = node_hash(&level[n - 2], &level[n - 1]);
            h += 1;
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The hash of leaf `index`, if there is one.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.first()?.get(i).copied()
    }

    /// The root of all the leaves.
    pub fn root(&self) -> Hash {
        self.range_root(0, self.size())
    }

    /// The root of the first `size` leaves (the tree as it was at that size); `None` if the tree
    /// is smaller.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        (size <= self.size()).then(|| self.range_root(0, size))
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves, equal to
    /// [`inclusion_proof`] over the same leaves; `None` unless index < size ≤ [`Self::size`].
    pub fn inclusion(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        if index >= size || size > self.size() {
            return None;
        }
        // The recursion of RFC 9162's PATH, top down: the subtree [lo, lo + n) holds the leaf.
        let (mut lo, mut m, mut n) = (0, index, size);
        let mut out = Vec::new();
        while n > 1 {
            let k = split(n);
            if m < k {
                out.push(self.range_root(lo + k, lo + n));
                n = k;
            } else {
                out.push(self.range_root(lo, lo + k));
                lo += k;
                m -= k;
                n -= k;
            }
        }
        out.reverse();
        Some(out)
    }

    /// The consistency proof from the first `old_size` leaves to the first `new_size`, equal to
    /// [`consistency_proof`] over the same leaves; `None` unless
    /// old_size ≤ new_size ≤ [`Self::size`].
    pub fn consistency(&self, old_size: u64, new_size: u64) -> Option<Vec<Hash>> {
        if old_size > new_size || new_size > self.size() {
            return None;
        }
        let mut out = Vec::new();
        if old_size == 0 || old_size == new_size {
            return Some(out);
        }
        // The recursion of RFC 9162's SUBPROOF, top down over the subtree [lo, lo + n).
        let (mut lo, mut m, mut n, mut whole) = (0, old_size, new_size, true);
        while m != n {
            let k = split(n);
            if m <= k {
                out.push(self.range_root(lo + k, lo + n));
                n = k;
            } else {
                out.push(self.range_root(lo, lo + k));
                lo += k;
                m -= k;
                n -= k;
                whole = false;
            }
        }
        if !whole {
            out.push(self.range_root(lo, lo + n));
        }
        out.reverse();
        Some(out)
    }

    /// The root of leaves [lo, hi), for hi ≤ size and lo a multiple of a power of two at least
    /// hi − lo (every subtree the recursions above visit is one): the complete subtrees of the
    /// binary decomposition of hi − lo, largest first, folded from the right.
    fn range_root(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        let mut acc: Option<Hash> = None;
        for b in 0..64 {
            if (n >> b) & 1 == 0 {
                continue;
            }
            // This chunk starts after the larger chunks, those of the higher bits of n.
            let start = lo + (((n >> b) >> 1) << b << 1);
            debug_assert_eq!(start % (1u64 << b), 0);
            let h = self.levels[b][(start >> b) as usize];
            acc = Some(match acc {
                None => h,
                Some(right) => node_hash(&h, &right),
            });
        }
        acc.unwrap_or_else(empty_root)
    }
}

impl Extend<Hash> for MerkleTree {
    /// Appends leaf hashes in order.
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaves: I) {
        leaves.into_iter().for_each(|l| self.push(l));
    }
}

impl FromIterator<Hash> for MerkleTree {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut t = MerkleTree::new();
        t.extend(leaves);
        t
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

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("line {i}").as_bytes()))
            .collect()
    }

    /// The seven-leaf example tree of RFC 9162 §2.1.5 (d0 … d6 as leaves a … f and j), with
    /// urne's hashes: its inclusion and consistency proofs spelled out by hand.
    #[test]
    fn known_proofs_of_the_seven_leaf_example() {
        let d = leaves(7);
        let (a, b, c, dd, e, f, j) = (d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
        let g = node_hash(&a, &b);
        let h = node_hash(&c, &dd);
        let i = node_hash(&e, &f);
        let k = node_hash(&g, &h);
        let l = node_hash(&i, &j);
        let root = node_hash(&k, &l);
        let tree: MerkleTree = d.iter().copied().collect();
        assert_eq!(tree.root(), root);
        assert_eq!(slice_root(&d), root);
        for (index, path) in [
            (0, vec![b, h, l]),
            (3, vec![c, g, l]),
            (4, vec![f, j, k]),
            (6, vec![i, k]),
        ] {
            assert_eq!(inclusion_proof(&d, index, 7).unwrap(), path, "d{index}");
            assert_eq!(tree.inclusion(index, 7).unwrap(), path, "d{index}");
            verify_inclusion(&d[index as usize], index, 7, &path, &root).unwrap();
        }
        let old3 = node_hash(&g, &c);
        for (old, old_root, path) in [
            (3, old3, vec![c, dd, g, l]),
            (4, k, vec![l]),
            (6, node_hash(&k, &i), vec![i, j, k]),
        ] {
            assert_eq!(tree.root_at(old).unwrap(), old_root);
            assert_eq!(consistency_proof(&d, old, 7).unwrap(), path, "from {old}");
            assert_eq!(tree.consistency(old, 7).unwrap(), path, "from {old}");
            verify_consistency(old, 7, &old_root, &root, &path).unwrap();
        }
    }

    /// Every index of every size up to 8, and every pair of sizes: the tree and the slices agree,
    /// the proofs have the length of the recursion, verify, and fail for any other index or size.
    #[test]
    fn small_trees_all_indices_and_sizes() {
        let d = leaves(8);
        let tree: MerkleTree = d.iter().copied().collect();
        for size in 1..=8u64 {
            let root = reference_root(&d[..size as usize]);
            assert_eq!(tree.root_at(size).unwrap(), root);
            for index in 0..size {
                let proof = inclusion_proof(&d, index, size).unwrap();
                assert_eq!(tree.inclusion(index, size).unwrap(), proof);
                assert_eq!(proof.len(), inclusion_len(index, size));
                let leaf = d[index as usize];
                verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
                for other in (0..size).filter(|&o| o != index) {
                    assert!(verify_inclusion(&leaf, other, size, &proof, &root).is_err());
                }
                for other in (1..=8).filter(|&o| o != size && index < o) {
                    let other_root = reference_root(&d[..other as usize]);
                    assert!(verify_inclusion(&leaf, index, other, &proof, &other_root).is_err());
                }
            }
        }
        for new in 0..=8u64 {
            let new_root = reference_root(&d[..new as usize]);
            for old in 0..=new {
                let old_root = reference_root(&d[..old as usize]);
                let proof = consistency_proof(&d, old, new).unwrap();
                assert_eq!(tree.consistency(old, new).unwrap(), proof);
                assert_eq!(proof.len(), consistency_len(old, new));
                verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
                for other in (1..new).filter(|&o| o != old) {
                    let other_root = reference_root(&d[..other as usize]);
                    assert!(
                        verify_consistency(other, new, &other_root, &new_root, &proof).is_err()
                    );
                }
            }
        }
    }

    #[test]
    fn root_at_every_size_matches_the_builder() {
        let d = leaves(70);
        let mut tree = MerkleTree::new();
        let mut builder = MerkleBuilder::new();
        assert_eq!(tree.root(), empty_root());
        for l in &d {
            tree.push(*l);
            builder.push(*l);
            assert_eq!(tree.root(), builder.root());
        }
        for size in 0..=70 {
            assert_eq!(
                tree.root_at(size).unwrap(),
                reference_root(&d[..size as usize])
            );
        }
        assert_eq!(tree.root_at(71), None);
        assert_eq!(tree.leaf(69), Some(d[69]));
        assert_eq!(tree.leaf(70), None);
    }

    #[test]
    fn rejects_out_of_range_requests() {
        let d = leaves(5);
        let tree: MerkleTree = d.iter().copied().collect();
        assert_eq!(inclusion_proof(&d, 5, 5), None);
        assert_eq!(inclusion_proof(&d, 0, 6), None);
        assert_eq!(inclusion_proof(&d, 0, 0), None);
        assert_eq!(tree.inclusion(5, 5), None);
        assert_eq!(tree.inclusion(0, 6), None);
        assert_eq!(consistency_proof(&d, 3, 2), None);
        assert_eq!(consistency_proof(&d, 2, 6), None);
        assert_eq!(tree.consistency(3, 2), None);
        assert_eq!(tree.consistency(2, 6), None);
        assert_eq!(inclusion_proof(&d, u64::MAX - 1, u64::MAX), None);
    }

    #[test]
    fn rejects_inclusion_index_out_of_range() {
        let d = leaves(4);
        let root = reference_root(&d);
        let proof = inclusion_proof(&d, 3, 4).unwrap();
        assert_eq!(
            verify_inclusion(&d[3], 4, 4, &proof, &root),
            Err(ProofError::IndexOutOfRange { index: 4, size: 4 })
        );
        assert_eq!(
            verify_inclusion(&d[0], 0, 0, &[], &empty_root()),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
    }

    #[test]
    fn rejects_inclusion_proof_of_wrong_length() {
        let d = leaves(6);
        let root = reference_root(&d);
        let mut proof = inclusion_proof(&d, 2, 6).unwrap();
        proof.push(root);
        assert_eq!(
            verify_inclusion(&d[2], 2, 6, &proof, &root),
            Err(ProofError::Length {
                expected: 3,
                found: 4
            })
        );
        proof.truncate(2);
        assert!(matches!(
            verify_inclusion(&d[2], 2, 6, &proof, &root),
            Err(ProofError::Length { expected: 3, .. })
        ));
        // A tree of one leaf: the root is the leaf, the proof is empty.
        verify_inclusion(&d[0], 0, 1, &[], &d[0]).unwrap();
        assert!(matches!(
            verify_inclusion(&d[0], 0, 1, &[d[1]], &d[0]),
            Err(ProofError::Length { expected: 0, .. })
        ));
    }

    #[test]
    fn rejects_inclusion_of_another_leaf_or_root() {
        let d = leaves(6);
        let root = reference_root(&d);
        let proof = inclusion_proof(&d, 2, 6).unwrap();
        assert_eq!(
            verify_inclusion(&d[3], 2, 6, &proof, &root),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(&d[2], 2, 6, &proof, &reference_root(&d[..5])),
            Err(ProofError::RootMismatch)
        );
    }

    #[test]
    fn leaf_and_node_hashes_are_separated() {
        // A line made of two hashes does not hash to their inner node, so no line can stand for
        // a subtree (the second-preimage attack the two tags prevent).
        let d = leaves(2);
        assert_ne!(leaf_hash(&[d[0], d[1]].concat()), node_hash(&d[0], &d[1]));
    }

    #[test]
    fn rejects_consistency_sizes_out_of_order() {
        let d = leaves(5);
        assert_eq!(
            verify_consistency(5, 4, &reference_root(&d), &reference_root(&d[..4]), &[]),
            Err(ProofError::SizesOutOfOrder {
                old_size: 5,
                new_size: 4
            })
        );
    }

    #[test]
    fn rejects_consistency_edge_cases() {
        let d = leaves(5);
        let root = reference_root(&d);
        let root4 = reference_root(&d[..4]);
        // From the empty tree: empty proof, and the old root must be the empty root.
        verify_consistency(0, 5, &empty_root(), &root, &[]).unwrap();
        verify_consistency(0, 0, &empty_root(), &empty_root(), &[]).unwrap();
        assert_eq!(
            verify_consistency(0, 5, &root4, &root, &[]),
            Err(ProofError::OldRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 0, &empty_root(), &root, &[]),
            Err(ProofError::NewRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 5, &empty_root(), &root, &[root]),
            Err(ProofError::Length {
                expected: 0,
                found: 1
            })
        );
        // Equal sizes: empty proof and equal roots.
        verify_consistency(5, 5, &root, &root, &[]).unwrap();
        assert_eq!(
            verify_consistency(5, 5, &root, &root4, &[]),
            Err(ProofError::NewRootMismatch)
        );
        assert!(matches!(
            verify_consistency(5, 5, &root, &root, &[root]),
            Err(ProofError::Length { expected: 0, .. })
        ));
        // A proper extension needs a proof.
        assert!(matches!(
            verify_consistency(4, 5, &root4, &root, &[]),
            Err(ProofError::Length { expected: 1, .. })
        ));
    }

    #[test]
    fn rejects_consistency_with_a_rewritten_line() {
        let d = leaves(9);
        let mut e = d.clone();
        e[2] = leaf_hash(b"rewritten");
        let proof = consistency_proof(&e, 5, 9).unwrap();
        let old = reference_root(&d[..5]);
        let new = reference_root(&e);
        assert_eq!(
            verify_consistency(5, 9, &old, &new, &proof),
            Err(ProofError::OldRootMismatch)
        );
        let honest = consistency_proof(&d, 5, 9).unwrap();
        assert_eq!(
            verify_consistency(5, 9, &old, &new, &honest),
            Err(ProofError::NewRootMismatch)
        );
    }

    mod props {
        use super::super::*;
        use super::reference_root;
        use proptest::prelude::*;

        fn leaves(n: u64) -> Vec<Hash> {
            (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
        }

        /// A tree size, an index below it, and a byte and bit to flip.
        fn size_index() -> impl Strategy<Value = (u64, u64, usize, u8)> {
            (1u64..300).prop_flat_map(|n| (Just(n), 0..n, 0usize..32, 0u8..8))
        }

        /// Two sizes old ≤ new, and a byte and bit to flip.
        fn sizes() -> impl Strategy<Value = (u64, u64, usize, u8)> {
            (0u64..300).prop_flat_map(|n| (0..=n, Just(n), 0usize..32, 0u8..8))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn inclusion_tree_equals_slice_and_verifies((n, i, byte, bit) in size_index()) {
                let d = leaves(n);
                let tree: MerkleTree = d.iter().copied().collect();
                let root = reference_root(&d);
                prop_assert_eq!(tree.root_at(n), Some(root));
                let proof = inclusion_proof(&d, i, n).unwrap();
                prop_assert_eq!(tree.inclusion(i, n).unwrap(), proof.clone());
                let leaf = d[i as usize];
                prop_assert_eq!(verify_inclusion(&leaf, i, n, &proof, &root), Ok(()));

                // Any flipped bit of the leaf, the root or a hash of the proof fails.
                let mut bad = leaf;
                bad[byte] ^= 1 << bit;
                prop_assert!(verify_inclusion(&bad, i, n, &proof, &root).is_err());
                let mut bad = root;
                bad[byte] ^= 1 << bit;
                prop_assert!(verify_inclusion(&leaf, i, n, &proof, &bad).is_err());
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k][byte] ^= 1 << bit;
                    prop_assert!(verify_inclusion(&leaf, i, n, &bad, &root).is_err());
                }
            }

            #[test]
            fn inclusion_fails_for_another_index_or_size(
                (n, i, _b, _t) in size_index(),
                other_index in 0u64..300,
                other_size in 1u64..300,
            ) {
                let d = leaves(n.max(other_size));
                let dn = &d[..n as usize];
                let proof = inclusion_proof(dn, i, n).unwrap();
                let leaf = d[i as usize];
                let root = reference_root(dn);
                if other_index != i {
                    prop_assert!(verify_inclusion(&leaf, other_index, n, &proof, &root).is_err());
                }
                if other_size != n {
                    // Against the genuine root of that size: the size is part of the statement.
                    let other_root = reference_root(&d[..other_size as usize]);
                    prop_assert!(
                        verify_inclusion(&leaf, i, other_size, &proof, &other_root).is_err()
                    );
                }
            }

            #[test]
            fn consistency_tree_equals_slice_and_verifies((m, n, byte, bit) in sizes()) {
                let d = leaves(n);
                let tree: MerkleTree = d.iter().copied().collect();
                let old = reference_root(&d[..m as usize]);
                let new = reference_root(&d);
                prop_assert_eq!(tree.root_at(m), Some(old));
                let proof = consistency_proof(&d, m, n).unwrap();
                prop_assert_eq!(tree.consistency(m, n).unwrap(), proof.clone());
                prop_assert_eq!(verify_consistency(m, n, &old, &new, &proof), Ok(()));

                let mut bad = old;
                bad[byte] ^= 1 << bit;
                prop_assert!(verify_consistency(m, n, &bad, &new, &proof).is_err());
                // With an empty old tree any new root is consistent; otherwise it is bound.
                if m > 0 {
                    let mut bad = new;
                    bad[byte] ^= 1 << bit;
                    prop_assert!(verify_consistency(m, n, &old, &bad, &proof).is_err());
                }
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k][byte] ^= 1 << bit;
                    prop_assert!(verify_consistency(m, n, &old, &new, &bad).is_err());
                }
            }

            #[test]
            fn consistency_fails_for_other_sizes(
                (m, n, _b, _t) in sizes(),
                other_old in 0u64..300,
                other_new in 0u64..300,
            ) {
                let d = leaves(n.max(other_new).max(other_old));
                let root = |s: u64| reference_root(&d[..s as usize]);
                let proof = consistency_proof(&d, m, n).unwrap();
                // Against the genuine roots of the other sizes, the proof verifies only if it is
                // also the honest proof for them (an empty proof from the empty tree, say).
                for (o, nn) in [(other_old, n), (m, other_new), (other_old, other_new)] {
                    if (o, nn) == (m, n) || o > nn {
                        continue;
                    }
                    let ok = verify_consistency(o, nn, &root(o), &root(nn), &proof).is_ok();
                    prop_assert_eq!(ok, consistency_proof(&d, o, nn).unwrap() == proof);
                }
            }

            #[test]
            fn tree_grown_in_steps_answers_for_every_earlier_size(
                steps in proptest::collection::vec(1u64..40, 1..8),
                pick in any::<u64>(),
            ) {
                // Proofs from a tree that has since grown are those of the smaller tree.
                let total: u64 = steps.iter().sum();
                let d = leaves(total);
                let mut tree = MerkleTree::new();
                let mut sizes = vec![0];
                for s in &steps {
                    let start = tree.size() as usize;
                    tree.extend(d[start..start + *s as usize].iter().copied());
                    sizes.push(tree.size());
                }
                let old = sizes[(pick % sizes.len() as u64) as usize];
                let new = sizes[((pick >> 8) % sizes.len() as u64) as usize].max(old);
                let proof = tree.consistency(old, new).unwrap();
                prop_assert_eq!(proof.clone(), consistency_proof(&d, old, new).unwrap());
                let (ro, rn) = (tree.root_at(old).unwrap(), tree.root_at(new).unwrap());
                prop_assert_eq!(verify_consistency(old, new, &ro, &rn, &proof), Ok(()));
                if new > 0 {
                    let i = (pick >> 16) % new;
                    let p = tree.inclusion(i, new).unwrap();
                    prop_assert_eq!(p.clone(), inclusion_proof(&d, i, new).unwrap());
                    prop_assert_eq!(verify_inclusion(&d[i as usize], i, new, &p, &rn), Ok(()));
                }
            }
        }
    }
}
