//! Data residency: a verdict per (source region, inference region) pair under the policy, the
//! counts per source region, and the violating records.

use polars::prelude::*;

use super::{count_rows, sort_by};
use crate::frame::col;
use crate::inputs::policy::{Policy, Verdict};

pub const VERDICT: &str = "verdict";
pub const REQUESTS: &str = "requests";
pub const VIOLATIONS: &str = "violations";
pub const UNVERIFIABLE: &str = "unverifiable";
pub const CHECKED: &str = "checked";

pub fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::NotChecked => "not-checked",
        Verdict::Allowed => "allowed",
        Verdict::Violation => "violation",
        Verdict::Unverifiable => "unverifiable",
    }
}

/// One row per region pair: requests and the policy's verdict. Globs are matched once a pair.
pub fn pairs(lf: LazyFrame, policy: &Policy) -> PolarsResult<DataFrame> {
    let mut pairs = lf
        .group_by([col(col::SOURCE_REGION), col(col::INFERENCE_REGION)])
        .agg([count_rows().alias(REQUESTS)])
        .collect()?;
    let sources = super::read::strs(&pairs, col::SOURCE_REGION)?;
    let inferences = super::read::strs(&pairs, col::INFERENCE_REGION)?;
    let verdicts: Vec<&str> = sources
        .iter()
        .zip(&inferences)
        .map(|(s, i)| verdict_str(policy.verdict(s.as_deref().unwrap_or(""), i.as_deref())))
        .collect();
    pairs.with_column(Column::new(VERDICT.into(), verdicts))?;
    Ok(pairs)
}

/// Per source region that a rule covers: checked requests, violations, unverifiable.
pub fn by_source_region(pairs: &DataFrame) -> LazyFrame {
    let n = |v: &str| when(col(VERDICT).eq(lit(v))).then(col(REQUESTS)).otherwise(lit(0i64)).sum();
    let grouped =
        pairs.clone().lazy().filter(col(VERDICT).neq(lit("not-checked"))).group_by([col(col::SOURCE_REGION)]).agg([
            col(REQUESTS).sum().alias(CHECKED),
            n("violation").alias(VIOLATIONS),
            n("unverifiable").alias(UNVERIFIABLE),
        ]);
    sort_by(grouped, &[col::SOURCE_REGION])
}

/// The violating records, oldest first, with what an auditor needs to follow them up.
pub fn violations(lf: LazyFrame, pairs: &DataFrame) -> LazyFrame {
    let keys = [col::SOURCE_REGION, col::INFERENCE_REGION];
    // A violation needs a known inference region, so no null keys meet in this join.
    let bad = pairs.clone().lazy().filter(col(VERDICT).eq(lit("violation"))).select(keys.map(col));
    let on: Vec<Expr> = keys.map(col).to_vec();
    let lf = lf.join(bad, on.clone(), on, JoinArgs::new(JoinType::Inner)).select([
        col(col::REQUEST_ID),
        col(col::TIMESTAMP),
        col(col::SOURCE_REGION),
        col(col::INFERENCE_REGION),
        col(col::MODEL_ID),
        col(col::IDENTITY_ARN),
    ]);
    sort_by(lf, &[col::TIMESTAMP, col::REQUEST_ID])
}
