//! One file per command: settings -> engine -> summary -> render -> output. How a command ends
//! is its `Status`; `lib::main` turns that (or an error) into the exit code.

mod athena_setup;
mod check;
mod fetch;
mod ingest;
mod prices;
mod query;
mod report;
mod sample;

use anyhow::{Context, Result};

use crate::engine::{Answer, Ask, Engine, Outcome};
use crate::escape;
use crate::load::LoadStats;
use crate::settings::{Scope, Settings};
use crate::summary::EngineOut;
use crate::tell;

/// How a command that ran ends. Errors (exit 2) are the `Err` side of `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: it ran.
    Ok,
    /// 1: `check` found violations (or `prices --check` unpriced models).
    Violations,
}

pub fn run(settings: Settings) -> Result<Status> {
    match settings {
        Settings::Report(s) => report::run(*s),
        Settings::Check(s) => check::run(s),
        Settings::Query(s) => query::run(s),
        Settings::Sample(s) => sample::run(s),
        Settings::Prices(p) => prices::run(p),
        Settings::Ingest(s) => ingest::run(s),
        Settings::ProfilesFetch(s) => fetch::profiles(s),
        Settings::QuotasFetch(s) => fetch::quotas(s),
        Settings::PricesFetch(s) => fetch::prices(s),
        Settings::AthenaSetup(s) => athena_setup::run(s),
    }
}

/// The engine stage as every command meets it. With `--dry-run` the statements of every ask
/// are printed and nothing runs (None). Otherwise each answer is handed to `take` as it comes,
/// after its input warnings are said (a later window's, with `--compare previous`, only where
/// they differ), and what Athena ran and cost is said once for all asks.
fn answers(
    engine: &Engine,
    scope: &Scope,
    asks: &[Ask],
    mut take: impl FnMut(usize, Answer) -> Result<()>,
) -> Result<Option<EngineOut>> {
    let mut first: Vec<String> = Vec::new();
    let outcome = engine.run(scope, asks, |i, answer| {
        let warnings = input_warnings(&answer.stats);
        if i == 0 {
            warnings.iter().for_each(|line| tell::line(line));
            first = warnings;
        } else {
            for line in warnings.iter().filter(|l| !first.contains(l)) {
                tell::line(&format!("{line} (previous window)"));
            }
        }
        take(i, answer)
    })?;
    let spent = match outcome {
        Outcome::DryRun(statements) => {
            tell::stdout(crate::engine::athena::script(&statements).as_bytes())?;
            if let Some(groups) = engine.log_groups() {
                tell::line(&crate::engine::insights::before(statements.len(), groups));
            }
            return Ok(None);
        }
        Outcome::Ran(spent) => spent,
    };
    if let Some(spent) = &spent {
        tell::line(&match (spent.by, engine.log_groups()) {
            (crate::engine::Biller::Insights, Some(groups)) => crate::engine::insights::bill(spent, groups),
            _ => crate::engine::athena::bill(spent),
        });
    }
    Ok(Some(EngineOut::of(spent.as_ref(), engine.log_groups())))
}

/// The `metrics:REGION` sources read, else what a store read by the engine kept of them (`mila
/// ingest metrics:REGION`); none when there are none or the engine only prints what it would run.
fn read_metrics(engine: &Engine, scope: &Scope) -> Result<Option<crate::fetch::metrics::MetricsRead>> {
    if engine.dry_run() {
        return Ok(None);
    }
    if scope.metrics.is_empty() {
        let Some((at, aws)) = engine.store() else { return Ok(None) };
        let store = crate::store::Store::open_for_reading(at, aws)?;
        let days = store.metrics_between(scope.window.since, scope.window.until)?;
        if days.is_empty() {
            return Ok(None);
        }
        let read = crate::fetch::metrics::MetricsRead::from_days(days, scope.window.since, scope.window.until);
        for note in &read.notes {
            tell::line(&format!("mila: metrics: {note}"));
        }
        return Ok(Some(read));
    }
    fetch_metrics(scope).map(Some)
}

