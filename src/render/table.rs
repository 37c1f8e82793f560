//! The one table model of every renderer: columns that know whether they hold text or numbers,
//! and cells that know their kind (text, count, USD, share, a mean), so the terminal, CSV, JSON,
//! Markdown and HTML each align and format a cell from what it is. Report sections build their
//! tables once (`render::doc`); result tables (violations, query results) come from frames.

use polars::prelude::*;

use super::{pct, usd};
use crate::escape;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value: empty on the terminal and in CSV, null in JSON, `-` in the report.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    /// A number mila already formatted (a signed change, `3x`, a decimal Athena returned).
    Formatted(String),
    Usd(f64),
    /// A share of 1, shown as a percentage with one decimal.
    Percent(f64),
    /// A mean, to one decimal.
    Mean(f64),
    /// No such pair (a cell of the source x inference region matrix): `·`.
    Absent,
}

impl Cell {
    pub fn text(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    pub fn count(n: u64) -> Cell {
        i64::try_from(n).map_or(Cell::Float(n as f64), Cell::Int)
    }

    /// A whole number that may be unknown.
    pub fn int(v: Option<i64>) -> Cell {
        v.map_or(Cell::Null, Cell::Int)
    }

    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Cell::Int(_) | Cell::Float(_) | Cell::Formatted(_) | Cell::Usd(_) | Cell::Percent(_) | Cell::Mean(_)
        )
    }

    /// As the terminal and CSV write it: no value is empty.
    fn written(&self) -> String {
        match self {
            Cell::Null | Cell::Absent => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Text(s) | Cell::Formatted(s) => s.clone(),
            Cell::Usd(v) => usd(*v),
            Cell::Percent(r) => pct(*r),
            Cell::Mean(m) => format!("{m:.1}"),
        }
    }

    /// As a report (Markdown, HTML) shows it: an unknown value is `-`, no such pair `·`.
    pub fn shown(&self) -> String {
        match self {
            Cell::Null => "-".into(),
            Cell::Absent => "·".into(),
            other => other.written(),
        }
    }

    fn json(&self) -> serde_json::Value {
        let number = |f: f64| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into);
        match self {
            Cell::Null | Cell::Absent => serde_json::Value::Null,
            Cell::Bool(b) => (*b).into(),
            Cell::Int(i) => (*i).into(),
            Cell::Float(f) | Cell::Usd(f) | Cell::Percent(f) | Cell::Mean(f) => number(*f),
            Cell::Text(s) | Cell::Formatted(s) => s.clone().into(),
        }
    }
}

/// A column: its header, whether it holds text (left-aligned) or numbers (right-aligned), and
/// its header in the terminal's summary, which shows only the columns that have one.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    pub text: bool,
    pub short: Option<&'static str>,
}

impl Column {
    pub fn text(header: &str) -> Column {
        Column { header: header.to_string(), text: true, short: None }
    }

    pub fn number(header: &str) -> Column {
        Column { header: header.to_string(), text: false, short: None }
    }

