//! `cloudwatch:LOG_GROUP`: FilterLogEvents over the window, every page until `nextToken` is
//! absent (pages may be empty before it is), at a bounded request rate.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use tokio::sync::mpsc::Sender;
use tokio::time::Instant;

use super::aws::{describe, with_retries, Action, AwsSettings};
use super::{FetchReport, Unit};

/// A log group named by the user: by name, or by ARN (whose region is then used unless
/// `--region` says otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    pub name: String,
    pub region: Option<String>,
    /// As given, without a trailing `:*`, when given by ARN.
    pub arn: Option<String>,
}

impl LogGroup {
    /// How Logs Insights' StartQuery names it: the name, or for one given by ARN the ARN
    /// without its `:*` (`logGroupIdentifiers`, which reach other accounts).
    pub fn identifier(&self) -> String {
        self.arn.clone().unwrap_or_else(|| self.name.clone())
    }
}

impl LogGroup {
    pub fn parse(text: &str) -> Result<LogGroup, super::NotASource> {
        let bad = |expected| super::NotASource::new(text, expected);
        let rest = text.strip_prefix("cloudwatch:").ok_or_else(|| bad("not a cloudwatch: source"))?;
        // CreateLogGroup's `logGroupName`: 1-512 of `[\.\-_/#A-Za-z0-9]`; an ARN adds `:` and `*`.
        // Nothing else can name a log group, and the name travels into requests, errors and
        // `--dry-run`'s script.
        let name_char = |b: u8| b.is_ascii_alphanumeric() || b".-_/#".contains(&b);
        if rest.len() > 600 || !rest.bytes().all(|b| name_char(b) || b == b':' || b == b'*') {
            return Err(bad("not a log group name (1-512 of letters, digits and . - _ / #) or log-group ARN"));
        }
        if let Some(arn) = rest.strip_prefix("arn:") {
            // arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]
            let parts: Vec<&str> = arn.splitn(5, ':').collect();
            let ok = parts.len() == 5 && parts[1] == "logs" && !parts[2].is_empty();
            let name =
                parts.get(4).and_then(|r| r.strip_prefix("log-group:")).map(|n| n.strip_suffix(":*").unwrap_or(n));
            return match (ok, name) {
                (true, Some(name)) if !name.is_empty() && name.len() <= 512 && name.bytes().all(name_char) => {
                    let arn = format!("arn:{}", arn.strip_suffix(":*").unwrap_or(arn));
                    Ok(LogGroup { name: name.into(), region: Some(parts[2].into()), arn: Some(arn) })
                }
                _ => Err(bad("not a log-group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)")),
            };
        }
        if rest.is_empty() {
            return Err(bad("no log group name (expected cloudwatch:LOG_GROUP)"));
        }
        if rest.len() > 512 || !rest.bytes().all(name_char) {
            return Err(bad("not a log group name (1-512 of letters, digits and . - _ / #) or log-group ARN"));
        }
        Ok(LogGroup { name: rest.into(), region: None, arn: None })
    }
}

/// One log event: its message is one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub stream: String,
    pub id: String,
    pub message: String,
}

pub struct Job {
    pub group: LogGroup,
    /// Event times to ask for, in ms (inclusive); records are still filtered by their own time.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub settings: AwsSettings,
}

/// Spaces calls at least `1/rate` seconds apart.
pub(crate) struct RateLimit {
    gap: Duration,
    next: Mutex<Instant>,
}

impl RateLimit {
    pub(crate) fn new(per_second: f64) -> RateLimit {
        RateLimit { gap: Duration::from_secs_f64(1.0 / per_second.max(0.01)), next: Mutex::new(Instant::now()) }
    }

