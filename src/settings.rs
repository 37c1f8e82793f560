//! Cli -> plain validated Settings. The only module that knows clap; everything below sees these.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};

use crate::athena::quote::is_region_name;
use crate::athena::{self, sql::TableRef, Athena};
use crate::cli::{
    AthenaArgs, AthenaCommand, AwsArgs, Cli, Command, EngineArgs, FetchArgs, InputArgs, ProfilesCommand, QuotasCommand,
    WindowArgs,
};
use crate::inputs::burndown::Burndown;
use crate::inputs::policy::Policy;
use crate::inputs::prices::Prices;
use crate::inputs::profiles::Profiles;
use crate::inputs::quotas::Quotas;
use crate::source::aws::AwsSettings;
use crate::source::cloudwatch::LogGroup;
use crate::source::s3::Location;
use crate::source::SourceSpec;
use crate::window::{self, Window};

pub use crate::cli::{ReportFormat, TableFormat};

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
    AthenaSetup(athena::SetupPlan),
}

/// Where a command's figures are computed.
pub enum Engine {
    /// Here, reading the sources (or the store) of `Input`.
    Local,
    /// By Athena, over a table; `Input` gives only the window and the profiles.
    Athena(Box<Athena>),
}

/// `profiles fetch` and `quotas fetch`.
pub struct Fetch {
    /// Each once, in the order given; empty: the configured region.
    pub regions: Vec<String>,
    pub out: PathBuf,
    pub aws: AwsSettings,
    /// The snapshot's date (UTC).
    pub today: toml::value::Datetime,
}

/// What every command that reads logs needs.
pub struct Input {
    /// In the order given; empty when reading a store.
    pub sources: Vec<SourceSpec>,
    pub store: Option<crate::store::StoreAt>,
    pub window: Window,
    pub profiles: Profiles,
    pub aws: AwsSettings,
    /// Show a progress line (when standard error is a terminal).
    pub progress: bool,
    /// `--max-line-length`, in bytes.
    pub max_line: usize,
    pub now_ms: i64,
}

pub struct Ingest {
    pub input: Input,
    pub store: crate::store::StoreAt,
    pub lookback_ms: i64,
    /// Test hook (`MILA_TEST_CRASH_AT`): abort at a named point, to prove a re-run recovers.
    pub crash_at: Option<String>,
}

/// `mila prices`: the tables in force.
pub struct PriceTables {
    pub prices: Prices,
    pub burndown: Burndown,
    /// `--check SOURCE...`: the logs to check the price table against.
    pub check: Option<Input>,
    pub width: Option<usize>,
}

pub struct Report {
    pub engine: Engine,
    pub input: Input,
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
    pub input: Input,
    pub policy: Policy,
    pub format: TableFormat,
    pub fail_on_unverifiable: bool,
    /// `--fail-on-coverage-below`, exact.
    pub min_coverage: Option<Percent>,
    pub width: Option<usize>,
}

pub struct Query {
    pub engine: Engine,
    pub input: Input,
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

/// `--by-metadata` keys in the order given, each once; an empty key names nothing.
fn metadata_keys(keys: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        if k.is_empty() {
            bail!("--by-metadata needs a requestMetadata key, not an empty string");
        }
        athena::quote::metadata_key(k).map_err(anyhow::Error::msg)?;
        if !out.contains(k) {
            out.push(k.clone());
        }
    }
    Ok(out)
}

