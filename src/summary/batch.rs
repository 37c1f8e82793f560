//! The `batch` section: batch inference jobs (`fetch::batch`), which invocation logs never hold,
//! priced at their model's `batch` rows; and their rows in the cost tables, of kind `batch`, so
//! they are never counted as on-demand calls nor twice.

use serde::Serialize;

use super::schema::{CostModel, CostServiceTier, DayCost, Summary};
use crate::analysis::attribution::Attributed;
use crate::analysis::cost::tier_of;
use crate::fetch::batch::{job_time, BatchRead, Job};
use crate::given::prices::{Context, Key, Prices};
use crate::given::profiles::Profiles;
use crate::record::ServiceTier;
use crate::window::{date, rfc3339, Window};

/// The kind of the cost rows of logged calls, and of batch jobs.
pub const ON_DEMAND: &str = "on-demand";
pub const BATCH: &str = "batch";

#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct BatchOut {
    pub jobs: Vec<BatchJob>,
    pub totals: BatchTotals,
}

#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct BatchJob {
    pub job_id: String,
    /// From the job API; null for a job found only by its output folder.
    pub job_arn: Option<String>,
    pub job_name: Option<String>,
    pub region: Option<String>,
    pub model_id: Option<String>,
    pub model: Option<String>,
    pub status: Option<String>,
    pub submit_time: Option<String>,
    pub end_time: Option<String>,
    /// From `manifest.json.out`; null when it was not read (`problem` says why).
    pub records_total: Option<u64>,
    pub records_processed: Option<u64>,
    pub records_succeeded: Option<u64>,
    pub records_failed: Option<u64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// At the model's batch rows; null when unpriced or without counts.
    pub usd: Option<f64>,
    pub manifest: Option<String>,
    pub problem: Option<String>,
}

#[derive(Debug, Serialize, PartialEq, Clone, Default)]
pub struct BatchTotals {
    pub jobs: u64,
    pub records_succeeded: u64,
    pub records_failed: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub usd: f64,
    /// Jobs with counts but no batch price for their model (or no model known).
    pub unpriced_jobs: u64,
    /// Jobs whose manifest was not read: their tokens are not known, never taken as zero.
    pub jobs_without_counts: u64,
}

/// The jobs of `window` as the batch section, their cost added to `summary.cost` and
/// `summary.daily` as rows of kind `batch`.
pub fn apply(summary: &mut Summary, read: &BatchRead, window: Window, prices: &Prices, profiles: &Profiles) {
    let mut out = BatchOut { jobs: Vec::new(), totals: BatchTotals::default() };
    let mut jobs: Vec<&Job> = read.jobs.values().filter(|j| job_time(j).is_none_or(|t| window.contains(t))).collect();
    jobs.sort_by_key(|j| (job_time(j), j.id.clone()));
    for job in jobs {
        let row = job_row(job, prices, profiles);
        let t = &mut out.totals;
        t.jobs += 1;
        match (row.input_tokens, row.output_tokens) {
            (Some(i), Some(o)) => {
                t.input_tokens += i;
                t.output_tokens += o;
                t.records_succeeded += row.records_succeeded.unwrap_or(0);
                t.records_failed += row.records_failed.unwrap_or(0);
                match row.usd {
                    Some(usd) => t.usd += usd,
                    None => t.unpriced_jobs += 1,
                }
                add_cost(summary, &row, job);
            }
            _ => t.jobs_without_counts += 1,
        }
        out.jobs.push(row);
    }
    summary.batch = Some(out);
}

fn job_row(job: &Job, prices: &Prices, profiles: &Profiles) -> BatchJob {
    let (manifest, problem) = match &job.manifest {
        Some(Ok(m)) => (Some(*m), None),
        Some(Err(e)) => (None, Some(format!("manifest not read: {e}"))),
        None => (None, Some("no output folder known: its manifest was not read".to_string())),
    };
    let resolved = match (&job.region, &job.model_id) {
        (Some(region), Some(model_id)) => Some((region, crate::resolve::resolve(region, model_id, None, profiles))),
        _ => None,
    };
    let usd = manifest.zip(resolved.as_ref()).and_then(|(m, (region, r))| {
        let key = Key {
            source_region: region,
            tier: tier_of(r.kind.as_str()),
            service: ServiceTier::Batch,
            context: Context::Standard,
        };
        let p = prices.lookup(r.model, key)?;
        Some((m.input_tokens as f64 * p.input + m.output_tokens as f64 * p.output) / 1_000_000.0)
    });
    let problem = problem.or_else(|| match (&resolved, usd) {
        (None, _) => Some("no model known (no job API record): unpriced".to_string()),
        (Some((_, r)), None) => Some(format!("no batch price for {}: unpriced", r.model)),
        _ => None,
    });
    BatchJob {
        job_id: job.id.clone(),
        job_arn: job.arn.clone(),
        job_name: job.name.clone(),
        region: job.region.clone(),
        model_id: job.model_id.clone(),
        model: resolved.as_ref().map(|(_, r)| r.model.to_string()),
        status: job.status.clone(),
        submit_time: job.submit_ms.map(rfc3339),
        end_time: job.end_ms.map(rfc3339),
        records_total: manifest.map(|m| m.total),
        records_processed: manifest.map(|m| m.processed),
        records_succeeded: manifest.map(|m| m.succeeded),
        records_failed: manifest.map(|m| m.failed),
        input_tokens: manifest.map(|m| m.input_tokens),
        output_tokens: manifest.map(|m| m.output_tokens),
        usd,
        manifest: job.manifest_at.clone(),
        problem,
    }
}

/// A job with counts as rows of kind `batch` in the cost tables: per model, per service tier
/// `batch`, and per day (its end, else its submission).
fn add_cost(summary: &mut Summary, row: &BatchJob, job: &Job) {
    let records = row.records_succeeded.unwrap_or(0) + row.records_failed.unwrap_or(0);
    let figures = Attributed {
        requests: records,
        input: row.input_tokens.unwrap_or(0),
        output: row.output_tokens.unwrap_or(0),
        cache_write_5m: 0,
        cache_write_1h: 0,
        usd: row.usd.unwrap_or(0.0),
        unpriced: if row.usd.is_some() { 0 } else { records },
    };
    let model = row.model.clone().unwrap_or_else(|| "(unknown)".to_string());
    if let Some(cost) = summary.cost.as_mut() {
        cost.total += figures.usd;
        match cost.by_model.iter_mut().find(|m| m.kind == BATCH && m.model == model) {
            Some(m) => m.figures.add(&figures),
            None => cost.by_model.push(CostModel { model: model.clone(), kind: BATCH, figures: figures.clone() }),
        }
        match cost.by_service_tier.iter_mut().find(|t| t.service_tier == BATCH) {
            Some(t) => t.figures.add(&figures),
            None => cost.by_service_tier.push(CostServiceTier { service_tier: BATCH.into(), figures: figures.clone() }),
        }
    }
    let day = job_time(job).map(date).unwrap_or_default();
    let days = &mut summary.daily.cost_by_model;
    match days.iter_mut().find(|d| d.kind == BATCH && d.day == day && d.model == model) {
        Some(d) => {
            d.usd += figures.usd;
            d.requests += records;
            d.unpriced_requests += figures.unpriced;
        }
        None => days.push(DayCost {
            day,
            model,
            kind: BATCH,
            usd: figures.usd,
            requests: records,
            unpriced_requests: figures.unpriced,
        }),
    }
}
