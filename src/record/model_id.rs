//! Model-id canonicalisation: what kind of id the caller wrote and which base model it names.
//! Pure and table-tested; the one place that knows Bedrock's id and ARN shapes.

/// How the caller addressed the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelIdKind {
    FoundationModel,
    GeoProfile,
    GlobalProfile,
    ApplicationProfile,
    Other,
}

impl ModelIdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelIdKind::FoundationModel => "foundation-model",
            ModelIdKind::GeoProfile => "geo-profile",
            ModelIdKind::GlobalProfile => "global-profile",
            ModelIdKind::ApplicationProfile => "application-profile",
            ModelIdKind::Other => "other",
        }
    }
}

/// Geography prefixes of system-defined cross-region inference profiles.
/// `us-gov.` must be tried before nothing else matches it by accident; none of these is a prefix of another.
pub const GEO_PREFIXES: &[&str] = &["us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "in."];
pub const GLOBAL_PREFIX: &str = "global.";

/// Model providers on Bedrock. An id `xx.<provider>.…` with a prefix that is none of the above is a
/// cross-region profile of a geography mila does not know yet (Bedrock adds them): it is read as
/// a geographic profile whose route is unknown without `inferenceRegion`, never as a model.
pub const PROVIDERS: &[&str] = &[
    "ai21",
    "amazon",
    "anthropic",
    "cohere",
    "deepseek",
    "google",
    "luma",
    "meta",
    "minimax",
    "mistral",
    "moonshot",
    "moonshotai",
    "nvidia",
    "openai",
    "qwen",
    "stability",
    "twelvelabs",
    "writer",
    "zai",
];

/// ARN resource types of models that live in one region (provisioned throughput, custom-model
/// deployments, imported and custom models): a call runs where the resource is, the region called.
pub const REGIONAL_RESOURCES: &[&str] =
    &["provisioned-model", "custom-model-deployment", "imported-model", "custom-model"];

/// The result of reading a model id: its kind and the base model (a foundation-model id, or the
/// id unchanged where there is nothing to strip, e.g. an application-profile ARN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical<'a> {
    pub kind: ModelIdKind,
    pub base: &'a str,
    /// The id names something that runs only in the region called: a foundation model, or a
    /// provisioned, deployed, imported or custom model's ARN.
    pub regional: bool,
}

/// `xx.<provider>.…` where `xx` is a prefix of letters, digits and dashes that is not itself a
/// provider: the id without its prefix.
fn unknown_geography(id: &str) -> Option<&str> {
    let (prefix, rest) = id.split_once('.')?;
    let word = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let provider = rest.split_once('.')?.0;
    (word(prefix) && !PROVIDERS.contains(&prefix) && PROVIDERS.contains(&provider)).then_some(rest)
}

/// Where a shape of model id holds its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The name in a Bedrock ARN's resource of this type:
    /// `arn:PARTITION:bedrock:REGION:ACCOUNT:TYPE/NAME`.
    Arn(&'static str),
    /// Any other ARN, of Bedrock or not: the whole id.
    AnyArn,
    /// The id itself.
    Bare,
}

/// What the name of a shape looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// `global.…` (`GLOBAL_PREFIX`).
    Global,
    /// `us.…`, `eu.…` (`GEO_PREFIXES`).
    Geo,
    /// `xx.PROVIDER.…`, a geography mila does not know yet (`unknown_geography`).
    UnknownGeo,
    /// Foundation-model ids are `provider.name...`: a dot, and no slash or space.
    Dotted,
    Any,
}

/// Which part of the id is the base model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// The name without its prefix: every prefix is one word and a dot.
    AfterPrefix,
    /// The name.
    Name,
    /// The whole (trimmed) id.
    Whole,
}

/// One shape a model id comes in, and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub place: Place,
    pub name: Name,
    pub kind: ModelIdKind,
    pub base: Base,
}

const fn shape(place: Place, name: Name, kind: ModelIdKind, base: Base) -> Shape {
    Shape { place, name, kind, base }
}

