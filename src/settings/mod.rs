//! Cli -> plain validated Settings. The only module that knows clap; everything below sees these.
//! `Scope` is what every engine reads (window, profiles, now); `LocalSources` is what only the
//! local engine reads (sources or store, limits, progress). Each command has its own builder.

mod engine;
mod parse;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};

use crate::cli::{
    AthenaCommand, AthenaSetupArgs, CheckArgs, Cli, Command, FetchArgs, IngestArgs, PricesArgs, PricesCommand,
    ProfilesCommand, QueryArgs, QuotasCommand, ReportArgs, SampleArgs, SourceArgs,
};
use crate::engine::athena::{self, sql::TableRef};
use crate::engine::Engine;
use crate::fetch::batch::BatchSource;
use crate::fetch::metrics::MetricsRegion;
use crate::given::burndown::Burndown;
use crate::given::policy::Policy;
use crate::given::prices::Prices;
use crate::given::profiles::Profiles;
use crate::given::quotas::Quotas;
use crate::names::{is_account_id, is_region_name};
use crate::source::aws::AwsSettings;
use crate::source::SourceSpec;
use crate::store::StoreAt;
use crate::window::{self, Window};
use parse::{aws, byte_size, output_width, seconds};

pub use crate::cli::{ReportFormat, TableFormat};
pub use crate::scope::{LocalSources, Scope};
pub use parse::{percent, source, window_of, Percent};

pub enum Settings {
    // Boxed: a report's settings (prices, quotas, burndown) are the largest by far.
    Report(Box<Report>),
    Check(Check),
    Query(Query),
    Sample(Sample),
    Prices(PriceTables),
    Ingest(Ingest),
    ProfilesFetch(Fetch),
    QuotasFetch(Fetch),
    PricesFetch(Fetch),
    AthenaSetup(athena::SetupPlan),
}

/// `profiles fetch`, `quotas fetch` and `prices fetch`.
pub struct Fetch {
    /// Each once, in the order given; empty: the configured region.
    pub regions: Vec<String>,
    pub out: PathBuf,
    pub aws: AwsSettings,
    /// The snapshot's date (UTC).
    pub today: toml::value::Datetime,
}

pub struct Ingest {
    /// The window narrows what is listed; profiles stay empty (a store keeps raw model ids).
    pub scope: Scope,
    pub sources: LocalSources,
    pub store: StoreAt,
    pub lookback_ms: i64,
    /// Test hook (`MILA_TEST_CRASH_AT`): abort at a named point, to prove a re-run recovers.
    pub crash_at: Option<String>,
}

/// `mila prices`: the tables in force.
pub struct PriceTables {
    pub prices: Prices,
    pub burndown: Burndown,
    /// `--check SOURCE...`: the logs to check the price table against.
    pub check: Option<(Scope, LocalSources)>,
    /// `--against FILE`: a prices file to compare the table in force with.
    pub against: Option<Prices>,
    pub width: Option<usize>,
}

pub struct Report {
    pub engine: Engine,
    pub scope: Scope,
    pub out: Option<PathBuf>,
    pub prices: Prices,
    pub policy: Option<Policy>,
    pub quotas: Quotas,
    pub burndown: Burndown,
    /// `--by-metadata KEY...`: requestMetadata keys to attribute cost by, each once.
    pub metadata_keys: Vec<String>,
    /// `--compare previous`: the window just before, of the same length.
    pub previous: Option<Window>,
    pub format: ReportFormat,
    /// Columns available for tables on standard output; None: no limit.
    pub width: Option<usize>,
}

pub struct Check {
    pub engine: Engine,
    pub scope: Scope,
    pub policy: Policy,
    pub format: TableFormat,
    pub fail_on_unverifiable: bool,
    /// `--fail-on-coverage-below`, exact.
    pub min_coverage: Option<Percent>,
    pub width: Option<usize>,
}

pub struct Query {
    pub engine: Engine,
    pub scope: Scope,
    pub sql: String,
    pub sql_path: PathBuf,
    pub format: TableFormat,
    pub width: Option<usize>,
}

pub struct Sample {
    pub out: PathBuf,
    pub records: u64,
    pub seed: u64,
    pub start_ms: i64,
    pub bodies: crate::sample::Bodies,
    pub cloudtrail: bool,
}

pub fn from_cli(cli: Cli, now: DateTime<Utc>) -> Result<Settings> {
    Ok(match cli.command {
        Command::Report(a) => Settings::Report(Box::new(report(a, now)?)),
        Command::Check(a) => Settings::Check(check(a, now)?),
        Command::Query(a) => Settings::Query(query(a, now)?),
        Command::Sample(a) => Settings::Sample(sample(a, now)?),
        Command::Prices(PricesArgs { command: Some(PricesCommand::Fetch(a)), .. }) => {
            Settings::PricesFetch(fetch(a, now)?)
        }
        Command::Prices(a) => Settings::Prices(prices(a, now)?),
        Command::Ingest(a) => Settings::Ingest(ingest(a, now)?),
        Command::Athena(AthenaCommand::Setup(a)) => Settings::AthenaSetup(athena_setup(a, now)?),
        Command::Profiles(ProfilesCommand::Fetch(a)) => Settings::ProfilesFetch(fetch(a, now)?),
        Command::Quotas(QuotasCommand::Fetch(a)) => Settings::QuotasFetch(fetch(a, now)?),
    })
}

