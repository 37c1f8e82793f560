//! End to end on a generated corpus: every count in summary.json equals what this test computes
//! on its own from the raw files, following the contract, without using mila's parser.

mod common;
use common::*;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

const PRICES: &str = "model,region,tier,input,output,cache_read,cache_write
anthropic.claude-3-haiku-20240307-v1:0,*,*,0.25,1.25,,
amazon.nova-lite-v1:0,*,*,0.06,0.24,,
amazon.nova-pro-v1:0,*,*,0.8,3.2,,
anthropic.claude-sonnet-4-20250514-v1:0,*,*,3,15,0.3,3.75
anthropic.claude-3-5-haiku-20241022-v1:0,*,*,0.8,4,0.08,1
anthropic.claude-sonnet-4-5-20250929-v1:0,*,global,3,15,0.3,3.75
anthropic.claude-sonnet-4-5-20250929-v1:0,*,regional,3.3,16.5,0.33,4.125
anthropic.claude-opus-4-5-20251101-v1:0,*,global,5,25,0.5,6.25
anthropic.claude-3-5-sonnet-20240620-v1:0,*,*,3,15,,
amazon.titan-embed-text-v2:0,*,*,0.02,0,,
anthropic.claude-3-7-sonnet-20250219-v1:0,*,*,3,15,0.3,3.75
";

const POLICY: &str = "[[rule]]\nsource = \"eu-*\"\nallow = [\"eu-*\"]\n[[rule]]\nsource = \"us-*\"\nallow = [\"us-east-1\", \"us-west-2\"]\n";

/// (arn, model, regions, tags): the first three profiles the generator uses; the fourth stays unresolved.
type TestProfile = (String, String, Vec<String>, BTreeMap<String, String>);

fn profiles() -> Vec<TestProfile> {
    let p = mila::sample::APP_PROFILES;
    let tags = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    vec![
        (
            p[0].0.into(),
            "us.anthropic.claude-sonnet-4-20250514-v1:0".into(),
            vec!["us-east-1".into(), "us-east-2".into(), "us-west-2".into()],
            tags(&[("team", "search"), ("env", "prod")]),
        ),
        (
            p[1].0.into(),
            "anthropic.claude-3-haiku-20240307-v1:0".into(),
            vec!["eu-west-1".into()],
            tags(&[("team", "support"), ("env", "prod")]),
        ),
        (
            p[2].0.into(),
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0".into(),
            vec!["us-west-2".into(), "us-east-1".into()],
            tags(&[("team", "research")]),
        ),
    ]
}

fn profiles_toml() -> String {
    profiles()
        .iter()
        .map(|(arn, model, regions, tags)| {
            let regions: Vec<String> = regions.iter().map(|r| format!("\"{r}\"")).collect();
            let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k} = \"{v}\"")).collect();
            format!(
                "[[profile]]\narn = \"{arn}\"\nmodel = \"{model}\"\nregions = [{}]\ntags = {{ {} }}\n\n",
                regions.join(", "),
                tags.join(", ")
            )
        })
        .collect()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[derive(Default, Debug)]
struct Expected {
    lines: u64,
    duplicates: u64,
    skipped: u64,
    errors: BTreeMap<String, u64>,
    routes: BTreeMap<String, [u64; 3]>,
    flows: BTreeMap<(String, Option<String>), u64>,
    latencies: BTreeMap<String, Vec<i64>>,
    calls: BTreeMap<String, u64>,
    tokens: BTreeMap<String, [u64; 5]>,
    usd: BTreeMap<String, f64>,
    unpriced: u64,
    tags: BTreeMap<(String, String), f64>,
    residency: BTreeMap<String, [u64; 3]>,
}

