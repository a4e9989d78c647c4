//! The API's OpenAPI description, generated from the handlers' annotations.

use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The description of `/api/v1`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "urne",
        description = "End-to-end verifiable voting: elections, ballots, bulletin boards."
    ),
    paths(
        crate::public::list,
        crate::public::election,
        crate::public::cast,
        crate::public::ballot,
        crate::public::head,
        crate::public::lines,
        crate::public::consistency,
        crate::public::inclusion,
        crate::public::record,
        crate::public::openapi,
        crate::public::healthz,
        crate::public::metrics,
        crate::trustees::tally,
        crate::trustees::ceremony,
        crate::trustees::register,
        crate::trustees::dealing,
        crate::trustees::complaints,
        crate::trustees::answers,
        crate::trustees::decryption,
        crate::mix::view,
        crate::mix::shuffle_chunk,
        crate::mix::shuffle_end,
        crate::mix::decryption,
        crate::admin::login,
        crate::admin::logout,
        crate::admin::create_token,
        crate::admin::audit_log,
        crate::admin::list,
        crate::admin::create,
        crate::admin::show,
        crate::admin::edit,
        crate::admin::setup,
        crate::admin::credentials,
        crate::admin::seal_route,
        crate::admin::open_route,
        crate::admin::close_route,
        crate::admin::tally_route,
        crate::admin::publish,
        crate::admin::mail_report,
        crate::mailer::bounce,
        crate::voters::upload_roll,
        crate::voters::roll_page,
        crate::voters::admin_voted,
        crate::voters::public_voted,
        crate::voters::request_code,
        crate::voters::login,
        crate::voters::logout,
        crate::voters::oidc_start,
        crate::voters::oidc_callback,
        crate::voters::purge_route,
        crate::voters::replace_credential,
        crate::voters::hand_over,
        crate::voters::resend,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "public", description = "Elections, the record, health, metrics: no account needed."),
        (name = "ballots", description = "Casting a ballot and finding it on the board by its tracker."),
        (name = "board", description = "The bulletin board: signed tree heads, lines, inclusion and consistency proofs."),
        (name = "trustees", description = "The trustees' key-generation ceremony and decryption, with their invitation tokens."),
        (name = "admin", description = "Administration, with a session cookie or an API token."),
        (name = "voters", description = "The voter roll, voters' logins, who voted, credentials' replacement and mail to voters."),
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        SignedTreeHeadDoc,
        crate::commit::Ack,
        crate::public::ElectionView,
        crate::public::BallotLocation,
        crate::public::InclusionView,
        crate::public::ConsistencyView,
        crate::public::Health,
        crate::trustees::CeremonyView,
        crate::trustees::DecryptionAck,
        crate::mix::MixView,
        crate::mix::MixAck,
        crate::mix::MixProgress,
        crate::admin::Login,
        crate::admin::TokenRequest,
        crate::admin::NewToken,
        crate::admin::AdminView,
        crate::admin::NewElection,
        crate::admin::Invitations,
        crate::admin::CredentialList,
        crate::admin::CredentialsAck,
        crate::admin::Sealed,
        crate::admin::PhaseChange,
        crate::admin::TallyAck,
        crate::voters::RollAnswer,
        crate::voters::RollProblem,
        crate::voters::RollPage,
        crate::voters::RollVoter,
        crate::voters::VotedView,
        crate::voters::CodeRequest,
        crate::voters::CodeSent,
        crate::voters::CodeLogin,
        crate::voters::VoterSession,
        crate::voters::Purged,
        crate::voters::Replacement,
        crate::voters::Replaced,
        crate::voters::PrivateEntry,
        crate::voters::HandOver,
        crate::voters::HandedOver,
        crate::voters::Resend,
        crate::mailer::MailView,
        crate::mailer::MailProblem,
        crate::mailer::BounceAck,
        crate::admin::AuditEntry,
    ))
)]
pub struct ApiDoc;

/// The description.
pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The body of every error answer (see [`crate::error`]):
/// `{"error": {"code": "...", "field": "...", "message": "..."}}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, in an error body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// A stable machine-readable reason (`bad_json`, `bad_proof`, `election_closed`, ...).
    pub code: String,
    /// The field or item at fault, when there is one (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// A sentence for people.
    pub message: String,
    /// Every problem found, when there are several (a voter roll's errors, each with its
    /// `line`, `field` and `message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<Vec<Object>>)]
    pub details: Option<serde_json::Value>,
}

/// A signed tree head (docs/record.md §4.4), as `urne_core::board::SignedTreeHead` writes it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SignedTreeHead)]
pub struct SignedTreeHeadDoc {
    /// The number of lines (leaves) the tree covers.
    pub size: u64,
    /// The Merkle root of those lines (base64url of 32 bytes).
    pub root: String,
    /// When the server signed it, in UTC (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    /// The Schnorr signature by the board key (the manifest's `board_key`).
    pub signature: SignatureDoc,
}

/// A Schnorr signature.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SchnorrSignature)]
pub struct SignatureDoc {
    /// The commitment (a group element, base64url).
    pub r: String,
    /// The response (a scalar, base64url).
    pub s: String,
}

/// Names of the security schemes.
pub mod security {
    /// An administrator's session cookie (from `POST /api/v1/admin/login`).
    pub const ADMIN_SESSION: &str = "admin_session";
    /// An administrator's API token (from `POST /api/v1/admin/tokens`), as a bearer token.
    pub const ADMIN_TOKEN: &str = "admin_token";
    /// A trustee's invitation token (from `POST /api/v1/admin/elections/{id}/setup`), as a
    /// bearer token.
    pub const TRUSTEE_INVITATION: &str = "trustee_invitation";
}

/// Adds the security schemes the handlers name.
#[derive(Debug)]
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            security::ADMIN_SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::COOKIE,
                "The session cookie that `POST /api/v1/admin/login` sets (HttpOnly, \
                 SameSite=Strict, Secure behind https).",
            ))),
        );
        components.add_security_scheme(
            security::ADMIN_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An administrator's API token from `POST /api/v1/admin/tokens`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            security::TRUSTEE_INVITATION,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A trustee's invitation token, from the election's setup.",
                    ))
                    .build(),
            ),
        );
    }
}
