//! `s3://BUCKET/PREFIX`: list (paginated, only the hours a window can need), then GET the log
//! objects concurrently, a bounded number at a time, handing them on in listing order.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::Client;
use chrono::{DateTime, Datelike, Timelike};
use tokio::sync::mpsc::Sender;

use super::aws::{backoff, describe, is_transient, with_retries, Action, AwsSettings};
use super::{FetchReport, NotASource, Problem, Unit};
use crate::window::HOUR_MS;

/// `s3://BUCKET/PREFIX` as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub prefix: String,
}

impl Location {
    pub fn parse(text: &str) -> Result<Location, NotASource> {
        let rest = text.strip_prefix("s3://").ok_or_else(|| NotASource::new(text, "not an s3:// address"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(NotASource::new(text, "no bucket name (expected s3://BUCKET/PREFIX)"));
        }
        Ok(Location { bucket: bucket.into(), prefix: prefix.into() })
    }

    pub fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// An object as listed: what incremental ingest remembers it by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectInfo {
    pub key: String,
    pub etag: String,
    pub size: u64,
}

/// Which part of the prefix to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listing {
    /// Records from this time on (ms); with `until`, only the hour folders that can hold them
    /// are listed, one extra hour each side for delivery lag.
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

const LAYOUT: [&str; 4] = ["AWSLogs/", "*", "BedrockModelInvocationLogs/", "*"];

/// The hour folders `YYYY/MM/DD/HH/` for records in `[since, until)`, one extra hour each side.
pub fn hour_folders(since_ms: i64, until_ms: i64) -> Vec<String> {
    let first = since_ms.div_euclid(HOUR_MS) - 1;
    let last = (until_ms - 1).div_euclid(HOUR_MS) + 1;
    (first..=last)
        .filter_map(|h| DateTime::from_timestamp_millis(h * HOUR_MS))
        .map(|t| format!("{:04}/{:02}/{:02}/{:02}/", t.year(), t.month(), t.day(), t.hour()))
        .collect()
}

/// The start of the hour folder a delivery key sits in, if it follows the layout.
pub fn key_hour_ms(key: &str) -> Option<i64> {
    let parts: Vec<&str> = key.split('/').collect();
    let at = parts.iter().position(|p| *p == "BedrockModelInvocationLogs")?;
    let n: Vec<u32> = parts.get(at + 2..at + 6)?.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let day = chrono::NaiveDate::from_ymd_opt(n[0] as i32, n[1], n[2])?;
    Some(day.and_hms_opt(n[3], 0, 0)?.and_utc().timestamp_millis())
}

/// Prefixes that overlap the user's: one lies within the other.
fn compatible(user: &str, candidate: &str) -> bool {
    candidate.starts_with(user) || user.starts_with(candidate)
}

/// Is this object a log file? Sidecar bodies under `data/`, the permission check and anything
/// without a JSON name are skipped (never downloaded).
pub fn is_log_key(key: &str) -> bool {
    super::file::is_log_file(std::path::Path::new(key))
}

/// Why an S3 call or an object's body could not be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum S3Error {
    /// A request that failed for good, said by `aws::describe`.
    #[error("{0}")]
    Call(String),
    /// An object that could not be had whole, however often it was asked for.
    #[error("{resource}: {last}; gave up after {attempts} attempts")]
    GaveUp { resource: String, last: Attempt, attempts: u32 },
    #[error("fetch task failed: {0}")]
    Task(String),
}

/// How the last attempt at an object failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Attempt {
    /// A request that failed and might work again (throttled, a 5xx, a connection reset).
    #[error("{0}")]
    Call(String),
    #[error(transparent)]
    Body(#[from] BodyError),
}

/// How a body stopped short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body stalled for {after:?} after {got} of {expected} bytes")]
    Stalled { after: std::time::Duration, got: u64, expected: u64 },
    #[error("body cut short after {got} of {expected} bytes: {cause}")]
    Broken { got: u64, expected: u64, cause: String },
    #[error("body cut short: {got} of {expected} bytes")]
    Short { got: u64, expected: u64 },
}

/// A GET in flight: the object's bytes, or why it could not be read.
type Download = tokio::task::JoinHandle<Result<Vec<u8>, S3Error>>;

