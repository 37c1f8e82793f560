//! One question each: a pure function over the invocations `LazyFrame` (and the user's inputs)
//! returning a lazy plan. `summary` collects them; nothing here reads files or prints.

pub mod capacity;
pub mod cost;
pub mod daily;
pub mod errors;
pub mod latency;
pub mod rerouting;
pub mod residency;
pub mod tokens;

use polars::prelude::*;

/// Counts as Int64, so every consumer reads one integer type.
pub(crate) fn count_where(predicate: Expr) -> Expr {
    predicate.cast(DataType::Int64).sum()
}

pub(crate) fn count_rows() -> Expr {
    len().cast(DataType::Int64)
}

pub(crate) fn sort_by(lf: LazyFrame, by: &[&str]) -> LazyFrame {
    let by: Vec<PlSmallStr> = by.iter().map(|s| PlSmallStr::from(*s)).collect();
    lf.sort(by, SortMultipleOptions::default().with_nulls_last(true).with_maintain_order(true))
}

/// Reading collected results back into Rust values.
pub mod read {
    use polars::prelude::*;

    pub fn strs(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
        Ok(df.column(name)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
    }

    pub fn ints(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
        let c = df.column(name)?.cast(&DataType::Int64)?;
        Ok(c.i64()?.iter().collect())
    }

    pub fn floats(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
        let c = df.column(name)?.cast(&DataType::Float64)?;
        Ok(c.f64()?.iter().collect())
    }
}
