//! CloudTrail log files -> Records. A trail file is one JSON object, `{"Records": [...]}`, with
//! every service's events mixed in; only Bedrock's runtime calls become records. A runtime
//! call's event names the model, the source region (`awsRegion`), the caller and, for a
//! cross-region call, `additionalEventData.inferenceRegion`: the audit needs nothing more, and
//! no prompt is ever in it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::body::Lenient;
use super::parse::{in_range, map_keys, parse_timestamp_ms, required, Reject, StrOrSkip, Text};
use super::{Record, RecordedBy};

/// The event source of Bedrock's API calls in CloudTrail.
pub const EVENT_SOURCE: &str = "bedrock.amazonaws.com";
/// The runtime calls that invoke a model: the operations of the invocation logs.
pub const RUNTIME_CALLS: [&str; 4] = ["InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream"];
/// The event source of the bedrock-mantle endpoint (OpenAI- and Anthropic-compatible APIs), whose
/// calls are never in the invocation logs.
pub const MANTLE_SOURCE: &str = "bedrock-mantle.amazonaws.com";
/// A mantle call's operation is its event name after this prefix, so no view mistakes it for a
/// runtime call (and logging coverage does not judge it: mantle is never logged).
pub const MANTLE_OPERATION_PREFIX: &str = "bedrock-mantle:";
/// bedrock-mantle's management events (Bedrock User Guide, "Monitor bedrock-mantle API calls
/// using CloudTrail"): no model is invoked. Every other mantle event names an inference call;
/// those names are not published, so they are kept open: each is a call under its own name.
pub const MANTLE_MANAGEMENT: [&str; 17] = [
    "ListModels",
    "GetModel",
    "ListFineTuningJobs",
    "CreateFineTuningJob",
    "GetFineTuningJob",
    "CancelFineTuningJob",
    "ListProjects",
    "CreateProject",
    "GetProject",
    "UpdateProject",
    "ArchiveProject",
    "ListFiles",
    "CreateFile",
    "GetFile",
    "DeleteFile",
    "ListBatches",
    "GetBatch",
];

/// Which Bedrock call an event records, if any: a runtime call, or a mantle call.
fn call_of(source: &str, name: &str) -> Option<bool> {
    match source {
        EVENT_SOURCE => RUNTIME_CALLS.contains(&name).then_some(false),
        MANTLE_SOURCE => (!name.is_empty() && !MANTLE_MANAGEMENT.contains(&name)).then_some(true),
        _ => None,
    }
}

/// Whether a unit's text is a CloudTrail document: an object whose first key is `Records` (a
/// trail file) or `Events` (Event history as `aws cloudtrail lookup-events` prints it). A
/// ModelInvocationLog line never starts so.
pub fn is_document(text: &[u8]) -> bool {
    let rest = skip_space(text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text));
    match rest.strip_prefix(b"{") {
        Some(rest) => {
            let rest = skip_space(rest);
            rest.starts_with(b"\"Records\"") || rest.starts_with(b"\"Events\"")
        }
        None => false,
    }
}

fn skip_space(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(s.len());
    &s[start..]
}

/// How far a read of CloudTrail documents got.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Documents {
    /// Whole documents read.
    pub documents: u64,
    /// Events handed on, from every document.
    pub events: u64,
    /// Why reading stopped before the end (the events before it were handed on), or what a
    /// document lacked.
    pub damage: Option<String>,
    /// The reader itself failed (a gzip stream cut short): what it said.
    pub read_error: Option<String>,
}

