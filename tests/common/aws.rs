//! The moto server that `scripts/test` starts, and what the tests put into it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

/// moto's address, from `scripts/test`. Without it the cloud tests fail: they must not pass
/// by not running.
pub fn moto() -> String {
    std::env::var("MILA_TEST_MOTO").unwrap_or_else(|_| {
        panic!("MILA_TEST_MOTO is not set: run the tests with scripts/test, which starts a moto server")
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// Fake credentials moto accepts; no output may ever contain them.
pub const SECRET: &str = "mila-test-secret-key-never-printed";
pub const TOKEN: &str = "mila-test-session-token-never-printed";

/// The environment mila runs with: moto's fake credentials, nothing from this machine's
/// AWS files, and the endpoint to use (moto itself or a proxy in front of it).
pub fn env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "AKIAMILATESTKEY".into()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.into()),
        ("AWS_SESSION_TOKEN", TOKEN.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_CONFIG_FILE", "/nonexistent/mila-test-config".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/mila-test-credentials".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

async fn config(endpoint: &str) -> aws_config::SdkConfig {
    let creds = aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .credentials_provider(creds)
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .load()
        .await
}

pub fn s3() -> aws_sdk_s3::Client {
    block_on(async {
        let c = config(&moto()).await;
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&c).force_path_style(true).build())
    })
}

pub fn logs() -> aws_sdk_cloudwatchlogs::Client {
    logs_at(&moto())
}

/// A CloudWatch Logs client of the tests' own, at `endpoint` (moto, or a loopback server).
pub fn logs_at(endpoint: &str) -> aws_sdk_cloudwatchlogs::Client {
    block_on(async { aws_sdk_cloudwatchlogs::Client::new(&config(endpoint).await) })
}

/// Every file under `dir`, as (key relative to it, path), sorted.
pub fn files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let key = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.push((key, p));
            }
        }
    }
    out.sort();
    out
}

/// Makes `bucket` and uploads the tree under `dir` to `prefix`.
pub fn upload(bucket: &str, prefix: &str, dir: &Path) {
    let client = s3();
    block_on(async {
        client.create_bucket().bucket(bucket).send().await.unwrap();
        for (key, path) in files(dir) {
            put(&client, bucket, &format!("{prefix}{key}"), std::fs::read(path).unwrap()).await;
        }
    });
}

pub async fn put(client: &aws_sdk_s3::Client, bucket: &str, key: &str, bytes: Vec<u8>) {
    client.put_object().bucket(bucket).key(key).body(bytes.into()).send().await.unwrap();
}

/// Every record of the corpus under `dir`, as (timestamp ms, line), sorted by time.
pub fn records(dir: &Path) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for (key, path) in files(dir) {
        if !key.ends_with(".json.gz") || key.contains("/data/") {
            continue;
        }
        let mut text = String::new();
        use std::io::Read;
        flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let ts = chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap()).unwrap().timestamp_millis();
            out.push((ts, line.to_string()));
        }
    }
    out.sort_by_key(|r| r.0);
    out
}

/// Makes a log group with Bedrock's stream and puts `records` into it as events.
pub fn put_events(group: &str, records: &[(i64, String)]) {
    let client = logs();
    block_on(async {
        client.create_log_group().log_group_name(group).send().await.unwrap();
        let stream = "aws/bedrock/modelinvocations";
        client.create_log_stream().log_group_name(group).log_stream_name(stream).send().await.unwrap();
        for batch in records.chunks(2000) {
            let events: Vec<InputLogEvent> = batch
                .iter()
                .map(|(ts, line)| InputLogEvent::builder().timestamp(*ts).message(line).build().unwrap())
                .collect();
            client
                .put_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .set_log_events(Some(events))
                .send()
                .await
                .unwrap();
        }
    });
}

pub fn command(endpoint: &str, extra: &[(&str, &str)], args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mila"));
    c.args(args).envs(env(endpoint)).env_remove("AWS_PROFILE").env_remove("MILA_TEST_CRASH_AT");
    c.envs(extra.iter().copied());
    c
}

fn finish(out: Output) -> super::Run {
    super::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs mila with the AWS environment for `endpoint`.
pub fn mila_at(endpoint: &str, args: &[&str]) -> super::Run {
    mila_env(endpoint, &[], args)
}

/// The same, with more environment variables.
pub fn mila_env(endpoint: &str, extra: &[(&str, &str)], args: &[&str]) -> super::Run {
    finish(command(endpoint, extra, args).output().expect("run mila"))
}

/// Runs mila with no credentials anywhere.
pub fn mila_without_credentials(endpoint: &str, args: &[&str]) -> super::Run {
    let mut c = command(endpoint, &[], args);
    c.env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY").env_remove("AWS_SESSION_TOKEN");
    finish(c.output().expect("run mila"))
}

/// Starts mila in the background, its output discarded.
pub fn spawn_mila(endpoint: &str, args: &[&str]) -> std::process::Child {
    use std::process::Stdio;
    command(endpoint, &[], args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn mila")
}

/// A CloudWatch (metrics) client of the tests' own, in `region`, at moto.
pub fn metrics(region: &str) -> aws_sdk_cloudwatch::Client {
    block_on(async {
        let c = config(&moto()).await;
        aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::config::Builder::from(&c).region(aws_config::Region::new(region.to_string())).build(),
        )
    })
}
