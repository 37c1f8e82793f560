//! Who called: an `identity.arn` split into account, principal and session, the way a FinOps
//! engineer reads it. IAM Identity Center roles (`AWSReservedSSO_<PermissionSet>_<hex>`) lose their
//! random suffix, so one permission set is one caller across accounts and re-provisioning.

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Caller {
    pub account: String,
    /// `role/NAME`, `user/NAME`, `federated-user/NAME`, `root`, or the whole ARN when it has no
    /// form mila knows.
    pub principal: String,
    /// The role session name; empty for principals without one.
    pub session: String,
}

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
    let unknown = || Caller { account: String::new(), principal: arn.to_string(), session: String::new() };
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
    let (principal, session) = match resource.split_once('/') {
        Some(("assumed-role", rest)) => match rest.split_once('/') {
            Some((role, session)) => (format!("role/{}", role_name(role)), session.to_string()),
            None => (format!("role/{}", role_name(rest)), String::new()),
        },
        Some(("role", rest)) => (format!("role/{}", role_name(&last(rest))), String::new()),
        Some(("user", rest)) => (format!("user/{}", last(rest)), String::new()),
        Some(("federated-user", rest)) => (format!("federated-user/{rest}"), String::new()),
        None if resource == "root" => ("root".to_string(), String::new()),
        _ => return unknown(),
    };
    Caller { account, principal, session }
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
            ("arn:aws:iam::123456789012:role/service-role/Runner", ("123456789012", "role/Runner", "")),
            ("arn:aws:iam::123456789012:root", ("123456789012", "root", "")),
            ("arn:aws:sts::123456789012:federated-user/bob", ("123456789012", "federated-user/bob", "")),
            ("arn:aws:lambda:us-east-1:1:function:f", ("", "arn:aws:lambda:us-east-1:1:function:f", "")),
            ("not an arn", ("", "not an arn", "")),
            ("", ("", "", "")),
        ];
        for (arn, (account, principal, session)) in cases {
            let want = Caller { account: account.into(), principal: principal.into(), session: session.into() };
            assert_eq!(caller(arn), want, "{arn}");
        }
    }
}