/// Objects listed larger than this are not held whole (`concurrency` of them would be) but
/// read as their body arrives. Bedrock writes objects of a few MB.
pub const STREAM_ABOVE: u64 = 64 << 20;

/// An object's body as a blocking `Read`, fed by a task on the fetch runtime a few chunks ahead.
/// A body cut short or stalled is a read error at that point: the lines before it are kept.
pub struct BodyReader {
    /// Chunks, then an empty chunk for the end; a channel closed before it is an error too.
    chunks: tokio::sync::mpsc::Receiver<Result<Vec<u8>, BodyError>>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
}

impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("BodyReader")
    }
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) if chunk.is_empty() => self.ended = true,
                Some(Ok(chunk)) => (self.chunk, self.at) = (chunk, 0),
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Err(std::io::Error::other("the download stopped before the end of the body")),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Everything one S3 source needs to run.
pub struct Job {
    pub location: Location,
    pub listing: Listing,
    pub part: Part,
    pub settings: AwsSettings,
    /// Objects already read by an earlier ingest (same key, ETag and size): not fetched again.
    pub seen: Arc<dyn Fn(&ObjectInfo) -> bool + Send + Sync>,
}

/// Which objects of a location a job reads. A location is read in two parts, every invocation
/// log before any CloudTrail file (`frame::Dedupe` counts a call with both records as its log
/// record), so the loader runs every `Logs` job before any `Trail` job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything but CloudTrail's layout (a file of unknown layout is told by its content).
    Logs,
    /// CloudTrail's layout only.
    Trail,
}

impl Part {
    pub fn holds(self, key: &str) -> bool {
        let trail = super::file::layout_of(key) == super::file::Layout::Trail;
        trail == (self == Part::Trail)
    }
}

/// Lists and fetches; units go to `tx` in listing order, the rest into `report`. Returns
/// early, with `report.fatal` set, when the prefix itself cannot be listed.
pub async fn fetch(job: Job, tx: Sender<Unit>, report: Arc<Mutex<FetchReport>>) {
    let Job { location, listing, part, settings, seen } = job;
    let mut client = client(&super::aws::load_config(&settings, None).await);
    let fatal = |e: S3Error| report.lock().expect("report lock").fatal = Some(e.to_string());
    // The bucket may live in another region: follow S3's redirect once, as the AWS CLI does.
    match bucket_region(&client, &location, settings.body_attempts).await {
        Ok(Some(region)) => {
            let config = super::aws::load_config(&AwsSettings { region: Some(region), ..settings.clone() }, None).await;
            client = self::client(&config);
        }
        Ok(None) => {}
        Err(e) => return fatal(e),
    }
    let pruned = match (listing.since_ms, listing.until_ms, part) {
        (Some(since), Some(until), Part::Logs) => hour_prefixes(&client, &location, since, until, &settings).await,
        (Some(since), Some(until), Part::Trail) => {
            trail_day_prefixes(&client, &location, since, until, &settings).await
        }
        _ => Ok(None),
    };
    let prefixes = match (listing.since_ms, listing.until_ms) {
        (Some(_), Some(_)) => match pruned {
            Ok(Some(p)) => p,
            Ok(None) => vec![location.prefix.clone()],
            Err(e) => return fatal(e),
        },
        _ => vec![location.prefix.clone()],
    };
    let mut inflight: VecDeque<(ObjectInfo, Download)> = VecDeque::new();
    // Bodies still being read: the runtime must outlive them.
    let mut pumps = Vec::new();
    for prefix in prefixes {
        let objects = match list(&client, &location, &prefix, None, &settings).await {
            Ok(o) => o.0,
            Err(e) => return fatal(e),
        };
        for object in objects {
            if !part.holds(&object.key) {
                continue;
            }
            if !is_log_key(&object.key) {
                report.lock().expect("report lock").skipped.push(location.url(&object.key));
                continue;
            }
            if seen(&object) {
                report.lock().expect("report lock").already_read += 1;
                continue;
            }
            if object.size > STREAM_ABOVE {
                // Units go in listing order: what is in flight goes first.
                while let Some((info, handle)) = inflight.pop_front() {
                    if !deliver(&location, info, handle, &tx, &report).await {
                        return;
                    }
                }
                let url: Arc<str> = location.url(&object.key).into();
                match stream(&client, &location, object, &settings, report.clone()).await {
                    Ok((body, pump)) => {
                        pumps.push(pump);
                        if tx.send(Unit::Stream { name: url, body }).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        report.lock().expect("report lock").problems.push(Problem { unit: url, message: e.to_string() })
                    }
                }
                continue;
            }
            if inflight.len() >= settings.concurrency {
                let (info, handle) = inflight.pop_front().expect("not empty");
                if !deliver(&location, info, handle, &tx, &report).await {
                    return;
                }
            }
            let (c, b, k, s) = (client.clone(), location.bucket.clone(), object.key.clone(), settings.clone());
            let size = object.size;
            inflight.push_back((object, tokio::spawn(async move { get(&c, &b, &k, size, &s).await })));
        }
    }
    while let Some((info, handle)) = inflight.pop_front() {
        if !deliver(&location, info, handle, &tx, &report).await {
            return;
        }
    }
    for pump in pumps {
        let _ = pump.await;
    }
}

