//! One Logs Insights query over one window, run as a good citizen: `StartQuery` over the log
//! groups (waiting out `LimitExceededException`, the account's bound on concurrent queries, and
//! throttling), `GetQueryResults` polled with backoff until the query ends and then read page by
//! page, `StopQuery` for a query past `timeout`. The ids of queries still running are kept in a
//! `Running` set, so whoever stops a question (an error, Ctrl-C) stops them too.
//!
//! API shapes, from the CloudWatch Logs API reference: StartQuery takes `logGroupNames` (names
//! only) or `logGroupIdentifiers` (names or ARNs, up to 50), `startTime` and `endTime` in epoch
//! seconds, both included, `queryString` and `limit`; it returns `queryId`. GetQueryResults takes
//! `queryId` (and `nextToken`) and returns `results` (rows of `{field, value}`), `statistics`
//! (`recordsMatched`, `recordsScanned`, `bytesScanned`), `status` (`Scheduled`, `Running`,
//! `Complete`, `Failed`, `Cancelled`, `Timeout`, `Unknown`) and `nextToken`. StopQuery takes
//! `queryId`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::QueryStatus;
use aws_sdk_cloudwatchlogs::Client;

use super::split::{Outcome, Span};
use crate::source::aws::{self, Action, AwsSettings, Pages};

/// How queries are run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub aws: AwsSettings,
    /// Log group names or ARNs (ARNs for other accounts and regions).
    pub log_groups: Vec<String>,
    /// Rows a result may hold before its window is split (at most `split::MAX_ROWS`).
    pub limit: usize,
    /// Longest a query may run before mila stops it and splits its window.
    pub timeout: Duration,
}

/// How many times a StartQuery refused for `LimitExceededException` is tried again: with the
/// pauses of `aws::backoff` (at most 6.4 s) about four minutes of waiting for the account's other
/// queries to end.
const START_ATTEMPTS: u32 = 40;

