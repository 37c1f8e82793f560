//! What `mila query` lets SQL do on the local engine: read `invocations` (and the statement's own
//! common table expressions), nothing else. polars' SQL also has table functions that read any
//! file or URL (`read_parquet`, `read_csv`, `read_json`, `read_ipc`) and statements that change its
//! catalog (`CREATE TABLE`, `DROP`, ...); a query file handed around a team must not be able to
//! read the machine it runs on. Checked on the parsed statement, before anything is loaded.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Query, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins, Visit, Visitor};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserOptions};

/// The one relation a local query reads.
pub const TABLE: &str = "invocations";

/// Why a statement is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("not SQL mila can read: {0}")]
    Syntax(String),
    #[error("one statement a file, a SELECT (or WITH ... SELECT); found {0}")]
    Count(usize),
    #[error("only SELECT statements run locally; `{0}` is refused (it would change or leave the `invocations` table)")]
    NotAQuery(String),
    #[error("`{0}` reads files or the network; local queries read only `invocations`")]
    TableFunction(String),
    #[error("`{0}` is not a relation local queries read (only `invocations`, subqueries and WITH names)")]
    Relation(String),
}

/// Checks `sql` as polars will parse it (the generic dialect, trailing commas allowed).
pub fn check(sql: &str) -> Result<(), Refused> {
    let options = ParserOptions { trailing_commas: true, ..Default::default() };
    let statements = Parser::new(&GenericDialect)
        .with_options(options)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| Refused::Syntax(e.to_string()))?;
    let [statement] = statements.as_slice() else { return Err(Refused::Count(statements.len())) };
    let Statement::Query(_) = statement else {
        let text = statement.to_string();
        let head: String = text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        return Err(Refused::NotAQuery(head));
    };
    match statement.visit(&mut Relations) {
        ControlFlow::Break(refused) => Err(refused),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// The columns of `invocations` a statement `check` passed can read: every identifier that
/// names one (in any case: a superset is harmless), or all of them when it selects `*`, joins
/// with USING or NATURAL, or calls `COLUMNS(...)`, whose columns are not named. A query then
/// builds only those, so its memory follows the columns it reads rather than all of them.
pub fn columns(sql: &str) -> Vec<&'static str> {
    let options = ParserOptions { trailing_commas: true, ..Default::default() };
    let Ok(statements) =
        Parser::new(&GenericDialect).with_options(options).try_with_sql(sql).and_then(|mut p| p.parse_statements())
    else {
        return crate::frame::col::ALL.to_vec();
    };
    let mut names = Names::default();
    if statements.visit(&mut names).is_break() {
        return crate::frame::col::ALL.to_vec();
    }
    let mut used: Vec<&'static str> =
        crate::frame::col::ALL.into_iter().filter(|c| names.0.iter().any(|n| n.eq_ignore_ascii_case(c))).collect();
    if used.is_empty() {
        // A frame needs a column to have rows (`SELECT count(*)`): the smallest.
        used.push(crate::frame::col::TIMESTAMP);
    }
    used
}

/// Identifiers met; breaks where the columns read are not named.
#[derive(Default)]
struct Names(Vec<String>);

