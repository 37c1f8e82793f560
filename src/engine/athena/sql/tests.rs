use super::*;

#[test]
fn table_names() {
    assert_eq!(TableRef::parse("Mila.Logs"), Ok(TableRef { database: "mila".into(), table: "logs".into() }));
    for bad in ["mila", "a.b-c", ".t", "d.", "d.t;drop"] {
        assert!(TableRef::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn partitions_cover_the_lag_hour_each_side() {
    let w = Window { since: Some(1_762_646_400_000), until: Some(1_763_251_200_000) }; // 2025-11-09 .. 11-16
    assert_eq!(partitions(w), vec!["hour >= '2025/11/08/23'", "hour <= '2025/11/16/00'"]);
    assert!(partitions(Window::default()).is_empty());
    assert_eq!(partitions(Window { since: Some(0), until: None }), vec!["hour >= '1969/12/31/23'"]);
}

#[test]
fn a_user_with_joins_the_chain() {
    let profiles = Profiles::default();
    let table = TableRef::parse("d.t").unwrap();
    let scan =
        Scan { table: &table, layout: Layout::Logs, window: Window::default(), profiles: &profiles, trail: None };
    let q = query(&scan, "-- top\nWITH x AS (SELECT 1) SELECT * FROM x;");
    assert!(q.sql.contains("),\nx AS (SELECT 1) SELECT * FROM x"), "{}", q.sql);
    assert!(!q.sql.ends_with(';'));
    let plain = query(&scan, "SELECT count(*) FROM invocations");
    assert!(plain.sql.ends_with(")\nSELECT count(*) FROM invocations"), "{}", plain.sql);
}

/// What a statement is made of, with the contents of string literals and quoted identifiers
/// left out: two statements of one shape differ only inside those.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str,
    Ident,
    Num(String),
    Word(String),
    Sym(char),
}

/// Trino's (and Hive DDL's) lexical rules, as far as mila's statements use them.
fn tokens(sql: &str) -> Vec<Token> {
    let c: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize, q: char| {
        // From the opening quote to its closing one; a doubled quote is one character.
        *i += 1;
        loop {
            assert!(*i < c.len(), "unterminated {q} in {sql}");
            if c[*i] == q {
                if c.get(*i + 1) == Some(&q) {
                    *i += 2;
                    continue;
                }
                *i += 1;
                return;
            }
            *i += 1;
        }
    };
    while i < c.len() {
        match c[i] {
            w if w.is_whitespace() => i += 1,
            '-' if c.get(i + 1) == Some(&'-') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '\'' => {
                quoted(&mut i, '\'');
                out.push(Token::Str);
            }
            'U' if c.get(i + 1) == Some(&'&') && c.get(i + 2) == Some(&'\'') => {
                i += 2;
                quoted(&mut i, '\'');
                out.push(Token::Str);
            }
            q @ ('"' | '`') => {
                quoted(&mut i, q);
                out.push(Token::Ident);
            }
            d if d.is_ascii_digit() => {
                let start = i;
                while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                    i += 1;
                }
                out.push(Token::Num(c[start..i].iter().collect()));
            }
            w if w.is_alphabetic() || w == '_' || w == '$' => {
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$') {
                    i += 1;
                }
                out.push(Token::Word(c[start..i].iter().collect::<String>().to_ascii_lowercase()));
            }
            other => {
                out.push(Token::Sym(other));
                i += 1;
            }
        }
    }
    out
}

/// Values a hostile user (or log, or bucket) could hand in.
const HOSTILE: [&str; 14] = [
    "'",
    "\"",
    "`",
    "'; DROP TABLE x; --",
    "x' OR '1'='1",
    "\u{2019}\u{ff07}\u{201c}",
    "\\",
    "a\\'b",
    "nul\0",
    "\n;\n",
    "line\r\nbreak",
    "${account}",
    "%_*?",
    "*/ /*",
];

/// Every statement a report, a check and a query make over the logs, the store and a trail,
/// with `value` in every place a user value reaches: metadata keys, policy globs, profile
/// ARNs and models.
fn every_statement(value: &str) -> Vec<Statement> {
    let arn = format!("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{value}");
    let profile = format!(
        "[[profile]]\narn = {}\nmodel = {}\nregions = [\"us-east-1\"]\n",
        toml::Value::String(arn),
        toml::Value::String(format!("anthropic.{value}"))
    );
    let profiles = Profiles::parse(&profile, std::path::Path::new("p.toml")).unwrap();
    let policy = Policy {
        rules: vec![crate::given::policy::Rule { source: value.into(), allow: vec![value.into(), "eu-*".into()] }],
        name: "p".into(),
    };
    let table = TableRef::parse("mila.logs").unwrap();
    let trail = TrailTable { table: TableRef::parse("ct.trail").unwrap(), partition: Some("timestamp".into()) };
    let window = Window { since: Some(1_762_646_400_000), until: Some(1_763_251_200_000) };
    let mut out = Vec::new();
    for layout in [Layout::Logs, Layout::Store, Layout::Nothing] {
        for t in [None, Some(&trail)] {
            let scan = Scan { table: &table, layout, window, profiles: &profiles, trail: t };
            out.extend(report(&scan, &[value.to_string(), "team".into()]));
            out.extend(check(&scan, &policy));
            out.push(query(&scan, "SELECT count(*) FROM invocations"));
        }
    }
    out
}

