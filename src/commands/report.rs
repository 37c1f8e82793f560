//! `mila report`: the summary of a window (and the one before, with `--compare previous`) on
//! standard output, and with `--out` as summary.json, report.md, report.html and the charts.

use anyhow::{Context, Result};

use super::{answers, read_batch, read_metrics, Status};
use crate::engine::{Ask, Question};
use crate::settings::{Report, ReportFormat};
use crate::summary::{self, Given, Summary};
use crate::{escape, output, render, tell};

pub fn run(s: Report) -> Result<Status> {
    let question = Question::Report { quotas: &s.quotas, burndown: &s.burndown, metadata_keys: &s.metadata_keys };
    let mut asks = vec![Ask { question, window: s.scope.window }];
    asks.extend(s.previous.map(|window| Ask { question, window }));
    let given = Given {
        prices: &s.prices,
        profiles: &s.scope.profiles,
        policy: s.policy.as_ref(),
        quotas: &s.quotas,
        burndown: &s.burndown,
        metadata_keys: &s.metadata_keys,
    };
    let metrics = read_metrics(&s.engine, &s.scope)?;
    let batch = read_batch(&s.engine, &s.scope, &asks.iter().map(|a| a.window).collect::<Vec<_>>())?;
    // Each window's tables become its summary before the next window is read.
    let mut summaries: Vec<Summary> = Vec::new();
    let engine = answers(&s.engine, &s.scope, &asks, |i, answer| {
        let (tables, stats) = answer.tables()?;
        let what = if i == 0 { "analysing the records" } else { "analysing the records of the previous window" };
        let mut summary = summary::build(&tables, &stats, asks[i].window, &given).context(what)?;
        if let Some(read) = metrics.as_ref().filter(|_| i == 0) {
            let logs_usd = summary.cost.as_ref().map_or(0.0, |c| c.total);
            let rows = summary.capacity.as_ref().map_or(&[][..], |c| &c.by_source_region_model_kind[..]);
            let section = summary::metrics::section(read, &tables, &s.prices, &s.scope.profiles, logs_usd, rows)
                .context("comparing the metrics with the records")?;
            summary.metrics = Some(section);
        }
        // After the metrics, which compare the logs' own cost.
        if let Some(read) = &batch {
            summary::batch::apply(&mut summary, read, asks[i].window, &s.prices, &s.scope.profiles);
        }
        summaries.push(summary);
        Ok(())
    })?;
    let Some(engine) = engine else { return Ok(Status::Ok) };
    let mut summaries = summaries.into_iter();
    let mut summary = summaries.next().context("the engine gave no answer")?;
    if let Some(previous) = summaries.next() {
        summary.comparison = Some(summary::compare::compare(&summary, &previous));
    }
    summary.engine = engine;
    write(&s, &summary)
}

/// The summary as files (with `--out`) and on standard output.
fn write(s: &Report, summary: &Summary) -> Result<Status> {
    let json = render::json::summary(summary);
    if let Some(dir) = &s.out {
        // summary.json first: whatever happens to a chart, the figures are out.
        let mut written = output::write_files(dir, &[("summary.json", json.clone())])?;
        let charts = render::charts::all(summary);
        let mut files = vec![
            ("report.md".to_string(), render::markdown::report(summary, &charts)),
            ("report.html".to_string(), render::html::report(summary, &charts)),
        ];
        for c in charts {
            match c {
                Ok(c) => {
                    files.push((format!("{}.png", c.id), c.png));
                    files.push((format!("{}.svg", c.id), c.svg.into_bytes()));
                }
                Err(e) => {
                    tell::line(&format!("mila: warning: chart {} not drawn: {}", e.id, escape::terminal(&e.message)))
                }
            }
        }
        written.extend(output::write_files(dir, &files)?);
        for p in written {
            tell::line(&format!("mila: wrote {}", p.display()));
        }
    }
    match s.format {
        ReportFormat::Json => tell::stdout(&json)?,
        ReportFormat::Text => tell::stdout(&render::terminal::summary(summary, s.width))?,
    }
    Ok(Status::Ok)
}
