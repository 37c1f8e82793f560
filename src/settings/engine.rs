//! `--engine` and its flags -> the engine a command runs on.

use anyhow::{bail, Result};

use super::parse::seconds;
use super::LocalSources;
use crate::cli::{AthenaArgs, EngineArgs, InsightsArgs};
use crate::engine::athena::{self, sql::TableRef, Athena};
use crate::engine::Engine;
use crate::source::aws::AwsSettings;
use crate::source::s3::Location;
use crate::source::SourceSpec;

/// `s3://...` with a bucket, ending in `/` (Athena writes `<id>.csv` below it).
fn result_location(text: &str) -> Result<String> {
    let l = Location::parse(text).map_err(|e| anyhow::anyhow!("--output {e}"))?;
    let url = l.url(&l.prefix);
    Ok(if url.ends_with('/') { url } else { format!("{url}/") })
}

pub(super) fn athena_run(a: &AthenaArgs, aws: &AwsSettings, table: &TableRef) -> Result<athena::client::Settings> {
    if let Some(w) = &a.workgroup {
        let ok = !w.is_empty() && w.len() <= 128 && w.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !ok {
            bail!("--workgroup `{w}`: use 1-128 letters, digits, `.`, `_` and `-`");
        }
    }
    Ok(athena::client::Settings {
        aws: aws.clone(),
        workgroup: a.workgroup.clone(),
        output: a.output.as_deref().map(result_location).transpose()?,
        database: Some(table.database.clone()),
        timeout: seconds("--athena-timeout", a.athena_timeout)?,
        concurrency: aws.concurrency,
    })
}

/// The engine of report, check and query: the local one reads `sources`; Athena reads a table,
/// `--athena-table` or the one `athena setup` declares by default for an s3:// source.
pub(super) fn engine(e: &EngineArgs, sources: LocalSources) -> Result<Engine> {
    use crate::cli::Engine as Cli;
    use crate::store::StoreAt;
    if e.engine == Cli::Local {
        if e.athena_table.is_some() || e.dry_run || e.cloudtrail_table.is_some() {
            bail!(
                "--athena-table, --cloudtrail-table and --dry-run are for --engine athena (and --dry-run for insights)"
            );
        }
        return Ok(Engine::Local(sources));
    }
    if e.engine == Cli::Insights {
        if e.athena_table.is_some() || e.cloudtrail_table.is_some() {
            bail!("--athena-table and --cloudtrail-table are for --engine athena");
        }
        return insights(&e.insights, e.dry_run, sources);
    }
    let trail = match &e.cloudtrail_table {
        None => None,
        Some(t) => Some(athena::sql::TrailTable {
            table: TableRef::parse(t).map_err(|e| anyhow::anyhow!("--cloudtrail-table {e}"))?,
            partition: match e.cloudtrail_partition.as_str() {
                "none" => None,
                c => Some(athena::quote::column_name("--cloudtrail-partition", c)?),
            },
        }),
    };
    let named = |default: &str| match &e.athena_table {
        Some(t) => TableRef::parse(t).map_err(|e| anyhow::anyhow!("--athena-table {e}")),
        None => Ok(TableRef { database: crate::cli::DEFAULT_DATABASE.into(), table: default.into() }),
    };
    let (table, layout) = match (&sources.store, sources.sources.as_slice()) {
        (Some(StoreAt::S3(_)), _) => (named(crate::cli::DEFAULT_STORE_TABLE)?, athena::sql::Layout::Store),
        (Some(StoreAt::Dir(_)), _) => {
            bail!("--engine athena reads a store on S3 (--store s3://...), not a local directory")
        }
        (None, []) if e.athena_table.is_some() => (named(crate::cli::DEFAULT_TABLE)?, athena::sql::Layout::Logs),
        // CloudTrail alone: the audit of the trail table, with no invocation logs.
        (None, []) if trail.is_some() => {
            (trail.as_ref().map(|t| t.table.clone()).expect("checked"), athena::sql::Layout::Nothing)
        }
        (None, [SourceSpec::S3(_)]) => (named(crate::cli::DEFAULT_TABLE)?, athena::sql::Layout::Logs),
        _ => bail!(
            "--engine athena reads one s3://BUCKET/PREFIX (through the table `mila athena setup` declared for it), --store s3://..., --athena-table DB.TABLE or --cloudtrail-table DB.TABLE, and no other source"
        ),
    };
    Ok(Engine::Athena(Box::new(Athena {
        run: athena_run(&e.athena, &sources.aws, &table)?,
        table,
        layout,
        store: sources.store.clone(),
        dry_run: e.dry_run,
        trail,
    })))
}

/// `--engine insights`: the cloudwatch: sources' log groups, all of one region.
fn insights(a: &InsightsArgs, dry_run: bool, sources: LocalSources) -> Result<Engine> {
    use crate::engine::insights::{client, split, Insights};
    let mut groups = Vec::new();
    let mut region: Option<String> = None;
    for s in &sources.sources {
        let SourceSpec::CloudWatch(g) = s else {
            bail!("--engine insights reads cloudwatch:LOG_GROUP sources only (for files and S3 use --engine local or athena)");
        };
        if let Some(r) = &g.region {
            match &region {
                Some(first) if first != r => {
                    bail!("--engine insights: one query reads log groups of one region; {first} and {r} were given")
                }
                _ => region = Some(r.clone()),
            }
        }
        let id = g.identifier();
        if !groups.contains(&id) {
            groups.push(id);
        }
    }
    if sources.store.is_some() || groups.is_empty() {
        bail!("--engine insights reads one or more cloudwatch:LOG_GROUP sources, and no store");
    }
    // StartQuery's logGroupIdentifiers: at most 50.
    if groups.len() > 50 {
        bail!("--engine insights: {} log groups; one Logs Insights query reads at most 50", groups.len());
    }
    if !(1..=split::MAX_ROWS).contains(&a.insights_limit) {
        bail!("--insights-limit must be 1 to {}, not {}", split::MAX_ROWS, a.insights_limit);
    }
    if !(1..=100).contains(&a.insights_concurrency) {
        bail!("--insights-concurrency must be 1 to 100 (the account's limit), not {}", a.insights_concurrency);
    }
    if !(1..=1_000_000).contains(&a.insights_max_queries) {
        bail!("--insights-max-queries must be 1 to 1000000, not {}", a.insights_max_queries);
    }
    Ok(Engine::Insights(Box::new(Insights {
        run: client::Settings {
            aws: sources.aws.clone(),
            log_groups: groups,
            limit: a.insights_limit,
            timeout: seconds("--insights-timeout", a.insights_timeout)?,
        },
        bounds: split::Bounds { concurrency: a.insights_concurrency, max_queries: a.insights_max_queries },
        dry_run,
        region,
    })))
}
