//! `metrics:REGION`: Bedrock's CloudWatch metrics, the record of traffic the invocation logs do not
//! hold (bedrock-mantle never logs; logging may be off) and of latency where logs have none.
//!
//! ListMetrics finds the model ids (`AWS/Bedrock`, dimension `ModelId`) and the mantle projects and
//! models (`AWS/BedrockMantle`); GetMetricData reads them, at most 500 metrics and 100,800
//! datapoints a call (CloudWatch API Reference, GetMetricData), paginated. Sums are read at the
//! coarsest period that keeps the window's edges exact and that CloudWatch still keeps, and
//! added up per day as they arrive: memory holds a day's figures per model, whatever the window.
//! Latency percentiles are read as one datapoint over the whole window.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, DimensionFilter, Metric, MetricDataQuery, MetricStat};
use aws_sdk_cloudwatch::Client;

use super::FetchError;
use crate::source::aws::{self, Action, AwsSettings, Pages};
use crate::window::{Window, DAY_MS};

/// A region's Bedrock metrics, as the user named them (`metrics:REGION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsRegion {
    pub region: String,
}

impl MetricsRegion {
    pub fn parse(text: &str) -> Result<MetricsRegion, crate::source::NotASource> {
        let expected = "expected metrics:REGION, such as metrics:us-east-1";
        Ok(MetricsRegion { region: crate::source::region_of(text, "metrics:", expected)? })
    }

    pub fn name(&self) -> String {
        format!("metrics:{}", self.region)
    }
}

/// Which endpoint a metric counts: bedrock-runtime (`AWS/Bedrock`, whose calls the invocation
/// logs hold when logging is on) or bedrock-mantle (`AWS/BedrockMantle`, never logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    BedrockRuntime,
    BedrockMantle,
}

impl Endpoint {
    pub fn namespace(self) -> &'static str {
        match self {
            Endpoint::BedrockRuntime => "AWS/Bedrock",
            Endpoint::BedrockMantle => "AWS/BedrockMantle",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::BedrockRuntime => "bedrock-runtime",
            Endpoint::BedrockMantle => "bedrock-mantle",
        }
    }
}

/// The sums read per day, in this order; `(runtime metric, mantle metric)`, empty where the
/// endpoint publishes none.
pub const SUMS: [(&str, &str); 6] = [
    ("Invocations", "Inferences"),
    ("InputTokenCount", "TotalInputTokens"),
    ("OutputTokenCount", "TotalOutputTokens"),
    ("InvocationClientErrors", "InferenceClientErrors"),
    ("InvocationServerErrors", ""),
    ("InvocationThrottles", ""),
];
pub const INVOCATIONS: usize = 0;
pub const INPUT: usize = 1;
pub const OUTPUT: usize = 2;
pub const CLIENT_ERRORS: usize = 3;
pub const SERVER_ERRORS: usize = 4;
pub const THROTTLES: usize = 5;

/// Latency percentiles read over the whole window (`AWS/Bedrock` only), and their sample count.
pub const LATENCY: [(&str, &str); 4] = [
    ("InvocationLatency", "p50"),
    ("InvocationLatency", "p90"),
    ("InvocationLatency", "p99"),
    ("TimeToFirstToken", "p50"),
];
pub const LATENCY_SAMPLES: (&str, &str) = ("InvocationLatency", "SampleCount");

/// Bedrock's own estimate of the tokens-per-minute quota a model id consumed (cache writes and the
/// output burndown included, the up-front `max_tokens` reservation not), read per minute.
pub const QUOTA_USAGE: &str = "EstimatedTPMQuotaUsage";

/// GetMetricData's limits: metrics a call, datapoints a call.
pub const QUERIES_PER_CALL: usize = 500;
pub const DATAPOINTS_PER_CALL: i64 = 100_800;
/// CloudWatch's price of GetMetricData: USD per 1,000 metrics requested (us-east-1, checked
/// 2026-12-07 on the CloudWatch pricing page).
pub const USD_PER_1000_METRICS: f64 = 0.01;

/// How long CloudWatch keeps each period: 1-minute data 15 days, 5-minute 63, 1-hour 455.
pub const RETENTION: [(i64, i64); 3] = [(60, 15 * DAY_MS), (300, 63 * DAY_MS), (3600, 455 * DAY_MS)];

/// One metric series mila reads: its endpoint, model and (mantle) project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Series {
    pub region: String,
    pub endpoint: Endpoint,
    pub model: String,
    pub project: Option<String>,
}