#[test]
fn no_user_value_changes_a_statement() {
    let benign = every_statement("x");
    for value in HOSTILE {
        let hostile = every_statement(value);
        assert_eq!(hostile.len(), benign.len());
        for (h, b) in hostile.iter().zip(&benign) {
            assert_eq!(tokens(&h.sql), tokens(&b.sql), "{} with {value:?}:\n{}", h.name, h.sql);
        }
        // The dry-run script splits at lines holding only `;`: one per statement.
        let script = crate::engine::athena::script(&hostile);
        assert_eq!(script.lines().filter(|l| *l == ";").count(), hostile.len(), "{value:?}");
    }
}

#[test]
fn ddl_refuses_what_it_cannot_quote() {
    let table = TableRef::parse("mila.logs").unwrap();
    let (accounts, regions) = (vec!["123456789012".to_string()], vec!["us-east-1".to_string()]);
    let setup_with = |root: &str, accounts: &[String], regions: &[String]| {
        setup(&Setup { table: &table, logs_root: root.into(), accounts, regions, first_hour: "2026/11/01/00".into() })
    };
    let benign = setup_with("s3://b/p/AWSLogs/", &accounts, &regions).unwrap();
    for value in HOSTILE {
        let root = format!("s3://b/{value}/AWSLogs/");
        match setup_with(&root, &accounts, &regions) {
            // Only what Hive DDL reads as written may pass, and then in the same shape.
            Ok(got) => {
                for (g, b) in got.iter().zip(&benign) {
                    assert_eq!(tokens(&g.sql), tokens(&b.sql), "{value:?}:\n{}", g.sql);
                }
                assert!(!value.contains(['\'', '\\', '"', '`', '\n', '\0']), "{value:?} passed");
            }
            Err(e) => assert_eq!(e.what, "the logs' S3 location", "{value:?}"),
        }
        assert!(setup_store(&table, &root, "2026-11-01").is_err() || !value.contains(['\'', '\\']), "{value:?}");
    }
    // Folder names from a listing are checked where they are listed; a comma would split
    // the projection's list all the same.
    let two = vec!["999,888".to_string()];
    assert!(setup_with("s3://b/p/AWSLogs/", &two, &regions).is_err());
    assert!(setup_with("s3://b/p/AWSLogs/", &accounts, &["zz\\".to_string()]).is_err());
}

#[test]
fn statements_fit_athena_and_divide_no_time_by_a_decimal() {
    // Trino reads `86400000.0` as a DECIMAL and rounds a BIGINT divided by it to one place.
    for st in every_statement("x") {
        assert!(st.sql.len() < crate::engine::athena::MAX_STATEMENT / 4, "{}: {} bytes", st.name, st.sql.len());
        let t = tokens(&st.sql);
        for (i, tok) in t.iter().enumerate() {
            if *tok == Token::Sym('/') {
                let decimal = |t: Option<&Token>| matches!(t, Some(Token::Num(n)) if n.contains('.'));
                assert!(
                    !decimal(t.get(i + 1)) && !decimal(i.checked_sub(1).and_then(|j| t.get(j))),
                    "{}: a division by a decimal literal:\n{}",
                    st.name,
                    st.sql
                );
            }
        }
    }
}

#[test]
fn buckets_are_exact_at_the_edges() {
    // What `bucket` computes, in Rust's integer arithmetic: the last millisecond of a day and
    // of a minute stay in them; times before 1970 fall in their own day.
    let exact = |ms: i64, width: i64| ms - ((ms % width) + width) % width;
    let day = 1_763_164_800_000; // 2025-11-15T00:00:00Z
    for (ms, want) in [(day + DAY_MS - 1, day), (day, day), (day - 1, day - DAY_MS), (-1, -DAY_MS), (0, 0)] {
        assert_eq!(exact(ms, DAY_MS), want, "{ms}");
    }
    assert_eq!(exact(day + 59_999, MINUTE_MS), day);
    assert_eq!(bucket("t", 60000), "(t - ((t % 60000) + 60000) % 60000)");
}
