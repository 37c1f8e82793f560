//! Application inference profiles (contract section 4): ARN -> underlying model, regions, tags.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::{invalid, read_to_string, InputError};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub arn: String,
    pub model: String,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Optional fields that `profiles fetch` may record.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Profiles {
    by_arn: HashMap<String, Profile>,
    /// Where the profiles came from, for the report.
    pub source: Option<String>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    profile: Vec<Profile>,
    #[serde(default, rename = "snapshot_date")]
    _snapshot_date: Option<toml::Value>,
}

impl Profiles {
    pub fn load(path: &Path) -> Result<Profiles, InputError> {
        Profiles::parse(&read_to_string(path)?, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Profiles, InputError> {
        let file: File = toml::from_str(text).map_err(|e| invalid(path, e.to_string()))?;
        let mut by_arn = HashMap::new();
        for p in file.profile {
            if !p.arn.contains(":application-inference-profile/") {
                return Err(invalid(path, format!("`{}` is not an application-inference-profile ARN", p.arn)));
            }
            if p.model.trim().is_empty() {
                return Err(invalid(path, format!("profile `{}` has an empty model", p.arn)));
            }
            if let Some(old) = by_arn.insert(p.arn.clone(), p) {
                return Err(invalid(path, format!("profile `{}` is listed twice", old.arn)));
            }
        }
        Ok(Profiles { by_arn, source: Some(path.display().to_string()) })
    }

    pub fn get(&self, arn: &str) -> Option<&Profile> {
        self.by_arn.get(arn)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.by_arn.values()
    }

    /// Every tag key any profile carries, sorted.
    pub fn tag_keys(&self) -> BTreeSet<&str> {
        self.by_arn.values().flat_map(|p| p.tags.keys().map(String::as_str)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_contract_example() {
        let text = r#"
[[profile]]
arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
model = "anthropic.claude-sonnet-4-20250514-v1:0"
regions = ["us-east-1", "us-east-2", "us-west-2"]
tags = { team = "search", env = "prod" }
"#;
        let p = Profiles::parse(text, Path::new("p.toml")).unwrap();
        let got = p.get("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6").unwrap();
        assert_eq!(got.regions.len(), 3);
        assert_eq!(got.tags["team"], "search");
        assert_eq!(p.tag_keys().into_iter().collect::<Vec<_>>(), vec!["env", "team"]);
    }

    #[test]
    fn rejects_bad_files_naming_the_file() {
        for text in [
            "[[profile]]\narn = \"arn:aws:bedrock:us-east-1:1:foundation-model/x\"\nmodel = \"m\"",
            "[[profile]]\narn = \"arn:aws:bedrock:us-east-1:1:application-inference-profile/x\"\nmodel = \"\"",
            "[[profile]]\nmodel = \"m\"",
            "not toml [",
        ] {
            let err = Profiles::parse(text, Path::new("bad.toml")).unwrap_err().to_string();
            assert!(err.starts_with("bad.toml: "), "{err}");
        }
    }
}