pub fn from_cli(cli: Cli, now: DateTime<Utc>) -> Result<Settings> {
    Ok(match cli.command {
        Command::Report(a) => {
            let input = input(&a.input, now)?;
            Settings::Report(Box::new(Report {
                engine: engine(&a.engine, &input)?,
                previous: match a.compare {
                    None => None,
                    Some(crate::cli::Compare::Previous) => Some(previous(input.window)?),
                },
                input,
                out: a.out,
                prices: prices(a.prices.as_deref())?,
                policy: a.policy.as_deref().map(Policy::load).transpose()?,
                quotas: a.quotas.as_deref().map(Quotas::load).transpose()?.unwrap_or_default(),
                burndown: burndown(a.burndown.as_deref())?,
                metadata_keys: metadata_keys(&a.by_metadata)?,
                format: a.format,
                width: output_width(),
            }))
        }
        Command::Check(a) => {
            let input = input(&a.input, now)?;
            Settings::Check(Check {
                engine: engine(&a.engine, &input)?,
                input,
                policy: Policy::load(&a.policy)?,
                format: a.format,
                fail_on_unverifiable: a.fail_on_unverifiable,
                min_coverage: a.fail_on_coverage_below.as_deref().map(percent).transpose()?,
                width: output_width(),
            })
        }
        Command::Query(a) => {
            let input = input(&a.input, now)?;
            let engine = engine(&a.engine, &input)?;
            let sql = crate::inputs::read_to_string(&a.sql).context("cannot read the SQL file")?;
            // Athena runs the statement under the caller's own IAM permissions; locally, polars
            // would read any file the user can.
            if matches!(engine, Engine::Local) {
                crate::local_sql::check(&sql).with_context(|| a.sql.display().to_string())?;
            }
            Settings::Query(Query { engine, input, sql, sql_path: a.sql, format: a.format, width: output_width() })
        }
        Command::Sample(a) => {
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
            Settings::Sample(Sample {
                out: a.out,
                records: a.records,
                seed: a.seed,
                start_ms,
                bodies,
                cloudtrail: a.cloudtrail,
            })
        }
        Command::Prices(a) => {
            let check = match a.check.is_empty() {
                true => None,
                false => Some(input(
                    &InputArgs {
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
            Settings::Prices(PriceTables {
                prices: prices(a.prices.as_deref())?,
                burndown: burndown(a.burndown.as_deref())?,
                check,
                width: output_width(),
            })
        }
        Command::Ingest(a) => {
            let quiet = a.aws.quiet;
            // Profiles are applied when a store is read, not when it is written (store.rs).
            let args = InputArgs {
                sources: a.sources,
                store: None,
                window: a.window,
                profiles: None,
                limits: a.limits,
                aws: a.aws,
            };
            let mut input = input(&args, now)?;
            input.progress = !quiet;
            if input.sources.contains(&SourceSpec::Stdin) {
                bail!("ingest reads files, directories, s3:// and cloudwatch: sources, not standard input");
            }
            if a.lookback > MAX_LOOKBACK_HOURS {
                bail!("--lookback must be at most {MAX_LOOKBACK_HOURS} hours (a year)");
            }
            Settings::Ingest(Ingest {
                input,
                store: crate::store::StoreAt::parse(&a.store)?,
                lookback_ms: i64::from(a.lookback) * crate::window::HOUR_MS,
                crash_at: std::env::var("MILA_TEST_CRASH_AT").ok(),
            })
        }
        Command::Athena(AthenaCommand::Setup(a)) => {
            let (location, store) = match (&a.location, &a.store) {
                (_, Some(st)) => match crate::store::StoreAt::parse(st)? {
                    crate::store::StoreAt::S3(l) => (l, true),
                    crate::store::StoreAt::Dir(_) => {
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
                if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                    bail!("--accounts: `{id}` is not a 12-digit AWS account id");
                }
            }
            let since = window::parse_time(&a.since, now).map_err(|e| anyhow::anyhow!("--since: {e}"))?;
            let aws = aws(&a.aws)?;
            let default = if store { crate::cli::DEFAULT_STORE_TABLE } else { crate::cli::DEFAULT_TABLE };
            let name = a.table.as_deref().unwrap_or(default);
            let table = TableRef::parse(&format!("{}.{name}", a.database))
                .map_err(|e| anyhow::anyhow!("--database/--table: {e}"))?;
            Settings::AthenaSetup(athena::SetupPlan {
                run: athena_run(&a.athena, &aws, &table)?,
                table,
                location,
                accounts: sorted_once(a.accounts),
                regions: sorted_once(a.regions),
                since_ms: since,
                store,
                print: a.print,
            })
        }
        Command::Profiles(ProfilesCommand::Fetch(a)) => Settings::ProfilesFetch(fetch(a, now)?),
        Command::Quotas(QuotasCommand::Fetch(a)) => Settings::QuotasFetch(fetch(a, now)?),
    })
}

const MAX_LOOKBACK_HOURS: u32 = 366 * 24;

fn sorted_once(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// `s3://...` with a bucket, ending in `/` (Athena writes `<id>.csv` below it).
fn result_location(text: &str) -> Result<String> {
    let l = Location::parse(text).map_err(|e| anyhow::anyhow!("--output {e}"))?;
    let url = l.url(&l.prefix);
    Ok(if url.ends_with('/') { url } else { format!("{url}/") })
}

fn athena_run(a: &AthenaArgs, aws: &AwsSettings, table: &TableRef) -> Result<athena::client::Settings> {
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

/// The engine of report, check and query. Athena reads a table: `--athena-table`, or the one
/// `athena setup` declares by default for an s3:// source.
fn engine(e: &EngineArgs, input: &Input) -> Result<Engine> {
    use crate::cli::Engine as Cli;
    use crate::store::StoreAt;
    if e.engine == Cli::Local {
        if e.athena_table.is_some() || e.dry_run || e.cloudtrail_table.is_some() {
            bail!("--athena-table, --cloudtrail-table and --dry-run are for --engine athena");
        }
        return Ok(Engine::Local);
    }
    let trail = match &e.cloudtrail_table {
        None => None,
        Some(t) => Some(athena::sql::TrailTable {
            table: TableRef::parse(t).map_err(|e| anyhow::anyhow!("--cloudtrail-table {e}"))?,
            partition: match e.cloudtrail_partition.as_str() {
                "none" => None,
                c => Some(athena::quote::column_name("--cloudtrail-partition", c).map_err(anyhow::Error::msg)?),
            },
        }),
    };
    let named = |default: &str| match &e.athena_table {
        Some(t) => TableRef::parse(t).map_err(|e| anyhow::anyhow!("--athena-table {e}")),
        None => Ok(TableRef { database: crate::cli::DEFAULT_DATABASE.into(), table: default.into() }),
    };
    let (table, layout) = match (&input.store, input.sources.as_slice()) {
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
        run: athena_run(&e.athena, &input.aws, &table)?,
        table,
        layout,
        store: input.store.clone(),
        dry_run: e.dry_run,
        trail,
    })))
}

/// A timeout: positive, and at most a day (past it `Duration` would not hold it anyway).
fn seconds(flag: &str, v: f64) -> Result<std::time::Duration> {
    if !(v > 0.0 && v <= 86_400.0) {
        bail!("{flag} must be a number of seconds above 0 and at most 86400, not {v}");
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

/// A size in bytes, with an optional binary suffix, between `min` and `max`.
fn byte_size(flag: &str, text: &str, min: usize, max: usize) -> Result<usize> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let unit: u32 = match t[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => bail!("{flag} `{text}`: not a size (a number of bytes, or with KiB, MiB or GiB)"),
    };
    let n = t[..digits].parse::<usize>().ok().and_then(|n| n.checked_mul(1 << unit));
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => bail!("{flag} `{text}`: must be between {} KiB and {} MiB", min >> 10, max >> 20),
    }
}

fn prices(path: Option<&std::path::Path>) -> Result<Prices> {
    Ok(match path {
        Some(p) => Prices::load(p)?,
        None => Prices::default_table(),
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
        today: crate::inputs::profiles::date(day.year() as u16, day.month() as u8, day.day() as u8)
            .context("today's date")?,
    })
}

fn burndown(path: Option<&std::path::Path>) -> Result<Burndown> {
    Ok(match path {
        Some(p) => Burndown::load(p)?,
        None => Burndown::default_table(),
    })
}

fn input(a: &InputArgs, now: DateTime<Utc>) -> Result<Input> {
    let sources: Vec<SourceSpec> = a.sources.iter().map(|s| source(s)).collect::<Result<_>>()?;
    Ok(Input {
        progress: !a.aws.quiet && sources.iter().any(SourceSpec::is_cloud),
        sources,
        store: a.store.as_deref().map(crate::store::StoreAt::parse).transpose()?,
        window: window_of(&a.window, now)?,
        profiles: match &a.profiles {
            Some(p) => Profiles::load(p)?,
            None => Profiles::default(),
        },
        max_line: byte_size("--max-line-length", &a.limits.max_line_length, 1 << 10, 1 << 30)?,
        aws: aws(&a.aws)?,
        now_ms: now.timestamp_millis(),
    })
}

fn aws(a: &AwsArgs) -> Result<AwsSettings> {
    // S3 lists at most 1,000 keys a page and CloudWatch Logs 10,000 events.
    if a.page_size.is_some_and(|n| !(1..=10_000).contains(&n)) {
        bail!("--page-size must be from 1 to 10000");
    }
    // Each GET in flight holds its object: the bound keeps memory in reach.
    if !(1..=256).contains(&a.max_concurrency) {
        bail!("--max-concurrency must be from 1 to 256");
    }
    if !(a.cloudwatch_rate > 0.0 && a.cloudwatch_rate <= 1000.0) {
        bail!("--cloudwatch-rate must be a number of requests per second above 0 and at most 1000");
    }
    Ok(AwsSettings {
        profile: a.profile.clone(),
        region: a.region.clone(),
        connect_timeout: seconds("--connect-timeout", a.connect_timeout)?,
        read_timeout: seconds("--read-timeout", a.read_timeout)?,
        concurrency: a.max_concurrency,
        cloudwatch_rate: a.cloudwatch_rate,
        page_size: a.page_size,
        ..AwsSettings::default()
    })
}

pub fn source(text: &str) -> Result<SourceSpec> {
    if text == "-" {
        return Ok(SourceSpec::Stdin);
    }
    if text.starts_with("s3://") {
        return Location::parse(text).map(SourceSpec::S3).map_err(|e| anyhow::anyhow!("source {e}"));
    }
    if text.starts_with("cloudwatch:") {
        return LogGroup::parse(text).map(SourceSpec::CloudWatch).map_err(|e| anyhow::anyhow!("source {e}"));
    }
    if text.starts_with("cloudtrail:") {
        return crate::source::history::History::parse(text)
            .map(SourceSpec::History)
            .map_err(|e| anyhow::anyhow!("source {e}"));
    }
    Ok(SourceSpec::Path(PathBuf::from(text)))
}

/// The terminal's width when standard output is one; else `COLUMNS` if set; else no limit
/// (a file or a pipe gets whole lines).
fn output_width() -> Option<usize> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(&stdout) {
            return Some(usize::from(w));
        }
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|w| *w > 0)
}

/// The window of the same length just before `w`, which needs both ends.
fn previous(w: Window) -> Result<Window> {
    match (w.since, w.until) {
        (Some(since), Some(until)) => Ok(Window { since: Some(since - (until - since)), until: Some(since) }),
        _ => bail!("--compare previous needs a window with both ends: --week, or --since and --until"),
    }
}

pub fn window_of(w: &WindowArgs, now: DateTime<Utc>) -> Result<Window> {
    if let Some(week) = &w.week {
        return window::parse_iso_week(week).map_err(|e| anyhow::anyhow!("--week: {e}"));
    }
    let since = w
        .since
        .as_deref()
        .map(|t| window::parse_time(t, now))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let until = w
        .until
        .as_deref()
        .map(|t| window::parse_time(t, now))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--until: {e}"))?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            bail!("--since must be before --until");
        }
    }
    Ok(Window { since, until })
}

