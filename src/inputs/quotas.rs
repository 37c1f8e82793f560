//! Quotas (`--quotas FILE`, TOML): requests and tokens per minute per source region and base
//! model, as the account's Service Quotas page lists them.
//!
//! ```toml
//! [[quota]]
//! region = "us-east-1"
//! model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
//! requests_per_minute = 250
//! tokens_per_minute = 2000000
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::{invalid, read_to_string, InputError};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub region: String,
    pub model: String,
    pub requests_per_minute: Option<u64>,
    pub tokens_per_minute: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Quotas {
    pub quotas: Vec<Quota>,
    /// The file name as the user gave it; None when no file was given.
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    quota: Vec<Quota>,
}

/// The highest quota a file may give, per minute: a thousand times the largest Bedrock grants.
pub const MAX_QUOTA: u64 = 1_000_000_000_000;

impl Quotas {
    /// The quota of a source region and base model, if the file gives one.
    pub fn get(&self, region: &str, model: &str) -> Option<&Quota> {
        self.quotas.iter().find(|q| q.region == region && q.model == model)
    }

    pub fn load(path: &Path) -> Result<Quotas, InputError> {
        Quotas::parse(&read_to_string(path)?, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Quotas, InputError> {
        let file: File = toml::from_str(text).map_err(|e| invalid(path, e.to_string()))?;
        let mut seen = BTreeSet::new();
        for (i, q) in file.quota.iter().enumerate() {
            let at = format!("[[quota]] {} ({} / {})", i + 1, q.region, q.model);
            if q.region.is_empty() || q.model.is_empty() {
                return Err(invalid(path, format!("{at}: region and model must not be empty")));
            }
            if q.requests_per_minute.is_none() && q.tokens_per_minute.is_none() {
                return Err(invalid(path, format!("{at}: give requests_per_minute, tokens_per_minute or both")));
            }
            if q.requests_per_minute == Some(0) || q.tokens_per_minute == Some(0) {
                return Err(invalid(path, format!("{at}: a quota of 0 per minute is not a quota")));
            }
            if [q.requests_per_minute, q.tokens_per_minute].iter().flatten().any(|v| *v > MAX_QUOTA) {
                return Err(invalid(path, format!("{at}: a quota above {MAX_QUOTA} per minute is not a quota")));
            }
            if !seen.insert((q.region.as_str(), q.model.as_str())) {
                return Err(invalid(path, format!("{at}: given twice")));
            }
        }
        Ok(Quotas { quotas: file.quota, name: Some(path.display().to_string()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_files() {
        let p = Path::new("q.toml");
        let ok = "[[quota]]\nregion = \"us-east-1\"\nmodel = \"m\"\nrequests_per_minute = 10\n";
        assert_eq!(Quotas::parse(ok, p).unwrap().quotas[0].requests_per_minute, Some(10));
        let cases = [
            (
                "[[quota]]\nregion = \"us-east-1\"\nmodel = \"m\"\n",
                "give requests_per_minute, tokens_per_minute or both",
            ),
            ("[[quota]]\nregion = \"\"\nmodel = \"m\"\nrequests_per_minute = 1\n", "must not be empty"),
            ("[[quota]]\nregion = \"r\"\nmodel = \"m\"\ntokens_per_minute = 0\n", "a quota of 0 per minute"),
            (&format!("{ok}{ok}"), "[[quota]] 2 (us-east-1 / m): given twice"),
            ("[[quota]]\nregion = \"r\"\nmodel = \"m\"\nrpm = 1\n", "unknown field"),
            (
                "[[quota]]\nregion = \"r\"\nmodel = \"m\"\ntokens_per_minute = 9223372036854775807\n",
                "a quota above 1000000000000 per minute",
            ),
            ("[[quota]]\nregion = \"r\"\nmodel = \"m\"\nrequests_per_minute = -1\n", "invalid value"),
        ];
        for (text, want) in cases {
            let err = Quotas::parse(text, p).unwrap_err().to_string();
            assert!(err.starts_with("q.toml: ") && err.contains(want), "{text:?}: {err}");
        }
    }
}
