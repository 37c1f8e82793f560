//! Tokens by base model, over every record (failed calls included).

use polars::prelude::*;

use super::{grouped, requests, token_sums};
use crate::frame::col;

/// Input: `usage`.
pub fn by_model(usage: LazyFrame) -> LazyFrame {
    let mut aggs = vec![requests().alias(col::REQUESTS)];
    aggs.extend(token_sums());
    grouped(usage, &[col::MODEL], aggs)
}