/// One query's rows: each row its fields by name (Logs Insights leaves out a field with no value),
/// and what it scanned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub rows: Vec<Vec<(String, String)>>,
    pub bytes_scanned: u64,
    pub records_matched: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InsightsError {
    /// A call that failed for good, said by `aws::describe`.
    #[error("{0}")]
    Call(String),
    #[error("Logs Insights returned no query id")]
    NoId,
    #[error("Logs Insights query {id} over {window} failed (status {status})")]
    Failed { id: String, window: String, status: String },
    #[error("{0}")]
    Pages(#[from] aws::PagesError),
}

/// The ids of the queries running now, and the bytes scanned by queries whose rows were not
/// kept (a full result, split instead): billed all the same.
#[derive(Debug, Clone, Default)]
pub struct Running(Arc<Mutex<BTreeSet<String>>>, Arc<std::sync::atomic::AtomicU64>);

impl Running {
    fn add(&self, id: &str) {
        self.0.lock().expect("running lock").insert(id.to_string());
    }
    fn done(&self, id: &str) {
        self.0.lock().expect("running lock").remove(id);
    }
    pub fn ids(&self) -> Vec<String> {
        self.0.lock().expect("running lock").iter().cloned().collect()
    }
    fn discarded(&self, bytes: u64) {
        self.1.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    }
    /// Bytes scanned by the queries whose results were split instead of kept.
    pub fn discarded_bytes(&self) -> u64 {
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Pause before poll number `n` (0-based) of one query: 100 ms doubling, at most 5 s.
pub fn poll_pause(n: u32) -> Duration {
    Duration::from_millis((100u64 << n.min(6)).min(5_000))
}

fn resource(s: &Settings) -> String {
    format!("log group{} {}", if s.log_groups.len() == 1 { "" } else { "s" }, s.log_groups.join(", "))
}

/// The filter every question's query starts with: the window `[start, end)` in milliseconds,
/// which StartQuery's whole-second, both-ends-included range cannot say by itself.
pub fn window_filter(span: Span) -> String {
    format!("filter @timestamp >= {} and @timestamp < {}", span.start * 1000, span.end * 1000)
}

/// Runs `query` over `span`: its rows when it completed within the limit, else why not (the
/// caller splits the window).
pub async fn query(
    client: &Client,
    s: &Settings,
    query: &str,
    span: Span,
    running: &Running,
) -> Result<Outcome<Rows>, InsightsError> {
    let id = start(client, s, query, span).await?;
    running.add(&id);
    let outcome = wait(client, s, &id, span, running).await;
    match &outcome {
        // A failed query has ended; one whose state is unknown (a call failed) is left in
        // `running`: whoever ends the question stops it with the rest.
        Err(InsightsError::Failed { .. }) => running.done(&id),
        Err(_) => {}
        // Past mila's own timeout it is stopped here (one the service timed out has ended: the
        // stop is refused, which is no failure).
        Ok(Outcome::TimedOut) => {
            stop(client, &id).await;
            running.done(&id);
        }
        Ok(_) => running.done(&id),
    }
    outcome
}

async fn start(client: &Client, s: &Settings, query: &str, span: Span) -> Result<String, InsightsError> {
    let resource = resource(s);
    let action = Action { permission: "logs:StartQuery", resource: &resource };
    // Names go as `logGroupNames`; an ARN (another account or region) needs `logGroupIdentifiers`.
    let arns = s.log_groups.iter().any(|g| g.starts_with("arn:"));
    let mut attempt = 1;
    loop {
        let mut call = client
            .start_query()
            .start_time(span.start)
            // Both are whole seconds and both are included, while an event's time has
            // milliseconds: the range reaches to the end's second, and the query itself keeps
            // `@timestamp < end` (see `window_filter`), so no event falls between two parts and
            // none is in both.
            .end_time(span.end)
            .query_string(query)
            .limit(s.limit as i32);
        call = if arns {
            call.set_log_group_identifiers(Some(s.log_groups.clone()))
        } else {
            call.set_log_group_names(Some(s.log_groups.clone()))
        };
        match aws::with_retries(4, || call.clone().send()).await {
            Ok(out) => return out.query_id().map(str::to_string).ok_or(InsightsError::NoId),
            // Too many queries running in the account (the console's and dashboards' count too).
            Err(e) if e.code() == Some("LimitExceededException") && attempt < START_ATTEMPTS => {
                tokio::time::sleep(aws::backoff(attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(InsightsError::Call(aws::describe(&e, &action))),
        }
    }
}

/// Polls until the query ends, then reads every page of its results.
async fn wait(
    client: &Client,
    s: &Settings,
    id: &str,
    span: Span,
    running: &Running,
) -> Result<Outcome<Rows>, InsightsError> {
    let resource = format!("Logs Insights query {id}");
    let action = Action { permission: "logs:GetQueryResults", resource: &resource };
    let deadline = Instant::now() + s.timeout;
    let mut polls = 0;
    loop {
        let pause = poll_pause(polls).min(deadline.saturating_duration_since(Instant::now()));
        tokio::time::sleep(pause).await;
        polls += 1;
        let out = aws::with_retries(4, || client.get_query_results().query_id(id).send())
            .await
            .map_err(|e| InsightsError::Call(aws::describe(&e, &action)))?;
        match out.status() {
            Some(QueryStatus::Complete) => {}
            Some(QueryStatus::Cancelled) => return Ok(Outcome::Cancelled),
            Some(QueryStatus::Timeout) => return Ok(Outcome::TimedOut),
            Some(QueryStatus::Failed) => {
                return Err(InsightsError::Failed {
                    id: id.to_string(),
                    window: span.describe(),
                    status: "Failed".into(),
                })
            }
            // Scheduled, Running, Unknown, or a status newer than this SDK: wait on.
            _ if Instant::now() >= deadline => return Ok(Outcome::TimedOut),
            _ => continue,
        }
        let mut rows = Rows::default();
        if let Some(st) = out.statistics() {
            rows.bytes_scanned = count(st.bytes_scanned());
            rows.records_matched = count(st.records_matched());
        }
        take(&mut rows, out.results());
        let mut pages = Pages::at_most(aws::MAX_PAGES);
        let mut token = pages.next(out.next_token().map(str::to_string), "GetQueryResults")?;
        // A full result is split whatever its other pages hold: they are not read (nor held).
        while let (Some(t), false) = (token, rows.rows.len() >= s.limit) {
            let page = aws::with_retries(4, || client.get_query_results().query_id(id).next_token(&t).send())
                .await
                .map_err(|e| InsightsError::Call(aws::describe(&e, &action)))?;
            take(&mut rows, page.results());
            token = pages.next(page.next_token().map(str::to_string), "GetQueryResults")?;
        }
        if rows.rows.len() >= s.limit {
            running.discarded(rows.bytes_scanned);
            return Ok(Outcome::Full);
        }
        return Ok(Outcome::Rows(rows));
    }
}

/// A statistic as a count: Logs Insights gives them as doubles; a negative or non-finite one
/// (never sent by the service) counts as nothing.
fn count(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else {
        0
    }
}

fn take(rows: &mut Rows, results: &[Vec<aws_sdk_cloudwatchlogs::types::ResultField>]) {
    for r in results {
        let row = r
            .iter()
            // `@ptr` points at a log record for GetLogRecord: not a figure.
            .filter(|f| f.field() != Some("@ptr"))
            .filter_map(|f| Some((f.field()?.to_string(), f.value()?.to_string())))
            .collect();
        rows.rows.push(row);
    }
}

/// Stops a query; true when the service said it stopped it. A query that ended meanwhile cannot
/// be stopped, which is no failure.
pub async fn stop(client: &Client, id: &str) -> bool {
    client.stop_query().query_id(id).send().await.is_ok_and(|o| o.success())
}

/// Stops every query still running (after an error or Ctrl-C): the ids stopped.
pub async fn stop_all(client: &Client, running: &Running) -> Vec<String> {
    let mut stopped = Vec::new();
    for id in running.ids() {
        if stop(client, &id).await {
            stopped.push(id.clone());
        }
        running.done(&id);
    }
    stopped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_counts() {
        for (v, want) in [(0.0, 0), (1234.0, 1234), (2.6, 3), (-5.0, 0), (f64::NAN, 0), (f64::INFINITY, 0)] {
            assert_eq!(count(v), want, "{v}");
        }
    }

    #[test]
    fn polls_back_off_to_five_seconds() {
        let pauses: Vec<u64> = (0..9).map(|n| poll_pause(n).as_millis() as u64).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000]);
    }
}
