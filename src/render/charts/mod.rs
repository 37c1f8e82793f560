//! The report's charts, drawn with plotters from the Summary alone, so every figure a chart shows
//! is one `summary.json` holds. Each chart is drawn twice, to SVG and to an RGB buffer that
//! `render::png` encodes; text is laid out with the bundled DejaVu Sans in both.
//!
//! Layout rules that keep labels apart: category labels sit beside rows (horizontal bars, heatmap
//! rows), never under narrow columns; legends get a strip of their own right of the plot; canvases
//! grow with the number of rows instead of squeezing them.

mod capacity;
mod cost;
mod heatmap;
mod latency;
mod series;

use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::summary::{Summary, WindowOut};

pub type Area<DB> = DrawingArea<DB, Shift>;
pub type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The report's charts: how the report places each, and their file stems (`NAME.svg`,
/// `NAME.png`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Matrix,
    Rate,
    LatencyByRegion,
    LocalVsRerouted,
    Cost,
    Volume,
    Coverage,
    Capacity,
}

impl Id {
    pub fn name(self) -> &'static str {
        match self {
            Id::Matrix => "rerouting-matrix",
            Id::Rate => "rerouting-rate-by-day",
            Id::LatencyByRegion => "latency-by-region",
            Id::LocalVsRerouted => "latency-local-vs-rerouted",
            Id::Cost => "cost-by-day",
            Id::Volume => "volume-by-day",
            Id::Coverage => "logging-coverage-by-day",
            Id::Capacity => "capacity-by-quota-kind",
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One chart, in both formats.
pub struct Chart {
    pub id: Id,
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub svg: String,
    pub png: Vec<u8>,
}

/// What each chart module provides: its name, its size (which may depend on the data), and a
/// drawing that works on any backend.
pub trait Plot {
    fn id(&self) -> Id;
    fn title(&self) -> String;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB>;
}

pub const WIDTH: u32 = 1000;
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
pub const FAMILY: &str = "sans-serif";

/// Okabe & Ito's colour-blind-safe palette, in the order series take it; grey is for "other".
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x00, 0x00, 0x00), // black
];
pub const OTHER: RGBColor = RGBColor(0x99, 0x99, 0x99);
pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub fn text(size: u32, colour: RGBColor) -> TextStyle<'static> {
    (FAMILY, size as f64).into_font().color(&colour)
}

/// Every chart of the report, in the order the report shows them, or why it could not be drawn:
/// a chart that fails (or panics) is skipped, never the report.
pub fn all(s: &Summary) -> Vec<Drawing> {
    fn one<P: Plot>(id: Id, make: impl FnOnce() -> P) -> Drawing {
        let name = id.name();
        let drawn = crate::guard::catch(format_args!("drawing the chart {name}"), || {
            crate::guard::test_panic("chart", name);
            render(&make())
        });
        match drawn {
            Ok(Ok(chart)) => Ok(chart),
            Ok(Err(e)) => Err(ChartError { id, message: format!("{e:#}") }),
            Err(panicked) => Err(ChartError { id, message: panicked.to_string() }),
        }
    }
    let mut charts = vec![one(Id::Matrix, || heatmap::Flows::new(s)), one(Id::Rate, || series::ReroutingRate::new(s))];
    if s.coverage.is_some() {
        charts.push(one(Id::Coverage, || series::Coverage::new(s)));
    }
    // CloudTrail alone has no latency, tokens or cost to draw.
    if let (Some(l), Some(c)) = (&s.latency, &s.cost) {
        charts.push(one(Id::LatencyByRegion, || latency::by_region(l)));
        charts.push(one(Id::LocalVsRerouted, || latency::local_vs_rerouted(l)));
        charts.push(one(Id::Cost, || cost::PerDay::new(s, c)));
    }
    if let Some(c) = &s.capacity {
        charts.push(one(Id::Capacity, || capacity::peaks(c)));
    }
    charts.push(one(Id::Volume, || series::Volume::new(s)));
    charts
}