/// Reads every CloudTrail document of `reader` in turn (one per file as CloudTrail writes them,
/// but also several back to back: lines of a file, members of a gzip), handing each event to
/// `each` with its document's index and its place in `Records`, as it is read: memory holds one
/// event, whatever the size of the document or the number of its events.
pub fn for_each_event(reader: impl std::io::Read, mut each: impl FnMut(u64, u64, &RawValue)) -> Documents {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut done = Documents::default();
    loop {
        let mut started = false;
        let mut events = 0u64;
        let documents = done.documents;
        let read = Document {
            each: &mut |n, raw: &RawValue| each(documents, n, raw),
            started: &mut started,
            events: &mut events,
        }
        .deserialize(&mut de);
        done.events += events;
        let at = move |what: &str| match documents {
            0 => what.to_string(),
            1 => format!("{what} (after the first document)"),
            n => format!("{what} (after {n} documents)"),
        };
        match read {
            Ok(true) => done.documents += 1,
            Ok(false) => {
                done.damage = Some(at("a JSON object with no `Records` array: not a CloudTrail log file"));
                done.documents += 1;
            }
            // Only white space after the last document: the end.
            Err(e) if e.is_eof() && !started => return done,
            Err(e) => {
                use serde_json::error::Category;
                let (slot, what) = match e.classify() {
                    Category::Io => (&mut done.read_error, e.to_string()),
                    Category::Eof => (&mut done.damage, "truncated JSON (the file ends inside a document)".to_string()),
                    Category::Data if started => (&mut done.damage, "`Records` is not an array of events".to_string()),
                    Category::Data => {
                        (&mut done.damage, "text after the document that is not another document".to_string())
                    }
                    Category::Syntax => {
                        (&mut done.damage, format!("not valid JSON at line {} column {} ({e})", e.line(), e.column()))
                    }
                };
                *slot = Some(at(&what));
                return done;
            }
        }
    }
}

struct Document<'f, 'v> {
    each: &'f mut dyn FnMut(u64, &RawValue),
    /// Whether the document's object was opened: an end of input before it is a clean end.
    started: &'v mut bool,
    events: &'v mut u64,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    /// Whether a `Records` array was found.
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail log file")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        *self.started = true;
        let mut found = false;
        while let Some(key) = map.next_key::<Text>()? {
            let wrapped = match key.0.as_ref() {
                "Records" => false,
                // LookupEvents' page: each event a JSON string in `CloudTrailEvent`.
                "Events" => true,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if found {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            map.next_value_seed(Events { each: &mut *self.each, events: &mut *self.events, wrapped })?;
            found = true;
        }
        Ok(found)
    }
}

struct Events<'f, 'v> {
    each: &'f mut dyn FnMut(u64, &RawValue),
    events: &'v mut u64,
    /// Each element is LookupEvents' wrapper (`EventTime` in the caller's offset, and the event
    /// itself as a JSON string in `CloudTrailEvent`), not the event.
    wrapped: bool,
}

/// LookupEvents' wrapper of one event: only the event's own text is read (its `eventTime` is in
/// UTC; the wrapper's `EventTime` is in whatever offset the CLI printed).
#[derive(Deserialize)]
struct Wrapper {
    #[serde(rename = "CloudTrailEvent")]
    event: Option<String>,
}

/// The event a wrapper holds; JSON `null` (rejected, located, as no event object) when it holds
/// none or its text is no JSON.
fn unwrap_event(wrapper: &RawValue) -> Box<RawValue> {
    let null = || RawValue::from_string("null".to_string()).expect("null is JSON");
    match serde_json::from_str::<Wrapper>(wrapper.get()) {
        Ok(Wrapper { event: Some(text) }) => RawValue::from_string(text).unwrap_or_else(|_| null()),
        _ => null(),
    }
}

impl<'de> DeserializeSeed<'de> for Events<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Events<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Owned: a reader's bytes are not there to borrow once the next event is read.
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            let raw = if self.wrapped { unwrap_event(&raw) } else { raw };
            (self.each)(*self.events, &raw);
            *self.events += 1;
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Just enough of an event to tell whether it is a runtime call: other services' events are
/// never judged on the shape of their other fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head<'a> {
    #[serde(borrow)]
    event_source: Option<Text<'a>>,
    #[serde(borrow)]
    event_name: Option<Text<'a>>,
}

