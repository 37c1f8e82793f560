//! Quotas (`--quotas FILE`, TOML): requests and tokens per minute per source region, base model
//! and kind of call, as the account's Service Quotas page lists them (`mila quotas fetch`).
//!
//! ```toml
//! [[quota]]
//! region = "us-east-1"
//! model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
//! kind = "geographic"          # in-region (the default), geographic or global
//! requests_per_minute = 250
//! tokens_per_minute = 2000000
//! ```
//!
//! In-region on-demand calls, geographic cross-region calls (`us.`, `eu.`, ...) and global
//! cross-region calls (`global.`) each have their own quotas in the source region. A file written
//! before kinds existed has no `kind`: its quotas are in-region ones, as they were then.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::profiles::Profiles;
use super::{invalid, read_to_string, InputError};
use crate::record::model_id::{canonicalise, ModelIdKind};

/// Which of a model's quotas in a source region a call counts against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaKind {
    /// A foundation-model id, or an application profile of one region.
    #[default]
    InRegion,
    /// A geographic cross-region profile, or an application profile over one geography's regions.
    Geographic,
    /// A global cross-region profile, or an application profile over several geographies.
    Global,
    /// No on-demand quota mila knows: provisioned, deployed, imported and custom models, and
    /// application profiles the profiles file does not resolve. Never in a quotas file.
    #[serde(skip)]
    Other,
}

impl QuotaKind {
    pub const ALL: [QuotaKind; 4] = [QuotaKind::InRegion, QuotaKind::Geographic, QuotaKind::Global, QuotaKind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            QuotaKind::InRegion => "in-region",
            QuotaKind::Geographic => "geographic",
            QuotaKind::Global => "global",
            QuotaKind::Other => "other",
        }
    }

    /// The quota a call with this model id counts against.
    pub fn of(model_id: &str, profiles: &Profiles) -> QuotaKind {
        let id = canonicalise(model_id);
        match id.kind {
            ModelIdKind::FoundationModel => QuotaKind::InRegion,
            ModelIdKind::GeoProfile => QuotaKind::Geographic,
            ModelIdKind::GlobalProfile => QuotaKind::Global,
            ModelIdKind::ApplicationProfile => match profiles.get(id.base) {
                None => QuotaKind::Other,
                Some(p) => {
                    // A region's geography is its first word (`us`, `eu`, `ap`...).
                    let geographies: BTreeSet<&str> =
                        p.regions.iter().map(|r| r.split('-').next().unwrap_or("")).collect();
                    match (p.regions.len(), geographies.len()) {
                        (0 | 1, _) => QuotaKind::InRegion,
                        (_, 1) => QuotaKind::Geographic,
                        _ => QuotaKind::Global,
                    }
                }
            },
            ModelIdKind::Other => QuotaKind::Other,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub region: String,
    pub model: String,
    #[serde(default)]
    pub kind: QuotaKind,
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

/// Which per-minute quota a Service Quotas quota is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Requests,
    Tokens,
}

/// The bundled table of model names as Service Quotas writes them.
pub const MODEL_NAMES_CSV: &str = include_str!("model_names.csv");

/// The base model id of a model name in a quota name, through `MODEL_NAMES_CSV` (case and a
/// trailing " V1" aside); None when the table does not have it.
pub fn model_of_name(name: &str) -> Option<&'static str> {
    let wanted = name.trim();
    // `get`, not slicing: a name from AWS may end in any character.
    let short = wanted
        .len()
        .checked_sub(3)
        .and_then(|at| wanted.get(at..).filter(|end| end.eq_ignore_ascii_case(" v1")).and_then(|_| wanted.get(..at)));
    super::model_of_name(MODEL_NAMES_CSV, &[Some(wanted), short].into_iter().flatten().collect::<Vec<_>>())
}