/// A chart as drawn, or why it was not.
pub type Drawing = Result<Chart, ChartError>;

/// A chart that could not be drawn, and why.
#[derive(Debug, Clone)]
pub struct ChartError {
    pub id: Id,
    pub message: String,
}

/// Canvases stay within this many pixels a side; a chart that would need more is not drawn.
const MAX_SIDE: u32 = 8000;

fn render(p: &impl Plot) -> Result<Chart> {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // The font is compiled in; failing to read it is a build defect, not an input error.
        if register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            panic!("the bundled font does not parse");
        }
    });
    let (width, height) = p.size();
    let failed = |e: String| anyhow!("cannot draw the chart {}: {e}", p.id());
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(failed(format!("{width} x {height} pixels is more than {MAX_SIDE} a side")));
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        p.draw(&root).map_err(|e| failed(e.to_string()))?;
        root.present().map_err(|e| failed(e.to_string()))?;
    }
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        p.draw(&root).map_err(|e| failed(e.to_string()))?;
        root.present().map_err(|e| failed(e.to_string()))?;
    }
    Ok(Chart { id: p.id(), title: p.title(), width, height, svg, png: super::png::encode_rgb(&rgb, width, height) })
}

/// A string from a log, made fit for a chart: control characters (not allowed in SVG text) and
/// bidirectional overrides (which make text read differently from what it is) become U+FFFD,
/// as the tables escape them, and anything longer than `max` characters is cut with an ellipsis.
pub fn label(s: &str, max: usize) -> String {
    let clean: String = s.chars().map(|c| if crate::escape::is_dangerous(c) { '\u{FFFD}' } else { c }).collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `s` cut with an ellipsis until it is at most `max_px` wide in `style`: the layout's estimate
/// of a label's width is only an estimate, and labels must not run into each other.
pub fn fit<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    style: &TextStyle,
    max_px: u32,
) -> Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut n = s.chars().count();
    let mut out = s.to_string();
    while n > 1 && area.estimate_text_size(&out, style)?.0 > max_px {
        n -= 1;
        out = label(s, n);
    }
    Ok(out)
}

/// 1234567 -> "1 234 567" with no-break spaces (SI style): at chart text sizes a comma
/// rasterises like a full stop, and "3.488" would read as three and a half.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{A0}');
        }
        out.push(c);
    }
    out
}

/// Axis ticks: 950, 1.2k, 3.4M.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let trim = |x: f64, unit: &str| {
        let s = format!("{x:.1}");
        format!("{}{unit}", s.strip_suffix(".0").unwrap_or(&s))
    };
    if a >= 1e9 {
        trim(v / 1e9, "G")
    } else if a >= 1e6 {
        trim(v / 1e6, "M")
    } else if a >= 1e3 {
        trim(v / 1e3, "k")
    } else if a == a.trunc() {
        format!("{v:.0}")
    } else {
        trim(v, "")
    }
}

/// A value axis from zero with some headroom, never empty.
pub fn upper(max: f64, headroom: f64) -> f64 {
    if max > 0.0 {
        max * headroom
    } else {
        1.0
    }
}

/// A day chart's x axis: consecutive buckets of `step` days. Its span is the window's when that
/// is bounded and short, else the data's own (so one record dated 9999 draws two points, not
/// three million days); past `MAX_DAYS` days the buckets are weeks from Monday, and wider
/// still, as many weeks as keep it within `MAX_BUCKETS`.
pub struct Axis {
    first: chrono::NaiveDate,
    step: i64,
    /// Each bucket's first day, `YYYY-MM-DD` (UTC).
    pub labels: Vec<String>,
}

/// A day axis up to this long draws every day; a year and a bit.
pub const MAX_DAYS: i64 = 400;
pub const MAX_BUCKETS: i64 = 400;

