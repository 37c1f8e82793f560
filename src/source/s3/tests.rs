use super::*;

#[test]
fn locations() {
    let cases = [
        ("s3://bucket", Ok(("bucket", ""))),
        ("s3://bucket/", Ok(("bucket", ""))),
        ("s3://bucket/logs/AWSLogs/", Ok(("bucket", "logs/AWSLogs/"))),
        ("s3:///logs", Err("s3:///logs: no bucket name (expected s3://BUCKET/PREFIX)")),
    ];
    for (text, want) in cases {
        let got = Location::parse(text).map_err(|e| e.to_string());
        match want {
            Ok((b, p)) => assert_eq!(got, Ok(Location { bucket: b.into(), prefix: p.into() }), "{text}"),
            Err(e) => assert_eq!(got, Err(e.to_string()), "{text}"),
        }
    }
}

#[test]
fn hour_folders_cover_the_window_with_an_hour_each_side() {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
    assert_eq!(
        hour_folders(t("2026-11-09T10:30:00Z"), t("2026-11-09T12:00:00Z")),
        ["2026/11/09/09/", "2026/11/09/10/", "2026/11/09/11/", "2026/11/09/12/"]
    );
    // Across midnight and a month end.
    assert_eq!(
        hour_folders(t("2026-11-30T23:00:00Z"), t("2026-12-01T00:00:01Z")),
        ["2026/11/30/22/", "2026/11/30/23/", "2026/12/01/00/", "2026/12/01/01/"]
    );
}

#[test]
fn key_hours() {
    let cases = [
        ("p/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11/09/07/x.json.gz", Some("2026-11-09T07:00:00Z")),
        (
            "AWSLogs/1/BedrockModelInvocationLogs/eu-west-1/2026/12/31/23/data/r_input.json.gz",
            Some("2026-12-31T23:00:00Z"),
        ),
        ("AWSLogs/1/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check", None),
        ("exports/one.json.gz", None),
        ("AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/13/01/00/x.json.gz", None),
    ];
    for (key, want) in cases {
        let want = want.map(|w| chrono::DateTime::parse_from_rfc3339(w).unwrap().timestamp_millis());
        assert_eq!(key_hour_ms(key), want, "{key}");
    }
}

#[test]
fn prefixes_overlap_either_way() {
    assert!(compatible("logs/", "logs/AWSLogs/"));
    assert!(compatible("logs/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11/", "logs/AWSLogs/"));
    assert!(!compatible("logs/AWSLogs/1/", "logs/AWSLogs/2/"));
}
