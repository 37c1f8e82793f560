//! `mila profiles fetch` against Bedrock's wire protocol on loopback. moto does not serve the
//! inference-profile operations, so a replay server answers with the responses under
//! tests/fixtures/bedrock/ (see its README); the binary, its SDK client, signing and
//! pagination are the real ones.

mod common;
use common::replay::{Replay, Request, Response};
use common::*;
use mila::given::profiles::{Profile, Profiles};

const ACCOUNT: &str = "111122223333";

fn arn(region: &str, id: &str) -> String {
    format!("arn:aws:bedrock:{region}:{ACCOUNT}:application-inference-profile/{id}")
}

fn fixture(name: &str) -> Option<String> {
    std::fs::read_to_string(fixtures().join("bedrock").join(name)).ok()
}

fn decode(s: &str) -> String {
    s.replace("%3A", ":").replace("%2F", "/").replace("%3D", "=")
}

/// Bedrock as recorded, less the profiles in `deleted` (gone from lists, 404 when read).
fn bedrock(deleted: &'static [&'static str]) -> impl Fn(&Request) -> Response + Send + Sync {
    move |r: &Request| {
        let not_found = || (404, fixture("not-found.json").unwrap());
        let id_of = |arn: &str| arn.rsplit('/').next().unwrap_or("").to_string();
        match (r.method.as_str(), r.path()) {
            ("GET", "/inference-profiles") => {
                let page = if r.query().contains("nextToken=") { 2 } else { 1 };
                let text = fixture(&format!("{}.list-{page}.json", r.region))
                    .unwrap_or_else(|| r#"{"inferenceProfileSummaries":[]}"#.into());
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
                v["inferenceProfileSummaries"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|p| !deleted.contains(&p["inferenceProfileId"].as_str().unwrap()));
                (200, v.to_string())
            }
            ("GET", path) if path.starts_with("/inference-profiles/") => {
                let id = id_of(&decode(&path["/inference-profiles/".len()..]));
                match fixture(&format!("get.{id}.json")) {
                    Some(body) if !deleted.contains(&id.as_str()) => (200, body),
                    _ => not_found(),
                }
            }
            ("POST", "/listTagsForResource") => {
                let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                let id = id_of(body["resourceARN"].as_str().unwrap());
                match fixture(&format!("tags.{id}.json")) {
                    Some(body) if !deleted.contains(&id.as_str()) => (200, body),
                    _ => not_found(),
                }
            }
            _ => (400, r#"{"__type":"ValidationException","message":"unexpected request"}"#.into()),
        }
    }
}

/// Today (UTC) as the binary sees it: either side of the run, in case it spans midnight.
fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn profile(p: &Profiles, arn: &str) -> Profile {
    p.get(arn)
        .unwrap_or_else(|| panic!("{arn} missing from {:?}", p.iter().map(|p| &p.arn).collect::<Vec<_>>()))
        .clone()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn tags(v: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    v.iter().map(|(k, t)| (k.to_string(), t.to_string())).collect()
}

#[test]
fn fetch_writes_every_application_profile_and_keeps_deleted_ones() {
    let server = Replay::start(bedrock(&[]));
    let dir = tempdir();
    let out = dir.path().join("profiles.toml");
    // An earlier snapshot: one profile since deleted in us-east-1, one in a region not fetched now.
    std::fs::write(
        &out,
        format!(
            "snapshot_date = 2026-11-01\n\
             [[profile]]\narn = \"{}\"\nmodel = \"meta.llama3-1-70b-instruct-v1:0\"\nregions = [\"us-east-1\"]\ntags = {{ team = \"retired\" }}\n\
             [[profile]]\narn = \"{}\"\nmodel = \"amazon.nova-micro-v1:0\"\nregions = [\"ap-northeast-1\"]\n",
            arn("us-east-1", "r3tired00001"),
            arn("ap-northeast-1", "t0kyo0000001"),
        ),
    )
    .unwrap();
    let before = today();
    let run = aws::mila_at(
        &server.url,
        &["profiles", "fetch", "--region", "us-east-1", "--region", "eu-west-1", "--out", out.to_str().unwrap()],
    );
    let after = today();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let day = if run.stderr.contains(&before) { before } else { after };
    assert!(
        run.stderr.contains(&format!(
            "wrote 6 profiles to {} (snapshot {day}): 4 listed now (us-east-1: 3, eu-west-1: 1), 1 kept that Bedrock no longer lists, 1 kept from regions not fetched this time",
            out.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("{}: deleted while being read; left out", arn("us-east-1", "g0ne00000000"))),
        "{}",
        run.stderr
    );

    let got = Profiles::load(&out).unwrap();
    assert_eq!(got.snapshot_date.map(|d| d.to_string()), Some(day.clone()));
    assert_eq!(got.iter().count(), 6);
    let sonnet4 = "anthropic.claude-sonnet-4-20250514-v1:0";
    let search = profile(&got, &arn("us-east-1", "s3arch0prod01"));
    assert_eq!(
        (search.model.as_str(), search.regions.clone(), search.tags.clone(), search.name.as_deref(), search.last_seen),
        (
            sonnet4,
            strings(&["us-east-1", "us-east-2", "us-west-2"]),
            tags(&[("cost-center", "cc-1234"), ("env", "prod"), ("team", "search")]),
            Some("search-prod"),
            None
        )
    );
    let batch = profile(&got, &arn("us-east-1", "b4tch0nightly"));
    assert_eq!(
        (batch.model.as_str(), batch.regions.clone(), batch.tags.clone()),
        (
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            strings(&["us-east-1"]),
            tags(&[("env", "prod"), ("team", "batch")])
        )
    );
    let nova = profile(&got, &arn("us-east-1", "n0va0lite001"));
    assert_eq!(
        (nova.model.as_str(), nova.regions.clone(), nova.tags.len()),
        ("amazon.nova-lite-v1:0", strings(&["us-east-1"]), 0)
    );
    let eu = profile(&got, &arn("eu-west-1", "r3search0eu1"));
    assert_eq!(
        (eu.model.as_str(), eu.regions.clone(), eu.tags.clone()),
        (
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            strings(&["eu-central-1", "eu-west-1", "eu-west-3"]),
            tags(&[("aws:cloudformation:stack-name", "rsch-stack"), ("team", "research")])
        )
    );
    let retired = profile(&got, &arn("us-east-1", "r3tired00001"));
    assert_eq!(
        (retired.last_seen.map(|d| d.to_string()), retired.tags["team"].as_str()),
        (Some("2026-11-01".into()), "retired")
    );
    let tokyo = profile(&got, &arn("ap-northeast-1", "t0kyo0000001"));
    assert_eq!(tokyo.last_seen, None);
    assert!(got.get(&arn("us-east-1", "g0ne00000000")).is_none());

    // What went over the wire: APPLICATION lists, page 2 by its token, each call signed for
    // its region, and the tags of every listed profile.
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.service == "bedrock"), "{requests:#?}");
    let lists: Vec<(&str, &str)> =
        requests.iter().filter(|r| r.path() == "/inference-profiles").map(|r| (r.region.as_str(), r.query())).collect();
    assert_eq!(lists.len(), 3, "{lists:?}");
    assert!(lists.iter().all(|(_, q)| q.contains("type=APPLICATION")), "{lists:?}");
    assert_eq!(
        lists.iter().filter(|(r, q)| *r == "us-east-1" && q.contains("nextToken=eyJwYWdlIjoyfQ%3D%3D")).count(),
        1,
        "{lists:?}"
    );
    assert_eq!(lists.iter().filter(|(r, _)| *r == "eu-west-1").count(), 1, "{lists:?}");
    let mut tagged: Vec<(String, String)> = requests
        .iter()
        .filter(|r| r.path() == "/listTagsForResource")
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            (r.region.clone(), body["resourceARN"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        })
        .collect();
    tagged.sort();
    assert_eq!(
        tagged,
        [
            ("eu-west-1", "r3search0eu1"),
            ("us-east-1", "b4tch0nightly"),
            ("us-east-1", "g0ne00000000"),
            ("us-east-1", "n0va0lite001"),
            ("us-east-1", "s3arch0prod01")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(requests.iter().filter(|r| r.path().starts_with("/inference-profiles/")).count(), 5);
}

fn record(id: &str, model_id: &str, inference_region: Option<&str>, tokens: (u64, u64)) -> String {
    let mut r = serde_json::json!({
        "schemaType": "ModelInvocationLog", "timestamp": "2026-11-10T08:00:00Z", "requestId": id,
        "region": "us-east-1", "operation": "Converse", "modelId": model_id,
        "input": {"inputTokenCount": tokens.0}, "output": {"outputTokenCount": tokens.1},
    });
    if let Some(region) = inference_region {
        r["inferenceRegion"] = region.into();
    }
    r.to_string()
}

/// Fetch, the profile deleted in Bedrock, fetch again: a log from before the deletion still
/// resolves to its model and tags through the kept snapshot.
#[test]
fn logs_of_a_deleted_profile_still_resolve_after_the_next_fetch() {
    let dir = tempdir();
    let out = dir.path().join("profiles.toml");
    let first = Replay::start(bedrock(&[]));
    let run = aws::mila_at(&first.url, &["profiles", "fetch", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("wrote 3 profiles") && run.stderr.contains("(us-east-1: 3)"), "{}", run.stderr);
    let second = Replay::start(bedrock(&["b4tch0nightly"]));
    let run = aws::mila_at(&second.url, &["profiles", "fetch", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("2 listed now (us-east-1: 2), 1 kept that Bedrock no longer lists"), "{}", run.stderr);
    let kept = profile(&Profiles::load(&out).unwrap(), &arn("us-east-1", "b4tch0nightly"));
    assert!(kept.last_seen.is_some() && kept.model == "anthropic.claude-3-5-haiku-20241022-v1:0", "{kept:?}");

    let logs = dir.path().join("logs.jsonl");
    let lines = [
        // Sonnet 4 at 3 / 15 per million: 0.003 + 0.0015
        record("a", &arn("us-east-1", "s3arch0prod01"), Some("us-west-2"), (1000, 100)),
        // Haiku 3.5 at 0.8 / 4 per million: 0.0016 + 0.002; one region, so local
        record("b", &arn("us-east-1", "b4tch0nightly"), None, (2000, 500)),
        // Not in the snapshot: unpriced, route unknown
        record("c", &arn("us-east-1", "unkn0wn00001"), None, (5000, 5000)),
    ];
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let prices = dir.path().join("prices.csv");
    std::fs::write(
        &prices,
        "model,region,tier,input,output,cache_read,cache_write\n\
         anthropic.claude-sonnet-4-20250514-v1:0,*,*,3,15,,\n\
         anthropic.claude-3-5-haiku-20241022-v1:0,*,*,0.8,4,,\n",
    )
    .unwrap();
    let report = ok(&[
        "report",
        logs.to_str().unwrap(),
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-20",
        "--profiles",
        out.to_str().unwrap(),
        "--prices",
        prices.to_str().unwrap(),
        "--format",
        "json",
    ])
    .json();
    let in_use = report["cost"]["profiles"].as_str().unwrap();
    assert!(
        in_use.ends_with(&format!("profiles.toml: 3 application profiles, snapshot of {}", kept.last_seen.unwrap())),
        "{in_use}"
    );
    assert_close(&report["cost"]["total"], 0.0081, "total");
    assert_eq!(report["cost"]["unpriced_requests"], 1);
    let r = &report["rerouting"];
    assert_eq!((r["local"].as_u64(), r["rerouted"].as_u64(), r["unknown"].as_u64()), (Some(1), Some(1), Some(1)));
    let by_tag = by_key(&report["cost"]["by_tag"], &["key", "value"]);
    assert_close(&by_tag["team|search"]["usd"], 0.0045, "team=search");
    assert_close(&by_tag["team|batch"]["usd"], 0.0036, "team=batch");
    assert_close(&by_tag["team|(untagged)"]["usd"], 0.0, "team=(untagged)");
    assert_close(&by_tag["cost-center|cc-1234"]["usd"], 0.0045, "cost-center");
    let models = by_key(&report["cost"]["by_model"], &["model"]);
    assert_close(&models["anthropic.claude-3-5-haiku-20241022-v1:0"]["usd"], 0.0036, "haiku");
    assert!(models.contains_key(&arn("us-east-1", "unkn0wn00001")), "{models:?}");
}

#[test]
fn failures_name_the_permission_and_leave_the_file_alone() {
    let dir = tempdir();
    let out = dir.path().join("profiles.toml");
    let previous =
        format!("snapshot_date = 2026-11-01\n[[profile]]\narn = \"{}\"\nmodel = \"m.x\"\n", arn("us-east-1", "k33p"));
    std::fs::write(&out, &previous).unwrap();

    let denied = Replay::start(|_: &Request| (403, fixture("access-denied.json").unwrap()));
    let run = aws::mila_at(&denied.url, &["profiles", "fetch", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("application inference profiles in us-east-1: AccessDeniedException")
            && run.stderr.contains("the credentials in use lack bedrock:ListInferenceProfiles"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(aws::SECRET), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), previous);

    // Not a profiles file: refused, not overwritten.
    let other = dir.path().join("notes.toml");
    std::fs::write(&other, "title = \"my notes\"\n").unwrap();
    let ok_server = Replay::start(bedrock(&[]));
    let run = aws::mila_at(&ok_server.url, &["profiles", "fetch", "--out", other.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a profiles file; not overwriting it"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "title = \"my notes\"\n");
    assert!(ok_server.requests().is_empty());

    // No region anywhere.
    let run =
        aws::mila_env(&ok_server.url, &[("AWS_REGION", "")], &["profiles", "fetch", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no AWS region: pass --region"), "{}", run.stderr);

    let run =
        aws::mila_at(&ok_server.url, &["profiles", "fetch", "--region", "us-east", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--region `us-east` is not an AWS region name"), "{}", run.stderr);
}

/// Throttled twice, then answered: the SDK's standard retries carry the fetch through.
#[test]
fn throttling_is_retried() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = AtomicUsize::new(0);
    let inner = bedrock(&[]);
    let server = Replay::start(move |r: &Request| {
        if r.path() == "/inference-profiles" && calls.fetch_add(1, Ordering::SeqCst) < 2 {
            return (429, fixture("throttled.json").unwrap());
        }
        inner(r)
    });
    let dir = tempdir();
    let out = dir.path().join("p.toml");
    let run =
        aws::mila_at(&server.url, &["profiles", "fetch", "--region", "eu-west-1", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(Profiles::load(&out).unwrap().iter().count(), 1);
    assert_eq!(server.requests().iter().filter(|r| r.path() == "/inference-profiles").count(), 3);
}