/// A Service Quotas quota name -> (base model, kind, requests or tokens), for the per-minute
/// inference quotas:
/// `On-demand model inference tokens per minute for Anthropic Claude Sonnet 4.5`,
/// `Cross-region model inference requests per minute for ...`,
/// `Global cross-region model inference tokens per minute for ...`, and the older
/// `On-demand InvokeModel requests per minute for ...`. Anything else is not mapped.
pub fn map_quota_name(name: &str) -> Option<(&'static str, QuotaKind, Per)> {
    let lower = name.trim().to_lowercase();
    let (kind, rest) = [
        ("global cross-region model inference ", QuotaKind::Global),
        ("cross-region model inference ", QuotaKind::Geographic),
        ("on-demand model inference ", QuotaKind::InRegion),
        ("on-demand invokemodel ", QuotaKind::InRegion),
    ]
    .into_iter()
    .find_map(|(prefix, kind)| lower.strip_prefix(prefix).map(|rest| (kind, rest)))?;
    let (per, rest) = [("requests per minute for ", Per::Requests), ("tokens per minute for ", Per::Tokens)]
        .into_iter()
        .find_map(|(prefix, per)| rest.strip_prefix(prefix).map(|rest| (per, rest)))?;
    Some((model_of_name(rest)?, kind, per))
}

impl Quotas {
    /// The file `quotas fetch` writes: a comment, then the quotas sorted by region, model, kind.
    pub fn to_toml(quotas: &[Quota], header: &str) -> String {
        let mut sorted: Vec<&Quota> = quotas.iter().collect();
        sorted.sort_by(|a, b| (&a.region, &a.model, a.kind).cmp(&(&b.region, &b.model, b.kind)));
        let mut out: String = header.lines().map(|l| format!("# {l}\n").replace("# \n", "#\n")).collect();
        for q in sorted {
            out.push_str(&format!(
                "\n[[quota]]\nregion = {}\nmodel = {}\nkind = \"{}\"\n",
                toml_string(&q.region),
                toml_string(&q.model),
                q.kind.as_str()
            ));
            if let Some(v) = q.requests_per_minute {
                out.push_str(&format!("requests_per_minute = {v}\n"));
            }
            if let Some(v) = q.tokens_per_minute {
                out.push_str(&format!("tokens_per_minute = {v}\n"));
            }
        }
        out
    }

    /// The quota of a source region, base model and kind, if the file gives one.
    pub fn get(&self, region: &str, model: &str, kind: QuotaKind) -> Option<&Quota> {
        self.quotas.iter().find(|q| q.region == region && q.model == model && q.kind == kind)
    }

