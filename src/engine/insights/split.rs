//! Window splitting for Logs Insights (issue 25). A Logs Insights result holds at most 10,000
//! rows and a query runs for at most 60 minutes; a question whose window returns a full result,
//! times out or is cancelled is asked again over each half of the window, recursively, until
//! every part fits. Pure of AWS: the query itself is the `run` closure, so the splitting, the
//! bound on concurrent queries and the bound on how many run are tested here with windows of
//! known row counts.
//!
//! Windows split only at whole minutes: the finest grain a question groups by is `bin(1m)`, so
//! no minute's group is cut in two and the parts' rows merge exactly (sums add, a minute's
//! figures come whole from one part). The floor is one minute: a minute whose result still fills
//! the limit cannot be split further and is an error naming it.

use std::future::Future;
use tokio::task::JoinSet;

/// Rows one `GetQueryResults` returns at most: StartQuery's `limit` defaults to, and may not
/// exceed, 10,000 (CloudWatch Logs API reference, StartQuery, `limit`: "The maximum number of
/// log events to return in the query... The default is 10,000"; `limit` command: "as many as
/// 10,000 log events").
pub const MAX_ROWS: usize = 10_000;

/// The narrowest window asked: one minute, in seconds.
pub const FLOOR_S: i64 = 60;

/// The most queries one question may run, splits included: past it the question stops with an
/// error (a week split to single minutes would be ~20,000 queries, at least $0.005 per GB each).
pub const MAX_QUERIES: usize = 10_000;

/// A window of whole epoch seconds, `start` included and `end` excluded (`client::window_filter`
/// says it to Logs Insights).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    /// The two halves, split at the whole minute nearest the middle; None when no whole minute
    /// lies strictly inside (the window is a minute or less, or within one minute).
    pub fn halves(self) -> Option<(Span, Span)> {
        let first_boundary = self.start - self.start.rem_euclid(FLOOR_S) + FLOOR_S;
        if first_boundary >= self.end {
            return None;
        }
        let middle = self.start + (self.end - self.start) / 2;
        let nearest =
            middle - middle.rem_euclid(FLOOR_S) + if middle.rem_euclid(FLOOR_S) * 2 >= FLOOR_S { FLOOR_S } else { 0 };
        // Clamped to the boundaries inside the window: the first one after start, the last before end.
        let last_boundary = (self.end - 1) - (self.end - 1).rem_euclid(FLOOR_S);
        let at = nearest.clamp(first_boundary, last_boundary);
        Some((Span { start: self.start, end: at }, Span { start: at, end: self.end }))
    }

    /// `start .. end` as RFC 3339, for messages.
    pub fn describe(self) -> String {
        format!("{} .. {}", crate::window::rfc3339(self.start * 1000), crate::window::rfc3339(self.end * 1000))
    }
}

/// How one query over one window ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<R> {
    /// Complete, with fewer rows than the limit: the window's answer.
    Rows(R),
    /// Complete with as many rows as the limit: some may be missing.
    Full,
    /// Ran past its time (Logs Insights' 60 minutes, or `--insights-timeout`).
    TimedOut,
    /// Cancelled by the service.
    Cancelled,
}

impl<R> Outcome<R> {
    fn why(&self) -> &'static str {
        match self {
            Outcome::Rows(_) => "complete",
            Outcome::Full => "its result reached the row limit",
            Outcome::TimedOut => "it timed out",
            Outcome::Cancelled => "it was cancelled",
        }
    }
}

