//! Who called: an `identity.arn` split into account, principal and session, the way a FinOps
//! engineer reads it. IAM Identity Center roles (`AWSReservedSSO_<PermissionSet>_<hex>`) lose their
//! random suffix, so one permission set is one caller across accounts and re-provisioning.
//! A Bedrock API key is a credential of an IAM user; the console names that user
//! `BedrockAPIKey-...`, so its calls are an API key's, kept apart from roles and other users.

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Caller {
    pub account: String,
    /// `role/NAME`, `user/NAME`, `federated-user/NAME`, `root`, or the whole ARN when it has no
    /// form mila knows.
    pub principal: String,
    /// The role session name; empty for principals without one.
    pub session: String,
    /// What kind of principal called (`CallerKind::as_str`).
    pub kind: CallerKind,
}

/// The kinds of caller a FinOps engineer tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallerKind {
    Role,
    User,
    /// An IAM user made for a Bedrock API key (`BedrockAPIKey-...`).
    ApiKey,
    FederatedUser,
    Root,
    /// No ARN mila knows the form of (or none).
    Other,
}

impl CallerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallerKind::Role => "role",
            CallerKind::User => "user",
            CallerKind::ApiKey => "api-key",
            CallerKind::FederatedUser => "federated-user",
            CallerKind::Root => "root",
            CallerKind::Other => "other",
        }
    }
}

/// The name the Bedrock console gives the IAM user of a long-term API key.
pub const API_KEY_USER_PREFIX: &str = "BedrockAPIKey-";

const SSO_PREFIX: &str = "AWSReservedSSO_";

/// `AWSReservedSSO_Admin_0123456789abcdef` -> `AWSReservedSSO_Admin`: the suffix is 16 hex digits
/// that IAM Identity Center makes up per account.
pub fn role_name(name: &str) -> &str {
    if !name.starts_with(SSO_PREFIX) {
        return name;
    }
    match name.rsplit_once('_') {
        Some((base, suffix))
            if base.len() > SSO_PREFIX.len() && suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            base
        }
        _ => name,
    }
}

pub fn caller(arn: &str) -> Caller {
    let unknown = || Caller {
        account: String::new(),
        principal: arn.to_string(),
        session: String::new(),
        kind: CallerKind::Other,
    };
    // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, _partition, service, _region, account, resource] = parts[..] else {
        return unknown();
    };
    if prefix != "arn" || (service != "sts" && service != "iam") {
        return unknown();
    }
    let account = account.to_string();
    // Paths (`user/division/alice`) are not part of the name.
    let last = |rest: &str| rest.rsplit('/').next().unwrap_or(rest).to_string();
    let (principal, session, kind) = match resource.split_once('/') {
        Some(("assumed-role", rest)) => match rest.split_once('/') {
            Some((role, session)) => (format!("role/{}", role_name(role)), session.to_string(), CallerKind::Role),
            None => (format!("role/{}", role_name(rest)), String::new(), CallerKind::Role),
        },
        Some(("role", rest)) => (format!("role/{}", role_name(&last(rest))), String::new(), CallerKind::Role),
        Some(("user", rest)) => {
            let name = last(rest);
            let kind = if name.starts_with(API_KEY_USER_PREFIX) { CallerKind::ApiKey } else { CallerKind::User };
            (format!("user/{name}"), String::new(), kind)
        }
        Some(("federated-user", rest)) => (format!("federated-user/{rest}"), String::new(), CallerKind::FederatedUser),
        None if resource == "root" => ("root".to_string(), String::new(), CallerKind::Root),
        _ => return unknown(),
    };
    Caller { account, principal, session, kind }
}

