//! Cost by caller and by request metadata: priced at the finest grain (one identity ARN, one
//! metadata text) and then added up per caller or per metadata value, in sorted order, so the
//! figures are the same on every run.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::record::caller::{caller_of, Caller};

/// Sums of priced groups: requests, billed tokens (of successful calls), usd, unpriced requests.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Attributed {
    pub requests: u64,
    #[serde(rename = "input_tokens")]
    pub input: u64,
    #[serde(rename = "output_tokens")]
    pub output: u64,
    /// Cache-write tokens kept five minutes, and one hour (priced apart).
    #[serde(rename = "cache_write_5m_tokens")]
    pub cache_write_5m: u64,
    #[serde(rename = "cache_write_1h_tokens")]
    pub cache_write_1h: u64,
    pub usd: f64,
    #[serde(rename = "unpriced_requests")]
    pub unpriced: u64,
}

impl Attributed {
    /// A row of `cost::priced` (or of a grouping of it).
    pub fn from_row(r: &crate::tables::row::Row) -> Attributed {
        use crate::analysis::cost;
        Attributed {
            requests: r.u64(crate::frame::col::REQUESTS),
            input: r.u64(cost::BILLED_INPUT),
            output: r.u64(cost::BILLED_OUTPUT),
            cache_write_5m: r.u64(cost::BILLED_CACHE_WRITE_5M),
            cache_write_1h: r.u64(cost::BILLED_CACHE_WRITE_1H),
            usd: r.f64(cost::USD),
            unpriced: r.u64(cost::UNPRICED),
        }
    }

    pub fn add(&mut self, a: &Attributed) {
        self.requests += a.requests;
        self.input += a.input;
        self.output += a.output;
        self.cache_write_5m += a.cache_write_5m;
        self.cache_write_1h += a.cache_write_1h;
        self.usd += a.usd;
        self.unpriced += a.unpriced;
    }
}

pub const NO_METADATA: &str = "(none)";
pub const NO_IDENTITY: &str = "(unknown)";

/// Per caller: items are an identity ARN and its priced groups' figures, in ARN order, from
/// `cost::PricedGroups` over `callers`; they add up in that order.
/// `api_keys`: the identities CloudTrail saw calling with a bearer token (`record::caller::caller_of`).
pub fn by_identity(
    priced: impl IntoIterator<Item = (Option<String>, Vec<Attributed>)>,
    api_keys: &[String],
) -> Vec<(Caller, Attributed)> {
    let mut callers: BTreeMap<Caller, Attributed> = BTreeMap::new();
    for (arn, groups) in priced {
        let who = match arn.as_deref() {
            Some(arn) => caller_of(arn, api_keys),
            None => Caller {
                account: String::new(),
                principal: NO_IDENTITY.into(),
                session: String::new(),
                kind: crate::record::caller::CallerKind::Other,
            },
        };
        let figures = callers.entry(who).or_default();
        groups.iter().for_each(|a| figures.add(a));
    }
    callers
        .into_iter()
        // + 0.0: a sum of no terms is -0.0, which would print as "-0".
        .map(|(c, a)| (c, Attributed { usd: a.usd + 0.0, ..a }))
        .collect()
}

/// Per `--by-metadata` key and value: items are a metadata text and its priced groups'
/// figures, in text order, from `cost::PricedGroups` over `metadata`.
pub fn by_request_metadata(
    priced: impl IntoIterator<Item = (Option<String>, Vec<Attributed>)>,
    keys: &[String],
) -> Vec<((String, String), Attributed)> {
    let mut values: BTreeMap<(String, String), Attributed> = BTreeMap::new();
    for (metadata, groups) in priced {
        for key in keys {
            let figures = values.entry((key.clone(), metadata_value(metadata.as_deref(), key))).or_default();
            groups.iter().for_each(|a| figures.add(a));
        }
    }
    values.into_iter().map(|(key_value, a)| (key_value, Attributed { usd: a.usd + 0.0, ..a })).collect()
}

/// The value of `key` in a record's requestMetadata (a JSON object text): strings as they are,
/// other JSON values as their JSON text.
fn metadata_value(metadata: Option<&str>, key: &str) -> String {
    let parsed = metadata.and_then(|m| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(m).ok());
    match parsed.as_ref().and_then(|m| m.get(key)) {
        None | Some(serde_json::Value::Null) => NO_METADATA.to_string(),
        Some(serde_json::Value::String(v)) => v.clone(),
        Some(v) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_values() {
        let cases = [
            (Some(r#"{"app":"search","n":3}"#), "app", "search"),
            (Some(r#"{"app":"search","n":3}"#), "n", "3"),
            (Some(r#"{"app":"search"}"#), "team", NO_METADATA),
            (Some(r#"{"flag":true,"x":null}"#), "flag", "true"),
            (Some(r#"{"x":null}"#), "x", NO_METADATA),
            (Some("{}"), "app", NO_METADATA),
            (None, "app", NO_METADATA),
            (Some(r#"{"a.b":"dotted"}"#), "a.b", "dotted"),
        ];
        for (metadata, key, want) in cases {
            assert_eq!(metadata_value(metadata, key), want, "{metadata:?} {key}");
        }
    }
}
