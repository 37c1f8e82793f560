//! Region globs for residency rules: `*` is any run of characters, `?` one character.

pub fn matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative wildcard match with backtracking to the last `*`: linear for region-sized input.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        // A `*` in the pattern is always a wildcard, even where the text has a `*` too: a log
        // string must not turn a rule's wildcard into a literal and slip past it.
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_table() {
        let cases = [
            ("eu-*", "eu-west-1", true),
            ("eu-*", "eu-", true),
            ("eu-*", "us-east-1", false),
            ("eu-*", "europe", false),
            ("*", "anything", true),
            ("*", "", true),
            ("us-east-1", "us-east-1", true),
            ("us-east-1", "us-east-2", false),
            ("us-east-?", "us-east-2", true),
            ("us-*-1", "us-west-1", true),
            ("us-*-1", "us-west-2", false),
            ("*-central-*", "eu-central-1", true),
            ("ap-*", "apac", false),
            ("", "", true),
            ("", "x", false),
            // `*` and `?` in the text are plain characters; the pattern's stay wildcards.
            ("*-1", "*x-1", true),
            ("eu-*", "eu-*", true),
            ("*-central-*", "**-central-1", true),
            ("us-*", "*", false),
            ("us-east-1", "us-east-?", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(super::matches(p, t), want, "{p} ~ {t}");
        }
    }
}
