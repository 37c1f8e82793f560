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
    let cases: [(&[&str], &str); 4] = [
        (&["report", sample_logs, "--since", "99999999999d"], "`99999999999d` reaches back before the earliest time"),
        // Past the range of a duration at all: not a relative time.
        (
            &["check", sample_logs, "--policy", "x.toml", "--until", "9223372036854775807m"],
            "--until: `9223372036854775807m` is not",
        ),
        (&["sample", "--out", out, "--records", "18446744073709551615"], "--records 18446744073709551615 is more than"),
        (&["sample", "--out", out, "--records", "2000001"], "(2000000: it is built in memory)"),
    ];
    for (args, want) in cases {
        let r = mila(args);
        assert_eq!(r.code, 2, "mila {args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want) && !r.stderr.contains("panicked"), "mila {args:?}: {}", r.stderr);
    }
    assert!(!dir.path().join("corpus").exists(), "nothing written");
}
