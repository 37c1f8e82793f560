//! Data residency: a verdict per (source region, inference region) pair under the policy, and
//! the counts per source region. (`check` lists the violating records: `crate::tally`.)

use polars::prelude::*;

use super::{requests, sort_by};
use crate::frame::col::{self, REQUESTS};
use crate::given::policy::{Policy, Verdict};
use crate::tables::row::rows;

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

/// One row per region pair: requests and the policy's verdict. Globs are matched once a pair.
/// Input: `usage`.
pub fn pairs(usage: LazyFrame, policy: &Policy) -> PolarsResult<DataFrame> {
    let mut pairs = usage
        .group_by([col(col::SOURCE_REGION), col(col::INFERENCE_REGION)])
        .agg([requests().alias(REQUESTS)])
        .collect()?;
    let verdicts: Vec<&str> = rows(&pairs)
        .map(|r| verdict_str(policy.verdict(&r.str(col::SOURCE_REGION), r.opt_str(col::INFERENCE_REGION).as_deref())))
        .collect();
    pairs.with_column(Column::new(VERDICT.into(), verdicts))?;
    Ok(pairs)
}

/// Per source region that a rule covers: checked requests, violations, unverifiable.
pub fn by_source_region(pairs: &DataFrame) -> LazyFrame {
    let n = |v: Verdict| when(col(VERDICT).eq(lit(verdict_str(v)))).then(col(REQUESTS)).otherwise(lit(0i64)).sum();
    let not_checked = verdict_str(Verdict::NotChecked);
    let grouped =
        pairs.clone().lazy().filter(col(VERDICT).neq(lit(not_checked))).group_by([col(col::SOURCE_REGION)]).agg([
            col(REQUESTS).sum().alias(CHECKED),
            n(Verdict::Violation).alias(VIOLATIONS),
            n(Verdict::Unverifiable).alias(UNVERIFIABLE),
        ]);
    sort_by(grouped, &[col::SOURCE_REGION])
}
