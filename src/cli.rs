//! Command-line types (clap derive) only. Nothing below `settings` sees these.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mila",
    version,
    about = "Model-Invocation Log Analyzer: where Amazon Bedrock requests really ran, what they cost, and whether they broke residency policy"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise invocation logs: rerouting, latency, tokens, cost, residency, errors
    Report(ReportArgs),
    /// List requests that ran outside the regions a residency policy allows (exit 1 if any)
    Check(CheckArgs),
    /// Run SQL over the table `invocations`
    Query(QueryArgs),
    /// Write a realistic synthetic corpus in the S3 delivery layout
    Sample(SampleArgs),
    /// Print the price and token-burndown tables in force and their dates; `fetch` writes a prices
    /// file from the AWS Price List
    Prices(PricesArgs),
    /// Read sources into a local store (Parquet by day), incrementally; report/check --store read it
    Ingest(IngestArgs),
    /// Application inference profiles: `fetch` writes the profiles file from the Bedrock API
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Bedrock quotas: `fetch` writes the quotas file from the Service Quotas API
    #[command(subcommand)]
    Quotas(QuotasCommand),
    /// Amazon Athena: `setup` declares a table over the delivery prefix, for `--engine athena`
    #[command(subcommand)]
    Athena(AthenaCommand),
}

#[derive(Debug, Subcommand)]
pub enum AthenaCommand {
    /// Declare an Athena table over a Bedrock delivery prefix (partition projection on account,
    /// source region and hour; no crawler, no MSCK REPAIR)
    Setup(AthenaSetupArgs),
}

#[derive(Debug, Args)]
pub struct AthenaSetupArgs {
    /// s3://BUCKET/PREFIX where Bedrock delivers invocation logs
    #[arg(value_name = "s3://BUCKET/PREFIX", required_unless_present = "store")]
    pub location: Option<String>,
    /// Instead: a store that `mila ingest --store s3://...` writes; the table is Parquet
    #[arg(long, value_name = "s3://BUCKET/PREFIX", conflicts_with_all = ["location", "regions", "accounts"])]
    pub store: Option<String>,
    /// Glue database to create the table in (created if missing)
    #[arg(long, value_name = "NAME", default_value = DEFAULT_DATABASE)]
    pub database: String,
    /// Table name (default: invocation_logs, or store with --store)
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Source regions to declare, comma-separated (default: the region folders under the prefix)
    #[arg(long, value_name = "REGION,...", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Accounts to declare, comma-separated (default: the account folders under the prefix)
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// First day the hour projection covers (UTC)
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2023-01-01")]
    pub since: String,
    /// Print the DDL (each statement followed by a line `;`) and do nothing
    #[arg(long)]
    pub print: bool,
    #[command(flatten)]
    pub athena: AthenaArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

pub const DEFAULT_DATABASE: &str = "mila";
pub const DEFAULT_TABLE: &str = "invocation_logs";
pub const DEFAULT_STORE_TABLE: &str = "store";

/// How Athena statements run.
#[derive(Debug, Args)]
#[command(next_help_heading = "Athena")]
pub struct AthenaArgs {
    /// Athena workgroup (default: primary)
    #[arg(long, value_name = "NAME")]
    pub workgroup: Option<String>,
    /// Where Athena writes query results (default: the workgroup's result location)
    #[arg(long, value_name = "s3://BUCKET/PREFIX/")]
    pub output: Option<String>,
    /// Seconds one Athena query may run before mila stops it (StopQueryExecution)
    #[arg(long, value_name = "SECS", default_value_t = 1800.0)]
    pub athena_timeout: f64,
}

/// Where the figures are computed.
#[derive(Debug, Args)]
#[command(next_help_heading = "Athena")]
pub struct EngineArgs {
    /// local: read the logs here; athena: Amazon Athena aggregates them where they are;
    /// insights: CloudWatch Logs Insights aggregates cloudwatch:LOG_GROUP sources where they are
    #[arg(long, value_enum, default_value_t = Engine::Local)]
    pub engine: Engine,
    /// With --engine athena: the table `mila athena setup` declared (default: mila.invocation_logs
    /// for an s3:// SOURCE, mila.store for --store s3://...)
    #[arg(long, value_name = "DB.TABLE")]
    pub athena_table: Option<String>,
    /// With --engine athena: a CloudTrail table (as the CloudTrail console or Athena's
    /// documentation declares it) whose Bedrock calls are read with the logs, or alone
    #[arg(long, value_name = "DB.TABLE")]
    pub cloudtrail_table: Option<String>,
    /// The CloudTrail table's `yyyy/MM/dd` partition column (the documentation's projected
    /// table has `timestamp`); `none` for an unpartitioned table, which Athena reads whole
    #[arg(long, value_name = "COLUMN", default_value = "timestamp")]
    pub cloudtrail_partition: String,
    /// With --engine athena or insights: print the statements (queries, with their window and
    /// log groups) it would run, in the order it would start them, each followed by a line
    /// holding only `;`, and run nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub athena: AthenaArgs,
    #[command(flatten)]
    pub insights: InsightsArgs,
}

/// How Logs Insights queries run.
#[derive(Debug, Args)]
#[command(next_help_heading = "Logs Insights")]
pub struct InsightsArgs {
    /// Logs Insights queries running at once (the account runs at most 100, the console's and
    /// dashboards' included)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub insights_concurrency: usize,
    /// Seconds one Logs Insights query may run before mila stops it (StopQuery) and splits its
    /// window (the service's own limit is 60 minutes)
    #[arg(long, value_name = "SECS", default_value_t = 900.0)]
    pub insights_timeout: f64,
    /// Rows a Logs Insights result may hold before its window is split in two (at most 10000)
    #[arg(long, value_name = "ROWS", default_value_t = 10_000)]
    pub insights_limit: usize,
    /// Most Logs Insights queries one question may run, splits included
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub insights_max_queries: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Engine {
    Local,
    Athena,
    Insights,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List the account's application inference profiles (model, regions, tags) into a profiles
    /// file; profiles it had that Bedrock no longer lists are kept, so older logs still resolve
    Fetch(FetchArgs),
}

#[derive(Debug, Subcommand)]
pub enum QuotasCommand {
    /// List the account's Bedrock requests- and tokens-per-minute quotas per model and kind of
    /// call (in-region, geographic, global) into a quotas file; names it cannot map are listed
    Fetch(FetchArgs),
}

/// `profiles fetch` and `quotas fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Region to read; repeat for several (default: AWS_REGION or the profile's region)
    #[arg(long, value_name = "REGION")]
    pub region: Vec<String>,
    /// The file to write (a profiles file is updated in place; a quotas file replaced)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Named profile from the AWS config files (default: AWS_PROFILE, then the default chain)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Seconds to wait for a connection
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// Seconds to wait for any response bytes before the attempt is retried
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub read_timeout: f64,
}

#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Start of the window (inclusive): RFC 3339, YYYY-MM-DD (UTC) or relative (7d, 24h, 30m)
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// End of the window (exclusive): RFC 3339, YYYY-MM-DD (UTC) or relative
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// ISO week in UTC, e.g. 2026-W46 (instead of --since/--until)
    #[arg(long, value_name = "YYYY-Www", conflicts_with_all = ["since", "until"])]
    pub week: Option<String>,
}