/// Latency percentiles of a model over the window, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    pub samples: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub first_token_p50: Option<f64>,
}

/// Everything read from the metrics of every region named.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MetricsRead {
    pub regions: Vec<String>,
    /// The period the sums were read at, seconds (the largest of the regions').
    pub period_s: i64,
    /// Per series and UTC day (ms): the `SUMS`.
    pub daily: BTreeMap<(Series, i64), [f64; SUMS.len()]>,
    pub latency: BTreeMap<Series, Latency>,
    /// Per runtime series: `QUOTA_USAGE` per minute (start ms, sum), read when the window lies
    /// within the 15 days CloudWatch keeps minutes (at most 21,600 minutes a series).
    pub quota_minutes: BTreeMap<Series, Vec<(i64, f64)>>,
    /// Metrics requested from GetMetricData (what CloudWatch bills), and calls made.
    pub metrics_requested: u64,
    pub calls: u64,
    /// Datapoints that were not a count (NaN, infinite, negative), left out.
    pub bad_values: u64,
    /// What the user should know about what could not be read.
    pub notes: Vec<String>,
}

impl MetricsRead {
    pub fn cost_usd(&self) -> f64 {
        self.metrics_requested as f64 / 1000.0 * USD_PER_1000_METRICS
    }
}

/// The period to read sums at: the coarsest of 3600, 300 and 60 s that divides both ends of the
/// window (so no datapoint straddles an edge) and that CloudWatch keeps for the window's start.
/// `None` when the window starts past the 455 days CloudWatch keeps anything.
pub fn period(since_ms: i64, until_ms: i64, now_ms: i64) -> Option<i64> {
    let age = now_ms - since_ms;
    let kept = |p: i64| RETENTION.iter().any(|(q, keep)| *q <= p && age <= *keep);
    if age > RETENTION[2].1 {
        return None;
    }
    let exact = |p: i64| since_ms % (p * 1000) == 0 && until_ms % (p * 1000) == 0;
    [3600, 300, 60].into_iter().find(|p| exact(*p) && kept(*p)).or_else(|| {
        // Edges between periods: the finest period kept, and the edges' partial periods read whole.
        RETENTION.iter().find(|(_, keep)| age <= *keep).map(|(p, _)| *p)
    })
}

/// The time slices of one call: each holds at most `DATAPOINTS_PER_CALL` datapoints for
/// `metrics` metrics at `period_s`.
pub fn slices(since_ms: i64, until_ms: i64, period_s: i64, metrics: usize) -> Vec<(i64, i64)> {
    let per_metric = (DATAPOINTS_PER_CALL / metrics.max(1) as i64).max(1);
    let step = per_metric * period_s * 1000;
    let mut out = Vec::new();
    let mut at = since_ms;
    while at < until_ms {
        let end = until_ms.min(at.saturating_add(step));
        out.push((at, end));
        at = end;
    }
    out
}

/// A datapoint as a count: NaN, infinite and negative values are none.
pub fn count(v: f64) -> Option<f64> {
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// The dimension of a mantle metric that names `what` (`model` or `project`): any name that
/// holds the word, whatever its case (the names are kept open: `Model`, `ModelId`, `Project`, ...).
fn dimension<'a>(dims: &'a [Dimension], what: &str) -> Option<&'a str> {
    dims.iter().find(|d| d.name().unwrap_or_default().to_ascii_lowercase().contains(what)).and_then(|d| d.value())
}

