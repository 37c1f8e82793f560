//! The JSON of the sample corpus, as serde structs: a ModelInvocationLog record, and each body
//! shape it carries (Converse, Anthropic's native messages, Titan embeddings, a stream's chunk
//! array). Field order is the order Bedrock writes, which is the order the structs declare.

use serde::Serialize;
use serde_json::value::RawValue;

const JSON: &str = "application/json";

/// A record's fields before its schema. Written after them or, as some writers do, before them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<'a> {
    pub timestamp: String,
    pub account_id: &'a str,
    pub region: &'a str,
    pub request_id: &'a str,
    pub operation: &'a str,
    pub model_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'a str>,
    pub input: Input,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Output>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_metadata: Option<Metadata<'a>>,
    pub identity: Identity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference_region: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SchemaLast<'a> {
    #[serde(flatten)]
    record: &'a Record<'a>,
    schema_type: &'static str,
    schema_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SchemaFirst<'a> {
    schema_type: &'static str,
    schema_version: &'static str,
    #[serde(flatten)]
    record: &'a Record<'a>,
}

impl Record<'_> {
    /// One line of JSON, the schema fields last (or first).
    pub fn line(&self, schema_first: bool) -> String {
        let (schema_type, schema_version) = ("ModelInvocationLog", "1.0");
        let json = if schema_first {
            serde_json::to_string(&SchemaFirst { schema_type, schema_version, record: self })
        } else {
            serde_json::to_string(&SchemaLast { record: self, schema_type, schema_version })
        };
        json.expect("a record serialises")
    }
}

#[derive(Serialize)]
pub struct Identity {
    pub arn: String,
}

#[derive(Serialize)]
pub struct Metadata<'a> {
    pub application_name: &'a str,
    pub cost_center: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    input_content_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_body_json: Option<Body>,
    #[serde(rename = "inputBodyS3Path", skip_serializing_if = "Option::is_none")]
    input_body_s3_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_token_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_read_input_token_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_write_input_token_count: Option<u64>,
}

impl Input {
    /// A body in the record, with its token count and, when the call could cache, the cache's.
    pub fn inline(tokens: u64, body: Body, cache: Option<(u64, u64)>) -> Input {
        Input {
            input_content_type: JSON,
            input_body_json: Some(body),
            input_body_s3_path: None,
            input_token_count: Some(tokens),
            cache_read_input_token_count: cache.map(|c| c.0),
            cache_write_input_token_count: cache.map(|c| c.1),
        }
    }

    /// A body too large for the record, in a sidecar object.
    pub fn in_s3(tokens: u64, path: String) -> Input {
        Input { input_body_s3_path: Some(path), input_token_count: Some(tokens), ..Input::failed() }
    }

