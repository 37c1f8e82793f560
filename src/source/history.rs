//! `cloudtrail:REGION`: CloudTrail's Event history (the last 90 days of management events)
//! through `LookupEvents`, filtered on Bedrock's event source. The API serves 2 calls a second
//! per region and 50 events a call, so this is for small accounts and spot checks; a trail in
//! S3 is the way for months of calls. Each page becomes one CloudTrail document
//! (`{"Records": [...]}`) that `load` reads like a trail file.

use std::sync::{Arc, Mutex};

use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_cloudtrail::Client;
use tokio::sync::mpsc::Sender;

use super::aws::{describe, with_retries, Action, AwsSettings};
use super::cloudwatch::RateLimit;
use super::{FetchReport, Unit};
use crate::record::trail::EVENT_SOURCE;
use crate::window::DAY_MS;

/// A region's Event history, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub region: String,
}

impl History {
    pub fn parse(text: &str) -> Result<History, super::NotASource> {
        let region = super::region_of(text, "cloudtrail:", "expected cloudtrail:REGION, such as cloudtrail:eu-west-1")?;
        Ok(History { region })
    }

    pub fn name(&self) -> String {
        format!("cloudtrail:{}", self.region)
    }
}

/// Event history keeps this long.
pub const KEPT_MS: i64 = 90 * DAY_MS;
/// LookupEvents' limits: events a call, calls a second per region.
pub const PAGE: i32 = 50;
pub const CALLS_PER_SECOND: f64 = 2.0;

pub struct Job {
    pub history: History,
    /// Event times to ask for (ms); Event history holds the last 90 days only.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub now_ms: i64,
    pub settings: AwsSettings,
}

/// The time range asked for: the window (with its margins) within the 90 days Event history
/// keeps, and a note when part of the window lies before them.
pub fn range(start_ms: Option<i64>, end_ms: Option<i64>, now_ms: i64) -> (i64, i64, Option<String>) {
    let oldest = now_ms - KEPT_MS;
    let end = end_ms.unwrap_or(now_ms).min(now_ms);
    let start = start_ms.unwrap_or(oldest);
    let note = (start < oldest).then(|| {
        format!(
            "Event history keeps 90 days: calls before {} are not in it (read a trail in S3 for them)",
            crate::window::rfc3339(oldest)
        )
    });
    (start.max(oldest), end.max(start.max(oldest)), note)
}

/// What reading a range costs at the API's pace, for a busy account: said before a long read.
pub fn pace_note(days: f64) -> String {
    let per_hour = PAGE as f64 * CALLS_PER_SECOND * 3600.0;
    format!(
        "LookupEvents returns {PAGE} events a call at {CALLS_PER_SECOND} calls a second in each region ({per_hour:.0} events an hour): {days:.0} days of a busy account can take hours; a trail in S3 reads them in minutes"
    )
}

pub async fn fetch(job: Job, tx: Sender<Unit>, report: Arc<Mutex<FetchReport>>) {
    let Job { history, start_ms, end_ms, now_ms, settings } = job;
    let name = history.name();
    let (start, end, note) = range(start_ms, end_ms, now_ms);
    if let Some(note) = note {
        crate::tell::line(&format!("mila: {name}: {note}"));
    }
    let days = (end - start) as f64 / DAY_MS as f64;
    if days > 1.0 {
        crate::tell::line(&format!("mila: {name}: {}", pace_note(days)));
    }
    // The region named is the one read, whatever `--region` or the profile say.
    let in_region = AwsSettings { region: Some(history.region.clone()), ..settings.clone() };
    let config = super::aws::load_config(&in_region, None).await;
    // Retries are `with_retries`', each through the rate limit: the SDK's own would not wait.
    let conf = aws_sdk_cloudtrail::config::Builder::from(&config)
        .retry_config(aws_sdk_cloudtrail::config::retry::RetryConfig::disabled())
        .build();
    let client = Client::from_conf(conf);
    let resource = format!("Event history in {}", history.region);
    let action = Action { permission: "cloudtrail:LookupEvents", resource: &resource };
    let filter = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventSource)
        .attribute_value(EVENT_SOURCE)
        .build()
        .expect("key and value are set");
    let limit = RateLimit::new(CALLS_PER_SECOND);
    let mut token: Option<String> = None;
    let mut page_number = 0u64;
    loop {
        let call = || async {
            // Every attempt, retries included, counts against the rate.
            limit.wait().await;
            client
                .lookup_events()
                .lookup_attributes(filter.clone())
                .start_time(DateTime::from_millis(start))
                .end_time(DateTime::from_millis(end))
                .max_results(PAGE)
                .set_next_token(token.clone())
                .send()
                .await
        };
        // Throttling is expected at this pace: it gets more patience than other failures.
        let page = match with_retries(settings.body_attempts * 2, call).await {
            Ok(page) => page,
            Err(e) => {
                report.lock().expect("report lock").fatal = Some(format!("{name}: {}", describe(&e, &action)));
                return;
            }
        };
        page_number += 1;
        let events: Vec<&str> = page.events().iter().filter_map(|e| e.cloud_trail_event()).collect();
        if !events.is_empty() {
            let doc = format!("{{\"Records\":[{}]}}", events.join(","));
            {
                let mut r = report.lock().expect("report lock");
                r.bytes += doc.len() as u64;
                r.pages += 1;
            }
            let unit = Unit::Object { name: format!("{name} page {page_number}").into(), bytes: doc.into_bytes() };
            if tx.send(unit).await.is_err() {
                return;
            }
        }
        match page.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(History::parse("cloudtrail:eu-west-1"), Ok(History { region: "eu-west-1".into() }));
        for bad in ["cloudtrail:", "cloudtrail:EU WEST", "cloudtrail:eu-west-1/x", "cloudtrail:eu_west_1"] {
            assert!(History::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_stay_within_event_history() {
        let now = 1_000 * DAY_MS;
        let cases = [
            ((None, None), (now - KEPT_MS, now, false)),
            ((Some(now - DAY_MS), Some(now - 1)), (now - DAY_MS, now - 1, false)),
            ((Some(now - 200 * DAY_MS), None), (now - KEPT_MS, now, true)),
            ((Some(0), Some(now - 100 * DAY_MS)), (now - KEPT_MS, now - KEPT_MS, true)),
            ((Some(now - DAY_MS), Some(now + 5 * DAY_MS)), (now - DAY_MS, now, false)),
        ];
        for ((s, e), (ws, we, note)) in cases {
            let (gs, ge, gn) = range(s, e, now);
            assert_eq!((gs, ge, gn.is_some()), (ws, we, note), "{s:?} {e:?}");
        }
    }
}
