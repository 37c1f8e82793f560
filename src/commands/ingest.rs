//! `mila ingest`: reads sources into the store, only what is new, and each invocation once.

use anyhow::Result;

use super::{warn_about_input, Status};
use crate::given::profiles::Profiles;
use crate::load;
use crate::progress::Progress;
use crate::settings::Ingest;
use crate::store::plan::{Plan, Resume};
use crate::store::spill::{self, Spill};
use crate::store::Store;
use crate::window::Window;
use crate::{escape, tell};

pub fn run(s: Ingest) -> Result<Status> {
    let mut store = Store::open_for_writing(&s.store, &s.sources.aws)?;
    let crash = |point: &str| {
        if s.crash_at.as_deref() == Some(point) {
            tell::line(&format!("mila: test hook: aborting at {point}"));
            std::process::abort();
        }
    };
    let mut plan = Plan::new(&store.state, &s.sources, &s.scope, Resume { lookback_ms: s.lookback_ms })?;
    // Everything read is stored, whatever its time, and with application profiles unresolved:
    // reports resolve them.
    let unresolved = Profiles::default();
    let reading = load::Reading { window: Window::default(), profiles: &unresolved, max_line: s.sources.max_line };
    // Records go to temporary day files as they are read, and into the store a day at a time.
    let mut spill = Spill::new(spill::ROWS)?;
    let cloud = std::mem::take(&mut plan.cloud);
    let mut loaded = load::load(&plan.local(), cloud, reading, &mut Progress::new(s.sources.progress), &mut spill)?;
    plan.add_walked(&mut loaded.stats);
    warn_about_input(&loaded.stats);
    crash("loaded");
    let (mut added, mut read) = (0, 0);
    for day in spill.days()? {
        let (day, records) = day?;
        read += records.height() as u64;
        added += store.add_day(day, records)?;
    }
    let known = read - added;
    let metrics_days = store_metrics(&s, &mut store)?;
    crash("written");
    let files_read_before = plan.files_read_before;
    store.state.record(plan, &loaded, added, known);
    store.commit()?;
    crash("committed");
    store.clean()?;
    let st = &loaded.stats;
    tell::line(&format!(
        "mila: ingested {added} new records into {} ({known} already stored, {} duplicates within this run; {} objects or files and {} pages of events read, {} objects or files skipped as read before); the store holds {} records over {} days",
        escape::terminal(&store.name()),
        st.duplicates,
        st.units_read - loaded.fetched.pages,
        loaded.fetched.pages,
        loaded.fetched.already_read + files_read_before,
        store.state.totals.records,
        store.state.days.len()
    ));
    if let Some(days) = metrics_days {
        tell::line(&format!(
            "mila: stored the metrics of {days} whole UTC days of the window (a day the window cuts is not stored); the store holds metrics of {} days",
            store.state.metrics.len()
        ));
    }
    Ok(Status::Ok)
}

/// With `metrics:REGION` sources: reads them over the window and keeps its whole days; how many.
fn store_metrics(s: &Ingest, store: &mut Store) -> Result<Option<usize>> {
    if s.scope.metrics.is_empty() {
        return Ok(None);
    }
    let read = super::fetch_metrics(&s.scope)?;
    let since = s.scope.window.since.expect("settings require a window for metrics: sources");
    let until = s.scope.window.until.unwrap_or(s.scope.now_ms);
    let days = read.whole_days(since, until);
    let n = days.len();
    for day in days {
        store.put_metrics_day(day)?;
    }
    Ok(Some(n))
}
