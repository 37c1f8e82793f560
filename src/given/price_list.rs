//! What a product of the AWS Price List (GetProducts, format `aws_v1`) says about a Bedrock token
//! price, and the prices file made of many. Pure: `fetch::prices` brings the products.
//!
//! A product is one priced usage type: its `usagetype` attribute encodes the token kind and scope,
//! its `regionCode` the region, its name (`servicename` of the Marketplace offer, `model` of the
//! AmazonBedrock offer) the model, through the bundled `price_names.csv`. Two spellings are read:
//! - Marketplace (`AmazonBedrockFoundationModels`): `USE1-MP:USE1_InputTokenCount[_Global][_LCtx][_Batch]-Units`
//!   (and `CacheReadInputTokenCount`, `CacheWriteInputTokenCount`, `CacheWrite1hInputTokenCount`,
//!   `OutputTokenCount`), or `USE1-MP:USE1_cache_write_tokens[_lctx][_1h][_global]_standard-Units`
//!   (`input`, `output`, `cache_read`, `cache_write`; tiers `standard`, `batch`, `flex`, `priority`).
//! - AmazonBedrock: `USE1-NovaPro[-cache-read|-cache-write]-input-tokens`, `...-output-tokens`, then any of
//!   `-batch`, `-flex`, `-priority`, `-latency-optimized`, `-standard`, `-global`, `-cross-region[-global]`.
//!
//! Anything else that names tokens is listed as not understood; a usage type that names no tokens
//! (images, provisioned throughput, storage) is counted as not a token price. Nothing is guessed.

use std::collections::BTreeMap;

use serde_json::Value;

use super::prices::{Tier, MAX_PRICE};
use crate::record::ServiceTier;

/// The bundled table of model names as the Price List writes them.
pub const PRICE_NAMES_CSV: &str = include_str!("price_names.csv");

/// The Marketplace offer's suffix to a model's name.
const EDITION: &str = " (Amazon Bedrock Edition)";

/// Which token a price is for, in `prices::COLUMNS` order after the region and tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Token {
    Input,
    Output,
    CacheRead,
    CacheWrite,
    CacheWrite1h,
}

/// What a price row is keyed by: model, region, tier, service tier, long context.
pub type RowKey = (String, String, Tier, ServiceTier, bool);

/// One product read as a token price.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPrice {
    pub key: RowKey,
    pub token: Token,
    /// USD per million tokens.
    pub usd: f64,
    pub usage_type: String,
    pub published: Option<String>,
}

/// Why a product is not a token price mila writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Skip {
    /// Its usage type names no tokens (images, provisioned throughput, storage ...).
    NotTokens,
    /// A token price mila cannot read or place: said in a sentence naming the usage type.
    NotMapped(String),
}

/// The model id of a name in the Price List, through `PRICE_NAMES_CSV` (case aside).
pub fn model_of_name(name: &str) -> Option<&'static str> {
    super::model_of_name(PRICE_NAMES_CSV, &[name.trim()])
}

/// The token, tier, service tier and long context a usage type encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageType {
    pub token: Token,
    pub tier: Tier,
    pub service: ServiceTier,
    pub long: bool,
}

/// A usage type read (`Ok(None)`: it names no tokens), or why not.
pub fn usage_type(ut: &str) -> Result<Option<UsageType>, String> {
    let names_tokens = ut.to_lowercase().contains("token");
    let read = match ut.split_once("-MP:") {
        Some((_, rest)) => marketplace(rest),
        None => ut.split_once('-').and_then(|(_, rest)| bedrock(rest)),
    };
    match (read, names_tokens) {
        (Some(u), _) => Ok(Some(u)),
        (None, false) => Ok(None),
        (None, true) => Err(format!("usage type {ut} is not one mila reads")),
    }
}

