//! A batch inference job's own record of itself: `manifest.json.out` in the job's output folder
//! (Bedrock User Guide, "View the results of a batch inference job": `totalRecordCount`,
//! `processedRecordCount`, `successRecordCount`, `errorRecordCount`, `inputTokenCount`,
//! `outputTokenCount`). Pure; `source::batch` finds the files. The job's `*.jsonl.out` records
//! hold prompts and completions and are never read.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::body::{Lenient, Whole};

/// The largest count a manifest may give: a job holds at most some millions of records of at most
/// some millions of tokens each. Past it a count is damage, not usage.
pub const MAX_COUNT: u64 = 1_000_000_000_000_000;

/// The largest manifest read: a few hundred bytes in practice.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// The manifest's name in a job's output folder.
pub const MANIFEST: &str = "manifest.json.out";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Manifest {
    pub total: u64,
    pub processed: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// The manifest's counts, or why it is not one (every field is required: a count left out is not
/// a zero).
pub fn manifest(bytes: &[u8]) -> Result<Manifest, String> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(format!("larger than {MAX_MANIFEST_BYTES} bytes"));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let count = |field: &str| -> Result<u64, String> {
        match &v[field] {
            Value::Null => Err(format!("no `{field}`")),
            Value::Number(n) => {
                n.as_u64().filter(|c| *c <= MAX_COUNT).ok_or_else(|| format!("`{field}` is {n}, not a count"))
            }
            other => Err(format!("`{field}` is {other}, not a count")),
        }
    };
    let m = Manifest {
        total: count("totalRecordCount")?,
        processed: count("processedRecordCount")?,
        succeeded: count("successRecordCount")?,
        failed: count("errorRecordCount")?,
        input_tokens: count("inputTokenCount")?,
        output_tokens: count("outputTokenCount")?,
    };
    if m.succeeded.saturating_add(m.failed) > m.processed || m.processed > m.total {
        return Err(format!(
            "counts that do not add up: {} succeeded and {} failed of {} processed of {}",
            m.succeeded, m.failed, m.processed, m.total
        ));
    }
    Ok(m)
}

/// What a job's output records count, read from its `*.jsonl.out` files when it wrote no
/// manifest (a job stopped, expired or failed part way is billed for what it processed). Each
/// line is `{recordId, modelInput, modelOutput | error}`: only `modelOutput`'s token counts are
/// read; `modelInput` and the completion are skipped by the parser, never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordCounts {
    pub succeeded: u64,
    pub failed: u64,
    /// Lines that are no output record (not JSON, neither `modelOutput` nor `error`).
    pub rejected: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

/// One output record's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its counts: input, output, cache read, cache write.
    Succeeded([u64; 4]),
    Failed,
    Rejected,
}

/// The counts a model's response body gives, by provider: Anthropic's and OpenAI's `usage`
/// (`input_tokens`, `output_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens`;
/// `prompt_tokens`, `completion_tokens`), Converse's and Nova's (`inputTokens`, `outputTokens`,
/// `cacheReadInputTokens`, `cacheWriteInputTokens`), Titan's `inputTextTokenCount` and
/// `results[].tokenCount`, Llama's `prompt_token_count` and `generation_token_count`.
#[derive(Deserialize, Default)]
struct Response {
    usage: Option<Lenient<Usage>>,
    #[serde(rename = "inputTextTokenCount")]
    titan_input: Option<Whole>,
    results: Option<Lenient<Vec<TitanResult>>>,
    prompt_token_count: Option<Whole>,
    generation_token_count: Option<Whole>,
}

#[derive(Deserialize, Default)]
struct Usage {
    input_tokens: Option<Whole>,
    output_tokens: Option<Whole>,
    cache_read_input_tokens: Option<Whole>,
    cache_creation_input_tokens: Option<Whole>,
    prompt_tokens: Option<Whole>,
    completion_tokens: Option<Whole>,
    #[serde(rename = "inputTokens")]
    converse_input: Option<Whole>,
    #[serde(rename = "outputTokens")]
    converse_output: Option<Whole>,
    #[serde(rename = "cacheReadInputTokens")]
    converse_cache_read: Option<Whole>,
    #[serde(rename = "cacheWriteInputTokens")]
    converse_cache_write: Option<Whole>,
}

#[derive(Deserialize)]
struct TitanResult {
    #[serde(rename = "tokenCount")]
    token_count: Option<Whole>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "modelOutput", borrow)]
    model_output: Option<&'a serde_json::value::RawValue>,
    error: Option<IgnoredAny>,
}