impl Axis {
    pub fn new<'a>(window: &WindowOut, with_data: impl Iterator<Item = &'a str>) -> Axis {
        use chrono::{DateTime, Datelike, NaiveDate};
        let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
        let at = |t: &Option<String>, back_ms: i64| {
            let t = DateTime::parse_from_rfc3339(t.as_deref()?).ok()?;
            Some((t - chrono::Duration::milliseconds(back_ms)).date_naive())
        };
        let span = |days: &[NaiveDate]| {
            let (first, last) = (days.iter().min().copied()?, days.iter().max().copied()?);
            Some((first, last))
        };
        let data: Vec<NaiveDate> = with_data.filter_map(parse).collect();
        // The window's end is exclusive: its last day is the one just before it.
        let bounds = [at(&window.since, 0), at(&window.until, 1)];
        let widened: Vec<NaiveDate> = data.iter().copied().chain(bounds.into_iter().flatten()).collect();
        let days_in = |(a, b): (NaiveDate, NaiveDate)| (b - a).num_days() + 1;
        let range = match (span(&widened), span(&data)) {
            (Some(w), _) if days_in(w) <= MAX_DAYS => Some(w),
            (_, d) => d,
        };
        let Some((first, last)) = range else {
            return Axis { first: NaiveDate::MIN, step: 1, labels: Vec::new() };
        };
        let (first, step) = if days_in((first, last)) <= MAX_DAYS {
            (first, 1)
        } else {
            let monday = first - chrono::Days::new(u64::from(first.weekday().num_days_from_monday()));
            let weeks = ((last - monday).num_days() / 7) + 1;
            (monday, 7 * ((weeks + MAX_BUCKETS - 1) / MAX_BUCKETS).max(1))
        };
        let n = (last - first).num_days() / step + 1;
        let labels = (0..n)
            .filter_map(|i| first.checked_add_days(chrono::Days::new((i * step) as u64)))
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect();
        Axis { first, step, labels }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The bucket a `YYYY-MM-DD` day falls in.
    pub fn index(&self, day: &str) -> Option<usize> {
        let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
        let i = (d - self.first).num_days().div_euclid(self.step);
        usize::try_from(i).ok().filter(|i| *i < self.labels.len())
    }

    /// What one bucket is, for axis titles: `day`, `week`, `4 weeks`.
    pub fn unit(&self) -> String {
        match self.step {
            1 => "day".into(),
            7 => "week".into(),
            n => format!("{} weeks", n / 7),
        }
    }

    /// The x-axis title.
    pub fn desc(&self) -> String {
        match self.step {
            1 => "day (UTC)".into(),
            _ => format!("{} from Monday (UTC)", self.unit()),
        }
    }

    /// Tick under bucket `v`: `MM-DD` within a year, `YYYY-MM-DD` across years; nothing
    /// between buckets.
    pub fn tick(&self, v: f64) -> String {
        let i = v.round();
        if (v - i).abs() > 1e-6 || i < 0.0 {
            return String::new();
        }
        let one_year = match (self.labels.first(), self.labels.last()) {
            (Some(a), Some(b)) => a.get(..4) == b.get(..4),
            _ => true,
        };
        let Some(d) = self.labels.get(i as usize) else { return String::new() };
        if one_year {
            d.get(5..).unwrap_or(d).to_string()
        } else {
            d.clone()
        }
    }
}

/// White page, title and subtitle; returns the area below them.
pub fn page<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
) -> Result<Area<DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    root.draw(&Text::new(title.to_string(), (20, 14), text(22, INK)))?;
    root.draw(&Text::new(subtitle.to_string(), (20, 42), text(14, MUTED)))?;
    let (_, body) = root.split_vertically(70);
    Ok(body)
}

/// "Nothing to draw" in the middle of the area, for windows without the data a chart needs.
pub fn no_data<DB: DrawingBackend>(area: &Area<DB>, message: &str) -> Drawn<DB> {
    let (w, h) = area.dim_in_pixel();
    let style = text(16, MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(message.to_string(), (w as i32 / 2, h as i32 / 2), style))
}

/// Width of the legend strip for these labels.
pub fn legend_width<DB: DrawingBackend>(
    root: &Area<DB>,
    labels: &[String],
) -> Result<u32, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut widest = 0;
    for l in labels {
        widest = widest.max(root.estimate_text_size(l, &text(13, INK))?.0);
    }
    Ok(widest + 48)
}

