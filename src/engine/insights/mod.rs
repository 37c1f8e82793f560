//! The Logs Insights engine (`--engine insights`): the per-question tables computed by
//! CloudWatch Logs Insights where CloudWatch-delivered logs already are. `ql` writes each
//! question's queries, `split` splits a window whose result would not fit Logs Insights' limits,
//! `client` runs one query over one window (start, poll, read, stop), and `results` adds the
//! parts up into the result tables `athena::tables` reads; everything after is shared.

pub mod client;
pub mod ql;
pub mod results;
pub mod split;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use aws_sdk_cloudwatchlogs::Client;

use super::{Answer, Ask, Figures, Question, Spent};
use crate::engine::athena::{sql::Statement, tables};
use crate::scope::Scope;
use crate::source::aws;
use client::{InsightsError, Rows, Running};
use split::{Bounds, Span, Split, SplitError};

/// What `--engine insights` runs against and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Insights {
    pub run: client::Settings,
    pub bounds: Bounds,
    /// `--dry-run`: print the queries, run nothing.
    pub dry_run: bool,
    /// The log groups' region when they are named by ARN (else `--region` and the usual chain).
    pub region: Option<String>,
}

/// What Logs Insights costs: USD per GB scanned (GetQueryResults' `bytesScanned`), the
/// Standard log class price in us-east-1 and most regions, as CloudWatch's pricing page lists it
/// on the date below. No minimum per query.
pub const USD_PER_GB: f64 = 0.005;
pub const PRICE_AS_OF: &str = "2026-12-07";

pub fn cost_usd(bytes: u64) -> f64 {
    bytes as f64 / 1e9 * USD_PER_GB
}

/// The window of an ask in whole seconds, as Logs Insights takes it: the start rounded down, the
/// end up (a bound with milliseconds widens to its second), and from 1970 on (StartQuery takes no
/// earlier time).
fn span(ask: &Ask, scope: &Scope) -> Result<Span> {
    let Some(since) = ask.window.since else {
        bail!("--engine insights queries a time range: give --since (and --until, else it ends now)");
    };
    let until = ask.window.until.unwrap_or(scope.now_ms);
    if until <= since.max(0) {
        bail!("--engine insights: the window is empty (Logs Insights holds nothing before 1970)");
    }
    Ok(Span { start: since.max(0).div_euclid(1000), end: (until + 999).div_euclid(1000) })
}

fn first_queries(ask: &Ask) -> Result<Vec<ql::Query>> {
    Ok(match ask.question {
        Question::Report { metadata_keys, .. } => {
            if let Some(k) = metadata_keys.iter().find(|k| !ql::metadata_key_ok(k)) {
                bail!(
                    "--by-metadata `{}`: with --engine insights a key is letters, digits, `_`, `-` and `:`",
                    crate::escape::terminal(k)
                );
            }
            ql::report(metadata_keys)
        }
        Question::Check { .. } => ql::check(),
        Question::Usage => ql::usage_only(),
        Question::Query { .. } => {
            bail!("`query` runs SQL: use --engine local or athena (--engine insights answers report and check)")
        }
    })
}

/// The queries an ask starts with, each over the whole window, as `--dry-run` prints them: a
/// report's two route-latency queries and a check's violations query follow once the usage is
/// known (they name its source regions and pairs), and are not among them.
pub fn statements(ins: &Insights, scope: &Scope, ask: &Ask) -> Result<Vec<Statement>> {
    let span = span(ask, scope)?;
    let head = format!("# window {} ; log groups: {}\n", span.describe(), ins.run.log_groups.join(", "));
    Ok(first_queries(ask)?
        .into_iter()
        .map(|q| Statement { name: q.name, sql: format!("{head}{}", q.text(span)) })
        .collect())
}