/// Hands one fetched object on; false when the reader has gone away.
async fn deliver(
    location: &Location,
    info: ObjectInfo,
    handle: Download,
    tx: &Sender<Unit>,
    report: &Mutex<FetchReport>,
) -> bool {
    let url: Arc<str> = location.url(&info.key).into();
    match handle.await.unwrap_or_else(|e| Err(S3Error::Task(e.to_string()))) {
        Ok(bytes) => {
            {
                let mut r = report.lock().expect("report lock");
                r.bytes += bytes.len() as u64;
                r.objects.push((location.url(&location.prefix), info));
            }
            tx.send(Unit::Object { name: url, bytes }).await.is_ok()
        }
        Err(e) => {
            report.lock().expect("report lock").problems.push(Problem { unit: url, message: e.to_string() });
            true
        }
    }
}

pub fn client(config: &aws_config::SdkConfig) -> Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config);
    // A custom endpoint (moto, MinIO, a VPC endpoint URL) rarely resolves bucket subdomains.
    if config.endpoint_url().is_some() {
        builder = builder.force_path_style(true);
    }
    if config.region().is_none() {
        builder = builder.region(aws_config::Region::from_static("us-east-1"));
    }
    Client::from_conf(builder.build())
}

/// The bucket's own region when S3 says the request went to the wrong one.
pub async fn bucket_region(client: &Client, location: &Location, attempts: u32) -> Result<Option<String>, S3Error> {
    let probe = || client.list_objects_v2().bucket(&location.bucket).prefix(&location.prefix).max_keys(1).send();
    match with_retries(attempts, probe).await {
        Ok(_) => Ok(None),
        Err(e) => {
            if let aws_sdk_s3::error::SdkError::ServiceError(ctx) = &e {
                if let Some(region) = ctx.raw().headers().get("x-amz-bucket-region") {
                    let wrong_region = matches!(
                        ctx.err().code(),
                        Some(
                            "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException"
                        )
                    ) || ctx.raw().status().as_u16() == 301;
                    if wrong_region {
                        return Ok(Some(region.to_string()));
                    }
                }
            }
            let resource = format!("s3://{}/{}", location.bucket, location.prefix);
            Err(S3Error::Call(describe(&e, &Action { permission: "s3:ListBucket", resource: &resource })))
        }
    }
}

/// Lists every object under `prefix` (all pages), or with a delimiter the folders below it.
async fn list(
    client: &Client,
    location: &Location,
    prefix: &str,
    delimiter: Option<&str>,
    settings: &AwsSettings,
) -> Result<(Vec<ObjectInfo>, Vec<String>), S3Error> {
    let resource = format!("s3://{}/{prefix}", location.bucket);
    let action = Action { permission: "s3:ListBucket", resource: &resource };
    let (mut objects, mut folders, mut token) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let call = || {
            client
                .list_objects_v2()
                .bucket(&location.bucket)
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_string))
                .set_max_keys(settings.page_size)
                .set_continuation_token(token.clone())
                .send()
        };
        let page =
            with_retries(settings.body_attempts, call).await.map_err(|e| S3Error::Call(describe(&e, &action)))?;
        for o in page.contents() {
            let key = o.key().unwrap_or_default().to_string();
            let etag = o.e_tag().unwrap_or_default().trim_matches('"').to_string();
            objects.push(ObjectInfo { key, etag, size: o.size().unwrap_or(0).max(0) as u64 });
        }
        folders.extend(page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_string)));
        token = page.next_continuation_token().map(str::to_string);
        if !page.is_truncated().unwrap_or(false) || token.is_none() {
            return Ok((objects, folders));
        }
    }
}