/// `USE1_InputTokenCount_Global-Units` or `USE1_input_tokens_global_standard-Units`.
fn marketplace(rest: &str) -> Option<UsageType> {
    let field = rest.strip_suffix("-Units")?.split_once('_')?.1;
    let words: Vec<&str> = field.split('_').collect();
    let mut u = UsageType { token: Token::Input, tier: Tier::Regional, service: ServiceTier::Standard, long: false };
    if field.starts_with(|c: char| c.is_ascii_uppercase()) {
        u.token = match words[0] {
            "InputTokenCount" => Token::Input,
            "OutputTokenCount" => Token::Output,
            "CacheReadInputTokenCount" => Token::CacheRead,
            "CacheWriteInputTokenCount" => Token::CacheWrite,
            "CacheWrite1hInputTokenCount" => Token::CacheWrite1h,
            _ => return None,
        };
        for w in &words[1..] {
            match *w {
                "Global" => u.tier = Tier::Global,
                "LCtx" => u.long = true,
                "Batch" => u.service = ServiceTier::Batch,
                "Flex" => u.service = ServiceTier::Flex,
                "Priority" => u.service = ServiceTier::Priority,
                _ => return None,
            }
        }
        return Some(u);
    }
    let at = words.iter().position(|w| *w == "tokens")?;
    u.token = match words[..at].join("_").as_str() {
        "input" => Token::Input,
        "output" => Token::Output,
        "cache_read" => Token::CacheRead,
        "cache_write" => Token::CacheWrite,
        _ => return None,
    };
    let (service, flags) = words[at + 1..].split_last()?;
    u.service = match *service {
        "standard" => ServiceTier::Standard,
        "batch" => ServiceTier::Batch,
        "flex" => ServiceTier::Flex,
        "priority" => ServiceTier::Priority,
        _ => return None,
    };
    for w in flags {
        match *w {
            "global" => u.tier = Tier::Global,
            "lctx" => u.long = true,
            "1h" if u.token == Token::CacheWrite => u.token = Token::CacheWrite1h,
            _ => return None,
        }
    }
    Some(u)
}

/// `NovaPro-input-tokens-batch`, `NovaPro-cache-read-input-tokens-cross-region-global`: the
/// model's key, then the token, then what follows.
fn bedrock(rest: &str) -> Option<UsageType> {
    let words: Vec<&str> = rest.split('-').collect();
    let at = words.iter().position(|w| *w == "tokens")?;
    let direction = *words.get(at.checked_sub(1)?)?;
    let before = &words[..at - 1];
    let token = match (direction, before) {
        ("input", [.., "cache", "read"]) => Token::CacheRead,
        ("input", [.., "cache", "write"]) => Token::CacheWrite,
        ("input", _) => Token::Input,
        ("output", _) => Token::Output,
        _ => return None,
    };
    let mut u = UsageType { token, tier: Tier::Regional, service: ServiceTier::Standard, long: false };
    let mut after = &words[at + 1..];
    while !after.is_empty() {
        after = match after {
            ["cross", "region", "global", more @ ..] | ["global", more @ ..] => {
                u.tier = Tier::Global;
                more
            }
            // A geographic cross-region profile is billed as the source region's own calls.
            ["cross", "region", more @ ..] => more,
            ["batch", more @ ..] => {
                u.service = ServiceTier::Batch;
                more
            }
            ["flex", more @ ..] => {
                u.service = ServiceTier::Flex;
                more
            }
            ["priority", more @ ..] => {
                u.service = ServiceTier::Priority;
                more
            }
            ["latency", "optimized", more @ ..] => {
                u.service = ServiceTier::LatencyOptimized;
                more
            }
            ["standard", more @ ..] => more,
            _ => return None,
        };
    }
    Some(u)
}