/// What `--dry-run` says of the bill before anything runs: Logs Insights bills the bytes each
/// query scans, which only the service knows; a split window's queries scan it again.
pub fn before(queries: usize, log_groups: &[String]) -> String {
    format!(
        "mila: --dry-run: {queries} Logs Insights quer{} over log group{} {} (more where a window is split; a report's two route-latency queries and a check's violations query follow its usage); each scans the window's events, billed at {} USD per GB scanned (price of {}); nothing was started",
        if queries == 1 { "y" } else { "ies" },
        if log_groups.len() == 1 { "" } else { "s" },
        log_groups.iter().map(|g| crate::escape::terminal(g)).collect::<Vec<_>>().join(", "),
        USD_PER_GB,
        PRICE_AS_OF,
    )
}

/// One line for the terminal: what the run scanned and what that costs.
pub fn bill(spent: &Spent, log_groups: &[String]) -> String {
    let queries = spent.queries;
    format!(
        "mila: Logs Insights ran {} quer{} over {} window{} ({} split) of log group{} {} and scanned {} bytes ({:.6} USD at {} USD per GB, price of {})",
        queries,
        if queries == 1 { "y" } else { "ies" },
        spent.windows,
        if spent.windows == 1 { "" } else { "s" },
        spent.splits,
        if log_groups.len() == 1 { "" } else { "s" },
        log_groups.iter().map(|g| crate::escape::terminal(g)).collect::<Vec<_>>().join(", "),
        spent.scanned_bytes,
        spent.usd,
        USD_PER_GB,
        PRICE_AS_OF,
    )
}

/// What running one ask's queries gave and cost.
struct Ran {
    by_name: BTreeMap<&'static str, Vec<results::Row>>,
    spent: Spent,
}

impl Ran {
    fn new() -> Ran {
        Ran { by_name: BTreeMap::new(), spent: Spent { by: super::Biller::Insights, ..Spent::default() } }
    }

    fn take(&mut self, name: &'static str, got: Asked) {
        let Asked { split, discarded } = got;
        let scanned: u64 = split.parts.iter().map(|(_, r)| r.bytes_scanned).sum::<u64>() + discarded;
        self.spent = self.spent.plus(Spent {
            queries: split.queries as u64,
            scanned_bytes: scanned,
            billed_bytes: scanned,
            usd: cost_usd(scanned),
            windows: split.parts.len() as u64,
            splits: split.splits as u64,
            ..Spent::default()
        });
        let parts: Vec<Rows> = split.parts.into_iter().map(|(_, r)| r).collect();
        self.by_name.entry(name).or_default().extend(results::rows(&parts));
    }
}

/// An ask, computed by Logs Insights: its tables, and what running them cost.
pub fn answer(ins: &Insights, scope: &Scope, ask: &Ask) -> Result<(Answer, Spent)> {
    let span = span(ask, scope)?;
    let queries = first_queries(ask)?;
    let runtime = aws::runtime().context("cannot start the async runtime")?;
    let client = runtime.block_on(async { Client::new(&aws::load_config(&ins.run.aws, ins.region.as_deref()).await) });
    let mut ran = Ran::new();
    for q in &queries {
        // The minutes are asked in windows the usage says fit: no full result is scanned for nothing.
        let windows = match q.name {
            ql::MINUTES => {
                results::minute_windows(ran.by_name.get(ql::USAGE).map_or(&[], Vec::as_slice), span, ins.run.limit)?
            }
            _ => vec![span],
        };
        ran.take(q.name, runtime.block_on(ask_one(&client, &ins.run, q, windows, ins.bounds))?);
    }
    // The routes' latency names the source regions the usage found.
    if let Question::Report { metadata_keys, .. } = ask.question {
        let sources = results::source_regions(ran.by_name.get(ql::USAGE).map_or(&[], Vec::as_slice));
        for q in ql::routes(&sources, metadata_keys) {
            ran.take(q.name, runtime.block_on(ask_one(&client, &ins.run, &q, vec![span], ins.bounds))?);
        }
    }
    let answers = |by_name| results::Answers {
        by_name,
        profiles: &scope.profiles,
        log_groups: &ins.run.log_groups,
        metadata_keys: match ask.question {
            Question::Report { metadata_keys, .. } => metadata_keys,
            _ => &[],
        },
    };
    let first = answers(std::mem::take(&mut ran.by_name));
    let mut result = first.tables()?;
    if let Question::Check { policy } = ask.question {
        let pairs = results::violating_pairs(&first, policy);
        for chunk in pair_chunks(&pairs, span)? {
            let q = ql::violations(chunk);
            ran.take(q.name, runtime.block_on(ask_one(&client, &ins.run, &q, vec![span], ins.bounds))?);
        }
        let listed = ran.by_name.remove(ql::VIOLATIONS).unwrap_or_default();
        result.push(results::violations(&listed, &scope.profiles)?);
    }
    drop(runtime);
    let stats = tables::load_stats(&result)?;
    let tables = match ask.question {
        Question::Report { quotas, burndown, metadata_keys } => {
            let cx = tables::Context { rules: Question::rules(quotas, burndown, scope), metadata_keys };
            tables::report(&result, &cx)?
        }
        Question::Check { policy } => tables::check(&result, &scope.profiles, policy)?,
        Question::Usage | Question::Query { .. } => tables::usage(&result, &scope.profiles)?,
    };
    Ok((Answer { figures: Figures::Tables(Box::new(tables)), stats }, ran.spent))
}

