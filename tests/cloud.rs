//! S3 and CloudWatch Logs on the real wire protocol: a moto server on loopback (started by
//! scripts/test), with a fault-injecting proxy of our own in front of it where a test says so.

mod common;

use std::path::Path;
use std::time::Duration;

use common::aws::{block_on, command, files, mila_at, mila_env, moto, put, put_events, records, s3, upload};
use common::proxy::{Fault, Plan, Proxy, ALL_FAULTS};
use common::{differences, measure, ok, tempdir, Run, TempDir};
use serde_json::Value;

fn unique(name: &str) -> String {
    format!("mila-{name}-{}", std::process::id())
}

/// A sample corpus whose records all lie in the last eight days (moto refuses log events
/// older than 14 days).
fn corpus(records: u64, seed: u64) -> TempDir {
    let dir = tempdir();
    let out = dir.path().to_str().unwrap().to_string();
    ok(&["sample", "--out", &out, "--records", &records.to_string(), "--seed", &seed.to_string(), "--start", "8d"]);
    dir
}

/// A corpus on local disk, uploaded to a new bucket under `prefix`, and put into a new log
/// group as events: (the corpus, bucket, log group).
fn corpus_everywhere(name: &str, records: u64, seed: u64, prefix: &str) -> (TempDir, String, String) {
    let dir = corpus(records, seed);
    let (bucket, group) = (unique(name), unique(name));
    upload(&bucket, prefix, dir.path());
    put_events(&group, &self::records(dir.path()));
    (dir, bucket, group)
}

fn expect_ok(run: Run, what: &str) -> Run {
    assert_eq!(run.code, 0, "{what} failed:\n{}", run.stderr);
    run
}

/// Every number of summary.json but those about the input's form: which units were read,
/// objects passed over, and records seen outside the window (cloud listings see fewer).
fn numbers(run: &Run) -> Value {
    let mut v = run.json();
    let o = v.as_object_mut().unwrap();
    o.remove("input");
    let records = o.get_mut("records").unwrap().as_object_mut().unwrap();
    records.remove("skipped_objects");
    records.remove("outside_window");
    v
}

