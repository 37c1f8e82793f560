//! `batch:` sources: Bedrock batch inference jobs, which invocation logs never record. From the
//! job API (`batch:REGION`: ListModelInvocationJobs, every page) each job's model, status and
//! times and where its output went; from a job's output folder its `manifest.json.out`
//! (`record::batch`), the job's own count of records and tokens, else (a job stopped, expired or
//! failed part way writes none) its `*.jsonl.out` records, read for their counts only. Folders can
//! also be given without the API (`batch:s3://BUCKET/PREFIX`, `batch:DIR`): their jobs then name
//! no model.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::FetchError;
use crate::record::batch::{self as manifest, Lines, Manifest, RecordCounts, MANIFEST, MAX_MANIFEST_BYTES};
use crate::source::aws::{self, Action, AwsSettings};
use crate::source::s3::Location;
use crate::window::Window;

/// How long a job may run (Bedrock's longest timeout, 168 hours): jobs submitted this long before
/// the window are listed too, as they may end in it.
pub const LONGEST_JOB_MS: i64 = 7 * 24 * 3_600_000;

/// One `batch:` source.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchSource {
    /// The job API in a region.
    Region(String),
    /// Job output folders below an S3 prefix or a directory.
    S3(Location),
    Dir(PathBuf),
}

impl BatchSource {
    pub const PREFIX: &'static str = "batch:";

    pub fn parse(text: &str) -> Result<BatchSource, String> {
        let rest = text.strip_prefix(Self::PREFIX).ok_or_else(|| format!("{text}: not a batch: source"))?;
        if rest.starts_with("s3://") {
            let mut l = Location::parse(rest).map_err(|e| format!("{text}: {e}"))?;
            if !l.prefix.is_empty() && !l.prefix.ends_with('/') {
                l.prefix.push('/');
            }
            return Ok(BatchSource::S3(l));
        }
        if crate::names::is_region_name(rest) {
            return Ok(BatchSource::Region(rest.to_string()));
        }
        if rest.is_empty() {
            return Err(format!("{text}: name a region, s3://BUCKET/PREFIX or a directory after batch:"));
        }
        Ok(BatchSource::Dir(PathBuf::from(rest)))
    }
}

/// What is known of one job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The last part of the job's ARN, which names its output folder.
    pub id: String,
    pub arn: Option<String>,
    pub name: Option<String>,
    pub region: Option<String>,
    pub model_id: Option<String>,
    /// As the API names it: Completed, PartiallyCompleted, Failed, Stopped, Expired, InProgress ...
    pub status: Option<String>,
    pub submit_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Its output folder (s3:// or a directory), where the manifest and records were looked for.
    pub folder: Option<String>,
    /// What the manifest said, or why it was not read; None when the folder holds none.
    pub manifest: Option<Result<Manifest, String>>,
    /// Without a usable manifest: what its records count, or why they were not read.
    pub records: Option<Result<RecordCounts, String>>,
}

impl Job {
    fn new(id: String) -> Job {
        Job {
            id,
            arn: None,
            name: None,
            region: None,
            model_id: None,
            status: None,
            submit_ms: None,
            end_ms: None,
            folder: None,
            manifest: None,
            records: None,
        }
    }
}

/// Every job read, by id, and how it was read.
#[derive(Debug, Default)]
pub struct BatchRead {
    pub jobs: BTreeMap<String, Job>,
    pub api_calls: u64,
}

/// The id of a job from its ARN (`arn:aws:bedrock:REGION:ACCOUNT:model-invocation-job/ID`).
pub fn job_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A job's time: when it ended, else when it was submitted. A job belongs to the window holding it.
pub fn job_time(job: &Job) -> Option<i64> {
    job.end_ms.or(job.submit_ms)
}

/// A job's output folder as listed: where it is, its manifest and its records files.
#[derive(Debug, Clone, Default)]
struct Folder {
    /// `s3://BUCKET/PREFIX/ID/` or a directory.
    name: String,
    bucket: Option<String>,
    manifest: Option<String>,
    records: Vec<String>,
}

