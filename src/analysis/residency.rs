//! Data residency: each record's verdict under the policy; violations and counts by source region.

use polars::prelude::*;

use super::{count_where, sort_by};
use crate::frame::col;
use crate::inputs::policy::{Policy, Verdict};

pub const VERDICT: &str = "verdict";
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

/// Adds `verdict` to every record. Globs are matched once per distinct region pair.
pub fn with_verdict(lf: LazyFrame, policy: &Policy) -> PolarsResult<LazyFrame> {
    let keys = [col::SOURCE_REGION, col::INFERENCE_REGION];
    let pairs = lf.clone().select(keys.map(col)).unique(None, UniqueKeepStrategy::Any).collect()?;
    let sources = super::read::strs(&pairs, col::SOURCE_REGION)?;
    let inferences = super::read::strs(&pairs, col::INFERENCE_REGION)?;
    let verdicts: Vec<&str> = sources
        .iter()
        .zip(&inferences)
        .map(|(s, i)| verdict_str(policy.verdict(s.as_deref().unwrap_or(""), i.as_deref())))
        .collect();
    let table = DataFrame::new(
        pairs.height(),
        vec![
            Column::new(col::SOURCE_REGION.into(), sources),
            Column::new(col::INFERENCE_REGION.into(), inferences),
            Column::new(VERDICT.into(), verdicts),
        ],
    )?;
    let mut args = JoinArgs::new(JoinType::Left);
    // Unknown inference regions are null and must still find their verdict.
    args.nulls_equal = true;
    let on: Vec<Expr> = keys.map(col).to_vec();
    Ok(lf.join(table.lazy(), on.clone(), on, args))
}

/// Per source region that a rule covers: checked records, violations, unverifiable.
pub fn by_source_region(with_verdict: LazyFrame) -> LazyFrame {
    let grouped = with_verdict.filter(col(VERDICT).neq(lit("not-checked"))).group_by([col(col::SOURCE_REGION)]).agg([
        super::count_rows().alias(CHECKED),
        count_where(col(VERDICT).eq(lit("violation"))).alias(VIOLATIONS),
        count_where(col(VERDICT).eq(lit("unverifiable"))).alias(UNVERIFIABLE),
    ]);
    sort_by(grouped, &[col::SOURCE_REGION])
}

/// The violating records, oldest first, with what an auditor needs to follow them up.
pub fn violations(with_verdict: LazyFrame) -> LazyFrame {
    let lf = with_verdict.filter(col(VERDICT).eq(lit("violation"))).select([
        col(col::REQUEST_ID),
        col(col::TIMESTAMP),
        col(col::SOURCE_REGION),
        col(col::INFERENCE_REGION),
        col(col::MODEL_ID),
        col(col::IDENTITY_ARN),
    ]);
    sort_by(lf, &[col::TIMESTAMP, col::REQUEST_ID])
}
