//! Mail to voters: the messages (credentials, one-time codes) and their delivery.
