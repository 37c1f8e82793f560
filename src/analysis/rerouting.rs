//! Where cross-region requests ran: route counts per source region, and source -> inference flows.

use polars::prelude::*;

use super::{count_rows, count_where, sort_by};
use crate::frame::col;

pub const REQUESTS: &str = "requests";
pub const LOCAL: &str = "local";
pub const REROUTED: &str = "rerouted";
pub const UNKNOWN: &str = "unknown";
pub const RATE: &str = "rate";

/// Requests, and local / rerouted / unknown among them.
pub(crate) fn route_counts() -> [Expr; 4] {
    [
        count_rows().alias(REQUESTS),
        count_where(col(col::ROUTE).eq(lit("local"))).alias(LOCAL),
        count_where(col(col::ROUTE).eq(lit("rerouted"))).alias(REROUTED),
        count_where(col(col::ROUTE).eq(lit("unknown"))).alias(UNKNOWN),
    ]
}

fn with_rate(lf: LazyFrame) -> LazyFrame {
    lf.with_column((col(REROUTED).cast(DataType::Float64) / col(REQUESTS).cast(DataType::Float64)).alias(RATE))
}

/// One row per source region: requests, local, rerouted, unknown, rate.
pub fn by_source_region(lf: LazyFrame) -> LazyFrame {
    let grouped = lf.group_by([col(col::SOURCE_REGION)]).agg(route_counts());
    sort_by(with_rate(grouped), &[col::SOURCE_REGION])
}

/// One row per (source region, inference region); the inference region is null for unknown routes.
pub fn flows(lf: LazyFrame) -> LazyFrame {
    let grouped =
        lf.group_by([col(col::SOURCE_REGION), col(col::INFERENCE_REGION)]).agg([count_rows().alias(REQUESTS)]);
    sort_by(grouped, &[col::SOURCE_REGION, col::INFERENCE_REGION])
}
