//! `profiles fetch`: the account's application inference profiles, read with the Bedrock API
//! (ListInferenceProfiles of type APPLICATION, GetInferenceProfile, ListTagsForResource).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrock::types::InferenceProfileType;

use super::FetchError;
use crate::given::profiles::{arn_region, Profile};
use crate::record::model_id::{canonicalise, ModelIdKind};
use crate::source::aws::{self, Action, AwsSettings};

/// Why an application profile's model ARNs name no one model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelsProblem {
    #[error("model `{0}` is not a foundation-model ARN")]
    NotAFoundationModel(String),
    #[error("lists no model")]
    NoModel,
    #[error("names more than one model (`{0}`, `{1}`)")]
    SeveralModels(String, String),
}

/// What one region gave.
#[derive(Debug, Default)]
pub struct Fetched {
    pub profiles: Vec<Profile>,
    /// Listed, then gone before it could be read (deleted meanwhile): left out.
    pub vanished: Vec<String>,
}

/// Every application inference profile in `region` (the configured region when None), with its
/// model, the regions it can run in, and its tags.
pub async fn fetch(settings: &AwsSettings, region: Option<&str>) -> Result<(String, Fetched), FetchError> {
    let settings =
        AwsSettings { region: region.map(str::to_string).or_else(|| settings.region.clone()), ..settings.clone() };
    let config = aws::load_config(&settings, None).await;
    let region = config.region().map(|r| r.to_string()).ok_or(FetchError::NoRegion)?;
    let client = aws_sdk_bedrock::Client::new(&config);
    let attempts = settings.body_attempts;

    let mut summaries = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = aws::Pages::default();
    loop {
        let resource = format!("application inference profiles in {region}");
        let page = aws::with_retries(attempts, || {
            client
                .list_inference_profiles()
                .type_equals(InferenceProfileType::Application)
                .set_next_token(token.clone())
                .send()
        })
        .await
        .map_err(|e| call_error(&e, "bedrock:ListInferenceProfiles", &resource))?;
        summaries.extend(page.inference_profile_summaries.unwrap_or_default());
        token = pages.next(page.next_token, &format!("ListInferenceProfiles in {region}"))?;
        if token.is_none() {
            break;
        }
    }

    let mut fetched = Fetched::default();
    for summary in summaries {
        let arn = summary.inference_profile_arn;
        let get =
            aws::with_retries(attempts, || client.get_inference_profile().inference_profile_identifier(&arn).send());
        let tags = aws::with_retries(attempts, || client.list_tags_for_resource().resource_arn(&arn).send());
        let (get, tags) = tokio::join!(get, tags);
        if get.as_ref().err().is_some_and(is_not_found) || tags.as_ref().err().is_some_and(is_not_found) {
            fetched.vanished.push(arn);
            continue;
        }
        let get = get.map_err(|e| call_error(&e, "bedrock:GetInferenceProfile", &arn))?;
        let tags = tags.map_err(|e| call_error(&e, "bedrock:ListTagsForResource", &arn))?;
        let model_arns: Vec<&str> = get.models().iter().filter_map(|m| m.model_arn()).collect();
        let (model, regions) =
            model_and_regions(&model_arns).map_err(|problem| FetchError::Shape { arn: arn.clone(), problem })?;
        let tags: BTreeMap<String, String> =
            tags.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
        fetched.profiles.push(Profile {
            arn,
            model,
            regions,
            tags,
            name: Some(get.inference_profile_name().to_string()),
            last_seen: None,
        });
    }
    Ok((region, fetched))
}

fn is_not_found<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(e) if e.err().code() == Some("ResourceNotFoundException"))
}

fn call_error<E, R>(err: &SdkError<E, R>, permission: &str, resource: &str) -> FetchError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    FetchError::Call(aws::describe(err, &Action { permission, resource }))
}

/// An application profile's foundation-model ARNs (one per region it can send a request to)
/// -> its base model and those regions, sorted. Every ARN must name the same model.
pub fn model_and_regions(model_arns: &[&str]) -> Result<(String, Vec<String>), ModelsProblem> {
    let mut models = BTreeSet::new();
    let mut regions = BTreeSet::new();
    for arn in model_arns {
        let c = canonicalise(arn);
        if c.kind != ModelIdKind::FoundationModel || !arn.starts_with("arn:") {
            return Err(ModelsProblem::NotAFoundationModel(arn.to_string()));
        }
        models.insert(c.base.to_string());
        if let Some(r) = arn_region(arn) {
            regions.insert(r.to_string());
        }
    }
    let mut models = models.into_iter();
    match (models.next(), models.next()) {
        (Some(model), None) => Ok((model, regions.into_iter().collect())),
        (None, _) => Err(ModelsProblem::NoModel),
        (Some(a), Some(b)) => Err(ModelsProblem::SeveralModels(a, b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_and_regions_from_model_arns() {
        let sonnet = "anthropic.claude-sonnet-4-20250514-v1:0";
        let ok = |arns: &[&str], regions: &[&str]| {
            assert_eq!(
                model_and_regions(arns),
                Ok((sonnet.to_string(), regions.iter().map(|r| r.to_string()).collect())),
                "{arns:?}"
            )
        };
        // Copied from a foundation model: one region, in-region only.
        ok(&["arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0"], &["eu-west-1"]);
        // Copied from a geo profile: every destination region, sorted, each once.
        ok(
            &[
                "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
                "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
            ],
            &["us-east-1", "us-east-2", "us-west-2"],
        );
        // GovCloud partition.
        ok(
            &["arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0"],
            &["us-gov-west-1"],
        );
        for (arns, want) in [
            (vec![], "lists no model"),
            (vec!["anthropic.claude-sonnet-4-20250514-v1:0"], "is not a foundation-model ARN"),
            (vec!["arn:aws:bedrock:us-east-1:1:custom-model/x"], "is not a foundation-model ARN"),
            (
                vec![
                    "arn:aws:bedrock:us-east-1::foundation-model/a.one-v1:0",
                    "arn:aws:bedrock:us-east-1::foundation-model/b.two-v1:0",
                ],
                "names more than one model (`a.one-v1:0`, `b.two-v1:0`)",
            ),
        ] {
            let err = model_and_regions(&arns).unwrap_err().to_string();
            assert!(err.contains(want), "{arns:?}: {err}");
        }
    }
}