/// When another service's event happened, when it says (to count only the window's).
pub fn event_time(event: &RawValue) -> Option<i64> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Time<'a> {
        #[serde(borrow)]
        event_time: Option<Text<'a>>,
    }
    let t: Time = serde_json::from_str(event.get()).ok()?;
    parse_timestamp_ms(&t.event_time?.0)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent<'a> {
    #[serde(borrow)]
    event_time: Option<Text<'a>>,
    #[serde(borrow)]
    aws_region: Option<Text<'a>>,
    #[serde(borrow, rename = "requestID")]
    request_id: Option<Text<'a>>,
    #[serde(borrow)]
    error_code: Option<Text<'a>>,
    #[serde(borrow)]
    recipient_account_id: Option<Text<'a>>,
    #[serde(borrow)]
    user_identity: Option<UserIdentity<'a>>,
    #[serde(borrow)]
    request_parameters: Option<Parameters<'a>>,
    #[serde(borrow)]
    additional_event_data: Option<Additional<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(borrow)]
    arn: Option<Text<'a>>,
    #[serde(borrow)]
    account_id: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parameters<'a> {
    #[serde(borrow)]
    model_id: Option<Text<'a>>,
    /// bedrock-mantle's model (an OpenAI-style request's `model`); any other value is none.
    #[serde(borrow)]
    model: Option<StrOrSkip<'a>>,
    /// bedrock-mantle writes the bearer-token flag here ("The requestParameters field of each
    /// event also contains callWithBearerToken", Bedrock user guide, logging-cloudtrail-mantle).
    call_with_bearer_token: Option<Lenient<bool>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Additional<'a> {
    #[serde(borrow)]
    inference_region: Option<Text<'a>>,
    /// The call's token counts, as events from real accounts carry them.
    input_tokens: Option<Count>,
    output_tokens: Option<Count>,
    /// `true` when the call came with a bearer token (a Bedrock API key); only JSON `true` is.
    call_with_bearer_token: Option<Lenient<bool>>,
}

/// Whether a flag is set: JSON `true` only (`false`, a string, an object are not).
fn set(flag: Option<Lenient<bool>>) -> bool {
    flag.is_some_and(|f| f.0 == Some(true))
}

