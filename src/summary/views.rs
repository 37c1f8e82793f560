//! Figures the report shows that summary.json holds only in parts: totals per day, callers with
//! their sessions folded together, requests naming an unknown application profile. Each is a
//! function of the summary alone, so renderers only lay out what the summary says.

use std::collections::BTreeMap;

use super::schema::{Attributed, Summary};
use crate::record::model_id::canonicalise;
use crate::record::ModelIdKind;

/// One UTC day over every source region.
#[derive(Debug, Clone, PartialEq)]
pub struct DayTotal {
    pub day: String,
    pub requests: u64,
    pub rerouted: u64,
    pub rerouting_rate: f64,
    /// None when only CloudTrail was read: tokens and cost are unknown, not zero.
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub usd: Option<f64>,
}

/// `daily.by_source_region` summed per day, with `daily.cost_by_model`'s cost of the day.
pub fn days(s: &Summary) -> Vec<DayTotal> {
    let mut days: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for r in &s.daily.by_source_region {
        let t = days.entry(&r.day).or_default();
        let tokens = [r.input_tokens, r.output_tokens].map(|v| v.unwrap_or(0));
        for (i, v) in [r.requests, r.rerouted, tokens[0], tokens[1]].into_iter().enumerate() {
            t[i] += v;
        }
    }
    let mut cost: BTreeMap<&str, f64> = BTreeMap::new();
    for r in &s.daily.cost_by_model {
        *cost.entry(&r.day).or_default() += r.usd;
    }
    let known = s.tokens.is_some();
    days.iter()
        .map(|(day, t)| DayTotal {
            day: day.to_string(),
            requests: t[0],
            rerouted: t[1],
            rerouting_rate: if t[0] == 0 { 0.0 } else { t[1] as f64 / t[0] as f64 },
            input_tokens: known.then_some(t[2]),
            output_tokens: known.then_some(t[3]),
            usd: known.then(|| cost.get(day).copied().unwrap_or(0.0)),
        })
        .collect()
}

/// A caller's cost: its sessions (summary.json keeps them apart) folded into its principal.
#[derive(Debug, PartialEq)]
pub struct PrincipalCost<'a> {
    pub account: &'a str,
    pub principal: &'a str,
    /// `callers[].kind`: `api-key` for a Bedrock API key's IAM user.
    pub kind: &'a str,
    pub sessions: u64,
    pub figures: Attributed,
}

/// `cost.by_identity` per (account, principal), in that order.
pub fn principals(c: &super::schema::Cost) -> Vec<PrincipalCost<'_>> {
    let mut callers: BTreeMap<(&str, &str), (&str, u64, Attributed)> = BTreeMap::new();
    for x in &c.by_identity {
        // The kind follows from the principal's form: one per principal.
        let (kind, sessions, figures) =
            callers.entry((&x.account, &x.principal)).or_insert((x.kind, 0, Attributed::default()));
        *kind = x.kind;
        *sessions += 1;
        figures.add(&x.figures);
    }
    callers
        .into_iter()
        .map(|((account, principal), (kind, sessions, figures))| PrincipalCost {
            account,
            principal,
            kind,
            sessions,
            figures,
        })
        .collect()
}

/// Requests whose model is still an application profile's ARN: the profiles file does not have it.
pub fn unresolved_profile_requests(s: &Summary) -> u64 {
    let Some(tokens) = &s.tokens else { return 0 };
    tokens
        .by_model
        .iter()
        .filter(|m| canonicalise(&m.model).kind == ModelIdKind::ApplicationProfile)
        .map(|m| m.requests)
        .sum()
}