/// `batch:` sources hold jobs, not calls: only a report reads them.
fn only_report_reads_batch(scope: &Scope, command: &str) -> Result<()> {
    if !scope.batch.is_empty() {
        bail!("{command} does not read batch: sources; report does (batch jobs are in its cost and its batch section)");
    }
    Ok(())
}

/// What a command that reads logs reads, over which scope.
fn reading(a: &SourceArgs, now: DateTime<Utc>) -> Result<(Scope, LocalSources)> {
    let (metrics, logs): (Vec<&String>, Vec<&String>) = a.sources.iter().partition(|s| s.starts_with("metrics:"));
    let (batch, logs): (Vec<&String>, Vec<&String>) =
        logs.into_iter().partition(|s| s.starts_with(BatchSource::PREFIX));
    let batch = batch
        .into_iter()
        .map(|b| BatchSource::parse(b).map_err(|e| anyhow::anyhow!("source {e}")))
        .collect::<Result<Vec<_>>>()?;
    let sources: Vec<SourceSpec> = logs.into_iter().map(|s| source(s)).collect::<Result<_>>()?;
    let metrics = metrics
        .into_iter()
        .map(|m| MetricsRegion::parse(m).map_err(|e| anyhow::anyhow!("source {e}")))
        .collect::<Result<Vec<_>>>()?;
    if !metrics.is_empty() && a.window.since.is_none() && a.window.week.is_none() {
        bail!("metrics: sources need a window: --since (and --until) or --week");
    }
    let scope = Scope {
        metrics: crate::scope::MetricsSources { regions: metrics, aws: aws(&a.aws)? },
        batch,
        window: window_of(&a.window, now)?,
        profiles: match &a.profiles {
            Some(p) => Profiles::load(p)?,
            None => Profiles::default(),
        },
        now_ms: now.timestamp_millis(),
    };
    let local = LocalSources {
        progress: !a.aws.quiet && sources.iter().any(SourceSpec::is_cloud),
        sources,
        store: a.store.as_deref().map(StoreAt::parse).transpose()?,
        max_line: byte_size("--max-line-length", &a.limits.max_line_length, 1 << 10, 1 << 30)?,
        aws: aws(&a.aws)?,
    };
    Ok((scope, local))
}

fn report(a: ReportArgs, now: DateTime<Utc>) -> Result<Report> {
    let (scope, sources) = reading(&a.read, now)?;
    Ok(Report {
        engine: engine::engine(&a.engine, sources)?,
        previous: match a.compare {
            None => None,
            Some(crate::cli::Compare::Previous) => Some(parse::previous(scope.window)?),
        },
        scope,
        out: a.out,
        prices: parse::prices(a.prices.as_deref())?,
        policy: a.policy.as_deref().map(Policy::load).transpose()?,
        quotas: a.quotas.as_deref().map(Quotas::load).transpose()?.unwrap_or_default(),
        burndown: parse::burndown(a.burndown.as_deref())?,
        metadata_keys: parse::metadata_keys(&a.by_metadata)?,
        format: a.format,
        width: output_width(),
    })
}

fn check(a: CheckArgs, now: DateTime<Utc>) -> Result<Check> {
    let (scope, sources) = reading(&a.read, now)?;
    only_report_reads_batch(&scope, "check")?;
    Ok(Check {
        engine: engine::engine(&a.engine, sources)?,
        scope,
        policy: Policy::load(&a.policy)?,
        format: a.format,
        fail_on_unverifiable: a.fail_on_unverifiable,
        min_coverage: a.fail_on_coverage_below.as_deref().map(percent).transpose()?,
        width: output_width(),
    })
}

fn query(a: QueryArgs, now: DateTime<Utc>) -> Result<Query> {
    let (scope, sources) = reading(&a.read, now)?;
    only_report_reads_batch(&scope, "query")?;
    if !scope.metrics.is_empty() {
        bail!("query runs SQL over records; metrics: sources are read by report and check, and kept by ingest");
    }
    let engine = engine::engine(&a.engine, sources)?;
    let sql = crate::given::read_to_string(&a.sql).context("cannot read the SQL file")?;
    // Athena runs the statement under the caller's own IAM permissions; locally, polars
    // would read any file the user can.
    if matches!(engine, Engine::Local(_)) {
        crate::local_sql::check(&sql).with_context(|| a.sql.display().to_string())?;
    }
    Ok(Query { engine, scope, sql, sql_path: a.sql, format: a.format, width: output_width() })
}

