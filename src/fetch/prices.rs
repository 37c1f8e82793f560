//! `prices fetch`: Bedrock's on-demand and batch prices, read with the AWS Price List Query API
//! (GetProducts for each Bedrock service code, filtered to one region, every page). What the
//! products mean is `given::price_list`'s to say; this only brings them.

use super::FetchError;
use crate::source::aws::{self, Action, AwsSettings};

/// The offers that price Bedrock's models: Amazon's own and open-weight models, and the models
/// sold through AWS Marketplace (Anthropic, Cohere, AI21 ...).
pub const SERVICE_CODES: [&str; 2] = ["AmazonBedrock", "AmazonBedrockFoundationModels"];

/// The Price List Query API is served from us-east-1 (and eu-central-1, ap-south-1) whatever
/// region's prices are asked for.
pub const API_REGION: &str = "us-east-1";

/// The product attribute that names a product's region.
pub const REGION_FIELD: &str = "regionCode";

/// One region's products: per service code, each product as the API gives it (a JSON document).
pub struct Fetched {
    pub region: String,
    pub products: Vec<(&'static str, String)>,
}

/// Every Bedrock product priced in `region` (the configured region when None).
pub async fn fetch(settings: &AwsSettings, region: Option<&str>) -> Result<Fetched, FetchError> {
    let asked = match region.map(str::to_string).or_else(|| settings.region.clone()) {
        Some(r) => r,
        None => {
            let config = aws::load_config(settings, None).await;
            config.region().map(|r| r.to_string()).ok_or(FetchError::NoRegion)?
        }
    };
    let settings = AwsSettings { region: Some(API_REGION.to_string()), ..settings.clone() };
    let config = aws::load_config(&settings, None).await;
    let client = aws_sdk_pricing::Client::new(&config);
    let filter = aws_sdk_pricing::types::Filter::builder()
        .r#type(aws_sdk_pricing::types::FilterType::TermMatch)
        .field(REGION_FIELD)
        .value(&asked)
        .build()
        .map_err(|e| FetchError::Call(format!("the GetProducts filter for {asked}: {e}")))?;
    let mut products = Vec::new();
    for code in SERVICE_CODES {
        let mut token: Option<String> = None;
        let mut pages = aws::Pages::default();
        loop {
            let resource = format!("products of {code} in {asked}");
            let page = aws::with_retries(settings.body_attempts, || {
                client
                    .get_products()
                    .service_code(code)
                    .filters(filter.clone())
                    .format_version("aws_v1")
                    .max_results(100)
                    .set_next_token(token.clone())
                    .send()
            })
            .await
            .map_err(|e| {
                FetchError::Call(aws::describe(&e, &Action { permission: "pricing:GetProducts", resource: &resource }))
            })?;
            products.extend(page.price_list().iter().map(|p| (code, p.clone())));
            token = pages.next(page.next_token, &format!("GetProducts for {code} in {asked}"))?;
            if token.is_none() {
                break;
            }
        }
    }
    Ok(Fetched { region: asked, products })
}