/// The hour folders of the delivery layout under the user's prefix that can hold records of
/// the window; None when the prefix does not follow the layout (then all of it is listed).
async fn hour_prefixes(
    client: &Client,
    location: &Location,
    since_ms: i64,
    until_ms: i64,
    settings: &AwsSettings,
) -> Result<Option<Vec<String>>, S3Error> {
    let user = location.prefix.as_str();
    let roots = region_roots(client, location, settings).await?;
    if roots.is_empty() {
        return Ok(None);
    }
    let hours = hour_folders(since_ms, until_ms);
    if hours.len() > MAX_HOUR_PREFIXES {
        // A long window: find the day folders that exist instead of trying every hour (a window
        // of two centuries is 1.75 million hours).
        return days_under(client, location, &roots, since_ms, until_ms, settings).await.map(Some);
    }
    let mut prefixes = Vec::new();
    for root in &roots {
        for hour in &hours {
            let candidate = format!("{root}{hour}");
            if compatible(user, &candidate) {
                // The user's prefix may go deeper than the hour folder: keep the longer one.
                prefixes.push(if user.len() > candidate.len() { user.to_string() } else { candidate });
            }
        }
    }
    prefixes.dedup();
    Ok(Some(prefixes))
}

/// The folder above the delivery layout: the user's prefix cut before `AWSLogs/`.
pub fn layout_base(user: &str) -> String {
    match user.find("AWSLogs/") {
        Some(at) => user[..at].to_string(),
        None if user.is_empty() || user.ends_with('/') => user.to_string(),
        None => format!("{user}/"),
    }
}

/// The folders `.../AWSLogs/ACCOUNT/BedrockModelInvocationLogs/REGION/` that exist and overlap
/// the location's prefix, found by listing each `*` of the layout.
async fn region_roots(client: &Client, location: &Location, settings: &AwsSettings) -> Result<Vec<String>, S3Error> {
    let user = location.prefix.as_str();
    let mut roots = vec![layout_base(user)];
    for segment in LAYOUT {
        let mut next = Vec::new();
        for root in &roots {
            if segment != "*" {
                next.push(format!("{root}{segment}"));
            } else {
                let (_, folders) = list(client, location, root, Some("/"), settings).await?;
                next.extend(folders);
            }
        }
        roots = next.into_iter().filter(|r| compatible(user, r)).collect();
        if roots.is_empty() {
            break;
        }
    }
    Ok(roots)
}

/// The accounts and source regions that have delivery folders under a location, each sorted
/// and once: what `athena setup` declares as partitions.
pub async fn delivery_layout(
    location: &Location,
    settings: &AwsSettings,
) -> Result<(Vec<String>, Vec<String>), S3Error> {
    let mut client = client(&super::aws::load_config(settings, None).await);
    if let Some(region) = bucket_region(&client, location, settings.body_attempts).await? {
        let config = super::aws::load_config(&AwsSettings { region: Some(region), ..settings.clone() }, None).await;
        client = self::client(&config);
    }
    let roots = region_roots(&client, location, settings).await?;
    let (mut accounts, mut regions) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for root in &roots {
        let parts: Vec<&str> = root.trim_end_matches('/').rsplitn(4, '/').collect();
        // [region, "BedrockModelInvocationLogs", account, rest]
        if let [region, _, account, ..] = parts.as_slice() {
            regions.insert(region.to_string());
            accounts.insert(account.to_string());
        }
    }
    Ok((accounts.into_iter().collect(), regions.into_iter().collect()))
}

/// CloudTrail's layout below `AWSLogs/`: `ACCOUNT/CloudTrail/REGION/` for a trail of one account,
/// `ORG_ID/ACCOUNT/CloudTrail/REGION/` for an organisation trail.
const TRAIL: &str = "CloudTrail/";