/// How far splitting may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Queries running at once.
    pub concurrency: usize,
    /// Queries in all, splits included.
    pub max_queries: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SplitError<E> {
    #[error("{0}")]
    Query(E),
    #[error("the query over {} could not be split further ({why}): one minute is the narrowest window mila asks", span.describe())]
    Floor { span: Span, why: &'static str },
    #[error("the question needed more than {max} queries (windows split {splits} times); ask over a shorter window or fewer log groups")]
    TooMany { max: usize, splits: usize },
}

/// Every part of a question's window with its rows, oldest first.
#[derive(Debug, PartialEq)]
pub struct Split<R> {
    pub parts: Vec<(Span, R)>,
    /// Queries run, the failed ones included.
    pub queries: usize,
    /// Windows split in two.
    pub splits: usize,
}

/// Runs `run` over `window`, splitting every window whose query did not complete within the
/// limits, at most `bounds.concurrency` at once. The first error stops the question: queries
/// still running are dropped (the caller stops them: it knows their ids).
pub async fn split<R, E, F, Fut>(window: Span, bounds: Bounds, run: F) -> Result<Split<R>, SplitError<E>>
where
    R: Send + 'static,
    E: Send + 'static,
    F: Fn(Span) -> Fut,
    Fut: Future<Output = Result<Outcome<R>, E>> + Send + 'static,
{
    split_all(vec![window], bounds, run).await
}

/// `split` from several windows at once (a question planned in parts that should each fit),
/// oldest first.
pub async fn split_all<R, E, F, Fut>(windows: Vec<Span>, bounds: Bounds, run: F) -> Result<Split<R>, SplitError<E>>
where
    R: Send + 'static,
    E: Send + 'static,
    F: Fn(Span) -> Fut,
    Fut: Future<Output = Result<Outcome<R>, E>> + Send + 'static,
{
    // A stack: the halves of a split run next, so a window that cannot fit reaches the floor
    // after a few queries rather than after every window of its level.
    let mut pending: Vec<Span> = windows.into_iter().rev().collect();
    let mut running = JoinSet::new();
    let (mut parts, mut queries, mut splits) = (Vec::new(), 0usize, 0usize);
    loop {
        while running.len() < bounds.concurrency.max(1) {
            let Some(span) = pending.pop() else { break };
            if queries == bounds.max_queries {
                return Err(SplitError::TooMany { max: bounds.max_queries, splits });
            }
            queries += 1;
            let query = run(span);
            running.spawn(async move { (span, query.await) });
        }
        let Some(joined) = running.join_next().await else { break };
        let (span, outcome) = match joined {
            Ok(done) => done,
            // A query's task panicked: carry the panic on, as if it had run here.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        match outcome.map_err(SplitError::Query)? {
            Outcome::Rows(rows) => parts.push((span, rows)),
            other => {
                let Some((first, second)) = span.halves() else {
                    return Err(SplitError::Floor { span, why: other.why() });
                };
                splits += 1;
                pending.push(second);
                pending.push(first);
            }
        }
    }
    parts.sort_by_key(|(span, _)| *span);
    Ok(Split { parts, queries, splits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const DAY: i64 = 86_400;
    // 2026-11-09T00:00:00Z, a Monday.
    const MONDAY: i64 = 1_794_182_400;

    fn span(start: i64, end: i64) -> Span {
        Span { start, end }
    }

    #[test]
    fn windows_halve_at_whole_minutes() {
        let cases = [
            // (start, end) -> split point, None when it cannot split
            ((0, 120), Some(60)),
            // The middle, 90, is as near 60 as 120: the later boundary.
            ((0, 180), Some(120)),
            ((0, 60), None),
            ((10, 70), Some(60)),
            ((10, 50), None),
            ((0, 61), Some(60)),
            ((59, 61), Some(60)),
            ((-120, 0), Some(-60)),
            ((MONDAY, MONDAY + 7 * DAY), Some(MONDAY + 7 * DAY / 2)),
            ((MONDAY + 30, MONDAY + 30 + 7 * DAY), Some(MONDAY + 7 * DAY / 2 + 60)),
        ];
        for ((start, end), expected) in cases {
            let got = span(start, end).halves();
            assert_eq!(got.map(|(a, _)| a.end), expected, "{start}..{end}");
            if let Some((a, b)) = got {
                assert_eq!((a.start, a.end, b.start, b.end), (start, a.end, a.end, end), "{start}..{end}");
                assert_eq!(a.end.rem_euclid(60), 0);
                assert!(a.start < a.end && b.start < b.end);
            }
        }
    }

    /// (minute, events) rows.
    type Minutes = Vec<(i64, u64)>;

    /// A log group whose events per minute are given: a query's result has one row per
    /// minute with events (as `stats count(*) by bin(1m)` would).
    fn minutes_runner(
        start: i64,
        per_minute: Vec<u64>,
        limit: usize,
    ) -> impl Fn(Span) -> std::future::Ready<Result<Outcome<Minutes>, String>> {
        move |s: Span| {
            let rows: Vec<(i64, u64)> = per_minute
                .iter()
                .enumerate()
                .map(|(i, n)| (start + 60 * i as i64, *n))
                .filter(|(m, n)| *n > 0 && *m >= s.start && *m < s.end)
                .collect();
            std::future::ready(Ok(if rows.len() >= limit { Outcome::Full } else { Outcome::Rows(rows) }))
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    }

    fn covers(parts: &[(Span, Minutes)], window: Span) {
        assert_eq!(parts.first().unwrap().0.start, window.start);
        assert_eq!(parts.last().unwrap().0.end, window.end);
        for w in parts.windows(2) {
            assert_eq!(w[0].0.end, w[1].0.start, "parts neither overlap nor leave a gap");
        }
    }

    #[test]
    fn a_window_within_the_limit_is_one_query() {
        let window = span(MONDAY, MONDAY + DAY);
        let run = minutes_runner(MONDAY, vec![3; 1440], 10_000);
        let got = runtime().block_on(split(window, Bounds { concurrency: 4, max_queries: 100 }, run)).unwrap();
        assert_eq!((got.queries, got.splits, got.parts.len()), (1, 0, 1));
        assert_eq!(got.parts[0].1.len(), 1440);
    }

    #[test]
    fn a_busy_week_is_split_until_every_part_fits_and_the_parts_add_up() {
        // A week of minutes, every one busy: 10,080 rows against a limit of 1,000. Halving
        // 10,080 minutes gives parts of 630 minutes after four levels: 16 parts, 15 splits,
        // 31 queries.
        let window = span(MONDAY, MONDAY + 7 * DAY);
        let per_minute: Vec<u64> = (0..10_080u64).map(|i| 1 + i % 7).collect();
        let total: u64 = per_minute.iter().sum();
        let run = minutes_runner(MONDAY, per_minute, 1_000);
        let got = runtime().block_on(split(window, Bounds { concurrency: 3, max_queries: 100 }, run)).unwrap();
        assert_eq!((got.queries, got.splits, got.parts.len()), (31, 15, 16));
        covers(&got.parts, window);
        let rows: Vec<(i64, u64)> = got.parts.iter().flat_map(|(_, r)| r.iter().copied()).collect();
        assert_eq!(rows.len(), 10_080, "every minute once");
        assert_eq!(rows.iter().map(|(_, n)| n).sum::<u64>(), total);
        assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "in time order, no minute twice");
    }

    #[test]
    fn only_the_busy_part_of_a_window_is_split() {
        // Quiet except one busy hour on Wednesday: 60 rows, limit 50.
        let window = span(MONDAY, MONDAY + 7 * DAY);
        let mut per_minute = vec![0u64; 10_080];
        per_minute[2 * 1440 + 600..2 * 1440 + 660].iter_mut().for_each(|n| *n = 9);
        let run = minutes_runner(MONDAY, per_minute, 50);
        let got = runtime().block_on(split(window, Bounds { concurrency: 2, max_queries: 100 }, run)).unwrap();
        covers(&got.parts, window);
        assert_eq!(got.parts.iter().map(|(_, r)| r.len()).sum::<usize>(), 60);
        assert_eq!(got.queries, 1 + 2 * got.splits);
        assert!(got.splits < 20, "{} splits", got.splits);
    }

    #[test]
    fn a_minute_that_still_fills_the_limit_is_an_error_naming_it() {
        let window = span(MONDAY, MONDAY + DAY);
        let mut per_minute = vec![0u64; 1440];
        per_minute[720] = 1;
        // Limit 1: the minute holding the one row is full on its own.
        let run = minutes_runner(MONDAY, per_minute, 1);
        let err = runtime().block_on(split(window, Bounds { concurrency: 1, max_queries: 1_000 }, run)).unwrap_err();
        let SplitError::Floor { span: at, why } = &err else { panic!("{err}") };
        assert_eq!(*at, span(MONDAY + 720 * 60, MONDAY + 721 * 60));
        assert_eq!(*why, "its result reached the row limit");
        assert_eq!(
            err.to_string(),
            "the query over 2026-11-09T12:00:00Z .. 2026-11-09T12:01:00Z could not be split further (its result reached the row limit): one minute is the narrowest window mila asks"
        );
    }

    #[test]
    fn splitting_stops_at_the_bound_on_queries() {
        // Every window times out: 10,000 windows' worth of splitting is refused at the bound,
        // long before the floor is reached on every branch.
        let window = span(MONDAY, MONDAY + 7 * DAY);
        let started = Arc::new(AtomicUsize::new(0));
        let counted = started.clone();
        let run = move |s: Span| {
            counted.fetch_add(1, Ordering::SeqCst);
            // Short windows complete: the floor is never reached, only the bound.
            std::future::ready(Ok::<_, String>(if s.end - s.start > 600 {
                Outcome::TimedOut
            } else {
                Outcome::Rows(())
            }))
        };
        let err = runtime().block_on(split(window, Bounds { concurrency: 4, max_queries: 500 }, run)).unwrap_err();
        assert!(matches!(err, SplitError::TooMany { max: 500, .. }), "{err}");
        assert_eq!(started.load(Ordering::SeqCst), 500);
        assert!(err.to_string().starts_with("the question needed more than 500 queries"), "{err}");
    }

    #[test]
    fn timed_out_and_cancelled_queries_are_split_like_full_ones() {
        let window = span(MONDAY, MONDAY + 4 * 60);
        // The whole window times out, its first half is cancelled, everything else completes.
        let run = move |s: Span| {
            let outcome = if s == span(MONDAY, MONDAY + 240) {
                Outcome::TimedOut
            } else if s == span(MONDAY, MONDAY + 120) {
                Outcome::Cancelled
            } else {
                Outcome::Rows(s.start)
            };
            std::future::ready(Ok::<_, String>(outcome))
        };
        let got = runtime().block_on(split(window, Bounds { concurrency: 2, max_queries: 10 }, run)).unwrap();
        let spans: Vec<Span> = got.parts.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            spans,
            vec![span(MONDAY, MONDAY + 60), span(MONDAY + 60, MONDAY + 120), span(MONDAY + 120, MONDAY + 240)]
        );
        assert_eq!((got.queries, got.splits), (5, 2));
    }

    #[test]
    fn a_query_error_stops_the_question() {
        let window = span(MONDAY, MONDAY + 7 * DAY);
        let run = |s: Span| {
            std::future::ready(if s.end - s.start < 7 * DAY {
                Err("AccessDeniedException: logs:StartQuery".to_string())
            } else {
                Ok(Outcome::<()>::Full)
            })
        };
        let err = runtime().block_on(split(window, Bounds { concurrency: 2, max_queries: 10 }, run)).unwrap_err();
        assert_eq!(err.to_string(), "AccessDeniedException: logs:StartQuery");
    }

    #[test]
    fn no_more_queries_run_at_once_than_the_bound() {
        let window = span(MONDAY, MONDAY + 7 * DAY);
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (n, m) = (now.clone(), most.clone());
        let run = move |s: Span| {
            let (n, m) = (n.clone(), m.clone());
            async move {
                let running = n.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, String>(if s.end - s.start > DAY / 4 { Outcome::Full } else { Outcome::Rows(()) })
            }
        };
        let got = runtime().block_on(split(window, Bounds { concurrency: 3, max_queries: 1_000 }, run)).unwrap();
        assert_eq!(got.parts.len(), 32, "a week halved five times: parts of 5.25 hours");
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }
}
