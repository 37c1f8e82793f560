//! `mila sample`: a realistic synthetic corpus in the S3 delivery layout, covering every record
//! shape mila reads. Deterministic for a seed. Bodies are invented words, never real text.

pub mod trail;

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Timelike, Utc};
use flate2::{write::GzEncoder, Compression};

pub const ACCOUNT: &str = "123456789012";
/// The most records one corpus holds: it is built in memory (a few KB a record) before writing.
pub const MAX_RECORDS: u64 = 2_000_000;
const SPAN_MS: i64 = 7 * crate::window::DAY_MS;
const MAX_PER_OBJECT: usize = 120;

/// Application inference profiles the corpus uses; `sample-logs/profiles.toml` lists the first
/// three. The fourth stands for a deleted profile that no snapshot resolves.
pub const APP_PROFILES: [(&str, &str); 4] = [
    ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/s3arch0prof1", "us-east-1"),
    ("arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/supp0rtprof2", "eu-west-1"),
    ("arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/res3archprf3", "us-west-2"),
    ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/d3letedprof4", "us-east-1"),
];

const SOURCES: [&str; 5] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"];
const WORDS: [&str; 32] = [
    "invoice",
    "customer",
    "refund",
    "policy",
    "shipment",
    "order",
    "status",
    "please",
    "summarise",
    "ticket",
    "account",
    "billing",
    "region",
    "latency",
    "report",
    "delivery",
    "weekly",
    "update",
    "the",
    "a",
    "of",
    "and",
    "for",
    "with",
    "classify",
    "translate",
    "answer",
    "question",
    "document",
    "search",
    "result",
    "draft",
];

/// splitmix64: tiny, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() <= p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub(crate) fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
}

fn words(rng: &mut Rng, n: u64) -> String {
    (0..n.max(1)).map(|_| *rng.pick(&WORDS)).collect::<Vec<_>>().join(" ")
}