    /// Takes the next free slot, then sleeps until it.
    pub(crate) async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().expect("rate lock");
            let at = (*next).max(Instant::now());
            *next = at + self.gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

pub async fn fetch(job: Job, tx: Sender<Unit>, report: Arc<Mutex<FetchReport>>) {
    let Job { group, start_ms, end_ms, settings } = job;
    // The API takes times from 1970 on: a window reaching further back starts there.
    let (start_ms, end_ms) = (start_ms.map(|t| t.max(0)), end_ms.map(|t| t.max(0)));
    let config = super::aws::load_config(&settings, group.region.as_deref()).await;
    let fatal = |message: String| report.lock().expect("report lock").fatal = Some(message);
    if config.region().is_none() {
        return fatal(format!(
            "cloudwatch:{}: no AWS region: pass --region, set AWS_REGION, or name the group by its ARN",
            group.name
        ));
    }
    let client = Client::new(&config);
    let name: Arc<str> = format!("cloudwatch:{}", group.name).into();
    let resource = format!("log group {}", group.name);
    let action = Action { permission: "logs:FilterLogEvents", resource: &resource };
    let limit = RateLimit::new(settings.cloudwatch_rate);
    let mut token: Option<String> = None;
    loop {
        let call = || async {
            // Every attempt, retries included, counts against the rate.
            limit.wait().await;
            client
                .filter_log_events()
                .log_group_name(&group.name)
                .set_start_time(start_ms)
                .set_end_time(end_ms)
                .set_limit(settings.page_size)
                .set_next_token(token.clone())
                .send()
                .await
        };
        // Throttling gets more patience than other failures: it is expected at the quota.
        let page = match with_retries(settings.body_attempts * 2, call).await {
            Ok(page) => page,
            Err(e) => return fatal(describe(&e, &action)),
        };
        let events: Vec<Event> = page
            .events()
            .iter()
            .map(|e| Event {
                stream: e.log_stream_name().unwrap_or_default().into(),
                id: e.event_id().unwrap_or_default().into(),
                message: e.message().unwrap_or_default().into(),
            })
            .collect();
        if !events.is_empty() {
            {
                let mut r = report.lock().expect("report lock");
                r.bytes += events.iter().map(|e| e.message.len() as u64).sum::<u64>();
                r.pages += 1;
            }
            if tx.send(Unit::Events { group: name.clone(), events }).await.is_err() {
                return;
            }
        }
        match page.next_token() {
            // Follow the token through empty pages until the service stops giving one.
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_groups() {
        let cases = [
            ("cloudwatch:bedrock-invocations", Ok(("bedrock-invocations", None))),
            ("cloudwatch:/aws/bedrock/logs", Ok(("/aws/bedrock/logs", None))),
            (
                "cloudwatch:arn:aws:logs:eu-west-1:123456789012:log-group:/aws/bedrock:*",
                Ok(("/aws/bedrock", Some("eu-west-1"))),
            ),
            ("cloudwatch:arn:aws:logs:us-east-1:123456789012:log-group:inv", Ok(("inv", Some("us-east-1")))),
            ("cloudwatch:", Err("cloudwatch:: no log group name (expected cloudwatch:LOG_GROUP)")),
            (
                "cloudwatch:a b",
                Err("cloudwatch:a b: not a log group name (1-512 of letters, digits and . - _ / #) or log-group ARN"),
            ),
            (
                "cloudwatch:a:b",
                Err("cloudwatch:a:b: not a log group name (1-512 of letters, digits and . - _ / #) or log-group ARN"),
            ),
            (
                "cloudwatch:arn:aws:s3:::bucket",
                Err("cloudwatch:arn:aws:s3:::bucket: not a log-group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)"),
            ),
        ];
        for (text, want) in cases {
            let got = LogGroup::parse(text).map_err(|e| e.to_string());
            match want {
                Ok((n, r)) => {
                    let got = got.map(|g| (g.name, g.region));
                    assert_eq!(got, Ok((n.to_string(), r.map(Into::into))), "{text}")
                }
                Err(e) => assert_eq!(got, Err(e.to_string()), "{text}"),
            }
        }
        for hostile in ["cloudwatch:a\nb", "cloudwatch:a\u{1b}[31m", "cloudwatch:a\"b", "cloudwatch:é"] {
            assert!(LogGroup::parse(hostile).is_err(), "{hostile:?}");
        }
        assert!(LogGroup::parse(&format!("cloudwatch:{}", "a".repeat(512))).is_ok());
        assert!(LogGroup::parse(&format!("cloudwatch:{}", "a".repeat(513))).is_err());
        let id = |t: &str| LogGroup::parse(t).unwrap().identifier();
        assert_eq!(id("cloudwatch:/aws/bedrock/logs"), "/aws/bedrock/logs");
        assert_eq!(
            id("cloudwatch:arn:aws:logs:eu-west-1:123456789012:log-group:/aws/bedrock:*"),
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/bedrock"
        );
    }
}