/// A share given as a percentage, kept exact (`98.4` is 984/1000): judged by comparing whole
/// numbers, so that 123 of 125 calls (exactly 98.4%) is not below 98.4 by a rounding of floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    num: u64,
    den: u64,
}

impl Percent {
    /// Whether `part` of `whole` is less than this share (nothing of nothing is not).
    pub fn above(self, part: u64, whole: u64) -> bool {
        (part as u128) * (self.den as u128) < (self.num as u128) * (whole as u128)
    }

    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

/// `--fail-on-coverage-below`: `95`, `99.5%`, ` 0 `: a percentage from 0 to 100 with at most 9
/// decimals.
pub fn percent(text: &str) -> Result<Percent> {
    let bad = || {
        anyhow::anyhow!("--fail-on-coverage-below {text:?}: expected a percentage from 0 to 100, such as 95 or 99.5")
    };
    let number = text.trim().strip_suffix('%').unwrap_or(text.trim()).trim();
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || (number.contains('.') && fraction.is_empty())
        || whole.len() > 3
        || fraction.len() > 9
        || !digits(whole)
        || !digits(fraction)
    {
        return Err(bad());
    }
    let scale = 10u64.pow(fraction.len() as u32);
    let num = whole.parse::<u64>().map_err(|_| bad())? * scale + fraction.parse::<u64>().unwrap_or(0);
    let den = 100 * scale;
    if num > den {
        return Err(bad());
    }
    Ok(Percent { num, den })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        for (r, ok) in [
            ("us-east-1", true),
            ("us-gov-west-1", true),
            ("ap-southeast-7", true),
            ("eu-central-2", true),
            ("us-east", false),
            ("US-EAST-1", false),
            ("us-east-1a", false),
            ("us--1", false),
            ("us-east-", false),
            ("", false),
            ("https://x", false),
        ] {
            assert_eq!(is_region_name(r), ok, "{r}");
        }
    }

    #[test]
    fn percent_table() {
        let cases = [("95", 0.95), ("99.5%", 0.995), (" 0 ", 0.0), ("100", 1.0), ("50%", 0.5), ("100.000", 1.0)];
        for (text, want) in cases {
            assert_eq!(percent(text).map(Percent::as_f64).ok(), Some(want), "{text}");
        }
        for bad in
            ["101", "-1", "NaN", "inf", "ninety", "", "1e400", "100.01", "+5", "5 %x", ".5", "5.", "0x10", "1000"]
        {
            assert!(percent(bad).is_err(), "{bad}");
        }
        // Exact: 123 of 125 is 98.4%, not below it; 122 of 125 is.
        let p = percent("98.4").unwrap();
        assert!(!p.above(123, 125));
        assert!(p.above(122, 125));
        assert!(!percent("0").unwrap().above(0, 5));
        assert!(percent("100").unwrap().above(4, 5));
        assert!(!percent("100").unwrap().above(u64::MAX, u64::MAX));
        assert!(!percent("33.333333333").unwrap().above(1, 3));
    }
}
