//! Each command: load -> analyse -> render -> write. Exit status is returned, never decided here.

use std::io::Write;

use anyhow::{Context, Result};
use polars::prelude::{IntoLazy, LazyFrame};
use polars::sql::SQLContext;

use crate::analysis::residency;
use crate::athena;
use crate::frame::{Batch, Dedupe, FrameBuilder, Sink};
use crate::load::{self, LoadStats};
use crate::progress::Progress;
use crate::render::{self, table::Table};
use crate::settings::{self, Engine, ReportFormat, TableFormat};
use crate::source::{cloudwatch, s3, CloudJob, SourceSpec};
use crate::store::{Seen, Store};
use crate::summary::{self, EngineOut, Inputs};
use crate::tables::row::rows;
use crate::tables::Tables;
use crate::tally::Tally;
use crate::window::Window;
use crate::{escape, output, sample as generator, Status};

fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`mila ... | head`) is the reader's choice, not an error.
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// Reads a command's input over `window` into `sink`: its sources, or its store.
fn load_into(input: &settings::Input, window: Window, sink: &mut impl Sink) -> Result<LoadStats> {
    if let Some(dir) = &input.store {
        return store_into(dir, input, window, sink);
    }
    let local: Vec<SourceSpec> = input.sources.iter().filter(|s| !s.is_cloud()).cloned().collect();
    let cloud = [s3::Part::Logs, s3::Part::Trail]
        .into_iter()
        .flat_map(|part| {
            input.sources.iter().filter_map(move |s| load::cloud_job(s, part, window, &input.aws, input.now_ms))
        })
        .collect();
    let reading = load::Reading { window, profiles: &input.profiles, max_line: input.max_line };
    let loaded = load::load(&local, cloud, reading, &mut Progress::new(input.progress), sink)?;
    Ok(loaded.stats)
}

/// The per-question tables of a window, in one pass over its records.
fn tally(input: &settings::Input, window: Window, mut tally: Tally) -> Result<(Tables, LoadStats)> {
    let stats = load_into(input, window, &mut tally)?;
    Ok((tally.finish().context("aggregating the records")?, stats))
}

