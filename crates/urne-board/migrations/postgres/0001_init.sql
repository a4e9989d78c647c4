-- urne-board schema, version 1 (PostgreSQL).
-- BIGINT holds unix seconds, sequence numbers and counts; BYTEA of 32 bytes holds hashes and keys.

-- One row per election: its phase, its configuration and the head of its board (size, Merkle
-- frontier and root, the latest time given to an append). Appends lock this row (SELECT ... FOR
-- UPDATE), which serializes the writers of one election across servers. next_message numbers
-- the relayed messages, so that an index is never given twice even after messages are deleted.
CREATE TABLE elections (
    id TEXT PRIMARY KEY,
    phase TEXT NOT NULL,
    config TEXT NOT NULL,
    log_size BIGINT NOT NULL DEFAULT 0 CHECK (log_size >= 0),
    frontier BYTEA NOT NULL,
    root BYTEA NOT NULL CHECK (length(root) = 32),
    last_at BIGINT NOT NULL DEFAULT 0,
    next_message BIGINT NOT NULL DEFAULT 0 CHECK (next_message >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The board: every line of every election's record, with its Merkle leaf hash.
CREATE TABLE log (
    election TEXT NOT NULL REFERENCES elections (id),
    seq BIGINT NOT NULL CHECK (seq >= 0),
    kind TEXT,
    line BYTEA NOT NULL,
    leaf BYTEA NOT NULL CHECK (length(leaf) = 32),
    PRIMARY KEY (election, seq)
);

-- The ballot lines of the board by tracker (unique) and by credential.
CREATE TABLE ballots (
    election TEXT NOT NULL,
    tracker BYTEA NOT NULL CHECK (length(tracker) = 32),
    credential BYTEA CHECK (credential IS NULL OR length(credential) = 32),
    seq BIGINT NOT NULL,
    PRIMARY KEY (election, tracker),
    FOREIGN KEY (election, seq) REFERENCES log (election, seq)
);

CREATE INDEX ballots_credential ON ballots (election, credential, seq);

-- Signed tree heads, one per board size (the first one made for a size is kept).
CREATE TABLE tree_heads (
    election TEXT NOT NULL REFERENCES elections (id),
    size BIGINT NOT NULL CHECK (size >= 0),
    body TEXT NOT NULL,
    PRIMARY KEY (election, size)
);

-- Messages relayed before they go on a board (ceremony messages, registrations, credentials).
CREATE TABLE messages (
    election TEXT NOT NULL REFERENCES elections (id),
    idx BIGINT NOT NULL CHECK (idx >= 0),
    kind TEXT NOT NULL,
    sender BIGINT NOT NULL CHECK (sender >= 0),
    body TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (election, idx)
);

CREATE INDEX messages_kind ON messages (election, kind, idx);

-- Administrators, their login sessions and API tokens (secrets are stored hashed).
CREATE TABLE admins (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    admin TEXT NOT NULL REFERENCES admins (name),
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_admin ON sessions (admin);

CREATE TABLE api_tokens (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    admin TEXT NOT NULL REFERENCES admins (name),
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX api_tokens_admin ON api_tokens (admin);

-- What the administrators (and the scheduler) did, in order.
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    election TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE INDEX audit_log_election ON audit_log (election, id);