fn js(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

fn obj(fields: &[(&str, String)]) -> String {
    let inner: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{}", js(k), v)).collect();
    format!("{{{}}}", inner.join(","))
}

fn geo_for(source: &str) -> (&'static str, &'static [&'static str]) {
    match source {
        s if s.starts_with("us-") => ("us.", &["us-east-1", "us-east-2", "us-west-2"]),
        s if s.starts_with("eu-") => ("eu.", &["eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1"]),
        _ => ("apac.", &["ap-northeast-1", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2"]),
    }
}

const GLOBAL_REGIONS: [&str; 6] =
    ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"];

/// Where a cross-region call ran: at home most of the time, else elsewhere in its set.
fn ran_in<'a>(rng: &mut Rng, source: &'a str, set: &[&'a str]) -> &'a str {
    if set.contains(&source) && rng.chance(0.55) {
        source
    } else {
        rng.pick::<&str>(set)
    }
}

struct Generated {
    ts_ms: i64,
    source: &'static str,
    line: String,
    sidecar: Option<String>,
}

fn timestamp(ms: i64, with_fraction: bool) -> String {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).expect("in range");
    if with_fraction {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// How long prompts and completions are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bodies {
    /// 20-320 prompt words and 10-260 answer words: the corpus of `sample-logs/`.
    Short,
    /// Prompt plus completion of 2-20 KB (log-uniform), one record in 50 of 50-120 KB: agent
    /// traffic, whose bodies dominate the bytes to read.
    Agent,
}

/// Words of about 6.5 bytes each for a prompt and an answer of agent traffic.
fn agent_words(rng: &mut Rng) -> (u64, u64) {
    let bytes = if rng.unit() < 0.02 { 50_000.0 + 70_000.0 * rng.unit() } else { 2_000.0 * 10f64.powf(rng.unit()) };
    let words = (bytes / 6.5) as u64;
    let answer = words * (10 + rng.below(30)) / 100;
    (words - answer, answer.max(1))
}

fn one_record(rng: &mut Rng, start_ms: i64, bodies: Bodies) -> Generated {
    let ts_ms = start_ms + rng.below(SPAN_MS as u64) as i64;
    let source = *rng.pick(&SOURCES);
    let request_id = rng.uuid();
    let (geo, geo_set) = geo_for(source);
    let shape = rng.below(100);
    let (prompt_words, answer_words) = match bodies {
        Bodies::Short => (20 + rng.below(300), 10 + rng.below(250)),
        Bodies::Agent => agent_words(rng),
    };
    let in_tokens = prompt_words * 13 / 10 + rng.below(20);
    let out_tokens = answer_words * 13 / 10 + rng.below(10);
    let latency = 200 + out_tokens * (8 + rng.below(20)) + rng.below(400);
    let role = rng.pick(&["CustomerServiceAppRole", "AgentRole", "BatchRole", "IndexerRole", "CodingAgent"]);
    let identity = obj(&[("arn", js(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/worker-{}", rng.below(20))))]);
    let prompt = words(rng, prompt_words);
    let answer = words(rng, answer_words);

    let converse_in = obj(&[
        ("messages", format!("[{{\"role\":\"user\",\"content\":[{{\"text\":{}}}]}}]", js(&prompt))),
        ("inferenceConfig", "{\"maxTokens\":1024}".into()),
    ]);
    let converse_out = |stop: &str, latency: u64, i: u64, o: u64, answer: &str| {
        obj(&[
            ("output", format!("{{\"message\":{{\"role\":\"assistant\",\"content\":[{{\"text\":{}}}]}}}}", js(answer))),
            ("stopReason", js(stop)),
            ("metrics", format!("{{\"latencyMs\":{latency}}}")),
            ("usage", format!("{{\"inputTokens\":{i},\"outputTokens\":{o},\"totalTokens\":{}}}", i + o)),
        ])
    };
    let input = |tokens: u64, body: &str, cache: Option<(u64, u64)>| {
        let mut f = vec![
            ("inputContentType", js("application/json")),
            ("inputBodyJson", body.to_string()),
            ("inputTokenCount", tokens.to_string()),
        ];
        if let Some((r, w)) = cache {
            f.push(("cacheReadInputTokenCount", r.to_string()));
            f.push(("cacheWriteInputTokenCount", w.to_string()));
        }
        obj(&f)
    };
    let output = |tokens: u64, body: &str| {
        obj(&[
            ("outputContentType", js("application/json")),
            ("outputBodyJson", body.to_string()),
            ("outputTokenCount", tokens.to_string()),
        ])
    };

    let mut sidecar = None;
    // (operation, modelId, input, output, inferenceRegion, errorCode, extra fields)
    let (operation, model_id, input_json, output_json, inference, error): (
        &str,
        String,
        String,
        Option<String>,
        Option<&str>,
        Option<&str>,
    ) = match shape {
        // Converse on a foundation model in region: no inferenceRegion on older logs, present on newer.
        0..=14 => {
            let model = rng
                .pick(&[
                    "anthropic.claude-3-haiku-20240307-v1:0",
                    "amazon.nova-lite-v1:0",
                    "meta.llama3-1-70b-instruct-v1:0",
                ])
                .to_string();
            let ir = if rng.chance(0.5) { Some(source) } else { None };
            (
                "Converse",
                model,
                input(in_tokens, &converse_in, Some((0, 0))),
                Some(output(out_tokens, &converse_out("end_turn", latency, in_tokens, out_tokens, &answer))),
                ir,
                None,
            )
        }
        // Converse through a geographic profile, with where it ran.
        15..=34 => {
            let base = rng.pick(&[
                "anthropic.claude-sonnet-4-20250514-v1:0",
                "anthropic.claude-3-5-haiku-20241022-v1:0",
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
            ]);
            let ir = ran_in(rng, source, geo_set);
            (
                "Converse",
                format!("{geo}{base}"),
                input(in_tokens, &converse_in, Some((0, 0))),
                Some(output(out_tokens, &converse_out("end_turn", latency, in_tokens, out_tokens, &answer))),
                Some(ir),
                None,
            )
        }
        // Converse through a global profile with prompt caching.
        35..=46 => {
            let base =
                rng.pick(&["anthropic.claude-opus-4-5-20251101-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"]);
            let ir = ran_in(rng, source, &GLOBAL_REGIONS);
            let cache = (rng.below(30_000), if rng.chance(0.3) { rng.below(5_000) } else { 0 });
            (
                "Converse",
                format!("global.{base}"),
                input(in_tokens, &converse_in, Some(cache)),
                Some(output(out_tokens, &converse_out("end_turn", latency, in_tokens, out_tokens, &answer))),
                Some(ir),
                None,
            )
        }
        // ConverseStream through a geographic profile; a third are old records without inferenceRegion.
        47..=56 => {
            let ir = if rng.chance(0.33) { None } else { Some(ran_in(rng, source, geo_set)) };
            (
                "ConverseStream",
                format!("{geo}amazon.nova-pro-v1:0"),
                input(in_tokens, &converse_in, None),
                Some(output(out_tokens, &converse_out("end_turn", latency, in_tokens, out_tokens, &answer))),
                ir,
                None,
            )
        }
        // InvokeModel, Anthropic native body: no latency anywhere.
        57..=64 => {
            let body_in = obj(&[
                ("anthropic_version", js("bedrock-2023-05-31")),
                ("max_tokens", "1024".into()),
                ("messages", format!("[{{\"role\":\"user\",\"content\":{}}}]", js(&prompt))),
            ]);
            let body_out = obj(&[
                ("id", js("msg_bdrk_01")),
                ("type", js("message")),
                ("role", js("assistant")),
                ("content", format!("[{{\"type\":\"text\",\"text\":{}}}]", js(&answer))),
                ("stop_reason", js("end_turn")),
                ("usage", format!("{{\"input_tokens\":{in_tokens},\"output_tokens\":{out_tokens}}}")),
            ]);
            (
                "InvokeModel",
                "anthropic.claude-3-5-sonnet-20240620-v1:0".to_string(),
                input(in_tokens, &body_in, None),
                Some(output(out_tokens, &body_out)),
                None,
                None,
            )
        }
        // Embeddings.
        65..=71 => {
            let body_in = obj(&[("inputText", js(&prompt)), ("dimensions", "256".into())]);
            let vector: Vec<String> =
                (0..16).map(|_| format!("{:.4}", rng.below(20000) as f64 / 10000.0 - 1.0)).collect();
            let body_out = obj(&[
                ("embedding", format!("[{}]", vector.join(","))),
                ("inputTextTokenCount", in_tokens.to_string()),
            ]);
            (
                "InvokeModel",
                "amazon.titan-embed-text-v2:0".to_string(),
                input(in_tokens, &body_in, None),
                Some(output(0, &body_out)),
                None,
                None,
            )
        }
        // InvokeModelWithResponseStream through a system-profile ARN: the body is the chunk array.
        72..=81 => {
            let ir = ran_in(rng, source, geo_set);
            let first_byte = 300 + rng.below(900);
            let model = format!(
                "arn:aws:bedrock:{source}:{ACCOUNT}:inference-profile/{geo}anthropic.claude-3-7-sonnet-20250219-v1:0"
            );
            let body_in = obj(&[
                ("anthropic_version", js("bedrock-2023-05-31")),
                ("max_tokens", "2048".into()),
                (
                    "messages",
                    format!("[{{\"role\":\"user\",\"content\":[{{\"type\":\"text\",\"text\":{}}}]}}]", js(&prompt)),
                ),
            ]);
            let chunks = format!(
                "[{{\"type\":\"message_start\",\"message\":{{\"role\":\"assistant\",\"usage\":{{\"input_tokens\":{in_tokens},\"output_tokens\":1}}}}}},{{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{}}}}},{{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}},\"usage\":{{\"output_tokens\":{out_tokens}}}}},{{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{{\"inputTokenCount\":{in_tokens},\"outputTokenCount\":{out_tokens},\"invocationLatency\":{latency},\"firstByteLatency\":{first_byte}}}}}]",
                js(&answer)
            );
            (
                "InvokeModelWithResponseStream",
                model,
                input(in_tokens, &body_in, None),
                Some(output(out_tokens, &chunks)),
                Some(ir),
                None,
            )
        }
        // Application profiles, streamed; cache tokens only in the stream metrics; some bodies in sidecars.
        82..=89 => {
            let (arn, home) = *rng.pick(&APP_PROFILES);
            let ir: Option<&str> = match arn {
                a if a == APP_PROFILES[1].0 => {
                    if rng.chance(0.5) {
                        None
                    } else {
                        Some(home)
                    }
                }
                a if a == APP_PROFILES[3].0 => {
                    if rng.chance(0.5) {
                        None
                    } else {
                        Some(ran_in(rng, home, &["us-east-1", "us-east-2", "us-west-2"]))
                    }
                }
                a if a == APP_PROFILES[2].0 => Some(ran_in(rng, home, &GLOBAL_REGIONS)),
                _ => Some(ran_in(rng, home, &["us-east-1", "us-east-2", "us-west-2"])),
            };
            let source_of_profile: &'static str = SOURCES.iter().find(|s| **s == home).copied().unwrap_or("us-east-1");
            let cache_w = if rng.chance(0.4) { rng.below(30_000) } else { 0 };
            let cache_r = if cache_w == 0 { rng.below(20_000) } else { 0 };
            let first_byte = 500 + rng.below(2000);
            let chunks = format!(
                "[{{\"type\":\"message_start\",\"message\":{{\"role\":\"assistant\"}}}},{{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{{\"inputTokenCount\":{in_tokens},\"outputTokenCount\":{out_tokens},\"invocationLatency\":{latency},\"firstByteLatency\":{first_byte},\"cacheReadInputTokenCount\":{cache_r},\"cacheWriteInputTokenCount\":{cache_w}}}}}]"
            );
            let input_json = if rng.chance(0.25) {
                let key = format!("{request_id}_input.json.gz");
                sidecar = Some(key.clone());
                obj(&[
                    ("inputContentType", js("application/json")),
                    ("inputBodyS3Path", js(&format!("s3://my-bedrock-logs/{}/data/{key}", "HOURPATH"))),
                    ("inputTokenCount", in_tokens.to_string()),
                ])
            } else {
                input(in_tokens, &converse_in, None)
            };
            return finish(
                rng,
                ts_ms,
                source_of_profile,
                request_id,
                "InvokeModelWithResponseStream",
                arn.to_string(),
                input_json,
                Some(output(out_tokens, &chunks)),
                ir,
                None,
                identity,
                sidecar,
            );
        }
        // Guardrail intervention: no tokens, a short latency.
        90..=92 => {
            let out =
                converse_out("guardrail_intervened", 150 + rng.below(200), 0, 0, "Sorry, I can't help with that.");
            (
                "Converse",
                "anthropic.claude-3-haiku-20240307-v1:0".to_string(),
                input(0, &converse_in, None),
                Some(output(0, &out)),
                None,
                None,
            )
        }
        // A provisioned-throughput model: no price row; it runs in the region called.
        93..=94 => {
            let model = format!("arn:aws:bedrock:{source}:{ACCOUNT}:provisioned-model/pt0abc123");
            (
                "Converse",
                model,
                input(in_tokens, &converse_in, None),
                Some(output(out_tokens, &converse_out("max_tokens", latency, in_tokens, out_tokens, &answer))),
                None,
                None,
            )
        }
        // Failed calls: errorCode, no output, usually no token counts.
        _ => {
            let code = rng.pick(&[
                "ThrottlingException",
                "ModelTimeoutException",
                "ValidationException",
                "ServiceUnavailableException",
            ]);
            let ir = if rng.chance(0.3) { Some(ran_in(rng, source, geo_set)) } else { None };
            let base =
                rng.pick(&["anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0"]);
            (
                "InvokeModel",
                format!("{geo}{base}"),
                obj(&[("inputContentType", js("application/json"))]),
                None,
                ir,
                Some(*code),
            )
        }
    };
    finish(
        rng,
        ts_ms,
        source,
        request_id,
        operation,
        model_id,
        input_json,
        output_json,
        inference,
        error,
        identity,
        sidecar,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    rng: &mut Rng,
    ts_ms: i64,
    source: &'static str,
    request_id: String,
    operation: &str,
    model_id: String,
    input: String,
    output: Option<String>,
    inference: Option<&str>,
    error: Option<&str>,
    identity: String,
    sidecar: Option<String>,
) -> Generated {
    let mut fields: Vec<(&str, String)> = vec![
        ("timestamp", js(&timestamp(ts_ms, rng.chance(0.3)))),
        ("accountId", js(ACCOUNT)),
        ("region", js(source)),
        ("requestId", js(&request_id)),
        ("operation", js(operation)),
        ("modelId", js(&model_id)),
    ];
    if let Some(code) = error {
        fields.push(("errorCode", js(code)));
    }
    fields.push(("input", input));
    if let Some(out) = output {
        fields.push(("output", out));
    }
    if rng.chance(0.3) {
        let app = rng.pick(&["CustomerServiceApp", "SearchApp", "Indexer"]);
        fields.push((
            "requestMetadata",
            obj(&[("application_name", js(app)), ("cost_center", js(&format!("CC-{}", rng.below(9))))]),
        ));
    }
    fields.push(("identity", identity));
    if let Some(ir) = inference {
        fields.push(("inferenceRegion", js(ir)));
    }
    fields.push(("schemaType", js("ModelInvocationLog")));
    fields.push(("schemaVersion", js("1.0")));
    // Real logs vary key order: some writers put the schema first.
    if rng.chance(0.2) {
        fields.rotate_right(2);
    }
    Generated { ts_ms, source, line: obj(&fields), sidecar }
}

pub struct Written {
    pub records: u64,
    pub objects: u64,
    /// With `--cloudtrail`: what the trail holds.
    pub trail: Option<trail::TrailWritten>,
}

fn gzip_members(parts: &[&[u8]]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for part in parts {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(part)?;
        out.extend(e.finish()?);
    }
    Ok(out)
}

/// Writes `records` invocations (plus a few duplicate deliveries, as S3 makes) under `out`.
/// With `cloudtrail`, also writes a trail of the same calls (`trail::write`).
pub fn write_corpus(
    out: &Path,
    records: u64,
    seed: u64,
    start_ms: i64,
    bodies: Bodies,
    cloudtrail: bool,
) -> Result<Written> {
    let mut rng = Rng::new(seed);
    let mut recs: Vec<Generated> = (0..records).map(|_| one_record(&mut rng, start_ms, bodies)).collect();
    recs.sort_by(|a, b| (a.source, a.ts_ms).cmp(&(b.source, b.ts_ms)));
    let calls: Vec<trail::Call> = match cloudtrail {
        false => Vec::new(),
        true => {
            let profiles = crate::inputs::profiles::Profiles::default();
            recs.iter()
                .filter_map(|g| crate::record::parse_line(g.line.as_bytes(), &profiles).ok())
                .map(|r| trail::Call::of(&r))
                .collect()
        }
    };
    let root = out.join("AWSLogs").join(ACCOUNT).join("BedrockModelInvocationLogs");
    fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    fs::write(root.join("amazon-bedrock-logs-permission-check"), b"")?;

    let hour_of = |ms: i64| ms.div_euclid(crate::window::HOUR_MS);
    let mut objects = 0u64;
    let mut i = 0;
    while i < recs.len() {
        let (source, hour) = (recs[i].source, hour_of(recs[i].ts_ms));
        let mut j = i;
        while j < recs.len() && recs[j].source == source && hour_of(recs[j].ts_ms) == hour && j - i < MAX_PER_OBJECT {
            j += 1;
        }
        let t = DateTime::<Utc>::from_timestamp_millis(recs[j - 1].ts_ms).expect("in range");
        let dir = root.join(source).join(format!("{:04}/{:02}/{:02}/{:02}", t.year(), t.month(), t.day(), t.hour()));
        fs::create_dir_all(&dir)?;
        let mut lines: Vec<String> = Vec::with_capacity(j - i + 2);
        for g in &recs[i..j] {
            let hour_path = format!(
                "AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{source}/{:04}/{:02}/{:02}/{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour()
            );
            lines.push(g.line.replace("HOURPATH", &hour_path));
            if let Some(key) = &g.sidecar {
                fs::create_dir_all(dir.join("data"))?;
                let body = format!(
                    "{{\"messages\":[{{\"role\":\"user\",\"content\":[{{\"text\":{}}}]}}]}}\n",
                    js(&words(&mut rng, 400))
                );
                fs::write(dir.join("data").join(key), gzip_members(&[body.as_bytes()])?)?;
            }
        }
        // About one record in 200 is delivered twice, in the same object or the next one.
        let dups: Vec<String> = recs[i..j].iter().filter(|_| rng.chance(0.005)).map(|g| g.line.clone()).collect();
        lines.extend(dups);
        let text = lines.join("\n") + "\n";
        let bytes = text.as_bytes();
        // Some objects are several gzip members, as concatenated deliveries are.
        let body = if rng.chance(0.25) && bytes.len() > 2 {
            let cut = text[..text.len() / 2].rfind('\n').map_or(0, |p| p + 1);
            gzip_members(&[&bytes[..cut], &bytes[cut..]])?
        } else {
            gzip_members(&[bytes])?
        };
        let name = format!("{}_{:016x}.json.gz", t.format("%Y%m%dT%H%M%S%3fZ"), rng.next_u64());
        fs::write(dir.join(name), body)?;
        objects += 1;
        i = j;
    }
    let trail = cloudtrail.then(|| trail::write(out, calls, seed, records, start_ms)).transpose()?;
    Ok(Written { records, objects, trail })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!((0..5).map(|_| a.next_u64()).collect::<Vec<_>>(), (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn every_generated_line_parses() {
        let profiles = crate::inputs::profiles::Profiles::default();
        let mut rng = Rng::new(3);
        let mut ops = std::collections::BTreeSet::new();
        let mut ids = std::collections::HashSet::new();
        for _ in 0..2000 {
            let g = one_record(&mut rng, 1_762_646_400_000, Bodies::Short);
            let r =
                crate::record::parse_line(g.line.as_bytes(), &profiles).unwrap_or_else(|e| panic!("{e}: {}", g.line));
            assert!(ids.insert(r.request_id.into_owned()), "request ids are unique");
            ops.insert(r.operation.into_owned());
        }
        assert_eq!(ops.len(), 4, "{ops:?}");
    }

    #[test]
    fn agent_bodies_are_large_and_parse() {
        let profiles = crate::inputs::profiles::Profiles::default();
        let mut rng = Rng::new(4);
        let mut sizes: Vec<usize> = (0..1000)
            .map(|_| {
                let g = one_record(&mut rng, 1_762_646_400_000, Bodies::Agent);
                crate::record::parse_line(g.line.as_bytes(), &profiles).unwrap_or_else(|e| panic!("{e}"));
                g.line.len()
            })
            .collect();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2];
        assert!((3_000..20_000).contains(&median), "median line {median} bytes");
        let big = sizes.iter().filter(|s| **s > 50_000).count();
        assert!((5..60).contains(&big), "{big} lines over 50 KB");
    }
}
