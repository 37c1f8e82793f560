//! The Logs Insights engine's query runner (issue 25, being built) on the real wire protocol:
//! moto for what it serves (StartQuery and GetQueryResults of `fields`/`sort`/`limit` queries over
//! real events), and a loopback server answering in the API's shape for what it does not
//! (statuses other than Complete, statistics, result pages, StopQuery, the account's limit on
//! concurrent queries). Shapes from the CloudWatch Logs API reference: StartQuery
//! (`logGroupNames`, `logGroupIdentifiers`, `startTime`, `endTime`, `queryString`, `limit` ->
//! `queryId`), GetQueryResults (`queryId`, `nextToken` -> `results` of `{field, value}`,
//! `statistics` {`recordsMatched`, `recordsScanned`, `bytesScanned`}, `status` of Scheduled |
//! Running | Complete | Failed | Cancelled | Timeout | Unknown, `nextToken`), StopQuery
//! (`queryId` -> `success`); errors name their type in `__type` (awsJson1_1).

mod common;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::aws;
use common::replay::{Replay, Request, Response};
use mila::engine::insights::client::{self, InsightsError, Rows, Running, Settings};
use mila::engine::insights::split::{Bounds, Outcome, Span};
use mila::engine::insights::{ask, AskCause};
use serde_json::{json, Value};

// 2026-11-09T00:00:00Z.
const MONDAY: i64 = 1_794_182_400;
const GROUP: &str = "/aws/bedrock/modelinvocations";

fn settings(limit: usize, timeout: Duration) -> Settings {
    Settings { aws: mila::source::aws::AwsSettings::default(), log_groups: vec![GROUP.to_string()], limit, timeout }
}

fn op(r: &Request) -> &str {
    r.operation.trim_start_matches("Logs_20140328.")
}

fn body(r: &Request) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

fn ok(v: Value) -> Response {
    (200, v.to_string())
}

fn error(kind: &str, message: &str) -> Response {
    (400, json!({"__type": kind, "message": message}).to_string())
}

fn row(fields: &[(&str, &str)]) -> Value {
    Value::Array(fields.iter().map(|(f, v)| json!({"field": f, "value": v})).collect())
}

fn run_one(server: &Replay, s: &Settings, span: Span) -> Result<Outcome<Rows>, InsightsError> {
    let logs = aws::logs_at(&server.url);
    aws::block_on(client::query(
        &logs,
        s,
        "stats count(*) as requests by datefloor(@timestamp, 1d) as day",
        span,
        &Running::default(),
    ))
}

#[test]
fn a_query_is_polled_until_complete_and_read_page_by_page() {
    let polls = Arc::new(Mutex::new(0));
    let server = Replay::start(move |r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        "GetQueryResults" if body(r)["nextToken"] == "page-2" => ok(json!({
            "status": "Complete",
            "results": [row(&[("day", "2026-11-10 00:00:00.000"), ("requests", "4")])],
        })),
        "GetQueryResults" => {
            let mut n = polls.lock().unwrap();
            *n += 1;
            if *n < 3 {
                ok(json!({"status": if *n == 1 { "Scheduled" } else { "Running" }, "results": []}))
            } else {
                ok(json!({
                    "status": "Complete",
                    "results": [row(&[("day", "2026-11-09 00:00:00.000"), ("requests", "3"), ("@ptr", "CmAKJgoi")])],
                    "statistics": {"recordsMatched": 7.0, "recordsScanned": 10.0, "bytesScanned": 2048.0},
                    "nextToken": "page-2",
                }))
            }
        }
        _ => error("InvalidParameterException", "unexpected operation"),
    });
    let span = Span { start: MONDAY, end: MONDAY + 2 * 86_400 };
    let got = run_one(&server, &settings(100, Duration::from_secs(30)), span).unwrap();
    let text = |pairs: &[(&str, &str)]| pairs.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect::<Vec<_>>();
    assert_eq!(
        got,
        Outcome::Rows(Rows {
            rows: vec![
                text(&[("day", "2026-11-09 00:00:00.000"), ("requests", "3")]),
                text(&[("day", "2026-11-10 00:00:00.000"), ("requests", "4")]),
            ],
            bytes_scanned: 2048,
            records_matched: 7,
        })
    );
    let requests = server.requests();
    let ops: Vec<&str> = requests.iter().map(op).collect();
    assert_eq!(ops, ["StartQuery", "GetQueryResults", "GetQueryResults", "GetQueryResults", "GetQueryResults"]);
    assert_eq!(requests[0].service, "logs");
    let start = body(&requests[0]);
    assert_eq!(start["logGroupNames"], json!([GROUP]));
    assert_eq!(start["startTime"], json!(MONDAY));
    // Both ends are included by StartQuery; the query keeps `@timestamp < end` itself.
    assert_eq!(start["endTime"], json!(MONDAY + 2 * 86_400));
    assert_eq!(start["limit"], json!(100));
    assert_eq!(start["queryString"], json!("stats count(*) as requests by datefloor(@timestamp, 1d) as day"));
}