/// Reads every `batch:` source, then each job's counts from its output folder.
pub async fn read(sources: &[BatchSource], window: Window, settings: &AwsSettings) -> Result<BatchRead, FetchError> {
    let mut out = BatchRead::default();
    let mut clients = Clients::default();
    let mut folders: BTreeMap<String, Folder> = BTreeMap::new();
    for source in sources {
        match source {
            BatchSource::Region(region) => list_jobs(region, window, settings, &mut out).await?,
            BatchSource::S3(location) => {
                let client = clients.get(&location.bucket, settings).await.map_err(FetchError::Call)?;
                let keys = s3_keys(client, location, settings.body_attempts).await?;
                folders.extend(group(keys.iter().map(|k| (k.as_str(), Some(location.bucket.as_str())))));
            }
            BatchSource::Dir(dir) => {
                let paths = dir_files(dir).map_err(|e| FetchError::Call(format!("{}: {e}", dir.display())))?;
                folders.extend(group(paths.iter().map(|p| (p.as_str(), None))));
            }
        }
    }
    for (id, folder) in &folders {
        out.jobs.entry(id.clone()).or_insert_with(|| Job::new(id.clone())).folder = Some(folder.name.clone());
    }
    // Only the window's jobs are read further.
    out.jobs.retain(|_, j| job_time(j).is_none_or(|t| window.contains(t)));
    let ids: Vec<String> = out.jobs.keys().cloned().collect();
    for id in ids {
        let folder = match folders.remove(&id) {
            Some(f) => Ok(f),
            // An API job whose folder no source listed: listed where the API says it went.
            None => match out.jobs[&id].folder.as_deref().map(Location::parse) {
                Some(Ok(location)) => match clients.get(&location.bucket, settings).await {
                    Ok(client) => s3_keys(client, &location, settings.body_attempts)
                        .await
                        .map(|keys| {
                            let keys = keys.iter().map(|k| (k.as_str(), Some(location.bucket.as_str())));
                            group(keys).remove(&id).unwrap_or_default()
                        })
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                },
                _ => Ok(Folder::default()),
            },
        };
        let (manifest, records) = match folder {
            Ok(f) => counts(&f, &mut clients, settings).await,
            Err(e) => (Some(Err(e)), None),
        };
        if let Some(job) = out.jobs.get_mut(&id) {
            (job.manifest, job.records) = (manifest, records);
        }
    }
    Ok(out)
}

/// A folder's manifest; without a usable one, its records' counts.
async fn counts(
    f: &Folder,
    clients: &mut Clients,
    settings: &AwsSettings,
) -> (Option<Result<Manifest, String>>, Option<Result<RecordCounts, String>>) {
    let manifest = match &f.manifest {
        None => None,
        Some(at) => Some(match &f.bucket {
            Some(bucket) => match read_object(clients, bucket, at, settings, Some(MAX_MANIFEST_BYTES)).await {
                Ok(bytes) => manifest::manifest(&bytes),
                Err(e) => Err(e),
            },
            None => read_capped(std::path::Path::new(at)).and_then(|b| manifest::manifest(&b)),
        }),
    };
    if matches!(manifest, Some(Ok(_))) || f.records.is_empty() {
        return (manifest, None);
    }
    let mut lines = Lines::default();
    for at in &f.records {
        let read = match &f.bucket {
            Some(bucket) => stream_object(clients, bucket, at, settings, &mut lines).await,
            None => stream_file(std::path::Path::new(at), &mut lines),
        };
        if let Err(e) = read {
            return (manifest, Some(Err(e)));
        }
    }
    (manifest, Some(Ok(lines.finish())))
}

/// One S3 client per bucket, in the bucket's own region (a job's output may be in another).
#[derive(Default)]
struct Clients(BTreeMap<String, aws_sdk_s3::Client>);

impl Clients {
    async fn get(&mut self, bucket: &str, settings: &AwsSettings) -> Result<&aws_sdk_s3::Client, String> {
        if !self.0.contains_key(bucket) {
            let mut client = crate::source::s3::client(&aws::load_config(settings, None).await);
            let probe = Location { bucket: bucket.to_string(), prefix: String::new() };
            let moved = crate::source::s3::bucket_region(&client, &probe, settings.body_attempts)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(region) = moved {
                let other = AwsSettings { region: Some(region), ..settings.clone() };
                client = crate::source::s3::client(&aws::load_config(&other, None).await);
            }
            self.0.insert(bucket.to_string(), client);
        }
        Ok(&self.0[bucket])
    }
}

