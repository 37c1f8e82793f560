//! Residency policy (contract section 4): the first rule whose `source` glob matches applies.

use std::path::Path;

use serde::Deserialize;

use super::{glob, invalid, read_to_string, InputError};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub source: String,
    pub allow: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// The file name as the user gave it, for `residency.policy`.
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule: Vec<SpannedRule>,
}

/// A rule as read, with where each glob stands in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpannedRule {
    source: toml::Spanned<String>,
    allow: Vec<toml::Spanned<String>>,
}

/// The verdict for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No rule's source matches: not checked.
    NotChecked,
    Allowed,
    Violation,
    /// A rule applies but where the request ran is unknown.
    Unverifiable,
}

impl Policy {
    pub fn load(path: &Path) -> Result<Policy, InputError> {
        Policy::parse(&read_to_string(path)?, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Policy, InputError> {
        let file: File = toml::from_str(text).map_err(|e| invalid(path, e.to_string()))?;
        if file.rule.is_empty() {
            return Err(invalid(path, "no [[rule]] entries: a policy needs at least one"));
        }
        // Globs are region names with `*` and `?`: anything else matches no region, and these
        // reach the Athena engine's SQL (quoted there too).
        let glob = |g: &toml::Spanned<String>| {
            if crate::names::region_glob(g.get_ref()) {
                return Ok(g.get_ref().clone());
            }
            let line = 1 + text.as_bytes()[..g.span().start.min(text.len())].iter().filter(|b| **b == b'\n').count();
            Err(invalid(
                path,
                format!(
                    "line {line}: {:?} is not a region glob (lowercase letters, digits, -, * and ?; at most 64)",
                    g.get_ref()
                ),
            ))
        };
        let mut rules = Vec::new();
        for r in &file.rule {
            rules.push(Rule { source: glob(&r.source)?, allow: r.allow.iter().map(glob).collect::<Result<_, _>>()? });
        }
        Ok(Policy { rules, name: path.display().to_string() })
    }

    pub fn verdict(&self, source_region: &str, inference_region: Option<&str>) -> Verdict {
        let Some(rule) = self.rules.iter().find(|r| glob::matches(&r.source, source_region)) else {
            return Verdict::NotChecked;
        };
        match inference_region {
            None => Verdict::Unverifiable,
            Some(ir) if rule.allow.iter().any(|a| glob::matches(a, ir)) => Verdict::Allowed,
            Some(_) => Verdict::Violation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_table() {
        let text = r#"
[[rule]]
source = "eu-central-1"
allow = ["eu-central-1"]
[[rule]]
source = "eu-*"
allow = ["eu-*"]
[[rule]]
source = "us-*"
allow = ["us-east-*", "us-west-2"]
"#;
        let p = Policy::parse(text, Path::new("policy.toml")).unwrap();
        let cases = [
            ("eu-west-1", Some("eu-west-3"), Verdict::Allowed),
            ("eu-west-1", Some("us-east-1"), Verdict::Violation),
            ("eu-west-1", None, Verdict::Unverifiable),
            ("eu-central-1", Some("eu-west-1"), Verdict::Violation), // first rule wins
            ("eu-central-1", Some("eu-central-1"), Verdict::Allowed),
            ("us-east-1", Some("us-east-2"), Verdict::Allowed),
            ("us-east-1", Some("us-west-1"), Verdict::Violation),
            ("ap-northeast-1", Some("us-east-1"), Verdict::NotChecked),
            ("ap-northeast-1", None, Verdict::NotChecked),
            // A `*` in a logged region is a character like any other, never a wildcard.
            ("eu-*", Some("us-east-1"), Verdict::Violation),
            ("us-*x", Some("*"), Verdict::Violation),
        ];
        for (src, ir, want) in cases {
            assert_eq!(p.verdict(src, ir), want, "{src} -> {ir:?}");
        }
    }

    #[test]
    fn empty_or_malformed_policy_is_an_error() {
        assert!(Policy::parse("", Path::new("p.toml")).is_err());
        assert!(Policy::parse("[[rule]]\nsource = \"eu-*\"", Path::new("p.toml")).is_err());
        assert!(Policy::parse("[[rule]]\nsource=\"x\"\nallow=[]\nextra=1", Path::new("p.toml")).is_err());
    }

    #[test]
    fn globs_are_region_globs_named_by_line() {
        for (bad, line) in [
            ("[[rule]]\nsource = \"eu-*'; DROP TABLE x; --\"\nallow = []\n", 2),
            ("[[rule]]\nsource = \"eu-*\"\nallow = [\"eu-*\",\n  \"x\\\\y\"]\n", 4),
            ("[[rule]]\nsource = \"EU-*\"\nallow = []\n", 2),
            ("[[rule]]\nsource = \"eu\\n-*\"\nallow = []\n", 2),
            ("[[rule]]\nsource = \"\"\nallow = []\n", 2),
        ] {
            let e = Policy::parse(bad, Path::new("p.toml")).unwrap_err().to_string();
            assert!(e.starts_with(&format!("p.toml: line {line}: ")), "{e}");
            assert!(e.contains("is not a region glob"), "{e}");
        }
    }
}
