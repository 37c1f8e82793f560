//! Cost: records are priced by (base model, source region, tier); failed calls cost nothing;
//! records with no matching price row stay unpriced, never silently zero.
//!
//! Cost is linear in token counts, so tokens are summed per pricing key first and only those few
//! groups are priced and joined: the frame itself is never copied by a join.

use polars::prelude::*;

use super::{requests, requests_where, sort_by};
use crate::frame::col::{self, REQUESTS};
use crate::given::prices::{Prices, Tier};
use crate::given::profiles::Profiles;
use crate::record::{ModelIdKind, ServiceTier};
use crate::tables::row::rows;

pub const USD: &str = "usd";
pub const UNPRICED: &str = "unpriced_requests";
pub const TAG_KEY: &str = col::KEY;
pub const TAG_VALUE: &str = col::VALUE;
pub const UNTAGGED: &str = "(untagged)";
/// Input and output tokens of the successful calls (failed calls are not billed).
pub const BILLED_INPUT: &str = "billed_input_tokens";
pub const BILLED_OUTPUT: &str = "billed_output_tokens";
/// Cache-write tokens of the successful calls, five-minute and one-hour.
pub const BILLED_CACHE_WRITE_5M: &str = "billed_cache_write_5m_tokens";
pub const BILLED_CACHE_WRITE_1H: &str = "billed_cache_write_1h_tokens";
const FIGURES: [&str; 7] =
    [REQUESTS, USD, UNPRICED, BILLED_INPUT, BILLED_OUTPUT, BILLED_CACHE_WRITE_5M, BILLED_CACHE_WRITE_1H];

const BILLED: [&str; 5] = col::TOKENS;
const PRICE: [&str; 5] =
    ["_price_input", "_price_output", "_price_cache_read", "_price_cache_write", "_price_cache_write_1h"];
const OK_REQUESTS: &str = "_ok_requests";

/// The tier a record is billed in: global profiles have global prices, everything else regional.
pub fn tier_of(model_id_kind: &str) -> Tier {
    if model_id_kind == ModelIdKind::GlobalProfile.as_str() {
        Tier::Global
    } else {
        Tier::Regional
    }
}

/// One row per pricing key and model id, after the `by` columns (the day, the caller, ...):
/// requests, usd (priced part), unpriced requests, and the billed tokens. Input: `usage`,
/// `callers` or `metadata` (any table with the model id, model, kind, source region, error code,
/// requests and token sums).
pub fn priced(lf: LazyFrame, prices: &Prices, by: &[&str]) -> PolarsResult<LazyFrame> {
    // The base model and the id's kind follow from the model id, so two keys are enough
    // (fewer, shorter group keys keep the group-by's row encoding small).
    let mut keys = by.to_vec();
    keys.extend([col::MODEL_ID, col::SOURCE_REGION, col::SERVICE_TIER]);
    let ok = col(col::ERROR_CODE).is_null();
    let mut aggs = vec![
        col(col::MODEL).first().alias(col::MODEL),
        col(col::MODEL_ID_KIND).first().alias(col::MODEL_ID_KIND),
        requests().alias(REQUESTS),
        requests_where(ok.clone()).alias(OK_REQUESTS),
    ];
    // Failed calls cost nothing: only successful calls' tokens are billed.
    aggs.extend(BILLED.map(|c| when(ok.clone()).then(col(c)).otherwise(lit(0i64)).sum().alias(c)));
    // Sorted, so that sums over these groups add up in the same order on every run and from
    // every source: float addition is not associative.
    let usage = lf.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>()).agg(aggs);
    let usage = usage.sort(keys.clone(), SortMultipleOptions::default()).collect()?;

    let mut cols: [Vec<Option<f64>>; 5] = Default::default();
    for r in rows(&usage) {
        let (m, region, kind) = (r.str(col::MODEL), r.str(col::SOURCE_REGION), r.str(col::MODEL_ID_KIND));
        let service = ServiceTier::parse(&r.str(col::SERVICE_TIER)).unwrap_or(ServiceTier::Other);
        let p = prices
            .lookup(&m, &region, tier_of(&kind), service)
            .map(|p| [p.input, p.output, p.cache_read, p.cache_write, p.cache_write_1h]);
        for (i, c) in cols.iter_mut().enumerate() {
            c.push(p.map(|p| p[i]));
        }
    }
    let mut usage = usage;
    for (name, values) in PRICE.iter().zip(cols) {
        usage.with_column(Column::new((*name).into(), values))?;
    }
    // Cache writes are five-minute ones but for the one-hour part, which has its own price.
    let tokens = |c: &str| col(c).cast(DataType::Float64);
    let five_minute = tokens(col::CACHE_WRITE_TOKENS) - tokens(col::CACHE_WRITE_1H_TOKENS);
    let billed = tokens(col::INPUT_TOKENS) * col(PRICE[0])
        + tokens(col::OUTPUT_TOKENS) * col(PRICE[1])
        + tokens(col::CACHE_READ_TOKENS) * col(PRICE[2])
        + five_minute * col(PRICE[3])
        + tokens(col::CACHE_WRITE_1H_TOKENS) * col(PRICE[4]);
    let priced = col(PRICE[0]).is_not_null();
    let mut out: Vec<Expr> = by.iter().map(|k| col(*k)).collect();
    out.extend([
        col(col::INPUT_TOKENS).alias(BILLED_INPUT),
        col(col::OUTPUT_TOKENS).alias(BILLED_OUTPUT),
        (col(col::CACHE_WRITE_TOKENS) - col(col::CACHE_WRITE_1H_TOKENS)).alias(BILLED_CACHE_WRITE_5M),
        col(col::CACHE_WRITE_1H_TOKENS).alias(BILLED_CACHE_WRITE_1H),
        col(col::MODEL_ID),
        col(col::MODEL),
        col(col::MODEL_ID_KIND),
        col(col::SOURCE_REGION),
        col(col::SERVICE_TIER),
        col(REQUESTS),
        when(priced.clone()).then(billed / lit(1_000_000.0)).otherwise(lit(0.0)).alias(USD),
        when(priced).then(lit(0i64)).otherwise(col(OK_REQUESTS)).alias(UNPRICED),
    ]);
    Ok(usage.lazy().select(out))
}

