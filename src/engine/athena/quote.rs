//! Every value that reaches a statement mila sends to Athena passes through here, quoted for its
//! exact place or refused. Values and where they go:
//!
//! | value | place | how |
//! | --- | --- | --- |
//! | `--athena-table`, `--cloudtrail-table`, `--database`, `--table` | identifier | validated Glue name (`glue_name`), then quoted |
//! | `--cloudtrail-partition` | identifier | validated column name (`column_name`), then quoted |
//! | `--by-metadata` keys | string literal | validated as Bedrock allows (`metadata_key`), then `literal` |
//! | policy `source` and `allow` globs | regular expression in a literal | validated region globs, then `glob_regex` and `literal` |
//! | profile ARNs and models (profiles file) | string literal | `literal` (any text) |
//! | the window's bounds | number, and hour or day folder literals | integers; folders formatted by mila |
//! | S3 bucket and prefix, account and region folders (DDL) | Hive string literal | `ddl_string`: refused when they hold a quote, backslash or control character |
//!
//! Prices, quotas and the burndown table never reach SQL: they are applied in Rust to the rows
//! Athena returns. A user's own `query FILE.sql` is sent as written: it runs with the caller's
//! IAM permissions, as it would in the Athena console.

/// A Trino string literal for any text. Quotes are doubled; a text with a control character
/// (a newline, NUL, ...) or a backslash is written as a Unicode literal (`U&'...'`, each such
/// character as `\XXXX`), so no value can put a line break, and so a `;` line, into a statement.
pub fn literal(s: &str) -> String {
    let escaped = |c: char| c.is_control() || c == '\\' || crate::escape::is_dangerous(c);
    if !s.chars().any(escaped) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::from("U&'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            c if escaped(c) && (c as u32) <= 0xFFFF => out.push_str(&format!("\\{:04X}", c as u32)),
            c if escaped(c) => out.push_str(&format!("\\+{:06X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A Trino quoted identifier, for names `glue_name` or `column_name` accepted.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A Hive DDL identifier (backticks), for names `glue_name` accepted.
pub fn ddl_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A value that cannot be put into a statement, and the flag or file it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?}: {why}")]
pub struct Refused {
    pub what: String,
    pub value: String,
    pub why: &'static str,
}

/// A name that cannot be one in a statement, and the flag it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadName {
    #[error("{what} name `{name}`: use 1-255 letters, digits and _")]
    Glue { what: String, name: String },
    #[error("{what} {name:?}: expected a column name (letters, digits and _), or none")]
    Column { what: String, name: String },
    #[error("--by-metadata {0:?}: Bedrock's requestMetadata keys are 1-256 letters, digits, spaces and ._:/=+$@-")]
    MetadataKey(String),
    #[error("`{0}` is not DATABASE.TABLE")]
    NotDatabaseTable(String),
}

fn refused(what: &str, value: &str, why: &'static str) -> Refused {
    Refused { what: what.to_string(), value: value.to_string(), why }
}

/// A Hive DDL string literal (`LOCATION`, `TBLPROPERTIES`). Hive reads `\` as an escape and either
/// quote as a delimiter, and Athena's DDL has no other form, so such values are refused, not
/// escaped: an S3 key with them cannot be declared as a table location anyway.
pub fn ddl_string(what: &str, s: &str) -> Result<String, Refused> {
    if s.chars().any(|c| matches!(c, '\'' | '"' | '\\' | '`') || c.is_control() || crate::escape::is_dangerous(c)) {
        return Err(refused(
            what,
            s,
            "holds a quote, backtick, backslash or control character, which Athena DDL cannot declare",
        ));
    }
    Ok(format!("'{s}'"))
}

/// Regular-expression text matching `s` literally.
pub fn regex_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A residency glob (`*` any run, `?` one character) as an anchored regular expression.
pub fn glob_regex(glob: &str) -> String {
    let mut out = String::from("(?s)^");
    for c in glob.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c => out.push_str(&regex_text(&c.to_string())),
        }
    }
    out.push('$');
    out
}

