//! The engine stage: where a command's figures are computed. An engine turns each question a
//! command asks, over a scope, into the per-question `tables` (or a query's rows), or, with
//! `--dry-run`, into the statements it would run; and it says what running them cost.
//! Commands never match on the engine: everything after this stage (prices, quotas, verdicts,
//! summary, renderers) is shared and does not know which engine ran. A new engine is a variant
//! of `Engine` and a module here that answers the same `Question`s.

pub mod athena;
pub mod insights;
pub mod local;

use std::path::Path;

use anyhow::Result;

use crate::analysis::capacity::Rules;
use crate::given::burndown::Burndown;
use crate::given::policy::Policy;
use crate::given::quotas::Quotas;
use crate::load::LoadStats;
use crate::render::table::Table;
use crate::scope::{LocalSources, Scope};
use crate::tables::Tables;
use crate::window::Window;

/// Where a command's figures are computed.
pub enum Engine {
    /// Here, reading the sources (or the store) named.
    Local(LocalSources),
    /// By Athena, over a table; the scope gives the window and the profiles.
    Athena(Box<athena::Athena>),
    /// By CloudWatch Logs Insights, over log groups.
    Insights(Box<insights::Insights>),
}

impl Engine {
    /// The store the engine reads, if it reads one, and how AWS is reached for it.
    pub fn store(&self) -> Option<(&crate::store::StoreAt, &crate::source::aws::AwsSettings)> {
        match self {
            Engine::Local(l) => l.store.as_ref().map(|at| (at, &l.aws)),
            Engine::Athena(a) => a.store.as_ref().map(|at| (at, &a.run.aws)),
            Engine::Insights(_) => None,
        }
    }
}

/// What a command asks of an engine.
#[derive(Clone, Copy)]
pub enum Question<'a> {
    /// Everything a report shows.
    Report { quotas: &'a Quotas, burndown: &'a Burndown, metadata_keys: &'a [String] },
    /// Usage, and the requests that broke a policy.
    Check { policy: &'a Policy },
    /// Usage only (`prices --check`).
    Usage,
    /// A user's SQL over `invocations`; `path` names it in errors.
    Query { sql: &'a str, path: &'a Path },
}

impl<'a> Question<'a> {
    /// The capacity rules of a report, whose profiles are the scope's.
    pub fn rules(quotas: &'a Quotas, burndown: &'a Burndown, scope: &'a Scope) -> Rules<'a> {
        Rules { quotas, burndown, profiles: &scope.profiles }
    }
}

/// One question over one window.
#[derive(Clone, Copy)]
pub struct Ask<'a> {
    pub question: Question<'a>,
    pub window: Window,
}

/// What an engine computed for one ask.
pub enum Figures {
    // Boxed: the tables are a dozen frames.
    Tables(Box<Tables>),
    Rows(Table),
}

pub struct Answer {
    pub figures: Figures,
    /// What was read: lines, rejects, problems (empty for a query Athena ran).
    pub stats: LoadStats,
}

/// Which service billed the statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Biller {
    #[default]
    Athena,
    Insights,
}

/// What running statements cost: the queries, the bytes they scanned and were billed, and the
/// dollars; for Logs Insights also the windows whose results were kept and how many were split.
/// The local engine spends nothing billed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Spent {
    pub by: Biller,
    pub queries: u64,
    pub scanned_bytes: u64,
    pub billed_bytes: u64,
    pub usd: f64,
    pub windows: u64,
    pub splits: u64,
}

impl Spent {
    /// Two runs as one: everything adds up.
    pub fn plus(self, b: Spent) -> Spent {
        Spent {
            by: self.by,
            queries: self.queries + b.queries,
            scanned_bytes: self.scanned_bytes + b.scanned_bytes,
            billed_bytes: self.billed_bytes + b.billed_bytes,
            usd: self.usd + b.usd,
            windows: self.windows + b.windows,
            splits: self.splits + b.splits,
        }
    }
}

pub enum Outcome {
    /// Every ask was answered; what it cost (None: the local engine, which runs no statements).
    Ran(Option<Spent>),
    /// `--dry-run`: the statements every ask would run, in order; nothing ran.
    DryRun(Vec<athena::sql::Statement>),
}

impl Engine {
    /// Whether the engine only prints what it would run.
    pub fn dry_run(&self) -> bool {
        matches!(self, Engine::Athena(a) if a.dry_run) || matches!(self, Engine::Insights(i) if i.dry_run)
    }
    /// Answers each ask in turn, handing each answer to `take` before the next ask is read (a
    /// command reduces one window's tables before the next window's are made); or with
    /// `--dry-run` gives the statements instead.
    pub fn run(
        &self,
        scope: &Scope,
        asks: &[Ask],
        mut take: impl FnMut(usize, Answer) -> Result<()>,
    ) -> Result<Outcome> {
        match self {
            Engine::Local(sources) => {
                for (i, ask) in asks.iter().enumerate() {
                    take(i, local::answer(sources, scope, ask)?)?;
                }
                Ok(Outcome::Ran(None))
            }
            Engine::Athena(a) if a.dry_run => {
                Ok(Outcome::DryRun(asks.iter().flat_map(|ask| athena::statements(a, scope, ask)).collect()))
            }
            Engine::Athena(a) => {
                let mut cost = Spent::default();
                for (i, ask) in asks.iter().enumerate() {
                    let (answer, spent) = athena::answer(a, scope, ask)?;
                    cost = cost.plus(spent);
                    take(i, answer)?;
                }
                Ok(Outcome::Ran(Some(cost)))
            }
            Engine::Insights(i) if i.dry_run => {
                let mut out = Vec::new();
                for ask in asks {
                    out.extend(insights::statements(i, scope, ask)?);
                }
                Ok(Outcome::DryRun(out))
            }
            Engine::Insights(i) => {
                let mut cost = Spent { by: Biller::Insights, ..Spent::default() };
                for (n, ask) in asks.iter().enumerate() {
                    let (answer, spent) = insights::answer(i, scope, ask)?;
                    cost = cost.plus(spent);
                    take(n, answer)?;
                }
                Ok(Outcome::Ran(Some(cost)))
            }
        }
    }

    /// The log groups Logs Insights reads, for the report and the bill.
    pub fn log_groups(&self) -> Option<&[String]> {
        match self {
            Engine::Insights(i) => Some(&i.run.log_groups),
            _ => None,
        }
    }
}

impl Answer {
    /// The tables of a question that has them (every question but `Query`).
    pub fn tables(self) -> Result<(Tables, LoadStats)> {
        match self.figures {
            Figures::Tables(t) => Ok((*t, self.stats)),
            Figures::Rows(_) => anyhow::bail!("internal: a query's rows where tables were asked for"),
        }
    }

    /// The rows of a `Query`.
    pub fn rows(self) -> Result<Table> {
        match self.figures {
            Figures::Rows(t) => Ok(t),
            Figures::Tables(_) => anyhow::bail!("internal: tables where a query's rows were asked for"),
        }
    }
}
