//! The Athena engine: the per-question tables of `crate::tables` computed by Amazon Athena where
//! the logs are, instead of by reading them here. `sql` writes the statements, `client` runs
//! them, `tables` turns their small results into the local engine's tables; everything after
//! (prices, quotas, verdicts, summary, renderers) is shared and does not know which engine ran.

pub mod client;
pub mod quote;
pub mod sql;
pub mod tables;

use anyhow::{Context, Result};

use super::{Answer, Ask, Figures, Question, Spent};
use crate::given::profiles::Profiles;
use crate::load::LoadStats;
use crate::render::table::{Cell, Table};
use crate::scope::Scope;
use crate::source::aws;
use crate::window::Window;
use client::{Ran, ResultTable};
use sql::{Scan, Statement, TableRef};

/// What `--engine athena` runs against and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Athena {
    pub table: TableRef,
    /// What the table is over: the delivery prefix, or a store (`--store s3://...`).
    pub layout: sql::Layout,
    /// The store the table is over, whose checkpoint holds what its ingests rejected.
    pub store: Option<crate::store::StoreAt>,
    pub run: client::Settings,
    /// `--dry-run`: print the statements, run nothing.
    pub dry_run: bool,
    /// `--cloudtrail-table`: CloudTrail's events read with the logs.
    pub trail: Option<sql::TrailTable>,
}

impl Athena {
    fn scan<'a>(&'a self, window: Window, profiles: &'a Profiles) -> Scan<'a> {
        Scan { table: &self.table, layout: self.layout, window, profiles, trail: self.trail.as_ref() }
    }
}

/// The statements, each followed by a line holding only `;`, as `--dry-run` prints them.
pub fn script(statements: &[Statement]) -> String {
    statements.iter().map(|s| format!("-- {}\n{}\n;\n", s.name, s.sql.trim_end())).collect()
}

/// The longest query string StartQueryExecution takes (`QueryString`: at most 262,144 bytes).
pub const MAX_STATEMENT: usize = 262_144;

/// Runs statements on a runtime of their own; polars never runs inside it. A statement past
/// Athena's limit is refused before any starts (a profiles file of thousands of profiles is
/// what makes one that long).
fn run(settings: &client::Settings, statements: &[Statement]) -> Result<Ran> {
    if let Some(s) = statements.iter().find(|s| s.sql.len() > MAX_STATEMENT) {
        anyhow::bail!(
            "statement `{}` is {} bytes, past the {MAX_STATEMENT} Athena takes; nothing was started (fewer application profiles in --profiles make it shorter)",
            s.name,
            s.sql.len()
        );
    }
    let runtime = aws::runtime().context("cannot start the async runtime")?;
    let ran = runtime.block_on(async {
        let client = client::client(&settings.aws).await;
        client::run(&client, settings, statements).await
    });
    drop(runtime);
    Ok(ran?)
}

fn spent(ran: &Ran) -> Spent {
    Spent {
        queries: ran.query_ids.len() as u64,
        scanned_bytes: ran.scanned_bytes,
        billed_bytes: ran.billed_bytes,
        usd: client::cost_usd(ran.billed_bytes),
        ..Spent::default()
    }
}

/// One line for the terminal: what the run scanned and what that costs.
pub fn bill(spent: &Spent) -> String {
    let queries = spent.queries;
    format!(
        "mila: Athena ran {} quer{} and scanned {} bytes ({:.6} USD at {} USD per TB)",
        queries,
        if queries == 1 { "y" } else { "ies" },
        spent.scanned_bytes,
        spent.usd,
        client::USD_PER_TB
    )
}

/// The input figures: the lines Athena read; over a store, added to what its ingests met
/// (rejects, problems, duplicates), as `report --store` reads them.
fn stats(a: &Athena, ran: &Ran) -> Result<LoadStats> {
    let read = tables::load_stats(&ran.results)?;
    let Some(at) = &a.store else { return Ok(read) };
    let store = crate::store::Store::open_for_reading(at, &a.run.aws)?;
    let mut stats = LoadStats { units_read: store.state.days.len() as u64, ..store.state.totals.input_stats() };
    stats.lines += read.lines;
    stats.outside_window += read.outside_window;
    stats.duplicates += read.duplicates;
    Ok(stats)
}

/// The statements an ask runs.
pub fn statements(a: &Athena, scope: &Scope, ask: &Ask) -> Vec<Statement> {
    let scan = a.scan(ask.window, &scope.profiles);
    match ask.question {
        Question::Report { metadata_keys, .. } => sql::report(&scan, metadata_keys),
        Question::Check { policy } => sql::check(&scan, policy),
        Question::Usage => sql::usage_only(&scan),
        Question::Query { sql: user_sql, .. } => vec![sql::query(&scan, user_sql)],
    }
}

/// An ask, computed by Athena: its tables (or rows), and what running them cost.
pub fn answer(a: &Athena, scope: &Scope, ask: &Ask) -> Result<(Answer, Spent)> {
    let statements = statements(a, scope, ask);
    if let Question::Query { path, .. } = ask.question {
        let name = || format!("query {}", path.display());
        let ran = run(&a.run, &statements).with_context(name)?;
        let rows = table(ran.results.first().context("no result").with_context(name)?);
        // A query's rows are the user's own: no lines were read for it.
        return Ok((Answer { figures: Figures::Rows(rows), stats: LoadStats::default() }, spent(&ran)));
    }
    let ran = run(&a.run, &statements)?;
    let tables = match ask.question {
        Question::Report { quotas, burndown, metadata_keys } => {
            let cx = tables::Context { rules: Question::rules(quotas, burndown, scope), metadata_keys };
            tables::report(&ran.results, &cx)?
        }
        Question::Check { policy } => tables::check(&ran.results, &scope.profiles, policy)?,
        // A query was answered above.
        Question::Usage | Question::Query { .. } => tables::usage(&ran.results, &scope.profiles)?,
    };
    let answer = Answer { figures: Figures::Tables(Box::new(tables)), stats: stats(a, &ran)? };
    Ok((answer, spent(&ran)))
}

