//! Tokens by base model, over every record (failed calls included).

use polars::prelude::*;

use super::{count_rows, sort_by};
use crate::frame::col;

pub const REQUESTS: &str = "requests";
pub const INPUT: &str = "input";
pub const OUTPUT: &str = "output";
pub const CACHE_READ: &str = "cache_read";
pub const CACHE_WRITE: &str = "cache_write";

pub fn by_model(lf: LazyFrame) -> LazyFrame {
    let grouped = lf.group_by([col(col::MODEL)]).agg([
        count_rows().alias(REQUESTS),
        col(col::INPUT_TOKENS).sum().alias(INPUT),
        col(col::OUTPUT_TOKENS).sum().alias(OUTPUT),
        col(col::CACHE_READ_TOKENS).sum().alias(CACHE_READ),
        col(col::CACHE_WRITE_TOKENS).sum().alias(CACHE_WRITE),
    ]);
    sort_by(grouped, &[col::MODEL])
}