/// Swatches and labels stacked in their own strip, so they never cover data.
pub fn legend<DB: DrawingBackend>(area: &Area<DB>, entries: &[(String, RGBColor)]) -> Drawn<DB> {
    for (i, (name, c)) in entries.iter().enumerate() {
        let y = 16 + i as i32 * 22;
        area.draw(&Rectangle::new([(12, y - 6), (24, y + 6)], c.filled()))?;
        area.draw(&Text::new(name.clone(), (32, y), text(13, INK).pos(Pos::new(HPos::Left, VPos::Center))))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let cases = [
            ("us-east-1", 20, "us-east-1"),
            ("abcdef", 4, "abc…"),
            ("a\u{1b}[31mb", 20, "a\u{FFFD}[31mb"),
            ("tab\there", 20, "tab\u{FFFD}here"),
            ("bidi\u{202E}1-tsae-su", 20, "bidi\u{FFFD}1-tsae-su"),
            ("\u{2066}iso\u{2069}\u{200F}", 20, "\u{FFFD}iso\u{FFFD}\u{FFFD}"),
            ("<script>", 20, "<script>"),
            ("", 5, ""),
        ];
        for (input, max, want) in cases {
            assert_eq!(label(input, max), want, "{input:?}");
        }
    }

    fn axis(since: Option<&str>, until: Option<&str>, data: &[&str]) -> Axis {
        let window = WindowOut { since: since.map(String::from), until: until.map(String::from) };
        Axis::new(&window, data.iter().copied())
    }

    /// The axis follows the window when it is short, the data when it is not, and rolls up to
    /// weeks (then to several weeks) so that it never has more than MAX_BUCKETS points.
    #[test]
    fn axis_table() {
        let week = axis(Some("2026-11-09T00:00:00Z"), Some("2026-11-16T00:00:00Z"), &["2026-11-10"]);
        assert_eq!((week.len(), week.unit(), week.index("2026-11-10")), (7, "day".into(), Some(1)));
        assert_eq!(week.tick(0.0), "11-09");
        // A century-long window over two days of data: the data's two days.
        let wide = axis(Some("1900-01-01T00:00:00Z"), Some("2100-01-01T00:00:00Z"), &["2026-11-10", "2026-11-11"]);
        assert_eq!(wide.labels, ["2026-11-10", "2026-11-11"]);
        // Two years of data: weeks from Monday.
        let years = axis(None, None, &["2025-01-01", "2026-12-31"]);
        assert_eq!((years.unit(), years.labels[0].as_str()), ("week".into(), "2024-12-30"));
        assert_eq!(years.index("2025-01-05"), Some(0));
        assert_eq!(years.index("2025-01-06"), Some(1));
        assert_eq!(years.tick(0.0), "2024-12-30");
        // One record in 9999 beside one today: at most MAX_BUCKETS points.
        let far = axis(None, None, &["2026-11-10", "9999-12-31"]);
        assert!(far.len() as i64 <= MAX_BUCKETS && far.len() > 1, "{}", far.len());
        assert_eq!(far.index("2026-11-10"), Some(0));
        assert_eq!(far.index("9999-12-31"), Some(far.len() - 1));
        assert!(axis(None, None, &[]).is_empty());
    }

    #[test]
    fn numbers() {
        let t = [(0, "0"), (999, "999"), (1000, "1\u{A0}000"), (1234567, "1\u{A0}234\u{A0}567")];
        for (n, want) in t {
            assert_eq!(thousands(n), want);
        }
        let c = [
            (0.0, "0"),
            (950.0, "950"),
            (1200.0, "1.2k"),
            (1000.0, "1k"),
            (3_400_000.0, "3.4M"),
            (0.25, "0.2"),
            (2e9, "2G"),
        ];
        for (v, want) in c {
            assert_eq!(compact(v), want, "{v}");
        }
    }
}