/// A result as a table, its cells typed by Athena's column types.
fn table(r: &ResultTable) -> Table {
    let kind = |i: usize| r.types.get(i).map(String::as_str).unwrap_or("varchar");
    let rows = r
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, v)| match (v, kind(i)) {
                    (None, _) => Cell::Null,
                    (Some(v), "bigint" | "integer" | "smallint" | "tinyint") => {
                        v.parse().map(Cell::Int).unwrap_or_else(|_| Cell::Text(v.clone()))
                    }
                    (Some(v), "double" | "real" | "float") => {
                        v.parse().map(Cell::Float).unwrap_or_else(|_| Cell::Text(v.clone()))
                    }
                    (Some(v), k) if k.starts_with("decimal") => Cell::Formatted(v.clone()),
                    (Some(v), "boolean") => Cell::Bool(v == "true"),
                    (Some(v), _) => Cell::Text(v.clone()),
                })
                .collect()
        })
        .collect();
    Table::of_cells(r.columns.clone(), rows)
}

/// `athena setup`: what to declare.
pub struct SetupPlan {
    pub table: TableRef,
    pub location: crate::source::s3::Location,
    /// Empty: discovered by listing the prefix.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// `--since`: the first hour (or day, for a store) the projection covers.
    pub since_ms: i64,
    /// `--store`: the location is a mila store; a Parquet table over its day files.
    pub store: bool,
    pub run: client::Settings,
    /// `--print`: print the statements and do nothing.
    pub print: bool,
}

fn setup_statements(p: &SetupPlan, accounts: &[String], regions: &[String]) -> Result<Vec<Statement>> {
    let base = crate::source::s3::layout_base(&p.location.prefix);
    let logs_root = p.location.url(&format!("{base}AWSLogs/"));
    let first_hour = sql::hour_folder(p.since_ms);
    Ok(sql::setup(&sql::Setup { table: &p.table, logs_root, accounts, regions, first_hour })?)
}

/// What `athena setup` declared, or would.
pub struct SetupDone {
    pub statements: Vec<Statement>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// Folders found by listing that are not an account id or a region name: left out.
    pub ignored: Vec<String>,
}

/// Declares the table; with `--print`, only works out the statements.
pub fn setup(p: &SetupPlan) -> Result<SetupDone> {
    let mut ignored = Vec::new();
    let (statements, accounts, regions) = if p.store {
        let records = p.location.url(&format!("{}records/", p.location.prefix));
        (sql::setup_store(&p.table, &records, &sql::day_folder(p.since_ms))?, Vec::new(), Vec::new())
    } else {
        let listed = if p.accounts.is_empty() || p.regions.is_empty() {
            let runtime = aws::runtime().context("cannot start the async runtime")?;
            runtime.block_on(crate::source::s3::delivery_layout(&p.location, &p.run.aws))?
        } else {
            (Vec::new(), Vec::new())
        };
        // Listed folder names are anyone's who can write to the bucket: only account ids and
        // region names are declared.
        let (listed_accounts, odd): (Vec<String>, Vec<String>) =
            listed.0.into_iter().partition(|a| crate::names::is_account_id(a));
        ignored.extend(odd.into_iter().map(|a| format!("AWSLogs/{a}/ (not an account id)")));
        let (listed_regions, odd): (Vec<String>, Vec<String>) =
            listed.1.into_iter().partition(|r| crate::names::is_region_name(r));
        ignored.extend(odd.into_iter().map(|r| format!("BedrockModelInvocationLogs/{r}/ (not a region name)")));
        let accounts = if p.accounts.is_empty() { listed_accounts } else { p.accounts.clone() };
        let regions = if p.regions.is_empty() { listed_regions } else { p.regions.clone() };
        if accounts.is_empty() || regions.is_empty() {
            anyhow::bail!(
                "{}: no AWSLogs/ACCOUNT/BedrockModelInvocationLogs/REGION/ folders found; check the prefix, or name them with --accounts and --regions",
                p.location.url(&p.location.prefix)
            );
        }
        (setup_statements(p, &accounts, &regions)?, accounts, regions)
    };
    if !p.print {
        run(&p.run, &statements)?;
    }
    Ok(SetupDone { statements, accounts, regions, ignored })
}

/// What `athena setup` says it did.
pub fn setup_message(p: &SetupPlan, done: &SetupDone) -> String {
    if p.store {
        return format!(
            "mila: table {}.{} declared over the store {} (Parquet, day projected from {})",
            p.table.database,
            p.table.table,
            p.location.url(&p.location.prefix),
            sql::day_folder(p.since_ms)
        );
    }
    format!(
        "mila: table {}.{} declared over {} for account(s) {} and source region(s) {}, hours from {} (partition projection: no crawler or MSCK REPAIR needed; run setup again when a region is added)",
        p.table.database,
        p.table.table,
        p.location.url(&p.location.prefix),
        done.accounts.join(", "),
        done.regions.join(", "),
        sql::hour_folder(p.since_ms)
    )
}