/// Records from a store, in the window, a day file at a time, each request id once; with the
/// rejects, duplicates and problems its ingests met, as a direct read of the files reports them
/// (these are not narrowed by the window: a rejected line has no time to trust).
fn store_into(
    at: &crate::store::StoreAt,
    input: &settings::Input,
    window: Window,
    sink: &mut impl Sink,
) -> Result<LoadStats> {
    let store = Store::open_for_reading(at, &input.aws)?;
    let mut stats = LoadStats { units_read: store.state.days.len() as u64, ..store.state.totals.input_stats() };
    let mut seen = Dedupe::default();
    store.for_each_day(window.since, window.until, |day| {
        let day = crate::store::resolve_profiles(day, &input.profiles)?;
        let (batch, outside) = Batch::from_frame(&day, window)?;
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

/// Reads sources into the store: only what is new, and each invocation once.
pub fn ingest(s: settings::Ingest) -> Result<Status> {
    let mut store = Store::open_for_writing(&s.store, &s.input.aws)?;
    let crash = |point: &str| {
        if s.crash_at.as_deref() == Some(point) {
            eprintln!("mila: test hook: aborting at {point}");
            std::process::abort();
        }
    };
    let input = &s.input;
    let local: Vec<SourceSpec> = input.sources.iter().filter(|x| !x.is_cloud()).cloned().collect();
    // Local files read before and unchanged since are not read again (as S3 objects are not).
    let walked = crate::source::file::expand(&local)?;
    let mut files_read_before = 0;
    let mut files = Vec::new();
    let mut keys = std::collections::HashSet::new();
    for unit in walked.units {
        if let crate::source::Unit::File(path) = unit {
            // One file named twice (`x`, `./x`, its absolute path, a link) is read once.
            let key = crate::store::file_key(&path);
            if !keys.insert(key.clone()) {
                continue;
            }
            let seen = crate::store::file_seen(&path);
            if seen.is_some() && store.state.files.get(&key) == seen.as_ref() {
                files_read_before += 1;
            } else {
                files.push((path, key, seen));
            }
        }
    }
    let local: Vec<SourceSpec> = files.iter().map(|(p, _, _)| SourceSpec::Path(p.clone())).collect();
    let mut cloud = Vec::new();
    let mut cloudwatch_ends = Vec::new();
    // Event streams (CloudWatch, Event history) are read again from a little before the newest
    // end an ingest read, where late events land; the window narrows that further.
    let resume = |key: String, ends: &mut Vec<(String, i64)>| {
        let resume = store.state.cloudwatch.get(&key).map(|end| end - s.lookback_ms);
        let start = match (input.window.since.map(|t| t - load::MARGIN_MS), resume) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let end = input.window.until.map(|u| u + load::MARGIN_MS).unwrap_or(input.now_ms);
        ends.push((key, end));
        (start, end)
    };
    for spec in &input.sources {
        match spec {
            SourceSpec::S3(location) => {
                let key = location.url(&location.prefix);
                let state = store.state.s3.get(&key).cloned().unwrap_or_default();
                // Without a window, list again from a few hours before the newest hour read,
                // where late objects land.
                let since = input.window.since.or(state.newest_hour_ms.map(|h| h - s.lookback_ms));
                let listing = s3::Listing {
                    since_ms: since,
                    until_ms: since.map(|_| input.window.until.unwrap_or(input.now_ms)),
                };
                let seen: std::sync::Arc<dyn Fn(&s3::ObjectInfo) -> bool + Send + Sync> =
                    std::sync::Arc::new(move |o: &s3::ObjectInfo| state.has(o));
                for part in [s3::Part::Logs, s3::Part::Trail] {
                    cloud.push(CloudJob::S3(s3::Job {
                        location: location.clone(),
                        listing,
                        part,
                        settings: input.aws.clone(),
                        seen: seen.clone(),
                    }));
                }
            }
            SourceSpec::CloudWatch(group) => {
                let (start, end) = resume(group_key(group), &mut cloudwatch_ends);
                cloud.push(CloudJob::CloudWatch(cloudwatch::Job {
                    group: group.clone(),
                    start_ms: start,
                    end_ms: Some(end),
                    settings: input.aws.clone(),
                }));
            }
            SourceSpec::History(history) => {
                let (start, end) = resume(history.name(), &mut cloudwatch_ends);
                cloud.push(CloudJob::History(crate::source::history::Job {
                    history: history.clone(),
                    start_ms: start,
                    end_ms: Some(end),
                    now_ms: input.now_ms,
                    settings: input.aws.clone(),
                }));
            }
            SourceSpec::Path(_) | SourceSpec::Stdin => {}
        }
    }
    // Everything read is stored, whatever its time: the window only narrows what is listed,
    // and an object once read is not read again.
    // Application profiles stay unresolved in the store: reports resolve them (store.rs).
    let unresolved = crate::inputs::profiles::Profiles::default();
    let mut frame = FrameBuilder::default();
    let reading = load::Reading { window: Window::default(), profiles: &unresolved, max_line: input.max_line };
    let mut loaded = load::load(&local, cloud, reading, &mut Progress::new(input.progress), &mut frame)?;
    let stats = &mut loaded.stats;
    stats.skipped_objects += walked.skipped.len() as u64;
    let room = load::FIRST_LOCATIONS.saturating_sub(stats.skipped_examples.len());
    stats.skipped_examples.extend(walked.skipped.into_iter().take(room));
    stats.problems.extend(walked.problems);
    warn_about_input(&loaded.stats);
    crash("loaded");
    let (added, known) = store.add(&frame.finish()?)?;
    crash("written");
    for (source, o) in &loaded.fetched.objects {
        let entry = store.state.s3.entry(source.clone()).or_default();
        entry.objects.insert(o.key.clone(), Seen { etag: o.etag.clone(), size: o.size });
        if let Some(hour) = s3::key_hour_ms(&o.key) {
            entry.newest_hour_ms = entry.newest_hour_ms.max(Some(hour));
        }
    }
    for (key, end) in cloudwatch_ends {
        let entry = store.state.cloudwatch.entry(key).or_insert(end);
        *entry = (*entry).max(end);
    }
    // A file that could not be read to its end is read again next time.
    for (path, key, seen) in files {
        let name = path.display().to_string();
        if let Some(seen) = seen.filter(|_| !loaded.stats.problems.iter().any(|p| *p.unit == *name)) {
            store.state.files.insert(key, seen);
        }
    }
    let st = &loaded.stats;
    store.state.totals.add(st, added, known);
    store.commit()?;
    crash("committed");
    store.clean()?;
    eprintln!(
        "mila: ingested {added} new records into {} ({known} already stored, {} duplicates within this run; {} objects or files and {} pages of events read, {} objects or files skipped as read before); the store holds {} records over {} days",
        escape::terminal(&store.name()),
        st.duplicates,
        st.units_read - loaded.fetched.pages,
        loaded.fetched.pages,
        loaded.fetched.already_read + files_read_before,
        store.state.totals.records,
        store.state.days.len()
    );
    Ok(Status::Ok)
}

fn group_key(group: &cloudwatch::LogGroup) -> String {
    match &group.region {
        Some(region) => format!("cloudwatch:{}@{region}", group.name),
        None => format!("cloudwatch:{}", group.name),
    }
}

/// Rejected lines and unreadable sources never fail a run, but are never silent either.
fn warn_about_input(stats: &load::LoadStats) {
    for line in input_warnings(stats) {
        eprintln!("{line}");
    }
}

fn input_warnings(stats: &load::LoadStats) -> Vec<String> {
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

/// The report tables of one window, from the engine the settings name.
fn report_tables(s: &settings::Report, window: Window) -> Result<(Tables, LoadStats, EngineOut)> {
    match &s.engine {
        Engine::Local => {
            let tally = Tally::for_report(!s.metadata_keys.is_empty(), capacity_rules(s));
            let (tables, stats) = self::tally(&s.input, window, tally)?;
            Ok((tables, stats, EngineOut::local()))
        }
        Engine::Athena(a) => athena::report(a, window, capacity_rules(s), &s.metadata_keys),
    }
}

fn capacity_rules(s: &settings::Report) -> crate::analysis::capacity::Rules<'_> {
    crate::analysis::capacity::Rules { quotas: &s.quotas, burndown: &s.burndown, profiles: &s.input.profiles }
}

/// Two runs of one engine as one: Athena's queries and bytes add up.
fn both(a: EngineOut, b: &EngineOut) -> EngineOut {
    let add = |x: Option<u64>, y: Option<u64>| x.zip(y).map(|(x, y)| x + y);
    EngineOut {
        queries: add(a.queries, b.queries),
        data_scanned_bytes: add(a.data_scanned_bytes, b.data_scanned_bytes),
        billed_bytes: add(a.billed_bytes, b.billed_bytes),
        cost_usd: a.cost_usd.zip(b.cost_usd).map(|(x, y)| x + y),
        ..a
    }
}

pub fn report(s: settings::Report) -> Result<Status> {
    if let Engine::Athena(a) = &s.engine {
        if a.dry_run {
            let mut statements = athena::report_statements(a, s.input.window, &s.input.profiles, &s.metadata_keys);
            if let Some(window) = s.previous {
                statements.extend(athena::report_statements(a, window, &s.input.profiles, &s.metadata_keys));
            }
            stdout(athena::script(&statements).as_bytes())?;
            return Ok(Status::Ok);
        }
    }
    let (tables, stats, engine) = report_tables(&s, s.input.window)?;
    warn_about_input(&stats);
    let inputs = Inputs {
        prices: &s.prices,
        profiles: &s.input.profiles,
        policy: s.policy.as_ref(),
        quotas: &s.quotas,
        burndown: &s.burndown,
        metadata_keys: &s.metadata_keys,
    };
    let mut summary = summary::build(&tables, &stats, s.input.window, &inputs).context("analysing the records")?;
    summary.engine = engine;
    drop(tables);
    if let Some(window) = s.previous {
        // The previous window is read as its own report would read it: same sources, same
        // rules. Its warnings are shown too, once each (local files are read twice).
        let (before, before_stats, engine) = report_tables(&s, window)?;
        let seen = input_warnings(&stats);
        for line in input_warnings(&before_stats).into_iter().filter(|l| !seen.contains(l)) {
            eprintln!("{line} (previous window)");
        }
        let previous = summary::build(&before, &before_stats, window, &inputs)
            .context("analysing the records of the previous window")?;
        summary.comparison = Some(crate::compare::compare(&summary, &previous));
        summary.engine = both(summary.engine.clone(), &engine);
    }
    if summary.engine.queries.is_some() {
        eprintln!("{}", athena::bill(&summary.engine));
    }
    let json = render::json::summary(&summary);
    if let Some(dir) = &s.out {
        // summary.json first: whatever happens to a chart, the figures are out.
        let mut written = output::write_files(dir, &[("summary.json", json.clone())])?;
        let charts = render::charts::all(&summary);
        let mut files = vec![
            ("report.md".to_string(), render::markdown::report(&summary, &charts)),
            ("report.html".to_string(), render::html::report(&summary, &charts)),
        ];
        for c in charts {
            match c {
                Ok(c) => {
                    files.push((format!("{}.png", c.name), c.png));
                    files.push((format!("{}.svg", c.name), c.svg.into_bytes()));
                }
                Err(e) => eprintln!("mila: warning: chart {} not drawn: {}", e.name, escape::terminal(&e.message)),
            }
        }
        written.extend(output::write_files(dir, &files)?);
        for p in written {
            eprintln!("mila: wrote {}", p.display());
        }
    }
    match s.format {
        ReportFormat::Json => stdout(&json)?,
        ReportFormat::Text => stdout(&render::terminal::summary(&summary, s.width))?,
    }
    Ok(Status::Ok)
}

pub fn check(s: settings::Check) -> Result<Status> {
    let (tables, stats) = match &s.engine {
        Engine::Local => tally(&s.input, s.input.window, Tally::for_check(&s.policy))?,
        Engine::Athena(a) if a.dry_run => {
            let statements = athena::check_statements(a, s.input.window, &s.input.profiles, &s.policy);
            stdout(athena::script(&statements).as_bytes())?;
            return Ok(Status::Ok);
        }
        Engine::Athena(a) => {
            let (tables, stats, engine) = athena::check(a, s.input.window, &s.input.profiles, &s.policy)?;
            eprintln!("{}", athena::bill(&engine));
            (tables, stats)
        }
    };
    warn_about_input(&stats);
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
    stdout(&match s.format {
        TableFormat::Table if table.rows.is_empty() => Vec::new(),
        TableFormat::Table => table.to_terminal(s.width),
        TableFormat::Json => table.to_json(),
        TableFormat::Csv => table.to_csv(),
    })?;
    eprintln!(
        "mila: {} violations, {} unverifiable (inference region unknown) of {} requests checked against {}",
        violations.height(),
        unverifiable,
        checked,
        escape::terminal(&s.policy.name)
    );
    let gaps = coverage.map_or(0, |(min, c)| coverage_gaps(min, c.as_ref()));
    let failing = violations.height() > 0 || (s.fail_on_unverifiable && unverifiable > 0) || gaps > 0;
    Ok(if failing { Status::Violations } else { Status::Ok })
}

/// Says on stderr which source regions' days have less than `min` of their CloudTrail calls in
/// the invocation logs; returns how many.
fn coverage_gaps(min: settings::Percent, coverage: Option<&crate::summary::Coverage>) -> usize {
    let Some(c) = coverage else {
        eprintln!("mila: no Bedrock runtime calls in CloudTrail in this window: logging coverage has nothing to judge (read CloudTrail files or cloudtrail:REGION with the invocation logs)");
        return 0;
    };
    let low: Vec<_> =
        c.by_source_region_day.iter().filter(|d| min.above(d.cloudtrail_calls_logged, d.cloudtrail_calls)).collect();
    eprintln!(
        "mila: logging coverage {} of {} CloudTrail calls; {} source-region days below {}",
        c.coverage.map_or("-".into(), crate::render::pct),
        c.cloudtrail_calls,
        low.len(),
        crate::render::pct(min.as_f64())
    );
    for d in &low {
        eprintln!(
            "mila:   {} {}: {} of {} CloudTrail calls logged ({}, {})",
            d.day,
            escape::terminal(&d.source_region),
            d.cloudtrail_calls_logged,
            d.cloudtrail_calls,
            d.coverage.map_or("-".into(), crate::render::pct),
            d.status
        );
    }
    low.len()
}

pub fn query(s: settings::Query) -> Result<Status> {
    let table = match &s.engine {
        Engine::Local => {
            let mut frame = FrameBuilder::default();
            let stats = load_into(&s.input, s.input.window, &mut frame)?;
            warn_about_input(&stats);
            let mut ctx = SQLContext::new();
            ctx.register("invocations", frame.finish()?.lazy());
            let result = ctx
                .execute(&s.sql)
                .and_then(LazyFrame::collect)
                .with_context(|| format!("query {}", s.sql_path.display()))?;
            Table::from_frame(&result)?
        }
        Engine::Athena(a) if a.dry_run => {
            let statement = athena::query_statement(a, s.input.window, &s.input.profiles, &s.sql);
            stdout(athena::script(&[statement]).as_bytes())?;
            return Ok(Status::Ok);
        }
        Engine::Athena(a) => {
            let (table, engine) = athena::query(a, s.input.window, &s.input.profiles, &s.sql)
                .with_context(|| format!("query {}", s.sql_path.display()))?;
            eprintln!("{}", athena::bill(&engine));
            table
        }
    };
    stdout(&match s.format {
        TableFormat::Table => table.to_terminal(s.width),
        TableFormat::Json => table.to_json(),
        TableFormat::Csv => table.to_csv(),
    })?;
    Ok(Status::Ok)
}

pub fn sample(s: settings::Sample) -> Result<Status> {
    let written = generator::write_corpus(&s.out, s.records, s.seed, s.start_ms, s.bodies, s.cloudtrail)?;
    eprintln!("mila: wrote {} records in {} objects under {}", written.records, written.objects, s.out.display());
    if let Some(t) = &written.trail {
        eprintln!(
            "mila: wrote a CloudTrail trail of {} Bedrock calls ({} of them in no invocation log) in {} files",
            t.calls, t.only_in_cloudtrail, t.files
        );
    }
    Ok(Status::Ok)
}

pub fn prices(t: &settings::PriceTables) -> Result<Status> {
    let (p, b) = (&t.prices, &t.burndown);
    if let Some(input) = &t.check {
        return prices_check(input, p, t.width);
    }
    // The burndown table follows as comments, so the output is still a prices file.
    let burndown: String = b.rows().iter().map(|(model, rate)| format!("# {model},{rate}\n")).collect();
    let text = format!(
        "# {}; USD per million tokens\n{}#\n# {}; quota tokens per output token, most specific row first\n# model,rate\n{burndown}",
        p.source,
        p.to_csv(),
        b.source
    );
    stdout(text.as_bytes())?;
    Ok(Status::Ok)
}

/// `prices --check`: the model ids in the logs the price table cannot price, before a report
/// would count them unpriced.
fn prices_check(
    input: &settings::Input,
    prices: &crate::inputs::prices::Prices,
    width: Option<usize>,
) -> Result<Status> {
    let (tables, stats) = tally(input, input.window, Tally::for_usage())?;
    warn_about_input(&stats);
    let unpriced = crate::analysis::cost::unpriced(tables.usage.lazy(), prices)?.collect()?;
    let calls: u64 = crate::tables::row::rows(&unpriced).map(|r| r.u64(crate::analysis::cost::UNPRICED)).sum();
    if unpriced.height() == 0 {
        eprintln!("mila: {} prices every model id of the {} records read", prices.source, stats.parsed());
        return Ok(Status::Ok);
    }
    stdout(&Table::from_frame(&unpriced)?.to_terminal(width))?;
    eprintln!(
        "mila: {} cannot price {} model ids ({calls} successful calls); give them rows in a --prices file",
        prices.source,
        unpriced.height()
    );
    Ok(Status::Violations)
}

/// One fetch per `--region` in turn (the configured region when none was given), each with the
/// fetch's own error; the runtime ends before anything is computed from them.
fn per_region<'a, T, E, Fut>(
    s: &'a settings::Fetch,
    fetch: impl Fn(&'a crate::source::aws::AwsSettings, Option<&'a str>) -> Fut,
) -> Result<Vec<T>>
where
    Fut: std::future::Future<Output = std::result::Result<T, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let wanted: Vec<Option<&str>> =
        if s.regions.is_empty() { vec![None] } else { s.regions.iter().map(|r| Some(r.as_str())).collect() };
    let runtime = crate::source::aws::runtime().context("cannot start the async runtime")?;
    let fetched = runtime.block_on(async {
        let mut out = Vec::new();
        for region in wanted {
            out.push(fetch(&s.aws, region).await?);
        }
        Ok::<_, E>(out)
    })?;
    Ok(fetched)
}

/// Writes the quotas file from Service Quotas: each per-minute inference quota it can map to a
/// (model, kind) through the bundled names table; the per-minute names it cannot map are listed.
pub fn quotas_fetch(s: settings::Fetch) -> Result<Status> {
    use crate::inputs::quotas::{map_quota_name, Per, Quota, Quotas, MAX_QUOTA};
    use crate::source::servicequotas;
    // The file is replaced, so it must be a quotas file already (or not exist).
    if s.out.exists() {
        Quotas::load(&s.out).context("--out names a file that is not a quotas file; not overwriting it")?;
    }
    let fetched = per_region(&s, servicequotas::fetch)?;

    let mut quotas: std::collections::BTreeMap<(String, &str, crate::inputs::quotas::QuotaKind), Quota> =
        Default::default();
    // Everything left out, as one line each: the names come from AWS, so they are escaped (a
    // control character would end a TOML comment and the file would not load).
    let (mut left_out, mut unmapped, mut other) = (Vec::new(), 0usize, 0usize);
    let mut per_region = Vec::new();
    for (region, listed) in &fetched {
        let before = quotas.len();
        for l in listed {
            let Some((model, kind, per)) = map_quota_name(&l.name) else {
                if l.name.to_lowercase().contains("per minute") {
                    unmapped += 1;
                    left_out.push(format!("not mapped to a model: {region}: {}", escape::terminal(&l.name)));
                } else {
                    other += 1;
                }
                continue;
            };
            let value = l.value.filter(|v| v.is_finite() && *v >= 1.0 && *v <= MAX_QUOTA as f64);
            let Some(value) = value.map(|v| v.round() as u64) else {
                left_out.push(format!(
                    "{region}: {}: value {:?} is not a quota per minute",
                    escape::terminal(&l.name),
                    l.value
                ));
                continue;
            };
            let q = quotas.entry((region.clone(), model, kind)).or_insert_with(|| Quota {
                region: region.clone(),
                model: model.to_string(),
                kind,
                requests_per_minute: None,
                tokens_per_minute: None,
            });
            let slot = match per {
                Per::Requests => &mut q.requests_per_minute,
                Per::Tokens => &mut q.tokens_per_minute,
            };
            match slot {
                Some(_) => left_out
                    .push(format!("{region}: {}: a second name for a quota already read", escape::terminal(&l.name))),
                None => *slot = Some(value),
            }
        }
        per_region.push(format!("{region}: {}", quotas.len() - before));
    }
    let regions: Vec<&str> = fetched.iter().map(|(r, _)| r.as_str()).collect();
    let mut header = format!(
        "Bedrock quotas per minute, from `mila quotas fetch` (Service Quotas, service code {}) in {}, on {}.\n\
         Read with `mila report --quotas FILE`.",
        servicequotas::SERVICE_CODE,
        regions.join(", "),
        s.today
    );
    if !left_out.is_empty() {
        header.push_str("\n\nLeft out (add them by hand if they matter):");
        for line in &left_out {
            header.push_str(&format!("\n  {line}"));
        }
    }
    let quotas: Vec<Quota> = quotas.into_values().collect();
    output::write_atomic(&s.out, Quotas::to_toml(&quotas, &header).as_bytes())?;
    let mut msg =
        format!("mila: wrote {} to {} ({})", plural(quotas.len(), "quota"), s.out.display(), per_region.join(", "));
    if unmapped > 0 {
        msg.push_str(&format!("; {unmapped} per-minute quota names not mapped to a model"));
    }
    msg.push_str(&format!("; {} other Bedrock quotas are not per-minute inference quotas", other));
    eprintln!("{}", escape::terminal(&msg));
    for line in &left_out {
        eprintln!("mila: left out: {line}");
    }
    Ok(Status::Ok)
}

/// Lists the account's application inference profiles into the profiles file, keeping those
/// Bedrock no longer lists so that older logs still resolve.
pub fn profiles_fetch(s: settings::Fetch) -> Result<Status> {
    use crate::inputs::profiles::{self, Profiles};
    use crate::source::bedrock;
    // An existing file is updated, so it must be a profiles file: never overwrite anything else.
    let previous = if s.out.exists() {
        Profiles::load(&s.out).context("--out names a file that is not a profiles file; not overwriting it")?
    } else {
        Profiles::default()
    };
    let fetched = per_region(&s, bedrock::fetch)?;

    let regions: Vec<String> = fetched.iter().map(|(r, _)| r.clone()).collect();
    let mut per_region = Vec::new();
    let (mut listed, mut vanished) = (Vec::new(), Vec::new());
    for (region, f) in fetched {
        per_region.push(format!("{region}: {}", f.profiles.len()));
        listed.extend(f.profiles);
        vanished.extend(f.vanished);
    }
    let count = listed.len();
    let (all, kept) = profiles::merge(&previous, listed, &regions, s.today);
    let header = format!(
        "Application inference profiles, from `mila profiles fetch` in {}.\n\
         Read with `mila report --profiles FILE`. Keep this file: a profile deleted in Bedrock\n\
         stays here with `last_seen`, so logs written while it existed still resolve.",
        regions.join(", ")
    );
    output::write_atomic(&s.out, profiles::to_toml(&all, s.today, &header).as_bytes())?;

    let mut msg = format!(
        "mila: wrote {} to {} (snapshot {}): {count} listed now ({})",
        plural(all.len(), "profile"),
        s.out.display(),
        s.today,
        per_region.join(", ")
    );
    if kept > 0 {
        msg.push_str(&format!(", {kept} kept that Bedrock no longer lists"));
    }
    let others = all.len() - count - kept;
    if others > 0 {
        msg.push_str(&format!(", {others} kept from regions not fetched this time"));
    }
    eprintln!("{}", escape::terminal(&msg));
    for arn in &vanished {
        eprintln!("mila: {}: deleted while being read; left out", escape::terminal(arn));
    }
    Ok(Status::Ok)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Declares the Athena table over a delivery prefix, or prints what it would run.
pub fn athena_setup(p: athena::SetupPlan) -> Result<Status> {
    let done = athena::setup(&p)?;
    for folder in &done.ignored {
        eprintln!("mila: warning: left out of the table: {}", escape::terminal(folder));
    }
    if p.print {
        stdout(athena::script(&done.statements).as_bytes())?;
    } else {
        eprintln!("{}", escape::terminal(&athena::setup_message(&p, &done)));
    }
    Ok(Status::Ok)
}
