//! `quotas fetch`: the account's Bedrock quotas, read with the Service Quotas API
//! (ListServiceQuotas for service code `bedrock`, every page).

use super::FetchError;
use crate::source::aws::{self, Action, AwsSettings};

pub const SERVICE_CODE: &str = "bedrock";

/// One quota as Service Quotas names it, with its value (a number of any size: the caller judges it).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub name: String,
    pub value: Option<f64>,
}

/// Every Bedrock quota in `region` (the configured region when None).
pub async fn fetch(settings: &AwsSettings, region: Option<&str>) -> Result<(String, Vec<Listed>), FetchError> {
    let settings =
        AwsSettings { region: region.map(str::to_string).or_else(|| settings.region.clone()), ..settings.clone() };
    let config = aws::load_config(&settings, None).await;
    let region = config.region().map(|r| r.to_string()).ok_or(FetchError::NoRegion)?;
    let client = aws_sdk_servicequotas::Client::new(&config);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = aws::Pages::default();
    loop {
        let resource = format!("service quotas of {SERVICE_CODE} in {region}");
        let page = aws::with_retries(settings.body_attempts, || {
            client.list_service_quotas().service_code(SERVICE_CODE).set_next_token(token.clone()).send()
        })
        .await
        .map_err(|e| {
            FetchError::Call(aws::describe(
                &e,
                &Action { permission: "servicequotas:ListServiceQuotas", resource: &resource },
            ))
        })?;
        out.extend(
            page.quotas()
                .iter()
                .map(|q| Listed { name: q.quota_name().unwrap_or_default().to_string(), value: q.value() }),
        );
        token = pages.next(page.next_token, &format!("ListServiceQuotas in {region}"))?;
        if token.is_none() {
            break;
        }
    }
    Ok((region, out))
}
