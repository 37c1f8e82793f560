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
    /// Optional fields that `profiles fetch` records.
    #[serde(default)]
    pub name: Option<String>,
    /// Set on a profile Bedrock no longer lists: the last snapshot that had it. It stays in the
    /// file so that logs written while it existed still resolve.
    #[serde(default)]
    pub last_seen: Option<toml::value::Datetime>,
}

#[derive(Debug, Default, Clone)]
pub struct Profiles {
    by_arn: HashMap<String, Profile>,
    /// Where the profiles came from, for the report.
    pub source: Option<String>,
    /// When `profiles fetch` took the snapshot, if it did.
    pub snapshot_date: Option<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    profile: Vec<Profile>,
    #[serde(default)]
    snapshot_date: Option<toml::value::Datetime>,
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
        Ok(Profiles { by_arn, source: Some(path.display().to_string()), snapshot_date: file.snapshot_date })
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

/// A TOML date (`2026-11-22`) from its parts; `None` when they are not a calendar date.
pub fn date(year: u16, month: u8, day: u8) -> Option<toml::value::Datetime> {
    chrono::NaiveDate::from_ymd_opt(year.into(), month.into(), day.into())?;
    Some(toml::value::Datetime { date: Some(toml::value::Date { year, month, day }), time: None, offset: None })
}

/// The profiles to write after a fetch of `regions` on `today`: every profile Bedrock listed,
/// then each earlier profile of a fetched region that it no longer lists, kept with the date
/// it was last seen (so old logs still resolve), then earlier profiles of regions not fetched
/// this time, unchanged. Sorted by ARN. Also returns how many were kept as no longer listed.
pub fn merge(
    previous: &Profiles,
    listed: Vec<Profile>,
    regions: &[String],
    today: toml::value::Datetime,
) -> (Vec<Profile>, usize) {
    let listed_arns: BTreeSet<String> = listed.iter().map(|p| p.arn.clone()).collect();
    let mut out = listed;
    let mut gone = 0;
    for old in previous.iter() {
        if listed_arns.contains(&old.arn) {
            continue;
        }
        let mut kept = old.clone();
        if arn_region(&old.arn).is_some_and(|r| regions.iter().any(|f| f == r)) {
            // In a region fetched now, and not listed: deleted since it was last seen.
            gone += 1;
            kept.last_seen.get_or_insert(previous.snapshot_date.unwrap_or(today));
        }
        out.push(kept);
    }
    out.sort_by(|a, b| a.arn.cmp(&b.arn));
    (out, gone)
}

/// The region field of an ARN (`arn:partition:service:REGION:...`).
pub fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(5, ':');
    (parts.next()? == "arn").then_some(())?;
    let region = parts.nth(2)?;
    (!region.is_empty()).then_some(region)
}