/// A decimal USD string per `unit`, as USD per million tokens. The decimal point is moved in the
/// text, so the price is exactly the list's (no float product).
pub fn per_million(usd: &str, unit: &str, marketplace: bool) -> Option<f64> {
    let shift = match unit.trim().to_lowercase().as_str() {
        "1k tokens" => 3,
        "1m tokens" | "million tokens" => 0,
        // The Marketplace offer prices its token dimensions per million tokens.
        "units" if marketplace => 0,
        _ => return None,
    };
    let (whole, frac) = usd.trim().split_once('.').unwrap_or((usd.trim(), ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = format!("{frac:0<shift$}");
    let text = format!("{whole}{}.{}0", &frac[..shift], &frac[shift..]);
    text.parse::<f64>().ok().filter(|v| v.is_finite() && *v <= MAX_PRICE)
}

/// One product (a JSON document of GetProducts' `PriceList`) of `service_code`.
pub fn read_product(service_code: &str, doc: &str) -> Result<TokenPrice, Skip> {
    let v: Value =
        serde_json::from_str(doc).map_err(|e| Skip::NotMapped(format!("a product that is not JSON: {e}")))?;
    let attrs = &v["product"]["attributes"];
    let attr = |k: &str| attrs[k].as_str().map(str::trim).filter(|s| !s.is_empty());
    let ut = attr("usagetype").ok_or_else(|| Skip::NotMapped("a product without a usagetype".into()))?;
    let Some(u) = usage_type(ut).map_err(Skip::NotMapped)? else { return Err(Skip::NotTokens) };
    let marketplace = ut.contains("-MP:");
    let name = match marketplace {
        true => attr("servicename").map(|n| n.strip_suffix(EDITION).unwrap_or(n)),
        false => attr("model").or_else(|| attr("titanModel")),
    }
    .ok_or_else(|| Skip::NotMapped(format!("{ut}: no model name ({service_code})")))?;
    let model = model_of_name(name)
        .ok_or_else(|| Skip::NotMapped(format!("{ut}: model name {name:?} is not in mila's names table")))?;
    let region = attr("regionCode").ok_or_else(|| Skip::NotMapped(format!("{ut}: no regionCode")))?;
    // It becomes a cell of the prices file: only a region's name may (a comma or a newline would
    // break the row).
    if !crate::names::is_region_name(region) {
        return Err(Skip::NotMapped(format!("{ut}: regionCode {region:?} is not a region name")));
    }
    // Exactly one on-demand price: several (tiers by volume, say) are not one rate per token.
    let dims: Vec<&Value> = v["terms"]["OnDemand"]
        .as_object()
        .into_iter()
        .flat_map(|terms| terms.values())
        .filter_map(|t| t["priceDimensions"].as_object())
        .flat_map(|d| d.values())
        .collect();
    let [dim] = dims[..] else {
        return Err(Skip::NotMapped(format!("{ut} ({name}): {} on-demand prices, not one", dims.len())));
    };
    let (usd, unit) = (dim["pricePerUnit"]["USD"].as_str().unwrap_or(""), dim["unit"].as_str().unwrap_or(""));
    let usd = per_million(usd, unit, marketplace)
        .ok_or_else(|| Skip::NotMapped(format!("{ut} ({name}): price {usd:?} per {unit:?} is not one mila reads")))?;
    Ok(TokenPrice {
        key: (model.to_string(), region.to_string(), u.tier, u.service, u.long),
        token: u.token,
        usd,
        usage_type: ut.to_string(),
        published: v["publicationDate"].as_str().map(str::to_string),
    })
}

/// The token prices as price rows: per key, the five prices (None where the list has none).
/// A key whose list gives one token two prices is left out, said in `conflicts`.
pub struct Assembled {
    pub rows: BTreeMap<RowKey, [Option<f64>; 5]>,
    pub conflicts: Vec<String>,
}

pub fn assemble(prices: &[TokenPrice]) -> Assembled {
    let mut rows: BTreeMap<RowKey, [Option<f64>; 5]> = BTreeMap::new();
    let mut conflicting: BTreeMap<RowKey, String> = BTreeMap::new();
    for p in prices {
        let slot = &mut rows.entry(p.key.clone()).or_default()[p.token as usize];
        match slot {
            Some(v) if *v != p.usd => {
                conflicting.entry(p.key.clone()).or_insert_with(|| {
                    format!(
                        "{} in {}: {:?} priced at both {v} and {} ({})",
                        p.key.0, p.key.1, p.token, p.usd, p.usage_type
                    )
                });
            }
            _ => *slot = Some(p.usd),
        }
    }
    for k in conflicting.keys() {
        rows.remove(k);
    }
    Assembled { rows, conflicts: conflicting.into_values().collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_types_read_as_tables_of_cases() {
        use ServiceTier::*;
        use Tier::*;
        use Token::*;
        let u = |token, tier, service, long| Ok(Some(UsageType { token, tier, service, long }));
        let cases = [
            ("USE1-MP:USE1_InputTokenCount-Units", u(Input, Regional, Standard, false)),
            ("USE1-MP:USE1_InputTokenCount_Global-Units", u(Input, Global, Standard, false)),
            ("EUC1-MP:EUC1_OutputTokenCount_Global_LCtx-Units", u(Output, Global, Standard, true)),
            ("USE1-MP:USE1_CacheReadInputTokenCount-Units", u(CacheRead, Regional, Standard, false)),
            ("USE1-MP:USE1_CacheWriteInputTokenCount_Global-Units", u(CacheWrite, Global, Standard, false)),
            ("USE1-MP:USE1_CacheWrite1hInputTokenCount-Units", u(CacheWrite1h, Regional, Standard, false)),
            ("USE1-MP:USE1_InputTokenCount_Batch-Units", u(Input, Regional, Batch, false)),
            ("USE1-MP:USE1_input_tokens_standard-Units", u(Input, Regional, Standard, false)),
            ("USE1-MP:USE1_output_tokens_global_standard-Units", u(Output, Global, Standard, false)),
            ("USE1-MP:USE1_cache_write_tokens_1h_global_standard-Units", u(CacheWrite1h, Global, Standard, false)),
            ("USE1-MP:USE1_input_tokens_lctx_global_batch-Units", u(Input, Global, Batch, true)),
            ("USE1-MP:USE1_cache_read_tokens_priority-Units", u(CacheRead, Regional, Priority, false)),
            ("USE1-NovaPro-input-tokens", u(Input, Regional, Standard, false)),
            ("USE1-NovaPro-output-tokens-batch", u(Output, Regional, Batch, false)),
            ("USE1-NovaPro-input-tokens-cross-region-global", u(Input, Global, Standard, false)),
            ("USE1-NovaPro-cache-read-input-tokens", u(CacheRead, Regional, Standard, false)),
            ("USE1-Llama3-1-8B-output-tokens-latency-optimized", u(Output, Regional, LatencyOptimized, false)),
            ("USE1-NovaLite-input-tokens-flex", u(Input, Regional, Flex, false)),
            ("USE1-Nova2.0Lite-input-tokens-flex-cross-region-global", u(Input, Global, Flex, false)),
            ("USE1-Model-input-tokens-cross-region", u(Input, Regional, Standard, false)),
            ("USW2-anthropic.claude-opus-5-mantle-input-tokens-global-standard", u(Input, Global, Standard, false)),
            ("USW2-Model-input-tokens-batch-global", u(Input, Global, Batch, false)),
            // Not token prices: counted, not listed.
            ("USE1-MP:USE1_Created_image-Units", Ok(None)),
            ("USE1-NovaCanvas-T2I-1024-Standard", Ok(None)),
            ("USE1-ProvisionedThroughput-ModelUnits", Ok(None)),
            // Token prices mila cannot read: listed.
            (
                "USE1-MP:USE1_InputTokenCount_Weekend-Units",
                Err("usage type USE1-MP:USE1_InputTokenCount_Weekend-Units is not one mila reads".into()),
            ),
            (
                "USE1-MP:USE1_audio_tokens_standard-Units",
                Err("usage type USE1-MP:USE1_audio_tokens_standard-Units is not one mila reads".into()),
            ),
            (
                "USE1-MP:USE1_cache_read_tokens_1h_standard-Units",
                Err("usage type USE1-MP:USE1_cache_read_tokens_1h_standard-Units is not one mila reads".into()),
            ),
            (
                "USE1-NovaPro-input-tokens-midnight",
                Err("usage type USE1-NovaPro-input-tokens-midnight is not one mila reads".into()),
            ),
            ("tokens", Err("usage type tokens is not one mila reads".into())),
        ];
        for (ut, want) in cases {
            assert_eq!(usage_type(ut), want, "{ut}");
        }
    }

    #[test]
    fn prices_are_scaled_in_the_text() {
        let cases = [
            ("0.0030000000", "1K tokens", false, Some(3.0)),
            ("0.00025", "1K tokens", false, Some(0.25)),
            ("3.3000000000", "Units", true, Some(3.3)),
            ("3.3", "Units", false, None),
            ("12", "1M tokens", false, Some(12.0)),
            ("0.000001", "1K tokens", false, Some(0.001)),
            ("-1", "1K tokens", false, None),
            ("1e3", "1K tokens", false, None),
            ("", "1K tokens", false, None),
            ("100000.1", "1M tokens", false, None),
            ("0.5", "hours", false, None),
        ];
        for (usd, unit, mp, want) in cases {
            assert_eq!(per_million(usd, unit, mp), want, "{usd} {unit} {mp}");
        }
    }
}
