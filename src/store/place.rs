//! Where a store lives: a local directory or an S3 prefix. Both give the same guarantees:
//!
//! - a file appears whole or not at all (local: temporary name, fsync, rename; S3: one PUT);
//! - a data file is written once under a new name and never overwritten (S3: `If-None-Match: *`);
//! - the checkpoint is replaced only if it is still the one this writer read (S3: `If-Match` on
//!   its ETag), so a writer that slipped past the lock cannot be overwritten silently;
//! - one writer at a time: an OS lock on `.lock` locally, and on S3 a `.lock` object created
//!   with `If-None-Match: *`, which a second writer cannot create while it exists.

use std::fs::{self, File};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use aws_sdk_s3::primitives::ByteStream;

use crate::output;
use crate::source::aws::{self, Action, AwsSettings};
use crate::source::s3::Location;

/// Where `--store` points.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreAt {
    Dir(PathBuf),
    S3(Location),
}

impl StoreAt {
    pub fn parse(text: &str) -> Result<StoreAt> {
        if text.starts_with("s3://") {
            let mut l = Location::parse(text).map_err(|e| anyhow::anyhow!("--store {e}"))?;
            if !l.prefix.is_empty() && !l.prefix.ends_with('/') {
                l.prefix.push('/');
            }
            return Ok(StoreAt::S3(l));
        }
        Ok(StoreAt::Dir(PathBuf::from(text)))
    }

    pub fn name(&self) -> String {
        match self {
            StoreAt::Dir(d) => d.display().to_string(),
            StoreAt::S3(l) => l.url(&l.prefix),
        }
    }
}

pub struct S3 {
    location: Location,
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
    attempts: u32,
}

pub enum Place {
    Dir(PathBuf),
    S3(S3),
}

/// Held while the store is open. The store deletes an S3 lock object when it is dropped
/// (`Place::unlock`); a file lock ends with its file.
pub enum Lock {
    File(#[allow(dead_code)] File),
    Object,
    None,
}

const LOCK: &str = ".lock";

impl Place {
    pub fn open(at: &StoreAt, settings: &AwsSettings) -> Result<Place> {
        Ok(match at {
            StoreAt::Dir(d) => Place::Dir(d.clone()),
            StoreAt::S3(location) => {
                let runtime = aws::runtime().context("cannot start the async runtime")?;
                let client = runtime.block_on(async {
                    let mut client = crate::source::s3::client(&aws::load_config(settings, None).await);
                    if let Ok(Some(region)) =
                        crate::source::s3::bucket_region(&client, location, settings.body_attempts).await
                    {
                        let other = AwsSettings { region: Some(region), ..settings.clone() };
                        client = crate::source::s3::client(&aws::load_config(&other, None).await);
                    }
                    client
                });
                Place::S3(S3 { location: location.clone(), client, runtime, attempts: settings.body_attempts })
            }
        })
    }

    pub fn name(&self) -> String {
        match self {
            Place::Dir(d) => d.display().to_string(),
            Place::S3(s) => s.location.url(&s.location.prefix),
        }
    }

    /// The name of a file of the store, for messages.
    pub fn file_name(&self, rel: &str) -> String {
        match self {
            Place::Dir(d) => d.join(rel).display().to_string(),
            Place::S3(s) => s.url(rel),
        }
    }

    /// A file's bytes and its version (S3: ETag), or None when it does not exist.
    pub fn read(&self, rel: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
        match self {
            Place::Dir(d) => match fs::read(d.join(rel)) {
                Ok(b) => Ok(Some((b, None))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("cannot read {}", d.join(rel).display())),
            },
            Place::S3(s) => s.get(rel),
        }
    }

    /// Writes a new file; an S3 object of that name must not exist yet.
    pub fn create(&self, rel: &str, bytes: Vec<u8>) -> Result<()> {
        match self {
            Place::Dir(d) => {
                let path = d.join(rel);
                if let Some(folder) = path.parent() {
                    fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
                }
                output::write_atomic(&path, &bytes).map(|_| ())
            }
            Place::S3(s) => s.put(rel, bytes, Condition::Absent).map(|_| ()),
        }
    }

    /// Replaces the checkpoint, which must still be the version read (`None`: there was none),
    /// and returns the version written.
    pub fn replace(&self, rel: &str, bytes: Vec<u8>, read: Option<&str>) -> Result<Option<String>> {
        match self {
            Place::Dir(d) => output::write_atomic(&d.join(rel), &bytes).map(|_| None),
            Place::S3(s) => s.put(rel, bytes, read.map_or(Condition::Absent, |e| Condition::Version(e.to_string()))),
        }
    }

    /// Every file below `rel_prefix`, relative to the store.
    pub fn list(&self, rel_prefix: &str) -> Result<Vec<String>> {
        match self {
            Place::Dir(d) => {
                let mut out = Vec::new();
                let mut stack = vec![d.join(rel_prefix)];
                while let Some(dir) = stack.pop() {
                    let entries = match fs::read_dir(&dir) {
                        Ok(e) => e,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
                    };
                    for entry in entries {
                        let path = entry?.path();
                        if path.is_dir() {
                            stack.push(path);
                        } else if let Ok(rel) = path.strip_prefix(d) {
                            out.push(rel.to_string_lossy().into_owned());
                        }
                    }
                }
                Ok(out)
            }
            Place::S3(s) => s.list(rel_prefix),
        }
    }

    pub fn delete(&self, rel: &str) -> Result<()> {
        match self {
            Place::Dir(d) => {
                fs::remove_file(d.join(rel)).with_context(|| format!("cannot remove {}", d.join(rel).display()))
            }
            Place::S3(s) => s.delete(rel),
        }
    }