    /// Shown in the terminal's summary, under `short`.
    pub fn short(self, short: &'static str) -> Column {
        Column { short: Some(short), ..self }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(columns: Vec<Column>, rows: Vec<Vec<Cell>>) -> Table {
        Table { columns, rows }
    }

    /// A table whose columns are typed by their cells: a column is numbers when it has a value
    /// and every value is a number (a result's column has one type: its frame's, or Athena's).
    pub fn of_cells(headers: Vec<String>, rows: Vec<Vec<Cell>>) -> Table {
        let columns = headers
            .into_iter()
            .enumerate()
            .map(|(i, header)| {
                let mut cells = rows.iter().filter_map(|r| r.get(i)).filter(|c| **c != Cell::Null).peekable();
                let numbers = cells.peek().is_some() && cells.all(Cell::is_number);
                Column { header, text: !numbers, short: None }
            })
            .collect();
        Table { columns, rows }
    }

    pub fn from_frame(df: &DataFrame) -> PolarsResult<Table> {
        let headers = df.get_column_names().iter().map(|n| n.to_string()).collect();
        let mut rows = vec![Vec::with_capacity(df.width()); df.height()];
        for column in df.columns() {
            for (i, row) in rows.iter_mut().enumerate() {
                row.push(cell(column.get(i)?));
            }
        }
        Ok(Table::of_cells(headers, rows))
    }

    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.header.as_str())
    }

    /// The columns the terminal's summary shows, under their short headers.
    pub fn for_terminal(&self) -> Table {
        let keep: Vec<usize> = (0..self.columns.len()).filter(|i| self.columns[*i].short.is_some()).collect();
        let columns = keep
            .iter()
            .map(|&i| Column {
                header: self.columns[i].short.unwrap_or_default().to_string(),
                ..self.columns[i].clone()
            })
            .collect();
        let rows = self.rows.iter().map(|r| keep.iter().map(|&i| r[i].clone()).collect()).collect();
        Table { columns, rows }
    }

    /// Aligned columns, numbers to the right; every cell escaped for the terminal. Within
    /// `width` columns when given: the widest text columns are cut short with "…" first.
    pub fn to_terminal(&self, width: Option<usize>) -> Vec<u8> {
        let texts: Vec<Vec<String>> =
            self.rows.iter().map(|r| r.iter().map(|c| escape::terminal(&c.written())).collect()).collect();
        let numeric: Vec<bool> = self.columns.iter().map(|c| !c.text).collect();
        let headers: Vec<String> = self.headers().map(str::to_string).collect();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in &texts {
            for (w, t) in widths.iter_mut().zip(row) {
                *w = (*w).max(t.chars().count());
            }
        }
        if let Some(limit) = width {
            // Numbers are never cut, but their headers may be.
            let values: Vec<usize> = (0..widths.len())
                .map(|i| texts.iter().filter_map(|r| r.get(i)).map(|t| t.chars().count()).max().unwrap_or(0).max(1))
                .collect();
            let least: Vec<usize> =
                (0..widths.len()).map(|i| if numeric[i] { values[i] } else { widths[i].min(MIN_TEXT) }).collect();
            fit(&mut widths, &numeric, &least, limit);
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let padded: Vec<String> =
                cells.iter().zip(&widths).zip(&numeric).map(|((c, w), num)| pad(&cut(c, *w), *w, *num)).collect();
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
        };
        line(&headers, &mut out);
        line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(), &mut out);
        for row in &texts {
            line(row, &mut out);
        }
        out.into_bytes()
    }

    /// CSV, safe to open in a spreadsheet: a text cell that a spreadsheet would read as a
    /// formula is neutralised (`spreadsheet_safe`); numbers are written as they are.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(self.headers().map(|h| spreadsheet_safe(h).into_owned()));
        for row in &self.rows {
            let _ = w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => spreadsheet_safe(s).into_owned(),
                other => other.written(),
            }));
        }
        w.into_inner().unwrap_or_default()
    }

    /// An array of objects, one per row.
    pub fn to_json(&self) -> Vec<u8> {
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = self
            .rows
            .iter()
            .map(|r| self.headers().map(str::to_string).zip(r.iter().map(Cell::json)).collect())
            .collect();
        let mut out = serde_json::to_vec_pretty(&rows).unwrap_or_default();
        out.push(b'\n');
        crate::escape::json(out)
    }
}

/// OWASP's rule for CSV injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is read as a formula by spreadsheets, so it gains a leading `'` (shown, not evaluated).
/// A text that is a plain number (`-12`, `+0.5`) is left alone: spreadsheets read it as a number.
pub fn spreadsheet_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let Some(rest) = s.strip_prefix(['=', '+', '-', '@', '\t', '\r']) else { return s.into() };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let number = match rest.split_once('.') {
        Some((whole, fraction)) => all_digits(whole) && all_digits(fraction),
        None => all_digits(rest),
    };
    if number && s.starts_with(['+', '-']) {
        s.into()
    } else {
        format!("'{s}").into()
    }
}

