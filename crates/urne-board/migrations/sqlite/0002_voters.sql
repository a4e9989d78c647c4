-- urne-board schema, version 2 (SQLite): voters, their login codes and sessions, mail to them.
-- Everything here is personal data of one election, deleted by purge_personal_data.

-- The roll: who may vote, where their mail goes, the public credential each identity is
-- linked to (once the voter proved to hold it; at most one voter per credential), and when
-- each first voted.
CREATE TABLE voters (
    election TEXT NOT NULL REFERENCES elections (id),
    voter TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT,
    weight INTEGER NOT NULL CHECK (weight >= 0),
    lang TEXT,
    credential BLOB CHECK (credential IS NULL OR length(credential) = 32),
    voted_at INTEGER,
    PRIMARY KEY (election, voter)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX voters_credential ON voters (election, credential)
    WHERE credential IS NOT NULL;

-- One row per voter who was sent a login code: the pending code's hash (NULL once consumed),
-- its expiry and wrong attempts, and the rate-limit window (its start and the codes sent in
-- it), which outlives the code.
CREATE TABLE voter_codes (
    election TEXT NOT NULL REFERENCES elections (id),
    voter TEXT NOT NULL,
    code_hash BLOB CHECK (code_hash IS NULL OR length(code_hash) = 32),
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    sent_at INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    window_count INTEGER NOT NULL CHECK (window_count >= 0),
    PRIMARY KEY (election, voter)
) STRICT, WITHOUT ROWID;

-- Voters' login sessions, under the hash of their secret token.
CREATE TABLE voter_sessions (
    token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    election TEXT NOT NULL REFERENCES elections (id),
    voter TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX voter_sessions_voter ON voter_sessions (election, voter);

-- Mail to voters, queued and sent by the server. message holds the whole message until the
-- mail is final (it may hold a credential or a login code), then is emptied. AUTOINCREMENT:
-- an id is never given again, even after a purge deleted the newest mails.
CREATE TABLE mail (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    election TEXT NOT NULL REFERENCES elections (id),
    voter TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL,
    message BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'bounced')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX mail_due ON mail (status, next_attempt_at);
CREATE INDEX mail_election ON mail (election, id);
CREATE UNIQUE INDEX mail_message_id ON mail (message_id);
