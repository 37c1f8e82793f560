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

use super::parse::{in_range, map_keys, parse_timestamp_ms, required, Reject, Text};
use super::{Record, RecordedBy};

/// The event source of Bedrock's API calls in CloudTrail.
pub const EVENT_SOURCE: &str = "bedrock.amazonaws.com";
/// The runtime calls that invoke a model: the operations of the invocation logs.
pub const RUNTIME_CALLS: [&str; 4] = ["InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream"];

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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Additional<'a> {
    #[serde(borrow)]
    inference_region: Option<Text<'a>>,
}

/// One event of a trail file as a Record when it is a Bedrock runtime call; `None` for another
/// service's event or a Bedrock event that invokes no model.
pub fn parse_event(event: &RawValue) -> Result<Option<Record<'_>>, Reject> {
    let text = event.get();
    let head: Head = serde_json::from_str(text).map_err(|_| match text.starts_with('{') {
        true => Reject::Invalid,
        false => Reject::NotObject,
    })?;
    let runtime = head.event_source.is_some_and(|s| s.0 == EVENT_SOURCE)
        && head.event_name.as_ref().is_some_and(|n| RUNTIME_CALLS.contains(&n.0.as_ref()));
    let Some(Text(operation)) = head.event_name.filter(|_| runtime) else {
        return Ok(None);
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawEvent =
        serde_path_to_error::deserialize(&mut de).map_err(|e| Reject::WrongType(map_keys(e.path()).join(".")))?;
    let timestamp = required(raw.event_time, "eventTime")?;
    let request_id = required(raw.request_id, "requestID")?;
    let region = required(raw.aws_region, "awsRegion")?;
    let model_id = required(raw.request_parameters.and_then(|p| p.model_id), "requestParameters.modelId")?;
    let timestamp_ms = parse_timestamp_ms(&timestamp).ok_or(Reject::BadTimestamp)?;
    let inference_region = raw.additional_event_data.and_then(|a| a.inference_region).map(|t| t.0);
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
        operation: Cow::Borrowed(RUNTIME_CALLS.into_iter().find(|c| *c == operation).unwrap_or_default()),
        model_id,
        inference_region,
        input_tokens: 0,
        output_tokens: 0,
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
