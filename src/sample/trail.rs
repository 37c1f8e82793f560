//! `mila sample --cloudtrail`: CloudTrail log files for the same synthetic calls, in CloudTrail's
//! S3 layout. Every logged call has its event; a region without invocation logging and a day of
//! partial logging add calls found only in CloudTrail, some without `inferenceRegion`; other
//! services' events are mixed in, as a trail mixes every service.

use std::fs;
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Datelike, Timelike, Utc};

use serde::Serialize;
use serde_json::value::RawValue;

use super::{gzip_members, timestamp, Rng, ACCOUNT};
use crate::output::write_atomic;
use crate::record::Record;
use crate::window::DAY_MS;

/// A source region whose invocation logging is off: its calls are in CloudTrail only.
pub const UNLOGGED_REGION: &str = "ap-south-1";
/// A source region and day (from `--start`, 0-based) where logging missed some calls.
pub const PARTIAL: (&str, i64) = ("eu-central-1", 2);

/// One runtime call as CloudTrail records it.
pub struct Call {
    pub ts_ms: i64,
    pub request_id: String,
    pub source: String,
    pub operation: String,
    pub model_id: String,
    pub inference: Option<String>,
    pub error: Option<String>,
    pub arn: Option<String>,
}

impl Call {
    /// The event of a logged call: what its log record says, to the second.
    pub fn of(r: &Record) -> Call {
        // Where the call ran as a report finds it (a provisioned model's region is the one called).
        let no_profiles = crate::given::profiles::Profiles::default();
        let resolved =
            crate::resolve::resolve(&r.source_region, &r.model_id, r.inference_region.as_deref(), &no_profiles);
        let cross_region = resolved.kind != crate::record::ModelIdKind::FoundationModel;
        Call {
            ts_ms: r.timestamp_ms,
            request_id: r.request_id.to_string(),
            source: r.source_region.to_string(),
            operation: r.operation.to_string(),
            model_id: r.model_id.to_string(),
            // CloudTrail names the inference region of cross-region calls.
            inference: resolved.ran_in.filter(|_| cross_region).map(str::to_string),
            error: r.error_code.as_ref().map(|s| s.to_string()),
            arn: r.identity_arn.as_ref().map(|s| s.to_string()),
        }
    }
}

/// Calls only in CloudTrail: every day in `UNLOGGED_REGION`, and on `PARTIAL`'s day in its
/// region. One in ten cross-region calls has no `inferenceRegion`.
fn unlogged(rng: &mut Rng, records: u64, start_ms: i64) -> Vec<Call> {
    const OPERATIONS: [&str; 4] = ["Converse", "InvokeModel", "ConverseStream", "InvokeModelWithResponseStream"];
    let apac: [(&str, &[&str]); 3] = [
        ("anthropic.claude-3-haiku-20240307-v1:0", &["ap-south-1"]),
        ("apac.anthropic.claude-3-5-sonnet-20240620-v1:0", &["ap-south-1", "ap-southeast-1", "ap-northeast-1"]),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", &["ap-south-1", "us-east-1", "eu-west-1"]),
    ];
    let eu: [(&str, &[&str]); 3] = [
        ("anthropic.claude-3-haiku-20240307-v1:0", &["eu-central-1"]),
        ("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", &["eu-central-1", "eu-west-1", "eu-west-3"]),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", &["eu-central-1", "us-east-2"]),
    ];
    let (n_apac, n_eu) = ((records / 40).max(4), (records / 100).max(2));
    let mut out = Vec::new();
    for i in 0..n_apac + n_eu {
        let (source, models, ts_ms) = if i < n_apac {
            (UNLOGGED_REGION, &apac, start_ms + rng.below(7 * DAY_MS as u64) as i64)
        } else {
            (PARTIAL.0, &eu, start_ms + PARTIAL.1 * DAY_MS + rng.below(DAY_MS as u64) as i64)
        };
        let (model_id, ran_in) = *rng.pick(models);
        let cross_region = ran_in.len() > 1;
        let role = rng.pick(&["CustomerServiceAppRole", "AgentRole", "BatchRole"]);
        out.push(Call {
            ts_ms: ts_ms / 1000 * 1000,
            request_id: rng.uuid(),
            source: source.into(),
            operation: rng.pick(&OPERATIONS).to_string(),
            model_id: model_id.into(),
            inference: (cross_region && !rng.chance(0.1)).then(|| rng.pick(ran_in).to_string()),
            error: rng.chance(0.04).then(|| "ThrottlingException".to_string()),
            arn: Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/worker-{}", rng.below(20))),
        });
    }
    out
}

