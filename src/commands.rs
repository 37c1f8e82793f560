//! Each command: load -> analyse -> render -> write. Exit status is returned, never decided here.

use std::io::Write;

use anyhow::{Context, Result};
use polars::prelude::{IntoLazy, LazyFrame};
use polars::sql::SQLContext;

use crate::analysis::residency;
use crate::inputs::prices::Prices;
use crate::load::{self, Loaded};
use crate::render::{self, table::Table};
use crate::settings::{self, ReportFormat, TableFormat};
use crate::summary::{self, Inputs};
use crate::{escape, output, sample as generator, Status};

fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`mila ... | head`) is the reader's choice, not an error.
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

fn load_input(input: &settings::Input) -> Result<Loaded> {
    load::load(&input.sources, input.window, &input.profiles)
}

/// Rejected lines and unreadable sources never fail a run, but are never silent either.
fn warn_about_input(stats: &load::LoadStats) {
    if stats.rejected > 0 {
        let reasons: Vec<String> = stats.rejects.iter().map(|(r, g)| format!("{} {}", g.count, r)).collect();
        let first = stats.rejects.values().next().and_then(|g| g.first.first()).cloned().unwrap_or_default();
        eprintln!(
            "mila: warning: {} lines rejected ({}); first at {}",
            stats.rejected,
            reasons.join(", "),
            escape::terminal(&first)
        );
    }
    for p in &stats.problems {
        eprintln!("mila: warning: {}: {}", escape::terminal(&p.unit), escape::terminal(&p.message));
    }
}

pub fn report(s: settings::Report) -> Result<Status> {
    let loaded = load_input(&s.input)?;
    warn_about_input(&loaded.stats);
    let inputs = Inputs { prices: &s.prices, profiles: &s.input.profiles, policy: s.policy.as_ref() };
    let summary =
        summary::build(&loaded.frame, &loaded.stats, s.input.window, &inputs).context("analysing the records")?;
    let json = render::json::summary(&summary);
    if let Some(dir) = &s.out {
        let written = output::write_files(
            dir,
            &[("summary.json", json.clone()), ("report.md", render::markdown::report(&summary))],
        )?;
        for p in written {
            eprintln!("mila: wrote {}", p.display());
        }
    }
    match s.format {
        ReportFormat::Json => stdout(&json)?,
        ReportFormat::Text => stdout(&render::terminal::summary(&summary))?,
    }
    Ok(Status::Ok)
}

pub fn check(s: settings::Check) -> Result<Status> {
    let loaded = load_input(&s.input)?;
    warn_about_input(&loaded.stats);
    let lf = loaded.frame.lazy();
    let pairs = residency::pairs(lf.clone(), &s.policy)?;
    let violations = residency::violations(lf, &pairs).collect()?;
    let counts = residency::by_source_region(&pairs).collect()?;
    let sum =
        |name: &str| -> Result<i64> { Ok(crate::analysis::read::ints(&counts, name)?.into_iter().flatten().sum()) };
    let (unverifiable, checked) = (sum(residency::UNVERIFIABLE)?, sum(residency::CHECKED)?);
    let table = Table::from_frame(&violations)?;
    stdout(&match s.format {
        TableFormat::Table if table.rows.is_empty() => Vec::new(),
        TableFormat::Table => table.to_terminal(),
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
    let failing = violations.height() > 0 || (s.fail_on_unverifiable && unverifiable > 0);
    Ok(if failing { Status::Violations } else { Status::Ok })
}

pub fn query(s: settings::Query) -> Result<Status> {
    let loaded = load_input(&s.input)?;
    warn_about_input(&loaded.stats);
    let mut ctx = SQLContext::new();
    ctx.register("invocations", loaded.frame.lazy());
    let result =
        ctx.execute(&s.sql).and_then(LazyFrame::collect).with_context(|| format!("query {}", s.sql_path.display()))?;
    let table = Table::from_frame(&result)?;
    stdout(&match s.format {
        TableFormat::Table => table.to_terminal(),
        TableFormat::Json => table.to_json(),
        TableFormat::Csv => table.to_csv(),
    })?;
    Ok(Status::Ok)
}

pub fn sample(s: settings::Sample) -> Result<Status> {
    let written = generator::write_corpus(&s.out, s.records, s.seed, s.start_ms)?;
    eprintln!("mila: wrote {} records in {} objects under {}", written.records, written.objects, s.out.display());
    Ok(Status::Ok)
}

pub fn prices(p: &Prices) -> Result<Status> {
    stdout(format!("# {}; USD per million tokens\n{}", p.source, p.to_csv()).as_bytes())?;
    Ok(Status::Ok)
}