/// The series of a region, found by ListMetrics: runtime model ids, and mantle (project, model)
/// pairs, or models alone where no project level is published (never both for one model, so
/// nothing is counted twice).
async fn series(
    client: &Client,
    region: &str,
    attempts: u32,
    out: &mut Vec<(Series, Vec<Dimension>)>,
    unknown: &mut u64,
) -> Result<u64, FetchError> {
    let mut calls = 0u64;
    for endpoint in [Endpoint::BedrockRuntime, Endpoint::BedrockMantle] {
        let metric = match endpoint {
            Endpoint::BedrockRuntime => SUMS[INVOCATIONS].0,
            Endpoint::BedrockMantle => SUMS[INVOCATIONS].1,
        };
        let resource = format!("{} metrics in {region}", endpoint.namespace());
        let mut token: Option<String> = None;
        let mut pages = Pages::default();
        let mut found: BTreeMap<(String, Option<String>), Vec<Dimension>> = BTreeMap::new();
        loop {
            let page = aws::with_retries(attempts, || {
                let mut call = client.list_metrics().namespace(endpoint.namespace()).metric_name(metric);
                if endpoint == Endpoint::BedrockRuntime {
                    call = call.dimensions(DimensionFilter::builder().name("ModelId").build());
                }
                call.set_next_token(token.clone()).send()
            })
            .await
            .map_err(|e| {
                FetchError::Call(aws::describe(
                    &e,
                    &Action { permission: "cloudwatch:ListMetrics", resource: &resource },
                ))
            })?;
            calls += 1;
            for m in page.metrics() {
                let dims = m.dimensions();
                let key = match endpoint {
                    // Only the ModelId level: the whole-account level would count every call again.
                    Endpoint::BedrockRuntime => match dims {
                        [d] if d.name() == Some("ModelId") => d.value().map(|v| (v.to_string(), None)),
                        _ => None,
                    },
                    Endpoint::BedrockMantle => dimension(dims, "model")
                        .map(|model| (model.to_string(), dimension(dims, "project").map(str::to_string))),
                };
                // The levels with a model: Model and Project+Model; a model's dimensions are kept
                // as listed, so GetMetricData asks for exactly that metric.
                match key.filter(|_| dims.len() <= 2) {
                    Some(key) => {
                        found.insert(key, dims.to_vec());
                    }
                    // Another level (the account's, or dimensions mila does not know): its calls
                    // are already in the levels read, so it is counted and said, not added.
                    None => *unknown += 1,
                }
            }
            token = pages.next(page.next_token, &format!("ListMetrics {} in {region}", endpoint.namespace()))?;
            if token.is_none() {
                break;
            }
        }
        let with_project: std::collections::BTreeSet<String> =
            found.keys().filter(|(_, p)| p.is_some()).map(|(m, _)| m.clone()).collect();
        for ((model, project), dims) in found {
            if project.is_none() && with_project.contains(&model) {
                continue;
            }
            out.push((Series { region: region.to_string(), endpoint, model, project }, dims));
        }
    }
    Ok(calls)
}

/// One query of a call: what it answers.
#[derive(Clone, Copy)]
enum Wanted {
    Sum(usize, usize),
    Latency(usize, usize),
    Samples(usize),
    QuotaMinute(usize),
}

fn query(id: usize, series: &Series, dims: &[Dimension], metric: &str, stat: &str, period_s: i64) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(series.endpoint.namespace())
        .metric_name(metric)
        .set_dimensions(Some(dims.to_vec()))
        .build();
    let stat = MetricStat::builder().metric(metric).period(period_s as i32).stat(stat).build();
    MetricDataQuery::builder().id(format!("q{id}")).metric_stat(stat).return_data(true).build()
}

/// One UTC day of what the metrics counted, as a store keeps it (`store::Store::put_metrics_day`):
/// each series' sums and Bedrock's quota usage per minute. Latency percentiles are of a whole
/// window and do not add up across days, so a store keeps none.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricsDay {
    /// Start of the UTC day (ms).
    pub day_ms: i64,
    /// The regions read, each with the period its sums were read at (seconds).
    pub regions: BTreeMap<String, i64>,
    pub sums: Vec<(Series, [f64; SUMS.len()])>,
    pub quota_minutes: Vec<(Series, Vec<(i64, f64)>)>,
}

impl MetricsDay {
    /// This day with `newer`'s regions replaced by `newer` (a region read again is read whole).
    pub fn updated_by(mut self, newer: MetricsDay) -> MetricsDay {
        let replaced = |s: &Series| newer.regions.contains_key(&s.region);
        self.sums.retain(|(s, _)| !replaced(s));
        self.quota_minutes.retain(|(s, _)| !replaced(s));
        self.regions.extend(newer.regions);
        self.sums.extend(newer.sums);
        self.quota_minutes.extend(newer.quota_minutes);
        self.sums.sort_by(|a, b| a.0.cmp(&b.0));
        self.quota_minutes.sort_by(|a, b| a.0.cmp(&b.0));
        self
    }
}