/// The shapes of model ids, in the order they are tried; the first that fits decides. The one
/// place both readers of model ids are made from: `canonicalise` here, and the SQL Athena runs
/// (`engine::athena::sql`), which is generated from this table.
pub const SHAPES: [Shape; 11] = {
    use ModelIdKind::{ApplicationProfile, FoundationModel, GeoProfile, GlobalProfile, Other};
    use Place::{AnyArn, Arn, Bare};
    let (after, whole) = (Base::AfterPrefix, Base::Whole);
    [
        shape(Arn("foundation-model"), Name::Any, FoundationModel, Base::Name),
        shape(Arn("inference-profile"), Name::Global, GlobalProfile, after),
        shape(Arn("inference-profile"), Name::Geo, GeoProfile, after),
        shape(Arn("inference-profile"), Name::UnknownGeo, GeoProfile, after),
        shape(Arn("application-inference-profile"), Name::Any, ApplicationProfile, whole),
        shape(AnyArn, Name::Any, Other, whole),
        shape(Bare, Name::Global, GlobalProfile, after),
        shape(Bare, Name::Geo, GeoProfile, after),
        shape(Bare, Name::UnknownGeo, GeoProfile, after),
        shape(Bare, Name::Dotted, FoundationModel, whole),
        shape(Bare, Name::Any, Other, whole),
    ]
};

impl Shape {
    /// The base model when `id` (trimmed) has this shape.
    fn base_of(self, id: &str) -> Option<&str> {
        let name = match self.place {
            Place::Arn(t) => bedrock_arn_resource(id)?.strip_prefix(t)?.strip_prefix('/')?,
            Place::AnyArn => id.strip_prefix("arn:").map(|_| id)?,
            Place::Bare => id,
        };
        let rest = match self.name {
            Name::Global => name.strip_prefix(GLOBAL_PREFIX)?,
            Name::Geo => GEO_PREFIXES.iter().find_map(|p| name.strip_prefix(p))?,
            Name::UnknownGeo => unknown_geography(name)?,
            Name::Dotted => (name.contains('.') && !name.contains('/') && !name.contains(' ')).then_some(name)?,
            Name::Any => name,
        };
        Some(match self.base {
            Base::AfterPrefix => rest,
            Base::Name => name,
            Base::Whole => id,
        })
    }
}

/// A provisioned, deployed, imported or custom model's ARN (`REGIONAL_RESOURCES`), with a name.
fn regional_arn(id: &str) -> bool {
    let resource = bedrock_arn_resource(id).and_then(|r| r.split_once('/'));
    resource.is_some_and(|(rtype, name)| REGIONAL_RESOURCES.contains(&rtype) && !name.is_empty())
}

/// Reads a model id as the caller wrote it: a bare id, a system-profile id, or one of their ARNs
/// (any partition), or an application-inference-profile ARN.
pub fn canonicalise(model_id: &str) -> Canonical<'_> {
    let id = model_id.trim();
    let (kind, base) =
        SHAPES.iter().find_map(|s| s.base_of(id).map(|base| (s.kind, base))).unwrap_or((ModelIdKind::Other, id));
    Canonical { kind, base, regional: kind == ModelIdKind::FoundationModel || regional_arn(id) }
}

/// `arn:<partition>:bedrock:<region>:<account>:<resource>` -> `<resource>`.
fn bedrock_arn_resource(id: &str) -> Option<&str> {
    let mut parts = id.splitn(6, ':');
    let (arn, _partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    if arn != "arn" || service != "bedrock" {
        return None;
    }
    let (_region, _account) = (parts.next()?, parts.next()?);
    parts.next()
}

/// Where a request ran, as far as the record tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Local,
    Rerouted,
    Unknown,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Local => "local",
            Route::Rerouted => "rerouted",
            Route::Unknown => "unknown",
        }
    }
}