    /// The writer's lock: refused, not waited for, when another writer holds it.
    pub fn lock_for_writing(&self) -> Result<Lock> {
        match self {
            Place::Dir(d) => {
                fs::create_dir_all(d).with_context(|| format!("cannot create store {}", d.display()))?;
                let file = lock_file(d)?;
                match file.try_lock() {
                    Ok(()) => Ok(Lock::File(file)),
                    Err(fs::TryLockError::WouldBlock) => {
                        bail!(
                            "store {} is in use by another mila process (lock {})",
                            d.display(),
                            d.join(LOCK).display()
                        )
                    }
                    Err(fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", d.display())),
                }
            }
            Place::S3(s) => {
                let body = serde_json::json!({
                    "pid": std::process::id(),
                    "since": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                })
                .to_string();
                match s.put(LOCK, body.into_bytes(), Condition::Absent) {
                    Ok(_) => Ok(Lock::Object),
                    Err(e) if format!("{e:#}").contains("PreconditionFailed") => bail!(
                        "store {} is in use by another mila process (lock object {} exists; if no ingest is running, a killed one left it: delete it and run again)",
                        self.name(),
                        s.url(LOCK)
                    ),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Ends a writer's lock (the object on S3; a file lock ends when its file is closed).
    pub fn unlock(&self, lock: &Lock) {
        if let (Place::S3(s), Lock::Object) = (self, lock) {
            if let Err(e) = s.delete(LOCK) {
                crate::tell::line(&format!("mila: warning: could not remove the lock object {}: {e:#}", s.url(LOCK)));
            }
        }
    }

    /// A reader's lock: shared locally (waits while a writer commits); none on S3, where a
    /// reader reads one checkpoint and the files it names, which no writer replaces in place.
    pub fn lock_for_reading(&self) -> Result<Lock> {
        match self {
            Place::Dir(d) => {
                let file = lock_file(d)?;
                file.lock_shared().with_context(|| format!("cannot lock {}", d.display()))?;
                Ok(Lock::File(file))
            }
            Place::S3(_) => Ok(Lock::None),
        }
    }
}

fn lock_file(dir: &std::path::Path) -> Result<File> {
    let path = dir.join(LOCK);
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
}

enum Condition {
    /// The object must not exist.
    Absent,
    /// The object must have this ETag.
    Version(String),
}

impl S3 {
    fn key(&self, rel: &str) -> String {
        format!("{}{rel}", self.location.prefix)
    }

    fn url(&self, rel: &str) -> String {
        self.location.url(&self.key(rel))
    }

    fn get(&self, rel: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
        let key = self.key(rel);
        let url = self.url(rel);
        let action = Action { permission: "s3:GetObject", resource: &url };
        self.runtime.block_on(async {
            let call = || self.client.get_object().bucket(&self.location.bucket).key(&key).send();
            match aws::with_retries(self.attempts, call).await {
                Ok(out) => {
                    let etag = out.e_tag().map(str::to_string);
                    let bytes = out.body.collect().await.with_context(|| format!("{url}: the body was cut short"))?;
                    Ok(Some((bytes.into_bytes().to_vec(), etag)))
                }
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
                Err(e) => bail!("{}", aws::describe(&e, &action)),
            }
        })
    }

    /// Puts an object under a condition; returns its ETag.
    fn put(&self, rel: &str, bytes: Vec<u8>, condition: Condition) -> Result<Option<String>> {
        let key = self.key(rel);
        let url = self.url(rel);
        let action = Action { permission: "s3:PutObject", resource: &url };
        self.runtime.block_on(async {
            let call = || {
                let mut put = self.client.put_object().bucket(&self.location.bucket).key(&key).body(ByteStream::from(bytes.clone()));
                put = match &condition {
                    Condition::Absent => put.if_none_match("*"),
                    Condition::Version(etag) => put.if_match(etag),
                };
                put.send()
            };
            match aws::with_retries(self.attempts, call).await {
                Ok(out) => Ok(out.e_tag().map(str::to_string)),
                Err(e) => {
                    let text = aws::describe(&e, &action);
                    if text.contains("PreconditionFailed") || text.contains("ConditionalRequestConflict") {
                        bail!("{url}: PreconditionFailed: another writer changed the store (the object exists, or is not the version this run read)");
                    }
                    bail!("{text}")
                }
            }
        })
    }

    fn list(&self, rel_prefix: &str) -> Result<Vec<String>> {
        let prefix = self.key(rel_prefix);
        let url = self.url(rel_prefix);
        let action = Action { permission: "s3:ListBucket", resource: &url };
        self.runtime.block_on(async {
            let mut out = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let call = || {
                    self.client
                        .list_objects_v2()
                        .bucket(&self.location.bucket)
                        .prefix(&prefix)
                        .set_continuation_token(token.clone())
                        .send()
                };
                let page = aws::with_retries(self.attempts, call)
                    .await
                    .map_err(|e| anyhow::anyhow!(aws::describe(&e, &action)))?;
                for o in page.contents() {
                    if let Some(k) = o.key().and_then(|k| k.strip_prefix(&self.location.prefix)) {
                        out.push(k.to_string());
                    }
                }
                token = page.next_continuation_token().map(str::to_string);
                if token.is_none() {
                    return Ok(out);
                }
            }
        })
    }

    fn delete(&self, rel: &str) -> Result<()> {
        let key = self.key(rel);
        let url = self.url(rel);
        let action = Action { permission: "s3:DeleteObject", resource: &url };
        self.runtime.block_on(async {
            let call = || self.client.delete_object().bucket(&self.location.bucket).key(&key).send();
            aws::with_retries(self.attempts, call)
                .await
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!(aws::describe(&e, &action)))
        })
    }
}
