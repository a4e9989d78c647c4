//! The urne voting server.
