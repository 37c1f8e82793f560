//! Token burndown (`--burndown FILE`, CSV `model,rate`): how many tokens of a tokens-per-minute
//! quota one output token uses up. Bedrock counts `input + cache write + output x rate` against
//! the quota, and cache reads not at all; the rate is 5 for the larger recent Claude models.
//!
//! `model` is a model id or a pattern where `*` is any run of characters. The most specific row
//! wins: an exact id, else the pattern with the most literal characters. A model no row matches
//! has rate 1.

use std::path::Path;

use super::{csv_line, glob, invalid, read_to_string, InputError};

pub const DEFAULT_BURNDOWN_CSV: &str = include_str!("default_burndown.csv");
pub const DEFAULT_BURNDOWN_DATE: &str = "2026-12-01";

/// The highest rate a table may give: output tokens that cost a hundred times an input token.
pub const MAX_RATE: f64 = 100.0;

#[derive(Debug, Clone)]
pub struct Burndown {
    /// (pattern, rate), most specific first.
    rows: Vec<(String, f64)>,
    /// "bundled burndown table of 2026-12-01" or the file name.
    pub source: String,
}

/// How specific a pattern is: an exact id beats any pattern, then more literal characters win.
fn specificity(pattern: &str) -> (bool, usize) {
    (!pattern.contains('*'), pattern.chars().filter(|c| *c != '*').count())
}

impl Burndown {
    pub fn default_table() -> Burndown {
        let mut b = Burndown::parse(DEFAULT_BURNDOWN_CSV, Path::new("default burndown"))
            .expect("the bundled burndown table parses (unit-tested)");
        b.source = format!("bundled burndown table of {DEFAULT_BURNDOWN_DATE}");
        b
    }

    pub fn load(path: &Path) -> Result<Burndown, InputError> {
        Burndown::parse(&read_to_string(path)?, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Burndown, InputError> {
        let mut reader =
            csv::ReaderBuilder::new().trim(csv::Trim::All).comment(Some(b'#')).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| invalid(path, e.to_string()))?.clone();
        if headers.iter().collect::<Vec<_>>() != ["model", "rate"] {
            return Err(invalid(path, "header must be `model,rate`"));
        }
        let mut rows: Vec<(String, f64)> = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| invalid(path, e.to_string()))?;
            let line = csv_line(text, &rec);
            let model = rec.get(0).unwrap_or("");
            if model.is_empty() {
                return Err(invalid(path, format!("line {line}: empty model")));
            }
            let rate = match rec.get(1).unwrap_or("").parse::<f64>() {
                Ok(r) if (0.0..=MAX_RATE).contains(&r) => r,
                _ => return Err(invalid(path, format!("line {line}: `rate` must be a number from 0 to {MAX_RATE}"))),
            };
            if rows.iter().any(|(m, _)| m == model) {
                return Err(invalid(path, format!("line {line}: `{model}` is given twice")));
            }
            rows.push((model.to_string(), rate));
        }
        // Stable: of two equally specific patterns, the one written first wins.
        rows.sort_by_key(|(m, _)| std::cmp::Reverse(specificity(m)));
        Ok(Burndown { rows, source: path.display().to_string() })
    }

    /// The rate of a base model id.
    pub fn rate(&self, model: &str) -> f64 {
        self.rows.iter().find(|(m, _)| glob::matches(m, model)).map_or(1.0, |(_, r)| *r)
    }

    /// The rows as written, most specific first, for `mila prices`.
    pub fn rows(&self) -> &[(String, f64)] {
        &self.rows
    }
}

/// Quota tokens of a call or a sum of calls: input and cache-write tokens once, output tokens
/// at the burndown rate (rounded up: Bedrock counts whole tokens), cache reads not at all.
pub fn quota_tokens(input_and_cache_write: u64, output: u64, rate: f64) -> u64 {
    let burnt = (output as f64 * rate).ceil();
    // A rate of at most 100 on at most u64::MAX tokens saturates rather than wraps.
    input_and_cache_write.saturating_add(if burnt >= u64::MAX as f64 { u64::MAX } else { burnt as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_rates() {
        let b = Burndown::default_table();
        let cases = [
            ("anthropic.claude-3-7-sonnet-20250219-v1:0", 5.0),
            ("anthropic.claude-sonnet-4-20250514-v1:0", 5.0),
            ("anthropic.claude-sonnet-4-5-20250929-v1:0", 5.0),
            ("anthropic.claude-sonnet-4-6", 5.0),
            ("anthropic.claude-opus-4-20250514-v1:0", 5.0),
            ("anthropic.claude-opus-4-1-20250805-v1:0", 5.0),
            ("anthropic.claude-opus-4-5-20251101-v1:0", 5.0),
            ("anthropic.claude-opus-4-6-v1", 5.0),
            ("anthropic.claude-opus-4-7", 5.0),
            ("anthropic.claude-haiku-4-5-20251001-v1:0", 1.0),
            ("anthropic.claude-3-5-sonnet-20241022-v2:0", 1.0),
            ("anthropic.claude-3-haiku-20240307-v1:0", 1.0),
            ("amazon.nova-pro-v1:0", 1.0),
            ("meta.llama3-1-70b-instruct-v1:0", 1.0),
            ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x", 1.0),
        ];
        for (model, want) in cases {
            assert_eq!(b.rate(model), want, "{model}");
        }
        assert_eq!(b.source, format!("bundled burndown table of {DEFAULT_BURNDOWN_DATE}"));
    }

    #[test]
    fn most_specific_row_wins() {
        let text = "model,rate\n*,2\nanthropic.*,3\nanthropic.claude-opus-4-*,5\nanthropic.claude-opus-4-7,1.5\n";
        let b = Burndown::parse(text, Path::new("b.csv")).unwrap();
        let cases = [
            ("amazon.nova-lite-v1:0", 2.0),
            ("anthropic.claude-3-haiku-20240307-v1:0", 3.0),
            ("anthropic.claude-opus-4-6-v1", 5.0),
            ("anthropic.claude-opus-4-7", 1.5),
        ];
        for (model, want) in cases {
            assert_eq!(b.rate(model), want, "{model}");
        }
        // Without a `*` row, an unmatched model has rate 1.
        let b = Burndown::parse("model,rate\nx,5\n", Path::new("b.csv")).unwrap();
        assert_eq!(b.rate("y"), 1.0);
    }

    #[test]
    fn bad_files() {
        let cases = [
            ("model,ratio\nx,1\n", "header must be `model,rate`"),
            ("model,rate\n,1\n", "line 2: empty model"),
            ("model,rate\nx,five\n", "line 2: `rate` must be a number from 0 to 100"),
            ("model,rate\nx,-1\n", "`rate` must be a number"),
            ("model,rate\nx,1e308\n", "`rate` must be a number"),
            ("model,rate\nx,NaN\n", "`rate` must be a number"),
            ("model,rate\nx,1\nx,2\n", "line 3: `x` is given twice"),
        ];
        for (text, want) in cases {
            let err = Burndown::parse(text, Path::new("b.csv")).unwrap_err().to_string();
            assert!(err.starts_with("b.csv: ") && err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn quota_tokens_table() {
        // The hand-worked call: 1,000 input + 2,000 cache write + 300 output x 5.
        assert_eq!(quota_tokens(1_000 + 2_000, 300, 5.0), 4_500);
        assert_eq!(quota_tokens(10, 7, 1.0), 17);
        assert_eq!(quota_tokens(0, 3, 1.5), 5);
        assert_eq!(quota_tokens(u64::MAX, u64::MAX, 100.0), u64::MAX);
    }
}
