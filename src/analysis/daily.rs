//! Per UTC day: requests, routes and tokens per source region. The day series behind the charts;
//! summed over days they equal the window's totals.

use polars::prelude::*;

use super::{count_rows, count_where, sort_by};
use crate::frame::col;
use crate::record::Route;

/// Start of the UTC day, ms since the epoch.
pub const DAY: &str = "day";
pub const REQUESTS: &str = "requests";
pub const LOCAL: &str = "local";
pub const REROUTED: &str = "rerouted";
pub const UNKNOWN: &str = "unknown";
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
    let route = |r: Route| count_where(col(col::ROUTE).eq(lit(r.as_str())));
    let grouped = lf.group_by([day(), col(col::SOURCE_REGION)]).agg([
        count_rows().alias(REQUESTS),
        route(Route::Local).alias(LOCAL),
        route(Route::Rerouted).alias(REROUTED),
        route(Route::Unknown).alias(UNKNOWN),
        col(col::INPUT_TOKENS).sum().alias(INPUT),
        col(col::OUTPUT_TOKENS).sum().alias(OUTPUT),
        col(col::CACHE_READ_TOKENS).sum().alias(CACHE_READ),
        col(col::CACHE_WRITE_TOKENS).sum().alias(CACHE_WRITE),
    ]);
    sort_by(grouped, &[DAY, col::SOURCE_REGION])
}
