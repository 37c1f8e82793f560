//! Failed invocations by error code.

use polars::prelude::*;

use super::{grouped, requests};
use crate::frame::col;

/// Input: `usage`.
pub fn by_code(usage: LazyFrame) -> LazyFrame {
    grouped(usage.filter(col(col::ERROR_CODE).is_not_null()), &[col::ERROR_CODE], [requests().alias(col::REQUESTS)])
}
