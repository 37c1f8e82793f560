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
    /// `manifest` (its `manifest.json.out`) or `records` (its `*.jsonl.out` records counted, when
    /// it wrote no usable manifest); null when neither was read (`problem` says why).
    pub counted_from: Option<&'static str>,
    pub records_total: Option<u64>,
    pub records_processed: Option<u64>,
    pub records_succeeded: Option<u64>,
    pub records_failed: Option<u64>,
    /// Lines of its records files that were no output record (counted from records only).
    pub records_rejected: Option<u64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// Counted from records only (a manifest counts none).
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    /// At the model's batch rows; null when unpriced or without counts.
    pub usd: Option<f64>,
    /// The job's output folder.
    pub folder: Option<String>,
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
    /// Jobs neither whose manifest nor whose records were read: their tokens are not known, never
    /// taken as zero.
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

/// A job's counts: its manifest's, else its records'.
struct Counted {
    from: &'static str,
    total: u64,
    processed: u64,
    succeeded: u64,
    failed: u64,
    rejected: Option<u64>,
    tokens: [u64; 4],
}

fn counted(job: &Job) -> (Option<Counted>, Option<String>) {
    let manifest_problem = match &job.manifest {
        Some(Ok(m)) => {
            let c = Counted {
                from: "manifest",
                total: m.total,
                processed: m.processed,
                succeeded: m.succeeded,
                failed: m.failed,
                rejected: None,
                tokens: [m.input_tokens, m.output_tokens, 0, 0],
            };
            return (Some(c), None);
        }
        Some(Err(e)) => Some(format!("manifest not read: {e}")),
        None => None,
    };
    match (&job.records, manifest_problem) {
        (Some(Ok(r)), problem) => {
            let c = Counted {
                from: "records",
                total: r.succeeded + r.failed + r.rejected,
                processed: r.succeeded + r.failed,
                succeeded: r.succeeded,
                failed: r.failed,
                rejected: Some(r.rejected),
                tokens: [r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens],
            };
            (Some(c), problem.map(|p| format!("{p}; counted from its records")))
        }
        (Some(Err(e)), _) => (None, Some(format!("records not read: {e}"))),
        (None, Some(p)) => (None, Some(p)),
        (None, None) => (
            None,
            Some(match job.folder {
                Some(_) => "no manifest and no records in its output folder".to_string(),
                None => "no output folder known: its counts were not read".to_string(),
            }),
        ),
    }
}

fn job_row(job: &Job, prices: &Prices, profiles: &Profiles) -> BatchJob {
    let (counts, problem) = counted(job);
    let resolved = match (&job.region, &job.model_id) {
        (Some(region), Some(model_id)) => Some((region, crate::resolve::resolve(region, model_id, None, profiles))),
        _ => None,
    };
    let usd = counts.as_ref().zip(resolved.as_ref()).and_then(|(c, (region, r))| {
        let key = Key {
            source_region: region,
            tier: tier_of(r.kind.as_str()),
            service: ServiceTier::Batch,
            context: Context::Standard,
        };
        let p = prices.lookup(r.model, key)?;
        let [i, o, cr, cw] = c.tokens.map(|t| t as f64);
        Some((i * p.input + o * p.output + cr * p.cache_read + cw * p.cache_write) / 1_000_000.0)
    });
    let problem = problem.or_else(|| match (&resolved, usd, &counts) {
        (None, _, Some(_)) => Some("no model known (no job API record): unpriced".to_string()),
        (Some((_, r)), None, Some(_)) => Some(format!("no batch price for {}: unpriced", r.model)),
        _ => None,
    });
    let c = counts.as_ref();
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
        counted_from: c.map(|c| c.from),
        records_total: c.map(|c| c.total),
        records_processed: c.map(|c| c.processed),
        records_succeeded: c.map(|c| c.succeeded),
        records_failed: c.map(|c| c.failed),
        records_rejected: c.and_then(|c| c.rejected),
        input_tokens: c.map(|c| c.tokens[0]),
        output_tokens: c.map(|c| c.tokens[1]),
        cache_read_tokens: c.filter(|c| c.from == "records").map(|c| c.tokens[2]),
        cache_write_tokens: c.filter(|c| c.from == "records").map(|c| c.tokens[3]),
        usd,
        folder: job.folder.clone(),
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
