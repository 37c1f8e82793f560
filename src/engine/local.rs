//! The local engine: reads the sources (or the store) here, one pass per ask, into the sink
//! that answers its question: a `Tally` for the per-question tables, a frame for a query.

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, Engine, IntoLazy, LazyFrame, PolarsResult};
use polars::sql::SQLContext;

use super::{Answer, Ask, Figures, Question};
use crate::frame::{Batch, FrameBuilder, MayRepeat, Sink};
use crate::load::{self, LoadStats};
use crate::progress::Progress;
use crate::render::table::Table;
use crate::scope::{LocalSources, Scope};
use crate::scratch::{self, QueryFrame};
use crate::source::{s3, SourceSpec};
use crate::store::{Store, StoreAt};
use crate::tally::Tally;
use crate::window::Window;

pub fn answer(sources: &LocalSources, scope: &Scope, ask: &Ask) -> Result<Answer> {
    let mut tally = match ask.question {
        Question::Report { quotas, burndown, metadata_keys } => {
            Tally::for_report(!metadata_keys.is_empty(), Question::rules(quotas, burndown, scope))
        }
        Question::Check { policy } => Tally::for_check(policy),
        Question::Usage => Tally::for_usage(),
        Question::Query { sql, path } => {
            // Only the columns the statement names are built, and written out in batches:
            // memory follows the statement's result, not the records.
            let columns = crate::local_sql::columns(sql);
            let mut frame = QueryFrame::new(&columns, scratch::ROWS);
            let stats = read_into(sources, scope, ask.window, Some(&columns), &mut frame)?;
            let spooled = frame.finish()?;
            let result = run_sql(sql, spooled.frame).or_else(|e| {
                // An error that names the table's columns (an unknown one) names them all, as
                // over the whole frame: the statement is planned again over no rows of it.
                run_sql(sql, FrameBuilder::default().finish()?.lazy()).and(Err(e))
            });
            let result = result.with_context(|| format!("query {}", path.display()))?;
            return Ok(Answer { figures: Figures::Rows(Table::from_frame(&result)?), stats });
        }
    };
    let stats = read_into(sources, scope, ask.window, None, &mut tally)?;
    let tables = tally.finish().context("aggregating the records")?;
    Ok(Answer { figures: Figures::Tables(Box::new(tables)), stats })
}

/// Runs `sql` over `invocations` on polars' streaming engine, so that a frame scanned from
/// files is read a morsel at a time.
fn run_sql(sql: &str, invocations: LazyFrame) -> PolarsResult<DataFrame> {
    let mut ctx = SQLContext::new();
    ctx.register(crate::local_sql::TABLE, invocations);
    Ok(ctx.execute(sql)?.collect_with_engine(Engine::Streaming)?.unwrap_single())
}

/// Reads the sources over `window` into `sink`, or the store when one is named. A sink that
/// builds only some `columns` of the record frame has a store read only what makes those.
pub fn read_into(
    sources: &LocalSources,
    scope: &Scope,
    window: Window,
    columns: Option<&[&str]>,
    sink: &mut impl Sink,
) -> Result<LoadStats> {
    if let Some(at) = &sources.store {
        let columns = columns.map(crate::frame::read_for);
        return store_into(at, sources, scope, window, columns.as_deref(), sink);
    }
    let local: Vec<SourceSpec> = sources.sources.iter().filter(|s| !s.is_cloud()).cloned().collect();
    let cloud = [s3::Part::Logs, s3::Part::Trail]
        .into_iter()
        .flat_map(|part| {
            sources.sources.iter().filter_map(move |s| load::cloud_job(s, part, window, &sources.aws, scope.now_ms))
        })
        .collect();
    let reading = load::Reading { window, profiles: &scope.profiles, max_line: sources.max_line };
    let loaded = load::load(&local, cloud, reading, &mut Progress::new(sources.progress), sink)?;
    Ok(loaded.stats)
}

/// Records from a store, in the window, a day file at a time, each request id once; with the
/// rejects, duplicates and problems its ingests met, as a direct read of the files reports them
/// (these are not narrowed by the window: a rejected line has no time to trust).
fn store_into(
    at: &StoreAt,
    sources: &LocalSources,
    scope: &Scope,
    window: Window,
    columns: Option<&[&str]>,
    sink: &mut impl Sink,
) -> Result<LoadStats> {
    let store = Store::open_for_reading(at, &sources.aws)?;
    let mut stats = LoadStats { units_read: store.state.days.len() as u64, ..store.state.totals.input_stats() };
    // The ids first (one column of each day), so the records' pass holds only those that repeat.
    let mut may_repeat = MayRepeat::new(store.state.totals.records);
    store.for_each_day_ids(window.since, window.until, |ids| {
        ids.iter().for_each(|id| may_repeat.add(id.unwrap_or_default()))
    })?;
    let mut seen = may_repeat.dedupe();
    store.for_each_day(window.since, window.until, columns, |day| {
        let (batch, outside) = Batch::from_frame(&day, window, &scope.profiles)?;
        stats.lines += batch.len() as u64;
        stats.outside_window += outside;
        seen.feed(batch, sink);
        // A call's CloudTrail event and log record lie at most a day apart (either side of
        // midnight): events held from days before this one are settled.
        seen.settle(1, sink);
        Ok(())
    })?;
    seen.finish(sink);
    stats.duplicates += seen.duplicates;
    stats.also_logged += seen.logged;
    Ok(stats)
}
