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
    /// Print the price table in force and its date
    Prices(PricesArgs),
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

/// What every command that reads logs takes.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files, directories or `-` for NDJSON on standard input
    #[arg(value_name = "SOURCE", required = true)]
    pub sources: Vec<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Application inference profiles TOML
    #[arg(long, value_name = "FILE")]
    pub profiles: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Write summary.json and report.md into this directory
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Prices CSV (default: the bundled, dated table; see `mila prices`)
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Residency policy TOML
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Print summary.json to standard output instead of the terminal summary
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Residency policy TOML
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// Also exit 1 when requests whose inference region is unknown fall under a rule
    #[arg(long)]
    pub fail_on_unverifiable: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TableFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// A file of SQL over the table `invocations` (see queries/)
    #[arg(value_name = "FILE.sql")]
    pub sql: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
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
}

#[derive(Debug, Args)]
pub struct PricesArgs {
    /// Prices CSV to show instead of the bundled table
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}
