//! `mila check`: every request that ran outside the regions a policy allows, as a table, CSV or
//! JSON; exit 1 when there is one (or an unverifiable one, or a day of low logging coverage,
//! when asked).

use anyhow::{Context, Result};
use polars::prelude::IntoLazy;

use super::{one_answer, Status};
use crate::analysis::residency;
use crate::engine::{Ask, Question};
use crate::render::table::Table;
use crate::settings::{Check, Percent, TableFormat};
use crate::summary::Coverage;
use crate::tables::row::rows;
use crate::{escape, tell};

pub fn run(s: Check) -> Result<Status> {
    let ask = Ask { question: Question::Check { policy: &s.policy }, window: s.scope.window };
    let Some(answer) = one_answer(&s.engine, &s.scope, ask)? else { return Ok(Status::Ok) };
    let (tables, stats) = answer.tables()?;
    let coverage = match s.min_coverage {
        Some(min) => Some((min, crate::summary::coverage(&tables, &stats)?)),
        None => None,
    };
    let pairs = residency::pairs(tables.usage.lazy(), &s.policy)?;
    let violations = tables.violations.context("violations are listed whenever a policy is given")?;
    let counts = residency::by_source_region(&pairs).collect()?;
    let sum = |name: &str| rows(&counts).map(|r| r.u64(name)).sum::<u64>();
    let (unverifiable, checked) = (sum(residency::UNVERIFIABLE), sum(residency::CHECKED));
    let table = Table::from_frame(&violations)?;
    tell::stdout(&match s.format {
        TableFormat::Table if table.rows.is_empty() => Vec::new(),
        TableFormat::Table => table.to_terminal(s.width),
        TableFormat::Json => table.to_json(),
        TableFormat::Csv => table.to_csv(),
    })?;
    tell::line(&format!(
        "mila: {} violations, {} unverifiable (inference region unknown) of {} requests checked against {}",
        violations.height(),
        unverifiable,
        checked,
        escape::terminal(&s.policy.name)
    ));
    let gaps = coverage.map_or(0, |(min, c)| coverage_gaps(min, c.as_ref()));
    let failing = violations.height() > 0 || (s.fail_on_unverifiable && unverifiable > 0) || gaps > 0;
    Ok(if failing { Status::Violations } else { Status::Ok })
}

/// Says on stderr which source regions' days have less than `min` of their CloudTrail calls in
/// the invocation logs; returns how many.
fn coverage_gaps(min: Percent, coverage: Option<&Coverage>) -> usize {
    let Some(c) = coverage else {
        tell::line("mila: no Bedrock runtime calls in CloudTrail in this window: logging coverage has nothing to judge (read CloudTrail files or cloudtrail:REGION with the invocation logs)");
        return 0;
    };
    let low: Vec<_> =
        c.by_source_region_day.iter().filter(|d| min.above(d.cloudtrail_calls_logged, d.cloudtrail_calls)).collect();
    tell::line(&format!(
        "mila: logging coverage {} of {} CloudTrail calls; {} source-region days below {}",
        c.coverage.map_or("-".into(), crate::render::pct),
        c.cloudtrail_calls,
        low.len(),
        crate::render::pct(min.as_f64())
    ));
    for d in &low {
        tell::line(&format!(
            "mila:   {} {}: {} of {} CloudTrail calls logged ({}, {})",
            d.day,
            escape::terminal(&d.source_region),
            d.cloudtrail_calls_logged,
            d.cloudtrail_calls,
            d.coverage.map_or("-".into(), crate::render::pct),
            d.status
        ));
    }
    low.len()
}
