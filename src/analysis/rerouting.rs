//! Where cross-region requests ran: route counts per source region, and source -> inference flows.

use polars::prelude::*;

use super::{grouped, requests, requests_where};
use crate::frame::col;
use crate::record::Route;

/// Requests, and local / rerouted / unknown among them.
pub(crate) fn route_counts() -> [Expr; 4] {
    let on = |r: Route| requests_where(col(col::ROUTE).eq(lit(r.as_str())));
    [
        requests().alias(col::REQUESTS),
        on(Route::Local).alias(col::LOCAL),
        on(Route::Rerouted).alias(col::REROUTED),
        on(Route::Unknown).alias(col::UNKNOWN),
    ]
}

/// One row per source region: requests, local, rerouted, unknown, rate. Input: `usage`.
pub fn by_source_region(usage: LazyFrame) -> LazyFrame {
    grouped(usage, &[col::SOURCE_REGION], route_counts()).with_column(
        (col(col::REROUTED).cast(DataType::Float64) / col(col::REQUESTS).cast(DataType::Float64)).alias(col::RATE),
    )
}

/// One row per (source region, inference region); the inference region is null for unknown
/// routes. Input: `usage`.
pub fn flows(usage: LazyFrame) -> LazyFrame {
    grouped(usage, &[col::SOURCE_REGION, col::INFERENCE_REGION], [requests().alias(col::REQUESTS)])
}