/// One CloudTrail event, in the order CloudTrail writes its fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    event_version: &'static str,
    user_identity: UserIdentity,
    event_time: String,
    event_source: &'a str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress", skip_serializing_if = "Option::is_none")]
    source_ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'static str>,
    request_parameters: Parameters<'a>,
    /// Always `null` for these calls.
    response_elements: Option<()>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<AdditionalData<'a>>,
    #[serde(rename = "requestID")]
    request_id: String,
    #[serde(rename = "eventID")]
    event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
    event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    management_event: Option<bool>,
    recipient_account_id: &'static str,
    event_category: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoked_by: Option<&'static str>,
}

impl UserIdentity {
    fn service(invoked_by: &'static str) -> UserIdentity {
        UserIdentity {
            kind: "AWSService",
            principal_id: None,
            arn: None,
            account_id: None,
            invoked_by: Some(invoked_by),
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Parameters<'a> {
    Model {
        #[serde(rename = "modelId")]
        model_id: &'a str,
    },
    /// Another service's parameters, as written.
    Raw(Box<RawValue>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdditionalData<'a> {
    inference_region: &'a str,
}

/// A trail file: `{"Records": [...]}`.
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "Records")]
    records: Vec<Event<'a>>,
}

fn event<'a>(rng: &mut Rng, c: &'a Call) -> Event<'a> {
    let user_identity = match &c.arn {
        Some(arn) => {
            let session = arn.rsplit('/').next().unwrap_or("session");
            UserIdentity {
                kind: "AssumedRole",
                principal_id: Some(format!("AROAEXAMPLE{:08X}:{session}", rng.below(1 << 32))),
                arn: Some(arn.clone()),
                account_id: Some(ACCOUNT),
                invoked_by: None,
            }
        }
        None => UserIdentity::service("bedrock.amazonaws.com"),
    };
    let source_ip_address = Some(format!("10.0.{}.{}", rng.below(256), rng.below(256)));
    Event {
        event_version: "1.09",
        user_identity,
        event_time: timestamp(c.ts_ms / 1000 * 1000, false),
        event_source: crate::record::trail::EVENT_SOURCE,
        event_name: &c.operation,
        aws_region: &c.source,
        source_ip_address,
        user_agent: Some("Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux"),
        error_code: c.error.as_deref(),
        error_message: c.error.as_ref().map(|_| "Too many requests, please wait before trying again."),
        request_parameters: Parameters::Model { model_id: &c.model_id },
        response_elements: None,
        additional_event_data: c.inference.as_deref().map(|r| AdditionalData { inference_region: r }),
        request_id: c.request_id.clone(),
        event_id: rng.uuid(),
        read_only: Some(true),
        event_type: "AwsApiCall",
        management_event: Some(true),
        recipient_account_id: ACCOUNT,
        event_category: "Management",
    }
}

