//! Failed invocations by error code.

use polars::prelude::*;

use super::{count_rows, sort_by};
use crate::frame::col;

pub const REQUESTS: &str = "requests";

pub fn by_code(lf: LazyFrame) -> LazyFrame {
    let grouped = lf
        .filter(col(col::ERROR_CODE).is_not_null())
        .group_by([col(col::ERROR_CODE)])
        .agg([count_rows().alias(REQUESTS)]);
    sort_by(grouped, &[col::ERROR_CODE])
}