/// Reads the `batch:` sources for every window asked (none when there are none), on a runtime of
/// their own that ends before anything is computed.
fn read_batch(
    engine: &Engine,
    scope: &Scope,
    windows: &[crate::window::Window],
) -> Result<Option<crate::fetch::batch::BatchRead>> {
    if scope.batch.is_empty() || engine.dry_run() {
        return Ok(None);
    }
    // One listing for all the windows: from the earliest start to the latest end.
    let window = crate::window::Window {
        since: windows.iter().map(|w| w.since).min().flatten(),
        until: windows.iter().map(|w| w.until).try_fold(i64::MIN, |m, u| u.map(|u| m.max(u))),
    };
    let runtime = crate::source::aws::runtime().context("cannot start the async runtime")?;
    let read = runtime
        .block_on(crate::fetch::batch::read(&scope.batch, window, &scope.metrics.aws))
        .context("cannot read the batch: sources")?;
    let no_manifest = read.jobs.values().filter(|j| !matches!(j.manifest, Some(Ok(_))));
    let (from_records, without): (Vec<_>, Vec<_>) = no_manifest.partition(|j| matches!(j.records, Some(Ok(_))));
    tell::line(&format!(
        "mila: batch: {} jobs read ({} ListModelInvocationJobs calls); {} counted from its records (no usable manifest), {} without counts",
        read.jobs.len(),
        read.api_calls,
        from_records.len(),
        without.len()
    ));
    Ok(Some(read))
}

/// Reads the `metrics:REGION` sources, on a runtime of their own that ends before anything is
/// computed, and says what they cost.
pub(crate) fn fetch_metrics(scope: &Scope) -> Result<crate::fetch::metrics::MetricsRead> {
    let runtime = crate::source::aws::runtime().context("cannot start the async runtime")?;
    let m = &scope.metrics;
    let read = runtime
        .block_on(crate::fetch::metrics::fetch(&m.regions, scope.window, scope.now_ms, &m.aws))
        .context("cannot read the metrics: sources")?;
    tell::line(&format!(
        "mila: metrics: {} GetMetricData and ListMetrics calls, {} metrics requested, {:.4} USD",
        read.calls,
        read.metrics_requested,
        read.cost_usd()
    ));
    for note in &read.notes {
        tell::line(&format!("mila: metrics: {note}"));
    }
    if read.bad_values > 0 {
        tell::line(&format!(
            "mila: warning: metrics: {} datapoints were no count (NaN, infinite or negative) and were left out",
            read.bad_values
        ));
    }
    Ok(read)
}

/// The one answer of a command that asks one question; None with `--dry-run`.
fn one_answer(engine: &Engine, scope: &Scope, ask: Ask) -> Result<Option<Answer>> {
    let mut answer = None;
    let ran = answers(engine, scope, &[ask], |_, a| {
        answer = Some(a);
        Ok(())
    })?;
    Ok(ran.and(answer))
}

/// Rejected lines and unreadable sources never fail a run, but are never silent either.
fn warn_about_input(stats: &LoadStats) {
    for line in input_warnings(stats) {
        tell::line(&line);
    }
}

fn input_warnings(stats: &LoadStats) -> Vec<String> {
    let mut out = Vec::new();
    if stats.rejected > 0 {
        let reasons: Vec<String> = stats.rejects.iter().map(|(r, g)| format!("{} {}", g.count, r)).collect();
        let first = stats.rejects.values().next().and_then(|g| g.first.first()).cloned().unwrap_or_default();
        out.push(format!(
            "mila: warning: {} lines rejected ({}); first at {}",
            stats.rejected,
            reasons.join(", "),
            escape::terminal(&first)
        ));
    }
    for p in &stats.problems {
        out.push(format!("mila: warning: {}: {}", escape::terminal(&p.unit), escape::terminal(&p.message)));
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
