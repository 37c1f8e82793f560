//! The weekly report on the shipped sample-logs/ (ISO week 2026-W46): report.md and the SVG charts
//! against reviewed snapshots, the PNGs decoded by an independent reader, and the numbers every
//! view shows against summary.json.
//!
//! After a deliberate change to the report, refresh the snapshots with
//! `MILA_UPDATE_SNAPSHOTS=1 cargo test --release --test report`, look at them, and commit them.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Every chart, with its size for this corpus (the bar charts grow with their rows).
const CHARTS: [(&str, u32, u32); 8] = [
    ("rerouting-matrix", 1052, 534),
    ("rerouting-rate-by-day", 1000, 560),
    ("logging-coverage-by-day", 1000, 560),
    ("latency-by-region", 1000, 854),
    ("latency-local-vs-rerouted", 1000, 900),
    ("cost-by-day", 1000, 560),
    ("capacity-by-quota-kind", 1000, 1320),
    ("volume-by-day", 1000, 800),
];

fn snapshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/sample-2026-W46")
}

/// Runs the README's weekly report; relative paths, so that the report names no machine's folders.
fn sample_report() -> (TempDir, PathBuf) {
    let dir = tempdir();
    let out = dir.path().join("report");
    ok(&[
        "report",
        "sample-logs",
        "--profiles",
        "sample-logs/profiles.toml",
        "--policy",
        "sample-logs/policy.toml",
        "--week",
        "2026-W46",
        "--by-metadata",
        "application_name",
        "--out",
        out.to_str().unwrap(),
    ]);
    (dir, out)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of every `<text>` element of an SVG, unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let body = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            body.trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{A0}');
        }
        out.push(c);
    }
    out
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn report_md_and_svg_charts_match_their_snapshots() {
    let (_dir, out) = sample_report();
    let update = std::env::var_os("MILA_UPDATE_SNAPSHOTS").is_some();
    let mut files = vec!["report.md".to_string()];
    files.extend(CHARTS.iter().map(|(name, _, _)| format!("{name}.svg")));
    for f in files {
        let got = read(&out.join(&f));
        let want_path = snapshots().join(&f);
        if update {
            std::fs::create_dir_all(snapshots()).unwrap();
            std::fs::write(&want_path, &got).unwrap();
            continue;
        }
        let want = read(&want_path);
        if got != want {
            let (n, (g, w)) = got
                .lines()
                .zip(want.lines())
                .enumerate()
                .find(|(_, (g, w))| g != w)
                .unwrap_or((got.lines().count().min(want.lines().count()), ("(end)", "(end)")));
            panic!(
                "{f} differs from {} at line {}:\n  got:  {g}\n  want: {w}\n(MILA_UPDATE_SNAPSHOTS=1 refreshes the snapshots after a deliberate change)",
                want_path.display(),
                n + 1
            );
        }
    }
}

#[test]
fn pngs_decode_to_the_size_of_their_svg() {
    let (_dir, out) = sample_report();
    for (name, width, height) in CHARTS {
        let bytes = std::fs::read(out.join(format!("{name}.png"))).unwrap();
        let img = png::decode(&bytes).unwrap_or_else(|e| panic!("{name}.png: {e}"));
        assert_eq!((img.width, img.height), (width, height), "{name}.png");
        let svg = read(&out.join(format!("{name}.svg")));
        assert!(svg.starts_with(&format!("<svg width=\"{width}\" height=\"{height}\"")), "{name}.svg: {}", &svg[..60]);
        // A white page with dark title text in its top left.
        assert_eq!(img.pixel(0, 0), [255, 255, 255], "{name}.png corner");
        let dark =
            (14..40).flat_map(|y| (20..300).map(move |x| (x, y))).filter(|&(x, y)| img.pixel(x, y)[0] < 100).count();
        assert!(dark > 150, "{name}.png: {dark} dark pixels where the title is");
        let has = |c: [u8; 3]| (0..img.height).any(|y| (0..img.width).any(|x| img.pixel(x, y) == c));
        // The heatmap's local cells are outlined in ink; the other charts' first series is blue.
        let colour = if name == "rerouting-matrix" { [0x22, 0x22, 0x22] } else { [0x00, 0x72, 0xB2] };
        assert!(has(colour), "{name}.png has no {colour:?}");
    }
}

