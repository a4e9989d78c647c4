//! The server's clock, in unix seconds: it decides when elections open and close, and stamps
//! every line of the boards.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in whole unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
