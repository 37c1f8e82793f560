//! A batch inference job's own record of itself: `manifest.json.out` in the job's output folder
//! (Bedrock User Guide, "View the results of a batch inference job": `totalRecordCount`,
//! `processedRecordCount`, `successRecordCount`, `errorRecordCount`, `inputTokenCount`,
//! `outputTokenCount`). Pure; `source::batch` finds the files. The job's `*.jsonl.out` records
//! hold prompts and completions and are never read.

use serde_json::Value;

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
}