impl Visitor for Names {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(id) => self.0.push(id.value.clone()),
            Expr::CompoundIdentifier(parts) => self.0.extend(parts.iter().map(|p| p.value.clone())),
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("columns") => return ControlFlow::Break(()),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        match selects_unnamed(&query.body) {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::NestedJoin { table_with_joins, .. } if joins_unnamed(table_with_joins) => {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// Whether a query body selects `*` (or `t.*`) or joins on columns it does not name. A nested
/// query is visited on its own.
fn selects_unnamed(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => {
            select.projection.iter().any(|i| matches!(i, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)))
                || select.from.iter().any(joins_unnamed)
        }
        SetExpr::SetOperation { left, right, .. } => selects_unnamed(left) || selects_unnamed(right),
        _ => false,
    }
}

/// `NATURAL JOIN` and `JOIN ... USING (...)`, as sqlparser writes them.
fn joins_unnamed(t: &TableWithJoins) -> bool {
    t.joins.iter().any(|j| {
        let text = j.to_string().to_ascii_uppercase();
        text.contains("NATURAL ") || text.contains(" USING")
    })
}

/// Walks every relation of the statement, subqueries and common table expressions included.
struct Relations;

impl Visitor for Relations {
    type Break = Refused;

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Refused> {
        match factor {
            // A bare name (`invocations` or a WITH name: polars says which are unknown), a
            // subquery, a join, an UNNEST of values.
            TableFactor::Table { args: None, .. }
            | TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::UNNEST { .. } => ControlFlow::Continue(()),
            TableFactor::Table { name, args: Some(_), .. } => {
                ControlFlow::Break(Refused::TableFunction(name.to_string()))
            }
            TableFactor::TableFunction { expr, .. } => ControlFlow::Break(Refused::TableFunction(expr.to_string())),
            TableFactor::Function { name, .. } => ControlFlow::Break(Refused::TableFunction(name.to_string())),
            other => {
                let text = other.to_string();
                ControlFlow::Break(Refused::Relation(text.chars().take(60).collect()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_over_invocations_pass() {
        for sql in [
            "SELECT count(*) FROM invocations",
            "SELECT model, sum(input_tokens) FROM invocations GROUP BY model ORDER BY 2 DESC LIMIT 5;",
            "WITH x AS (SELECT * FROM invocations WHERE route = 'rerouted') SELECT count(*) FROM x",
            "SELECT * FROM (SELECT source_region FROM invocations) AS s",
            "SELECT a.request_id FROM invocations a JOIN invocations b ON a.request_id = b.request_id",
            "SELECT 'read_parquet(''/etc/passwd'')' AS text FROM invocations",
            "-- read_csv in a comment\nSELECT 1 FROM invocations",
            "SELECT request_id FROM invocations WHERE model IN (SELECT model FROM invocations LIMIT 1)",
        ] {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }

    /// The columns a query builds: those it names, or all where it names none of what it reads.
    #[test]
    fn a_query_builds_the_columns_it_names() {
        let all = crate::frame::col::ALL.to_vec();
        let cases: [(&str, Vec<&str>); 12] = [
            ("SELECT count(*) FROM invocations", vec!["timestamp"]),
            ("SELECT 1 FROM invocations", vec!["timestamp"]),
            ("SELECT sum(input_tokens) AS t, count(*) FROM invocations", vec!["input_tokens"]),
            ("SELECT Model, SUM(\"OUTPUT_TOKENS\") FROM invocations GROUP BY 1", vec!["model", "output_tokens"]),
            ("SELECT i.model FROM invocations i WHERE i.route = 'rerouted'", vec!["model", "route"]),
            ("WITH x AS (SELECT source_region AS s FROM invocations) SELECT s FROM x", vec!["source_region"]),
            ("SELECT * FROM invocations", all.clone()),
            ("SELECT i.* FROM invocations i", all.clone()),
            ("SELECT * EXCLUDE (request_id) FROM invocations", all.clone()),
            ("SELECT model FROM (SELECT * FROM invocations) t", all.clone()),
            ("SELECT a.model FROM invocations a JOIN invocations b USING (request_id)", all.clone()),
            ("SELECT model FROM invocations NATURAL JOIN invocations", all.clone()),
        ];
        for (sql, want) in cases {
            assert_eq!(columns(sql), want, "{sql}");
        }
    }

    #[test]
    fn files_network_and_catalog_changes_are_refused() {
        let cases = [
            ("SELECT * FROM read_parquet('/etc/x.parquet')", "table function"),
            ("SELECT * FROM READ_CSV('/etc/passwd')", "table function"),
            ("SELECT * FROM read_json('http://169.254.169.254/latest')", "table function"),
            ("SELECT * FROM read_ipc('x.arrow')", "table function"),
            ("SELECT * FROM scan_parquet('x')", "table function"),
            ("WITH x AS (SELECT * FROM read_parquet('/tmp/*.parquet')) SELECT * FROM x", "table function"),
            ("SELECT * FROM invocations WHERE model IN (SELECT model FROM read_csv('m.csv'))", "table function"),
            ("SELECT * FROM invocations i JOIN read_parquet('p') p ON i.model = p.model", "table function"),
            ("CREATE TABLE t AS SELECT * FROM invocations", "not a query"),
            ("COPY invocations TO '/tmp/out.csv'", "not a query"),
            ("DROP TABLE invocations", "not a query"),
            ("DELETE FROM invocations", "not a query"),
            ("TRUNCATE invocations", "not a query"),
            ("EXPLAIN SELECT * FROM read_csv('x')", "not a query"),
            ("SELECT 1; SELECT 2", "2 statements"),
            ("", "0 statements"),
            ("SELECT (((", "syntax"),
        ];
        for (sql, want) in cases {
            let got = match check(sql).expect_err(sql) {
                Refused::TableFunction(_) => "table function".to_string(),
                Refused::NotAQuery(_) => "not a query".to_string(),
                Refused::Count(n) => format!("{n} statements"),
                Refused::Syntax(_) => "syntax".to_string(),
                Refused::Relation(_) => "relation".to_string(),
            };
            assert_eq!(got, want, "{sql}");
        }
    }
}