/// Contract section 3: route and inference region. `profile_regions` is the resolved
/// application profile's `regions`, when the model id is one and the profiles file knows it.
/// Old cross-region records lack `inferenceRegion`: those are never guessed.
pub fn route<'a>(
    source_region: &'a str,
    inference_region: Option<&'a str>,
    id: &Canonical,
    profile_regions: Option<&[String]>,
) -> (Route, Option<&'a str>) {
    if let Some(ir) = inference_region.filter(|r| !r.is_empty()) {
        let route = if ir == source_region { Route::Local } else { Route::Rerouted };
        return (route, Some(ir));
    }
    let stays_home = id.regional
        || (id.kind == ModelIdKind::ApplicationProfile
            && matches!(profile_regions, Some([only]) if only == source_region));
    if stays_home {
        (Route::Local, Some(source_region))
    } else {
        (Route::Unknown, None)
    }
}

#[cfg(test)]
mod tests {
    use super::ModelIdKind::*;
    use super::*;

    /// What the SQL copy of `SHAPES` relies on: every prefix is one word and one dot (the base is
    /// what follows the first dot), and the last shape takes every id.
    #[test]
    fn shapes_hold_what_their_sql_relies_on() {
        for p in GEO_PREFIXES.iter().chain([&GLOBAL_PREFIX]) {
            assert_eq!(p.find('.'), Some(p.len() - 1), "{p}");
        }
        let last = SHAPES[SHAPES.len() - 1];
        assert_eq!((last.place, last.name), (Place::Bare, Name::Any));
        assert!(SHAPES.iter().all(|s| s.place == Place::Bare || s.name != Name::Dotted));
    }

