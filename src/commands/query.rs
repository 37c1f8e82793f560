//! `mila query FILE.sql`: a user's SQL over `invocations`, as a table, CSV or JSON.

use anyhow::Result;

use super::{one_answer, Status};
use crate::engine::{Ask, Question};
use crate::settings::{Query, TableFormat};
use crate::tell;

pub fn run(s: Query) -> Result<Status> {
    let question = Question::Query { sql: &s.sql, path: &s.sql_path };
    let Some(answer) = one_answer(&s.engine, &s.scope, Ask { question, window: s.scope.window })? else {
        return Ok(Status::Ok);
    };
    let table = answer.rows()?;
    tell::stdout(&match s.format {
        TableFormat::Table => table.to_terminal(s.width),
        TableFormat::Json => table.to_json(),
        TableFormat::Csv => table.to_csv(),
    })?;
    Ok(Status::Ok)
}