async fn list_jobs(
    region: &str,
    window: Window,
    settings: &AwsSettings,
    out: &mut BatchRead,
) -> Result<(), FetchError> {
    use aws_sdk_bedrock::primitives::DateTime;
    use aws_sdk_bedrock::types::ModelInvocationJobOutputDataConfig as Output;
    let settings = AwsSettings { region: Some(region.to_string()), ..settings.clone() };
    let config = aws::load_config(&settings, None).await;
    let client = aws_sdk_bedrock::Client::new(&config);
    let after = window.since.map(|s| DateTime::from_millis(s - LONGEST_JOB_MS));
    let before = window.until.map(DateTime::from_millis);
    let mut token: Option<String> = None;
    let mut pages = aws::Pages::default();
    let resource = format!("batch inference jobs in {region}");
    loop {
        out.api_calls += 1;
        let page = aws::with_retries(settings.body_attempts, || {
            client
                .list_model_invocation_jobs()
                .set_submit_time_after(after)
                .set_submit_time_before(before)
                .max_results(1000)
                .set_next_token(token.clone())
                .send()
        })
        .await
        .map_err(|e| {
            FetchError::Call(aws::describe(
                &e,
                &Action { permission: "bedrock:ListModelInvocationJobs", resource: &resource },
            ))
        })?;
        for s in page.invocation_job_summaries() {
            let id = job_id(s.job_arn()).to_string();
            let ms = |t: &DateTime| t.to_millis().ok();
            // The job's output folder: the output URI, then the job's id (User Guide, "View the
            // results of a batch inference job").
            let folder = match s.output_data_config() {
                Some(Output::S3OutputDataConfig(c)) => {
                    let base = c.s3_uri();
                    let sep = if base.ends_with('/') { "" } else { "/" };
                    Some(format!("{base}{sep}{id}/"))
                }
                _ => None,
            };
            let job = Job {
                id: id.clone(),
                arn: Some(s.job_arn().to_string()),
                name: Some(s.job_name().to_string()),
                region: Some(region.to_string()),
                model_id: Some(s.model_id().to_string()),
                status: s.status().map(|st| st.as_str().to_string()),
                submit_ms: ms(s.submit_time()),
                end_ms: s.end_time().and_then(ms),
                folder,
                manifest: None,
                records: None,
            };
            // Listed twice (two regions' listings cannot hold one job; a page repeated can): once.
            out.jobs.entry(id).or_insert(job);
        }
        token = pages.next(page.next_token, &format!("ListModelInvocationJobs in {region}"))?;
        if token.is_none() {
            return Ok(());
        }
    }
}

/// `FOLDER/ID/manifest.json.out` or `FOLDER/ID/NAME.jsonl.out` -> (ID, `FOLDER/ID/`).
fn folder_of(key: &str) -> Option<(&str, &str)> {
    let (folder, file) = key.rsplit_once('/')?;
    if file != MANIFEST && !file.ends_with(RECORDS) {
        return None;
    }
    let id = folder.rsplit('/').next()?;
    (!id.is_empty()).then(|| (id, &key[..folder.len() + 1]))
}

/// A job's records files end so; its manifest is `MANIFEST`.
const RECORDS: &str = ".jsonl.out";

/// Keys or paths (with their bucket, for S3) grouped into job folders by id.
fn group<'a>(names: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> BTreeMap<String, Folder> {
    let mut out: BTreeMap<String, Folder> = BTreeMap::new();
    for (name, bucket) in names {
        let Some((id, folder)) = folder_of(name) else { continue };
        let f = out.entry(id.to_string()).or_insert_with(|| Folder {
            name: match bucket {
                Some(b) => format!("s3://{b}/{folder}"),
                None => folder.to_string(),
            },
            bucket: bucket.map(str::to_string),
            ..Folder::default()
        });
        match name.ends_with(MANIFEST) {
            true => f.manifest = Some(name.to_string()),
            false => f.records.push(name.to_string()),
        }
    }
    for f in out.values_mut() {
        f.records.sort();
    }
    out
}

