//! Capacity: requests and tokens per minute per (source region, base model), their peaks, and
//! how many minutes came within 20% of the account's quotas. Rerouting exists because of these
//! quotas, so each row also carries its rerouting rate.
//!
//! Tokens per minute count input and output tokens, as Bedrock's on-demand quotas do; cache
//! reads and writes are not counted.

use polars::prelude::*;

use super::{count_rows, count_where, sort_by};
use crate::frame::col::{self, MINUTE, REQUESTS, REROUTED};
use crate::inputs::quotas::Quotas;

/// Quota tokens of a minute (input + output).
pub const TOKENS: &str = "tokens";
pub const PEAK_RPM: &str = "peak_requests_per_minute";
pub const PEAK_TPM: &str = "peak_tokens_per_minute";
/// The first minute with the peak request count.
pub const PEAK_MINUTE: &str = "peak_minute";
pub const ACTIVE_MINUTES: &str = "active_minutes";
pub const QUOTA_RPM: &str = "quota_requests_per_minute";
pub const QUOTA_TPM: &str = "quota_tokens_per_minute";
/// Minutes above 80% of either quota; null when the pair has no quota.
pub const HOT_MINUTES: &str = "minutes_above_80pct";

/// The share of a quota above which a minute counts as hot.
pub const HOT_SHARE: f64 = 0.8;

/// Per (source region, model): totals, peaks, and the quota comparison. Input: `per_minute`
/// (one row per source region, model and minute with any request).
pub fn peaks(per_minute: LazyFrame, quotas: &Quotas) -> PolarsResult<LazyFrame> {
    let q = &quotas.quotas;
    let quota_col = |f: fn(&crate::inputs::quotas::Quota) -> Option<u64>| -> Vec<Option<i64>> {
        q.iter().map(|x| f(x).map(|v| v as i64)).collect()
    };
    let table = DataFrame::new(
        q.len(),
        vec![
            Column::new(col::SOURCE_REGION.into(), q.iter().map(|x| x.region.as_str()).collect::<Vec<_>>()),
            Column::new(col::MODEL.into(), q.iter().map(|x| x.model.as_str()).collect::<Vec<_>>()),
            Column::new(QUOTA_RPM.into(), quota_col(|x| x.requests_per_minute)),
            Column::new(QUOTA_TPM.into(), quota_col(|x| x.tokens_per_minute)),
        ],
    )?;
    let keys = [col(col::SOURCE_REGION), col(col::MODEL)];
    let above = |n: &str, quota: &str| {
        col(n).cast(DataType::Float64).gt(lit(HOT_SHARE) * col(quota).cast(DataType::Float64)).fill_null(lit(false))
    };
    let has_quota = col(QUOTA_RPM).is_not_null().or(col(QUOTA_TPM).is_not_null());
    let grouped = per_minute
        .join(table.lazy(), keys.clone(), keys.clone(), JoinArgs::new(JoinType::Left))
        .group_by(keys)
        .agg([
            col(REQUESTS).sum().alias(REQUESTS),
            col(REROUTED).sum().alias(REROUTED),
            col(REQUESTS).max().alias(PEAK_RPM),
            col(TOKENS).max().alias(PEAK_TPM),
            col(MINUTE).filter(col(REQUESTS).eq(col(REQUESTS).max())).min().alias(PEAK_MINUTE),
            count_rows().alias(ACTIVE_MINUTES),
            col(QUOTA_RPM).first().alias(QUOTA_RPM),
            col(QUOTA_TPM).first().alias(QUOTA_TPM),
            count_where(above(REQUESTS, QUOTA_RPM).or(above(TOKENS, QUOTA_TPM))).alias(HOT_MINUTES),
            has_quota.any(true).alias("_has_quota"),
        ])
        .with_column(
            when(col("_has_quota"))
                .then(col(HOT_MINUTES))
                .otherwise(lit(NULL).cast(DataType::Int64))
                .alias(HOT_MINUTES),
        )
        .drop(cols(["_has_quota"]));
    Ok(sort_by(grouped, &[col::SOURCE_REGION, col::MODEL]))
}
