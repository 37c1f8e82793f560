//! `mila quotas fetch` against the Service Quotas wire protocol on loopback. moto does not serve
//! Bedrock's quotas, so a replay server answers with the responses under
//! tests/fixtures/servicequotas/ (see its README); the binary, its SDK client, signing and
//! pagination are the real ones.

mod common;
use common::replay::{Replay, Request, Response};
use common::*;
use mila::given::quotas::{QuotaKind, Quotas};
use serde_json::Value;

fn fixture(name: &str) -> Option<String> {
    std::fs::read_to_string(fixtures().join("servicequotas").join(name)).ok()
}

fn service_quotas(r: &Request) -> Response {
    if r.operation != "ServiceQuotasV20190624.ListServiceQuotas" {
        return (400, r#"{"__type":"IllegalArgumentException","message":"unexpected operation"}"#.into());
    }
    let body: Value = serde_json::from_str(&r.body).unwrap();
    if body["ServiceCode"] != "bedrock" {
        return (400, r#"{"__type":"NoSuchResourceException","message":"service code"}"#.into());
    }
    let page = match body["NextToken"].as_str() {
        None => 1,
        Some("page-2") => 2,
        Some(_) => return (400, r#"{"__type":"InvalidPaginationTokenException","message":"token"}"#.into()),
    };
    match fixture(&format!("{}.page-{page}.json", r.region)) {
        Some(text) => (200, text),
        None => (400, r#"{"__type":"AccessDeniedException","message":"User is not authorized"}"#.into()),
    }
}

const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

#[test]
fn fetch_maps_every_per_minute_quota_and_lists_the_rest() {
    let server = Replay::start(service_quotas);
    let dir = tempdir();
    let out = dir.path().join("quotas.toml");
    let run = aws::mila_at(
        &server.url,
        &["quotas", "fetch", "--region", "us-east-1", "--region", "eu-west-1", "--out", out.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Two pages in us-east-1, one in eu-west-1.
    let requests = server.requests();
    assert_eq!(requests.iter().map(|r| r.region.as_str()).collect::<Vec<_>>(), ["us-east-1", "us-east-1", "eu-west-1"]);
    assert!(requests.iter().all(|r| r.service == "servicequotas"));
    assert!(
        run.stderr.contains(&format!(
            "mila: wrote 6 quotas to {} (us-east-1: 4, eu-west-1: 2); 2 per-minute quota names not mapped to a model; 2 other Bedrock quotas are not per-minute inference quotas",
            out.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("left out: not mapped to a model: us-east-1: On-demand model inference tokens per minute for Acme Frontier 9"), "{}", run.stderr);
    assert!(run.stderr.contains("left out: us-east-1: On-demand model inference requests per minute for Amazon Nova Lite: value Some(0.0) is not a quota per minute"), "{}", run.stderr);
    // A value past 10^12 a minute is not a quota either.
    assert!(run.stderr.contains("left out: eu-west-1: Global cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1: value Some(1e300) is not a quota per minute"), "{}", run.stderr);

    // A name from AWS is escaped wherever it is written: on the terminal, and in the file's comment,
    // where a newline or a control character would otherwise break out of it.
    let odd = r"Odd\u{d}\u{7}\u{202e}Name\u{a}[[quota]]";
    assert!(
        run.stderr.contains(&format!(
            "not mapped to a model: eu-west-1: On-demand model inference tokens per minute for {odd}"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{202e}') && !run.stderr.contains('\u{7}'));
    assert!(std::fs::read_to_string(&out).unwrap().contains(odd));
    let q = Quotas::load(&out).unwrap();
    let get = |region: &str, model: &str, kind| {
        q.get(region, model, kind).map(|q| (q.requests_per_minute, q.tokens_per_minute))
    };
    assert_eq!(get("us-east-1", SONNET, QuotaKind::InRegion), Some((Some(200), Some(200_000))));
    assert_eq!(get("us-east-1", SONNET, QuotaKind::Geographic), Some((Some(400), Some(400_000))));
    assert_eq!(get("us-east-1", SONNET, QuotaKind::Global), Some((Some(500), Some(1_000_000))));
    assert_eq!(get("us-east-1", "amazon.titan-embed-text-v2:0", QuotaKind::InRegion), Some((Some(2_000), None)));
    assert_eq!(get("eu-west-1", SONNET, QuotaKind::InRegion), Some((Some(50), None)));
    // A fractional value is rounded to whole tokens.
    assert_eq!(get("eu-west-1", SONNET, QuotaKind::Geographic), Some((None, Some(250_001))));
    assert_eq!(q.quotas.len(), 6);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains(
            "#   not mapped to a model: us-east-1: On-demand model inference tokens per minute for Acme Frontier 9"
        ),
        "{text}"
    );

    // The file feeds a report: a geographic call is judged against the geographic quota.
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(
        &logs,
        format!(
            r#"{{"timestamp":"2026-11-10T08:00:00Z","requestId":"a","region":"us-east-1","operation":"Converse","modelId":"us.{SONNET}","inferenceRegion":"us-east-2","input":{{"inputTokenCount":100}},"output":{{"outputTokenCount":10}}}}"#
        ),
    )
    .unwrap();
    let s = ok(&["report", logs.to_str().unwrap(), "--quotas", out.to_str().unwrap(), "--format", "json"]).json();
    let row = &s["capacity"]["by_source_region_model_kind"][0];
    assert_eq!((&row["quota_kind"], &row["quota_tokens_per_minute"]), (&"geographic".into(), &400_000.into()));
}

#[test]
fn fetch_names_the_permission_and_never_overwrites_another_file() {
    let server = Replay::start(service_quotas);
    let dir = tempdir();
    let out = dir.path().join("quotas.toml");
    // No fixture for ap-south-1: the replay answers AccessDenied, as IAM would.
    let run = aws::mila_at(&server.url, &["quotas", "fetch", "--region", "ap-south-1", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("servicequotas:ListServiceQuotas"), "{}", run.stderr);
    assert!(!out.exists());
    // A file that is not a quotas file is not replaced.
    let other = dir.path().join("notes.toml");
    std::fs::write(&other, "title = \"mine\"\n").unwrap();
    let run =
        aws::mila_at(&server.url, &["quotas", "fetch", "--region", "us-east-1", "--out", other.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a quotas file; not overwriting it"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "title = \"mine\"\n");
    // An endpoint that hands back the same page token for ever: read twice, then refused (a
    // listing that never ends is incomplete), and nothing written.
    let looping = Replay::start(|_: &Request| (200, r#"{"NextToken":"again","Quotas":[]}"#.to_string()));
    let run = aws::mila_at(&looping.url, &["quotas", "fetch", "--region", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(looping.requests().len(), 2);
    assert!(
        run.stderr.contains("ListServiceQuotas in us-east-1: page 2 handed back a page token already used"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());
    // One that hands out a new token on every page: stopped at the bound, nothing written.
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let endless = Replay::start(move |_: &Request| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        (200, format!(r#"{{"NextToken":"t{n}","Quotas":[]}}"#))
    });
    let run = aws::mila_at(&endless.url, &["quotas", "fetch", "--region", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("still more pages after 1000"), "{}", run.stderr);
    assert_eq!(endless.requests().len(), 1_000);
    assert!(!out.exists());
    // Values of the wrong type in a response (ListServiceQuotas's `Value` is a double, its
    // `QuotaName` a string): the call fails, naming it, and nothing is written.
    for body in [
        r#"{"Quotas":[{"QuotaName":"q","Value":"a lot"}]}"#,
        r#"{"Quotas":[{"QuotaName":7,"Value":1}]}"#,
        r#"{"Quotas":"none"}"#,
    ] {
        let odd = Replay::start(move |_: &Request| (200, body.to_string()));
        let run = aws::mila_at(&odd.url, &["quotas", "fetch", "--region", "us-east-1", "--out", out.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{body}: {}", run.stderr);
        assert!(
            run.stderr.contains("servicequotas:ListServiceQuotas") || run.stderr.contains("service quotas of bedrock"),
            "{body}: {}",
            run.stderr
        );
        assert!(!out.exists());
    }
    // A bad region name is refused before any request.
    let before = server.requests().len();
    let run = aws::mila_at(&server.url, &["quotas", "fetch", "--region", "us east", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert_eq!(server.requests().len(), before);
}