/// Reads one line of a `*.jsonl.out` file. A count past `record::parse::MAX_TOKENS` is none (a
/// record's counts are bounded as a log record's are).
pub fn output_line(line: &[u8]) -> Outcome {
    let Ok(l) = serde_json::from_slice::<Line>(line) else { return Outcome::Rejected };
    let model_output = l.model_output.filter(|raw| raw.get() != "null");
    match (model_output, l.error) {
        (Some(raw), _) => {
            let r: Response = serde_json::from_str(raw.get()).unwrap_or_default();
            let n = |w: &Option<Whole>| w.as_ref().and_then(|w| w.0).filter(|v| *v <= super::parse::MAX_TOKENS);
            let u = r.usage.and_then(|u| u.0).unwrap_or_default();
            let titan_output = r.results.and_then(|r| r.0).map(|rs| rs.iter().filter_map(|x| n(&x.token_count)).sum());
            let input = n(&u.input_tokens).or(n(&u.converse_input)).or(n(&u.prompt_tokens)).or(n(&r.titan_input));
            let output = n(&u.output_tokens)
                .or(n(&u.converse_output))
                .or(n(&u.completion_tokens))
                .or(titan_output)
                .or(n(&r.generation_token_count));
            let input = input.or(n(&r.prompt_token_count));
            let cache_read = n(&u.cache_read_input_tokens).or(n(&u.converse_cache_read));
            let cache_write = n(&u.cache_creation_input_tokens).or(n(&u.converse_cache_write));
            Outcome::Succeeded([input, output, cache_read, cache_write].map(|v| v.unwrap_or(0)))
        }
        (None, Some(_)) => Outcome::Failed,
        (None, None) => Outcome::Rejected,
    }
}

/// The longest output record read: a record past it (a huge prompt echoed back) is counted
/// rejected and skipped to its newline, so memory holds one record at most.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// A `*.jsonl.out` file's records as its bytes arrive, in chunks of any size.
#[derive(Default)]
pub struct Lines {
    pub counts: RecordCounts,
    partial: Vec<u8>,
    skipping: bool,
}

impl Lines {
    pub fn feed(&mut self, mut chunk: &[u8]) {
        while let Some(at) = chunk.iter().position(|b| *b == b'\n') {
            self.take(&chunk[..at]);
            self.end_line();
            chunk = &chunk[at + 1..];
        }
        self.take(chunk);
    }

    /// The counts, with a last line that had no newline.
    pub fn finish(mut self) -> RecordCounts {
        self.end_line();
        self.counts
    }

    fn take(&mut self, part: &[u8]) {
        if self.skipping {
            return;
        }
        if self.partial.len() + part.len() > MAX_RECORD_BYTES {
            self.counts.rejected += 1;
            self.skipping = true;
            self.partial = Vec::new();
            return;
        }
        self.partial.extend_from_slice(part);
    }

    fn end_line(&mut self) {
        let line = std::mem::take(&mut self.partial);
        let skipped = std::mem::replace(&mut self.skipping, false);
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if !skipped && !line.iter().all(u8::is_ascii_whitespace) {
            self.counts.add(output_line(line));
        }
    }
}