#[test]
fn every_view_shows_the_numbers_of_summary_json() {
    let (_dir, out) = sample_report();
    let s: Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let md = read(&out.join("report.md"));
    let html = read(&out.join("report.html"));

    // The day series add up to the window's totals.
    let days = s["daily"]["by_source_region"].as_array().unwrap();
    let sum = |f: &str| days.iter().map(|d| u(&d[f])).sum::<u64>();
    assert_eq!(sum("requests"), u(&s["rerouting"]["requests"]));
    assert_eq!(sum("rerouted"), u(&s["rerouting"]["rerouted"]));
    assert_eq!(sum("unknown"), u(&s["rerouting"]["unknown"]));
    let tokens = s["tokens"]["by_model"].as_array().unwrap();
    for (day_field, model_field) in
        [("input_tokens", "input"), ("output_tokens", "output"), ("cache_read_tokens", "cache_read")]
    {
        assert_eq!(sum(day_field), tokens.iter().map(|t| u(&t[model_field])).sum::<u64>(), "{day_field}");
    }
    let day_cost = s["daily"]["cost_by_model"].as_array().unwrap();
    let total: f64 = day_cost.iter().map(|d| d["usd"].as_f64().unwrap()).sum();
    assert!((total - s["cost"]["total"].as_f64().unwrap()).abs() < 1e-9, "{total}");
    assert_eq!(
        days.iter().filter(|d| d["day"] == "2026-11-09").count(),
        6,
        "five source regions on the first day, and ap-south-1 from CloudTrail"
    );
    // Cost by caller, request metadata, source region and model-id kind: each splits every
    // request and every dollar once.
    // Cost counts the calls with an invocation-log record: CloudTrail has no tokens to price.
    let logged = u(&s["sources"]["invocation_log_records"]);
    assert_eq!(logged + u(&s["sources"]["cloudtrail_only"]), u(&s["rerouting"]["requests"]));
    for view in ["by_identity", "by_request_metadata", "by_source_region", "by_model_id_kind", "by_model"] {
        let rows = s["cost"][view].as_array().unwrap();
        assert_eq!(rows.iter().map(|r| u(&r["requests"])).sum::<u64>(), logged, "{view}");
        let usd: f64 = rows.iter().map(|r| r["usd"].as_f64().unwrap()).sum();
        assert!((usd - s["cost"]["total"].as_f64().unwrap()).abs() < 1e-9, "{view}: {usd}");
    }
    assert_eq!(s["cost"]["by_identity"].as_array().unwrap().len(), 100, "5 roles x 20 sessions");
    assert_eq!(s["cost"]["by_source_region"].as_array().unwrap().len(), 5, "ap-south-1 has no logs to price");
    let kinds: Vec<&str> = s["cost"]["by_model_id_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["model_id_kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["application-profile", "foundation-model", "geo-profile", "global-profile", "other"]);

    // Per-day table in report.md and report.html: the day rows of summary.json, summed.
    let mut per_day: BTreeMap<&str, (u64, u64, u64, u64, f64)> = BTreeMap::new();
    for d in days {
        let e = per_day.entry(d["day"].as_str().unwrap()).or_default();
        e.0 += u(&d["requests"]);
        e.1 += u(&d["rerouted"]);
        e.2 += u(&d["input_tokens"]);
        e.3 += u(&d["output_tokens"]);
    }
    for c in day_cost {
        per_day.get_mut(c["day"].as_str().unwrap()).unwrap().4 += c["usd"].as_f64().unwrap();
    }
    assert_eq!(per_day.len(), 7);
    for (day, (req, rer, inp, outp, usd)) in &per_day {
        let pct = format!("{:.1}%", *rer as f64 * 100.0 / *req as f64);
        let cells = [
            day.to_string(),
            req.to_string(),
            rer.to_string(),
            pct,
            inp.to_string(),
            outp.to_string(),
            format!("${usd:.4}"),
        ];
        assert!(md.contains(&format!("| {} |", cells.join(" | "))), "report.md has no row for {day}: {cells:?}");
        let td: String = cells
            .iter()
            .enumerate()
            .map(|(i, c)| if i == 0 { format!("<td>{c}</td>") } else { format!("<td class=\"n\">{c}</td>") })
            .collect();
        assert!(html.contains(&format!("<tr>{td}</tr>")), "report.html has no row for {day}");
    }

    // The heatmap: exactly the flows' counts in its cells, and each source region's share.
    let heat = svg_texts(&read(&out.join("rerouting-matrix.svg")));
    let mut cells: Vec<String> = heat
        .iter()
        .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '\u{A0}'))
        .cloned()
        .collect();
    let mut flows: Vec<String> =
        s["rerouting"]["flows"].as_array().unwrap().iter().map(|f| thousands(u(&f["requests"]))).collect();
    cells.sort();
    flows.sort();
    assert_eq!(cells, flows);
    for r in s["rerouting"]["by_source_region"].as_array().unwrap() {
        let local = s["rerouting"]["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["source_region"] == r["source_region"] && f["inference_region"] == r["source_region"])
            .unwrap();
        let share = format!("{:.1}%", u(&local["requests"]) as f64 * 100.0 / u(&r["requests"]) as f64);
        assert!(heat.contains(&share), "local share {share} of {} not in the heatmap", r["source_region"]);
    }

    // Latency per inference region: the three percentiles, calls and coverage of every row.
    let lat = svg_texts(&read(&out.join("latency-by-region.svg")));
    for r in s["latency"]["by_inference_region"].as_array().unwrap() {
        for p in ["p50_ms", "p90_ms", "p99_ms"] {
            assert!(lat.contains(&thousands(u(&r[p]))), "{p} of {} not drawn", r["inference_region"]);
        }
        let detail = format!(
            "n = {} of {} calls · coverage {:.1}%",
            thousands(u(&r["requests"])),
            thousands(u(&r["calls"])),
            r["coverage"].as_f64().unwrap() * 100.0
        );
        assert!(lat.contains(&detail), "{detail} not drawn");
    }

    // Local vs rerouted: the most-rerouted pair's p50 · p90 on both sides.
    let pairs = s["latency"]["local_vs_rerouted"].as_array().unwrap();
    let top = pairs.iter().filter(|p| u(&p["local_requests"]) > 0).max_by_key(|p| u(&p["rerouted_requests"])).unwrap();
    let lvr = svg_texts(&read(&out.join("latency-local-vs-rerouted.svg")));
    for side in ["local", "rerouted"] {
        let label = format!(
            "{} · {}",
            thousands(u(&top[format!("{side}_p50_ms")])),
            thousands(u(&top[format!("{side}_p90_ms")]))
        );
        assert!(lvr.contains(&label), "{side} {label} not drawn for {top}");
    }

    // Cost per day: the total above each day's stack.
    let cost = svg_texts(&read(&out.join("cost-by-day.svg")));
    for (day, (.., usd)) in &per_day {
        assert!(cost.contains(&format!("${usd:.2}")), "cost of {day} (${usd:.2}) not drawn");
    }
    // Stacked by the tag with the most values: team (search, support, research).
    assert!(cost.contains(&"Cost per day by tag team".to_string()), "{cost:?}");
}

