//! Voters (docs/voters.md): the roll, voters' logins, the one credential each identity may use,
//! who voted, and the deletion of their personal data once the retention period is over.
//!
//! A voter proves two things, separately. Holding a credential makes a ballot eligible (the
//! signature, spec §7.3); the server never sees the credential. Logging in (a one-time code
//! mailed to the roll's address, or the organisation's OpenID Connect provider) says who the
//! voter is. When a logged-in voter's ballot passes its checks, the server links the identity
//! to the ballot's public credential: an identity votes with one credential only, and a
//! credential is used by one identity only. That link and the list of who voted are personal
//! data: they never go on the board, and they are deleted with the roll after the retention
//! period.
//!
//! One module per concern: [`roll`] (the roll and who voted), [`login`] (one-time codes,
//! OpenID Connect, voter sessions, the identity–credential link), [`credentials`] (a lost
//! credential's replacement, and the weaker mode where the server mails credentials) and
//! [`retention`] (the deletion of personal data).

pub mod credentials;
pub mod login;
pub mod retention;
pub mod roll;

pub use credentials::*;
pub use login::*;
pub use retention::*;
pub use roll::*;
