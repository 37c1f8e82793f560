//! The per-question tables (`crate::tables`) -> the `Summary` that serialises to `summary.json`:
//! `schema` holds its types, `build` one builder per section. No builder sees a record: any engine that makes the tables gets this summary.

pub mod batch;
mod build;
pub mod compare;
pub mod metrics;
mod schema;
pub mod views;

pub use build::{build, coverage, Given};
pub use schema::*;