/// Another service's event (or a Bedrock call that invokes no model), as every trail has.
fn other_event<'a>(rng: &mut Rng, region: &'a str, ts_ms: i64) -> Event<'a> {
    let (source, name, params) = *rng.pick(&[
        ("s3.amazonaws.com", "GetBucketAcl", "{\"bucketName\":\"example-bucket\"}"),
        ("sts.amazonaws.com", "AssumeRole", "{\"roleSessionName\":\"worker\",\"durationSeconds\":3600}"),
        ("bedrock.amazonaws.com", "ListFoundationModels", "null"),
        (
            "bedrock.amazonaws.com",
            "GetInferenceProfile",
            "{\"inferenceProfileIdentifier\":\"us.amazon.nova-lite-v1:0\"}",
        ),
        ("ec2.amazonaws.com", "DescribeInstances", "{\"maxResults\":5}"),
    ]);
    Event {
        event_version: "1.09",
        user_identity: UserIdentity::service("ec2.amazonaws.com"),
        event_time: timestamp(ts_ms / 1000 * 1000, false),
        event_source: source,
        event_name: name,
        aws_region: region,
        source_ip_address: None,
        user_agent: None,
        error_code: None,
        error_message: None,
        request_parameters: Parameters::Raw(RawValue::from_string(params.to_string()).expect("static JSON")),
        response_elements: None,
        additional_event_data: None,
        request_id: rng.uuid(),
        event_id: rng.uuid(),
        read_only: None,
        event_type: "AwsApiCall",
        management_event: None,
        recipient_account_id: ACCOUNT,
        event_category: "Management",
    }
}

pub struct TrailWritten {
    pub calls: u64,
    pub only_in_cloudtrail: u64,
    pub files: u64,
}

/// Writes one trail file per source region and day under `out/AWSLogs/ACCOUNT/CloudTrail/`.
pub fn write(out: &Path, logged: Vec<Call>, seed: u64, records: u64, start_ms: i64) -> Result<TrailWritten> {
    // Its own generator: the invocation logs of a seed are the same with or without a trail.
    let mut rng = Rng::new(seed ^ 0xC10D_7A11);
    let extra = unlogged(&mut rng, records, start_ms);
    let only_in_cloudtrail = extra.len() as u64;
    let mut calls = logged;
    calls.extend(extra);
    calls.sort_by(|a, b| (&a.source, a.ts_ms, &a.request_id).cmp(&(&b.source, b.ts_ms, &b.request_id)));
    let root = out.join("AWSLogs").join(ACCOUNT).join("CloudTrail");
    let mut files = 0;
    let mut i = 0;
    while i < calls.len() {
        let (source, day) = (calls[i].source.clone(), calls[i].ts_ms.div_euclid(DAY_MS));
        let mut j = i;
        while j < calls.len() && calls[j].source == source && calls[j].ts_ms.div_euclid(DAY_MS) == day {
            j += 1;
        }
        let mut events: Vec<(i64, Event)> = calls[i..j].iter().map(|c| (c.ts_ms, event(&mut rng, c))).collect();
        for _ in 0..1 + rng.below(3) {
            let at = day * DAY_MS + rng.below(DAY_MS as u64) as i64;
            events.push((at, other_event(&mut rng, &source, at)));
        }
        events.sort_by_key(|e| e.0);
        let t = DateTime::<Utc>::from_timestamp_millis(events.last().map_or(day * DAY_MS, |e| e.0)).expect("in range");
        let dir = root.join(&source).join(format!("{:04}/{:02}/{:02}", t.year(), t.month(), t.day()));
        fs::create_dir_all(&dir)?;
        let doc = Document { records: events.into_iter().map(|e| e.1).collect() };
        let doc = serde_json::to_string(&doc).expect("a trail serialises");
        let name = format!(
            "{ACCOUNT}_CloudTrail_{source}_{}T{:02}{:02}Z_{:016x}.json.gz",
            t.format("%Y%m%d"),
            t.hour(),
            t.minute() / 5 * 5,
            rng.next_u64()
        );
        write_atomic(&dir.join(name), &gzip_members(&[doc.as_bytes()])?)?;
        files += 1;
        i = j;
    }
    Ok(TrailWritten { calls: calls.len() as u64, only_in_cloudtrail, files })
}