/// `text` padded with spaces to `width` characters, right-aligned for numbers. Written out by
/// hand: `format!`'s width stops at 65,535, and a logged string can be longer.
fn pad(text: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(text.chars().count()));
    if right {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

/// Text columns are not cut below this many characters.
const MIN_TEXT: usize = 8;

/// Narrows columns until the line fits `limit` (two spaces between columns): text columns
/// first, widest first; then the headers of number columns; none below `least`.
fn fit(widths: &mut [usize], numeric: &[bool], least: &[usize], limit: usize) {
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    while total(widths) > limit {
        let widest = |want_numeric: bool| {
            (0..widths.len()).filter(|&i| numeric[i] == want_numeric && widths[i] > least[i]).max_by_key(|&i| widths[i])
        };
        match widest(false).or_else(|| widest(true)) {
            Some(i) => widths[i] -= 1,
            None => return,
        }
    }
}

/// The text cut to `width` characters, its last one "…" when anything was cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn cell(v: AnyValue) -> Cell {
    match v {
        AnyValue::Null => Cell::Null,
        AnyValue::Boolean(b) => Cell::Bool(b),
        AnyValue::String(s) => Cell::Text(s.to_string()),
        AnyValue::StringOwned(s) => Cell::Text(s.to_string()),
        AnyValue::Int8(i) => Cell::Int(i.into()),
        AnyValue::Int16(i) => Cell::Int(i.into()),
        AnyValue::Int32(i) => Cell::Int(i.into()),
        AnyValue::Int64(i) => Cell::Int(i),
        AnyValue::UInt8(i) => Cell::Int(i.into()),
        AnyValue::UInt16(i) => Cell::Int(i.into()),
        AnyValue::UInt32(i) => Cell::Int(i.into()),
        AnyValue::UInt64(i) => i64::try_from(i).map_or(Cell::Float(i as f64), Cell::Int),
        AnyValue::Float32(f) => Cell::Float(f.into()),
        AnyValue::Float64(f) => Cell::Float(f),
        // A one-row result holds its value owned: the same time, the same format.
        AnyValue::Datetime(v, unit, _) | AnyValue::DatetimeOwned(v, unit, _) => {
            Cell::Text(crate::window::rfc3339(match unit {
                TimeUnit::Milliseconds => v,
                TimeUnit::Microseconds => v.div_euclid(1_000),
                TimeUnit::Nanoseconds => v.div_euclid(1_000_000),
            }))
        }
        other => Cell::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_rfc3339_in_every_unit_and_owned() {
        let ms = 1_763_250_507_123i64; // 2025-11-15T23:48:27.123Z
        let cases = [
            (AnyValue::Datetime(ms, TimeUnit::Milliseconds, None), "2025-11-15T23:48:27.123Z"),
            (AnyValue::DatetimeOwned(ms, TimeUnit::Milliseconds, None), "2025-11-15T23:48:27.123Z"),
            (AnyValue::DatetimeOwned(ms * 1000 + 999, TimeUnit::Microseconds, None), "2025-11-15T23:48:27.123Z"),
            (AnyValue::Datetime(ms * 1_000_000, TimeUnit::Nanoseconds, None), "2025-11-15T23:48:27.123Z"),
            (AnyValue::Datetime(-1, TimeUnit::Milliseconds, None), "1969-12-31T23:59:59.999Z"),
        ];
        for (v, want) in cases {
            assert_eq!(cell(v.clone()), Cell::Text(want.into()), "{v:?}");
        }
    }

    fn sample() -> Table {
        Table::of_cells(
            vec!["id".into(), "n".into()],
            vec![vec![Cell::Text("a\u{1b}[2J,\"x\"".into()), Cell::Int(3)], vec![Cell::Null, Cell::Float(0.5)]],
        )
    }

    #[test]
    fn terminal_escapes_and_aligns() {
        let got = String::from_utf8(sample().to_terminal(None)).unwrap();
        assert_eq!(got, "id                n\n--------------  ---\na\\u{1b}[2J,\"x\"    3\n                0.5\n");
    }

    #[test]
    fn terminal_fits_the_width_cutting_text_not_numbers() {
        let t = Table::of_cells(
            vec!["model".into(), "region".into(), "requests".into()],
            vec![vec![
                Cell::Text("anthropic.claude-sonnet-4-5-20250929-v1:0".into()),
                Cell::Text("us-east-1".into()),
                Cell::Int(1234567),
            ]],
        );
        let cases: [(Option<usize>, &str); 3] = [
            (None, "anthropic.claude-sonnet-4-5-20250929-v1:0  us-east-1   1234567"),
            // 40 = 19 + 2 + 9 + 2 + 8: the model column gives up what is needed.
            (Some(40), "anthropic.claude-s…  us-east-1   1234567"),
            // Text columns stop at 8 characters, number headers at their values' width; the
            // line may then be wider than asked.
            (Some(10), "anthrop…  us-east…  1234567"),
        ];
        for (width, row) in cases {
            let got = String::from_utf8(t.to_terminal(width)).unwrap();
            assert_eq!(got.lines().nth(2), Some(row), "{width:?}:\n{got}");
            if let Some(w) = width.filter(|w| *w >= 30) {
                assert!(got.lines().all(|l| l.chars().count() <= w), "{got}");
            }
        }
    }

    #[test]
    fn csv_neutralises_formulas_not_numbers() {
        let cases = [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-12", "-12"),
            ("+0.5", "+0.5"),
            ("-inf", "'-inf"),
            ("-1e3", "'-1e3"),
            ("-1.", "'-1."),
            ("-", "'-"),
            ("us-east-1", "us-east-1"),
            ("", ""),
        ];
        for (cell, want) in cases {
            assert_eq!(spreadsheet_safe(cell), want, "{cell:?}");
        }
        let t = Table::of_cells(
            vec!["id".into(), "n".into()],
            vec![vec![Cell::Text("=1+1".into()), Cell::Int(-3)], vec![Cell::Text("-7".into()), Cell::Float(-0.5)]],
        );
        assert_eq!(String::from_utf8(t.to_csv()).unwrap(), "id,n\n'=1+1,-3\n-7,-0.5\n");
    }

    #[test]
    fn cells_longer_than_format_widths_are_padded() {
        let long = "x".repeat(70_000);
        let t = Table::of_cells(vec!["id".into(), "n".into()], vec![vec![Cell::Text(long.clone()), Cell::Int(1)]]);
        let got = String::from_utf8(t.to_terminal(None)).unwrap();
        assert_eq!(got.lines().nth(2), Some(format!("{long}  1").as_str()));
        assert_eq!(got.lines().next().map(|l| l.chars().count()), Some(70_003));
    }

    #[test]
    fn csv_quotes_and_json_types() {
        assert_eq!(String::from_utf8(sample().to_csv()).unwrap(), "id,n\n\"a\u{1b}[2J,\"\"x\"\"\",3\n,0.5\n");
        let v: serde_json::Value = serde_json::from_slice(&sample().to_json()).unwrap();
        assert_eq!(v, serde_json::json!([{"id": "a\u{1b}[2J,\"x\"", "n": 3}, {"id": null, "n": 0.5}]));
    }
}