    #[test]
    fn canonicalise_table() {
        let app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";
        let cases: &[(&str, ModelIdKind, &str)] = &[
            ("anthropic.claude-3-haiku-20240307-v1:0", FoundationModel, "anthropic.claude-3-haiku-20240307-v1:0"),
            ("amazon.titan-embed-text-v2:0", FoundationModel, "amazon.titan-embed-text-v2:0"),
            ("us.amazon.nova-lite-v1:0", GeoProfile, "amazon.nova-lite-v1:0"),
            ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", GeoProfile, "anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ("apac.anthropic.claude-3-5-sonnet-20240620-v1:0", GeoProfile, "anthropic.claude-3-5-sonnet-20240620-v1:0"),
            ("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", GeoProfile, "anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ("au.anthropic.claude-haiku-4-5-20251001-v1:0", GeoProfile, "anthropic.claude-haiku-4-5-20251001-v1:0"),
            ("ca.amazon.nova-pro-v1:0", GeoProfile, "amazon.nova-pro-v1:0"),
            ("us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0", GeoProfile, "anthropic.claude-3-5-sonnet-20240620-v1:0"),
            ("in.amazon.nova-micro-v1:0", GeoProfile, "amazon.nova-micro-v1:0"),
            ("global.anthropic.claude-opus-4-5-20251101-v1:0", GlobalProfile, "anthropic.claude-opus-4-5-20251101-v1:0"),
            ("arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", FoundationModel, "anthropic.claude-3-haiku-20240307-v1:0"),
            ("arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0", GeoProfile, "anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0", GlobalProfile, "anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ("arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0", GeoProfile, "anthropic.claude-3-5-sonnet-20240620-v1:0"),
            (app, ApplicationProfile, app),
            ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123", Other, "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"),
            // A geography prefix Bedrock may add: a geographic profile, not a model.
            ("kr.anthropic.claude-sonnet-4-5-20250929-v1:0", GeoProfile, "anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ("mx.amazon.nova-lite-v1:0", GeoProfile, "amazon.nova-lite-v1:0"),
            ("arn:aws:bedrock:ap-northeast-2:123456789012:inference-profile/kr.anthropic.claude-sonnet-4-5-20250929-v1:0", GeoProfile, "anthropic.claude-sonnet-4-5-20250929-v1:0"),
            // Not a prefix: a provider first, an unknown provider second, or not a word.
            ("anthropic.claude-3-haiku-20240307-v1:0", FoundationModel, "anthropic.claude-3-haiku-20240307-v1:0"),
            ("kr.acme.model-v1:0", FoundationModel, "kr.acme.model-v1:0"),
            ("KR.anthropic.claude-v2", FoundationModel, "KR.anthropic.claude-v2"),
            ("k_r.anthropic.claude-v2", FoundationModel, "k_r.anthropic.claude-v2"),
            ("kr.anthropic", FoundationModel, "kr.anthropic"),
            ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/x", Other, "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x"),
            ("arn:aws:bedrock:us-east-1", Other, "arn:aws:bedrock:us-east-1"),
            ("mystery", Other, "mystery"),
            ("  us.amazon.nova-lite-v1:0 ", GeoProfile, "amazon.nova-lite-v1:0"),
        ];
        for (id, kind, base) in cases {
            let c = canonicalise(id);
            assert_eq!((c.kind, c.base), (*kind, *base), "model id {id}");
        }
    }

    #[test]
    fn route_table() {
        let one = vec!["us-east-1".to_string()];
        let many = vec!["us-east-1".to_string(), "us-west-2".to_string()];
        let other = vec!["us-west-2".to_string()];
        let fm = "anthropic.claude-3-haiku-20240307-v1:0";
        let geo = "us.anthropic.claude-3-haiku-20240307-v1:0";
        let global = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
        let app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1";
        let kr = "kr.anthropic.claude-sonnet-4-5-20250929-v1:0";
        let arn = |t: &str| format!("arn:aws:bedrock:us-east-1:123456789012:{t}/x1");
        let (provisioned, deployment, imported, custom) =
            (arn("provisioned-model"), arn("custom-model-deployment"), arn("imported-model"), arn("custom-model"));
        type Case<'a> = (Option<&'a str>, &'a str, Option<&'a [String]>, Route, Option<&'a str>);
        let cases: &[Case] = &[
            (Some("us-east-1"), geo, None, Route::Local, Some("us-east-1")),
            (Some("us-west-2"), geo, None, Route::Rerouted, Some("us-west-2")),
            (Some("us-west-2"), fm, None, Route::Rerouted, Some("us-west-2")),
            (None, fm, None, Route::Local, Some("us-east-1")),
            (Some(""), fm, None, Route::Local, Some("us-east-1")),
            (None, geo, None, Route::Unknown, None),
            (None, global, None, Route::Unknown, None),
            (None, app, None, Route::Unknown, None),
            (None, app, Some(&one), Route::Local, Some("us-east-1")),
            (None, app, Some(&many), Route::Unknown, None),
            (None, app, Some(&other), Route::Unknown, None),
            (None, "mystery", None, Route::Unknown, None),
            // An unknown geography is never guessed; with inferenceRegion it is read as logged.
            (None, kr, None, Route::Unknown, None),
            (Some("ap-northeast-2"), kr, None, Route::Rerouted, Some("ap-northeast-2")),
            // Models that live in one region run where they were called.
            (None, &provisioned, None, Route::Local, Some("us-east-1")),
            (None, &deployment, None, Route::Local, Some("us-east-1")),
            (None, &imported, None, Route::Local, Some("us-east-1")),
            (None, &custom, None, Route::Local, Some("us-east-1")),
            (None, "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/", None, Route::Unknown, None),
            (None, "arn:aws:bedrock:us-east-1:123456789012:agent/x1", None, Route::Unknown, None),
        ];
        for (ir, id, regions, want_route, want_region) in cases {
            let got = route("us-east-1", *ir, &canonicalise(id), *regions);
            assert_eq!(got, (*want_route, *want_region), "{ir:?} {id} {regions:?}");
        }
    }

    #[test]
    fn regional_resources_are_other_and_regional() {
        for t in REGIONAL_RESOURCES {
            let id = format!("arn:aws:bedrock:eu-west-1:123456789012:{t}/abc");
            let c = canonicalise(&id);
            assert_eq!((c.kind, c.base, c.regional), (Other, id.as_str(), true), "{id}");
        }
        assert!(canonicalise("anthropic.claude-v2").regional);
        assert!(!canonicalise("us.anthropic.claude-v2").regional);
        assert!(!canonicalise("kr.anthropic.claude-v2").regional);
    }
}