#[test]
fn arns_go_as_log_group_identifiers() {
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        _ => ok(json!({"status": "Complete", "results": []})),
    });
    let mut s = settings(100, Duration::from_secs(30));
    s.log_groups = vec![GROUP.into(), "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/bedrock/eu".into()];
    let got = run_one(&server, &s, Span { start: MONDAY, end: MONDAY + 60 }).unwrap();
    assert_eq!(got, Outcome::Rows(Rows::default()));
    let start = body(&server.requests()[0]);
    assert_eq!(start["logGroupIdentifiers"], json!(s.log_groups));
    assert!(start.get("logGroupNames").is_none(), "{start}");
}

#[test]
fn a_full_result_says_so_instead_of_passing_for_the_answer() {
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        _ => ok(json!({"status": "Complete", "results": [row(&[("n", "1")]), row(&[("n", "2")])]})),
    });
    let got = run_one(&server, &settings(2, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    assert_eq!(got.unwrap(), Outcome::Full);
}

#[test]
fn a_query_that_never_finishes_is_stopped_at_the_timeout() {
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-slow"})),
        "GetQueryResults" => ok(json!({"status": "Running", "results": []})),
        "StopQuery" => ok(json!({"success": true})),
        _ => error("InvalidParameterException", "unexpected operation"),
    });
    let got = run_one(&server, &settings(100, Duration::from_millis(400)), Span { start: MONDAY, end: MONDAY + 60 });
    assert_eq!(got.unwrap(), Outcome::TimedOut);
    let requests = server.requests();
    let stop = requests.iter().find(|r| op(r) == "StopQuery").expect("StopQuery sent");
    assert_eq!(body(stop)["queryId"], "q-slow");
    assert_eq!(op(requests.last().unwrap()), "StopQuery");
}