/// A caller, and an API key's whatever its ARN's form when CloudTrail saw it call with a bearer
/// token (`api_keys`, sorted: a role session using a short-term key, a user of any name).
pub fn caller_of(arn: &str, api_keys: &[String]) -> Caller {
    let mut c = caller(arn);
    if api_keys.binary_search_by(|k| k.as_str().cmp(arn)).is_ok() {
        c.kind = CallerKind::ApiKey;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers() {
        let cases = [
            (
                "arn:aws:sts::123456789012:assumed-role/AgentRole/worker-3",
                ("123456789012", "role/AgentRole", "worker-3"),
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DataScience_0a1b2c3d4e5f6789/alice@example.com",
                ("123456789012", "role/AWSReservedSSO_DataScience", "alice@example.com"),
            ),
            // Not 16 hex digits: not Identity Center's suffix, kept.
            ("arn:aws:sts::1:assumed-role/AWSReservedSSO_Ops_prod/s", ("1", "role/AWSReservedSSO_Ops_prod", "s")),
            (
                "arn:aws:sts::1:assumed-role/AWSReservedSSO_0a1b2c3d4e5f6789/s",
                ("1", "role/AWSReservedSSO_0a1b2c3d4e5f6789", "s"),
            ),
            (
                "arn:aws-us-gov:sts::222222222222:assumed-role/R/s/with/slash",
                ("222222222222", "role/R", "s/with/slash"),
            ),
            ("arn:aws:iam::123456789012:user/division/alice", ("123456789012", "user/alice", "")),
            ("arn:aws:iam::123456789012:user/BedrockAPIKey-x7k2", ("123456789012", "user/BedrockAPIKey-x7k2", "")),
            ("arn:aws:iam::123456789012:role/service-role/Runner", ("123456789012", "role/Runner", "")),
            ("arn:aws:iam::123456789012:root", ("123456789012", "root", "")),
            ("arn:aws:sts::123456789012:federated-user/bob", ("123456789012", "federated-user/bob", "")),
            ("arn:aws:lambda:us-east-1:1:function:f", ("", "arn:aws:lambda:us-east-1:1:function:f", "")),
            ("not an arn", ("", "not an arn", "")),
            ("", ("", "", "")),
        ];
        for (arn, (account, principal, session)) in cases {
            let got = caller(arn);
            assert_eq!(
                (got.account.as_str(), got.principal.as_str(), got.session.as_str()),
                (account, principal, session),
                "{arn}"
            );
        }
        let kinds = [
            ("arn:aws:sts::1:assumed-role/AgentRole/w", CallerKind::Role),
            ("arn:aws:iam::1:role/service-role/Runner", CallerKind::Role),
            ("arn:aws:iam::1:user/alice", CallerKind::User),
            ("arn:aws:iam::1:user/BedrockAPIKey-x7k2", CallerKind::ApiKey),
            // The name, not a path, says it: a path of that name is an ordinary user.
            ("arn:aws:iam::1:user/BedrockAPIKey-team/alice", CallerKind::User),
            ("arn:aws:iam::1:user/bedrockapikey-x", CallerKind::User),
            ("arn:aws:sts::1:federated-user/bob", CallerKind::FederatedUser),
            ("arn:aws:iam::1:root", CallerKind::Root),
            ("not an arn", CallerKind::Other),
        ];
        for (arn, kind) in kinds {
            assert_eq!(caller(arn).kind, kind, "{arn}");
        }
        // CloudTrail's bearer-token flag makes any caller an API key's, and only that one.
        let keys = ["arn:aws:iam::1:user/alice".to_string(), "arn:aws:sts::1:assumed-role/R/s".to_string()];
        let cases = [
            ("arn:aws:iam::1:user/alice", CallerKind::ApiKey),
            ("arn:aws:sts::1:assumed-role/R/s", CallerKind::ApiKey),
            ("arn:aws:sts::1:assumed-role/R/other", CallerKind::Role),
            ("arn:aws:iam::1:user/BedrockAPIKey-x7k2", CallerKind::ApiKey),
            ("arn:aws:iam::1:user/bob", CallerKind::User),
        ];
        for (arn, kind) in cases {
            assert_eq!(caller_of(arn, &keys).kind, kind, "{arn}");
        }
    }
}
