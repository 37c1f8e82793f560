use super::*;

#[test]
fn latency_table() {
    let cases = [
        ("Converse", Some(842), None, Some(842)),
        ("ConverseStream", Some(302), None, Some(302)),
        ("Converse", None, None, None),
        ("InvokeModel", Some(5), Some(6), None),
        ("InvokeModelWithResponseStream", None, Some(9876), Some(9876)),
        ("InvokeModelWithResponseStream", Some(1), None, None),
        ("ApplyGuardrail", Some(1), Some(2), None),
    ];
    for (op, converse, stream, want) in cases {
        assert_eq!(latency_for(op, converse, stream), want, "{op}");
    }
}

#[test]
fn timestamp_table() {
    let cases = [
        ("2025-10-02T08:14:31Z", Some(1_759_392_871_000)),
        ("2025-10-02T08:14:31.250Z", Some(1_759_392_871_250)),
        ("2025-10-02T08:14:31.250123Z", Some(1_759_392_871_250)),
        ("2025-10-02T10:14:31+02:00", Some(1_759_392_871_000)),
        ("2025-10-02 08:14:31", None),
        ("2025-10-02", None),
        ("", None),
    ];
    for (s, want) in cases {
        assert_eq!(parse_timestamp_ms(s), want, "{s}");
    }
}
