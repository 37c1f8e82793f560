//! `mila sample`: a realistic synthetic corpus in the S3 delivery layout, covering every record
//! shape mila reads. Deterministic for a seed. Bodies are invented words, never real text.

mod record;
pub mod trail;

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Timelike, Utc};
use flate2::{write::GzEncoder, Compression};

use crate::output::write_atomic;
use record::{
    fixed4, AnthropicContent, AnthropicIn, AnthropicOut, AnthropicUsage, Body, Chunk, ConverseIn, ConverseOut, EmbedIn,
    EmbedOut, Identity, Input, InvocationMetrics, Metadata, Output, OutputUsage, Record, SidecarBody, StartMessage,
    StopDelta, TextDelta, Typed,
};

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

/// What every record draws before its shape's own fields, in this order (the corpus of a seed
/// depends on it).
struct Common {
    ts_ms: i64,
    source: &'static str,
    request_id: String,
    geo: &'static str,
    geo_set: &'static [&'static str],
    shape: u64,
    in_tokens: u64,
    out_tokens: u64,
    latency: u64,
    identity: Identity,
    prompt: String,
    answer: String,
}

impl Common {
    fn draw(rng: &mut Rng, start_ms: i64, bodies: Bodies) -> Common {
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
        let identity = Identity { arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/worker-{}", rng.below(20)) };
        let prompt = words(rng, prompt_words);
        let answer = words(rng, answer_words);
        Common {
            ts_ms,
            source,
            request_id,
            geo,
            geo_set,
            shape,
            in_tokens,
            out_tokens,
            latency,
            identity,
            prompt,
            answer,
        }
    }

    fn converse_in(&self, cache: Option<(u64, u64)>) -> Input {
        Input::inline(self.in_tokens, Body::ConverseIn(ConverseIn::new(&self.prompt)), cache)
    }

    fn converse_out(&self, stop_reason: &'static str) -> Option<Output> {
        let body = ConverseOut::new(stop_reason, self.latency, self.in_tokens, self.out_tokens, &self.answer);
        Some(Output::new(self.out_tokens, Body::ConverseOut(body)))
    }
}

/// What a shape decides: the call, its model, its bodies, where it ran and how it failed.
struct Shape {
    operation: &'static str,
    model_id: String,
    input: Input,
    output: Option<Output>,
    inference_region: Option<&'static str>,
    error_code: Option<&'static str>,
    /// The region called, when the shape decides it (an application profile's own).
    source: Option<&'static str>,
    /// A sidecar object's key and where the record says it is.
    sidecar: Option<String>,
}

impl Shape {
    fn new(operation: &'static str, model_id: String, input: Input, output: Option<Output>) -> Shape {
        Shape {
            operation,
            model_id,
            input,
            output,
            inference_region: None,
            error_code: None,
            source: None,
            sidecar: None,
        }
    }

