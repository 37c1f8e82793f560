//! Running statements on Athena as a good citizen: they start in a fixed order, at most
//! `concurrency` at once; each is polled with backoff until it ends; one that runs past the
//! timeout, or any still running on Ctrl-C or a failure, is stopped (`StopQueryExecution`);
//! results are read page by page. The data each one scanned is added up for the bill.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use aws_sdk_athena::Client;

use super::sql::Statement;
use crate::source::aws::{self, Action, AwsSettings};

/// How statements are run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub aws: AwsSettings,
    /// `--workgroup`; Athena's `primary` when None.
    pub workgroup: Option<String>,
    /// `--output s3://...`: where Athena writes results; the workgroup's setting when None.
    pub output: Option<String>,
    /// The database statements run in (the table's).
    pub database: Option<String>,
    /// Longest a statement may run, from its start.
    pub timeout: Duration,
    /// Statements running at once.
    pub concurrency: usize,
}

/// One statement's result: column names and rows of text (null stays None).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultTable {
    pub name: &'static str,
    pub columns: Vec<String>,
    /// Athena's type of each column (`bigint`, `varchar`, `double` ...).
    pub types: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultTable {
    /// The index of a column; a missing one is a bug in the statement, said as such.
    pub fn column(&self, name: &str) -> Result<usize, NoColumn> {
        self.columns.iter().position(|c| c.eq_ignore_ascii_case(name)).ok_or_else(|| NoColumn {
            name: self.name,
            column: name.to_string(),
            columns: self.columns.join(", "),
        })
    }
}

/// What a run of statements cost and returned.
#[derive(Debug, Default)]
pub struct Ran {
    /// In the order the statements were given.
    pub results: Vec<ResultTable>,
    pub scanned_bytes: u64,
    /// What Athena bills for it: each query rounded up to a megabyte, at least 10 MB.
    pub billed_bytes: u64,
    pub query_ids: Vec<String>,
}

/// Athena's price: USD per TB (2^40 bytes) scanned.
pub const USD_PER_TB: f64 = 5.0;

/// The bytes Athena bills for one query that scanned `scanned`.
pub fn billed(scanned: u64) -> u64 {
    const MB: u64 = 1 << 20;
    scanned.div_ceil(MB).max(10) * MB
}

pub fn cost_usd(billed_bytes: u64) -> f64 {
    billed_bytes as f64 / (1u64 << 40) as f64 * USD_PER_TB
}

/// Pause before poll number `n` (0-based) of one query: 100 ms doubling, at most 5 s.
pub fn poll_pause(n: u32) -> Duration {
    Duration::from_millis((100u64 << n.min(6)).min(5_000))
}

/// What a state means for the run.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Wait,
    Done,
    Failed(String),
}

/// A query's state and Athena's reason for it, as the run reads it.
pub fn next(name: &str, state: Option<&QueryExecutionState>, reason: Option<&str>) -> Next {
    let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
    match state {
        Some(QueryExecutionState::Succeeded) => Next::Done,
        Some(QueryExecutionState::Failed) => {
            Next::Failed(format!("Athena query `{name}` failed{why}{}", failure_hint(reason)))
        }
        Some(QueryExecutionState::Cancelled) => {
            Next::Failed(format!("Athena query `{name}` was cancelled (by someone else, or a workgroup limit){why}"))
        }
        _ => Next::Wait,
    }
}

fn failure_hint(reason: Option<&str>) -> &'static str {
    let r = reason.unwrap_or("").to_ascii_lowercase();
    if r.contains("access denied") || r.contains("accessdenied") || r.contains("permission") {
        "; the credentials need s3:GetObject and s3:ListBucket on the logs, glue:GetTable and glue:GetDatabase on the table, and s3:PutObject and s3:GetObject on the output location"
    } else if r.contains("output location") || r.contains("outputlocation") {
        "; pass --output s3://BUCKET/PREFIX/ or set a query result location on the workgroup"
    } else if r.contains("table") && r.contains("not") && r.contains("found") {
        "; create the table with `mila athena setup`, or name it with --athena-table"
    } else {
        ""
    }
}

struct Running {
    index: usize,
    id: String,
    polls: u32,
    due: Instant,
    deadline: Instant,
}

pub async fn client(settings: &AwsSettings) -> Client {
    Client::new(&aws::load_config(settings, None).await)
}

