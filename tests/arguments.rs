//! Arguments out of range end the run with exit 2 and a message naming the flag, never a panic
//! (exit 101). Part of issue 12; more ranges belong here as they are checked.

mod common;
use common::*;

#[test]
fn absurd_arguments_are_exit_2_with_a_message() {
    let dir = tempdir();
    let out = dir.path().join("corpus");
    let out = out.to_str().unwrap();
    let sample_logs = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-logs");
    let sql = concat!(env!("CARGO_MANIFEST_DIR"), "/queries/error_codes_by_model.sql");
    let cases: [(&[&str], &str); 27] = [
        (&["report", sample_logs, "--since", "99999999999d"], "`99999999999d` reaches back before the earliest time"),
        // Past the range of a duration at all: not a relative time.
        (
            &["check", sample_logs, "--policy", "x.toml", "--until", "9223372036854775807m"],
            "--until: `9223372036854775807m` is not",
        ),
        (&["sample", "--out", out, "--records", "18446744073709551615"], "--records 18446744073709551615 is more than"),
        (&["sample", "--out", out, "--records", "2000001"], "(2000000: it is built in memory)"),
        (&["sample", "--out", out, "--start", "99999-01-01"], "--start: `99999-01-01` is not"),
        // Past what a Duration holds: Duration::from_secs_f64 would panic.
        (
            &["report", sample_logs, "--read-timeout", "1e300"],
            "--read-timeout must be a number of seconds above 0 and at most 86400",
        ),
        (&["report", sample_logs, "--connect-timeout", "NaN"], "--connect-timeout must be a number of seconds"),
        (&["report", sample_logs, "--max-concurrency", "100000"], "--max-concurrency must be from 1 to 256"),
        (&["report", sample_logs, "--max-concurrency", "0"], "--max-concurrency must be from 1 to 256"),
        (&["report", sample_logs, "--cloudwatch-rate", "inf"], "--cloudwatch-rate must be a number"),
        (&["report", sample_logs, "--page-size", "2147483647"], "--page-size must be from 1 to 10000"),
        (
            &["report", sample_logs, "--max-line-length", "0"],
            "--max-line-length `0`: must be between 1 KiB and 1024 MiB",
        ),
        (
            &["report", sample_logs, "--max-line-length", "99999999999GiB"],
            "--max-line-length `99999999999GiB`: must be",
        ),
        (&["report", sample_logs, "--max-line-length", "64 parsecs"], "--max-line-length `64 parsecs`: not a size"),
        (&["ingest", sample_logs, "--store", out, "--lookback", "4294967295"], "--lookback must be at most 8784 hours"),
        (&["sample", "--out", out, "--seed", "18446744073709551616"], "invalid value"),
        (&["report", sample_logs, "--week", "999999-W01"], "--week: `999999-W01` is not an ISO week"),
        (&["report", "--engine", "insights", sample_logs], "--engine insights reads cloudwatch:LOG_GROUP sources only"),
        (
            &["report", "--engine", "insights", "cloudwatch:g", "--insights-limit", "10001"],
            "--insights-limit must be 1 to 10000, not 10001",
        ),
        (&["report", "--engine", "insights", "cloudwatch:g", "--insights-limit", "0"], "--insights-limit must be 1 to"),
        (
            &["report", "--engine", "insights", "cloudwatch:g", "--insights-concurrency", "101"],
            "--insights-concurrency must be 1 to 100 (the account's limit), not 101",
        ),
        (
            &["report", "--engine", "insights", "cloudwatch:g", "--insights-timeout", "0"],
            "--insights-timeout must be a number of seconds above 0",
        ),
        (
            &[
                "report",
                "--engine",
                "insights",
                "cloudwatch:arn:aws:logs:eu-west-1:123456789012:log-group:a",
                "cloudwatch:arn:aws:logs:us-east-1:123456789012:log-group:b",
            ],
            "one query reads log groups of one region; eu-west-1 and us-east-1 were given",
        ),
        (&["report", "--engine", "insights", "cloudwatch:g"], "--engine insights queries a time range: give --since"),
        (
            &["report", "--engine", "insights", "cloudwatch:g", "--since", "2026-11-09", "--by-metadata", "a b"],
            "--by-metadata `a b`: with --engine insights a key is letters, digits",
        ),
        (&["query", sql, "--engine", "insights", "cloudwatch:g", "--since", "2026-11-09"], "`query` runs SQL"),
        (
            &["report", "--engine", "insights", "cloudwatch:g", "--athena-table", "a.b"],
            "--athena-table and --cloudtrail-table are for --engine athena",
        ),
    ];
    for (args, want) in cases {
        let r = mila(args);
        assert_eq!(r.code, 2, "mila {args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want) && !r.stderr.contains("panicked"), "mila {args:?}: {}", r.stderr);
    }
    assert!(!dir.path().join("corpus").exists(), "nothing written");
}

/// A settings file that never ends (a link to /dev/zero) is refused after 16 MiB, not read until
/// memory runs out.
#[test]
fn endless_settings_files_are_refused() {
    let sample_logs = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-logs");
    let cases: [&[&str]; 5] = [
        &["report", sample_logs, "--prices", "/dev/zero"],
        &["report", sample_logs, "--quotas", "/dev/zero"],
        &["report", sample_logs, "--profiles", "/dev/zero"],
        &["check", sample_logs, "--policy", "/dev/zero"],
        &["query", "/dev/zero", sample_logs],
    ];
    for args in cases {
        let r = mila(args);
        assert_eq!(r.code, 2, "mila {args:?}: {}", r.stderr);
        assert!(r.stderr.contains("/dev/zero: larger than 16 MiB"), "mila {args:?}: {}", r.stderr);
    }
}
