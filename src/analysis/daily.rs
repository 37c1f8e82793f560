//! Per UTC day: requests, routes and tokens per source region. The day series behind the charts;
//! summed over days they equal the window's totals.

use polars::prelude::*;

use super::{grouped, token_sums};
use crate::frame::col;

/// One row per (day, source region) with any record. Input: `usage`.
pub fn by_source_region(usage: LazyFrame) -> LazyFrame {
    let mut aggs = super::rerouting::route_counts().to_vec();
    aggs.extend(token_sums());
    grouped(usage, &[col::DAY, col::SOURCE_REGION], aggs)
}