#[test]
fn service_statuses_end_a_query_as_they_say() {
    for (status, want) in [
        ("Cancelled", Ok(Outcome::Cancelled)),
        ("Timeout", Ok(Outcome::TimedOut)),
        (
            "Failed",
            Err("Logs Insights query q-1 over 2026-11-09T00:00:00Z .. 2026-11-09T00:01:00Z failed (status Failed)"
                .to_string()),
        ),
    ] {
        let server = Replay::start(move |r| match op(r) {
            "StartQuery" => ok(json!({"queryId": "q-1"})),
            "GetQueryResults" => ok(json!({"status": status, "results": []})),
            // A query that has ended cannot be stopped.
            _ => error("InvalidParameterException", "query is not running"),
        });
        let got = run_one(&server, &settings(100, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
        assert_eq!(got.map_err(|e| e.to_string()), want, "{status}");
    }
}

#[test]
fn the_accounts_limit_on_running_queries_is_waited_out() {
    let refused = Arc::new(Mutex::new(0));
    let server = Replay::start(move |r| match op(r) {
        "StartQuery" => {
            let mut n = refused.lock().unwrap();
            *n += 1;
            if *n <= 2 {
                error("LimitExceededException", "You have reached the maximum number of concurrent queries")
            } else {
                ok(json!({"queryId": "q-1"}))
            }
        }
        _ => ok(json!({"status": "Complete", "results": [row(&[("requests", "5")])]})),
    });
    let got = run_one(&server, &settings(100, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    assert!(matches!(got.unwrap(), Outcome::Rows(r) if r.rows.len() == 1));
    assert_eq!(server.requests().iter().filter(|r| op(r) == "StartQuery").count(), 3);
}

#[test]
fn a_result_page_that_repeats_is_an_error_not_a_loop() {
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        _ => ok(json!({"status": "Complete", "results": [row(&[("n", "1")])], "nextToken": "again"})),
    });
    let got = run_one(&server, &settings(100, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    assert_eq!(
        got.unwrap_err().to_string(),
        "GetQueryResults: page 2 handed back a page token already used; the listing would never end"
    );
}

#[test]
fn pages_past_a_full_result_are_not_read() {
    // Every page holds a row and hands out a new token, for ever: once the rows reach the limit
    // the result is full and no further page is asked for.
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        _ => {
            let n = body(r)["nextToken"].as_str().map_or(0, |t| t.trim_start_matches("page-").parse::<u64>().unwrap());
            ok(
                json!({"status": "Complete", "results": [row(&[("n", &n.to_string())])], "nextToken": format!("page-{}", n + 1)}),
            )
        }
    });
    let got = run_one(&server, &settings(3, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    assert_eq!(got.unwrap(), Outcome::Full);
    let reads = server.requests().iter().filter(|r| op(r) == "GetQueryResults").count();
    assert_eq!(reads, 3, "the first page and two more, then the limit of 3 rows is reached");
}

#[test]
fn access_denied_names_the_permission_and_the_log_group() {
    let server = Replay::start(|_| error("AccessDeniedException", "User is not authorized to perform logs:StartQuery"));
    let got = run_one(&server, &settings(100, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    let message = got.unwrap_err().to_string();
    assert!(message.starts_with(&format!("log group {GROUP}: AccessDeniedException")), "{message}");
    assert!(
        message.ends_with(&format!("; the credentials in use lack logs:StartQuery on log group {GROUP}")),
        "{message}"
    );
}

/// A log group with one event a second: a query's result has a row per minute of its range,
/// as `stats count(*) by bin(1m)` would.
fn per_minute_server(stuck_after: Option<i64>) -> Replay {
    let windows: Arc<Mutex<BTreeMap<String, (i64, i64)>>> = Arc::default();
    let polled: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    Replay::start(move |r| {
        let b = body(r);
        match op(r) {
            "StartQuery" => {
                let (start, end) = (b["startTime"].as_i64().unwrap(), b["endTime"].as_i64().unwrap());
                // Named by its window (seconds from Monday): queries start in any order.
                let id = format!("q-{}-{}", start - MONDAY, end - MONDAY);
                windows.lock().unwrap().insert(id.clone(), (start, end));
                ok(json!({"queryId": id}))
            }
            "GetQueryResults" => {
                let (start, end) = windows.lock().unwrap()[b["queryId"].as_str().unwrap()];
                // From `stuck_after` on, a query never finishes; before it, one of four minutes
                // or less fails: see the test.
                if let Some(at) = stuck_after {
                    if start >= at {
                        return ok(json!({"status": "Running", "results": []}));
                    }
                    // Not at once: the other query has started well before this one fails.
                    let mut polls = polled.lock().unwrap();
                    let n = polls.entry(b["queryId"].as_str().unwrap().to_string()).or_insert(0);
                    *n += 1;
                    if end - start <= 240 && *n < 3 {
                        return ok(json!({"status": "Running", "results": []}));
                    }
                    if end - start <= 240 {
                        return ok(json!({"status": "Failed", "results": []}));
                    }
                }
                let rows: Vec<Value> =
                    (start..end).step_by(60).map(|m| row(&[("minute", &m.to_string()), ("requests", "60")])).collect();
                ok(
                    json!({"status": "Complete", "results": rows, "statistics": {"bytesScanned": 100.0 * (end - start) as f64}}),
                )
            }
            "StopQuery" => ok(json!({"success": true})),
            _ => error("InvalidParameterException", "unexpected operation"),
        }
    })
}

#[test]
fn a_busy_window_is_split_over_the_wire_and_every_minute_comes_back_once() {
    // Eight minutes, a row each, against a limit of 3 rows: 8 -> 4 + 4 -> 2 + 2 + 2 + 2.
    let server = per_minute_server(None);
    let logs = aws::logs_at(&server.url);
    let window = Span { start: MONDAY, end: MONDAY + 480 };
    let got = aws::block_on(ask(
        &logs,
        &settings(3, Duration::from_secs(30)),
        "stats count(*) as requests by bin(1m) as minute",
        window,
        Bounds { concurrency: 2, max_queries: 100 },
    ))
    .unwrap();
    assert_eq!((got.queries, got.splits, got.parts.len()), (7, 3, 4));
    let minutes: Vec<i64> =
        got.parts.iter().flat_map(|(_, r)| r.rows.iter().map(|row| row[0].1.parse::<i64>().unwrap())).collect();
    assert_eq!(minutes, (0..8).map(|m| MONDAY + 60 * m).collect::<Vec<_>>());
    assert_eq!(got.parts.iter().map(|(_, r)| r.bytes_scanned).sum::<u64>(), 4 * 100 * 120);
}

#[test]
fn when_a_question_fails_the_queries_still_running_are_stopped() {
    // The first half of the split fails, the second never finishes: the question ends with
    // the failure, and the running query is stopped.
    let server = per_minute_server(Some(MONDAY + 240));
    let logs = aws::logs_at(&server.url);
    let window = Span { start: MONDAY, end: MONDAY + 480 };
    let err = aws::block_on(ask(
        &logs,
        &settings(3, Duration::from_secs(30)),
        "stats count(*) as requests by bin(1m) as minute",
        window,
        Bounds { concurrency: 2, max_queries: 100 },
    ))
    .unwrap_err();
    assert!(matches!(err.cause, AskCause::Split(_)), "{err}");
    assert_eq!(err.stopped, ["q-240-480"]);
    assert_eq!(
        err.to_string(),
        "Logs Insights query q-0-240 over 2026-11-09T00:00:00Z .. 2026-11-09T00:04:00Z failed (status Failed); stopped 1 running query (q-240-480)"
    );
    let stops: Vec<Value> = server.requests().iter().filter(|r| op(r) == "StopQuery").map(body).collect();
    assert_eq!(stops, [json!({"queryId": "q-240-480"})]);
}

#[test]
fn moto_runs_a_fields_query_over_real_events() {
    // moto's Logs Insights runs `fields`, `sort` and `limit` only: enough for the protocol over
    // events put in with PutLogEvents.
    let group = "/mila/insights/fields";
    // Within the last hour: CloudWatch Logs (and moto) refuse events older than 14 days.
    let hour_ago =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 3600) / 60 * 60;
    let records: Vec<(i64, String)> =
        (0..5).map(|i| ((hour_ago + 60 * i) * 1000 + 500, format!("{{\"requestId\":\"r-{i}\"}}"))).collect();
    aws::put_events(group, &records);
    let logs = aws::logs();
    let mut s = settings(100, Duration::from_secs(30));
    s.log_groups = vec![group.to_string()];
    let span = Span { start: hour_ago, end: hour_ago + 3600 };
    let got =
        aws::block_on(client::query(&logs, &s, "fields @message | sort @timestamp asc", span, &Running::default()));
    let Outcome::Rows(rows) = got.unwrap() else { panic!("not complete") };
    let messages: Vec<&str> =
        rows.rows.iter().map(|r| r.iter().find(|(f, _)| f == "@message").map(|(_, v)| v.as_str()).unwrap()).collect();
    assert_eq!(messages, records.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>());
    // Five events against a limit of five: full, to be split.
    s.limit = 5;
    let got = aws::block_on(client::query(&logs, &s, "fields @message", span, &Running::default()));
    assert_eq!(got.unwrap(), Outcome::Full);
}