fn base_model(model_id: &str, profiles: &HashMap<String, (String, Vec<String>)>) -> (String, &'static str) {
    let strip = |id: &str| -> (String, &'static str) {
        if let Some(rest) = id.strip_prefix("global.") {
            return (rest.to_string(), "global");
        }
        for p in ["us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "in."] {
            if let Some(rest) = id.strip_prefix(p) {
                return (rest.to_string(), "geo");
            }
        }
        (id.to_string(), "fm")
    };
    if model_id.contains(":application-inference-profile/") {
        return match profiles.get(model_id) {
            Some((m, _)) => (strip(m).0, "app"),
            None => (model_id.to_string(), "app"),
        };
    }
    if let Some((_, name)) = model_id.split_once(":inference-profile/") {
        return strip(name);
    }
    if let Some((_, name)) = model_id.split_once(":foundation-model/") {
        return (name.to_string(), "fm");
    }
    // Provisioned, deployed, imported and custom models run in the region that owns them.
    for t in [":provisioned-model/", ":custom-model-deployment/", ":imported-model/", ":custom-model/"] {
        if model_id.contains(t) {
            return (model_id.to_string(), "regional");
        }
    }
    if model_id.starts_with("arn:") {
        return (model_id.to_string(), "other");
    }
    strip(model_id)
}

fn nearest_rank(sorted: &[i64], q: f64) -> i64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.max(1) - 1]
}

fn expected(root: &Path) -> Expected {
    let mut prices: HashMap<(String, String), [f64; 4]> = HashMap::new();
    for line in PRICES.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let input: f64 = c[3].parse().unwrap();
        let cr = if c[5].is_empty() { input * 0.1 } else { c[5].parse().unwrap() };
        let cw = if c[6].is_empty() { input * 1.25 } else { c[6].parse().unwrap() };
        prices.insert((c[0].to_string(), c[2].to_string()), [input, c[4].parse().unwrap(), cr, cw]);
    }
    let profs: HashMap<String, (String, Vec<String>)> =
        profiles().into_iter().map(|(a, m, r, _)| (a, (m, r))).collect();
    let tag_of: HashMap<String, BTreeMap<String, String>> = profiles().into_iter().map(|(a, _, _, t)| (a, t)).collect();
    let tag_keys = ["env", "team"];

    let mut all = Vec::new();
    files(root, &mut all);
    let mut e = Expected::default();
    let mut seen = HashSet::new();
    for path in all {
        let in_data = path.parent().unwrap().file_name().unwrap() == "data";
        if in_data || !path.to_str().unwrap().ends_with(".json.gz") {
            e.skipped += 1;
            continue;
        }
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            e.lines += 1;
            let r: Value = serde_json::from_str(line).unwrap();
            if !seen.insert(r["requestId"].as_str().unwrap().to_string()) {
                e.duplicates += 1;
                continue;
            }
            let src = r["region"].as_str().unwrap().to_string();
            let model_id = r["modelId"].as_str().unwrap();
            let (model, kind) = base_model(model_id, &profs);
            let ir = r["inferenceRegion"].as_str().map(str::to_string).or_else(|| {
                let single = profs.get(model_id).is_some_and(|(_, regions)| regions.len() == 1 && regions[0] == src);
                (kind == "fm" || kind == "regional" || (kind == "app" && single)).then(|| src.clone())
            });
            let route = match &ir {
                None => 2,
                Some(i) if *i == src => 0,
                Some(_) => 1,
            };
            e.routes.entry(src.clone()).or_default()[route] += 1;
            *e.flows.entry((src.clone(), ir.clone())).or_default() += 1;
            let error = r["errorCode"].as_str();
            if let Some(code) = error {
                *e.errors.entry(code.to_string()).or_default() += 1;
            }
            let op = r["operation"].as_str().unwrap();
            let body = &r["output"]["outputBodyJson"];
            let metrics = body
                .as_array()
                .and_then(|chunks| chunks.iter().find_map(|c| c.get("amazon-bedrock-invocationMetrics")));
            let latency = match op {
                "Converse" | "ConverseStream" => body["metrics"]["latencyMs"].as_i64(),
                "InvokeModelWithResponseStream" => metrics.and_then(|m| m["invocationLatency"].as_i64()),
                _ => None,
            };
            if let (None, Some(region)) = (error, &ir) {
                *e.calls.entry(region.clone()).or_default() += 1;
                if let Some(l) = latency {
                    e.latencies.entry(region.clone()).or_default().push(l);
                }
            }
            let count = |v: &Value| v.as_u64().unwrap_or(0);
            let cache = |key: &str| {
                r["input"].get(key).map(count).or_else(|| metrics.and_then(|m| m.get(key)).map(count)).unwrap_or(0)
            };
            let t = [
                1,
                count(&r["input"]["inputTokenCount"]),
                count(&r["output"]["outputTokenCount"]),
                cache("cacheReadInputTokenCount"),
                cache("cacheWriteInputTokenCount"),
            ];
            let row = e.tokens.entry(model.clone()).or_default();
            for (a, b) in row.iter_mut().zip(t) {
                *a += b;
            }
            let tier = if kind == "global" { "global" } else { "regional" };
            let price = prices
                .get(&(model.clone(), tier.to_string()))
                .or_else(|| prices.get(&(model.clone(), "*".to_string())));
            let usd = match (error, price) {
                (Some(_), _) => Some(0.0),
                (None, Some(p)) => {
                    Some((t[1] as f64 * p[0] + t[2] as f64 * p[1] + t[3] as f64 * p[2] + t[4] as f64 * p[3]) / 1e6)
                }
                (None, None) => None,
            };
            match usd {
                Some(u) => *e.usd.entry(model.clone()).or_default() += u,
                None => {
                    e.usd.entry(model.clone()).or_default();
                    e.unpriced += 1;
                }
            }
            for key in tag_keys {
                let value =
                    tag_of.get(model_id).and_then(|t| t.get(key)).cloned().unwrap_or_else(|| "(untagged)".into());
                *e.tags.entry((key.to_string(), value)).or_default() += usd.unwrap_or(0.0);
            }
            let allow: Option<&[&str]> = if src.starts_with("eu-") {
                Some(&["eu-"])
            } else if src.starts_with("us-") {
                Some(&["us-east-1", "us-west-2"])
            } else {
                None
            };
            if let Some(allow) = allow {
                let res = e.residency.entry(src.clone()).or_default();
                res[0] += 1;
                match &ir {
                    None => res[2] += 1,
                    Some(i) if !allow.iter().any(|a| if a.ends_with('-') { i.starts_with(a) } else { i == a }) => {
                        res[1] += 1
                    }
                    Some(_) => {}
                }
            }
        }
    }
    e
}