/// What every command that reads logs takes: its sources (or store), window, profiles, limits.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Files, directories, `-` (NDJSON on standard input), s3://BUCKET/PREFIX, cloudwatch:LOG_GROUP,
    /// cloudtrail:REGION (Event history); CloudTrail files are read wherever logs are
    #[arg(value_name = "SOURCE", required_unless_present_any = ["store", "athena_table", "cloudtrail_table"])]
    pub sources: Vec<String>,
    /// Read the records of a store made by `mila ingest` (a directory or s3://BUCKET/PREFIX)
    /// instead of sources
    #[arg(long, value_name = "DIR|s3://...", conflicts_with = "sources")]
    pub store: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Application inference profiles TOML
    #[arg(long, value_name = "FILE")]
    pub profiles: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Limits on what one piece of input may cost.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Longest line read, in bytes (suffixes KiB, MiB, GiB); a longer line is rejected with its
    /// location and the rest of its file is still read
    #[arg(long, value_name = "BYTES", default_value = "64MiB")]
    pub max_line_length: String,
}

/// How cloud sources are reached; the names follow the AWS CLI's.
#[derive(Debug, Args)]
#[command(next_help_heading = "AWS")]
pub struct AwsArgs {
    /// Named profile from the AWS config files (default: AWS_PROFILE, then the default chain)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, the profile's region, or a log-group ARN's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Seconds to wait for a connection
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// Seconds to wait for any response bytes before the attempt is retried
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub read_timeout: f64,
    /// Objects per ListObjectsV2 page and events per FilterLogEvents page
    #[arg(long, value_name = "N")]
    pub page_size: Option<i32>,
    /// S3 GETs in flight at once
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_concurrency: usize,
    /// FilterLogEvents requests per second (the account quota is 5)
    #[arg(long, value_name = "N", default_value_t = 5.0)]
    pub cloudwatch_rate: f64,
    /// No progress line on standard error
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files, directories, s3://BUCKET/PREFIX, cloudwatch:LOG_GROUP, cloudtrail:REGION
    #[arg(value_name = "SOURCE", required = true)]
    pub sources: Vec<String>,
    /// The store: a directory or s3://BUCKET/PREFIX that mila creates and owns
    #[arg(long, value_name = "DIR|s3://...")]
    pub store: String,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Hours before the newest hour already read that S3 lists again, for late objects; and
    /// the overlap of CloudWatch windows, for late events
    #[arg(long, value_name = "HOURS", default_value_t = 3)]
    pub lookback: u32,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub read: SourceArgs,
    /// Write summary.json and report.md into this directory
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Prices CSV (default: the bundled, dated table; see `mila prices`)
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Residency policy TOML
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Add the previous window's figures (the previous ISO week for --week) and the change
    #[arg(long, value_enum, value_name = "WHAT")]
    pub compare: Option<Compare>,
    /// Quotas TOML (requests and tokens per minute per region, model and kind), for the capacity
    /// section; `mila quotas fetch` writes one
    #[arg(long, value_name = "FILE")]
    pub quotas: Option<PathBuf>,
    /// Token-burndown CSV `model,rate` (default: the bundled, dated table; see `mila prices`)
    #[arg(long, value_name = "FILE")]
    pub burndown: Option<PathBuf>,
    /// Attribute cost and tokens by this requestMetadata key too (repeatable)
    #[arg(long = "by-metadata", value_name = "KEY")]
    pub by_metadata: Vec<String>,
    /// Print summary.json to standard output instead of the terminal summary
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Compare {
    /// The window of the same length just before
    Previous,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Residency policy TOML
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    #[command(flatten)]
    pub read: SourceArgs,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// Also exit 1 when requests whose inference region is unknown fall under a rule
    #[arg(long)]
    pub fail_on_unverifiable: bool,
    /// Also exit 1 when, on any source region's day, fewer than PCT percent of the CloudTrail
    /// calls have an invocation-log record (read both kinds of record)
    #[arg(long, value_name = "PCT")]
    pub fail_on_coverage_below: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TableFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    /// A file of SQL over the table `invocations` (see queries/)
    #[arg(value_name = "FILE.sql")]
    pub sql: PathBuf,
    #[command(flatten)]
    pub read: SourceArgs,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Directory to write the corpus into (the S3 delivery layout below it)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 2000)]
    pub records: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First day of the corpus (UTC); it spans seven days
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-11-09")]
    pub start: String,
    /// Prompt and completion sizes: short (a few hundred words) or agent (2-20 KB a record, a
    /// few over 50 KB, like agent traffic)
    #[arg(long, value_enum, default_value_t = Bodies::Short)]
    pub bodies: Bodies,
    /// Also write CloudTrail log files for the same calls (AWSLogs/ACCOUNT/CloudTrail/...), with
    /// a region and a day whose calls are missing from the invocation logs
    #[arg(long)]
    pub cloudtrail: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bodies {
    Short,
    Agent,
}

#[derive(Debug, Subcommand)]
pub enum PricesCommand {
    /// Read Bedrock's token prices for each --region from the AWS Price List Query API
    /// (pricing:GetProducts) into a prices file; products it cannot map are listed, never guessed
    Fetch(FetchArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PricesArgs {
    #[command(subcommand)]
    pub command: Option<PricesCommand>,
    /// Prices CSV to show instead of the bundled table
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Instead of printing the tables: compare the table in force (bundled, or --prices) with
    /// FILE, such as one `prices fetch` wrote: every price of FILE that the table prices
    /// otherwise, or not at all (exit 1 if any)
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    pub against: Option<PathBuf>,
    /// Token-burndown CSV to show instead of the bundled table
    #[arg(long, value_name = "FILE")]
    pub burndown: Option<PathBuf>,
    /// Instead of printing the tables: read these sources (any SOURCE `report` reads) and list
    /// the model ids the price table cannot price (exit 1 if any)
    #[arg(long, value_name = "SOURCE", num_args = 1..)]
    pub check: Vec<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Application inference profiles TOML (with --check)
    #[arg(long, value_name = "FILE")]
    pub profiles: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}