/// A token count as CloudTrail writes it: a whole number, or its digits as a string. Anything
/// else (negative, fractional, another type) is no count, as Athena's `try_cast` reads it.
struct Count(Option<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CountVisitor)
    }
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = Count;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a token count")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
        Ok(Count((v <= i64::MAX as u64).then_some(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
        Ok(Count(u64::try_from(v).ok()))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Count, E> {
        Ok(Count(None))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Count, E> {
        let digits = !v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit());
        Ok(Count(digits.then(|| v.parse::<i64>().ok()).flatten().map(|n| n as u64)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Count, E> {
        Ok(Count(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Count, E> {
        Ok(Count(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Count(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Count(None))
    }
}

/// The CloudTrail fields of a call's token counts, as rejects name them.
pub const INPUT_TOKENS_FIELD: &str = "additionalEventData.inputTokens";
pub const OUTPUT_TOKENS_FIELD: &str = "additionalEventData.outputTokens";

/// One event of a trail file as a Record when it is a Bedrock runtime or bedrock-mantle call;
/// `None` for another service's event or a Bedrock event that invokes no model.
pub fn parse_event(event: &RawValue) -> Result<Option<Record<'_>>, Reject> {
    let text = event.get();
    let head: Head = serde_json::from_str(text).map_err(|_| match text.starts_with('{') {
        true => Reject::Invalid,
        false => Reject::NotObject,
    })?;
    let (Some(Text(source)), Some(Text(name))) = (head.event_source, head.event_name) else {
        return Ok(None);
    };
    let Some(mantle) = call_of(&source, &name) else {
        return Ok(None);
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawEvent =
        serde_path_to_error::deserialize(&mut de).map_err(|e| Reject::WrongType(map_keys(e.path()).join(".")))?;
    let timestamp = required(raw.event_time, "eventTime")?;
    let request_id = required(raw.request_id, "requestID")?;
    let region = required(raw.aws_region, "awsRegion")?;
    let (model_id, model, bearer_in_parameters) = match raw.request_parameters {
        Some(p) => (p.model_id, p.model.and_then(|m| m.0), set(p.call_with_bearer_token)),
        None => (None, None, false),
    };
    let model_id = match mantle {
        false => required(model_id, "requestParameters.modelId")?,
        true => required(model.map(Text), "requestParameters.model")?,
    };
    let timestamp_ms = parse_timestamp_ms(&timestamp).ok_or(Reject::BadTimestamp)?;
    let (inference_region, input, output, bearer_token) = match raw.additional_event_data {
        Some(a) => (
            a.inference_region.map(|t| t.0),
            a.input_tokens.and_then(|c| c.0),
            a.output_tokens.and_then(|c| c.0),
            set(a.call_with_bearer_token),
        ),
        None => (None, None, None, false),
    };
    for (count, field) in [(input, INPUT_TOKENS_FIELD), (output, OUTPUT_TOKENS_FIELD)] {
        if count.is_some_and(|c| c > super::parse::MAX_TOKENS) {
            return Err(Reject::TooManyTokens(field));
        }
    }
    let operation = match mantle {
        false => Cow::Borrowed(RUNTIME_CALLS.into_iter().find(|c| *c == name).unwrap_or_default()),
        true => Cow::Owned(format!("{MANTLE_OPERATION_PREFIX}{name}")),
    };
    let (arn, identity_account) = match raw.user_identity {
        Some(u) => (u.arn.map(|t| t.0), u.account_id.map(|t| t.0)),
        None => (None, None),
    };
    let record = Record {
        timestamp_ms,
        request_id,
        account_id: raw.recipient_account_id.map(|t| t.0).or(identity_account).filter(|a| !a.is_empty()),
        identity_arn: arn.filter(|a| !a.is_empty()),
        source_region: region,
        operation,
        model_id,
        inference_region,
        input_tokens: input.unwrap_or(0),
        output_tokens: output.unwrap_or(0),
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cache_write_1h_tokens: 0,
        service_tier: super::ServiceTier::Standard,
        latency_ms: None,
        first_byte_ms: None,
        error_code: raw.error_code.map(|t| t.0).filter(|s| !s.is_empty()),
        stop_reason: None,
        request_metadata: Cow::Borrowed("{}"),
        body_in_s3: false,
        recorded_by: RecordedBy::CloudTrail,
        max_tokens: None,
        bearer_token: bearer_token || bearer_in_parameters,
    };
    in_range(&record)?;
    Ok(Some(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Route;

    fn event(fields: &str) -> String {
        format!(r#"{{"eventVersion":"1.09","eventSource":"bedrock.amazonaws.com","eventName":"Converse",{fields}}}"#)
    }

    const CALL: &str = r#""eventTime":"2026-03-02T08:14:31Z","awsRegion":"eu-west-1","requestID":"r-1","recipientAccountId":"111122223333","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/App/s1","accountId":"111122223333"},"requestParameters":{"modelId":"eu.anthropic.claude-3-haiku-20240307-v1:0"},"additionalEventData":{"inferenceRegion":"eu-central-1"}"#;

    /// Request id, model, route and where the call ran.
    type Call = (String, String, Route, Option<String>);

    fn parsed(text: &str) -> Result<Option<Call>, Reject> {
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        // Resolved as a report resolves it, without a profiles file.
        let none = Default::default();
        Ok(parse_event(raw)?.map(|r| {
            let x = crate::resolve::resolve(&r.source_region, &r.model_id, r.inference_region.as_deref(), &none);
            (r.request_id.to_string(), x.model.to_string(), x.route, x.ran_in.map(|s| s.to_string()))
        }))
    }

    #[test]
    fn documents_are_told_from_log_lines() {
        let cases: &[(&[u8], bool)] = &[
            (b"{\"Records\":[]}", true),
            (b"{\"Events\":[], \"NextToken\": \"x\"}", true),
            (b"  \n{ \"Records\" : [", true),
            (b"\xEF\xBB\xBF{\"Records\":[]}", true),
            (b"{\"schemaType\":\"ModelInvocationLog\"}", false),
            (b"{\"timestamp\":\"x\",\"Records\":[]}", false),
            (b"[{\"Records\":[]}]", false),
            (b"", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_document(text), *want, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn event_table() {
        let eu = |ir: Option<&str>| {
            Some((
                "r-1".to_string(),
                "anthropic.claude-3-haiku-20240307-v1:0".to_string(),
                if ir == Some("eu-west-1") { Route::Local } else { Route::Rerouted },
                ir.map(str::to_string),
            ))
        };
        let cases: Vec<(String, Result<Option<Call>, Reject>)> = vec![
            (event(CALL), Ok(eu(Some("eu-central-1")))),
            (event(&CALL.replace("eu-central-1", "eu-west-1")), Ok(eu(Some("eu-west-1")))),
            // A geographic profile without inferenceRegion is never guessed.
            (
                event(&CALL.replace(r#","additionalEventData":{"inferenceRegion":"eu-central-1"}"#, "")),
                Ok(Some((
                    "r-1".to_string(),
                    "anthropic.claude-3-haiku-20240307-v1:0".to_string(),
                    Route::Unknown,
                    None,
                ))),
            ),
            // A foundation model without one ran where it was called.
            (
                event(&CALL.replace("eu.anthropic", "anthropic").replace(r#","additionalEventData":{"inferenceRegion":"eu-central-1"}"#, "")),
                Ok(eu(Some("eu-west-1"))),
            ),
            (event(CALL).replace("\"Converse\"", "\"ListFoundationModels\""), Ok(None)),
            (
                r#"{"eventSource":"bedrock.amazonaws.com","eventName":"ListFoundationModels","requestParameters":[1,2]}"#.to_string(),
                Ok(None),
            ),
            (r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{"modelId":7}}"#.to_string(), Ok(None)),
            (event(&CALL.replace("\"requestID\":\"r-1\",", "")), Err(Reject::MissingField("requestID"))),
            (event(&CALL.replace("\"eventTime\":\"2026-03-02T08:14:31Z\",", "")), Err(Reject::MissingField("eventTime"))),
            (
                event(&CALL.replace(r#""modelId":"eu.anthropic.claude-3-haiku-20240307-v1:0""#, r#""other":1"#)),
                Err(Reject::MissingField("requestParameters.modelId")),
            ),
            (event(&CALL.replace("2026-03-02T08:14:31Z", "yesterday")), Err(Reject::BadTimestamp)),
            (
                event(&CALL.replace(r#""eu.anthropic.claude-3-haiku-20240307-v1:0""#, "42")),
                Err(Reject::WrongType("requestParameters.modelId".to_string())),
            ),
            ("[1]".to_string(), Err(Reject::NotObject)),
        ];
        for (text, want) in cases {
            assert_eq!(parsed(&text), want, "{text}");
        }
    }

    /// The bearer-token flag: `additionalEventData.callWithBearerToken` (bedrock-runtime) or
    /// `requestParameters.callWithBearerToken` (bedrock-mantle), JSON `true` only.
    #[test]
    fn bearer_token_flag_table() {
        let runtime = |extra: &str| {
            format!(
                r#"{{"eventSource":"bedrock.amazonaws.com","eventName":"Converse","eventTime":"2026-03-02T08:14:31Z","awsRegion":"us-east-1","requestID":"r","requestParameters":{{"modelId":"m"}},"additionalEventData":{extra}}}"#
            )
        };
        let mantle = |params: &str| {
            format!(
                r#"{{"eventSource":"bedrock-mantle.amazonaws.com","eventName":"CreateInference","eventTime":"2026-03-02T08:14:31Z","awsRegion":"us-east-1","requestID":"m","requestParameters":{params}}}"#
            )
        };
        let cases = [
            (runtime(r#"{"callWithBearerToken":true}"#), true),
            (runtime(r#"{"callWithBearerToken":false}"#), false),
            (runtime(r#"{"callWithBearerToken":"true"}"#), false),
            (runtime(r#"{"callWithBearerToken":1}"#), false),
            (runtime(r#"{"callWithBearerToken":{"a":[true]}}"#), false),
            (runtime(r#"{"inferenceRegion":"us-east-1"}"#), false),
            (mantle(r#"{"model":"x","callWithBearerToken":true,"bearerTokenType":"SHORT_TERM"}"#), true),
            (mantle(r#"{"model":"x","callWithBearerToken":null}"#), false),
        ];
        for (text, want) in cases {
            let raw: &RawValue = serde_json::from_str(&text).unwrap();
            let r = parse_event(raw).unwrap().unwrap();
            assert_eq!(r.bearer_token, want, "{text}");
        }
    }

    /// bedrock-mantle's calls (any event name but its management ones: the inference names are not
    /// published) and the token counts real events carry in `additionalEventData`.
    #[test]
    fn mantle_calls_and_token_counts() {
        let mantle = |name: &str, params: &str| {
            format!(
                r#"{{"eventSource":"bedrock-mantle.amazonaws.com","eventName":"{name}","eventTime":"2026-03-02T08:14:31Z","awsRegion":"us-east-1","requestID":"m-1","requestParameters":{params},"additionalEventData":{{"inputTokens":120,"outputTokens":"30"}}}}"#
            )
        };
        let read = |text: &str| {
            let raw: &RawValue = serde_json::from_str(text).unwrap();
            parse_event(raw)
                .map(|r| r.map(|r| (r.operation.to_string(), r.model_id.to_string(), r.input_tokens, r.output_tokens)))
        };
        let call = |op: &str, model: &str, i, o| Ok(Some((op.to_string(), model.to_string(), i, o)));
        let with_bearer =
            r#"{"model":"openai.gpt-oss-120b","callWithBearerToken":true,"bearerTokenType":"short-term"}"#;
        /// Operation, model id, input and output tokens.
        type Read = Result<Option<(String, String, u64, u64)>, Reject>;
        let cases: Vec<(String, Read)> = vec![
            (
                mantle("CreateInference", with_bearer),
                call("bedrock-mantle:CreateInference", "openai.gpt-oss-120b", 120, 30),
            ),
            // An inference name mila has never seen is still a call, under its own name.
            (
                mantle("CreateResponse", with_bearer),
                call("bedrock-mantle:CreateResponse", "openai.gpt-oss-120b", 120, 30),
            ),
            (mantle("ListModels", "{}"), Ok(None)),
            (mantle("CreateProject", r#"{"name":"p"}"#), Ok(None)),
            (mantle("CreateInference", r#"{"model":7}"#), Err(Reject::MissingField("requestParameters.model"))),
            (mantle("CreateInference", "{}"), Err(Reject::MissingField("requestParameters.model"))),
            // Runtime events: counts as numbers or digit strings; anything else is no count.
            (
                event(&CALL.replace(
                    r#""inferenceRegion":"eu-central-1""#,
                    r#""inferenceRegion":"eu-central-1","inputTokens":"12","outputTokens":5"#,
                )),
                call("Converse", "eu.anthropic.claude-3-haiku-20240307-v1:0", 12, 5),
            ),
            (
                event(&CALL.replace(
                    r#""inferenceRegion":"eu-central-1""#,
                    r#""inferenceRegion":"eu-central-1","inputTokens":-3,"outputTokens":1.5"#,
                )),
                call("Converse", "eu.anthropic.claude-3-haiku-20240307-v1:0", 0, 0),
            ),
            (
                event(&CALL.replace(
                    r#""inferenceRegion":"eu-central-1""#,
                    r#""inferenceRegion":"eu-central-1","inputTokens":{"a":1},"outputTokens":"1e3""#,
                )),
                call("Converse", "eu.anthropic.claude-3-haiku-20240307-v1:0", 0, 0),
            ),
            (
                event(&CALL.replace(
                    r#""inferenceRegion":"eu-central-1""#,
                    r#""inferenceRegion":"eu-central-1","inputTokens":1000000001"#,
                )),
                Err(Reject::TooManyTokens(INPUT_TOKENS_FIELD)),
            ),
            (
                event(&CALL.replace(
                    r#""inferenceRegion":"eu-central-1""#,
                    r#""inferenceRegion":"eu-central-1","outputTokens":"99999999999999999999""#,
                )),
                call("Converse", "eu.anthropic.claude-3-haiku-20240307-v1:0", 0, 0),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(read(&text), want, "{text}");
        }
    }

    /// `aws cloudtrail lookup-events` prints `{"Events": [...]}`, each event a JSON string in
    /// `CloudTrailEvent` beside an `EventTime` in the local offset (CloudTrail API Reference,
    /// LookupEvents: `Events`, `Event.CloudTrailEvent`, `Event.EventTime`).
    #[test]
    fn event_history_pages_are_read_as_their_events() {
        let inner = event(CALL);
        let wrapped = |text: &str| {
            serde_json::json!({"EventId": "e", "EventName": "Converse", "EventTime": "2026-03-02T09:14:31+01:00",
                "EventSource": "bedrock.amazonaws.com", "CloudTrailEvent": text})
        };
        let page = serde_json::json!({
            "Events": [wrapped(&inner), wrapped("not json"), {"EventId": "no event"}],
            "NextToken": "t",
        })
        .to_string();
        assert!(is_document(page.as_bytes()));
        let mut got = Vec::new();
        let done = for_each_event(page.as_bytes(), |_, _, raw| {
            got.push(parse_event(raw).map(|r| r.map(|r| (r.request_id.to_string(), r.timestamp_ms))))
        });
        assert_eq!((done.events, done.documents, done.damage), (3, 1, None));
        // The event's own eventTime (UTC), not the wrapper's local one; what holds no event is
        // rejected, not dropped.
        let at = parse_timestamp_ms("2026-03-02T08:14:31Z");
        assert_eq!(
            got,
            vec![Ok(Some(("r-1".to_string(), at.unwrap()))), Err(Reject::NotObject), Err(Reject::NotObject)]
        );
    }

    #[test]
    fn a_damaged_document_keeps_the_events_before_the_damage() {
        let one = event(CALL);
        let cases: Vec<(String, u64, u64, Option<&str>)> = vec![
            (format!(r#"{{"Records":[{one},{one}]}}"#), 2, 1, None),
            (format!(r#"{{"Records":[{one},{one}"#), 2, 0, Some("truncated JSON")),
            (format!(r#"{{"Records":[{one},{{"eventTime":]}}"#), 1, 0, Some("not valid JSON at line 1")),
            (r#"{"Records":{"a":1}}"#.to_string(), 0, 0, Some("`Records` is not an array")),
            (r#"{"Records":null}"#.to_string(), 0, 1, None),
            (r#"{"other":[]}"#.to_string(), 0, 1, Some("a JSON object with no `Records` array")),
            (format!(r#"{{"Records":[{one}]}} trailing"#), 1, 1, Some("not valid JSON at line 1 column")),
            (format!(r#"{{"Records":[{one}]}} [1]"#), 1, 1, Some("text after the document that is not another")),
            // Several documents back to back: lines of one file, members of one gzip.
            (format!("{{\"Records\":[{one}]}}\n{{\"Records\":[{one},{one}]}}\n"), 3, 2, None),
            (format!("{{\"Records\":[{one}]}}{{\"Records\":[{one}]}}"), 2, 2, None),
            ("\n\n  {\"Records\":[]}\n\n".to_string(), 0, 1, None),
            ("[".repeat(200) + &"]".repeat(200), 0, 0, Some("text after the document")),
            // Deep nesting is skipped over as the event's raw text, not recursed into; the event is
            // then rejected by `parse_event` as no object.
            (format!(r#"{{"Records":[{}]}}"#, "[".repeat(200) + &"]".repeat(200)), 1, 1, None),
        ];
        for (doc, n, docs, damage) in cases {
            let mut seen = Vec::new();
            let got = for_each_event(doc.as_bytes(), |d, i, raw| seen.push((d, i, raw.get().len())));
            assert_eq!((got.events, got.documents), (n, docs), "{doc}");
            assert_eq!(seen.len() as u64, n);
            match (damage, &got.damage) {
                (None, None) => {}
                (Some(want), Some(got)) => assert!(got.starts_with(want), "{got} for {doc}"),
                (want, got) => panic!("{want:?} vs {got:?} for {doc}"),
            }
        }
        // Events are numbered within their document.
        let mut seen = Vec::new();
        for_each_event(format!("{{\"Records\":[{one}]}}{{\"Records\":[{one},{one}]}}").as_bytes(), |d, i, _| {
            seen.push((d, i))
        });
        assert_eq!(seen, vec![(0, 0), (1, 0), (1, 1)]);
    }
}
