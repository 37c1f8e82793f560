//! Per UTC day: requests, routes and tokens per source region. The day series behind the charts;
//! summed over days they equal the window's totals.

use polars::prelude::*;

use super::sort_by;
use crate::frame::col;

/// Start of the UTC day, ms since the epoch.
pub const DAY: &str = "day";
// The route counts are rerouting's, under its names.
pub use super::rerouting::{LOCAL, REQUESTS, REROUTED, UNKNOWN};
pub const INPUT: &str = "input";
pub const OUTPUT: &str = "output";
pub const CACHE_READ: &str = "cache_read";
pub const CACHE_WRITE: &str = "cache_write";

pub const DAY_MS: i64 = 86_400_000;

/// The record's UTC day (floor division, so times before 1970 fall on their own day too).
pub fn day() -> Expr {
    (col(col::TIMESTAMP).cast(DataType::Int64).floor_div(lit(DAY_MS)) * lit(DAY_MS)).alias(DAY)
}

/// One row per (day, source region) with any record.
pub fn by_source_region(lf: LazyFrame) -> LazyFrame {
    let mut aggs = super::rerouting::route_counts().to_vec();
    aggs.extend([
        col(col::INPUT_TOKENS).sum().alias(INPUT),
        col(col::OUTPUT_TOKENS).sum().alias(OUTPUT),
        col(col::CACHE_READ_TOKENS).sum().alias(CACHE_READ),
        col(col::CACHE_WRITE_TOKENS).sum().alias(CACHE_WRITE),
    ]);
    let grouped = lf.group_by([day(), col(col::SOURCE_REGION)]).agg(aggs);
    sort_by(grouped, &[DAY, col::SOURCE_REGION])
}
