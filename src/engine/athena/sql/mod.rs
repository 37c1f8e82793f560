//! The Trino SQL mila sends to Athena: pure functions from settings to statement text.
//!
//! Every analysis reads one chain of common table expressions over the delivery table:
//! `logs` (the partitions of the window's hours, one lag hour each side, sidecars left out),
//! `checked` (each line's parsed time, latency and status: `ok`, outside the window, or the
//! reason it is rejected, worded as the local parser words it), and `invocations` (the lines
//! that are `ok`, each request id once, with the local table's columns). Statements aggregate
//! over `invocations` and return small tables; prices, quotas and verdicts are applied to those
//! in Rust, as the local engine applies them.
//!
//! The SQL is kept to what both Trino and DuckDB (through sqlglot) read the same way, so the
//! tests can run every statement over the test corpus.

use super::quote::{self, glob_regex, literal, regex_text as regex_literal};
use crate::given::policy::Policy;
use crate::given::profiles::Profiles;
use crate::record::model_id::{
    Base, ModelIdKind, Name, Place, Shape, GEO_PREFIXES, GLOBAL_PREFIX, PROVIDERS, REGIONAL_RESOURCES, SHAPES,
};
use crate::record::parse::{Reject, MAX_LATENCY_MS, MAX_TOKENS};
use crate::record::ServiceTier;
use crate::record::{RecordedBy, Route};
use crate::window::{Window, DAY_MS, HOUR_MS, MINUTE_MS};

/// A statement and the result table it fills.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub name: &'static str,
    pub sql: String,
}

/// `database.table` as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub database: String,
    pub table: String,
}

impl TableRef {
    /// `db.table`: both parts are Glue names (lowercase letters, digits, `_`).
    pub fn parse(text: &str) -> Result<TableRef, quote::BadName> {
        let (database, table) =
            text.split_once('.').ok_or_else(|| quote::BadName::NotDatabaseTable(text.to_string()))?;
        let (database, table) = (quote::glue_name("database", database)?, quote::glue_name("table", table)?);
        Ok(TableRef { database, table })
    }

    fn sql(&self) -> String {
        format!("{}.{}", quote::ident(&self.database), quote::ident(&self.table))
    }

    fn ddl(&self) -> String {
        format!("{}.{}", quote::ddl_ident(&self.database), quote::ddl_ident(&self.table))
    }
}

mod questions;
mod rules;
mod scan;
mod setup;
#[cfg(test)]
mod tests;

pub use questions::*;
pub use rules::day_folder;
use rules::*;
pub use scan::*;
pub use setup::*;