    fn ran_in(self, region: Option<&'static str>) -> Shape {
        Shape { inference_region: region, ..self }
    }
}

/// Converse on a foundation model in region: no inferenceRegion on older logs, present on newer.
fn in_region(rng: &mut Rng, c: &Common) -> Shape {
    let model = rng.pick(&[
        "anthropic.claude-3-haiku-20240307-v1:0",
        "amazon.nova-lite-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
    ]);
    let ir = if rng.chance(0.5) { Some(c.source) } else { None };
    Shape::new("Converse", model.to_string(), c.converse_in(Some((0, 0))), c.converse_out("end_turn")).ran_in(ir)
}

/// Converse through a geographic profile, with where it ran.
fn geo_profile(rng: &mut Rng, c: &Common) -> Shape {
    let base = rng.pick(&[
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]);
    let ir = ran_in(rng, c.source, c.geo_set);
    let model = format!("{}{base}", c.geo);
    Shape::new("Converse", model, c.converse_in(Some((0, 0))), c.converse_out("end_turn")).ran_in(Some(ir))
}

/// Converse through a global profile with prompt caching.
fn global_cached(rng: &mut Rng, c: &Common) -> Shape {
    let base = rng.pick(&["anthropic.claude-opus-4-5-20251101-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"]);
    let ir = ran_in(rng, c.source, &GLOBAL_REGIONS);
    let cache = (rng.below(30_000), if rng.chance(0.3) { rng.below(5_000) } else { 0 });
    let model = format!("global.{base}");
    Shape::new("Converse", model, c.converse_in(Some(cache)), c.converse_out("end_turn")).ran_in(Some(ir))
}

/// ConverseStream through a geographic profile; a third are old records without inferenceRegion.
fn converse_stream(rng: &mut Rng, c: &Common) -> Shape {
    let ir = if rng.chance(0.33) { None } else { Some(ran_in(rng, c.source, c.geo_set)) };
    let model = format!("{}amazon.nova-pro-v1:0", c.geo);
    Shape::new("ConverseStream", model, c.converse_in(None), c.converse_out("end_turn")).ran_in(ir)
}

/// InvokeModel, Anthropic native body: no latency anywhere.
fn anthropic_native(c: &Common) -> Shape {
    let body_in = AnthropicIn::new(1024, AnthropicContent::Plain(c.prompt.clone()));
    let body_out = AnthropicOut {
        id: "msg_bdrk_01",
        kind: "message",
        role: "assistant",
        content: [Typed { kind: "text", text: c.answer.clone() }],
        stop_reason: "end_turn",
        usage: AnthropicUsage { input_tokens: c.in_tokens, output_tokens: c.out_tokens },
    };
    Shape::new(
        "InvokeModel",
        "anthropic.claude-3-5-sonnet-20240620-v1:0".to_string(),
        Input::inline(c.in_tokens, Body::AnthropicIn(body_in), None),
        Some(Output::new(c.out_tokens, Body::AnthropicOut(body_out))),
    )
}

/// Embeddings: no output tokens.
fn embedding(rng: &mut Rng, c: &Common) -> Shape {
    let body_in = EmbedIn { input_text: c.prompt.clone(), dimensions: 256 };
    let embedding = (0..16).map(|_| fixed4(rng.below(20000) as f64 / 10000.0 - 1.0)).collect();
    let body_out = EmbedOut { embedding, input_text_token_count: c.in_tokens };
    Shape::new(
        "InvokeModel",
        "amazon.titan-embed-text-v2:0".to_string(),
        Input::inline(c.in_tokens, Body::EmbedIn(body_in), None),
        Some(Output::new(0, Body::EmbedOut(body_out))),
    )
}

/// InvokeModelWithResponseStream through a system-profile ARN: the body is the chunk array.
fn invoke_stream(rng: &mut Rng, c: &Common) -> Shape {
    let ir = ran_in(rng, c.source, c.geo_set);
    let first_byte = 300 + rng.below(900);
    let model = format!(
        "arn:aws:bedrock:{}:{ACCOUNT}:inference-profile/{}anthropic.claude-3-7-sonnet-20250219-v1:0",
        c.source, c.geo
    );
    let prompt = AnthropicContent::Parts([Typed { kind: "text", text: c.prompt.clone() }]);
    let body_in = AnthropicIn::new(2048, prompt);
    let usage = AnthropicUsage { input_tokens: c.in_tokens, output_tokens: 1 };
    let chunks = vec![
        Chunk::MessageStart { message: StartMessage { role: "assistant", usage: Some(usage) } },
        Chunk::ContentBlockDelta { index: 0, delta: TextDelta { kind: "text_delta", text: c.answer.clone() } },
        Chunk::MessageDelta {
            delta: StopDelta { stop_reason: "end_turn" },
            usage: OutputUsage { output_tokens: c.out_tokens },
        },
        Chunk::MessageStop { metrics: c.metrics(first_byte, None) },
    ];
    let input = Input::inline(c.in_tokens, Body::AnthropicIn(body_in), None);
    Shape::new("InvokeModelWithResponseStream", model, input, Some(Output::new(c.out_tokens, Body::Chunks(chunks))))
        .ran_in(Some(ir))
}

impl Common {
    fn metrics(&self, first_byte: u64, cache: Option<(u64, u64)>) -> InvocationMetrics {
        InvocationMetrics {
            input_token_count: self.in_tokens,
            output_token_count: self.out_tokens,
            invocation_latency: self.latency,
            first_byte_latency: first_byte,
            cache_read_input_token_count: cache.map(|c| c.0),
            cache_write_input_token_count: cache.map(|c| c.1),
        }
    }
}

/// Application profiles, streamed; cache tokens only in the stream metrics; some bodies in
/// sidecars. The call is made in the profile's own region.
fn app_profile(rng: &mut Rng, c: &Common) -> Shape {
    let (arn, home) = *rng.pick(&APP_PROFILES);
    let us = ["us-east-1", "us-east-2", "us-west-2"];
    let ir: Option<&'static str> = match arn {
        a if a == APP_PROFILES[1].0 => (!rng.chance(0.5)).then_some(home),
        a if a == APP_PROFILES[3].0 => (!rng.chance(0.5)).then(|| ran_in(rng, home, &us)),
        a if a == APP_PROFILES[2].0 => Some(ran_in(rng, home, &GLOBAL_REGIONS)),
        _ => Some(ran_in(rng, home, &us)),
    };
    let source: &'static str = SOURCES.iter().find(|s| **s == home).copied().unwrap_or("us-east-1");
    let cache_w = if rng.chance(0.4) { rng.below(30_000) } else { 0 };
    let cache_r = if cache_w == 0 { rng.below(20_000) } else { 0 };
    let first_byte = 500 + rng.below(2000);
    let chunks = vec![
        Chunk::MessageStart { message: StartMessage { role: "assistant", usage: None } },
        Chunk::MessageStop { metrics: c.metrics(first_byte, Some((cache_r, cache_w))) },
    ];
    let (input, sidecar) = if rng.chance(0.25) {
        let key = format!("{}_input.json.gz", c.request_id);
        let path = format!("s3://my-bedrock-logs/{}/data/{key}", hour_prefix(source, c.ts_ms));
        (Input::in_s3(c.in_tokens, path), Some(key))
    } else {
        (c.converse_in(None), None)
    };
    let output = Some(Output::new(c.out_tokens, Body::Chunks(chunks)));
    Shape {
        source: Some(source),
        sidecar,
        ..Shape::new("InvokeModelWithResponseStream", arn.to_string(), input, output).ran_in(ir)
    }
}

