//! Cli -> plain validated Settings. The only module that knows clap; everything below sees these.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command, InputArgs, WindowArgs};
use crate::inputs::policy::Policy;
use crate::inputs::prices::Prices;
use crate::inputs::profiles::Profiles;
use crate::source::SourceSpec;
use crate::window::{self, Window};

pub use crate::cli::{ReportFormat, TableFormat};

pub enum Settings {
    Report(Report),
    Check(Check),
    Query(Query),
    Sample(Sample),
    Prices(Prices),
}

/// What every command that reads logs needs.
pub struct Input {
    pub sources: Vec<SourceSpec>,
    pub window: Window,
    pub profiles: Profiles,
}

pub struct Report {
    pub input: Input,
    pub out: Option<PathBuf>,
    pub prices: Prices,
    pub policy: Option<Policy>,
    pub format: ReportFormat,
}

pub struct Check {
    pub input: Input,
    pub policy: Policy,
    pub format: TableFormat,
    pub fail_on_unverifiable: bool,
}

pub struct Query {
    pub input: Input,
    pub sql: String,
    pub sql_path: PathBuf,
    pub format: TableFormat,
}

pub struct Sample {
    pub out: PathBuf,
    pub records: u64,
    pub seed: u64,
    pub start_ms: i64,
}

pub fn from_cli(cli: Cli, now: DateTime<Utc>) -> Result<Settings> {
    Ok(match cli.command {
        Command::Report(a) => Settings::Report(Report {
            input: input(&a.input, now)?,
            out: a.out,
            prices: prices(a.prices.as_deref())?,
            policy: a.policy.as_deref().map(Policy::load).transpose()?,
            format: a.format,
        }),
        Command::Check(a) => Settings::Check(Check {
            input: input(&a.input, now)?,
            policy: Policy::load(&a.policy)?,
            format: a.format,
            fail_on_unverifiable: a.fail_on_unverifiable,
        }),
        Command::Query(a) => Settings::Query(Query {
            input: input(&a.input, now)?,
            sql: std::fs::read_to_string(&a.sql)
                .with_context(|| format!("cannot read SQL file {}", a.sql.display()))?,
            sql_path: a.sql,
            format: a.format,
        }),
        Command::Sample(a) => {
            let start_ms = window::parse_time(&a.start, now).map_err(|e| anyhow::anyhow!("--start: {e}"))?;
            if a.records == 0 {
                bail!("--records must be at least 1");
            }
            Settings::Sample(Sample { out: a.out, records: a.records, seed: a.seed, start_ms })
        }
        Command::Prices(a) => Settings::Prices(prices(a.prices.as_deref())?),
    })
}

fn prices(path: Option<&std::path::Path>) -> Result<Prices> {
    Ok(match path {
        Some(p) => Prices::load(p)?,
        None => Prices::default_table(),
    })
}

fn input(a: &InputArgs, now: DateTime<Utc>) -> Result<Input> {
    Ok(Input {
        sources: a.sources.iter().map(|s| source(s)).collect::<Result<_>>()?,
        window: window_of(&a.window, now)?,
        profiles: match &a.profiles {
            Some(p) => Profiles::load(p)?,
            None => Profiles::default(),
        },
    })
}

pub fn source(text: &str) -> Result<SourceSpec> {
    if text == "-" {
        return Ok(SourceSpec::Stdin);
    }
    if text.starts_with("s3://") || text.starts_with("cloudwatch:") {
        bail!("source {text}: S3 and CloudWatch Logs sources are not available in this version of mila; download the objects and pass the directory");
    }
    Ok(SourceSpec::Path(PathBuf::from(text)))
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