    /// A failed call's input: its content type only.
    pub fn failed() -> Input {
        Input {
            input_content_type: JSON,
            input_body_json: None,
            input_body_s3_path: None,
            input_token_count: None,
            cache_read_input_token_count: None,
            cache_write_input_token_count: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    output_content_type: &'static str,
    output_body_json: Body,
    output_token_count: u64,
}

impl Output {
    pub fn new(tokens: u64, body: Body) -> Output {
        Output { output_content_type: JSON, output_body_json: body, output_token_count: tokens }
    }
}

/// A request or response body, in the shape its API writes.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Body {
    ConverseIn(ConverseIn),
    ConverseOut(ConverseOut),
    AnthropicIn(AnthropicIn),
    AnthropicOut(AnthropicOut),
    EmbedIn(EmbedIn),
    EmbedOut(EmbedOut),
    /// A streamed response: the chunks Bedrock logs, as one array.
    Chunks(Vec<Chunk>),
}

#[derive(Serialize)]
pub struct Text<T> {
    pub text: T,
}

#[derive(Serialize)]
pub struct UserMessage<C> {
    pub role: &'static str,
    pub content: C,
}

pub fn user<C>(content: C) -> UserMessage<C> {
    UserMessage { role: "user", content }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseIn {
    pub messages: [UserMessage<[Text<String>; 1]>; 1],
    pub inference_config: MaxTokens,
}

impl ConverseIn {
    pub fn new(prompt: &str) -> ConverseIn {
        ConverseIn {
            messages: [user([Text { text: prompt.to_string() }])],
            inference_config: MaxTokens { max_tokens: 1024 },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxTokens {
    pub max_tokens: u64,
}

#[derive(Serialize)]
pub struct AssistantMessage {
    pub message: Assistant,
}

#[derive(Serialize)]
pub struct Assistant {
    pub role: &'static str,
    pub content: [Text<String>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseOut {
    pub output: AssistantMessage,
    pub stop_reason: &'static str,
    pub metrics: Latency,
    pub usage: ConverseUsage,
}

impl ConverseOut {
    pub fn new(stop_reason: &'static str, latency_ms: u64, input: u64, output: u64, answer: &str) -> ConverseOut {
        ConverseOut {
            output: AssistantMessage {
                message: Assistant { role: "assistant", content: [Text { text: answer.to_string() }] },
            },
            stop_reason,
            metrics: Latency { latency_ms },
            usage: ConverseUsage { input_tokens: input, output_tokens: output, total_tokens: input + output },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    pub latency_ms: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}

/// Anthropic's native request: a prompt as one string, or as a list of typed parts.
#[derive(Serialize)]
pub struct AnthropicIn {
    pub anthropic_version: &'static str,
    pub max_tokens: u64,
    pub messages: [UserMessage<AnthropicContent>; 1],
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum AnthropicContent {
    Plain(String),
    Parts([Typed; 1]),
}

/// `{"type":"text","text":...}`.
#[derive(Serialize)]
pub struct Typed {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

impl AnthropicIn {
    pub fn new(max_tokens: u64, content: AnthropicContent) -> AnthropicIn {
        AnthropicIn { anthropic_version: "bedrock-2023-05-31", max_tokens, messages: [user(content)] }
    }
}

#[derive(Serialize)]
pub struct AnthropicOut {
    pub id: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub role: &'static str,
    pub content: [Typed; 1],
    pub stop_reason: &'static str,
    pub usage: AnthropicUsage,
}

#[derive(Serialize)]
pub struct AnthropicUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedIn {
    pub input_text: String,
    pub dimensions: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedOut {
    /// Each value with four decimals, as written (`0.5000`), which a float would not keep.
    pub embedding: Vec<Box<RawValue>>,
    pub input_text_token_count: u64,
}

/// A number written with exactly four decimals.
pub fn fixed4(v: f64) -> Box<RawValue> {
    RawValue::from_string(format!("{v:.4}")).expect("a number is JSON")
}

/// One chunk of a streamed Anthropic response.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Chunk {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockDelta {
        index: u64,
        delta: TextDelta,
    },
    MessageDelta {
        delta: StopDelta,
        usage: OutputUsage,
    },
    MessageStop {
        #[serde(rename = "amazon-bedrock-invocationMetrics")]
        metrics: InvocationMetrics,
    },
}

#[derive(Serialize)]
pub struct StartMessage {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<AnthropicUsage>,
}

#[derive(Serialize)]
pub struct TextDelta {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

#[derive(Serialize)]
pub struct StopDelta {
    pub stop_reason: &'static str,
}

#[derive(Serialize)]
pub struct OutputUsage {
    pub output_tokens: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationMetrics {
    pub input_token_count: u64,
    pub output_token_count: u64,
    pub invocation_latency: u64,
    pub first_byte_latency: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_input_token_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_input_token_count: Option<u64>,
}

/// A sidecar object's body: the request alone.
#[derive(Serialize)]
pub struct SidecarBody {
    pub messages: [UserMessage<[Text<String>; 1]>; 1],
}
