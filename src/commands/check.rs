//! `mila check`: every request that ran outside the regions a policy allows, as a table, CSV or
//! JSON; exit 1 when there is one (or an unverifiable one, or a day of low logging coverage,
//! when asked).

use anyhow::{Context, Result};
use polars::prelude::IntoLazy;

use super::{one_answer, read_metrics, Status};
use crate::analysis::residency;
use crate::engine::{Ask, Question};
use crate::render::table::Table;
use crate::settings::{Check, Percent, TableFormat};
use crate::summary::Coverage;
use crate::tables::row::rows;
use crate::{escape, tell};

pub fn run(s: Check) -> Result<Status> {
    let ask = Ask { question: Question::Check { policy: &s.policy }, window: s.scope.window };
    // check judges logging coverage with the metrics, and nothing else: without a threshold they
    // would cost calls for nothing.
    let metrics = match s.min_coverage {
        Some(_) => read_metrics(&s.engine, &s.scope)?,
        None if !s.scope.metrics.is_empty() => {
            tell::line("mila: metrics: sources are read by check for --fail-on-coverage-below only; not read");
            None
        }
        None => None,
    };
    let Some(answer) = one_answer(&s.engine, &s.scope, ask)? else { return Ok(Status::Ok) };
    let (tables, stats) = answer.tables()?;
    let coverage = match s.min_coverage {
        Some(min) => Some((min, crate::summary::coverage(&tables, &stats)?)),
        None => None,
    };
    let metrics_days = match &metrics {
        Some(read) => Some(crate::summary::metrics::coverage_by_day(read, &tables, &s.scope.profiles)?),
        None => None,
    };
    let pairs = residency::pairs(tables.usage.lazy(), &s.policy)?;
    let violations = with_caller_kind(
        tables.violations.context("violations are listed whenever a policy is given")?,
        &tables.api_key_callers,
    )?;
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
    let gaps = match (coverage, &metrics_days) {
        // Without CloudTrail's calls, the metrics' count of calls is what logging is judged by.
        (Some((min, None)), Some(days)) => metrics_gaps(min, days),
        (Some((min, c)), _) => coverage_gaps(min, c.as_ref()),
        (None, _) => 0,
    };
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

/// Says on stderr which (source region, model, day) have less than `min` of the calls the
/// CloudWatch metrics count in the invocation logs; returns how many.
fn metrics_gaps(min: Percent, days: &[crate::summary::metrics::MetricsCoverageDay]) -> usize {
    let low: Vec<_> = days.iter().filter(|d| min.above(d.logged_requests.min(d.calls), d.calls)).collect();
    let (calls, logged) = days.iter().fold((0u64, 0u64), |(c, l), d| (c + d.calls, l + d.logged_requests.min(d.calls)));
    tell::line(&format!(
        "mila: logging coverage {} of {} calls the CloudWatch metrics count (no CloudTrail calls read); {} model-days below {}",
        if calls > 0 { crate::render::pct(logged as f64 / calls as f64) } else { "-".into() },
        calls,
        low.len(),
        crate::render::pct(min.as_f64())
    ));
    for d in &low {
        tell::line(&format!(
            "mila:   {} {} {}: {} of {} calls logged ({})",
            d.day,
            escape::terminal(&d.source_region),
            escape::terminal(&d.model),
            d.logged_requests.min(d.calls),
            d.calls,
            d.status
        ));
    }
    low.len()
}

/// The listing with the kind of each caller after its identity ARN: an API key's calls named as such.
fn with_caller_kind(
    mut violations: polars::prelude::DataFrame,
    api_keys: &[String],
) -> Result<polars::prelude::DataFrame> {
    use crate::frame::col;
    use crate::record::caller::{caller_of, CallerKind};
    let kinds: Vec<&str> = violations
        .column(col::IDENTITY_ARN)?
        .str()?
        .iter()
        .map(|arn| arn.map_or(CallerKind::Other, |a| caller_of(a, api_keys).kind).as_str())
        .collect();
    violations.with_column(polars::prelude::Column::new(col::CALLER_KIND.into(), kinds))?;
    Ok(violations)
}