    pub fn load(path: &Path) -> Result<Quotas, InputError> {
        Quotas::parse(&read_to_string(path)?, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Quotas, InputError> {
        let file: File = toml::from_str(text).map_err(|e| invalid(path, e.to_string()))?;
        let mut seen = BTreeSet::new();
        for (i, q) in file.quota.iter().enumerate() {
            let at = format!("[[quota]] {} ({} / {} / {})", i + 1, q.region, q.model, q.kind.as_str());
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
            if !seen.insert((q.region.as_str(), q.model.as_str(), q.kind)) {
                return Err(invalid(path, format!("{at}: given twice")));
            }
        }
        Ok(Quotas { quotas: file.quota, name: Some(path.display().to_string()) })
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_names_table() {
        let sonnet45 = "anthropic.claude-sonnet-4-5-20250929-v1:0";
        let cases = [
            ("On-demand model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1", Some((sonnet45, QuotaKind::InRegion, Per::Tokens))),
            ("On-demand model inference requests per minute for Anthropic Claude Sonnet 4.5", Some((sonnet45, QuotaKind::InRegion, Per::Requests))),
            ("Cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1", Some((sonnet45, QuotaKind::Geographic, Per::Tokens))),
            ("Global cross-region model inference requests per minute for Anthropic Claude Sonnet 4.5 V1", Some((sonnet45, QuotaKind::Global, Per::Requests))),
            ("On-demand InvokeModel requests per minute for Amazon Titan Text Embeddings V2", Some(("amazon.titan-embed-text-v2:0", QuotaKind::InRegion, Per::Requests))),
            ("On-demand model inference tokens per minute for Anthropic Claude 3.5 Sonnet V2", Some(("anthropic.claude-3-5-sonnet-20241022-v2:0", QuotaKind::InRegion, Per::Tokens))),
            ("cross-region model inference tokens per minute for amazon nova pro", Some(("amazon.nova-pro-v1:0", QuotaKind::Geographic, Per::Tokens))),
            // Not per-minute inference quotas, or a model the table does not know: not mapped.
            ("Model invocation max tokens per day for Anthropic Claude Sonnet 4.5 V1 (doubled for cross-region calls)", None),
            ("Batch inference job size (in GB) for Claude 3 Haiku", None),
            ("On-demand model inference tokens per minute for Acme Model 9", None),
            ("On-demand model inference tokens per hour for Anthropic Claude Sonnet 4.5", None),
            ("On-demand model inference tokens per minute for ", None),
            ("", None),
            // A name ending in characters of several bytes: no panic, no match.
            ("On-demand model inference tokens per minute for Modèle é", None),
            ("On-demand model inference tokens per minute for 名", None),
        ];
        for (name, want) in cases {
            assert_eq!(map_quota_name(name), want, "{name}");
        }
        // Every model of the bundled names table is a model id mila reads as a foundation model.
        for line in MODEL_NAMES_CSV.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let (_, model) = line.rsplit_once(',').unwrap();
            assert_eq!(canonicalise(model).kind, ModelIdKind::FoundationModel, "{model}");
        }
    }

    #[test]
    fn written_quotas_read_back() {
        let quotas = vec![
            Quota {
                region: "us-east-1".into(),
                model: "m".into(),
                kind: QuotaKind::Global,
                requests_per_minute: Some(5),
                tokens_per_minute: None,
            },
            Quota {
                region: "us-east-1".into(),
                model: "m".into(),
                kind: QuotaKind::InRegion,
                requests_per_minute: Some(1),
                tokens_per_minute: Some(2),
            },
        ];
        let text = Quotas::to_toml(&quotas, "From `mila quotas fetch`.\n\nSecond line");
        assert!(text.starts_with("# From `mila quotas fetch`.\n#\n# Second line\n"), "{text}");
        let back = Quotas::parse(&text, Path::new("q.toml")).unwrap();
        assert_eq!(back.quotas.len(), 2);
        assert_eq!(back.get("us-east-1", "m", QuotaKind::Global), Some(&quotas[0]));
        assert_eq!(back.quotas[0].kind, QuotaKind::InRegion, "sorted by kind");
    }

    #[test]
    fn quota_kind_of_every_id_form() {
        let toml = r#"
[[profile]]
arn = "arn:aws:bedrock:us-east-1:1:application-inference-profile/one"
model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
regions = ["us-east-1"]
[[profile]]
arn = "arn:aws:bedrock:us-east-1:1:application-inference-profile/us"
model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
regions = ["us-east-1", "us-east-2", "us-west-2"]
[[profile]]
arn = "arn:aws:bedrock:us-east-1:1:application-inference-profile/world"
model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
regions = ["us-east-1", "eu-west-1", "ap-northeast-1"]
"#;
        let profiles = Profiles::parse(toml, Path::new("p.toml")).unwrap();
        let app = |s: &str| format!("arn:aws:bedrock:us-east-1:1:application-inference-profile/{s}");
        let cases = [
            ("anthropic.claude-sonnet-4-5-20250929-v1:0".to_string(), QuotaKind::InRegion),
            ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0".into(), QuotaKind::InRegion),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0".into(), QuotaKind::Geographic),
            ("kr.anthropic.claude-sonnet-4-5-20250929-v1:0".into(), QuotaKind::Geographic),
            ("arn:aws:bedrock:eu-west-1:1:inference-profile/eu.amazon.nova-lite-v1:0".into(), QuotaKind::Geographic),
            ("global.anthropic.claude-sonnet-4-5-20250929-v1:0".into(), QuotaKind::Global),
            (app("one"), QuotaKind::InRegion),
            (app("us"), QuotaKind::Geographic),
            (app("world"), QuotaKind::Global),
            (app("unknown"), QuotaKind::Other),
            ("arn:aws:bedrock:us-east-1:1:provisioned-model/x".into(), QuotaKind::Other),
            ("mystery".into(), QuotaKind::Other),
        ];
        for (id, want) in cases {
            assert_eq!(QuotaKind::of(&id, &profiles), want, "{id}");
        }
    }

    #[test]
    fn quota_files() {
        let p = Path::new("q.toml");
        // A file from before kinds: its quotas are in-region.
        let ok = "[[quota]]\nregion = \"us-east-1\"\nmodel = \"m\"\nrequests_per_minute = 10\n";
        let old = Quotas::parse(ok, p).unwrap();
        assert_eq!((old.quotas[0].requests_per_minute, old.quotas[0].kind), (Some(10), QuotaKind::InRegion));
        assert!(old.get("us-east-1", "m", QuotaKind::InRegion).is_some());
        assert!(old.get("us-east-1", "m", QuotaKind::Geographic).is_none());
        // The same model's three kinds side by side.
        let kinds = ["in-region", "geographic", "global"]
            .map(|k| {
                format!("[[quota]]\nregion = \"us-east-1\"\nmodel = \"m\"\nkind = \"{k}\"\ntokens_per_minute = 5\n")
            })
            .concat();
        let q = Quotas::parse(&kinds, p).unwrap();
        for k in [QuotaKind::InRegion, QuotaKind::Geographic, QuotaKind::Global] {
            assert_eq!(q.get("us-east-1", "m", k).map(|q| q.kind), Some(k));
        }
        let cases = [
            (
                "[[quota]]\nregion = \"us-east-1\"\nmodel = \"m\"\n",
                "give requests_per_minute, tokens_per_minute or both",
            ),
            ("[[quota]]\nregion = \"\"\nmodel = \"m\"\nrequests_per_minute = 1\n", "must not be empty"),
            ("[[quota]]\nregion = \"r\"\nmodel = \"m\"\ntokens_per_minute = 0\n", "a quota of 0 per minute"),
            (&format!("{ok}{ok}"), "[[quota]] 2 (us-east-1 / m / in-region): given twice"),
            (
                "[[quota]]\nregion = \"r\"\nmodel = \"m\"\nkind = \"other\"\nrequests_per_minute = 1\n",
                "unknown variant `other`",
            ),
            (
                "[[quota]]\nregion = \"r\"\nmodel = \"m\"\nkind = \"regional\"\nrequests_per_minute = 1\n",
                "unknown variant `regional`",
            ),
            ("[[quota]]\nregion = \"r\"\nmodel = \"m\"\nrpm = 1\n", "unknown field"),
            (
                "[[quota]]\nregion = \"r\"\nmodel = \"m\"\ntokens_per_minute = 9223372036854775807\n",
                "a quota above 1000000000000 per minute",
            ),
            ("[[quota]]\nregion = \"r\"\nmodel = \"m\"\nrequests_per_minute = -1\n", "invalid value"),
            ("[[quota]]\nregion = \"r\"\nmodel = \"m\"\nrequests_per_minute = 1e300\n", "invalid type: floating point"),
            ("[[quota]]\nregion = \"r\"\nmodel = \"m\"\nrequests_per_minute = \"5\"\n", "invalid type: string"),
        ];
        for (text, want) in cases {
            let err = Quotas::parse(text, p).unwrap_err().to_string();
            assert!(err.starts_with("q.toml: ") && err.contains(want), "{text:?}: {err}");
        }
    }
}