fn cost_aggs() -> [Expr; FIGURES.len()] {
    FIGURES.map(|c| col(c).sum().alias(c))
}

/// The model ids the price table cannot price, with their successful calls (failed calls cost
/// nothing, so they need no price), by source region and tier. Input: `usage`, any kind of
/// record (a CloudTrail event names its model too).
pub fn unpriced(usage: LazyFrame, prices: &Prices) -> PolarsResult<LazyFrame> {
    let keys = [col::MODEL_ID, col::MODEL, col::MODEL_ID_KIND, col::SOURCE_REGION, col::SERVICE_TIER];
    let rows =
        priced(usage, prices, &[])?
            .filter(col(UNPRICED).gt(lit(0)))
            .group_by(keys.map(col))
            .agg([col(UNPRICED).sum().alias(UNPRICED)]);
    Ok(sort_by(rows, &keys))
}

/// Per base model (after the `by` columns, such as the day): requests, usd over priced
/// records, unpriced requests, billed tokens. Input: `priced`.
pub fn by_model(priced: LazyFrame, by: &[&str]) -> LazyFrame {
    let mut keys = by.to_vec();
    keys.push(col::MODEL);
    grouped(priced, &keys)
}

/// The same figures per any columns of `priced` (source region, model-id kind), sorted by them.
pub fn grouped(priced: LazyFrame, keys: &[&str]) -> LazyFrame {
    sort_by(priced.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>()).agg(cost_aggs()), keys)
}

/// Per application-profile tag key and value, after the `by` columns (contract: records without
/// the tag are `(untagged)` under every key that appears in the profiles file). Input: `priced`.
pub fn by_tag(priced: LazyFrame, profiles: &Profiles, by: &[&str]) -> PolarsResult<LazyFrame> {
    let group = |lf: LazyFrame, key: &str| {
        let mut keys: Vec<Expr> = by.iter().map(|c| col(*c)).collect();
        keys.push(col(TAG_VALUE));
        let mut out: Vec<Expr> = by.iter().map(|c| col(*c)).collect();
        out.extend([TAG_KEY, TAG_VALUE].map(col));
        out.extend(FIGURES.map(col));
        lf.group_by(keys).agg(cost_aggs()).with_column(lit(key).alias(TAG_KEY)).select(out)
    };
    let mut per_key = Vec::new();
    for key in profiles.tag_keys() {
        let (arns, values): (Vec<&str>, Vec<&str>) =
            profiles.iter().map(|p| (p.arn.as_str(), p.tags.get(key).map_or(UNTAGGED, String::as_str))).unzip();
        let tags = DataFrame::new(
            arns.len(),
            vec![Column::new(col::MODEL_ID.into(), arns), Column::new(TAG_VALUE.into(), values)],
        )?;
        let lf = priced
            .clone()
            .join(tags.lazy(), [col(col::MODEL_ID)], [col(col::MODEL_ID)], JoinArgs::new(JoinType::Left))
            .with_column(col(TAG_VALUE).fill_null(lit(UNTAGGED)));
        per_key.push(group(lf, key));
    }
    if per_key.is_empty() {
        // No tag keys: no rows, with the same columns.
        let none = priced.filter(lit(false)).with_column(lit(UNTAGGED).alias(TAG_VALUE));
        per_key.push(group(none, ""));
    }
    let mut order = by.to_vec();
    order.extend([TAG_KEY, TAG_VALUE]);
    Ok(sort_by(concat(per_key, UnionArgs::default())?, &order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_table() {
        assert_eq!(tier_of("global-profile"), Tier::Global);
        for kind in ["foundation-model", "geo-profile", "application-profile", "other"] {
            assert_eq!(tier_of(kind), Tier::Regional, "{kind}");
        }
    }
}