/// Glue database and table names: 1-255 of lowercase letters, digits and `_` (Athena folds
/// case; anything else would need quoting in every tool that reads the catalog).
pub fn glue_name(what: &str, name: &str) -> Result<String, BadName> {
    let name = name.to_ascii_lowercase();
    let ok = !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(name)
    } else {
        Err(BadName::Glue { what: what.to_string(), name })
    }
}

/// A column name (`--cloudtrail-partition`): 1-255 letters, digits and `_`.
pub fn column_name(what: &str, name: &str) -> Result<String, BadName> {
    glue_name(what, name).map_err(|_| BadName::Column { what: what.to_string(), name: name.to_string() })
}

/// A `requestMetadata` key as Bedrock accepts one: 1-256 characters of letters, digits, white
/// space and `._:/=+$@-` (the key pattern of the Bedrock API's `RequestMetadataBaseFilters`).
pub fn metadata_key(key: &str) -> Result<&str, BadName> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || "._:/=+$@-".contains(c);
    let n = key.chars().count();
    if (1..=256).contains(&n) && key.chars().all(ok) {
        Ok(key)
    } else {
        Err(BadName::MetadataKey(key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        let cases = [
            ("plain", "'plain'"),
            ("it's", "'it''s'"),
            ("'; DROP TABLE x; --", "'''; DROP TABLE x; --'"),
            ("a\nb", "U&'a\\000Ab'"),
            ("\n;\n", "U&'\\000A;\\000A'"),
            ("nul\0", "U&'nul\\0000'"),
            ("back\\slash", "U&'back\\005Cslash'"),
            ("it's\r", "U&'it''s\\000D'"),
            ("\u{2019}curly\u{2018}", "'\u{2019}curly\u{2018}'"),
            ("bidi\u{202E}", "U&'bidi\\202E'"),
            ("\u{1F600}", "'\u{1F600}'"),
        ];
        for (value, want) in cases {
            assert_eq!(literal(value), want, "{value:?}");
        }
    }

    #[test]
    fn ddl_strings_refuse_what_hive_would_read_otherwise() {
        assert_eq!(ddl_string("s3", "s3://b/p/AWSLogs/").unwrap(), "'s3://b/p/AWSLogs/'");
        assert_eq!(ddl_string("s3", "s3://b/caf\u{e9} x/").unwrap(), "'s3://b/caf\u{e9} x/'");
        for bad in ["s3://b/it's/", "s3://b/a\\", "s3://b/\"x", "s3://b/`x", "s3://b/a\nb", "s3://b/\0"] {
            assert!(ddl_string("s3", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn globs_and_regexes() {
        let cases = [
            ("eu-*", "(?s)^eu-.*$"),
            ("us-east-?", "(?s)^us-east-.$"),
            ("a.b", "(?s)^a\\.b$"),
            ("*", "(?s)^.*$"),
            ("(x|y)[z]", "(?s)^\\(x\\|y\\)\\[z\\]$"),
        ];
        for (glob, want) in cases {
            assert_eq!(glob_regex(glob), want, "{glob}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(glue_name("t", "Mila_1"), Ok("mila_1".into()));
        for bad in ["", "a-b", "a.b", "a\"b", "a`b", "a b", "\u{0430}"] {
            assert!(glue_name("t", bad).is_err(), "{bad}");
            assert!(column_name("c", bad).is_err(), "{bad}");
        }
        for (key, ok) in [
            ("application_name", true),
            ("team id", true),
            ("a:b/c=d+e$f@g-h.i", true),
            ("x'", false),
            ("", false),
            ("\u{2019}", false),
        ] {
            assert_eq!(metadata_key(key).is_ok(), ok, "{key}");
        }
        assert!(metadata_key(&"k".repeat(257)).is_err());
    }
}