/// The profiles file of the contract, as `profiles fetch` writes it: readable, one profile
/// per `[[profile]]`, tags inline, every string and key quoted as TOML needs.
pub fn to_toml(profiles: &[Profile], snapshot_date: toml::value::Datetime, header: &str) -> String {
    use std::fmt::Write;
    let s = |text: &str| toml::Value::String(text.to_string()).to_string();
    let key = |k: &str| {
        if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            k.to_string()
        } else {
            s(k)
        }
    };
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "snapshot_date = {snapshot_date}");
    for p in profiles {
        let _ = writeln!(out, "\n[[profile]]");
        let _ = writeln!(out, "arn = {}", s(&p.arn));
        if let Some(name) = &p.name {
            let _ = writeln!(out, "name = {}", s(name));
        }
        let _ = writeln!(out, "model = {}", s(&p.model));
        let regions: Vec<String> = p.regions.iter().map(|r| s(r)).collect();
        let _ = writeln!(out, "regions = [{}]", regions.join(", "));
        let tags: Vec<String> = p.tags.iter().map(|(k, v)| format!("{} = {}", key(k), s(v))).collect();
        if tags.is_empty() {
            let _ = writeln!(out, "tags = {{}}");
        } else {
            let _ = writeln!(out, "tags = {{ {} }}", tags.join(", "));
        }
        if let Some(seen) = p.last_seen {
            let _ = writeln!(out, "last_seen = {seen}   # no longer listed by Bedrock; kept so older logs resolve");
        }
    }
    out
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

    fn profile(arn: &str, model: &str, regions: &[&str], tags: &[(&str, &str)]) -> Profile {
        Profile {
            arn: arn.into(),
            model: model.into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            name: None,
            last_seen: None,
        }
    }

    #[test]
    fn written_file_reads_back_the_same_with_awkward_strings() {
        let mut a = profile(
            "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc",
            "anthropic.claude-sonnet-4-20250514-v1:0",
            &["us-east-1", "us-west-2"],
            &[("team", "search"), ("aws:cloudformation:stack-name", "s \"q\" \\ \n"), ("cost center", "ü")],
        );
        a.name = Some("search \"prod\"".into());
        let mut b = profile("arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/x", "m.n", &[], &[]);
        b.last_seen = date(2026, 11, 1);
        let today = date(2026, 11, 22).unwrap();
        let text = to_toml(&[a.clone(), b.clone()], today, "line one\nline two");
        assert!(text.starts_with("# line one\n# line two\nsnapshot_date = 2026-11-22\n"), "{text}");
        assert!(text.contains("tags = {}\n"), "{text}");
        let back = Profiles::parse(&text, Path::new("p.toml")).unwrap();
        assert_eq!(back.snapshot_date, Some(today));
        assert_eq!(back.get(&a.arn), Some(&a));
        assert_eq!(back.get(&b.arn), Some(&b));
    }

    #[test]
    fn merge_keeps_what_bedrock_no_longer_lists() {
        let arn = |region: &str, id: &str| format!("arn:aws:bedrock:{region}:1:application-inference-profile/{id}");
        let old_text = format!(
            "snapshot_date = 2026-11-01\n\
             [[profile]]\narn = \"{}\"\nmodel = \"old\"\n\
             [[profile]]\narn = \"{}\"\nmodel = \"m\"\n\
             [[profile]]\narn = \"{}\"\nmodel = \"m\"\nlast_seen = 2026-10-01\n\
             [[profile]]\narn = \"{}\"\nmodel = \"m\"\n",
            arn("us-east-1", "still"),
            arn("us-east-1", "deleted"),
            arn("us-east-1", "deleted-long-ago"),
            arn("eu-west-1", "other-region"),
        );
        let previous = Profiles::parse(&old_text, Path::new("old.toml")).unwrap();
        let today = date(2026, 11, 22).unwrap();
        let listed = vec![
            profile(&arn("us-east-1", "still"), "new", &["us-east-1"], &[]),
            profile(&arn("us-east-1", "added"), "m", &[], &[]),
        ];
        let (all, gone) = merge(&previous, listed, &["us-east-1".to_string()], today);
        let got: Vec<(&str, &str, Option<String>)> = all
            .iter()
            .map(|p| (p.arn.rsplit('/').next().unwrap(), p.model.as_str(), p.last_seen.map(|d| d.to_string())))
            .collect();
        assert_eq!(
            got,
            vec![
                ("other-region", "m", None),
                ("added", "m", None),
                ("deleted", "m", Some("2026-11-01".into())),
                ("deleted-long-ago", "m", Some("2026-10-01".into())),
                ("still", "new", None),
            ]
        );
        assert_eq!(gone, 2);
        // A hand-written file has no snapshot date: today's stands in.
        let hand = Profiles::parse(
            &format!("[[profile]]\narn = \"{}\"\nmodel = \"m\"\n", arn("us-east-1", "h")),
            Path::new("h.toml"),
        )
        .unwrap();
        let (all, gone) = merge(&hand, Vec::new(), &["us-east-1".to_string()], today);
        assert_eq!((all[0].last_seen, gone), (Some(today), 1));
    }

    #[test]
    fn arn_regions() {
        for (arn, want) in [
            ("arn:aws:bedrock:us-east-1:1:application-inference-profile/x", Some("us-east-1")),
            ("arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/m", Some("us-gov-west-1")),
            ("arn:aws:iam::1:role/r", None),
            ("arn:aws:bedrock", None),
            ("not-an-arn:a:b:c:d", None),
            ("", None),
        ] {
            assert_eq!(arn_region(arn), want, "{arn}");
        }
    }
}