/// Why a question was not answered; `stopped` are the queries mila stopped so that nothing it
/// started runs on (and on the bill) after it gave up.
#[derive(Debug, thiserror::Error)]
#[error("{cause}{}", stopped_note(.stopped))]
pub struct AskError {
    pub cause: AskCause,
    pub stopped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AskCause {
    #[error(transparent)]
    Split(#[from] SplitError<InsightsError>),
    #[error("interrupted")]
    Interrupted,
}

fn stopped_note(stopped: &[String]) -> String {
    match stopped.len() {
        0 => String::new(),
        n => format!("; stopped {n} running quer{} ({})", if n == 1 { "y" } else { "ies" }, stopped.join(", ")),
    }
}

/// The violating pairs in as few queries as fit StartQuery's length.
fn pair_chunks(pairs: &[ql::Pair], span: Span) -> Result<Vec<&[ql::Pair]>> {
    let fits = |chunk: &[ql::Pair]| ql::violations(chunk).text(span).len() <= ql::MAX_QUERY;
    let mut out = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let mut end = start + 1;
        if !fits(&pairs[start..end]) {
            bail!("a violations query for one (source region, inference region) is longer than Logs Insights takes");
        }
        while end < pairs.len() && fits(&pairs[start..end + 1]) {
            end += 1;
        }
        out.push(&pairs[start..end]);
        start = end;
    }
    Ok(out)
}

/// One query's parts, and the bytes scanned by the queries split instead of kept.
#[derive(Debug)]
pub struct Asked {
    pub split: Split<Rows>,
    pub discarded: u64,
}

async fn ask_one(
    client: &Client,
    settings: &client::Settings,
    q: &ql::Query,
    windows: Vec<Span>,
    bounds: Bounds,
) -> Result<Asked> {
    ask(client, settings, q, windows, bounds).await.with_context(|| format!("Logs Insights query `{}`", q.name))
}

/// One question's query over `windows` (the question's window, or its planned parts): split
/// until every part fits, at most `bounds` queries at once. On an error or Ctrl-C every query
/// still running is stopped.
pub async fn ask(
    client: &Client,
    settings: &client::Settings,
    query: &ql::Query,
    windows: Vec<Span>,
    bounds: Bounds,
) -> Result<Asked, AskError> {
    let running = Running::default();
    let shared = (client.clone(), Arc::new(settings.clone()), Arc::new(query.clone()), running.clone());
    let run = move |span: Span| {
        let (client, settings, query, running) = shared.clone();
        async move { client::query(&client, &settings, &query.text(span), span, &running).await }
    };
    let outcome = tokio::select! {
        r = split::split_all(windows, bounds, run) => r.map_err(AskCause::from),
        _ = tokio::signal::ctrl_c() => Err(AskCause::Interrupted),
    };
    match outcome {
        Ok(split) => Ok(Asked { split, discarded: running.discarded_bytes() }),
        Err(cause) => Err(AskError { cause, stopped: client::stop_all(client, &running).await }),
    }
}
