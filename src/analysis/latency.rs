//! Latency by inference region: successful calls with a known inference region; percentiles are
//! nearest-rank order statistics over the calls whose latency is known.

use polars::prelude::*;

use super::{count_rows, sort_by};
use crate::frame::col;
use crate::record::Route;

/// Successful calls with a known inference region (the denominator of coverage).
pub const CALLS: &str = "calls";
/// Of those, calls with a known latency: the contract's `requests`.
pub const REQUESTS: &str = "requests";
pub const P50: &str = "p50_ms";
pub const P90: &str = "p90_ms";
pub const P99: &str = "p99_ms";
pub const MEAN: &str = "mean_ms";
pub const FIRST_BYTE_P50: &str = "first_byte_p50_ms";

/// Nearest rank: the value at rank ceil(q * n), which polars calls `Equiprobable`.
fn nearest_rank(e: Expr, q: f64) -> Expr {
    e.quantile(lit(q), QuantileMethod::Equiprobable).cast(DataType::Int64)
}

pub fn by_inference_region(lf: LazyFrame) -> LazyFrame {
    let latency = col(col::LATENCY_MS);
    let grouped = lf
        .filter(col(col::ERROR_CODE).is_null().and(col(col::INFERENCE_REGION).is_not_null()))
        .group_by([col(col::INFERENCE_REGION)])
        .agg([
            count_rows().alias(CALLS),
            latency.clone().count().cast(DataType::Int64).alias(REQUESTS),
            nearest_rank(latency.clone(), 0.50).alias(P50),
            nearest_rank(latency.clone(), 0.90).alias(P90),
            nearest_rank(latency.clone(), 0.99).alias(P99),
            latency.mean().alias(MEAN),
            nearest_rank(col(col::FIRST_BYTE_MS), 0.50).alias(FIRST_BYTE_P50),
        ]);
    sort_by(grouped, &[col::INFERENCE_REGION])
}

/// The latency cost of rerouting: per (source region, base model, route), successful calls with
/// a known latency whose route is local or rerouted. Unknown routes say nothing about it.
pub fn by_route(lf: LazyFrame) -> LazyFrame {
    let latency = col(col::LATENCY_MS);
    let known_route =
        col(col::ROUTE).eq(lit(Route::Local.as_str())).or(col(col::ROUTE).eq(lit(Route::Rerouted.as_str())));
    let grouped = lf
        .filter(col(col::ERROR_CODE).is_null().and(latency.clone().is_not_null()).and(known_route))
        .group_by([col(col::SOURCE_REGION), col(col::MODEL), col(col::ROUTE)])
        .agg([
            count_rows().alias(REQUESTS),
            nearest_rank(latency.clone(), 0.50).alias(P50),
            nearest_rank(latency, 0.90).alias(P90),
        ]);
    sort_by(grouped, &[col::SOURCE_REGION, col::MODEL, col::ROUTE])
}