/// The folders `.../CloudTrail/REGION/` under the location, found by listing: accounts (or an
/// organisation's id, then its accounts), then regions.
async fn trail_roots(client: &Client, location: &Location, settings: &AwsSettings) -> Result<Vec<String>, S3Error> {
    let user = location.prefix.as_str();
    let logs = format!("{}AWSLogs/", layout_base(user));
    if !compatible(user, &logs) {
        return Ok(Vec::new());
    }
    let mut regions = Vec::new();
    let mut level = vec![logs];
    // AWSLogs/ORG_ID/ACCOUNT/CloudTrail/ is the deepest: three levels of folders.
    for _ in 0..3 {
        let mut next = Vec::new();
        for folder in &level {
            let (_, children) = list(client, location, folder, Some("/"), settings).await?;
            for child in children.into_iter().filter(|c| compatible(user, c)) {
                let name = child[folder.len()..].trim_end_matches('/');
                if name == TRAIL.trim_end_matches('/') {
                    let (_, found) = list(client, location, &child, Some("/"), settings).await?;
                    regions.extend(found.into_iter().filter(|r| compatible(user, r)));
                } else if name.starts_with("o-") || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())) {
                    // An organisation's id or an account: a trail may lie below it.
                    next.push(child);
                }
            }
        }
        level = next;
    }
    Ok(regions)
}

/// The day folders of CloudTrail's layout that can hold events of the window (a day either
/// side: a file lands in the folder of its delivery); None when the prefix has no trail layout.
async fn trail_day_prefixes(
    client: &Client,
    location: &Location,
    since_ms: i64,
    until_ms: i64,
    settings: &AwsSettings,
) -> Result<Option<Vec<String>>, S3Error> {
    let roots = trail_roots(client, location, settings).await?;
    if roots.is_empty() {
        return Ok(None);
    }
    days_under(client, location, &roots, since_ms, until_ms, settings).await.map(Some)
}

/// The day folders below `roots` that exist and can hold the window, as prefixes to list
/// (the user's own prefix where it goes deeper than a day folder).
async fn days_under(
    client: &Client,
    location: &Location,
    roots: &[String],
    since_ms: i64,
    until_ms: i64,
    settings: &AwsSettings,
) -> Result<Vec<String>, S3Error> {
    let user = location.prefix.as_str();
    let mut prefixes = Vec::new();
    for root in roots {
        prefixes.extend(day_prefixes(client, location, root, since_ms, until_ms, settings).await?);
    }
    prefixes.retain(|p| compatible(user, p));
    Ok(prefixes.into_iter().map(|p| if user.len() > p.len() { user.to_string() } else { p }).collect())
}

/// Windows up to a month list each hour folder; longer ones discover the day folders.
const MAX_HOUR_PREFIXES: usize = 31 * 24 + 2;

/// The day folders `root/YYYY/MM/DD/` that exist and can hold records of `[since, until)` (a day
/// either side for delivery lag), found by listing years, then months, then days: as many calls as
/// folders that exist, whatever the window's length.
async fn day_prefixes(
    client: &Client,
    location: &Location,
    root: &str,
    since_ms: i64,
    until_ms: i64,
    settings: &AwsSettings,
) -> Result<Vec<String>, S3Error> {
    // Folder years have four digits: the bounds are clamped to them.
    let (min, max) = (chrono::NaiveDate::from_ymd_opt(0, 1, 1), chrono::NaiveDate::from_ymd_opt(9999, 12, 31));
    let day = |ms: i64| DateTime::from_timestamp_millis(ms).map(|t| t.date_naive());
    let first = day(since_ms.saturating_sub(crate::window::DAY_MS)).max(min).unwrap_or_default();
    let last = day(until_ms.saturating_add(crate::window::DAY_MS)).or(max).min(max).unwrap_or_default();
    let name = |d: chrono::NaiveDate, len: usize| d.format("%Y/%m/%d").to_string()[..len].to_string();
    let bounds = |len: usize| (name(first, len), name(last, len));
    let mut level = vec![root.to_string()];
    // Folder names relative to the root: `2026`, `2026/11`, `2026/11/10`.
    for len in [4, 7, 10] {
        let (lo, hi) = bounds(len);
        let mut next = Vec::new();
        for folder in &level {
            let (_, children) = list(client, location, folder, Some("/"), settings).await?;
            next.extend(children.into_iter().filter(|c| {
                let name = c.strip_prefix(root).unwrap_or(c).trim_end_matches('/');
                name.len() == len && name >= lo.as_str() && name <= hi.as_str()
            }));
        }
        level = next;
    }
    Ok(level)
}

