//! `mila report` on a terminal: tables within the width, log strings neutralised, no colour.

mod common;
use common::*;
use serde_json::json;

#[test]
fn tables_fit_the_width_and_neutralise_log_strings() {
    let evil = "anthropic.claude-evil\u{1b}[2J\u{7}-with-a-very-long-name-v1:0";
    let lines: Vec<String> = (0..3)
        .map(|i| {
            json!({
                "schemaType": "ModelInvocationLog", "timestamp": "2026-11-10T08:00:00Z", "requestId": format!("r{i}"),
                "region": "us-east-1", "operation": "Converse", "modelId": evil, "errorCode": "Bad\u{1b}]0;title\u{7}Code",
                "input": {"inputTokenCount": 1}, "output": {"outputTokenCount": 1},
            })
            .to_string()
        })
        .collect();
    let dir = tempdir();
    let logs = dir.path().join("t.jsonl");
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mila"))
        .args(["report", logs.to_str().unwrap()])
        .env("COLUMNS", "48")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "raw control characters or colour:\n{text:?}");
    // Everything after the summary lines is tables, each line within 48 columns.
    let tables: Vec<&str> = text.split("\n\n").skip(1).flat_map(str::lines).collect();
    assert!(tables.iter().any(|l| l.starts_with("Cost by model")), "{text}");
    for line in &tables {
        assert!(line.chars().count() <= 48, "{} columns: {line}", line.chars().count());
    }
    // The model id is shown escaped and cut short, the error code escaped.
    assert!(tables.iter().any(|l| l.starts_with("anthropic.claude-e") && l.contains('…')), "{text}");
    assert!(tables.iter().any(|l| l.starts_with("Bad\\u{1b}]0;title\\u{7}Code")), "{text}");
    // Piped without COLUMNS: whole lines.
    let whole = mila(&["report", logs.to_str().unwrap()]).stdout;
    assert!(whole.contains("anthropic.claude-evil\\u{1b}[2J\\u{7}-with-a-very-long-name-v1:0"), "{whole}");
}
