use super::*;

#[test]
fn latency_table() {
    let cases = [
        ("Converse", Some(842), None, Some(842)),
        ("ConverseStream", Some(302), None, Some(302)),
        ("Converse", None, None, None),
        ("InvokeModel", Some(5), Some(6), None),
        ("InvokeModelWithResponseStream", None, Some(9876), Some(9876)),
        ("InvokeModelWithResponseStream", Some(1), None, None),
        ("ApplyGuardrail", Some(1), Some(2), None),
    ];
    for (op, converse, stream, want) in cases {
        assert_eq!(latency_for(op, converse, stream), want, "{op}");
    }
}

#[test]
fn timestamp_table() {
    let cases = [
        ("2025-10-02T08:14:31Z", Some(1_759_392_871_000)),
        ("2025-10-02T08:14:31.250Z", Some(1_759_392_871_250)),
        ("2025-10-02T08:14:31.250123Z", Some(1_759_392_871_250)),
        ("2025-10-02T10:14:31+02:00", Some(1_759_392_871_000)),
        ("2025-10-02 08:14:31", None),
        ("2025-10-02", None),
        ("", None),
    ];
    for (s, want) in cases {
        assert_eq!(parse_timestamp_ms(s), want, "{s}");
    }
}

/// A record of `operation` with `input` and `output` objects as given.
fn with(operation: &str, input: serde_json::Value, output: serde_json::Value) -> String {
    serde_json::json!({
        "timestamp": "2026-11-10T08:00:00Z", "requestId": "r", "region": "us-east-1",
        "operation": operation, "modelId": "m", "input": input, "output": output,
    })
    .to_string()
}

#[test]
fn max_tokens_table() {
    use serde_json::json;
    // (request body, most tokens read)
    let cases = [
        (json!({"messages": [], "inferenceConfig": {"maxTokens": 512}}), Some(512)),
        (json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 1024, "messages": []}), Some(1024)),
        (json!({"model": "openai.gpt-oss-120b-1:0", "max_completion_tokens": 300}), Some(300)),
        (json!({"input": "hi", "max_output_tokens": 64}), Some(64)),
        (json!({"inferenceConfig": {"max_new_tokens": 200}}), Some(200)),
        (json!({"inputText": "x", "textGenerationConfig": {"maxTokenCount": 4096}}), Some(4096)),
        (json!({"prompt": "x", "max_gen_len": 128}), Some(128)),
        // Several named: the first of MAX_TOKENS_PATHS, in whatever order written.
        (json!({"max_tokens": 7, "inferenceConfig": {"maxTokens": 9}}), Some(9)),
        // None named, or not where the parser looks (a message's text, a tool's schema).
        (json!({"messages": [{"role": "user", "content": [{"text": "\"max_tokens\": 5"}]}]}), None),
        (json!({"toolConfig": {"tools": [{"inputSchema": {"json": {"max_tokens": 3}}}]}}), None),
        (json!({"inferenceConfig": {"max_tokens": 3}}), None),
        // Hostile: absurd, a string, a fraction, negative, an object: no value, record kept.
        (json!({"max_tokens": 1_000_000_000_000_000u64}), None),
        (json!({"max_tokens": 1_000_000_001u64}), None),
        (json!({"max_tokens": 1_000_000_000u64}), Some(1_000_000_000)),
        (json!({"max_tokens": "1024"}), None),
        (json!({"max_tokens": 10.5}), None),
        (json!({"max_tokens": -1}), None),
        (json!({"inferenceConfig": {"maxTokens": {"value": 3}}}), None),
        (json!({"inferenceConfig": "fast", "max_tokens": 8}), Some(8)),
        (json!("a body that is text"), None),
        (json!([1, 2]), None),
    ];
    for (body, want) in cases {
        let line = with("Converse", json!({"inputBodyJson": body, "inputTokenCount": 1}), json!({}));
        let r = parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(r.max_tokens, want, "{body}");
    }
    // A number past u64 (a JSON float to serde) is no value either.
    let line = r#"{"timestamp":"2026-11-10T08:00:00Z","requestId":"r","region":"us-east-1","operation":"InvokeModel","modelId":"m","input":{"inputBodyJson":{"max_tokens":99999999999999999999999999}}}"#;
    assert_eq!(parse_line(line.as_bytes()).unwrap().max_tokens, None);
}