/// Why a run of statements did not give its results.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AthenaError {
    /// A call to Athena that failed for good, said by `aws::describe`.
    #[error("{0}")]
    Call(String),
    #[error("starting query `{name}`: {call}")]
    Start { name: &'static str, call: String },
    #[error("Athena returned no query execution id")]
    NoId,
    #[error("interrupted")]
    Interrupted,
    #[error("Athena query `{name}` ({id}) did not finish within --athena-timeout {seconds} s")]
    TimedOut { name: &'static str, id: String, seconds: f64 },
    /// A query Athena failed or cancelled, with what to do about it (`next`).
    #[error("{0}")]
    Failed(String),
    #[error("{resource}: a result row has {values} values for {columns} columns")]
    RaggedRow { resource: String, values: usize, columns: usize },
    #[error(transparent)]
    Pages(#[from] aws::PagesError),
    /// The run stopped on `cause`; `stopped` are the queries mila stopped so nothing runs on.
    #[error("{cause}{}", stopped_note(.stopped))]
    Stopped { cause: Box<AthenaError>, stopped: Vec<String> },
}

/// A result without a column a statement selects: a bug in the statement.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the result of `{name}` has no column `{column}` (it has {columns})")]
pub struct NoColumn {
    pub name: &'static str,
    pub column: String,
    pub columns: String,
}

fn stopped_note(stopped: &[String]) -> String {
    match stopped.len() {
        0 => String::new(),
        n => format!("; stopped {n} running quer{} ({})", if n == 1 { "y" } else { "ies" }, stopped.join(", ")),
    }
}

/// Starts the statements in order and returns their results in the same order.
pub async fn run(client: &Client, s: &Settings, statements: &[Statement]) -> Result<Ran, AthenaError> {
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let mut ran = Ran { results: vec![ResultTable::default(); statements.len()], ..Ran::default() };
    let mut running: VecDeque<Running> = VecDeque::new();
    let mut next_index = 0;
    let outcome: Result<(), AthenaError> = async {
        loop {
            while running.len() < s.concurrency && next_index < statements.len() {
                let id = start(client, s, &statements[next_index]).await?;
                ran.query_ids.push(id.clone());
                let now = Instant::now();
                running.push_back(Running { index: next_index, id, polls: 0, due: now, deadline: now + s.timeout });
                next_index += 1;
            }
            let Some(soonest) = running.iter().map(|r| r.due).min() else { return Ok(()) };
            tokio::select! {
                _ = tokio::time::sleep_until(soonest.into()) => {}
                _ = &mut interrupt => return Err(AthenaError::Interrupted),
            }
            let now = Instant::now();
            // The earliest deadline is judged first and before any poll, so the query named is
            // always the one that has waited longest, however slow the polls are.
            if let Some(late) = running.iter().filter(|r| r.deadline <= now).min_by_key(|r| r.deadline) {
                return Err(AthenaError::TimedOut {
                    name: statements[late.index].name,
                    id: late.id.clone(),
                    seconds: s.timeout.as_secs_f64(),
                });
            }
            let mut i = 0;
            while i < running.len() {
                let r = &mut running[i];
                if r.due > now {
                    i += 1;
                    continue;
                }
                let name = statements[r.index].name;
                let (state, reason, scanned) = poll(client, &r.id).await?;
                match next(name, state.as_ref(), reason.as_deref()) {
                    Next::Done => {
                        let r = running.remove(i).expect("index in range");
                        ran.scanned_bytes += scanned;
                        ran.billed_bytes += billed(scanned);
                        ran.results[r.index] = results(client, name, &r.id).await?;
                    }
                    Next::Failed(message) => {
                        running.remove(i);
                        return Err(AthenaError::Failed(message));
                    }
                    Next::Wait => {
                        r.polls += 1;
                        r.due = (Instant::now() + poll_pause(r.polls)).min(r.deadline);
                        i += 1;
                    }
                }
            }
        }
    }
    .await;
    if let Err(cause) = outcome {
        // Nothing is left running on Athena's side (and on the bill) after mila stops.
        let mut stopped = Vec::new();
        for r in &running {
            if stop(client, &r.id).await.is_ok() {
                stopped.push(r.id.clone());
            }
        }
        return Err(AthenaError::Stopped { cause: Box::new(cause), stopped });
    }
    Ok(ran)
}

async fn start(client: &Client, s: &Settings, statement: &Statement) -> Result<String, AthenaError> {
    let workgroup = s.workgroup.as_deref().unwrap_or("primary");
    let resource = format!("workgroup {workgroup}");
    let action = Action { permission: "athena:StartQueryExecution", resource: &resource };
    let out = aws::with_retries(4, || {
        let mut call = client.start_query_execution().query_string(&statement.sql).work_group(workgroup);
        if let Some(output) = &s.output {
            call = call.result_configuration(ResultConfiguration::builder().output_location(output).build());
        }
        if let Some(db) = &s.database {
            call = call.query_execution_context(QueryExecutionContext::builder().database(db).build());
        }
        call.send()
    })
    .await
    .map_err(|e| AthenaError::Start { name: statement.name, call: aws::describe(&e, &action) })?;
    out.query_execution_id().map(str::to_string).ok_or(AthenaError::NoId)
}

/// The state, Athena's reason for it, and the bytes scanned so far.
async fn poll(client: &Client, id: &str) -> Result<(Option<QueryExecutionState>, Option<String>, u64), AthenaError> {
    let resource = format!("query {id}");
    let action = Action { permission: "athena:GetQueryExecution", resource: &resource };
    let out = aws::with_retries(4, || client.get_query_execution().query_execution_id(id).send())
        .await
        .map_err(|e| AthenaError::Call(aws::describe(&e, &action)))?;
    let q = out.query_execution();
    let status = q.and_then(|q| q.status());
    let scanned = q.and_then(|q| q.statistics()).and_then(|s| s.data_scanned_in_bytes()).unwrap_or(0);
    Ok((
        status.and_then(|s| s.state()).cloned(),
        status.and_then(|s| s.state_change_reason()).map(str::to_string),
        scanned.max(0) as u64,
    ))
}

async fn stop(client: &Client, id: &str) -> Result<(), AthenaError> {
    let resource = format!("query {id}");
    let action = Action { permission: "athena:StopQueryExecution", resource: &resource };
    client
        .stop_query_execution()
        .query_execution_id(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AthenaError::Call(aws::describe(&e, &action)))
}

/// Every page of a query's results. Athena's first row of a SELECT repeats the column names.
async fn results(client: &Client, name: &'static str, id: &str) -> Result<ResultTable, AthenaError> {
    let resource = format!("query {id} (`{name}`)");
    let action =
        Action { permission: "athena:GetQueryResults (and s3:GetObject on the output location)", resource: &resource };
    let mut table = ResultTable { name, ..ResultTable::default() };
    let mut token: Option<String> = None;
    let mut first_page = true;
    let mut pages = aws::Pages::at_most(MAX_RESULT_PAGES);
    loop {
        let out = aws::with_retries(4, || {
            client.get_query_results().query_execution_id(id).max_results(1000).set_next_token(token.clone()).send()
        })
        .await
        .map_err(|e| AthenaError::Call(aws::describe(&e, &action)))?;
        let Some(set) = out.result_set() else { break };
        if first_page {
            let info = set.result_set_metadata().map(|m| m.column_info()).unwrap_or_default();
            table.columns = info.iter().map(|c| c.name().to_string()).collect();
            table.types = info.iter().map(|c| c.r#type().to_ascii_lowercase()).collect();
        }
        for (n, row) in set.rows().iter().enumerate() {
            let cells: Vec<Option<String>> =
                row.data().iter().map(|d| d.var_char_value().map(str::to_string)).collect();
            let header = first_page
                && n == 0
                && cells.len() == table.columns.len()
                && cells.iter().zip(&table.columns).all(|(c, name)| c.as_deref() == Some(name.as_str()));
            if header {
                continue;
            }
            if cells.len() != table.columns.len() {
                return Err(AthenaError::RaggedRow { resource, values: cells.len(), columns: table.columns.len() });
            }
            table.rows.push(cells);
        }
        first_page = false;
        token = pages.next(out.next_token().map(str::to_string), &format!("GetQueryResults of {resource}"))?;
        if token.is_none() {
            break;
        }
    }
    Ok(table)
}

/// Most pages of one query's results read (a thousand rows a page): mila's statements return
/// aggregates, and a user's query past ten million rows belongs in Athena's own output.
pub const MAX_RESULT_PAGES: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_a_megabyte_and_ten_at_least() {
        let mb = 1u64 << 20;
        let cases = [(0, 10 * mb), (1, 10 * mb), (10 * mb, 10 * mb), (10 * mb + 1, 11 * mb), (1 << 40, 1 << 40)];
        for (scanned, want) in cases {
            assert_eq!(billed(scanned), want, "{scanned}");
        }
        assert_eq!(cost_usd(1 << 40), 5.0);
        assert_eq!(cost_usd(10 * mb), 10.0 / (1u64 << 20) as f64 * 5.0);
    }

    #[test]
    fn polling_backs_off_to_five_seconds() {
        let pauses: Vec<u64> = (0..9).map(|n| poll_pause(n).as_millis() as u64).collect();
        assert_eq!(pauses, vec![100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }

    #[test]
    fn states_table() {
        use QueryExecutionState as S;
        assert_eq!(next("q", Some(&S::Queued), None), Next::Wait);
        assert_eq!(next("q", Some(&S::Running), None), Next::Wait);
        assert_eq!(next("q", None, None), Next::Wait);
        assert_eq!(next("q", Some(&S::Succeeded), None), Next::Done);
        let Next::Failed(m) = next("usage", Some(&S::Failed), Some("Access Denied (Service: S3)")) else { panic!() };
        assert!(
            m.starts_with(
                "Athena query `usage` failed: Access Denied (Service: S3); the credentials need s3:GetObject"
            ),
            "{m}"
        );
        let Next::Failed(m) = next("usage", Some(&S::Failed), Some("Table mila.logs not found")) else { panic!() };
        assert!(m.ends_with("create the table with `mila athena setup`, or name it with --athena-table"), "{m}");
        let Next::Failed(m) = next("usage", Some(&S::Cancelled), None) else { panic!() };
        assert_eq!(m, "Athena query `usage` was cancelled (by someone else, or a workgroup limit)");
    }
}
