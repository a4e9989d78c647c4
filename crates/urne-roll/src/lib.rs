//! Voter rolls: who may vote in an election, read from CSV or JSON and validated line by line.