impl MetricsRead {
    /// The UTC days wholly inside `[since, until)`, as a store keeps them: a day the window cuts
    /// is left out, as its sums would stand for the whole day.
    pub fn whole_days(&self, since: i64, until: i64) -> Vec<MetricsDay> {
        let first = (since + DAY_MS - 1).div_euclid(DAY_MS) * DAY_MS;
        let mut out = Vec::new();
        let mut day = first;
        while day + DAY_MS <= until {
            let sums = self.daily.iter().filter(|((_, d), _)| *d == day).map(|((s, _), v)| (s.clone(), *v)).collect();
            let quota_minutes = self
                .quota_minutes
                .iter()
                .map(|(s, m)| {
                    (s.clone(), m.iter().filter(|(ms, _)| (day..day + DAY_MS).contains(ms)).copied().collect())
                })
                .filter(|(_, m): &(Series, Vec<(i64, f64)>)| !m.is_empty())
                .collect();
            let regions = self.regions.iter().map(|r| (r.clone(), self.period_s)).collect();
            out.push(MetricsDay { day_ms: day, regions, sums, quota_minutes });
            day += DAY_MS;
        }
        out
    }

    /// What a store's days hold for `[since, until)`: the sums of the days wholly inside it (a
    /// day it cuts is named in a note), the quota minutes inside it. No call is made, so none
    /// is billed; no latency is kept.
    pub fn from_days(days: Vec<MetricsDay>, since: Option<i64>, until: Option<i64>) -> MetricsRead {
        let inside = |ms: i64| since.is_none_or(|s| ms >= s) && until.is_none_or(|u| ms < u);
        let mut read = MetricsRead::default();
        let mut regions = std::collections::BTreeSet::new();
        let mut cut = Vec::new();
        for d in days {
            for (r, period) in &d.regions {
                regions.insert(r.clone());
                read.period_s = read.period_s.max(*period);
            }
            if inside(d.day_ms) && inside(d.day_ms + DAY_MS - 1) {
                for (s, v) in d.sums {
                    read.daily.insert((s, d.day_ms), v);
                }
            } else {
                cut.push(crate::window::rfc3339(d.day_ms)[..10].to_string());
            }
            for (s, minutes) in d.quota_minutes {
                read.quota_minutes.entry(s).or_default().extend(minutes.into_iter().filter(|(ms, _)| inside(*ms)));
            }
        }
        read.quota_minutes.retain(|_, m| !m.is_empty());
        read.regions = regions.into_iter().collect();
        read.notes.push(
            "read from the store (kept by ingest): no CloudWatch call made; latency percentiles are not kept in a store, read metrics:REGION for them".into(),
        );
        if !cut.is_empty() {
            read.notes.push(format!(
                "the window cuts the stored day{} {}: a store keeps whole days' sums, so their calls are not compared",
                if cut.len() == 1 { "" } else { "s" },
                cut.join(", ")
            ));
        }
        read
    }
}