/// Guardrail intervention: no tokens, a short latency.
fn guardrail(rng: &mut Rng, c: &Common) -> Shape {
    let body = ConverseOut::new("guardrail_intervened", 150 + rng.below(200), 0, 0, "Sorry, I can't help with that.");
    Shape::new(
        "Converse",
        "anthropic.claude-3-haiku-20240307-v1:0".to_string(),
        Input::inline(0, Body::ConverseIn(ConverseIn::new(&c.prompt)), None),
        Some(Output::new(0, Body::ConverseOut(body))),
    )
}

/// A provisioned-throughput model: no price row; it runs in the region called.
fn provisioned(c: &Common) -> Shape {
    let model = format!("arn:aws:bedrock:{}:{ACCOUNT}:provisioned-model/pt0abc123", c.source);
    Shape::new("Converse", model, c.converse_in(None), c.converse_out("max_tokens"))
}

/// Failed calls: errorCode, no output, usually no token counts.
fn failed(rng: &mut Rng, c: &Common) -> Shape {
    let code = rng.pick(&[
        "ThrottlingException",
        "ModelTimeoutException",
        "ValidationException",
        "ServiceUnavailableException",
    ]);
    let ir = if rng.chance(0.3) { Some(ran_in(rng, c.source, c.geo_set)) } else { None };
    let base = rng.pick(&["anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0"]);
    let model = format!("{}{base}", c.geo);
    Shape { error_code: Some(*code), ..Shape::new("InvokeModel", model, Input::failed(), None).ran_in(ir) }
}