/// Starts reading one large object: the GET (retried like `get`), then a task that hands its
/// body on in chunks. The object counts as read (for incremental ingest) once all of it was.
async fn stream(
    client: &Client,
    location: &Location,
    info: ObjectInfo,
    s: &AwsSettings,
    report: Arc<Mutex<FetchReport>>,
) -> Result<(BodyReader, tokio::task::JoinHandle<()>), S3Error> {
    let resource = location.url(&info.key);
    let action = Action { permission: "s3:GetObject", resource: &resource };
    let request = || client.get_object().bucket(&location.bucket).key(&info.key).send();
    let out = with_retries(s.body_attempts, request).await.map_err(|e| S3Error::Call(describe(&e, &action)))?;
    let expected = out.content_length().map(|n| n.max(0) as u64).unwrap_or(info.size);
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let (mut body, read_timeout, source) = (out.body, s.read_timeout, location.url(&location.prefix));
    let pump = tokio::spawn(async move {
        let mut got = 0u64;
        let failed = loop {
            match tokio::time::timeout(read_timeout, body.next()).await {
                Err(_) => break BodyError::Stalled { after: read_timeout, got, expected },
                Ok(Some(Ok(chunk))) => {
                    got += chunk.len() as u64;
                    if !chunk.is_empty() && tx.send(Ok(chunk.to_vec())).await.is_err() {
                        return;
                    }
                }
                Ok(Some(Err(e))) => break BodyError::Broken { got, expected, cause: e.to_string() },
                Ok(None) if got == expected => {
                    {
                        let mut r = report.lock().expect("report lock");
                        r.bytes += got;
                        r.objects.push((source, info));
                    }
                    let _ = tx.send(Ok(Vec::new())).await;
                    return;
                }
                Ok(None) => break BodyError::Short { got, expected },
            }
        };
        let _ = tx.send(Err(failed)).await;
    });
    Ok((BodyReader { chunks: rx, chunk: Vec::new(), at: 0, ended: false }, pump))
}

/// GETs one object whole. The SDK retries failed requests but not a body cut short or stalled
/// mid-way, so mila retries the whole GET itself, a few times, before calling it unreadable.
async fn get(client: &Client, bucket: &str, key: &str, listed_size: u64, s: &AwsSettings) -> Result<Vec<u8>, S3Error> {
    let resource = format!("s3://{bucket}/{key}");
    let action = Action { permission: "s3:GetObject", resource: &resource };
    let mut last = Attempt::Call(String::new());
    for attempt in 0..s.body_attempts {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let out = match client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if is_transient(&e) => {
                last = Attempt::Call(describe(&e, &action));
                continue;
            }
            // Deleted since it was listed, access denied: trying again will not help.
            Err(e) => return Err(S3Error::Call(describe(&e, &action))),
        };
        let expected = out.content_length().map(|n| n.max(0) as u64).unwrap_or(listed_size);
        let mut body = out.body;
        // The length is the server's word: it sizes the buffer only up to what is streamed.
        let mut buf = Vec::with_capacity(expected.min(STREAM_ABOVE) as usize);
        let got = |buf: &Vec<u8>| buf.len() as u64;
        last = Attempt::Body(loop {
            match tokio::time::timeout(s.read_timeout, body.next()).await {
                Err(_) => break BodyError::Stalled { after: s.read_timeout, got: got(&buf), expected },
                Ok(Some(Ok(chunk))) => buf.extend_from_slice(&chunk),
                Ok(Some(Err(e))) => break BodyError::Broken { got: got(&buf), expected, cause: e.to_string() },
                Ok(None) if got(&buf) == expected => return Ok(buf),
                Ok(None) => break BodyError::Short { got: got(&buf), expected },
            }
        });
    }
    Err(S3Error::GaveUp { resource, last, attempts: s.body_attempts })
}

#[cfg(test)]
mod tests;
