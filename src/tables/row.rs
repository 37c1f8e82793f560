//! Reading the rows of a small result table by column name: the one way analyses and summary
//! builders read polars results. Tables are small (one row per region, model, day ...), so reading a value
//! at a time costs nothing that matters.

use polars::prelude::*;

/// Row `i` of a table.
pub struct Row<'a> {
    df: &'a DataFrame,
    i: usize,
}

/// Every row of `df`, in order.
pub fn rows(df: &DataFrame) -> impl Iterator<Item = Row<'_>> {
    (0..df.height()).map(move |i| Row { df, i })
}

impl Row<'_> {
    /// A missing column is a bug in the query that made the table, never bad input.
    fn any(&self, name: &str) -> AnyValue<'_> {
        let column = self.df.column(name).unwrap_or_else(|e| panic!("result table lacks `{name}`: {e}"));
        column.get(self.i).unwrap_or_else(|e| panic!("row {} of `{name}`: {e}", self.i))
    }

    pub fn opt_str(&self, name: &str) -> Option<String> {
        match self.any(name) {
            AnyValue::Null => None,
            AnyValue::String(s) => Some(s.to_string()),
            AnyValue::StringOwned(s) => Some(s.to_string()),
            other => panic!("`{name}` is not text: {other:?}"),
        }
    }

    /// Text; null is "".
    pub fn str(&self, name: &str) -> String {
        self.opt_str(name).unwrap_or_default()
    }

    pub fn opt_i64(&self, name: &str) -> Option<i64> {
        self.any(name).extract::<i64>()
    }

    /// A count; null (and anything below zero) is 0.
    pub fn u64(&self, name: &str) -> u64 {
        self.opt_i64(name).unwrap_or(0).max(0) as u64
    }

    pub fn opt_u64(&self, name: &str) -> Option<u64> {
        self.opt_i64(name).map(|v| v.max(0) as u64)
    }

    pub fn opt_f64(&self, name: &str) -> Option<f64> {
        self.any(name).extract::<f64>()
    }

    /// A figure; null is 0.
    pub fn f64(&self, name: &str) -> f64 {
        self.opt_f64(name).unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_type_and_null() {
        let df = df!(
            "s" => [Some("a"), None],
            "n" => [Some(3i64), None],
            "neg" => [-2i64, 5],
            "f" => [Some(0.5f64), None],
        )
        .unwrap();
        let r: Vec<Row> = rows(&df).collect();
        assert_eq!((r[0].str("s"), r[1].str("s"), r[1].opt_str("s")), ("a".into(), String::new(), None));
        assert_eq!((r[0].u64("n"), r[1].u64("n"), r[1].opt_i64("n")), (3, 0, None));
        assert_eq!((r[0].u64("neg"), r[1].u64("neg")), (0, 5));
        assert_eq!((r[0].f64("f"), r[1].f64("f"), r[1].opt_f64("f")), (0.5, 0.0, None));
    }
}
