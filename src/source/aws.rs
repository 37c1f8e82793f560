//! AWS set-up the way the AWS CLI does it: the default credential chain, `--profile`,
//! `--region`, `AWS_ENDPOINT_URL` (read by the SDK itself), standard retries, and explicit
//! timeouts. Also the one place that turns SDK errors into messages a user can act on.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// What the cloud sources need, validated by settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Limit on opening a connection.
    pub connect_timeout: Duration,
    /// Limit on waiting for any response bytes: the first byte, and every later chunk of a
    /// body (the SDK sets no read timeout by default, so a stalled server would hang a run).
    pub read_timeout: Duration,
    /// S3 GETs in flight at once.
    pub concurrency: usize,
    /// FilterLogEvents calls per second (the account quota is 5).
    pub cloudwatch_rate: f64,
    /// Whole-body attempts per object: the SDK does not retry a body cut short.
    pub body_attempts: u32,
    /// Objects per ListObjectsV2 page and events per FilterLogEvents page (`--page-size`, as
    /// in the AWS CLI); the service's default when None.
    pub page_size: Option<i32>,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            profile: None,
            region: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            concurrency: 16,
            cloudwatch_rate: 5.0,
            body_attempts: 4,
            page_size: None,
        }
    }
}

/// Loads the shared SDK configuration. `region_hint` (from a log-group ARN, say) is used when
/// neither `--region` nor the environment or profile names one.
pub async fn load_config(settings: &AwsSettings, region_hint: Option<&str>) -> SdkConfig {
    // rustls on ring: builds without aws-lc's C toolchain, same TLS to AWS endpoints.
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout)
        .read_timeout(settings.read_timeout)
        .operation_attempt_timeout(settings.read_timeout * 2)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http).timeout_config(timeouts);
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let config = loader.load().await;
    // AWS_REGION="" names no region; the SDK would take it as one and fail to build endpoints.
    let named = config.region().is_some_and(|r| !r.as_ref().is_empty());
    match (named, region_hint) {
        (false, Some(hint)) => config.into_builder().region(Region::new(hint.to_string())).build(),
        (false, None) => config.into_builder().region(None).build(),
        _ => config,
    }
}

/// Runs an async job on a runtime of its own. Polars never runs inside it: callers fetch here
/// and compute outside.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
}

/// What was being done when a call failed: names the resource and the permission it needs.
pub struct Action<'a> {
    /// The IAM action, e.g. `s3:ListBucket`.
    pub permission: &'a str,
    /// The resource, e.g. `s3://bucket/key` or `log group /aws/bedrock`.
    pub resource: &'a str,
}

/// Pause before mila's own attempt number `attempt` (1-based): 200 ms doubling, at most 6.4 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * (1u64 << attempt.min(5)))
}

/// Calls again, after a pause, while the failure is transient, up to `attempts` calls in all.
/// This is on top of the SDK's own retries, whose token bucket can run dry under a burst of
/// faults, and which do not cover every transient failure (a response cut short).
pub async fn with_retries<T, E, R, F, Fut>(attempts: u32, mut call: F) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if attempt < attempts && is_transient(&e) => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Is this failure worth another try by mila itself (after the SDK's own retries)?
pub fn is_transient<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(e) => matches!(
            e.err().code(),
            Some(
                "SlowDown"
                    | "ThrottlingException"
                    | "Throttling"
                    | "RequestLimitExceeded"
                    | "InternalError"
                    | "ServiceUnavailable"
                    | "ServiceUnavailableException"
            )
        ),
        _ => false,
    }
}

/// One line that says what failed, on what, and what to do about it. Never includes
/// credentials: only the service's error code and message and the SDK's error chain.
pub fn describe<E, R>(err: &SdkError<E, R>, action: &Action) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let Action { permission, resource } = action;
    match err {
        SdkError::ServiceError(e) => {
            let e = e.err();
            let code = e.code().unwrap_or("unknown error");
            let message = e.message().unwrap_or("");
            let hint = hint(code, permission, resource);
            format!(
                "{resource}: {code}{}{hint}",
                if message.is_empty() { String::new() } else { format!(" ({message})") }
            )
        }
        SdkError::TimeoutError(_) => format!("{resource}: timed out waiting for AWS"),
        other => {
            let chain = causes(other);
            let hint = if chain.contains("credentials") {
                "; mila uses the AWS CLI's credential chain: pass --profile or set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            } else {
                ""
            };
            format!("{resource}: {chain}{hint}")
        }
    }
}

