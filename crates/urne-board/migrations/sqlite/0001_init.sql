-- urne-board schema, version 1 (SQLite).
-- Integers are unix seconds, sequence numbers and counts; blobs of 32 bytes are hashes and keys.

-- One row per election: its phase, its configuration and the head of its board (size, Merkle
-- frontier and root, the latest time given to an append). next_message numbers the relayed
-- messages, so that an index is never given twice even after messages are deleted.
CREATE TABLE elections (
    id TEXT PRIMARY KEY NOT NULL,
    phase TEXT NOT NULL,
    config TEXT NOT NULL,
    log_size INTEGER NOT NULL DEFAULT 0 CHECK (log_size >= 0),
    frontier BLOB NOT NULL,
    root BLOB NOT NULL CHECK (length(root) = 32),
    last_at INTEGER NOT NULL DEFAULT 0,
    next_message INTEGER NOT NULL DEFAULT 0 CHECK (next_message >= 0),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- The board: every line of every election's record, with its Merkle leaf hash.
CREATE TABLE log (
    election TEXT NOT NULL REFERENCES elections (id),
    seq INTEGER NOT NULL CHECK (seq >= 0),
    kind TEXT,
    line BLOB NOT NULL,
    leaf BLOB NOT NULL CHECK (length(leaf) = 32),
    PRIMARY KEY (election, seq)
) STRICT;

-- The ballot lines of the board by tracker (unique) and by credential.
CREATE TABLE ballots (
    election TEXT NOT NULL,
    tracker BLOB NOT NULL CHECK (length(tracker) = 32),
    credential BLOB CHECK (credential IS NULL OR length(credential) = 32),
    seq INTEGER NOT NULL,
    PRIMARY KEY (election, tracker),
    FOREIGN KEY (election, seq) REFERENCES log (election, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX ballots_credential ON ballots (election, credential, seq);

-- Signed tree heads, one per board size (the first one made for a size is kept).
CREATE TABLE tree_heads (
    election TEXT NOT NULL REFERENCES elections (id),
    size INTEGER NOT NULL CHECK (size >= 0),
    body TEXT NOT NULL,
    PRIMARY KEY (election, size)
) STRICT, WITHOUT ROWID;

-- Messages relayed before they go on a board (ceremony messages, registrations, credentials).
CREATE TABLE messages (
    election TEXT NOT NULL REFERENCES elections (id),
    idx INTEGER NOT NULL CHECK (idx >= 0),
    kind TEXT NOT NULL,
    sender INTEGER NOT NULL CHECK (sender >= 0),
    body TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (election, idx)
) STRICT;

CREATE INDEX messages_kind ON messages (election, kind, idx);

-- Administrators, their login sessions and API tokens (secrets are stored hashed).
CREATE TABLE admins (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    admin TEXT NOT NULL REFERENCES admins (name),
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_admin ON sessions (admin);

CREATE TABLE api_tokens (
    token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    admin TEXT NOT NULL REFERENCES admins (name),
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX api_tokens_admin ON api_tokens (admin);

-- What the administrators (and the scheduler) did, in order.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    election TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_election ON audit_log (election, id);
