//! One question each: a pure function over an aggregated table of `crate::tables` (a row stands
//! for `col::REQUESTS` records) and what the user gave (`given`), returning a lazy plan or a small result.
//! `summary` collects them; nothing here reads files or prints.

pub mod attribution;
pub mod capacity;
pub mod cost;
pub mod daily;
pub mod errors;
pub mod latency;
pub mod rerouting;
pub mod residency;
pub mod tokens;

use polars::prelude::*;

use crate::frame::col;

/// The requests the rows stand for, as Int64 so every consumer reads one integer type.
pub(crate) fn requests() -> Expr {
    col(col::REQUESTS).sum().cast(DataType::Int64)
}

/// The requests of the rows where `predicate` holds.
pub(crate) fn requests_where(predicate: Expr) -> Expr {
    when(predicate).then(col(col::REQUESTS)).otherwise(lit(0i64)).sum().cast(DataType::Int64)
}

pub(crate) fn sort_by(lf: LazyFrame, by: &[&str]) -> LazyFrame {
    let by: Vec<PlSmallStr> = by.iter().map(|s| PlSmallStr::from(*s)).collect();
    lf.sort(by, SortMultipleOptions::default().with_nulls_last(true).with_maintain_order(true))
}

/// Group by `keys`, aggregate, sort by `keys`.
pub(crate) fn grouped(lf: LazyFrame, keys: &[&str], aggs: impl AsRef<[Expr]>) -> LazyFrame {
    sort_by(lf.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>()).agg(aggs), keys)
}

/// The four token columns summed under their own names.
pub(crate) fn token_sums() -> [Expr; col::TOKENS.len()] {
    col::TOKENS.map(|c| col(c).sum().alias(c))
}
