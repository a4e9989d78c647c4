//! A sealed election as the server keeps it in memory: the validated election (with the
//! trustees' verification keys after a ceremony), the credential index, the board's Merkle tree
//! for proofs, and the channel to its group-commit task. All of it is read back from the board
//! itself, so any server sharing the database rebuilds the same state.

use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio::sync::mpsc;
use urne_board::Store;
use urne_core::ceremony::vartime_judge_ceremony;
use urne_core::credential::{CredentialIndex, PublicCredential};
use urne_core::election::Election;
use urne_core::group::Point;
use urne_core::manifest::KeySharing;
use urne_verify::merkle::MerkleTree;
use urne_verify::record::{Entry, parse_line};

use crate::commit::Pending;
use crate::error::ApiError;

/// Lines read from the store at a time.
const PAGE: u64 = 8192;

/// A sealed election.
#[derive(Debug)]
pub struct Live {
    /// Its id.
    pub id: String,
    /// The election.
    pub election: Election,
    /// Its public credential list.
    pub credentials: CredentialIndex,
    /// How its voters log in (from the draft).
    pub voter_auth: crate::draft::VoterAuth,
    /// Lines of the sealed setup (header, manifest, ceremony, credentials).
    pub sealed_size: u64,
    /// The board's tree, as far as this server has read it.
    pub tree: RwLock<MerkleTree>,
    /// Where ballots go to be committed.
    pub committer: mpsc::Sender<Pending>,
    /// What this server has read of the board's lines after the ballots.
    pub counting: CountingCache,
}

/// What a server keeps of the board's lines after the ballots, so that the election's views do
/// not read the board at each request (see [`crate::trustees::tally_counts`] and
/// [`crate::trustees::decryption_of`]). Each is read from the board itself, as everything here:
/// a board only grows, so what is kept stays true for every server sharing the database.
#[derive(Debug, Default)]
pub struct CountingCache {
    /// The tally line, once found.
    pub tally: OnceLock<crate::trustees::TallyCounts>,
    /// The tally's decryption, with the board's size when it was read.
    pub decryption: Mutex<Option<(u64, crate::trustees::DecryptionProgress)>>,
}

/// What the setup lines of a board say.
#[derive(Debug)]
pub struct Sealed {
    /// The election.
    pub election: Election,
    /// Its credential list, without the revoked credentials (spec §5.5).
    pub credentials: CredentialIndex,
    /// The same list, in board order.
    pub list: Vec<PublicCredential>,
    /// The revoked credentials.
    pub revoked: std::collections::HashSet<Point>,
    /// Number of setup lines.
    pub size: u64,
}

/// Reads the setup lines of a board (everything before `open`) and rebuilds the election.
pub fn read_sealed(store: &dyn Store, id: &str) -> Result<Option<Sealed>, ApiError> {
    let corrupt = |what: String| ApiError::internal(format!("board of `{id}`: {what}"));
    let mut manifest = None;
    let mut dealings = Vec::new();
    let mut complaints = Vec::new();
    let mut answers = Vec::new();
    let mut credentials = Vec::new();
    let mut revoked = std::collections::HashSet::new();
    let mut size = 0;
    'read: loop {
        let lines = store.lines(id, size, PAGE)?;
        if lines.is_empty() {
            break;
        }
        for l in lines {
            let line = parse_line(l.seq + 1, &l.line).map_err(|e| corrupt(e.to_string()))?;
            match line.entry {
                Entry::Header(_) => {}
                Entry::Manifest(m) => manifest = Some(*m),
                Entry::Dealing(d) => dealings.push(*d),
                Entry::Complaint(c) => complaints.push(*c),
                Entry::Answer(a) => answers.push(*a),
                Entry::Credential(c) => credentials.push(PublicCredential {
                    credential: c.credential,
                    weight: c.weight,
                }),
                Entry::Revocation(r) => {
                    revoked.insert(r.credential);
                }
                _ => break 'read,
            }
            size += 1;
        }
    }
    let Some(manifest) = manifest else {
        return Ok(None);
    };
    let mut election = Election::new(manifest).map_err(|e| corrupt(format!("manifest: {e}")))?;
    let m = election.manifest();
    if m.key_sharing == KeySharing::Threshold {
        let identities: Vec<Point> = m.trustees.iter().map(|t| t.public_key).collect();
        let outcome = vartime_judge_ceremony(
            &m.id,
            m.threshold,
            &identities,
            &dealings,
            &complaints,
            &answers,
        )
        .map_err(|e| corrupt(format!("ceremony: {e}")))?;
        election
            .set_verification_keys(&outcome.keys)
            .map_err(|e| corrupt(format!("ceremony: {e}")))?;
    }
    credentials.retain(|c| !revoked.contains(&c.credential));
    let mut index = CredentialIndex::new(election.manifest().weights);
    for (i, c) in credentials.iter().enumerate() {
        index
            .push(c, || format!("credential {i}"))
            .map_err(|e| corrupt(e.to_string()))?;
    }
    Ok(Some(Sealed {
        election,
        credentials: index,
        list: credentials,
        revoked,
        size,
    }))
}

impl Live {
    /// Brings the tree up to the board's current size and returns that size.
    pub fn sync_tree(&self, store: &dyn Store, size: u64) -> Result<u64, ApiError> {
        let have = self
            .tree
            .read()
            .map_err(|_| ApiError::internal("tree lock poisoned"))?
            .size();
        if have >= size {
            return Ok(have);
        }
        let mut from = have;
        let mut fresh = Vec::new();
        while from < size {
            let to = size.min(from + 65536);
            let leaves = store.leaves(&self.id, from, to)?;
            if leaves.is_empty() {
                break;
            }
            from += leaves.len() as u64;
            fresh.extend(leaves);
        }
        let mut tree = self
            .tree
            .write()
            .map_err(|_| ApiError::internal("tree lock poisoned"))?;
        // Another request may have extended the tree meanwhile.
        let skip = (tree.size() - have) as usize;
        for leaf in fresh.into_iter().skip(skip) {
            tree.push(leaf);
        }
        Ok(tree.size())
    }
}

/// A handle shared by requests.
pub type LiveRef = Arc<Live>;