fn sample(a: SampleArgs, now: DateTime<Utc>) -> Result<Sample> {
    let start_ms = window::parse_time(&a.start, now).map_err(|e| anyhow::anyhow!("--start: {e}"))?;
    if a.records == 0 {
        bail!("--records must be at least 1");
    }
    if a.records > crate::sample::MAX_RECORDS {
        bail!(
            "--records {} is more than one corpus holds ({}: it is built in memory); write several with other --seed and --start values",
            a.records,
            crate::sample::MAX_RECORDS
        );
    }
    let bodies = match a.bodies {
        crate::cli::Bodies::Short => crate::sample::Bodies::Short,
        crate::cli::Bodies::Agent => crate::sample::Bodies::Agent,
    };
    Ok(Sample { out: a.out, records: a.records, seed: a.seed, start_ms, bodies, cloudtrail: a.cloudtrail })
}

fn prices(a: PricesArgs, now: DateTime<Utc>) -> Result<PriceTables> {
    let check = match a.check.is_empty() {
        true => None,
        false => Some(reading(
            &SourceArgs {
                sources: a.check,
                store: None,
                window: a.window,
                profiles: a.profiles,
                limits: a.limits,
                aws: a.aws,
            },
            now,
        )?),
    };
    if let Some((scope, _)) = &check {
        only_report_reads_batch(scope, "prices --check")?;
    }
    Ok(PriceTables {
        prices: parse::prices(a.prices.as_deref())?,
        burndown: parse::burndown(a.burndown.as_deref())?,
        against: a.against.as_deref().map(Prices::load).transpose()?,
        check,
        width: output_width(),
    })
}

fn ingest(a: IngestArgs, now: DateTime<Utc>) -> Result<Ingest> {
    let quiet = a.aws.quiet;
    // Profiles are applied when a store is read, not when it is written (store.rs).
    let args =
        SourceArgs { sources: a.sources, store: None, window: a.window, profiles: None, limits: a.limits, aws: a.aws };
    let (scope, mut sources) = reading(&args, now)?;
    only_report_reads_batch(&scope, "ingest")?;
    sources.progress = !quiet;
    if sources.sources.contains(&SourceSpec::Stdin) {
        bail!("ingest reads files, directories, s3:// and cloudwatch: sources, not standard input");
    }
    if a.lookback > parse::MAX_LOOKBACK_HOURS {
        bail!("--lookback must be at most {} hours (a year)", parse::MAX_LOOKBACK_HOURS);
    }
    Ok(Ingest {
        scope,
        sources,
        store: StoreAt::parse(&a.store)?,
        lookback_ms: i64::from(a.lookback) * crate::window::HOUR_MS,
        crash_at: std::env::var("MILA_TEST_CRASH_AT").ok(),
    })
}

fn athena_setup(a: AthenaSetupArgs, now: DateTime<Utc>) -> Result<athena::SetupPlan> {
    let (location, store) = match (&a.location, &a.store) {
        (_, Some(st)) => match StoreAt::parse(st)? {
            StoreAt::S3(l) => (l, true),
            StoreAt::Dir(_) => {
                bail!("athena setup --store needs a store on S3 (s3://BUCKET/PREFIX), not `{st}`")
            }
        },
        (Some(text), None) => match source(text)? {
            SourceSpec::S3(l) => (l, false),
            _ => {
                bail!("athena setup needs the s3://BUCKET/PREFIX where Bedrock delivers the logs, not `{text}`")
            }
        },
        (None, None) => bail!("athena setup needs s3://BUCKET/PREFIX or --store s3://BUCKET/PREFIX"),
    };
    for r in &a.regions {
        if !is_region_name(r) {
            bail!("--regions: `{r}` is not an AWS region name (like us-east-1)");
        }
    }
    for id in &a.accounts {
        if !is_account_id(id) {
            bail!("--accounts: `{id}` is not a 12-digit AWS account id");
        }
    }
    let since = window::parse_time(&a.since, now).map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let aws = aws(&a.aws)?;
    let default = if store { crate::cli::DEFAULT_STORE_TABLE } else { crate::cli::DEFAULT_TABLE };
    let name = a.table.as_deref().unwrap_or(default);
    let table =
        TableRef::parse(&format!("{}.{name}", a.database)).map_err(|e| anyhow::anyhow!("--database/--table: {e}"))?;
    Ok(athena::SetupPlan {
        run: engine::athena_run(&a.athena, &aws, &table)?,
        table,
        location,
        accounts: parse::sorted_once(a.accounts),
        regions: parse::sorted_once(a.regions),
        since_ms: since,
        store,
        print: a.print,
    })
}

fn fetch(a: FetchArgs, now: DateTime<Utc>) -> Result<Fetch> {
    let mut regions: Vec<String> = Vec::new();
    for r in a.region {
        if !is_region_name(&r) {
            bail!("--region `{r}` is not an AWS region name (like us-east-1)");
        }
        if !regions.contains(&r) {
            regions.push(r);
        }
    }
    use chrono::Datelike;
    let day = now.date_naive();
    Ok(Fetch {
        regions,
        out: a.out,
        aws: AwsSettings {
            profile: a.profile,
            connect_timeout: seconds("--connect-timeout", a.connect_timeout)?,
            read_timeout: seconds("--read-timeout", a.read_timeout)?,
            ..AwsSettings::default()
        },
        today: crate::given::profiles::date(day.year() as u16, day.month() as u8, day.day() as u8)
            .context("today's date")?,
    })
}
