//! Names AWS gives things, as mila accepts them from users and from listings: region names,
//! account ids, and the region globs of a residency policy.

/// A region glob of a policy: lowercase letters, digits, `-`, `*` and `?`, at most 64.
pub fn region_glob(glob: &str) -> bool {
    (1..=64).contains(&glob.len())
        && glob.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-*?".contains(&b))
}

/// An AWS account id: 12 digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-7`: lowercase words and a number, by hyphens.
pub fn is_region_name(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && r.len() <= 32
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        for (r, ok) in [
            ("us-east-1", true),
            ("us-gov-west-1", true),
            ("ap-southeast-7", true),
            ("eu-central-2", true),
            ("us-east", false),
            ("US-EAST-1", false),
            ("us-east-1a", false),
            ("us--1", false),
            ("us-east-", false),
            ("", false),
            ("https://x", false),
        ] {
            assert_eq!(is_region_name(r), ok, "{r}");
        }
    }

    #[test]
    fn region_globs() {
        for (glob, ok) in [("eu-*", true), ("us-east-?", true), ("*", true), ("EU", false), ("a'b", false), ("", false)]
        {
            assert_eq!(region_glob(glob), ok, "{glob}");
        }
    }

    #[test]
    fn account_ids() {
        for (id, ok) in [("123456789012", true), ("12345678901", false), ("999,888", false), ("12345678901a", false)] {
            assert_eq!(is_account_id(id), ok, "{id}");
        }
    }
}