/// Reads `regions`' Bedrock metrics over `window` (which needs both ends).
pub async fn fetch(
    regions: &[MetricsRegion],
    window: Window,
    now_ms: i64,
    settings: &AwsSettings,
) -> Result<MetricsRead, FetchError> {
    let (Some(since), Some(until)) = (window.since, window.until.or(Some(now_ms))) else {
        return Err(FetchError::Call("metrics: sources need a window: --since (and --until) or --week".into()));
    };
    let until = until.min(now_ms.div_euclid(60_000) * 60_000).max(since);
    let mut read = MetricsRead::default();
    let Some(period_s) = period(since, until, now_ms) else {
        read.notes
            .push("the window starts more than 455 days ago: CloudWatch keeps no Bedrock metrics that old".into());
        read.regions = regions.iter().map(|r| r.region.clone()).collect();
        return Ok(read);
    };
    read.period_s = period_s;
    if now_ms - since > RETENTION[0].1 {
        read.notes.push(format!(
            "{QUOTA_USAGE} is compared per minute, and CloudWatch keeps minutes 15 days: not read for this window"
        ));
    }
    if now_ms - since > 14 * DAY_MS {
        read.notes.push(
            "ListMetrics lists only metrics with data in the last two weeks: models used only earlier are not found"
                .into(),
        );
    }
    for r in regions {
        read.regions.push(r.region.clone());
        let in_region = AwsSettings { region: Some(r.region.clone()), ..settings.clone() };
        let config = aws::load_config(&in_region, None).await;
        let client = Client::new(&config);
        let mut found = Vec::new();
        let mut unknown = 0;
        read.calls += series(&client, &r.region, settings.body_attempts, &mut found, &mut unknown).await?;
        if unknown > 0 {
            read.notes.push(format!(
                "{}: {unknown} metrics at a level mila does not read (no model, or other dimensions) were left out; their calls are in the model levels",
                r.region
            ));
        }
        let resource = format!("Bedrock metrics in {}", r.region);
        let action = Action { permission: "cloudwatch:GetMetricData", resource: &resource };

        // Sums at `period_s`; percentiles over the whole window, one datapoint each (a period of
        // whole hours is valid at any age CloudWatch keeps).
        let whole_s = ((until - since).max(1) + 3_599_999) / 3_600_000 * 3600;
        let mut sums: Vec<(MetricDataQuery, Wanted)> = Vec::new();
        let mut percentiles: Vec<(MetricDataQuery, Wanted)> = Vec::new();
        let mut id = 0usize;
        let mut next = || {
            id += 1;
            id
        };
        for (i, (s, dims)) in found.iter().enumerate() {
            for (k, (runtime, mantle)) in SUMS.iter().enumerate() {
                let name = if s.endpoint == Endpoint::BedrockRuntime { runtime } else { mantle };
                if !name.is_empty() {
                    sums.push((query(next(), s, dims, name, "Sum", period_s), Wanted::Sum(i, k)));
                }
            }
            if s.endpoint == Endpoint::BedrockRuntime {
                for (k, (name, stat)) in LATENCY.iter().enumerate() {
                    percentiles.push((query(next(), s, dims, name, stat, whole_s), Wanted::Latency(i, k)));
                }
                let (name, stat) = LATENCY_SAMPLES;
                percentiles.push((query(next(), s, dims, name, stat, whole_s), Wanted::Samples(i)));
            }
        }
        // Quota usage per minute: only where CloudWatch still keeps minutes for the whole window.
        let minutes_kept = now_ms - since <= RETENTION[0].1;
        let mut per_minute: Vec<(MetricDataQuery, Wanted)> = Vec::new();
        if minutes_kept {
            for (i, (s, dims)) in found.iter().enumerate().filter(|(_, (s, _))| s.endpoint == Endpoint::BedrockRuntime)
            {
                per_minute.push((query(next(), s, dims, QUOTA_USAGE, "Sum", 60), Wanted::QuotaMinute(i)));
            }
        }
        let mut latency: BTreeMap<usize, Latency> = BTreeMap::new();
        let mut daily: BTreeMap<(usize, i64), [f64; SUMS.len()]> = BTreeMap::new();
        // Per series, one sum per minute: a server that sends a minute twice (or millions of
        // times) costs no memory past the window's distinct minutes.
        let mut quota_minutes: BTreeMap<usize, BTreeMap<i64, f64>> = BTreeMap::new();
        for (group, group_period, whole) in
            [(&sums, period_s, false), (&percentiles, whole_s, true), (&per_minute, 60, false)]
        {
            for batch in group.chunks(QUERIES_PER_CALL) {
                let wanted: BTreeMap<&str, Wanted> =
                    batch.iter().map(|(q, w)| (q.id().unwrap_or_default(), *w)).collect();
                // Sums start on a whole period, so that CloudWatch rounds no slice's start down
                // into the slice before it (a datapoint is in one slice only; the window's first
                // partial period is read whole). The percentiles are one datapoint from `since`.
                let from = if whole { since } else { since.div_euclid(group_period * 1000) * group_period * 1000 };
                for (start, end) in slices(from, until, group_period, batch.len()) {
                    let first = if whole { i64::MIN } else { start };
                    let mut token: Option<String> = None;
                    let mut pages = Pages::default();
                    loop {
                        let page = aws::with_retries(settings.body_attempts, || {
                            client
                                .get_metric_data()
                                .set_metric_data_queries(Some(batch.iter().map(|q| q.0.clone()).collect()))
                                .start_time(DateTime::from_millis(start))
                                .end_time(DateTime::from_millis(end))
                                .set_next_token(token.clone())
                                .send()
                        })
                        .await
                        .map_err(|e| FetchError::Call(aws::describe(&e, &action)))?;
                        read.calls += 1;
                        read.metrics_requested += batch.len() as u64;
                        for result in page.metric_data_results() {
                            let Some(w) = result.id().and_then(|id| wanted.get(id)) else { continue };
                            for (t, v) in result.timestamps().iter().zip(result.values()) {
                                let ms = t.to_millis().unwrap_or(i64::MIN);
                                // A datapoint of another slice (or none asked for) is not this one's.
                                if !(first..end).contains(&ms) {
                                    continue;
                                }
                                let Some(v) = count(*v) else {
                                    read.bad_values += 1;
                                    continue;
                                };
                                match *w {
                                    Wanted::Sum(i, k) => {
                                        let day = ms.div_euclid(DAY_MS) * DAY_MS;
                                        daily.entry((i, day)).or_default()[k] += v;
                                    }
                                    Wanted::Latency(i, k) => {
                                        let l = latency.entry(i).or_default();
                                        let slot = [&mut l.p50, &mut l.p90, &mut l.p99, &mut l.first_token_p50];
                                        *slot.into_iter().nth(k).expect("one slot a percentile") = Some(v);
                                    }
                                    Wanted::Samples(i) => {
                                        let l = latency.entry(i).or_default();
                                        l.samples = Some(l.samples.unwrap_or(0.0) + v);
                                    }
                                    Wanted::QuotaMinute(i) => {
                                        *quota_minutes.entry(i).or_default().entry(ms).or_default() += v
                                    }
                                }
                            }
                        }
                        token = pages.next(page.next_token, &format!("GetMetricData in {}", r.region))?;
                        if token.is_none() {
                            break;
                        }
                    }
                }
            }
        }
        for ((i, day), sums) in daily {
            read.daily.insert((found[i].0.clone(), day), sums);
        }
        for (i, l) in latency {
            read.latency.insert(found[i].0.clone(), l);
        }
        for (i, minutes) in quota_minutes {
            read.quota_minutes.insert(found[i].0.clone(), minutes.into_iter().collect());
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn periods_follow_the_edges_and_retention() {
        let now = 1_000 * DAY_MS;
        let cases = [
            // A week of whole hours, yesterday: hours.
            ((now - 8 * DAY_MS, now - DAY_MS), Some(3600)),
            // Edges on 5 minutes, 10 days ago: 5 minutes.
            ((now - 10 * DAY_MS + 5 * 60_000, now - 9 * DAY_MS), Some(300)),
            // Edges on a minute: minutes while kept (15 days)...
            ((now - 10 * DAY_MS + 60_000, now - 9 * DAY_MS), Some(60)),
            // ...past 15 days, the finest period kept (the edges' periods read whole).
            ((now - 20 * DAY_MS + 60_000, now - 19 * DAY_MS), Some(300)),
            ((now - 100 * DAY_MS + 60_000, now - 99 * DAY_MS), Some(3600)),
            // Past 15 months: nothing is kept.
            ((now - 456 * DAY_MS, now - 455 * DAY_MS), None),
            ((now - 455 * DAY_MS, now - 454 * DAY_MS), Some(3600)),
        ];
        for ((since, until), want) in cases {
            assert_eq!(period(since, until, now), want, "{since} {until}");
        }
    }

    #[test]
    fn slices_hold_at_most_the_datapoints_of_a_call() {
        // A week of minutes, 10 metrics: 100,800 datapoints, one call.
        assert_eq!(slices(0, 7 * DAY_MS, 60, 10), vec![(0, 7 * DAY_MS)]);
        // 11 metrics: 9,163 minutes a slice, two slices.
        let two = slices(0, 7 * DAY_MS, 60, 11);
        assert_eq!(two.len(), 2);
        assert_eq!(two[0], (0, 9_163 * 60_000));
        assert_eq!(two[1].1, 7 * DAY_MS);
        // 500 metrics of hours for 15 months: 201 hours a slice.
        let many = slices(0, 455 * DAY_MS, 3600, 500);
        assert_eq!(many[0], (0, 201 * H));
        assert_eq!(many.len(), (455 * 24usize).div_ceil(201));
        assert!(slices(5, 5, 60, 1).is_empty());
    }

    #[test]
    fn counts() {
        for (v, want) in [(1.5, Some(1.5)), (0.0, Some(0.0)), (-1.0, None), (f64::NAN, None), (f64::INFINITY, None)] {
            assert_eq!(count(v), want, "{v}");
        }
    }

    #[test]
    fn sources() {
        assert_eq!(MetricsRegion::parse("metrics:us-east-1").unwrap().region, "us-east-1");
        for bad in ["metrics:", "metrics:US", "metrics:a/b", "metric:us-east-1"] {
            assert!(MetricsRegion::parse(bad).is_err(), "{bad}");
        }
    }
}