#[test]
fn openai_usage_table() {
    use serde_json::json;
    let usage = |u: serde_json::Value| json!({"outputBodyJson": {"id": "chatcmpl-1", "choices": [], "usage": u}});
    // (input, output) objects -> (input, output, cache read) tokens
    let cases = [
        // No counts logged: the usage's, cached tokens taken out of the prompt's.
        (
            json!({}),
            usage(
                json!({"prompt_tokens": 120, "completion_tokens": 30, "prompt_tokens_details": {"cached_tokens": 100}}),
            ),
            (20, 30, 100),
        ),
        (json!({}), usage(json!({"prompt_tokens": 12, "completion_tokens": 3})), (12, 3, 0)),
        // The log's own counts win, each where it has one.
        (json!({"inputTokenCount": 5}), usage(json!({"prompt_tokens": 120, "completion_tokens": 30})), (5, 30, 0)),
        (
            json!({"inputTokenCount": 5, "cacheReadInputTokenCount": 1}),
            {
                let mut o = usage(
                    json!({"prompt_tokens": 9, "completion_tokens": 30, "prompt_tokens_details": {"cached_tokens": 4}}),
                );
                o["outputTokenCount"] = json!(7);
                o
            },
            (5, 7, 1),
        ),
        // A stream: the last chunk with counts.
        (
            json!({}),
            json!({"outputBodyJson": [
                {"choices": [{"delta": {"content": "hi"}}]},
                {"choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 2}},
                {"choices": [], "usage": null}
            ]}),
            (40, 2, 0),
        ),
        // Hostile: more cached than prompt, strings, details that are no object.
        (
            json!({}),
            usage(json!({"prompt_tokens": 10, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 50}})),
            (0, 1, 50),
        ),
        (
            json!({}),
            usage(json!({"prompt_tokens": "10", "completion_tokens": 1, "prompt_tokens_details": [1]})),
            (0, 1, 0),
        ),
        // Anthropic's usage has no OpenAI counts.
        (json!({}), usage(json!({"input_tokens": 10, "output_tokens": 1})), (0, 0, 0)),
    ];
    for (input, output, want) in cases {
        let line = with("ChatCompletions", input.clone(), output.clone());
        let r = parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{output}: {e}"));
        assert_eq!((r.input_tokens, r.output_tokens, r.cache_read_tokens), want, "{input} {output}");
        assert_eq!(r.operation, "ChatCompletions");
    }
    // A count past the limit rejects the record, as a logged one does.
    let line = with("ChatCompletions", json!({}), usage(json!({"prompt_tokens": 2_000_000_000u64})));
    assert_eq!(parse_line(line.as_bytes()), Err(Reject::TooManyTokens("input.inputTokenCount")));
}

#[test]
fn converse_cache_details_table() {
    use serde_json::json;
    // (usage.cacheDetails, logged cache writes) -> (cache write, of which one hour)
    let cases = [
        (json!([{"inputTokens": 500, "ttl": "1h"}, {"inputTokens": 1500, "ttl": "5m"}]), Some(2_000), (2_000, 500)),
        (json!([{"inputTokens": 500, "ttl": "1h"}, {"inputTokens": 1500, "ttl": "5m"}]), None, (2_000, 500)),
        (json!([{"ttl": "5m", "inputTokens": 1500}]), None, (1_500, 0)),
        // The first entry of a lifetime; entries of other shapes skipped.
        (
            json!([7, {"inputTokens": "9", "ttl": "1h"}, {"inputTokens": 300, "ttl": "1h"}, {"inputTokens": 1, "ttl": "1h"}]),
            Some(1_000),
            (1_000, 300),
        ),
        (json!([{"inputTokens": 300, "ttl": 1}]), Some(1_000), (1_000, 0)),
        (json!([]), Some(1_000), (1_000, 0)),
        (json!("1h"), Some(1_000), (1_000, 0)),
        (json!({"inputTokens": 300, "ttl": "1h"}), Some(1_000), (1_000, 0)),
    ];
    for (details, logged, want) in cases {
        let mut input = json!({"inputTokenCount": 1});
        if let Some(n) = logged {
            input["cacheWriteInputTokenCount"] = json!(n);
        }
        let output =
            json!({"outputTokenCount": 1, "outputBodyJson": {"usage": {"inputTokens": 1, "cacheDetails": details}}});
        let line = with("Converse", input, output);
        let r = parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{details}: {e}"));
        assert_eq!((r.cache_write_tokens, r.cache_write_1h_tokens), want, "{details}");
    }
}