fn same_numbers(got: &Run, want: &Run, what: impl std::fmt::Display) {
    let mut out = Vec::new();
    differences(&numbers(got), &numbers(want), "", &mut out);
    assert!(
        out.is_empty(),
        "{what}: summary.json differs:\n{}",
        out.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn report(endpoint: &str, sources: &[&str], extra: &[&str]) -> Run {
    let mut args = vec!["report"];
    args.extend_from_slice(sources);
    args.extend_from_slice(&["--format", "json", "--quiet"]);
    args.extend_from_slice(extra);
    expect_ok(mila_at(endpoint, &args), &format!("report {sources:?}"))
}

fn list_requests(proxy: &Proxy) -> usize {
    proxy.log.lock().unwrap().requests.iter().filter(|r| r.0 == "GET" && r.1.contains("list-type=2")).count()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn s3_cloudwatch_and_local_files_give_the_same_numbers() {
    let (dir, bucket, group) = corpus_everywhere("agree", 3000, 7, "logs/");
    let local_dir = dir.path().to_str().unwrap();
    let lines = records(dir.path());
    let (s3_src, cw_src) = (format!("s3://{bucket}/logs/"), format!("cloudwatch:{group}"));
    let m = moto();

    let local = report(&m, &[local_dir], &[]);
    let l = local.json();
    assert_eq!(l["records"]["lines"], lines.len() as u64, "the oracle and mila count the same lines");
    assert!(l["records"]["duplicates"].as_u64().unwrap() > 0, "the corpus has duplicates");

    // S3, seven objects a page: far more objects than one page.
    let proxy = Proxy::start(&m, Plan::clean());
    let from_s3 = report(&proxy.url, &[&s3_src], &["--page-size", "7"]);
    same_numbers(&from_s3, &local, "from_s3");
    assert_eq!(from_s3.json()["records"]["skipped_objects"], l["records"]["skipped_objects"], "sidecars are skipped");
    let objects = files(dir.path()).len();
    assert!(list_requests(&proxy) >= objects / 7, "{} list pages for {objects} objects", list_requests(&proxy));
    assert_eq!(
        proxy.object_gets(),
        files(dir.path()).iter().filter(|(k, _)| k.ends_with(".json.gz") && !k.contains("/data/")).count(),
        "sidecars are never downloaded"
    );
    drop(proxy);

    // CloudWatch, fifty events a page.
    let from_cw = report(&m, &[&cw_src], &["--page-size", "50", "--cloudwatch-rate", "1000"]);
    same_numbers(&from_cw, &local, "from_cw");

    // Both: every invocation is delivered twice and counted once.
    let both = report(&m, &[&s3_src, &cw_src], &["--cloudwatch-rate", "1000"]);
    let b = both.json();
    for section in ["rerouting", "latency", "tokens", "cost", "errors"] {
        assert_eq!(b[section], l[section], "{section}");
    }
    assert_eq!(b["records"]["lines"].as_u64().unwrap(), 2 * lines.len() as u64);
    assert_eq!(
        b["records"]["duplicates"].as_u64().unwrap(),
        l["records"]["duplicates"].as_u64().unwrap() + lines.len() as u64,
        "the CloudWatch copy of every record is a duplicate"
    );

    // A window: S3 lists only the hour folders it can need (and one each side), CloudWatch
    // asks for those times, and the numbers still equal the local files'.
    let first = lines.first().unwrap().0;
    let (since, until) = (rfc3339(first + 2 * 86_400_000 + 1_800_000), rfc3339(first + 4 * 86_400_000));
    let window = ["--since", since.as_str(), "--until", until.as_str()];
    let local_w = report(&m, &[local_dir], &window);
    let proxy = Proxy::start(&m, Plan::clean());
    let s3_w = report(&proxy.url, &[&s3_src], &window);
    same_numbers(&s3_w, &local_w, "s3_w");
    let read = proxy.object_gets();
    assert!(read < objects / 2, "a two-day window of eight days fetched {read} of {objects} objects");
    let cw_w = report(&m, &[&cw_src], &[&window[..], &["--cloudwatch-rate", "1000"]].concat());
    same_numbers(&cw_w, &local_w, "cw_w");
    assert!(local_w.json()["rerouting"]["requests"].as_u64().unwrap() > 500, "the window holds a good share");

    // A window of two centuries lists the day folders that exist, not 1.75 million hours.
    let century = ["--since", "1900-01-01", "--until", "2100-01-01"];
    let local_c = report(&m, &[local_dir], &century);
    let proxy = Proxy::start(&m, Plan::clean());
    let s3_c = report(&proxy.url, &[&s3_src], &century);
    same_numbers(&s3_c, &local_c, "s3 over two centuries");
    let cw_c = report(&m, &[&cw_src], &[&century[..], &["--cloudwatch-rate", "1000"]].concat());
    same_numbers(&cw_c, &local_c, "cloudwatch over two centuries");
    assert!(list_requests(&proxy) < 100, "{} list requests", list_requests(&proxy));
    // The same days found for a window of six weeks around them (days, not hours, past a month).
    let weeks = ["--since", &rfc3339(first - 20 * 86_400_000), "--until", &rfc3339(first + 22 * 86_400_000)];
    let proxy = Proxy::start(&m, Plan::clean());
    same_numbers(&report(&proxy.url, &[&s3_src], &weeks), &report(&m, &[local_dir], &weeks), "s3 over six weeks");
}

#[test]
fn cloudwatch_follows_every_page_at_the_rate_limit() {
    let dir = corpus(60, 3);
    let group = unique("pages");
    let lines = records(dir.path());
    put_events(&group, &lines);
    // Every other page comes back empty first, with a token, as the service does while it
    // searches: mila must follow the token, not stop.
    let proxy = Proxy::start(&moto(), Plan { every: 2, faults: vec![Fault::EmptyPage], ..Plan::clean() });
    // Default rate: 5 requests a second.
    let run = report(&proxy.url, &[&format!("cloudwatch:{group}")], &["--page-size", "4"]);
    assert_eq!(run.json()["records"]["lines"], lines.len() as u64);
    assert!(proxy.faults()[&Fault::EmptyPage] >= 5, "{:?}", proxy.faults());
    let log = proxy.log.lock().unwrap();
    let calls: Vec<_> = log.requests.iter().filter(|r| r.0 == "POST").map(|r| r.3).collect();
    assert!(calls.len() >= lines.len() / 4, "{} pages for {} events", calls.len(), lines.len());
    let gaps: Vec<Duration> = calls.windows(2).map(|w| w[1] - w[0]).collect();
    let shortest = gaps.iter().min().unwrap();
    assert!(*shortest >= Duration::from_millis(150), "calls {shortest:?} apart at 5 per second");
}

#[test]
fn faults_on_the_wire_change_nothing() {
    let (dir, bucket, group) = corpus_everywhere("faults", 1200, 11, "");
    let m = moto();
    let clean = report(&m, &[dir.path().to_str().unwrap()], &[]);
    let plan = || Plan { every: 4, faults: ALL_FAULTS.to_vec(), stall: Duration::from_millis(2500), ..Plan::clean() };
    let attempts = [("AWS_MAX_ATTEMPTS", "6")];
    let flags =
        ["--read-timeout", "1", "--connect-timeout", "1", "--max-concurrency", "4", "--cloudwatch-rate", "1000"];
    for (source, page) in [(format!("s3://{bucket}/"), "25"), (format!("cloudwatch:{group}"), "40")] {
        let proxy = Proxy::start(&m, plan());
        let args =
            [&["report", source.as_str(), "--format", "json", "--quiet", "--page-size", page][..], &flags[..]].concat();
        let run = expect_ok(mila_env(&proxy.url, &attempts, &args), &source);
        same_numbers(&run, &clean, format!("{source} through faults"));
        assert_eq!(run.json()["input"]["problems"], serde_json::json!([]), "{source}: nothing was given up on");
        let injected = proxy.faults();
        for fault in ALL_FAULTS {
            assert!(injected.get(&fault).copied().unwrap_or(0) > 0, "{source}: {fault:?} never injected: {injected:?}");
        }
    }
}

#[test]
fn bad_objects_are_reported_and_the_rest_is_read() {
    let dir = corpus(300, 5);
    let bucket = unique("bad");
    upload(&bucket, "", dir.path());
    let m = moto();
    let clean = report(&m, &[dir.path().to_str().unwrap()], &[]);
    // Three more objects in the first hour folder of the corpus.
    let first =
        files(dir.path()).into_iter().find(|(k, _)| k.ends_with(".json.gz") && !k.contains("/data/")).unwrap().0;
    let hour = &first[..first.rfind('/').unwrap() + 1];
    let deleted_line = String::from_utf8(common::gunzip(&std::fs::read(dir.path().join(&first)).unwrap())).unwrap();
    let mut corrupt = common::gz(deleted_line.as_bytes());
    let n = corrupt.len();
    corrupt[n / 2..].iter_mut().for_each(|b| *b = b.wrapping_add(77));
    let c = s3();
    block_on(async {
        put(&c, &bucket, &format!("{hour}20260101T000000000Z_00000000000zero.json.gz"), Vec::new()).await;
        put(&c, &bucket, &format!("{hour}20260101T000000000Z_000000000corrupt.json.gz"), corrupt).await;
        put(&c, &bucket, &format!("{hour}20260101T000000000Z_000000000deleted.json.gz"), common::gz(b"{}")).await;
    });
    let proxy = Proxy::start(&m, Plan { delete_before_get: Some("deleted.json.gz".into()), ..Plan::clean() });
    let run = report(&proxy.url, &[&format!("s3://{bucket}/")], &[]);
    let problems = run.json()["input"]["problems"].clone();
    let text = problems.to_string();
    assert_eq!(problems.as_array().unwrap().len(), 3, "{text}");
    assert!(text.contains("zero.json.gz") && text.contains("empty file (0 bytes)"), "{text}");
    assert!(text.contains("corrupt.json.gz") && text.contains("gzip stream is corrupt or truncated"), "{text}");
    assert!(text.contains("deleted.json.gz") && text.contains("NoSuchKey"), "{text}");
    // The corrupt object's lines before the damage are read; they duplicate the first object's.
    let (got, want) = (run.json(), clean.json());
    for section in ["rerouting", "latency", "tokens", "cost", "errors"] {
        assert_eq!(got[section], want[section], "{section}");
    }
    assert!(run.stderr.contains("deleted.json.gz"), "problems are warned about: {}", run.stderr);

    // An object whose body is cut short on every try is given up on, named, and the rest read.
    let proxy = Proxy::start(&m, Plan { always: Some(("corrupt.json.gz".into(), Fault::Truncate)), ..Plan::clean() });
    let run = report(&proxy.url, &[&format!("s3://{bucket}/")], &[]);
    let text = run.json()["input"]["problems"].to_string();
    assert!(
        text.contains("corrupt.json.gz")
            && text.contains("body cut short")
            && text.contains("gave up after 4 attempts"),
        "{text}"
    );
    assert_eq!(run.json()["rerouting"], want["rerouting"]);
}

/// An object too large to hold (over 64 MiB) is read as its body arrives: the same counts, in
/// less memory than the object; cut short, the lines before the cut are kept and it is named.
#[test]
fn a_large_object_is_streamed_not_held() {
    let bucket = unique("large");
    let hour = "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/11/10/08/";
    let line = |i: usize| {
        format!(
            r#"{{"schemaType":"ModelInvocationLog","timestamp":"2026-11-10T08:00:00Z","requestId":"big-{i}","region":"us-east-1","operation":"Converse","modelId":"anthropic.claude-3-haiku-20240307-v1:0","input":{{"inputTokenCount":5,"inputBodyJson":{{"messages":"{}"}}}},"output":{{"outputTokenCount":7}}}}"#,
            "x".repeat(200)
        )
    };
    let n = 200_000;
    let mut big = String::with_capacity(n * 400);
    for i in 0..n {
        big.push_str(&line(i));
        big.push('\n');
        if i == 1000 {
            big.push_str("not json\n");
        }
    }
    assert!(big.len() > 66 << 20, "{} bytes", big.len());
    let c = s3();
    block_on(async {
        c.create_bucket().bucket(&bucket).send().await.unwrap();
        put(&c, &bucket, &format!("{hour}20261110T080000000Z_big.json"), big.into_bytes()).await;
        put(&c, &bucket, &format!("{hour}20261110T080100000Z_small.json"), line(n).into_bytes()).await;
    });
    let m = moto();
    let source = format!("s3://{bucket}/");
    let run = measure(command(&m, &[], &["report", &source, "--format", "json"]), std::time::Duration::from_secs(300));
    let s = expect_ok(run.run, "streamed").json();
    assert_eq!(s["records"]["lines"], n + 2);
    assert_eq!(s["records"]["rejected"], 1);
    assert_eq!(s["rerouting"]["requests"], n + 1);
    assert_eq!(s["input"]["units_read"], 2);
    assert!(run.peak_mib < 100, "peak {} MiB for a 66 MiB object", run.peak_mib);

    let proxy = Proxy::start(&m, Plan { always: Some(("big.json".into(), Fault::Truncate)), ..Plan::clean() });
    let run = report(&proxy.url, &[&source], &[]);
    let s = run.json();
    let text = s["input"]["problems"].to_string();
    assert!(text.contains("big.json") && text.contains("body cut short"), "{text}");
    let parsed = s["records"]["parsed"].as_u64().unwrap();
    assert!(parsed > 1 && parsed < n as u64, "the lines before the cut are read: {parsed}");
}

#[test]
fn a_bad_event_is_located_by_group_stream_and_event_id() {
    let group = unique("badevent");
    let now = chrono::Utc::now().timestamp_millis();
    // A record cut short, and one longer than --max-line-length (2 KiB here).
    let long = format!("{{\"schemaType\":\"ModelInvocationLog\",\"pad\":\"{}\"}}", "x".repeat(4000));
    put_events(&group, &[(now - 60_000, "{\"schemaType\":\"ModelInvocationLog\",".to_string()), (now - 30_000, long)]);
    let run = report(&moto(), &[&format!("cloudwatch:{group}")], &["--max-line-length", "2KiB"]);
    let rejects = run.json()["input"]["rejects"].to_string();
    assert_eq!(run.json()["records"]["rejected"], 2);
    assert!(rejects.contains(&format!("cloudwatch:{group} stream aws/bedrock/modelinvocations event ")), "{rejects}");
    assert!(rejects.contains("line longer than --max-line-length (2048 bytes)"), "{rejects}");
}

#[test]
fn errors_name_the_resource_and_never_the_credentials() {
    let m = moto();
    let missing = mila_at(&m, &["report", "s3://mila-no-such-bucket/logs/", "--quiet"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("s3://mila-no-such-bucket/logs/") && missing.stderr.contains("NoSuchBucket"),
        "{}",
        missing.stderr
    );
    let group = mila_at(&m, &["report", "cloudwatch:mila-no-such-group", "--quiet"]);
    assert_eq!(group.code, 2, "{}", group.stderr);
    assert!(
        group.stderr.contains("log group mila-no-such-group") && group.stderr.contains("ResourceNotFoundException"),
        "{}",
        group.stderr
    );
    let no_credentials = common::aws::mila_without_credentials(&m, &["report", "s3://mila-any/", "--quiet"]);
    assert_eq!(no_credentials.code, 2, "{}", no_credentials.stderr);
    assert!(no_credentials.stderr.to_lowercase().contains("credentials"), "{}", no_credentials.stderr);
    // Access denied and expired credentials, as AWS answers them: the permission and resource
    // are named.
    for (fault, source, want) in [
        (Fault::Deny, "s3://mila-denied/logs/", "lack s3:ListBucket on s3://mila-denied/logs/"),
        (Fault::Deny, "cloudwatch:mila-denied", "lack logs:FilterLogEvents on log group mila-denied"),
        (Fault::Expired, "s3://mila-expired/", "the AWS credentials have expired"),
        (Fault::Expired, "cloudwatch:mila-expired", "the AWS credentials have expired"),
    ] {
        let proxy = Proxy::start(&m, Plan { always: Some((String::new(), fault)), ..Plan::clean() });
        let run = mila_at(&proxy.url, &["report", source, "--quiet"]);
        assert_eq!(run.code, 2, "{source}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{source}: {}", run.stderr);
        for secret in [common::aws::SECRET, common::aws::TOKEN] {
            assert!(!run.stderr.contains(secret), "a credential was printed");
        }
    }
    for run in [&missing, &group] {
        for secret in [common::aws::SECRET, common::aws::TOKEN] {
            assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret), "a credential was printed");
        }
    }
}

fn ingest(endpoint: &str, store: &Path, sources: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let mut args = vec!["ingest", "--store", store.to_str().unwrap(), "--quiet", "--cloudwatch-rate", "1000"];
    args.extend_from_slice(sources);
    mila_env(endpoint, extra_env, &args)
}

/// A store's content: every column of every record, sorted, and the checkpoint without its
/// generation counter and file names.
fn store_content(store: &Path) -> (String, Value) {
    let sql = common::fixtures().join("all_columns.sql");
    let rows = ok(&["query", sql.to_str().unwrap(), "--store", store.to_str().unwrap(), "--format", "csv"]).stdout;
    let mut state: Value = serde_json::from_slice(&std::fs::read(store.join("state.json")).unwrap()).unwrap();
    state.as_object_mut().unwrap().remove("generation");
    let days: Vec<String> = state["days"].as_object().unwrap().keys().cloned().collect();
    state["days"] = serde_json::json!(days);
    (rows, state)
}

#[test]
fn ingest_is_incremental_and_counts_each_invocation_once() {
    let (dir, bucket, group) = corpus_everywhere("ingest", 1500, 13, "logs/");
    let m = moto();
    let (s3_src, cw_src) = (format!("s3://{bucket}/logs/"), format!("cloudwatch:{group}"));
    let store = tempdir();

    let proxy = Proxy::start(&m, Plan::clean());
    let first = expect_ok(ingest(&proxy.url, store.path(), &[&s3_src], &[]), "first ingest");
    let gets = proxy.object_gets();
    assert!(gets > 0);
    drop(proxy);
    // The store reports what the files do, application profiles resolved and policy applied.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let (profiles, policy) = (root.join("profiles.toml"), root.join("policy.toml"));
    let files_given = ["--profiles", profiles.to_str().unwrap(), "--policy", policy.to_str().unwrap()];
    let local = report(&m, &[dir.path().to_str().unwrap()], &files_given);
    let stored = report(&m, &["--store", store.path().to_str().unwrap()], &files_given);
    assert!(local.json()["cost"]["by_tag"].as_array().unwrap().len() > 2, "profiles resolved");
    for section in ["rerouting", "latency", "tokens", "cost", "residency", "errors"] {
        assert_eq!(stored.json()[section], local.json()[section], "{section} from the store");
    }
    let requests = local.json()["rerouting"]["requests"].as_u64().unwrap();
    assert!(first.stderr.contains(&format!("ingested {requests} new records")), "{}", first.stderr);

    // The same invocations from CloudWatch, in a later run: all already stored.
    let from_cw = expect_ok(ingest(&m, store.path(), &[&cw_src], &[]), "CloudWatch ingest");
    assert!(
        from_cw
            .stderr
            .contains(&format!("ingested 0 new records into {} ({requests} already stored", store.path().display())),
        "{}",
        from_cw.stderr
    );

    // Nothing new: no object body is read again, and nothing is added.
    let proxy = Proxy::start(&m, Plan::clean());
    let again = expect_ok(ingest(&proxy.url, store.path(), &[&s3_src, &cw_src], &[]), "second ingest");
    assert_eq!(proxy.object_gets(), 0, "{}", again.stderr);
    assert!(again.stderr.contains("ingested 0 new records"), "{}", again.stderr);
    drop(proxy);

    // A late object in an hour already read is picked up; only it is read.
    // The newest object of all (names start with their time): its hour was read, and is
    // within the hours listed again.
    let newest = files(dir.path())
        .into_iter()
        .filter(|(k, _)| k.ends_with(".json.gz") && !k.contains("/data/"))
        .max_by(|a, b| a.0.rsplit('/').next().cmp(&b.0.rsplit('/').next()))
        .unwrap();
    let hour = &newest.0[..newest.0.rfind('/').unwrap() + 1];
    let original = String::from_utf8(common::gunzip(&std::fs::read(&newest.1).unwrap())).unwrap();
    let late: String = original.lines().next().unwrap().replacen("\"requestId\":\"", "\"requestId\":\"late-", 1) + "\n";
    assert!(late.contains("late-"), "the sample writes requestId as expected");
    let c = s3();
    block_on(async {
        put(
            &c,
            &bucket,
            &format!("logs/{hour}29991231T235959999Z_00000000000late.json.gz"),
            common::gz(late.as_bytes()),
        )
        .await
    });
    let proxy = Proxy::start(&m, Plan::clean());
    let third = expect_ok(ingest(&proxy.url, store.path(), &[&s3_src], &[]), "third ingest");
    assert_eq!(proxy.object_gets(), 1, "{}", third.stderr);
    assert!(third.stderr.contains("ingested 1 new records"), "{}", third.stderr);
    let after = common::mila(&["report", "--store", store.path().to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(
        after["rerouting"]["requests"].as_u64().unwrap(),
        local.json()["rerouting"]["requests"].as_u64().unwrap() + 1
    );
}

#[test]
fn ingest_killed_anywhere_and_run_again_equals_one_clean_run() {
    let dir = corpus(600, 17);
    let bucket = unique("kill");
    upload(&bucket, "", dir.path());
    let m = moto();
    let src = format!("s3://{bucket}/");
    let reference = tempdir();
    expect_ok(ingest(&m, reference.path(), &[&src], &[]), "clean ingest");
    let want = store_content(reference.path());
    assert!(want.0.lines().count() > 500);

    // Aborted at named points: after reading, after writing data files, after the checkpoint.
    for point in ["loaded", "written", "committed"] {
        let store = tempdir();
        let crashed = ingest(&m, store.path(), &[&src], &[("MILA_TEST_CRASH_AT", point)]);
        assert_ne!(crashed.code, 0, "{point}: the hook aborts");
        expect_ok(ingest(&m, store.path(), &[&src], &[]), point);
        assert_eq!(store_content(store.path()), want, "killed at {point}");
    }

    // Killed (SIGKILL) while listing and in the middle of object bodies.
    for hold_from in [0, 1, 5, 20] {
        let store = tempdir();
        let proxy = Proxy::start(&m, Plan { hold_from: Some(hold_from), ..Plan::clean() });
        let mut child = common::aws::spawn_mila(
            &proxy.url,
            &["ingest", "--store", store.path().to_str().unwrap(), "--quiet", &src, "--read-timeout", "60"],
        );
        let start = std::time::Instant::now();
        while proxy.held() == 0 && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(proxy.held() > 0, "request {hold_from} was held");
        // A second ingest on the same store meanwhile is refused.
        let second = ingest(&m, store.path(), &[&src], &[]);
        assert_eq!(second.code, 2, "{}", second.stderr);
        assert!(second.stderr.contains("in use by another mila process"), "{}", second.stderr);
        child.kill().unwrap();
        child.wait().unwrap();
        drop(proxy);
        expect_ok(ingest(&m, store.path(), &[&src], &[]), "re-run");
        assert_eq!(store_content(store.path()), want, "killed holding request {hold_from}");
    }
}

/// Every object under `s3://bucket/prefix`, by key below the prefix.
fn object_keys(bucket: &str, prefix: &str) -> Vec<String> {
    let client = s3();
    block_on(async {
        let out = client.list_objects_v2().bucket(bucket).prefix(prefix).send().await.unwrap();
        out.contents().iter().filter_map(|o| o.key()).map(|k| k[prefix.len()..].to_string()).collect()
    })
}

#[test]
fn a_store_on_s3_holds_what_a_local_store_holds_and_takes_one_writer() {
    let dir = corpus(600, 29);
    let m = moto();
    let (logs, stores) = (unique("s3store-logs"), unique("s3store"));
    upload(&logs, "logs/", dir.path());
    let client = s3();
    block_on(async { client.create_bucket().bucket(&stores).send().await.unwrap() });
    let src = format!("s3://{logs}/logs/");
    let on_s3 = format!("s3://{stores}/mila/store");
    let local = tempdir();
    let ingest_to = |store: &str, env: &[(&str, &str)]| {
        let args = ["ingest", "--store", store, "--quiet", &src];
        mila_env(&m, env, &args)
    };

    let first = expect_ok(ingest_to(&on_s3, &[]), "ingest to S3");
    expect_ok(ingest_to(local.path().to_str().unwrap(), &[]), "ingest to a directory");
    let requests = report(&m, &[dir.path().to_str().unwrap()], &[]).json()["rerouting"]["requests"].as_u64().unwrap();
    assert!(first.stderr.contains(&format!("ingested {requests} new records into {on_s3}/")), "{}", first.stderr);

    // The same objects as a local store, made whole (no temporary names) and no lock left.
    let mut keys = object_keys(&stores, "mila/store/");
    keys.sort();
    let mut local_files: Vec<String> =
        files(local.path()).into_iter().map(|(k, _)| k).filter(|k| k != ".lock").collect();
    local_files.sort();
    assert_eq!(keys, local_files);
    assert!(keys.contains(&"state.json".to_string()) && keys.iter().any(|k| k.starts_with("records/day=")));

    // Reports from either store are the same report.
    let (a, b) = (report(&m, &["--store", &on_s3], &[]), report(&m, &["--store", local.path().to_str().unwrap()], &[]));
    same_numbers(&a, &b, "report --store s3:// against a directory");
    assert_eq!(a.json()["rerouting"]["requests"], requests);

    // A second writer cannot take the lock object; the first one's message names it.
    block_on(put(&client, &stores, "mila/store/.lock", b"{\"pid\":1}".to_vec()));
    let refused = ingest_to(&on_s3, &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains(&format!("store {on_s3}/ is in use by another mila process (lock object {on_s3}/.lock exists")),
        "{}",
        refused.stderr
    );
    // A writer killed after writing its day files leaves the lock and files no checkpoint names;
    // once the lock is removed, the next run cleans up and adds nothing twice.
    block_on(async { client.delete_object().bucket(&stores).key("mila/store/.lock").send().await.unwrap() });
    let more = corpus(200, 31);
    block_on(async {
        for (key, path) in files(more.path()) {
            put(&client, &logs, &format!("logs/{key}"), std::fs::read(path).unwrap()).await;
        }
    });
    let killed = ingest_to(&on_s3, &[("MILA_TEST_CRASH_AT", "written")]);
    assert_ne!(killed.code, 0);
    assert!(object_keys(&stores, "mila/store/").contains(&".lock".to_string()));
    block_on(async { client.delete_object().bucket(&stores).key("mila/store/.lock").send().await.unwrap() });
    expect_ok(ingest_to(&on_s3, &[]), "ingest after the crash");
    expect_ok(ingest_to(local.path().to_str().unwrap(), &[]), "the same ingest into the directory");
    let mut keys = object_keys(&stores, "mila/store/");
    keys.sort();
    let mut local_files: Vec<String> =
        files(local.path()).into_iter().map(|(k, _)| k).filter(|k| k != ".lock").collect();
    local_files.sort();
    assert_eq!(keys, local_files, "the dead run's files are gone");
    let (a, b) = (report(&m, &["--store", &on_s3], &[]), report(&m, &["--store", local.path().to_str().unwrap()], &[]));
    same_numbers(&a, &b, "after a crash and a clean run");
    let again = expect_ok(ingest_to(&on_s3, &[]), "nothing new");
    assert!(again.stderr.contains("ingested 0 new records"), "{}", again.stderr);
}

/// Issue 22: two ingests into one S3 store at once. The lock object is created with
/// If-None-Match, so one wins; the other stops with a clear error, writes nothing, and a later run
/// adds what it would have: the store then equals one clean ingest.
#[test]
fn two_ingests_at_once_into_one_s3_store_one_wins_and_nothing_is_lost() {
    let dir = corpus(400, 37);
    let m = moto();
    let (logs, stores) = (unique("race-logs"), unique("race-store"));
    upload(&logs, "logs/", dir.path());
    let client = s3();
    block_on(async { client.create_bucket().bucket(&stores).send().await.unwrap() });
    let src = format!("s3://{logs}/logs/");
    let store = format!("s3://{stores}/mila/store");
    let args = ["ingest", "--store", store.as_str(), "--quiet", src.as_str()];
    let (a, b) = std::thread::scope(|s| {
        let one = s.spawn(|| mila_env(&m, &[], &args));
        let two = s.spawn(|| mila_env(&m, &[], &args));
        (one.join().unwrap(), two.join().unwrap())
    });
    let mut codes = [a.code, b.code];
    codes.sort();
    // Both may finish one after the other (the second then adds nothing); never both at once.
    let loser = [&a, &b].into_iter().find(|r| r.code != 0);
    match loser {
        Some(l) => {
            assert_eq!(codes, [0, 2], "{}\n{}", a.stderr, b.stderr);
            assert!(l.stderr.contains("is in use by another mila process"), "{}", l.stderr);
        }
        None => assert!(a.stderr.contains("ingested 0 new records") || b.stderr.contains("ingested 0 new records")),
    }
    // The loser runs again: nothing twice, nothing lost.
    let again = expect_ok(mila_env(&m, &[], &args), "ingest again");
    assert!(again.stderr.contains("ingested 0 new records"), "{}", again.stderr);
    assert!(!object_keys(&stores, "mila/store/").contains(&".lock".to_string()));
    let want = report(&m, &[dir.path().to_str().unwrap()], &[]);
    let got = report(&m, &["--store", &store], &[]);
    same_numbers(&got, &want, "the store after a race, against the files");
}

/// Issue 22, found 1 on S3: a trail file of no known layout, listed before the logs, counts
/// each call once (five calls, logged and in the trail; none only in CloudTrail).
#[test]
fn a_trail_object_listed_before_the_logs_counts_each_call_once() {
    let m = moto();
    let bucket = unique("order");
    let client = s3();
    let log = |id: &str| {
        serde_json::json!({"schemaType": "ModelInvocationLog", "timestamp": "2026-03-02T08:00:00Z", "region": "eu-west-1",
            "requestId": id, "operation": "Converse", "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "input": {"inputTokenCount": 10}, "output": {"outputTokenCount": 5}})
        .to_string()
    };
    let event = |id: &str| {
        serde_json::json!({"eventTime": "2026-03-02T08:00:00Z", "eventSource": "bedrock.amazonaws.com", "eventName": "Converse",
            "awsRegion": "eu-west-1", "requestParameters": {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"}, "requestID": id})
    };
    let ids = ["o1", "o2", "o3", "o4", "o5"];
    let trail = serde_json::json!({"Records": ids.iter().map(|i| event(i)).collect::<Vec<_>>()}).to_string();
    let logs = ids.iter().map(|i| log(i)).collect::<Vec<_>>().join("\n");
    block_on(async {
        client.create_bucket().bucket(&bucket).send().await.unwrap();
        put(&client, &bucket, "mixed/a-export.json", trail.into_bytes()).await;
        put(&client, &bucket, "mixed/b-export.jsonl", logs.into_bytes()).await;
    });
    let s = report(&m, &[&format!("s3://{bucket}/mixed/")], &[]).json();
    assert_eq!(s["rerouting"]["requests"], 5, "{}", s["sources"]);
    assert_eq!(s["sources"]["cloudtrail_calls"], 5);
    assert_eq!(s["sources"]["cloudtrail_only"], 0);
}

/// The day of a CloudTrail key (`.../CloudTrail/REGION/YYYY/MM/DD/...`), as `YYYY-MM-DD`.
fn trail_day(key: &str) -> Option<String> {
    let parts: Vec<&str> = key.split('/').collect();
    let at = parts.iter().position(|p| *p == "CloudTrail")?;
    Some(format!("{}-{}-{}", parts.get(at + 2)?, parts.get(at + 3)?, parts.get(at + 4)?))
}

#[test]
fn cloudtrail_on_s3_reads_as_locally_with_organisation_trails_and_day_pruning() {
    let dir = tempdir();
    let out = dir.path().to_str().unwrap();
    ok(&["sample", "--out", out, "--records", "600", "--seed", "5", "--start", "8d", "--cloudtrail"]);
    let bucket = unique("trail");
    upload(&bucket, "logs/", dir.path());
    // The same files again under an organisation trail's layout.
    let client = s3();
    block_on(async {
        for (key, path) in files(dir.path()) {
            let key = match key.contains("/CloudTrail/") {
                true => key.replacen("AWSLogs/", "AWSLogs/o-exampleorg1/", 1),
                false => key,
            };
            put(&client, &bucket, &format!("org/{key}"), std::fs::read(path).unwrap()).await;
        }
    });
    let m = moto();
    let local = report(&m, &[out], &[]);
    let s = local.json();
    assert!(s["sources"]["cloudtrail_only"].as_u64().unwrap() > 0 && s["coverage"].is_object(), "{}", s["sources"]);
    same_numbers(&report(&m, &[&format!("s3://{bucket}/logs/")], &[]), &local, "a trail on S3");
    same_numbers(&report(&m, &[&format!("s3://{bucket}/org/")], &[]), &local, "an organisation trail on S3");

    // One day's window: only the trail's day folders that can hold it are fetched.
    let mut days: Vec<String> = files(dir.path()).iter().filter_map(|(k, _)| trail_day(k)).collect();
    days.sort();
    days.dedup();
    let day = chrono::NaiveDate::parse_from_str(&days[days.len() / 2], "%Y-%m-%d").unwrap();
    let (since, until) = (format!("{day}T00:00:00Z"), format!("{}T00:00:00Z", day.succ_opt().unwrap()));
    let window = ["--since", since.as_str(), "--until", until.as_str()];
    let proxy = Proxy::start(&m, Plan::clean());
    let windowed = report(&proxy.url, &[&format!("s3://{bucket}/logs/")], &window);
    same_numbers(&windowed, &report(&m, &[out], &window), "a window over a trail on S3");
    let fetched: Vec<String> = proxy
        .log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|(m, p, _, _)| m == "GET" && !p.contains("list-type"))
        .filter_map(|(_, p, _, _)| trail_day(p))
        .collect();
    let (first, last) = ((day - chrono::Days::new(1)).to_string(), (day + chrono::Days::new(2)).to_string());
    assert!(!fetched.is_empty());
    assert!(fetched.iter().all(|d| *d >= first && *d <= last), "{fetched:?} outside {first}..{last}");
    assert!(days.iter().any(|d| !fetched.contains(d)), "some day folders were never fetched: {days:?}");
}