impl RecordCounts {
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Succeeded([i, o, r, w]) => {
                self.succeeded += 1;
                self.input_tokens = self.input_tokens.saturating_add(i);
                self.output_tokens = self.output_tokens.saturating_add(o);
                self.cache_read_tokens = self.cache_read_tokens.saturating_add(r);
                self.cache_write_tokens = self.cache_write_tokens.saturating_add(w);
            }
            Outcome::Failed => self.failed += 1,
            Outcome::Rejected => self.rejected += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_read_as_tables_of_cases() {
        let ok = r#"{"totalRecordCount": 1000, "processedRecordCount": 990, "successRecordCount": 980,
            "errorRecordCount": 10, "inputTokenCount": 1500000, "outputTokenCount": 300000}"#;
        assert_eq!(
            manifest(ok.as_bytes()),
            Ok(Manifest {
                total: 1000,
                processed: 990,
                succeeded: 980,
                failed: 10,
                input_tokens: 1_500_000,
                output_tokens: 300_000
            })
        );
        let with = |field: &str, value: &str| {
            let mut v: Value = serde_json::from_str(ok).unwrap();
            match value {
                "absent" => {
                    v.as_object_mut().unwrap().remove(field);
                }
                _ => v[field] = serde_json::from_str(value).unwrap(),
            }
            manifest(v.to_string().as_bytes())
        };
        let cases = [
            ("inputTokenCount", "absent", "no `inputTokenCount`"),
            ("inputTokenCount", "\"12\"", "`inputTokenCount` is \"12\", not a count"),
            ("inputTokenCount", "-1", "`inputTokenCount` is -1, not a count"),
            ("inputTokenCount", "1.5", "`inputTokenCount` is 1.5, not a count"),
            ("outputTokenCount", "1e300", "`outputTokenCount` is 1e+300, not a count"),
            ("outputTokenCount", "1000000000000000001", "`outputTokenCount` is 1000000000000000001, not a count"),
            (
                "successRecordCount",
                "991",
                "counts that do not add up: 991 succeeded and 10 failed of 990 processed of 1000",
            ),
            (
                "processedRecordCount",
                "1001",
                "counts that do not add up: 980 succeeded and 10 failed of 1001 processed of 1000",
            ),
        ];
        for (field, value, want) in cases {
            assert_eq!(with(field, value), Err(want.to_string()), "{field} = {value}");
        }
        assert_eq!(manifest(b"[1]"), Err("not a JSON object".into()));
        assert!(manifest(b"{\"totalRecordCount\": 1").unwrap_err().starts_with("not JSON"));
        assert_eq!(manifest(&vec![b' '; MAX_MANIFEST_BYTES + 1]), Err("larger than 65536 bytes".into()));
    }

    #[test]
    fn output_records_read_as_tables_of_cases() {
        use Outcome::*;
        let cases: [(&str, Outcome); 12] = [
            // Anthropic's body, the prompt and completion skipped.
            (
                r#"{"recordId":"1","modelInput":{"messages":[{"role":"user","content":"SECRET"}]},"modelOutput":{"content":[{"type":"text","text":"x"}],"usage":{"input_tokens":100,"output_tokens":20,"cache_read_input_tokens":5,"cache_creation_input_tokens":7}}}"#,
                Succeeded([100, 20, 5, 7]),
            ),
            // Converse and Nova.
            (
                r#"{"recordId":"2","modelInput":{},"modelOutput":{"output":{"message":{}},"usage":{"inputTokens":30,"outputTokens":4,"cacheReadInputTokens":2,"cacheWriteInputTokens":1}}}"#,
                Succeeded([30, 4, 2, 1]),
            ),
            // OpenAI.
            (
                r#"{"recordId":"3","modelOutput":{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3}}}"#,
                Succeeded([9, 3, 0, 0]),
            ),
            // Titan, as the User Guide's example.
            (
                r#"{"recordId":"4","modelInput":{"inputText":"Roses are red"},"modelOutput":{"inputTextTokenCount":8,"results":[{"tokenCount":3,"outputText":"blue","completionReason":"FINISH"}]}}"#,
                Succeeded([8, 3, 0, 0]),
            ),
            // Llama.
            (
                r#"{"recordId":"5","modelOutput":{"generation":"x","prompt_token_count":11,"generation_token_count":6}}"#,
                Succeeded([11, 6, 0, 0]),
            ),
            // An error record.
            (
                r#"{"recordId":"6","modelInput":{"inputText":"Hello world"},"error":{"errorCode":400,"errorMessage":"bad request"}}"#,
                Failed,
            ),
            // Counts that are no counts: none.
            (
                r#"{"recordId":"7","modelOutput":{"usage":{"input_tokens":"100","output_tokens":-1}}}"#,
                Succeeded([0, 0, 0, 0]),
            ),
            (r#"{"recordId":"8","modelOutput":{"usage":{"input_tokens":10000000000000}}}"#, Succeeded([0, 0, 0, 0])),
            (r#"{"recordId":"9","modelOutput":{"usage":"none"}}"#, Succeeded([0, 0, 0, 0])),
            (r#"{"recordId":"10","modelOutput":null}"#, Rejected),
            (r#"{"recordId":"11"}"#, Rejected),
            (r#"{"recordId":"12","modelOutput":{"usage":{"input_tokens":1}"#, Rejected),
        ];
        for (line, want) in cases {
            assert_eq!(output_line(line.as_bytes()), want, "{line}");
        }
    }

    #[test]
    fn lines_are_counted_whatever_the_chunks() {
        let ok = r#"{"recordId":"1","modelOutput":{"usage":{"input_tokens":10,"output_tokens":2}}}"#;
        let failed = r#"{"recordId":"2","error":{"errorCode":400}}"#;
        let text = format!("{ok}\r\n\n{failed}\nnot json\n{ok}");
        let want = RecordCounts {
            succeeded: 2,
            failed: 1,
            rejected: 1,
            input_tokens: 20,
            output_tokens: 4,
            ..Default::default()
        };
        for size in [1, 2, 7, 64, text.len()] {
            let mut lines = Lines::default();
            for chunk in text.as_bytes().chunks(size) {
                lines.feed(chunk);
            }
            assert_eq!(lines.finish(), want, "chunks of {size}");
        }
        // A record past the bound: one rejected, the next read.
        let mut lines = Lines::default();
        lines.feed(b"{\"recordId\":\"");
        for _ in 0..(MAX_RECORD_BYTES / (1 << 20) + 1) {
            lines.feed(&vec![b'a'; 1 << 20]);
        }
        lines.feed(format!("\"}}\n{ok}\n").as_bytes());
        let got = lines.finish();
        assert_eq!((got.rejected, got.succeeded, got.input_tokens), (1, 1, 10));
    }
}
