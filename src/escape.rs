//! Escaping strings that come from logs for where they go. Table-tested.

/// Characters a terminal would act on: C0/C1 controls, DEL, and bidirectional overrides
/// (which can make text read differently from what it is).
pub fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with each character `risky` picks written by `escape` instead; borrowed when there is none.
fn replace(s: &str, risky: impl Fn(char) -> bool, escape: impl Fn(u32) -> String) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(&risky) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if risky(c) {
            out.push_str(&escape(c as u32));
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// For JSON text as serde_json writes it (which escapes only U+0000-U+001F): DEL, C1 controls
/// and bidirectional controls become `\uXXXX` escapes too, so a JSON file shown raw (`cat`,
/// `jq -r`, a browser) cannot reorder or hide what it says. The JSON means the same.
pub fn json(text: Vec<u8>) -> Vec<u8> {
    let Ok(s) = std::str::from_utf8(&text) else { return text };
    match replace(s, |c| is_dangerous(c) && c as u32 >= 0x7F, |c| format!("\\u{c:04x}")) {
        std::borrow::Cow::Owned(escaped) => escaped.into_bytes(),
        std::borrow::Cow::Borrowed(_) => text,
    }
}

/// For the terminal: dangerous characters become visible `\u{..}` escapes.
pub fn terminal(s: &str) -> String {
    replace(s, is_dangerous, |c| format!("\\u{{{c:x}}}")).into_owned()
}

/// For HTML text and attribute values: markup characters become entities, controls are made
/// visible as for the terminal.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in terminal(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// For a Markdown table cell: nothing in it may end the cell, open a link, emphasis, code span
/// or HTML tag, and controls are made visible.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in terminal(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_bidi_and_c1_but_means_the_same() {
        let value = serde_json::json!({"region": "\u{202E}evil\u{7F}\u{85}-1", "ok": "ünï\n"});
        let text = json(serde_json::to_vec(&value).unwrap());
        let s = String::from_utf8(text.clone()).unwrap();
        assert!(!s.chars().any(|c| is_dangerous(c) && c != '\n'), "{s}");
        assert!(s.contains("\\u202eevil\\u007f\\u0085-1") && s.contains("ünï"), "{s}");
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&text).unwrap(), value);
    }

    #[test]
    fn terminal_table() {
        let cases = [
            ("us-east-1", "us-east-1"),
            ("a\u{1b}[31mred", "a\\u{1b}[31mred"),
            ("line\nbreak\r", "line\\u{a}break\\u{d}"),
            ("tab\there", "tab\\u{9}here"),
            ("bidi\u{202E}txt", "bidi\\u{202e}txt"),
            ("c1\u{9b}x", "c1\\u{9b}x"),
            ("ünïcode ok", "ünïcode ok"),
        ];
        for (input, want) in cases {
            assert_eq!(terminal(input), want, "{input:?}");
        }
    }

    #[test]
    fn html_table() {
        let cases = [
            ("us-east-1", "us-east-1"),
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            ("\"><img src=x onerror=a()>", "&quot;&gt;&lt;img src=x onerror=a()&gt;"),
            ("it's & more", "it&#39;s &amp; more"),
            ("&lt;", "&amp;lt;"),
            ("bell\u{7}\u{202e}rtl", "bell\\u{7}\\u{202e}rtl"),
        ];
        for (input, want) in cases {
            assert_eq!(html(input), want, "{input:?}");
        }
    }

    #[test]
    fn markdown_table() {
        let cases = [
            ("anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
            ("a|b", "a&#124;b"),
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            ("[x](http://e)", "\\[x\\](http://e)"),
            ("`code` *b* _i_", "\\`code\\` \\*b\\* \\_i\\_"),
            ("new\nline", "new\\\\u{a}line"),
            ("&amp;", "&amp;amp;"),
        ];
        for (input, want) in cases {
            assert_eq!(markdown(input), want, "{input:?}");
        }
    }
}