fn one_record(rng: &mut Rng, start_ms: i64, bodies: Bodies) -> Generated {
    let c = Common::draw(rng, start_ms, bodies);
    let shape = match c.shape {
        0..=14 => in_region(rng, &c),
        15..=34 => geo_profile(rng, &c),
        35..=46 => global_cached(rng, &c),
        47..=56 => converse_stream(rng, &c),
        57..=64 => anthropic_native(&c),
        65..=71 => embedding(rng, &c),
        72..=81 => invoke_stream(rng, &c),
        82..=89 => app_profile(rng, &c),
        90..=92 => guardrail(rng, &c),
        93..=94 => provisioned(&c),
        _ => failed(rng, &c),
    };
    let source = shape.source.unwrap_or(c.source);
    let timestamp = timestamp(c.ts_ms, rng.chance(0.3));
    let request_metadata = rng.chance(0.3).then(|| {
        let app = rng.pick(&["CustomerServiceApp", "SearchApp", "Indexer"]);
        Metadata { application_name: app, cost_center: format!("CC-{}", rng.below(9)) }
    });
    let record = Record {
        timestamp,
        account_id: ACCOUNT,
        region: source,
        request_id: &c.request_id,
        operation: shape.operation,
        model_id: &shape.model_id,
        error_code: shape.error_code,
        input: shape.input,
        output: shape.output,
        request_metadata,
        identity: c.identity,
        inference_region: shape.inference_region,
    };
    // Real logs vary key order: some writers put the schema first.
    let line = record.line(rng.chance(0.2));
    Generated { ts_ms: c.ts_ms, source, line, sidecar: shape.sidecar }
}

/// `AWSLogs/ACCOUNT/BedrockModelInvocationLogs/REGION/YYYY/MM/DD/HH`: the folder of the hour a
/// record is delivered in.
fn hour_prefix(source: &str, ms: i64) -> String {
    format!("AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{source}/{}", hour_folder(ms))
}

fn hour_folder(ms: i64) -> String {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).expect("in range");
    format!("{:04}/{:02}/{:02}/{:02}", t.year(), t.month(), t.day(), t.hour())
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
        true => recs
            .iter()
            .filter_map(|g| crate::record::parse_line(g.line.as_bytes()).ok())
            .map(|r| trail::Call::of(&r))
            .collect(),
    };
    let root = out.join("AWSLogs").join(ACCOUNT).join("BedrockModelInvocationLogs");
    fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    write_atomic(&root.join("amazon-bedrock-logs-permission-check"), b"")?;

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
        let dir = root.join(source).join(hour_folder(recs[j - 1].ts_ms));
        fs::create_dir_all(&dir)?;
        let mut lines: Vec<String> = Vec::with_capacity(j - i + 2);
        for g in &recs[i..j] {
            lines.push(g.line.clone());
            if let Some(key) = &g.sidecar {
                fs::create_dir_all(dir.join("data"))?;
                let body = SidecarBody { messages: [record::user([record::Text { text: words(&mut rng, 400) }])] };
                let body = serde_json::to_string(&body).expect("a body serialises") + "\n";
                write_atomic(&dir.join("data").join(key), &gzip_members(&[body.as_bytes()])?)?;
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
        write_atomic(&dir.join(name), &body)?;
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
        let mut rng = Rng::new(3);
        let mut ops = std::collections::BTreeSet::new();
        let mut ids = std::collections::HashSet::new();
        for _ in 0..2000 {
            let g = one_record(&mut rng, 1_762_646_400_000, Bodies::Short);
            let r = crate::record::parse_line(g.line.as_bytes()).unwrap_or_else(|e| panic!("{e}: {}", g.line));
            assert!(ids.insert(r.request_id.into_owned()), "request ids are unique");
            ops.insert(r.operation.into_owned());
        }
        assert_eq!(ops.len(), 4, "{ops:?}");
    }

    #[test]
    fn agent_bodies_are_large_and_parse() {
        let mut rng = Rng::new(4);
        let mut sizes: Vec<usize> = (0..1000)
            .map(|_| {
                let g = one_record(&mut rng, 1_762_646_400_000, Bodies::Agent);
                crate::record::parse_line(g.line.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
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