/// A record with latency, for the hand-worked day series below.
fn call(
    id: &str,
    ts: &str,
    region: &str,
    ran_in: Option<&str>,
    tokens: (u64, u64),
    latency: Option<u64>,
    error: bool,
) -> String {
    let mut r = serde_json::json!({
        "schemaType": "ModelInvocationLog", "timestamp": ts, "requestId": id, "region": region,
        "operation": "Converse", "modelId": "us.anthropic.claude-3-haiku-20240307-v1:0",
        "input": {"inputTokenCount": tokens.0}, "output": {"outputTokenCount": tokens.1},
    });
    if let Some(ir) = ran_in {
        r["inferenceRegion"] = serde_json::json!(ir);
    }
    if let Some(ms) = latency {
        r["output"]["outputBodyJson"] = serde_json::json!({"metrics": {"latencyMs": ms}});
    }
    if error {
        r["errorCode"] = serde_json::json!("ThrottlingException");
    }
    r.to_string()
}

#[test]
fn day_series_and_rerouting_latency_by_hand() {
    let lines = [
        // 2026-11-10, us-east-1: 3 requests, 1 rerouted, 1 unknown; 10+20+30 in, 1+2+3 out.
        call("a", "2026-11-10T00:00:00Z", "us-east-1", Some("us-east-1"), (10, 1), Some(100), false),
        call("b", "2026-11-10T12:00:00Z", "us-east-1", Some("us-west-2"), (20, 2), Some(400), false),
        call("c", "2026-11-10T23:59:59.999Z", "us-east-1", None, (30, 3), Some(900), false),
        // 2026-11-11 begins at midnight UTC: us-east-1 2 requests, both local; one failed.
        call("d", "2026-11-11T00:00:00Z", "us-east-1", Some("us-east-1"), (40, 4), Some(300), false),
        call("e", "2026-11-11T01:00:00Z", "us-east-1", Some("us-east-1"), (50, 5), Some(5000), true),
        // 2026-11-11, eu-west-1: 1 request, rerouted.
        call("f", "2026-11-11T02:00:00Z", "eu-west-1", Some("eu-central-1"), (60, 6), Some(700), false),
    ];
    let dir = tempdir();
    let logs = dir.path().join("d.jsonl");
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let s = ok(&["report", logs.to_str().unwrap(), "--format", "json"]).json();
    // (day, source region, requests, rerouted, unknown, input, output, rate)
    type DayRow = (String, String, u64, u64, u64, u64, u64, f64);
    let days: Vec<DayRow> = s["daily"]["by_source_region"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_string(),
                d["source_region"].as_str().unwrap().to_string(),
                u(&d["requests"]),
                u(&d["rerouted"]),
                u(&d["unknown"]),
                u(&d["input_tokens"]),
                u(&d["output_tokens"]),
                d["rerouting_rate"].as_f64().unwrap(),
            )
        })
        .collect();
    let row = |day: &str, src: &str, req, rer, unk, inp, out, rate| {
        (day.to_string(), src.to_string(), req, rer, unk, inp, out, rate)
    };
    assert_eq!(
        days,
        vec![
            row("2026-11-10", "us-east-1", 3, 1, 1, 60, 6, 1.0 / 3.0),
            row("2026-11-11", "eu-west-1", 1, 1, 0, 60, 6, 1.0),
            row("2026-11-11", "us-east-1", 2, 0, 0, 90, 9, 0.0),
        ]
    );
    // us-east-1 local successful calls with latency: a (100) and d (300): p50 = rank 1 = 100,
    // p90 = rank 2 = 300; e failed and c's route is unknown. Rerouted: b (400). eu-west-1 has no
    // local call.
    assert_eq!(
        s["latency"]["local_vs_rerouted"],
        serde_json::json!([
            {"source_region": "eu-west-1", "model": "anthropic.claude-3-haiku-20240307-v1:0",
             "local_requests": 0, "local_p50_ms": null, "local_p90_ms": null,
             "rerouted_requests": 1, "rerouted_p50_ms": 700, "rerouted_p90_ms": 700},
            {"source_region": "us-east-1", "model": "anthropic.claude-3-haiku-20240307-v1:0",
             "local_requests": 2, "local_p50_ms": 100, "local_p90_ms": 300,
             "rerouted_requests": 1, "rerouted_p50_ms": 400, "rerouted_p90_ms": 400},
        ])
    );
}

#[test]
fn an_empty_window_still_writes_every_chart_saying_so() {
    let dir = tempdir();
    let out = dir.path().join("empty");
    ok(&["report", "sample-logs", "--since", "2020-01-01", "--until", "2020-01-02", "--out", out.to_str().unwrap()]);
    // Logging coverage is drawn only when both kinds of record were read.
    for (name, _, _) in CHARTS.into_iter().filter(|c| c.0 != "logging-coverage-by-day") {
        let img = png::decode(&std::fs::read(out.join(format!("{name}.png"))).unwrap()).unwrap();
        assert!(img.width >= 1000 && img.height >= 200, "{name}: {}x{}", img.width, img.height);
        let texts = svg_texts(&read(&out.join(format!("{name}.svg"))));
        assert!(texts.iter().any(|t| t.starts_with("No ")), "{name}: {texts:?}");
    }
    let html = read(&out.join("report.html"));
    assert_eq!(html.matches("<svg").count(), 7);
}
