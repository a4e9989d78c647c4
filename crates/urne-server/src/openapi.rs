//! The API's OpenAPI description, generated from the handlers' annotations.

use utoipa::OpenApi;

/// The description of `/api/v1`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "urne",
        description = "End-to-end verifiable voting: elections, ballots, bulletin boards."
    ),
    components(schemas(
        crate::commit::Ack,
        crate::public::ElectionView,
        crate::public::BallotLocation,
        crate::public::InclusionView,
        crate::public::ConsistencyView,
        crate::public::Health,
        crate::trustees::CeremonyView,
        crate::trustees::DecryptionAck,
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
        crate::admin::AuditEntry,
    ))
)]
pub struct ApiDoc;

/// The description.
pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