#[test]
fn summary_equals_an_independent_count_of_a_generated_corpus() {
    let dir = tempdir();
    let corpus = dir.path().join("bucket");
    ok(&["sample", "--out", &corpus.display().to_string(), "--records", "4000", "--seed", "42"]);
    std::fs::write(dir.path().join("prices.csv"), PRICES).unwrap();
    std::fs::write(dir.path().join("profiles.toml"), profiles_toml()).unwrap();
    std::fs::write(dir.path().join("policy.toml"), POLICY).unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let s = ok(&[
        "report",
        &corpus.display().to_string(),
        "--format",
        "json",
        "--prices",
        &p("prices.csv"),
        "--profiles",
        &p("profiles.toml"),
        "--policy",
        &p("policy.toml"),
    ])
    .json();
    let e = expected(&corpus);

    // The corpus exercises what it should.
    assert!(e.duplicates > 0 && e.unpriced > 0 && e.errors.len() >= 3, "{e:?}");
    assert!(e.skipped > 1, "sidecars and the permission check are in the corpus");

    let rec = &s["records"];
    assert_eq!(rec["lines"], e.lines);
    assert_eq!(rec["parsed"], e.lines);
    assert_eq!(rec["rejected"], 0);
    assert_eq!(rec["duplicates"], e.duplicates);
    assert_eq!(rec["skipped_objects"], e.skipped);
    assert_eq!(rec["invocation_errors"], e.errors.values().sum::<u64>());
    assert_eq!(e.lines - e.duplicates, 4000);

    let rr = &s["rerouting"];
    let total = |i: usize| e.routes.values().map(|r| r[i]).sum::<u64>();
    assert_eq!(rr["requests"], 4000);
    assert_eq!(
        [rr["local"].as_u64().unwrap(), rr["rerouted"].as_u64().unwrap(), rr["unknown"].as_u64().unwrap()],
        [total(0), total(1), total(2)]
    );
    assert_close(&rr["rate"], total(1) as f64 / 4000.0, "rate");
    let by_src = by_key(&rr["by_source_region"], &["source_region"]);
    assert_eq!(by_src.len(), e.routes.len());
    for (src, r) in &e.routes {
        let got = by_src[src.as_str()];
        assert_eq!(
            [got["local"].as_u64().unwrap(), got["rerouted"].as_u64().unwrap(), got["unknown"].as_u64().unwrap()],
            *r,
            "{src}"
        );
    }
    let flows = by_key(&rr["flows"], &["source_region", "inference_region"]);
    assert_eq!(flows.len(), e.flows.len());
    for ((src, ir), n) in &e.flows {
        let key = format!("{src}|{}", ir.as_deref().unwrap_or("null"));
        assert_eq!(flows[key.as_str()]["requests"], *n, "flow {key}");
    }

    let lat = by_key(&s["latency"]["by_inference_region"], &["inference_region"]);
    assert_eq!(s["latency"]["known"], e.latencies.values().map(Vec::len).sum::<usize>());
    assert_eq!(lat.len(), e.latencies.len());
    for (region, values) in &e.latencies {
        let mut v = values.clone();
        v.sort();
        let got = lat[region.as_str()];
        assert_eq!(got["requests"], v.len(), "{region}");
        assert_eq!(got["calls"], e.calls[region], "{region}");
        for (field, q) in [("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)] {
            assert_eq!(got[field], nearest_rank(&v, q), "{region} {field}");
        }
        assert_close(&got["mean_ms"], v.iter().sum::<i64>() as f64 / v.len() as f64, "mean");
    }

    let tok = by_key(&s["tokens"]["by_model"], &["model"]);
    assert_eq!(tok.len(), e.tokens.len());
    for (model, t) in &e.tokens {
        let got = tok[model.as_str()];
        let g = ["requests", "input", "output", "cache_read", "cache_write"].map(|k| got[k].as_u64().unwrap());
        assert_eq!(g, *t, "{model}");
    }

    let cost = &s["cost"];
    assert_eq!(cost["unpriced_requests"], e.unpriced);
    assert_close(&cost["total"], e.usd.values().sum(), "total");
    let cm = by_key(&cost["by_model"], &["model"]);
    for (model, usd) in &e.usd {
        assert_close(&cm[model.as_str()]["usd"], *usd, model);
    }
    let tags = by_key(&cost["by_tag"], &["key", "value"]);
    assert_eq!(tags.len(), e.tags.len(), "{tags:?}");
    for ((k, v), usd) in &e.tags {
        assert_close(&tags[format!("{k}|{v}").as_str()]["usd"], *usd, &format!("{k}={v}"));
    }

    let res = &s["residency"];
    let rs = by_key(&res["by_source_region"], &["source_region"]);
    assert_eq!(rs.len(), e.residency.len());
    for (src, r) in &e.residency {
        let got = rs[src.as_str()];
        assert_eq!(["checked", "violations", "unverifiable"].map(|k| got[k].as_u64().unwrap()), *r, "{src}");
    }
    assert!(res["violations"].as_u64().unwrap() > 0);

    let errs = by_key(&s["errors"]["by_code"], &["error_code"]);
    for (code, n) in &e.errors {
        assert_eq!(errs[code.as_str()]["requests"], *n, "{code}");
    }
}

#[test]
fn sample_is_deterministic_for_a_seed() {
    let dir = tempdir();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        ok(&["sample", "--out", &d.display().to_string(), "--records", "300", "--seed", "7"]);
    }
    let (mut fa, mut fb) = (Vec::new(), Vec::new());
    files(&a, &mut fa);
    files(&b, &mut fb);
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.strip_prefix(&a).unwrap(), y.strip_prefix(&b).unwrap());
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap(), "{}", x.display());
    }
}
