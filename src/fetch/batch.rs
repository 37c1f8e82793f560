//! `batch:` sources: Bedrock batch inference jobs, which invocation logs never record. From the
//! job API (`batch:REGION`: ListModelInvocationJobs, every page) each job's model, status and
//! times and where its output went; from a job's output folder its `manifest.json.out`
//! (`record::batch`), the job's own count of records and tokens. A folder can also be given
//! without the API (`batch:s3://BUCKET/PREFIX`, `batch:DIR`): its jobs then name no model.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::FetchError;
use crate::record::batch::{self as manifest, Manifest, MANIFEST, MAX_MANIFEST_BYTES};
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
    /// Where its manifest was looked for, and what it said (or why it was not read).
    pub manifest_at: Option<String>,
    pub manifest: Option<Result<Manifest, String>>,
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

/// Reads every `batch:` source, then each API job's manifest from its output folder.
pub async fn read(sources: &[BatchSource], window: Window, settings: &AwsSettings) -> Result<BatchRead, FetchError> {
    let mut out = BatchRead::default();
    for source in sources {
        match source {
            BatchSource::Region(region) => list_jobs(region, window, settings, &mut out).await?,
            BatchSource::S3(location) => {
                for (id, at, m) in s3_manifests(location, settings).await? {
                    found(&mut out, id, at, m);
                }
            }
            BatchSource::Dir(dir) => {
                for (id, at, m) in dir_manifests(dir) {
                    found(&mut out, id, at, m);
                }
            }
        }
    }
    // An API job whose folder no source read: its manifest, where the API says its output went.
    let wanted: Vec<(String, Location)> = out
        .jobs
        .values()
        .filter(|j| j.manifest.is_none())
        .filter_map(|j| {
            let at = j.manifest_at.as_deref()?;
            Some((j.id.clone(), Location::parse(at).ok()?))
        })
        .collect();
    for (id, location) in wanted {
        let m = s3_object(&location, settings).await;
        if let Some(job) = out.jobs.get_mut(&id) {
            job.manifest = Some(m);
        }
    }
    out.jobs.retain(|_, j| job_time(j).is_none_or(|t| window.contains(t)));
    Ok(out)
}

/// A manifest found in a folder: attached to the API's job of that id, else a job of its own.
fn found(out: &mut BatchRead, id: String, at: String, m: Result<Manifest, String>) {
    let job = out.jobs.entry(id.clone()).or_insert_with(|| Job {
        id,
        arn: None,
        name: None,
        region: None,
        model_id: None,
        status: None,
        submit_ms: None,
        end_ms: None,
        manifest_at: None,
        manifest: None,
    });
    job.manifest_at = Some(at);
    job.manifest = Some(m);
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
            let manifest_at = match s.output_data_config() {
                Some(Output::S3OutputDataConfig(c)) => {
                    let base = c.s3_uri();
                    let sep = if base.ends_with('/') { "" } else { "/" };
                    Some(format!("{base}{sep}{id}/{MANIFEST}"))
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
                manifest_at,
                manifest: None,
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

/// `FOLDER/ID/manifest.json.out` -> ID.
fn id_of(key: &str) -> Option<String> {
    let folder = key.strip_suffix(MANIFEST)?.strip_suffix('/')?;
    let id = folder.rsplit('/').next()?;
    (!id.is_empty()).then(|| id.to_string())
}

async fn s3_manifests(
    location: &Location,
    settings: &AwsSettings,
) -> Result<Vec<(String, String, Result<Manifest, String>)>, FetchError> {
    let config = aws::load_config(settings, None).await;
    let client = crate::source::s3::client(&config);
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = aws::Pages::default();
    let resource = location.url(&location.prefix);
    loop {
        let page = aws::with_retries(settings.body_attempts, || {
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
        keys.extend(page.contents().iter().filter_map(|o| o.key()).filter(|k| id_of(k).is_some()).map(str::to_string));
        token = pages.next(page.next_continuation_token, &format!("ListObjectsV2 of {resource}"))?;
        if token.is_none() {
            break;
        }
    }
    let mut out = Vec::new();
    for key in keys {
        let at = Location { bucket: location.bucket.clone(), prefix: key.clone() };
        let m = s3_object(&at, settings).await;
        out.push((id_of(&key).unwrap_or_default(), at.url(&key), m));
    }
    Ok(out)
}

/// One manifest object, at most `MAX_MANIFEST_BYTES` of it read; a failure to read it is the
/// manifest's error (the job is still listed).
async fn s3_object(at: &Location, settings: &AwsSettings) -> Result<Manifest, String> {
    let config = aws::load_config(settings, None).await;
    let client = crate::source::s3::client(&config);
    let url = at.url(&at.prefix);
    let object =
        aws::with_retries(settings.body_attempts, || client.get_object().bucket(&at.bucket).key(&at.prefix).send())
            .await
            .map_err(|e| aws::describe(&e, &Action { permission: "s3:GetObject", resource: &url }))?;
    if object.content_length().unwrap_or(0) > MAX_MANIFEST_BYTES as i64 {
        return Err(format!("larger than {MAX_MANIFEST_BYTES} bytes"));
    }
    let bytes = object.body.collect().await.map_err(|e| format!("reading {url}: {e}"))?.into_bytes();
    manifest::manifest(&bytes)
}

/// Every `ID/manifest.json.out` below `dir`.
fn dir_manifests(dir: &std::path::Path) -> Vec<(String, String, Result<Manifest, String>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            out.push((String::new(), d.display().to_string(), Err("cannot be listed".to_string())));
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(id) = id_of(&path.to_string_lossy()) {
                let m = read_capped(&path).and_then(|b| manifest::manifest(&b));
                out.push((id, path.display().to_string(), m));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
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
            ("out/abc123/manifest.json.out", Some("abc123")),
            ("abc123/manifest.json.out", Some("abc123")),
            ("manifest.json.out", None),
            ("out/abc123/input.jsonl.out", None),
            ("out/abc123/manifest.json.out.bak", None),
        ];
        for (key, want) in cases {
            assert_eq!(id_of(key).as_deref(), want, "{key}");
        }
    }
}