/// Every key below an S3 prefix, every page.
async fn s3_keys(client: &aws_sdk_s3::Client, location: &Location, attempts: u32) -> Result<Vec<String>, FetchError> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = aws::Pages::default();
    let resource = location.url(&location.prefix);
    loop {
        let page = aws::with_retries(attempts, || {
            client
                .list_objects_v2()
                .bucket(&location.bucket)
                .prefix(&location.prefix)
                .set_continuation_token(token.clone())
                .send()
        })
        .await
        .map_err(|e| {
            FetchError::Call(aws::describe(&e, &Action { permission: "s3:ListBucket", resource: &resource }))
        })?;
        keys.extend(page.contents().iter().filter_map(|o| o.key()).map(str::to_string));
        token = pages.next(page.next_continuation_token, &format!("ListObjectsV2 of {resource}"))?;
        if token.is_none() {
            return Ok(keys);
        }
    }
}

/// An object's bytes, refused past `cap`.
async fn read_object(
    clients: &mut Clients,
    bucket: &str,
    key: &str,
    settings: &AwsSettings,
    cap: Option<usize>,
) -> Result<Vec<u8>, String> {
    let client = clients.get(bucket, settings).await?;
    let url = format!("s3://{bucket}/{key}");
    let object = aws::with_retries(settings.body_attempts, || client.get_object().bucket(bucket).key(key).send())
        .await
        .map_err(|e| aws::describe(&e, &Action { permission: "s3:GetObject", resource: &url }))?;
    if let Some(cap) = cap.filter(|c| object.content_length().unwrap_or(0) > *c as i64) {
        return Err(format!("larger than {cap} bytes"));
    }
    Ok(object.body.collect().await.map_err(|e| format!("reading {url}: {e}"))?.into_bytes().to_vec())
}

/// An object's records, counted as its bytes arrive (never the whole object in memory).
async fn stream_object(
    clients: &mut Clients,
    bucket: &str,
    key: &str,
    settings: &AwsSettings,
    lines: &mut Lines,
) -> Result<(), String> {
    let client = clients.get(bucket, settings).await?;
    let url = format!("s3://{bucket}/{key}");
    let mut object = aws::with_retries(settings.body_attempts, || client.get_object().bucket(bucket).key(key).send())
        .await
        .map_err(|e| aws::describe(&e, &Action { permission: "s3:GetObject", resource: &url }))?;
    while let Some(chunk) = object.body.try_next().await.map_err(|e| format!("reading {url}: {e}"))? {
        lines.feed(&chunk);
    }
    Ok(())
}

fn stream_file(path: &std::path::Path, lines: &mut Lines) -> Result<(), String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf).map_err(|e| format!("{}: {e}", path.display()))? {
            0 => return Ok(()),
            n => lines.feed(&buf[..n]),
        }
    }
}

/// Every file below `dir`, sorted.
fn dir_files(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_capped(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_ids() {
        assert_eq!(BatchSource::parse("batch:us-east-1"), Ok(BatchSource::Region("us-east-1".into())));
        assert_eq!(
            BatchSource::parse("batch:s3://b/out"),
            Ok(BatchSource::S3(Location { bucket: "b".into(), prefix: "out/".into() }))
        );
        assert_eq!(BatchSource::parse("batch:./jobs"), Ok(BatchSource::Dir("./jobs".into())));
        assert!(BatchSource::parse("batch:").is_err());
        assert_eq!(job_id("arn:aws:bedrock:us-east-1:111122223333:model-invocation-job/abc123def456"), "abc123def456");
        let cases = [
            ("out/abc123/manifest.json.out", Some(("abc123", "out/abc123/"))),
            ("abc123/manifest.json.out", Some(("abc123", "abc123/"))),
            ("manifest.json.out", None),
            ("out/abc123/input.jsonl.out", Some(("abc123", "out/abc123/"))),
            ("out/abc123/input.jsonl", None),
            ("out/abc123/manifest.json.out.bak", None),
        ];
        for (key, want) in cases {
            assert_eq!(folder_of(key), want, "{key}");
        }
    }
}