/// An error and its causes, by their Display text only (the SDK's Debug output is long and
/// not for users), without repeats.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        // Some causes list attempts on lines of their own: one line reads better here.
        let text = e.to_string().lines().map(str::trim).collect::<Vec<_>>().join("; ");
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn hint(code: &str, permission: &str, resource: &str) -> String {
    match code {
        "AccessDenied" | "AccessDeniedException" | "Forbidden" => {
            format!("; the credentials in use lack {permission} on {resource}")
        }
        "NoSuchBucket" => "; no such bucket (check the name, and the account the credentials belong to)".into(),
        "ResourceNotFoundException" if permission.starts_with("logs:") => {
            "; no such log group in this region (check the name and --region)".into()
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
            "; the AWS credentials have expired: refresh them (aws sso login, or new session credentials)".into()
        }
        "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "UnrecognizedClientException" | "InvalidClientTokenId" => {
            "; the AWS credentials were rejected: check AWS_PROFILE / --profile".into()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_permission_and_resource() {
        let cases = [
            ("AccessDenied", "; the credentials in use lack s3:ListBucket on s3://b/p"),
            ("AccessDeniedException", "; the credentials in use lack s3:ListBucket on s3://b/p"),
            ("NoSuchBucket", "; no such bucket (check the name, and the account the credentials belong to)"),
            (
                "ExpiredToken",
                "; the AWS credentials have expired: refresh them (aws sso login, or new session credentials)",
            ),
            ("SomethingElse", ""),
        ];
        for (code, want) in cases {
            assert_eq!(hint(code, "s3:ListBucket", "s3://b/p"), want, "{code}");
        }
    }
}

/// Most pages one listing reads (`ListServiceQuotas`, `ListInferenceProfiles`): a real account's
/// listing is a few pages; an endpoint that keeps handing out new tokens would page for ever.
pub const MAX_PAGES: usize = 1_000;

#[cfg(test)]
mod page_tests {
    use super::*;

    #[test]
    fn pages_stop_at_the_end_a_repeat_or_the_bound() {
        let mut p = Pages::default();
        assert_eq!(p.next(Some("a".into()), "L"), Ok(Some("a".into())));
        assert_eq!(p.next(Some("b".into()), "L"), Ok(Some("b".into())));
        assert_eq!(p.next(Some(String::new()), "L"), Ok(None));
        assert_eq!(p.next(None, "L"), Ok(None));
        // The errors as users read them.
        let said = |e: PagesError| e.to_string();
        assert!(
            said(p.next(Some("a".into()), "L").unwrap_err()).contains("page 3 handed back a page token already used")
        );
        let mut p = Pages::default();
        for i in 1..MAX_PAGES {
            assert!(p.next(Some(i.to_string()), "L").is_ok(), "{i}");
        }
        assert!(said(p.next(Some("last".into()), "L").unwrap_err()).contains("after 1000"));
    }
}

/// The page tokens of one listing: the next token to send, or why the listing must stop.
#[derive(Debug)]
pub struct Pages {
    seen: std::collections::BTreeSet<String>,
    max: usize,
}

impl Default for Pages {
    fn default() -> Pages {
        Pages::at_most(MAX_PAGES)
    }
}

impl Pages {
    /// A listing of at most `max` pages.
    pub fn at_most(max: usize) -> Pages {
        Pages { seen: Default::default(), max }
    }

    /// `Ok(Some(token))`: read the next page; `Ok(None)`: the listing is done. A token handed out
    /// twice, or more than `MAX_PAGES` pages, is an error: what was read is incomplete.
    pub fn next(&mut self, token: Option<String>, call: &str) -> Result<Option<String>, PagesError> {
        let Some(token) = token.filter(|t| !t.is_empty()) else { return Ok(None) };
        if self.seen.len() + 1 >= self.max {
            return Err(PagesError::TooMany { call: call.to_string(), max: self.max });
        }
        if !self.seen.insert(token.clone()) {
            return Err(PagesError::Repeated { call: call.to_string(), page: self.seen.len() + 1 });
        }
        Ok(Some(token))
    }
}

/// A listing that must stop, because it would never end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagesError {
    #[error("{call}: still more pages after {max}; stopped (no real listing is that long)")]
    TooMany { call: String, max: usize },
    #[error("{call}: page {page} handed back a page token already used; the listing would never end")]
    Repeated { call: String, page: usize },
}
