//! API clients that write the user's files (not log sources): `profiles fetch` reads Bedrock's
//! application inference profiles, `quotas fetch` Service Quotas' Bedrock quotas. They share
//! `source::aws`'s set-up, retries, page guard and error messages.

pub mod profiles;
pub mod quotas;
