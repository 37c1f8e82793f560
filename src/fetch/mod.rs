//! API clients that write the user's files (not log sources): `profiles fetch` reads Bedrock's
//! application inference profiles, `quotas fetch` Service Quotas' Bedrock quotas. They share
//! `source::aws`'s set-up, retries, page guard and error messages.

pub mod batch;
pub mod metrics;
pub mod prices;
pub mod profiles;
pub mod quotas;

use crate::source::aws::PagesError;

/// Why a fetch from one region failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("no AWS region: pass --region (repeatable) or set AWS_REGION or a region in the profile")]
    NoRegion,
    /// A call that failed for good, said by `aws::describe`.
    #[error("{0}")]
    Call(String),
    #[error(transparent)]
    Pages(#[from] PagesError),
    /// An application profile whose models name no one model.
    #[error("{arn}: {problem}")]
    Shape { arn: String, problem: profiles::ModelsProblem },
}
